/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * netfront-selftest: checks the netfront library on its own, against a
 * small backend in the same process (a thread), on the simulated platform
 * and a running xenstored.
 *
 *   netfront-selftest SIM_DIR     (xenstored must answer on SIM_DIR/socket)
 *
 * The backend here is deliberately simple and strict: it maps the rings,
 * grant-copies every slot, echoes each frame back on the guest-rx ring in
 * chunks of a chosen size, and can be told to misbehave (error statuses,
 * a bogus id, closing first). It checks what the frontend writes in
 * xenstore and on the rings; the frontend's counters and the frames it
 * delivers are checked here. Ring names: the guest's point of view.
 *
 * Output: one line per check, then "N passed, N failed"; exit 1 on failure.
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "netfront.h"

#define MB_MAX_QUEUES 4
#define MB_MAX_SLOTS 20
#define DOMID 7

static unsigned int passed, failed;

#define CHECK(cond, fmt, ...) do { \
	if (cond) { \
		passed++; \
	} else { \
		failed++; \
		printf("  FAIL %s:%d: %s: " fmt "\n", __func__, __LINE__, #cond, ##__VA_ARGS__); \
	} \
} while (0)

/* --- The small backend --- */

struct mb_queue {
	netif_tx_back_ring_t tx;
	netif_rx_back_ring_t rx;
	void *tx_page;
	void *rx_page;
	struct xensim_evtchn *ev;
	int port;
	uint8_t frame[NETFRONT_MAX_FRAME + 1];
	uint32_t len;
	bool pending;              /* frame waiting for guest-rx slots */
};

struct mb {
	const char *sim_dir;
	uint16_t domid;
	struct xs_handle *xs;
	char be[128];
	char fe[128];
	struct xensim_dom *dom;
	unsigned int nq;
	struct mb_queue q[MB_MAX_QUEUES];
	pthread_t thr;

	/* Behaviour. */
	bool offer_sg;
	unsigned int max_queues;
	uint32_t rx_chunk;         /* bytes per guest-rx slot */
	int pause;                 /* do not consume guest-tx */
	int fail_next_tx;          /* answer the next frame NETIF_RSP_ERROR */
	int bad_rx_next;           /* give the next echoed frame status -1 */
	int bogus_id_next;         /* answer the next frame's first slot with id 300 */
	int close_now;             /* go to Closing on our own */
	int stop;

	/* What it saw. */
	int connects;
	uint64_t frames_in;
	uint64_t frames_out;
	uint64_t bad_requests;
	uint64_t first_unaligned;  /* frames whose first slot is not at 0 */
	uint64_t frag_unaligned;   /* later slots not at offset 0 */
	uint64_t short_first;      /* first slot holds less than 64 bytes */
	unsigned int max_slots;
	char err[256];
};

