/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Suite "rx": the guest-tx ring into mbufs (xnb_rx_burst), as FreeBSD's
 * netback unit tests cover it: packets of 1, 2 and 3 requests, an empty
 * ring, extra info, a partial packet, index wrap; responses, errors
 * included; mbuf chains; the copy batch (one copy call per burst).
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "test.h"
#include "test_common.h"
#include "xnb_mcast.h"
#include "xnb_rxtx.h"

static struct test_guest g;
static uint8_t data[XNB_MAX_FRAME + 1];
static uint8_t out[XNB_MAX_FRAME + 1];

static int
setup_zero(void)
{
	return tg_create(&g, 0, 0) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

/* Indices 16 below 2^32: they wrap while the tests run. */
static int
setup_wrap32(void)
{
	return tg_create(&g, UINT32_MAX - 15, UINT32_MAX - 15) == 0 ?
		TEST_SUCCESS : TEST_FAILED;
}

/* Indices 3 below a multiple of the ring size: slots wrap the array. */
static int
setup_wrap_ring(void)
{
	RING_IDX s = 3 * XNB_TX_RING_SIZE - 3;

	return tg_create(&g, s, s) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

static void
teardown(void)
{
	tg_destroy(&g);
}

/* The mbuf holds exactly len bytes of data. */
static int
check_mbuf(struct rte_mbuf *m, const uint8_t *expect, uint32_t len)
{
	int n = tg_mbuf_read(m, out, sizeof(out));

	TEST_ASSERT_EQUAL(n, (int)len, "mbuf length (or a broken chain)");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, expect, len, "mbuf data of a %u B packet", len);
	TEST_ASSERT_EQUAL(m->port, g.q->rx.port_id, "mbuf port");
	return TEST_SUCCESS;
}

/* The next n responses, all with status, ids id0.. in order. */
static int
check_rsps(unsigned int n, uint16_t id0, int16_t status)
{
	netif_tx_response_t rsp[XNB_TX_RING_SIZE];
	unsigned int i, got;

	TEST_ASSERT(n <= RTE_DIM(rsp), "test setup");
	got = tg_tx_rsps(&g, rsp, n);
	TEST_ASSERT_EQUAL(got, n, "responses");
	for (i = 0; i < n; i++) {
		TEST_ASSERT_EQUAL(rsp[i].id, (uint16_t)(id0 + i), "response %u id", i);
		TEST_ASSERT_EQUAL(rsp[i].status, status, "response %u status", i);
	}
	return TEST_SUCCESS;
}

static int
test_rx_empty_ring(void)
{
	struct rte_mbuf *m[4];

	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "burst on an empty ring");
	TEST_ASSERT_EQUAL(tg_tx_pending(&g), 0, "no response");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 0, "no copy call for nothing");
	TEST_ASSERT_EQUAL(g.q->guest_tx.req_cons, 0, "req_cons");
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_NONE, "not fatal");
	return TEST_SUCCESS;
}

/* One packet of nslots slots of the given sizes at offset off. */
static int
rx_one(const uint16_t *sizes, unsigned int nslots, uint16_t off, unsigned int nsegs)
{
	struct rte_mbuf *m[4];
	unsigned int i, len = 0;
	uint16_t id;
	int ret;

	for (i = 0; i < nslots; i++)
		len += sizes[i];
	tg_fill(data, len, (uint8_t)nslots);
	id = tg_tx_pkt(&g, data, sizes, nslots, off);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "one packet of %u slots", nslots);
	ret = check_mbuf(m[0], data, len);
	rte_pktmbuf_free(m[0]);
	if (ret != TEST_SUCCESS)
		return ret;
	if (check_rsps(nslots, id, NETIF_RSP_OKAY) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.packets, 1, "packets");
	TEST_ASSERT_EQUAL(g.q->rx.stats.bytes, len, "bytes");
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 0, "errors");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 1, "one copy call");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_segs, nsegs, "copy segments");
	TEST_ASSERT_EQUAL(tg_tx_pending(&g), 0, "no more responses");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

static int
test_rx_one_request(void)
{
	uint16_t sizes[] = { 60 };

	return rx_one(sizes, 1, 0, 1);
}

static int
test_rx_two_requests(void)
{
	uint16_t sizes[] = { 1000, 400 };

	return rx_one(sizes, 2, 96, 2);
}

static int
test_rx_three_requests(void)
{
	uint16_t sizes[] = { 14, 4000, 77 };

	/* 4091 B in 2048 B mbufs: the second slot is split between them. */
	return rx_one(sizes, 3, 17, 4);
}

/*
 * A guest's hash slot: with RTE_ETH_RX_OFFLOAD_RSS_HASH its value in
 * hash.rss and RTE_MBUF_F_RX_RSS_HASH; without the offload, or of an
 * unknown hash type (ignored, as Linux's netback does), no hash.
 */
