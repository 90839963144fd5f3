/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * fuzz-guest-rx: what a guest posts on its guest-rx ring (buffer ids,
 * grant references, indices) against tx bursts of mbufs the input
 * chooses (lengths, chains, offload requests: TSO with any tso_segsz,
 * checksums over any headers, a received frame's LRO and checksum
 * flags), through the production tx burst (xnb_tx_burst(), optionally
 * after xnb_tx_prepare() as an application calls it) over the unit
 * suites' test guest on the simulated platform.
 *
 * Input: a header, then a program.
 *   header: u8 features the frontend negotiated (bit 0 sg, 1 csum4,
 *           2 csum6, 3 gso4, 4 gso6, GSO only with sg and the checksum of
 *           its IP version, as xnb_xenbus.c agrees to it; bit 5:
 *           tx_prepare before each burst), u8 MTU (0: the largest frame, 1: 1518 B, 2: 9018 B,
 *           else the next u16), u32 the rings' start index.
 *   actions (u8 op % OP_COUNT):
 *     POST     u8 ctl, u16 id, u32 gref: a request at req_prod_pvt
 *              (ctl bit 0: gref names a grant kind, fz_gref())
 *     PUSH     req_prod = req_prod_pvt
 *     PROD     u8 mode, u32 v: req_prod = v (mode odd) or req_prod_pvt + (int16)v
 *     MBUF     u8 pool, u16 len, u8 nsegs, nsegs-1 u16 segment sizes,
 *              u16 ol_flags pick (see ol_flags()), u16 tso_segsz,
 *              u8 l2_len, u8 l3_len, u8 l4_len, u16 n, n bytes of the
 *              frame (patterned after them): an mbuf for the next burst
 *     BURST    u8 n: tx burst of the next n mbufs made
 *     REWRITE  u8 back, u16 id, u32 gref: rewrite a posted request
 *     RECONNECT, FAILCOPY u8 n, SCRIBBLE u8 which, u32 v: as fuzz-guest-tx
 *
 * Checks, beyond ASan and UBSan: the burst takes a prefix of what it is
 * given, frees exactly those mbufs, once each (they carry an extra
 * reference here), and writes none of them; what it leaves is untouched;
 * every response is the answer to a request it copied, within what was
 * published; a data response: offset 0, a status within the page or
 * ERROR, known flags, every slot but a frame's last full; a GSO extra
 * slot only after NETRXF_extra_info, of a type the guest negotiated;
 * csum_blank only for a guest that takes it; without sg no multi-slot
 * frame; no byte of the ring written but responses and rsp_prod; copy
 * segments within mbufs or the queue's header copies; and for bursts
 * without offload requests, every frame the guest gets is byte for byte
 * the mbuf it came from, in order, the drops where the MTU and sg say.
 */

#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "fuzz_common.h"
#include "fuzz_guest.h"
#include "xnb_rxtx.h"

enum {
	OP_POST,
	OP_PUSH,
	OP_PROD,
	OP_MBUF,
	OP_BURST,
	OP_REWRITE,
	OP_RECONNECT,
	OP_FAILCOPY,
	OP_SCRIBBLE,
	OP_COUNT,
};

#define SLOT 8
#define NSLOTS XNB_RX_RING_SIZE
#define HDR_LEN offsetof(netif_rx_sring_t, ring)
#define MAX_MBUFS 64
#define MAX_DATA 65536

static struct test_guest g;

static struct {
	bool connected;
	bool verbose;
	bool prepare;
	uint8_t feat;
	RING_IDX posted_hi;
	uint8_t shadow[XNB_PAGE_SIZE];
	uint8_t before[XNB_PAGE_SIZE];
	uint16_t copied_id[2 * NSLOTS];
	int copied_pfn[2 * NSLOTS];     /* the guest-rx buffer page its gref names, or -1 */
	bool ring_granted;             /* a request named a ring page: the ring holds data */
	/* Mbufs made and not yet sent. */
	struct rte_mbuf *m[MAX_MBUFS];
	unsigned int nb_m;
	bool fail_armed;
} st;

static uint8_t data[MAX_MBUFS][MAX_DATA];
static uint8_t frame[MAX_DATA + XNB_PAGE_SIZE];

static uint8_t *
slot_page(RING_IDX i)
{
	return (uint8_t *)g.rx_sring + HDR_LEN + (i % NSLOTS) * SLOT;
}

/* The guest-rx buffer page a grant ref names, or -1. */
static int
buf_pfn(uint32_t gref)
{
	unsigned int b;

	for (b = 0; b < TG_NR_RX_BUFS; b++)
		if (g.rx_buf_ref[b] == gref)
			return (int)(TG_RX_BUF_PFN + b);
	return -1;
}

