# SPDX-License-Identifier: BSD-3-Clause
# 04-hotplug, guest part: the guest boots without a vif; dom0 hot-plugs
# vif 1 (xl network-attach), which netfront turns into eth0: ping dom0
# over it, then wait for dom0's xl network-detach to take it away.
xg_say NO_VIF_YET "$(ls /sys/class/net | tr '\n' ' ')"
xg_net_up 600
xg_say VIF_HANDLE "$(cat /sys/class/net/eth0/device/nodename 2>/dev/null || echo unknown)"
xg_ping 4 "$XG_DOM0_IP4"
xg_ping 6 "$XG_DOM0_IP6"
_t0=$(xg_now)
_i=0
while [ -e /sys/class/net/eth0 ]; do
	_i=$((_i + 1))
	[ $_i -lt 3000 ] || xg_fail "eth0 still there 600 s after the ping (no network-detach?)"
	sleep 0.2
done
xg_say ETH_GONE "after $(xg_elapsed "$_t0") s"