static int
test_rx_hash_extra(void)
{
	static const struct {
		bool rss;
		uint8_t type;
		bool hashed;
	} c[] = {
		{ true, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, true },
		{ true, _XEN_NETIF_CTRL_HASH_TYPE_IPV6, true },
		{ false, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, false },
		{ true, 9, false },
	};
	const uint32_t value = 0x51ccc178;
	netif_extra_info_t e;
	struct rte_mbuf *m[2];
	unsigned int k, b = 7;
	int ret;

	for (k = 0; k < RTE_DIM(c); k++) {
		g.q->rx.rss_hash = c[k].rss;
		tg_fill(data, 200, (uint8_t)k);
		memcpy(tg_tx_buf(&g, b), data, 200);
		tg_tx_req(&g, g.tx_buf_ref[b], 0, NETTXF_extra_info, (uint16_t)(20 + k), 200);
		memset(&e, 0, sizeof(e));
		e.type = XEN_NETIF_EXTRA_TYPE_HASH;
		e.u.hash.type = c[k].type;
		e.u.hash.algorithm = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
		memcpy(e.u.hash.value, &value, sizeof(value));
		tg_tx_extra(&g, &e);
		tg_tx_push(&g);
		TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 2), 1, "case %u: the frame", k);
		ret = check_mbuf(m[0], data, 200);
		if (ret == TEST_SUCCESS && c[k].hashed &&
				(m[0]->hash.rss != value || !(m[0]->ol_flags & RTE_MBUF_F_RX_RSS_HASH)))
			ret = TEST_FAILED;
		if (ret == TEST_SUCCESS && !c[k].hashed && (m[0]->ol_flags & RTE_MBUF_F_RX_RSS_HASH))
			ret = TEST_FAILED;
		rte_pktmbuf_free(m[0]);
		TEST_ASSERT_SUCCESS(ret, "case %u: rss %d type %u: hash 0x%08x expected %s", k,
			c[k].rss, c[k].type, value, c[k].hashed ? "in hash.rss" : "none");
	}
	g.q->rx.rss_hash = false;
	return TEST_SUCCESS;
}

static int
test_rx_extra_info(void)
{
	netif_tx_response_t rsp[8];
	struct xnb_rx_walk w;
	netif_extra_info_t e;
	struct rte_mbuf *m[4];
	unsigned int b = 5;
	int ret;

	tg_fill(data, 3000, 3);
	memcpy(tg_tx_buf(&g, b), data, 2000);
	memcpy(tg_tx_buf(&g, b + 1), data + 2000, 1000);
	tg_tx_req(&g, g.tx_buf_ref[b], 0, NETTXF_extra_info | NETTXF_more_data, 10, 3000);
	/*
	 * An extra that asks nothing of the frame (GSO: the offload suite;
	 * MCAST_ADD/DEL make a multicast control request: test_rx_mcast_request).
	 */
	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_HASH;
	tg_tx_extra(&g, &e);
	tg_tx_req(&g, g.tx_buf_ref[b + 1], 0, 0, 11, 1000);
	tg_tx_push(&g);

	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "the packet with extras");
	ret = check_mbuf(m[0], data, 3000);
	rte_pktmbuf_free(m[0]);
	if (ret != TEST_SUCCESS)
		return ret;
	TEST_ASSERT_EQUAL(g.q->rx.pkts[0].gso_type, XEN_NETIF_GSO_TYPE_NONE, "no GSO");
	/* The walk over the copied requests saw the type. */
	TEST_ASSERT_EQUAL(xnb_rx_walk(g.q->rx.reqs, XNB_TX_RING_SIZE - 1,
		g.q->guest_tx.req_cons - 3, 3, &w), XNB_VERDICT_OK, "walk");
	TEST_ASSERT_EQUAL(w.ext.types, 1 << XEN_NETIF_EXTRA_TYPE_HASH, "types");
	TEST_ASSERT_EQUAL(tg_tx_rsps(&g, rsp, 8), 3, "a response per slot");
	TEST_ASSERT_EQUAL(rsp[0].id, 10, "first id");
	TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_OKAY, "first");
	TEST_ASSERT_EQUAL(rsp[1].status, NETIF_RSP_NULL, "extra");
	TEST_ASSERT_EQUAL(rsp[2].id, 11, "last id");
	TEST_ASSERT_EQUAL(rsp[2].status, NETIF_RSP_OKAY, "last");
	return TEST_SUCCESS;
}

/* One multicast control request (a dummy request and its extra) and its two responses. */
static int
mcast_request(uint8_t type, const uint8_t *mac, uint16_t id, uint16_t flags,
		netif_tx_response_t *rsp)
{
	netif_extra_info_t e;
	struct rte_mbuf *m[2];

	tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_extra_info | flags, id, 0);
	memset(&e, 0, sizeof(e));
	e.type = type;
	memcpy(e.u.mcast.addr, mac, 6);
	tg_tx_extra(&g, &e);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 2), 0, "no frame");
	TEST_ASSERT_EQUAL(tg_tx_rsps(&g, rsp, 2), 2, "its slot and its extra answered");
	TEST_ASSERT_EQUAL(rsp[0].id, id, "its id");
	TEST_ASSERT_EQUAL(rsp[1].status, NETIF_RSP_NULL, "the extra");
	return TEST_SUCCESS;
}

