#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The xnb demo: a simulated Xen guest sends numbered frames through an xnb
# port (net_xnb0) in Debian's dpdk-testpmd, which forwards them back (io
# forwarding, port looped to itself); the guest checks every byte, length
# and sequence number of what comes back.
#
#   xenstored (Debian's, on a private socket)
#      |  XenBus handshake
#   xnb-guest (netfront)  <-- guest-tx / guest-rx rings, grant copy -->  xnb PMD in testpmd
#
# Usage: examples/xnb-demo.sh [BUILDDIR]
#   BUILDDIR          the meson build directory (default: build)
#   XNB_DEMO_FRAMES   frames the guest sends (default 1000000)
#   XNB_DEMO_MBUF     testpmd's mbuf data size (default 10240: a 9000-byte
#                     frame fits one mbuf; smaller sizes turn on rx scatter,
#                     so frames arrive and leave as mbuf chains)
#   XNB_DEMO_FWD      testpmd's forwarding mode (default io; macswap makes
#                     every frame come back altered: the check must fail)
#   XNB_DEMO_GUEST_ARGS  extra xnb-guest options (e.g. --window 64)
#   XNB_DEMO_KEEP=1   keep the work directory (logs, sim dir) afterwards
#
# The last line on stdout is "xnb-demo: sent=N received=N verify_failures=N".
# Exit status 0 only if every frame came back intact and testpmd's port
# counters agree.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
frames=${XNB_DEMO_FRAMES:-1000000}
mbuf=${XNB_DEMO_MBUF:-10240}
fwd=${XNB_DEMO_FWD:-io}
guest_args=${XNB_DEMO_GUEST_ARGS:-}
domid=3

die() {
	echo "xnb-demo: $*" >&2
	exit 1
}

case $mbuf in
''|*[!0-9]*) die "XNB_DEMO_MBUF=$mbuf is not a number" ;;
esac
case $frames in
''|*[!0-9]*) die "XNB_DEMO_FRAMES=$frames is not a number" ;;
esac
# A relative build dir: from here if it exists, else from the top.
if [ -d "$build" ]; then
	build=$(cd "$build" && pwd)
elif [ -d "$top/$build" ]; then
	build=$(cd "$top/$build" && pwd)
else
	die "no build directory $build: build first with devtools/xnb-setup (or meson setup + ninja)"
fi

pmd=$build/drivers/net/xnb/librte_net_xnb.so
shim=$build/lib/xensim/libxnb_xenstored_shim.so
guest=$build/app/test-xnb/guest/xnb-guest
xsd=$top/devtools/xnb-xenstored
for f in "$pmd" "$shim" "$guest"; do
	[ -f "$f" ] || die "$f is missing: run ninja -C $build"
done
[ -x "$xsd" ] || die "$xsd is missing"
command -v dpdk-testpmd >/dev/null ||
	die "dpdk-testpmd is not installed (apt-get install dpdk-dev)"
# The project's one way of driving testpmd: tp_start, tp_fwd_stats, tp_stop.
# shellcheck source=../devtools/testpmd-lib.sh
. "$top/devtools/testpmd-lib.sh"

# A private work dir: the sim dir (grant tables, guest memory, xenstored's
# socket) and the logs. /run first: short socket paths, not world-writable.
work=$(mktemp -d /run/xnb-demo.XXXXXX 2>/dev/null) ||
	work=$(mktemp -d "${TMPDIR:-/tmp}/xnb-demo.XXXXXX") ||
	die "cannot make a work directory"
sim=$work/sim
mkdir -p "$sim"
tp=$work/testpmd
tp_log=$tp.log
guest_log=$work/guest.log
guest_out=$work/guest.out
xsd_started=no
guest_pid=
status=1

# EAL refuses a plugin below a world-writable directory: use a private copy
# then (the work dir under /run is not world-writable; /tmp is).
insecure_path() {
	p=$1
	while :; do
		if [ -n "$(find "$p" -maxdepth 0 -perm -0002 2>/dev/null)" ]; then
			return 0
		fi
		[ "$p" = / ] && return 1
		p=$(dirname "$p")
	done
}
pmd_real=$(readlink -f "$pmd")
if insecure_path "$pmd_real"; then
	mkdir -p "$work/pmd"
	cp "$pmd_real" "$work/pmd/"
	pmd=$work/pmd/$(basename "$pmd_real")
	if insecure_path "$pmd"; then
		die "$pmd_real is below a world-writable directory, which EAL refuses, and so is $work; build elsewhere"
	fi
fi

tail_logs() {
	for l in "$xsd_log" "$tp_log" "$guest_log"; do
		[ -s "$l" ] || continue
		echo "----- last lines of $l" >&2
		tail -n 25 "$l" >&2
	done
}
xsd_log=$sim/xenstored.log

