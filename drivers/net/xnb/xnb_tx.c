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
 * notification only when the frontend asked for one (rsp_event). A copy
 * call that fails as a whole fails its frames and stops the queue.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_net.h>

#include "xnb_logs.h"
#include "xnb_mcast.h"
#include "xnb_private.h"
#include "xnb_rxtx.h"
#include "xnb_steer.h"

#define RX_RING_MASK (XNB_RX_RING_SIZE - 1)
/* Slots of the largest frame, behind the largest headroom. */
#define TX_MAX_SLOTS ((XNB_MAX_FRAME + XNB_XDP_HEADROOM_MAX + XNB_PAGE_SIZE - 1) / XNB_PAGE_SIZE)

/* Slots for len bytes starting hr bytes into the first (len 0: one). */
static inline uint32_t
tx_slots(uint32_t len, uint32_t hr)
{
	return len == 0 ? 1 : (len + hr + XNB_PAGE_SIZE - 1) / XNB_PAGE_SIZE;
}

/* Segments of a chain, up to one more than a copy batch holds. */
static inline uint32_t
tx_count_segs(const struct rte_mbuf *m)
{
	uint32_t n = 0;

	for (; m != NULL && n <= XNB_COPY_BATCH; m = m->next)
		n++;
	return n;
}

/* Where the next bytes of a frame go: its data slots, from ring index first. */
struct tx_sink {
	struct xnb_txq *txq;
	RING_IDX first;
	uint8_t extras;            /* extra-info slots after the first data slot */
	uint16_t slot;             /* data slot being filled */
	uint32_t soff;             /* bytes in it so far */
	uint32_t nsegs;            /* copy segments so far in the batch */
};

/* The ring index of data slot s (after the extra-info slots, if any). */
static inline RING_IDX
tx_slot_idx(RING_IDX first, uint16_t s, uint8_t extras)
{
	return first + s + (s > 0 ? extras : 0);
}

/*
 * Copy segments for len local bytes at src into the frame's next slots.
 * The sink's fields are worked on in locals: the stores into copy[] and
 * seg_slot[] would otherwise make the compiler reload them every chunk.
 */
static __rte_always_inline void
tx_put(struct tx_sink *k, const uint8_t *src, uint32_t len)
{
	struct xnb_txq *txq = k->txq;
	uint32_t soff = k->soff, nsegs = k->nsegs, chunk;
	uint16_t slot = k->slot, domid = txq->q->domid;
	const netif_rx_request_t *req =
		&txq->reqs[tx_slot_idx(k->first, slot, k->extras) & RX_RING_MASK];

	while (len > 0) {
		if (soff == XNB_PAGE_SIZE) {
			slot++;
			soff = 0;
			req = &txq->reqs[tx_slot_idx(k->first, slot, k->extras) & RX_RING_MASK];
		}
		chunk = RTE_MIN(len, XNB_PAGE_SIZE - soff);
		xnb_copy_to_guest(&txq->copy[nsegs], src, domid, req->gref, (uint16_t)soff,
			(uint16_t)chunk);
		txq->seg_slot[nsegs++] = slot;
		src += chunk;
		len -= chunk;
		soff += chunk;
	}
	k->soff = soff;
	k->slot = slot;
	k->nsegs = nsegs;
}

/* The same for n bytes of mbuf chain m from offset off. */
static __rte_always_inline void
tx_put_mbuf(struct tx_sink *k, const struct rte_mbuf *m, uint32_t off, uint32_t n)
{
	uint32_t chunk;

	for (; m != NULL && n > 0; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		chunk = RTE_MIN((uint32_t)m->data_len - off, n);
		tx_put(k, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), chunk);
		n -= chunk;
		off = 0;
	}
}

static inline void
tx_respond(netif_rx_back_ring_t *ring, uint16_t id, uint16_t offset, uint16_t flags,
		int16_t status)
{
	netif_rx_response_t rsp = {
		.id = id,
		.offset = offset,
		.flags = flags,
		.status = status,
	};

	*RING_GET_RESPONSE(ring, ring->rsp_prod_pvt) = rsp;
	ring->rsp_prod_pvt++;
}

/* Extra-info slots of a frame to the guest: GSO, then hash. */
static inline uint8_t
tx_nb_extras(const struct xnb_tx_extra *x)
{
	return (x->gso_size != 0) + (x->hash_type != 0);
}