/*
 * Multicast control requests (netif.h: dummy transmit requests with an
 * MCAST_ADD or MCAST_DEL extra), as Linux's netback takes them: the
 * first slot and its extras only, its data never read (a size of 0 is
 * fine), answered OKAY and the filter amended; a 65th address ERROR; a
 * queue without a filter ERROR. A data slot chained after one is not
 * part of it (Linux goes on with it as the next packet).
 */
static int
test_rx_mcast_request(void)
{
	static const uint8_t mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x07 };
	netif_tx_response_t rsp[2];
	struct xnb_mcast mc;
	struct rte_mbuf *m[2];
	uint8_t other[6];
	unsigned int i;
	int ret;

	memset(&mc, 0, sizeof(mc));
	g.q->rx.mcast = &mc;
	TEST_ASSERT_SUCCESS(mcast_request(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, mac, 30, 0, rsp), "add");
	TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_OKAY, "added");
	mc.enabled = 1;
	TEST_ASSERT(xnb_mcast_pass(&mc, mac), "in the filter");
	memcpy(other, mac, 6);
	for (i = 1; i < XNB_MCAST_MAX; i++) {
		other[4] = (uint8_t)i;
		TEST_ASSERT_SUCCESS(mcast_request(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, other, 31, 0,
			rsp), "add %u", i);
		TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_OKAY, "address %u of 64", i + 1);
	}
	other[4] = 200;
	TEST_ASSERT_SUCCESS(mcast_request(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, other, 32, 0, rsp),
		"65th");
	TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_ERROR, "a 65th address refused");
	TEST_ASSERT(!xnb_mcast_pass(&mc, other), "not in the filter");
	TEST_ASSERT_SUCCESS(mcast_request(XEN_NETIF_EXTRA_TYPE_MCAST_DEL, mac, 33, 0, rsp), "del");
	TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_OKAY, "removed");
	TEST_ASSERT(!xnb_mcast_pass(&mc, mac), "no longer in the filter");

	/* A data slot chained after it: the next packet, a frame of its own. */
	tg_fill(data, 200, 9);
	memcpy(tg_tx_buf(&g, 3), data, 200);
	TEST_ASSERT_SUCCESS(mcast_request(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, mac, 34,
		NETTXF_more_data, rsp), "add, more_data");
	TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_OKAY, "added again");
	tg_tx_req(&g, g.tx_buf_ref[3], 0, 0, 35, 200);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 2), 1, "the slot after it, as a frame");
	ret = check_mbuf(m[0], data, 200);
	rte_pktmbuf_free(m[0]);
	if (ret != TEST_SUCCESS)
		return ret;
	TEST_ASSERT(tg_tx_rsps(&g, rsp, 1) == 1 && rsp[0].id == 35 &&
		rsp[0].status == NETIF_RSP_OKAY, "the frame answered");

	g.q->rx.mcast = NULL;
	TEST_ASSERT_SUCCESS(mcast_request(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, mac, 36, 0, rsp),
		"no filter");
	TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_ERROR, "a queue without a filter refuses");
	return TEST_SUCCESS;
}

static int
test_rx_partial_packet(void)
{
	uint16_t sizes[] = { 500, 600, 700 };
	struct rte_mbuf *m[4];
	uint16_t id;
	int ret;

	tg_fill(data, 1800, 9);
	id = tg_tx_pkt(&g, data, sizes, 3, 0);
	/* Publish only the first two slots. */
	g.tx_sring->req_prod = g.tx.req_prod_pvt - 1;
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "a partial packet waits");
	TEST_ASSERT_EQUAL(tg_tx_pending(&g), 0, "no response for it");
	TEST_ASSERT_EQUAL(g.q->guest_tx.req_cons, 0, "not consumed");
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_NONE, "not fatal");
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 0, "not an error");

	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "complete now");
	ret = check_mbuf(m[0], data, 1800);
	rte_pktmbuf_free(m[0]);
	if (ret != TEST_SUCCESS)
		return ret;
	return check_rsps(3, id, NETIF_RSP_OKAY);
}

/* Packet p of a stream: its slot sizes; its length. */
static unsigned int
stream_pkt(unsigned int p, uint16_t *sizes, unsigned int *nslots)
{
	unsigned int j, len = 0;

	*nslots = 1 + p % 3;
	for (j = 0; j < *nslots; j++) {
		sizes[j] = (uint16_t)(60 + (p * 37 + j * 101) % 1400);
		len += sizes[j];
	}
	return len;
}

/*
 * n packets of 1 to 3 slots, received in bursts of burst, the responses
 * taken after each burst as a frontend does; checks every packet's bytes
 * and every response. The indices wrap when the test guest starts near
 * 2^32 or near a ring-size multiple.
 */
