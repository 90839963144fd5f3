# SPDX-License-Identifier: BSD-3-Clause
# 15-rx-ptypes, guest part: ping dom0, then send 256 KiB to dom0 over TCP
# in three phases, each started by dom0 typing "goN" on our console, with
# TSO and GSO off, so that every segment is a frame of its own with a
# blank checksum (netfront's checksum offload stays on):
#   phase 1, IPv4, scatter-gather off: each frame in one slot;
#   phase 2, IPv4, scatter-gather on: the payload in a slot of its own;
#   phase 3, IPv6, scatter-gather off.

xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
xg_ping 6 "$XG_DOM0_IP6"
for ph in 1 2 3; do
	xg_wait_word "go$ph" 600
	case $ph in
	1) ethtool -K eth0 sg off tso off gso off ;;
	2) ethtool -K eth0 sg on ;;
	3) ethtool -K eth0 sg off ;;
	esac
	if [ $ph = 3 ]; then
		host=$XG_DOM0_IP6%eth0
	else
		host=$XG_DOM0_IP4
	fi
	echo "ethtool -k eth0 (phase $ph):"
	ethtool -k eth0
	xg_say "OFFLOADS$ph" "$(xg_offloads)"
	head -c 262144 /dev/urandom >/tmp/tx
	err=
	xg_send "$host" $((5000 + ph)) /tmp/tx || err=$XG_ERR
	xg_say "XFER$ph" "tx=$(xg_md5 /tmp/tx) err=$(echo "${err:-none}" | tr ' ' '_')"
	rm -f /tmp/tx
done