/* The extra-info slots after a frame's first response (netif.h), chained. */
static void
tx_respond_extras(netif_rx_back_ring_t *ring, const struct xnb_tx_extra *x)
{
	netif_extra_info_t e;

	RTE_BUILD_BUG_ON(sizeof(e) > sizeof(netif_rx_response_t));
	if (x->gso_size != 0) {
		memset(&e, 0, sizeof(e));
		e.type = XEN_NETIF_EXTRA_TYPE_GSO;
		e.flags = x->hash_type != 0 ? XEN_NETIF_EXTRA_FLAG_MORE : 0;
		e.u.gso.size = x->gso_size;
		e.u.gso.type = x->gso_type;
		memcpy(RING_GET_RESPONSE(ring, ring->rsp_prod_pvt), &e, sizeof(e));
		ring->rsp_prod_pvt++;
	}
	if (x->hash_type != 0) {
		memset(&e, 0, sizeof(e));
		e.type = XEN_NETIF_EXTRA_TYPE_HASH;
		e.u.hash.type = (uint8_t)(x->hash_type - 1);
		e.u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
		memcpy(e.u.hash.value, &x->hash, sizeof(e.u.hash.value));
		memcpy(RING_GET_RESPONSE(ring, ring->rsp_prod_pvt), &e, sizeof(e));
		ring->rsp_prod_pvt++;
	}
}

/* The responses of a frame of several slots or copy segments; false if a copy failed. */
static bool
tx_respond_slots(struct xnb_txq *txq, netif_rx_back_ring_t *ring,
		const struct xnb_tx_pkt *pkt, const struct xnb_tx_extra *x)
{
	bool bad_slot[TX_MAX_SLOTS];
	uint8_t extras = (pkt->flags & NETRXF_extra_info) != 0 ? tx_nb_extras(x) : 0;
	uint32_t k, bytes, left, off;
	uint16_t s, id, flags;
	bool bad = false;
	RING_IDX idx;

	memset(bad_slot, 0, sizeof(bad_slot));
	for (k = pkt->first_seg; k < (uint32_t)pkt->first_seg + pkt->nb_segs; k++) {
		if (unlikely(txq->copy[k].status != GNTST_okay)) {
			bad_slot[txq->seg_slot[k]] = true;
			bad = true;
		}
	}
	left = pkt->len;
	idx = pkt->first_slot;
	for (s = 0; s < pkt->nb_slots; s++) {
		id = txq->reqs[idx++ & RX_RING_MASK].id;
		/* The first slot's data starts after the guest's headroom. */
		off = s == 0 ? txq->hr_cur : 0;
		bytes = RTE_MIN(left, XNB_PAGE_SIZE - off);
		left -= bytes;
		flags = s + 1 < pkt->nb_slots ? NETRXF_more_data : 0;
		if (s == 0)
			flags |= pkt->flags;
		tx_respond(ring, id, (uint16_t)off, flags,
			bad_slot[s] ? NETIF_RSP_ERROR : (int16_t)bytes);
		if (s == 0 && extras != 0) {
			tx_respond_extras(ring, x);
			idx += extras;
		}
	}
	return !bad;
}

/*
 * The copy call for the gathered frames, their responses, their mbufs
 * freed. A frame of one slot and one copy segment is answered here
 * directly; others go through tx_respond_slots().
 */
static void
tx_complete(struct xnb_txq *txq, uint32_t npkts, uint32_t nsegs)
{
	struct xnb_queue *q = txq->q;
	netif_rx_back_ring_t *ring = &q->guest_rx;
	struct rte_mbuf *done[XNB_TX_HDRS];
	uint64_t packets = 0, bytes = 0;
	uint32_t i, ndone = 0;
	struct xnb_tx_pkt *pkt;
	uint16_t id, hr;
	bool ok;

	xnb_copy_flush(q, txq->copy, nsegs, &txq->stats.copy_calls, &txq->stats.copy_segs);
	hr = txq->hr_cur;

	for (i = 0; i < npkts; i++) {
		pkt = &txq->pkts[i];
		/* A GSO frame has two copy segments at least: header copy and payload. */
		if (likely(pkt->nb_slots == 1 && pkt->nb_segs == 1 &&
				(pkt->flags & NETRXF_extra_info) == 0)) {
			id = txq->reqs[pkt->first_slot & RX_RING_MASK].id;
			ok = txq->copy[pkt->first_seg].status == GNTST_okay;
			tx_respond(ring, id, hr, pkt->flags,
				likely(ok) ? (int16_t)pkt->len : NETIF_RSP_ERROR);
		} else {
			ok = tx_respond_slots(txq, ring, pkt, &txq->extra[i]);
		}
		if (likely(ok)) {
			packets++;
			bytes += pkt->len;
		} else {
			txq->stats.errors++;
		}
		if (pkt->head != NULL)
			done[ndone++] = pkt->head;
	}
	txq->stats.packets += packets;
	txq->stats.bytes += bytes;
	rte_pktmbuf_free_bulk(done, ndone);
}

