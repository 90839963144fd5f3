/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * DPDK rx: the guest-tx ring into mbuf chains.
 *
 * Names: "rx" is the DPDK side. The ring read here is the one the guest
 * transmits on, the guest-tx ring (netif_tx_*, Linux netback.c's side):
 * its requests are the guest's packets, one or more slots each, and each
 * slot is answered with a netif_tx_response.
 *
 * A burst:
 *  - req_prod is checked against req_cons (more than the ring holds is
 *    fatal, XSA-39);
 *  - every newly posted slot is copied once into rxq->reqs and only the
 *    copy is read from then on (XSA-155); a packet whose last slot is not
 *    posted yet stays copied and waits for a later burst;
 *  - each packet is walked and checked (xnb_rx_walk()); a bad packet is
 *    answered NETIF_RSP_ERROR on all of its slots, a packet beyond the
 *    fatal slot count stops the queue;
 *  - a good packet gets an mbuf chain and one grant-copy segment per
 *    slot piece per mbuf; the first mbuf holds as much of the frame as
 *    its data room takes, so the headers are never split (XSA-423);
 *  - one copy call for the burst (xnb_copy.c), then the responses in
 *    slot order, pushed once, with a notification only when the
 *    frontend asked for one (rsp_event).
 * This backend busy-polls: it never sets req_event.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "xnb_logs.h"
#include "xnb_offload.h"
#include "xnb_private.h"
#include "xnb_rxtx.h"

#define TX_RING_MASK (XNB_TX_RING_SIZE - 1)
/* mbufs taken from the pool per bulk allocation while building a chain. */
#define RX_ALLOC_CHUNK 32

enum xnb_verdict
xnb_rx_extras_verdict(const netif_extra_info_t *extras, unsigned int count,
		struct xnb_rx_extras *out)
{
	const netif_extra_info_t *e;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < count; i++) {
		e = &extras[i];
		if (e->type == XEN_NETIF_EXTRA_TYPE_NONE || e->type >= XEN_NETIF_EXTRA_TYPE_MAX)
			return XNB_VERDICT_ERROR;
		if ((out->types & (1u << e->type)) != 0)
			return XNB_VERDICT_ERROR;
		out->types |= 1u << e->type;
		if (e->type == XEN_NETIF_EXTRA_TYPE_GSO) {
			if (e->u.gso.size == 0)
				return XNB_VERDICT_ERROR;
			if (e->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
					e->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6)
				return XNB_VERDICT_ERROR;
			out->gso_size = e->u.gso.size;
			out->gso_type = e->u.gso.type;
		}
	}
	return XNB_VERDICT_OK;
}

enum xnb_verdict
xnb_rx_count_verdict(unsigned int nb_data)
{
	if (nb_data >= XNB_FATAL_TX_SLOTS)
		return XNB_VERDICT_FATAL;
	if (nb_data > XNB_MAX_TX_SLOTS)
		return XNB_VERDICT_ERROR;
	return XNB_VERDICT_OK;
}

enum xnb_verdict
xnb_rx_slots_verdict(const netif_tx_request_t *const *data, unsigned int nb_data,
		uint16_t *first_len)
{
	enum xnb_verdict v;
	uint32_t total, rest = 0;
	unsigned int i;

	*first_len = 0;
	if (nb_data == 0)
		return XNB_VERDICT_ERROR;
	v = xnb_rx_count_verdict(nb_data);
	if (v != XNB_VERDICT_OK)
		return v;
	total = data[0]->size;
	if (total < RTE_ETHER_HDR_LEN)
		return XNB_VERDICT_ERROR;
	for (i = 1; i < nb_data; i++) {
		if ((uint32_t)data[i]->offset + data[i]->size > XNB_PAGE_SIZE)
			return XNB_VERDICT_ERROR;
		rest += data[i]->size;
		if (rest > total)
			return XNB_VERDICT_ERROR;
	}
	if ((uint32_t)data[0]->offset + (total - rest) > XNB_PAGE_SIZE)
		return XNB_VERDICT_ERROR;
	*first_len = (uint16_t)(total - rest);
	return XNB_VERDICT_OK;
}

