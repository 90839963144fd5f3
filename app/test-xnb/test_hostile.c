/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Suite "hostile": a frontend that writes anything into its rings. Each
 * case is one of the inputs NETBACK.md lists (Linux's checks and the Xen
 * security advisories about netback) and checks the answer: an error
 * response, or a queue stopped by xnb_queue_fatal(); never a crash, a
 * hang or a leak.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "test.h"
#include "test_common.h"
#include "xnb_rxtx.h"

static struct test_guest g;
static uint8_t data[XNB_MAX_FRAME + 1];
static uint8_t out[XNB_MAX_FRAME + 1];

static int
setup_zero(void)
{
	return tg_create(&g, 0, 0) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

static int
setup_wrap32(void)
{
	return tg_create(&g, UINT32_MAX - 5, UINT32_MAX - 5) == 0 ?
		TEST_SUCCESS : TEST_FAILED;
}

/* Not connected: the case connects itself. */
static int
setup_init(void)
{
	return tg_init(&g, 0, 0) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

static void
teardown(void)
{
	tg_destroy(&g);
}

/*
 * Take n responses: all of status st, except NULL ones at the given slots
 * (null_mask names the first 32; n may be more).
 */
static int
expect_rsps(unsigned int n, int16_t st, uint32_t null_mask)
{
	netif_tx_response_t rsp[XNB_TX_RING_SIZE];
	unsigned int i;

	TEST_ASSERT_EQUAL(tg_tx_rsps(&g, rsp, RTE_DIM(rsp)), n, "responses");
	for (i = 0; i < n; i++)
		TEST_ASSERT_EQUAL(rsp[i].status,
			i < 32 && (null_mask & (1u << i)) != 0 ? NETIF_RSP_NULL : st,
			"response %u", i);
	return TEST_SUCCESS;
}

/* The queue is stopped for why: bursts do nothing, the callback ran once. */
static int
expect_fatal(enum xnb_fatal why)
{
	struct rte_mbuf *m[4];

	TEST_ASSERT_EQUAL(g.q->fatal, why, "fatal reason (%s)",
		xnb_fatal_str((enum xnb_fatal)g.q->fatal));
	TEST_ASSERT_EQUAL(g.fatal_calls, 1, "on_fatal calls");
	TEST_ASSERT_EQUAL(g.q->rx.allow, 0, "rx stopped");
	TEST_ASSERT_EQUAL(g.q->tx.allow, 0, "tx stopped");
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "rx burst after fatal");
	m[0] = rte_pktmbuf_alloc(tg_pool());
	TEST_ASSERT_NOT_NULL(m[0], "mbuf");
	tg_rx_post(&g, 1);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 1), 0, "tx burst after fatal");
	rte_pktmbuf_free(m[0]);
	TEST_ASSERT_EQUAL(g.fatal_calls, 1, "on_fatal once");
	TEST_ASSERT_EQUAL(g.q->rx.busy + g.q->tx.busy, 0, "not busy");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	/* The control path's teardown still works. */
	xnb_queue_disconnect(g.q);
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 0, "rings unmapped");
	return TEST_SUCCESS;
}

/* A good packet after a bad one is still delivered. */
static int
expect_good_after(void)
{
	struct rte_mbuf *m[4];
	int n;

	tg_tx_simple(&g, 100, 42);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "the good packet");
	tg_fill(data, 100, 42);
	n = tg_mbuf_read(m[0], out, sizeof(out));
	rte_pktmbuf_free(m[0]);
	TEST_ASSERT_EQUAL(n, 100, "length");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, data, 100, "data");
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_NONE, "not fatal");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return expect_rsps(1, NETIF_RSP_OKAY, 0);
}

/* XSA-39: req_prod far ahead of req_cons. */
static int
test_xsa39_guest_tx_ring_overflow(void)
{
	struct rte_mbuf *m[4];

	g.tx_sring->req_prod = g.q->guest_tx.req_cons + XNB_TX_RING_SIZE + 1;
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "burst");
	TEST_ASSERT_EQUAL(tg_tx_pending(&g), 0, "no response");
	if (expect_fatal(XNB_FATAL_TX_RING_OVERFLOW) != TEST_SUCCESS)
		return TEST_FAILED;
	/* Reconnecting is refused while the ring is still broken... */
	TEST_ASSERT_EQUAL(tg_connect(&g, true), -EPROTO, "connect to a broken ring");
	/* ...and works again once the frontend reset it. */
	g.tx_sring->req_prod = g.tx_sring->rsp_prod;
	g.tx.req_prod_pvt = g.tx_sring->rsp_prod;
	TEST_ASSERT_SUCCESS(tg_connect(&g, true), "reconnect");
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_NONE, "fatal cleared");
	return expect_good_after();
}

/* XSA-39: req_prod behind req_cons, as far ahead as 2^32 minus a little. */
static int
test_xsa39_guest_tx_ring_rewind(void)
{
	struct rte_mbuf *m[4];

	tg_tx_simple(&g, 60, 1);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "a packet");
	rte_pktmbuf_free(m[0]);
	g.tx_sring->req_prod -= 2;
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "burst");
	return expect_fatal(XNB_FATAL_TX_RING_OVERFLOW);
}

/* Linux: a slot whose offset + size passes its page. */
static int
test_slot_crosses_page(void)
{
	struct rte_mbuf *m[4];

	/* One slot. */
	tg_tx_req(&g, g.tx_buf_ref[0], 4000, 0, 1, 200);
	/* The second slot of two. */
	tg_tx_req(&g, g.tx_buf_ref[1], 0, NETTXF_more_data, 2, 300);
	tg_tx_req(&g, g.tx_buf_ref[2], 4000, 0, 3, 100);
	/* The first slot's own bytes (total - rest) pass its page. */
	tg_tx_req(&g, g.tx_buf_ref[3], 4090, NETTXF_more_data, 4, 300);
	tg_tx_req(&g, g.tx_buf_ref[4], 0, 0, 5, 100);
	/* An offset past the page with no bytes after the first slot. */
	tg_tx_req(&g, g.tx_buf_ref[5], 0, NETTXF_more_data, 6, 100);
	tg_tx_req(&g, g.tx_buf_ref[6], 5000, 0, 7, 0);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "nothing delivered");
	if (expect_rsps(7, NETIF_RSP_ERROR, 0) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 4, "errors");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_segs, 0, "nothing copied");
	return expect_good_after();
}

/* n slots of 100 B, chained. */
static void
post_slots(unsigned int n, bool push)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		tg_tx_req(&g, g.tx_buf_ref[i % TG_NR_TX_BUFS], 0,
			i + 1 < n ? NETTXF_more_data : 0, (uint16_t)i,
			i == 0 ? (uint16_t)(100 * n) : 100);
	if (push)
		tg_tx_push(&g);
}

static int
test_18_slots_ok(void)
{
	struct rte_mbuf *m[4];

	post_slots(XNB_MAX_TX_SLOTS, true);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "18 slots are allowed");
	TEST_ASSERT_EQUAL(m[0]->pkt_len, 1800, "length");
	rte_pktmbuf_free(m[0]);
	return expect_rsps(XNB_MAX_TX_SLOTS, NETIF_RSP_OKAY, 0);
}

static int
test_19_slots_error(void)
{
	struct rte_mbuf *m[4];

	post_slots(XNB_MAX_TX_SLOTS + 1, true);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "19 slots: dropped");
	if (expect_rsps(XNB_MAX_TX_SLOTS + 1, NETIF_RSP_ERROR, 0) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 1, "errors");
	return expect_good_after();
}

static int
test_20_slots_fatal(void)
{
	struct rte_mbuf *m[4];

	post_slots(XNB_FATAL_TX_SLOTS, true);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "20 slots");
	return expect_fatal(XNB_FATAL_TOO_MANY_SLOTS);
}