static int
ld(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
st(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int
mb_read_int(struct mb *m, const char *dir, const char *key, int def)
{
	char path[256];
	unsigned int len;
	char *s;
	int v;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	s = xs_read(m->xs, XBT_NULL, path, &len);
	if (s == NULL)
		return def;
	v = atoi(s);
	free(s);
	return v;
}

static void
mb_write(struct mb *m, const char *key, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", m->be, key);
	xs_write(m->xs, XBT_NULL, path, val, strlen(val));
}

static void
mb_state(struct mb *m, int s)
{
	char v[8];

	snprintf(v, sizeof(v), "%d", s);
	mb_write(m, "state", v);
}

/* Wait until pred on the frontend's state, bounded. */
static int
mb_wait_fe(struct mb *m, unsigned int mask, int timeout_ms)
{
	int s, i;

	for (i = 0; i < timeout_ms / 2; i++) {
		if (ld(&m->stop))
			return -1;
		s = mb_read_int(m, m->fe, "state", 0);
		if (mask & (1u << s))
			return s;
		usleep(2000);
	}
	return -1;
}

static void
mb_notify(struct mb_queue *q)
{
	xensim_evtchn_notify(q->ev, (uint32_t)q->port);
}

/* One frame from the guest-tx ring, if a whole one is there. */
static bool
mb_guest_tx(struct mb *m, struct mb_queue *q)
{
	netif_tx_request_t req[MB_MAX_SLOTS];
	xengnttab_grant_copy_segment_t seg[MB_MAX_SLOTS];
	RING_IDX avail = q->tx.sring->req_prod - q->tx.req_cons;
	unsigned int n = 0, i;
	uint32_t rest = 0, pos = 0;
	int16_t status = NETIF_RSP_OKAY;
	int notify;

	xen_rmb();
	if (avail == 0 || q->pending)
		return false;
	if (avail > NETFRONT_TX_RING_SIZE) {
		snprintf(m->err, sizeof(m->err), "guest-tx req_prod ran %u ahead", avail);
		return false;
	}
	do {
		if (n == avail)
			return false;      /* the rest is not posted yet */
		if (n == MB_MAX_SLOTS) {
			m->bad_requests++;
			snprintf(m->err, sizeof(m->err), "frame of more than %d slots",
				MB_MAX_SLOTS);
			return false;
		}
		RING_COPY_REQUEST(&q->tx, q->tx.req_cons + n, &req[n]);
		n++;
	} while (req[n - 1].flags & NETTXF_more_data);

	for (i = 1; i < n; i++) {
		rest += req[i].size;
		if (req[i].offset != 0)
			m->frag_unaligned++;
	}
	if (req[0].offset != 0)
		m->first_unaligned++;
	if (n > m->max_slots)
		m->max_slots = n;
	if (req[0].size - rest < 64 && n > 1)
		m->short_first++;
	if (req[0].size < rest || req[0].size - rest > XENSIM_PAGE_SIZE)
		status = NETIF_RSP_ERROR;
	for (i = 0; i < n && status == NETIF_RSP_OKAY; i++) {
		uint16_t size = i == 0 ? (uint16_t)(req[0].size - rest) : req[i].size;

		if ((uint32_t)req[i].offset + size > XENSIM_PAGE_SIZE) {
			status = NETIF_RSP_ERROR;
			break;
		}
		memset(&seg[i], 0, sizeof(seg[i]));
		seg[i].source.foreign.ref = req[i].gref;
		seg[i].source.foreign.offset = req[i].offset;
		seg[i].source.foreign.domid = m->domid;
		seg[i].dest.virt = q->frame + pos;
		seg[i].len = size;
		seg[i].flags = GNTCOPY_source_gref;
		pos += size;
	}
	if (status == NETIF_RSP_OKAY) {
		if (xensim_grant_copy(m->dom, 0, n, seg) != 0)
			status = NETIF_RSP_ERROR;
		for (i = 0; i < n; i++)
			if (seg[i].status != GNTST_okay)
				status = NETIF_RSP_ERROR;
	}
	if (status != NETIF_RSP_OKAY)
		m->bad_requests++;
	if (ld(&m->fail_next_tx)) {
		st(&m->fail_next_tx, 0);
		status = NETIF_RSP_ERROR;
	}
	for (i = 0; i < n; i++) {
		netif_tx_response_t *rsp = RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt);

		rsp->id = req[i].id;
		rsp->status = status;
		if (i == 0 && ld(&m->bogus_id_next)) {
			st(&m->bogus_id_next, 0);
			rsp->id = 300;
		}
		q->tx.rsp_prod_pvt++;
	}
	q->tx.req_cons += n;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
	if (notify)
		mb_notify(q);
	if (status == NETIF_RSP_OKAY) {
		m->frames_in++;
		q->len = req[0].size;
		q->pending = true;
	}
	return true;
}

/* Echo the pending frame on the guest-rx ring, in rx_chunk pieces. */
static bool
mb_guest_rx(struct mb *m, struct mb_queue *q)
{
	xengnttab_grant_copy_segment_t seg[NETFRONT_RX_RING_SIZE];
	netif_rx_request_t req[NETFRONT_RX_RING_SIZE];
	uint32_t chunk = m->rx_chunk, need, i, pos = 0;
	RING_IDX avail;
	bool bad;
	int notify;

	if (!q->pending)
		return false;
	need = (q->len + chunk - 1) / chunk;
	avail = q->rx.sring->req_prod - q->rx.req_cons;
	xen_rmb();
	if (avail < need) {
		/* Ask for a kick when the guest posts more. */
		q->rx.sring->req_event = q->rx.req_cons + need;
		xen_mb();
		return false;
	}
	for (i = 0; i < need; i++) {
		uint32_t len = q->len - pos < chunk ? q->len - pos : chunk;

		RING_COPY_REQUEST(&q->rx, q->rx.req_cons + i, &req[i]);
		memset(&seg[i], 0, sizeof(seg[i]));
		seg[i].source.virt = q->frame + pos;
		seg[i].dest.foreign.ref = req[i].gref;
		seg[i].dest.foreign.offset = 0;
		seg[i].dest.foreign.domid = m->domid;
		seg[i].len = (uint16_t)len;
		seg[i].flags = GNTCOPY_dest_gref;
		pos += len;
	}
	if (xensim_grant_copy(m->dom, 0, need, seg) != 0)
		snprintf(m->err, sizeof(m->err), "grant copy to the guest failed");
	bad = ld(&m->bad_rx_next) != 0;
	if (bad)
		st(&m->bad_rx_next, 0);
	for (i = 0; i < need; i++) {
		netif_rx_response_t *rsp = RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt);

		rsp->id = req[i].id;
		rsp->offset = 0;
		rsp->flags = i + 1 < need ? NETRXF_more_data : 0;
		rsp->status = seg[i].status == GNTST_okay ? (int16_t)seg[i].len : NETIF_RSP_ERROR;
		if (bad && i == 0)
			rsp->status = NETIF_RSP_ERROR;
		q->rx.rsp_prod_pvt++;
	}
	q->rx.req_cons += need;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
	if (notify)
		mb_notify(q);
	q->pending = false;
	m->frames_out++;
	return true;
}

