# SPDX-License-Identifier: BSD-3-Clause
# 01-connect-traffic: xnb in dpdk-testpmd (forwarding to a tap in dom0)
# serves a Linux netfront guest: the vif connects within libxl's 10 s, the
# guest pings dom0 over IPv4 and IPv6 and moves 4 MiB each way over TCP,
# byte-exact, in three phases: 1 over IPv4 and 2 over IPv6 with netfront's
# default offloads (blank checksums, multi-slot frames, TSO super-frames:
# `ethtool -k` must show them on), 3 over IPv6 with the offloads off (full
# checksums, one slot per frame; see the guest part for why IPv6). dom0
# starts each phase (xr_guest_tell) and reads xnb's xstats before and
# after it: in phases 1 and 2 the guest's super-frames (rx_q0_gso) and
# blank checksums (rx_q0_csum_blank) must have reached xnb, in phase 3 no
# super-frame. testpmd enables no LRO, so xnb segments them for the tap.
# All phases always run; every failure is reported. Netfront must take
# the split event channels xnb offers.
# realxen: needs-pmd

# The guest does not exist yet: xnb is started for the domid Xen gives the
# next domain, and xr_create checks the guest got it.
domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)
size=4194304
for ph in 1 2 3; do
	head -c $size /dev/urandom >"/run/xr/dom0-tx-$ph"
done

xr_testpmd_start "--vdev=net_xnb0,domid=$domid,handle=0,type=vif" \
	--vdev=net_tap0,iface=xnbtap0
xr_tap_up xnbtap0
# Both directions of both phases listen before the guest exists.
xr_listen_recv 5001 /run/xr/dom0-rx-1
xr_listen_send 5002 /run/xr/dom0-tx-1
xr_listen_recv 5003 /run/xr/dom0-rx-2 6
xr_listen_send 5004 /run/xr/dom0-tx-2 6
xr_listen_recv 5005 /run/xr/dom0-rx-3 6
xr_listen_send 5006 /run/xr/dom0-tx-3 6

xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
t_created=$(xr_now)
xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
xr_info backend_connected_after_create_s "$(xr_elapsed "$t_created" "$(xr_now)")"
xr_mark "vif connected: backend $be state 4, frontend state $(xr_xs_read \
	"/local/domain/$domid/device/vif/0/state")"
# xnb offers split event channels; Linux's netfront takes them.
fe_evtx=$(xr_xs_read "/local/domain/$domid/device/vif/0/event-channel-tx")
fe_evrx=$(xr_xs_read "/local/domain/$domid/device/vif/0/event-channel-rx")
[ -n "$fe_evtx" ] && [ -n "$fe_evrx" ] ||
	xr_fail "netfront did not take split event channels (event-channel-tx '$fe_evtx', -rx '$fe_evrx')"
xr_info split_event_channels "tx=$fe_evtx,rx=$fe_evrx"
xenstore-ls -fp "$be" >"$XR_LOGS/xenstore-backend-connected.log" 2>&1
xenstore-ls -fp "/local/domain/$domid/device/vif/0" \
	>"$XR_LOGS/xenstore-frontend-connected.log" 2>&1

xr_guest_wait xnbguest NET_UP 120
t_up=$(xr_now)
xr_wait 10 "the xnb port's link up in testpmd after the guest connected" xr_testpmd_link_is 0 up
xr_info link_up_after_net_up_s "$(xr_elapsed "$t_up" "$(xr_now)")"
xr_guest_wait xnbguest PING4 90
xr_info ping4 "$(echo "$XR_VAL" | tr ' ' '_')"
xr_guest_wait xnbguest PING6 90
xr_info ping6 "$(echo "$XR_VAL" | tr ' ' '_')"

# What the backend offered decides what netfront may use by default; xnb
# offers all of it (offloads=all).
be_sg=$(xr_xs_read "$be/feature-sg")
for k in feature-gso-tcpv4 feature-gso-tcpv6 feature-ipv6-csum-offload; do
	[ "$(xr_xs_read "$be/$k")" = 1 ] || xr_fail "the backend does not offer $k (offloads=all)"
