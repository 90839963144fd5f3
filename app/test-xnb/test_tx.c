/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Suite "tx": mbufs into the guest-rx ring (xnb_tx_burst): short,
 * multi-segment and large frames, byte-exact in the guest's pages; the
 * response fields; frames the frontend cannot take; a guest-rx ring with
 * too few buffers, then none for the drain and stall times; failed
 * copies; the copy batch; index wrap; and a
 * round trip guest-tx -> rx burst -> tx burst -> guest-rx.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "test.h"
#include "test_common.h"
#include "xnb_mcast.h"
#include "xnb_rxtx.h"

/* Slots of the largest frame, and one to spare. */
#define TX_CHECK_MAX_SLOTS 17

static struct test_guest g;
static uint8_t data[XNB_MAX_FRAME + 4096];
static uint8_t out[XNB_MAX_FRAME + 4096];

static int
setup_zero(void)
{
	return tg_create(&g, 0, 0) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

static int
setup_wrap32(void)
{
	return tg_create(&g, UINT32_MAX - 20, UINT32_MAX - 20) == 0 ?
		TEST_SUCCESS : TEST_FAILED;
}

static int
setup_wrap_ring(void)
{
	RING_IDX s = 5 * XNB_RX_RING_SIZE - 2;

	return tg_create(&g, s, s) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

/* The frontend did not negotiate feature-sg. */
static int
setup_no_sg(void)
{
	if (tg_init(&g, 0, 0) != 0)
		return TEST_FAILED;
	if (tg_connect(&g, false) != 0) {
		tg_destroy(&g);
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

static void
teardown(void)
{
	tg_destroy(&g);
}

static uint32_t
slots_for(uint32_t len)
{
	return len == 0 ? 1 : (len + XNB_PAGE_SIZE - 1) / XNB_PAGE_SIZE;
}

/*
 * Take the next packet's responses and check them: fields as netif.h
 * says, bytes exactly data[0..len).
 */
static int
check_guest_pkt(const uint8_t *expect, uint32_t len)
{
	netif_rx_response_t rsp[TX_CHECK_MAX_SLOTS];
	uint32_t nslots = slots_for(len), i;
	unsigned int used;
	int n;

	TEST_ASSERT(tg_rx_pending(&g) >= nslots, "%u responses for %u B, %u pushed",
		nslots, len, tg_rx_pending(&g));
	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, nslots), nslots, "responses");
	for (i = 0; i < nslots; i++) {
		TEST_ASSERT_EQUAL(rsp[i].offset, 0, "slot %u offset", i);
		TEST_ASSERT_EQUAL(rsp[i].flags, i + 1 < nslots ? NETRXF_more_data : 0,
			"slot %u flags", i);
		TEST_ASSERT_EQUAL(rsp[i].status,
			RTE_MIN(len - i * XNB_PAGE_SIZE, XNB_PAGE_SIZE), "slot %u status", i);
	}
	n = tg_rx_gather(&g, rsp, nslots, out, sizeof(out), &used);
	TEST_ASSERT_EQUAL(n, (int)len, "gathered length");
	TEST_ASSERT_EQUAL(used, nslots, "responses used");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, expect, len, "%u B in the guest's pages", len);
	return TEST_SUCCESS;
}

/* Send one frame of len bytes built from mp's mbufs; check it arrives. */
static int
tx_one(struct rte_mempool *mp, uint32_t len, uint16_t nb_segs)
{
	struct rte_mbuf *m;

	tg_fill(data, len, (uint8_t)len);
	m = tg_mbuf(mp, data, len);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	TEST_ASSERT_EQUAL(m->nb_segs, nb_segs, "test setup: mbuf segments");
	tg_rx_post(&g, slots_for(len));
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "sent");
	if (check_guest_pkt(data, len) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->tx.stats.packets, 1, "packets");
	TEST_ASSERT_EQUAL(g.q->tx.stats.bytes, len, "bytes");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, 0, "errors");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_calls, 1, "one copy call");
	TEST_ASSERT_EQUAL(tg_in_use(mp), 0, "the sent mbufs were not freed");
	return TEST_SUCCESS;
}