static void
guest_write_slot(RING_IDX i, uint16_t id, uint32_t gref)
{
	netif_rx_request_t r = { .id = id, .gref = gref };

	memcpy(slot_page(i), &r, SLOT);
	memcpy(st.shadow + HDR_LEN + (i % NSLOTS) * SLOT, &r, SLOT);
	if (st.verbose)
		fprintf(stderr, "slot %u: id %u gref %#x\n", i, id, gref);
}

static void
guest_write_hdr(size_t off, uint32_t v)
{
	memcpy((uint8_t *)g.rx_sring + off, &v, sizeof(v));
	memcpy(st.shadow + off, &v, sizeof(v));
}

static void
q_connect(void)
{
	struct xnb_queue_conf conf;
	int ret;

	g.fatal_calls = 0;
	tg_conf(&g, &conf, st.feat & 1);
	conf.feat.csum4 = (st.feat >> 1) & 1;
	conf.feat.csum6 = (st.feat >> 2) & 1;
	/* As xnb_xenbus.c negotiates: GSO needs sg and that IP version's checksum offload. */
	conf.feat.gso4 = ((st.feat >> 3) & 1) && conf.feat.sg && conf.feat.csum4;
	conf.feat.gso6 = ((st.feat >> 4) & 1) && conf.feat.sg && conf.feat.csum6;
	ret = xnb_queue_connect(g.q, &conf);
	st.connected = ret == 0;
	FZ_CHECK(xensim_grant_mapped_count(g.dom) == (ret == 0 ? 2u : 0u), "rings mapped");
}

static void
q_disconnect(void)
{
	xnb_queue_disconnect(g.q);
	st.connected = false;
	FZ_CHECK(xensim_grant_mapped_count(g.dom) == 0, "rings unmapped at disconnect");
}

/* Offload flags from 16 input bits: each bit one flag an mbuf may carry. */
static uint64_t
ol_flags(uint16_t v)
{
	static const uint64_t f[] = {
		RTE_MBUF_F_TX_TCP_SEG, RTE_MBUF_F_TX_TCP_CKSUM, RTE_MBUF_F_TX_UDP_CKSUM,
		RTE_MBUF_F_TX_IP_CKSUM, RTE_MBUF_F_TX_IPV4, RTE_MBUF_F_TX_IPV6,
		RTE_MBUF_F_RX_LRO, RTE_MBUF_F_RX_L4_CKSUM_GOOD, RTE_MBUF_F_RX_L4_CKSUM_BAD,
		RTE_MBUF_F_RX_IP_CKSUM_GOOD, RTE_MBUF_F_TX_SCTP_CKSUM, RTE_MBUF_F_TX_VLAN,
		RTE_MBUF_F_TX_OUTER_IPV4, RTE_MBUF_F_RX_VLAN, RTE_MBUF_F_TX_UDP_SEG,
		RTE_MBUF_F_TX_IEEE1588_TMST,
	};
	uint64_t ol = 0;
	unsigned int i;

	for (i = 0; i < RTE_DIM(f); i++)
		if (v & (1u << i))
			ol |= f[i];
	return ol;
}

static void
make_mbuf(struct fz_in *in)
{
	unsigned int pool = fz_u8(in) % 4, nsegs, i, k = st.nb_m;
	uint32_t len = fz_u16(in), room = fz_pool_room(pool), pos = 0, n, cut;
	uint16_t cuts[32], ol, tso, nin;
	struct rte_mbuf *head = NULL, *tail = NULL, *m;
	uint8_t l2, l3, l4;

	nsegs = fz_u8(in) % 32 + 1;
	for (i = 0; i + 1 < nsegs; i++)
		cuts[i] = fz_u16(in);
	ol = fz_u16(in);
	tso = fz_u16(in);
	l2 = fz_u8(in);
	l3 = fz_u8(in);
	l4 = fz_u8(in);
	nin = fz_u16(in);
	if (len > MAX_DATA - 1)
		len = MAX_DATA - 1;
	/* The bytes are read whatever comes of them, so the rest of the input means the same. */
	fz_bytes(in, frame, nin);
	if (k == MAX_MBUFS)
		return;
	if (nin > len)
		nin = (uint16_t)len;
	memcpy(data[k], frame, nin);
	for (i = nin; i < len; i++)
		data[k][i] = (uint8_t)(i * 13 + 5);
	/* The chain: the cuts as given, each within an mbuf's room; zero-size segments allowed. */
	i = 0;
	do {
		m = rte_pktmbuf_alloc(fz_pool(pool));
		if (m == NULL) {
			/* The pool ran out (the input made that many): the chain ends here. */
			if (head == NULL)
				return;
			break;
		}
		cut = i + 1 < nsegs ? cuts[i] % (room + 1) : room;
		n = RTE_MIN(cut, len - pos);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), data[k] + pos, n);
		m->data_len = (uint16_t)n;
		pos += n;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
		}
		tail = m;
		i++;
	} while (pos < len && head->nb_segs < 200);
	if (pos < len)
		len = pos;   /* the chain is as long as it could be made */
	head->pkt_len = len;
	head->ol_flags = ol_flags(ol);
	head->tso_segsz = tso;
	head->l2_len = l2 & 0x7f;
	head->l3_len = l3;
	head->l4_len = l4;
	st.m[st.nb_m++] = head;
}

