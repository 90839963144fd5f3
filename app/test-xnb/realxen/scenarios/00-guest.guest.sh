# SPDX-License-Identifier: BSD-3-Clause
# 00-guest, guest part: no vif, so netfront finds no device.
sleep 1
if [ -e /sys/class/net/eth0 ]; then
	xg_say ETH eth0
else
	xg_say ETH none
fi
