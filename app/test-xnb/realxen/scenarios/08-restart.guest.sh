# SPDX-License-Identifier: BSD-3-Clause
# 08-restart, guest part: ping dom0; then, twice, on dom0's "goN", send
# 8 MiB to dom0 over TCP while dom0 stops its backend (a quit, then a
# kill -9) and starts it again, and report the checksum. Nothing here
# knows the backend went away.
xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
for ph in 1 2; do
	xg_wait_word "go$ph" 600
	head -c 8388608 /dev/urandom >/tmp/tx
	err=
	xg_send "$XG_DOM0_IP4" $((5100 + ph)) /tmp/tx || err=$XG_ERR
	xg_say "XFER$ph" "tx=$(xg_md5 /tmp/tx) err=$(echo "${err:-none}" | tr ' ' '_')"
	rm -f /tmp/tx
done