static int
mb_connect(struct mb *m)
{
	unsigned int i;

	m->nq = (unsigned int)mb_read_int(m, m->fe, "multi-queue-num-queues", 1);
	if (m->nq == 0 || m->nq > m->max_queues) {
		snprintf(m->err, sizeof(m->err), "frontend asks for %u queues", m->nq);
		return -1;
	}
	if (mb_read_int(m, m->fe, "request-rx-copy", 0) != 1) {
		snprintf(m->err, sizeof(m->err), "frontend did not write request-rx-copy=1");
		return -1;
	}
	m->dom = xensim_dom_attach(m->sim_dir, m->domid);
	if (m->dom == NULL) {
		snprintf(m->err, sizeof(m->err), "attach: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < m->nq; i++) {
		struct mb_queue *q = &m->q[i];
		char dir[160];
		uint32_t ref;
		int port;

		if (m->nq == 1)
			snprintf(dir, sizeof(dir), "%s", m->fe);
		else
			snprintf(dir, sizeof(dir), "%s/queue-%u", m->fe, i);
		memset(&q->tx, 0, sizeof(q->tx));
		q->pending = false;
		ref = (uint32_t)mb_read_int(m, dir, "tx-ring-ref", 0);
		q->tx_page = xensim_map_grant_refs(m->dom, 0, 1, &ref, true);
		ref = (uint32_t)mb_read_int(m, dir, "rx-ring-ref", 0);
		q->rx_page = xensim_map_grant_refs(m->dom, 0, 1, &ref, true);
		port = mb_read_int(m, dir, "event-channel", -1);
		if (q->tx_page == NULL || q->rx_page == NULL || port < 0) {
			snprintf(m->err, sizeof(m->err), "queue %u: bad ring refs or port", i);
			return -1;
		}
		BACK_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_page, XENSIM_PAGE_SIZE);
		BACK_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_page, XENSIM_PAGE_SIZE);
		q->ev = xensim_evtchn_open(m->dom, 0);
		if (q->ev == NULL) {
			snprintf(m->err, sizeof(m->err), "evtchn open: %s", strerror(errno));
			return -1;
		}
		q->port = xensim_evtchn_bind_interdomain(q->ev, m->domid, (uint32_t)port);
		if (q->port < 0) {
			snprintf(m->err, sizeof(m->err), "bind: %s", strerror(-q->port));
			return -1;
		}
	}
	return 0;
}

static void
mb_disconnect(struct mb *m)
{
	unsigned int i;

	for (i = 0; i < m->nq; i++) {
		struct mb_queue *q = &m->q[i];

		if (q->tx_page != NULL)
			xensim_unmap(m->dom, q->tx_page, 1);
		if (q->rx_page != NULL)
			xensim_unmap(m->dom, q->rx_page, 1);
		q->tx_page = NULL;
		q->rx_page = NULL;
		if (q->ev != NULL) {
			if (q->port >= 0)
				xensim_evtchn_unbind(q->ev, (uint32_t)q->port);
			xensim_evtchn_close(q->ev);
		}
		q->ev = NULL;
	}
	m->nq = 0;
	if (m->dom != NULL)
		xensim_dom_close(m->dom);
	m->dom = NULL;
}

