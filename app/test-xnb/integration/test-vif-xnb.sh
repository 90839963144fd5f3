#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: libxl's hotplug script usertools/vif-xnb with Open
# vSwitch with DPDK (Debian's openvswitch-switch-dpdk, unmodified) on the
# simulated platform. OVS runs xnb's discovery instance
# (--vdev=net_xnb_disc0,discover=1 in dpdk-extra); the guest emulator
# plays xl create with script=vif-xnb and bridge=xnbbr0, and this script
# plays libxl around it: it waits for InitWait, runs `vif-xnb online`
# with libxl's environment, and for xl destroy writes Closing, waits for
# Closed and runs `vif-xnb offline`. Checked:
#   1. with the frontend Connected, the backend waits in InitWait until
#      the script has put the port into the bridge (hotplug=auto);
#   2. then hotplug-status=connected, Connected, the port vifD.0 in
#      xnbbr0 (type dpdk, the discovery port, the guest's MAC);
#   3. two guests switched by OVS's NORMAL action: every frame verified;
#   4. a vif naming a bridge that does not exist: the script fails with
#      hotplug-error naming it, OVS gets no port, xnb says why and leaves
#      the guest unconnected;
#   5. xl destroy: the ports leave the bridge and OVS detaches them.
#
# Usage: test-vif-xnb.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_TEST_FRAMES   frames to exchange (default 200000: the generator
#                     must still be there when its plug is checked)
#   XNB_TEST_KEEP     set: keep the work directory of a failed run
set -eu

src=${1:?usage: test-vif-xnb.sh SRCDIR BUILDDIR}
build=${2:?usage: test-vif-xnb.sh SRCDIR BUILDDIR}
frames=${XNB_TEST_FRAMES:-200000}

name=test-vif-xnb
. "$src/app/test-xnb/integration/lib.sh"

env_init
refl_pid=
gen_pid=
bad_pid=
script=$src/usertools/vif-xnb
be=/local/domain/0/backend/vif

