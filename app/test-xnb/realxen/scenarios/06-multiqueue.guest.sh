# SPDX-License-Identifier: BSD-3-Clause
# 06-multiqueue, guest part (2 vCPUs): report eth0's queues, ping dom0,
# then 4 MiB each way over TCP (IPv4, netfront's default offloads).

xg_net_up 120
xg_say QUEUES "$(ls /sys/class/net/eth0/queues | tr '\n' ' ')"
xg_ping 4 "$XG_DOM0_IP4"
xg_ping 6 "$XG_DOM0_IP6"
head -c 4194304 /dev/urandom >/tmp/tx
err=
xg_send "$XG_DOM0_IP4" 5001 /tmp/tx || err="$XG_ERR"
xg_recv "$XG_DOM0_IP4" 5002 /tmp/rx || err="$err${err:+; }$XG_ERR"
[ -f /tmp/rx ] || : >/tmp/rx
xg_say XFER "tx=$(xg_md5 /tmp/tx) rx=$(xg_md5 /tmp/rx) rxbytes=$(wc -c </tmp/rx) err=${err:-none}"
