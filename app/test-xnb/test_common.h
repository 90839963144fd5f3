/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The "test guest" of the datapath suites (rx, tx, hostile): a simulated
 * domain with the frontend's two rings in its own pages, granted to dom0,
 * an event channel and buffer pages; and an xnb_queue connected to it
 * through the real sim ops table and xnb_queue_connect(), so the suites
 * run the production code path. The helpers write requests the way a
 * frontend does (or any way a hostile one likes) and read the responses.
 */

#ifndef XNB_TEST_COMMON_H
#define XNB_TEST_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "xnb_private.h"
#include "xnb_rxtx.h"
#include "xensim.h"

/* The simulated guest's domid. */
#define TG_DOMID 7
/* Buffer pages for guest-tx data and for guest-rx buffers. */
#define TG_NR_TX_BUFS 128
#define TG_NR_RX_BUFS 64
/* Guest pages: two ring pages, then the buffers. */
#define TG_TX_RING_PFN 0
#define TG_RX_RING_PFN 1
#define TG_TX_BUF_PFN 2
#define TG_RX_BUF_PFN (TG_TX_BUF_PFN + TG_NR_TX_BUFS)
#define TG_NR_PAGES (TG_RX_BUF_PFN + TG_NR_RX_BUFS)
#define TG_NR_GRANTS 512
/* A grant ref no entry of the table has (out of range). */
#define TG_BAD_REF 100000u

struct test_guest {
	char dir[64];
	struct xensim_dom *dom;
	struct xensim_evtchn *evtchn;
	int port;                  /* the guest's unbound port */

	netif_tx_sring_t *tx_sring;
	netif_rx_sring_t *rx_sring;
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	uint32_t tx_ring_ref;
	uint32_t rx_ring_ref;
	uint32_t tx_buf_ref[TG_NR_TX_BUFS];
	uint32_t rx_buf_ref[TG_NR_RX_BUFS];
	unsigned int next_tx_buf;  /* round robin over the tx buffers */
	unsigned int next_rx_buf;
	uint16_t next_id;

	/* The backend side, as the driver makes it. */
	struct xnb_host *host;
	struct xnb_xen *xen;
	struct xnb_queue *q;
	unsigned int fatal_calls;  /* q->on_fatal calls */
};

/* Mbuf pools shared by the suites (created on first use). */
struct rte_mempool *tg_pool(void);        /* default data room */
struct rte_mempool *tg_small_pool(void);  /* 512 B data room: chains */
/* Mbufs of mp taken and not returned (leak checks). */
unsigned int tg_in_use(struct rte_mempool *mp);

/*
 * Create the guest: domain, rings (indices starting at tx_start and
 * rx_start, both sides: an empty ring whose counters have run), grants,
 * event channel; and open the backend's sim platform. Not connected yet.
 */
int tg_init(struct test_guest *g, RING_IDX tx_start, RING_IDX rx_start);
/* The queue keys a well-behaved frontend writes (sg: feature-sg). */
void tg_conf(struct test_guest *g, struct xnb_queue_conf *conf, bool sg);
/* Connect the queue (xnb_queue_connect()) with tg_conf(); its result. */
int tg_connect(struct test_guest *g, bool sg);
/* Both: the common case. */
int tg_create(struct test_guest *g, RING_IDX tx_start, RING_IDX rx_start);
/* Disconnect, close, destroy the domain, remove the directory. */
void tg_destroy(struct test_guest *g);

/* The guest's view of a buffer page. */
uint8_t *tg_tx_buf(struct test_guest *g, unsigned int i);
uint8_t *tg_rx_buf(struct test_guest *g, unsigned int i);

/* --- guest-tx ring (our rx) --- */

/* Write one raw request at req_prod_pvt (not yet pushed). */
void tg_tx_req(struct test_guest *g, uint32_t gref, uint16_t offset, uint16_t flags,
		uint16_t id, uint16_t size);
/* Write one raw extra-info slot at req_prod_pvt. */
void tg_tx_extra(struct test_guest *g, const netif_extra_info_t *e);
/* Publish the requests written so far (req_prod = req_prod_pvt). */
void tg_tx_push(struct test_guest *g);
/*
 * Write a well-formed packet of len bytes of data, split into nslots
 * slots of the given sizes (sizes[0] is the first slot's own bytes; the
 * first request carries the total), each slot in its own tx buffer page
 * at offset off. Not pushed. Returns the first slot's id.
 */
uint16_t tg_tx_pkt(struct test_guest *g, const uint8_t *data, const uint16_t *sizes,
		unsigned int nslots, uint16_t off);
/* One-slot packet of len bytes filled with pattern seed, pushed. */
uint16_t tg_tx_simple(struct test_guest *g, uint16_t len, uint8_t seed);
/* Responses pushed and not yet taken. */
unsigned int tg_tx_pending(struct test_guest *g);
/* Take the responses the backend pushed: how many (up to max). */
unsigned int tg_tx_rsps(struct test_guest *g, netif_tx_response_t *rsp, unsigned int max);

/* --- guest-rx ring (our tx) --- */

/* Post n empty buffers (each its own rx buffer page), pushed. */
void tg_rx_post(struct test_guest *g, unsigned int n);
/* Post one raw request. Not pushed. */
void tg_rx_req(struct test_guest *g, uint16_t id, uint32_t gref);
void tg_rx_push(struct test_guest *g);
unsigned int tg_rx_pending(struct test_guest *g);
/* Take the responses the backend pushed: how many (up to max). */
unsigned int tg_rx_rsps(struct test_guest *g, netif_rx_response_t *rsp, unsigned int max);
/*
 * Gather the packet of responses rsp[0..n) (more_data chain) into out:
 * its length, or -1 when a slot failed or the chain is malformed. *used
 * says how many responses it took.
 */
int tg_rx_gather(struct test_guest *g, const netif_rx_response_t *rsp, unsigned int n,
		uint8_t *out, size_t max, unsigned int *used);

/* --- misc --- */

/* Notifications the guest received since the last call. */
unsigned int tg_events(struct test_guest *g);
/* Deterministic test bytes. */
void tg_fill(uint8_t *buf, size_t len, uint8_t seed);
/* An mbuf chain from mp holding data (len bytes), or NULL. */
struct rte_mbuf *tg_mbuf(struct rte_mempool *mp, const uint8_t *data, uint32_t len);
/* Copy an mbuf chain's data to out; its length (pkt_len), -1 if inconsistent. */
int tg_mbuf_read(const struct rte_mbuf *m, uint8_t *out, size_t max);

/* --- faults and the log --- */

/*
 * From now on every copy call of g's queue fails as a whole with err
 * (-errno), as a refused gntdev ioctl does; err 0 gives the queue the
 * sim platform's copy back.
 */
void tg_fail_copy(struct test_guest *g, int err);
/* Copy calls failed by tg_fail_copy() since the process started. */
unsigned int tg_failed_copies(void);

/* The log captured in memory (rte_openlog_stream()). */
struct tg_log {
	FILE *f;
	char *buf;
	size_t len;
	int level;                 /* pmd.net.xnb's level before the capture */
};

/*
 * Capture the log from here, with pmd.net.xnb's lines kept from level
 * (RTE_LOG_*) up in severity. 0, or -1 if the stream cannot be opened.
 */
int tg_log_start(struct tg_log *l, uint32_t level);
/* Stop capturing: the lines captured, in l->buf until tg_log_free(). */
unsigned int tg_log_stop(struct tg_log *l);
void tg_log_free(struct tg_log *l);

#endif /* XNB_TEST_COMMON_H */
