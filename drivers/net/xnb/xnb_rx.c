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
 *    frontend asked for one (rsp_event); a copy call that fails as a
 *    whole fails its packets and stops the queue.
 * Polling, this backend never moves req_event; rx interrupts
 * (xnb_intr.c) set it while the application sleeps.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "xnb_logs.h"
#include "xnb_mcast.h"
#include "xnb_offload.h"
#include "xnb_private.h"
#include "xnb_rxtx.h"

#define TX_RING_MASK (XNB_TX_RING_SIZE - 1)
/* mbufs taken from the pool per bulk allocation while building a chain. */
#define RX_ALLOC_CHUNK 32

/* The packet type of the fast path's frames (rx_blank_tcp4()). */
#define RX_PTYPE_TCP4 (RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP)

/*
 * The flag bit of a frame whose mbuf gets the fast path's guess
 * (rx_mbuf_init(), rx_build()): NETTXF_csum_blank while the fast path is
 * on, else 0. Both must agree, or rx_blank_tcp4() would leave a frame
 * that was not guessed untouched.
 */
static inline uint16_t
rx_guess_flag(const struct xnb_rxq *rxq)
{
	return rxq->blank_fast & NETTXF_csum_blank;
}

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
		} else if (e->type == XEN_NETIF_EXTRA_TYPE_HASH &&
				e->u.hash.type <= _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP) {
			out->has_hash = true;
			memcpy(&out->hash, e->u.hash.value, sizeof(out->hash));
		} else if ((e->type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ||
				e->type == XEN_NETIF_EXTRA_TYPE_MCAST_DEL) &&
				out->mcast_op != XEN_NETIF_EXTRA_TYPE_MCAST_ADD) {
			out->mcast_op = e->type;
			memcpy(out->mcast_addr, e->u.mcast.addr, sizeof(out->mcast_addr));
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
	bool more, mcast = false;
	uint32_t i = 1;

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
			mcast |= w->extras[w->nb_extras].type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ||
				w->extras[w->nb_extras].type == XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
			w->nb_extras++;
			i++;
		} while (more);
	}
	/*
	 * A multicast control request (netif.h: a dummy transmit request):
	 * its first slot and extra slots only, its data never read, as
	 * Linux's netback takes it (xenvif_tx_build_gops()).
	 */
	if (mcast) {
		w->nb_reqs = (uint16_t)i;
		return xnb_rx_extras_verdict(w->extras, w->nb_extras, &w->ext);
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
static inline struct rte_mbuf *
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
 * Copy segments for bytes [from, from + n) of a checked packet's frame
 * into the chain from m at offset moff (whose data_len are set); the
 * number of segments afterwards. Zero-size slots build no segment
 * (XSA-448).
 */
static __rte_always_inline uint32_t
rx_copy_range(struct xnb_rxq *rxq, const struct xnb_rx_walk *w, uint32_t from, uint32_t n,
		struct rte_mbuf *m, uint32_t moff, uint32_t nsegs)
{
	const netif_tx_request_t *slot;
	uint32_t j = 0, slen = w->first_len, chunk, left;
	uint16_t domid = rxq->q->domid, off;

	/* The slot holding byte from (the checks made the slots add up). */
	while (from >= slen && j + 1 < w->nb_data) {
		from -= slen;
		slen = w->data[++j]->size;
	}
	for (; j < w->nb_data && n > 0; j++, from = 0) {
		slot = w->data[j];
		left = RTE_MIN((j == 0 ? w->first_len : slot->size) - from, n);
		off = (uint16_t)(slot->offset + from);
		n -= left;
		while (left > 0) {
			chunk = RTE_MIN(left, (uint32_t)m->data_len - moff);
			xnb_copy_from_guest(&rxq->copy[nsegs++], domid, slot->gref, off,
				rte_pktmbuf_mtod_offset(m, void *, moff), (uint16_t)chunk);
			off += chunk;
			left -= chunk;
			moff += chunk;
			if (moff == m->data_len) {
				m = m->next;
				moff = 0;
			}
		}
	}
	return nsegs;
}

/* Spread len bytes over the chain from head, room bytes per mbuf. */
static void
rx_set_lengths(struct rte_mbuf *head, uint32_t len, uint32_t room)
{
	struct rte_mbuf *m;
	uint32_t left = len;

	head->pkt_len = len;
	for (m = head; m != NULL; m = m->next) {
		m->data_len = (uint16_t)RTE_MIN(left, room);
		left -= m->data_len;
	}
}

/*
 * Give a checked packet its mbuf chain and copy segments. Returns false
 * (nothing allocated) when the pool is short.
 */
static bool
rx_build(struct xnb_rxq *rxq, const struct xnb_rx_walk *w, struct xnb_rx_pkt *pkt,
		uint32_t room, uint32_t nb_mbufs, uint32_t *nsegs)
{
	struct rte_mbuf *head;

	head = rx_alloc_chain(rxq->mb_pool, nb_mbufs);
	if (unlikely(head == NULL))
		return false;
	rx_set_lengths(head, w->data[0]->size, room);
	head->port = rxq->port_id;
	/* As the gathering loop does (rx_mbuf_init()). */
	if (w->data[0]->flags & rx_guess_flag(rxq)) {
		head->packet_type = RX_PTYPE_TCP4;
		head->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
		head->tx_offload = rxq->guess_tx;
	}
	pkt->head = head;
	pkt->first_seg = (uint16_t)*nsegs;
	*nsegs = rx_copy_range(rxq, w, 0, w->data[0]->size, head, 0, *nsegs);
	pkt->nb_segs = (uint16_t)(*nsegs - pkt->first_seg);
	return true;
}

/*
 * The response at ring index idx of the guest-tx ring's entries ent (one
 * page, XNB_TX_RING_SIZE entries: BACK_RING_ATTACH in xnb_queue.c).
 */
static inline void
rx_respond(union netif_tx_sring_entry *ent, RING_IDX idx, uint16_t id, int16_t status)
{
	ent[idx & TX_RING_MASK].rsp = (netif_tx_response_t){ .id = id, .status = status };
}

/* The parsed headers into the mbuf, as DPDK's PMDs report them. */
static inline void
rx_set_hdr(struct rte_mbuf *m, const struct xnb_hdr *h)
{
	m->packet_type = h->ptype;
	/* One store: the mbuf came from the pool with tx_offload zero. */
	m->tx_offload = rte_mbuf_tx_offload(h->l2_len, h->l3_len, h->l4_len, 0, 0, 0, 0);
}

/* The verdict on the IPv4 header of l3_len bytes at offset l2_len, in m's first mbuf. */
static inline uint64_t
rx_ip4_csum_flag(const struct rte_mbuf *m, uint32_t l2_len, uint32_t l3_len)
{
	return rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const void *, l2_len), l3_len) == 0xffff ?
		RTE_MBUF_F_RX_IP_CKSUM_GOOD : RTE_MBUF_F_RX_IP_CKSUM_BAD;
}

