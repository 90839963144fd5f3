#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: the demo end to end (xenstored, dpdk-testpmd with the
# xnb PMD, xnb-guest) with fewer frames. Checks that every frame came back
# intact and that testpmd's port counters agree with the guest's.
#
# Usage: test-demo.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_TEST_FRAMES   frames to send (default 50000)
# Exit 77 (skipped) when dpdk-testpmd is not installed.
set -eu

src=${1:?usage: test-demo.sh SRCDIR BUILDDIR}
build=${2:?usage: test-demo.sh SRCDIR BUILDDIR}
frames=${XNB_TEST_FRAMES:-50000}

if ! command -v dpdk-testpmd >/dev/null 2>&1; then
	echo "test-demo: SKIP: dpdk-testpmd is not installed (apt-get install dpdk)"
	exit 77
fi

out=$(mktemp "${TMPDIR:-/tmp}/test-demo.XXXXXX")
trap 'rm -f "$out"' EXIT

rc=0
XNB_DEMO_FRAMES=$frames "$src/examples/xnb-demo.sh" "$build" >"$out" || rc=$?
cat "$out"

fail=0
check() {
	# check WHAT GOT WANT
	if [ "$2" != "$3" ]; then
		echo "test-demo: FAIL: $1: got '$2', want '$3'"
		fail=1
	else
		echo "test-demo: ok: $1 = $2"
	fi
}
get() {
	# get PREFIX KEY: the value of KEY= on the last line starting with PREFIX
	grep "^$1" "$out" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

check "demo exit status" "$rc" 0
summary=$(tail -n 1 "$out")
case $summary in
"xnb-demo: sent="*) ;;
*) echo "test-demo: FAIL: the last line is not the demo summary: $summary"; fail=1 ;;
esac
sent=$(get "xnb-demo: sent=" sent)
received=$(get "xnb-demo: sent=" received)
vf=$(get "xnb-demo: sent=" verify_failures)
check "frames sent" "$sent" "$frames"
check "frames received" "$received" "$sent"
check "verify failures" "$vf" 0
tx_err=$(get "xnb-guest: " tx_errors)
rx_err=$(get "xnb-guest: " rx_errors)
check "guest tx errors" "$tx_err" 0
check "guest rx errors" "$rx_err" 0
tp_rx=$(get "xnb-demo: testpmd port 0:" rx_packets)
tp_tx=$(get "xnb-demo: testpmd port 0:" tx_packets)
tp_rx_drop=$(get "xnb-demo: testpmd port 0:" rx_dropped)
tp_tx_drop=$(get "xnb-demo: testpmd port 0:" tx_dropped)
check "testpmd rx packets = guest sent" "$tp_rx" "$sent"
check "testpmd tx packets = guest received" "$tp_tx" "$received"
check "testpmd rx dropped" "$tp_rx_drop" 0
check "testpmd tx dropped" "$tp_tx_drop" 0

if [ $fail -ne 0 ]; then
	echo "test-demo: FAILED"
	exit 1
fi
echo "test-demo: PASSED ($frames frames)"
