# SPDX-License-Identifier: BSD-3-Clause
#
# dom0 side of the real-Xen harness: helpers the scenarios use (sourced
# by init.sh and by each scenario; POSIX sh, runs as root in dom0).
#
# Conventions:
#   - every line meant for the host starts with "XNB-REALXEN: ";
#   - a scenario fails by calling xr_fail "what went wrong" (exits);
#   - every log file a scenario writes under $XR_LOGS ends up on the
#     console when the scenario fails;
#   - the guest reports on its console as "XNBG: KEY VALUE..." lines,
#     read here from xenconsoled's log of that guest.

XR_LOGS=/run/xr/logs
XR_STATE=/run/xr/state
XR_XEN_BIN=/usr/lib/xen-4.17/bin
XR_PMD=/payload/pmd/librte_net_xnb.so
# The guest runs dom0's own kernel.
XR_DOMU_KERNEL=$(ls /boot/vmlinuz-* 2>/dev/null | tail -n 1)
XR_DOMU_INITRD=/payload/domU-initrd.gz
# Link-local addresses only: dom0's tap end and the guest.
XR_DOM0_IP4=169.254.0.1
XR_DOM0_IP6=fe80::1
XR_GUEST_IP4=169.254.0.2
XR_GUEST_IP6=fe80::2
# A locally administered MAC for the guest's vif (Xen's OUI 00:16:3e is for
# toolstack-generated ones; any unicast MAC works).
XR_GUEST_MAC=00:16:3e:58:4e:01

xr_now() {
	cut -d' ' -f1 /proc/uptime
}

# Seconds (with 2 decimals) between two xr_now values.
xr_elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

xr_mark() {
	echo "XNB-REALXEN: [$(xr_now)] $*"
}

# A measured fact the host collects into its summary: xr_info key value.
xr_info() {
	echo "XNB-REALXEN: INFO $1=$2"
}

xr_fail() {
	mkdir -p "$XR_STATE"
	echo "$*" >"$XR_STATE/fail-reason"
	echo "XNB-REALXEN: [$(xr_now)] scenario failed: $*"
	exit 1
}

# xr_wait TIMEOUT WHAT CMD...: poll CMD every 0.2 s until it succeeds;
# fail with "WHAT not seen within TIMEOUT s" otherwise.
xr_wait() {
	_t=$1
	_what=$2
	shift 2
	_end=$(awk -v n="$(xr_now)" -v t="$_t" 'BEGIN { printf "%d", n + t + 1 }')
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		_n=$(xr_now)
		if [ "${_n%.*}" -ge "$_end" ]; then
			xr_fail "$_what not seen within $_t s"
		fi
		sleep 0.2
	done
}

# xr_run WHAT CMD...: run CMD, its output into $XR_LOGS/WHAT.log (and the
# console), fail when it fails.
xr_run() {
	_what=$1
	shift
	if ! "$@" >"$XR_LOGS/$_what.log" 2>&1; then
		cat "$XR_LOGS/$_what.log"
		xr_fail "$_what failed: $*"
	fi
}

# --- xenstore ---------------------------------------------------------------

xr_xs_read() {
	xenstore-read "$1" 2>/dev/null
}

# xr_xs_is PATH VALUE: PATH holds VALUE now (a predicate for xr_wait).
xr_xs_is() {
	[ "$(xr_xs_read "$1")" = "$2" ]
}

# The backend directory of a vif: xr_vif_backend DOMID [HANDLE]
xr_vif_backend() {
	echo "/local/domain/0/backend/vif/$1/${2:-0}"
}

xr_xs_dump() {
	xenstore-ls -fp "$1" 2>&1 | head -n 200
}

# --- domains ------------------------------------------------------------------

# The domid Xen gives the next domain. Xen 4.17 hands out domids from a
# rover (xen/common/domctl.c: the first free id after the last one
# created) and libxl refuses ids destroyed less than 60 s ago; within one
# boot of this harness every domain is made through xr_create, which
# records the ids it got, so the next one is the last one + 1.
xr_next_domid() {
	if [ -f "$XR_STATE/last-domid" ]; then
		echo $(($(cat "$XR_STATE/last-domid") + 1))
	else
		echo 1
	fi
}

