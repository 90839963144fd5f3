/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * netfront's rings: grants and guest pages, event channel kicks, a
 * queue's setup and release (ring pages, tx buffers, every rx buffer
 * posted), sending frames on the guest-tx ring, reaping both rings'
 * responses and gathering received frames, and the counters.
 *
 * Ring names follow the guest here: "tx" is the guest-tx ring (what we
 * send), "rx" the guest-rx ring (what we receive). The backend is
 * untrusted: every response is copied off the ring before it is read.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netfront_offload.h"
#include "netfront_private.h"

static uint32_t
nf_rand(uint32_t *state)
{
	/* xorshift32: cheap, deterministic per seed. */
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/* --- Grants and pages --- */

void *
netfront_page(struct netfront *nf, uint32_t pfn)
{
	return xensim_dom_page(nf->dom, pfn);
}

int
netfront_grant(struct netfront *nf, uint32_t pfn, bool readonly)
{
	return xensim_grant_access(nf->dom, nf->conf.backend_domid, pfn, readonly);
}

int
netfront_ungrant(struct netfront *nf, uint32_t ref)
{
	return xensim_grant_end(nf->dom, ref);
}

static int
nf_notify_port(struct netfront_queue *q, int port)
{
	int ret;

	if (q->evtchn == NULL || port < 0)
		return -ENOTCONN;
	ret = xensim_evtchn_notify(q->evtchn, (uint32_t)port);
	if (ret == 0)
		q->stats.notifies++;
	return ret;
}

int
netfront_notify(struct netfront_queue *q)
{
	return nf_notify_port(q, q->port);
}

int
netfront_notify_rx(struct netfront_queue *q)
{
	return nf_notify_port(q, q->port_rx);
}

/*
 * Revoke a grant, giving the backend up to the timeout to drop a mapping.
 * A grant still mapped then stays granted (leaked), as Linux defers it.
 */
int
nf_ungrant_wait(struct netfront *nf, int32_t *ref, const char *what)
{
	uint64_t deadline;
	int ret;

	if (*ref <= 0)
		return 0;
	ret = netfront_ungrant(nf, (uint32_t)*ref);
	if (ret == -EBUSY) {
		deadline = nf_now_ms() + nf->conf.timeout_ms;
		while (ret == -EBUSY && nf_now_ms() < deadline) {
			usleep(1000);
			ret = netfront_ungrant(nf, (uint32_t)*ref);
		}
	}
	if (ret != 0)
		NF_ERR(nf, "cannot revoke grant %d of the %s: %s%s", *ref, what, strerror(-ret),
			ret == -EBUSY ? " (the backend still maps it; leaked)" : "");
	*ref = -1;
	return ret;
}

/* --- Queues --- */

static void
nf_rx_post(struct netfront_queue *q, uint16_t id)
{
	struct netfront_rx_buf *b = &q->rx_buf[id];
	netif_rx_request_t *req;
	int ref;

	ref = netfront_grant(q->nf, b->pfn, false);
	if (ref < 0) {
		/* Keep it aside; the next poll tries again. */
		q->rx_free[q->rx_nr_free++] = id;
		return;
	}
	b->gref = ref;
	req = RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt);
	req->id = id;
	req->pad = 0;
	req->gref = (grant_ref_t)ref;
	q->rx_posted[q->rx.req_prod_pvt & (NETFRONT_RX_RING_SIZE - 1)] = id;
	q->rx.req_prod_pvt++;
}

/* Post every buffer we hold back while the ring has room. */
static void
nf_rx_refill(struct netfront_queue *q)
{
	uint16_t n = q->rx_nr_free;
	uint16_t i;

	q->rx_nr_free = 0;
	for (i = 0; i < n; i++) {
		uint16_t id = q->rx_free[i];

		if (RING_FULL(&q->rx))
			q->rx_free[q->rx_nr_free++] = id;
		else
			nf_rx_post(q, id);
	}
}

