# SPDX-License-Identifier: BSD-3-Clause
# 08-restart, guest part: ping dom0; then, twice, on dom0's "goN", send
# 8 MiB to dom0 over TCP while dom0 stops its backend (a quit, then a
# kill -9) and starts it again, and report the checksum. Nothing here
# knows the backend went away.
xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
for ph in 1 2; do
	xg_wait_word "go$ph" 600
	xg_xfer "XFER$ph" 8388608 $((5100 + ph))
done