static int
rx_stream(unsigned int n, unsigned int burst)
{
	netif_tx_response_t rsp[XNB_TX_RING_SIZE];
	struct rte_mbuf *m[XNB_MAX_BURST];
	unsigned int i, j, k, got, nslots, len, seen = 0;
	uint16_t sizes[3], rsp_id = 0;
	int ret;

	for (i = 0; i < n; i++) {
		len = stream_pkt(i, sizes, &nslots);
		tg_fill(data, len, (uint8_t)i);
		tg_tx_pkt(&g, data, sizes, nslots, (uint16_t)(i % 64));
		tg_tx_push(&g);
		/* Receive when the burst is full or at the end. */
		if ((i + 1) % burst != 0 && i + 1 != n)
			continue;
		got = xnb_rx_burst(&g.q->rx, m, (uint16_t)burst);
		TEST_ASSERT_EQUAL(got, i + 1 - seen, "burst after packet %u", i);
		for (k = 0; k < got; k++) {
			len = stream_pkt(seen + k, sizes, &nslots);
			tg_fill(data, len, (uint8_t)(seen + k));
			ret = check_mbuf(m[k], data, len);
			if (ret != TEST_SUCCESS) {
				rte_pktmbuf_free_bulk(m, got);
				return ret;
			}
		}
		rte_pktmbuf_free_bulk(m, got);
		seen += got;
		/* Every slot answered OKAY, ids in order. */
		k = tg_tx_rsps(&g, rsp, RTE_DIM(rsp));
		for (j = 0; j < k; j++, rsp_id++) {
			TEST_ASSERT_EQUAL(rsp[j].id, rsp_id, "response id");
			TEST_ASSERT_EQUAL(rsp[j].status, NETIF_RSP_OKAY, "response %u", rsp_id);
		}
		TEST_ASSERT_EQUAL(rsp_id, g.next_id, "a response per slot");
	}
	TEST_ASSERT_EQUAL(g.q->rx.stats.packets, n, "packets");
	TEST_ASSERT_EQUAL(g.q->guest_tx.req_cons, g.tx.req_prod_pvt, "all consumed");
	TEST_ASSERT_EQUAL(g.tx.rsp_cons, g.tx.req_prod_pvt, "all answered");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

static int
test_rx_wrap_2_32(void)
{
	return rx_stream(300, 32);
}

static int
test_rx_wrap_ring_size(void)
{
	return rx_stream(300, 7);
}

static int
test_rx_one_copy_call_per_burst(void)
{
	struct rte_mbuf *m[XNB_MAX_BURST];
	unsigned int i;

	for (i = 0; i < 100; i++)
		tg_tx_simple(&g, 64, (uint8_t)i);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 32), 32, "first burst");
	rte_pktmbuf_free_bulk(m, 32);
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 1, "one copy call for 32 packets");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_segs, 32, "a segment each");
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, XNB_MAX_BURST), XNB_MAX_BURST,
		"second burst");
	rte_pktmbuf_free_bulk(m, XNB_MAX_BURST);
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 2, "one more copy call");
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, XNB_MAX_BURST), 4, "the rest");
	rte_pktmbuf_free_bulk(m, 4);
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 3, "one more copy call");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_segs, 100, "a segment each");
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, XNB_MAX_BURST), 0, "empty");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 3, "no copy call for nothing");
	TEST_ASSERT_EQUAL(g.q->rx.stats.packets, 100, "packets");
	TEST_ASSERT_EQUAL(g.q->rx.stats.bytes, 6400, "bytes");
	return TEST_SUCCESS;
}

/* The batch flushes early only when the next packet might not fit. */
static int
test_rx_copy_batch_flush(void)
{
	uint16_t sizes[] = { 4000, 4000, 1000 };
	struct rte_mbuf *m[XNB_MAX_BURST];
	unsigned int i, n = 40;
	uint64_t segs;
	int ret = TEST_SUCCESS;

	g.q->rx.mb_pool = tg_small_pool();
	for (i = 0; i < n; i++) {
		tg_fill(data, 9000, (uint8_t)i);
		tg_tx_pkt(&g, data, sizes, 3, 0);
	}
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, XNB_MAX_BURST), n, "all of them");
	for (i = 0; i < n && ret == TEST_SUCCESS; i++) {
		tg_fill(data, 9000, (uint8_t)i);
		ret = check_mbuf(m[i], data, 9000);
		if (ret == TEST_SUCCESS && m[i]->nb_segs != 18)
			ret = TEST_FAILED;
	}
	rte_pktmbuf_free_bulk(m, n);
	TEST_ASSERT_EQUAL(ret, TEST_SUCCESS, "packet %u: 9000 B in 18 mbufs of 512 B", i - 1);
	segs = g.q->rx.stats.copy_segs;
	/* 18 mbufs, 3 slots, each slot boundary inside an mbuf: 20 each. */
	TEST_ASSERT_EQUAL(segs, 20 * n, "segments");
	/* 512 segments per call at most: 25 packets, then 15. */
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 2, "copy calls for %u segments", 20 * n);
	TEST_ASSERT_EQUAL(tg_in_use(tg_small_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/* XSA-362/367: a grant taken back before the copy: that packet fails alone. */
static int
test_xsa367_revoked_grant(void)
{
	uint16_t sizes[] = { 100, 200 };
	struct rte_mbuf *m[4];
	unsigned int b;
	uint16_t id;
	int ret;

	tg_tx_simple(&g, 80, 1);
	/* The second slot's page is taken back before the backend copies. */
	b = (g.next_tx_buf + 1) % TG_NR_TX_BUFS;
	tg_fill(data, 300, 2);
	id = tg_tx_pkt(&g, data, sizes, 2, 0);
	TEST_ASSERT_SUCCESS(xensim_grant_end(g.dom, g.tx_buf_ref[b]), "revoke");
	tg_tx_simple(&g, 90, 3);

	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 2, "the two good packets only");
	tg_fill(data, 80, 1);
	ret = check_mbuf(m[0], data, 80);
	if (ret == TEST_SUCCESS) {
		tg_fill(data, 90, 3);
		ret = check_mbuf(m[1], data, 90);
	}
	rte_pktmbuf_free_bulk(m, 2);
	if (ret != TEST_SUCCESS)
		return ret;
	if (check_rsps(1, 0, NETIF_RSP_OKAY) != TEST_SUCCESS ||
			check_rsps(2, id, NETIF_RSP_ERROR) != TEST_SUCCESS ||
			check_rsps(1, id + 2, NETIF_RSP_OKAY) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 1, "errors");
	TEST_ASSERT_EQUAL(g.q->rx.stats.packets, 2, "packets");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 1, "one copy call");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "the failed packet's mbuf leaked");
	return TEST_SUCCESS;
}

