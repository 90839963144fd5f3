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
