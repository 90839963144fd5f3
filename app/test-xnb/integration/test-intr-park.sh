#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: xnb-intr-fwd (app/test-xnb/intr-fwd) serves four xnb
# ports from one lcore, paired 0 <-> 1 and 2 <-> 3, and parks each idle
# port on its rx interrupt (the guest's event channel).
#   1. Two reflecting guests connect and stay idle: every port is parked,
#      the application sleeps, and uses at most 10 % of a core.
#   2. A generator on port 0 sends numbered frames, reflected back
#      through port 1. While it runs, a second generator starts on port
#      2: ports 2 and 3, parked beside busy ones, must wake on their
#      guests' notifications and carry every frame there and back.
#   3. Every frame comes back verified, and the application parked and
#      woke ports (its exit line).
#
# Usage: test-intr-park.sh SRCDIR BUILDDIR   (meson passes both)
set -eu

src=${1:?usage: test-intr-park.sh SRCDIR BUILDDIR}
build=${2:?usage: test-intr-park.sh SRCDIR BUILDDIR}

name=test-intr-park
. "$src/app/test-xnb/integration/lib.sh"

env_init
fwd=$build/app/test-xnb/intr-fwd/xnb-intr-fwd
fwd_pid=
refl_pids=
gen_pid=

cleanup() {
	rc=$?
	trap - EXIT
	for p in $gen_pid $refl_pids $fwd_pid; do
		stop_pid "$p"
	done
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	[ $rc -eq 0 ] || show_logs "$work"/*.log "$work"/*.err "$sim/xenstored.log"
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT

# utime + stime of PID, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

pmd=$(plugin_path "$pmd" "$work/pmd")
"$xsd" start "$sim" "$shim"

vdevs=
for d in 3 4 5 6; do
	vdevs="$vdevs --vdev=net_xnb$((d - 3)),domid=$d,platform=sim,sim_dir=$sim"
done
# shellcheck disable=SC2086
"$fwd" -l 0 --no-huge -m 512 --no-pci --file-prefix="xnbpark$$" -d "$pmd" $vdevs \
	-- --mode pairs >"$work/fwd.log" 2>&1 &
fwd_pid=$!
wait_for "$work/fwd.log" "xnb-intr-fwd: 4 ports, mode pairs" 300 || {
	echo "$name: FAIL: xnb-intr-fwd did not start"
	exit 1
}

for d in 4 6; do
	"$guest" --sim-dir "$sim" --domid $d --mode reflect \
		>"$work/reflect$d.out" 2>"$work/reflect$d.err" &
	refl_pids="$refl_pids $!"
	wait_for "$work/reflect$d.err" "connected" 150 || {
		echo "$name: FAIL: the reflecting guest of dom$d did not connect"
		exit 1
	}
done

# 1. Idle: parked and asleep.
sleep 1
hz=$(getconf CLK_TCK)
c0=$(cpu_ticks "$fwd_pid")
sleep 3
c1=$(cpu_ticks "$fwd_pid")
idle_pct=$(( (c1 - c0) * 100 / (3 * hz) ))

# 2. Port 0 busy; ports 2 and 3 woken beside it. A window of half the
# rx ring: with the guest's whole ring in flight, a frame can find its
# buffers not yet posted again, and xnb hands it back (the application
# drops it, as testpmd's io mode does).
big=400000
small=20000
"$guest" --sim-dir "$sim" --domid 3 --mode gen --frames $big --sizes 60,1514,512 --window 128 --timeout 30 \
	>"$work/gen3.out" 2>"$work/gen3.err" &
gen_pid=$!
wait_for "$work/gen3.err" "connected" 150 || {
	echo "$name: FAIL: the generating guest of dom3 did not connect"
	exit 1
}
sleep 0.3
gen5_rc=0
"$guest" --sim-dir "$sim" --domid 5 --mode gen --frames $small --sizes 60,1514,512 --window 128 --timeout 30 \
	>"$work/gen5.out" 2>"$work/gen5.err" || gen5_rc=$?
gen3_still=$(kill -0 "$gen_pid" 2>/dev/null && echo yes || echo no)
gen3_rc=0
wait "$gen_pid" || gen3_rc=$?
gen_pid=

kill -TERM "$fwd_pid"
fwd_rc=0
wait "$fwd_pid" || fwd_rc=$?
fwd_pid=
summary=$(grep "^xnb-intr-fwd: received" "$work/fwd.log" || :)
field() {
	printf '%s\n' "$summary" | tr ' ' '\n' | sed -n "/^$1\$/{n;p;}"
}

check "idle: xnb-intr-fwd used at most 10 % of a core" \
	"$([ "$idle_pct" -le 10 ] && echo yes || echo "no ($idle_pct %)")" yes
check "dom3 generator exit status" "$gen3_rc" 0
check "dom3 generator received" "$(guest_field "$work/gen3.out" received)" $big
check "dom3 generator verify failures" "$(guest_field "$work/gen3.out" verify_failures)" 0
check "dom5 generator exit status" "$gen5_rc" 0
check "dom5 generator received" "$(guest_field "$work/gen5.out" received)" $small
check "dom5 generator verify failures" "$(guest_field "$work/gen5.out" verify_failures)" 0
check "dom5's frames went while dom3's were still going" "$gen3_still" yes
check "xnb-intr-fwd exit status" "$fwd_rc" 0
check "xnb-intr-fwd received every frame" "$(field received)" $((2 * (big + small)))
check "xnb-intr-fwd slept with every port parked" \
	"$([ "$(field sleeps)" -gt 0 ] 2>/dev/null && echo yes || echo no)" yes
# Each of the four ports was parked while idle and woken by its guest.
check "xnb-intr-fwd woke parked ports (at least 4)" \
	"$([ "$(field unparks)" -ge 4 ] 2>/dev/null && echo yes || echo no)" yes
# Ports 2 and 3 woken by the look at parked ports while 0 and 1 were
# polled, not only once every port had gone quiet.
check "xnb-intr-fwd woke parked ports beside busy ones (at least 2)" \
	"$([ "$(field busy_unparks)" -ge 2 ] 2>/dev/null && echo yes || echo no)" yes
if [ $fail -ne 0 ]; then
	echo "$name: FAILED"
	exit 1
fi
echo "$name: PASSED ($summary)"
