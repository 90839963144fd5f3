# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers shared by the integration scripts. Set name= (the prefix of
# every line printed) and source this file; it sets fail=0.
#
#   env_init                    after src=, build= and name=: build made
#                               absolute, pmd, shim, guest and xsd set, a
#                               new work directory (under /run, else
#                               TMPDIR) with an empty sim/ in it
#   check WHAT GOT WANT         print "ok" or "FAIL" for one comparison;
#                               a FAIL sets fail=1
#   last_value FILE PREFIX KEY  the value of KEY= on the last line of FILE
#                               that starts with PREFIX (a grep pattern)
#   guest_field FILE KEY        KEY= on the last xnb-guest summary line
#   wait_for FILE PATTERN TENTHS
#                               wait until PATTERN shows in FILE; 1 after
#                               TENTHS tenths of a second without it
#   stop_pid PID                SIGINT to a process still running, and
#                               SIGKILL a second later if it is still there
#   show_logs FILE...           the last 30 lines of each non-empty FILE
#   plugin_path PMD DIR         PMD, or a copy of it in DIR when it lies
#                               below a world-writable directory (EAL
#                               refuses to load a plugin from there)
#   ovs_start PREFIX [EAL...]   after env_init: Open vSwitch with DPDK
#                               (Debian's openvswitch-switch-dpdk) of its
#                               own in $work (ovsdb-server, ovs-vswitchd),
#                               with the PMD (a plugin path set in $pmd),
#                               no hugepages, EAL file prefix PREFIX and
#                               the extra EAL arguments; its PMD thread on
#                               cpu 1; exits 1 with a FAIL line if DPDK does
#                               not come up. vsctl ARGS... drives it.
#   ovs_stop                    stop both daemons (for the cleanup trap)
#   tp_free_mbufs SESSION       the free mbufs of testpmd's pool mb_pool_0
#                               (its common part and its lcores' caches,
#                               from dump_mempool); "?" if it cannot say

fail=0

env_init() {
	build=$(cd "$build" && pwd)
	pmd=$build/drivers/net/xnb/librte_net_xnb.so
	shim=$build/lib/xensim/libxnb_xenstored_shim.so
	guest=$build/app/test-xnb/guest/xnb-guest
	xsd=$src/devtools/xnb-xenstored
	work=$(mktemp -d "/run/xnb-$name.XXXXXX" 2>/dev/null) ||
		work=$(mktemp -d "${TMPDIR:-/tmp}/xnb-$name.XXXXXX")
	sim=$work/sim
	mkdir -p "$sim"
}

check() {
	if [ "$2" != "$3" ]; then
		echo "$name: FAIL: $1: got '$2', want '$3'"
		fail=1
	else
		echo "$name: ok: $1 = $2"
	fi
}