# xr_guest_cfg NAME [VIF_SPEC] > CFG: a PV guest running the payload's
# guest initramfs; with VIF_SPEC (e.g. "mac=...,backend=0,script=/bin/true")
# it gets one vif.
xr_guest_cfg() {
	cat <<EOF
name = "$1"
type = "pv"
kernel = "$XR_DOMU_KERNEL"
ramdisk = "$XR_DOMU_INITRD"
extra = "console=hvc0 xnb.name=$1"
memory = 256
vcpus = ${XR_GUEST_VCPUS:-1}
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
	if [ -n "${2:-}" ]; then
		echo "vif = [ '$2' ]"
	fi
}

# xr_vif_spec [EXTRA]: the vif spec for the harness guest (MAC
# $XR_GUEST_MAC), EXTRA (e.g. "bridge=xnbbr0") appended. Its hotplug
# script is $XR_VIF_SCRIPT: /bin/true by default (xnb is the backend in
# testpmd; nothing to plug into a bridge), vif-xnb where OVS serves the
# vif (libxl looks for a bare name in /etc/xen/scripts).
XR_VIF_SCRIPT=/bin/true
xr_vif_spec() {
	echo "mac=$XR_GUEST_MAC,backend=0,script=$XR_VIF_SCRIPT${1:+,$1}"
}

