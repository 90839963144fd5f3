# SPDX-License-Identifier: BSD-3-Clause
# 08-restart: the application serving a Linux netfront goes away and a new
# one with the same devargs takes the guest over, with no xl command:
#   1. testpmd quits (on_close=keep) while the guest sends 8 MiB over TCP;
#   2. testpmd is killed (kill -9) while it sends another 8 MiB.
# Each time the backend and frontend states stay 4 (Connected) throughout
# (the guest never sees the backend go), the new testpmd reattaches
# (xnb says so), dom0's pings are answered again, and the transfer
# started before the stop completes byte-exact after it. The time from
# the new testpmd's start to the guest's first answered ping is reported
# (restart_to_ping_s; testpmd's own start under TCG included). The
# vif's owner record names the last testpmd (the killed one's was no
# obstacle).
# realxen: needs-pmd

domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)
fe=/local/domain/$domid/device/vif/0
args="--vdev=net_xnb0,domid=$domid,handle=0,type=vif,on_close=keep"

xr_testpmd_start "$args" --vdev=net_tap0,iface=xnbtap0
xr_tap_up xnbtap0
xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
xr_guest_wait xnbguest PING4 180

xr_watch_states "$be/state" "$fe/state"

guest_answers() { busybox ping -c 1 -W 1 "$XR_GUEST_IP4" >/dev/null 2>&1; }
rx_started() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt 1048576 ]; }
for ph in 1 2; do
	port=$((5100 + ph))
	xr_listen_recv "$port" "/run/xr/rx-$ph"
	xr_guest_tell xnbguest "go$ph"
	xr_wait 120 "the guest's transfer $ph under way (1 MiB at dom0)" rx_started "/run/xr/rx-$ph"
	if [ $ph = 1 ]; then
		xr_mark "phase 1: testpmd quits (on_close=keep)"
		xr_testpmd_stop
	else
		xr_mark "phase 2: kill -9 of testpmd (pid $XR_TESTPMD_PID)"
		kill -KILL "$XR_TESTPMD_PID"
		tp_stop "$XR_TP" 5 2>/dev/null || :
	fi
	[ "$(xr_xs_read "$be/state")" = 4 ] && [ "$(xr_xs_read "$fe/state")" = 4 ] ||
		xr_fail "phase $ph: with no backend running the states are $(xr_xs_read "$be/state") (backend) and $(xr_xs_read "$fe/state") (frontend), not 4 and 4"
	t0=$(xr_now)
	xr_testpmd_start "$args" --vdev=net_tap0,iface=xnbtap0
	xr_tap_up xnbtap0
	xr_wait 120 "the guest answering dom0's ping after the restart" guest_answers
	xr_info "restart_to_ping_s_$ph" "$(xr_elapsed "$t0" "$(xr_now)")"
	xr_testpmd_log_has "reattached to .* dom$domid vif0" ||
		xr_fail "phase $ph: xnb did not say it reattached"
	xr_guest_wait xnbguest "XFER$ph" 300
	xfer=$XR_VAL
	xr_info "xfer_$ph" "$xfer"
	case $xfer in
	*err=none*) ;;
	*) xr_fail "phase $ph: the guest's transfer failed: $xfer" ;;
	esac
	socat_done() { ! pgrep -f "LISTEN:$1" >/dev/null; }
	xr_wait 60 "dom0's receiver of transfer $ph done" socat_done "$port"
	got=$(xr_md5 "/run/xr/rx-$ph")
	case $xfer in
	*"tx=$got "*) ;;
	*) xr_fail "phase $ph: dom0 got $(stat -c %s "/run/xr/rx-$ph") bytes, md5 $got; the guest sent $xfer" ;;
	esac
done
# The vif's owner record names the testpmd serving it now (pid and port).
owner=$(xr_xs_read "$be/xnb-owner")
xr_info owner_record "$owner"
case $owner in
*/"$XR_TESTPMD_PID"/*/net_xnb0) ;;
*) xr_fail "the owner record '$owner' does not name testpmd $XR_TESTPMD_PID's net_xnb0" ;;
esac
writes=$(xr_state_writes)
xr_info state_writes_across_restarts "$writes"
[ "$writes" = 0 ] || xr_fail "the state nodes were written across the restarts: $(tail -n 4 "$XR_LOGS/state-watch.log" | tr '\n' '|')"
xr_testpmd_stop