/*
 * XSA-362/367: the copy call itself fails: every packet of the batch
 * fails and the queue stops (the hostile suite has more).
 */
static int
test_xsa367_copy_call_fails(void)
{
	struct rte_mbuf *m[4];
	uint16_t sizes[] = { 100, 100 };

	tg_fail_copy(&g, -EIO);
	tg_tx_simple(&g, 80, 1);
	tg_fill(data, 200, 2);
	tg_tx_pkt(&g, data, sizes, 2, 0);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "nothing delivered");
	tg_fail_copy(&g, 0);
	if (check_rsps(3, 0, NETIF_RSP_ERROR) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 2, "errors");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 1, "one copy call");
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_COPY, "fatal");
	TEST_ASSERT_EQUAL(g.fatal_calls, 1, "on_fatal");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	/* The next burst does nothing, even with copies working again. */
	tg_tx_simple(&g, 80, 1);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "stopped");
	TEST_ASSERT_EQUAL(tg_tx_pending(&g), 0, "no response");
	return TEST_SUCCESS;
}

/* XSA-362/367: grant refs out of the table, or reserved. */
static int
test_xsa367_bad_gref(void)
{
	struct rte_mbuf *m[4];

	tg_tx_req(&g, TG_BAD_REF, 0, 0, 42, 100);
	tg_tx_req(&g, 0, 0, 0, 43, 100);  /* ref 0: reserved */
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "nothing delivered");
	if (check_rsps(2, 42, NETIF_RSP_ERROR) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 2, "errors");
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_NONE, "not fatal");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/*
 * XSA-423: the headers split across slots (30 B in the first); small data
 * room: the first mbuf of the chain is full, so the headers are whole.
 */
