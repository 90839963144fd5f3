# SPDX-License-Identifier: BSD-3-Clause
# 05-discovery: a discovery instance (net_xnb_disc0,discover=1) serves
# vifs nobody named in advance. testpmd runs with its tap port and the
# discovery instance (which has no port of its own); `xl create` of a
# guest with a vif must make xnb hot-plug a port net_xnb_disc0_<domid>_0
# (RTE_ETH_EVENT_NEW, testpmd's "device probed event") in time for
# libxl's 10 s InitWait wait; testpmd sets the port up, it connects and
# carries the guest's pings; `xl destroy` is answered with Closed at once
# and the port goes away (xnb raises RTE_ETH_EVENT_INTR_RMV; testpmd
# stops, closes and detaches it) while testpmd lives on.
#
# testpmd 22.11 and ports that appear by themselves: its RTE_ETH_EVENT_NEW
# callback only marks the port "to set up", and only `port attach` sets
# such ports up (setup_on_probe_event); the event is not printed by
# default (--print-event dev_probed). The scenario therefore runs `port
# attach` with the new port's name (rte_dev_probe answers an already
# probed vdev with -EEXIST, which it counts as success) and falls back to
# attaching a net_null port, whose attach sets up every pending port.
# realxen: needs-pmd

XR_TESTPMD_ARGS="--print-event dev_probed --print-event dev_released"
xr_testpmd_start --vdev=net_tap0,iface=xnbtap0 --vdev=net_xnb_disc0,discover=1
# Only the tap port: forwarding it to itself would loop its frames.
xr_testpmd_cmd stop
xr_tap_up xnbtap0
xr_testpmd_cmd "show port summary all"
cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-ports-before.log"
grep -q 'net_xnb' "$XR_STATE/testpmd.answer" &&
	xr_fail "the discovery instance has a port of its own before any vif exists: $(grep net_xnb "$XR_STATE/testpmd.answer" | tr -s ' ')"

xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
# Two guests in turn: the second (a new domid) gets a port again after
# the first one's was removed.
for n in 1 2; do
	t_create=$(xr_now)
	xr_create xnbguest /run/xr/xnbguest.cfg
	domid=$XR_DOMID
	be=$(xr_vif_backend "$domid" 0)
	want=net_xnb_disc0_${domid}_0
	# The new port: testpmd prints "Port N: device probed event".
	probed() { [ "$(tr -d '\r' <"$XR_LOGS/testpmd.log" | grep -c -E '^Port [0-9]+: device probed event')" -ge "$n" ]; }
	xr_wait 60 "testpmd's 'device probed event' for the port of guest #$n" probed
	pid=$(tr -d '\r' <"$XR_LOGS/testpmd.log" | sed -n 's/^Port \([0-9]*\): device probed event.*/\1/p' | sed -n "${n}p")
	xr_testpmd_cmd "show port info $pid"
	name=$(sed -n 's/^Device name: *//p' "$XR_STATE/testpmd.answer" | tail -n 1)
	xr_info "discovered_port_$n" "$pid:$name"
	[ "$name" = "$want" ] || xr_fail "the discovered port $pid is named '$name', expected $want (vif $domid/0)"
	iw=$(awk '/wpath=.*backend\/vif\/.*\/state/ && t0 == "" { t0 = $1 }
		/backend\/vif\/.*wanted state 2 ok/ && t0 != "" { printf "%.2f", $1 - t0; exit }' \
		"$XR_LOGS/xl-create-xnbguest.log")
	[ -n "$iw" ] && xr_info "vif_initwait_$n" "$iw"
	[ -n "$iw" ] || xr_fail "libxl's log does not show the discovered vif's backend reach InitWait"

	# Set the port up in testpmd (see above); forwarding is stopped (at the
	# start, or restarted by testpmd's removal handler on the tap alone).
	t0=$(xr_now)
	xr_testpmd_cmd stop
	xr_testpmd_cmd "port attach $name"
	cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-attach-discovered-$n.log"
	if grep -q "^Port $pid is attached" "$XR_STATE/testpmd.answer"; then
		xr_info testpmd_setup_by "port_attach_$name"
	else
		xr_info port_attach_said "$(grep -v '^testpmd> *$' "$XR_STATE/testpmd.answer" | tail -n 2 | tr '\n' '|' | tr ' ' '_')"
		xr_testpmd_cmd "port attach net_null9"
		cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-attach-null-$n.log"
		xr_testpmd_expect "^Port $pid is attached" "setting up the discovered port $pid through port attach net_null9"
		xr_info testpmd_setup_by "port_attach_net_null9"
	fi
	xr_testpmd_cmd "set portlist 0,$pid"
	xr_testpmd_cmd "port start $pid"
	xr_testpmd_cmd start
	xr_testpmd_expect 'io packet forwarding' "forwarding did not start with the discovered port"
	xr_info "port_setup_s_$n" "$(xr_elapsed "$t0" "$(xr_now)")"

	xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
	xr_info "connected_after_create_s_$n" "$(xr_elapsed "$t_create" "$(xr_now)")"
	xr_guest_wait xnbguest NET_UP 120
	xr_wait 20 "the discovered port's link up in testpmd" xr_testpmd_link_is "$pid" up
	xr_guest_wait xnbguest PING4 90
	xr_info "ping4_$n" "$(echo "$XR_VAL" | tr ' ' '_')"
	xr_guest_wait xnbguest PING6 90
	xr_info "ping6_$n" "$(echo "$XR_VAL" | tr ' ' '_')"
	xr_testpmd_cmd "show port stats $pid"
	xr_info "port_stats_$n" "$(grep -E 'RX-packets|TX-packets' "$XR_STATE/testpmd.answer" | tr -s ' ' | tr '\n' ' ' | tr ' ' '_')"

	# Forwarding keeps running: xnb raises RTE_ETH_EVENT_INTR_RMV for a vif
	# that went away, testpmd's handler stops forwarding, stops, closes and
	# detaches the port (xnb detaches it itself a second later if the
	# application did not).
	t_d=$(xr_now)
	xr_destroy xnbguest
	xr_closed_promptly "$XR_LOGS/xl-destroy-xnbguest.log" "$be" "destroy_$n" "$XR_DESTROY_S"
	cp "$XR_LOGS/xl-destroy-xnbguest.log" "$XR_LOGS/xl-destroy-xnbguest-$n.log"
	cp "$XR_LOGS/xl-create-xnbguest.log" "$XR_LOGS/xl-create-xnbguest-$n.log"
	gone() { [ "$(tr -d '\r' <"$XR_LOGS/testpmd.log" | grep -c -E "^Port [0-9]+: device released event")" -ge "$n" ]; }
	xr_wait 30 "testpmd's 'device released event' for port $pid after xl destroy" gone
	xr_info "port_removed_after_destroy_s_$n" "$(xr_elapsed "$t_d" "$(xr_now)")"
	xr_info "removal_events_$n" "$(tr -d '\r' <"$XR_LOGS/testpmd.log" | grep -E "^Port $pid: device (released|removal) event|^Port $pid is closed|^Device is detached" | tail -n 4 | tr ' ' '_' | tr '\n' '|')"
	xr_testpmd_alive || xr_fail "dpdk-testpmd died when the discovered port was removed"
	gone_from_list() {
		xr_testpmd_cmd "show port summary all"
		! grep -q "$want" "$XR_STATE/testpmd.answer"
	}
	xr_wait 20 "$want gone from testpmd's port list" gone_from_list
	cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-ports-after-$n.log"
	[ -z "$(xr_xs_read "$be/state")" ] || xr_fail "libxl left $be behind after xl destroy"
	xr_guest_log_rotate xnbguest "$n"
done
xr_testpmd_stop