/*
 * The IPv4 header checksum of a parsed frame, for an application that
 * enabled RTE_ETH_RX_OFFLOAD_IPV4_CKSUM; IPv6 and unparsed frames stay
 * RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN.
 */
static inline void
rx_ip_csum(struct rte_mbuf *m, const struct xnb_hdr *h)
{
	if (h->l3_len == 0 || h->ipv6 || (uint32_t)h->l2_len + h->l3_len > m->data_len)
		return;
	m->ol_flags |= rx_ip4_csum_flag(m, h->l2_len, h->l3_len);
}

/*
 * A blank checksum (the guest "offloaded" it) of a parsed frame: left
 * blank with RTE_MBUF_F_RX_L4_CKSUM_NONE when the application takes that
 * for the protocol (the field holds the pseudo-header sum, as DPDK's
 * checksum offload wants it on tx), else completed in software. Never a
 * blank checksum to an application that did not ask for one.
 */
static inline int16_t
rx_csum_blank(const struct xnb_rxq *rxq, struct rte_mbuf *m, const struct xnb_hdr *h)
{
	if (unlikely(!xnb_hdr_l4_csum_ok(h)))
		return NETIF_RSP_ERROR;
	if (h->proto == IPPROTO_TCP ? rxq->csum_tcp : rxq->csum_udp) {
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
		return NETIF_RSP_OKAY;
	}
	if (unlikely(xnb_csum_complete(m, h) != 0))
		return NETIF_RSP_ERROR;
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	return NETIF_RSP_OKAY;
}

/*
 * rx_offload()'s general case: any frame whose headers the inline parse
 * does not take, or a GSO super-frame the application takes as LRO
 * (RTE_MBUF_F_RX_LRO with tso_segsz, its checksum blank: a guest that
 * sent GSO without NETTXF_csum_blank gets its pseudo-header sum
 * recomputed, as Linux's netback does). Out of line, so that the inline
 * cases stay small.
 */
static __rte_noinline int16_t
rx_offload_general(struct xnb_rxq *rxq, const struct xnb_rx_pkt *pkt, uint32_t i)
{
	struct rte_mbuf *m = pkt->head;
	struct xnb_hdr h;
	uint8_t *hdr;
	uint16_t phdr;

	if (unlikely(xnb_hdr_parse(m, &h) != 0))
		return NETIF_RSP_ERROR;
	rx_set_hdr(m, &h);
	if (unlikely(rxq->csum_ip))
		rx_ip_csum(m, &h);
	rxq->stats.csum_blank += (pkt->flags & NETTXF_csum_blank) != 0;
	if (pkt->gso_type != XEN_NETIF_GSO_TYPE_NONE) {
		if (xnb_gso_check(&h, pkt->gso_type, pkt->gso_size, m->pkt_len,
				RTE_MIN(rxq->pkt_ext[i].first_len, m->data_len)) != 0)
			return NETIF_RSP_ERROR;
		rxq->stats.gso++;
		m->ol_flags |= RTE_MBUF_F_RX_LRO;
		m->tso_segsz = pkt->gso_size;
		if ((pkt->flags & NETTXF_csum_blank) == 0) {
			/* xnb_gso_check() found the headers in the first mbuf. */
			hdr = rte_pktmbuf_mtod(m, uint8_t *);
			phdr = xnb_phdr_sum(hdr, &h);
			memcpy(hdr + xnb_hdr_csum_off(&h), &phdr, sizeof(phdr));
		}
	}
	return rx_csum_blank(rxq, m, &h);
}

/* A plain frame's headers, for an application that enabled IPv4 checksum offload. */
static __rte_noinline void
rx_plain_ip(struct rte_mbuf *m)
{
	struct xnb_hdr h;

	if (xnb_hdr_parse(m, &h) == 0) {
		rx_set_hdr(m, &h);
		rx_ip_csum(m, &h);
	}
}

/* A blank checksum left blank: the headers and flags the application gets. */
static __rte_always_inline void
rx_blank_set(struct xnb_rxq *rxq, struct rte_mbuf *m, uint32_t ptype, uint32_t l3, uint32_t l4)
{
	m->packet_type = ptype;
	m->tx_offload = rte_mbuf_tx_offload(RTE_ETHER_HDR_LEN, l3, l4, 0, 0, 0, 0);
	m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
	if (rxq->csum_ip && l3 == sizeof(struct rte_ipv4_hdr))
		m->ol_flags |= rx_ip4_csum_flag(m, RTE_ETHER_HDR_LEN, l3);
	rxq->stats.csum_blank++;
}

/*
 * Every shape xnb_hdr_fast() takes, for the frames rx_blank_tcp4() does
 * not finish inline: IPv6, UDP, a frame of several copy segments or too
 * short a first one, an application checking IPv4 headers, a frame with
 * extra-info slots. Out of line, so that the TCP/IPv4 case inlined in
 * rx_complete() keeps its values in registers.
 */
static __rte_noinline bool
rx_blank_other(struct xnb_rxq *rxq, struct rte_mbuf *m)
{
	uint32_t f = xnb_hdr_fast(m, m->pkt_len);

	if (unlikely(f == 0 || !(XNB_FAST_PROTO(f) == IPPROTO_TCP ? rxq->csum_tcp : rxq->csum_udp)))
		return false;
	rx_blank_set(rxq, m, xnb_hdr_fast_ptype(f), XNB_FAST_L3(f), XNB_FAST_L4(f));
	return true;
}