static int
test_tx_short(void)
{
	if (tx_one(tg_pool(), 60, 1) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_segs, 1, "one segment");
	return TEST_SUCCESS;
}

static int
test_tx_multi_segment(void)
{
	if (tx_one(tg_small_pool(), 1500, 3) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_segs, 3, "one segment per mbuf");
	return TEST_SUCCESS;
}

static int
test_tx_9000(void)
{
	if (tx_one(tg_pool(), 9000, 5) != TEST_SUCCESS)
		return TEST_FAILED;
	/* 2048 B mbufs end on every page boundary: one segment each. */
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_segs, 5, "segments");
	return TEST_SUCCESS;
}

static int
test_tx_9000_odd_segments(void)
{
	struct rte_mbuf *m, *s;
	uint32_t off = 0;
	int ret;

	/*
	 * Three 3000 B pieces of 2048 + 952 B mbufs: segments at 0, 2048,
	 * 3000, 5048, 6000, 8048; the pages end at 4096 and 8192, inside
	 * the third and the sixth.
	 */
	tg_fill(data, 9000, 77);
	m = tg_mbuf(tg_pool(), data, 3000);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	for (off = 3000; off < 9000; off += 3000) {
		s = tg_mbuf(tg_pool(), data + off, 3000);
		TEST_ASSERT_NOT_NULL(s, "mbuf");
		TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(m, s), "chain");
	}
	tg_rx_post(&g, 3);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "sent");
	ret = check_guest_pkt(data, 9000);
	if (ret != TEST_SUCCESS)
		return ret;
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_segs, 8, "segments split at pages");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

static int
test_tx_64k_minus_1(void)
{
	return tx_one(tg_small_pool(), XNB_MAX_FRAME, 128);
}

static int
test_tx_no_buffers(void)
{
	struct rte_mbuf *m;

	tg_fill(data, 100, 1);
	m = tg_mbuf(tg_pool(), data, 100);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 0, "no buffer posted: kept");
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "no response");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_calls, 0, "no copy call");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, 0, "not an error");
	rte_pktmbuf_free(m);
	return TEST_SUCCESS;
}

/* Frames of 100 B into m[0..n-1], pattern 7. */
static int
stall_frames(struct rte_mbuf **m, unsigned int n)
{
	unsigned int i;

	tg_fill(data, 100, 7);
	for (i = 0; i < n; i++) {
		m[i] = tg_mbuf(tg_pool(), data, 100);
		TEST_ASSERT_NOT_NULL(m[i], "mbuf");
	}
	return TEST_SUCCESS;
}

/*
 * A guest that posts no receive buffers (Linux's netback's drain and
 * stall): frames are handed back until the drain time, then dropped;
 * with feature-rx-notify the queue is marked stalled after the stall
 * time; once the guest posts again the control path's check clears it
 * and frames flow.
 */