cleanup() {
	trap - EXIT INT TERM HUP
	if [ -n "$guest_pid" ] && kill -0 "$guest_pid" 2>/dev/null; then
		kill -TERM "$guest_pid" 2>/dev/null || :
		i=0
		while kill -0 "$guest_pid" 2>/dev/null && [ "$i" -lt 150 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$guest_pid" 2>/dev/null || :
	fi
	tp_kill "$tp"
	if [ "$xsd_started" = yes ]; then
		"$xsd" stop "$sim" >/dev/null 2>&1 || :
	fi
	if [ "$status" -ne 0 ]; then
		tail_logs
	fi
	if [ "${XNB_DEMO_KEEP:-0}" = 1 ]; then
		echo "xnb-demo: work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'status=130; exit 130' INT
trap 'status=143; exit 143' TERM HUP

# 1. xenstored on the sim dir's socket.
"$xsd" start "$sim" "$shim" >"$work/xenstored-start.log" 2>&1 || {
	cat "$work/xenstored-start.log" >&2
	die "xenstored did not start"
}
xsd_started=yes
echo "xnb-demo: xenstored running on $sim/socket" >&2

# 2. dpdk-testpmd with the xnb port for domain $domid, io forwarding the
# port to itself, until we stop it (devtools/testpmd-lib.sh).
# Frames are up to 9000 bytes: one mbuf each, or chains with rx scatter.
scatter=
[ "$mbuf" -ge $((9018 + 128)) ] || scatter=--enable-scatter
# shellcheck disable=SC2086  # $scatter: one option or none
TP_START_TIMEOUT=60 tp_start "$tp" -l 0,1 --no-huge --no-pci -m 1024 --file-prefix="xnbdemo$$" \
	-d "$pmd" --vdev="net_xnb0,domid=$domid,platform=sim,sim_dir=$sim" -- \
	--forward-mode="$fwd" --port-topology=loop --nb-cores=1 \
	--mbuf-size="$mbuf" --total-num-mbufs=16384 --max-pkt-len=9018 $scatter \
	--disable-link-check ||
	die "dpdk-testpmd did not start forwarding: $TP_ERROR"
echo "xnb-demo: dpdk-testpmd forwarding ($fwd) on net_xnb0 (domid $domid)" >&2

# 3. The guest: connect, send, check, disconnect, remove the vif.
echo "xnb-demo: xnb-guest sends $frames frames" >&2
# shellcheck disable=SC2086
"$guest" --sim-dir "$sim" --domid "$domid" --mode gen --frames "$frames" $guest_args \
	>"$guest_out" 2>"$guest_log" &
guest_pid=$!
guest_rc=0
wait "$guest_pid" || guest_rc=$?
guest_pid=
line=$(grep '^xnb-guest: ' "$guest_out" | tail -n 1 || :)
[ -n "$line" ] && echo "$line"

# 4. testpmd's forward statistics (the port's own counters), then stop it.
tp_fwd_stats "$tp" 0 || :
tp_rx=$TP_RX_PACKETS
tp_rx_drop=$TP_RX_DROPPED
tp_tx=$TP_TX_PACKETS
tp_tx_drop=$TP_TX_DROPPED
tp_stop "$tp" 30 || :
tp_rc=${TP_RC:-1}
echo "xnb-demo: testpmd port 0: rx_packets=${tp_rx:-?} rx_dropped=${tp_rx_drop:-?} tx_packets=${tp_tx:-?} tx_dropped=${tp_tx_drop:-?}"

"$xsd" stop "$sim" >/dev/null 2>&1 || :
xsd_started=no

field() {
	echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
sent=$(field sent)
received=$(field received)
vf=$(field verify_failures)
fail=
[ $guest_rc -eq 0 ] || fail="$fail xnb-guest exited with $guest_rc;"
[ -n "$sent" ] || fail="$fail xnb-guest printed no summary;"
[ $tp_rc -eq 0 ] || fail="$fail dpdk-testpmd exited with $tp_rc;"
if [ -n "$sent" ]; then
	[ "$sent" = "$frames" ] || fail="$fail sent $sent of $frames;"
	[ "$received" = "$sent" ] || fail="$fail received $received of $sent;"
	[ "$vf" = 0 ] || fail="$fail $vf verify failures;"
	[ "${tp_rx:-x}" = "$sent" ] || fail="$fail testpmd received ${tp_rx:-?}, the guest sent $sent;"
	[ "${tp_tx:-x}" = "$received" ] || fail="$fail testpmd sent ${tp_tx:-?}, the guest received $received;"
fi
if [ -z "$fail" ]; then
	status=0
else
	echo "xnb-demo: FAILED:$fail" >&2
fi
echo "xnb-demo: sent=${sent:-0} received=${received:-0} verify_failures=${vf:-0}"
exit $status
