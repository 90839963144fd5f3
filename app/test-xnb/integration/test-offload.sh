#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: checksum and GSO offloads between two guests through
# two xnb ports in one dpdk-testpmd (io forwarding, ports paired, rx
# scatter). Guest 4 reflects with the metadata frames came with; guest 3
# sends TCP and UDP over IPv4 and IPv6, with full checksums and with
# blank ones (NETTXF_csum_blank, the pseudo-header sum in the field, as
# Linux's netfront), and checks every frame back byte for byte and every
# checksum (a blank one must hold the pseudo-header sum). Then GSO
# super-frames (--gso 1448) of TCP/IPv4 and TCP/IPv6, when the backend
# offers feature-gso-tcpv4/-tcpv6; when it does not, the guest must say
# so (exit 3) and the case is reported as not offered, not passed.
#
# Usage: test-offload.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_TEST_FRAMES   frames per case (default 5000)
set -eu

src=${1:?usage: test-offload.sh SRCDIR BUILDDIR}
build=${2:?usage: test-offload.sh SRCDIR BUILDDIR}
frames=${XNB_TEST_FRAMES:-5000}

name=test-offload
. "$src/app/test-xnb/integration/lib.sh"

if ! command -v dpdk-testpmd >/dev/null 2>&1; then
	echo "test-offload: FAIL: dpdk-testpmd is not installed (apt-get install dpdk-dev)"
	exit 1
fi
env_init
refl_pid=

cleanup() {
	rc=$?
	trap - EXIT
	stop_pid "$refl_pid"
	tp_kill "$work/testpmd"
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	[ $rc -eq 0 ] || show_logs "$work"/*.log "$work"/*.err "$sim/xenstored.log"
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT

run_paired_testpmd xnboffl

"$guest" --sim-dir "$sim" --domid 4 --mode reflect >"$work/reflect.out" 2>"$work/reflect.err" &
refl_pid=$!
wait_for "$work/reflect.err" "connected" 150 || {
	echo "test-offload: FAIL: the reflecting guest did not connect"
	exit 1
}

total=0
# gen_case LABEL ARGS...: frames out and back, all verified; 1 when the
# backend does not offer what the case needs (a FAIL that says so)
gen_case() {
	_label=$1
	shift
	_rc=0
	"$guest" --sim-dir "$sim" --domid 3 --mode gen --frames "$frames" --quiet "$@" \
		>"$work/gen.out" 2>"$work/gen.err" || _rc=$?
	if [ "$_rc" -eq 3 ]; then
		echo "test-offload: FAIL: $_label: the backend does not offer it:" \
			"$(grep 'not negotiated' "$work/gen.err")"
		fail=1
		return 1
	fi
	check "$_label: exit status" "$_rc" 0
	check "$_label: received" "$(guest_field "$work/gen.out" received)" "$frames"
	check "$_label: verify failures" "$(guest_field "$work/gen.out" verify_failures)" 0
	check "$_label: bad checksums" "$(guest_field "$work/gen.out" csum_bad)" 0
	total=$((total + frames))
}

# What the backend offers the reflector, for the report.
be=$(XENSTORED_PATH=$sim/socket xenstore-ls /local/domain/0/backend/vif/4/0 2>/dev/null |
	grep -E 'feature-(gso|ipv6)' | tr -d ' "' | tr '\n' ' ' || :)
echo "test-offload: backend offers: $be"

# TCP/UDP, IPv4/IPv6, sizes from one slot to many (the PMD's mbufs are 2 KiB).
sizes=100,1514,3000,8000,9000
for p in udp4 udp6 tcp4 tcp6; do
	gen_case "$p full checksum" --proto "$p" --sizes "$sizes" &&
		check "$p full checksum: checked" "$(guest_field "$work/gen.out" csum_ok)" \
			"$frames"
	gen_case "$p blank checksum" --proto "$p" --sizes "$sizes" --csum-blank &&
		check "$p blank checksum: sent blank" \
			"$(guest_field "$work/gen.out" tx_csum_blank)" "$frames" &&
		check "$p blank checksum: came back checked" \
			"$(guest_field "$work/gen.out" csum_ok)" "$frames"
done

# GSO super-frames: up to 64 KiB of TCP with an MSS of 1448 (the 1000-byte
# frames go without).
for p in tcp4 tcp6; do
	gen_case "$p GSO" --proto "$p" --sizes 1000,20000,65535,30000 --gso 1448 &&
		check "$p GSO: sent as GSO" "$(guest_field "$work/gen.out" tx_gso)" \
			$((frames * 3 / 4))
done

kill -INT "$refl_pid"
refl_rc=0
wait "$refl_pid" || refl_rc=$?
refl_pid=
check "reflector exit status (SIGINT)" "$refl_rc" 0
check "reflector bad checksums" "$(guest_field "$work/reflect.out" csum_bad)" 0
check "reflector: every frame sent back" "$(guest_field "$work/reflect.out" sent)" \
	"$(guest_field "$work/reflect.out" received)"

tp_stop "$work/testpmd" || :
check "testpmd exit status" "$TP_RC" 0
if [ $fail -ne 0 ]; then
	echo "test-offload: FAILED"
	exit 1
fi
echo "test-offload: PASSED ($total frames each way)"
