#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: DPDK's secondary-process tools on xnb ports.
# dpdk-testpmd (the primary, io forwarding, ports paired, pdump
# initialised) serves two guests: dom4 reflects all along, dom3 sends
# rounds of numbered frames (60, 1514 and 9000 bytes) and checks every byte
# that comes back. Between and during the rounds:
#   - dpdk-proc-info --stats and --xstats: every counter of both ports as
#     the secondary reads it equals what testpmd reports through telemetry
#     (/ethdev/stats, /ethdev/xstats) once a round is over, and lies between
#     two telemetry readings taken around it while a round runs;
#   - dpdk-dumpcap -i 0 while a round runs: the pcapng holds each frame the
#     guest sent (inbound) and each frame testpmd sent to it (outbound),
#     byte for byte, in order, nothing dropped;
#   - dpdk-pdump --pdump port=0,queue=*,rx-dev=,tx-dev=: the same frames in
#     the two pcap files;
#   - after the secondaries exit (each closes its ports), both vifs are
#     still Connected, the reflector never lost its connection and a last
#     round passes; the totals add up.
#
# Secondary processes need the primary's memory in files they can map:
# hugepages. The test mounts hugetlbfs (2 MB pages) in its work directory
# and raises vm.nr_overcommit_hugepages by 512 while it runs (pages exist
# only while used and go back to the kernel after), so it needs root.
#
# Usage: test-secondary.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_TEST_FRAMES   frames per round (default 1000; at most 1000, since
#                     dumpcap's ring of 2048 must hold both directions)
set -eu

src=${1:?usage: test-secondary.sh SRCDIR BUILDDIR}
build=${2:?usage: test-secondary.sh SRCDIR BUILDDIR}
frames=${XNB_TEST_FRAMES:-1000}
# The frames a round sends while proc-info reads the counters: enough to
# last a few hundred milliseconds.
busy_frames=300000
sizes=60,1514,9000
# Frames in flight: well below the guest's 256 receive buffers, so that a
# frame coming back always finds one posted (else testpmd's io forwarding
# drops it when xnb hands it back).
window=64
gmac=00:16:3e:00:03:00
hp_pages=512

name=test-secondary
. "$src/app/test-xnb/integration/lib.sh"

for t in dpdk-testpmd dpdk-proc-info dpdk-dumpcap dpdk-pdump stdbuf; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "$name: FAIL: $t is not installed (devtools/xnb-setup installs dpdk-dev)"
		exit 1
	fi
done
if [ "$frames" -gt 1000 ]; then
	echo "$name: FAIL: XNB_TEST_FRAMES=$frames: at most 1000 (dumpcap's ring)"
	exit 1
fi
env_init
refl_pid=
sec_pid=
huge=$work/huge
hp_sysctl=/proc/sys/vm/nr_overcommit_hugepages
hp_raised=no

