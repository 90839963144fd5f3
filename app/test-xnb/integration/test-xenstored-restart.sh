#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: xenstored goes away mid-traffic and comes back.
# testpmd serves four vifs: ports 0 (dom 71, a generator) and 1 (dom 72,
# a reflector) paired, port 2 (dom 73, no guest yet) paired with port 3,
# which a discovery instance (type vifd) made for dom 74 (a reflector).
#   1. xenstored is killed (kill -9) while dom 71 sends: every port and
#      the discovery instance say within a few seconds that xenstore is
#      gone; dom 71's frames keep coming back while it is; testpmd answers
#      telemetry; no vif is disconnected.
#   2. xenstored comes back with its store (as a restarted xenstored that
#      keeps its database would: the store dumped before the kill is
#      written back before the new daemon's socket takes the old one's
#      place): every port and the instance connect again within a few
#      seconds; dom 71's run ends with every frame back and verified.
#   3. The handshake works again: a new guest (dom 73) on a port that had
#      none, through the discovered port; dom 72 rebooted (a new reflector
#      on its port) and a new batch from dom 71; a new vif (dom 75, type
#      vifd) that the discovery instance must see through its new watch.
# A live update (xenstore-control live-update: how Xen 4.17 restarts its
# xenstored, keeping store and connections) is realxen scenario
# 12-xenstored-live-update: on the simulated platform the guests are
# socket clients that were never introduced to xenstored, and the new
# daemon cannot restore the nodes they own.
#
# Usage: test-xenstored-restart.sh SRCDIR BUILDDIR   (meson passes both)
set -u

src=${1:?usage: test-xenstored-restart.sh SRCDIR BUILDDIR}
build=${2:?usage: test-xenstored-restart.sh SRCDIR BUILDDIR}
name=test-xenstored-restart
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
	"$xsd" stop "$work/sim2" >/dev/null 2>&1 || :
	[ "$rc" -eq 0 ] || show_logs "$tp.log" "$work"/*.err "$sim/xenstored.log"
	[ "$rc" -ne 0 ] && [ -n "${XNB_TEST_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pmd=$(plugin_path "$pmd" "$work/pmd")
xs() {
	XENSTORED_PATH=$sim/socket "$@"
}
"$xsd" start "$sim" "$shim" >/dev/null || { echo "$name: FAIL: xenstored"; exit 1; }

# A guest in the background: guest DOMID MODE ARGS... (its pid in $!).
guest_bg() {
	_d=$1
	shift
	"$guest" --sim-dir "$sim" --domid "$_d" "$@" >"$work/g$_d.out" 2>"$work/g$_d.err" &
	pids="$pids $!"
}

# The frames a generator has had back so far (its progress line).
received() {
	tr '\r' '\n' <"$work/g$1.err" | sed -n 's/.*received \([0-9]*\).*/\1/p' | tail -n 1
}

# A batch of 20000 frames from DOMID (a new handshake each time).
batch() {
	"$guest" --sim-dir "$sim" --domid "$1" --mode gen --frames 20000 --size-range 60-1514 \
		--window 64 --timeout 20 --quiet >"$work/batch.out" 2>"$work/batch.err"
	_rc=$?
	if [ $_rc -ne 0 ] || [ "$(guest_field "$work/batch.out" received)" != 20000 ] ||
			[ "$(guest_field "$work/batch.out" verify_failures)" != 0 ]; then
		echo "$name: FAIL: $2: exit $_rc, $(grep '^xnb-guest: sent=' "$work/batch.out" | cut -d' ' -f2-5)"
		show_logs "$work/batch.err"
		fail=1
		return 1
	fi
	echo "$name: $2: 20000 frames back, verified"
}

# What xl destroy does for a guest that could not close (its xenstore
# connection died with the old daemon): its directories go.
destroyed() {
	xs xenstore-rm "/local/domain/0/backend/vif/$1" "/local/domain/$1"
}

# Lines of testpmd's log matching PATTERN.
log_count() {
	grep -c "$1" "$tp.log" || :
}