/* A chain that never ends: fatal at the 21st slot, without waiting for more. */
static int
test_endless_chain_fatal(void)
{
	struct rte_mbuf *m[4];
	unsigned int i;

	for (i = 0; i < 200; i++)
		tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_more_data, (uint16_t)i, 100);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "endless chain");
	return expect_fatal(XNB_FATAL_TOO_MANY_SLOTS);
}

/* Only 20 slots posted, all of them saying more follows: already fatal. */
static int
test_20_slots_partial_fatal(void)
{
	struct rte_mbuf *m[4];
	unsigned int i;

	for (i = 0; i < XNB_FATAL_TX_SLOTS; i++)
		tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_more_data, (uint16_t)i, 100);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "burst");
	return expect_fatal(XNB_FATAL_TOO_MANY_SLOTS);
}

/* A good packet, then a fatal one: the good one is still delivered. */
static int
test_fatal_mid_burst(void)
{
	struct rte_mbuf *m[4];

	tg_tx_simple(&g, 70, 7);
	post_slots(XNB_FATAL_TX_SLOTS + 3, true);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "the packet before");
	TEST_ASSERT_EQUAL(m[0]->pkt_len, 70, "its length");
	rte_pktmbuf_free(m[0]);
	if (expect_rsps(1, NETIF_RSP_OKAY, 0) != TEST_SUCCESS)
		return TEST_FAILED;
	return expect_fatal(XNB_FATAL_TOO_MANY_SLOTS);
}

/* XSA-448: zero-size slots after the first: OKAY, no empty segment. */
static int
test_xsa448_zero_size_slots(void)
{
	struct rte_mbuf *m[4];
	int n;

	tg_fill(data, 150, 3);
	memcpy(tg_tx_buf(&g, 0), data, 100);
	memcpy(tg_tx_buf(&g, 1) + 8, data + 100, 50);
	tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_more_data, 1, 150);
	tg_tx_req(&g, g.tx_buf_ref[2], 0, NETTXF_more_data, 2, 0);
	tg_tx_req(&g, g.tx_buf_ref[1], 8, NETTXF_more_data, 3, 50);
	/* Zero bytes of an invalid grant: nothing to copy, nothing fails. */
	tg_tx_req(&g, TG_BAD_REF, 4096, 0, 4, 0);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "delivered");
	TEST_ASSERT_EQUAL(m[0]->nb_segs, 1, "no empty mbuf segment");
	n = tg_mbuf_read(m[0], out, sizeof(out));
	rte_pktmbuf_free(m[0]);
	TEST_ASSERT_EQUAL(n, 150, "length");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, data, 150, "data");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_segs, 2, "no copy segment for empty slots");
	return expect_rsps(4, NETIF_RSP_OKAY, 0);
}

/* All the data in later slots, none in the first: fine too. */
static int
test_empty_first_slot(void)
{
	struct rte_mbuf *m[4];
	int n;

	tg_fill(data, 64, 5);
	memcpy(tg_tx_buf(&g, 1), data, 64);
	tg_tx_req(&g, TG_BAD_REF, 0, NETTXF_more_data, 1, 64);
	tg_tx_req(&g, g.tx_buf_ref[1], 0, 0, 2, 64);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "delivered");
	n = tg_mbuf_read(m[0], out, sizeof(out));
	rte_pktmbuf_free(m[0]);
	TEST_ASSERT_EQUAL(n, 64, "length");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, data, 64, "data");
	return expect_rsps(2, NETIF_RSP_OKAY, 0);
}

static int
test_first_slot_too_small(void)
{
	struct rte_mbuf *m[4];

	tg_tx_req(&g, g.tx_buf_ref[0], 0, 0, 1, RTE_ETHER_HDR_LEN - 1);
	tg_tx_req(&g, g.tx_buf_ref[0], 0, 0, 2, 0);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "runts dropped");
	if (expect_rsps(2, NETIF_RSP_ERROR, 0) != TEST_SUCCESS)
		return TEST_FAILED;
	/* Exactly a header is a frame. */
	tg_tx_simple(&g, RTE_ETHER_HDR_LEN, 1);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "14 B");
	rte_pktmbuf_free(m[0]);
	return expect_rsps(1, NETIF_RSP_OKAY, 0);
}

static int
test_first_size_below_rest(void)
{
	struct rte_mbuf *m[4];

	tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_more_data, 1, 100);
	tg_tx_req(&g, g.tx_buf_ref[1], 0, NETTXF_more_data, 2, 60);
	tg_tx_req(&g, g.tx_buf_ref[2], 0, 0, 3, 41);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "dropped");
	if (expect_rsps(3, NETIF_RSP_ERROR, 0) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 1, "errors");
	return expect_good_after();
}

/* One packet with one extra-info slot e: its responses are ERROR, NULL. */
static int
bad_extra(uint8_t type, uint16_t gso_size, uint8_t gso_type)
{
	netif_extra_info_t e;
	struct rte_mbuf *m[4];

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.u.gso.size = gso_size;
	e.u.gso.type = gso_type;
	tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_extra_info, 9, 100);
	tg_tx_extra(&g, &e);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "extra type %u, GSO %u/%u",
		type, gso_size, gso_type);
	return expect_rsps(2, NETIF_RSP_ERROR, 1u << 1);
}

static int
test_bad_extra_info(void)
{
	if (bad_extra(XEN_NETIF_EXTRA_TYPE_NONE, 0, 0) != TEST_SUCCESS ||
			bad_extra(XEN_NETIF_EXTRA_TYPE_MAX, 0, 0) != TEST_SUCCESS ||
			bad_extra(0xff, 0, 0) != TEST_SUCCESS ||
			bad_extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, XEN_NETIF_GSO_TYPE_TCPV4) !=
				TEST_SUCCESS ||
			bad_extra(XEN_NETIF_EXTRA_TYPE_GSO, 1448, XEN_NETIF_GSO_TYPE_NONE) !=
				TEST_SUCCESS ||
			bad_extra(XEN_NETIF_EXTRA_TYPE_GSO, 1448, 3) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 6, "errors");
	return expect_good_after();
}

/* More extra-info slots than there are types: fatal. */
static int
test_too_many_extras(void)
{
	netif_extra_info_t e;
	struct rte_mbuf *m[4];
	unsigned int i;

	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_HASH;
	e.flags = XEN_NETIF_EXTRA_FLAG_MORE;
	tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_extra_info, 1, 100);
	for (i = 0; i < 30; i++)
		tg_tx_extra(&g, &e);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "burst");
	return expect_fatal(XNB_FATAL_TX_EXTRAS);
}

/* The same extra type twice: an error, not an overwrite. */
static int
test_duplicate_extra(void)
{
	netif_extra_info_t e;
	struct rte_mbuf *m[4];

	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_GSO;
	e.flags = XEN_NETIF_EXTRA_FLAG_MORE;
	e.u.gso.size = 1000;
	e.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
	tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_extra_info, 1, 100);
	tg_tx_extra(&g, &e);
	e.flags = 0;
	tg_tx_extra(&g, &e);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "dropped");
	return expect_rsps(3, NETIF_RSP_ERROR, 0x6);
}

/* XSA-155: a slot rewritten after the backend saw it; the first copy counts. */
static int
test_xsa155_double_fetch(void)
{
	uint16_t sizes[] = { 1000, 800 };
	netif_tx_request_t *first;
	struct rte_mbuf *m[4];
	int n;

	tg_fill(data, 1800, 8);
	tg_tx_pkt(&g, data, sizes, 2, 0);
	/* Only the first slot is published: the packet is partial. */
	g.tx_sring->req_prod = g.tx.req_prod_pvt - 1;
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "partial");
	/* The guest now rewrites the first slot, then publishes the rest. */
	first = RING_GET_REQUEST(&g.tx, 0);
	first->size = 60000;
	first->gref = TG_BAD_REF;
	first->id = 999;
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "the packet as first seen");
	n = tg_mbuf_read(m[0], out, sizeof(out));
	rte_pktmbuf_free(m[0]);
	TEST_ASSERT_EQUAL(n, 1800, "length from the first copy");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, data, 1800, "data");
	{
		netif_tx_response_t rsp[2];

		TEST_ASSERT_EQUAL(tg_tx_rsps(&g, rsp, 2), 2, "responses");
		TEST_ASSERT_EQUAL(rsp[0].id, 0, "id from the first copy");
		TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_OKAY, "status");
	}
	return TEST_SUCCESS;
}

