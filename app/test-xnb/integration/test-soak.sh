#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Soak test: 32 vifs in one dpdk-testpmd (16 pairs, io forward), a guest
# on each: 16 generators and 16 reflectors exchange verified frames at
# once, three times. 32 is as many ports as Debian's DPDK 22.11 allows in
# one process (RTE_MAX_ETHPORTS; 64 vifs need a DPDK built with
# -Dmax_ethports=64 or more). During the third round one generator and
# one reflector are killed (kill -9) mid-traffic: every other pair
# finishes with every frame verified, and a fresh guest then uses each
# killed guest's port. testpmd's descriptors, resident memory and free
# mbufs are counted after the second round (a port keeps its guest's
# previous incarnation mapped until the next connect, so the steady state
# comes with the second guest) and at the end: the descriptors and mbufs
# must be as they were, the memory within 4 MiB.
#
# Usage: test-soak.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_SOAK_FRAMES   frames per generator and round (default 5000)
set -u

src=${1:?usage: test-soak.sh SRCDIR BUILDDIR}
build=${2:?usage: test-soak.sh SRCDIR BUILDDIR}
frames=${XNB_SOAK_FRAMES:-5000}
name=test-soak
. "$src/app/test-xnb/integration/lib.sh"
env_init
tp=$work/testpmd
pids=
cleanup() {
	rc=$?
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
	done
	tp_kill "$tp"
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	[ "$rc" -eq 0 ] || show_logs "$tp.log" "$work"/*.err
	[ "$rc" -ne 0 ] && [ -n "${XNB_TEST_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pmd=$(plugin_path "$pmd" "$work/pmd")
"$xsd" start "$sim" "$shim" >/dev/null || { echo "$name: FAIL: xenstored"; exit 1; }

# Ports 0..31 serve domids 100..131; port 2k (a generator) is paired with
# port 2k+1 (its reflector).
vdevs=
d=100
while [ $d -lt 132 ]; do
	vdevs="$vdevs --vdev=net_xnb$d,domid=$d,platform=sim,sim_dir=$sim,on_close=disconnect"
	d=$((d + 1))
done
# shellcheck disable=SC2086
tp_start "$tp" -l 0,1 --no-huge --no-pci -m 1024 --file-prefix="xnbsoak$$" -d "$pmd" \
	$vdevs -- --forward-mode=io --port-topology=paired --nb-cores=1 \
	--total-num-mbufs=65536 --disable-link-check ||
	{ echo "$name: FAIL: testpmd: $TP_ERROR"; exit 1; }
read -r tp_pid <"$tp.d/pid"
check "testpmd's ports" "$(grep -c '^Port [0-9]*: ' "$tp.log")" 32

# testpmd's descriptors, resident KiB and free mbufs, as "FDS RSS FREE".
resources() {
	_fds=$(ls "/proc/$tp_pid/fd" | wc -l)
	ls -l "/proc/$tp_pid/fd" | sed 's/.* -> //' | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c \
		>"$work/fds.$_fds"
	_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$tp_pid/status")
	_free=$(tp_free_mbufs "$tp")
	echo "$_fds $_rss $_free"
}

# round TAG: the 16 reflectors, then the 16 generators at once; waits for
# the generators. Sets gen_pid_<d> and refl_pid_<d> for the kills.
round() {
	pids=
	d=101
	while [ $d -lt 132 ]; do
		"$guest" --sim-dir "$sim" --domid $d --mode reflect --timeout 120 \
			>"$work/refl$d.out" 2>"$work/refl$d.err" &
		eval "refl_pid_$d=$!"
		pids="$pids $!"
		d=$((d + 2))
	done
	d=101
	while [ $d -lt 132 ]; do
		wait_for "$work/refl$d.err" "connected" 300 ||
			{ echo "$name: FAIL: $1: reflector dom$d did not connect"; exit 1; }
		d=$((d + 2))
	done
	d=100
	while [ $d -lt 132 ]; do
		"$guest" --sim-dir "$sim" --domid $d --mode gen --frames "$frames" \
			--size-range 60-1514 --window 32 --timeout 30 --quiet \
			>"$work/gen$d.out" 2>"$work/gen$d.err" &
		eval "gen_pid_$d=$!"
		pids="$pids $!"
		d=$((d + 2))
	done
}

# finish TAG SKIP...: every generator not in SKIP exited 0 with every
# frame verified; then the reflectors stop.
finish() {
	_tag=$1
	shift
	_ok=0
	d=100
	while [ $d -lt 132 ]; do
		_p=
		eval "_p=\$gen_pid_$d"
		_rc=0
		wait "$_p" || _rc=$?
		case " $* " in
		*" $d "*) ;;
		*)
			if [ $_rc -eq 0 ] &&
					[ "$(guest_field "$work/gen$d.out" received)" = "$frames" ] &&
					[ "$(guest_field "$work/gen$d.out" verify_failures)" = 0 ]; then
				_ok=$((_ok + 1))
			else
				echo "$name: FAIL: $_tag: generator dom$d: exit $_rc," \
					"$(grep '^xnb-guest: sent=' "$work/gen$d.out" | cut -d' ' -f2-4)"
				fail=1
			fi
			;;
		esac
		d=$((d + 2))
	done
	d=101
	while [ $d -lt 132 ]; do
		eval "_p=\$refl_pid_$d"
		kill -INT "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
		d=$((d + 2))
	done
	pids=
	echo "$name: $_tag: $_ok generators got all $frames frames back, verified"
}

round "round 1"
finish "round 1"
# A port keeps its guest's previous incarnation mapped until the next
# connect (the sim's deferred release): the steady state comes with the
# second guest.
round "round 2"
finish "round 2"
r1=$(resources)
echo "$name: after round 2: descriptors, resident KiB, free mbufs: $r1"

# Round 3: generator dom110 and reflector dom121 killed mid-traffic (the
# pair of 121 is 120, whose generator then gets nothing back).
round "round 3"
sleep 0.3
kill -KILL "$gen_pid_110" "$refl_pid_121" 2>/dev/null
finish "round 3 (dom110 and dom121 killed)" 110 120
check "round 3: the other 14 generators finished" \
	"$(grep -h "^xnb-guest: sent=$frames received=$frames verify_failures=0" \
		"$work"/gen1[0-3][0-9].out | wc -l | awk '{ print ($1 >= 14) ? "yes" : $1 }')" yes

# Fresh guests on the killed guests' ports (110 pairs with 111, 121 with 120).
for pair in "110 111" "120 121"; do
	set -- $pair
	"$guest" --sim-dir "$sim" --domid "$2" --mode reflect --timeout 60 \
		>"$work/fresh$2.out" 2>"$work/fresh$2.err" &
	_rp=$!
	pids=$_rp
	wait_for "$work/fresh$2.err" "connected" 300 || :
	_rc=0
	"$guest" --sim-dir "$sim" --domid "$1" --mode gen --frames "$frames" --size-range 60-1514 \
		--window 32 --timeout 30 --quiet >"$work/fresh$1.out" 2>"$work/fresh$1.err" || _rc=$?
	kill -INT "$_rp" 2>/dev/null
	wait "$_rp" 2>/dev/null
	pids=
	check "a fresh guest pair on ports of dom$1/dom$2 after the kill: exit" "$_rc" 0
	check "a fresh guest pair on ports of dom$1/dom$2: verified" \
		"$(guest_field "$work/fresh$1.out" received)/$(guest_field "$work/fresh$1.out" verify_failures)" \
		"$frames/0"
done

sleep 1
r2=$(resources)
echo "$name: at the end: descriptors, resident KiB, free mbufs: $r2"
set -- $r1 $r2
check "testpmd's descriptors" "$4" "$1"
check "testpmd's free mbufs" "$6" "$3"
check "testpmd's resident memory within 4 MiB" "$([ "$5" -le $(($2 + 4096)) ] && echo yes || echo "no ($2 -> $5 KiB)")" yes
check "testpmd alive" "$(tp_alive "$tp" && echo yes)" yes
tp_stop "$tp" || :
check "testpmd's exit status" "$TP_RC" 0

if [ "$fail" -ne 0 ]; then
	echo "$name: FAILED"
	exit 1
fi
echo "$name: PASSED (32 vifs, 3 rounds of 16 x $frames frames, 2 guests killed mid-traffic)"