/* A frame the guest got: its bytes from the responses' pages. */
struct got {
	uint32_t len;
	bool error;
	bool flags_work;   /* csum_blank, or a GSO slot */
};

static void
check_responses(RING_IDX from, RING_IDX to, struct got *frames, unsigned int *nframes,
		unsigned int max)
{
	RING_IDX i;
	netif_rx_response_t r;
	netif_extra_info_t e;
	bool in_frame = false, expect_extra = false;
	uint32_t len = 0, s;
	bool error = false, work = false;
	unsigned int slots = 0;

	*nframes = 0;
	for (i = from; i != to; i++) {
		s = i % NSLOTS;
		if (expect_extra) {
			memcpy(&e, slot_page(i), sizeof(e));
			FZ_CHECK(e.type == XEN_NETIF_EXTRA_TYPE_GSO && e.flags == 0,
				"extra slot %u: type %u flags %#x", i, e.type, e.flags);
			FZ_CHECK(e.u.gso.size > 0, "GSO size 0 for the guest");
			FZ_CHECK((e.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 && g.q->feat.gso4) ||
				(e.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6 && g.q->feat.gso6),
				"GSO type %u, the guest negotiated %#x", e.u.gso.type, st.feat);
			expect_extra = false;
			work = true;
			memcpy(st.shadow + HDR_LEN + s * SLOT, slot_page(i), SLOT);
			continue;
		}
		memcpy(&r, slot_page(i), sizeof(r));
		if (st.verbose)
			fprintf(stderr, "response %u: id %u offset %u flags %#x status %d\n", i,
				r.id, r.offset, r.flags, r.status);
		FZ_CHECK(r.id == st.copied_id[i % (2 * NSLOTS)],
			"response %u: id %u, the request copied there had %u", i, r.id,
			st.copied_id[i % (2 * NSLOTS)]);
		FZ_CHECK(r.offset == 0, "response %u: offset %u", i, r.offset);
		FZ_CHECK(r.status == NETIF_RSP_ERROR || (r.status >= 0 && r.status <= (int)XNB_PAGE_SIZE),
			"response %u: status %d", i, r.status);
		FZ_CHECK((r.flags & ~(NETRXF_more_data | NETRXF_extra_info | NETRXF_csum_blank |
			NETRXF_data_validated)) == 0, "response %u: flags %#x", i, r.flags);
		if (!in_frame) {
			len = 0;
			error = false;
			slots = 0;
			work = false;
			if (r.flags & NETRXF_extra_info)
				expect_extra = true;
			if (r.flags & NETRXF_csum_blank) {
				FZ_CHECK(g.q->feat.csum4 || g.q->feat.csum6,
					"csum_blank to a guest without checksum offload");
				work = true;
			}
		} else {
			FZ_CHECK((r.flags & (NETRXF_extra_info | NETRXF_csum_blank |
				NETRXF_data_validated)) == 0, "flags %#x on a frame's later slot",
				r.flags);
		}
		slots++;
		if (r.status < 0) {
			error = true;
		} else if (!error) {
			len += r.status;
		}
		in_frame = (r.flags & NETRXF_more_data) != 0;
		if (in_frame) {
			FZ_CHECK(g.q->feat.sg, "a multi-slot frame to a guest without sg");
			FZ_CHECK(r.status == NETIF_RSP_ERROR || r.status == (int)XNB_PAGE_SIZE,
				"response %u: %d B in a slot before the frame's last", i, r.status);
		}
		FZ_CHECK(slots <= 17, "a frame of %u slots", slots);
		if (!in_frame && *nframes < max) {
			FZ_CHECK(error || len <= XNB_MAX_FRAME, "a frame of %u B", len);
			frames[*nframes] = (struct got){ .len = len, .error = error,
				.flags_work = work };
			(*nframes)++;
		}
		memcpy(st.shadow + HDR_LEN + s * SLOT, slot_page(i), SLOT);
	}
	FZ_CHECK(!in_frame && !expect_extra, "the responses end inside a frame");
}