/* The guest scribbles over rsp_prod and rsp_event: no harm to us. */
static int
test_rsp_prod_scribbled(void)
{
	struct rte_mbuf *m[4];

	g.tx_sring->rsp_prod = 0xdeadbeef;
	g.tx_sring->rsp_event = 0x12345678;
	tg_tx_simple(&g, 100, 1);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "delivered");
	rte_pktmbuf_free(m[0]);
	TEST_ASSERT_EQUAL(g.tx_sring->rsp_prod, 1, "rsp_prod is ours");
	return TEST_SUCCESS;
}

/* XSA-39: the guest-rx ring claims more requests than it holds. */
static int
test_xsa39_guest_rx_ring_overflow(void)
{
	struct rte_mbuf *m;

	m = rte_pktmbuf_alloc(tg_pool());
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	m->data_len = m->pkt_len = 60;
	g.rx_sring->req_prod = g.q->guest_rx.req_cons + XNB_RX_RING_SIZE + 1;
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 0, "nothing sent");
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "no response");
	g.rx_sring->req_prod = g.q->guest_rx.req_cons;
	g.rx.req_prod_pvt = g.q->guest_rx.req_cons;
	return expect_fatal(XNB_FATAL_RX_RING_OVERFLOW);
}

/* Linux: at connect, req_prod - rsp_prod > ring size is refused. */
static int
test_connect_refused(void)
{
	g.tx_sring->req_prod = g.tx_sring->rsp_prod + XNB_TX_RING_SIZE + 1;
	TEST_ASSERT_EQUAL(tg_connect(&g, true), -EPROTO, "guest-tx ring");
	TEST_ASSERT(!g.q->connected, "not connected");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 0, "nothing left mapped");
	TEST_ASSERT_NULL(g.q->evtchn, "no event channel left");
	g.tx_sring->req_prod = g.tx_sring->rsp_prod + XNB_TX_RING_SIZE;

	g.rx_sring->req_prod = g.rx_sring->rsp_prod - 1;
	TEST_ASSERT_EQUAL(tg_connect(&g, true), -EPROTO, "guest-rx ring");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 0, "nothing left mapped");
	g.rx_sring->req_prod = g.rx_sring->rsp_prod;

	/* A full ring (exactly the ring size) is fine. */
	TEST_ASSERT_SUCCESS(tg_connect(&g, true), "connect");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 2, "rings mapped");
	TEST_ASSERT_EQUAL(tg_connect(&g, true), -EBUSY, "connect twice");
	return TEST_SUCCESS;
}

/* A ring ref the guest did not grant, or granted read-only. */
static int
test_connect_bad_refs(void)
{
	int ref;

	g.tx_ring_ref = TG_BAD_REF;
	TEST_ASSERT(tg_connect(&g, true) < 0, "unknown ring ref");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 0, "nothing left mapped");
	ref = xensim_grant_access(g.dom, XENSIM_BACKEND_DOMID, TG_TX_RING_PFN, true);
	TEST_ASSERT(ref > 0, "grant");
	g.tx_ring_ref = (uint32_t)ref;
	TEST_ASSERT(tg_connect(&g, true) < 0, "read-only ring");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 0, "nothing left mapped");
	g.port = 4000;
	ref = xensim_grant_access(g.dom, XENSIM_BACKEND_DOMID, TG_TX_RING_PFN, false);
	g.tx_ring_ref = (uint32_t)ref;
	TEST_ASSERT(tg_connect(&g, true) < 0, "bad event channel");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 0, "nothing left mapped");
	TEST_ASSERT_NULL(g.q->evtchn, "no event channel left");
	return TEST_SUCCESS;
}

/*
 * xnb_queue_connect() with conf: its result; *lines: the lines it logged
 * at WARNING or above.
 */
static int
connect_logged(const struct xnb_queue_conf *conf, unsigned int *lines)
{
	struct tg_log log;
	int ret;

	*lines = UINT_MAX;
	if (tg_log_start(&log, RTE_LOG_WARNING) != 0)
		return INT_MIN;
	ret = xnb_queue_connect(g.q, conf);
	*lines = tg_log_stop(&log);
	if (*lines != 0)
		fprintf(stderr, "    logged:\n%s", log.buf);
	tg_log_free(&log);
	return ret;
}

/* A failed connect left nothing behind. */
static int
expect_nothing_left(const char *what)
{
	TEST_ASSERT(!g.q->connected, "%s: not connected", what);
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g.dom), 0, "%s: nothing left mapped", what);
	TEST_ASSERT_NULL(g.q->evtchn, "%s: no event channel left", what);
	return TEST_SUCCESS;
}

/*
 * A connect that fails (a ring ref that cannot be mapped, an event
 * channel that cannot be bound, a broken ring) returns -errno and logs
 * nothing above DEBUG: its caller (xnb_xenbus.c) logs it once.
 */
static int
test_connect_fails_quietly(void)
{
	struct xnb_queue_conf conf;
	unsigned int lines;
	struct tg_log log;
	int ref, ret;

	tg_conf(&g, &conf, true);
	conf.tx_ring_ref = TG_BAD_REF;
	TEST_ASSERT_EQUAL(connect_logged(&conf, &lines), -EINVAL, "unknown guest-tx ring ref");
	TEST_ASSERT_EQUAL(lines, 0, "unknown guest-tx ring ref: lines above DEBUG");
	if (expect_nothing_left("guest-tx ring ref") != TEST_SUCCESS)
		return TEST_FAILED;
	/* The detail is there at DEBUG. */
	TEST_ASSERT_SUCCESS(tg_log_start(&log, RTE_LOG_DEBUG), "log capture");
	ret = xnb_queue_connect(g.q, &conf);
	lines = tg_log_stop(&log);
	tg_log_free(&log);
	TEST_ASSERT_EQUAL(ret, -EINVAL, "again");
	TEST_ASSERT(lines > 0, "a DEBUG line");

	tg_conf(&g, &conf, true);
	conf.rx_ring_ref = TG_BAD_REF;
	TEST_ASSERT_EQUAL(connect_logged(&conf, &lines), -EINVAL, "unknown guest-rx ring ref");
	TEST_ASSERT_EQUAL(lines, 0, "unknown guest-rx ring ref: lines above DEBUG");
	if (expect_nothing_left("guest-rx ring ref") != TEST_SUCCESS)
		return TEST_FAILED;

	ref = xensim_grant_access(g.dom, XENSIM_BACKEND_DOMID, TG_RX_RING_PFN, true);
	TEST_ASSERT(ref > 0, "grant");
	conf.rx_ring_ref = (uint32_t)ref;
	TEST_ASSERT_EQUAL(connect_logged(&conf, &lines), -EPERM, "read-only guest-rx ring");
	TEST_ASSERT_EQUAL(lines, 0, "read-only guest-rx ring: lines above DEBUG");
	if (expect_nothing_left("read-only ring") != TEST_SUCCESS)
		return TEST_FAILED;

	/* A port the guest did not offer. */
	tg_conf(&g, &conf, true);
	conf.evtchn = (uint32_t)g.port + 1;
	TEST_ASSERT_EQUAL(connect_logged(&conf, &lines), -EINVAL, "event channel");
	TEST_ASSERT_EQUAL(lines, 0, "event channel: lines above DEBUG");
	if (expect_nothing_left("event channel") != TEST_SUCCESS)
		return TEST_FAILED;

	tg_conf(&g, &conf, true);
	conf.split = true;
	conf.evtchn_rx = (uint32_t)g.port + 1;
	TEST_ASSERT_EQUAL(connect_logged(&conf, &lines), -EINVAL, "split event channel");
	TEST_ASSERT_EQUAL(lines, 0, "split event channel: lines above DEBUG");
	if (expect_nothing_left("split event channel") != TEST_SUCCESS)
		return TEST_FAILED;

	tg_conf(&g, &conf, true);
	g.tx_sring->req_prod = g.tx_sring->rsp_prod + XNB_TX_RING_SIZE + 1;
	TEST_ASSERT_EQUAL(connect_logged(&conf, &lines), -EPROTO, "broken guest-tx ring");
	TEST_ASSERT_EQUAL(lines, 0, "broken guest-tx ring: lines above DEBUG");
	if (expect_nothing_left("broken ring") != TEST_SUCCESS)
		return TEST_FAILED;
	g.tx_sring->req_prod = g.tx_sring->rsp_prod;

	TEST_ASSERT_SUCCESS(tg_connect(&g, true), "and then a good one");
	return TEST_SUCCESS;
}

