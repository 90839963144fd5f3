# SPDX-License-Identifier: BSD-3-Clause
# 05-discovery, guest part: connect, ping dom0 over IPv4 and IPv6; dom0
# then destroys us.
xg_net_up 180
xg_ping 4 "$XG_DOM0_IP4"
xg_ping 6 "$XG_DOM0_IP6"
