#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: two Linux network stacks talking through xnb. Two
# xnb ports in one dpdk-testpmd (io forwarding, paired, rx scatter, the
# offloads the ports report); two tap-mode guests (domids 3 and 4), each
# bridging its vif to a TAP device in a network namespace of its own that
# this test creates, with link-local addresses only (169.254.0.0/16,
# fe80::/64). Then, every transfer verified byte for byte:
#
#   - ping over IPv4 and IPv6, and IPv4 pings larger than the MTU;
#   - with the TAPs' offloads on: iperf3 TCP over IPv4 and IPv6, a TCP
#     stream over each checked by SHA-256, UDP datagrams of 4000 bytes
#     (larger than the MTU: IP fragments) over each, every one checked;
#   - the same with checksum and segmentation offloads off (ethtool -K);
#   - the kernels' checksum error counters (/proc/net/snmp, snmp6) do not
#     move, and the guests find no bad checksum;
#   - with offloads on, the kernel's blank checksums went to the backend
#     as NETTXF_csum_blank, over IPv4 and (feature-ipv6-csum-offload)
#     IPv6, and its TSO frames as GSO frames (feature-gso-tcpv4/-tcpv6);
#     a feature the backend does not offer fails its case, saying so;
#   - SIGINT: each guest disconnects and removes its vif.
#
# Everything is bounded in time; namespaces and processes go on exit.
#
# Usage: test-tap.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_TAP_SECS   seconds per iperf3 run (default 3)
set -eu

src=${1:?usage: test-tap.sh SRCDIR BUILDDIR}
build=${2:?usage: test-tap.sh SRCDIR BUILDDIR}
secs=${XNB_TAP_SECS:-3}

name=test-tap
. "$src/app/test-xnb/integration/lib.sh"

for c in dpdk-testpmd ip iperf3 ethtool python3 ping tcpdump; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "test-tap: FAIL: $c is not installed (devtools/xnb-setup installs it)"
		exit 1
	fi
