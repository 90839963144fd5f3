#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: two xnb ports in Open vSwitch 3.1 with DPDK (Debian's
# openvswitch-switch-dpdk, unmodified), one per guest, switched by two
# OpenFlow rules. Guest 3 generates numbered frames, OVS hands them to
# guest 4, which reflects them, and guest 3 checks every byte:
#   1. frames of 60 to 1514 bytes at OVS's default MTU;
#   2. frames of 60 to 9014 bytes after mtu_request=9000 on both ports.
# Also: the ports' link state in OVS follows the guests (port xnb4 with
# dpdk-lsc-interrupt=true, port xnb3 polled by OVS's watchdog), OVS's port
# counters agree with the guests', xnb's own counters and vif details
# are read through ovs-vswitchd's telemetry socket, and del-port
# detaches a port.
# Everything runs in a private directory: its own ovsdb-server,
# ovs-vswitchd and xenstored; nothing touches a system OVS.
#
# Usage: test-ovs.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_TEST_FRAMES   frames per run (default 20000)
# Fails when openvswitch-switch-dpdk is not installed (devtools/xnb-setup
# installs it).
set -eu

src=${1:?usage: test-ovs.sh SRCDIR BUILDDIR}
build=${2:?usage: test-ovs.sh SRCDIR BUILDDIR}
frames=${XNB_TEST_FRAMES:-20000}

name=test-ovs
. "$src/app/test-xnb/integration/lib.sh"

env_init
refl_pid=