/* The guess a burst starts from, and what a batch takes up: l4 bytes of TCP header. */
static void
rx_guess_take(struct xnb_rxq *rxq, uint32_t l4)
{
	rxq->guess_l4 = l4;
	rxq->guess_next = l4;
	rxq->guess_min = XNB_GUESS_MIN(l4);
	rxq->guess_tx = rte_mbuf_tx_offload(RTE_ETHER_HDR_LEN, sizeof(struct rte_ipv4_hdr), l4,
		0, 0, 0, 0);
}

/*
 * A frame the fast path did not finish goes on as one that was never
 * guessed (rx_mbuf_init()): the fields as rte_pktmbuf_reset() leaves them.
 */
static inline void
rx_unguess(struct rte_mbuf *m)
{
	m->packet_type = 0;
	m->ol_flags &= RTE_MBUF_F_EXTERNAL;
	m->tx_offload = 0;
}

/*
 * A Linux guest's every TCP segment: a blank checksum the application
 * takes as such (rxq->blank_fast: TCP checksums taken, IPv4 headers not
 * checked), TCP over IPv4 in headers of the common shape, which need
 * nothing but the headers: the packet type and the lengths are constants
 * but for the TCP header's. The gathering loop wrote them into the mbuf
 * for the TCP header's length last seen (rxq->guess_l4), so a frame that
 * has it needs no store at all, and one check (xnb_hdr_is_tcp4()); one
 * with another gets its lengths, and the next batch's guess. A frame of
 * one copy segment, seg, is read where that segment put it rather than
 * through the mbuf, whose cache line went cold behind the copy: the
 * header's load does not wait for that miss (doc/benchmark.md,
 * Offloads). false leaves the frame to the other paths.
 */