static int
test_tx_drain_then_stall(void)
{
	struct xnb_txq *txq = &g.q->tx;
	struct rte_mbuf *m[4];
	bool recovered;

	xnb_tx_set_timeouts(txq, 30, 80);
	if (stall_frames(m, 4) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 4), 0, "no buffers: handed back");
	TEST_ASSERT(txq->blocked_since != 0, "blocked from now");
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 4), 0, "still within the drain time");
	rte_delay_ms(40);
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 4), 4, "past the drain time: consumed");
	TEST_ASSERT_EQUAL(txq->stats.drain_drops, 4, "counted as drain drops");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "the dropped frames freed");
	TEST_ASSERT_EQUAL(txq->stalled, 0, "not stalled yet");
	TEST_ASSERT(!xnb_tx_stall_check(txq, &recovered) && !recovered, "control: not stalled");

	rte_delay_ms(50);
	if (stall_frames(m, 1) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 1), 1, "dropped");
	TEST_ASSERT_EQUAL(txq->stalled, 1, "stalled past the stall time");
	TEST_ASSERT_EQUAL(txq->stats.stalls, 1, "one stall");
	if (stall_frames(m, 1) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 1), 1, "dropped while stalled");
	TEST_ASSERT_EQUAL(txq->stats.stalls, 1, "still one stall");
	TEST_ASSERT_EQUAL(txq->stats.drain_drops, 6, "every frame counted");
	TEST_ASSERT(xnb_tx_stall_check(txq, &recovered) && !recovered, "control: stalled");
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "nothing reached the guest");

	tg_rx_post(&g, 2);
	TEST_ASSERT(!xnb_tx_stall_check(txq, &recovered) && recovered,
		"control: buffers posted, recovered");
	TEST_ASSERT_EQUAL(txq->stalled, 0, "cleared");
	if (stall_frames(m, 1) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 1), 1, "sent");
	TEST_ASSERT_EQUAL(txq->blocked_since, 0, "no longer blocked");
	TEST_ASSERT_EQUAL(txq->stats.drain_drops, 6, "not dropped");
	return check_guest_pkt(data, 100);
}

/*
 * Frames the guest's multicast filter drops are no sign that it reads:
 * a guest posting no buffers while the application sends it unicast and
 * filtered multicast in turn is still found stalled on time.
 */
static int
test_tx_stall_with_filtered(void)
{
	static const uint8_t group[RTE_ETHER_ADDR_LEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	static const uint8_t guest[RTE_ETHER_ADDR_LEN] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
	struct xnb_txq *txq = &g.q->tx;
	struct xnb_mcast mc;
	struct rte_mbuf *m[1];
	uint64_t t0 = rte_get_timer_cycles();
	unsigned int n = 0;

	memset(&mc, 0, sizeof(mc));
	mc.enabled = 1;
	txq->mcast = &mc;
	xnb_tx_set_timeouts(txq, 0, 20);
	while (txq->stalled == 0 && rte_get_timer_cycles() - t0 < rte_get_timer_hz() / 5) {
		if (stall_frames(m, 1) != TEST_SUCCESS)
			return TEST_FAILED;
		if (n++ % 2 == 1) {
			memcpy(rte_pktmbuf_mtod(m[0], uint8_t *), group, sizeof(group));
			TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 1), 1, "filtered: consumed");
		} else {
			memcpy(rte_pktmbuf_mtod(m[0], uint8_t *), guest, sizeof(guest));
			if (xnb_tx_burst(txq, m, 1) == 0)
				rte_pktmbuf_free(m[0]);
		}
		rte_delay_us_block(500);
	}
	txq->mcast = NULL;
	TEST_ASSERT_EQUAL(txq->stalled, 1, "stalled, filtered frames or not");
	TEST_ASSERT(rte_get_timer_cycles() - t0 < rte_get_timer_hz() / 10,
		"within about the stall time (20 ms)");
	TEST_ASSERT(txq->stats.mcast_filtered > 0, "frames were filtered meanwhile");
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "nothing reached the guest");
	return TEST_SUCCESS;
}

/* The datapath itself clears a stall when a burst finds buffers again. */
static int
test_tx_stall_cleared_by_burst(void)
{
	struct xnb_txq *txq = &g.q->tx;
	struct rte_mbuf *m[1];

	xnb_tx_set_timeouts(txq, 0, 20);
	if (stall_frames(m, 1) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 1), 0, "blocked");
	rte_delay_ms(30);
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 1), 1, "stalled: dropped");
	TEST_ASSERT_EQUAL(txq->stalled, 1, "stalled");
	tg_rx_post(&g, 1);
	if (stall_frames(m, 1) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 1), 1, "sent");
	TEST_ASSERT_EQUAL(txq->stalled, 0, "the burst cleared the stall");
	TEST_ASSERT_EQUAL(txq->stats.drain_drops, 1, "one dropped");
	return check_guest_pkt(data, 100);
}