/* Did the responses [from, to) fill page pfn more than once? */
static bool
pfn_twice(RING_IDX from, RING_IDX to, int pfn)
{
	unsigned int n = 0;
	RING_IDX i;

	for (i = from; i != to; i++)
		n += st.copied_pfn[i % (2 * NSLOTS)] == pfn;
	return n > 1;
}

static void
burst(uint8_t want)
{
	struct rte_mbuf *pkts[MAX_MBUFS];
	struct got frames[NSLOTS];
	netif_rx_sring_t *sr = g.rx_sring;
	unsigned int n = RTE_MIN((unsigned int)want, st.nb_m), k, nframes, f, j;
	uint32_t len, plain_len[MAX_MBUFS];
	bool plain = true, fatal_before = g.q->fatal != XNB_FATAL_NONE;
	RING_IDX old_rsp, old_field, new_rsp, req_prod, old_cons, i;
	uint16_t sent, prep = (uint16_t)n;
	const struct rte_mbuf *s;

	memcpy(pkts, st.m, n * sizeof(pkts[0]));
	memmove(st.m, st.m + n, (st.nb_m - n) * sizeof(st.m[0]));
	st.nb_m -= n;
	if (st.prepare)
		prep = xnb_tx_prepare(&g.q->tx, pkts, (uint16_t)n);
	FZ_CHECK(prep <= n, "prepare");
	/* What each mbuf holds now, to see that the burst writes none of it. */
	for (k = 0; k < n; k++) {
		FZ_CHECK(tg_mbuf_read(pkts[k], data[k], MAX_DATA) == (int)pkts[k]->pkt_len,
			"a chain of the harness");
		plain_len[k] = pkts[k]->pkt_len;
		if ((pkts[k]->ol_flags & (RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_L4_MASK |
				RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_RX_LRO |
				RTE_MBUF_F_RX_L4_CKSUM_MASK)) != 0)
			plain = false;
		/* One more reference: the burst's free leaves the mbuf for the checks. */
		for (s = pkts[k]; s != NULL; s = s->next)
			rte_mbuf_refcnt_update((struct rte_mbuf *)(uintptr_t)s, 1);
	}

	old_rsp = st.connected ? g.q->guest_rx.rsp_prod_pvt : sr->rsp_prod;
	old_field = sr->rsp_prod;
	old_cons = g.q->guest_rx.req_cons;
	req_prod = sr->req_prod;
	if (st.posted_hi - old_rsp > NSLOTS || (req_prod - old_rsp <= NSLOTS &&
			req_prod - old_rsp > st.posted_hi - old_rsp))
		st.posted_hi = req_prod;
	memcpy(st.before, g.rx_sring, XNB_PAGE_SIZE);
	sent = xnb_tx_burst(&g.q->tx, pkts, prep);
	FZ_CHECK(sent <= prep, "%u sent of %u", sent, prep);
	FZ_CHECK(g.q->tx.busy == 0, "busy after the burst");
	if (fatal_before || !st.connected)
		FZ_CHECK(sent == 0, "a stopped queue took %u mbufs", sent);

	/* Taken: freed once (our reference left); left: untouched. Never written. */
	for (k = 0; k < n; k++) {
		for (s = pkts[k]; s != NULL; s = s->next)
			FZ_CHECK(rte_mbuf_refcnt_read(s) == (k < sent ? 1 : 2),
				"mbuf %u (%s): refcnt %u", k, k < sent ? "sent" : "left",
				rte_mbuf_refcnt_read(s));
		FZ_CHECK(tg_mbuf_read(pkts[k], frame, MAX_DATA) == (int)plain_len[k] &&
			memcmp(frame, data[k], plain_len[k]) == 0, "mbuf %u written by the burst", k);
	}

	new_rsp = st.connected ? g.q->guest_rx.rsp_prod_pvt : old_rsp;
	FZ_CHECK(sr->rsp_prod == (new_rsp != old_rsp ? new_rsp : old_field),
		"rsp_prod %u: answered up to %u from %u", sr->rsp_prod, new_rsp, old_rsp);
	if (st.connected) {
		FZ_CHECK(new_rsp == g.q->guest_rx.req_cons, "rsp_prod_pvt %u, req_cons %u",
			new_rsp, g.q->guest_rx.req_cons);
		/* The requests it took were copied from the ring as the burst found it. */
		for (i = old_cons; i != g.q->guest_rx.req_cons; i++) {
			netif_rx_request_t r;

			memcpy(&r, st.before + HDR_LEN + (i % NSLOTS) * SLOT, sizeof(r));
			st.copied_id[i % (2 * NSLOTS)] = r.id;
			st.copied_pfn[i % (2 * NSLOTS)] = buf_pfn(r.gref);
			if (r.gref == g.tx_ring_ref || r.gref == g.rx_ring_ref)
				st.ring_granted = true;
		}
	}
	FZ_CHECK(new_rsp - old_rsp <= NSLOTS, "%u responses", new_rsp - old_rsp);
	if (new_rsp != old_rsp)
		FZ_CHECK(st.posted_hi - old_rsp <= NSLOTS && new_rsp - old_rsp <= st.posted_hi - old_rsp,
			"responses up to %u, beyond anything published (at most %u; from %u)",
			new_rsp, st.posted_hi, old_rsp);
	if (fatal_before)
		FZ_CHECK(new_rsp == old_rsp, "a stopped queue answered");
	if (st.ring_granted) {
		/* The guest had frames copied into its ring pages: nothing holds there. */
		nframes = 0;
		plain = false;
		memcpy(st.shadow, g.rx_sring, XNB_PAGE_SIZE);
	} else {
		check_responses(old_rsp, new_rsp, frames, &nframes, RTE_DIM(frames));
		memcpy(st.shadow + offsetof(netif_rx_sring_t, rsp_prod), &sr->rsp_prod, 4);
		FZ_CHECK(memcmp(st.shadow, g.rx_sring, XNB_PAGE_SIZE) == 0,
			"the backend wrote into the guest-rx ring outside its responses");
	}

	/*
	 * Without offload requests each mbuf taken is one frame or a drop,
	 * in order: a drop where the MTU or (without sg) the page says.
	 */
	if (plain && !st.fail_armed && g.q->fatal == XNB_FATAL_NONE) {
		f = 0;
		for (k = 0; k < sent; k++) {
			len = plain_len[k];
			if (len > g.q->tx.max_frame || (!(st.feat & 1) && len > XNB_PAGE_SIZE))
				continue;
			FZ_CHECK(f < nframes, "mbuf %u of %u B: no frame (%u frames)", k, len,
				nframes);
			FZ_CHECK(frames[f].len == len || frames[f].error,
				"mbuf %u of %u B arrived as %u B", k, len, frames[f].len);
			FZ_CHECK(!frames[f].flags_work, "offload flags on a plain frame");
			if (!frames[f].error) {
				/* Re-gather: the frame's pages hold the mbuf's bytes. */
				RING_IDX at = old_rsp;
				netif_rx_response_t r;
				uint32_t pos = 0;

				for (j = 0; j < f; j++) {
					/* Skip the frames before (no extra slots here). */
					do {
						memcpy(&r, slot_page(at++), sizeof(r));
					} while (r.flags & NETRXF_more_data);
				}
				do {
					int pfn = st.copied_pfn[at % (2 * NSLOTS)];

					memcpy(&r, slot_page(at++), sizeof(r));
					/* A page the guest posted twice in the burst holds the later bytes. */
					if (pfn >= 0 && !pfn_twice(old_rsp, new_rsp, pfn))
						FZ_CHECK(memcmp(xensim_dom_page(g.dom, (uint32_t)pfn),
							data[k] + pos, r.status) == 0,
							"mbuf %u: the guest's bytes at %u differ", k, pos);
					pos += r.status;
				} while (r.flags & NETRXF_more_data);
			}
			f++;
		}
		FZ_CHECK(f == nframes, "%u frames for %u mbufs", nframes, f);
	}

	if (st.verbose)
		fprintf(stderr, "burst of %u (prepared %u): %u sent, %u responses, %u frames, fatal %u, errors %lu, tso %lu, gso %lu\n",
			n, prep, sent, new_rsp - old_rsp, nframes, g.q->fatal,
			(unsigned long)g.q->tx.stats.errors, (unsigned long)g.q->tx.stats.tso_segments,
			(unsigned long)g.q->tx.stats.gso);
	if (!st.connected) {
		FZ_CHECK(g.q->tx.allow == 0, "a disconnected queue allowed");
	} else if (g.q->fatal != XNB_FATAL_NONE) {
		FZ_CHECK(g.fatal_calls == 1, "on_fatal called %u times", g.fatal_calls);
		FZ_CHECK(g.q->rx.allow == 0 && g.q->tx.allow == 0, "a fatal queue still allowed");
	} else {
		FZ_CHECK(g.fatal_calls == 0, "on_fatal without a fatal error");
	}
	for (k = 0; k < n; k++)
		rte_pktmbuf_free(pkts[k]);
	/* Those not sent had two references: the second goes too. */
	for (k = sent; k < n; k++)
		rte_pktmbuf_free(pkts[k]);
}