static inline bool
rx_blank_tcp4(struct xnb_rxq *rxq, struct rte_mbuf *m, const xengnttab_grant_copy_segment_t *seg,
		uint16_t nb_segs)
{
	uint32_t l4;

	if (likely(nb_segs == 1) && likely(seg->len >= rxq->guess_min)) {
		RTE_ASSERT(seg->dest.virt == rte_pktmbuf_mtod(m, void *) && seg->len == m->pkt_len);
		RTE_ASSERT(m->packet_type == RX_PTYPE_TCP4 && m->tx_offload == rxq->guess_tx &&
			(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE);
		if (likely(xnb_hdr_is_tcp4(seg->dest.virt, seg->len, rxq->guess_l4))) {
			rxq->stats.csum_blank++;
			return true;
		}
		/* Ethernet padding, or another TCP header length. */
		l4 = xnb_hdr_fast_tcp4(seg->dest.virt, seg->len);
		if (l4 != 0) {
			if (l4 != rxq->guess_l4) {
				m->tx_offload = rte_mbuf_tx_offload(RTE_ETHER_HDR_LEN,
					sizeof(struct rte_ipv4_hdr), l4, 0, 0, 0, 0);
				rxq->guess_next = l4;
			}
			rxq->stats.csum_blank++;
			return true;
		}
	}
	return false;
}

/* The guest's own hash of the frame (its hash slot), as an RSS hash. */
static __rte_noinline void
rx_set_hash(struct rte_mbuf **m, uint16_t n, uint32_t hash)
{
	uint16_t k;

	for (k = 0; k < n; k++) {
		m[k]->hash.rss = hash;
		m[k]->ol_flags |= RTE_MBUF_F_RX_RSS_HASH;
	}
}

/* A frame with no blank checksum and no GSO: only flags. */
static __rte_always_inline void
rx_offload_plain(struct xnb_rxq *rxq, const struct xnb_rx_pkt *pkt, struct rte_mbuf *m)
{
	if (pkt->flags & NETTXF_data_validated)
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	if (unlikely(rxq->csum_ip))
		rx_plain_ip(m);
}

/*
 * A frame with extra-info slots (GSO, the guest's hash, multicast
 * control), out of line: the guest's hash into the mbuf, then as any
 * frame.
 */
static __rte_noinline int16_t
rx_offload_extras(struct xnb_rxq *rxq, const struct xnb_rx_pkt *pkt, uint32_t i)
{
	struct rte_mbuf *m = pkt->head;

	if (rxq->pkt_ext[i].has_hash && rxq->rss_hash)
		rx_set_hash(&m, 1, rxq->pkt_ext[i].hash);
	if ((pkt->flags & NETTXF_csum_blank) == 0 && pkt->gso_type == XEN_NETIF_GSO_TYPE_NONE) {
		rx_offload_plain(rxq, pkt, m);
		return NETIF_RSP_OKAY;
	}
	if (pkt->gso_type == XEN_NETIF_GSO_TYPE_NONE && rx_blank_other(rxq, m))
		return NETIF_RSP_OKAY;
	return rx_offload_general(rxq, pkt, i);
}

/*
 * Offload flags of a whole frame in one chain: a checksum the guest
 * validated is reported good; a blank one goes through rx_csum_blank(),
 * a frame whose blank checksum cannot be located is dropped, as Linux's
 * netback does. Frames with extra-info slots (GSO, the guest's hash)
 * go through rx_offload_extras(), headers out of the common shape to
 * rx_offload_general().
 */
static inline int16_t
rx_offload(struct xnb_rxq *rxq, const struct xnb_rx_pkt *pkt, uint32_t i)
{
	/* GSO comes in an extra-info slot: one flag test covers both. */
	uint16_t f = pkt->flags & (NETTXF_csum_blank | NETTXF_extra_info);
	struct rte_mbuf *m = pkt->head;

	if (likely(f == 0)) {
		rx_offload_plain(rxq, pkt, m);
		return NETIF_RSP_OKAY;
	}
	if (likely(f == rxq->blank_fast) &&
			likely(rx_blank_tcp4(rxq, m, &rxq->copy[pkt->first_seg], pkt->nb_segs)))
		return NETIF_RSP_OKAY;
	rx_unguess(m);
	if (f & NETTXF_extra_info)
		return rx_offload_extras(rxq, pkt, i);
	if (rx_blank_other(rxq, m))
		return NETIF_RSP_OKAY;
	return rx_offload_general(rxq, pkt, i);
}

/* Hand m to the application: into rx_pkts while there is room, then the stash. */
static inline void
rx_deliver(struct xnb_rxq *rxq, struct rte_mbuf *m, struct rte_mbuf **rx_pkts,
		uint16_t *nb_rx, uint16_t nb_pkts)
{
	if (likely(*nb_rx < nb_pkts)) {
		rx_pkts[(*nb_rx)++] = m;
		return;
	}
	/* The gathering loop leaves room for every frame it makes. */
	if (unlikely(rxq->stash_len == RTE_DIM(rxq->stash))) {
		rte_pktmbuf_free(m);
		rxq->stats.errors++;
		return;
	}
	rxq->stash[(rxq->stash_head + rxq->stash_len++) % RTE_DIM(rxq->stash)] = m;
}

/*
 * The frames of a segmented GSO packet: each gets its checksum (left
 * blank, with its pseudo-header sum, or completed) and goes up.
 */
static int16_t
rx_gso_finish(struct xnb_rxq *rxq, const struct xnb_rx_pkt_ext *ext,
		struct rte_mbuf **rx_pkts, uint16_t *nb_rx, uint16_t nb_pkts, uint64_t *bytes)
{
	struct rte_mbuf **segs = &rxq->seg_out[ext->first_out];
	struct xnb_hdr h = ext->hdr;
	int16_t status = NETIF_RSP_OKAY;
	uint32_t k;

	for (k = 0; k < ext->nb_out && status == NETIF_RSP_OKAY; k++) {
		h.l4_total = segs[k]->pkt_len - h.l2_len - h.l3_len;
		status = rx_csum_blank(rxq, segs[k], &h);
		/* xnb wrote the IPv4 header checksum itself. */
		if (rxq->csum_ip && !h.ipv6)
			segs[k]->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	}
	if (unlikely(status != NETIF_RSP_OKAY)) {
		rte_pktmbuf_free_bulk(segs, ext->nb_out);
		return status;
	}
	for (k = 0; k < ext->nb_out; k++) {
		*bytes += segs[k]->pkt_len;
		rx_deliver(rxq, segs[k], rx_pkts, nb_rx, nb_pkts);
	}
	return status;
}

/*
 * A good packet without a head: a multicast control request, done
 * already; or a segmented super-frame, its frames delivered or freed.
 * Its status.
 */
static __rte_noinline int16_t
rx_complete_nohead(struct xnb_rxq *rxq, const struct xnb_rx_pkt *pkt,
		const struct xnb_rx_pkt_ext *ext, int16_t status, struct rte_mbuf **rx_pkts,
		uint16_t *nb_rx, uint16_t nb_pkts, uint64_t *bytes)
{
	if (ext->mcast)
		return status;
	if (status != NETIF_RSP_OKAY) {
		rte_pktmbuf_free_bulk(&rxq->seg_out[ext->first_out], ext->nb_out);
		return status;
	}
	if (ext->has_hash && rxq->rss_hash)
		rx_set_hash(&rxq->seg_out[ext->first_out], ext->nb_out, ext->hash);
	status = rx_gso_finish(rxq, ext, rx_pkts, nb_rx, nb_pkts, bytes);
	if (status == NETIF_RSP_OKAY) {
		rxq->stats.gso++;
		rxq->stats.gso_segments += ext->nb_out;
		rxq->stats.csum_blank += (pkt->flags & NETTXF_csum_blank) != 0;
	}
	return status;
}

/*
 * The copy call for the gathered packets, then each packet's fate and
 * its responses in slot order. Frames go to rx_pkts after the nb_rx
 * already there, up to nb_pkts, then to the stash. Returns the new nb_rx.
 */
static uint16_t
rx_complete(struct xnb_rxq *rxq, uint32_t npkts, uint32_t nsegs,
		struct rte_mbuf **rx_pkts, uint16_t nb_rx, uint16_t nb_pkts)
{
	struct xnb_queue *q = rxq->q;
	netif_tx_back_ring_t *ring = &q->guest_tx;
	union netif_tx_sring_entry *ent = ring->sring->ring;
	const xengnttab_grant_copy_segment_t *seg;
	uint64_t bytes = 0, errors = 0, packets = 0;
	struct xnb_rx_pkt *pkt;
	RING_IDX first, rsp;
	int16_t status;
	uint32_t i, k;
	uint16_t j;

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
		}
		if (unlikely(pkt->head == NULL && pkt->status == NETIF_RSP_OKAY)) {
			/* No frame of its own, good: a super-frame segmented, or a multicast request. */
			status = rx_complete_nohead(rxq, pkt, &rxq->pkt_ext[i], status, rx_pkts,
				&nb_rx, nb_pkts, &bytes);
			if (status == NETIF_RSP_OKAY)
				packets += rxq->pkt_ext[i].nb_out;
			errors += status != NETIF_RSP_OKAY;
		} else {
			if (likely(status == NETIF_RSP_OKAY))
				status = rx_offload(rxq, pkt, i);
			if (likely(status == NETIF_RSP_OKAY)) {
				bytes += pkt->head->pkt_len;
				packets++;
				rx_deliver(rxq, pkt->head, rx_pkts, &nb_rx, nb_pkts);
			} else {
				if (pkt->head != NULL)
					rte_pktmbuf_free(pkt->head);
				errors++;
			}
		}
		pkt->status = status;
	}
	/*
	 * The responses, once every frame is done with. Their cache lines are
	 * the guest's (it reads responses and writes requests there), and a
	 * store waits for its line: stores into the mbufs queued behind them
	 * held the loop up, doubling its time when the guest's core is far
	 * (doc/benchmark.md, Offloads).
	 */
	rsp = ring->rsp_prod_pvt;
	for (i = 0; i < npkts; i++) {
		pkt = &rxq->pkts[i];
		status = pkt->status;
		/* First slot, its extra-info slots (NULL), then the others. */
		first = pkt->first_req;
		rx_respond(ent, rsp++, rxq->reqs[first & TX_RING_MASK].id, status);
		for (j = 1; unlikely(j < pkt->nb_reqs); j++) {
			if (j <= pkt->nb_extras)
				rx_respond(ent, rsp++, 0, NETIF_RSP_NULL);
			else
				rx_respond(ent, rsp++, rxq->reqs[(first + j) & TX_RING_MASK].id,
					status);
		}
	}
	ring->rsp_prod_pvt = rsp;
	if (unlikely(rxq->guess_next != rxq->guess_l4))
		rx_guess_take(rxq, rxq->guess_next);
	rxq->stats.packets += packets;
	rxq->stats.bytes += bytes;
	rxq->stats.errors += errors;
	return nb_rx;
}