static void *
mb_thread(void *arg)
{
	struct mb *m = arg;
	char v[16];

	while (!ld(&m->stop)) {
		int s, be, i;

		/* The toolstack's device, and a frontend Initialising. */
		be = mb_read_int(m, m->be, "state", -1);
		s = mb_read_int(m, m->fe, "state", 0);
		if (be != 1 && be != 6) {
			usleep(2000);
			continue;
		}
		if (s != 1) {
			usleep(2000);
			continue;
		}
		mb_write(m, "feature-sg", m->offer_sg ? "1" : "0");
		mb_write(m, "feature-rx-copy", "1");
		snprintf(v, sizeof(v), "%u", m->max_queues);
		mb_write(m, "multi-queue-max-queues", v);
		mb_state(m, 2);
		s = mb_wait_fe(m, 1u << 4 | 1u << 5 | 1u << 6 | 1u << 3, 10000);
		if (s == 3) {
			snprintf(m->err, sizeof(m->err), "frontend stopped at Initialised");
			s = mb_wait_fe(m, 1u << 4 | 1u << 5 | 1u << 6, 10000);
		}
		if (s != 4) {
			mb_state(m, 6);
			continue;
		}
		if (mb_connect(m) != 0) {
			mb_disconnect(m);
			mb_state(m, 5);
			mb_wait_fe(m, 1u << 6, 5000);
			mb_state(m, 6);
			continue;
		}
		__atomic_fetch_add(&m->connects, 1, __ATOMIC_RELEASE);
		mb_state(m, 4);

		for (;;) {
			bool work = false;
			unsigned int k;

			for (k = 0; k < m->nq; k++) {
				struct mb_queue *q = &m->q[k];
				int p;

				while ((p = xensim_evtchn_pending(q->ev)) >= 0)
					xensim_evtchn_unmask(q->ev, (uint32_t)p);
				if (!ld(&m->pause))
					work |= mb_guest_tx(m, q);
				work |= mb_guest_rx(m, q);
			}
			if (ld(&m->stop))
				break;
			if (ld(&m->close_now)) {
				st(&m->close_now, 0);
				mb_state(m, 5);
				mb_wait_fe(m, 1u << 6, 5000);
				break;
			}
			s = mb_read_int(m, m->fe, "state", 0);
			be = mb_read_int(m, m->be, "state", 0);
			if (s != 4 || be != 4)
				break;    /* frontend closing, or the toolstack's 5 */
			if (!work) {
				struct pollfd pfd[MB_MAX_QUEUES];

				for (k = 0; k < m->nq; k++) {
					pfd[k].fd = xensim_evtchn_fd(m->q[k].ev);
					pfd[k].events = POLLIN;
				}
				/* Sleep on the event channels, as a real backend may. */
				for (k = 0; k < m->nq; k++) {
					struct mb_queue *q = &m->q[k];
					int more;

					RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, more);
					if (more)
						work = true;
				}
				if (!work)
					poll(pfd, m->nq, 5);
			}
		}
		/* The frontend said Closing: we close; then it says Closed. */
		if (mb_read_int(m, m->fe, "state", 0) == 5) {
			mb_state(m, 5);
			mb_wait_fe(m, 1u << 6, 5000);
		}
		mb_disconnect(m);
		mb_state(m, 6);
		for (i = 0; i < 2500 && !ld(&m->stop); i++) {
			/* Wait for a new Initialising (reconnect) or removal. */
			s = mb_read_int(m, m->fe, "state", 0);
			if (s == 1)
				break;
			usleep(2000);
		}
	}
	return NULL;
}

static int
mb_start(struct mb *m, const char *sim_dir, uint16_t domid, uint16_t handle)
{
	memset(m, 0, sizeof(*m));
	m->sim_dir = sim_dir;
	m->domid = domid;
	m->offer_sg = true;
	m->max_queues = 1;
	m->rx_chunk = XENSIM_PAGE_SIZE;
	snprintf(m->be, sizeof(m->be), "/local/domain/0/backend/vif/%u/%u", domid, handle);
	snprintf(m->fe, sizeof(m->fe), "/local/domain/%u/device/vif/%u", domid, handle);
	m->xs = xs_open(XS_OPEN_SOCKETONLY);
	if (m->xs == NULL)
		return -1;
	return pthread_create(&m->thr, NULL, mb_thread, m) == 0 ? 0 : -1;
}

static void
mb_stop(struct mb *m)
{
	st(&m->stop, 1);
	pthread_join(m->thr, NULL);
	mb_disconnect(m);
	xs_close(m->xs);
}

/* --- Helpers on the frontend side --- */

struct rxlog {
	uint32_t n;
	uint32_t len[4096];
	uint32_t sum[4096];
	uint16_t queue[4096];
};

