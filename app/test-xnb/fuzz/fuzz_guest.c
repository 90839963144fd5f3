/* SPDX-License-Identifier: BSD-3-Clause */

/* What fuzz-guest-tx and fuzz-guest-rx share: see fuzz_guest.h. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "fuzz_common.h"
#include "fuzz_guest.h"
#include "xnb_rxtx.h"

static struct rte_mempool *pools[FZ_NR_POOLS];
static uint32_t rooms[FZ_NR_POOLS];

/* Every mbuf of every pool, sorted by address: where a local copy address may be. */
static struct rte_mbuf **mbufs;
static unsigned int nb_mbufs, cap_mbufs;

static void
collect(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	RTE_SET_USED(mp);
	RTE_SET_USED(arg);
	RTE_SET_USED(idx);
	if (nb_mbufs == cap_mbufs) {
		cap_mbufs = cap_mbufs == 0 ? 4096 : cap_mbufs * 2;
		mbufs = realloc(mbufs, cap_mbufs * sizeof(*mbufs));
		FZ_CHECK(mbufs != NULL, "realloc");
	}
	mbufs[nb_mbufs++] = obj;
}

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

/* Is [p, p + len) inside the data buffer of one mbuf of our pools? */
static bool
in_mbuf(const void *p, uint32_t len)
{
	uintptr_t a = (uintptr_t)p;
	unsigned int lo = 0, hi = nb_mbufs;
	const struct rte_mbuf *m;
	uintptr_t buf;

	/* The last mbuf at or below a. */
	while (hi - lo > 1) {
		unsigned int mid = (lo + hi) / 2;

		if ((uintptr_t)mbufs[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	if (nb_mbufs == 0 || (uintptr_t)mbufs[lo] > a)
		return false;
	m = mbufs[lo];
	buf = (uintptr_t)m->buf_addr;
	return a >= buf && a + len <= buf + m->buf_len;
}

static struct rte_mempool *
pool_create(const char *name, unsigned int n, uint32_t room)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(name, n, 0, 0,
		(uint16_t)(RTE_PKTMBUF_HEADROOM + room), rte_socket_id());

	FZ_CHECK(mp != NULL, "pool %s", name);
	return mp;
}

struct rte_mempool *
fz_pool(unsigned int i)
{
	return pools[i % FZ_NR_POOLS];
}

uint32_t
fz_pool_room(unsigned int i)
{
	return rooms[i % FZ_NR_POOLS];
}

/* --- the copy op --- */

static struct xnb_xen_ops ops;
static unsigned int fail_in;
static struct test_guest *guest;
uint64_t fz_copy_calls, fz_copy_segs;

void
fz_copy_fail_in(unsigned int n)
{
	fail_in = n;
}

static bool
in_txq_hdr(const void *p, uint32_t len)
{
	const uint8_t *lo = (const uint8_t *)guest->q->tx.hdr;
	const uint8_t *hi = lo + sizeof(guest->q->tx.hdr);

	return (const uint8_t *)p >= lo && (const uint8_t *)p + len <= hi;
}

static int
checked_copy(struct xnb_xen *x, uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
	const xengnttab_grant_copy_segment_t *s;
	uint32_t i;

	FZ_CHECK(count > 0 && count <= XNB_COPY_BATCH, "copy call of %u segments", count);
	fz_copy_calls++;
	fz_copy_segs += count;
	for (i = 0; i < count; i++) {
		s = &segs[i];
		/* Zero-size slots make no segment (XSA-448). */
		FZ_CHECK(s->len > 0 && s->len <= XNB_PAGE_SIZE, "segment %u of %u B", i, s->len);
		if (s->flags == GNTCOPY_source_gref) {
			/* Guest-tx: into an mbuf's buffer, from one of the guest's pages. */
			FZ_CHECK(s->source.foreign.domid == TG_DOMID, "domid %u",
				s->source.foreign.domid);
			FZ_CHECK(in_mbuf(s->dest.virt, s->len),
				"segment %u: %u B to %p, outside every mbuf", i, s->len,
				s->dest.virt);
		} else {
			FZ_CHECK(s->flags == GNTCOPY_dest_gref, "segment flags %#x", s->flags);
			FZ_CHECK(s->dest.foreign.domid == TG_DOMID, "domid %u",
				s->dest.foreign.domid);
			/* A guest-rx page is filled from offset 0, never past its end. */
			FZ_CHECK((uint32_t)s->dest.foreign.offset + s->len <= XNB_PAGE_SIZE,
				"segment %u: offset %u + %u B", i, s->dest.foreign.offset, s->len);
			FZ_CHECK(in_mbuf(s->source.virt, s->len) || in_txq_hdr(s->source.virt, s->len),
				"segment %u: %u B from %p, outside every mbuf and header copy", i,
				s->len, s->source.virt);
		}
	}
	if (fail_in > 0 && --fail_in == 0)
		return -EIO;
	return xnb_xen_sim_ops.copy(x, count, segs);
}

/* --- the guest --- */

static uint32_t revoked_ref, foreign_ref;

void
fz_guest_init(struct test_guest *g)
{
	int ref;
	unsigned int i;

	pools[0] = tg_pool();
	pools[1] = tg_small_pool();
	FZ_CHECK(pools[0] != NULL && pools[1] != NULL, "pools");
	rooms[0] = rte_pktmbuf_data_room_size(pools[0]) - RTE_PKTMBUF_HEADROOM;
	rooms[1] = rte_pktmbuf_data_room_size(pools[1]) - RTE_PKTMBUF_HEADROOM;
	rooms[2] = 128;
	pools[2] = pool_create("fz_tiny", 2047, rooms[2]);
	rooms[3] = 301;
	pools[3] = pool_create("fz_odd", 1023, rooms[3]);
	rooms[4] = 2048;
	pools[4] = pool_create("fz_scarce", FZ_SCARCE, rooms[4]);
	for (i = 0; i < FZ_NR_POOLS; i++)
		rte_mempool_obj_iter(pools[i], collect, NULL);
	qsort(mbufs, nb_mbufs, sizeof(*mbufs), cmp_ptr);

	FZ_CHECK(tg_init(g, 0, 0) == 0, "test guest");
	guest = g;
	/* A grant the guest revoked, and one it gave another domain. */
	ref = xensim_grant_access(g->dom, XENSIM_BACKEND_DOMID, TG_TX_BUF_PFN, true);
	FZ_CHECK(ref > 0 && xensim_grant_end(g->dom, (uint32_t)ref) == 0, "revoked grant");
	revoked_ref = (uint32_t)ref;
	ref = xensim_grant_access(g->dom, 5, TG_TX_BUF_PFN + 1, false);
	FZ_CHECK(ref > 0, "foreign grant");
	foreign_ref = (uint32_t)ref;
	ops = xnb_xen_sim_ops;
	ops.copy = checked_copy;
	g->q->ops = &ops;
}

uint32_t
fz_gref(struct test_guest *g, uint32_t v, int *pfn)
{
	uint32_t idx = v & 0xffffff;

	*pfn = -1;
	switch (v >> 24) {
	case 0:
		*pfn = (int)(TG_TX_BUF_PFN + idx % TG_NR_TX_BUFS);
		return g->tx_buf_ref[idx % TG_NR_TX_BUFS];
	case 1:
		*pfn = (int)(TG_RX_BUF_PFN + idx % TG_NR_RX_BUFS);
		return g->rx_buf_ref[idx % TG_NR_RX_BUFS];
	case 2:
		return idx & 1 ? g->rx_ring_ref : g->tx_ring_ref;
	case 3:
		return revoked_ref;
	case 4:
		return foreign_ref;
	case 5:
		return 0;
	case 6:
		return idx;
	default:
		return v;
	}
}

static uint8_t dirty[TG_NR_PAGES];

void
fz_page_write(struct test_guest *g, int pfn, uint32_t off, const uint8_t *p, uint32_t n)
{
	if (pfn < 0 || pfn >= TG_NR_PAGES || off >= XNB_PAGE_SIZE)
		return;
	if (n > XNB_PAGE_SIZE - off)
		n = XNB_PAGE_SIZE - off;
	memcpy((uint8_t *)xensim_dom_page(g->dom, (uint32_t)pfn) + off, p, n);
	dirty[pfn] = 1;
}

void
fz_pages_clean(struct test_guest *g)
{
	unsigned int i;

	for (i = 0; i < TG_NR_PAGES; i++)
		if (dirty[i]) {
			memset(xensim_dom_page(g->dom, i), 0, XNB_PAGE_SIZE);
			dirty[i] = 0;
		}
}

void
fz_rings_reset(struct test_guest *g, RING_IDX tx_start, RING_IDX rx_start)
{
	memset(g->tx_sring, 0, XNB_PAGE_SIZE);
	memset(g->rx_sring, 0, XNB_PAGE_SIZE);
	SHARED_RING_INIT(g->tx_sring);
	SHARED_RING_INIT(g->rx_sring);
	g->tx_sring->req_prod = g->tx_sring->rsp_prod = tx_start;
	g->tx_sring->rsp_event = tx_start + 1;
	g->rx_sring->req_prod = g->rx_sring->rsp_prod = rx_start;
	g->rx_sring->rsp_event = rx_start + 1;
	FRONT_RING_ATTACH(&g->tx, g->tx_sring, tx_start, XNB_PAGE_SIZE);
	FRONT_RING_ATTACH(&g->rx, g->rx_sring, rx_start, XNB_PAGE_SIZE);
	g->next_id = 0;
	g->next_tx_buf = 0;
	g->next_rx_buf = 0;
	g->fatal_calls = 0;
}

unsigned int
fz_chain_len(const struct rte_mbuf *m)
{
	unsigned int n = 0;

	for (; m != NULL && n < 100000; m = m->next)
		n++;
	return n;
}
