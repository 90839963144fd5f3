/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * fuzz-guest-tx: what a guest posts on its guest-tx ring, through the
 * production rx burst (xnb_rx_burst(): the copy-once of requests, the
 * walk and its verdicts, extra-info slots, GSO segmentation or LRO,
 * checksums, the fatal paths), over the unit suites' test guest on the
 * simulated platform, the queue connected with xnb_queue_connect().
 *
 * Input: a header, then a program of guest actions.
 *   header: u8 offloads (bit 0 TCP checksum, 1 UDP checksum, 2 LRO,
 *           3 IPv4 header checksum, 4 scatter; bits 5-7 the mbuf pool,
 *           fz_pool()), u8 MTU (0: the largest frame, 1: 1518 B,
 *           2: 9018 B, else the next u16), u32 the rings' start index,
 *           u8 mbufs of the scarce pool held away.
 *   actions (u8 op % OP_COUNT):
 *     POST     u8 ctl, 12 bytes of request: written at req_prod_pvt.
 *              ctl bit 0: its gref names a grant kind (fz_gref());
 *              bit 1: u16 n, u16 total, n bytes of frame data from the
 *              input, patterned up to total, go into its page at its offset
 *     PUSH     req_prod = req_prod_pvt
 *     PROD     u8 mode, u32 v: req_prod = v (mode odd) or req_prod_pvt + (int16)v
 *     BURST    u8 nb_pkts (up to 128): one rx burst, checked
 *     REWRITE  u8 back, u8 ctl, 12 bytes: rewrite an already posted slot
 *     RECONNECT  disconnect and connect again at the shared indices
 *     FAILCOPY u8 n: the n-th copy call from now fails as a whole
 *     SCRIBBLE u8 which, u32 v: the guest writes rsp_event, rsp_prod or req_event
 *
 * Checks after each burst, beyond ASan and UBSan: no more frames than
 * asked; each a well-formed chain from the queue's pool, its first mbuf
 * as full as its room allows (XSA-423), single-segment unless scatter
 * (or LRO), no longer than the MTU allows unless GSO; every slot the
 * queue consumed answered in the same burst and none beyond what the
 * guest posted; statuses and ids as posted (NULL for extra-info slots);
 * no byte of the ring written but a response's 4 (XSA-216) and rsp_prod;
 * each copy segment inside an mbuf; the mbufs in use those the queue
 * keeps for the next burst; after a fatal error, on_fatal once and no
 * burst doing anything. At the end: the disconnect unmaps both rings and
 * every mbuf is back in its pool.
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
	OP_BURST,
	OP_REWRITE,
	OP_RECONNECT,
	OP_FAILCOPY,
	OP_SCRIBBLE,
	OP_COUNT,
};

#define SLOT 12
#define NSLOTS XNB_TX_RING_SIZE
#define HDR_LEN offsetof(netif_tx_sring_t, ring)

static struct test_guest g;

/* Each run's state. */
static struct {
	struct rte_mempool *pool;
	unsigned int pool_idx;
	uint32_t room;
	uint16_t port_id;
	struct rte_mbuf *held[FZ_SCARCE];
	unsigned int nb_held;
	bool connected;
	bool verbose;              /* XNB_FUZZ_VERBOSE: a line per slot written and burst */
	RING_IDX posted_hi;        /* the furthest req_prod published, seen from rsp_prod */
	/* The ring page as the guest wrote it, responses included as they came. */
	uint8_t shadow[XNB_PAGE_SIZE];
	/*
	 * The id of the request at each ring index as the queue copied it
	 * (XSA-155: once, when req_prod first showed it), by index % 512:
	 * what its response must carry.
	 */
	uint16_t copied_id[2 * NSLOTS];
	uint8_t before[XNB_PAGE_SIZE];  /* the ring as a burst found it */
} st;

static uint8_t *
slot_page(RING_IDX i)
{
	return (uint8_t *)g.tx_sring + HDR_LEN + (i % NSLOTS) * SLOT;
}