# Wait until PATTERN shows N times in testpmd's log: the seconds it took.
wait_lines() {
	_t0=$(date +%s%N)
	_i=0
	while [ "$(log_count "$1")" -lt "$2" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(log_count "$1")" -ge "$2" ] || return 1
	awk -v a="$_t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}

# The backends' reflectors, and dom 74's vif before testpmd (the instance
# finds it when probed).
guest_bg 72 --mode reflect --timeout 300
guest_bg 74 --type vifd --mode reflect --timeout 300
vdevs=
for d in 71 72 73; do
	vdevs="$vdevs --vdev=net_xnb$((d - 71)),domid=$d,platform=sim,sim_dir=$sim"
done
tp_start "$tp" -l 0,1 --no-huge --no-pci -m 1024 --file-prefix="xnbxsr$$" -d "$pmd" \
	--log-level=pmd.net.xnb:info $vdevs \
	--vdev="net_xnb_disc0,discover=1,type=vifd,platform=sim,sim_dir=$sim" -- \
	--forward-mode=io --port-topology=paired --nb-cores=1 \
	--total-num-mbufs=32768 --disable-link-check ||
	{ echo "$name: FAIL: testpmd: $TP_ERROR"; exit 1; }
wait_for "$work/g72.err" "connected" 150 || { echo "$name: FAIL: dom 72 did not connect"; exit 1; }
wait_for "$work/g74.err" "connected" 150 || { echo "$name: FAIL: dom 74 did not connect"; exit 1; }
batch 71 "before" || exit 1

frames=${XNB_XSR_FRAMES:-3000000}
# Its own xenstore connection dies too, for good: at the end it cannot
# close, and waits its timeout for the backend to let go of its pages.
guest_bg 71 --mode gen --frames "$frames" --size-range 60-1514 --window 64 --timeout 10
gen_pid=$!
wait_for "$work/g71.err" "received" 100 || { echo "$name: FAIL: dom 71 sends nothing"; exit 1; }

echo "$name: 1. xenstored killed while dom 71 sends"
xs xenstore-ls -f -p / >"$work/store"
disconnects=$(log_count "disconnect")
kill -KILL "$(cat "$sim/xenstored.pid")"
# Four ports and the instance.
t=$(wait_lines "lost the connection to xenstore" 5) ||
	{ echo "$name: FAIL: lost connections said: $(log_count "lost the connection to xenstore") of 5"; exit 1; }
echo "$name: every port and the discovery instance said xenstore was gone within $t s"
grep "lost the connection to xenstore" "$tp.log" | head -n 1 | sed "s/^/$name:   /"
r0=$(received 71)
sleep 3
r1=$(received 71)
echo "$name: dom 71 had $((r1 - r0)) frames back in 3 s without xenstore"
check "frames back while xenstore is gone" "$([ "$((r1 - r0))" -gt 1000 ] && echo yes)" yes
check "telemetry answers without xenstore" \
	"$(timeout 5 sh -c ". '$src/devtools/testpmd-lib.sh'; tp_telemetry '$tp' /ethdev/stats,0" >/dev/null 2>&1 && echo yes)" yes
check "new disconnects without xenstore" "$(( $(log_count "disconnect") - disconnects ))" 0

echo "$name: 2. xenstored back with its store"
"$xsd" start "$work/sim2" "$shim" >/dev/null || { echo "$name: FAIL: xenstored again"; exit 1; }
# One node a line: path|value|perms (IFS=| keeps empty values).
sed -n 's/^\([^ ]*\) = "\(.*\)"   (\(.*\))$/\1|\2|\3/p' "$work/store" >"$work/store.txt"
set --
while IFS='|' read -r path value perms; do
	set -- "$@" "$path" "$value"
done <"$work/store.txt"
XENSTORED_PATH=$work/sim2/socket xenstore-write "$@" || { echo "$name: FAIL: restoring the store"; exit 1; }
while IFS='|' read -r path value perms; do
	[ "$perms" = n0 ] || XENSTORED_PATH=$work/sim2/socket xenstore-chmod "$path" $(echo "$perms" | tr , ' ')
done <"$work/store.txt"
echo "$name: $(wc -l <"$work/store.txt") nodes written back"
mv "$work/sim2/socket" "$sim/socket"
mv "$work/sim2/xenstored.pid" "$sim/xenstored.pid"
t=$(wait_lines "connected to xenstore again" 5) ||
	{ echo "$name: FAIL: reconnects said: $(log_count "connected to xenstore again") of 5"; exit 1; }
echo "$name: every port and the discovery instance connected again within $t s"
grep "connected to xenstore again" "$tp.log" | head -n 1 | sed "s/^/$name:   /"
wait "$gen_pid"
echo "$name: dom 71's run: $(grep '^xnb-guest: sent=' "$work/g71.out" | cut -d' ' -f2-5)"
check "dom 71's frames back" "$(guest_field "$work/g71.out" received)" "$frames"
check "dom 71's verify failures" "$(guest_field "$work/g71.out" verify_failures)" 0
check "new disconnects after xenstore came back" "$(( $(log_count "disconnect") - disconnects ))" 0
destroyed 71

echo "$name: 3. the handshake after xenstore came back"
batch 73 "a new guest (dom 73) through the discovered port" || :
# Its xenstore connection died with the old daemon: it exits without
# closing, leaving its directories, as a guest destroyed meanwhile would.
stop_pid "$(echo "$pids" | awk '{ print $1 }')"
destroyed 72
guest_bg 72 --mode reflect --timeout 120
wait_for "$work/g72.err" "connected" 150 || { echo "$name: FAIL: the new dom 72 did not connect"; fail=1; }
batch 71 "dom 72 rebooted, a new batch from dom 71" || :
# Its port appears after testpmd set its ports up: it goes as far as
# InitWait, where the application would configure it.
guest_bg 75 --type vifd --mode sink --timeout 60
wait_for "$tp.log" "dom75 vif0 appeared" 100 ||
	{ echo "$name: FAIL: the discovery instance did not see dom 75's vif"; fail=1; }
wait_for "$tp.log" "(dom 75 vif 0): .*InitWait" 100 ||
	{ echo "$name: FAIL: dom 75's port did not reach InitWait"; fail=1; }
echo "$name: the discovery instance made $(sed -n 's/.*\(port net_xnb_disc0_75_0\)/\1/p' "$tp.log") for the new vif"

check "testpmd alive" "$(tp_alive "$tp" && echo yes)" yes
tp_stop "$tp" || :
check "testpmd's exit status" "$TP_RC" 0
if [ "$fail" -ne 0 ]; then
	echo "$name: FAILED"
	exit 1
fi
echo "$name: PASSED"