/* A second guest: its queue must not notice what happens to g's. */
static struct test_guest h;

static int
setup_two(void)
{
	if (tg_create(&g, 0, 0) != 0)
		return TEST_FAILED;
	if (tg_create(&h, 0, 0) != 0) {
		tg_destroy(&g);
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

static void
teardown_two(void)
{
	tg_destroy(&h);
	tg_destroy(&g);
}

/* h's queue still carries a frame each way. */
static int
expect_h_healthy(void)
{
	netif_tx_response_t trsp[2];
	netif_rx_response_t rrsp[2];
	struct rte_mbuf *m[4];
	int n;

	tg_tx_simple(&h, 100, 9);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&h.q->rx, m, 4), 1, "healthy queue: rx");
	n = tg_mbuf_read(m[0], out, sizeof(out));
	rte_pktmbuf_free(m[0]);
	tg_fill(data, 100, 9);
	TEST_ASSERT_EQUAL(n, 100, "healthy queue: rx length");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, data, 100, "healthy queue: rx data");
	TEST_ASSERT_EQUAL(tg_tx_rsps(&h, trsp, 2), 1, "healthy queue: a guest-tx response");
	TEST_ASSERT_EQUAL(trsp[0].status, NETIF_RSP_OKAY, "healthy queue: guest-tx status");

	m[0] = tg_mbuf(tg_pool(), data, 100);
	TEST_ASSERT_NOT_NULL(m[0], "mbuf");
	tg_rx_post(&h, 1);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&h.q->tx, m, 1), 1, "healthy queue: tx");
	TEST_ASSERT_EQUAL(tg_rx_rsps(&h, rrsp, 2), 1, "healthy queue: a guest-rx response");
	TEST_ASSERT_EQUAL(rrsp[0].status, 100, "healthy queue: guest-rx status");
	TEST_ASSERT_EQUAL(h.q->fatal, XNB_FATAL_NONE, "healthy queue: not fatal");
	TEST_ASSERT_EQUAL(h.fatal_calls, 0, "healthy queue: no on_fatal");
	return TEST_SUCCESS;
}

/* Bursts made while every copy call fails. */
#define COPY_FAIL_BURSTS 50

/* The log of a failing copy call: one line, with its errno. */
static int
expect_copy_log(const struct tg_log *log, unsigned int lines)
{
	if (lines != 1)
		fprintf(stderr, "    logged:\n%s", log->buf);
	TEST_ASSERT_EQUAL(lines, 1, "lines logged");
	TEST_ASSERT(strstr(log->buf, "grant copy call failed (Bad address)") != NULL,
		"the line says what failed: %s", log->buf);
	return TEST_SUCCESS;
}

/*
 * Every copy call fails as a whole (a refused gntdev ioctl), burst after
 * burst: the first failure stops the queue (XNB_FATAL_COPY), on_fatal
 * runs and one line is logged; the failed batch is answered
 * NETIF_RSP_ERROR and nothing more is gathered; no mbuf leaks; later
 * bursts do nothing; another guest's queue goes on.
 */
static int
test_copy_call_fails_rx(void)
{
	struct rte_mbuf *m[2 * XNB_MAX_BURST];
	unsigned int i, lines, failed = tg_failed_copies();
	uint16_t nb_rx = 0;
	struct tg_log log;
	int ret;

	/* More one-slot packets than one batch takes: the batch fills first. */
	for (i = 0; i < XNB_MAX_BURST + 6; i++)
		tg_tx_simple(&g, 60, (uint8_t)i);
	tg_fail_copy(&g, -EFAULT);
	TEST_ASSERT_SUCCESS(tg_log_start(&log, RTE_LOG_DEBUG), "log capture");
	for (i = 0; i < COPY_FAIL_BURSTS; i++) {
		nb_rx += xnb_rx_burst(&g.q->rx, m, RTE_DIM(m));
		tg_tx_simple(&g, 60, (uint8_t)i);
	}
	lines = tg_log_stop(&log);
	tg_fail_copy(&g, 0);
	ret = expect_copy_log(&log, lines);
	tg_log_free(&log);
	if (ret != TEST_SUCCESS)
		return ret;
	TEST_ASSERT_EQUAL(nb_rx, 0, "nothing delivered");
	TEST_ASSERT_EQUAL(tg_failed_copies() - failed, 1, "one copy call made");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, 1, "one copy call counted");
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, XNB_MAX_BURST, "errors");
	if (expect_rsps(XNB_MAX_BURST, NETIF_RSP_ERROR, 0) != TEST_SUCCESS)
		return TEST_FAILED;
	if (expect_h_healthy() != TEST_SUCCESS)
		return TEST_FAILED;
	return expect_fatal(XNB_FATAL_COPY);
}

/*
 * The same for the small copy call that fetches a GSO super-frame's
 * headers before it is segmented: the super-frame is left unanswered
 * (the queue is stopped), the packet gathered before it fails.
 */
static int
test_copy_call_fails_gso_header(void)
{
	unsigned int lines, failed = tg_failed_copies();
	netif_extra_info_t e;
	struct rte_mbuf *m[4];
	struct tg_log log;
	uint16_t nb_rx;
	int ret;

	tg_tx_simple(&g, 60, 1);
	tg_tx_req(&g, g.tx_buf_ref[1], 0, NETTXF_extra_info | NETTXF_csum_blank, 50, 3000);
	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_GSO;
	e.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	e.u.gso.size = 1000;
	tg_tx_extra(&g, &e);
	tg_tx_push(&g);
	tg_fail_copy(&g, -EFAULT);
	TEST_ASSERT_SUCCESS(tg_log_start(&log, RTE_LOG_DEBUG), "log capture");
	nb_rx = xnb_rx_burst(&g.q->rx, m, RTE_DIM(m));
	nb_rx += xnb_rx_burst(&g.q->rx, m, RTE_DIM(m));
	lines = tg_log_stop(&log);
	tg_fail_copy(&g, 0);
	ret = expect_copy_log(&log, lines);
	tg_log_free(&log);
	if (ret != TEST_SUCCESS)
		return ret;
	TEST_ASSERT_EQUAL(nb_rx, 0, "nothing delivered");
	/* The header copy, then the batch's. */
	TEST_ASSERT_EQUAL(tg_failed_copies() - failed, 2, "copy calls made");
	if (expect_rsps(1, NETIF_RSP_ERROR, 0) != TEST_SUCCESS)
		return TEST_FAILED;
	if (expect_h_healthy() != TEST_SUCCESS)
		return TEST_FAILED;
	return expect_fatal(XNB_FATAL_COPY);
}