static void
run(struct fz_in *in)
{
	uint8_t feat = fz_u8(in), mtu = fz_u8(in), ctl, which;
	uint32_t start, v, gref;
	unsigned int k, p;
	uint16_t id;
	int pfn;

	st.feat = feat;
	st.prepare = (feat >> 5) & 1;
	switch (mtu) {
	case 0: g.q->tx.max_frame = XNB_MAX_FRAME; break;
	case 1: g.q->tx.max_frame = 1518; break;
	case 2: g.q->tx.max_frame = 9018; break;
	default: g.q->tx.max_frame = fz_u16(in); break;
	}
	start = fz_u32(in);
	fz_rings_reset(&g, start, start);
	st.posted_hi = start;
	st.nb_m = 0;
	st.fail_armed = false;
	st.ring_granted = false;
	memcpy(st.shadow, g.rx_sring, XNB_PAGE_SIZE);
	fz_copy_fail_in(0);
	q_connect();
	FZ_CHECK(st.connected, "connect");

	while (fz_more(in)) {
		switch (fz_u8(in) % OP_COUNT) {
		case OP_POST:
			ctl = fz_u8(in);
			id = fz_u16(in);
			gref = fz_u32(in);
			if (ctl & 1)
				gref = fz_gref(&g, gref, &pfn);
			guest_write_slot(g.rx.req_prod_pvt++, id, gref);
			break;
		case OP_PUSH:
			guest_write_hdr(offsetof(netif_rx_sring_t, req_prod), g.rx.req_prod_pvt);
			break;
		case OP_PROD:
			which = fz_u8(in);
			v = fz_u32(in);
			guest_write_hdr(offsetof(netif_rx_sring_t, req_prod), which & 1 ? v :
				g.rx.req_prod_pvt + (uint32_t)(int32_t)(int16_t)v);
			break;
		case OP_MBUF:
			make_mbuf(in);
			break;
		case OP_BURST:
			burst(fz_u8(in));
			break;
		case OP_REWRITE:
			v = g.rx.req_prod_pvt - 1 - fz_u8(in);
			ctl = fz_u8(in);
			id = fz_u16(in);
			gref = fz_u32(in);
			if (ctl & 1)
				gref = fz_gref(&g, gref, &pfn);
			guest_write_slot(v, id, gref);
			break;
		case OP_RECONNECT:
			q_disconnect();
			q_connect();
			memcpy(st.shadow, g.rx_sring, XNB_PAGE_SIZE);
			break;
		case OP_FAILCOPY:
			k = fz_u8(in) % 8;
			fz_copy_fail_in(k);
			st.fail_armed = st.fail_armed || k != 0;
			break;
		case OP_SCRIBBLE:
			which = fz_u8(in) % 3;
			v = fz_u32(in);
			guest_write_hdr(which == 0 ? offsetof(netif_rx_sring_t, rsp_event) :
				which == 1 ? offsetof(netif_rx_sring_t, rsp_prod) :
				offsetof(netif_rx_sring_t, req_event), v);
			break;
		}
	}
	for (k = 0; k < st.nb_m; k++)
		rte_pktmbuf_free(st.m[k]);
	st.nb_m = 0;
	q_disconnect();
	for (p = 0; p < 4; p++)
		FZ_CHECK(tg_in_use(fz_pool(p)) == 0, "pool %u: %u mbufs leaked", p,
			tg_in_use(fz_pool(p)));
	tg_events(&g);
	fz_pages_clean(&g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
	struct fz_in in = { d, size };

	run(&in);
	return 0;
}

/* --- Seeds --- */

static struct fz_out o;

static void
s_begin(uint8_t feat, uint8_t mtu, uint32_t start)
{
	o.n = 0;
	fz_put8(&o, feat);
	fz_put8(&o, mtu);
	fz_put32(&o, start);
}

static void
s_post(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		fz_put8(&o, OP_POST);
		fz_put8(&o, 1);
		fz_put16(&o, (uint16_t)(i % TG_NR_RX_BUFS));
		fz_put32(&o, (1u << 24) | (i % TG_NR_RX_BUFS));
	}
	fz_put8(&o, OP_PUSH);
}