static uint32_t
fnv(const uint8_t *p, uint32_t len)
{
	uint32_t h = 2166136261u, i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void
rx_record(void *arg, struct netfront_queue *q, const uint8_t *f, uint32_t len)
{
	struct rxlog *l = arg;

	if (l->n < 4096) {
		l->len[l->n] = len;
		l->sum[l->n] = fnv(f, len);
		l->queue[l->n] = q->id;
	}
	l->n++;
}

static void
make_frame(uint8_t *f, uint32_t len, uint32_t seed)
{
	uint32_t i, x = seed * 2654435761u + 1;

	memset(f, 0xff, 6);
	memset(f + 6, 0x02, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (i = 14; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		f[i] = (uint8_t)x;
	}
}

/* Poll until want frames arrived in total or timeout. */
static void
poll_until(struct netfront *nf, struct rxlog *l, uint32_t want, int timeout_ms)
{
	struct timespec t0, t;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (netfront_poll(nf, rx_record, l) < 0)
			return;
		if (l->n >= want && netfront_tx_inflight(nf) == 0)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms > timeout_ms)
			return;
		netfront_wait(nf, 20);
	}
}

static char *
xs_get(struct xs_handle *xs, const char *path)
{
	unsigned int len;

	return xs_read(xs, XBT_NULL, path, &len);
}

static bool
xs_is(struct xs_handle *xs, const char *path, const char *want)
{
	char *v = xs_get(xs, path);
	bool ok = v != NULL && strcmp(v, want) == 0;

	if (!ok)
		printf("    %s is \"%s\", want \"%s\"\n", path, v != NULL ? v : "(none)", want);
	free(v);
	return ok;
}

/* --- Tests --- */

static const char *sim_dir;
static struct xs_handle *xs;