static void
nf_stats_add(struct netfront_stats *s, const struct netfront_stats *a)
{
	s->tx_packets += a->tx_packets;
	s->tx_csum_blank += a->tx_csum_blank;
	s->tx_gso += a->tx_gso;
	s->tx_bytes += a->tx_bytes;
	s->tx_errors += a->tx_errors;
	s->tx_completed += a->tx_completed;
	s->rx_packets += a->rx_packets;
	s->rx_bytes += a->rx_bytes;
	s->rx_csum_blank += a->rx_csum_blank;
	s->rx_data_validated += a->rx_data_validated;
	s->rx_gso += a->rx_gso;
	s->rx_errors += a->rx_errors;
	s->proto_errors += a->proto_errors;
	s->notifies += a->notifies;
	s->events += a->events;
}

void
nf_queue_release(struct netfront_queue *q)
{
	struct netfront *nf = q->nf;
	unsigned int i;

	for (i = 0; i < NETFRONT_RX_RING_SIZE; i++)
		nf_ungrant_wait(nf, &q->rx_buf[i].gref, "rx buffer");
	for (i = 0; i < NETFRONT_TX_RING_SIZE; i++)
		nf_ungrant_wait(nf, &q->tx_slot[i].gref, "tx buffer");
	nf_ungrant_wait(nf, &q->tx_ring_ref, "tx ring");
	nf_ungrant_wait(nf, &q->rx_ring_ref, "rx ring");
	if (q->evtchn != NULL) {
		if (q->port_rx >= 0 && q->port_rx != q->port)
			xensim_evtchn_unbind(q->evtchn, (uint32_t)q->port_rx);
		if (q->port >= 0)
			xensim_evtchn_unbind(q->evtchn, (uint32_t)q->port);
		xensim_evtchn_close(q->evtchn);
	}
	q->evtchn = NULL;
	q->port = -1;
	q->port_rx = -1;
	free(q->asm_buf);
	q->asm_buf = NULL;
	nf_stats_add(&nf->stats_closed, &q->stats);
	memset(&q->stats, 0, sizeof(q->stats));
}

