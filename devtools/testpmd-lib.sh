# SPDX-License-Identifier: BSD-3-Clause
#
# The one way this project drives Debian's dpdk-testpmd: the demo, the
# integration tests, the real-Xen scenarios (in the emulated dom0) and,
# through the same protocol, devtools/xnb-bench. POSIX sh; source it.
#
# The protocol:
#   start    testpmd runs interactive (-i) with --cmdline-file=S.d/startup.txt:
#            its startup commands (TP_STARTUP, "start" by default) run once
#            the ports are started; stdin is the FIFO S.d/in, opened
#            read-write so that testpmd never sees EOF and any process may
#            write to it; stdout and stderr go to S.log (line-buffered).
#   ready    S.log has "Read CLI commands from S.d/startup.txt": the ports are
#            up and the startup commands (forwarding) ran.
#   command  the command lines go into a new file S.d/cmd.N.txt and
#            "load S.d/cmd.N.txt" into the FIFO; testpmd prints "Read CLI
#            commands from S.d/cmd.N.txt" when it has run them all; the
#            answer is S.log from the send to that line. A marker of our
#            own, never the prompt (which event lines split).
#   read     counters, link and port facts through telemetry: the socket
#            <runtime dir>/<file prefix>/dpdk_telemetry.v2 (SOCK_SEQPACKET;
#            a JSON greeting, then one JSON reply per query), the runtime
#            dir found as EAL finds it (/var/run/dpdk as root). The
#            client is a few lines of python3 (Debian's dpdk-dev depends
#            on it, so the real-Xen dom0 has it too), not dpdk-telemetry.py,
#            whose JSON would need parsing again here.
#   stop     "quit" into the FIFO; SIGINT, then SIGKILL, when it does not
#            go. Its exit status in TP_RC.
#
# A session is a path S: the log is S.log, the state S.d/. Functions return
# non-zero on failure with the reason in TP_ERROR and never exit; results
# come back in variables (TP_*) or files, so that a caller's own failure
# function (xr_fail) is not run in a subshell.
#
#   tp_start S EAL_ARGS... [-- TESTPMD_ARGS...]
#                 tp_launch, then tp_ready. Call it in the shell that will
#                 stop it (not in $(...)): testpmd is its child (TP_PID)
#   tp_launch S ARGS...  start testpmd in the background, do not wait
#   tp_ready S    wait for the startup marker (TP_START_TIMEOUT, 120 s)
#   tp_run S EAL_ARGS... [-- TESTPMD_ARGS...]
#                 one-shot: run TP_STARTUP (default: nothing) and exit
#                 (stdin /dev/null), bounded by TP_RUN_TIMEOUT (60 s);
#                 output in S.log, exit status in TP_RC
#   tp_cmd S CMD...  run the commands (one per argument); the answer in
#                 the file TP_ANSWER (S.d/answer); TP_CMD_TIMEOUT (30 s)
#   tp_telemetry S QUERY...  each reply on stdout: a dict as "key value"
#                 lines, a list one item a line, a string as it is
#   tp_xstats S PORT  the port's xstats as "name value" lines on stdout
#   tp_link S PORT    TP_LINK: up, down, or empty (no such port)
#   tp_fwd_stats S PORT  "show fwd stats all": TP_RX_PACKETS,
#                 TP_RX_DROPPED, TP_TX_PACKETS, TP_TX_DROPPED of the port
#   tp_alive S    testpmd still runs
#   tp_stop S [TIMEOUT]  quit (30 s), else SIGINT, then SIGKILL; 1 when it
#                 had to be signalled; TP_RC its exit status
#   tp_kill S     for exit traps: SIGINT, SIGKILL 3 s later
#   tp_max_ethports TESTPMD  the RTE_MAX_ETHPORTS of the DPDK that TESTPMD
#                 runs with, on stdout (empty when it cannot say); also
#                 read by devtools/xnb-bench-density
#
# Settings: TP_TESTPMD (dpdk-testpmd), TP_PYTHON (python3, for
# telemetry), TP_POLL (seconds between two looks at the log, 0.05),
# TP_STARTUP, the timeouts above.