static void
s_mbuf(uint8_t pool, const uint8_t *f, uint16_t len, unsigned int nsegs,
		const uint16_t *cuts, uint16_t ol, uint16_t tso, uint8_t l2, uint8_t l3,
		uint8_t l4, uint16_t nin)
{
	unsigned int i;

	fz_put8(&o, OP_MBUF);
	fz_put8(&o, pool);
	fz_put16(&o, len);
	fz_put8(&o, (uint8_t)(nsegs - 1));
	for (i = 0; i + 1 < nsegs; i++)
		fz_put16(&o, cuts[i]);
	fz_put16(&o, ol);
	fz_put16(&o, tso);
	fz_put8(&o, l2);
	fz_put8(&o, l3);
	fz_put8(&o, l4);
	fz_put16(&o, nin);
	fz_put(&o, f, nin);
}

static void
s_burst(uint8_t n)
{
	fz_put8(&o, OP_BURST);
	fz_put8(&o, n);
}

/* ol_flags() bits. */
#define B_TSO (1u << 0)
#define B_TCP (1u << 1)
#define B_UDP (1u << 2)
#define B_IPC (1u << 3)
#define B_V4 (1u << 4)
#define B_V6 (1u << 5)
#define B_LRO (1u << 6)
#define B_GOOD (1u << 7)