# xr_create NAME CFGFILE [EXPECTED_DOMID]: xl create, timed; checks that
# the guest got the expected domid. Sets XR_DOMID.
xr_create() {
	_name=$1
	_cfg=$2
	_want=${3:-}
	cp "$_cfg" "$XR_LOGS/$_name.cfg.log"
	_t0=$(xr_now)
	xr_mark "xl create $_name (expecting domid ${_want:-any})"
	_log=$XR_LOGS/xl-create-$_name.log
	{ "$XR_XEN_BIN/xl" -vvv create "$_cfg" 2>&1; echo "XR-EXIT $?"; } | xr_stamp >"$_log"
	_t1=$(xr_now)
	if ! grep -q ' XR-EXIT 0$' "$_log"; then
		grep -E 'error|ERROR|fail|FAIL|timed out|timeout|wanted state' "$_log" |
			tail -n 20 | cut -c1-240
		xr_fail "xl create $_name failed after $(xr_elapsed "$_t0" "$_t1") s (see xl-create-$_name.log)"
	fi
	# A vif's backend must reach InitWait (2) within libxl's 10 s: from
	# libxl's watch on the backend state to its "wanted state 2 ok".
	_iw=$(awk '/wpath=.*backend\/vif\/.*\/state/ && t0 == "" { t0 = $1 }
		/backend\/vif\/.*wanted state 2 ok/ && t0 != "" { printf "%.2f", $1 - t0; exit }' "$_log")
	[ -n "$_iw" ] && xr_info "vif_initwait_${_name}_s" "$_iw"
	XR_DOMID=$("$XR_XEN_BIN/xl" domid "$_name" 2>/dev/null)
	[ -n "$XR_DOMID" ] || xr_fail "xl create $_name returned but xl domid $_name finds no domain"
	mkdir -p "$XR_STATE"
	echo "$XR_DOMID" >"$XR_STATE/last-domid"
	xr_info "xl_create_${_name}_s" "$(xr_elapsed "$_t0" "$_t1")"
	xr_mark "$_name is domain $XR_DOMID"
	if [ -n "$_want" ] && [ "$XR_DOMID" != "$_want" ]; then
		xr_fail "$_name got domid $XR_DOMID, the harness expected $_want (the backend was started for domid $_want)"
	fi
}

# xr_destroy NAME: xl destroy, timed (sets XR_DESTROY_S). Each line of
# libxl's debug log in $XR_LOGS/xl-destroy-NAME.log starts with the
# uptime it was seen at, so scenarios can time libxl's steps.
xr_destroy() {
	_t0=$(xr_now)
	{ "$XR_XEN_BIN/xl" -vvv destroy "$1" 2>&1; echo "XR-EXIT $?"; } |
		xr_stamp >"$XR_LOGS/xl-destroy-$1.log"
	XR_DESTROY_S=$(xr_elapsed "$_t0" "$(xr_now)")
	xr_info "xl_destroy_${1}_s" "$XR_DESTROY_S"
	grep -q ' XR-EXIT 0$' "$XR_LOGS/xl-destroy-$1.log" ||
		xr_fail "xl destroy $1 failed (see xl-destroy-$1.log)"
}

# xr_xl_try LOGNAME ARGS...: `xl -vvv ARGS`, timed (XR_XL_S, also
# reported as xl_LOGNAME_s); libxl's debug log goes to
# $XR_LOGS/xl-LOGNAME.log with an uptime on each line (see xr_log_time).
# xl's exit status in XR_XL_RC; never fails (for a command that must fail).
xr_xl_try() {
	_ln=$1
	shift
	_t0=$(xr_now)
	{ "$XR_XEN_BIN/xl" -vvv "$@" 2>&1; echo "XR-EXIT $?"; } |
		xr_stamp >"$XR_LOGS/xl-$_ln.log"
	XR_XL_S=$(xr_elapsed "$_t0" "$(xr_now)")
	xr_info "xl_${_ln}_s" "$XR_XL_S"
	XR_XL_RC=$(sed -n 's/^[0-9.]* XR-EXIT //p' "$XR_LOGS/xl-$_ln.log" | tail -n 1)
}

# xr_xl LOGNAME ARGS...: xr_xl_try, failing when xl fails.
xr_xl() {
	xr_xl_try "$@"
	shift
	if [ "$XR_XL_RC" != 0 ]; then
		grep -E 'error|ERROR|fail|FAIL|timed out|wanted state' "$XR_LOGS/xl-$_ln.log" |
			tail -n 20 | cut -c1-240
		xr_fail "xl $* failed after $XR_XL_S s (see xl-$_ln.log)"
	fi
}

# xr_closed_promptly LOG BACKEND WHAT TOOK: in libxl's log of a device
# removal (xl destroy, network-detach), libxl writes Closing (5) to
# BACKEND/state and waits up to 10 s for Closed (6). The backend must
# answer within 5 s, as the log's stamps show, and libxl must not have
# waited out its 10 s ("wanted state 6 timed out"). TOOK, the xl
# command's time (XR_XL_S or XR_DESTROY_S), is only quoted: it also
# counts what libxl does after Closed (a hotplug script such as vif-xnb,
# tearing the domain down), which a loaded dom0 under TCG can stretch
# past 10 s with the backend's Closed in 0.1 s (10-ovs-vif-script). Sets
# XR_CLOSED_S and reports closing_to_closed_*.
xr_closed_promptly() {
	_log=$1
	_be=$2
	_what=$3
	_took=$4
	_ok=$(xr_log_time "$_log" "$_be/state wanted state 6 ok")
	[ -n "$_ok" ] || xr_fail "$_what: libxl did not see $_be reach state 6 (Closed) (the command took $_took s): $(grep -e 'wanted state 6' -e 'timed out' "$_log" | tail -n 2 | cut -d' ' -f2- | cut -c1-200 | tr '\n' ' ')"
	_w=$(xr_log_time "$_log" "$_be/state wanted state 6 still waiting state 5")
	[ -n "$_w" ] || _w=$(head -n 1 "$_log" | cut -d' ' -f1)
	XR_CLOSED_S=$(xr_elapsed "$_w" "$_ok")
	xr_info "closing_to_closed_${_what}_s" "$XR_CLOSED_S"
	if grep -q -e "$_be/state wanted state 6 timed out" "$_log"; then
		xr_fail "$_what took $_took s: libxl waited out its 10 s for the backend's Closed"
	fi
	if awk -v d="$XR_CLOSED_S" 'BEGIN { exit !(d >= 5) }'; then
		xr_fail "$_what: the backend answered Closing with Closed after $XR_CLOSED_S s (more than 5 s)"
	fi
}

# Prefix each line of stdin with the uptime it arrived at (one awk, no
# fork per line: under TCG a fork costs a good part of a second). dom0's
# awk is mawk, which reads a pipe in blocks and waits until its buffer is
# full or the writer closes it: without -W interactive (line-buffered
# reads) a quiet stretch of xl's log was stamped with the time of the next
# burst or of xl's exit (10-ovs-vif-script: "wanted state 2 ok" stamped
# 11.4 s after libxl's watch, although the backend was in InitWait 3 s
# after it and libxl's 10 s had not run out).
if awk -W version 2>/dev/null | grep -q mawk; then
	XR_AWK_LINES="-W interactive"
else
	XR_AWK_LINES=
fi
xr_stamp() {
	# shellcheck disable=SC2086
	awk $XR_AWK_LINES '{ getline u < "/proc/uptime"; close("/proc/uptime"); split(u, a, " ")
		print a[1], $0; fflush() }'
}