static void
test_handshake_and_traffic(void)
{
	static const uint32_t sizes[] = {
		60, 61, 1514, 4082, 4096, 4097, 8191, 9000, 12000, 30000, 65535, 14, 100,
	};
	struct netfront_conf c;
	struct netfront *nf;
	struct netfront_stats s;
	struct rxlog *l = calloc(1, sizeof(*l));
	uint8_t *f = malloc(NETFRONT_MAX_FRAME);
	uint32_t sums[64], i, round;
	struct mb m;
	char *v;

	printf("handshake, toolstack keys, traffic of every size\n");
	CHECK(mb_start(&m, sim_dir, DOMID, 0) == 0, "backend thread");
	netfront_conf_init(&c);
	c.sim_dir = sim_dir;
	c.domid = DOMID;
	c.timeout_ms = 5000;
	nf = netfront_open(&c);
	CHECK(nf != NULL, "open: %s", strerror(errno));
	if (nf == NULL)
		goto out;
	CHECK(xs_is(xs, "/local/domain/0/backend/vif/7/0/frontend",
		"/local/domain/7/device/vif/0"), "");
	CHECK(xs_is(xs, "/local/domain/0/backend/vif/7/0/frontend-id", "7"), "");
	CHECK(xs_is(xs, "/local/domain/0/backend/vif/7/0/online", "1"), "");
	CHECK(xs_is(xs, "/local/domain/0/backend/vif/7/0/script", "/bin/true"), "");
	CHECK(xs_is(xs, "/local/domain/0/backend/vif/7/0/mac", "00:16:3e:00:07:00"), "");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/0/backend-id", "0"), "");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/0/state", "1"), "");

	CHECK(netfront_connect(nf) == 0, "connect");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/0/state", "4"), "");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/0/request-rx-copy", "1"), "");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/0/feature-rx-notify", "1"), "");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/0/feature-sg", "1"), "");
	v = xs_get(xs, "/local/domain/7/device/vif/0/event-channel");
	CHECK(v != NULL, "event-channel written");
	free(v);
	CHECK(nf->sg, "sg negotiated");
	CHECK(ld(&m.connects) == 1, "backend connected once (%d)", ld(&m.connects));

	/* Every size, three times (the layout varies), one at a time. */
	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint32_t before = l->n;

			make_frame(f, sizes[i], round * 100 + i);
			sums[i] = fnv(f, sizes[i]);
			CHECK(netfront_send(nf, f, sizes[i]) == 0, "send %u", sizes[i]);
			poll_until(nf, l, before + 1, 3000);
			CHECK(l->n == before + 1, "frame of %u came back", sizes[i]);
			if (l->n == before + 1) {
				CHECK(l->len[before] == sizes[i], "length %u", l->len[before]);
				CHECK(l->sum[before] == sums[i], "content of %u bytes", sizes[i]);
			}
		}
	}
	printf("    backend saw: %" PRIu64 " unaligned first slots, %" PRIu64
		" unaligned fragments, %" PRIu64 " first slots < 64 B, up to %u slots\n",
		m.first_unaligned, m.frag_unaligned, m.short_first, m.max_slots);
	CHECK(m.first_unaligned > 0 && m.frag_unaligned > 0 && m.short_first > 0,
		"the varied layout varies");
	CHECK(m.max_slots <= NETFRONT_MAX_TX_SLOTS && m.max_slots >= 17, "65535 B in <= 18 slots");
	/* Smaller than a header, larger than netif allows. */
	CHECK(netfront_send(nf, f, 13) == -EINVAL, "13 bytes refused");
	CHECK(netfront_send(nf, f, 65536) == -EMSGSIZE, "65536 bytes refused");

	/* Guest-rx slots of 1000 bytes: reassembly across many slots. */
	m.rx_chunk = 1000;
	make_frame(f, 9000, 5);
	sums[0] = fnv(f, 9000);
	i = l->n;
	CHECK(netfront_send(nf, f, 9000) == 0, "send");
	poll_until(nf, l, i + 1, 3000);
	CHECK(l->n == i + 1 && l->len[i] == 9000 && l->sum[i] == sums[0], "9000 in 10 slots");
	m.rx_chunk = XENSIM_PAGE_SIZE;

	/* Fill the ring while the backend sleeps: -EAGAIN, nothing lost. */
	st(&m.pause, 1);
	usleep(20000);
	i = l->n;
	nf->conf.tx_layout = NETFRONT_TX_ALIGNED;   /* one slot per frame */
	{
		uint32_t sent = 0;
		int ret;

		make_frame(f, 1514, 9);
		while ((ret = netfront_send(nf, f, 1514)) == 0)
			sent++;
		CHECK(ret == -EAGAIN, "full ring gives -EAGAIN (%d)", ret);
		CHECK(sent == NETFRONT_TX_RING_SIZE, "256 one-slot frames fit (%u)", sent);
		CHECK(netfront_tx_inflight(nf) == sent, "in flight");
		st(&m.pause, 0);
		poll_until(nf, l, i + sent, 5000);
		CHECK(l->n == i + sent, "all %u came back (%u)", sent, l->n - i);
	}
	nf->conf.tx_layout = NETFRONT_TX_VARIED;

	/* A transmit error, a receive error, a bogus id from the backend. */
	netfront_get_stats(nf, &s);
	CHECK(s.tx_errors == 0 && s.rx_errors == 0 && s.proto_errors == 0, "clean so far");
	st(&m.fail_next_tx, 1);
	make_frame(f, 9000, 11);
	CHECK(netfront_send(nf, f, 9000) == 0, "send");
	poll_until(nf, l, 0, 300);
	netfront_get_stats(nf, &s);
	CHECK(s.tx_errors == 1, "tx error counted once for the frame (%" PRIu64 ")", s.tx_errors);
	CHECK(netfront_tx_inflight(nf) == 0, "its slots are free again");

	st(&m.bad_rx_next, 1);
	i = l->n;
	CHECK(netfront_send(nf, f, 9000) == 0, "send");
	CHECK(netfront_send(nf, f, 60) == 0, "send");
	poll_until(nf, l, i + 1, 3000);
	netfront_get_stats(nf, &s);
	CHECK(s.rx_errors == 1, "rx error counted (%" PRIu64 ")", s.rx_errors);
	CHECK(l->n == i + 1 && l->len[i] == 60, "the bad frame dropped, the next delivered");

	st(&m.bogus_id_next, 1);
	CHECK(netfront_send(nf, f, 60) == 0, "send");
	poll_until(nf, l, 0, 300);
	netfront_get_stats(nf, &s);
	CHECK(s.proto_errors == 1, "bogus id counted (%" PRIu64 ")", s.proto_errors);
	i = l->n;
	CHECK(netfront_send(nf, f, 1514) == 0, "still sends");
	poll_until(nf, l, i + 1, 3000);
	CHECK(l->n >= i + 1, "still receives");

	/* Frontend-initiated close: grants go back, nothing stays mapped. */
	CHECK(netfront_disconnect(nf) == 0, "disconnect");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/0/state", "6"), "");
	CHECK(xs_is(xs, "/local/domain/0/backend/vif/7/0/state", "6"), "");
	CHECK(xensim_grant_mapped_count(nf->dom) == 0, "no grant mapped");

	/* And again: reconnect on the same device. */
	CHECK(netfront_connect(nf) == 0, "reconnect");
	CHECK(ld(&m.connects) == 2, "backend connected twice (%d)", ld(&m.connects));
	i = l->n;
	make_frame(f, 4097, 12);
	sums[0] = fnv(f, 4097);
	CHECK(netfront_send(nf, f, 4097) == 0, "send after reconnect");
	poll_until(nf, l, i + 1, 3000);
	CHECK(l->n == i + 1 && l->sum[i] == sums[0], "traffic after reconnect");

	/* Backend-initiated close. */
	st(&m.close_now, 1);
	{
		int ret = 0, k;

		for (k = 0; k < 200 && ret >= 0; k++)
			ret = netfront_wait(nf, 50);
		CHECK(ret == -ENOTCONN, "wait reports the backend gone (%d)", ret);
	}
	CHECK(netfront_send(nf, f, 60) == -ENOTCONN, "send refused after close");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/0/state", "6"), "");
	CHECK(netfront_disconnect(nf) == 0, "disconnect after the backend closed");

	netfront_get_stats(nf, &s);
	CHECK(s.tx_packets >= s.rx_packets, "counters");
	netfront_close(nf);
	v = xs_get(xs, "/local/domain/0/backend/vif/7/0");
	CHECK(v == NULL, "backend dir removed");
	free(v);
	v = xs_get(xs, "/local/domain/7");
	CHECK(v == NULL, "domain dir removed");
	free(v);
	{
		char p[4200];

		snprintf(p, sizeof(p), "%s/dom%u", sim_dir, DOMID);
		CHECK(access(p, F_OK) != 0, "domain file removed");
	}