/*
 * The general case of one packet at ring index cons: walk and check it,
 * then give a good one its mbuf chain (rx_build()), or its frames
 * (rx_gso_build()).
 *  - DONE: rxq->pkts[npkts] describes it (nb_reqs: the slots it takes;
 *    status: OKAY to deliver it, else ERROR or DROPPED), its copy
 *    segments are added at *nsegs, its frames at *nout;
 *  - FLUSH: the batch is full: make the copy call first, then come back;
 *  - STOP: a partial packet, a fatal one (the queue is stopped), or no
 *    mbufs (the packet stays on the ring, copied, for a later burst).
 */
enum rx_slow {
	RX_SLOW_DONE,
	RX_SLOW_STOP,
	RX_SLOW_FLUSH,
};

/*
 * A GSO super-frame the application does not take as LRO, segmented
 * while it is copied: its headers are copied first (one small copy call)
 * and checked, then each MSS-sized frame gets its own mbuf (chain) with
 * the headers replicated and fixed up for it, and its payload is
 * grant-copied straight behind them, so segmenting costs no pass over
 * the data. Returns the verdict; on OK its frames are in
 * rxq->seg_out[*nout...] and their copy segments at *nsegs. *nombuf is
 * set when the pool is short (nothing kept).
 */
static enum xnb_verdict
rx_gso_build(struct xnb_rxq *rxq, const struct xnb_rx_walk *w, struct xnb_rx_pkt *pkt,
		struct xnb_rx_pkt_ext *ext, uint32_t room, uint32_t *nsegs, uint32_t *nout,
		bool *nombuf)
{
	struct xnb_hdr *h = &ext->hdr;
	struct xnb_queue *q = rxq->q;
	uint32_t len = w->data[0]->size, mss = w->ext.gso_size, peek, hlen, payload;
	uint32_t nseg, k, seg_len, per, from;
	uint8_t orig[XNB_GSO_HDR_MAX];
	struct rte_mbuf *m0, *m;

	*nombuf = false;
	/*
	 * Its headers must be in its first slot: with no bytes there it is an
	 * error, found without a copy segment of 0 bytes (XSA-448's rule;
	 * fuzz-guest-tx, test_gso_empty_first_slot).
	 */
	if (unlikely(w->first_len == 0))
		return XNB_VERDICT_ERROR;
	m0 = rte_pktmbuf_alloc(rxq->mb_pool);
	if (unlikely(m0 == NULL)) {
		*nombuf = true;
		return XNB_VERDICT_DROP;
	}
	peek = RTE_MIN(RTE_MIN((uint32_t)w->first_len, (uint32_t)XNB_GSO_HDR_MAX), room);
	m0->data_len = (uint16_t)peek;
	m0->pkt_len = peek;
	xnb_copy_from_guest(&rxq->copy[*nsegs], q->domid, w->data[0]->gref,
		w->data[0]->offset, rte_pktmbuf_mtod(m0, void *), (uint16_t)peek);
	xnb_copy_flush(q, &rxq->copy[*nsegs], 1, &rxq->stats.copy_calls, &rxq->stats.copy_segs);
	/* The headers within the first slot, then checked as a TCP super-frame. */
	if (rxq->copy[*nsegs].status != GNTST_okay || xnb_hdr_parse_len(m0, len, h) != 0 ||
			xnb_gso_check(h, w->ext.gso_type, (uint16_t)mss, len, peek) != 0) {
		rte_pktmbuf_free(m0);
		return XNB_VERDICT_ERROR;
	}
	hlen = xnb_hdr_len(h);
	payload = h->l4_total - h->l4_len;
	nseg = (payload + mss - 1) / mss;
	per = (hlen + mss + room - 1) / room;
	if (nseg > RTE_DIM(rxq->seg_out) - *nout) {
		rte_pktmbuf_free(m0);
		return XNB_VERDICT_ERROR;
	}
	if (per > 1 && !rxq->scatter) {
		rte_pktmbuf_free(m0);
		return XNB_VERDICT_DROP;
	}
	memcpy(orig, rte_pktmbuf_mtod(m0, void *), hlen);
	pkt->first_seg = (uint16_t)*nsegs;
	ext->first_out = (uint16_t)*nout;
	for (k = 0; k < nseg; k++) {
		seg_len = RTE_MIN(mss, payload - k * mss);
		per = (hlen + seg_len + room - 1) / room;
		if (k == 0) {
			m = m0;
			if (per > 1) {
				m->next = rx_alloc_chain(rxq->mb_pool, per - 1);
				if (m->next == NULL)
					goto nomem;
				m->nb_segs = (uint16_t)per;
			}
		} else {
			m = rx_alloc_chain(rxq->mb_pool, per);
			if (m == NULL)
				goto nomem;
			memcpy(rte_pktmbuf_mtod(m, void *), orig, hlen);
		}
		rxq->seg_out[(*nout)++] = m;
		rx_set_lengths(m, hlen + seg_len, room);
		m->port = rxq->port_id;
		rx_set_hdr(m, h);
		xnb_gso_seg_header(rte_pktmbuf_mtod(m, uint8_t *), h, k, mss, seg_len,
			k + 1 == nseg);
		from = hlen + k * mss;
		*nsegs = rx_copy_range(rxq, w, from, seg_len, m, hlen, *nsegs);
	}
	ext->nb_out = (uint16_t)nseg;
	pkt->nb_segs = (uint16_t)(*nsegs - pkt->first_seg);
	return XNB_VERDICT_OK;

nomem:
	rte_pktmbuf_free_bulk(&rxq->seg_out[ext->first_out], *nout - ext->first_out);
	if (k == 0)
		rte_pktmbuf_free(m0);
	*nout = ext->first_out;
	*nsegs = pkt->first_seg;
	*nombuf = true;
	return XNB_VERDICT_DROP;
}

/*
 * A multicast control request: the guest's filter amended at once, as
 * Linux's netback does (an ADD past XNB_MCAST_MAX answered ERROR), the
 * request answered in slot order with the burst's other packets.
 */
