# SPDX-License-Identifier: BSD-3-Clause
# 14-rx-stall, guest part: ping dom0; on "down" take eth0 down, which
# stops netfront from taking frames or posting receive buffers (napi
# disabled) while its vif stays connected; on "up" bring it back and
# ping dom0 again.
xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
xg_wait_word down 600
ip link set eth0 down || xg_fail "cannot take eth0 down"
xg_say DOWN "operstate=$(cat /sys/class/net/eth0/operstate)"
xg_wait_word up 600
ip link set eth0 up || xg_fail "cannot bring eth0 up"
sleep 1
xg_ping 4 "$XG_DOM0_IP4"