# xr_log_time LOG PATTERN: the uptime prefix of LOG's first line matching
# PATTERN (a log written by xr_destroy).
xr_log_time() {
	grep -m 1 -e "$2" "$1" | cut -d' ' -f1
}

xr_guest_log() {
	echo "/var/log/xen/console/guest-$1.log"
}

# xr_guest_log_rotate NAME TAG: keep a destroyed guest's console log as
# guest-NAME-TAG.log, so that the next domain of the same name (which
# xenconsoled logs to guest-NAME.log again) starts with an empty log and
# xr_guest_wait does not read the previous domain's lines.
xr_guest_log_rotate() {
	_gl=$(xr_guest_log "$1")
	[ -f "$_gl" ] && mv "$_gl" "${_gl%.log}-$2.log"
	return 0
}

# xr_guest_line NAME KEY: the rest of the guest's last "XNBG: KEY ..." line.
xr_guest_line() {
	tr -d '\r' <"$(xr_guest_log "$1")" 2>/dev/null |
		sed -n "s/^.*XNBG: $2 *//p" | tail -n 1
}

# xr_guest_wait NAME KEY TIMEOUT: wait for the guest's "XNBG: KEY" line,
# failing at once if the guest reports "XNBG: FAIL ..." first; the rest of
# the line goes into XR_VAL. (Results come back in variables, never
# through $(...): xr_fail must end the scenario, not a subshell.)
xr_guest_wait() {
	_gname=$1
	_key=$2
	_end=$(awk -v n="$(xr_now)" -v t="$3" 'BEGIN { printf "%d", n + t + 1 }')
	_log=$(xr_guest_log "$_gname")
	XR_VAL=
	while :; do
		if [ -f "$_log" ]; then
			if tr -d '\r' <"$_log" | grep -q "XNBG: $_key\( \|\$\)"; then
				XR_VAL=$(xr_guest_line "$_gname" "$_key")
				return 0
			fi
			if tr -d '\r' <"$_log" | grep -q 'XNBG: FAIL'; then
				xr_fail "guest $_gname: $(xr_guest_line "$_gname" FAIL)"
			fi
		fi
		if ! "$XR_XEN_BIN/xl" domid "$_gname" >/dev/null 2>&1; then
			xr_fail "guest $_gname is gone while waiting for its '$_key'"
		fi
		_n=$(xr_now)
		if [ "${_n%.*}" -ge "$_end" ]; then
			xr_fail "guest $_gname did not report '$_key' within $3 s"
		fi
		sleep 0.3
	done
}

# xr_guest_tell NAME WORD: type WORD and a newline on the guest's console,
# as `xl console` would: xenconsoled's pty (its path in the domain's
# console/tty key) carries it into the console ring, and the guest reads
# it with xg_wait_word. This is how dom0 paces a guest (e.g. between
# phases, so that the counters of each phase can be read alone).
xr_guest_tell() {
	_d=$("$XR_XEN_BIN/xl" domid "$1" 2>/dev/null)
	[ -n "$_d" ] || xr_fail "xr_guest_tell: no domain $1"
	_tty=$(xr_xs_read "/local/domain/$_d/console/tty")
	[ -n "$_tty" ] && [ -c "$_tty" ] ||
		xr_fail "xr_guest_tell: guest $1 (dom $_d) has no console pty ('$_tty')"
	printf '%s\n' "$2" >"$_tty" || xr_fail "xr_guest_tell: cannot write to $_tty"
	xr_mark "told $1: $2"
}