static int
test_copy_call_fails_tx(void)
{
	netif_rx_response_t rsp[XNB_RX_RING_SIZE];
	struct rte_mbuf *m[XNB_TX_HDRS + 2];
	unsigned int i, k, lines, sent[COPY_FAIL_BURSTS], failed = tg_failed_copies();
	struct tg_log log;
	int ret;

	/* Room for more frames than one batch takes: the batch fills first. */
	tg_rx_post(&g, RTE_DIM(m));
	tg_fill(data, 60, 1);
	tg_fail_copy(&g, -EFAULT);
	TEST_ASSERT_SUCCESS(tg_log_start(&log, RTE_LOG_DEBUG), "log capture");
	for (i = 0; i < COPY_FAIL_BURSTS; i++) {
		for (k = 0; k < RTE_DIM(m); k++) {
			m[k] = tg_mbuf(tg_pool(), data, 60);
			if (m[k] == NULL)
				break;
		}
		sent[i] = k == RTE_DIM(m) ? xnb_tx_burst(&g.q->tx, m, k) : UINT_MAX;
		if (sent[i] < k)
			rte_pktmbuf_free_bulk(&m[sent[i]], k - sent[i]);
		else if (sent[i] == UINT_MAX)
			rte_pktmbuf_free_bulk(m, k);
	}
	lines = tg_log_stop(&log);
	tg_fail_copy(&g, 0);
	ret = expect_copy_log(&log, lines);
	tg_log_free(&log);
	if (ret != TEST_SUCCESS)
		return ret;
	/* The first batch is taken (and fails); the frame that would overfill it is not. */
	TEST_ASSERT_EQUAL(sent[0], XNB_TX_HDRS, "first burst");
	for (i = 1; i < COPY_FAIL_BURSTS; i++)
		TEST_ASSERT_EQUAL(sent[i], 0, "burst %u", i);
	TEST_ASSERT_EQUAL(tg_failed_copies() - failed, 1, "one copy call made");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_calls, 1, "one copy call counted");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, XNB_TX_HDRS, "errors");
	TEST_ASSERT_EQUAL(g.q->tx.stats.packets, 0, "packets");
	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, RTE_DIM(rsp)), XNB_TX_HDRS, "a response per frame");
	for (i = 0; i < XNB_TX_HDRS; i++)
		TEST_ASSERT_EQUAL(rsp[i].status, NETIF_RSP_ERROR, "response %u", i);
	if (expect_h_healthy() != TEST_SUCCESS)
		return TEST_FAILED;
	return expect_fatal(XNB_FATAL_COPY);
}

/* XSA-362/367: a guest-rx buffer granted read-only: the copy into it fails. */
static int
test_xsa367_readonly_rx_buffer(void)
{
	netif_rx_response_t rsp[2];
	struct rte_mbuf *m;
	int ref;

	ref = xensim_grant_access(g.dom, XENSIM_BACKEND_DOMID, TG_RX_BUF_PFN, true);
	TEST_ASSERT(ref > 0, "grant");
	tg_rx_req(&g, 77, (uint32_t)ref);
	tg_rx_push(&g);
	tg_fill(data, 100, 1);
	m = tg_mbuf(tg_pool(), data, 100);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	memset(tg_rx_buf(&g, 0), 0x55, 100);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "consumed");
	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, 2), 1, "a response");
	TEST_ASSERT_EQUAL(rsp[0].id, 77, "id");
	TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_ERROR, "status");
	TEST_ASSERT_EQUAL(tg_rx_buf(&g, 0)[0], 0x55, "the page was not written");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, 1, "errors");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/*
 * XSA-216 (the blkif advisory; the same holds here): no host byte in what
 * we write to the guest. A guest-tx response is 4 bytes in a 12-byte slot:
 * the other 8 bytes stay what the guest wrote there. A guest-rx response
 * fills its 8-byte slot with its own fields only. The shared ring header's
 * padding is never written.
 */
static int
test_xsa216_no_host_bytes_in_responses(void)
{
	const size_t slot = sizeof(g.tx_sring->ring[0]);
	uint8_t before[4][sizeof(g.tx_sring->ring[0])], pad[sizeof(g.tx_sring->__pad)];
	netif_rx_response_t want = { .id = 5, .offset = 0, .flags = 0, .status = 60 };
	struct rte_mbuf *m[4];
	unsigned int i;

	RTE_BUILD_BUG_ON(sizeof(netif_rx_response_t) != sizeof(g.rx_sring->ring[0]));
	memset(g.tx_sring->__pad, 0xa5, sizeof(pad));
	memcpy(pad, g.tx_sring->__pad, sizeof(pad));
	/* Good and bad packets: OKAY and ERROR responses. */
	tg_tx_simple(&g, 60, 1);
	tg_tx_req(&g, TG_BAD_REF, 0, 0, 0x1234, 100);
	tg_tx_req(&g, g.tx_buf_ref[0], 4000, 0, 0x5678, 200);
	tg_tx_simple(&g, 1514, 2);
	for (i = 0; i < 4; i++)
		memcpy(before[i], (uint8_t *)&g.tx_sring->ring[i], slot);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 2, "two good packets");
	rte_pktmbuf_free_bulk(m, 2);
	for (i = 0; i < 4; i++)
		TEST_ASSERT_BUFFERS_ARE_EQUAL((uint8_t *)&g.tx_sring->ring[i] +
			sizeof(netif_tx_response_t), before[i] + sizeof(netif_tx_response_t),
			slot - sizeof(netif_tx_response_t), "slot %u beyond its response", i);
	TEST_ASSERT_BUFFERS_ARE_EQUAL(g.tx_sring->__pad, pad, sizeof(pad), "ring padding");

	/* A guest-rx response: every byte is a field we meant. */
	memset(&g.rx_sring->ring[0], 0xee, sizeof(g.rx_sring->ring[0]));
	tg_rx_req(&g, 5, g.rx_buf_ref[0]);
	tg_rx_push(&g);
	tg_fill(data, 60, 3);
	m[0] = tg_mbuf(tg_pool(), data, 60);
	TEST_ASSERT_NOT_NULL(m[0], "mbuf");
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 1), 1, "sent");
	TEST_ASSERT_BUFFERS_ARE_EQUAL((uint8_t *)&g.rx_sring->ring[0], (uint8_t *)&want,
		sizeof(want), "the guest-rx response, byte for byte");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/*
 * XSA-332: an event channel storm. This backend polls and never reads its
 * event channel, so no event costs it anything: after 100000 kicks the
 * bursts still do at most what they are asked (a burst's work is bounded
 * by nb_pkts, never by events or by what the guest posted) and deliver
 * everything in order.
 */
static int
test_xsa332_event_storm(void)
{
	struct rte_mbuf *m[XNB_MAX_BURST];
	unsigned int i, got = 0, n;

	for (i = 0; i < 100000; i++)
		TEST_ASSERT(xensim_evtchn_notify(g.evtchn, (uint32_t)g.port) == 0 ||
			i > 0, "the first kick");
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 8), 0, "nothing posted: nothing done");
	for (i = 0; i < 200; i++)
		tg_tx_simple(&g, 60, (uint8_t)i);
	while (got < 200) {
		n = xnb_rx_burst(&g.q->rx, m, 8);
		TEST_ASSERT(n > 0 && n <= 8, "burst of %u after %u", n, got);
		rte_pktmbuf_free_bulk(m, n);
		got += n;
	}
	TEST_ASSERT_EQUAL(g.q->rx.stats.packets, 200, "packets");
	TEST_ASSERT_EQUAL(tg_tx_pending(&g), 200, "a response each");
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_NONE, "not fatal");
	return TEST_SUCCESS;
}

/*
 * XSA-392: the guest keeps one receive buffer posted while the next frame
 * needs three. The tx burst takes nothing (the application keeps the
 * frames, in order), consumes no slot and keeps no backlog of its own,
 * however often it is called; once the guest posts enough, the frame goes.
 */