static int
test_xsa423_chain_headers_whole(void)
{
	uint16_t sizes[] = { 30, 1000, 470 };
	struct rte_mbuf *m[4];
	int ret;

	g.q->rx.mb_pool = tg_small_pool();
	tg_fill(data, 1500, 5);
	tg_tx_pkt(&g, data, sizes, 3, 100);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "one packet");
	ret = check_mbuf(m[0], data, 1500);
	if (ret == TEST_SUCCESS && (m[0]->nb_segs != 3 || m[0]->data_len != 512 ||
			m[0]->next->data_len != 512 || m[0]->next->next->data_len != 476))
		ret = TEST_FAILED;
	rte_pktmbuf_free(m[0]);
	TEST_ASSERT_EQUAL(ret, TEST_SUCCESS, "1500 B as 512 + 512 + 476 B");
	TEST_ASSERT_EQUAL(tg_in_use(tg_small_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/* A large frame: 3 or 16 slots, byte-exact, first mbuf full. */
static int
rx_large(struct rte_mempool *mp, uint32_t len, unsigned int nslots)
{
	uint16_t sizes[XNB_MAX_TX_SLOTS];
	uint32_t left = len, room;
	struct rte_mbuf *m[4];
	unsigned int i;
	int ret;

	g.q->rx.mb_pool = mp;
	room = rte_pktmbuf_data_room_size(mp) - RTE_PKTMBUF_HEADROOM;
	for (i = 0; i < nslots; i++) {
		sizes[i] = (uint16_t)RTE_MIN(left, i + 1 < nslots ? 4096u : left);
		left -= sizes[i];
	}
	TEST_ASSERT_EQUAL(left, 0, "test setup: slots too small");
	tg_fill(data, len, 11);
	tg_tx_pkt(&g, data, sizes, nslots, 0);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "one packet of %u B", len);
	ret = check_mbuf(m[0], data, len);
	if (ret == TEST_SUCCESS && (m[0]->data_len != RTE_MIN(len, room) ||
			m[0]->nb_segs != (len + room - 1) / room))
		ret = TEST_FAILED;
	rte_pktmbuf_free(m[0]);
	TEST_ASSERT_EQUAL(ret, TEST_SUCCESS, "%u B packet, %u B mbufs", len, room);
	if (check_rsps(nslots, g.next_id - nslots, NETIF_RSP_OKAY) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 1, "one copy call");
	TEST_ASSERT_EQUAL(tg_in_use(mp), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

static int
test_rx_9000(void)
{
	return rx_large(tg_pool(), 9000, 3);
}

static int
test_rx_64k_minus_1(void)
{
	return rx_large(tg_pool(), XNB_MAX_FRAME, 16);
}

static int
test_rx_64k_minus_1_small_pool(void)
{
	return rx_large(tg_small_pool(), XNB_MAX_FRAME, 16);
}

/* The pool runs dry: the packet stays on the ring, nothing is lost. */
static int
test_rx_nombuf(void)
{
	static struct rte_mempool *tiny;
	struct rte_mbuf *m[8];
	unsigned int i;
	int ret = TEST_SUCCESS;

	if (tiny == NULL)
		tiny = rte_pktmbuf_pool_create("tg_tiny_pool", 3, 0, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	TEST_ASSERT_NOT_NULL(tiny, "tiny pool");
	g.q->rx.mb_pool = tiny;
	for (i = 0; i < 5; i++)
		tg_tx_simple(&g, 100, (uint8_t)i);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 8), 3, "as many as mbufs");
	TEST_ASSERT_EQUAL(g.q->rx.stats.nombuf, 1, "nombuf");
	TEST_ASSERT_EQUAL(g.q->guest_tx.req_cons, 3, "the fourth stays on the ring");
	rte_pktmbuf_free_bulk(m, 3);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 8), 2, "the rest");
	for (i = 0; i < 2 && ret == TEST_SUCCESS; i++) {
		tg_fill(data, 100, (uint8_t)(3 + i));
		ret = check_mbuf(m[i], data, 100);
	}
	rte_pktmbuf_free_bulk(m, 2);
	if (ret != TEST_SUCCESS)
		return ret;
	if (check_rsps(5, 0, NETIF_RSP_OKAY) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 0, "no error");
	TEST_ASSERT_EQUAL(tg_in_use(tiny), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/* A notification only when the frontend asked for one (rsp_event). */
static int
test_rx_notify(void)
{
	struct rte_mbuf *m[4];

	tg_events(&g);
	g.tx_sring->rsp_event = g.tx.rsp_cons + 1;
	tg_tx_simple(&g, 64, 1);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "one");
	rte_pktmbuf_free(m[0]);
	TEST_ASSERT_EQUAL(tg_events(&g), 1, "notified: rsp_event was due");
	TEST_ASSERT_EQUAL(check_rsps(1, 0, NETIF_RSP_OKAY), TEST_SUCCESS, "response");

	/* rsp_event not yet due (the frontend wants a later response). */
	g.tx_sring->rsp_event = g.tx.rsp_cons + 10;
	tg_tx_simple(&g, 64, 2);
	tg_tx_simple(&g, 64, 3);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 2, "two");
	rte_pktmbuf_free_bulk(m, 2);
	TEST_ASSERT_EQUAL(tg_events(&g), 0, "no notification before rsp_event");
	TEST_ASSERT_EQUAL(g.tx_sring->req_event, 1, "req_event untouched");
	return TEST_SUCCESS;
}

/* Whether fd is readable within ms milliseconds. */
static bool
readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN) != 0;
}

/* A frame posted as netfront posts it: a notification only if req_event asks. */
static bool
tx_notify_simple(uint8_t seed)
{
	uint8_t frame[64];
	uint16_t len = sizeof(frame);
	int notify;

	tg_fill(frame, len, seed);
	tg_tx_pkt(&g, frame, &len, 1, 0);
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&g.tx, notify);
	return notify != 0;
}

/*
 * Rx interrupts (xnb_intr.c): the queue's fd is readable when the guest
 * notifies after xnb armed the queue, or at once when there is work
 * already; polling, xnb leaves req_event alone and the guest stops
 * notifying.
 */
