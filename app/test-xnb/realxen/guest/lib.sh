# SPDX-License-Identifier: BSD-3-Clause
#
# Guest side of the real-Xen harness: helpers for the scenarios' guest
# parts (busybox sh in a PV domU; its console is what dom0 reads).

XG_DOM0_IP4=169.254.0.1
XG_DOM0_IP6=fe80::1
XG_IP4=169.254.0.2
XG_IP6=fe80::2

# A report line for dom0: xg_say KEY VALUE...
xg_say() {
	echo "XNBG: $*"
}

xg_fail() {
	xg_say FAIL "$*"
	while :; do sleep 3600; done
}

# The value of a key=value word on the kernel command line.
xg_cmdline() {
	tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1
}

xg_now() {
	cut -d' ' -f1 /proc/uptime
}

# xg_net_up [TIMEOUT]: wait for netfront's eth0, give it the guest's
# link-local addresses, wait for the carrier.
xg_net_up() {
	_i=0
	_t=$(( ${1:-60} * 5 ))
	until [ -e /sys/class/net/eth0 ]; do
		_i=$((_i + 1))
		[ $_i -lt $_t ] || xg_fail "no eth0 within ${1:-60} s (netfront did not connect)"
		sleep 0.2
	done
	# No duplicate address detection: the addresses are fixed and the
	# link has two ends. The device's sysfs node comes before its IPv6
	# settings (register_netdevice, then the NETDEV_REGISTER notifiers).
	_i=0
	until [ -e /proc/sys/net/ipv6/conf/eth0/accept_dad ]; do
		_i=$((_i + 1))
		[ $_i -lt 50 ] || xg_fail "eth0 has no IPv6 settings 10 s after it appeared"
		sleep 0.2
	done
	echo 0 >/proc/sys/net/ipv6/conf/eth0/accept_dad || xg_fail "cannot turn off DAD on eth0"
	ip link set eth0 up || xg_fail "ip link set eth0 up failed"
	ip addr add "$XG_IP4/16" dev eth0 || xg_fail "cannot add $XG_IP4 to eth0"
	ip -6 addr add "$XG_IP6/64" dev eth0 || xg_fail "cannot add $XG_IP6 to eth0"
	_i=0
	until [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ]; do
		_i=$((_i + 1))
		[ $_i -lt $_t ] || xg_fail "eth0 has no carrier within ${1:-60} s"
		sleep 0.2
	done
	xg_say NET_UP "$(cat /sys/class/net/eth0/address) $(xg_now)"
}

# xg_offloads: netfront's offload state, one word per feature.
xg_offloads() {
	ethtool -k eth0 2>&1 | sed -n \
		-e 's/^tx-checksumming: *\([a-z]*\).*/tx-csum=\1/p' \
		-e 's/^[[:space:]]*tx-checksum-ipv4: *\([a-z]*\).*/tx-csum-ip4=\1/p' \
		-e 's/^[[:space:]]*tx-checksum-ipv6: *\([a-z]*\).*/tx-csum-ip6=\1/p' \
		-e 's/^rx-checksumming: *\([a-z]*\).*/rx-csum=\1/p' \
		-e 's/^scatter-gather: *\([a-z]*\).*/sg=\1/p' \
		-e 's/^tcp-segmentation-offload: *\([a-z]*\).*/tso=\1/p' \
		-e 's/^[[:space:]]*tx-tcp-segmentation: *\([a-z]*\).*/tso4=\1/p' \
		-e 's/^[[:space:]]*tx-tcp6-segmentation: *\([a-z]*\).*/tso6=\1/p' \
		-e 's/^generic-segmentation-offload: *\([a-z]*\).*/gso=\1/p' |
		tr '\n' ' '
}

# xg_wait_word WORD [TIMEOUT]: wait until dom0 types WORD on our console
# (xr_guest_tell). The console tty stays open (our stdout), so a line
# typed before we read is kept for us. A blocking read under `timeout`,
# not a loop of `read -t 5`: such a loop once never matched a "go1" the
# guest had echoed (busybox's read -t reads a byte at a time and gives up
# between two bytes once its deadline has passed, which would split the
# line; the match takes any line ending in WORD for that reason too).
xg_wait_word() {
	[ -c /dev/hvc0 ] || xg_fail "no /dev/hvc0 to read dom0's '$1' from"
	# shellcheck disable=SC2016
	timeout "${2:-600}" sh -c 'while read -r l; do
		case "$l" in *"$1"|*"$1"?) exit 0 ;; esac
	done; exit 1' sh "$1" </dev/hvc0 ||
		xg_fail "dom0 did not say '$1' within ${2:-600} s"
}

# xg_ping FAMILY ADDR: a few pings must be answered.
xg_ping() {
	if [ "$1" = 6 ]; then
		_out=$(ping -6 -c 3 -W 10 -I eth0 "$2" 2>&1)
	else
		_out=$(ping -4 -c 3 -W 10 "$2" 2>&1)
	fi
	_rc=$?
	echo "$_out"
	[ $_rc = 0 ] || xg_fail "ping -$1 $2 got no answer: $(echo "$_out" | tail -n 2 | tr '\n' ' ')"
	xg_say PING$1 "$(echo "$_out" | grep -o '[0-9]* packets received')"
}