static int
test_xsa392_rx_slot_starvation(void)
{
	netif_rx_response_t rsp[4];
	struct rte_mbuf *m[2];
	unsigned int i;
	int n;

	tg_rx_post(&g, 1);
	tg_fill(data, 9000, 4);
	m[0] = tg_mbuf(tg_pool(), data, 9000);
	m[1] = tg_mbuf(tg_pool(), data, 60);
	TEST_ASSERT(m[0] != NULL && m[1] != NULL, "mbufs");
	for (i = 0; i < 1000; i++)
		TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 2), 0, "call %u: nothing sent", i);
	TEST_ASSERT_EQUAL(g.q->guest_rx.req_cons, g.rx.rsp_cons, "the posted slot kept");
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "no response");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), m[0]->nb_segs + 1u, "only the caller's mbufs");
	tg_rx_post(&g, 2);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 2), 1, "the 9000 B frame");
	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, RTE_DIM(rsp)), 3, "three slots");
	n = tg_rx_gather(&g, rsp, 3, out, sizeof(out), &i);
	TEST_ASSERT_EQUAL(n, 9000, "gathered");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, data, 9000, "data");
	tg_rx_post(&g, 1);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m[1], 1), 1, "then the 60 B frame");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/*
 * XSA-424: every way a packet can be turned away, in one burst, between
 * good ones: each is answered in order, the good ones are delivered, and
 * the next burst works (no state left behind by the drop path).
 */
static int
test_xsa424_drops_in_one_burst(void)
{
	static const int16_t want[] = {
		NETIF_RSP_OKAY,                                  /* good */
		NETIF_RSP_ERROR,                                 /* crosses its page */
		NETIF_RSP_DROPPED, NETIF_RSP_DROPPED,            /* 3000 B, no rx scatter */
		NETIF_RSP_ERROR, NETIF_RSP_NULL,                 /* bad extra */
		NETIF_RSP_ERROR,                                 /* bad grant */
		NETIF_RSP_ERROR,                                 /* runt */
		NETIF_RSP_OKAY,                                  /* good */
	};
	netif_tx_response_t rsp[RTE_DIM(want)];
	uint16_t sizes[] = { 1000, 2000 };
	netif_extra_info_t e;
	struct rte_mbuf *m[8];
	unsigned int i;

	g.q->rx.scatter = false;
	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_NONE;
	tg_tx_simple(&g, 60, 1);
	tg_tx_req(&g, g.tx_buf_ref[0], 4000, 0, 100, 200);
	tg_fill(data, 3000, 2);
	tg_tx_pkt(&g, data, sizes, 2, 0);
	tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_extra_info, 101, 100);
	tg_tx_extra(&g, &e);
	tg_tx_req(&g, TG_BAD_REF, 0, 0, 102, 100);
	tg_tx_req(&g, g.tx_buf_ref[0], 0, 0, 103, 10);
	tg_tx_simple(&g, 70, 3);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 8), 2, "the two good ones");
	TEST_ASSERT_EQUAL(m[0]->pkt_len + m[1]->pkt_len, 130, "in order");
	TEST_ASSERT_EQUAL(m[0]->pkt_len, 60, "in order");
	rte_pktmbuf_free_bulk(m, 2);
	TEST_ASSERT_EQUAL(tg_tx_rsps(&g, rsp, RTE_DIM(rsp)), RTE_DIM(want), "responses");
	for (i = 0; i < RTE_DIM(want); i++)
		TEST_ASSERT_EQUAL(rsp[i].status, want[i], "response %u", i);
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 5, "errors (DROPPED included)");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	g.q->rx.scatter = true;
	return expect_good_after();
}

/*
 * XSA-432: 18 slots, all their bytes under 128 (the minimum a Linux
 * backend copies into its header buffer): delivered whole, nothing read
 * or written beyond the slot arrays, in the default pool and in chains.
 */