enum xnb_verdict
xnb_rx_walk(const netif_tx_request_t *reqs, uint32_t mask, RING_IDX start,
		uint32_t avail, struct xnb_rx_walk *w)
{
	const netif_tx_request_t *req;
	enum xnb_verdict v, ve;
	uint32_t i = 1;
	bool more;

	/* An extra-info slot is read from a copied request slot. */
	RTE_BUILD_BUG_ON(sizeof(netif_extra_info_t) > sizeof(netif_tx_request_t));
	w->nb_reqs = 0;
	w->nb_extras = 0;
	w->nb_data = 0;
	w->first_len = 0;
	w->why = XNB_FATAL_NONE;
	memset(&w->ext, 0, sizeof(w->ext));
	if (avail == 0)
		return XNB_VERDICT_PARTIAL;

	req = &reqs[start & mask];
	w->data[w->nb_data++] = req;

	/* The extra-info slots follow the first, chained by their own flag. */
	if ((req->flags & NETTXF_extra_info) != 0) {
		do {
			if (w->nb_extras == XNB_MAX_TX_EXTRAS) {
				w->why = XNB_FATAL_TX_EXTRAS;
				return XNB_VERDICT_FATAL;
			}
			if (i >= avail)
				return XNB_VERDICT_PARTIAL;
			memcpy(&w->extras[w->nb_extras], &reqs[(start + i) & mask],
				sizeof(w->extras[0]));
			more = (w->extras[w->nb_extras].flags & XEN_NETIF_EXTRA_FLAG_MORE) != 0;
			w->nb_extras++;
			i++;
		} while (more);
	}

	/* Then the data slots, chained by NETTXF_more_data. */
	more = (req->flags & NETTXF_more_data) != 0;
	while (more) {
		if (w->nb_data == XNB_FATAL_TX_SLOTS) {
			w->why = XNB_FATAL_TOO_MANY_SLOTS;
			return XNB_VERDICT_FATAL;
		}
		if (i >= avail)
			return XNB_VERDICT_PARTIAL;
		req = &reqs[(start + i++) & mask];
		w->data[w->nb_data++] = req;
		more = (req->flags & NETTXF_more_data) != 0;
	}
	w->nb_reqs = (uint16_t)i;

	v = xnb_rx_slots_verdict(w->data, w->nb_data, &w->first_len);
	if (v == XNB_VERDICT_FATAL) {
		w->why = XNB_FATAL_TOO_MANY_SLOTS;
		return v;
	}
	ve = xnb_rx_extras_verdict(w->extras, w->nb_extras, &w->ext);
	return v != XNB_VERDICT_OK ? v : ve;
}

/* A chain of n reset mbufs, or NULL (nothing taken) if the pool is short. */
static struct rte_mbuf *
rx_alloc_chain(struct rte_mempool *mp, uint32_t n)
{
	struct rte_mbuf *chunk[RX_ALLOC_CHUNK];
	struct rte_mbuf *head = NULL, *tail = NULL;
	uint32_t left = n, k, i;

	while (left > 0) {
		k = RTE_MIN(left, (uint32_t)RX_ALLOC_CHUNK);
		if (unlikely(rte_pktmbuf_alloc_bulk(mp, chunk, k) != 0)) {
			if (head != NULL)
				rte_pktmbuf_free(head);
			return NULL;
		}
		for (i = 0; i < k; i++) {
			if (head == NULL)
				head = chunk[i];
			else
				tail->next = chunk[i];
			tail = chunk[i];
		}
		left -= k;
	}
	head->nb_segs = (uint16_t)n;
	return head;
}

/*
 * Give a checked packet its mbuf chain and copy segments. Returns false
 * (nothing allocated) when the pool is short.
 */
static bool
rx_build(struct xnb_rxq *rxq, const struct xnb_rx_walk *w, struct xnb_rx_pkt *pkt,
		uint32_t room, uint32_t nb_mbufs, uint32_t *nsegs)
{
	const netif_tx_request_t *slot;
	struct rte_mbuf *m, *head;
	uint32_t len = w->data[0]->size, left, moff = 0, n, chunk;
	uint16_t domid = rxq->q->domid, off;
	unsigned int j;

	head = rx_alloc_chain(rxq->mb_pool, nb_mbufs);
	if (unlikely(head == NULL))
		return false;
	head->pkt_len = len;
	head->port = rxq->port_id;
	left = len;
	for (m = head; m != NULL; m = m->next) {
		m->data_len = (uint16_t)RTE_MIN(left, room);
		left -= m->data_len;
	}

	pkt->head = head;
	pkt->first_seg = (uint16_t)*nsegs;
	m = head;
	for (j = 0; j < w->nb_data; j++) {
		slot = w->data[j];
		off = slot->offset;
		/* Zero-size slots build no segment (XSA-448). */
		n = j == 0 ? w->first_len : slot->size;
		while (n > 0) {
			chunk = RTE_MIN(n, (uint32_t)m->data_len - moff);
			xnb_copy_from_guest(&rxq->copy[(*nsegs)++], domid, slot->gref, off,
				rte_pktmbuf_mtod_offset(m, void *, moff), (uint16_t)chunk);
			off += chunk;
			n -= chunk;
			moff += chunk;
			if (moff == m->data_len) {
				m = m->next;
				moff = 0;
			}
		}
	}
	pkt->nb_segs = (uint16_t)(*nsegs - pkt->first_seg);
	return true;
}