# --- dpdk-testpmd -----------------------------------------------------------
# Through the project's one testpmd driver, devtools/testpmd-lib.sh, which
# build-images.sh puts into the image (/usr/local/lib/xnb): interactive
# testpmd, its startup command ("start") in a --cmdline-file, commands as
# `load` files ended by testpmd's own marker line, the link and xstats
# through the telemetry socket (dpdk-dev brings python3 into the image).
# The session is $XR_TP: its output in $XR_LOGS/testpmd.log.
# xr_testpmd_start EAL_ARGS...; testpmd's own extra arguments (after --)
# in XR_TESTPMD_ARGS (split on spaces).
# shellcheck source=../../../../devtools/testpmd-lib.sh
. /usr/local/lib/xnb/testpmd-lib.sh
# A look at the log costs forks, which are slow under TCG.
TP_POLL=0.2
XR_TP=$XR_LOGS/testpmd
XR_TESTPMD_ARGS=

xr_testpmd_start() {
	[ -r "$XR_PMD" ] || xr_fail "the payload has no PMD at $XR_PMD"
	# XR_TESTPMD_ARGS is split on spaces on purpose.
	# shellcheck disable=SC2086
	tp_launch "$XR_TP" -l 0-1 --no-huge -m 128 --no-pci \
		--file-prefix=xr --log-level=pmd.net.xnb:info -d "$XR_PMD" "$@" \
		-- --total-num-mbufs=8192 $XR_TESTPMD_ARGS ||
		xr_fail "dpdk-testpmd did not start: $TP_ERROR"
	XR_TESTPMD_PID=$TP_PID
	echo "$XR_TESTPMD_PID" >"$XR_STATE/testpmd.pid"
	xr_mark "dpdk-testpmd started (pid $XR_TESTPMD_PID): $*"
	XR_TESTPMD_T0=$(xr_now)
	if ! TP_START_TIMEOUT=180 tp_ready "$XR_TP"; then
		tail -n 30 "$XR_TP.log"
		xr_fail "dpdk-testpmd not ready: $TP_ERROR"
	fi
	xr_info testpmd_startup_s "$(xr_elapsed "$XR_TESTPMD_T0" "$(xr_now)")"
}

# xr_watch_states NODE...: from here on every write of each node, with
# its value, is a line of $XR_LOGS/state-watch.log; xr_state_writes: the
# writes since the watches were set (a watch's first line is the watch
# being set, not a write).
xr_watch_states() {
	for _n in "$@"; do
		xenstore-watch "$_n" 2>&1 | while read -r _w _; do
			echo "$(xr_now) $_w $(xr_xs_read "$_w")"
		done >>"$XR_LOGS/state-watch.log" &
	done
	sleep 2
	XR_STATE_WRITES0=$(wc -l <"$XR_LOGS/state-watch.log")
}

xr_state_writes() {
	echo $(( $(wc -l <"$XR_LOGS/state-watch.log") - XR_STATE_WRITES0 ))
}

xr_testpmd_alive() {
	tp_alive "$XR_TP"
}

# xr_testpmd_cmd CMD: run CMD, wait for its end; testpmd's answer is in
# $XR_STATE/testpmd.answer.
xr_testpmd_cmd() {
	if ! tp_cmd "$XR_TP" "$*"; then
		xr_testpmd_alive || xr_fail "dpdk-testpmd died on '$*'"
		xr_mark "testpmd: '$*' did not end: $TP_ERROR"
	fi
	cp "$TP_ANSWER" "$XR_STATE/testpmd.answer"
}

# xr_testpmd_expect PATTERN WHAT: testpmd's last answer must match
# PATTERN (grep -E), else fail saying WHAT and what testpmd answered.
xr_testpmd_expect() {
	grep -q -E -e "$1" "$XR_STATE/testpmd.answer" ||
		xr_fail "$2: testpmd answered: $(grep -v '^testpmd> *$' "$XR_STATE/testpmd.answer" | tail -n 6 | tr '\n' '|' | cut -c1-400)"
}

# xr_testpmd_log_has PATTERN: testpmd's whole log matches PATTERN (grep -E).
xr_testpmd_log_has() {
	tr -d '\r' <"$XR_TP.log" | grep -q -E -e "$1"
}