out:
	mb_stop(&m);
	CHECK(m.err[0] == '\0', "backend saw: %s", m.err);
	CHECK(m.bad_requests == 0, "backend saw %" PRIu64 " bad requests", m.bad_requests);
	free(l);
	free(f);
}

static void
test_no_sg(void)
{
	struct netfront_conf c;
	struct netfront *nf;
	struct rxlog *l = calloc(1, sizeof(*l));
	uint8_t *f = malloc(NETFRONT_MAX_FRAME);
	uint32_t i;
	struct mb m;

	printf("no feature-sg: single-slot frames only\n");
	CHECK(mb_start(&m, sim_dir, DOMID, 1) == 0, "backend thread");
	m.offer_sg = false;
	netfront_conf_init(&c);
	c.sim_dir = sim_dir;
	c.domid = DOMID;
	c.handle = 1;
	c.timeout_ms = 5000;
	nf = netfront_open(&c);
	CHECK(nf != NULL, "open");
	if (nf == NULL)
		goto out;
	CHECK(netfront_connect(nf) == 0, "connect");
	CHECK(!nf->sg, "sg not negotiated");
	CHECK(netfront_send(nf, f, 4097) == -EMSGSIZE, "4097 refused without sg");
	for (i = 0; i < 200; i++) {
		uint32_t len = 60 + (i * 37) % 4037;

		make_frame(f, len, i);
		CHECK(netfront_send(nf, f, len) == 0, "send %u", len);
		poll_until(nf, l, i + 1, 2000);
	}
	CHECK(l->n == 200, "all came back (%u)", l->n);
	netfront_close(nf);
out:
	mb_stop(&m);
	CHECK(m.err[0] == '\0', "backend saw: %s", m.err);
	CHECK(m.bad_requests == 0, "bad requests");
	free(l);
	free(f);
}

static void
test_multi_queue(void)
{
	struct netfront_conf c;
	struct netfront *nf;
	struct rxlog *l = calloc(1, sizeof(*l));
	uint8_t *f = malloc(NETFRONT_MAX_FRAME);
	unsigned int per_q[2] = { 0, 0 };
	uint32_t i;
	struct mb m;

	printf("two queues: keys under queue-N, traffic on each\n");
	CHECK(mb_start(&m, sim_dir, DOMID, 2) == 0, "backend thread");
	m.max_queues = 4;
	netfront_conf_init(&c);
	c.sim_dir = sim_dir;
	c.domid = DOMID;
	c.handle = 2;
	c.nr_queues = 2;
	c.timeout_ms = 5000;
	nf = netfront_open(&c);
	CHECK(nf != NULL, "open");
	if (nf == NULL)
		goto out;
	CHECK(netfront_connect(nf) == 0, "connect");
	CHECK(nf->nr_queues == 2, "two queues");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/2/multi-queue-num-queues", "2"), "");
	{
		char *v = xs_get(xs, "/local/domain/7/device/vif/2/queue-1/tx-ring-ref");

		CHECK(v != NULL, "queue-1/tx-ring-ref");
		free(v);
	}
	for (i = 0; i < 100; i++) {
		make_frame(f, 1514, i);
		CHECK(netfront_queue_send(netfront_queue(nf, (uint16_t)(i & 1)), f, 1514) == 0,
			"send");
		poll_until(nf, l, i + 1, 2000);
	}
	for (i = 0; i < l->n && i < 4096; i++)
		per_q[l->queue[i] & 1]++;
	CHECK(l->n == 100 && per_q[0] == 50 && per_q[1] == 50, "50 each way (%u, %u)",
		per_q[0], per_q[1]);
	netfront_close(nf);
out:
	mb_stop(&m);
	CHECK(m.err[0] == '\0', "backend saw: %s", m.err);
	free(l);
	free(f);
}