static inline void
rx_respond(netif_tx_back_ring_t *ring, uint16_t id, int16_t status)
{
	netif_tx_response_t rsp = { .id = id, .status = status };

	*RING_GET_RESPONSE(ring, ring->rsp_prod_pvt) = rsp;
	ring->rsp_prod_pvt++;
}

/*
 * Checksum flags: a blank checksum (the guest "offloaded" it) is
 * completed in software, as it must be before the frame leaves the host;
 * a frame whose blank checksum cannot be located is dropped, as Linux's
 * netback does. A checksum the guest validated is reported good.
 */
static inline int16_t
rx_csum(struct xnb_rx_pkt *pkt)
{
	if (pkt->flags & NETTXF_csum_blank) {
		if (unlikely(xnb_csum_complete(pkt->head) != 0))
			return NETIF_RSP_ERROR;
		pkt->head->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	} else if (pkt->flags & NETTXF_data_validated) {
		pkt->head->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	}
	return NETIF_RSP_OKAY;
}

/*
 * The copy call for the gathered packets, then each packet's fate and
 * its responses in slot order. Returns the packets delivered to rx_pkts.
 */
static uint16_t
rx_complete(struct xnb_rxq *rxq, uint32_t npkts, uint32_t nsegs,
		struct rte_mbuf **rx_pkts)
{
	struct xnb_queue *q = rxq->q;
	netif_tx_back_ring_t *ring = &q->guest_tx;
	const xengnttab_grant_copy_segment_t *seg;
	uint64_t bytes = 0, errors = 0;
	struct xnb_rx_pkt *pkt;
	uint16_t nb_rx = 0, j;
	RING_IDX first;
	int16_t status;
	uint32_t i, k;

	xnb_copy_flush(q, rxq->copy, nsegs, &rxq->stats.copy_calls, &rxq->stats.copy_segs);

	for (i = 0; i < npkts; i++) {
		pkt = &rxq->pkts[i];
		status = pkt->status;
		if (likely(status == NETIF_RSP_OKAY)) {
			seg = &rxq->copy[pkt->first_seg];
			for (k = 0; k < pkt->nb_segs; k++) {
				if (unlikely(seg[k].status != GNTST_okay)) {
					status = NETIF_RSP_ERROR;
					break;
				}
			}
			if (status == NETIF_RSP_OKAY)
				status = rx_csum(pkt);
		}
		if (likely(status == NETIF_RSP_OKAY)) {
			rx_pkts[nb_rx++] = pkt->head;
			bytes += pkt->head->pkt_len;
		} else {
			if (pkt->head != NULL)
				rte_pktmbuf_free(pkt->head);
			errors++;
		}
		/* First slot, its extra-info slots (NULL), then the others. */
		first = pkt->first_req;
		rx_respond(ring, rxq->reqs[first & TX_RING_MASK].id, status);
		for (j = 1; unlikely(j < pkt->nb_reqs); j++) {
			if (j <= pkt->nb_extras)
				rx_respond(ring, 0, NETIF_RSP_NULL);
			else
				rx_respond(ring, rxq->reqs[(first + j) & TX_RING_MASK].id, status);
		}
	}
	rxq->stats.packets += nb_rx;
	rxq->stats.bytes += bytes;
	rxq->stats.errors += errors;
	return nb_rx;
}