/*
 * Offload requests an mbuf may carry: the application's tx flags, or a
 * received frame's own flags when an application forwards it untouched
 * (a checksum left blank, a super-frame kept whole by LRO).
 */
#define TX_OL_WORK (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_IP_CKSUM | \
	RTE_MBUF_F_RX_LRO)

/* Flags tx looks at: those above, and a received frame's checksum state. */
#define TX_OL_LOOK (TX_OL_WORK | RTE_MBUF_F_RX_L4_CKSUM_MASK)

/*
 * The netif flags of a frame that needs no work of ours, from its
 * ol_flags & TX_OL_LOOK, or TX_FLAGS_WORK: nothing (0), a checksum known
 * good (data_validated), or a checksum left blank, by an application's
 * request (its pseudo-header sum in the field, tx_pkt_prepare's) or by
 * an rx port, for a guest that takes blank checksums of both IP versions
 * (csum_blank|data_validated; no header to read). Anything else (TSO, an
 * IPv4 header checksum, a guest that takes only one version) is planned.
 */
#define TX_FLAGS_WORK UINT16_MAX

static inline uint16_t
tx_flags_nowork(const struct xnb_queue *q, uint64_t ol)
{
	if (ol == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return NETRXF_data_validated;
	if ((ol == RTE_MBUF_F_RX_L4_CKSUM_NONE || ol == RTE_MBUF_F_TX_TCP_CKSUM ||
			ol == RTE_MBUF_F_TX_UDP_CKSUM) && q->feat.csum4 && q->feat.csum6)
		return NETRXF_csum_blank | NETRXF_data_validated;
	return TX_FLAGS_WORK;
}

static inline uint16_t
tx_flags(uint64_t ol)
{
	return (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD ?
		NETRXF_data_validated : 0;
}

/* What to do with an mbuf that asks for offload work (tx_plan()). */
struct tx_plan {
	struct xnb_hdr h;
	uint32_t hlen;             /* header bytes copied and fixed up, 0: none */
	uint32_t mss;              /* segmented here at this size; 0: one frame */
	uint32_t nframes;
	uint32_t slots;            /* ring requests, extra slots included */
	uint16_t flags;            /* NETRXF_* of each frame */
	uint16_t gso_size;         /* a GSO extra slot, 0: none */
	uint8_t gso_type;
	uint8_t hash_type;         /* a hash extra slot in each frame, 0: none */
	uint32_t hash;
	bool tso;                  /* lengths and TCP fields from the frame */
	bool csum_sw;              /* fill in the L4 checksum here */
	bool ip_csum;              /* fill in the IPv4 header checksum here */
};

/*
 * Plan the frames of m for this guest. -EINVAL when m cannot go (its
 * headers do not hold together, or it is longer than the MTU allows).
 */
static int
tx_plan(const struct xnb_txq *txq, const struct rte_mbuf *m, struct tx_plan *p)
{
	const struct xnb_queue *q = txq->q;
	uint64_t ol = m->ol_flags;
	bool tso = (ol & RTE_MBUF_F_TX_TCP_SEG) != 0 ||
		((ol & RTE_MBUF_F_RX_LRO) != 0 && m->tso_segsz != 0);
	bool l4 = (ol & RTE_MBUF_F_TX_L4_MASK) != 0 ||
		(ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE;
	bool csum_cap, gso_cap;
	uint32_t payload, k, seg;

	memset(p, 0, sizeof(*p));
	p->ip_csum = (ol & RTE_MBUF_F_TX_IP_CKSUM) != 0;
	p->nframes = 1;
	/*
	 * (A checksum request that needs only flags never comes here: tx_flags_nowork().)
	 * TSO without a segment size cannot be cut (it divided by zero: fuzz-guest-rx,
	 * test_tso_segsz_zero), nor given to a guest as GSO size 0.
	 */
	if ((tso && m->tso_segsz == 0) || xnb_hdr_parse(m, &p->h) != 0 || p->h.l3_len == 0 ||
			((l4 || tso) && !xnb_hdr_l4_csum_ok(&p->h)) ||
			(tso && p->h.proto != IPPROTO_TCP) || (p->ip_csum && p->h.ipv6) ||
			xnb_hdr_len(&p->h) > XNB_GSO_HDR_MAX)
		return -EINVAL;
	csum_cap = p->h.ipv6 ? q->feat.csum6 : q->feat.csum4;
	gso_cap = p->h.ipv6 ? q->feat.gso6 : q->feat.gso4;
	p->hlen = xnb_hdr_len(&p->h);
	p->tso = tso;
	p->flags = (l4 || tso) && csum_cap ? NETRXF_csum_blank | NETRXF_data_validated :
		tx_flags(ol);
	p->csum_sw = !csum_cap && (l4 || tso);
	payload = m->pkt_len - p->hlen;
	if (tso && gso_cap && m->pkt_len <= XNB_MAX_FRAME && payload > m->tso_segsz) {
		/* The whole super-frame, its lengths those of the frame. */
		p->gso_size = m->tso_segsz;
		p->gso_type = p->h.ipv6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4;
		p->slots = tx_slots(m->pkt_len, txq->hr_cur) + 1;
		return 0;
	}
	if (tso && payload > m->tso_segsz) {
		p->mss = m->tso_segsz;
		p->nframes = (payload + p->mss - 1) / p->mss;
		/* Each frame a netif frame: at most 64 KiB (16 slots). */
		if (p->nframes > XNB_TX_HDRS || p->hlen + p->mss > XNB_MAX_FRAME)
			return -EINVAL;
		for (k = 0; k < p->nframes; k++) {
			seg = p->hlen + RTE_MIN(p->mss, payload - k * p->mss);
			if (!q->feat.sg && seg + txq->hr_cur > XNB_PAGE_SIZE)
				return -EINVAL;
			p->slots += tx_slots(seg, txq->hr_cur);
		}
		return 0;
	}
	/* One frame: a TSO request with one segment's worth is just that. */
	if (m->pkt_len > XNB_MAX_FRAME || (!tso && m->pkt_len > txq->max_frame) ||
			(!q->feat.sg && m->pkt_len + txq->hr_cur > XNB_PAGE_SIZE))
		return -EINVAL;
	p->slots = tx_slots(m->pkt_len, txq->hr_cur);
	return 0;
}

/*
 * The frames of a planned mbuf: each gets its fixed-up header copy (the
 * source of its first bytes) and the rest straight from the mbuf, so a
 * segment costs no pass over the data unless its checksum is ours to
 * fill in. Returns the copy segments afterwards.
 */
static uint32_t
tx_build_planned(struct xnb_txq *txq, struct rte_mbuf *m, const struct tx_plan *p,
		RING_IDX cons, uint32_t *npkts, uint32_t *nhdr, uint32_t nsegs)
{
	struct xnb_tx_extra x = {
		.gso_size = p->gso_size, .gso_type = p->gso_type,
		.hash_type = p->hash_type, .hash = p->hash,
	};
	uint8_t extras = tx_nb_extras(&x);
	struct tx_sink sink = { .txq = txq, .extras = extras, .nsegs = nsegs };
	uint32_t payload = m->pkt_len - p->hlen, k, off, n, csum_off = 0;
	const struct xnb_hdr *h = &p->h;
	struct xnb_tx_pkt *pkt;
	const void *src;
	uint8_t *hdr;
	uint16_t csum;

	if (xnb_hdr_l4_csum_ok(h))
		csum_off = xnb_hdr_csum_off(h);
	for (k = 0; k < p->nframes; k++) {
		off = p->hlen + k * p->mss;
		n = p->mss != 0 ? RTE_MIN(p->mss, payload - k * p->mss) : payload;
		hdr = txq->hdr[(*nhdr)++];
		src = rte_pktmbuf_read(m, 0, p->hlen, hdr);
		if (src != hdr)
			rte_memcpy(hdr, src, p->hlen);
		if (p->tso) {
			/* Segment k, or the whole super-frame: lengths from the frame. */
			xnb_gso_seg_header(hdr, h, k, p->mss, n, k + 1 == p->nframes);
			if (p->csum_sw && xnb_csum_split(hdr, h, m, off, n, &csum) == 0)
				memcpy(hdr + csum_off, &csum, sizeof(csum));
		} else {
			if (csum_off != 0 && (p->flags & NETRXF_csum_blank) != 0) {
				csum = xnb_phdr_sum(hdr, h);
				memcpy(hdr + csum_off, &csum, sizeof(csum));
			} else if (p->csum_sw && xnb_csum_split(hdr, h, m, off,
					h->l4_total - h->l4_len, &csum) == 0) {
				/* By the IP length: Ethernet padding is not summed. */
				memcpy(hdr + csum_off, &csum, sizeof(csum));
			}
			if (p->ip_csum)
				xnb_ipv4_csum_set(hdr, h);
		}
		pkt = &txq->pkts[(*npkts)++];
		*pkt = (struct xnb_tx_pkt){
			.head = k + 1 == p->nframes ? m : NULL,
			.len = p->hlen + n,
			.first_seg = (uint16_t)sink.nsegs,
			.first_slot = cons,
			.flags = p->flags | (extras != 0 ? NETRXF_extra_info : 0),
		};
		txq->extra[*npkts - 1] = x;
		pkt->nb_slots = (uint16_t)tx_slots(pkt->len, txq->hr_cur);
		sink.first = cons;
		sink.slot = 0;
		sink.soff = txq->hr_cur;
		tx_put(&sink, hdr, p->hlen);
		tx_put_mbuf(&sink, m, off, n);
		pkt->nb_segs = (uint16_t)(sink.nsegs - pkt->first_seg);
		cons += pkt->nb_slots + extras;
	}
	return sink.nsegs;
}

/*
 * The frames into the guest-rx ring of txq; th: each frame's hash for a
 * hash extra slot (steered bursts), NULL for none.
 */
static __rte_always_inline uint16_t
tx_burst(struct xnb_txq *txq, struct xnb_queue *q, struct rte_mbuf **tx_pkts,
		uint16_t nb_pkts, const struct xnb_tx_hash *th)
{
	netif_rx_back_ring_t *ring = &q->guest_rx;
	uint32_t avail, npkts = 0, nsegs = 0, nhdr = 0, len, slots, worst, s, fast_max;
	struct tx_sink sink;
	uint16_t flags, hr;
	uint8_t extras;
	uint64_t ol;
	struct tx_plan plan;
	struct rte_mbuf *m;
	RING_IDX prod, cons;
	RING_IDX rsp_old;
	uint16_t i;
	int notify;

	prod = __atomic_load_n(&ring->sring->req_prod, __ATOMIC_ACQUIRE);
	cons = ring->req_cons;
	if (unlikely(prod - cons > RING_SIZE(ring))) {
		xnb_queue_fatal(q, XNB_FATAL_RX_RING_OVERFLOW, 0);
		return 0;
	}
	avail = prod - cons;
	rsp_old = ring->rsp_prod_pvt;
	/* The guest's XDP headroom, as it is for this burst. */
	hr = __atomic_load_n(&txq->headroom, __ATOMIC_RELAXED);
	txq->hr_cur = hr;
	fast_max = RTE_MIN(XNB_PAGE_SIZE - hr, txq->max_frame);

	for (i = 0; i < nb_pkts; i++) {
		m = tx_pkts[i];
		len = m->pkt_len;
		ol = m->ol_flags & TX_OL_LOOK;
		flags = likely(ol == 0) ? 0 : tx_flags_nowork(q, ol);
		/* The fast case: one mbuf segment of data into one posted page. */
		if (likely(m->nb_segs == 1 && len == m->data_len && len != 0 &&
				len <= fast_max && avail > 0 && npkts < XNB_MAX_BURST &&
				nsegs < XNB_COPY_BATCH && flags != TX_FLAGS_WORK &&
				(th == NULL || th[i].type == 0))) {
			RING_COPY_REQUEST(ring, cons, &txq->reqs[cons & RX_RING_MASK]);
			xnb_copy_to_guest(&txq->copy[nsegs], rte_pktmbuf_mtod(m, void *),
				q->domid, txq->reqs[cons & RX_RING_MASK].gref, (uint16_t)hr,
				(uint16_t)len);
			/* One slot, one segment: tx_complete() needs no seg_slot[] entry. */
			txq->pkts[npkts++] = (struct xnb_tx_pkt){
				.head = m,
				.len = len,
				.first_slot = cons,
				.nb_slots = 1,
				.first_seg = (uint16_t)nsegs++,
				.nb_segs = 1,
				.flags = flags,
			};
			txq->stats.csum_blank += (flags & NETRXF_csum_blank) != 0;
			cons++;
			avail--;
			continue;
		}
		if (unlikely(flags == TX_FLAGS_WORK)) {
			if (tx_plan(txq, m, &plan) != 0) {
				XNB_DP_LOG(DEBUG, "dom %u queue %u: dropping a %u B frame: offload flags 0x%" PRIx64 " do not fit its headers or the guest",
					q->domid, q->id, len, m->ol_flags);
				rte_pktmbuf_free(m);
				txq->stats.errors++;
				continue;
			}
		} else {
			/* No offload work: only what the plain path reads is set. */
			plan.nframes = 1;
			plan.flags = flags;
			plan.hlen = 0;
			plan.gso_size = 0;
			plan.hash_type = 0;
			plan.mss = 0;
			if (unlikely(len > txq->max_frame || (!q->feat.sg && len + hr > XNB_PAGE_SIZE))) {
				XNB_DP_LOG(DEBUG, "dom %u queue %u: dropping a %u B frame (MTU frame %u B, sg %d)",
					q->domid, q->id, len, txq->max_frame, q->feat.sg);
				rte_pktmbuf_free(m);
				txq->stats.errors++;
				continue;
			}
			plan.slots = tx_slots(len, hr);
		}
		if (th != NULL && th[i].type != 0) {
			/* Each frame carries the hash: one more slot each. */
			plan.hash_type = th[i].type;
			plan.hash = th[i].value;
			plan.slots += plan.nframes;
		}
		slots = plan.slots;
		if (slots > avail)
			break;
		/*
		 * Every mbuf segment piece, plus per frame its header and the
		 * piece where it starts, plus one more per page boundary. The
		 * chain is counted, not taken from nb_segs: the copy array must
		 * not overflow whatever the mbuf says.
		 */
		worst = tx_count_segs(m) + 2 * plan.nframes + slots;
		if (unlikely(worst > XNB_COPY_BATCH)) {
			XNB_DP_LOG(DEBUG, "dom %u queue %u: dropping a frame of %u mbufs",
				q->domid, q->id, tx_count_segs(m));
			rte_pktmbuf_free(m);
			txq->stats.errors++;
			continue;
		}
		if (npkts + plan.nframes > XNB_TX_HDRS || nsegs + worst > XNB_COPY_BATCH ||
				nhdr + (plan.hlen != 0 ? plan.nframes : 0) > XNB_TX_HDRS) {
			tx_complete(txq, npkts, nsegs);
			npkts = 0;
			nsegs = 0;
			nhdr = 0;
			/* The copy call failed and stopped the queue: m stays the caller's. */
			if (unlikely(__atomic_load_n(&q->fatal, __ATOMIC_RELAXED) !=
					XNB_FATAL_NONE))
				break;
		}
		if (unlikely(plan.flags & NETRXF_csum_blank || plan.nframes > 1 || plan.gso_size)) {
			/* Counted as sent: a failed copy counts in errors too. */
			txq->stats.csum_blank += (plan.flags & NETRXF_csum_blank) ? plan.nframes : 0;
			txq->stats.gso += plan.gso_size != 0;
			txq->stats.tso_segments += plan.mss != 0 ? plan.nframes : 0;
		}
		/* The requests it uses, copied once. */
		for (s = 0; s < slots; s++)
			RING_COPY_REQUEST(ring, cons + s, &txq->reqs[(cons + s) & RX_RING_MASK]);
		if (plan.hlen != 0 || plan.gso_size != 0) {
			nsegs = tx_build_planned(txq, m, &plan, cons, &npkts, &nhdr, nsegs);
		} else {
			extras = plan.hash_type != 0;
			txq->pkts[npkts] = (struct xnb_tx_pkt){
				.head = m,
				.len = len,
				.first_seg = (uint16_t)nsegs,
				.first_slot = cons,
				.nb_slots = (uint16_t)(slots - extras),
				.flags = plan.flags | (extras != 0 ? NETRXF_extra_info : 0),
			};
			if (extras != 0)
				txq->extra[npkts] = (struct xnb_tx_extra){
					.hash_type = plan.hash_type, .hash = plan.hash,
				};
			sink = (struct tx_sink){
				.txq = txq, .first = cons, .extras = extras, .soff = hr, .nsegs = nsegs,
			};
			tx_put_mbuf(&sink, m, 0, len);
			txq->pkts[npkts].nb_segs = (uint16_t)(sink.nsegs - nsegs);
			nsegs = sink.nsegs;
			npkts++;
		}
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

/*
 * tx_pkt_prepare: the checks and the pseudo-header sums DPDK's PMDs ask
 * of an application's offload requests (rte_net_intel_cksum_prepare()).
 */
uint16_t
xnb_tx_prepare(void *queue, struct rte_mbuf **tx_pkts, uint16_t nb_pkts)
{
	const uint64_t supported = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 |
		RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM |
		RTE_MBUF_F_TX_TCP_SEG;
	struct rte_mbuf *m;
	uint16_t i;
	int ret;

	RTE_SET_USED(queue);
	for (i = 0; i < nb_pkts; i++) {
		m = tx_pkts[i];
		if ((m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK & ~supported) != 0 ||
				(m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_SCTP_CKSUM) {
			rte_errno = ENOTSUP;
			return i;
		}
		if (m->pkt_len > XNB_MAX_FRAME && (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) == 0) {
			rte_errno = EINVAL;
			return i;
		}
		ret = rte_validate_tx_offload(m);
		if (ret == 0)
			ret = rte_net_intel_cksum_prepare(m);
		if (ret != 0) {
			rte_errno = -ret;
			return i;
		}
	}
	return i;
}

/*
 * A burst that placed nothing: the guest has posted no room for the
 * first frame. After drain_tsc of that (Linux's netback:
 * rx_drain_timeout, 10 s) the frames are dropped rather than handed
 * back, so that an application retrying them does not hold them for a
 * guest that is not reading; after stall_tsc, with feature-rx-notify
 * (rx_stall_timeout, 60 s), the queue is marked stalled and the port's
 * control path takes its link down. Returns the frames consumed.
 */
static __rte_noinline uint16_t
tx_no_room(struct xnb_txq *txq, const struct xnb_queue *q, struct rte_mbuf **tx_pkts,
		uint16_t nb_pkts)
{
	uint64_t now = rte_get_timer_cycles(), waited;

	if (txq->blocked_since == 0) {
		txq->blocked_since = now;
		return 0;
	}
	waited = now - txq->blocked_since;
	if (txq->stall_tsc != 0 && q->feat.rx_notify && waited >= txq->stall_tsc &&
			__atomic_load_n(&txq->stalled, __ATOMIC_RELAXED) == 0) {
		__atomic_store_n(&txq->stalled, 1, __ATOMIC_RELEASE);
		txq->stats.stalls++;
	}
	if ((txq->drain_tsc == 0 || waited < txq->drain_tsc) &&
			__atomic_load_n(&txq->stalled, __ATOMIC_RELAXED) == 0)
		return 0;
	rte_pktmbuf_free_bulk(tx_pkts, nb_pkts);
	txq->stats.drain_drops += nb_pkts;
	return nb_pkts;
}

/* A burst that placed frames: the guest reads again. */
static __rte_noinline void
tx_room_again(struct xnb_txq *txq)
{
	txq->blocked_since = 0;
	if (__atomic_load_n(&txq->stalled, __ATOMIC_RELAXED) != 0)
		__atomic_store_n(&txq->stalled, 0, __ATOMIC_RELEASE);
}

/* Does m pass the guest's multicast filter? */
static inline bool
tx_mcast_ok(const struct xnb_mcast *mc, const struct rte_mbuf *m)
{
	return m->data_len < RTE_ETHER_ADDR_LEN ||
		xnb_mcast_pass(mc, rte_pktmbuf_mtod(m, const uint8_t *));
}

/*
 * The guest asked for multicast control: the frames its filter refuses
 * are dropped (counted, and consumed as sent), the runs between them go
 * in as any burst's. Kept apart, so that a burst without the filter
 * pays one test, not one per frame. *placed: the frames that went into
 * the ring (only those show that the guest reads).
 */
static __rte_noinline uint16_t
tx_burst_filtered(struct xnb_txq *txq, struct xnb_queue *q, struct rte_mbuf **tx_pkts,
		uint16_t nb_pkts, const struct xnb_tx_hash *th, const struct xnb_mcast *mc,
		uint16_t *placed)
{
	uint16_t i = 0, j, sent;

	*placed = 0;
	while (i < nb_pkts) {
		for (j = i; j < nb_pkts && tx_mcast_ok(mc, tx_pkts[j]); j++)
			;
		if (j > i) {
			sent = tx_burst(txq, q, tx_pkts + i, j - i, th != NULL ? th + i : NULL);
			*placed += sent;
			if (sent < j - i)
				return i + sent;
		}
		if (j < nb_pkts) {
			rte_pktmbuf_free(tx_pkts[j]);
			txq->stats.mcast_filtered++;
		}
		i = j + 1;
	}
	return nb_pkts;
}

/* Frames into one guest-rx queue, entered by the caller; a guest without room as above. */
static __rte_always_inline uint16_t
tx_ring(struct xnb_txq *txq, struct xnb_queue *q, struct rte_mbuf **tx_pkts,
		uint16_t nb_pkts, const struct xnb_tx_hash *th)
{
	const struct xnb_mcast *mc = txq->mcast;
	uint16_t nb_tx, placed;

	if (unlikely(mc != NULL && __atomic_load_n(&mc->enabled, __ATOMIC_RELAXED) != 0))
		nb_tx = tx_burst_filtered(txq, q, tx_pkts, nb_pkts, th, mc, &placed);
	else
		placed = nb_tx = tx_burst(txq, q, tx_pkts, nb_pkts, th);

	/* Frames the filter dropped say nothing of the guest's buffers. */
	if (unlikely(placed == 0) && nb_tx < nb_pkts &&
			__atomic_load_n(&q->fatal, __ATOMIC_RELAXED) == XNB_FATAL_NONE)
		nb_tx += tx_no_room(txq, q, tx_pkts + nb_tx, nb_pkts - nb_tx);
	else if (unlikely(txq->blocked_since != 0) && placed != 0)
		tx_room_again(txq);
	return nb_tx;
}

/* Frames hashed and steered per burst call, at most. */
#define TX_STEER_BURST 64

/*
 * The frontend steers (xnb_steer.h): each frame to the guest-rx queue
 * its hash maps to, with its hash; a run of frames for one queue goes
 * in under that queue's lock, as any burst of the port may write it
 * now. A queue found no longer steered (the frontend turned hashing off
 * meanwhile) ends the call: its writers take no lock any more.
 */
static __rte_noinline uint16_t
tx_steered(struct xnb_txq *txq, struct rte_mbuf **tx_pkts, uint16_t nb_pkts)
{
	struct xnb_steer *st = txq->steer;
	const struct xnb_steer_cfg *cfg = &st->cfg[__atomic_load_n(&st->sel, __ATOMIC_ACQUIRE) & 1];
	uint16_t nq = __atomic_load_n(&st->nb_queues, __ATOMIC_RELAXED);
	struct xnb_tx_hash th[TX_STEER_BURST];
	uint16_t ring[TX_STEER_BURST];
	uint16_t i, j, n, sent;
	struct xnb_txq *tq;

	n = RTE_MIN(nb_pkts, (uint16_t)TX_STEER_BURST);
	if (nq == 0)
		return 0;
	for (i = 0; i < n; i++)
		ring[i] = xnb_steer_pick(cfg, nq, tx_pkts[i], &th[i]);
	for (i = 0; i < n; i += sent) {
		for (j = i + 1; j < n && ring[j] == ring[i]; j++)
			;
		tq = &st->queues[ring[i]]->tx;
		sent = 0;
		if (xnb_dp_enter(&tq->busy, &tq->allow) && tq->steered &&
				__atomic_load_n(&tq->q->fatal, __ATOMIC_RELAXED) == XNB_FATAL_NONE) {
			rte_spinlock_lock(&tq->lock);
			sent = tx_ring(tq, tq->q, tx_pkts + i, j - i, th + i);
			rte_spinlock_unlock(&tq->lock);
		}
		xnb_dp_leave(&tq->busy);
		if (sent < j - i)
			return i + sent;
	}
	return n;
}

uint16_t
xnb_tx_burst(void *queue, struct rte_mbuf **tx_pkts, uint16_t nb_pkts)
{
	struct xnb_txq *txq = queue;
	struct xnb_queue *q = txq->q;
	uint16_t nb_tx = 0;

	if (likely(xnb_dp_enter(&txq->busy, &txq->allow) &&
			__atomic_load_n(&q->fatal, __ATOMIC_RELAXED) == XNB_FATAL_NONE)) {
		/* Stable while entered: changed only with every queue quiesced. */
		if (unlikely(txq->steered)) {
			xnb_dp_leave(&txq->busy);
			return tx_steered(txq, tx_pkts, nb_pkts);
		}
		nb_tx = tx_ring(txq, q, tx_pkts, nb_pkts, NULL);
	}
	xnb_dp_leave(&txq->busy);
	return nb_tx;
}

void
xnb_tx_set_timeouts(struct xnb_txq *txq, uint32_t drain_ms, uint32_t stall_ms)
{
	txq->drain_tsc = (uint64_t)drain_ms * rte_get_timer_hz() / 1000;
	txq->stall_tsc = (uint64_t)stall_ms * rte_get_timer_hz() / 1000;
}

void
xnb_tx_stall_reset(struct xnb_txq *txq)
{
	txq->blocked_since = 0;
	__atomic_store_n(&txq->stalled, 0, __ATOMIC_RELAXED);
}

bool
xnb_tx_stall_check(struct xnb_txq *txq, bool *recovered)
{
	const struct xnb_queue *q = txq->q;
	RING_IDX prod, cons;

	*recovered = false;
	if (__atomic_load_n(&txq->stalled, __ATOMIC_ACQUIRE) == 0)
		return false;
	if (!q->connected)
		return true;
	/*
	 * The datapath's req_cons, read while it may run: a stale value only
	 * delays the verdict by a second. A guest that claims more requests
	 * than the ring holds stays stalled: its next burst stops the queue.
	 */
	prod = __atomic_load_n(&q->guest_rx.sring->req_prod, __ATOMIC_ACQUIRE);
	cons = __atomic_load_n(&q->guest_rx.req_cons, __ATOMIC_RELAXED);
	if (prod - cons == 0 || prod - cons > RING_SIZE(&q->guest_rx))
		return true;
	__atomic_store_n(&txq->stalled, 0, __ATOMIC_RELEASE);
	*recovered = true;
	return false;
}
