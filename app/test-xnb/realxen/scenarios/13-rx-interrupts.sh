# SPDX-License-Identifier: BSD-3-Clause
# 13-rx-interrupts: an application that sleeps on xnb's rx interrupts
# serves a Linux netfront, and costs no core while the guest is idle.
# xnb-intr-fwd (the build's app/test-xnb/intr-fwd: io forwarding between
# net_xnb0 and a tap to dom0, as testpmd in 01, that parks each idle
# port on its rx interrupt and sleeps when both are, l3fwd-power style):
#   - the guest connects and answers dom0's ping;
#   - idle for 10 s, the forwarder uses at most 10 % of a core;
#   - the guest's 4 MiB TCP transfer to dom0 goes through it md5-exact
#     (each frame woke it or found it polling), and it says how often it
#     slept and woke;
#   - then the peer: testpmd, busy-polling the same two ports, idle for
#     10 s: its CPU use beside the forwarder's.
# realxen: needs-pmd

domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)
fwd=/payload/pmd/xnb-intr-fwd
[ -x "$fwd" ] || xr_fail "the payload has no $fwd"
vdevs="--vdev=net_xnb0,domid=$domid,handle=0,type=vif --vdev=net_tap0,iface=xnbtap0"

# CPU seconds process PID has used (user + system), from /proc.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}
# Percent of one core PID used over SECS seconds.
cpu_pct() {
	_c0=$(cpu_s "$1")
	sleep "$2"
	_c1=$(cpu_s "$1")
	awk -v a="$_c0" -v b="$_c1" -v s="$2" 'BEGIN { printf "%.1f", (b - a) * 100 / s }'
}

# shellcheck disable=SC2086
"$fwd" -l 0 --no-huge -m 128 --no-pci --file-prefix=xrfwd --log-level=pmd.net.xnb:info \
	-d "$XR_PMD" $vdevs >"$XR_LOGS/xnb-intr-fwd.log" 2>&1 &
fwd_pid=$!
fwd_up() { grep -q "xnb-intr-fwd: 2 ports" "$XR_LOGS/xnb-intr-fwd.log"; }
xr_wait 180 "xnb-intr-fwd serving its 2 ports" fwd_up
xr_mark "xnb-intr-fwd started (pid $fwd_pid)"
xr_tap_up xnbtap0
xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
xr_guest_wait xnbguest PING4 180
xr_info ping4 "$(echo "$XR_VAL" | tr ' ' '_')"

sleep 2
idle=$(cpu_pct "$fwd_pid" 10)
xr_info idle_cpu_pct_intr_fwd "$idle"

rx_done() { ! pgrep -f "LISTEN:5301" >/dev/null; }
xr_listen_recv 5301 /run/xr/rx
t0=$(xr_now)
c0=$(cpu_s "$fwd_pid")
xr_guest_tell xnbguest go
xr_guest_wait xnbguest XFER 300
xfer=$XR_VAL
xr_wait 60 "dom0's receiver done" rx_done
xr_info xfer "$xfer"
xr_info xfer_s "$(xr_elapsed "$t0" "$(xr_now)")"
xr_info xfer_cpu_s_intr_fwd "$(awk -v a="$c0" -v b="$(cpu_s "$fwd_pid")" 'BEGIN { printf "%.2f", b - a }')"
case $xfer in
*err=none*) ;;
*) xr_fail "the guest's transfer failed: $xfer" ;;
esac
got=$(xr_md5 /run/xr/rx)
case $xfer in
*"tx=$got "*) ;;
*) xr_fail "dom0 got $(stat -c %s /run/xr/rx) bytes, md5 $got; the guest sent $xfer" ;;
esac
kill -INT "$fwd_pid"
fwd_gone() { ! kill -0 "$fwd_pid" 2>/dev/null; }
xr_wait 60 "xnb-intr-fwd's exit" fwd_gone
summary=$(grep "xnb-intr-fwd: received" "$XR_LOGS/xnb-intr-fwd.log")
xr_info intr_fwd "$(echo "$summary" | cut -d' ' -f2- | tr ' ' '_')"
[ -n "$summary" ] || xr_fail "xnb-intr-fwd said nothing at its exit"
case $summary in
*" wakeups 0 "*) xr_fail "xnb-intr-fwd never woke from a sleep: $summary" ;;
esac
awk -v i="$idle" 'BEGIN { exit !(i <= 10) }' ||
	xr_fail "xnb-intr-fwd used $idle % of a core while the guest was idle (at most 10 % expected)"

# The peer: testpmd busy-polls the same ports.
# shellcheck disable=SC2086
xr_testpmd_start $vdevs
xr_tap_up xnbtap0
xr_wait 120 "the backend $be in state 4 (Connected) with testpmd" xr_xs_is "$be/state" 4
sleep 2
xr_info idle_cpu_pct_testpmd "$(cpu_pct "$XR_TESTPMD_PID" 10)"
xr_testpmd_stop
