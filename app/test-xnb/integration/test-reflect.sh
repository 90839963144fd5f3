#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: two guests, two xnb ports in one dpdk-testpmd (io
# forwarding, ports paired). Guest 3 generates numbered frames, port 0
# hands them to port 1, guest 4 reflects them, port 1 hands them back to
# port 0 and guest 3 checks every byte. Then guest 4 is stopped with
# SIGINT: it must disconnect cleanly and remove its vif (toolstack role).
#
# Usage: test-reflect.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_TEST_FRAMES   frames to send (default 20000)
# Fails when dpdk-testpmd is not installed (devtools/xnb-setup installs it).
set -eu

src=${1:?usage: test-reflect.sh SRCDIR BUILDDIR}
build=${2:?usage: test-reflect.sh SRCDIR BUILDDIR}
frames=${XNB_TEST_FRAMES:-20000}

name=test-reflect
. "$src/app/test-xnb/integration/lib.sh"

if ! command -v dpdk-testpmd >/dev/null 2>&1; then
	echo "test-reflect: FAIL: dpdk-testpmd is not installed (apt-get install dpdk-dev)"
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


pmd=$(plugin_path "$pmd" "$work/pmd")

"$xsd" start "$sim" "$shim"
tp=$work/testpmd
tp_start "$tp" -l 0,1 --no-huge --no-pci -m 1024 --file-prefix="xnbrefl$$" \
	-d "$pmd" \
	--vdev="net_xnb0,domid=3,platform=sim,sim_dir=$sim" \
	--vdev="net_xnb1,domid=4,platform=sim,sim_dir=$sim" -- \
	--forward-mode=io --port-topology=paired --nb-cores=1 \
	--mbuf-size=10240 --total-num-mbufs=16384 --max-pkt-len=9018 --disable-link-check || {
	echo "test-reflect: FAIL: dpdk-testpmd did not start forwarding: $TP_ERROR"
	exit 1
}

# The reflector first; the generator only once it is connected (frames
# forwarded to a port without a guest are dropped, as on a switch).
"$guest" --sim-dir "$sim" --domid 4 --mode reflect >"$work/reflect.out" 2>"$work/reflect.err" &
refl_pid=$!
wait_for "$work/reflect.err" "connected" 150 || {
	echo "test-reflect: FAIL: the reflecting guest did not connect"
	exit 1
}
gen_rc=0
"$guest" --sim-dir "$sim" --domid 3 --mode gen --frames "$frames" \
	>"$work/gen.out" 2>"$work/gen.err" || gen_rc=$?
cat "$work/gen.out"

# Telemetry: port 1's xstats and private dump while its guest is still
# connected.
tm_xstats=$(tp_xstats "$tp" 1 2>&1 || :)
tm_dump=$(tp_telemetry "$tp" /ethdev/dump_priv,1 2>&1 || :)
tm_vifs=$(tp_telemetry "$tp" /xnb/vifs 2>&1 || :)
tm_vif=$(tp_telemetry "$tp" /xnb/vif,1 2>&1 || :)
tm_vifs1=$(tp_telemetry "$tp" /xnb/vifs,1 2>&1 || :)
xstat() {
	# xstat NAME: the counter NAME in $tm_xstats
	printf '%s\n' "$tm_xstats" | sed -n "s/^$1 \\([0-9]*\\)\$/\\1/p"
}

# SIGINT: the reflector disconnects and removes its vif.
kill -INT "$refl_pid"
refl_rc=0
wait "$refl_pid" || refl_rc=$?
refl_pid=
cat "$work/reflect.out"
left=$(XENSTORED_PATH=$sim/socket xenstore-ls /local/domain/0/backend/vif 2>/dev/null || :)

# testpmd's forward statistics, then quit.
tp_fwd_stats "$tp" 0 || :
p0_rx=$TP_RX_PACKETS
p0_tx=$TP_TX_PACKETS
tp_fwd_stats "$tp" 1 || :
p1_rx=$TP_RX_PACKETS
p1_tx=$TP_TX_PACKETS
tp_stop "$tp" || :

check "generator exit status" "$gen_rc" 0
check "generator sent" "$(guest_field "$work/gen.out" sent)" "$frames"
check "generator received" "$(guest_field "$work/gen.out" received)" "$frames"
check "generator verify failures" "$(guest_field "$work/gen.out" verify_failures)" 0
check "reflector exit status (SIGINT)" "$refl_rc" 0
check "reflector received" "$(guest_field "$work/reflect.out" received)" "$frames"
check "reflector sent" "$(guest_field "$work/reflect.out" sent)" "$frames"
check "reflector's vif removed from xenstore" "$left" ""
# A clean close: the backend answered every step in time.
check "reflector's teardown timeouts" "$(grep -c 'did not' "$work/reflect.err" || :)" 0
check "telemetry xstats: port 1 rx_good_packets" "$(xstat rx_good_packets)" "$frames"
check "telemetry xstats: port 1 copy calls counted" \
	"$([ "$(xstat rx_q0_copy_calls)" -gt 0 ] 2>/dev/null && echo yes || echo no)" yes
check "telemetry dump_priv: port 1 connected" \
	"$(printf '%s' "$tm_dump" | grep -c 'queue 0: connected')" 1
check "telemetry /xnb/vifs: port 0 for dom3 (its generator gone)" \
	"$(printf '%s\n' "$tm_vifs" | grep '^0 ' | grep -c '"name": "net_xnb0", "domid": 3,')" 1
check "telemetry /xnb/vifs: port 1 serves dom4, Connected, link up, sg and rx-notify" \
	"$(printf '%s\n' "$tm_vifs" | grep '^1 ' | grep -c '"domid": 4,.*"state": "Connected", "link": "up", "queues_used": 1, "queues_offered": 1, "features": "sg rx-notify')" 1
check "telemetry /xnb/vifs,1: from port 1 on, so port 1 alone" \
	"$(printf '%s\n' "$tm_vifs1" | cut -d' ' -f1 | tr '\n' ' ')" "1 "
check "telemetry /xnb/vif,1: its backend directory" \
	"$(printf '%s\n' "$tm_vif" | sed -n 's/^backend //p')" /local/domain/0/backend/vif/4/0
check "telemetry /xnb/vif,1: queue 0 connected, not stalled" \
	"$(printf '%s\n' "$tm_vif" | grep -c '^queue0 {"connected": "yes", "stalled": "no", "fatal": "none"')" 1
check "telemetry /xnb/vif,1: no control ring (the guest gave none)" \
	"$(printf '%s\n' "$tm_vif" | sed -n 's/^ctrl_ring //p')" none
check "telemetry dump_priv: port 1 rx packets" \
	"$(printf '%s' "$tm_dump" | sed -n 's/.* rx: packets \([0-9]*\).*/\1/p')" "$frames"
check "testpmd exit status" "$TP_RC" 0
check "port 0 rx" "$p0_rx" "$frames"
check "port 1 tx" "$p1_tx" "$frames"
check "port 1 rx" "$p1_rx" "$frames"
check "port 0 tx" "$p0_tx" "$frames"
if [ $fail -ne 0 ]; then
	echo "test-reflect: FAILED"
	exit 1
fi
echo "test-reflect: PASSED ($frames frames each way)"