cleanup() {
	rc=$?
	trap - EXIT
	stop_pid "$gen_pid"
	stop_pid "$refl_pid"
	stop_pid "$bad_pid"
	ovs_stop
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	rm -rf "/var/run/dpdk/xnbvif$$"
	[ $rc -eq 0 ] || show_logs "$work"/*.err "$work"/hotplug-*.log \
		"$work/log/ovs-vswitchd.log" "$sim/xenstored.log"
	[ $rc -ne 0 ] && [ -n "${XNB_TEST_KEEP:-}" ] || rm -rf "$work"
	exit $rc
}
trap cleanup EXIT

command -v xenstore-read >/dev/null || {
	echo "$name: FAIL: xenstore-read is not installed (apt-get install xenstore-utils)"
	exit 1
}
export XENSTORED_PATH="$sim/socket"

xs() {
	xenstore-read "$1" 2>/dev/null || echo "(none)"
}

# wait_xs PATH VALUE: PATH reads VALUE within 10 s
wait_xs() {
	_i=0
	until [ "$(xs "$1")" = "$2" ]; do
		[ $_i -lt 100 ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# hotplug DOMID online|offline: vif-xnb as libxl runs it; its exit status
# in hp_rc, its output in $work/hotplug-DOMID-ACTION.log
hotplug() {
	hp_rc=0
	XENBUS_PATH=backend/vif/$1/0 vif=vif$1.0 XNB_VIF_CONF=/dev/null \
		OVS_VSCTL="ovs-vsctl --db=unix:$work/run/db.sock" \
		"$script" "$2" type_if=vif >"$work/hotplug-$1-$2.log" 2>&1 || hp_rc=$?
}

# guest DOMID MODE BRIDGE ARGS...: the guest emulator as xl create with
# script=vif-xnb and bridge=BRIDGE; its pid in guest_pid
guest() {
	_d=$1
	_m=$2
	_b=$3
	shift 3
	"$guest" --sim-dir "$sim" --domid "$_d" --mode "$_m" --script "$script" \
		--bridge "$_b" "$@" >"$work/guest$_d.out" 2>"$work/guest$_d.err" &
	guest_pid=$!
}

# plug DOMID [gen]: libxl's part of xl create once the guest's directories
# are written: InitWait, then the script; checks what the guest and OVS
# see (gen: a generating guest, which may be done and gone at once).
plug() {
	wait_xs "$be/$1/0/state" 2 ||
		{ echo "$name: FAIL: dom$1: no InitWait from the discovery instance"; exit 1; }
	wait_xs "/local/domain/$1/device/vif/0/state" 4 ||
		{ echo "$name: FAIL: dom$1: the frontend did not connect"; exit 1; }
	sleep 0.5
	check "dom$1: the backend waits for the hotplug script" "$(xs "$be/$1/0/state")" 2
	hotplug "$1" online
	check "dom$1: vif-xnb online exit status" "$hp_rc" 0
	check "dom$1: hotplug-status" "$(xs "$be/$1/0/hotplug-status")" connected
	if [ -z "${2:-}" ]; then
		wait_xs "$be/$1/0/state" 4 || :
		check "dom$1: backend state after the script" "$(xs "$be/$1/0/state")" 4
	fi
	check "dom$1: the port's type" "$(vsctl get Interface "vif$1.0" type)" dpdk
	check "dom$1: the port's device" \
		"$(vsctl get Interface "vif$1.0" options:dpdk-devargs)" "net_xnb_disc0_$1_0"
	check "dom$1: the port's ofport" \
		"$(vsctl get Interface "vif$1.0" ofport | grep -c '^[1-9][0-9]*$')" 1
	check "dom$1: the port's error" "$(vsctl get Interface "vif$1.0" error)" "[]"
	check "dom$1: the guest's MAC in external-ids" \
		"$(vsctl get Interface "vif$1.0" external-ids:attached-mac)" \
		"$(printf '"00:16:3e:%02x:%02x:00"' $(($1 >> 8)) $(($1 & 255)))"
}

# unplug DOMID: xl destroy as libxl does it: Closing, Closed, then the
# script. The guest emulator, seeing the backend close, exits and removes
# the directories itself (libxl would, after the script).
unplug() {
	xenstore-write "$be/$1/0/state" 5
	_i=0
	until [ "$(xs "$be/$1/0/state")" = 6 ] || [ "$(xs "$be/$1/0/state")" = "(none)" ]; do
		[ $_i -lt 100 ] || break
		sleep 0.1
		_i=$((_i + 1))
	done
	check "dom$1: closed after the toolstack's Closing (Closed, or the guest gone)" \
		"$(xs "$be/$1/0/state" | sed 's/^6$/closed/; s/^(none)$/closed/')" closed
	hotplug "$1" offline
	check "dom$1: vif-xnb offline exit status" "$hp_rc" 0
	check "dom$1: the port left OVS" "$(vsctl --if-exists get Interface "vif$1.0" name)" ""
}

pmd=$(plugin_path "$pmd" "$work/pmd")
"$xsd" start "$sim" "$shim"
ovs_start "xnbvif$$" "--vdev=net_xnb_disc0,discover=1,platform=sim,sim_dir=$sim"
vsctl add-br xnbbr0 -- set Bridge xnbbr0 datapath_type=netdev

# 1-2: the reflecting guest, then the generating one.
guest 4 reflect xnbbr0 --timeout 120
refl_pid=$guest_pid
plug 4
wait_for "$work/guest4.err" "connected" 100 ||
	{ echo "$name: FAIL: the reflecting guest did not connect"; exit 1; }
guest 3 gen xnbbr0 --frames "$frames" --size-range 60-1514 --window 64 --timeout 30
gen_pid=$guest_pid
plug 3 gen
check "the bridge's ports" "$(vsctl list-ports xnbbr0 | tr '\n' ' ')" "vif3.0 vif4.0 "

# 3: the frames, switched by OVS's NORMAL action.
gen_rc=0
wait "$gen_pid" || gen_rc=$?
gen_pid=
cat "$work/guest3.out"
check "generator exit status" "$gen_rc" 0
check "generator received" "$(guest_field "$work/guest3.out" received)" "$frames"
check "generator verify failures" "$(guest_field "$work/guest3.out" verify_failures)" 0

# 4: a bridge that does not exist.
guest 5 reflect nobr0 --timeout 20
bad_pid=$guest_pid
wait_xs "$be/5/0/state" 2 || { echo "$name: FAIL: dom5: no InitWait"; exit 1; }
wait_xs "/local/domain/5/device/vif/0/state" 4 || :
hotplug 5 online
check "bad bridge: vif-xnb online exit status" "$hp_rc" 1
check "bad bridge: hotplug-status" "$(xs "$be/5/0/hotplug-status")" error
case $(xs "$be/5/0/hotplug-error") in
*"no OVS bridge 'nobr0'"*) check "bad bridge: hotplug-error names it" yes yes ;;
*) check "bad bridge: hotplug-error names it" "$(xs "$be/5/0/hotplug-error")" "no OVS bridge 'nobr0'..." ;;
esac
check "bad bridge: no port in OVS" "$(vsctl --if-exists get Interface vif5.0 name)" ""
# xnb says so once the frontend is ready and the watch event is taken.
wait_for "$work/log/ovs-vswitchd.log" "hotplug script failed: no OVS bridge 'nobr0'" 100 || :
check "bad bridge: the guest stays unconnected" "$(xs "$be/5/0/state")" 2
check "bad bridge: xnb says why" \
	"$(grep -c "hotplug script failed: no OVS bridge 'nobr0'" "$work/log/ovs-vswitchd.log" || :)" 1
stop_pid "$bad_pid"
bad_pid=

# 5: xl destroy of the reflecting guest, as libxl does it; the generating
# guest removed its directories itself when it was done, with its port
# still in OVS: xnb leaves that port alone while OVS has it started (OVS
# ignores INTR_RMV), and the script's offline takes it out.
unplug 4
stop_pid "$refl_pid"
refl_pid=
check "dom3: the port of a vanished vif stays while OVS has it" \
	"$(vsctl get Interface vif3.0 ofport | grep -c '^[1-9][0-9]*$')" 1
hotplug 3 offline
check "dom3: vif-xnb offline exit status" "$hp_rc" 0
check "the bridge is empty" "$(vsctl list-ports xnbbr0)" ""
# OVS stops a port it did not probe itself and leaves it attached; xnb
# detaches it once its vif is gone and the port stopped.
wait_for "$work/log/ovs-vswitchd.log" "net_xnb_disc0_3_0 detached" 50 || :
wait_for "$work/log/ovs-vswitchd.log" "net_xnb_disc0_4_0 detached" 50 || :
check "both devices detached" \
	"$(grep -c "net_xnb_disc0_[34]_0 detached" "$work/log/ovs-vswitchd.log" || :)" 2
check "no port polled after it was released" \
	"$(grep -c "rx_pkt_burst for not ready port\|Invalid port_id" "$work/log/ovs-vswitchd.log" || :)" 0
check "ovs-vswitchd still running" \
	"$(kill -0 "$(cat "$work/run/ovs-vswitchd.pid")" 2>/dev/null && echo yes || echo no)" yes

if [ $fail -ne 0 ]; then
	echo "$name: FAILED"
	exit 1
fi
echo "$name: PASSED (2 guests plugged by vif-xnb into OVS, $frames frames verified; a bad bridge refused)"
