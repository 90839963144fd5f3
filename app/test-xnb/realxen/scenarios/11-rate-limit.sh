# SPDX-License-Identifier: BSD-3-Clause
# 11-rate-limit: the toolstack's rate limit on what a guest sends. The
# guest's vif spec carries `rate=2Mb/s@20ms`; libxl must write the
# backend node `rate` = "BYTES,USEC" (5000,20000) and xnb (in testpmd,
# forwarding to a tap in dom0, as in 01) must say it applies it. Then
# 2 MiB transfers over TCP, each one started by dom0 (xr_guest_tell),
# md5 compared, timed by the guest, xnb's xstats read before and after:
#   1. dom0 -> guest under the limit: not limited (netback limits only
#      what the guest sends): faster than the limit would allow (in half
#      of size/limit);
#   2. guest -> dom0 under the limit: at least 0.8x size/limit, and
#      rx_q0_throttled grows;
#   3. dom0 rewrites the node to 4x the limit (xnb must say so): at least
#      0.8x size/new limit, and faster than the first limit allows (in
#      half of size/first limit);
#   4. dom0 removes the node (xnb must say the limit is lifted): the
#      unlimited rate, the reference: rx_q0_throttled must not grow and
#      the transfer must beat the first limit (half of size/limit); if it
#      runs clearly (1.5x) faster than phase 3's limit, phase 3 must have
#      been throttled;
#   5. dom0 writes the node again (a limit appearing on a connected vif):
#      limited again as in phase 2.
# A limited transfer can never beat its limit, whatever the host does, so
# every attempt must respect it; a host that stops the emulated machine
# for seconds (other jobs on the cores: both dom0 and the guest then see
# a stall) can slow an unlimited one, so phases 1, 3 and 4 try up to 3
# times to show they are faster than the limit of phase 2, and every
# attempt is reported. No frame errors (rx_q0_errors, tx_q0_errors) over
# the whole run. The achieved rates are reported beside the limits.
# realxen: needs-pmd

domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)
size=2097152
rate_mbit=2                # xl's rate=2Mb/s@20ms
rate_ms=20
fast=4                     # phase 3's limit: 4x
tries=3                    # attempts of a transfer that must be fast
# What libxl writes (libxlu_vif.c): bytes per second (Mb/s: 10^6 bits)
# times the interval.
rate_bytes=$((rate_mbit * 1000000 * rate_ms / 8000))
rate_usec=$((rate_ms * 1000))
fast_bytes=$((rate_bytes * fast))
head -c $size /dev/urandom >/run/xr/dom0-tx

xr_testpmd_start "--vdev=net_xnb0,domid=$domid,handle=0,type=vif" \
	--vdev=net_tap0,iface=xnbtap0
xr_tap_up xnbtap0

xr_guest_cfg xnbguest "$(xr_vif_spec "rate=${rate_mbit}Mb/s@${rate_ms}ms")" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
node=$(xr_xs_read "$be/rate")
xr_info rate_node_from_libxl "$node"
[ "$node" = "$rate_bytes,$rate_usec" ] ||
	xr_fail "libxl wrote $be/rate='$node' for rate=${rate_mbit}Mb/s@${rate_ms}ms, expected '$rate_bytes,$rate_usec'"
xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
xenstore-ls -fp "$be" >"$XR_LOGS/xenstore-backend-connected.log" 2>&1

# log_count PATTERN: how many lines of testpmd's log match.
log_count() {
	tr -d '\r' <"$XR_TP.log" | grep -c -E -e "$1"
}
log_count_above() {
	[ "$(log_count "$1")" -gt "$2" ]
}
said_limit() {
	echo "what the guest sends is limited to $1 bytes every $2 us"
}
said_lifted="what the guest sends is no longer limited"
xr_wait 30 "xnb saying '$(said_limit $rate_bytes $rate_usec)'" \
	xr_testpmd_log_has "$(said_limit $rate_bytes $rate_usec)"
xr_info xnb_said "$(tr -d '\r' <"$XR_TP.log" | grep -m 1 -o "what the guest sends is limited to .*" | tr ' ' '_')"

