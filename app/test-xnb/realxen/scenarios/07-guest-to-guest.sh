# SPDX-License-Identifier: BSD-3-Clause
# 07-guest-to-guest: two Linux netfront guests talk to each other through
# two xnb ports of one dpdk-testpmd (io forwarding, the ports paired; no
# dom0 interface on the path). testpmd enables LRO, rx checksum offload
# and scatter on both ports, so a guest's TSO super-frame becomes one mbuf
# chain (RTE_MBUF_F_RX_LRO, checksum left blank) that the other port hands
# to its guest as one GSO super-frame: never segmented, never checksummed
# in between (doc/offloads.md). The guests (link-local 169.254.0.2/.3,
# fe80::2/::3) ping each other over IPv4 and IPv6, then send 4 MiB to each
# other at once over TCP, first over IPv4, then over IPv6, md5 compared.
# xnb's xstats of each phase: on both ports rx_q0_gso > 0 (super-frames
# from the guest), tx_q0_gso > 0 (super-frames to the guest), and
# rx_q0_gso_segments == tx_q0_tso_segments == 0 (nothing segmented).
# realxen: needs-pmd

# Both guests do not exist yet: the ports are started for the domids Xen
# gives the next two domains, and xr_create checks them.
domA=$(xr_next_domid)
domB=$((domA + 1))
beA=$(xr_vif_backend "$domA" 0)
beB=$(xr_vif_backend "$domB" 0)

# testpmd 22.11's own switches: --enable-rx-cksum asks for
# RTE_ETH_RX_OFFLOAD_CHECKSUM (IPv4 header, TCP and UDP checksums: xnb
# offers all three), --enable-lro for TCP_LRO, --enable-scatter for
# chains; tx MULTI_SEGS (0x8000). LRO needs --max-lro-pkt-size, else
# ethdev limits it to the MTU's frame.
XR_TESTPMD_ARGS="--forward-mode=io --port-topology=paired --enable-scatter --enable-lro --enable-rx-cksum --tx-offloads=0x8000 --max-lro-pkt-size=65535"
xr_testpmd_start "--vdev=net_xnb0,domid=$domA,handle=0,type=vif" \
	"--vdev=net_xnb1,domid=$domB,handle=0,type=vif"
for p in 0 1; do
	xr_testpmd_cmd "show port $p rx_offload configuration"
	cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-rx-offloads-$p.log"
	for o in TCP_LRO TCP_CKSUM IPV4_CKSUM SCATTER; do
		xr_testpmd_expect "Port :.* $o( |\$)" "port $p: rx offload $o is not enabled"
	done
	xr_info "testpmd_port${p}_rx_offloads" "$(grep -E '^ *Port' "$XR_STATE/testpmd.answer" | head -n 1 | sed 's/.*: *//' | tr -s ' ' | tr ' ' ',')"
done
xr_info xen_free_memory_mb_before "$("$XR_XEN_BIN/xl" info 2>/dev/null | sed -n 's/^free_memory *: *//p')"

XR_GUEST_MAC=00:16:3e:58:4e:0a
xr_guest_cfg xnbga "$(xr_vif_spec)" >/run/xr/xnbga.cfg
XR_GUEST_MAC=00:16:3e:58:4e:0b
xr_guest_cfg xnbgb "$(xr_vif_spec)" >/run/xr/xnbgb.cfg
xr_create xnbga /run/xr/xnbga.cfg "$domA"
xr_create xnbgb /run/xr/xnbgb.cfg "$domB"
xr_info xen_free_memory_mb_after "$("$XR_XEN_BIN/xl" info 2>/dev/null | sed -n 's/^free_memory *: *//p')"
t_created=$(xr_now)
both_connected() {
	[ "$(xr_xs_read "$beA/state")" = 4 ] && [ "$(xr_xs_read "$beB/state")" = 4 ]
}
xr_wait 180 "both backends ($beA, $beB) in state 4 (Connected)" both_connected
xr_info both_connected_after_create_s "$(xr_elapsed "$t_created" "$(xr_now)")"
for be in "$beA" "$beB"; do
	for k in feature-gso-tcpv4 feature-gso-tcpv6 feature-ipv6-csum-offload; do
		[ "$(xr_xs_read "$be/$k")" = 1 ] || xr_fail "$be does not offer $k (offloads=all)"
	done
done
xenstore-ls -fp "/local/domain/$domA/device/vif/0" >"$XR_LOGS/xenstore-frontend-a.log" 2>&1
xenstore-ls -fp "/local/domain/$domB/device/vif/0" >"$XR_LOGS/xenstore-frontend-b.log" 2>&1
for g in xnbga xnbgb; do
	d=$domA
	[ $g = xnbgb ] && d=$domB
	fk=
	for k in feature-sg feature-gso-tcpv4 feature-gso-tcpv6 feature-ipv6-csum-offload; do
		fk="$fk${fk:+,}${k#feature-}=$(xr_xs_read "/local/domain/$d/device/vif/0/$k")"
	done
	xr_info "frontend_keys_$g" "$fk"
	xr_guest_wait $g NET_UP 180
	xr_guest_wait $g OFFLOADS 60
	xr_info "offloads_$g" "$(echo "$XR_VAL" | tr ' ' ',')"
	for w in sg=on tx-csum-ip4=on tx-csum-ip6=on tso=on tso4=on tso6=on; do
		xr_require_word "$XR_VAL" $w "guest $g's netfront offloads (ethtool -k eth0)"
	done