static void
s_op8(uint8_t op, uint8_t v)
{
	fz_put8(&o, op);
	fz_put8(&o, v);
}

static void
make_seeds(const char *dir)
{
	static uint8_t f[XNB_MAX_FRAME];
	static const uint16_t cuts3[] = { 54, 1001 };
	static const uint16_t cuts5[] = { 14, 0, 41, 300 };
	static const uint16_t cuts_odd[] = { 55, 301, 1 };
	const uint8_t SG = 1, C4 = 2, C6 = 4, G4 = 8, G6 = 16, PREP = 32;
	uint16_t len;

	len = (uint16_t)fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_UDP, .payload = 200 });
	s_begin(SG, 0, 0);
	s_post(8);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_mbuf(1, f, 3000, 3, cuts3, 0, 0, 0, 0, 0, len);
	s_mbuf(2, f, 0, 1, NULL, 0, 0, 0, 0, 0, 0);
	s_mbuf(3, f, 700, 5, cuts5, 0, 0, 0, 0, 0, len);
	s_burst(4);
	fz_seed_write(dir, "plain", &o);

	/* Without sg, and an MTU: drops; then too few slots posted (XSA-392). */
	s_begin(0, 1, UINT32_MAX - 2);
	s_post(2);
	s_mbuf(0, f, 2000, 1, NULL, 0, 0, 0, 0, 0, len);
	s_mbuf(0, f, 1400, 1, NULL, 0, 0, 0, 0, 0, len);
	s_mbuf(0, f, 5000, 3, cuts3, 0, 0, 0, 0, 0, len);
	s_mbuf(0, f, 100, 1, NULL, 0, 0, 0, 0, 0, len);
	s_mbuf(0, f, 100, 1, NULL, 0, 0, 0, 0, 0, len);
	s_burst(5);
	s_burst(5);
	fz_seed_write(dir, "no-sg-mtu-starved", &o);

	/* Checksums: left blank for a guest that takes them, or filled in here. */
	len = (uint16_t)fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_TCP, .payload = 1400, .csum_blank = true });
	s_begin(SG | C4 | C6, 0, 0);
	s_post(16);
	s_mbuf(0, f, len, 1, NULL, B_TCP | B_V4, 0, 14, 20, 20, len);
	s_mbuf(0, f, len, 1, NULL, B_GOOD, 0, 0, 0, 0, len);
	s_mbuf(1, f, len, 3, cuts_odd, B_TCP | B_V4 | B_IPC, 0, 14, 20, 20, len);
	s_burst(3);
	fz_seed_write(dir, "csum-blank", &o);
	s_begin(SG | C6 | PREP, 0, 0);
	s_post(16);
	s_mbuf(1, f, len, 3, cuts_odd, B_TCP | B_V4 | B_IPC, 0, 14, 20, 20, len);
	len = (uint16_t)fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 6,
		.proto = IPPROTO_UDP, .payload = 999, .ipv6_ext = 1 });
	s_mbuf(3, f, len, 3, cuts_odd, B_UDP | B_V6, 0, 14, 48, 8, len);
	s_burst(2);
	fz_seed_write(dir, "csum-software-prepare", &o);

	/* TSO: a GSO slot for the guest, or frames cut here; LRO forwarded. */
	len = (uint16_t)fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_TCP, .payload = 20000, .tcp_opts = 12, .csum_blank = true });
	s_begin(SG | C4 | G4, 0, 0);
	s_post(40);
	s_mbuf(0, f, len, 1, NULL, B_TSO | B_TCP | B_V4 | B_IPC, 1448, 14, 20, 32, 66);
	s_mbuf(0, f, len, 1, NULL, B_LRO, 1448, 0, 0, 0, 66);
	s_burst(2);
	fz_seed_write(dir, "tso4-gso-lro", &o);
	len = (uint16_t)fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_TCP, .payload = 7000, .tcp_opts = 12, .csum_blank = true });
	s_begin(SG, 1, 0);
	s_post(64);
	s_mbuf(1, f, len, 3, cuts3, B_TSO | B_TCP | B_V4 | B_IPC, 1000, 14, 20, 32, 66);
	s_burst(1);
	fz_seed_write(dir, "tso4-segmented", &o);
	len = (uint16_t)fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 6,
		.proto = IPPROTO_TCP, .payload = 3000, .ipv6_ext = 2, .csum_blank = true });
	s_begin(SG | C6 | G6 | PREP, 0, 0);
	s_post(64);
	s_mbuf(0, f, len, 1, NULL, B_TSO | B_TCP | B_V6, 1, 14, 56, 20, 90);
	s_mbuf(0, f, len, 1, NULL, B_TSO | B_TCP | B_V6, 2999, 14, 56, 20, 90);
	s_mbuf(0, f, len, 1, NULL, B_TSO | B_TCP | B_V6, 777, 14, 56, 20, 90);
	s_burst(3);
	fz_seed_write(dir, "tso6-odd-segsz", &o);

	/* Headers that do not hold together under a checksum request. */
	len = (uint16_t)fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 0 });
	s_begin(SG | C4, 0, 0);
	s_post(8);
	s_mbuf(0, f, len, 1, NULL, B_TCP | B_V4, 0, 14, 20, 20, len);
	len = (uint16_t)fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_UDP, .frag = true, .payload = 100 });
	s_mbuf(0, f, len, 1, NULL, B_UDP | B_V4, 0, 14, 20, 8, len);
	s_mbuf(0, f, 40, 1, NULL, B_TSO | B_TCP | B_V4, 100, 14, 20, 20, len);
	s_burst(3);
	fz_seed_write(dir, "csum-bad-headers", &o);

	/* Grants: read-only (a guest-tx buffer), revoked, another domain's, out of range. */
	len = (uint16_t)fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_UDP, .payload = 100 });
	s_begin(SG, 0, 0);
	fz_put8(&o, OP_POST); fz_put8(&o, 1); fz_put16(&o, 1); fz_put32(&o, 0);
	fz_put8(&o, OP_POST); fz_put8(&o, 1); fz_put16(&o, 2); fz_put32(&o, 3u << 24);
	fz_put8(&o, OP_POST); fz_put8(&o, 1); fz_put16(&o, 3); fz_put32(&o, 4u << 24);
	fz_put8(&o, OP_POST); fz_put8(&o, 0); fz_put16(&o, 4); fz_put32(&o, TG_BAD_REF);
	fz_put8(&o, OP_POST); fz_put8(&o, 1); fz_put16(&o, 500); fz_put32(&o, 1u << 24);
	fz_put8(&o, OP_PUSH);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_burst(5);
	fz_seed_write(dir, "grants-bad", &o);

	/* Indices: a jump past the ring (fatal); a failed copy call; a reconnect. */
	s_begin(SG, 0, 100);
	s_post(2);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_op8(OP_FAILCOPY, 1);
	s_burst(1);
	fz_put8(&o, OP_RECONNECT);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_burst(1);
	fz_put8(&o, OP_PROD); fz_put8(&o, 0); fz_put32(&o, 400);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_burst(1);
	fz_seed_write(dir, "copy-fails-prod-jump", &o);

	/* A request rewritten after it was posted, and rsp_prod scribbled on. */
	s_begin(SG, 0, 0);
	s_post(2);
	fz_put8(&o, OP_REWRITE); fz_put8(&o, 0); fz_put8(&o, 1); fz_put16(&o, 9);
	fz_put32(&o, 1u << 24 | 9);
	fz_put8(&o, OP_SCRIBBLE); fz_put8(&o, 1); fz_put32(&o, 77);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_mbuf(0, f, len, 1, NULL, 0, 0, 0, 0, 0, len);
	s_burst(2);
	fz_seed_write(dir, "rewrite-scribble", &o);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_make_seeds_if_asked(make_seeds);
	fz_eal_init((*argv)[0]);
	fz_guest_init(&g);
	st.verbose = getenv("XNB_FUZZ_VERBOSE") != NULL;
	return 0;
}