int
nf_queue_setup(struct netfront *nf, uint16_t qid)
{
	struct netfront_queue *q = &nf->q[qid];
	uint32_t base = nf->conf.pfn_base + (uint32_t)qid * NETFRONT_QUEUE_PAGES;
	netif_tx_sring_t *txs;
	netif_rx_sring_t *rxs;
	unsigned int i;
	int ret;

	memset(q, 0, sizeof(*q));
	q->nf = nf;
	q->id = qid;
	q->tx_ring_ref = -1;
	q->rx_ring_ref = -1;
	q->port = -1;
	q->port_rx = -1;
	q->rng = nf->conf.seed ^ (0x85ebca6bu * (qid + 1u));
	if (q->rng == 0)
		q->rng = 1;
	q->tx_ring_pfn = base;
	q->rx_ring_pfn = base + 1;
	q->rx_pfn_base = base + 2;
	q->tx_pfn_base = base + 2 + NETFRONT_RX_RING_SIZE;

	q->asm_buf = malloc(NETFRONT_MAX_FRAME);
	if (q->asm_buf == NULL)
		return -ENOMEM;

	txs = netfront_page(nf, q->tx_ring_pfn);
	rxs = netfront_page(nf, q->rx_ring_pfn);
	if (txs == NULL || rxs == NULL ||
			netfront_page(nf, q->tx_pfn_base + NETFRONT_TX_RING_SIZE - 1) == NULL) {
		NF_ERR(nf, "queue %u: guest memory too small (%u pages) for pages %u-%u",
			qid, xensim_dom_nr_pages(nf->dom), base, base + NETFRONT_QUEUE_PAGES - 1);
		ret = -ENOSPC;
		goto fail;
	}
	memset(txs, 0, XENSIM_PAGE_SIZE);
	memset(rxs, 0, XENSIM_PAGE_SIZE);
	SHARED_RING_INIT(txs);
	FRONT_RING_INIT(&q->tx, txs, XENSIM_PAGE_SIZE);
	SHARED_RING_INIT(rxs);
	FRONT_RING_INIT(&q->rx, rxs, XENSIM_PAGE_SIZE);

	ret = netfront_grant(nf, q->tx_ring_pfn, false);
	if (ret < 0)
		goto grant_fail;
	q->tx_ring_ref = ret;
	ret = netfront_grant(nf, q->rx_ring_pfn, false);
	if (ret < 0)
		goto grant_fail;
	q->rx_ring_ref = ret;

	q->evtchn = xensim_evtchn_open(nf->dom, nf->conf.domid);
	if (q->evtchn == NULL) {
		ret = -errno;
		NF_ERR(nf, "queue %u: cannot open an event channel handle: %s",
			qid, strerror(errno));
		goto fail;
	}
	ret = xensim_evtchn_alloc_unbound(q->evtchn, nf->conf.backend_domid);
	if (ret < 0) {
		NF_ERR(nf, "queue %u: cannot allocate an unbound port: %s", qid, strerror(-ret));
		goto fail;
	}
	q->port = ret;
	q->port_rx = ret;
	if (nf->be_split_evtchn && !nf->conf.no_split_evtchn) {
		ret = xensim_evtchn_alloc_unbound(q->evtchn, nf->conf.backend_domid);
		if (ret < 0) {
			NF_ERR(nf, "queue %u: cannot allocate the guest-rx ring's port: %s", qid,
				strerror(-ret));
			goto fail;
		}
		q->port_rx = ret;
	}

	for (i = 0; i < NETFRONT_TX_RING_SIZE; i++) {
		q->tx_slot[i].gref = -1;
		q->tx_free[i] = (uint16_t)(NETFRONT_TX_RING_SIZE - 1 - i);
	}
	q->tx_nr_free = NETFRONT_TX_RING_SIZE;

	/* Fill the whole guest-rx ring, as Linux does. */
	for (i = 0; i < NETFRONT_RX_RING_SIZE; i++) {
		q->rx_buf[i].gref = -1;
		q->rx_buf[i].pfn = q->rx_pfn_base + i;
	}
	for (i = 0; i < NETFRONT_RX_RING_SIZE; i++)
		nf_rx_post(q, (uint16_t)i);
	if (q->rx_nr_free != 0) {
		NF_ERR(nf, "queue %u: could not grant %u rx buffers", qid, q->rx_nr_free);
		ret = -ENOSPC;
		goto fail;
	}
	RING_PUSH_REQUESTS(&q->rx);
	return 0;

grant_fail:
	NF_ERR(nf, "queue %u: cannot grant a ring page: %s", qid, strerror(-ret));
fail:
	nf_queue_release(q);
	return ret;
}

/* --- Datapath: transmit --- */

struct nf_chunk {
	uint16_t off;
	uint16_t size;
};

/*
 * Lay len bytes out in slots, the first holding at least first_min bytes
 * (the Ethernet header; a GSO frame's headers, which Linux keeps in the
 * skb's linear part); the number of slots, or -EMSGSIZE.
 */
static int
nf_tx_layout(struct netfront_queue *q, uint32_t len, uint32_t first_min, struct nf_chunk *c)
{
	const uint32_t page = XENSIM_PAGE_SIZE;
	bool varied = q->nf->conf.tx_layout == NETFRONT_TX_VARIED;
	uint32_t off = 0, left = len, n = 0;

	if (varied) {
		uint32_t r = nf_rand(&q->rng);

		switch (r & 7) {
		case 0: case 1: case 2: case 3:
			off = 0;
			break;
		case 4:
			off = 2;               /* NET_IP_ALIGN */
			break;
		case 5:
			off = (r >> 8) % page;
			break;
		default:
			/* Near the page end: headers split across slots. */
			off = page - (NETFRONT_ETH_HLEN + (r >> 8) % 115);
			break;
		}
		/* The first slot holds the headers, as Linux ensures. */
		if (page - off < first_min)
			off = page - first_min;
		if (!q->nf->sg && off + len > page)
			off = 0;
	}
	if (!q->nf->sg && off + len > page)
		return -EMSGSIZE;

	c[n].off = (uint16_t)off;
	c[n].size = (uint16_t)(left < page - off ? left : page - off);
	left -= c[n].size;
	n++;
	while (left > 0) {
		uint32_t need = (left + page - 1) / page;

		if (n + need > NETFRONT_MAX_TX_SLOTS)
			return -EMSGSIZE;
		off = 0;
		/* A fragment anywhere in its page, while the slot budget allows. */
		if (varied && n + need + 1 <= NETFRONT_MAX_TX_SLOTS && (nf_rand(&q->rng) & 1))
			off = nf_rand(&q->rng) % page;
		c[n].off = (uint16_t)off;
		c[n].size = (uint16_t)(left < page - off ? left : page - off);
		left -= c[n].size;
		n++;
	}
	return (int)n;
}