static enum rx_slow
rx_slow_mcast(struct xnb_rxq *rxq, const struct xnb_rx_walk *w, RING_IDX cons,
		uint32_t npkts, uint32_t nsegs)
{
	struct xnb_rx_pkt *pkt;
	int16_t status = NETIF_RSP_OKAY;

	if (npkts == XNB_MAX_BURST)
		return RX_SLOW_FLUSH;
	if (rxq->mcast == NULL)
		status = NETIF_RSP_ERROR;
	else if (w->ext.mcast_op == XEN_NETIF_EXTRA_TYPE_MCAST_ADD)
		status = xnb_mcast_add(rxq->mcast, w->ext.mcast_addr) == 0 ?
			NETIF_RSP_OKAY : NETIF_RSP_ERROR;
	else
		xnb_mcast_del(rxq->mcast, w->ext.mcast_addr);
	rxq->stats.mcast_requests++;
	pkt = &rxq->pkts[npkts];
	*pkt = (struct xnb_rx_pkt){
		.first_seg = (uint16_t)nsegs,
		.first_req = cons,
		.nb_reqs = w->nb_reqs,
		.nb_extras = w->nb_extras,
		.flags = w->data[0]->flags,
		.status = status,
	};
	rxq->pkt_ext[npkts].mcast = true;
	rxq->pkt_ext[npkts].nb_out = 0;
	return RX_SLOW_DONE;
}