/* The guest writes 12 bytes at ring index i: into the ring and its shadow. */
static void
guest_write_slot(RING_IDX i, const uint8_t *b)
{
	uint32_t s = i % NSLOTS;
	netif_tx_request_t r;

	memcpy(slot_page(i), b, SLOT);
	memcpy(st.shadow + HDR_LEN + s * SLOT, b, SLOT);
	memcpy(&r, b, sizeof(r));
	if (st.verbose)
		fprintf(stderr, "slot %u: gref %#x offset %u flags %#x id %u size %u\n", i,
			r.gref, r.offset, r.flags, r.id, r.size);
}

static void
guest_write_hdr(size_t off, uint32_t v)
{
	memcpy((uint8_t *)g.tx_sring + off, &v, sizeof(v));
	memcpy(st.shadow + off, &v, sizeof(v));
}

/* A request as the input gives it (ctl bit 0: its gref names a grant kind). */
static void
read_slot(struct fz_in *in, uint8_t ctl, uint8_t *b)
{
	netif_tx_request_t req;
	uint16_t n, total, k;
	uint8_t data[XNB_PAGE_SIZE];
	int pfn = -1;

	fz_bytes(in, b, SLOT);
	if ((ctl & 1) == 0)
		return;
	memcpy(&req, b, sizeof(req));
	req.gref = fz_gref(&g, req.gref, &pfn);
	memcpy(b, &req, sizeof(req));
	if ((ctl & 2) == 0)
		return;
	n = fz_u16(in) % (XNB_PAGE_SIZE + 1);
	total = fz_u16(in) % (XNB_PAGE_SIZE + 1);
	fz_bytes(in, data, n);
	for (k = n; k < total; k++)
		data[k] = (uint8_t)(k * 7 + 3);
	fz_page_write(&g, pfn, req.offset, data, total > n ? total : n);
}

static void
q_connect(void)
{
	int ret;

	g.fatal_calls = 0;
	ret = tg_connect(&g, true);
	/* The harness's own rings always hold together; a hostile index may not. */
	st.connected = ret == 0;
	if (ret == 0)
		FZ_CHECK(xensim_grant_mapped_count(g.dom) == 2, "two rings mapped");
	else
		FZ_CHECK(xensim_grant_mapped_count(g.dom) == 0, "a refused connect maps nothing");
}

static void
q_disconnect(void)
{
	xnb_queue_disconnect(g.q);
	st.connected = false;
	FZ_CHECK(xensim_grant_mapped_count(g.dom) == 0, "rings unmapped at disconnect");
}

/* Mbufs the queue keeps between bursts: its stash. */
static unsigned int
stash_mbufs(void)
{
	const struct xnb_rxq *rxq = &g.q->rx;
	unsigned int i, n = 0;

	for (i = 0; i < rxq->stash_len; i++)
		n += fz_chain_len(rxq->stash[(rxq->stash_head + i) % RTE_DIM(rxq->stash)]);
	return n;
}

static void
check_frame(struct rte_mbuf *m)
{
	const char *why = NULL;
	const struct rte_mbuf *s;
	uint32_t sum = 0;

	FZ_CHECK(rte_mbuf_check(m, 1, &why) == 0, "bad mbuf: %s", why);
	FZ_CHECK(m->pool == st.pool, "an mbuf of another pool");
	FZ_CHECK(m->port == st.port_id, "port %u", m->port);
	FZ_CHECK(m->pkt_len >= RTE_ETHER_HDR_LEN && m->pkt_len <= XNB_MAX_FRAME,
		"frame of %u B", m->pkt_len);
	/* XSA-423: the first mbuf as full as it can be, so the headers are whole. */
	FZ_CHECK(m->data_len == RTE_MIN(m->pkt_len, st.room), "first mbuf %u B of %u, room %u",
		m->data_len, m->pkt_len, st.room);
	for (s = m; s != NULL; s = s->next) {
		FZ_CHECK(s->data_len > 0 && s->data_len <= st.room, "segment of %u B", s->data_len);
		FZ_CHECK(s->data_off == RTE_PKTMBUF_HEADROOM, "data_off %u", s->data_off);
		sum += s->data_len;
	}
	FZ_CHECK(sum == m->pkt_len, "segments add up to %u of %u", sum, m->pkt_len);
	FZ_CHECK((m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK) == 0, "tx flags on a received frame");
	if (!(m->ol_flags & RTE_MBUF_F_RX_LRO)) {
		FZ_CHECK(m->nb_segs == 1 || g.q->rx.scatter, "a chain without scatter");
	} else {
		FZ_CHECK(g.q->rx.lro && m->tso_segsz != 0, "LRO frame: lro %d tso_segsz %u",
			g.q->rx.lro, m->tso_segsz);
	}
}