/*
 * Without feature-rx-notify there is no stall (Linux's netback: the
 * frontend cannot be told to notify), only the drain. And a burst that
 * places anything restarts the clock: a guest that reads slowly is not
 * draining.
 */
static int
test_tx_drain_without_rx_notify(void)
{
	struct xnb_txq *txq = &g.q->tx;
	struct rte_mbuf *m[2];

	g.q->feat.rx_notify = false;
	xnb_tx_set_timeouts(txq, 30, 30);
	if (stall_frames(m, 2) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 2), 0, "blocked");
	rte_delay_ms(40);
	tg_rx_post(&g, 1);
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m, 2), 1, "one buffer: one frame, one handed back");
	TEST_ASSERT_EQUAL(txq->blocked_since, 0, "progress: not blocked");
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m + 1, 1), 0, "blocked again: handed back");
	rte_delay_ms(40);
	TEST_ASSERT_EQUAL(xnb_tx_burst(txq, m + 1, 1), 1, "past the drain time: dropped");
	TEST_ASSERT_EQUAL(txq->stalled, 0, "never stalled without rx-notify");
	TEST_ASSERT_EQUAL(txq->stats.stalls, 0, "no stall");
	TEST_ASSERT_EQUAL(txq->stats.drain_drops, 1, "one drain drop");
	return check_guest_pkt(data, 100);
}

/*
 * The guest's XDP headroom (feature-xdp-headroom): each frame's data
 * starts that far into its first page, the response says so (offset),
 * the first slot holds that much less; a frame that would fit a page
 * without the headroom takes two with it; the fast case (one mbuf, one
 * slot) and the general one (chains) both; back to 0, back to offset 0.
 */
static int
check_headroom_pkt(uint32_t len, uint16_t hr)
{
	netif_rx_response_t rsp[TX_CHECK_MAX_SLOTS];
	uint32_t nslots = (len + hr + XNB_PAGE_SIZE - 1) / XNB_PAGE_SIZE, i, left = len, want;
	unsigned int used;
	int n;

	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, nslots), nslots, "%u B behind %u: responses", len,
		hr);
	for (i = 0; i < nslots; i++) {
		TEST_ASSERT_EQUAL(rsp[i].offset, i == 0 ? hr : 0, "slot %u offset", i);
		want = RTE_MIN(left, XNB_PAGE_SIZE - (i == 0 ? hr : 0));
		TEST_ASSERT_EQUAL(rsp[i].status, (int)want, "slot %u status", i);
		left -= want;
	}
	n = tg_rx_gather(&g, rsp, nslots, out, sizeof(out), &used);
	TEST_ASSERT_EQUAL(n, (int)len, "gathered length");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, data, len, "%u B behind %u B of headroom", len, hr);
	return TEST_SUCCESS;
}

static int
test_tx_xdp_headroom(void)
{
	static const uint32_t lens[] = { 100, 3840, 3841, 4096, 9000 };
	struct rte_mbuf *m;
	unsigned int i;

	g.q->tx.headroom = 256;
	for (i = 0; i < RTE_DIM(lens); i++) {
		tg_fill(data, lens[i], (uint8_t)(40 + i));
		m = tg_mbuf(lens[i] > 2048 ? tg_small_pool() : tg_pool(), data, lens[i]);
		TEST_ASSERT_NOT_NULL(m, "mbuf");
		tg_rx_post(&g, 4);
		TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "%u B sent", lens[i]);
		if (check_headroom_pkt(lens[i], 256) != TEST_SUCCESS)
			return TEST_FAILED;
	}
	g.q->tx.headroom = 0;
	tg_fill(data, 100, 50);
	m = tg_mbuf(tg_pool(), data, 100);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "headroom 0 again");
	return check_headroom_pkt(100, 0);
}