/*
 * The general case of one packet at ring index cons: walk and check it,
 * then give a good one its mbuf chain (rx_build()).
 *  - DONE: rxq->pkts[npkts] describes it (nb_reqs: the slots it takes;
 *    status: OKAY to deliver it, else ERROR or DROPPED), its copy
 *    segments are added at *nsegs;
 *  - FLUSH: the batch is full: make the copy call first, then come back;
 *  - STOP: a partial packet, a fatal one (the queue is stopped), or no
 *    mbufs (the packet stays on the ring, copied, for a later burst).
 */
enum rx_slow {
	RX_SLOW_DONE,
	RX_SLOW_STOP,
	RX_SLOW_FLUSH,
};

static enum rx_slow
rx_slow(struct xnb_rxq *rxq, RING_IDX cons, uint32_t avail, uint32_t room,
		uint32_t npkts, uint32_t *nsegs)
{
	struct xnb_queue *q = rxq->q;
	uint32_t nb_mbufs = 0, worst = 0;
	struct xnb_rx_pkt *pkt;
	struct xnb_rx_walk w;
	enum xnb_verdict v;

	v = xnb_rx_walk(rxq->reqs, TX_RING_MASK, cons, avail, &w);
	if (v == XNB_VERDICT_PARTIAL)
		return RX_SLOW_STOP;
	if (unlikely(v == XNB_VERDICT_FATAL)) {
		xnb_queue_fatal(q, w.why);
		return RX_SLOW_STOP;
	}
	if (likely(v == XNB_VERDICT_OK)) {
		nb_mbufs = (w.data[0]->size + room - 1) / room;
		/* Every slot piece, plus one more per mbuf boundary. */
		worst = w.nb_data + nb_mbufs - 1;
		if (unlikely(nb_mbufs > 1 && !rxq->scatter)) {
			/* Larger than one mbuf and the application wants no chains. */
			XNB_DP_LOG(DEBUG, "dom %u queue %u: %u B frame dropped: rx scatter is off",
				q->domid, q->id, w.data[0]->size);
			v = XNB_VERDICT_DROP;
			worst = 0;
		} else if (unlikely(worst > XNB_COPY_BATCH)) {
			/* mbufs too small to hold this frame in one batch. */
			XNB_DP_LOG(ERR, "dom %u queue %u: %u B frame needs %u mbufs",
				q->domid, q->id, w.data[0]->size, nb_mbufs);
			v = XNB_VERDICT_ERROR;
			worst = 0;
		}
	}
	if (npkts == XNB_MAX_BURST || *nsegs + worst > XNB_COPY_BATCH)
		return RX_SLOW_FLUSH;
	pkt = &rxq->pkts[npkts];
	*pkt = (struct xnb_rx_pkt){
		.first_seg = (uint16_t)*nsegs,
		.first_req = cons,
		.nb_reqs = w.nb_reqs,
		.nb_extras = w.nb_extras,
		.flags = w.data[0]->flags,
		.gso_size = w.ext.gso_size,
		.gso_type = w.ext.gso_type,
		.extra_types = w.ext.types,
	};
	if (likely(v == XNB_VERDICT_OK)) {
		if (unlikely(!rx_build(rxq, &w, pkt, room, nb_mbufs, nsegs))) {
			/* Left on the ring, copied, for a later burst. */
			rxq->stats.nombuf++;
			return RX_SLOW_STOP;
		}
		pkt->status = NETIF_RSP_OKAY;
	} else {
		XNB_DP_LOG(DEBUG, "dom %u queue %u: bad packet at %u (%u slots)",
			q->domid, q->id, cons, w.nb_reqs);
		pkt->status = v == XNB_VERDICT_DROP ? NETIF_RSP_DROPPED : NETIF_RSP_ERROR;
	}
	return RX_SLOW_DONE;
}

