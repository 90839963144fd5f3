# SPDX-License-Identifier: BSD-3-Clause
# 06-multiqueue: xnb offers 2 queues (queues=2) and testpmd runs 2 queue
# pairs on both ports; a Linux netfront guest with 2 vCPUs takes both
# (multi-queue-num-queues=2, keys under queue-0/ and queue-1/). The guest
# pings dom0 and moves 4 MiB each way over TCP, byte-exact; the counters
# of each xnb queue are logged.
# realxen: needs-pmd

domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)
fe=/local/domain/$domid/device/vif/0
size=4194304
head -c $size /dev/urandom >/run/xr/dom0-tx

XR_TESTPMD_ARGS="--rxq=2 --txq=2"
xr_testpmd_start "--vdev=net_xnb0,domid=$domid,handle=0,type=vif,queues=2" \
	--vdev=net_tap0,iface=xnbtap0
xr_tap_up xnbtap0
xr_listen_recv 5001 /run/xr/dom0-rx
xr_listen_send 5002 /run/xr/dom0-tx

XR_GUEST_VCPUS=2
xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
xr_wait 120 "the backend $be in state 4 (Connected)" xr_xs_is "$be/state" 4
offered=$(xr_xs_read "$be/multi-queue-max-queues")
used=$(xr_xs_read "$fe/multi-queue-num-queues")
xr_info queues_offered "$offered"
xr_info queues_used "$used"
[ "$offered" = 2 ] || xr_fail "the backend offered '$offered' queues, not 2"
[ "$used" = 2 ] || xr_fail "netfront uses '$used' queues, not 2 (2 vCPUs, 2 offered)"
for q in 0 1; do
	[ -n "$(xr_xs_read "$fe/queue-$q/tx-ring-ref")" ] ||
		xr_fail "no $fe/queue-$q/tx-ring-ref"
	# xnb offers split event channels; Linux's netfront takes them.
	[ -n "$(xr_xs_read "$fe/queue-$q/event-channel-rx")" ] ||
		xr_fail "queue $q: no $fe/queue-$q/event-channel-rx (split event channels)"
done
xr_info split_event_channels "tx=$(xr_xs_read "$fe/queue-0/event-channel-tx"),rx=$(xr_xs_read \
	"$fe/queue-0/event-channel-rx")"
xr_mark "vif connected with $used queues"
xenstore-ls -fp "$fe" >"$XR_LOGS/xenstore-frontend-connected.log" 2>&1

xr_guest_wait xnbguest QUEUES 120
xr_info guest_queues "$(echo "$XR_VAL" | tr ' ' ',')"
xr_require_word "$XR_VAL" rx-1 "the guest's eth0 has a second rx queue"
xr_guest_wait xnbguest PING4 90
xr_guest_wait xnbguest PING6 90
xr_guest_wait xnbguest XFER 700
res=$XR_VAL
g_tx=$(echo "$res" | sed -n 's/^tx=\([0-9a-f]*\) .*/\1/p')
g_rx=$(echo "$res" | sed -n 's/^tx=[0-9a-f]* rx=\([0-9a-f]*\) .*/\1/p')
d_rx=$(xr_md5 /run/xr/dom0-rx 2>/dev/null)
d_tx=$(xr_md5 /run/xr/dom0-tx)
[ "$g_tx" = "$d_rx" ] || xr_fail "guest->dom0: guest sent md5 $g_tx, dom0 got ${d_rx:-none} ($res)"
[ "$g_rx" = "$d_tx" ] || xr_fail "dom0->guest: dom0 sent md5 $d_tx, guest got $g_rx ($res)"
xr_mark "4 MiB each way byte-exact over $used queues"

xr_testpmd_xstats 0 /run/xr/xstats-end
cp /run/xr/xstats-end "$XR_LOGS/testpmd-xstats.log"
xr_info xnb_queue_counters "$(grep -E '^(rx|tx)_q[01]_(packets|copy_calls) ' \
	"$XR_LOGS/testpmd-xstats.log" | tr ' ' '=' | tr '\n' ',')"
xr_destroy xnbguest
xr_testpmd_alive || xr_fail "dpdk-testpmd died when the guest was destroyed"