/* A frame needing more slots than are posted waits for more buffers. */
static int
test_tx_not_enough_slots(void)
{
	struct rte_mbuf *m[2];

	tg_fill(data, 9000, 4);
	m[0] = tg_mbuf(tg_pool(), data, 9000);
	TEST_ASSERT_NOT_NULL(m[0], "mbuf");
	tg_rx_post(&g, 2);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 1), 0, "3 slots needed, 2 posted");
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "no response");
	TEST_ASSERT_EQUAL(g.q->guest_rx.req_cons, 0, "nothing consumed");
	tg_rx_post(&g, 1);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 1), 1, "3 posted now");
	return check_guest_pkt(data, 9000);
}

static int
test_tx_stops_when_full(void)
{
	struct rte_mbuf *m[5];
	unsigned int i;

	for (i = 0; i < 5; i++) {
		tg_fill(data, 200, (uint8_t)i);
		m[i] = tg_mbuf(tg_pool(), data, 200);
		TEST_ASSERT_NOT_NULL(m[i], "mbuf");
	}
	tg_rx_post(&g, 3);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 5), 3, "3 buffers, 3 frames");
	for (i = 0; i < 3; i++) {
		tg_fill(data, 200, (uint8_t)i);
		if (check_guest_pkt(data, 200) != TEST_SUCCESS)
			return TEST_FAILED;
	}
	tg_rx_post(&g, 8);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m + 3, 2), 2, "the other two");
	for (i = 3; i < 5; i++) {
		tg_fill(data, 200, (uint8_t)i);
		if (check_guest_pkt(data, 200) != TEST_SUCCESS)
			return TEST_FAILED;
	}
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/* Without feature-sg a frame must fit one page: larger ones are dropped. */
static int
test_tx_no_sg(void)
{
	struct rte_mbuf *m[3];

	tg_fill(data, 9000, 1);
	m[0] = tg_mbuf(tg_pool(), data, 4097);
	m[1] = tg_mbuf(tg_pool(), data, 4096);
	m[2] = tg_mbuf(tg_pool(), data, 9000);
	TEST_ASSERT(m[0] != NULL && m[1] != NULL && m[2] != NULL, "mbufs");
	tg_rx_post(&g, 8);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 3), 3, "all consumed");
	if (check_guest_pkt(data, 4096) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "the other two dropped");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, 2, "errors");
	TEST_ASSERT_EQUAL(g.q->tx.stats.packets, 1, "packets");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "dropped mbufs were not freed");
	return TEST_SUCCESS;
}

static int
test_tx_too_large(void)
{
	struct rte_mbuf *m[2];

	tg_fill(data, XNB_MAX_FRAME + 1, 2);
	m[0] = tg_mbuf(tg_small_pool(), data, XNB_MAX_FRAME + 1);
	m[1] = tg_mbuf(tg_pool(), data, 100);
	TEST_ASSERT(m[0] != NULL && m[1] != NULL, "mbufs");
	tg_rx_post(&g, 20);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 2), 2, "both consumed");
	if (check_guest_pkt(data, 100) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "the 64 KiB frame dropped");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, 1, "errors");
	TEST_ASSERT_EQUAL(tg_in_use(tg_small_pool()), 0, "dropped mbufs were not freed");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "sent mbufs were not freed");
	return TEST_SUCCESS;
}

/* The guest takes a buffer's grant back: that slot fails, no other. */
static int
test_tx_revoked_grant(void)
{
	netif_rx_response_t rsp[4];
	struct rte_mbuf *m[3];
	unsigned int i, b;

	for (i = 0; i < 3; i++) {
		tg_fill(data, 300, (uint8_t)i);
		m[i] = tg_mbuf(tg_pool(), data, 300);
		TEST_ASSERT_NOT_NULL(m[i], "mbuf");
	}
	b = g.next_rx_buf + 1;
	tg_rx_post(&g, 3);
	TEST_ASSERT_SUCCESS(xensim_grant_end(g.dom, g.rx_buf_ref[b]), "revoke");
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 3), 3, "all consumed");
	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, 4), 3, "a response each");
	TEST_ASSERT_EQUAL(rsp[0].status, 300, "first");
	TEST_ASSERT_EQUAL(rsp[1].id, b, "second's id");
	TEST_ASSERT_EQUAL(rsp[1].status, NETIF_RSP_ERROR, "second: revoked");
	TEST_ASSERT_EQUAL(rsp[2].status, 300, "third");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, 1, "errors");
	TEST_ASSERT_EQUAL(g.q->tx.stats.packets, 2, "packets");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_calls, 1, "one copy call");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/* A bad slot in a multi-slot frame: that slot says ERROR, the others bytes. */