static int
test_xsa432_18_slots_under_128_bytes(void)
{
	uint16_t sizes[XNB_MAX_TX_SLOTS];
	struct rte_mbuf *m[4];
	unsigned int i, pass;
	int n;

	for (pass = 0; pass < 2; pass++) {
		g.q->rx.mb_pool = pass == 0 ? tg_pool() : tg_small_pool();
		sizes[0] = 15;
		for (i = 1; i < XNB_MAX_TX_SLOTS; i++)
			sizes[i] = 5;
		tg_fill(data, 100, (uint8_t)pass);
		tg_tx_pkt(&g, data, sizes, XNB_MAX_TX_SLOTS, 4000);
		tg_tx_push(&g);
		TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "pass %u: delivered", pass);
		TEST_ASSERT_EQUAL(m[0]->data_len, 100, "pass %u: the whole frame in one mbuf",
			pass);
		n = tg_mbuf_read(m[0], out, sizeof(out));
		rte_pktmbuf_free(m[0]);
		TEST_ASSERT_EQUAL(n, 100, "length");
		TEST_ASSERT_BUFFERS_ARE_EQUAL(out, data, 100, "data");
		if (expect_rsps(XNB_MAX_TX_SLOTS, NETIF_RSP_OKAY, 0) != TEST_SUCCESS)
			return TEST_FAILED;
	}
	g.q->rx.mb_pool = tg_pool();
	TEST_ASSERT_EQUAL(tg_in_use(tg_small_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/* The verdict functions on their own. */
static int
test_verdicts(void)
{
	netif_tx_request_t reqs[XNB_TX_RING_SIZE];
	const netif_tx_request_t *p[XNB_FATAL_TX_SLOTS];
	netif_extra_info_t e[2];
	struct xnb_rx_extras ext;
	struct xnb_rx_walk w;
	uint16_t first_len;
	unsigned int i;

	TEST_ASSERT_EQUAL(xnb_rx_count_verdict(1), XNB_VERDICT_OK, "1");
	TEST_ASSERT_EQUAL(xnb_rx_count_verdict(18), XNB_VERDICT_OK, "18");
	TEST_ASSERT_EQUAL(xnb_rx_count_verdict(19), XNB_VERDICT_ERROR, "19");
	TEST_ASSERT_EQUAL(xnb_rx_count_verdict(20), XNB_VERDICT_FATAL, "20");
	TEST_ASSERT_EQUAL(xnb_rx_count_verdict(65535), XNB_VERDICT_FATAL, "65535");

	memset(reqs, 0, sizeof(reqs));
	for (i = 0; i < XNB_FATAL_TX_SLOTS; i++)
		p[i] = &reqs[i];
	reqs[0].size = 1000;
	reqs[0].offset = 3096;
	TEST_ASSERT_EQUAL(xnb_rx_slots_verdict(p, 1, &first_len), XNB_VERDICT_OK, "page end");
	TEST_ASSERT_EQUAL(first_len, 1000, "first_len");
	reqs[0].offset = 3097;
	TEST_ASSERT_EQUAL(xnb_rx_slots_verdict(p, 1, &first_len), XNB_VERDICT_ERROR, "past");
	reqs[0].offset = 0xffff;
	reqs[0].size = 0xffff;
	TEST_ASSERT_EQUAL(xnb_rx_slots_verdict(p, 1, &first_len), XNB_VERDICT_ERROR,
		"no 16-bit wrap");
	reqs[0].offset = 0;
	reqs[1].size = 4096;
	reqs[0].size = 0xffff;
	for (i = 2; i < 17; i++)
		reqs[i].size = 4096;
	/* 16 * 4096 = 65536 > 65535 */
	TEST_ASSERT_EQUAL(xnb_rx_slots_verdict(p, 17, &first_len), XNB_VERDICT_ERROR,
		"rest above total");
	reqs[16].size = 4095;
	TEST_ASSERT_EQUAL(xnb_rx_slots_verdict(p, 17, &first_len), XNB_VERDICT_OK, "exact");
	TEST_ASSERT_EQUAL(first_len, 0, "nothing left for the first slot");
	TEST_ASSERT_EQUAL(xnb_rx_slots_verdict(p, 0, &first_len), XNB_VERDICT_ERROR, "none");

	memset(e, 0, sizeof(e));
	e[0].type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
	e[1].type = XEN_NETIF_EXTRA_TYPE_GSO;
	e[1].u.gso.size = 9000;
	e[1].u.gso.type = XEN_NETIF_GSO_TYPE_TCPV6;
	TEST_ASSERT_EQUAL(xnb_rx_extras_verdict(e, 2, &ext), XNB_VERDICT_OK, "extras");
	TEST_ASSERT_EQUAL(ext.gso_size, 9000, "gso size");
	TEST_ASSERT_EQUAL(ext.gso_type, XEN_NETIF_GSO_TYPE_TCPV6, "gso type");
	e[0].type = XEN_NETIF_EXTRA_TYPE_GSO;
	TEST_ASSERT_EQUAL(xnb_rx_extras_verdict(e, 2, &ext), XNB_VERDICT_ERROR, "twice");

	/* A walk across the end of the copy array (mask), partial, then whole. */
	memset(reqs, 0, sizeof(reqs));
	reqs[255] = (netif_tx_request_t){ .flags = NETTXF_more_data, .size = 200 };
	reqs[0] = (netif_tx_request_t){ .flags = NETTXF_more_data, .size = 50 };
	reqs[1] = (netif_tx_request_t){ .size = 50 };
	TEST_ASSERT_EQUAL(xnb_rx_walk(reqs, 255, 255, 2, &w), XNB_VERDICT_PARTIAL, "partial");
	TEST_ASSERT_EQUAL(xnb_rx_walk(reqs, 255, 255, 0, &w), XNB_VERDICT_PARTIAL, "empty");
	TEST_ASSERT_EQUAL(xnb_rx_walk(reqs, 255, UINT32_MAX, 3, &w), XNB_VERDICT_OK,
		"whole, from index 2^32 - 1");
	TEST_ASSERT_EQUAL(w.nb_reqs, 3, "slots");
	TEST_ASSERT_EQUAL(w.nb_data, 3, "data slots");
	TEST_ASSERT_EQUAL(w.first_len, 100, "first slot's bytes");
	return TEST_SUCCESS;
}

/*
 * The burst's fast case (xnb_rx_single_ok()) takes a one-slot packet
 * without the walk: over a grid of sizes, offsets and flags it must
 * accept exactly the packets the walk finds OK as one data slot that
 * fits one mbuf, and nothing else.
 */
static int
test_single_slot_fast_case(void)
{
	static const uint16_t sizes[] = { 0, 1, 13, 14, 15, 60, 64, 1514, 2047, 2048, 2049,
		4095, 4096, 4097, 0xffff };
	static const uint16_t offsets[] = { 0, 1, 64, 2048, 4032, 4082, 4095, 4096, 0xffff };
	static const uint16_t flags[] = { 0, NETTXF_csum_blank, NETTXF_data_validated,
		NETTXF_more_data, NETTXF_extra_info, NETTXF_csum_blank | NETTXF_data_validated };
	static const uint32_t rooms[] = { 64, 2048, 4096 };
	netif_tx_request_t reqs[4];
	unsigned int s, o, f, r, accepted = 0;
	struct xnb_rx_walk w;
	enum xnb_verdict v;
	bool fast, walk_ok;

	for (s = 0; s < RTE_DIM(sizes); s++)
	for (o = 0; o < RTE_DIM(offsets); o++)
	for (f = 0; f < RTE_DIM(flags); f++)
	for (r = 0; r < RTE_DIM(rooms); r++) {
		memset(reqs, 0, sizeof(reqs));
		reqs[0] = (netif_tx_request_t){ .gref = 5, .offset = offsets[o],
			.flags = flags[f], .id = 9, .size = sizes[s] };
		/* A following slot, in case the flags chain one: a valid extra. */
		reqs[1].gref = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
		fast = xnb_rx_single_ok(&reqs[0], rooms[r]);
		v = xnb_rx_walk(reqs, 3, 0, 2, &w);
		walk_ok = v == XNB_VERDICT_OK && w.nb_reqs == 1 && w.nb_data == 1 &&
			sizes[s] <= rooms[r];
		TEST_ASSERT_EQUAL(fast, walk_ok,
			"size %u offset %u flags %#x room %u: fast case %d, walk %d (%u slots)",
			sizes[s], offsets[o], flags[f], rooms[r], fast, v, w.nb_reqs);
		if (fast) {
			TEST_ASSERT_EQUAL(w.first_len, sizes[s], "the whole frame in its slot");
			accepted++;
		}
	}
	TEST_ASSERT(accepted > 0, "the grid has packets the fast case takes");
	return TEST_SUCCESS;
}

/*
 * Found by fuzz-offload: a checksum xnb fills in over an mbuf chain with
 * an odd-length segment before the last. DPDK 22.11's rte_raw_cksum_mbuf()
 * truncated such a segment's sum before swapping its bytes, so the
 * checksum came out wrong: on rx, a guest's blank UDP checksum completed
 * in software into mbufs of an odd data room; on tx, the checksum xnb
 * computes for a guest without checksum offload over an application's
 * chain of odd-length segments. Both must verify.
 */
static size_t
odd_udp4_frame(uint8_t *f, uint32_t payload)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	size_t len = sizeof(*eth) + sizeof(*ip) + sizeof(*udp) + payload;

	memset(f, 0, len);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(len - sizeof(*eth)));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = RTE_BE32(0x0a000001);
	ip->dst_addr = RTE_BE32(0x0a000002);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = RTE_BE16(53);
	udp->dst_port = RTE_BE16(53);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + payload));
	/* Bytes whose 16-bit words sum far past 0xffff in every segment. */
	memset(udp + 1, 0xfe, payload);
	/* Blank, as a guest (or an application) leaves it: the pseudo-header sum. */
	udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, 0);
	return len;
}

static int
udp4_csum_ok(const uint8_t *f)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);

	return rte_ipv4_udptcp_cksum_verify(ip, ip + 1) == 0;
}

static int
test_odd_segment_checksum(void)
{
	struct rte_mempool *odd, *saved = g.q->rx.mb_pool;
	netif_rx_response_t rsp[4];
	struct rte_mbuf *m, *segs[3];
	size_t len = odd_udp4_frame(data, 900);
	uint16_t seg_len[3] = { 43, 301, 0 };
	uint32_t pos = 0;
	unsigned int i;
	int n;

	/* rx: mbufs of 301 bytes of data room (odd) take the guest's frame. */
	odd = rte_pktmbuf_pool_create("odd_room", 63, 0, 0, RTE_PKTMBUF_HEADROOM + 301,
		rte_socket_id());
	TEST_ASSERT_NOT_NULL(odd, "pool");
	g.q->rx.mb_pool = odd;
	g.q->rx.csum_udp = false;
	memcpy(tg_tx_buf(&g, 0), data, len);
	tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_csum_blank, 1, (uint16_t)len);
	tg_tx_push(&g);
	n = xnb_rx_burst(&g.q->rx, &m, 1);
	g.q->rx.mb_pool = saved;
	TEST_ASSERT_EQUAL(n, 1, "the frame");
	TEST_ASSERT(m->nb_segs == 4, "a chain of odd-length segments (%u)", m->nb_segs);
	TEST_ASSERT(m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_GOOD, "completed");
	n = tg_mbuf_read(m, out, sizeof(out));
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(n, (int)len, "length");
	TEST_ASSERT(udp4_csum_ok(out), "the checksum xnb completed verifies");
	TEST_ASSERT_SUCCESS(expect_rsps(1, NETIF_RSP_OKAY, 0), "response");
	TEST_ASSERT_EQUAL(tg_in_use(odd), 0, "mbufs leaked");
	rte_mempool_free(odd);

	/* tx: a guest without checksum offload; segments of 43, 301, 598 bytes. */
	odd_udp4_frame(data, 900);
	seg_len[2] = (uint16_t)(len - 43 - 301);
	for (i = 0; i < 3; i++) {
		segs[i] = tg_mbuf(tg_pool(), data + pos, seg_len[i]);
		TEST_ASSERT_NOT_NULL(segs[i], "mbuf");
		pos += seg_len[i];
		if (i > 0) {
			TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(segs[0], segs[i]), "chain");
		}
	}
	m = segs[0];
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(struct rte_ipv4_hdr);
	TEST_ASSERT(!g.q->feat.csum4, "the guest takes no blank checksum");
	tg_rx_post(&g, 1);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "sent");
	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, RTE_DIM(rsp)), 1, "one response");
	TEST_ASSERT_EQUAL(rsp[0].status, (int)len, "length");
	TEST_ASSERT_EQUAL(rsp[0].flags & NETRXF_csum_blank, 0, "not blank");
	TEST_ASSERT(udp4_csum_ok(tg_rx_buf(&g, rsp[0].id)), "the checksum xnb computed verifies");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/*
 * Found by fuzz-guest-rx: an mbuf asking for TSO with tso_segsz 0 (an
 * application's mistake that tx_pkt_prepare lets through) divided by zero
 * in the tx burst for a guest without GSO, taking the whole process down,
 * and would have given a guest with GSO an extra slot of GSO size 0. It
 * is dropped, for either guest; the next frame goes.
 */