# xr_testpmd_link PORT: XR_LINK becomes "up" or "down" (empty: no such
# port), from telemetry's /ethdev/link_status (rte_eth_link_get_nowait,
# as testpmd's `show port info`).
xr_testpmd_link() {
	tp_link "$XR_TP" "$1" 2>>"$XR_LOGS/testpmd-telemetry.log"
	XR_LINK=$TP_LINK
}

# xr_testpmd_link_is PORT up|down: the port's link is that now (for
# xr_wait: the application learns a change from LSC, a moment after the
# vif's state in xenstore).
xr_testpmd_link_is() {
	xr_testpmd_link "$1"
	[ "$XR_LINK" = "$2" ]
}

# xr_testpmd_xstats PORT FILE: the port's xstats (telemetry's
# /ethdev/xstats), stored in FILE as "name value" lines (and a copy in
# FILE.answer).
xr_testpmd_xstats() {
	tp_xstats "$XR_TP" "$1" >"$2" 2>>"$XR_LOGS/testpmd-telemetry.log"
	cp "$2" "$2.answer"
	[ -s "$2" ] || xr_fail "telemetry /ethdev/xstats,$1: no counters: $(tail -n 3 "$XR_LOGS/testpmd-telemetry.log" | tr '\n' '|' | cut -c1-300)"
}

# xr_xstat FILE NAME: XR_VAL = the counter NAME in FILE (of
# xr_testpmd_xstats); fails when testpmd did not list it.
xr_xstat() {
	XR_VAL=$(awk -v n="$2" '$1 == n { print $2; exit }' "$1")
	[ -n "$XR_VAL" ] || xr_fail "testpmd's xstats ($1) have no counter $2"
}

# xr_xstat_delta BEFORE AFTER NAME: XR_VAL = how much NAME grew.
xr_xstat_delta() {
	xr_xstat "$1" "$3"
	_b=$XR_VAL
	xr_xstat "$2" "$3"
	XR_VAL=$((XR_VAL - _b))
}

xr_testpmd_stop() {
	tp_stop "$XR_TP" 20 || xr_fail "dpdk-testpmd did not quit within 20 s"
}

# --- Open vSwitch with DPDK ------------------------------------------------
# Debian's openvswitch-switch-dpdk (OVS 3.1, DPDK 22.11 linked dynamically),
# run privately: its database, sockets and pid files in $XR_OVS_RUN, its
# logs in $XR_LOGS (ovs-vswitchd.log, ovsdb-server.log: dumped on FAIL).
# vif-xnb, the hotplug script libxl runs (the payload's usertools/vif-xnb,
# installed by init.sh as /etc/xen/scripts/vif-xnb), finds the database
# through its configuration file, /etc/default/vif-xnb, which
# xr_ovs_start writes.
XR_OVS_RUN=/run/xr/ovs
XR_OVS_DB=unix:$XR_OVS_RUN/db.sock
XR_OVS_VSWITCHD=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
XR_OVS_LOG=$XR_LOGS/ovs-vswitchd.log
# EAL memory for ovs-vswitchd (MB, no hugepages): dom0 has 1 GiB. OVS
# sizes each port's mempool by its queues (per-port-memory=true: about
# 22560 mbufs, 55 MB, at MTU 1500) rather than trying a shared pool of
# 262144 mbufs and halving it until one fits: each failed try fills all
# of EAL's memory with objects before giving up, which cost 3.5-8 s of
# dom0's time under TCG at the first port (while libxl's hotplug script
# waits for it).
XR_OVS_MEM=256

xr_vsctl() {
	ovs-vsctl --db="$XR_OVS_DB" --timeout=30 "$@"
}

# ovs-ofctl and ovs-appctl find ovs-vswitchd's sockets in OVS_RUNDIR.
xr_ofctl() {
	OVS_RUNDIR=$XR_OVS_RUN ovs-ofctl "$@"
}

# ovs-vswitchd's control socket has a fixed name (by default it would be
# named after the program, ovs-vswitchd-dpdk.PID.ctl, where ovs-appctl
# does not look).
xr_ovs_appctl() {
	ovs-appctl -t "$XR_OVS_RUN/ovs-vswitchd.ctl" --timeout=30 "$@"
}

