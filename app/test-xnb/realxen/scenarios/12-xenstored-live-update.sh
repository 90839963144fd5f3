# SPDX-License-Identifier: BSD-3-Clause
# 12-xenstored-live-update: dom0's xenstored restarts while a Linux
# netfront sends through xnb. Xen 4.17 restarts its C xenstored with
# `xenstore-control live-update BINARY`: the daemon saves its store and
# connections and execs the new binary, which takes them over. While
# the guest sends 8 MiB over TCP to dom0 (through testpmd's forwarding
# to a tap, as in 01):
#   - the live update succeeds (the same pid answers, the store is kept);
#   - the transfer completes byte-exact, the vif's states stay 4 and xnb
#     never disconnects it;
#   - xnb says whether it lost its xenstore connection, and if it did,
#     that it connected again;
#   - the handshake works afterwards: a port attached to testpmd for a
#     second vif and `xl network-attach` of it: the vif reaches
#     Connected, and the guest sees its second netfront.
# realxen: needs-pmd

domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)
be1=$(xr_vif_backend "$domid" 1)
fe=/local/domain/$domid/device/vif/0
xsd_bin=/usr/lib/xen-4.17/bin/xenstored

xr_testpmd_start "--vdev=net_xnb0,domid=$domid,handle=0,type=vif" --vdev=net_tap0,iface=xnbtap0
xr_tap_up xnbtap0
xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
xr_guest_wait xnbguest PING4 180

xr_watch_states "$be/state" "$fe/state"

rx_started() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt 1048576 ]; }
xr_listen_recv 5201 /run/xr/rx
xr_guest_tell xnbguest go
xr_wait 120 "the guest's transfer under way (1 MiB at dom0)" rx_started /run/xr/rx

pid0=$(cat /run/xen/xenstored.pid)
xr_mark "live update of xenstored (pid $pid0)"
t0=$(xr_now)
if ! xenstore-control live-update -t 120 "$xsd_bin" >"$XR_LOGS/live-update.log" 2>&1; then
	xr_fail "xenstore-control live-update failed: $(tr '\n' '|' <"$XR_LOGS/live-update.log")"
fi
xr_info live_update "$(tr '\n' ' ' <"$XR_LOGS/live-update.log")"
answers() { xenstore-read /local/domain/0/name >/dev/null 2>&1; }
xr_wait 60 "xenstored answering after the live update" answers
xr_info live_update_s "$(xr_elapsed "$t0" "$(xr_now)")"
pid1=$(pgrep -x xenstored | head -n 1)
xr_info xenstored_pids "before=$pid0 after=$pid1"
[ "$pid1" = "$pid0" ] || xr_fail "xenstored is pid '$pid1' after the live update, not $pid0 (it did not exec in place)"
[ "$(xr_xs_read "$be/state")" = 4 ] || xr_fail "the backend state is $(xr_xs_read "$be/state") after the live update"

xr_guest_wait xnbguest XFER 300
xfer=$XR_VAL
xr_info xfer "$xfer"
case $xfer in
*err=none*) ;;
*) xr_fail "the guest's transfer failed: $xfer" ;;
esac
socat_done() { ! pgrep -f "LISTEN:5201" >/dev/null; }
xr_wait 60 "dom0's receiver done" socat_done
got=$(xr_md5 /run/xr/rx)
case $xfer in
*"tx=$got "*) ;;
*) xr_fail "dom0 got $(stat -c %s /run/xr/rx) bytes, md5 $got; the guest sent $xfer" ;;
esac
writes=$(xr_state_writes)
xr_info state_writes_across_live_update "$writes"
[ "$writes" = 0 ] || xr_fail "the state nodes were written across the live update: $(tail -n 4 "$XR_LOGS/state-watch.log" | tr '\n' '|')"
xr_testpmd_log_has "disconnected from dom$domid" &&
	xr_fail "xnb disconnected the vif: $(grep "disconnected from dom$domid" "$XR_TP.log" | head -n 1)"
if xr_testpmd_log_has "lost the connection to xenstore"; then
	xr_info xnb_connection "lost and $(xr_testpmd_log_has "connected to xenstore again" && echo "connected again" || echo "NOT connected again")"
	xr_testpmd_log_has "connected to xenstore again" ||
		xr_fail "xnb lost its xenstore connection and did not connect again"
else
	xr_info xnb_connection "kept across the live update"
fi

# The handshake through the updated daemon: a second port, a second vif.
xr_testpmd_cmd stop
xr_testpmd_cmd "port attach net_xnb1,domid=$domid,handle=1,type=vif"
attached() { xr_testpmd_log_has '^Port 2 is attached'; }
xr_wait 60 "testpmd's 'Port 2 is attached'" attached
xr_testpmd_cmd "port start 2"
# shellcheck disable=SC2046
xr_xl network-attach network-attach xnbguest $(xr_vif_spec devid=1 | tr ',' ' ')
t_att=$(xr_now)
xr_wait 120 "the backend $be1 in state 4 (Connected) after xl network-attach" xr_xs_is "$be1/state" 4
xr_info second_vif_connected_s "$(xr_elapsed "$t_att" "$(xr_now)")"
xr_guest_tell xnbguest vif1
xr_guest_wait xnbguest VIF1 120
xr_info guest_second_vif "$XR_VAL"
xr_testpmd_stop