cleanup() {
	rc=$?
	trap - EXIT
	stop_pid "$sec_pid"
	stop_pid "$refl_pid"
	tp_kill "$work/testpmd"
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	[ $rc -eq 0 ] || show_logs "$work"/*.log "$work"/*.err "$sim/xenstored.log"
	# DPDK's runtime directory of the prefix (its memory's state files).
	if [ -s "$work/testpmd.d/socket" ]; then
		rm -rf "$(dirname "$(cat "$work/testpmd.d/socket")")"
	fi
	if mountpoint -q "$huge" 2>/dev/null; then
		umount "$huge" 2>/dev/null || { sleep 2; umount "$huge" || :; }
	fi
	if [ $hp_raised = yes ]; then
		_now=$(cat "$hp_sysctl")
		echo $((_now > hp_pages ? _now - hp_pages : 0)) >"$hp_sysctl" || :
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pmd=$(plugin_path "$pmd" "$work/pmd")

# Hugepages for the primary's memory (see above).
mkdir -p "$huge"
if ! _hp=$(cat "$hp_sysctl" 2>/dev/null) || ! echo $((_hp + hp_pages)) >"$hp_sysctl" 2>/dev/null; then
	echo "$name: FAIL: cannot raise $hp_sysctl (secondary processes need hugepages; run as root)"
	exit 1
fi
hp_raised=yes
if ! mount -t hugetlbfs -o pagesize=2M nodev "$huge"; then
	echo "$name: FAIL: cannot mount hugetlbfs on $huge (run as root, with 2 MB hugepages in the kernel)"
	exit 1
fi

# DPDK bug 1073: a mempool names its driver by an index into each
# process's own table of mempool drivers, filled in the order the
# libraries load. Debian's dpdk-testpmd links librte_mempool_dpaa, so its
# table starts with "dpaa"; a secondary that loads the drivers from the
# plugin directory only has them in another order, and the primary's
# pdump callbacks would take mbufs from the capture's pool through the
# wrong driver (every frame dropped). The secondaries load the mempool
# drivers testpmd links first, as testpmd does (-d, or LD_PRELOAD for
# dumpcap, which takes no EAL arguments; the PMD too).
mp_libs=$(ldd "$(command -v dpdk-testpmd)" | awk '/librte_mempool_[a-z0-9]+\.so/ { print $3 }')
mp_args=
for _l in $mp_libs; do
	mp_args="$mp_args -d $_l"
done
prefix=xnbsec$$
# proc-info sets the global log level to NOTICE (6) first: INFO (7) again
# for the PMD's lines.
sec_eal="--file-prefix=$prefix --no-pci --log-level=7 --log-level=pmd.net.xnb:info"

"$xsd" start "$sim" "$shim"
tp=$work/testpmd
tp_start "$tp" -l 0,1 --no-pci --huge-dir="$huge" --file-prefix="$prefix" \
	-d "$pmd" \
	--vdev="net_xnb0,domid=3,platform=sim,sim_dir=$sim" \
	--vdev="net_xnb1,domid=4,platform=sim,sim_dir=$sim" -- \
	--forward-mode=io --port-topology=paired --nb-cores=1 \
	--mbuf-size=10240 --total-num-mbufs=16384 --max-pkt-len=9018 --disable-link-check || {
	echo "$name: FAIL: dpdk-testpmd did not start forwarding: $TP_ERROR"
	exit 1
}

"$guest" --sim-dir "$sim" --domid 4 --mode reflect --timeout 300 \
	>"$work/reflect.out" 2>"$work/reflect.err" &
refl_pid=$!
wait_for "$work/reflect.err" "connected" 150 || {
	echo "$name: FAIL: the reflecting guest did not connect"
	exit 1
}

total=0
# round TAG FRAMES: dom3 sends FRAMES numbered frames and checks them back
round() {
	_rc=0
	"$guest" --sim-dir "$sim" --domid 3 --mac "$gmac" --mode gen --frames "$2" \
		--sizes "$sizes" --window $window >"$work/gen-$1.out" 2>"$work/gen-$1.err" || _rc=$?
	check "round $1: generator exit status" "$_rc" 0
	check "round $1: frames sent and received back" \
		"$(guest_field "$work/gen-$1.out" sent)/$(guest_field "$work/gen-$1.out" received)" \
		"$2/$2"
	check "round $1: verify failures" "$(guest_field "$work/gen-$1.out" verify_failures)" 0
	total=$((total + $2))
}

# counters FILE: "port name value" lines from proc-info's --stats and
# --xstats output, with the names telemetry uses for the basic ones
counters() {
	awk '
		/NIC statistics for port/ { p = $(NF - 1); x = 0 }
		/NIC extended statistics for port/ { p = $(NF - 1); x = 1 }
		x && /^[a-z0-9_]+: [0-9]+$/ { sub(/:$/, "", $1); print p, "x_" $1, $2; next }
		!x && /RX-packets:/ && !/Stats reg/ {
			print p, "ipackets", $2; print p, "ierrors", $4; print p, "ibytes", $6 }
		!x && /RX-nombuf:/ { print p, "rx_nombuf", $2 }
		!x && /TX-packets:/ && !/Stats reg/ {
			print p, "opackets", $2; print p, "oerrors", $4; print p, "obytes", $6 }
	' "$1"
}

# tel_counters: the same from testpmd's telemetry, ports 0 and 1
tel_counters() {
	for _p in 0 1; do
		tp_telemetry "$tp" "/ethdev/stats,$_p" |
			awk -v p=$_p '$1 ~ /^(ipackets|ierrors|ibytes|rx_nombuf|opackets|oerrors|obytes)$/ {
				print p, $1, $2 }'
		tp_xstats "$tp" $_p | awk -v p=$_p '{ print p, "x_" $1, $2 }'
	done | sort -u
}

proc_info() {
	# proc_info TAG: both ports' counters through dpdk-proc-info --stats,
	# then --xstats (it shows one of them a run), into $work/pi-TAG.cnt;
	# its output in $work/pi-TAG.log
	: >"$work/pi-$1.log"
	for _o in --stats --xstats; do
		_rc=0
		# shellcheck disable=SC2086  # the EAL arguments are words
		timeout 60 dpdk-proc-info $mp_args -d "$pmd" $sec_eal -- $_o \
			>>"$work/pi-$1.log" 2>&1 || _rc=$?
		check "proc-info $_o ($1) exit status" "$_rc" 0
	done
	# sort -u: one line per name, whatever the tools print twice.
	counters "$work/pi-$1.log" | sort -u >"$work/pi-$1.cnt"
}

# 1. A round, then the counters at rest: the secondary's equal testpmd's.
round 1 "$frames"
proc_info rest
tel_counters | sort >"$work/tel-rest.cnt"
check "proc-info at rest: counters read" "$(wc -l <"$work/pi-rest.cnt")" \
	"$(wc -l <"$work/tel-rest.cnt")"
check "proc-info at rest: counters not as testpmd's (telemetry)" \
	"$(diff "$work/pi-rest.cnt" "$work/tel-rest.cnt" | grep -c '^[<>]' || :)" 0
check "proc-info at rest: port 0 ipackets" \
	"$(awk '$1 == 0 && $2 == "ipackets" { print $3 }' "$work/pi-rest.cnt")" "$frames"
check "proc-info at rest: port 1 opackets" \
	"$(awk '$1 == 1 && $2 == "opackets" { print $3 }' "$work/pi-rest.cnt")" "$frames"
check "proc-info at rest: port 1 rx_q0_copy_calls counted" \
	"$(awk '$1 == 1 && $2 == "x_rx_q0_copy_calls" && $3 > 0 { print "yes" }' "$work/pi-rest.cnt")" yes
check "proc-info: both ports attached in the secondary (two runs)" \
	"$(grep -c 'attached in a secondary process' "$work/pi-rest.log" || :)" 4
check "proc-info: both ports released (closed) in the secondary only (two runs)" \
	"$(grep -c 'released in this secondary process; the primary still serves the vif' \
		"$work/pi-rest.log" || :)" 4

# 2. The counters while a round runs: between telemetry before and after.
"$guest" --sim-dir "$sim" --domid 3 --mac "$gmac" --mode gen --frames $busy_frames \
	--sizes 60 --window $window >"$work/gen-busy.out" 2>"$work/gen-busy.err" &
busy_pid=$!
wait_for "$work/gen-busy.err" "connected" 150 || :
tel_counters | sort >"$work/tel-before.cnt"
proc_info busy
tel_counters | sort >"$work/tel-after.cnt"
busy_rc=0
wait "$busy_pid" || busy_rc=$?
check "busy round: generator exit status" "$busy_rc" 0
check "busy round: frames sent and received back" \
	"$(guest_field "$work/gen-busy.out" sent)/$(guest_field "$work/gen-busy.out" received)" \
	"$busy_frames/$busy_frames"
check "busy round: verify failures" "$(guest_field "$work/gen-busy.out" verify_failures)" 0
total=$((total + busy_frames))
# Each of proc-info's counters within [before, after].
for _c in before busy after; do
	awk '{ print $1 "/" $2, $3 }' "$work/$( [ $_c = busy ] && echo pi || echo tel)-$_c.cnt" |
		sort >"$work/$_c.join"
done
check "proc-info during a round: counters (read, out of [before, after])" \
	"$(join "$work/before.join" "$work/busy.join" | join - "$work/after.join" |
		awk '$2 > $3 || $3 > $4 { bad++ } END { print NR, bad + 0 }')" \
	"$(wc -l <"$work/pi-busy.cnt") 0"
echo "$name: during the round: port 0 ipackets before $(awk '$1 == 0 && $2 == "ipackets" { print $3 }' "$work/tel-before.cnt"), proc-info $(awk '$1 == 0 && $2 == "ipackets" { print $3 }' "$work/pi-busy.cnt"), after $(awk '$1 == 0 && $2 == "ipackets" { print $3 }' "$work/tel-after.cnt")"

# 3. dumpcap on port 0 during a round: both directions, every byte.
sec_log=$work/dumpcap.err
LD_PRELOAD="$(echo $mp_libs) $pmd" timeout 60 dpdk-dumpcap --file-prefix="$prefix" -i 0 \
	-s 9100 -w "$work/cap.pcapng" -c $((2 * frames)) >"$work/dumpcap.log" 2>"$sec_log" &
sec_pid=$!
# It says "Packets captured:" once the primary's callbacks are in place.
wait_for "$sec_log" "Packets captured:" 300 || {
	echo "$name: FAIL: dpdk-dumpcap did not start capturing"
	exit 1
}
round 3 "$frames"
dc_rc=0
wait "$sec_pid" || dc_rc=$?
sec_pid=
check "dumpcap exit status" "$dc_rc" 0
check "dumpcap: received/dropped" \
	"$(sed -n "s/.*Packets received\/dropped on interface 'net_xnb0': \([0-9]*\/[0-9]*\).*/\1/p" "$sec_log" | tail -n 1)" \
	"$((2 * frames))/0"
cap=$(python3 "$src/app/test-xnb/integration/capture.py" "$work/cap.pcapng" \
	--sizes "$sizes" --src "$gmac" 2>"$work/capture-dumpcap.err" || :)
echo "$name: dumpcap's pcapng: $cap"
capf() {
	printf '%s\n' "$cap" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
check "dumpcap: frames from the guest (inbound), in order" "$(capf in)/$(capf in_seq)" \
	"$frames/0-$((frames - 1))"
check "dumpcap: frames to the guest (outbound), in order" "$(capf out)/$(capf out_seq)" \
	"$frames/0-$((frames - 1))"
check "dumpcap: frames not as the guest sent them, or cut" "$(capf bad)/$(capf truncated)" 0/0
# Round 1 sent the same frames: port 0's ibytes after it.
round_bytes=$(awk '$1 == 0 && $2 == "ibytes" { print $3 }' "$work/pi-rest.cnt")
check "dumpcap: inbound and outbound bytes = round 1's port 0 ibytes (the same frames)" \
	"$(capf in_bytes)/$(capf out_bytes)" "$round_bytes/$round_bytes"

# 4. pdump on port 0 during a round: rx and tx into two pcap files.
stdbuf -oL -eL timeout 60 dpdk-pdump $mp_args -d "$pmd" --file-prefix="$prefix" --no-pci -- \
	--pdump "port=0,queue=*,rx-dev=$work/rx.pcap,tx-dev=$work/tx.pcap,total-num-mbufs=8192" \
	>"$work/pdump.log" 2>&1 &
sec_pid=$!
# It prints its capture tuples once the primary's callbacks are in place.
wait_for "$work/pdump.log" "capture for" 300 || {
	echo "$name: FAIL: dpdk-pdump did not start capturing"
	exit 1
}
round 4 "$frames"
sleep 0.5
kill -INT "$sec_pid" 2>/dev/null || :
pd_rc=0
wait "$sec_pid" || pd_rc=$?
sec_pid=
check "pdump exit status (SIGINT)" "$pd_rc" 0
check "pdump: packets dequeued" \
	"$(sed -n 's/.*packets dequeued:[[:space:]]*\([0-9]*\).*/\1/p' "$work/pdump.log" | tail -n 1)" \
	$((2 * frames))
for _d in rx tx; do
	cap=$(python3 "$src/app/test-xnb/integration/capture.py" "$work/$_d.pcap" \
		--sizes "$sizes" --src "$gmac" 2>"$work/capture-$_d.err" || :)
	echo "$name: pdump's $_d.pcap: $cap"
	check "pdump: $_d frames, in order" "$(capf nodir)/$(capf nodir_seq)" \
		"$frames/0-$((frames - 1))"
	check "pdump: $_d frames not as the guest sent them, or cut" \
		"$(capf bad)/$(capf truncated)" 0/0
	check "pdump: $_d bytes = round 1's port 0 ibytes (the same frames)" \
		"$(capf nodir_bytes)" "$round_bytes"
done

# 5. The secondaries have closed their ports and exited: the vifs are the
# primary's still. The reflector kept its connection; a last round passes.
state4=$(XENSTORED_PATH=$sim/socket xenstore-read /local/domain/0/backend/vif/4/0/state 2>/dev/null || :)
check "dom4's vif still Connected after the secondaries" "$state4" 4
check "reflector still running" "$(kill -0 "$refl_pid" 2>/dev/null && echo yes || echo no)" yes
tp_link "$tp" 1
check "port 1 link after the secondaries" "$TP_LINK" up
round 5 "$frames"
proc_info end
tel_counters | sort >"$work/tel-end.cnt"
check "proc-info at the end: counters not as testpmd's" \
	"$(diff "$work/pi-end.cnt" "$work/tel-end.cnt" | grep -c '^[<>]' || :)" 0

kill -INT "$refl_pid"
refl_rc=0
wait "$refl_pid" || refl_rc=$?
refl_pid=
check "reflector exit status (SIGINT)" "$refl_rc" 0
check "reflector received and sent every frame of every round" \
	"$(guest_field "$work/reflect.out" received)/$(guest_field "$work/reflect.out" sent)" \
	"$total/$total"
check "reflector connected once (no reconnection)" \
	"$(grep -c 'connected (' "$work/reflect.err" || :)" 1
tp_fwd_stats "$tp" 0 || :
check "testpmd port 0 rx/tx" "$TP_RX_PACKETS/$TP_TX_PACKETS" "$total/$total"
tp_stop "$tp" || :
check "testpmd exit status" "$TP_RC" 0

if [ $fail -ne 0 ]; then
	echo "$name: FAILED"
	exit 1
fi
echo "$name: PASSED (rounds of $frames frames, $total frames each way)"