xr_ovs_pid() {
	cat "$XR_OVS_RUN/ovs-vswitchd.pid" 2>/dev/null
}

xr_ovs_alive() {
	_p=$(xr_ovs_pid)
	[ -n "$_p" ] && kill -0 "$_p" 2>/dev/null
}

# xr_ovs_log_has PATTERN: ovs-vswitchd's log matches PATTERN (grep -E).
xr_ovs_log_has() {
	grep -q -E -e "$1" "$XR_OVS_LOG" 2>/dev/null
}

# xr_ovs_start EAL_ARGS...: ovsdb-server, then ovs-vswitchd-dpdk with
# DPDK on: no hugepages, $XR_OVS_MEM MB, no PCI, xnb loaded with -d from
# the payload (its log at info), EAL_ARGS added (e.g.
# --vdev=net_xnb_disc0,discover=1); OVS's main thread on cpu 0, its PMD
# thread on cpu 1 (dom0 has 2 vcpus); a mempool per port. Waits (180 s at most) for "DPDK
# Enabled - initialized" and reports ovs_startup_s, from ovs-vswitchd's
# start. Also starts busybox syslogd (vif-xnb logs through logger) into
# $XR_LOGS/syslog.log.
xr_ovs_start() {
	[ -r "$XR_PMD" ] || xr_fail "the payload has no PMD at $XR_PMD"
	[ -x "$XR_OVS_VSWITCHD" ] || xr_fail "$XR_OVS_VSWITCHD is not in the dom0 image (openvswitch-switch-dpdk)"
	[ -x /etc/xen/scripts/vif-xnb ] || xr_fail "/etc/xen/scripts/vif-xnb is not installed (init.sh copies the payload's usertools/vif-xnb)"
	mkdir -p "$XR_OVS_RUN"
	if [ ! -S /dev/log ]; then
		busybox syslogd -O "$XR_LOGS/syslog.log" -S ||
			xr_fail "busybox syslogd did not start"
	fi
	xr_run ovsdb-tool ovsdb-tool create "$XR_OVS_RUN/conf.db" \
		/usr/share/openvswitch/vswitch.ovsschema
	OVS_RUNDIR=$XR_OVS_RUN OVS_LOGDIR=$XR_LOGS OVS_DBDIR=$XR_OVS_RUN \
		ovsdb-server "$XR_OVS_RUN/conf.db" --remote="punix:$XR_OVS_RUN/db.sock" \
		--pidfile="$XR_OVS_RUN/ovsdb-server.pid" --detach \
		--log-file="$XR_LOGS/ovsdb-server.log" >"$XR_LOGS/ovsdb-server.err.log" 2>&1 ||
		xr_fail "ovsdb-server did not start: $(tail -n 3 "$XR_LOGS/ovsdb-server.err.log" | tr '\n' ' ')"
	xr_run ovs-vsctl-init xr_vsctl --no-wait init
	# OVS splits dpdk-extra on spaces.
	xr_run ovs-vsctl-dpdk xr_vsctl --no-wait set Open_vSwitch . \
		other_config:dpdk-init=true \
		"other_config:dpdk-extra=--no-huge --legacy-mem -m $XR_OVS_MEM --no-pci --file-prefix=xrovs --log-level=pmd.net.xnb:info -d $XR_PMD $*" \
		other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2 \
		other_config:per-port-memory=true
	{
		echo "# Written by the real-Xen harness (xr_ovs_start): OVS's database is private."
		echo "OVS_VSCTL=\"ovs-vsctl --db=$XR_OVS_DB\""
	} >/etc/default/vif-xnb
	XR_OVS_T0=$(xr_now)
	OVS_RUNDIR=$XR_OVS_RUN OVS_LOGDIR=$XR_LOGS OVS_DBDIR=$XR_OVS_RUN \
		"$XR_OVS_VSWITCHD" "$XR_OVS_DB" --pidfile="$XR_OVS_RUN/ovs-vswitchd.pid" \
		--unixctl="$XR_OVS_RUN/ovs-vswitchd.ctl" --detach --log-file="$XR_OVS_LOG" \
		>"$XR_LOGS/ovs-vswitchd.err.log" 2>&1 ||
		xr_fail "ovs-vswitchd-dpdk did not start: $(tail -n 3 "$XR_LOGS/ovs-vswitchd.err.log" | tr '\n' ' ')"
	xr_mark "ovs-vswitchd-dpdk started (pid $(xr_ovs_pid)), EAL args added: $*"
	_end=$(awk -v n="$(xr_now)" 'BEGIN { printf "%d", n + 181 }')
	until xr_ovs_log_has 'DPDK Enabled - initialized'; do
		if ! xr_ovs_alive; then
			xr_fail "ovs-vswitchd-dpdk died while initialising DPDK: $(grep -E 'EMER|ERR' "$XR_OVS_LOG" | tail -n 3 | cut -c1-200 | tr '\n' '|')"
		fi
		_n=$(xr_now)
		[ "${_n%.*}" -lt "$_end" ] ||
			xr_fail "ovs-vswitchd-dpdk did not say 'DPDK Enabled - initialized' within 180 s: $(tail -n 3 "$XR_OVS_LOG" | cut -c1-200 | tr '\n' '|')"
		sleep 0.2
	done
	xr_info ovs_startup_s "$(xr_elapsed "$XR_OVS_T0" "$(xr_now)")"
	xr_mark "ovs-vswitchd: DPDK initialized"
}

