# SPDX-License-Identifier: BSD-3-Clause
# 15-rx-ptypes: what an application that takes blank checksums as such
# gets from xnb for Linux netfront's frames. testpmd enables rx TCP and
# UDP checksum offload but not IPv4's, which is what turns xnb's TCP/IPv4
# fast path and its guess on (doc/architecture.md, the common case). It
# forwards with its csum engine, which completes every checksum in
# software as such an application must (and writes the Ethernet
# addresses, so each port's peer is set), to a tap in dom0, and prints
# every frame it receives (set verbose 1). The guest sends 256 KiB over
# TCP, TSO and GSO off (one segment per frame, checksums blank): over IPv4
# with scatter-gather off (each frame in one slot: the fast path), over
# IPv4 with it on (two slots: the general path), over IPv6 (rx_blank_other).
# xnb's copy segments show the frames' shape (one per frame with
# scatter-gather off). Each transfer is byte-exact; for every frame from
# the guest that testpmd's own parse (rte_net_get_ptype()) finds to be
# TCP, xnb's packet type is the same and the mbuf has
# RTE_MBUF_F_RX_L4_CKSUM_NONE; each phase has at least 100 such
# full-size frames; rte_mbuf_check() finds no mbuf invalid and testpmd
# counts no bad L4 checksum on the xnb port.
# realxen: needs-pmd

domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)
XR_TESTPMD_ARGS="--forward-mode=csum --rx-offloads=0xc"
xr_testpmd_start "--vdev=net_xnb0,domid=$domid,handle=0,type=vif" \
	--vdev=net_tap0,iface=xnbtap0
xr_tap_up xnbtap0
# The csum engine writes each frame's Ethernet addresses: the source the
# port it leaves by, the destination that port's peer. The peers are the
# guest's netfront and dom0's tap interface, so that both ends take what
# reaches them (ARP's addresses are in its payload, untouched).
xr_testpmd_cmd stop
xr_testpmd_cmd "set eth-peer 0 $XR_GUEST_MAC"
xr_testpmd_cmd "set eth-peer 1 $(cat /sys/class/net/xnbtap0/address)"
xr_testpmd_cmd start
xr_testpmd_expect "peer=$(tr a-f A-F </sys/class/net/xnbtap0/address)" "testpmd did not take the tap's address as port 1's peer"
xr_testpmd_cmd "show port 0 rx_offload configuration"
cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-rx-offloads.log"
for o in TCP_CKSUM UDP_CKSUM; do
	xr_testpmd_expect "Port :.* $o( |\$)" "port 0: rx offload $o is not enabled"
done
grep -E '^ *Port *:' "$XR_STATE/testpmd.answer" | grep -q IPV4_CKSUM &&
	xr_fail "port 0 has rx IPV4_CKSUM on, which turns xnb's fast path off"
xr_listen_recv 5001 /run/xr/dom0-rx-1 4
xr_listen_recv 5002 /run/xr/dom0-rx-2 4
xr_listen_recv 5003 /run/xr/dom0-rx-3 6

xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
xr_guest_wait xnbguest NET_UP 120
xr_wait 30 "port 0's link up in testpmd" xr_testpmd_link_is 0 up
xr_guest_wait xnbguest PING4 90
xr_info ping4 "$(echo "$XR_VAL" | tr ' ' '_')"
xr_guest_wait xnbguest PING6 90
xr_info ping6 "$(echo "$XR_VAL" | tr ' ' '_')"

errors=
err() {
	errors="$errors${errors:+; }$*"
	xr_mark "ERROR: $*"
}
# ptypes FIRST: testpmd's rx dumps of port 0 from log line FIRST on, one
# line of counts: TCP/IPv4 and TCP/IPv6 frames of 1000 B or more, TCP
# frames without RX_L4_CKSUM_NONE, frames whose xnb packet type differs
# from testpmd's parse, invalid mbufs; then the first odd frame, if any.
ptypes() {
	tr -d '\r' <"$XR_TP.log" | sed -n "$1,\$p" | awk '
	/^port [0-9]+\/queue [0-9]+: received/ { split($2, a, "/"); port = a[1]; next }
	/^  src=/ { pkt = (port == "0") ? $0 : ""; next }
	/^  ol_flags:/ {
		if (pkt == "")
			next
		hw = ""; sw = ""; len = 0
		if (match(pkt, / - hw ptype: [A-Z0-9_ ]*/))
			hw = substr(pkt, RSTART + 13, RLENGTH - 13)
		if (match(pkt, / - sw ptype: [A-Z0-9_ ]*/))
			sw = substr(pkt, RSTART + 13, RLENGTH - 13)
		if (match(pkt, /length=[0-9]+/))
			len = substr(pkt, RSTART + 7, RLENGTH - 7) + 0
		sub(/ +$/, "", hw); sub(/ +$/, "", sw)
		odd = ""
		if (hw != "" && hw != sw)
			odd = "packet type " hw ", testpmd parses " sw
		if (sw ~ /L4_TCP/) {
			if (hw != sw)
				odd = "TCP: packet type \"" hw "\", testpmd parses " sw
			if ($0 !~ /RTE_MBUF_F_RX_L4_CKSUM_NONE/) {
				noblank++
				odd = "TCP without RX_L4_CKSUM_NONE:" $0
			}
			if (len >= 1000 && sw ~ /L3_IPV4/) tcp4++
			if (len >= 1000 && sw ~ /L3_IPV6/) tcp6++
		}
		if (odd != "") {
			bad++
			if (first == "") first = odd " (" pkt ")"
		}
		pkt = ""
		next
	}
	/^INVALID mbuf/ { invalid++; if (first == "") first = $0 }
	END { printf "%d %d %d %d %d %s\n", tcp4, tcp6, noblank, bad, invalid, first }'
}

