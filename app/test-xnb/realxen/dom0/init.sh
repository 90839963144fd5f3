#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# dom0's PID 1 for one run of the real-Xen harness (exec'd from the
# image's /sbin/xnb-realxen-init once the payload is mounted on /payload):
# bring up the Xen userland (xenstored, xen-init-dom0, xenconsoled), run
# the scenario under a time bound, print PASS or FAIL and, on failure,
# every log; then power the machine off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
# shellcheck source=/dev/null
. /payload/env
# shellcheck source=lib.sh
. /payload/lib.sh

poweroff_now() {
	sync
	echo "XNB-REALXEN: powering off"
	echo o >/proc/sysrq-trigger
	while :; do sleep 60; done
}

# The last words: a verdict line the host looks for, always.
verdict() {
	if [ "$1" = PASS ]; then
		echo "XNB-REALXEN: PASS $XR_SCENARIO"
	else
		echo "XNB-REALXEN: FAIL $XR_SCENARIO: $2"
	fi
}

dump_file() {
	echo "XNB-REALXEN: ---- begin log $1 ----"
	tr -d '\r' <"$1" | tail -n "${2:-400}"
	echo "XNB-REALXEN: ---- end log $1 ----"
}

dump_cmd() {
	echo "XNB-REALXEN: ---- begin log $1 ----"
	shift
	timeout 30 "$@" 2>&1 | tail -n 200
	echo "XNB-REALXEN: ---- end log ----"
}

dump_all() {
	for f in "$XR_LOGS"/*.log /var/log/xen/*.log /var/log/xen/console/*.log; do
		[ -f "$f" ] && dump_file "$f"
	done
	dump_cmd "xl list" xl list
	dump_cmd "xenstore backend" xenstore-ls -fp /local/domain/0/backend
	dump_cmd "xl dmesg" xl dmesg
	dump_cmd "dom0 dmesg" dmesg
	dump_cmd "dom0 /proc/net/snmp" cat /proc/net/snmp
	dump_cmd "dom0 ip -s link" ip -s link
}

setup() {
	mount -t tmpfs -o mode=755 tmpfs /run
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
	mkdir -p "$XR_LOGS" "$XR_STATE" /run/xen /run/xenstored /run/lock \
		/var/log/xen/console /var/lib/xen
	hostname xnb-dom0
	ip link set lo up
	for m in xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd tun; do
		modprobe "$m" || { echo "modprobe $m failed"; return 1; }
	done
	mount -t xenfs xenfs /proc/xen || { echo "cannot mount xenfs"; return 1; }
	[ -e /dev/xen/gntdev ] && [ -e /dev/xen/evtchn ] && [ -e /dev/xen/privcmd ] ||
		{ echo "no /dev/xen/{gntdev,evtchn,privcmd}"; ls -l /dev/xen; return 1; }
	XENSTORED_ROOTDIR=/run/xenstored /usr/lib/xen-4.17/bin/xenstored \
		--pid-file /run/xen/xenstored.pid >"$XR_LOGS/xenstored.log" 2>&1 ||
		{ echo "xenstored failed"; return 1; }
	i=0
	until xenstore-read -s / >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 150 ] || { echo "xenstored does not answer"; return 1; }
		sleep 0.2
	done
	/usr/lib/xen-4.17/bin/xen-init-dom0 >"$XR_LOGS/xen-init-dom0.log" 2>&1 ||
		{ echo "xen-init-dom0 failed"; cat "$XR_LOGS/xen-init-dom0.log"; return 1; }
	/usr/lib/xen-4.17/bin/xenconsoled --pid-file=/run/xen/xenconsoled.pid \
		--log=guest --log-dir=/var/log/xen/console ||
		{ echo "xenconsoled failed"; return 1; }
	# The project's hotplug script, where libxl looks for a vif's
	# script=vif-xnb (the image is a snapshot: nothing is kept).
	if [ -f /payload/vif-xnb ]; then
		install -m 755 /payload/vif-xnb /etc/xen/scripts/vif-xnb ||
			{ echo "cannot install /etc/xen/scripts/vif-xnb"; return 1; }
	fi
	return 0
}

xr_mark "payload init: scenario $XR_SCENARIO"
if ! setup_out=$(setup 2>&1); then
	echo "$setup_out"
	verdict FAIL "dom0 set-up failed: $(echo "$setup_out" | tail -n 1)"
	dump_all
	poweroff_now
fi
[ -n "$setup_out" ] && echo "$setup_out"
xr_mark "xenstored, xen-init-dom0, xenconsoled up; $(xl info 2>/dev/null |
	sed -n 's/^xen_version *: */Xen /p'), dom0 $(uname -r)"
xr_info dom0_ready_s "$(xr_now)"

cd /run/xr || poweroff_now
t0=$(xr_now)
timeout -s KILL "$XR_SCENARIO_TIMEOUT" sh -c '. /payload/lib.sh && . /payload/scenario.sh'
rc=$?
t1=$(xr_now)
xr_info scenario_s "$(xr_elapsed "$t0" "$t1")"
if [ $rc = 0 ] && [ ! -f "$XR_STATE/fail-reason" ]; then
	verdict PASS
	# What the guests reported, for the record.
	for f in /var/log/xen/console/guest-*.log; do
		[ -f "$f" ] && tr -d '\r' <"$f" | grep 'XNBG: ' | sed "s|^|XNB-REALXEN: GUEST $(basename "$f" .log): |"
	done
	[ "${XR_DUMP_ALWAYS:-0}" = 1 ] && dump_all
elif [ $rc = 137 ]; then
	verdict FAIL "the scenario did not finish within $XR_SCENARIO_TIMEOUT s (dom0 time bound)"
	dump_all
else
	reason=$(cat "$XR_STATE/fail-reason" 2>/dev/null)
	verdict FAIL "${reason:-the scenario exited with status $rc}"
	dump_all
fi
poweroff_now