# xr_ovs_stop: ovs-vswitchd (it must still run, and exit on SIGTERM within
# 30 s), then ovsdb-server.
xr_ovs_stop() {
	xr_ovs_alive || xr_fail "ovs-vswitchd is not running (any more) at xr_ovs_stop"
	_p=$(xr_ovs_pid)
	_t0=$(xr_now)
	kill -TERM "$_p"
	_i=0
	while kill -0 "$_p" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 150 ] || xr_fail "ovs-vswitchd (pid $_p) did not exit within 30 s of SIGTERM"
		sleep 0.2
	done
	xr_info ovs_stop_s "$(xr_elapsed "$_t0" "$(xr_now)")"
	_p=$(cat "$XR_OVS_RUN/ovsdb-server.pid" 2>/dev/null)
	[ -z "$_p" ] || kill -TERM "$_p" 2>/dev/null
	return 0
}

# --- dom0's end of the link ----------------------------------------------

# xr_tap_up IFACE: link-local v4 and v6 addresses on testpmd's tap.
xr_tap_up() {
	xr_wait 30 "the tap interface $1" ip link show "$1"
	ip link set "$1" up
	ip addr add "$XR_DOM0_IP4/16" dev "$1"
	ip -6 addr add "$XR_DOM0_IP6/64" dev "$1" nodad
}

# The listening address for socat: IPv4 on dom0's tap address, or IPv6 on
# any address (a link-local one needs its interface; the tap is the only
# link with a peer).
xr_listen_addr() {
	if [ "${2:-4}" = 6 ]; then
		echo "TCP6-LISTEN:$1,reuseaddr,ipv6only=1"
	else
		echo "TCP4-LISTEN:$1,bind=$XR_DOM0_IP4,reuseaddr"
	fi
}

# xr_listen_recv PORT FILE [4|6]: accept one TCP connection, store what it
# sends in FILE.
xr_listen_recv() {
	socat -u "$(xr_listen_addr "$1" "${3:-4}")" "OPEN:$2,creat,trunc" \
		>"$XR_LOGS/socat-$1.log" 2>&1 &
}

# xr_listen_send PORT FILE [4|6]: accept one TCP connection, send FILE,
# close.
xr_listen_send() {
	socat -u "OPEN:$2" "$(xr_listen_addr "$1" "${3:-4}")" \
		>"$XR_LOGS/socat-$1.log" 2>&1 &
}

xr_md5() {
	md5sum "$1" | cut -d' ' -f1
}

# xr_require_word "WORDS" WORD WHAT: WORD must be one of WORDS.
xr_require_word() {
	case " $1 " in
	*" $2 "*) ;;
	*) xr_fail "$3: expected $2, got: $1" ;;
	esac
}
