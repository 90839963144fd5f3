#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: DPDK's own PMD test, Debian's dpdk-test
# pmd_perf_autotest, on an xnb port. The test configures the port as it
# would a NIC in loopback, waits for its link, injects 2048 frames and
# sends back what it receives until 2 s worth of 10 Gbit/s at 64 bytes
# (29.76 million frames) came back; a guest reflects the frames (the
# loopback). It must say "Test OK"; the guest must have reflected every
# frame it received and must see the backend close when dpdk-test exits.
#
# Usage: test-dpdk-test.sh SRCDIR BUILDDIR   (meson passes both)
# Fails when dpdk-test is not installed (devtools/xnb-setup installs dpdk-dev).
set -eu

src=${1:?usage: test-dpdk-test.sh SRCDIR BUILDDIR}
build=${2:?usage: test-dpdk-test.sh SRCDIR BUILDDIR}

name=test-dpdk-test
. "$src/app/test-xnb/integration/lib.sh"

if ! command -v dpdk-test >/dev/null 2>&1; then
	echo "test-dpdk-test: FAIL: dpdk-test is not installed (apt-get install dpdk-dev)"
	exit 1
fi
env_init
refl_pid=

cleanup() {
	rc=$?
	trap - EXIT
	stop_pid "$refl_pid"
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	rm -rf "/var/run/dpdk/xnbpp$$"
	[ $rc -eq 0 ] || show_logs "$work/test.out" "$work/reflect.err"
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT

pmd=$(plugin_path "$pmd" "$work/pmd")
"$xsd" start "$sim" "$shim"

# The guest first: it waits for its backend, which dpdk-test creates.
"$guest" --sim-dir "$sim" --domid 3 --mode reflect --timeout 240 \
	>"$work/reflect.out" 2>"$work/reflect.err" &
refl_pid=$!

test_rc=0
echo pmd_perf_autotest | timeout 240 dpdk-test -l 0,1 --no-huge --no-pci -m 1024 \
	--file-prefix="xnbpp$$" -d "$pmd" \
	--vdev="net_xnb0,domid=3,platform=sim,sim_dir=$sim,on_close=disconnect" >"$work/test.out" 2>&1 ||
	test_rc=$?
sed -n '/Start PMD RXTX/,/Test /p' "$work/test.out"

# dpdk-test closed its port on exit (on_close=disconnect, not the default
# keep): the backend said Closed and the guest
# went away by itself.
wait_for "$work/reflect.err" "the backend closed the connection" 100 || :
kill -INT "$refl_pid" 2>/dev/null || :
wait "$refl_pid" || :
refl_pid=
cat "$work/reflect.out"

packets=$(sed -n 's/^\([0-9]*\) packet, .*/\1/p' "$work/test.out")
check "dpdk-test exit status" "$test_rc" 0
check "pmd_perf_autotest result" "$(grep -c '^Test OK' "$work/test.out" || :)" 1
check "link up before the test" "$(grep -c 'Port 0 Link up' "$work/test.out" || :)" 1
check "frames the test received: at least 29761904" \
	"$([ "${packets:-0}" -ge 29761904 ] && echo yes || echo "no (${packets:-none})")" yes
check "the guest told of the port's close (backend Closed)" \
	"$(grep -c 'the backend went to Closed' "$work/reflect.err" || :)" 1
check "reflector sent what it received" "$(guest_field "$work/reflect.out" sent)" \
	"$(guest_field "$work/reflect.out" received)"
if [ $fail -ne 0 ]; then
	echo "test-dpdk-test: FAILED"
	exit 1
fi
echo "test-dpdk-test: PASSED ($packets frames through pmd_perf_autotest)"
