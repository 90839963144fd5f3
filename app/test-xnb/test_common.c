/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The test guest of the datapath suites: see test_common.h.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "test_common.h"
#include "xnb_logs.h"

#define TG_POOL_SIZE 8191
#define TG_SMALL_POOL_SIZE 4095
#define TG_SMALL_ROOM 512

static struct rte_mempool *pool, *small_pool;

struct rte_mempool *
tg_pool(void)
{
	if (pool == NULL) {
		pool = rte_pktmbuf_pool_create("tg_pool", TG_POOL_SIZE, 32, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
		if (pool == NULL)
			fprintf(stderr, "    cannot create the mbuf pool: %s\n",
				rte_strerror(rte_errno));
	}
	return pool;
}

struct rte_mempool *
tg_small_pool(void)
{
	if (small_pool == NULL) {
		small_pool = rte_pktmbuf_pool_create("tg_small_pool", TG_SMALL_POOL_SIZE, 0,
			0, RTE_PKTMBUF_HEADROOM + TG_SMALL_ROOM, rte_socket_id());
		if (small_pool == NULL)
			fprintf(stderr, "    cannot create the small mbuf pool: %s\n",
				rte_strerror(rte_errno));
	}
	return small_pool;
}

unsigned int
tg_in_use(struct rte_mempool *mp)
{
	return rte_mempool_in_use_count(mp);
}

void
tg_fill(uint8_t *buf, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

uint8_t *
tg_tx_buf(struct test_guest *g, unsigned int i)
{
	return xensim_dom_page(g->dom, TG_TX_BUF_PFN + i);
}

uint8_t *
tg_rx_buf(struct test_guest *g, unsigned int i)
{
	return xensim_dom_page(g->dom, TG_RX_BUF_PFN + i);
}

static void
tg_on_fatal(struct xnb_queue *q, void *arg)
{
	struct test_guest *g = arg;

	RTE_SET_USED(q);
	g->fatal_calls++;
}

int
tg_init(struct test_guest *g, RING_IDX tx_start, RING_IDX rx_start)
{
	struct xnb_host_params params;
	unsigned int i;
	int ret;

	memset(g, 0, sizeof(*g));
	g->port = -1;
	snprintf(g->dir, sizeof(g->dir), "/tmp/xnb-test-XXXXXX");
	if (mkdtemp(g->dir) == NULL) {
		fprintf(stderr, "    mkdtemp %s: %s\n", g->dir, strerror(errno));
		g->dir[0] = '\0';
		return -1;
	}
	g->dom = xensim_dom_create(g->dir, TG_DOMID, TG_NR_PAGES, TG_NR_GRANTS);
	if (g->dom == NULL) {
		fprintf(stderr, "    xensim_dom_create: %s\n", strerror(errno));
		goto fail;
	}

	/* The rings: empty, their counters at the start indices. */
	g->tx_sring = xensim_dom_page(g->dom, TG_TX_RING_PFN);
	g->rx_sring = xensim_dom_page(g->dom, TG_RX_RING_PFN);
	SHARED_RING_INIT(g->tx_sring);
	SHARED_RING_INIT(g->rx_sring);
	g->tx_sring->req_prod = g->tx_sring->rsp_prod = tx_start;
	g->tx_sring->rsp_event = tx_start + 1;
	g->rx_sring->req_prod = g->rx_sring->rsp_prod = rx_start;
	g->rx_sring->rsp_event = rx_start + 1;
	FRONT_RING_ATTACH(&g->tx, g->tx_sring, tx_start, XNB_PAGE_SIZE);
	FRONT_RING_ATTACH(&g->rx, g->rx_sring, rx_start, XNB_PAGE_SIZE);

	ret = xensim_grant_access(g->dom, XENSIM_BACKEND_DOMID, TG_TX_RING_PFN, false);
	if (ret < 0)
		goto grant_fail;
	g->tx_ring_ref = (uint32_t)ret;
	ret = xensim_grant_access(g->dom, XENSIM_BACKEND_DOMID, TG_RX_RING_PFN, false);
	if (ret < 0)
		goto grant_fail;
	g->rx_ring_ref = (uint32_t)ret;
	for (i = 0; i < TG_NR_TX_BUFS; i++) {
		/* The backend only reads guest-tx buffers: read-only grants. */
		ret = xensim_grant_access(g->dom, XENSIM_BACKEND_DOMID, TG_TX_BUF_PFN + i,
			true);
		if (ret < 0)
			goto grant_fail;
		g->tx_buf_ref[i] = (uint32_t)ret;
	}
	for (i = 0; i < TG_NR_RX_BUFS; i++) {
		ret = xensim_grant_access(g->dom, XENSIM_BACKEND_DOMID, TG_RX_BUF_PFN + i,
			false);
		if (ret < 0)
			goto grant_fail;
		g->rx_buf_ref[i] = (uint32_t)ret;
	}

	g->evtchn = xensim_evtchn_open(g->dom, TG_DOMID);
	if (g->evtchn == NULL) {
		fprintf(stderr, "    xensim_evtchn_open: %s\n", strerror(errno));
		goto fail;
	}
	g->port = xensim_evtchn_alloc_unbound(g->evtchn, XENSIM_BACKEND_DOMID);
	if (g->port < 0) {
		fprintf(stderr, "    xensim_evtchn_alloc_unbound: %s\n", strerror(-g->port));
		goto fail;
	}

	/* The backend: the driver's own sim platform ops. */
	params.sim_dir = g->dir;
	ret = xnb_xen_sim_ops.host_open(&g->host, &params);
	if (ret == 0)
		ret = xnb_xen_sim_ops.guest_open(g->host, TG_DOMID, &g->xen);
	if (ret != 0) {
		fprintf(stderr, "    xnb_xen_sim_ops host_open/guest_open: %s\n", strerror(-ret));
		g->xen = NULL;
		goto fail;
	}
	g->q = rte_zmalloc("tg_queue", sizeof(*g->q), RTE_CACHE_LINE_SIZE);
	if (g->q == NULL) {
		fprintf(stderr, "    rte_zmalloc of the queue failed\n");
		goto fail;
	}
	xnb_queue_init(g->q, &xnb_xen_sim_ops, g->xen, TG_DOMID, 0);
	g->q->rx.mb_pool = tg_pool();
	g->q->rx.scatter = true;
	if (g->q->rx.mb_pool == NULL)
		goto fail;
	g->q->on_fatal = tg_on_fatal;
	g->q->on_fatal_arg = g;
	return 0;

grant_fail:
	fprintf(stderr, "    xensim_grant_access: %s\n", strerror(-ret));
fail:
	tg_destroy(g);
	return -1;
}

void
tg_conf(struct test_guest *g, struct xnb_queue_conf *conf, bool sg)
{
	memset(conf, 0, sizeof(*conf));
	conf->tx_ring_ref = g->tx_ring_ref;
	conf->rx_ring_ref = g->rx_ring_ref;
	conf->evtchn = (uint32_t)g->port;
	conf->feat.sg = sg;
	conf->feat.rx_notify = true;
	conf->feat.rx_copy = true;
}

int
tg_connect(struct test_guest *g, bool sg)
{
	struct xnb_queue_conf conf;

	tg_conf(g, &conf, sg);
	return xnb_queue_connect(g->q, &conf);
}

int
tg_create(struct test_guest *g, RING_IDX tx_start, RING_IDX rx_start)
{
	int ret;

	if (tg_init(g, tx_start, rx_start) != 0)
		return -1;
	ret = tg_connect(g, true);
	if (ret != 0) {
		fprintf(stderr, "    xnb_queue_connect: %s\n", strerror(-ret));
		tg_destroy(g);
		return -1;
	}
	return 0;
}

void
tg_destroy(struct test_guest *g)
{
	if (g->q != NULL) {
		xnb_queue_disconnect(g->q);
		xnb_intr_close(g->q);
		rte_free(g->q);
		g->q = NULL;
	}
	if (g->xen != NULL) {
		xnb_xen_sim_ops.guest_close(g->xen);
		g->xen = NULL;
	}
	if (g->host != NULL) {
		xnb_xen_sim_ops.host_close(g->host);
		g->host = NULL;
	}
	if (g->evtchn != NULL) {
		xensim_evtchn_close(g->evtchn);
		g->evtchn = NULL;
	}
	if (g->dom != NULL) {
		xensim_dom_close(g->dom);
		g->dom = NULL;
	}
	if (g->dir[0] != '\0') {
		xensim_dom_destroy(g->dir, TG_DOMID);
		if (rmdir(g->dir) != 0)
			fprintf(stderr, "    rmdir %s: %s\n", g->dir, strerror(errno));
		g->dir[0] = '\0';
	}
}

/* --- guest-tx ring --- */

void
tg_tx_req(struct test_guest *g, uint32_t gref, uint16_t offset, uint16_t flags,
		uint16_t id, uint16_t size)
{
	netif_tx_request_t *req = RING_GET_REQUEST(&g->tx, g->tx.req_prod_pvt);

	req->gref = gref;
	req->offset = offset;
	req->flags = flags;
	req->id = id;
	req->size = size;
	g->tx.req_prod_pvt++;
}

void
tg_tx_extra(struct test_guest *g, const netif_extra_info_t *e)
{
	void *slot = RING_GET_REQUEST(&g->tx, g->tx.req_prod_pvt);

	memset(slot, 0, sizeof(netif_tx_request_t));
	memcpy(slot, e, sizeof(*e));
	g->tx.req_prod_pvt++;
}

void
tg_tx_push(struct test_guest *g)
{
	RING_PUSH_REQUESTS(&g->tx);
}

uint16_t
tg_tx_pkt(struct test_guest *g, const uint8_t *data, const uint16_t *sizes,
		unsigned int nslots, uint16_t off)
{
	unsigned int i, b, total = 0, pos = 0;
	uint16_t id0 = g->next_id;

	for (i = 0; i < nslots; i++)
		total += sizes[i];
	for (i = 0; i < nslots; i++) {
		b = g->next_tx_buf++ % TG_NR_TX_BUFS;
		memcpy(tg_tx_buf(g, b) + off, data + pos, sizes[i]);
		pos += sizes[i];
		tg_tx_req(g, g->tx_buf_ref[b], off,
			i + 1 < nslots ? NETTXF_more_data : 0, g->next_id++,
			i == 0 ? (uint16_t)total : sizes[i]);
	}
	return id0;
}

uint16_t
tg_tx_simple(struct test_guest *g, uint16_t len, uint8_t seed)
{
	uint8_t data[XNB_PAGE_SIZE];
	uint16_t id;

	tg_fill(data, len, seed);
	id = tg_tx_pkt(g, data, &len, 1, 0);
	tg_tx_push(g);
	return id;
}

unsigned int
tg_tx_pending(struct test_guest *g)
{
	return __atomic_load_n(&g->tx_sring->rsp_prod, __ATOMIC_ACQUIRE) - g->tx.rsp_cons;
}

unsigned int
tg_tx_rsps(struct test_guest *g, netif_tx_response_t *rsp, unsigned int max)
{
	RING_IDX prod = __atomic_load_n(&g->tx_sring->rsp_prod, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	while (g->tx.rsp_cons != prod && n < max) {
		RING_COPY_RESPONSE(&g->tx, g->tx.rsp_cons, &rsp[n]);
		g->tx.rsp_cons++;
		n++;
	}
	return n;
}

/* --- guest-rx ring --- */

void
tg_rx_req(struct test_guest *g, uint16_t id, uint32_t gref)
{
	netif_rx_request_t *req = RING_GET_REQUEST(&g->rx, g->rx.req_prod_pvt);

	req->id = id;
	req->pad = 0;
	req->gref = gref;
	g->rx.req_prod_pvt++;
}

void
tg_rx_push(struct test_guest *g)
{
	RING_PUSH_REQUESTS(&g->rx);
}

void
tg_rx_post(struct test_guest *g, unsigned int n)
{
	unsigned int i, b;

	for (i = 0; i < n; i++) {
		b = g->next_rx_buf++ % TG_NR_RX_BUFS;
		/* Poison, so a short copy shows. */
		memset(tg_rx_buf(g, b), 0xee, XNB_PAGE_SIZE);
		tg_rx_req(g, (uint16_t)b, g->rx_buf_ref[b]);
	}
	tg_rx_push(g);
}

unsigned int
tg_rx_pending(struct test_guest *g)
{
	return __atomic_load_n(&g->rx_sring->rsp_prod, __ATOMIC_ACQUIRE) - g->rx.rsp_cons;
}

unsigned int
tg_rx_rsps(struct test_guest *g, netif_rx_response_t *rsp, unsigned int max)
{
	RING_IDX prod = __atomic_load_n(&g->rx_sring->rsp_prod, __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	while (g->rx.rsp_cons != prod && n < max) {
		RING_COPY_RESPONSE(&g->rx, g->rx.rsp_cons, &rsp[n]);
		g->rx.rsp_cons++;
		n++;
	}
	return n;
}

int
tg_rx_gather(struct test_guest *g, const netif_rx_response_t *rsp, unsigned int n,
		uint8_t *out, size_t max, unsigned int *used)
{
	size_t len = 0;
	unsigned int i;
	bool bad = false;

	for (i = 0; i < n; i++) {
		if (rsp[i].status < 0 || rsp[i].id >= TG_NR_RX_BUFS ||
				rsp[i].offset + rsp[i].status > (int)XNB_PAGE_SIZE ||
				len + rsp[i].status > max) {
			bad = true;
		} else {
			memcpy(out + len, tg_rx_buf(g, rsp[i].id) + rsp[i].offset,
				rsp[i].status);
			len += rsp[i].status;
		}
		if ((rsp[i].flags & NETRXF_more_data) == 0)
			break;
	}
	if (i == n) {
		/* The chain did not end. */
		*used = n;
		return -1;
	}
	*used = i + 1;
	return bad ? -1 : (int)len;
}

/* --- misc --- */

unsigned int
tg_events(struct test_guest *g)
{
	unsigned int n = 0;

	while (xensim_evtchn_pending(g->evtchn) >= 0) {
		xensim_evtchn_unmask(g->evtchn, (uint32_t)g->port);
		n++;
	}
	return n;
}

struct rte_mbuf *
tg_mbuf(struct rte_mempool *mp, const uint8_t *data, uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL, *m;
	uint32_t pos = 0, room, n;

	do {
		m = rte_pktmbuf_alloc(mp);
		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		room = rte_pktmbuf_tailroom(m);
		n = RTE_MIN(room, len - pos);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), data + pos, n);
		m->data_len = (uint16_t)n;
		pos += n;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
		}
		tail = m;
	} while (pos < len);
	head->pkt_len = len;
	return head;
}

int
tg_mbuf_read(const struct rte_mbuf *m, uint8_t *out, size_t max)
{
	const struct rte_mbuf *s;
	uint32_t len = 0;
	uint16_t segs = 0;

	for (s = m; s != NULL; s = s->next) {
		if (len + s->data_len > max)
			return -1;
		memcpy(out + len, rte_pktmbuf_mtod(s, const uint8_t *), s->data_len);
		len += s->data_len;
		segs++;
	}
	if (len != m->pkt_len || segs != m->nb_segs)
		return -1;
	return (int)len;
}

/* --- faults and the log --- */

static struct xnb_xen_ops fail_ops;
static int fail_err;
static unsigned int fail_calls;

static int
tg_copy_fails(struct xnb_xen *x, uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
	RTE_SET_USED(x);
	RTE_SET_USED(count);
	RTE_SET_USED(segs);
	fail_calls++;
	return fail_err;
}

void
tg_fail_copy(struct test_guest *g, int err)
{
	if (err == 0) {
		g->q->ops = &xnb_xen_sim_ops;
		return;
	}
	fail_ops = xnb_xen_sim_ops;
	fail_ops.copy = tg_copy_fails;
	fail_err = err;
	g->q->ops = &fail_ops;
}

unsigned int
tg_failed_copies(void)
{
	return fail_calls;
}

int
tg_log_start(struct tg_log *l, uint32_t level)
{
	memset(l, 0, sizeof(*l));
	l->f = open_memstream(&l->buf, &l->len);
	if (l->f == NULL) {
		fprintf(stderr, "    open_memstream: %s\n", strerror(errno));
		return -1;
	}
	l->level = rte_log_get_level(xnb_logtype);
	rte_log_set_level(xnb_logtype, level);
	rte_openlog_stream(l->f);
	return 0;
}

unsigned int
tg_log_stop(struct tg_log *l)
{
	unsigned int n = 0;
	size_t i;

	/* Back to EAL's default stream (the suites set none of their own). */
	rte_openlog_stream(NULL);
	if (l->level >= 0)
		rte_log_set_level(xnb_logtype, (uint32_t)l->level);
	fclose(l->f);
	l->f = NULL;
	for (i = 0; i < l->len; i++)
		n += l->buf[i] == '\n';
	return n;
}

void
tg_log_free(struct tg_log *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = 0;
}