static int
test_rx_intr(void)
{
	struct rte_mbuf *m[16];
	RING_IDX req_event;
	unsigned int i, notifies = 0;
	int fd;

	TEST_ASSERT_SUCCESS(xnb_intr_open(g.q), "intr fd");
	fd = g.q->intr_fd;
	TEST_ASSERT(fd >= 0, "an fd");
	TEST_ASSERT(readable(fd, 0), "connected before: the fd says look");
	TEST_ASSERT_SUCCESS(xnb_intr_disable(g.q), "disable");
	TEST_ASSERT(!readable(fd, 0), "disabled: taken");

	/* Armed, nothing there: quiet, and req_event asks for the next one. */
	TEST_ASSERT_SUCCESS(xnb_intr_enable(g.q), "enable");
	TEST_ASSERT(!readable(fd, 50), "armed, nothing posted: quiet");
	TEST_ASSERT_EQUAL(g.tx_sring->req_event, g.q->guest_tx.req_cons + 1, "req_event");
	/* The guest posts: it notifies, and the fd wakes the application. */
	TEST_ASSERT(tx_notify_simple(1), "the guest was asked to notify");
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(g.evtchn, (uint32_t)g.port), "notify");
	TEST_ASSERT(readable(fd, 2000), "the guest's notification wakes the fd");
	TEST_ASSERT_SUCCESS(xnb_intr_disable(g.q), "disable");
	TEST_ASSERT(!readable(fd, 0), "disabled: the notification taken");
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 16), 1, "the frame");
	rte_pktmbuf_free(m[0]);

	/* Polling: req_event stays behind, the guest stops notifying. */
	req_event = g.tx_sring->req_event;
	for (i = 0; i < 10; i++) {
		notifies += tx_notify_simple((uint8_t)(2 + i));
		TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 16), 1, "frame %u", i);
		rte_pktmbuf_free(m[0]);
	}
	TEST_ASSERT_EQUAL(notifies, 0, "notifications asked while polling");
	TEST_ASSERT_EQUAL(g.tx_sring->req_event, req_event, "req_event untouched while polling");

	/* Work posted before arming: the fd is readable at once. */
	for (i = 0; i < 5; i++)
		tx_notify_simple((uint8_t)(20 + i));
	TEST_ASSERT_SUCCESS(xnb_intr_enable(g.q), "enable");
	TEST_ASSERT(readable(fd, 0), "armed with frames waiting: readable at once");
	TEST_ASSERT_SUCCESS(xnb_intr_disable(g.q), "disable");
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 16), 5, "the five frames");
	rte_pktmbuf_free_bulk(m, 5);

	/* Disconnected: arming does nothing; the fd stays; a connect wakes it. */
	xnb_queue_disconnect(g.q);
	TEST_ASSERT_SUCCESS(xnb_intr_enable(g.q), "enable while disconnected");
	TEST_ASSERT(!readable(fd, 0), "disconnected: quiet");
	TEST_ASSERT_SUCCESS(tg_connect(&g, true), "reconnect");
	TEST_ASSERT_EQUAL(g.q->intr_fd, fd, "the same fd across the reconnect");
	TEST_ASSERT(readable(fd, 0), "the connect wakes the application");
	TEST_ASSERT_SUCCESS(xnb_intr_disable(g.q), "disable");
	TEST_ASSERT_SUCCESS(xnb_intr_enable(g.q), "enable");
	TEST_ASSERT(tx_notify_simple(40), "the guest was asked to notify");
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(g.evtchn, (uint32_t)g.port), "notify");
	TEST_ASSERT(readable(fd, 2000), "the new event channel wakes the fd");
	TEST_ASSERT_SUCCESS(xnb_intr_disable(g.q), "disable");
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 16), 1, "the frame");
	rte_pktmbuf_free(m[0]);
	return TEST_SUCCESS;
}

/*
 * The quiesce handshake under a burst thread on the other core: once
 * xnb_queue_quiesce() returns, no burst may be inside, and none may
 * enter before xnb_queue_resume(). The thread enters and leaves as the
 * bursts do (xnb_dp_enter() with the membarrier(2) side, or fenced) and
 * counts each entry that finds the queue "unmapped".
 */
struct quiesce_race {
	struct xnb_queue *q;
	uint32_t unmapped;   /* set by the control side between quiesce and resume */
	uint32_t stop;
	uint64_t entries;
	uint64_t violations;
};

static void *
quiesce_race_bursts(void *arg)
{
	struct quiesce_race *r = arg;
	struct xnb_rxq *rxq = &r->q->rx;
	unsigned int k;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		if (xnb_dp_enter(&rxq->busy, &rxq->allow)) {
			/* As long as a small burst: a stale entry overlaps "unmapped". */
			for (k = 0; k < 16; k++)
				if (__atomic_load_n(&r->unmapped, __ATOMIC_RELAXED))
					r->violations++;
			__atomic_store_n(&r->entries, r->entries + 1, __ATOMIC_RELAXED);
		}
		xnb_dp_leave(&rxq->busy);
	}
	return NULL;
}