static int
test_tx_bad_gref_mid_packet(void)
{
	netif_rx_response_t rsp[4];
	struct rte_mbuf *m;

	tg_fill(data, 9000, 9);
	m = tg_mbuf(tg_pool(), data, 9000);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	tg_rx_req(&g, 1, g.rx_buf_ref[1]);
	tg_rx_req(&g, 2, TG_BAD_REF);
	tg_rx_req(&g, 3, g.rx_buf_ref[3]);
	tg_rx_push(&g);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "consumed");
	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, 4), 3, "three slots");
	TEST_ASSERT_EQUAL(rsp[0].status, 4096, "slot 0");
	TEST_ASSERT_EQUAL(rsp[1].status, NETIF_RSP_ERROR, "slot 1");
	TEST_ASSERT_EQUAL(rsp[1].flags, NETRXF_more_data, "slot 1 flags");
	TEST_ASSERT_EQUAL(rsp[2].status, 808, "slot 2");
	TEST_ASSERT_EQUAL(rsp[2].flags, 0, "slot 2 flags");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, 1, "errors");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/*
 * The copy call itself fails: every slot of the batch says ERROR and the
 * queue stops (the hostile suite has more).
 */
static int
test_tx_copy_call_fails(void)
{
	netif_rx_response_t rsp[8];
	struct rte_mbuf *m[2];
	unsigned int i;

	tg_fill(data, 5000, 1);
	m[0] = tg_mbuf(tg_pool(), data, 5000);
	m[1] = tg_mbuf(tg_pool(), data, 60);
	TEST_ASSERT(m[0] != NULL && m[1] != NULL, "mbufs");
	tg_rx_post(&g, 3);
	tg_fail_copy(&g, -EIO);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 2), 2, "consumed");
	tg_fail_copy(&g, 0);
	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, 8), 3, "a response per slot");
	for (i = 0; i < 3; i++)
		TEST_ASSERT_EQUAL(rsp[i].status, NETIF_RSP_ERROR, "slot %u", i);
	TEST_ASSERT_EQUAL(rsp[0].flags, NETRXF_more_data, "the chain stays whole");
	TEST_ASSERT_EQUAL(rsp[1].flags, 0, "its end");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, 2, "errors");
	TEST_ASSERT_EQUAL(g.q->tx.stats.packets, 0, "packets");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_calls, 1, "one copy call");
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_COPY, "fatal");
	TEST_ASSERT_EQUAL(g.fatal_calls, 1, "on_fatal");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

