# SPDX-License-Identifier: BSD-3-Clause
# 04-hotplug: a vif hot-plugged into a running guest and served by a port
# hot-plugged into a running testpmd, then taken away again:
#   - the guest boots without a vif; testpmd runs with only its tap port;
#   - `port attach net_xnb1,domid=D,handle=1`, `port start 1`: the new
#     port watches for vif D/1 (libxl gives a backend 10 s to reach
#     InitWait, so the port exists before the toolstack asks);
#   - `xl network-attach` of vif 1: the vif connects, netfront's eth0
#     pings dom0 (IPv4 and IPv6) through testpmd's forwarding to the tap;
#   - `xl network-detach`: xnb answers Closing with Closed at once (libxl
#     does not wait out its 10 s), the link goes down, netfront's eth0
#     goes away, and the port can be stopped, closed and detached while
#     testpmd and its tap port live on.
# realxen: needs-pmd

handle=1
xr_testpmd_start --vdev=net_tap0,iface=xnbtap0
# One port forwarding to itself would loop the tap's own frames back.
xr_testpmd_cmd stop
xr_tap_up xnbtap0

xr_guest_cfg xnbguest >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg
domid=$XR_DOMID
be=$(xr_vif_backend "$domid" $handle)
xr_guest_wait xnbguest NO_VIF_YET 180

# The port, attached at runtime.
t0=$(xr_now)
xr_testpmd_cmd "port attach net_xnb1,domid=$domid,handle=$handle,type=vif"
attached() { xr_testpmd_log_has '^Port 1 is attached'; }
xr_wait 60 "testpmd's 'Port 1 is attached' after port attach net_xnb1" attached
xr_info port_attach_s "$(xr_elapsed "$t0" "$(xr_now)")"
xr_testpmd_cmd "port start 1"
xr_testpmd_cmd "show port info 1"
xr_testpmd_expect 'Device name: net_xnb1' "port 1 is not net_xnb1 after port attach"
xr_testpmd_cmd start
xr_testpmd_expect 'io packet forwarding' "forwarding did not start with the new port"
xr_mark "port 1 (net_xnb1) attached and started, waiting for vif $domid/$handle"

# The vif, hot-plugged into the running guest.
# xl network-attach takes the spec's keys as separate arguments (a
# comma-separated spec is read as one "mac" value and the rest ignored).
# shellcheck disable=SC2046
xr_xl network-attach network-attach xnbguest $(xr_vif_spec devid=$handle | tr ',' ' ')
iw=$(awk '/wpath=.*backend\/vif\/.*\/state/ && t0 == "" { t0 = $1 }
	/backend\/vif\/.*wanted state 2 ok/ && t0 != "" { printf "%.2f", $1 - t0; exit }' \
	"$XR_LOGS/xl-network-attach.log")
[ -n "$iw" ] && xr_info vif_initwait_attach_s "$iw"
t_att=$(xr_now)
xr_wait 120 "the backend $be in state 4 (Connected) after xl network-attach" xr_xs_is "$be/state" 4
xr_info backend_connected_after_attach_s "$(xr_elapsed "$t_att" "$(xr_now)")"
xenstore-ls -fp "$be" >"$XR_LOGS/xenstore-backend-connected.log" 2>&1
xr_guest_wait xnbguest NET_UP 120
xr_info guest_vif "$(xr_guest_line xnbguest VIF_HANDLE)"
t_up=$(xr_now)
xr_wait 10 "port 1's link up in testpmd after the guest connected vif $handle" xr_testpmd_link_is 1 up
xr_info link_up_after_net_up_s "$(xr_elapsed "$t_up" "$(xr_now)")"
xr_guest_wait xnbguest PING4 90
xr_info ping4 "$(echo "$XR_VAL" | tr ' ' '_')"
xr_guest_wait xnbguest PING6 90
xr_info ping6 "$(echo "$XR_VAL" | tr ' ' '_')"
xr_testpmd_cmd "show port stats 1"
xr_info port1_stats "$(grep -E 'RX-packets|TX-packets' "$XR_STATE/testpmd.answer" | tr -s ' ' | tr '\n' ' ' | tr ' ' '_')"

# The vif, taken away from the running guest.
xr_mark "xl network-detach xnbguest $handle (backend state $(xr_xs_read "$be/state"))"
t_det=$(xr_now)
xr_xl network-detach network-detach xnbguest $handle
xr_closed_promptly "$XR_LOGS/xl-network-detach.log" "$be" network_detach "$XR_XL_S"
xr_wait 20 "port 1's link down in testpmd after xl network-detach" xr_testpmd_link_is 1 down
xr_info link_down_after_detach_s "$(xr_elapsed "$t_det" "$(xr_now)")"
[ -z "$(xr_xs_read "$be/state")" ] || xr_fail "libxl left $be behind after xl network-detach"
xr_guest_wait xnbguest ETH_GONE 120
xr_info guest_eth_gone "$(echo "$XR_VAL" | tr ' ' '_')"
xr_info xnb_said "$(grep -o 'disconnected from dom[0-9]*: .*' "$XR_LOGS/testpmd.log" | tail -n 1 | tr ' ' '_')"
xr_testpmd_alive || xr_fail "dpdk-testpmd died after xl network-detach"

# The port goes away too.
t0=$(xr_now)
xr_testpmd_cmd stop
xr_testpmd_cmd "port stop 1"
xr_testpmd_expect 'Done' "port stop 1"
xr_testpmd_cmd "port close 1"
xr_testpmd_expect 'Done' "port close 1"
# testpmd 22.11's `port detach` takes a port id, which a port closed (and
# so released) by rte_eth_dev_close no longer has: detach the device by
# name then.
xr_testpmd_cmd "port detach 1"
cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-port-detach.log"
if grep -q 'Device is detached' "$XR_STATE/testpmd.answer"; then
	xr_info detached_by "port_detach"
else
	xr_info port_detach_said "$(grep -v '^testpmd> *$' "$XR_STATE/testpmd.answer" | tail -n 2 | tr '\n' '|' | tr ' ' '_')"
	xr_testpmd_cmd "device detach net_xnb1"
	xr_testpmd_expect 'Device net_xnb1 is detached' "device detach net_xnb1"
	xr_info detached_by "device_detach"
fi
xr_info port_close_detach_s "$(xr_elapsed "$t0" "$(xr_now)")"
xr_testpmd_cmd "show port summary all"
cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-ports-after-detach.log"
grep -q 'net_xnb1' "$XR_STATE/testpmd.answer" &&
	xr_fail "testpmd still lists net_xnb1 after it was detached"
xr_testpmd_alive || xr_fail "dpdk-testpmd died detaching the port"
xr_destroy xnbguest
xr_testpmd_stop