/* Whether the metadata asks only for what was negotiated. */
static bool
nf_tx_meta_ok(const struct netfront *nf, const uint8_t *frame, uint32_t len,
		const struct netfront_tx_meta *meta)
{
	if ((meta->flags & ~(NETTXF_csum_blank | NETTXF_data_validated)) != 0)
		return false;
	if ((meta->flags & NETTXF_csum_blank) != 0) {
		if (!nf->tx_csum)
			return false;
		if (!nf->tx_csum_ipv6 && netfront_ip_version(frame, len) == 6)
			return false;
	}
	switch (meta->gso_type) {
	case XEN_NETIF_GSO_TYPE_NONE:
		return true;
	case XEN_NETIF_GSO_TYPE_TCPV4:
		return nf->tx_gso_tcpv4 && meta->gso_size != 0;
	case XEN_NETIF_GSO_TYPE_TCPV6:
		return nf->tx_gso_tcpv6 && meta->gso_size != 0;
	default:
		return false;
	}
}

int
netfront_queue_send_meta(struct netfront_queue *q, const void *frame, uint32_t len,
		const struct netfront_tx_meta *meta)
{
	struct netfront *nf = q->nf;
	struct nf_chunk c[NETFRONT_MAX_TX_SLOTS];
	uint16_t ids[NETFRONT_MAX_TX_SLOTS];
	int32_t refs[NETFRONT_MAX_TX_SLOTS];
	const uint8_t *data = frame;
	uint32_t done = 0, first_min;
	unsigned int extras = 0;
	struct netfront_l4 l4;
	int n, i, notify;

	if (!nf->connected || nf->backend_gone || q->broken)
		return -ENOTCONN;
	if (len < NETFRONT_ETH_HLEN || len > NETFRONT_MAX_FRAME)
		return len < NETFRONT_ETH_HLEN ? -EINVAL : -EMSGSIZE;
	if (meta != NULL) {
		if (!nf_tx_meta_ok(nf, frame, len, meta))
			return -EINVAL;
		extras = meta->gso_type != XEN_NETIF_GSO_TYPE_NONE;
	}
	first_min = NETFRONT_ETH_HLEN;
	if (extras != 0 && netfront_l4_parse(frame, len, &l4) == 0)
		first_min = (l4.l4_off + l4.l4_hlen < len ? l4.l4_off + l4.l4_hlen : len);
	n = nf_tx_layout(q, len, first_min, c);
	if (n < 0)
		return n;
	if (q->tx_nr_free < n || RING_FREE_REQUESTS(&q->tx) < (unsigned int)n + extras)
		return -EAGAIN;

	for (i = 0; i < n; i++) {
		uint16_t id = q->tx_free[q->tx_nr_free - 1 - i];
		uint8_t *page = netfront_page(nf, q->tx_pfn_base + id);
		int ref;

		memcpy(page + c[i].off, data + done, c[i].size);
		done += c[i].size;
		ref = netfront_grant(nf, q->tx_pfn_base + id, true);
		if (ref < 0) {
			while (i-- > 0)
				netfront_ungrant(nf, (uint32_t)refs[i]);
			return ref == -ENOSPC ? -EAGAIN : ref;
		}
		ids[i] = id;
		refs[i] = ref;
	}
	q->tx_nr_free -= n;

	for (i = 0; i < n; i++) {
		netif_tx_request_t *req = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);
		struct netfront_tx_slot *s = &q->tx_slot[ids[i]];

		s->gref = refs[i];
		s->head = ids[0];
		s->first = i == 0;
		s->err = false;
		s->pending = i == 0 ? (uint16_t)n : 0;
		req->gref = (grant_ref_t)refs[i];
		req->offset = c[i].off;
		req->flags = i + 1 < n ? NETTXF_more_data : 0;
		req->id = ids[i];
		/* The first slot carries the frame's size, the others their own. */
		req->size = i == 0 ? (uint16_t)len : c[i].size;
		q->tx.req_prod_pvt++;
		if (i == 0 && meta != NULL) {
			req->flags |= meta->flags;
			if (extras != 0) {
				/* The GSO slot right after the first request. */
				netif_extra_info_t *gso = (netif_extra_info_t *)
					RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);

				req->flags |= NETTXF_extra_info;
				memset(gso, 0, sizeof(netif_tx_request_t));
				gso->type = XEN_NETIF_EXTRA_TYPE_GSO;
				gso->flags = 0;
				gso->u.gso.size = meta->gso_size;
				gso->u.gso.type = meta->gso_type;
				gso->u.gso.pad = 0;
				gso->u.gso.features = 0;
				q->tx.req_prod_pvt++;
				q->tx_extras_due++;
			}
		}
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
	if (notify)
		netfront_notify(q);
	q->stats.tx_packets++;
	q->stats.tx_bytes += len;
	if (meta != NULL && (meta->flags & NETTXF_csum_blank) != 0)
		q->stats.tx_csum_blank++;
	if (extras != 0)
		q->stats.tx_gso++;
	return 0;
}