static int
test_tx_one_copy_call_per_burst(void)
{
	struct rte_mbuf *m[XNB_MAX_BURST];
	unsigned int i;

	for (i = 0; i < 32; i++) {
		tg_fill(data, 64, (uint8_t)i);
		m[i] = tg_mbuf(tg_pool(), data, 64);
		TEST_ASSERT_NOT_NULL(m[i], "mbuf");
	}
	tg_rx_post(&g, 32);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 32), 32, "sent");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_calls, 1, "one copy call");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_segs, 32, "a segment each");
	for (i = 0; i < 32; i++) {
		tg_fill(data, 64, (uint8_t)i);
		if (check_guest_pkt(data, 64) != TEST_SUCCESS)
			return TEST_FAILED;
	}

	/* 20 frames of 9000 B in 5 mbufs: 100 segments, still one call. */
	for (i = 0; i < 20; i++) {
		tg_fill(data, 9000, (uint8_t)i);
		m[i] = tg_mbuf(tg_pool(), data, 9000);
		TEST_ASSERT_NOT_NULL(m[i], "mbuf");
	}
	tg_rx_post(&g, 60);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 20), 20, "sent");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_calls, 2, "one more copy call");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_segs, 132, "5 segments each");
	for (i = 0; i < 20; i++) {
		tg_fill(data, 9000, (uint8_t)i);
		if (check_guest_pkt(data, 9000) != TEST_SUCCESS)
			return TEST_FAILED;
	}
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/* More segments than one batch holds: flushed early, every slot right. */
static int
test_tx_copy_batch_flush(void)
{
	netif_rx_response_t rsp[XNB_RX_RING_SIZE];
	struct rte_mbuf *m[XNB_MAX_BURST];
	unsigned int i, n = 30;

	for (i = 0; i < n; i++) {
		tg_fill(data, 9000, (uint8_t)i);
		m[i] = tg_mbuf(tg_small_pool(), data, 9000);
		TEST_ASSERT_NOT_NULL(m[i], "mbuf");
	}
	/* 90 slots on 64 pages: the data is not checked, the slots are. */
	tg_rx_post(&g, 3 * n);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, (uint16_t)n), n, "sent");
	/* 18 mbufs each (worst case 20 segments): 25 frames, then 5. */
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_calls, 2, "copy calls");
	TEST_ASSERT_EQUAL(g.q->tx.stats.copy_segs, 18 * n, "segments");
	TEST_ASSERT_EQUAL(tg_rx_rsps(&g, rsp, RTE_DIM(rsp)), 3 * n, "responses");
	for (i = 0; i < 3 * n; i++)
		TEST_ASSERT_EQUAL(rsp[i].status, i % 3 == 2 ? 808 : 4096, "slot %u", i);
	TEST_ASSERT_EQUAL(g.q->tx.stats.packets, n, "packets");
	TEST_ASSERT_EQUAL(tg_in_use(tg_small_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

/* Many frames of many sizes through wrapping indices. */
static int
tx_stream(void)
{
	struct rte_mbuf *m[8];
	uint32_t len[8], slots;
	unsigned int i, k, sent = 0;

	while (sent < 300) {
		slots = 0;
		for (k = 0; k < 8; k++) {
			len[k] = 14 + ((sent + k) * 1021) % 12000;
			slots += slots_for(len[k]);
			tg_fill(data, len[k], (uint8_t)(sent + k));
			m[k] = tg_mbuf((sent + k) % 2 ? tg_pool() : tg_small_pool(), data,
				len[k]);
			TEST_ASSERT_NOT_NULL(m[k], "mbuf");
		}
		tg_rx_post(&g, slots);
		TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 8), 8, "burst at %u", sent);
		for (k = 0; k < 8; k++) {
			tg_fill(data, len[k], (uint8_t)(sent + k));
			if (check_guest_pkt(data, len[k]) != TEST_SUCCESS)
				return TEST_FAILED;
		}
		sent += 8;
	}
	TEST_ASSERT_EQUAL(g.q->tx.stats.packets, sent, "packets");
	TEST_ASSERT_EQUAL(g.q->guest_rx.req_cons, g.rx.req_prod_pvt, "all consumed");
	for (i = 0; i < 2; i++)
		TEST_ASSERT_EQUAL(tg_in_use(i ? tg_pool() : tg_small_pool()), 0, "leak");
	return TEST_SUCCESS;
}

/* guest-tx -> rx burst -> tx burst -> guest-rx, byte-exact. */
static int
test_tx_round_trip(void)
{
	uint16_t sizes[] = { 1514, 4096, 3390 };
	struct rte_mbuf *m[4];
	uint16_t nb;

	tg_fill(data, 9000, 99);
	tg_tx_pkt(&g, data, sizes, 3, 0);
	tg_tx_push(&g);
	tg_tx_pkt(&g, data, sizes, 1, 0);
	tg_tx_push(&g);
	g.q->rx.mb_pool = tg_small_pool();
	nb = xnb_rx_burst(&g.q->rx, m, 4);
	TEST_ASSERT_EQUAL(nb, 2, "received");
	tg_rx_post(&g, 4);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, nb), 2, "sent back");
	if (check_guest_pkt(data, 9000) != TEST_SUCCESS ||
			check_guest_pkt(data, 1514) != TEST_SUCCESS)
		return TEST_FAILED;
	TEST_ASSERT_EQUAL(tg_in_use(tg_small_pool()), 0, "mbufs leaked");
	return TEST_SUCCESS;
}

