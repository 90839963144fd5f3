# SPDX-License-Identifier: BSD-3-Clause
# 14-rx-stall: a guest that stops reading (Linux's netback: rx stall and
# drain). xnb in testpmd (forwarding to a tap in dom0, as in 01) with
# drain_timeout=1000 and stall_timeout=3000 (ms):
#   - the guest pings dom0, then takes its eth0 down: netfront stops
#     taking frames and posting receive buffers, its vif stays Connected;
#   - dom0 sends UDP to it through the tap (a permanent neighbour entry,
#     so that dom0 keeps sending): once the guest's buffers are used up,
#     xnb must say the guest-rx queue stalled, the port's link must go
#     down, the backend's carrier node (netif.h's link state) must read
#     0, and the xstats must count the stall and the dropped frames;
#   - dom0 stops sending, the guest brings eth0 up: xnb must say the
#     queue recovered, the link must come back up, the carrier node read
#     1, and the guest's ping to dom0 must be answered; the vif stayed
#     Connected throughout.
# realxen: needs-pmd

domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)

xr_testpmd_start "--vdev=net_xnb0,domid=$domid,handle=0,type=vif,drain_timeout=1000,stall_timeout=3000" \
	--vdev=net_tap0,iface=xnbtap0
xr_tap_up xnbtap0
xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
xr_guest_wait xnbguest PING4 180
xr_info ping4 "$(echo "$XR_VAL" | tr ' ' '_')"
mac=$(xr_xs_read "$be/mac")
[ -n "$mac" ] || xr_fail "no $be/mac"
ip neigh replace "$XR_GUEST_IP4" lladdr "$mac" dev xnbtap0 nud permanent ||
	xr_fail "cannot pin the guest's neighbour entry"

xr_guest_tell xnbguest down
xr_guest_wait xnbguest DOWN 60
xr_info guest_eth0 "$(echo "$XR_VAL" | tr ' ' '_')"
t_down=$(xr_now)
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        s.sendto(b"x" * 64, (sys.argv[1], 9))
    except OSError:
        time.sleep(0.001)
' "$XR_GUEST_IP4" 120 >"$XR_LOGS/udp-flood.log" 2>&1 &
flood=$!
stalled() { xr_testpmd_log_has "guest-rx queue 0 stalled"; }
xr_wait 60 "xnb to say the guest-rx queue stalled" stalled
xr_info stall_said_s "$(xr_elapsed "$t_down" "$(xr_now)")"
xr_testpmd_link 0
xr_info link_stalled "$XR_LINK"
[ "$XR_LINK" = down ] || xr_fail "the port's link is '$XR_LINK' while the queue is stalled"
xr_info carrier_stalled "$(xr_xs_read "$be/carrier")"
xr_xs_is "$be/carrier" 0 || xr_fail "$be/carrier is '$(xr_xs_read "$be/carrier")' while the queue is stalled, not 0"
xr_testpmd_xstats 0 /run/xr/xstats-stalled
xr_xstat /run/xr/xstats-stalled tx_q0_stalls
xr_info tx_q0_stalls "$XR_VAL"
[ "$XR_VAL" = 1 ] || xr_fail "tx_q0_stalls is $XR_VAL, expected 1"
sleep 2
xr_testpmd_xstats 0 /run/xr/xstats-stalled2
xr_xstat_delta /run/xr/xstats-stalled /run/xr/xstats-stalled2 tx_q0_drain_drops
xr_info drain_drops_in_2s "$XR_VAL"
[ "$XR_VAL" -gt 0 ] || xr_fail "a stalled queue dropped no frame in 2 s of dom0 sending"
kill "$flood" 2>/dev/null
xr_xs_is "$be/state" 4 || xr_fail "the vif left Connected while stalled: state $(xr_xs_read "$be/state")"

t_up=$(xr_now)
xr_guest_tell xnbguest up
xr_guest_wait xnbguest PING4 120
xr_info ping4_after "$(echo "$XR_VAL" | tr ' ' '_')"
recovered() { xr_testpmd_log_has "guest-rx queue 0: the guest posts receive buffers again"; }
xr_wait 30 "xnb to say the queue recovered" recovered
xr_info recovered_s "$(xr_elapsed "$t_up" "$(xr_now)")"
xr_testpmd_link 0
xr_info link_after "$XR_LINK"
[ "$XR_LINK" = up ] || xr_fail "the port's link is '$XR_LINK' after the guest read again"
carrier_up() { xr_xs_is "$be/carrier" 1; }
xr_wait 10 "$be/carrier back to 1" carrier_up
xr_info carrier_after "$(xr_xs_read "$be/carrier")"
xr_xs_is "$be/state" 4 || xr_fail "the vif left Connected: state $(xr_xs_read "$be/state")"
xr_testpmd_stop
