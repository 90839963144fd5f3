# SPDX-License-Identifier: BSD-3-Clause
# 12-xenstored-live-update, guest part: ping dom0; on dom0's "go", send
# 8 MiB to dom0 over TCP while dom0's xenstored is live-updated, and
# report the checksum; on "vif1", report the second netfront dom0 plugged
# in afterwards.
xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
xg_wait_word go 600
xg_xfer XFER 8388608 5201
xg_wait_word vif1 600
i=0
while [ ! -e /sys/class/net/eth1 ] && [ $i -lt 60 ]; do
	sleep 1
	i=$((i + 1))
done
[ -e /sys/class/net/eth1 ] || xg_fail "no eth1 60 s after dom0 attached a second vif"
xg_say VIF1 "eth1 mac=$(cat /sys/class/net/eth1/address) driver=$(basename "$(readlink /sys/class/net/eth1/device/driver)")"