# shellcheck disable=SC2034  # the TP_* results are for the caller
TP_TESTPMD=${TP_TESTPMD:-dpdk-testpmd}
if [ -z "${TP_PYTHON:-}" ]; then
	# Debian's interpreter first: a version manager's shim costs a fork more.
	if [ -x /usr/bin/python3 ]; then TP_PYTHON=/usr/bin/python3; else TP_PYTHON=python3; fi
fi
TP_POLL=${TP_POLL:-0.05}
TP_ERROR=
TP_RC=
TP_PID=
TP_ANSWER=
TP_LINK=

# The telemetry client (also run in-process by devtools/xnb-bench, which
# takes it from here: one client for both).
TP_TELEMETRY_PY='
import json, socket, sys

def query(path, cmds):
    """The decoded reply to each command, from the telemetry socket path."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
        size = json.loads(s.recv(1024).decode()).get("max_output_len", 16384)
        out = []
        for c in cmds:
            s.send(c.encode())
            reply = json.loads(s.recv(size).decode())
            out.append(next(iter(reply.values()), None) if isinstance(reply, dict) else reply)
        return out
    finally:
        s.close()

def text(v):
    if isinstance(v, dict):
        return "".join("%s %s\n" % (k, json.dumps(x) if isinstance(x, (dict, list)) else x)
                       for k, x in v.items())
    if isinstance(v, list):
        return "".join("%s\n" % x for x in v)
    return "" if v is None else "%s\n" % v

if __name__ == "__main__":
    for v in query(sys.argv[1], sys.argv[2:]):
        sys.stdout.write(text(v))
'

_tp_now() {
	# whole seconds of uptime, without a fork
	read -r _tp_up _tp_rest </proc/uptime
	_tp_now=${_tp_up%.*}
}

# _tp_wait_for S TEXT TIMEOUT: TEXT (fixed) appears in S.log; 1 when
# testpmd exited or TIMEOUT s passed (TP_ERROR says which)
_tp_wait_for() {
	_tp_now
	_tp_end=$((_tp_now + $3))
	while :; do
		grep -qF -e "$2" "$1.log" 2>/dev/null && return 0
		if ! tp_alive "$1"; then
			grep -qF -e "$2" "$1.log" 2>/dev/null && return 0
			read -r _tp_pid <"$1.d/pid"
			wait "$_tp_pid" 2>/dev/null
			TP_RC=$?
			TP_ERROR="dpdk-testpmd exited (status $TP_RC; log: $1.log)"
			return 1
		fi
		_tp_now
		if [ "$_tp_now" -ge "$_tp_end" ]; then
			TP_ERROR="dpdk-testpmd did not print '$2' within $3 s (log: $1.log)"
			return 1
		fi
		sleep "$TP_POLL"
	done
}

# _tp_prepare S STARTUP ARGS...: a fresh S.d/ and S.log; STARTUP (command
# lines) in S.d/startup.txt; the telemetry socket of the --file-prefix in
# ARGS in S.d/socket
_tp_prepare() {
	_tp_s=$1
	_tp_f=$2
	shift 2
	rm -rf "$_tp_s.d"
	mkdir -p "$_tp_s.d" || { TP_ERROR="cannot make $_tp_s.d"; return 1; }
	: >"$_tp_s.log"
	echo 0 >"$_tp_s.d/seq"
	_tp_prefix=rte
	_tp_prev=
	for _tp_a in "$@"; do
		case $_tp_a in
		--file-prefix=*) _tp_prefix=${_tp_a#*=} ;;
		esac
		[ "$_tp_prev" = --file-prefix ] && _tp_prefix=$_tp_a
		_tp_prev=$_tp_a
	done
	if [ "$(id -u)" = 0 ]; then
		_tp_run=/var/run
	else
		_tp_run=${XDG_RUNTIME_DIR:-/tmp}
	fi
	echo "$_tp_run/dpdk/$_tp_prefix/dpdk_telemetry.v2" >"$_tp_s.d/socket"
	printf '%s\n' "$_tp_f" >"$_tp_s.d/startup.txt"
}

# _tp_exec bg|once S ARGS...: testpmd with "-i --cmdline-file=S.d/startup.txt"
# after the first "--" of ARGS (added at the end when there is none):
# bg in the background on the session's FIFO (TP_PID), once in the
# foreground with stdin at EOF (TP_RC)
_tp_exec() {
	_tp_mode=$1
	_tp_s=$2
	shift 2
	_tp_n=$#
	_tp_seen=no
	while [ "$_tp_n" -gt 0 ]; do
		_tp_a=$1
		shift
		_tp_n=$((_tp_n - 1))
		if [ "$_tp_a" = -- ] && [ $_tp_seen = no ]; then
			set -- "$@" -- -i "--cmdline-file=$_tp_s.d/startup.txt"
			_tp_seen=yes
		else
			set -- "$@" "$_tp_a"
		fi
	done
	[ $_tp_seen = yes ] || set -- "$@" -- -i "--cmdline-file=$_tp_s.d/startup.txt"
	echo "$TP_TESTPMD $*" >"$_tp_s.d/argv"
	if [ "$_tp_mode" = bg ]; then
		mkfifo "$_tp_s.d/in" || { TP_ERROR="cannot make the FIFO $_tp_s.d/in"; return 1; }
		# stdbuf: each line reaches the log as it is printed.
		stdbuf -oL -eL "$TP_TESTPMD" "$@" <>"$_tp_s.d/in" >"$_tp_s.log" 2>&1 &
		TP_PID=$!
		echo "$TP_PID" >"$_tp_s.d/pid"
		return 0
	fi
	TP_RC=0
	# -i with stdin at EOF: testpmd quits once the startup commands ran.
	timeout "${TP_RUN_TIMEOUT:-60}" stdbuf -oL -eL "$TP_TESTPMD" "$@" </dev/null \
		>"$_tp_s.log" 2>&1 || TP_RC=$?
	[ "$TP_RC" = 0 ] || TP_ERROR="dpdk-testpmd exited with status $TP_RC (log: $_tp_s.log)"
	[ "$TP_RC" = 0 ]
}

tp_launch() {
	_tp_ss=$1
	shift
	TP_ERROR=
	TP_RC=
	_tp_prepare "$_tp_ss" "${TP_STARTUP-start}" "$@" || return 1
	_tp_exec bg "$_tp_ss" "$@"
}

tp_ready() {
	_tp_wait_for "$1" "Read CLI commands from $1.d/startup.txt" "${TP_START_TIMEOUT:-120}"
}

tp_start() {
	tp_launch "$@" && tp_ready "$1"
}

tp_run() {
	_tp_ss=$1
	shift
	TP_ERROR=
	_tp_prepare "$_tp_ss" "${TP_STARTUP-}" "$@" || return 1
	_tp_exec once "$_tp_ss" "$@"
}

tp_alive() {
	[ -f "$1.d/pid" ] || return 1
	read -r _tp_pid <"$1.d/pid"
	kill -0 "$_tp_pid" 2>/dev/null
}

tp_cmd() {
	_tp_s=$1
	shift
	TP_ERROR=
	TP_ANSWER=$_tp_s.d/answer
	read -r _tp_seq <"$_tp_s.d/seq"
	_tp_seq=$((_tp_seq + 1))
	echo "$_tp_seq" >"$_tp_s.d/seq"
	_tp_f=$_tp_s.d/cmd.$_tp_seq.txt
	printf '%s\n' "$@" >"$_tp_f"
	_tp_off=$(wc -c <"$_tp_s.log")
	if ! tp_alive "$_tp_s"; then
		TP_ERROR="dpdk-testpmd is not running (log: $_tp_s.log)"
		: >"$TP_ANSWER"
		return 1
	fi
	printf 'load %s\n' "$_tp_f" >"$_tp_s.d/in"
	_tp_rc=0
	_tp_wait_for "$_tp_s" "Read CLI commands from $_tp_f" "${TP_CMD_TIMEOUT:-30}" || _tp_rc=1
	tail -c +$((_tp_off + 1)) "$_tp_s.log" | tr -d '\r' |
		grep -vF "Read CLI commands from $_tp_f" >"$TP_ANSWER"
	return $_tp_rc
}

tp_telemetry() {
	_tp_s=$1
	shift
	read -r _tp_sock <"$_tp_s.d/socket"
	"$TP_PYTHON" -I -S -c "$TP_TELEMETRY_PY" "$_tp_sock" "$@"
}

tp_xstats() {
	tp_telemetry "$1" "/ethdev/xstats,$2"
}

tp_link() {
	TP_LINK=
	_tp_out=$(tp_telemetry "$1" "/ethdev/link_status,$2")
	case $_tp_out in
	*"status UP"*) TP_LINK=up ;;
	*"status DOWN"*) TP_LINK=down ;;
	esac
}

tp_fwd_stats() {
	TP_RX_PACKETS=
	TP_RX_DROPPED=
	TP_TX_PACKETS=
	TP_TX_DROPPED=
	tp_cmd "$1" "show fwd stats all" || return 1
	eval "$(awk -v p="$2" '
		$0 ~ "Forward statistics for port " p " " { on = 1; next }
		on && /^ *-+ *$/ { exit }
		on {
			for (i = 1; i < NF; i++) {
				k = $i; v = $(i + 1)
				if (k == "RX-packets:") print "TP_RX_PACKETS=" v
				if (k == "RX-dropped:") print "TP_RX_DROPPED=" v
				if (k == "TX-packets:") print "TP_TX_PACKETS=" v
				if (k == "TX-dropped:") print "TP_TX_DROPPED=" v
			}
		}' "$TP_ANSWER")"
	[ -n "$TP_RX_PACKETS" ] || { TP_ERROR="no forward statistics for port $2"; return 1; }
}

# _tp_gone S TENTHS: wait up to TENTHS tenths of a second for the exit
_tp_gone() {
	_tp_i=0
	while tp_alive "$1"; do
		[ "$_tp_i" -lt "$2" ] || return 1
		sleep 0.1
		_tp_i=$((_tp_i + 1))
	done
}

tp_stop() {
	_tp_s=$1
	TP_ERROR=
	[ -f "$_tp_s.d/pid" ] || { TP_RC=; return 0; }
	read -r _tp_pid <"$_tp_s.d/pid"
	_tp_rc=0
	if tp_alive "$_tp_s"; then
		printf 'quit\n' >"$_tp_s.d/in"
		if ! _tp_gone "$_tp_s" $((${2:-30} * 10)); then
			_tp_rc=1
			TP_ERROR="dpdk-testpmd did not quit within ${2:-30} s"
			kill -INT "$_tp_pid" 2>/dev/null
			_tp_gone "$_tp_s" 50 || kill -KILL "$_tp_pid" 2>/dev/null
		fi
	fi
	wait "$_tp_pid" 2>/dev/null
	TP_RC=$?
	return $_tp_rc
}

tp_kill() {
	tp_alive "$1" || return 0
	read -r _tp_pid <"$1.d/pid"
	kill -INT "$_tp_pid" 2>/dev/null
	_tp_gone "$1" 30 || kill -KILL "$_tp_pid" 2>/dev/null
	wait "$_tp_pid" 2>/dev/null || :
}

# The libdpdk.pc beside TESTPMD's librte_ethdev says where that DPDK's
# rte_build_config.h is (Debian's and devtools/xnb-dpdk-wide's alike;
# found first in the search path, which keeps the system's for what it
# requires, libbsd).
tp_max_ethports() {
	_tp_lib=$(ldd "$(command -v "$1")" 2>/dev/null |
		sed -n 's/^[[:space:]]*librte_ethdev\.so[^ ]* => \([^ ]*\) .*/\1/p')
	[ -n "$_tp_lib" ] || return 0
	_tp_pc=$(cd "$(dirname "$_tp_lib")/pkgconfig" 2>/dev/null && pwd -P) || return 0
	[ "$(PKG_CONFIG_PATH=$_tp_pc pkg-config --variable=pcfiledir libdpdk 2>/dev/null |
		xargs realpath 2>/dev/null)" = "$_tp_pc" ] || return 0
	for _tp_i in $(PKG_CONFIG_PATH=$_tp_pc pkg-config --cflags-only-I libdpdk); do
		_tp_h=${_tp_i#-I}/rte_build_config.h
		if [ -f "$_tp_h" ]; then
			sed -n 's/^#define RTE_MAX_ETHPORTS \([0-9]*\).*/\1/p' "$_tp_h"
			return 0
		fi
	done
}