static void
burst(uint16_t nb_pkts)
{
	struct rte_mbuf *pkts[128];
	netif_tx_sring_t *sr = g.tx_sring;
	RING_IDX old_rsp, old_field, new_rsp, req_prod, old_copied, i;
	bool fatal_before = g.q->fatal != XNB_FATAL_NONE;
	uint32_t s, k;
	uint16_t n, id;
	int16_t status;

	/* What the backend answered up to (the guest may scribble on rsp_prod). */
	old_rsp = st.connected ? g.q->guest_tx.rsp_prod_pvt : sr->rsp_prod;
	old_field = sr->rsp_prod;
	req_prod = sr->req_prod;
	if (st.posted_hi - old_rsp > NSLOTS || (req_prod - old_rsp <= NSLOTS &&
			req_prod - old_rsp > st.posted_hi - old_rsp))
		st.posted_hi = req_prod;
	old_copied = g.q->rx.req_copied;
	memcpy(st.before, g.tx_sring, XNB_PAGE_SIZE);
	n = xnb_rx_burst(&g.q->rx, pkts, nb_pkts);
	/* What it copied: published slots only, at most a ring ahead of req_cons. */
	if (st.connected && g.q->rx.req_copied != old_copied) {
		FZ_CHECK(g.q->rx.req_copied - old_copied <= NSLOTS &&
			g.q->rx.req_copied - g.q->guest_tx.req_cons <= NSLOTS &&
			st.posted_hi - g.q->rx.req_copied <= NSLOTS,
			"copied %u to %u, req_cons %u, published up to %u", old_copied,
			g.q->rx.req_copied, g.q->guest_tx.req_cons, st.posted_hi);
		for (i = old_copied; i != g.q->rx.req_copied; i++)
			memcpy(&st.copied_id[i % (2 * NSLOTS)], st.before + HDR_LEN +
				(i % NSLOTS) * SLOT + offsetof(netif_tx_request_t, id), 2);
	}
	FZ_CHECK(n <= nb_pkts, "%u frames for a burst of %u", n, nb_pkts);
	FZ_CHECK(g.q->rx.busy == 0, "busy after the burst");
	if (fatal_before || !st.connected)
		FZ_CHECK(n == 0, "a stopped queue delivered %u frames", n);
	for (k = 0; k < n; k++) {
		check_frame(pkts[k]);
		rte_pktmbuf_free(pkts[k]);
	}

	/* The ring: responses only, only for what was consumed. */
	new_rsp = st.connected ? g.q->guest_tx.rsp_prod_pvt : old_rsp;
	if (st.connected)
		FZ_CHECK(new_rsp == g.q->guest_tx.req_cons,
			"rsp_prod_pvt %u, req_cons %u: every consumed slot answered",
			new_rsp, g.q->guest_tx.req_cons);
	/* Pushed, all of them, or nothing written. */
	FZ_CHECK(sr->rsp_prod == (new_rsp != old_rsp ? new_rsp : old_field),
		"rsp_prod %u: answered up to %u from %u", sr->rsp_prod, new_rsp, old_rsp);
	FZ_CHECK(new_rsp - old_rsp <= NSLOTS, "%u responses", new_rsp - old_rsp);
	/*
	 * Never beyond what the guest published: the furthest req_prod a
	 * burst could have seen (a guest that moves req_prod back after a
	 * burst copied its slots still gets them answered).
	 */
	if (new_rsp != old_rsp)
		FZ_CHECK(st.posted_hi - old_rsp <= NSLOTS && new_rsp - old_rsp <= st.posted_hi - old_rsp,
			"responses up to %u, beyond anything published (req_prod %u, at most %u; from %u)",
			new_rsp, req_prod, st.posted_hi, old_rsp);
	if (fatal_before)
		FZ_CHECK(new_rsp == old_rsp, "a stopped queue answered");
	for (i = old_rsp; i != new_rsp; i++) {
		s = i % NSLOTS;
		memcpy(&id, slot_page(i), sizeof(id));
		memcpy(&status, slot_page(i) + 2, sizeof(status));
		if (st.verbose)
			fprintf(stderr, "response %u: id %u status %d\n", i, id, status);
		FZ_CHECK(status == NETIF_RSP_OKAY || status == NETIF_RSP_ERROR ||
			status == NETIF_RSP_DROPPED || status == NETIF_RSP_NULL,
			"response %u: status %d", i, status);
		if (status == NETIF_RSP_NULL) {
			FZ_CHECK(id == 0, "NULL response %u with id %u", i, id);
		} else {
			FZ_CHECK(id == st.copied_id[i % (2 * NSLOTS)],
				"response %u: id %u, the request copied there had %u", i, id,
				st.copied_id[i % (2 * NSLOTS)]);
		}
		/* XSA-216: the other 8 bytes of the slot stay the guest's. */
		FZ_CHECK(memcmp(slot_page(i) + 4, st.shadow + HDR_LEN + s * SLOT + 4, SLOT - 4) == 0,
			"response %u wrote beyond its 4 bytes", i);
		memcpy(st.shadow + HDR_LEN + s * SLOT, slot_page(i), 4);
	}
	memcpy(st.shadow + offsetof(netif_tx_sring_t, rsp_prod), &sr->rsp_prod, sizeof(new_rsp));
	FZ_CHECK(memcmp(st.shadow, g.tx_sring, XNB_PAGE_SIZE) == 0,
		"the backend wrote into the guest-tx ring outside its responses");

	if (st.verbose)
		fprintf(stderr, "burst of %u: %u frames, %u responses, fatal %u, stash %u, gso %lu, csum_blank %lu, errors %lu\n",
			nb_pkts, n, new_rsp - old_rsp, g.q->fatal, g.q->rx.stash_len,
			(unsigned long)g.q->rx.stats.gso, (unsigned long)g.q->rx.stats.csum_blank,
			(unsigned long)g.q->rx.stats.errors);
	/* Fatal: stopped, told once (per connection; a refused connect keeps the old flag). */
	if (!st.connected) {
		FZ_CHECK(g.q->rx.allow == 0 && g.q->tx.allow == 0, "a disconnected queue allowed");
	} else if (g.q->fatal != XNB_FATAL_NONE) {
		FZ_CHECK(g.fatal_calls == 1, "on_fatal called %u times", g.fatal_calls);
		FZ_CHECK(g.q->rx.allow == 0 && g.q->tx.allow == 0, "a fatal queue still allowed");
	} else {
		FZ_CHECK(g.fatal_calls == 0, "on_fatal without a fatal error");
	}
	/* Every mbuf taken is handed out, kept for the next burst, or back. */
	FZ_CHECK(tg_in_use(st.pool) == st.nb_held + stash_mbufs(),
		"%u mbufs in use: %u held, %u in the stash", tg_in_use(st.pool), st.nb_held,
		stash_mbufs());
}

