# SPDX-License-Identifier: BSD-3-Clause
# 03-reboot: a port that names its guest by xl domain name
# (net_xnb0,domain=xnbguest) follows it across a "reboot" as xl does one:
# the domain is destroyed and a new one of the same name is created with
# a new domid. xnb must serve the first domain (connect, ping), answer
# its destroy with Closed at once and take the link down, then find the
# new domid by the name, reach InitWait within libxl's 10 s, connect and
# carry traffic again with the link back up.
# realxen: needs-pmd

xr_testpmd_start "--vdev=net_xnb0,domain=xnbguest,handle=0,type=vif" \
	--vdev=net_tap0,iface=xnbtap0
xr_tap_up xnbtap0
xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg

for n in 1 2; do
	xr_create xnbguest /run/xr/xnbguest.cfg
	domid=$XR_DOMID
	[ $n = 1 ] && first=$domid
	if [ $n = 2 ] && [ "$domid" = "$first" ]; then
		xr_fail "the second xnbguest got the first one's domid $domid: the scenario needs a new domid"
	fi
	xr_info "domid_$n" "$domid"
	be=$(xr_vif_backend "$domid" 0)
	t_created=$(xr_now)
	xr_wait 120 "the backend $be (xnbguest #$n, domain $domid) in state 4 (Connected)" xr_xs_is "$be/state" 4
	xr_info "connected_after_create_${n}_s" "$(xr_elapsed "$t_created" "$(xr_now)")"
	xr_guest_wait xnbguest NET_UP 120
	xr_wait 20 "the xnb port's link up in testpmd with xnbguest #$n (domain $domid)" \
		xr_testpmd_link_is 0 up
	if [ $n = 2 ]; then
		xr_info link_down_to_up_s "$(xr_elapsed "$t_down" "$(xr_now)")"
	fi
	xr_guest_wait xnbguest PING4 90
	xr_info "ping4_$n" "$(echo "$XR_VAL" | tr ' ' '_')"
	xr_guest_wait xnbguest PING6 90
	xr_info "ping6_$n" "$(echo "$XR_VAL" | tr ' ' '_')"
	xr_mark "xnbguest #$n (domain $domid) connected and answered pings"

	xr_destroy xnbguest
	xr_closed_promptly "$XR_LOGS/xl-destroy-xnbguest.log" "$be" "destroy_$n" "$XR_DESTROY_S"
	cp "$XR_LOGS/xl-destroy-xnbguest.log" "$XR_LOGS/xl-destroy-xnbguest-$n.log"
	cp "$XR_LOGS/xl-create-xnbguest.log" "$XR_LOGS/xl-create-xnbguest-$n.log"
	xr_wait 20 "the xnb port's link down in testpmd after xl destroy of domain $domid" \
		xr_testpmd_link_is 0 down
	t_down=$(xr_now)
	xr_testpmd_alive || xr_fail "dpdk-testpmd died when domain $domid was destroyed"
	xr_guest_log_rotate xnbguest "$n"
done
xr_info lsc_events "$(grep -c 'Port 0: link state change event' "$XR_LOGS/testpmd.log")"
xr_info xnb_said "$(grep -o -E 'xnb.*(dom(ain)? ?[0-9]+|xnbguest).*' "$XR_LOGS/testpmd.log" | tail -n 4 | tr ' ' '_' | tr '\n' '|')"
xr_testpmd_stop
