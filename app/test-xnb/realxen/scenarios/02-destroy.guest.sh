# SPDX-License-Identifier: BSD-3-Clause
# 02-destroy, guest part: connect and ping dom0; dom0 then destroys us.
xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