static void
run(struct fz_in *in)
{
	uint8_t offl = fz_u8(in), mtu = fz_u8(in), ctl, b[SLOT], which;
	uint32_t start, v, hold;
	RING_IDX idx;

	st.pool_idx = (offl >> 5) % FZ_NR_POOLS;
	st.pool = fz_pool(st.pool_idx);
	st.room = fz_pool_room(st.pool_idx);
	g.q->rx.mb_pool = st.pool;
	g.q->rx.csum_tcp = offl & 1;
	g.q->rx.csum_udp = (offl >> 1) & 1;
	g.q->rx.lro = (offl >> 2) & 1;
	g.q->rx.csum_ip = (offl >> 3) & 1;
	g.q->rx.scatter = (offl >> 4) & 1;
	switch (mtu) {
	case 0: g.q->rx.max_frame = XNB_MAX_FRAME; break;
	case 1: g.q->rx.max_frame = 1518; break;
	case 2: g.q->rx.max_frame = 9018; break;
	default: g.q->rx.max_frame = fz_u16(in); break;
	}
	st.port_id = mtu;
	g.q->rx.port_id = st.port_id;
	start = fz_u32(in);
	hold = fz_u8(in);
	st.nb_held = 0;
	if (st.pool_idx == 4 && hold % FZ_SCARCE != 0) {
		hold %= FZ_SCARCE;
		FZ_CHECK(rte_pktmbuf_alloc_bulk(st.pool, st.held, hold) == 0, "hold");
		st.nb_held = hold;
	}
	fz_rings_reset(&g, start, start);
	st.posted_hi = start;
	memcpy(st.shadow, g.tx_sring, XNB_PAGE_SIZE);
	fz_copy_fail_in(0);
	q_connect();
	FZ_CHECK(st.connected, "connect");

	while (fz_more(in)) {
		switch (fz_u8(in) % OP_COUNT) {
		case OP_POST:
			ctl = fz_u8(in);
			read_slot(in, ctl, b);
			guest_write_slot(g.tx.req_prod_pvt++, b);
			break;
		case OP_PUSH:
			guest_write_hdr(offsetof(netif_tx_sring_t, req_prod), g.tx.req_prod_pvt);
			break;
		case OP_PROD:
			which = fz_u8(in);
			v = fz_u32(in);
			guest_write_hdr(offsetof(netif_tx_sring_t, req_prod), which & 1 ? v :
				g.tx.req_prod_pvt + (uint32_t)(int32_t)(int16_t)v);
			break;
		case OP_BURST:
			burst(fz_u8(in) % 129);
			break;
		case OP_REWRITE:
			idx = g.tx.req_prod_pvt - 1 - fz_u8(in);
			ctl = fz_u8(in);
			read_slot(in, ctl, b);
			guest_write_slot(idx, b);
			break;
		case OP_RECONNECT:
			if (st.verbose)
				fprintf(stderr, "reconnect\n");
			q_disconnect();
			FZ_CHECK(tg_in_use(st.pool) == st.nb_held, "mbufs kept past a disconnect");
			q_connect();
			/* The backend took the rings at their indices, as they are now. */
			memcpy(st.shadow, g.tx_sring, XNB_PAGE_SIZE);
			break;
		case OP_FAILCOPY:
			fz_copy_fail_in(fz_u8(in) % 8);
			break;
		case OP_SCRIBBLE:
			which = fz_u8(in) % 3;
			v = fz_u32(in);
			guest_write_hdr(which == 0 ? offsetof(netif_tx_sring_t, rsp_event) :
				which == 1 ? offsetof(netif_tx_sring_t, rsp_prod) :
				offsetof(netif_tx_sring_t, req_event), v);
			break;
		}
	}
	q_disconnect();
	FZ_CHECK(tg_in_use(st.pool) == st.nb_held, "mbufs leaked: %u in use, %u held",
		tg_in_use(st.pool), st.nb_held);
	if (st.nb_held > 0)
		rte_pktmbuf_free_bulk(st.held, st.nb_held);
	FZ_CHECK(tg_in_use(st.pool) == 0, "mbufs leaked");
	tg_events(&g);
	fz_pages_clean(&g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	run(&in);
	return 0;
}

/* --- Seeds --- */

static struct fz_out o;
static uint16_t next_id;
static uint32_t next_page;

static void
s_begin(uint8_t offl, uint8_t mtu, uint32_t start, uint8_t hold)
{
	o.n = 0;
	next_id = 0;
	next_page = 0;
	fz_put8(&o, offl);
	fz_put8(&o, mtu);
	fz_put32(&o, start);
	fz_put8(&o, hold);
}

static void
s_req(uint32_t gref, uint16_t off, uint16_t flags, uint16_t id, uint16_t size,
		const uint8_t *data, uint16_t n, uint16_t total)
{
	netif_tx_request_t r = { .gref = gref, .offset = off, .flags = flags, .id = id,
		.size = size };

	fz_put8(&o, OP_POST);
	fz_put8(&o, data != NULL || total != 0 ? 3 : 1);
	fz_put(&o, &r, sizeof(r));
	if (data != NULL || total != 0) {
		fz_put16(&o, n);
		fz_put16(&o, total);
		fz_put(&o, data, n);
	}
}

static void
s_extra(uint8_t type, uint8_t flags, uint16_t gso_size, uint8_t gso_type)
{
	netif_extra_info_t e;
	uint8_t b[SLOT] = { 0 };

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.flags = flags;
	e.u.gso.size = gso_size;
	e.u.gso.type = gso_type;
	memcpy(b, &e, sizeof(e));
	fz_put8(&o, OP_POST);
	fz_put8(&o, 0);
	fz_put(&o, b, SLOT);
}

static void
s_op(uint8_t op)
{
	fz_put8(&o, op);
}

static void
s_burst(uint8_t n)
{
	s_op(OP_PUSH);
	s_op(OP_BURST);
	fz_put8(&o, n);
}

/*
 * A frame of len bytes over nslots slots (each in its own page; the
 * first carries the total), with a GSO extra slot when gso_size.
 * Header bytes come from the input, the payload is patterned.
 */
static void
s_frame(const uint8_t *f, uint32_t len, unsigned int nslots, uint16_t flags,
		uint16_t gso_size, uint8_t gso_type)
{
	uint32_t per = (len + nslots - 1) / nslots, pos = 0, n, hdr;
	unsigned int i;

	for (i = 0; i < nslots; i++) {
		n = RTE_MIN(per, len - pos);
		hdr = pos < 128 ? RTE_MIN(128 - pos, n) : 0;
		s_req(next_page++ % TG_NR_TX_BUFS, 0,
			(uint16_t)((i == 0 ? flags | (gso_size ? NETTXF_extra_info : 0) : 0) |
				(i + 1 < nslots ? NETTXF_more_data : 0)),
			next_id++, (uint16_t)(i == 0 ? len : n), f + pos, (uint16_t)hdr,
			(uint16_t)n);
		if (i == 0 && gso_size)
			s_extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, gso_size, gso_type);
		pos += n;
	}
}