static enum rx_slow
rx_slow(struct xnb_rxq *rxq, RING_IDX cons, uint32_t avail, uint32_t room,
		uint32_t npkts, uint32_t *nsegs, uint32_t *nout)
{
	struct xnb_queue *q = rxq->q;
	uint32_t nb_mbufs = 0, worst = 0, nseg_max = 0;
	struct xnb_rx_pkt_ext *ext;
	struct xnb_rx_pkt *pkt;
	struct xnb_rx_walk w;
	enum xnb_verdict v;
	bool gso_seg = false, nombuf;

	v = xnb_rx_walk(rxq->reqs, TX_RING_MASK, cons, avail, &w);
	if (v == XNB_VERDICT_PARTIAL)
		return RX_SLOW_STOP;
	if (unlikely(v == XNB_VERDICT_FATAL)) {
		xnb_queue_fatal(q, w.why, 0);
		return RX_SLOW_STOP;
	}
	if (unlikely(v == XNB_VERDICT_OK && w.ext.mcast_op != 0))
		return rx_slow_mcast(rxq, &w, cons, npkts, *nsegs);
	if (likely(v == XNB_VERDICT_OK) && w.ext.gso_type != XEN_NETIF_GSO_TYPE_NONE &&
			!rxq->lro) {
		/*
		 * Segmented: at most one frame per gso_size bytes beyond the
		 * smallest TCP headers, each a chain of at most per mbufs.
		 */
		gso_seg = true;
		nseg_max = (w.data[0]->size + w.ext.gso_size - 1) / w.ext.gso_size;
		worst = nseg_max * ((XNB_GSO_HDR_MAX + w.ext.gso_size + room - 1) / room) +
			w.nb_data + 1;
		if (nseg_max > RTE_DIM(rxq->seg_out) || worst > XNB_COPY_BATCH) {
			XNB_DP_LOG(DEBUG, "dom %u queue %u: GSO frame of %u B at %u B per segment: too many segments",
				q->domid, q->id, w.data[0]->size, w.ext.gso_size);
			v = XNB_VERDICT_ERROR;
			worst = 0;
			nseg_max = 0;
		}
	} else if (likely(v == XNB_VERDICT_OK) && unlikely(w.data[0]->size > rxq->max_frame &&
			w.ext.gso_type == XEN_NETIF_GSO_TYPE_NONE)) {
		XNB_DP_LOG(DEBUG, "dom %u queue %u: %u B frame dropped: longer than the MTU allows (%u B)",
			q->domid, q->id, w.data[0]->size, rxq->max_frame);
		v = XNB_VERDICT_DROP;
	} else if (likely(v == XNB_VERDICT_OK)) {
		nb_mbufs = (w.data[0]->size + room - 1) / room;
		/* Every slot piece, plus one more per mbuf boundary. */
		worst = w.nb_data + nb_mbufs - 1;
		if (unlikely(nb_mbufs > 1 && !rxq->scatter &&
				!(rxq->lro && w.ext.gso_type != XEN_NETIF_GSO_TYPE_NONE))) {
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
	if (npkts == XNB_MAX_BURST || *nsegs + worst > XNB_COPY_BATCH ||
			*nout + nseg_max > RTE_DIM(rxq->seg_out))
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
	};
	ext = &rxq->pkt_ext[npkts];
	ext->first_len = w.first_len;
	ext->nb_out = 0;
	ext->has_hash = w.ext.has_hash;
	ext->hash = w.ext.hash;
	ext->mcast = false;
	if (likely(v == XNB_VERDICT_OK) && gso_seg) {
		v = rx_gso_build(rxq, &w, pkt, ext, room, nsegs, nout, &nombuf);
		if (unlikely(nombuf)) {
			rxq->stats.nombuf++;
			return RX_SLOW_STOP;
		}
		if (v == XNB_VERDICT_OK) {
			pkt->status = NETIF_RSP_OKAY;
			return RX_SLOW_DONE;
		}
		/* Its header copy call failed and stopped the queue (xnb_copy_flush()). */
		if (unlikely(__atomic_load_n(&q->fatal, __ATOMIC_RELAXED) != XNB_FATAL_NONE))
			return RX_SLOW_STOP;
	} else if (likely(v == XNB_VERDICT_OK)) {
		if (unlikely(!rx_build(rxq, &w, pkt, room, nb_mbufs, nsegs))) {
			/* Left on the ring, copied, for a later burst. */
			rxq->stats.nombuf++;
			return RX_SLOW_STOP;
		}
		pkt->status = NETIF_RSP_OKAY;
		return RX_SLOW_DONE;
	}
	XNB_DP_LOG(DEBUG, "dom %u queue %u: bad packet at %u (%u slots)",
		q->domid, q->id, cons, w.nb_reqs);
	pkt->status = v == XNB_VERDICT_DROP ? NETIF_RSP_DROPPED : NETIF_RSP_ERROR;
	return RX_SLOW_DONE;
}

/* Frames left from an earlier burst go first. */
static uint16_t
rx_unstash(struct xnb_rxq *rxq, struct rte_mbuf **rx_pkts, uint16_t nb_pkts)
{
	uint16_t n = 0;

	while (n < nb_pkts && rxq->stash_len > 0) {
		rx_pkts[n++] = rxq->stash[rxq->stash_head];
		rxq->stash_head = (uint16_t)((rxq->stash_head + 1) % RTE_DIM(rxq->stash));
		rxq->stash_len--;
	}
	return n;
}

void
xnb_rx_release(struct xnb_rxq *rxq)
{
	struct rte_mbuf *m[XNB_MAX_BURST];
	uint16_t n;

	while ((n = rx_unstash(rxq, m, RTE_DIM(m))) > 0)
		rte_pktmbuf_free_bulk(m, n);
	rxq->stash_head = 0;
}

/*
 * Credit scheduling, as Linux's netback (tx_credit_exceeded(),
 * tx_add_credit()), with the window checked at each burst instead of a
 * timer: rate_bytes of credit every rate_tsc cycles, up to 128 KiB (or
 * rate_bytes if more) so that a 64 KiB GSO frame always gets through.
 */
#define XNB_RATE_MAX_BURST (128u * 1024)

void
xnb_rx_set_rate(struct xnb_rxq *rxq, uint64_t bytes, uint64_t usec)
{
	uint64_t tsc = bytes != 0 && usec != 0 ? rte_get_timer_hz() / 1000000 * usec : 0;

	__atomic_store_n(&rxq->rate_bytes, tsc != 0 ? bytes : 0, __ATOMIC_RELAXED);
	__atomic_store_n(&rxq->rate_tsc, tsc, __ATOMIC_RELEASE);
}

/*
 * With a rate limit, how many of the avail copied slots from cons a burst
 * may take: the whole packets whose sizes (their first slot's) fit in the
 * guest's credit, a new window's added when one began. 0: throttled.
 * Outside the burst loop, so that a guest without a limit pays one test
 * per burst.
 */
static __rte_noinline uint32_t
rx_rate_cap(struct xnb_rxq *rxq, RING_IDX cons, uint32_t avail)
{
	uint64_t now = rte_get_timer_cycles(), bytes, max, credit, window, late, k;
	bool waiting = false;
	struct xnb_rx_walk w;
	enum xnb_verdict v;
	uint32_t n = 0;
	uint16_t size;

	window = __atomic_load_n(&rxq->rate_tsc, __ATOMIC_RELAXED);
	late = now - rxq->credit_start;
	if (late >= window) {
		bytes = __atomic_load_n(&rxq->rate_bytes, __ATOMIC_RELAXED);
		max = RTE_MAX((uint64_t)XNB_RATE_MAX_BURST, bytes);
		if (rxq->credit_waiting && window != 0) {
			/*
			 * The guest has waited on its ring since: every window
			 * since was due, and the next one starts when this one
			 * was due, as with netback's credit timer, not when a
			 * burst noticed (a late burst, its lcore not run for a
			 * while, must not stretch the windows).
			 */
			k = late / window;
			credit = bytes == 0 ? 0 : k > max / bytes ? max : k * bytes;
			rxq->credit_start += k * window;
		} else {
			/* Idle since: one window's credit, a window from now. */
			credit = bytes;
			rxq->credit_start = now;
		}
		rxq->credit = RTE_MIN(rxq->credit + credit, max);
	}
	credit = rxq->credit;
	while (n < avail) {
		size = rxq->reqs[(cons + n) & TX_RING_MASK].size;
		if (size > credit) {
			rxq->stats.throttled++;
			waiting = true;
			break;
		}
		v = xnb_rx_walk(rxq->reqs, TX_RING_MASK, cons + n, avail - n, &w);
		if (v == XNB_VERDICT_PARTIAL)
			break;
		if (v == XNB_VERDICT_FATAL)
			return avail;   /* the burst stops the queue there */
		credit -= size;
		n += w.nb_reqs;
	}
	rxq->credit_waiting = waiting;
	return n;
}

/* Charge the guest's credit for the packets a burst took, cons0 to cons. */
static __rte_noinline void
rx_rate_charge(struct xnb_rxq *rxq, RING_IDX cons0, RING_IDX cons)
{
	struct xnb_rx_walk w;
	uint16_t size;

	while (cons0 != cons) {
		size = rxq->reqs[cons0 & TX_RING_MASK].size;
		rxq->credit -= RTE_MIN((uint64_t)size, rxq->credit);
		if (xnb_rx_walk(rxq->reqs, TX_RING_MASK, cons0, cons - cons0, &w) ==
				XNB_VERDICT_FATAL || w.nb_reqs == 0)
			break;
		cons0 += w.nb_reqs;
	}
}

/*
 * A fast-case frame's mbuf, taken raw from the pool, set up as
 * rte_pktmbuf_reset() and the frame's length would leave it, in the
 * stores that matter: a raw mbuf already has refcnt 1, nb_segs 1 and no
 * next (the pool's invariant, which __rte_mbuf_raw_sanity_check() asserts),
 * and a buffer longer than the headroom (the caller checked the pool's
 * data room). rte_pktmbuf_alloc_bulk() resets every field of the burst's
 * mbufs ahead of the loop, reading buf_len and ol_flags from lines that
 * may be cold, and the lengths were written twice (doc/benchmark.md,
 * Offloads). ol is the pool's flags (RTE_MBUF_F_EXTERNAL for pinned
 * external buffers). A frame with a blank checksum, while the fast path
 * is on (guess), gets what rx_blank_tcp4() expects to find, its flags and
 * lengths, written here with the rest rather than later into lines gone
 * cold behind the copy.
 */
static __rte_always_inline void
rx_mbuf_init(const struct xnb_rxq *rxq, struct rte_mbuf *m, uint32_t len, uint64_t ol,
		bool guess)
{
	__rte_mbuf_raw_sanity_check(m);
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->port = rxq->port_id;
	m->pkt_len = len;
	m->data_len = (uint16_t)len;
	m->vlan_tci = 0;
	m->vlan_tci_outer = 0;
	if (guess) {
		m->ol_flags = ol | RTE_MBUF_F_RX_L4_CKSUM_NONE;
		m->packet_type = RX_PTYPE_TCP4;
		m->tx_offload = rxq->guess_tx;
	} else {
		m->ol_flags = ol;
		m->packet_type = 0;
		m->tx_offload = 0;
	}
}

static uint16_t
rx_burst(struct xnb_rxq *rxq, struct xnb_queue *q, struct rte_mbuf **rx_pkts,
		uint16_t nb_pkts)
{
	netif_tx_back_ring_t *ring = &q->guest_tx;
	uint32_t room, fast_max, avail, npkts = 0, ngood = 0, nsegs = 0, nout = 0, nb_fast;
	uint32_t used = 0;
	struct rte_mbuf *fast[XNB_MAX_BURST];
	uint16_t guess;
	uint64_t ol_pool;
	const netif_tx_request_t *req;
	struct xnb_rx_pkt *pkt;
	RING_IDX prod, cons, cons0, i;
	bool limited;
	enum rx_slow slow;
	struct rte_mbuf *m;
	uint16_t nb_rx = 0;
	RING_IDX rsp_old;
	int notify;

	if (unlikely(rxq->stash_len > 0)) {
		nb_rx = rx_unstash(rxq, rx_pkts, nb_pkts);
		if (rxq->stash_len > 0)
			return nb_rx;
	}
	prod = __atomic_load_n(&ring->sring->req_prod, __ATOMIC_ACQUIRE);
	cons = ring->req_cons;
	if (unlikely(prod - cons > RING_SIZE(ring))) {
		xnb_queue_fatal(q, XNB_FATAL_TX_RING_OVERFLOW, 0);
		return nb_rx;
	}
	/* Copy each newly posted slot, once. */
	if (prod - cons > rxq->req_copied - cons) {
		for (i = rxq->req_copied; i != prod; i++)
			RING_COPY_REQUEST(ring, i, &rxq->reqs[i & TX_RING_MASK]);
		rxq->req_copied = prod;
	}
	avail = rxq->req_copied - cons;
	if (avail == 0 || nb_rx == nb_pkts)
		return nb_rx;
	/* Over its rate limit, the guest's packets wait on its ring. */
	limited = __atomic_load_n(&rxq->rate_tsc, __ATOMIC_ACQUIRE) != 0;
	rxq->blank_fast = rxq->csum_tcp && !rxq->csum_ip ? NETTXF_csum_blank :
		XNB_RX_BLANK_FAST_OFF;
	guess = rx_guess_flag(rxq);
	if (unlikely(rxq->guess_l4 == 0))
		rx_guess_take(rxq, sizeof(struct rte_tcp_hdr));
	cons0 = cons;
	if (unlikely(limited)) {
		avail = rx_rate_cap(rxq, cons, avail);
		if (avail == 0)
			return nb_rx;
	}

	room = rte_pktmbuf_data_room_size(rxq->mb_pool);
	if (unlikely(room <= RTE_PKTMBUF_HEADROOM))
		return nb_rx;  /* rx queue setup refuses such a pool */
	room -= RTE_PKTMBUF_HEADROOM;
	/* The fast case takes what fits one mbuf and the MTU. */
	fast_max = RTE_MIN(room, rxq->max_frame);

	/*
	 * One mbuf per packet of the fast case, for as many packets as the
	 * burst may take, in one allocation; what is left goes back.
	 */
	nb_fast = RTE_MIN(RTE_MIN(avail, (uint32_t)(nb_pkts - nb_rx)), (uint32_t)XNB_MAX_BURST);
	if (unlikely(rte_mempool_get_bulk(rxq->mb_pool, (void **)fast, nb_fast) != 0))
		nb_fast = 0;  /* each packet tries on its own, and counts nombuf */
	ol_pool = rte_pktmbuf_priv_flags(rxq->mb_pool) & RTE_PKTMBUF_POOL_F_PINNED_EXT_BUF ?
		RTE_MBUF_F_EXTERNAL : 0;

	rsp_old = ring->rsp_prod_pvt;
	while (nb_rx + ngood < nb_pkts && avail > 0) {
		req = &rxq->reqs[cons & TX_RING_MASK];
		if (likely(used < nb_fast && xnb_rx_single_ok(req, fast_max) &&
				npkts < XNB_MAX_BURST && nsegs < XNB_COPY_BATCH)) {
			m = fast[used++];
			rx_mbuf_init(rxq, m, req->size, ol_pool, req->flags & guess);
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
		slow = rx_slow(rxq, cons, avail, room, npkts, &nsegs, &nout);
		if (slow == RX_SLOW_STOP)
			break;
		if (slow == RX_SLOW_FLUSH) {
			nb_rx = rx_complete(rxq, npkts, nsegs, rx_pkts, nb_rx, nb_pkts);
			npkts = 0;
			ngood = 0;
			nsegs = 0;
			nout = 0;
			/* The copy call failed and stopped the queue (xnb_copy_flush()). */
			if (unlikely(__atomic_load_n(&q->fatal, __ATOMIC_RELAXED) !=
					XNB_FATAL_NONE))
				break;
			continue;
		}
		pkt = &rxq->pkts[npkts];
		if (pkt->status == NETIF_RSP_OKAY)
			ngood += pkt->head == NULL ? rxq->pkt_ext[npkts].nb_out : 1;
		npkts++;
		cons += pkt->nb_reqs;
		avail -= pkt->nb_reqs;
	}
	ring->req_cons = cons;
	if (unlikely(limited))
		rx_rate_charge(rxq, cons0, cons);
	if (used < nb_fast)
		rte_mempool_put_bulk(rxq->mb_pool, (void **)(fast + used), nb_fast - used);
	if (npkts > 0)
		nb_rx = rx_complete(rxq, npkts, nsegs, rx_pkts, nb_rx, nb_pkts);

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

	if (likely(xnb_dp_enter(&rxq->busy, &rxq->allow) &&
			__atomic_load_n(&q->fatal, __ATOMIC_RELAXED) == XNB_FATAL_NONE))
		nb_rx = rx_burst(rxq, q, rx_pkts, nb_pkts);
	xnb_dp_leave(&rxq->busy);
	return nb_rx;
}