static void
xs_put(const char *dir, const char *key, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	xs_write(xs, XBT_NULL, path, val, strlen(val));
}

static void
test_no_toolstack(void)
{
	const char *be = "/local/domain/0/backend/vif/7/4";
	const char *fe = "/local/domain/7/device/vif/4";
	struct netfront_conf c;
	struct netfront *nf;
	struct rxlog *l = calloc(1, sizeof(*l));
	uint8_t *f = malloc(NETFRONT_MAX_FRAME);
	struct mb m;
	char *v;

	printf("someone else's toolstack: the frontend finds its backend and leaves the device\n");
	/* As a toolstack would, before the guest runs. */
	xs_put(be, "frontend", fe);
	xs_put(be, "frontend-id", "7");
	xs_put(be, "online", "1");
	xs_put(be, "state", "1");
	xs_put(fe, "backend", be);
	xs_put(fe, "backend-id", "0");
	xs_put(fe, "state", "1");
	CHECK(mb_start(&m, sim_dir, DOMID, 4) == 0, "backend thread");
	netfront_conf_init(&c);
	c.sim_dir = sim_dir;
	c.domid = DOMID;
	c.handle = 4;
	c.toolstack = false;
	c.timeout_ms = 5000;
	nf = netfront_open(&c);
	CHECK(nf != NULL, "open");
	if (nf == NULL)
		goto out;
	CHECK(netfront_connect(nf) == 0, "connect");
	CHECK(strcmp(nf->be_path, be) == 0, "backend path from the frontend's keys (%s)",
		nf->be_path);
	make_frame(f, 3000, 1);
	CHECK(netfront_send(nf, f, 3000) == 0, "send");
	poll_until(nf, l, 1, 3000);
	CHECK(l->n == 1 && l->len[0] == 3000, "came back");
	netfront_close(nf);
	CHECK(xs_is(xs, "/local/domain/7/device/vif/4/state", "6"), "frontend closed");
	v = xs_get(xs, "/local/domain/0/backend/vif/7/4/frontend");
	CHECK(v != NULL, "the device stays (not our toolstack)");
	free(v);
out:
	mb_stop(&m);
	CHECK(m.err[0] == '\0', "backend saw: %s", m.err);
	xs_rm(xs, XBT_NULL, be);
	xs_rm(xs, XBT_NULL, "/local/domain/7");
	free(l);
	free(f);
}

static void
test_no_backend(void)
{
	struct netfront_conf c;
	struct netfront *nf;
	char *v;

	printf("no backend: the handshake times out, the device is removed\n");
	netfront_conf_init(&c);
	c.sim_dir = sim_dir;
	c.domid = DOMID;
	c.handle = 3;
	c.timeout_ms = 300;
	nf = netfront_open(&c);
	CHECK(nf != NULL, "open");
	if (nf == NULL)
		return;
	CHECK(netfront_connect(nf) == -ETIMEDOUT, "connect times out");
	netfront_close(nf);
	v = xs_get(xs, "/local/domain/0/backend/vif/7/3");
	CHECK(v == NULL, "backend dir removed");
	free(v);
}

int
main(int argc, char **argv)
{
	char sock[4200];

	if (argc != 2) {
		fprintf(stderr, "usage: netfront-selftest SIM_DIR (xenstored running there)\n");
		return 2;
	}
	sim_dir = argv[1];
	snprintf(sock, sizeof(sock), "%s/socket", sim_dir);
	setenv("XENSTORED_PATH", sock, 1);
	xs = xs_open(XS_OPEN_SOCKETONLY);
	if (xs == NULL) {
		fprintf(stderr, "netfront-selftest: no xenstored at %s: %s\n", sock,
			strerror(errno));
		return 1;
	}
	test_handshake_and_traffic();
	test_no_sg();
	test_multi_queue();
	test_no_toolstack();
	test_no_backend();
	xs_close(xs);
	printf("%u passed, %u failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