static int
test_tso_segsz_zero(void)
{
	netif_rx_response_t rsp[4];
	struct rte_mbuf *m[2];
	size_t len = odd_udp4_frame(data, 2900);
	unsigned int i;

	/* A TCP frame: the UDP one with its protocol and a TCP header. */
	data[RTE_ETHER_HDR_LEN + 9] = IPPROTO_TCP;
	data[RTE_ETHER_HDR_LEN + 20 + 12] = 5 << 4;
	((struct rte_ipv4_hdr *)(data + RTE_ETHER_HDR_LEN))->hdr_checksum = 0;
	((struct rte_ipv4_hdr *)(data + RTE_ETHER_HDR_LEN))->hdr_checksum =
		rte_ipv4_cksum((struct rte_ipv4_hdr *)(data + RTE_ETHER_HDR_LEN));
	tg_rx_post(&g, 4);
	for (i = 0; i < 2; i++) {
		/* Without GSO, then with it. */
		g.q->feat.csum4 = i == 1;
		g.q->feat.gso4 = i == 1;
		m[0] = tg_mbuf(tg_pool(), data, (uint32_t)len);
		m[1] = tg_mbuf(tg_pool(), data, 100);
		TEST_ASSERT(m[0] != NULL && m[1] != NULL, "mbufs");
		m[0]->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
			RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		m[0]->l2_len = RTE_ETHER_HDR_LEN;
		m[0]->l3_len = sizeof(struct rte_ipv4_hdr);
		m[0]->l4_len = sizeof(struct rte_tcp_hdr);
		m[0]->tso_segsz = 0;
		TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 2), 2, "both taken");
		TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, RTE_DIM(rsp)), 1, "the TSO frame dropped");
		TEST_ASSERT_EQUAL(rsp[0].status, 100, "the next frame went");
		TEST_ASSERT_EQUAL(rsp[0].flags & NETRXF_extra_info, 0, "no GSO slot");
		TEST_ASSERT_EQUAL(g.q->tx.stats.errors, i + 1, "counted");
	}
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_NONE, "not fatal");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/*
 * Found by fuzz-guest-tx: a GSO packet whose first slot has no bytes of
 * its own (the others carry the whole frame) made a grant-copy segment
 * of 0 bytes for the header peek, against the rule that a zero-size
 * slot makes no copy segment (XSA-448). It is an error, found without
 * a copy call.
 */
static int
test_gso_empty_first_slot(void)
{
	netif_extra_info_t e;
	struct rte_mbuf *m[4];
	uint64_t calls = g.q->rx.stats.copy_calls;

	g.q->rx.lro = false;
	memset(&e, 0, sizeof(e));
	e.type = XEN_NETIF_EXTRA_TYPE_GSO;
	e.u.gso.size = 1000;
	e.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	tg_tx_req(&g, g.tx_buf_ref[0], 0, NETTXF_extra_info | NETTXF_more_data, 1, 3000);
	tg_tx_extra(&g, &e);
	tg_tx_req(&g, g.tx_buf_ref[1], 0, NETTXF_more_data, 2, 1500);
	tg_tx_req(&g, g.tx_buf_ref[2], 0, 0, 3, 1500);
	tg_tx_push(&g);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 0, "no frame");
	TEST_ASSERT_EQUAL(g.q->rx.stats.copy_calls, calls, "no copy call");
	TEST_ASSERT_SUCCESS(expect_rsps(4, NETIF_RSP_ERROR, 1u << 1), "responses");
	return expect_good_after();
}

static int
hostile_suite_setup(void)
{
	return tg_pool() != NULL ? TEST_SUCCESS : TEST_FAILED;
}

static struct unit_test_suite hostile_suite = {
	.suite_name = "hostile",
	.setup = hostile_suite_setup,
	.unit_test_cases = {
		TEST_CASE(test_verdicts),
		TEST_CASE(test_single_slot_fast_case),
		TEST_CASE_ST(setup_zero, teardown, test_xsa39_guest_tx_ring_overflow),
		TEST_CASE_ST(setup_wrap32, teardown, test_xsa39_guest_tx_ring_overflow),
		TEST_CASE_ST(setup_wrap32, teardown, test_xsa39_guest_tx_ring_rewind),
		TEST_CASE_ST(setup_zero, teardown, test_slot_crosses_page),
		TEST_CASE_ST(setup_zero, teardown, test_18_slots_ok),
		TEST_CASE_ST(setup_zero, teardown, test_19_slots_error),
		TEST_CASE_ST(setup_zero, teardown, test_20_slots_fatal),
		TEST_CASE_ST(setup_zero, teardown, test_20_slots_partial_fatal),
		TEST_CASE_ST(setup_zero, teardown, test_endless_chain_fatal),
		TEST_CASE_ST(setup_zero, teardown, test_fatal_mid_burst),
		TEST_CASE_ST(setup_zero, teardown, test_xsa448_zero_size_slots),
		TEST_CASE_ST(setup_zero, teardown, test_empty_first_slot),
		TEST_CASE_ST(setup_zero, teardown, test_first_slot_too_small),
		TEST_CASE_ST(setup_zero, teardown, test_first_size_below_rest),
		TEST_CASE_ST(setup_zero, teardown, test_bad_extra_info),
		TEST_CASE_ST(setup_zero, teardown, test_too_many_extras),
		TEST_CASE_ST(setup_zero, teardown, test_duplicate_extra),
		TEST_CASE_ST(setup_zero, teardown, test_xsa155_double_fetch),
		TEST_CASE_ST(setup_zero, teardown, test_rsp_prod_scribbled),
		TEST_CASE_ST(setup_zero, teardown, test_xsa39_guest_rx_ring_overflow),
		TEST_CASE_ST(setup_zero, teardown, test_xsa216_no_host_bytes_in_responses),
		TEST_CASE_ST(setup_zero, teardown, test_xsa332_event_storm),
		TEST_CASE_ST(setup_zero, teardown, test_xsa392_rx_slot_starvation),
		TEST_CASE_ST(setup_zero, teardown, test_xsa424_drops_in_one_burst),
		TEST_CASE_ST(setup_zero, teardown, test_xsa432_18_slots_under_128_bytes),
		TEST_CASE_ST(setup_init, teardown, test_connect_refused),
		TEST_CASE_ST(setup_init, teardown, test_connect_bad_refs),
		TEST_CASE_ST(setup_init, teardown, test_connect_fails_quietly),
		TEST_CASE_ST(setup_two, teardown_two, test_copy_call_fails_rx),
		TEST_CASE_ST(setup_two, teardown_two, test_copy_call_fails_gso_header),
		TEST_CASE_ST(setup_two, teardown_two, test_copy_call_fails_tx),
		TEST_CASE_ST(setup_zero, teardown, test_xsa367_readonly_rx_buffer),
		TEST_CASE_ST(setup_zero, teardown, test_odd_segment_checksum),
		TEST_CASE_ST(setup_zero, teardown, test_tso_segsz_zero),
		TEST_CASE_ST(setup_zero, teardown, test_gso_empty_first_slot),
		TEST_CASES_END()
	}
};

REGISTER_TEST_SUITE(hostile_suite);