done
for p in 0 1; do
	xr_wait 30 "port $p's link up in testpmd" xr_testpmd_link_is "$p" up
done

xr_guest_tell xnbga go0
xr_guest_tell xnbgb go0
for g in xnbga xnbgb; do
	xr_guest_wait $g PING4 90
	xr_info "ping4_$g" "$(echo "$XR_VAL" | tr ' ' '_')"
	xr_guest_wait $g PING6 90
	xr_info "ping6_$g" "$(echo "$XR_VAL" | tr ' ' '_')"
done

errors=
err() {
	errors="$errors${errors:+; }$*"
	xr_mark "ERROR: $*"
}
for ph in 1 2; do
	v=$((ph == 1 ? 4 : 6))
	for p in 0 1; do
		xr_testpmd_xstats $p "/run/xr/xstats-$p-before-$ph"
	done
	xr_guest_tell xnbga "go$ph"
	xr_guest_tell xnbgb "go$ph"
	xr_guest_wait xnbga "XFER$ph" 700
	resA=$XR_VAL
	xr_guest_wait xnbgb "XFER$ph" 700
	resB=$XR_VAL
	for p in 0 1; do
		xr_testpmd_xstats $p "/run/xr/xstats-$p-after-$ph"
		cp "/run/xr/xstats-$p-after-$ph.answer" "$XR_LOGS/testpmd-xstats-port$p-phase$ph.log"
	done
	txA=$(echo "$resA" | sed -n 's/^tx=\([0-9a-f]*\) .*/\1/p')
	rxA=$(echo "$resA" | sed -n 's/^tx=[0-9a-f]* rx=\([0-9a-f]*\) .*/\1/p')
	txB=$(echo "$resB" | sed -n 's/^tx=\([0-9a-f]*\) .*/\1/p')
	rxB=$(echo "$resB" | sed -n 's/^tx=[0-9a-f]* rx=\([0-9a-f]*\) .*/\1/p')
	ok=yes
	if [ -z "$txA" ] || [ "$txA" != "$rxB" ]; then
		ok=no
		err "IPv$v xnbga->xnbgb: xnbga sent md5 $txA, xnbgb got $rxB (xnbga: $resA; xnbgb: $resB)"
	fi
	if [ -z "$txB" ] || [ "$txB" != "$rxA" ]; then
		ok=no
		err "IPv$v xnbgb->xnbga: xnbgb sent md5 $txB, xnbga got $rxA (xnbga: $resA; xnbgb: $resB)"
	fi
	for p in 0 1; do
		facts=
		for c in rx_q0_packets rx_q0_gso rx_q0_gso_segments rx_q0_csum_blank \
				tx_q0_packets tx_q0_gso tx_q0_tso_segments tx_q0_csum_blank \
				rx_q0_errors tx_q0_errors; do
			xr_xstat_delta "/run/xr/xstats-$p-before-$ph" "/run/xr/xstats-$p-after-$ph" $c
			eval "d_$c=$XR_VAL"
			facts="$facts${facts:+,}${c%%_q0_*}_${c#*_q0_}=$XR_VAL"
		done
		xr_info "xnb_port${p}_xstats_ipv$v" "$facts"
		[ "$d_rx_q0_gso" -gt 0 ] ||
			err "IPv$v port $p: no GSO super-frame from its guest (rx_q0_gso +0)"
		[ "$d_tx_q0_gso" -gt 0 ] ||
			err "IPv$v port $p: no GSO super-frame to its guest (tx_q0_gso +0)"
		[ "$d_rx_q0_gso_segments" -eq 0 ] ||
			err "IPv$v port $p: xnb segmented $d_rx_q0_gso_segments frames on rx although LRO is on"
		[ "$d_tx_q0_tso_segments" -eq 0 ] ||
			err "IPv$v port $p: xnb segmented $d_tx_q0_tso_segments frames on tx (the guest takes GSO)"
		[ "$d_rx_q0_csum_blank" -gt 0 ] ||
			err "IPv$v port $p: no blank checksum from its guest (rx_q0_csum_blank +0)"
	done
	if [ $ok = yes ]; then
		xr_mark "IPv$v: 4 MiB each way between the guests, byte-exact"
	fi
done

xr_testpmd_cmd "show port stats all"
cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-stats.log"
xr_info testpmd_stats "$(grep -E 'RX-missed|TX-errors' "$XR_LOGS/testpmd-stats.log" | tr -s ' ' | tr '\n' ' ' | tr ' ' '_')"
for p in 0 1; do
	xr_testpmd_xstats $p "/run/xr/xstats-$p-end"
	for c in rx_q0_gso_segments tx_q0_tso_segments; do
		xr_xstat "/run/xr/xstats-$p-end" $c
		[ "$XR_VAL" -eq 0 ] || err "port $p: $c = $XR_VAL over the whole run"
	done
done
[ -z "$errors" ] || xr_fail "$errors"
xr_destroy xnbga
xr_destroy xnbgb
xr_testpmd_alive || xr_fail "dpdk-testpmd died when the guests were destroyed"
