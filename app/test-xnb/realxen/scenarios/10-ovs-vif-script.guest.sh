# SPDX-License-Identifier: BSD-3-Clause
# 10-ovs-vif-script, guest part (both guests, told apart by their names):
# bring eth0 up, then at dom0's "go0" ping the other guest through OVS's
# bridge: one ping a second until the first is answered (timed), then
# three over IPv4 and three over IPv6.

case $(hostname) in
xnbga) XG_IP4=169.254.0.2 XG_IP6=fe80::2 peer=3 ;;
xnbgb) XG_IP4=169.254.0.3 XG_IP6=fe80::3 peer=2 ;;
*) xg_fail "unknown guest name $(hostname)" ;;
esac
xg_net_up 180
xg_wait_word go0 600
xg_ping_first 4 "169.254.0.$peer" 120
xg_ping 4 "169.254.0.$peer"
xg_ping_first 6 "fe80::$peer" 60
xg_ping 6 "fe80::$peer"
