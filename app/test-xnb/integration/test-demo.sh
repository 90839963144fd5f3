#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: the demo end to end (xenstored, dpdk-testpmd with the
# xnb PMD, xnb-guest) with fewer frames. Checks that every frame came back
# intact and that testpmd's port counters agree with the guest's:
#   1. 10 KiB mbufs (a 9000-byte frame is one mbuf);
#   2. 2 KiB mbufs with rx scatter (frames travel as mbuf chains);
#   3. testpmd in macswap mode: every frame comes back altered, and the
#      demo must say so (the check can fail).
#
# Usage: test-demo.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_TEST_FRAMES   frames to send in runs 1 and 2 (default 50000)
# Fails when dpdk-testpmd is not installed (devtools/xnb-setup installs it).
set -eu

src=${1:?usage: test-demo.sh SRCDIR BUILDDIR}
build=${2:?usage: test-demo.sh SRCDIR BUILDDIR}
frames=${XNB_TEST_FRAMES:-50000}

if ! command -v dpdk-testpmd >/dev/null 2>&1; then
	echo "test-demo: FAIL: dpdk-testpmd is not installed (apt-get install dpdk-dev)"
	exit 1
fi

out=$(mktemp "${TMPDIR:-/tmp}/test-demo.XXXXXX")
trap 'rm -f "$out"' EXIT

name=test-demo
. "$src/app/test-xnb/integration/lib.sh"
get() {
	# get PREFIX KEY: KEY= on the last line of the demo's output starting with PREFIX
	last_value "$out" "$1" "$2"
}
run_demo() {
	# run_demo FRAMES MBUF FWD: the demo's stdout in $out, its status in $rc
	rc=0
	XNB_DEMO_FRAMES=$1 XNB_DEMO_MBUF=$2 XNB_DEMO_FWD=$3 \
		"$src/examples/xnb-demo.sh" "$build" >"$out" || rc=$?
	cat "$out"
}

for mbuf in 10240 2176; do
	echo "test-demo: $frames frames, mbuf data size $mbuf"
	run_demo "$frames" "$mbuf" io
	check "demo exit status" "$rc" 0
	summary=$(tail -n 1 "$out")
	case $summary in
	"xnb-demo: sent="*) ;;
	*) echo "test-demo: FAIL: the last line is not the demo summary: $summary"; fail=1 ;;
	esac
	sent=$(get "xnb-demo: sent=" sent)
	received=$(get "xnb-demo: sent=" received)
	check "frames sent" "$sent" "$frames"
	check "frames received" "$received" "$sent"
	check "verify failures" "$(get "xnb-demo: sent=" verify_failures)" 0
	check "guest tx errors" "$(get "xnb-guest: " tx_errors)" 0
	check "guest rx errors" "$(get "xnb-guest: " rx_errors)" 0
	check "testpmd rx packets = guest sent" "$(get "xnb-demo: testpmd port 0:" rx_packets)" "$sent"
	check "testpmd tx packets = guest received" \
		"$(get "xnb-demo: testpmd port 0:" tx_packets)" "$received"
	check "testpmd rx dropped" "$(get "xnb-demo: testpmd port 0:" rx_dropped)" 0
	check "testpmd tx dropped" "$(get "xnb-demo: testpmd port 0:" tx_dropped)" 0
done

echo "test-demo: 1000 frames through macswap: the demo must report them all altered"
run_demo 1000 10240 macswap
check "demo fails" "$([ "$rc" -ne 0 ] && echo yes || echo no)" yes
check "frames sent" "$(get "xnb-demo: sent=" sent)" 1000
check "frames received" "$(get "xnb-demo: sent=" received)" 1000
check "verify failures" "$(get "xnb-demo: sent=" verify_failures)" 1000

if [ $fail -ne 0 ]; then
	echo "test-demo: FAILED"
	exit 1
fi
echo "test-demo: PASSED"