# xg_ping_first FAMILY ADDR [TIMEOUT]: one ping a second until one is
# answered (the peer may not be up yet); reports "XNBG: FIRSTPING<FAMILY>
# <seconds> <tries>", the time from the call to the first answer.
xg_ping_first() {
	_t0=$(xg_now)
	_n=0
	_fam=$1
	_i=
	[ "$_fam" = 6 ] && _i="-I eth0"
	# shellcheck disable=SC2086
	until ping -"$_fam" -c 1 -W 1 $_i "$2" >/tmp/ping-first 2>&1; do
		_n=$((_n + 1))
		_e=$(xg_elapsed "$_t0")
		[ "${_e%.*}" -lt "${3:-120}" ] ||
			xg_fail "no answer from $2 to $_n pings in $_e s (IPv$_fam): $(tail -n 1 /tmp/ping-first)"
		# ping gives up at once when there is no route (eth0 not up yet).
		[ "${_e%.*}" -ge $_n ] || sleep 0.5
	done
	xg_say "FIRSTPING$_fam" "$(xg_elapsed "$_t0") $((_n + 1))"
}

# TCP with OpenBSD's nc: it takes a scoped IPv6 address (fe80::1%eth0),
# which busybox's nc refuses. -N: half-close after stdin's EOF; -d: do not
# read stdin; -w: give up after 30 s of silence.

# xg_send HOST PORT FILE: send FILE over TCP to dom0, which stores it.
# Returns nonzero (and says why in XG_ERR) on failure.
xg_send() {
	_t0=$(xg_now)
	XG_ERR=
	if ! timeout 300 nc.openbsd -N -w 30 "$1" "$2" <"$3" >/dev/null 2>/tmp/nc-err; then
		XG_ERR="sending $3 to $1 port $2 failed after $(xg_elapsed "$_t0") s: $(cat /tmp/nc-err)"
		echo "$XG_ERR"
		return 1
	fi
	xg_say SENT "$2 $(xg_elapsed "$_t0") s"
}

# xg_xfer KEY BYTES PORT: send BYTES of random data to dom0's PORT over
# TCP and say KEY "tx=<md5> err=<none, or what failed>" for dom0 to
# compare with what it got.
xg_xfer() {
	head -c "$2" /dev/urandom >/tmp/tx
	_err=
	xg_send "$XG_DOM0_IP4" "$3" /tmp/tx || _err=$XG_ERR
	xg_say "$1" "tx=$(xg_md5 /tmp/tx) err=$(echo "${_err:-none}" | tr ' ' '_')"
	rm -f /tmp/tx
}

# xg_recv HOST PORT FILE: receive FILE over TCP from dom0.
xg_recv() {
	_t0=$(xg_now)
	XG_ERR=
	if ! timeout 300 nc.openbsd -d -w 30 "$1" "$2" >"$3" 2>/tmp/nc-err; then
		XG_ERR="receiving from $1 port $2 failed after $(xg_elapsed "$_t0") s: $(cat /tmp/nc-err)"
		echo "$XG_ERR"
		return 1
	fi
	xg_say RECEIVED "$2 $(xg_elapsed "$_t0") s"
}

# Between two guests: each listens (xg_listen) and sends to the other
# (xg_send_peer), both at once.
# xg_listen PORT FILE [6]: accept one TCP connection in the background and
# store what it sends in FILE; xg_listen_wait waits for it (XG_ERR set and
# nonzero returned when it failed).
xg_listen() {
	XG_LISTEN_T0=$(xg_now)
	XG_LISTEN_PORT=$1
	timeout 300 nc.openbsd -l -d -"${3:-4}" "$1" >"$2" 2>/tmp/ncl-err &
	XG_LISTEN_PID=$!
}

xg_listen_wait() {
	XG_ERR=
	if ! wait "$XG_LISTEN_PID"; then
		XG_ERR="receiving on port $XG_LISTEN_PORT failed after $(xg_elapsed "$XG_LISTEN_T0") s: $(cat /tmp/ncl-err)"
		echo "$XG_ERR"
		return 1
	fi
	xg_say RECEIVED "$XG_LISTEN_PORT $(xg_elapsed "$XG_LISTEN_T0") s"
}

# xg_send_peer HOST PORT FILE: xg_send, retried for up to 60 s while the
# peer is not listening yet (connection refused).
xg_send_peer() {
	_t0=$(xg_now)
	XG_ERR=
	_n=0
	# -v: nc says nothing about a refused connection without it.
	until nc.openbsd -v -N -w 30 "$1" "$2" <"$3" >/dev/null 2>/tmp/nc-err; do
		_n=$((_n + 1))
		if [ $_n -ge 120 ] || ! grep -q -i refused /tmp/nc-err; then
			XG_ERR="sending $3 to $1 port $2 failed after $(xg_elapsed "$_t0") s ($_n tries): $(cat /tmp/nc-err)"
			echo "$XG_ERR"
			return 1
		fi
		sleep 0.5
	done
	xg_say SENT "$2 $(xg_elapsed "$_t0") s"
}

xg_elapsed() {
	awk -v a="$1" -v b="$(xg_now)" 'BEGIN { printf "%.2f", b - a }'
}

xg_md5() {
	md5sum "$1" | cut -d' ' -f1
}