cleanup() {
	rc=$?
	trap - EXIT
	stop_pid "$refl_pid"
	ovs_stop
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	rm -rf "/var/run/dpdk/xnbovs$$"
	[ $rc -eq 0 ] || show_logs "$work"/*.err "$work/log/ovs-vswitchd.log" "$sim/xenstored.log"
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT

port_stat() {
	# port_stat PORT rx|tx: packets in OVS's OpenFlow port counters
	ovs-ofctl dump-ports br0 "$1" | sed -n "s/.*$2 pkts=\([0-9]*\).*/\1/p"
}
wait_link() {
	# wait_link PORT STATE: OVS shows STATE within 10 s
	i=0
	until [ "$(vsctl get Interface "$1" link_state)" = "$2" ]; do
		[ $i -lt 100 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}

pmd=$(plugin_path "$pmd" "$work/pmd")

"$xsd" start "$sim" "$shim"
ovs_start "xnbovs$$"

vsctl add-br br0 -- set Bridge br0 datapath_type=netdev
vsctl add-port br0 xnb3 -- set Interface xnb3 type=dpdk \
	"options:dpdk-devargs=net_xnb3,domid=3,platform=sim,sim_dir=$sim"
vsctl add-port br0 xnb4 -- set Interface xnb4 type=dpdk \
	"options:dpdk-devargs=net_xnb4,domid=4,platform=sim,sim_dir=$sim" \
	options:dpdk-lsc-interrupt=true
check "xnb3 attached" "$(vsctl get Interface xnb3 ofport)" 1
check "xnb4 attached" "$(vsctl get Interface xnb4 ofport)" 2
check "xnb4 link before its guest" "$(vsctl get Interface xnb4 link_state)" down
ovs-ofctl del-flows br0
ovs-ofctl add-flow br0 in_port=xnb3,actions=output:xnb4
ovs-ofctl add-flow br0 in_port=xnb4,actions=output:xnb3

# run TAG SIZES: guest 4 reflects, guest 3 sends $frames frames of SIZES
# bytes and checks them; 64 frames in flight at most (a switch drops what
# a full guest ring cannot take, as OVS does for any port).
run() {
	"$guest" --sim-dir "$sim" --domid 4 --mode reflect \
		>"$work/reflect-$1.out" 2>"$work/reflect-$1.err" &
	refl_pid=$!
	wait_for "$work/reflect-$1.err" "connected" 150 || {
		echo "test-ovs: FAIL: $1: the reflecting guest did not connect"
		exit 1
	}
	wait_link xnb4 up || :
	check "$1: xnb4 link with its guest (LSC interrupt)" \
		"$(vsctl get Interface xnb4 link_state)" up
	gen_rc=0
	"$guest" --sim-dir "$sim" --domid 3 --mode gen --frames "$frames" \
		--size-range "$2" --window 64 >"$work/gen-$1.out" 2>"$work/gen-$1.err" ||
		gen_rc=$?
	cat "$work/gen-$1.out"
	kill -INT "$refl_pid"
	refl_rc=0
	wait "$refl_pid" || refl_rc=$?
	refl_pid=
	check "$1: generator exit status" "$gen_rc" 0
	check "$1: generator sent" "$(guest_field "$work/gen-$1.out" sent)" "$frames"
	check "$1: generator received" "$(guest_field "$work/gen-$1.out" received)" "$frames"
	check "$1: generator verify failures" \
		"$(guest_field "$work/gen-$1.out" verify_failures)" 0
	check "$1: reflector exit status (SIGINT)" "$refl_rc" 0
	check "$1: reflector received" "$(guest_field "$work/reflect-$1.out" received)" "$frames"
	wait_link xnb4 down || :
	check "$1: xnb4 link after its guest left" "$(vsctl get Interface xnb4 link_state)" down
}

run mtu1500 60-1514
check "mtu1500: xnb3 rx" "$(port_stat xnb3 rx)" "$frames"
check "mtu1500: xnb4 tx" "$(port_stat xnb4 tx)" "$frames"
check "mtu1500: xnb4 rx" "$(port_stat xnb4 rx)" "$frames"
check "mtu1500: xnb3 tx" "$(port_stat xnb3 tx)" "$frames"
# An operator's counters with OVS: OVS keeps secondary processes out
# (rte_mp_disable(), doc/guides/nics/xnb.rst), so not dpdk-proc-info but
# ovs-vswitchd's own telemetry socket: xnb's extended stats and its vif
# list. Port 0 is xnb3; each of guest 3's frames took a copy segment at
# least (two where a frame crosses a page of the guest's).
ovs_telemetry() {
	"$TP_PYTHON" -c "$TP_TELEMETRY_PY" "/var/run/dpdk/xnbovs$$/dpdk_telemetry.v2" "$@"
}
ovs_telemetry /ethdev/xstats,0 >"$work/ovs-xstats" 2>&1 || :
check "mtu1500: xnb3 rx_q0_packets (OVS's telemetry)" \
	"$(sed -n 's/^rx_q0_packets //p' "$work/ovs-xstats")" "$frames"
segs=$(sed -n 's/^rx_q0_copy_segs //p' "$work/ovs-xstats")
check "mtu1500: xnb3 rx_q0_copy_segs >= frames (OVS's telemetry)" \
	"$([ "${segs:-0}" -ge "$frames" ] && echo yes || echo "no: '$segs'")" yes
check "mtu1500: xnb3 rx_q0_nombuf (OVS's telemetry)" \
	"$(sed -n 's/^rx_q0_nombuf //p' "$work/ovs-xstats")" 0
ovs_telemetry /xnb/vif,0 >"$work/ovs-vif" 2>&1 || :
check "xnb3's vif in OVS's telemetry: domid" "$(sed -n 's/^domid //p' "$work/ovs-vif")" 3
# OVS's watchdog polls xnb3's link (no LSC interrupt there) every 5 s.
wait_link xnb3 down || :
check "xnb3 link after its guest left (polled)" "$(vsctl get Interface xnb3 link_state)" down

vsctl set Interface xnb3 mtu_request=9000 -- set Interface xnb4 mtu_request=9000
# ovs-vsctl returns once ovs-vswitchd has taken the request; the mtu
# column follows when it has reconfigured the port (1 run in 4 later).
i=0
until [ "$(vsctl get Interface xnb3 mtu)$(vsctl get Interface xnb4 mtu)" = 90009000 ] ||
		[ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "xnb3 mtu" "$(vsctl get Interface xnb3 mtu)" 9000
check "xnb4 mtu" "$(vsctl get Interface xnb4 mtu)" 9000
run mtu9000 60-9014
check "mtu9000: xnb3 rx" "$(port_stat xnb3 rx)" "$((2 * frames))"
check "mtu9000: xnb3 tx" "$(port_stat xnb3 tx)" "$((2 * frames))"

vsctl del-port br0 xnb4
check "xnb4 detached" "$(grep -c "Device 'net_xnb4.*detached" "$work/log/ovs-vswitchd.log" || :)" 1
check "ovs-vswitchd still running" \
	"$(kill -0 "$(cat "$work/run/ovs-vswitchd.pid")" 2>/dev/null && echo yes || echo no)" yes

if [ $fail -ne 0 ]; then
	echo "test-ovs: FAILED"
	exit 1
fi
echo "test-ovs: PASSED ($frames frames each way at MTU 1500 and at MTU 9000)"
