# SPDX-License-Identifier: BSD-3-Clause
#
# Helpers shared by the integration scripts. Set name= (the prefix of
# every line printed) and source this file; it sets fail=0.
#
#   check WHAT GOT WANT         print "ok" or "FAIL" for one comparison;
#                               a FAIL sets fail=1
#   last_value FILE PREFIX KEY  the value of KEY= on the last line of FILE
#                               that starts with PREFIX (a grep pattern)

fail=0

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
