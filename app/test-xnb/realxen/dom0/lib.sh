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

# The vif spec for the harness guest: no hotplug script (xnb is the
# backend; nothing to plug into a bridge).
xr_vif_spec() {
	echo "mac=$XR_GUEST_MAC,backend=0,script=/bin/true${1:+,$1}"
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

# xr_xl LOGNAME ARGS...: `xl -vvv ARGS`, timed (XR_XL_S, also reported as
# xl_LOGNAME_s); libxl's debug log goes to $XR_LOGS/xl-LOGNAME.log with
# an uptime on each line (see xr_log_time). Fails when xl fails.
xr_xl() {
	_ln=$1
	shift
	_t0=$(xr_now)
	{ "$XR_XEN_BIN/xl" -vvv "$@" 2>&1; echo "XR-EXIT $?"; } |
		xr_stamp >"$XR_LOGS/xl-$_ln.log"
	XR_XL_S=$(xr_elapsed "$_t0" "$(xr_now)")
	xr_info "xl_${_ln}_s" "$XR_XL_S"
	if ! grep -q ' XR-EXIT 0$' "$XR_LOGS/xl-$_ln.log"; then
		grep -E 'error|ERROR|fail|FAIL|timed out|wanted state' "$XR_LOGS/xl-$_ln.log" |
			tail -n 20 | cut -c1-240
		xr_fail "xl $* failed after $XR_XL_S s (see xl-$_ln.log)"
	fi
}

# xr_closed_promptly LOG BACKEND WHAT: in libxl's log of a device removal
# (xl destroy, network-detach), libxl writes Closing (5) to BACKEND/state
# and waits up to 10 s for Closed (6). The backend must answer within
# 5 s and the xl command (XR_XL_S or XR_DESTROY_S, passed as $4) must not
# wait out libxl's 10 s. Sets XR_CLOSED_S and reports closing_to_closed_*.
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
	if awk -v d="$_took" 'BEGIN { exit !(d >= 10) }'; then
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
