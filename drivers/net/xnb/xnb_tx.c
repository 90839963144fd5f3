/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * DPDK tx: mbuf chains into the guest-rx ring.
 *
 * Names: "tx" is the DPDK side. The ring written here is the one the
 * guest receives on, the guest-rx ring (netif_rx_*, Linux rx.c's side):
 * its requests are empty guest pages posted by the frontend, each filled
 * from offset 0 and answered with a netif_rx_response whose status is the
 * bytes put in it (or NETIF_RSP_ERROR), NETRXF_more_data on every slot of
 * a packet but the last.
 *
 * A burst: req_prod is checked against req_cons (more than the ring holds
 * is fatal); a frame too large for the frontend is dropped; a frame that
 * needs more slots than are posted stops the burst there (the caller
 * keeps it). Each request used is copied once; the copy segments split
 * the mbuf data at mbuf segment and page boundaries; one copy call for
 * the burst (xnb_copy.c), then the responses, pushed once, with a
 * notification only when the frontend asked for one (rsp_event).
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_mbuf.h>

#include "xnb_logs.h"
#include "xnb_private.h"
#include "xnb_rxtx.h"

#define RX_RING_MASK (XNB_RX_RING_SIZE - 1)
/* Slots of the largest frame. */
#define TX_MAX_SLOTS ((XNB_MAX_FRAME + XNB_PAGE_SIZE - 1) / XNB_PAGE_SIZE)

/* Segments of a chain, up to one more than a copy batch holds. */
static inline uint32_t
tx_count_segs(const struct rte_mbuf *m)
{
	uint32_t n = 0;

	for (; m != NULL && n <= XNB_COPY_BATCH; m = m->next)
		n++;
	return n;
}

/* The copy segments of mbuf m into its posted slots. */
static uint32_t
tx_build(struct xnb_txq *txq, struct rte_mbuf *m, RING_IDX first_slot, uint32_t nsegs)
{
	struct xnb_queue *q = txq->q;
	const netif_rx_request_t *req;
	uint32_t left = m->pkt_len, n, chunk, soff = 0;
	uint16_t slot = 0;
	const uint8_t *p;

	req = &txq->reqs[first_slot & RX_RING_MASK];
	for (; m != NULL && left > 0; m = m->next) {
		p = rte_pktmbuf_mtod(m, const uint8_t *);
		n = RTE_MIN((uint32_t)m->data_len, left);
		left -= n;
		while (n > 0) {
			chunk = RTE_MIN(n, XNB_PAGE_SIZE - soff);
			xnb_copy_to_guest(&txq->copy[nsegs], p, q->domid, req->gref,
				(uint16_t)soff, (uint16_t)chunk);
			txq->seg_slot[nsegs] = slot;
			nsegs++;
			p += chunk;
			n -= chunk;
			soff += chunk;
			if (soff == XNB_PAGE_SIZE && (n > 0 || left > 0)) {
				slot++;
				req = &txq->reqs[(first_slot + slot) & RX_RING_MASK];
				soff = 0;
			}
		}
	}
	return nsegs;
}

static inline void
tx_respond(netif_rx_back_ring_t *ring, uint16_t id, uint16_t flags, int16_t status)
{
	netif_rx_response_t rsp = {
		.id = id,
		.offset = 0,
		.flags = flags,
		.status = status,
	};

	*RING_GET_RESPONSE(ring, ring->rsp_prod_pvt) = rsp;
	ring->rsp_prod_pvt++;
}

/* The responses of a packet of several slots or copy segments; false if a copy failed. */
static bool
tx_respond_slots(struct xnb_txq *txq, netif_rx_back_ring_t *ring,
		const struct xnb_tx_pkt *pkt)
{
	bool bad_slot[TX_MAX_SLOTS];
	uint32_t k, len, bytes;
	bool bad = false;
	uint16_t s, id;

	memset(bad_slot, 0, sizeof(bad_slot));
	for (k = pkt->first_seg; k < (uint32_t)pkt->first_seg + pkt->nb_segs; k++) {
		if (unlikely(txq->copy[k].status != GNTST_okay)) {
			bad_slot[txq->seg_slot[k]] = true;
			bad = true;
		}
	}
	len = pkt->head->pkt_len;
	for (s = 0; s < pkt->nb_slots; s++) {
		id = txq->reqs[(pkt->first_slot + s) & RX_RING_MASK].id;
		bytes = RTE_MIN(len - (uint32_t)s * XNB_PAGE_SIZE, XNB_PAGE_SIZE);
		tx_respond(ring, id, s + 1 < pkt->nb_slots ? NETRXF_more_data : 0,
			bad_slot[s] ? NETIF_RSP_ERROR : (int16_t)bytes);
	}
	return !bad;
}

/*
 * The copy call for the gathered packets, their responses, their mbufs
 * freed. A packet of one slot and one copy segment is answered here
 * directly; others go through tx_respond_slots().
 */
static void
tx_complete(struct xnb_txq *txq, uint32_t npkts, uint32_t nsegs)
{
	struct xnb_queue *q = txq->q;
	netif_rx_back_ring_t *ring = &q->guest_rx;
	struct rte_mbuf *done[XNB_MAX_BURST];
	uint64_t packets = 0, bytes = 0;
	struct xnb_tx_pkt *pkt;
	uint32_t i, len;
	uint16_t id;
	bool ok;

	xnb_copy_flush(q, txq->copy, nsegs, &txq->stats.copy_calls, &txq->stats.copy_segs);

	for (i = 0; i < npkts; i++) {
		pkt = &txq->pkts[i];
		len = pkt->head->pkt_len;
		if (likely(pkt->nb_slots == 1 && pkt->nb_segs == 1)) {
			id = txq->reqs[pkt->first_slot & RX_RING_MASK].id;
			ok = txq->copy[pkt->first_seg].status == GNTST_okay;
			tx_respond(ring, id, 0, likely(ok) ? (int16_t)len : NETIF_RSP_ERROR);
		} else {
			ok = tx_respond_slots(txq, ring, pkt);
		}
		if (likely(ok)) {
			packets++;
			bytes += len;
		} else {
			txq->stats.errors++;
		}
		done[i] = pkt->head;
	}
	txq->stats.packets += packets;
	txq->stats.bytes += bytes;
	rte_pktmbuf_free_bulk(done, npkts);
}

static uint16_t
tx_burst(struct xnb_txq *txq, struct xnb_queue *q, struct rte_mbuf **tx_pkts,
		uint16_t nb_pkts)
{
	netif_rx_back_ring_t *ring = &q->guest_rx;
	uint32_t avail, npkts = 0, nsegs = 0, len, slots, worst, s;
	struct xnb_tx_pkt *pkt;
	struct rte_mbuf *m;
	RING_IDX prod, cons;
	RING_IDX rsp_old;
	uint16_t i;
	int notify;

	prod = __atomic_load_n(&ring->sring->req_prod, __ATOMIC_ACQUIRE);
	cons = ring->req_cons;
	if (unlikely(prod - cons > RING_SIZE(ring))) {
		xnb_queue_fatal(q, XNB_FATAL_RX_RING_OVERFLOW);
		return 0;
	}
	avail = prod - cons;
	rsp_old = ring->rsp_prod_pvt;

	for (i = 0; i < nb_pkts; i++) {
		m = tx_pkts[i];
		len = m->pkt_len;
		/* The fast case: one mbuf segment of data into one posted page. */
		if (likely(m->nb_segs == 1 && len == m->data_len && len != 0 &&
				len <= XNB_PAGE_SIZE && avail > 0 && npkts < XNB_MAX_BURST &&
				nsegs < XNB_COPY_BATCH)) {
			RING_COPY_REQUEST(ring, cons, &txq->reqs[cons & RX_RING_MASK]);
			xnb_copy_to_guest(&txq->copy[nsegs], rte_pktmbuf_mtod(m, void *),
				q->domid, txq->reqs[cons & RX_RING_MASK].gref, 0, (uint16_t)len);
			/* One slot, one segment: tx_complete() needs no seg_slot[] entry. */
			txq->pkts[npkts++] = (struct xnb_tx_pkt){
				.head = m,
				.first_slot = cons,
				.nb_slots = 1,
				.first_seg = (uint16_t)nsegs++,
				.nb_segs = 1,
			};
			cons++;
			avail--;
			continue;
		}
		if (unlikely(len > XNB_MAX_FRAME || (!q->feat.sg && len > XNB_PAGE_SIZE))) {
			XNB_DP_LOG(DEBUG, "dom %u queue %u: dropping a %u B frame (sg %d)",
				q->domid, q->id, len, q->feat.sg);
			rte_pktmbuf_free(m);
			txq->stats.errors++;
			continue;
		}
		slots = len == 0 ? 1 : (len + XNB_PAGE_SIZE - 1) / XNB_PAGE_SIZE;
		if (slots > avail)
			break;
		/*
		 * Every mbuf segment piece, plus one more per page boundary.
		 * The chain is counted, not taken from nb_segs: the copy array
		 * must not overflow whatever the mbuf says.
		 */
		worst = tx_count_segs(m) + slots - 1;
		if (unlikely(worst > XNB_COPY_BATCH)) {
			XNB_DP_LOG(DEBUG, "dom %u queue %u: dropping a frame of %u mbufs",
				q->domid, q->id, worst + 1 - slots);
			rte_pktmbuf_free(m);
			txq->stats.errors++;
			continue;
		}
		if (npkts == XNB_MAX_BURST || nsegs + worst > XNB_COPY_BATCH) {
			tx_complete(txq, npkts, nsegs);
			npkts = 0;
			nsegs = 0;
		}
		/* The requests it uses, copied once. */
		for (s = 0; s < slots; s++)
			RING_COPY_REQUEST(ring, cons + s, &txq->reqs[(cons + s) & RX_RING_MASK]);
		pkt = &txq->pkts[npkts++];
		pkt->head = m;
		pkt->first_slot = cons;
		pkt->nb_slots = (uint16_t)slots;
		pkt->first_seg = (uint16_t)nsegs;
		nsegs = tx_build(txq, m, cons, nsegs);
		pkt->nb_segs = (uint16_t)(nsegs - pkt->first_seg);
		cons += slots;
		avail -= slots;
	}
	ring->req_cons = cons;
	if (npkts > 0)
		tx_complete(txq, npkts, nsegs);

	if (ring->rsp_prod_pvt != rsp_old) {
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(ring, notify);
		if (notify)
			q->ops->evtchn_notify(q->evtchn, (uint32_t)q->evtchn_rx_port);
	}
	return i;
}

uint16_t
xnb_tx_burst(void *queue, struct rte_mbuf **tx_pkts, uint16_t nb_pkts)
{
	struct xnb_txq *txq = queue;
	struct xnb_queue *q = txq->q;
	uint16_t nb_tx = 0;

	__atomic_store_n(&txq->busy, 1, __ATOMIC_SEQ_CST);
	if (likely(__atomic_load_n(&txq->allow, __ATOMIC_SEQ_CST) != 0 &&
			__atomic_load_n(&q->fatal, __ATOMIC_RELAXED) == XNB_FATAL_NONE))
		nb_tx = tx_burst(txq, q, tx_pkts, nb_pkts);
	__atomic_store_n(&txq->busy, 0, __ATOMIC_RELEASE);
	return nb_tx;
}
