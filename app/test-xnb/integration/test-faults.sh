#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Fault test: the simulated hypervisor fails grant copies at random
# (XENSIM_FAULT_COPY: about one segment in N, in testpmd's process) while
# a guest sends frames of 60 to 9000 bytes (multi-slot) that testpmd
# returns to it (io forward, the port to itself). Checked:
#   - each failure is answered per frame: the guest gets an error
#     response for the frame on the ring where the copy failed (its
#     tx_errors and rx_errors), every other frame comes back verified,
#     none is lost or unanswered;
#   - xnb's counters agree: its rx errors are the guest's tx_errors, its
#     tx errors the guest's rx_errors;
#   - nothing leaks: testpmd's mbuf pool is as full afterwards as before
#     (within what its per-lcore caches may hold);
#   - traffic goes on: the guest finishes all its frames while faults
#     keep coming.
#
# Usage: test-faults.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_FAULT_EVERY   one copy segment in N fails (default 200)
#   XNB_FAULT_FRAMES  frames the guest sends (default 200000)
set -u

src=${1:?usage: test-faults.sh SRCDIR BUILDDIR}
build=${2:?usage: test-faults.sh SRCDIR BUILDDIR}
every=${XNB_FAULT_EVERY:-200}
frames=${XNB_FAULT_FRAMES:-200000}
seed=${XNB_FAULT_SEED:-$(date +%s)}
name=test-faults
. "$src/app/test-xnb/integration/lib.sh"
env_init
tp=$work/testpmd
cleanup() {
	rc=$?
	tp_kill "$tp"
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	[ "$rc" -eq 0 ] || show_logs "$tp.log" "$work/gen.err"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pmd=$(plugin_path "$pmd" "$work/pmd")
"$xsd" start "$sim" "$shim" >/dev/null || { echo "$name: FAIL: xenstored"; exit 1; }

echo "$name: one grant-copy segment in $every fails (seed $seed)"
export XENSIM_FAULT_COPY="$every" XENSIM_FAULT_SEED="$seed"
tp_start "$tp" -l 0,1 --no-huge --no-pci -m 1024 --file-prefix="xnbfault$$" -d "$pmd" \
	--vdev="net_xnb0,domid=3,platform=sim,sim_dir=$sim,on_close=disconnect" -- \
	--forward-mode=io --port-topology=loop --nb-cores=1 --total-num-mbufs=16384 \
	--enable-scatter --max-pkt-len=9018 --tx-offloads=0x8000 --disable-link-check
started=$?
unset XENSIM_FAULT_COPY XENSIM_FAULT_SEED
[ $started -eq 0 ] || { echo "$name: FAIL: testpmd: $TP_ERROR"; exit 1; }
grep -q "fault injection: one grant-copy segment in $every fails" "$tp.log" ||
	{ echo "$name: FAIL: testpmd did not take the fault injection"; exit 1; }

# The free mbufs of testpmd's pool. With no traffic, xnb holds none (its
# rx returns what a burst did not use).
pool_avail() {
	tp_free_mbufs "$tp"
}

"$guest" --sim-dir "$sim" --domid 3 --mode gen --frames 1000 --size-range 60-9000 --lossy \
	--quiet --timeout 20 >"$work/warm.out" 2>&1
sleep 1
before=$(pool_avail)

gen_rc=0
"$guest" --sim-dir "$sim" --domid 3 --mode gen --frames "$frames" --size-range 60-9000 \
	--window 64 --lossy --timeout 20 >"$work/gen.out" 2>"$work/gen.err" || gen_rc=$?
cat "$work/gen.out"
sleep 1
after=$(pool_avail)
tp_xstats "$tp" 0 >"$work/xstats"
xstat() {
	sed -n "s/^$1 //p" "$work/xstats"
}

tx_err=$(guest_field "$work/gen.out" tx_errors)
rx_err=$(guest_field "$work/gen.out" rx_errors)
received=$(guest_field "$work/gen.out" received)
check "guest exit status (every frame verified or answered with an error)" "$gen_rc" 0
check "frames sent" "$(guest_field "$work/gen.out" sent)" "$frames"
check "verify failures" "$(guest_field "$work/gen.out" verify_failures)" 0
check "sent = received + answered with an error" "$((received + tx_err + rx_err))" "$frames"
check "faults hit the guest-tx ring (guest's tx_errors > 0)" "$([ "${tx_err:-0}" -gt 0 ] && echo yes)" yes
check "faults hit the guest-rx ring (guest's rx_errors > 0)" "$([ "${rx_err:-0}" -gt 0 ] && echo yes)" yes
# The warm-up's errors are in xnb's counters too.
warm_tx=$(guest_field "$work/warm.out" tx_errors)
warm_rx=$(guest_field "$work/warm.out" rx_errors)
check "xnb's rx errors = the guests' tx_errors" "$(xstat rx_q0_errors)" "$((tx_err + warm_tx))"
check "xnb's tx errors = the guests' rx_errors" "$(xstat tx_q0_errors)" "$((rx_err + warm_rx))"
check "free mbufs in testpmd's pool after the run (as before it: none leaked)" "$after" "$before"

check "testpmd alive" "$(tp_alive "$tp" && echo yes)" yes
tp_stop "$tp" || :
check "testpmd's exit status" "$TP_RC" 0

if [ "$fail" -ne 0 ]; then
	echo "$name: FAILED"
	exit 1
fi
echo "$name: PASSED ($frames frames, $tx_err + $rx_err answered with errors, $received verified)"