xr_testpmd_cmd "set verbose 1"
for ph in 1 2 3; do
	v=$((ph == 3 ? 6 : 4))
	first=$(($(tr -d '\r' <"$XR_TP.log" | wc -l) + 1))
	xr_testpmd_xstats 0 "/run/xr/xstats-before-$ph"
	xr_guest_tell xnbguest "go$ph"
	xr_guest_wait xnbguest "OFFLOADS$ph" 240
	off=$XR_VAL
	xr_info "offloads_phase$ph" "$(echo "$off" | tr ' ' ',')"
	for w in tso=off gso=off; do
		xr_require_word "$off" $w "phase $ph"
	done
	if [ $ph = 2 ]; then
		xr_require_word "$off" sg=on "phase 2"
	else
		xr_require_word "$off" sg=off "phase $ph"
	fi
	xr_guest_wait xnbguest "XFER$ph" 700
	res=$XR_VAL
	g_tx=$(echo "$res" | sed -n 's/^tx=\([0-9a-f]*\) .*/\1/p')
	d_rx=$(xr_md5 "/run/xr/dom0-rx-$ph" 2>/dev/null)
	[ -n "$g_tx" ] && [ "$g_tx" = "$d_rx" ] ||
		err "phase $ph (IPv$v): the guest sent md5 $g_tx, dom0 got $(stat -c %s "/run/xr/dom0-rx-$ph" 2>/dev/null || echo 0) B md5 ${d_rx:-none} ($res)"
	xr_testpmd_xstats 0 "/run/xr/xstats-after-$ph"
	for c in csum_blank packets copy_segs; do
		xr_xstat_delta "/run/xr/xstats-before-$ph" "/run/xr/xstats-after-$ph" "rx_q0_$c"
		eval "$c=\$XR_VAL"
	done
	blank=$csum_blank pkts=$packets segs=$copy_segs
	xr_info "xnb_frames_phase$ph" "packets=$pkts,copy_segments=$segs"
	read -r tcp4 tcp6 noblank bad invalid odd <<-EOF
	$(ptypes "$first")
	EOF
	xr_info "ptypes_phase$ph" "tcp4_full=$tcp4,tcp6_full=$tcp6,tcp_not_blank=$noblank,odd=$bad,invalid=$invalid,xnb_csum_blank=$blank"
	if [ $ph = 3 ]; then full=$tcp6; else full=$tcp4; fi
	[ "$full" -ge 100 ] ||
		err "phase $ph: testpmd printed $full full-size TCP/IPv$v frames from the guest, expected >= 100"
	# The slots' shape, from xnb's copy segments: one per frame is the
	# fast path's (one slot, one mbuf); the payload in a slot of its own
	# is the general path's.
	if [ $ph = 2 ]; then
		[ "$segs" -ge $((pkts + full)) ] ||
			err "phase 2 (scatter-gather on): $pkts frames in $segs copy segments, expected the full-size ones in two or more"
	else
		[ $((segs - pkts)) -le $((pkts / 10)) ] ||
			err "phase $ph (scatter-gather off): $pkts frames in $segs copy segments, expected nearly all in one"
	fi
	[ "$blank" -ge "$full" ] ||
		err "phase $ph: xnb counted $blank blank checksums for $full full-size TCP frames"
	[ "$bad" -eq 0 ] && [ "$invalid" -eq 0 ] ||
		err "phase $ph: $bad frames with the wrong packet type or flags, $invalid invalid mbufs; the first: $odd"
	[ -z "$errors" ] && xr_mark "phase $ph (IPv$v): 256 KiB byte-exact, $full full-size TCP frames typed as testpmd parses them, RX_L4_CKSUM_NONE"
done
xr_testpmd_cmd "set verbose 0"
xr_testpmd_cmd "show fwd stats all"
cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-fwd-stats.log"
l4bad=$(tr -d '\r' <"$XR_LOGS/testpmd-fwd-stats.log" |
	sed -n '/Forward statistics for port 0/,/Forward statistics for port 1/p' |
	sed -n 's/.*Bad-l4csum: *\([0-9]*\).*/\1/p' | head -n 1)
xr_info testpmd_port0_bad_l4csum "${l4bad:-none}"
[ "$l4bad" = 0 ] || err "testpmd's csum engine counted ${l4bad:-no} bad L4 checksums on port 0"
[ -z "$errors" ] || xr_fail "$errors"
xr_destroy xnbguest
xr_testpmd_alive || xr_fail "dpdk-testpmd died when the guest was destroyed"