int
netfront_mcast(struct netfront *nf, bool add, const uint8_t *mac)
{
	struct netfront_queue *q = &nf->q[0];
	netif_extra_info_t *e;
	netif_tx_request_t *req;
	struct netfront_tx_slot *s;
	uint16_t id;
	int ref, notify;

	if (nf->nr_queues == 0 || !nf->connected || nf->backend_gone || q->broken)
		return -ENOTCONN;
	if (q->tx_nr_free == 0 || RING_FREE_REQUESTS(&q->tx) < 2)
		return -EAGAIN;
	/* A slot like any frame's (the backend reads none of it), as Windows' drivers post it. */
	id = q->tx_free[q->tx_nr_free - 1];
	ref = netfront_grant(nf, q->tx_pfn_base + id, true);
	if (ref < 0)
		return ref == -ENOSPC ? -EAGAIN : ref;
	q->tx_nr_free--;
	s = &q->tx_slot[id];
	s->gref = ref;
	s->head = id;
	s->first = true;
	s->err = false;
	s->pending = 1;
	req = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);
	req->gref = (grant_ref_t)ref;
	req->offset = 0;
	req->flags = NETTXF_extra_info;
	req->id = id;
	req->size = 0;
	q->tx.req_prod_pvt++;
	e = (netif_extra_info_t *)RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);
	memset(e, 0, sizeof(netif_tx_request_t));
	e->type = add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD : XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
	memcpy(e->u.mcast.addr, mac, sizeof(e->u.mcast.addr));
	q->tx.req_prod_pvt++;
	q->tx_extras_due++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
	if (notify)
		netfront_notify(q);
	return 0;
}

int
netfront_queue_send(struct netfront_queue *q, const void *frame, uint32_t len)
{
	return netfront_queue_send_meta(q, frame, len, NULL);
}

int
netfront_send_meta(struct netfront *nf, const void *frame, uint32_t len,
		const struct netfront_tx_meta *meta)
{
	if (nf->nr_queues == 0)
		return -ENOTCONN;
	return netfront_queue_send_meta(&nf->q[0], frame, len, meta);
}

int
netfront_send(struct netfront *nf, const void *frame, uint32_t len)
{
	if (nf->nr_queues == 0)
		return -ENOTCONN;
	return netfront_queue_send(&nf->q[0], frame, len);
}

