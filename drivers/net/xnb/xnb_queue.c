/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * One Xen queue: its two rings and its event channel, connected to the
 * frontend and disconnected again (as Linux's interface.c), and the
 * allow/busy handshake (as vhost's allow_queuing/while_queuing) that
 * lets the control path stop the bursts before it unmaps anything, its
 * barrier on the control path's side (membarrier(2)) so that a burst
 * needs none.
 *
 * A connect that fails returns -errno and logs its detail at DEBUG only:
 * the caller (xnb_xenbus.c) logs the failure once, with its context.
 */

#include <errno.h>
#include <linux/membarrier.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_debug.h>
#include <rte_pause.h>

#include "xnb_logs.h"
#include "xnb_private.h"

bool xnb_dp_asymmetric;

static int
queue_membarrier(int cmd)
{
	/* glibc 2.36 has no wrapper. */
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

/*
 * The quiesce handshake's barrier on the control path's side
 * (xnb_dp_enter()): registered once per process, as membarrier(2)
 * requires for its private expedited command (Linux 4.14). Where the
 * kernel (or a seccomp filter) refuses it, the datapath fences itself.
 */
RTE_INIT(xnb_queue_membarrier_init)
{
	int cmds = queue_membarrier(MEMBARRIER_CMD_QUERY);

	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) ||
			queue_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0)
		return;
	xnb_dp_asymmetric = true;
}

/* Every thread's accesses ordered: the bursts' busy stores seen, or allow == 0 seen by them. */
static void
queue_fence_bursts(void)
{
	/* Registered, so it cannot fail (membarrier(2)); going on unordered could unmap under a burst. */
	if (xnb_dp_asymmetric && queue_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
		rte_panic("xnb: membarrier(2) failed after its registration: %s\n",
			strerror(errno));
}

void
xnb_queue_init(struct xnb_queue *q, const struct xnb_xen_ops *ops,
		struct xnb_xen *xen, uint16_t domid, uint16_t id)
{
	memset(q, 0, sizeof(*q));
	q->ops = ops;
	q->xen = xen;
	q->domid = domid;
	q->id = id;
	q->evtchn_port = -1;
	q->evtchn_rx_port = -1;
	q->intr_fd = -1;
	q->intr_evfd = -1;
	q->rx.q = q;
	q->tx.q = q;
	rte_spinlock_init(&q->tx.lock);
	/* Until an MTU is set (xnb_ethdev.c): any frame the protocol allows. */
	q->rx.max_frame = XNB_MAX_FRAME;
	q->tx.max_frame = XNB_MAX_FRAME;
}

/*
 * Attach a back ring to the frontend's current state: the backend takes
 * over where responses stopped (rsp_prod). A frontend that claims more
 * unanswered requests than the ring holds is refused.
 */
static int
queue_check_ring(struct xnb_queue *q, const char *name, RING_IDX req_prod,
		RING_IDX rsp_prod, unsigned int size)
{
	if (req_prod - rsp_prod > size) {
		XNB_LOG(DEBUG, "dom %u queue %u: %s ring: req_prod %u is %u requests ahead of rsp_prod %u, more than the ring's %u; the frontend is broken or hostile, refusing to connect",
			q->domid, q->id, name, req_prod, req_prod - rsp_prod, rsp_prod, size);
		return -EPROTO;
	}
	return 0;
}

static int
queue_attach_rings(struct xnb_queue *q)
{
	netif_tx_sring_t *txs = q->guest_tx_page;
	netif_rx_sring_t *rxs = q->guest_rx_page;
	RING_IDX req_prod, rsp_prod;
	int ret;

	rsp_prod = __atomic_load_n(&txs->rsp_prod, __ATOMIC_ACQUIRE);
	req_prod = __atomic_load_n(&txs->req_prod, __ATOMIC_ACQUIRE);
	BACK_RING_ATTACH(&q->guest_tx, txs, rsp_prod, XNB_PAGE_SIZE);
	ret = queue_check_ring(q, "guest-tx", req_prod, rsp_prod,
		RING_SIZE(&q->guest_tx));
	if (ret != 0)
		return ret;

	rsp_prod = __atomic_load_n(&rxs->rsp_prod, __ATOMIC_ACQUIRE);
	req_prod = __atomic_load_n(&rxs->req_prod, __ATOMIC_ACQUIRE);
	BACK_RING_ATTACH(&q->guest_rx, rxs, rsp_prod, XNB_PAGE_SIZE);
	ret = queue_check_ring(q, "guest-rx", req_prod, rsp_prod,
		RING_SIZE(&q->guest_rx));
	if (ret != 0)
		return ret;

	/* Nothing copied yet: the copy-once cache starts at req_cons. */
	q->rx.req_copied = q->guest_tx.req_cons;
	return 0;
}

/* -errno of a failed op, -EIO if it left errno unset. */
static int
queue_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

static void
queue_unmap_rings(struct xnb_queue *q)
{
	int ret;

	if (q->guest_tx_page != NULL) {
		ret = q->ops->unmap(q->xen, q->guest_tx_page, 1);
		if (ret != 0)
			XNB_LOG(WARNING, "dom %u queue %u: unmapping the guest-tx ring failed: %s",
				q->domid, q->id, strerror(-ret));
		q->guest_tx_page = NULL;
	}
	if (q->guest_rx_page != NULL) {
		ret = q->ops->unmap(q->xen, q->guest_rx_page, 1);
		if (ret != 0)
			XNB_LOG(WARNING, "dom %u queue %u: unmapping the guest-rx ring failed: %s",
				q->domid, q->id, strerror(-ret));
		q->guest_rx_page = NULL;
	}
	memset(&q->guest_tx, 0, sizeof(q->guest_tx));
	memset(&q->guest_rx, 0, sizeof(q->guest_rx));
}

static void
queue_close_evtchn(struct xnb_queue *q)
{
	if (q->evtchn == NULL)
		return;
	if (q->evtchn_rx_port >= 0 && q->evtchn_rx_port != q->evtchn_port &&
			q->ops->evtchn_unbind(q->evtchn, (uint32_t)q->evtchn_rx_port) != 0)
		XNB_LOG(WARNING, "dom %u queue %u: unbinding event channel port %d failed",
			q->domid, q->id, q->evtchn_rx_port);
	if (q->evtchn_port >= 0 &&
			q->ops->evtchn_unbind(q->evtchn, (uint32_t)q->evtchn_port) != 0)
		XNB_LOG(WARNING, "dom %u queue %u: unbinding event channel port %d failed",
			q->domid, q->id, q->evtchn_port);
	q->ops->evtchn_close(q->evtchn);
	q->evtchn = NULL;
	q->evtchn_port = -1;
	q->evtchn_rx_port = -1;
}

int
xnb_queue_connect(struct xnb_queue *q, const struct xnb_queue_conf *c)
{
	int ret;

	if (q->connected) {
		XNB_LOG(DEBUG, "dom %u queue %u: already connected; disconnect it first",
			q->domid, q->id);
		return -EBUSY;
	}

	q->guest_tx_page = q->ops->map_refs(q->xen, 1, &c->tx_ring_ref, true);
	if (q->guest_tx_page == NULL) {
		ret = queue_errno();
		XNB_LOG(DEBUG, "dom %u queue %u: cannot map the guest-tx ring (tx-ring-ref %u): %s; check that the frontend granted it writable to the backend",
			q->domid, q->id, c->tx_ring_ref, strerror(-ret));
		goto fail;
	}
	q->guest_rx_page = q->ops->map_refs(q->xen, 1, &c->rx_ring_ref, true);
	if (q->guest_rx_page == NULL) {
		ret = queue_errno();
		XNB_LOG(DEBUG, "dom %u queue %u: cannot map the guest-rx ring (rx-ring-ref %u): %s; check that the frontend granted it writable to the backend",
			q->domid, q->id, c->rx_ring_ref, strerror(-ret));
		goto fail;
	}
	ret = queue_attach_rings(q);
	if (ret != 0)
		goto fail;

	q->evtchn = q->ops->evtchn_open(q->xen);
	if (q->evtchn == NULL) {
		ret = queue_errno();
		XNB_LOG(DEBUG, "dom %u queue %u: cannot open an event channel handle: %s",
			q->domid, q->id, strerror(-ret));
		goto fail;
	}
	ret = q->ops->evtchn_bind(q->evtchn, c->evtchn);
	if (ret < 0) {
		XNB_LOG(DEBUG, "dom %u queue %u: cannot bind to the frontend's event channel %u: %s; check the frontend's event-channel key",
			q->domid, q->id, c->evtchn, strerror(-ret));
		goto fail;
	}
	q->evtchn_port = ret;
	q->evtchn_rx_port = ret;
	if (c->split) {
		ret = q->ops->evtchn_bind(q->evtchn, c->evtchn_rx);
		if (ret < 0) {
			XNB_LOG(DEBUG, "dom %u queue %u: cannot bind to the frontend's event channel %u: %s; check the frontend's event-channel-rx key",
				q->domid, q->id, c->evtchn_rx, strerror(-ret));
			goto fail;
		}
		q->evtchn_rx_port = ret;
	}

	q->feat = c->feat;
	q->tx.headroom = c->feat.xdp_headroom;
	xnb_tx_stall_reset(&q->tx);
	__atomic_store_n(&q->fatal, XNB_FATAL_NONE, __ATOMIC_RELAXED);
	q->connected = true;
	/* Last: the bursts may run from here on. */
	xnb_queue_resume(q);
	/* Then wake an application asleep on the queue (rx interrupts). */
	xnb_intr_attach(q);
	return 0;

fail:
	queue_close_evtchn(q);
	queue_unmap_rings(q);
	return ret;
}

void
xnb_queue_resume(struct xnb_queue *q)
{
	if (!q->connected)
		return;
	__atomic_store_n(&q->rx.allow, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&q->tx.allow, 1, __ATOMIC_SEQ_CST);
}

void
xnb_queue_quiesce(struct xnb_queue *q)
{
	__atomic_store_n(&q->rx.allow, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&q->tx.allow, 0, __ATOMIC_SEQ_CST);
	queue_fence_bursts();
	while (__atomic_load_n(&q->rx.busy, __ATOMIC_SEQ_CST) != 0)
		rte_pause();
	while (__atomic_load_n(&q->tx.busy, __ATOMIC_SEQ_CST) != 0)
		rte_pause();
}

void
xnb_queue_disconnect(struct xnb_queue *q)
{
	xnb_queue_quiesce(q);
	xnb_rx_release(&q->rx);
	xnb_intr_detach(q);
	queue_close_evtchn(q);
	queue_unmap_rings(q);
	q->connected = false;
}

void
xnb_queue_fatal(struct xnb_queue *q, enum xnb_fatal why, int err)
{
	uint32_t none = XNB_FATAL_NONE;

	if (!__atomic_compare_exchange_n(&q->fatal, &none, (uint32_t)why, false,
			__ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&q->rx.allow, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&q->tx.allow, 0, __ATOMIC_SEQ_CST);
	/* Once per connection: worth a line even from the datapath. */
	if (err != 0)
		XNB_LOG(ERR, "dom %u queue %u: %s (%s); the queue is stopped until the frontend reconnects",
			q->domid, q->id, xnb_fatal_str(why), strerror(-err));
	else
		XNB_LOG(ERR, "dom %u queue %u: %s; the queue is stopped until the frontend reconnects",
			q->domid, q->id, xnb_fatal_str(why));
	/* No teardown here (XSA-90): the control path disconnects later. */
	if (q->on_fatal != NULL)
		q->on_fatal(q, q->on_fatal_arg);
}

const char *
xnb_fatal_str(enum xnb_fatal why)
{
	switch (why) {
	case XNB_FATAL_NONE:
		return "no error";
	case XNB_FATAL_TX_RING_OVERFLOW:
		return "guest-tx ring overflow: req_prod - req_cons exceeds the ring size";
	case XNB_FATAL_RX_RING_OVERFLOW:
		return "guest-rx ring overflow: req_prod - req_cons exceeds the ring size";
	case XNB_FATAL_TOO_MANY_SLOTS:
		return "guest-tx packet with too many slots ("
			RTE_STR(XNB_FATAL_TX_SLOTS) " or more)";
	case XNB_FATAL_COPY:
		return "the grant copy call failed";
	case XNB_FATAL_TX_EXTRAS:
		return "guest-tx packet with more extra-info slots than extra types";
	}
	return "unknown fatal error";
}
