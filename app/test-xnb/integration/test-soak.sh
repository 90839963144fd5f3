#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Soak test: N vifs in one dpdk-testpmd (N/2 pairs, io forward; N is 32
# by default, XNB_SOAK_VIFS), a guest on each: N/2 generators and N/2
# reflectors exchange verified frames at once, three times. 32 is as many
# ports as Debian's DPDK 22.11 allows in one process (RTE_MAX_ETHPORTS);
# 64 run in the testpmd of a DPDK built with -Dmax_ethports=64
# (devtools/xnb-dpdk-wide) with xnb built against it: devtools/xnb-soak's
# "64 vifs in one process" row builds both and runs it. During the third
# round one generator and one reflector are killed (kill -9) mid-traffic:
# every other pair finishes with every frame verified, and a fresh guest
# then uses each killed guest's port. testpmd's descriptors, resident
# memory and free mbufs are counted after the second round (a port keeps
# its guest's previous incarnation mapped until the next connect, so the
# steady state comes with the second guest) and at the end: the
# descriptors and mbufs must be as they were, the memory within 4 MiB.
#
# Usage: test-soak.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_SOAK_FRAMES   frames per generator and round (default 5000)
#   XNB_SOAK_VIFS     vifs, even, 22 (dom110 and dom121 are killed) to
#                     the RTE_MAX_ETHPORTS of testpmd's DPDK (default 32)
#   TP_TESTPMD        the dpdk-testpmd to run (testpmd-lib.sh); with more
#                     than 32 vifs, the one of a wider DPDK, which the
#                     PMD in BUILDDIR must be built against
set -u

src=${1:?usage: test-soak.sh SRCDIR BUILDDIR}
build=${2:?usage: test-soak.sh SRCDIR BUILDDIR}
frames=${XNB_SOAK_FRAMES:-5000}
vifs=${XNB_SOAK_VIFS:-32}
name=test-soak
. "$src/app/test-xnb/integration/lib.sh"

case $vifs in
''|*[!0-9]*) vifs_ok=no ;;
*) vifs_ok=$([ $((vifs % 2)) -eq 0 ] && [ "$vifs" -ge 22 ] && echo yes) ;;
esac
if [ "$vifs_ok" != yes ]; then
	echo "$name: FAIL: XNB_SOAK_VIFS=$vifs: give an even number of vifs, at least 22" \
		"(generator and reflector pairs; the third round kills dom110 and dom121)"
	exit 1
fi
max=$(tp_max_ethports "$TP_TESTPMD")
if [ -z "$max" ]; then
	echo "$name: cannot tell the RTE_MAX_ETHPORTS of $TP_TESTPMD's DPDK; testpmd's port count will say"
elif [ "$vifs" -gt "$max" ]; then
	echo "$name: FAIL: XNB_SOAK_VIFS=$vifs: the DPDK of $TP_TESTPMD allows $max ports in one" \
		"process (RTE_MAX_ETHPORTS=$max). For more: PREFIX=\$(devtools/xnb-dpdk-wide $vifs)," \
		"a build of xnb with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig, and TP_TESTPMD=PREFIX/bin/dpdk-testpmd" \
		"(devtools/xnb-soak's \"64 vifs in one process\" does it for 64)"
	exit 1
fi
last=$((100 + vifs))
pairs=$((vifs / 2))
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

# Ports 0..N-1 serve domids 100..100+N-1; port 2k (a generator) is paired
# with port 2k+1 (its reflector).
vdevs=
d=100
while [ $d -lt $last ]; do
	vdevs="$vdevs --vdev=net_xnb$d,domid=$d,platform=sim,sim_dir=$sim,on_close=disconnect"
	d=$((d + 1))
done
# shellcheck disable=SC2086
tp_start "$tp" -l 0,1 --no-huge --no-pci -m 1024 --file-prefix="xnbsoak$$" -d "$pmd" \
	$vdevs -- --forward-mode=io --port-topology=paired --nb-cores=1 \
	--total-num-mbufs=65536 --disable-link-check ||
	{ echo "$name: FAIL: testpmd: $TP_ERROR"; exit 1; }
read -r tp_pid <"$tp.d/pid"
check "testpmd's ports" "$(grep -c '^Port [0-9]*: ' "$tp.log")" "$vifs"
# /xnb/vifs lists every vif, a reply at a time (48 at most, then "next").
listed=0
first=0
i=0
while [ -n "$first" ] && [ $i -lt 10 ]; do
	tp_telemetry "$tp" "/xnb/vifs,$first" >"$work/vifs.page" 2>&1 || break
	listed=$((listed + $(grep -c '^[0-9][0-9]* {' "$work/vifs.page")))
	first=$(sed -n 's/^next //p' "$work/vifs.page")
	i=$((i + 1))
done
check "telemetry /xnb/vifs, reply by reply: every vif" "$listed" "$vifs"

# testpmd's descriptors, resident KiB and free mbufs, as "FDS RSS FREE".
resources() {
	_fds=$(ls "/proc/$tp_pid/fd" | wc -l)
	ls -l "/proc/$tp_pid/fd" | sed 's/.* -> //' | sed 's/[0-9][0-9]*/N/g' | sort | uniq -c \
		>"$work/fds.$_fds"
	_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$tp_pid/status")
	_free=$(tp_free_mbufs "$tp")
	echo "$_fds $_rss $_free"
}

# round TAG: the N/2 reflectors, then the N/2 generators at once; waits
# for the generators. Sets gen_pid_<d> and refl_pid_<d> for the kills.
round() {
	pids=
	d=101
	while [ $d -lt $last ]; do
		"$guest" --sim-dir "$sim" --domid $d --mode reflect --timeout 120 \
			>"$work/refl$d.out" 2>"$work/refl$d.err" &
		eval "refl_pid_$d=$!"
		pids="$pids $!"
		d=$((d + 2))
	done
	d=101
	while [ $d -lt $last ]; do
		wait_for "$work/refl$d.err" "connected" 300 ||
			{ echo "$name: FAIL: $1: reflector dom$d did not connect"; exit 1; }
		d=$((d + 2))
	done
	d=100
	while [ $d -lt $last ]; do
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
	while [ $d -lt $last ]; do
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
	while [ $d -lt $last ]; do
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
check "round 3: the other $((pairs - 2)) generators finished" \
	"$(grep -h "^xnb-guest: sent=$frames received=$frames verify_failures=0" \
		"$work"/gen[0-9]*.out | wc -l |
		awk -v n=$((pairs - 2)) '{ print ($1 >= n) ? "yes" : $1 }')" yes

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
echo "$name: PASSED ($vifs vifs, 3 rounds of $pairs x $frames frames, 2 guests killed mid-traffic)"