static void
nf_proto_error(struct netfront_queue *q, const char *fmt, unsigned int a, unsigned int b)
{
	/* Say it the first few times; count it always. */
	if (q->stats.proto_errors < 10) {
		fprintf(stderr, "netfront dom%u vif%u q%u: backend protocol error: ",
			q->nf->conf.domid, q->nf->conf.handle, q->id);
		fprintf(stderr, fmt, a, b);
		fputc('\n', stderr);
	}
	q->stats.proto_errors++;
}

static int
nf_tx_reap(struct netfront_queue *q)
{
	RING_IDX prod, i;

	prod = __atomic_load_n(&q->tx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	if ((RING_IDX)(prod - q->tx.rsp_cons) > (RING_IDX)(q->tx.req_prod_pvt - q->tx.rsp_cons)) {
		nf_proto_error(q, "guest-tx rsp_prod %u beyond our requests (rsp_cons %u)",
			prod, q->tx.rsp_cons);
		q->broken = true;
		return -EPROTO;
	}
	for (i = q->tx.rsp_cons; i != prod; i++) {
		netif_tx_response_t rsp;
		struct netfront_tx_slot *s, *h;

		RING_COPY_RESPONSE(&q->tx, i, &rsp);
		q->tx.rsp_cons = i + 1;
		if (rsp.status == NETIF_RSP_NULL) {
			/* Answers an extra-info slot; one for each we sent. */
			if (q->tx_extras_due == 0)
				nf_proto_error(q, "NETIF_RSP_NULL for id %u at %u, no extra-info "
					"slot outstanding", rsp.id, i);
			else
				q->tx_extras_due--;
			continue;
		}
		if (rsp.id >= NETFRONT_TX_RING_SIZE || q->tx_slot[rsp.id].gref < 0) {
			nf_proto_error(q, "tx response for id %u not in flight (at %u)", rsp.id, i);
			continue;
		}
		s = &q->tx_slot[rsp.id];
		if (netfront_ungrant(q->nf, (uint32_t)s->gref) != 0) {
			nf_proto_error(q, "tx grant %u of id %u still in use after its response",
				(unsigned int)s->gref, rsp.id);
			/* The page stays granted: its id is lost, not reused. */
			s->gref = -2;
		} else {
			s->gref = -1;
		}
		h = &q->tx_slot[s->head];
		if (rsp.status != NETIF_RSP_OKAY && !h->err) {
			h->err = true;
			q->stats.tx_errors++;
		}
		/* The head's id is kept until its whole frame is answered. */
		if (!s->first && s->gref == -1)
			q->tx_free[q->tx_nr_free++] = rsp.id;
		if (h->pending > 0 && --h->pending == 0) {
			q->stats.tx_completed++;
			if (h->gref == -1)
				q->tx_free[q->tx_nr_free++] = s->head;
		}
	}
	q->tx.rsp_cons = prod;
	return 0;
}

static void
nf_rx_deliver(struct netfront_queue *q, netfront_rx_cb cb, void *arg)
{
	if (q->asm_bad || q->asm_len == 0) {
		q->stats.rx_errors++;
	} else {
		q->stats.rx_packets++;
		q->stats.rx_bytes += q->asm_len;
		if (q->asm_meta.flags & NETRXF_csum_blank)
			q->stats.rx_csum_blank++;
		if (q->asm_meta.flags & NETRXF_data_validated)
			q->stats.rx_data_validated++;
		if (q->asm_meta.gso_type != XEN_NETIF_GSO_TYPE_NONE)
			q->stats.rx_gso++;
		q->rx_meta = q->asm_meta;
		if (cb != NULL)
			cb(arg, q, q->asm_buf, q->asm_len);
	}
	memset(&q->asm_meta, 0, sizeof(q->asm_meta));
	memset(&q->rx_meta, 0, sizeof(q->rx_meta));
	q->asm_busy = false;
	q->asm_bad = false;
	q->asm_extra = false;
	q->asm_more = false;
	q->asm_len = 0;
	q->asm_slots = 0;
}

/* A GSO extra-info slot of the frame being gathered, checked as Linux does. */
static void
nf_rx_gso(struct netfront_queue *q, const netif_extra_info_t *ex, RING_IDX i)
{
	if (q->asm_meta.gso_type != XEN_NETIF_GSO_TYPE_NONE) {
		nf_proto_error(q, "second GSO extra-info slot in one frame, at %u", i, 0);
		q->asm_bad = true;
	} else if (!q->nf->conf.gso) {
		nf_proto_error(q, "GSO extra-info slot at %u without feature-gso-tcpv4/6", i, 0);
		q->asm_bad = true;
	} else if (ex->u.gso.size == 0) {
		nf_proto_error(q, "GSO size 0 at %u", i, 0);
		q->asm_bad = true;
	} else if (ex->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
			ex->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6) {
		nf_proto_error(q, "GSO type %u at %u", ex->u.gso.type, i);
		q->asm_bad = true;
	} else {
		q->asm_meta.gso_type = ex->u.gso.type;
		q->asm_meta.gso_size = ex->u.gso.size;
	}
}

static int
nf_rx_reap(struct netfront_queue *q, netfront_rx_cb cb, void *arg)
{
	struct netfront *nf = q->nf;
	RING_IDX prod, i;
	int frames = 0;

	prod = __atomic_load_n(&q->rx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	if ((RING_IDX)(prod - q->rx.rsp_cons) > (RING_IDX)(q->rx.req_prod_pvt - q->rx.rsp_cons)) {
		nf_proto_error(q, "guest-rx rsp_prod %u beyond our requests (rsp_cons %u)",
			prod, q->rx.rsp_cons);
		q->broken = true;
		return -EPROTO;
	}
	for (i = q->rx.rsp_cons; i != prod; i++) {
		uint16_t id = q->rx_posted[i & (NETFRONT_RX_RING_SIZE - 1)];
		struct netfront_rx_buf *b = &q->rx_buf[id];
		netif_rx_response_t rsp;
		bool more;

		RING_COPY_RESPONSE(&q->rx, i, &rsp);
		q->rx.rsp_cons = i + 1;       /* its slot may take a request now */
		/* The backend is done with the buffer: take the grant back first. */
		if (b->gref > 0 && netfront_ungrant(nf, (uint32_t)b->gref) != 0) {
			nf_proto_error(q, "rx grant %u of buffer %u in use after its response",
				(unsigned int)b->gref, id);
			b->gref = -2;          /* lost, never reposted */
			if (!q->asm_extra) {
				q->asm_busy = true;
				q->asm_bad = true;
			}
		} else {
			b->gref = -1;
		}

		if (q->asm_extra) {
			/*
			 * An extra-info slot, not a data response: it used up a
			 * posted buffer, reposted below untouched.
			 */
			netif_extra_info_t ex;

			memcpy(&ex, &rsp, sizeof(ex));
			q->asm_extra = (ex.flags & XEN_NETIF_EXTRA_FLAG_MORE) != 0;
			if (++q->asm_slots > NETFRONT_MAX_RX_SLOTS) {
				/* A chain of extras that does not end. */
				q->asm_bad = true;
				q->asm_extra = false;
			}
			if (ex.type == XEN_NETIF_EXTRA_TYPE_NONE ||
					ex.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
				nf_proto_error(q, "rx extra-info slot of type %u at %u", ex.type, i);
				q->asm_bad = true;
			} else if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO) {
				nf_rx_gso(q, &ex, i);
			} else if (ex.type == XEN_NETIF_EXTRA_TYPE_HASH) {
				if (!q->nf->ctrl || ex.u.hash.type > _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP ||
						ex.u.hash.algorithm != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ ||
						q->asm_meta.hash_type != 0) {
					nf_proto_error(q, "unasked or bad hash extra-info slot at %u (type %u)",
						i, ex.u.hash.type);
					q->asm_bad = true;
				} else {
					q->asm_meta.hash_type = (uint8_t)(ex.u.hash.type + 1);
					memcpy(&q->asm_meta.hash, ex.u.hash.value, sizeof(q->asm_meta.hash));
				}
			}
			more = q->asm_more;
		} else {
			if (rsp.id != id)
				nf_proto_error(q, "rx response id %u for the buffer posted as %u",
					rsp.id, id);
			if (!q->asm_busy) {
				q->asm_busy = true;
				q->asm_len = 0;
				q->asm_slots = 0;
				q->asm_bad = false;
				memset(&q->asm_meta, 0, sizeof(q->asm_meta));
				q->asm_meta.flags = rsp.flags &
					(NETRXF_csum_blank | NETRXF_data_validated);
				q->asm_meta.offset = rsp.offset;
				if ((rsp.flags & NETRXF_csum_blank) && !nf->conf.csum) {
					/* We said feature-no-csum-offload. */
					nf_proto_error(q, "rx frame with csum_blank (flags 0x%x) at %u "
						"after feature-no-csum-offload", rsp.flags, i);
					q->asm_bad = true;
				}
				if (rsp.flags & NETRXF_extra_info)
					q->asm_extra = true;
			} else if (rsp.flags & NETRXF_extra_info) {
				q->asm_bad = true;  /* extras follow the first slot only */
			}
			q->asm_slots++;
			if (rsp.status < 0) {
				q->asm_bad = true;
			} else if ((uint32_t)rsp.offset + (uint32_t)rsp.status > XENSIM_PAGE_SIZE) {
				nf_proto_error(q, "rx offset %u + status %u beyond the page",
					rsp.offset, (unsigned int)rsp.status);
				q->asm_bad = true;
			} else if (q->asm_len + (uint32_t)rsp.status > NETFRONT_MAX_FRAME ||
					q->asm_slots > NETFRONT_MAX_RX_SLOTS) {
				q->asm_bad = true;
			} else if (!q->asm_bad && b->gref == -1) {
				memcpy(q->asm_buf + q->asm_len,
					(uint8_t *)netfront_page(nf, b->pfn) + rsp.offset,
					(size_t)rsp.status);
				q->asm_len += (uint32_t)rsp.status;
			}
			more = (rsp.flags & NETRXF_more_data) != 0;
			q->asm_more = more;
		}
		if (b->gref == -1) {
			if (RING_FULL(&q->rx))
				q->rx_free[q->rx_nr_free++] = id;
			else
				nf_rx_post(q, id);
		}
		if (!more && !q->asm_extra) {
			nf_rx_deliver(q, cb, arg);
			frames++;
		}
	}
	q->rx.rsp_cons = prod;
	return frames;
}

int
netfront_queue_poll(struct netfront_queue *q, netfront_rx_cb cb, void *arg)
{
	int frames = 0, ret, more_tx, more_rx, notify;

	if (q->broken)
		return -EPROTO;
	do {
		ret = nf_tx_reap(q);
		if (ret < 0)
			return ret;
		ret = nf_rx_reap(q, cb, arg);
		if (ret < 0)
			return ret;
		frames += ret;
		if (q->rx_nr_free != 0)
			nf_rx_refill(q);
		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
		if (notify)
			netfront_notify_rx(q);
		/* Ask to be notified of the next response, then look once more. */
		RING_FINAL_CHECK_FOR_RESPONSES(&q->tx, more_tx);
		RING_FINAL_CHECK_FOR_RESPONSES(&q->rx, more_rx);
	} while (more_tx || more_rx);
	return frames;
}

int
netfront_poll(struct netfront *nf, netfront_rx_cb cb, void *arg)
{
	int frames = 0, ret;
	uint16_t i;

	for (i = 0; i < nf->nr_queues; i++) {
		ret = netfront_queue_poll(&nf->q[i], cb, arg);
		if (ret < 0)
			return ret;
		frames += ret;
	}
	if (frames == 0 && nf->backend_gone)
		return -ENOTCONN;
	return frames;
}

void
netfront_get_stats(const struct netfront *nf, struct netfront_stats *s)
{
	uint16_t i;

	*s = nf->stats_closed;
	for (i = 0; i < nf->nr_queues; i++)
		nf_stats_add(s, &nf->q[i].stats);
}

uint64_t
netfront_tx_inflight(const struct netfront *nf)
{
	uint64_t n = 0;
	uint16_t i;

	for (i = 0; i < nf->nr_queues; i++)
		n += nf->q[i].stats.tx_packets - nf->q[i].stats.tx_completed;
	return n;
}