static int
test_quiesce_race(void)
{
	struct quiesce_race r = { .q = g.q };
	uint64_t end = rte_get_timer_cycles() + 10 * rte_get_timer_hz();
	pthread_t th;
	unsigned int i;

	TEST_ASSERT(g.q->connected, "connected");
	TEST_ASSERT_SUCCESS(pthread_create(&th, NULL, quiesce_race_bursts, &r), "thread");
	/* At least 200000 quiesces and 1000 entries (a loaded host may start the thread late). */
	for (i = 0; (i < 200000 || __atomic_load_n(&r.entries, __ATOMIC_RELAXED) < 1000) &&
			rte_get_timer_cycles() < end; i++) {
		xnb_queue_quiesce(g.q);
		__atomic_store_n(&r.unmapped, 1, __ATOMIC_RELAXED);
		rte_pause();
		__atomic_store_n(&r.unmapped, 0, __ATOMIC_RELEASE);
		xnb_queue_resume(g.q);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	printf("quiesce race: %u quiesces, %" PRIu64 " burst entries, membarrier %s\n", i,
		r.entries, xnb_dp_asymmetric ? "on" : "off (fenced bursts)");
	TEST_ASSERT_EQUAL(r.violations, 0, "bursts inside a quiesced queue");
	TEST_ASSERT(r.entries > 0, "the burst thread entered the queue");
	return TEST_SUCCESS;
}

static int
test_rx_quiesce(void)
{
	struct rte_mbuf *m[4];

	tg_tx_simple(&g, 64, 1);
	xnb_queue_quiesce(g.q);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "quiesced: no burst");
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 0), 0, "quiesced: no burst");
	TEST_ASSERT_EQUAL(g.q->rx.busy, 0, "busy cleared");
	TEST_ASSERT_EQUAL(g.q->guest_tx.req_cons, 0, "not consumed");
	xnb_queue_disconnect(g.q);
	TEST_ASSERT(!g.q->connected, "disconnected");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 0, "rings unmapped");
	TEST_ASSERT_EQUAL(g.q->evtchn_port, -1, "event channel unbound");
	/* And connected again: where the frontend left off. */
	TEST_ASSERT_SUCCESS(tg_connect(&g, true), "reconnect");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 2, "rings mapped");
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "the packet");
	rte_pktmbuf_free(m[0]);
	return check_rsps(1, 0, NETIF_RSP_OKAY);
}

static int
rx_suite_setup(void)
{
	if (tg_pool() == NULL || tg_small_pool() == NULL)
		return TEST_FAILED;
	return TEST_SUCCESS;
}

/* Without rx scatter a frame larger than one mbuf is dropped, not chained. */
static int
test_rx_no_scatter(void)
{
	netif_tx_response_t rsp[4];
	struct rte_mbuf *m[4];
	unsigned int n;

	g.q->rx.mb_pool = tg_small_pool();
	g.q->rx.scatter = false;
	tg_tx_simple(&g, 400, 1);     /* fits one 512 B mbuf */
	tg_tx_simple(&g, 1500, 2);    /* would need three */
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "only the small frame");
	TEST_ASSERT_EQUAL(m[0]->pkt_len, 400, "the small frame");
	TEST_ASSERT_EQUAL(m[0]->nb_segs, 1, "one mbuf");
	rte_pktmbuf_free(m[0]);
	n = tg_tx_rsps(&g, rsp, RTE_DIM(rsp));
	TEST_ASSERT_EQUAL(n, 2, "both answered");
	TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_OKAY, "small frame OKAY");
	TEST_ASSERT_EQUAL(rsp[1].status, NETIF_RSP_DROPPED, "large frame DROPPED");
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 1, "counted");
	TEST_ASSERT_EQUAL(tg_in_use(tg_small_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

static struct unit_test_suite rx_suite = {
	.suite_name = "rx",
	.setup = rx_suite_setup,
	.unit_test_cases = {
		TEST_CASE_ST(setup_zero, teardown, test_rx_empty_ring),
		TEST_CASE_ST(setup_zero, teardown, test_rx_one_request),
		TEST_CASE_ST(setup_zero, teardown, test_rx_two_requests),
		TEST_CASE_ST(setup_zero, teardown, test_rx_three_requests),
		TEST_CASE_ST(setup_zero, teardown, test_rx_extra_info),
		TEST_CASE_ST(setup_zero, teardown, test_rx_hash_extra),
		TEST_CASE_ST(setup_zero, teardown, test_rx_mcast_request),
		TEST_CASE_ST(setup_zero, teardown, test_rx_partial_packet),
		TEST_CASE_ST(setup_wrap32, teardown, test_rx_wrap_2_32),
		TEST_CASE_ST(setup_wrap_ring, teardown, test_rx_wrap_ring_size),
		TEST_CASE_ST(setup_zero, teardown, test_rx_one_copy_call_per_burst),
		TEST_CASE_ST(setup_zero, teardown, test_rx_copy_batch_flush),
		TEST_CASE_ST(setup_zero, teardown, test_xsa367_revoked_grant),
		TEST_CASE_ST(setup_zero, teardown, test_xsa367_bad_gref),
		TEST_CASE_ST(setup_zero, teardown, test_xsa367_copy_call_fails),
		TEST_CASE_ST(setup_zero, teardown, test_xsa423_chain_headers_whole),
		TEST_CASE_ST(setup_zero, teardown, test_rx_no_scatter),
		TEST_CASE_ST(setup_zero, teardown, test_rx_9000),
		TEST_CASE_ST(setup_zero, teardown, test_rx_64k_minus_1),
		TEST_CASE_ST(setup_wrap_ring, teardown, test_rx_64k_minus_1_small_pool),
		TEST_CASE_ST(setup_zero, teardown, test_rx_nombuf),
		TEST_CASE_ST(setup_zero, teardown, test_rx_notify),
		TEST_CASE_ST(setup_zero, teardown, test_rx_quiesce),
		TEST_CASE_ST(setup_zero, teardown, test_quiesce_race),
		TEST_CASE_ST(setup_zero, teardown, test_rx_intr),
		TEST_CASES_END()
	}
};

REGISTER_TEST_SUITE(rx_suite);