static int
test_tx_notify(void)
{
	struct rte_mbuf *m;

	tg_events(&g);
	g.rx_sring->rsp_event = g.rx.rsp_cons + 1;
	tg_fill(data, 64, 1);
	m = tg_mbuf(tg_pool(), data, 64);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	tg_rx_post(&g, 1);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "sent");
	TEST_ASSERT_EQUAL(tg_events(&g), 1, "notified");
	if (check_guest_pkt(data, 64) != TEST_SUCCESS)
		return TEST_FAILED;

	g.rx_sring->rsp_event = g.rx.rsp_cons + 5;
	m = tg_mbuf(tg_pool(), data, 64);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	tg_rx_post(&g, 1);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "sent");
	TEST_ASSERT_EQUAL(tg_events(&g), 0, "not before rsp_event");
	return check_guest_pkt(data, 64);
}

static int
test_tx_wrap_2_32(void)
{
	return tx_stream();
}

static int
test_tx_wrap_ring_size(void)
{
	return tx_stream();
}

static int
tx_suite_setup(void)
{
	if (tg_pool() == NULL || tg_small_pool() == NULL)
		return TEST_FAILED;
	return TEST_SUCCESS;
}

static struct unit_test_suite tx_suite = {
	.suite_name = "tx",
	.setup = tx_suite_setup,
	.unit_test_cases = {
		TEST_CASE_ST(setup_zero, teardown, test_tx_short),
		TEST_CASE_ST(setup_zero, teardown, test_tx_multi_segment),
		TEST_CASE_ST(setup_zero, teardown, test_tx_9000),
		TEST_CASE_ST(setup_zero, teardown, test_tx_9000_odd_segments),
		TEST_CASE_ST(setup_zero, teardown, test_tx_64k_minus_1),
		TEST_CASE_ST(setup_zero, teardown, test_tx_no_buffers),
		TEST_CASE_ST(setup_zero, teardown, test_tx_not_enough_slots),
		TEST_CASE_ST(setup_zero, teardown, test_tx_stops_when_full),
		TEST_CASE_ST(setup_zero, teardown, test_tx_xdp_headroom),
		TEST_CASE_ST(setup_zero, teardown, test_tx_drain_then_stall),
		TEST_CASE_ST(setup_zero, teardown, test_tx_stall_cleared_by_burst),
		TEST_CASE_ST(setup_zero, teardown, test_tx_stall_with_filtered),
		TEST_CASE_ST(setup_zero, teardown, test_tx_drain_without_rx_notify),
		TEST_CASE_ST(setup_no_sg, teardown, test_tx_no_sg),
		TEST_CASE_ST(setup_zero, teardown, test_tx_too_large),
		TEST_CASE_ST(setup_zero, teardown, test_tx_revoked_grant),
		TEST_CASE_ST(setup_zero, teardown, test_tx_bad_gref_mid_packet),
		TEST_CASE_ST(setup_zero, teardown, test_tx_copy_call_fails),
		TEST_CASE_ST(setup_zero, teardown, test_tx_one_copy_call_per_burst),
		TEST_CASE_ST(setup_zero, teardown, test_tx_copy_batch_flush),
		TEST_CASE_ST(setup_wrap32, teardown, test_tx_wrap_2_32),
		TEST_CASE_ST(setup_wrap_ring, teardown, test_tx_wrap_ring_size),
		TEST_CASE_ST(setup_zero, teardown, test_tx_round_trip),
		TEST_CASE_ST(setup_zero, teardown, test_tx_notify),
		TEST_CASES_END()
	}
};

REGISTER_TEST_SUITE(tx_suite);