done
errors=
err() {
	errors="$errors${errors:+; }$*"
	xr_mark "ERROR: $*"
}
for ph in 1 2 3; do
	v=$((ph == 1 ? 4 : 6))
	xr_testpmd_xstats 0 "/run/xr/xstats-before-$ph"
	xr_guest_tell xnbguest "go$ph"
	xr_guest_wait xnbguest "OFFLOADS$ph" 240
	off=$XR_VAL
	xr_info "offloads_phase$ph" "$(echo "$off" | tr ' ' ',')"
	case $ph in
	1)
		xr_require_word "$off" tx-csum-ip4=on "phase 1 (netfront defaults): IPv4 checksum offload"
		[ "$be_sg" = 1 ] && xr_require_word "$off" sg=on "phase 1: the backend offers feature-sg"
		xr_require_word "$off" tso=on "phase 1: tcp-segmentation-offload (the backend offers feature-gso-tcpv4)"
		xr_require_word "$off" tso4=on "phase 1: tx-tcp-segmentation (feature-gso-tcpv4)"
		;;
	2)
		xr_require_word "$off" tx-csum-ip6=on "phase 2: IPv6 checksum offload (the backend offers feature-ipv6-csum-offload)"
		xr_require_word "$off" tso6=on "phase 2: tx-tcp6-segmentation (feature-gso-tcpv6)"
		;;
	3)
		for w in tx-csum-ip6=off sg=off tso=off gso=off; do
			xr_require_word "$off" $w "phase 3 (offloads off)"
		done
		;;
	esac
	xr_guest_wait xnbguest "XFER$ph" 700
	res=$XR_VAL
	g_tx=$(echo "$res" | sed -n 's/^tx=\([0-9a-f]*\) .*/\1/p')
	g_rx=$(echo "$res" | sed -n 's/^tx=[0-9a-f]* rx=\([0-9a-f]*\) .*/\1/p')
	g_err=$(echo "$res" | sed -n 's/.* err=//p')
	port=$((5001 + 2 * (ph - 1)))
	d_rx=$(xr_md5 "/run/xr/dom0-rx-$ph" 2>/dev/null)
	d_rx_bytes=$(stat -c %s "/run/xr/dom0-rx-$ph" 2>/dev/null || echo 0)
	d_tx=$(xr_md5 "/run/xr/dom0-tx-$ph")
	ok=yes
	if [ "$g_tx" != "$d_rx" ]; then
		ok=no
		err "phase $ph guest->dom0 (port $port): guest sent $size B md5 $g_tx, dom0 got $d_rx_bytes B md5 ${d_rx:-none}"
	fi
	if [ "$g_rx" != "$d_tx" ]; then
		ok=no
		err "phase $ph dom0->guest (port $((port + 1))): dom0 sent md5 $d_tx, guest got md5 $g_rx"
	fi
	# xnb's counters of this phase alone (the guest waits for the next go).
	xr_testpmd_xstats 0 "/run/xr/xstats-after-$ph"
	cp "/run/xr/xstats-after-$ph.answer" "$XR_LOGS/testpmd-xstats-phase$ph.log"
	facts=
	for c in rx_q0_gso rx_q0_gso_segments rx_q0_csum_blank tx_q0_gso tx_q0_csum_blank \
			rx_q0_errors tx_q0_errors; do
		xr_xstat_delta "/run/xr/xstats-before-$ph" "/run/xr/xstats-after-$ph" $c
		eval "d_$c=$XR_VAL"
		facts="$facts${facts:+,}${c%%_q0_*}_${c#*_q0_}=$XR_VAL"
	done
	xr_info "xnb_xstats_phase$ph" "$facts"
	if [ $ph -lt 3 ]; then
		[ "$d_rx_q0_gso" -gt 0 ] ||
			err "phase $ph (IPv$v, TSO on): no GSO super-frame reached xnb (rx_q0_gso +0)"
		[ "$d_rx_q0_csum_blank" -gt 0 ] ||
			err "phase $ph (IPv$v, checksum offload on): no blank checksum reached xnb (rx_q0_csum_blank +0)"
	else
		[ "$d_rx_q0_gso" -eq 0 ] ||
			err "phase 3 (offloads off): $d_rx_q0_gso GSO super-frames reached xnb"
	fi
	if [ $ok = yes ]; then
		xr_mark "phase $ph: 4 MiB each way byte-exact over IPv$v (offloads: $off; xnb: $facts)"
	else
		xr_mark "phase $ph FAILED (offloads: $off); guest said: ${g_err:-nothing}"
		[ "$g_err" != none ] && errors="$errors (guest: $g_err)"
		grep -E '^(Tcp|Udp):' /proc/net/snmp >"$XR_LOGS/snmp-after-phase$ph.log"
		xr_info "dom0_tcp_snmp_phase$ph" "$(awk '/^Tcp:/ { if (h == "") h = $0; else v = $0 } END { n = split(h, a); split(v, b); for (i = 2; i <= n; i++) if (a[i] ~ /InErrs|InCsumErrors|RetransSegs/) printf "%s=%s,", a[i], b[i] }' /proc/net/snmp)"
	fi
done

xr_testpmd_cmd "show port stats all"
cp "$XR_STATE/testpmd.answer" "$XR_LOGS/testpmd-stats.log"
xr_info xnb_port0_stats "$(sed -n '/statistics for port 0/,/Tx-pps/p' "$XR_LOGS/testpmd-stats.log" |
	grep -E 'packets' | tr -s ' ' | tr '\n' ' ' | tr ' ' '_')"
[ -z "$errors" ] || xr_fail "$errors"
xr_destroy xnbguest
xr_testpmd_alive || xr_fail "dpdk-testpmd died when the guest was destroyed"
