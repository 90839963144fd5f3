# SPDX-License-Identifier: BSD-3-Clause
# 02-destroy: with the vif connected and traffic flowing, `xl destroy`:
# libxl writes the backend's state 5 (Closing) and waits up to 10 s for
# 6 (Closed). xnb must answer at once (no 10 s wait in xl destroy), take
# its link down (testpmd shows it) and keep running.
# realxen: needs-pmd

domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)
xr_testpmd_start "--vdev=net_xnb0,domid=$domid,handle=0,type=vif" \
	--vdev=net_tap0,iface=xnbtap0
xr_tap_up xnbtap0
xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
xr_guest_wait xnbguest PING4 180
xr_testpmd_link 0
[ "$XR_LINK" = up ] || xr_fail "testpmd shows the xnb port's link '$XR_LINK' while the guest is connected"

xr_mark "xl destroy xnbguest (backend state $(xr_xs_read "$be/state"))"
xr_destroy xnbguest
log=$XR_LOGS/xl-destroy-xnbguest.log
# libxl's own account: it watches $be/state for 6 after writing 5.
grep -e 'wanted state 6' -e 'timed out' -e 'unable' "$log" | cut -c1-200
t_ok=$(xr_log_time "$log" "$be/state wanted state 6 ok")
[ -n "$t_ok" ] || xr_fail "libxl did not see the backend reach state 6 (Closed) during xl destroy (took $XR_DESTROY_S s): $(grep -e 'wanted state 6' "$log" | tail -n 2 | cut -d' ' -f2- | tr '\n' ' ')"
t_wait=$(xr_log_time "$log" "$be/state wanted state 6 still waiting state 5")
[ -n "$t_wait" ] || t_wait=$(head -n 1 "$log" | cut -d' ' -f1)
xr_info closing_to_closed_s "$(xr_elapsed "$t_wait" "$t_ok")"
# libxl gives a backend 10 s to answer Closing; an answer means xl
# destroy does not wait them out.
if awk -v d="$XR_DESTROY_S" 'BEGIN { exit !(d >= 10) }'; then
	xr_fail "xl destroy took $XR_DESTROY_S s: libxl waited out its 10 s for the backend's Closed"
fi
if awk -v a="$t_wait" -v b="$t_ok" 'BEGIN { exit !(b - a >= 5) }'; then
	xr_fail "the backend answered Closing with Closed after $(xr_elapsed "$t_wait" "$t_ok") s (more than 5 s)"
fi

# The link goes down and testpmd says so.
xr_wait 20 "the xnb port's link down in testpmd" xr_testpmd_link_is 0 down
xr_info link_after_destroy "$XR_LINK"
xr_info lsc_events "$(grep -c 'Port 0: link state change event' "$XR_LOGS/testpmd.log")"
[ -z "$(xr_xs_read "$be/state")" ] || xr_fail "libxl left $be behind after xl destroy"
xr_testpmd_alive || xr_fail "dpdk-testpmd died after xl destroy"
xr_info xnb_said "$(grep -o 'disconnected from dom[0-9]*: .*' "$XR_LOGS/testpmd.log" | tail -n 1 | tr ' ' '_')"
xr_testpmd_stop