last_value() {
	grep "^$2" "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}

guest_field() {
	last_value "$1" 'xnb-guest: sent=' "$2"
}

wait_for() {
	_i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		[ $_i -lt "$3" ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

plugin_path() {
	case $(readlink -f "$1") in
	/tmp/*|/var/tmp/*)
		mkdir -p "$2"
		cp "$1" "$2/"
		echo "$2/$(basename "$1")"
		;;
	*)
		echo "$1"
		;;
	esac
}

stop_pid() {
	if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
		kill -INT "$1" 2>/dev/null || :
		sleep 1
		kill -KILL "$1" 2>/dev/null || :
	fi
}

show_logs() {
	for _l in "$@"; do
		[ -s "$_l" ] || continue
		echo "----- last lines of $_l"
		tail -n 30 "$_l"
	done
}

# XNB_VSWITCHD: another ovs-vswitchd-dpdk (devtools/xnb-sanitize: one that
# preloads the sanitizer runtimes).
vswitchd=${XNB_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}

vsctl() {
	ovs-vsctl --db="unix:$work/run/db.sock" --timeout=30 "$@"
}

ovs_start() {
	if [ ! -x "$vswitchd" ] || ! command -v ovsdb-server >/dev/null 2>&1; then
		echo "$name: FAIL: Open vSwitch with DPDK is not installed" \
			"(apt-get install openvswitch-switch-dpdk)"
		exit 1
	fi
	_prefix=$1
	shift
	mkdir -p "$work/run" "$work/log" "$work/db" "$work/etc"
	export OVS_RUNDIR="$work/run" OVS_LOGDIR="$work/log" OVS_DBDIR="$work/db" \
		OVS_SYSCONFDIR="$work/etc"
	ovsdb-tool create "$work/db/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	ovsdb-server "$work/db/conf.db" --remote="punix:$work/run/db.sock" \
		--pidfile="$work/run/ovsdb-server.pid" --detach \
		--log-file="$work/log/ovsdb-server.log"
	vsctl --no-wait init
	# The PMD thread on cpu 1, OVS's other threads on cpu 0; no hugepages.
	# 2 GB: OVS's shared mempool asks first for 262144 mbufs (640 MB);
	# with 1 GB of 4 KB pages DPDK's populate could end on a chunk too
	# small for one mbuf (ENOBUFS, which OVS does not retry smaller) as
	# soon as the heap's layout changed a little.
	vsctl --no-wait set Open_vSwitch . other_config:dpdk-init=true \
		"other_config:dpdk-extra=--no-huge --no-pci --legacy-mem -m 2048 --file-prefix=$_prefix -d $pmd $*" \
		other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2
	"$vswitchd" "unix:$work/run/db.sock" --pidfile="$work/run/ovs-vswitchd.pid" --detach \
		--log-file="$work/log/ovs-vswitchd.log"
	wait_for "$work/log/ovs-vswitchd.log" "DPDK Enabled - initialized" 300 || {
		echo "$name: FAIL: ovs-vswitchd did not initialise DPDK"
		exit 1
	}
}

ovs_stop() {
	for _d in ovs-vswitchd ovsdb-server; do
		[ -s "$work/run/$_d.pid" ] || continue
		_pid=$(cat "$work/run/$_d.pid")
		kill -TERM "$_pid" 2>/dev/null || :
		_i=0
		while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -KILL "$_pid" 2>/dev/null || :
	done
}

tp_free_mbufs() {
	tp_cmd "$1" "dump_mempool" >/dev/null 2>&1 || { echo "?"; return; }
	awk '/^mempool <mb_pool_0>/ { on = 1 } /^mempool </ && !/mb_pool_0/ { on = 0 }
		on && /common_pool_count=/ { sub(/.*=/, ""); c = $0 }
		on && /total_cache_count=/ { sub(/.*=/, ""); t = $0 }
		END { print c + t }' "$TP_ANSWER"
}

# testpmd through devtools/testpmd-lib.sh (tp_start, tp_cmd, tp_telemetry,
# tp_xstats, tp_fwd_stats, tp_stop, tp_kill: sourced with this file);
# for the offload and tap tests:
#
#   testpmd_offloads SIMDIR PREFIX
#                               "RXMASK TXMASK": of the offloads that matter
#                               here (rx: IPv4/UDP/TCP checksum, TCP LRO,
#                               scatter; tx: IPv4/UDP/TCP checksum, TCP TSO,
#                               multi-segment), those an xnb port reports,
#                               as testpmd's --rx-offloads/--tx-offloads
#                               masks (a one-shot testpmd, tp_run)
#   run_paired_testpmd PREFIX   after env_init: xenstored in $sim, then
#                               dpdk-testpmd as the session $work/testpmd
#                               (log $work/testpmd.log) in io forward mode,
#                               xnb ports for domids 3 and 4 paired, rx
#                               scatter, those offloads enabled, until it
#                               forwards; exits 1 with a FAIL line if not

# shellcheck source=../../../devtools/testpmd-lib.sh
. "$src/devtools/testpmd-lib.sh"

testpmd_offloads() {
	TP_STARTUP='show port 0 rx_offload capabilities
show port 0 tx_offload capabilities' TP_RUN_TIMEOUT=60 \
		tp_run "$work/testpmd-caps" -l 0,1 --no-huge --no-pci -m 512 --file-prefix="$2" \
		-d "$pmd" --vdev="net_xnb0,domid=32000,platform=sim,sim_dir=$1" -- \
		--total-num-mbufs=4096 || :
	_caps=$(sed -n '/Offloading Capabilities/,/^$/p' "$work/testpmd-caps.log")
	_rx=$(printf '%s\n' "$_caps" | sed -n '/^Rx/,/^Tx/p' | tr ' ' '\n')
	_tx=$(printf '%s\n' "$_caps" | sed -n '/^Tx/,$p' | tr ' ' '\n')
	_rxm=0
	_txm=0
	# RTE_ETH_RX_OFFLOAD_* and RTE_ETH_TX_OFFLOAD_* bits (DPDK 22.11).
	for _o in IPV4_CKSUM:1 UDP_CKSUM:2 TCP_CKSUM:3 TCP_LRO:4 SCATTER:13; do
		printf '%s\n' "$_rx" | grep -qx "${_o%:*}" && _rxm=$((_rxm | (1 << ${_o#*:})))
	done
	for _o in IPV4_CKSUM:1 UDP_CKSUM:2 TCP_CKSUM:3 TCP_TSO:5 MULTI_SEGS:15; do
		printf '%s\n' "$_tx" | grep -qx "${_o%:*}" && _txm=$((_txm | (1 << ${_o#*:})))
	done
	printf '0x%x 0x%x\n' "$_rxm" "$_txm"
}

run_paired_testpmd() {
	pmd=$(plugin_path "$pmd" "$work/pmd")
	"$xsd" start "$sim" "$shim"
	_masks=$(testpmd_offloads "$sim" "$1cap$$")
	_lro=
	[ $(( ${_masks% *} & 16 )) -eq 0 ] || _lro=--max-lro-pkt-size=65535
	echo "$name: testpmd rx offloads ${_masks% *}, tx offloads ${_masks#* }" \
		"(of checksums, LRO/TSO, scatter, multi-segment)" >&2
	# shellcheck disable=SC2086  # $_lro: one option or none
	tp_start "$work/testpmd" -l 0,1 --no-huge --no-pci -m 1024 --file-prefix="$1$$" \
		-d "$pmd" \
		--vdev="net_xnb0,domid=3,platform=sim,sim_dir=$sim" \
		--vdev="net_xnb1,domid=4,platform=sim,sim_dir=$sim" -- \
		--forward-mode=io --port-topology=paired --nb-cores=1 \
		--enable-scatter --max-pkt-len=9018 $_lro \
		--rx-offloads="${_masks% *}" --tx-offloads="${_masks#* }" \
		--total-num-mbufs=32768 --disable-link-check || {
		echo "$name: FAIL: dpdk-testpmd did not start forwarding: $TP_ERROR"
		exit 1
	}
}