xr_guest_wait xnbguest NET_UP 120
xr_wait 10 "the xnb port's link up in testpmd after the guest connected" xr_testpmd_link_is 0 up
xr_guest_wait xnbguest PING4 90

errors=
err() {
	errors="$errors${errors:+; }$*"
	xr_mark "ERROR: $*"
}
# mbit SECONDS: the rate of $size bytes, Mbit/s (1 decimal).
mbit() {
	awk -v b=$size -v s="$1" 'BEGIN { if (s > 0) printf "%.1f", b * 8 / s / 1e6; else print "inf" }'
}
# at_least A B: A >= B (decimals).
at_least() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'
}
# limit_s BYTES USEC [FACTOR]: the seconds $size bytes take at BYTES
# every USEC, times FACTOR.
limit_s() {
	awk -v n=$size -v b="$1" -v u="$2" -v f="${3:-1}" 'BEGIN { printf "%.2f", f * n * u / b / 1e6 }'
}
# Stalls of the emulated machine, as dom0's kernel saw them.
stalls() {
	dmesg | grep -c -E 'soft lockup|rcu.*stall'
}

# xfer ID DIR: one 2 MiB transfer over IPv4, DIR "in" (dom0 -> guest) or
# "out" (guest -> dom0, what the limit applies to), on a port of its own:
# dom0 listens, tells the guest "xnbcmd ID recv|send PORT", waits for the
# guest's "XFER-ID md5=... s=SECONDS ...", checks the md5. Sets X_S (the
# guest's seconds), X_THR (rx_q0_throttled's growth), X_STALLS (dom0's
# kernel stalls during it) and reports xfer_ID.
xfer_port=5000
xfer() {
	xfer_port=$((xfer_port + 1))
	_p=$xfer_port
	_st0=$(stalls)
	if [ "$2" = in ]; then
		xr_listen_send $_p /run/xr/dom0-tx
		_cmd=recv
	else
		rm -f "/run/xr/dom0-rx-$1"
		xr_listen_recv $_p "/run/xr/dom0-rx-$1"
		_cmd=send
	fi
	_hex=$(printf '%04X' $_p)
	listening() { awk -v p=":$1" '$2 ~ p "$" && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp; }
	xr_wait 30 "dom0 listening on port $_p" listening "$_hex"
	xr_testpmd_xstats 0 "/run/xr/xstats-before-$1"
	xr_guest_tell xnbguest "xnbcmd $1 $_cmd $_p"
	xr_guest_wait xnbguest "XFER-$1" 300
	_res=$XR_VAL
	xr_testpmd_xstats 0 "/run/xr/xstats-after-$1"
	cp "/run/xr/xstats-after-$1.answer" "$XR_LOGS/testpmd-xstats-$1.log"
	_md5=$(echo "$_res" | sed -n 's/.*md5=\([0-9a-f]*\).*/\1/p')
	X_S=$(echo "$_res" | sed -n 's/.* s=\([0-9.]*\).*/\1/p')
	_err=$(echo "$_res" | sed -n 's/.* err=//p')
	[ "$_err" = none ] || err "transfer $1: the guest's nc failed: $_err"
	if [ "$2" = in ]; then
		_want=$(xr_md5 /run/xr/dom0-tx)
		[ "$_md5" = "$_want" ] ||
			err "transfer $1 dom0->guest: dom0 sent md5 $_want, the guest got $(echo "$_res" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p') B md5 $_md5"
	else
		socat_done() { ! pgrep -f "LISTEN:$1" >/dev/null; }
		xr_wait 60 "dom0's receiver of transfer $1 done" socat_done $_p
		_got=$(xr_md5 "/run/xr/dom0-rx-$1")
		[ "$_md5" = "$_got" ] ||
			err "transfer $1 guest->dom0: the guest sent $size B md5 $_md5, dom0 got $(stat -c %s "/run/xr/dom0-rx-$1") B md5 $_got"
	fi
	xr_xstat_delta "/run/xr/xstats-before-$1" "/run/xr/xstats-after-$1" rx_q0_throttled
	X_THR=$XR_VAL
	xr_xstat_delta "/run/xr/xstats-before-$1" "/run/xr/xstats-after-$1" rx_good_packets
	_rxp=$XR_VAL
	# What xnb took from the guest (frames, headers and retransmissions
	# included; the rate limit counts these bytes).
	xr_xstat_delta "/run/xr/xstats-before-$1" "/run/xr/xstats-after-$1" rx_good_bytes
	X_RXB=$XR_VAL
	X_WIRE=$(awk -v b="$X_RXB" -v s="$X_S" 'BEGIN { if (s > 0) printf "%.1f", b * 8 / s / 1e6; else print "inf" }')
	X_RETRANS=$(echo "$_res" | sed -n 's/.* retrans=\([0-9]*\).*/\1/p')
	X_STALLS=$(($(stalls) - _st0))
	xr_info "xfer_$1" "dir=$2,s=$X_S,mbit=$(mbit "$X_S"),rx_bytes=$X_RXB,rx_mbit=$X_WIRE,guest_retrans=$X_RETRANS,rx_throttled=$X_THR,rx_packets=$_rxp,dom0_stalls=$X_STALLS"
}

# The bars: a limited transfer takes at least 0.8x size/limit; one that
# must show no limit (or a higher one) takes less than half of
# size/first limit.
limited_min=$(limit_s $rate_bytes $rate_usec 0.8)
fast_min=$(limit_s $fast_bytes $rate_usec 0.8)
beats=$(limit_s $rate_bytes $rate_usec 0.5)
xr_info bars_s "limit=$(limit_s $rate_bytes $rate_usec),limited_min=$limited_min,x${fast}_limited_min=$fast_min,beats_limit_below=$beats"

# fast_xfer PHASE DIR WHAT: up to $tries transfers until one takes less
# than $beats s; every attempt's figures reported, X_S the fastest (the
# last one); X_ALL the attempts' seconds.
fast_xfer() {
	X_ALL=
	_i=1
	while :; do
		xfer "$1$(echo abc | cut -c$_i)" "$2"
		X_ALL="$X_ALL${X_ALL:+/}$X_S"
		# Every attempt at a limit must respect it.
		[ "$1" = 3 ] && ! at_least "$X_S" "$fast_min" &&
			err "phase 3 limited to $((rate_mbit * fast)) Mbit/s: attempt $_i took $X_S s ($(mbit "$X_S") Mbit/s), less than 0.8x size/limit ($fast_min s)"
		[ "$1" = 4 ] && [ "$X_THR" -ne 0 ] &&
			err "phase 4 (node removed): rx_q0_throttled grew by $X_THR in attempt $_i"
		at_least "$X_S" "$beats" || return 0
		if [ $_i -ge $tries ]; then
			err "phase $1 ($3): $tries attempts took $X_ALL s, none under $beats s (half of size/the $rate_mbit Mbit/s limit); dom0 stalls in the last: $X_STALLS"
			return 0
		fi
		xr_mark "phase $1 attempt $_i: $X_S s, not under $beats s; again (dom0 stalls: $X_STALLS)"
		_i=$((_i + 1))
	done
}

xr_testpmd_xstats 0 /run/xr/xstats-start

# 1. dom0 -> guest, the limit in force: not limited.
fast_xfer 1 in "dom0 -> guest under the limit"
s1=$X_S all1=$X_ALL

# 2. guest -> dom0 at the limit libxl wrote.
xfer 2 out
s2=$X_S w2=$X_WIRE
at_least "$s2" "$limited_min" ||
	err "phase 2 guest->dom0 limited to $rate_mbit Mbit/s took $s2 s ($(mbit "$s2") Mbit/s): less than 0.8x size/limit ($limited_min s)"
[ "$X_THR" -gt 0 ] || err "phase 2: rx_q0_throttled did not grow under the limit"

# 3. Live change to 4x.
t0=$(xr_now)
n0=$(log_count "$(said_limit $fast_bytes $rate_usec)")
xenstore-write "$be/rate" "$fast_bytes,$rate_usec" || xr_fail "cannot write $be/rate"
xr_wait 30 "xnb saying '$(said_limit $fast_bytes $rate_usec)' after dom0 rewrote $be/rate" \
	log_count_above "$(said_limit $fast_bytes $rate_usec)" "$n0"
xr_info rate_change_seen_s "$(xr_elapsed "$t0" "$(xr_now)")"
fast_xfer 3 out "guest -> dom0 at ${fast}x the limit"
s3=$X_S all3=$X_ALL thr3=$X_THR w3=$X_WIRE

# 4. Node removed: no limit.
t0=$(xr_now)
n0=$(log_count "$said_lifted")
xenstore-rm "$be/rate" || xr_fail "cannot remove $be/rate"
xr_wait 30 "xnb saying '$said_lifted' after dom0 removed $be/rate" \
	log_count_above "$said_lifted" "$n0"
xr_info rate_removal_seen_s "$(xr_elapsed "$t0" "$(xr_now)")"
fast_xfer 4 out "guest -> dom0 with the node removed"
s4=$X_S all4=$X_ALL w4=$X_WIRE
# Phase 3 must have been held at its limit if the guest goes clearly
# faster than it.
if at_least "$(limit_s $fast_bytes $rate_usec)" "$(awk -v s="$s4" 'BEGIN { print s * 1.5 }')"; then
	[ "$thr3" -gt 0 ] ||
		err "phase 3: the guest achieves $(mbit "$s4") Mbit/s unlimited, yet rx_q0_throttled did not grow under the $((rate_mbit * fast)) Mbit/s limit"
fi

# 5. The node written again on the connected vif.
t0=$(xr_now)
n0=$(log_count "$(said_limit $rate_bytes $rate_usec)")
xenstore-write "$be/rate" "$rate_bytes,$rate_usec" || xr_fail "cannot write $be/rate"
xr_wait 30 "xnb saying '$(said_limit $rate_bytes $rate_usec)' after dom0 wrote $be/rate again" \
	log_count_above "$(said_limit $rate_bytes $rate_usec)" "$n0"
xr_info rate_readd_seen_s "$(xr_elapsed "$t0" "$(xr_now)")"
xfer 5 out
s5=$X_S w5=$X_WIRE
at_least "$s5" "$limited_min" ||
	err "phase 5 guest->dom0 limited again to $rate_mbit Mbit/s took $s5 s ($(mbit "$s5") Mbit/s): less than 0.8x size/limit ($limited_min s)"
[ "$X_THR" -gt 0 ] || err "phase 5: rx_q0_throttled did not grow under the limit written again"

xr_guest_tell xnbguest "xnbcmd 0 end 0"
xr_testpmd_xstats 0 /run/xr/xstats-end
facts=
for c in rx_q0_errors tx_q0_errors rx_q0_nombuf rx_q0_throttled rx_good_packets tx_good_packets; do
	xr_xstat_delta /run/xr/xstats-start /run/xr/xstats-end $c
	facts="$facts${facts:+,}$c=$XR_VAL"
	case $c in
	*_errors) [ "$XR_VAL" -eq 0 ] || err "$c grew by $XR_VAL over the transfers" ;;
	esac
done
xr_info xnb_xstats_all "$facts"
# Mbit/s of the payload (and of xnb's frames, their headers included).
xr_info rates_mbit "limit_$rate_mbit:$(mbit "$s2")($w2),limit_$((rate_mbit * fast)):$(mbit "$s3")($w3),removed:$(mbit "$s4")($w4),again_$rate_mbit:$(mbit "$s5")($w5),dom0_to_guest:$(mbit "$s1")"
xr_info times_s "limited=$s2,x${fast}=$all3,removed=$all4,again=$s5,dom0_to_guest=$all1"
xr_info dom0_kernel_stalls "$(stalls)"
[ -z "$errors" ] || xr_fail "$errors"
xr_destroy xnbguest
xr_testpmd_alive || xr_fail "dpdk-testpmd died when the guest was destroyed"