static uint16_t
rx_burst(struct xnb_rxq *rxq, struct xnb_queue *q, struct rte_mbuf **rx_pkts,
		uint16_t nb_pkts)
{
	netif_tx_back_ring_t *ring = &q->guest_tx;
	uint32_t room, avail, npkts = 0, ngood = 0, nsegs = 0, nb_fast, used = 0;
	struct rte_mbuf *fast[XNB_MAX_BURST];
	const netif_tx_request_t *req;
	struct xnb_rx_pkt *pkt;
	RING_IDX prod, cons, i;
	enum rx_slow slow;
	struct rte_mbuf *m;
	uint16_t nb_rx = 0;
	RING_IDX rsp_old;
	int notify;

	prod = __atomic_load_n(&ring->sring->req_prod, __ATOMIC_ACQUIRE);
	cons = ring->req_cons;
	if (unlikely(prod - cons > RING_SIZE(ring))) {
		xnb_queue_fatal(q, XNB_FATAL_TX_RING_OVERFLOW);
		return 0;
	}
	/* Copy each newly posted slot, once. */
	if (prod - cons > rxq->req_copied - cons) {
		for (i = rxq->req_copied; i != prod; i++)
			RING_COPY_REQUEST(ring, i, &rxq->reqs[i & TX_RING_MASK]);
		rxq->req_copied = prod;
	}
	avail = rxq->req_copied - cons;
	if (avail == 0)
		return 0;

	room = rte_pktmbuf_data_room_size(rxq->mb_pool);
	if (unlikely(room <= RTE_PKTMBUF_HEADROOM))
		return 0;  /* rx queue setup refuses such a pool */
	room -= RTE_PKTMBUF_HEADROOM;

	/*
	 * One mbuf per packet of the fast case, for as many packets as the
	 * burst may take, in one allocation; what is left goes back.
	 */
	nb_fast = RTE_MIN(RTE_MIN(avail, (uint32_t)nb_pkts), (uint32_t)XNB_MAX_BURST);
	if (unlikely(rte_pktmbuf_alloc_bulk(rxq->mb_pool, fast, nb_fast) != 0))
		nb_fast = 0;  /* each packet tries on its own, and counts nombuf */

	rsp_old = ring->rsp_prod_pvt;
	while (nb_rx + ngood < nb_pkts && avail > 0) {
		req = &rxq->reqs[cons & TX_RING_MASK];
		if (likely(used < nb_fast && xnb_rx_single_ok(req, room) &&
				npkts < XNB_MAX_BURST && nsegs < XNB_COPY_BATCH)) {
			m = fast[used++];
			m->data_len = req->size;
			m->pkt_len = req->size;
			m->port = rxq->port_id;
			xnb_copy_from_guest(&rxq->copy[nsegs], q->domid, req->gref,
				req->offset, rte_pktmbuf_mtod(m, void *), req->size);
			rxq->pkts[npkts++] = (struct xnb_rx_pkt){
				.head = m,
				.first_seg = (uint16_t)nsegs++,
				.nb_segs = 1,
				.first_req = cons,
				.nb_reqs = 1,
				.status = NETIF_RSP_OKAY,
				.flags = req->flags,
				.gso_type = XEN_NETIF_GSO_TYPE_NONE,
			};
			ngood++;
			cons++;
			avail--;
			continue;
		}
		slow = rx_slow(rxq, cons, avail, room, npkts, &nsegs);
		if (slow == RX_SLOW_STOP)
			break;
		if (slow == RX_SLOW_FLUSH) {
			nb_rx += rx_complete(rxq, npkts, nsegs, rx_pkts + nb_rx);
			npkts = 0;
			ngood = 0;
			nsegs = 0;
			continue;
		}
		pkt = &rxq->pkts[npkts++];
		ngood += pkt->status == NETIF_RSP_OKAY;
		cons += pkt->nb_reqs;
		avail -= pkt->nb_reqs;
	}
	ring->req_cons = cons;
	if (used < nb_fast)
		rte_pktmbuf_free_bulk(fast + used, nb_fast - used);
	if (npkts > 0)
		nb_rx += rx_complete(rxq, npkts, nsegs, rx_pkts + nb_rx);

	if (ring->rsp_prod_pvt != rsp_old) {
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(ring, notify);
		if (notify)
			q->ops->evtchn_notify(q->evtchn, (uint32_t)q->evtchn_port);
	}
	return nb_rx;
}

uint16_t
xnb_rx_burst(void *queue, struct rte_mbuf **rx_pkts, uint16_t nb_pkts)
{
	struct xnb_rxq *rxq = queue;
	struct xnb_queue *q = rxq->q;
	uint16_t nb_rx = 0;

	__atomic_store_n(&rxq->busy, 1, __ATOMIC_SEQ_CST);
	if (likely(__atomic_load_n(&rxq->allow, __ATOMIC_SEQ_CST) != 0 &&
			__atomic_load_n(&q->fatal, __ATOMIC_RELAXED) == XNB_FATAL_NONE))
		nb_rx = rx_burst(rxq, q, rx_pkts, nb_pkts);
	__atomic_store_n(&rxq->busy, 0, __ATOMIC_RELEASE);
	return nb_rx;
}