done
env_init
xfer="python3 $src/app/test-xnb/integration/xfer.py"
nsa=xnbtap$$a
nsb=xnbtap$$b
tapa=xt3
tapb=xt4
ga_pid=
gb_pid=
bg_pids=

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	for _p in $bg_pids; do
		kill -KILL "$_p" 2>/dev/null || :
	done
	stop_pid "$ga_pid"
	stop_pid "$gb_pid"
	tp_kill "$work/testpmd"
	ip netns del "$nsa" 2>/dev/null || :
	ip netns del "$nsb" 2>/dev/null || :
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	[ $rc -eq 0 ] || show_logs "$work"/*.log "$work"/*.err "$work"/*.out
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ina() { ip netns exec "$nsa" "$@"; }
inb() { ip netns exec "$nsb" "$@"; }

run_paired_testpmd xnbtap

ip netns add "$nsa"
ip netns add "$nsb"
"$guest" --sim-dir "$sim" --domid 3 --mode tap --tap "$tapa" --netns "$nsa" \
	>"$work/guest3.out" 2>"$work/guest3.err" &
ga_pid=$!
"$guest" --sim-dir "$sim" --domid 4 --mode tap --tap "$tapb" --netns "$nsb" \
	>"$work/guest4.out" 2>"$work/guest4.err" &
gb_pid=$!
for d in 3 4; do
	wait_for "$work/guest$d.err" "tap xt$d ready" 150 || {
		echo "test-tap: FAIL: guest $d did not connect and open its TAP"
		exit 1
	}
	grep 'ready\|connected' "$work/guest$d.err" | sed "s/^/test-tap: guest $d: /"
done
be=$(XENSTORED_PATH=$sim/socket xenstore-ls /local/domain/0/backend/vif/3/0 2>/dev/null |
	grep -E 'feature-(gso|ipv6)' | tr -d ' "' | tr '\n' ' ' || :)
echo "test-tap: backend offers: $be"
be_offers() {
	printf '%s' "$be" | grep -q "$1=1"
}

# Link-local addresses only; no DAD delay.
for x in "$nsa $tapa 3" "$nsb $tapb 4"; do
	set -- $x
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 "net.ipv6.conf.$2.accept_dad=0"
	ip -n "$1" link set lo up
	ip -n "$1" addr add "169.254.$3.1/16" dev "$2"
	ip -n "$1" addr add "fe80::$3/64" dev "$2" nodad
	ip -n "$1" link set "$2" up
done
v4b=169.254.4.1
v6b=fe80::4%$tapa
v4a=169.254.3.1
v6a=fe80::3%$tapb

# csum_errors NS: every *CsumErrors counter of the namespace's stack
csum_errors() {
	# (/proc/net/snmp and netstat: a line of names, then one of values)
	ip netns exec "$1" cat /proc/net/snmp /proc/net/netstat /proc/net/snmp6 | awk '
		/^[A-Za-z]+: / {
			if (!($1 in hdr)) { hdr[$1] = $0; next }
			n = split(hdr[$1], h)
			for (i = 2; i <= n; i++) if (h[i] ~ /Csum/) print $1 h[i] "=" $i
			next
		}
		$1 ~ /Csum/ { print $1 "=" $2 }'
}
err_a0=$(csum_errors "$nsa")
err_b0=$(csum_errors "$nsb")
[ -n "$err_a0" ] || { echo "test-tap: FAIL: no checksum error counters found"; exit 1; }

# counters D: guest D's counters now (SIGUSR1), as guest_field reads them
counters() {
	if [ "$1" = 3 ]; then _p=$ga_pid; else _p=$gb_pid; fi
	_n=$(grep -c 'xnb-guest: sent=' "$work/guest$1.out" 2>/dev/null || :)
	kill -USR1 "$_p"
	_i=0
	while [ "$(grep -c 'xnb-guest: sent=' "$work/guest$1.out" 2>/dev/null || :)" = "$_n" ]; do
		[ $_i -lt 50 ] || break
		sleep 0.1
		_i=$((_i + 1))
	done
}
field() {
	guest_field "$work/guest$1.out" "$2"
}

# --- ping ---
ok=no
for i in 1 2 3 4 5 6 7 8 9 10; do
	if ina ping -c 1 -W 1 "$v4b" >/dev/null 2>&1; then
		ok=yes
		break
	fi
done
check "first IPv4 ping answered" "$ok" yes
pingloss() {
	# pingloss NS ARGS...: packet loss percentage of a ping run
	_ns=$1
	shift
	ip netns exec "$_ns" timeout 30 ping "$@" 2>&1 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p'
}
check "ping IPv4 a -> b" "$(pingloss "$nsa" -c 10 -i 0.05 -W 2 "$v4b")" 0
check "ping IPv4 b -> a" "$(pingloss "$nsb" -c 10 -i 0.05 -W 2 "$v4a")" 0
check "ping IPv4, 4000 bytes (fragments)" "$(pingloss "$nsa" -c 10 -i 0.05 -W 2 -s 4000 "$v4b")" 0
check "ping IPv6 a -> b" "$(pingloss "$nsa" -6 -c 10 -i 0.05 -W 2 "$v6b")" 0
check "ping IPv6 b -> a, 3000 bytes (fragments)" \
	"$(pingloss "$nsb" -6 -c 10 -i 0.05 -W 2 -s 3000 "$v6a")" 0

# --- transfers ---
# Not through inb: $! must be iperf3 itself (ip netns exec becomes it),
# not a subshell whose kill would leave the server running.
ip netns exec "$nsb" iperf3 -s -p 5201 >"$work/iperf3-server.log" 2>&1 &
bg_pids="$bg_pids $!"
sleep 0.5

# iperf_tcp LABEL HOST [ARGS]: TCP for $secs s; data moved, the receiver
# read nearly all the sender wrote (iperf3 stops its clocks with some in
# flight: the SHA-256 streams below check that every byte arrives)
iperf_tcp() {
	_rc=0
	ina timeout $((secs + 30)) iperf3 -c "$2" -p 5201 -t "$secs" -J ${3:-} \
		>"$work/iperf3.json" 2>&1 || _rc=$?
	check "$1: iperf3 exit status" "$_rc" 0
	_r=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
e = d["end"]
print(e["sum_sent"]["bytes"], e["sum_received"]["bytes"], e["sum_sent"].get("retransmits", 0),
      "%.0f" % (e["sum_received"]["bits_per_second"] / 1e6))' "$work/iperf3.json" 2>/dev/null ||
		echo "0 -1 0 0")
	set -- "$1" $_r
	echo "test-tap: $1: iperf3 sent $2 bytes, received $3, $4 retransmits, $5 Mbit/s"
	check "$1: iperf3 moved data" "$([ "$2" -gt 0 ] && echo yes || echo no)" yes
	check "$1: iperf3 received at least 90% of what was sent" \
		"$([ $(($3 * 10)) -ge $(($2 * 9)) ] && echo yes || echo no)" yes
}

# xfer_tcp LABEL HOST: 16 MiB b <- a, SHA-256 compared
xfer_tcp() {
	inb $xfer tcp-recv 5300 60 >"$work/xfer-recv.out" 2>&1 &
	_rp=$!
	bg_pids="$bg_pids $_rp"
	wait_for "$work/xfer-recv.out" listening 50 || :
	_rc=0
	ina timeout 90 $xfer tcp-send "$2" 5300 16777216 60 >"$work/xfer-send.out" 2>&1 || _rc=$?
	wait "$_rp" || :
	check "$1: stream sender exit status" "$_rc" 0
	check "$1: stream bytes" "$(last_value "$work/xfer-recv.out" xfer: bytes)" 16777216
	check "$1: stream content (SHA-256)" "$(last_value "$work/xfer-recv.out" xfer: sha256)" \
		"$(last_value "$work/xfer-send.out" xfer: sha256)"
}

# xfer_udp LABEL HOST: 400 datagrams of 4000 bytes, every one checked
xfer_udp() {
	inb $xfer udp-recv 5301 400 4000 30 >"$work/xfer-recv.out" 2>&1 &
	_rp=$!
	bg_pids="$bg_pids $_rp"
	wait_for "$work/xfer-recv.out" listening 50 || :
	_rc=0
	ina timeout 60 $xfer udp-send "$2" 5301 400 4000 >"$work/xfer-send.out" 2>&1 || _rc=$?
	wait "$_rp" || :
	check "$1: UDP sender exit status" "$_rc" 0
	check "$1: UDP datagrams received whole" \
		"$(last_value "$work/xfer-recv.out" xfer: received)" 400
	check "$1: UDP datagrams bad" "$(last_value "$work/xfer-recv.out" xfer: bad)" 0
}

transfers() {
	iperf_tcp "$1 IPv4" "$v4b"
	iperf_tcp "$1 IPv6" "$v6b"
	iperf_tcp "$1 IPv4 b -> a" "$v4b" -R
	xfer_tcp "$1 IPv4" "$v4b"
	xfer_tcp "$1 IPv6" "$v6b"
	xfer_udp "$1 IPv4" "$v4b"
	xfer_udp "$1 IPv6" "$v6b"
}

# tap_features: namespace a's TAP offloads as ethtool shows them
tap_features() {
	ina ethtool -k "$tapa" | tr -d '\t' | tr '\n' ' ' | grep -oE \
		'(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload): [a-z]+'|
		tr '\n' ' '
}

# Offloads on (the TAPs' defaults: what the guests offered the kernel).
echo "test-tap: offloads on: $(tap_features)"
transfers "offloads on"
counters 3
counters 4
on_blank=$(field 3 tx_csum_blank)
on_gso=$(field 3 tx_gso)
on_sw=$(field 3 tx_sw_csum)
on_seg=$(field 3 tx_segmented)
echo "test-tap: guest 3 after offloads on: tx_csum_blank=$on_blank tx_gso=$on_gso" \
	"tx_sw_csum=$on_sw tx_segmented=$on_seg rx_gso=$(field 4 rx_gso)" \
	"rx_csum_blank=$(field 4 rx_csum_blank) rx_data_validated=$(field 4 rx_data_validated)"
check "offloads on: the kernel's blank checksums sent as NETTXF_csum_blank" \
	"$([ "$on_blank" -gt 0 ] && echo yes || echo no)" yes
if be_offers feature-ipv6-csum-offload; then
	check "offloads on: no IPv6 checksum completed in the guest" "$on_sw" 0
else
	echo "test-tap: FAIL: offloads on: IPv6 blank checksums: the backend does not offer" \
		"feature-ipv6-csum-offload; the guest completed $on_sw checksums itself"
	fail=1
fi
if be_offers feature-gso-tcpv4 && be_offers feature-gso-tcpv6; then
	check "offloads on: the kernel's TSO frames sent as GSO frames" \
		"$([ "$on_gso" -gt 0 ] && echo yes || echo no)" yes
else
	echo "test-tap: FAIL: offloads on: TSO: the backend does not offer" \
		"feature-gso-tcpv4/-tcpv6; the kernel segmented everything itself (tx_gso=$on_gso)"
	fail=1
fi

# Offloads off, both sides: the kernels checksum and segment themselves.
for x in "$nsa $tapa" "$nsb $tapb"; do
	set -- $x
	ip netns exec "$1" ethtool -K "$2" tx off sg off tso off gso off >/dev/null 2>&1 || :
done
echo "test-tap: offloads off: $(tap_features)"
# A capture where b's kernel receives: with the offloads off every frame
# carries its full checksum, and tcpdump checks each one (-vv).
ip netns exec "$nsb" timeout 300 tcpdump -i "$tapb" -nn -vv -c 20000 'tcp or udp' \
	>"$work/tcpdump.txt" 2>"$work/tcpdump.err" &
td_pid=$!
bg_pids="$bg_pids $td_pid"
sleep 1
transfers "offloads off"
kill -INT "$td_pid" 2>/dev/null || :
wait "$td_pid" 2>/dev/null || :
td_seen=$(grep -cE ' (UDP|Flags \[)' "$work/tcpdump.txt" || :)
td_bad=$(grep -cE 'incorrect|bad .*cksum' "$work/tcpdump.txt" || :)
echo "test-tap: offloads off: tcpdump in namespace b checked $td_seen TCP/UDP frames," \
	"$td_bad with a bad checksum"
check "offloads off: the capture saw frames" "$([ "$td_seen" -gt 100 ] && echo yes || echo no)" yes
check "offloads off: no bad checksum in the capture" "$td_bad" 0
counters 3
check "offloads off: no blank checksum sent" "$(field 3 tx_csum_blank)" "$on_blank"
check "offloads off: no GSO frame sent" "$(field 3 tx_gso)" "$on_gso"

# Nothing arrived with a bad checksum, anywhere.
check "namespace a: checksum error counters unchanged" "$(csum_errors "$nsa" | tr '\n' ' ')" \
	"$(printf '%s\n' "$err_a0" | tr '\n' ' ')"
check "namespace b: checksum error counters unchanged" "$(csum_errors "$nsb" | tr '\n' ' ')" \
	"$(printf '%s\n' "$err_b0" | tr '\n' ' ')"

for _p in $bg_pids; do
	kill "$_p" 2>/dev/null || :
done
bg_pids=

# SIGINT: each guest disconnects, closes its TAP and removes its vif.
for d in 3 4; do
	if [ $d = 3 ]; then p=$ga_pid; else p=$gb_pid; fi
	kill -INT "$p"
	rc=0
	wait "$p" || rc=$?
	if [ $d = 3 ]; then ga_pid=; else gb_pid=; fi
	check "guest $d exit status (SIGINT)" "$rc" 0
	check "guest $d bad checksums" "$(field $d csum_bad)" 0
	check "guest $d frames dropped at the TAP" "$(field $d tap_dropped)" 0
	grep 'tap:' "$work/guest$d.err" | head -n 5 | sed "s/^/test-tap: guest $d: /"
	check "guest $d teardown timeouts" "$(grep -c 'did not' "$work/guest$d.err" || :)" 0
	echo "test-tap: guest $d: $(grep 'xnb-guest: sent=' "$work/guest$d.out" | tail -n 1)"
done
check "TAPs gone" "$(ip -n "$nsa" -o link show "$tapa" 2>/dev/null
	ip -n "$nsb" -o link show "$tapb" 2>/dev/null)" ""
left=$(XENSTORED_PATH=$sim/socket xenstore-ls /local/domain/0/backend/vif 2>/dev/null || :)
check "vifs removed from xenstore" "$left" ""

tp_stop "$work/testpmd" || :
check "testpmd exit status" "$TP_RC" 0
if [ $fail -ne 0 ]; then
	echo "test-tap: FAILED"
	exit 1
fi
echo "test-tap: PASSED"