static void
s_end(const char *dir, const char *name)
{
	fz_seed_write(dir, name, &o);
}

static void
make_seeds(const char *dir)
{
	static uint8_t f[XNB_MAX_FRAME];
	const uint8_t V4 = XEN_NETIF_GSO_TYPE_TCPV4, V6 = XEN_NETIF_GSO_TYPE_TCPV6;
	const uint8_t ALL = 0x1f;   /* checksums, LRO off below, scatter */
	const uint8_t SG = 0x10, TCP = 0x01, LRO = 0x04, IP = 0x08;
	uint32_t len;
	unsigned int i;

	len = fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_TCP, .payload = 100 });
	s_begin(SG, 0, 0, 0);
	s_frame(f, len, 1, 0, 0, 0);
	s_frame(f, len, 1, NETTXF_data_validated, 0, 0);
	s_burst(32);
	s_end(dir, "plain");

	/* Blank checksums: left blank (fast case), or completed in software. */
	len = fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_TCP, .payload = 1400, .csum_blank = true });
	s_begin(SG | TCP | IP, 1, 0, 0);
	s_frame(f, len, 1, NETTXF_csum_blank, 0, 0);
	s_frame(f, len, 2, NETTXF_csum_blank, 0, 0);
	s_burst(8);
	s_end(dir, "csum-tcp4-blank");
	len = fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 6,
		.proto = IPPROTO_UDP, .payload = 900, .ipv6_ext = 1, .csum_blank = true });
	s_begin(SG, 0, 0, 0);
	s_frame(f, len, 3, NETTXF_csum_blank, 0, 0);
	s_burst(8);
	s_end(dir, "csum-udp6-ext-software");
	/* The regression: a checksum over a chain of odd data rooms. */
	len = fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_UDP, .payload = 900, .csum_blank = true });
	s_begin(SG | 3 << 5, 0, 0, 0);
	s_frame(f, len, 1, NETTXF_csum_blank, 0, 0);
	s_burst(8);
	s_end(dir, "csum-odd-room");

	/* GSO: segmented (stash: 2 frames asked of 5), LRO, IPv6, tiny mbufs. */
	len = fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_TCP, .payload = 7000, .csum_blank = true });
	s_begin(SG | TCP, 0, 0, 0);
	s_frame(f, len, 2, NETTXF_csum_blank, 1448, V4);
	s_burst(2);
	s_burst(8);
	s_end(dir, "gso4-segmented-stash");
	s_begin(SG | LRO | TCP, 0, 0, 0);
	s_frame(f, len, 2, NETTXF_csum_blank, 1448, V4);
	s_frame(f, len, 2, 0, 1448, V4);
	s_burst(8);
	s_end(dir, "gso4-lro");
	s_begin(SG | 2 << 5, 1, 0, 0);
	s_frame(f, len, 3, 0, 536, V4);
	s_burst(32);
	s_end(dir, "gso4-tiny-mbufs");
	len = fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 6,
		.proto = IPPROTO_TCP, .payload = 5000, .ipv6_ext = 2, .tcp_opts = 12,
		.csum_blank = true });
	s_begin(SG | TCP, 0, 0, 0);
	s_frame(f, len, 2, NETTXF_csum_blank, 1000, V6);
	s_burst(16);
	s_end(dir, "gso6-ext");
	s_begin(SG | 4 << 5, 0, 0, 34);
	s_frame(f, len, 2, NETTXF_csum_blank, 1000, V6);
	s_frame(f, len, 2, NETTXF_csum_blank, 1000, V6);
	s_burst(16);
	s_burst(16);
	s_end(dir, "gso6-scarce-pool");

	/* Slot counts: 18 good, 19 an error, 20 fatal (then a reconnect). */
	len = fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_UDP, .payload = 1700 });
	s_begin(SG | 1 << 5, 0, 0, 0);
	s_frame(f, len, 18, 0, 0, 0);
	s_frame(f, len, 19, 0, 0, 0);
	s_burst(8);
	s_frame(f, len, 20, 0, 0, 0);
	s_burst(8);
	s_burst(8);
	s_op(OP_RECONNECT);
	s_frame(f, 60, 1, 0, 0, 0);
	s_burst(8);
	s_end(dir, "slots-18-19-20");

	/* Extra-info slots: type 0, a type twice, more than there are types. */
	s_begin(SG, 0, 0, 0);
	s_req(0, 0, NETTXF_extra_info, 1, 60, f, 60, 60);
	s_extra(0, 0, 0, 0);
	s_req(1, 0, NETTXF_extra_info, 2, 60, f, 60, 60);
	s_extra(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_FLAG_MORE, 0, 0);
	s_extra(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0, 0, 0);
	s_req(2, 0, NETTXF_extra_info, 3, 60, f, 60, 60);
	s_extra(XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_FLAG_MORE, 0, V4);
	s_extra(XEN_NETIF_EXTRA_TYPE_HASH, 0, 0, 0);
	s_burst(8);
	s_req(3, 0, NETTXF_extra_info, 4, 60, f, 60, 60);
	for (i = 0; i < 6; i++)
		s_extra(XEN_NETIF_EXTRA_TYPE_MCAST_DEL, XEN_NETIF_EXTRA_FLAG_MORE, 0, 0);
	s_burst(8);
	s_end(dir, "extras-bad");

	/* Ring indices: a jump past the ring (fatal), from near 2^32. */
	s_begin(SG, 0, UINT32_MAX - 3, 0);
	s_frame(f, 100, 1, 0, 0, 0);
	s_frame(f, 100, 1, 0, 0, 0);
	s_burst(1);
	s_op(OP_PROD);
	fz_put8(&o, 0);
	fz_put32(&o, 300);
	s_op(OP_BURST);
	fz_put8(&o, 4);
	s_end(dir, "prod-jump-wrap");

	/* Double fetch: a partial packet, its first slot rewritten, then its end. */
	s_begin(SG, 0, 0, 0);
	s_req(0, 0, NETTXF_more_data, 7, 200, f, 100, 100);
	s_burst(4);
	s_op(OP_REWRITE);
	fz_put8(&o, 0);
	fz_put8(&o, 1);
	fz_put(&o, &(netif_tx_request_t){ .gref = 0, .offset = 4000, .size = 60000, .id = 9 },
		SLOT);
	s_req(1, 0, 0, 8, 100, f, 0, 100);
	s_burst(4);
	s_end(dir, "double-fetch");

	/* Grants: revoked, another domain's, out of range, a ring page, ref 0. */
	s_begin(SG, 0, 0, 0);
	s_req(3u << 24, 0, 0, 1, 60, NULL, 0, 0);
	s_req(4u << 24, 0, 0, 2, 60, NULL, 0, 0);
	s_req(TG_BAD_REF, 0, 0, 3, 60, NULL, 0, 0);
	s_req(2u << 24, 0, 0, 4, 60, NULL, 0, 0);
	s_req(5u << 24, 0, 0, 5, 60, NULL, 0, 0);
	s_req(1u << 24, 0, NETTXF_more_data, 6, 3000, NULL, 0, 0);
	s_req(3u << 24, 0, 0, 7, 1000, NULL, 0, 0);
	s_burst(16);
	s_end(dir, "grants-bad");

	/* A copy call that fails: the queue stops; then a reconnect. */
	s_begin(SG, 0, 0, 0);
	s_frame(f, 100, 1, 0, 0, 0);
	s_op(OP_FAILCOPY);
	fz_put8(&o, 1);
	s_burst(4);
	s_op(OP_RECONNECT);
	s_frame(f, 100, 1, 0, 0, 0);
	s_burst(4);
	s_end(dir, "copy-fails");

	/* Drops: longer than the MTU, a chain without scatter; odd slots. */
	len = fz_frame_build(f, sizeof(f), &(struct fz_frame){ .ipv = 4,
		.proto = IPPROTO_TCP, .payload = 3000 });
	s_begin(1 << 5, 1, 0, 0);
	s_frame(f, len, 1, 0, 0, 0);
	s_frame(f, 1000, 1, 0, 0, 0);
	s_req(10, 4000, 0, 50, 200, NULL, 0, 0);             /* crosses its page */
	s_req(11, 0, NETTXF_more_data, 51, 10, NULL, 0, 0);  /* under 14 bytes */
	s_req(12, 0, 0, 52, 20, NULL, 0, 0);
	s_req(13, 0, NETTXF_more_data, 53, 100, NULL, 0, 0); /* zero-size slots */
	s_req(14, 0, NETTXF_more_data, 54, 0, NULL, 0, 0);
	s_req(5u << 24, 0, 0, 55, 0, NULL, 0, 0);
	s_burst(16);
	s_end(dir, "drops-and-odd-slots");

	/* A guest scribbling on the indices it does not own, and a reconnect mid-packet. */
	s_begin(SG | ALL, 2, 1000, 0);
	s_frame(f, 100, 1, 0, 0, 0);
	s_op(OP_SCRIBBLE);
	fz_put8(&o, 1);
	fz_put32(&o, 5000);
	s_op(OP_SCRIBBLE);
	fz_put8(&o, 0);
	fz_put32(&o, 0);
	s_req(20, 0, NETTXF_more_data, 60, 300, NULL, 0, 0);
	s_burst(4);
	s_op(OP_RECONNECT);
	s_req(21, 0, 0, 61, 100, NULL, 0, 0);
	s_burst(4);
	s_end(dir, "scribble-reconnect");
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
