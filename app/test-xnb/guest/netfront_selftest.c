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
#include "netfront_offload.h"

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
	uint16_t tx_flags;         /* the pending frame's NETTXF_ flags */
	netif_extra_info_t gso;    /* its GSO slot (type NONE: none) */
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
	/* Offloads: offered (feature-gso-tcpv4/6, feature-ipv6-csum-offload). */
	bool offer_gso;
	bool offer_ipv6_csum;
	/*
	 * Echoed frames carry the metadata they were sent with (csum_blank,
	 * data_validated, the GSO slot); these override it for the next one.
	 */
	int rx_gso_type_next;      /* >= 0: a GSO slot of this type */
	int rx_gso_size_next;
	int rx_flags_next;         /* >= 0: these NETRXF_ flags */

	/* What it saw. */
	int connects;
	uint64_t frames_in;
	uint64_t frames_out;
	uint64_t bad_requests;
	uint64_t first_unaligned;  /* frames whose first slot is not at 0 */
	uint64_t frag_unaligned;   /* later slots not at offset 0 */
	uint64_t short_first;      /* first slot holds less than 64 bytes */
	unsigned int max_slots;
	uint64_t tx_csum_blank;    /* frames with NETTXF_csum_blank */
	uint64_t tx_csum_partial_bad; /* ... whose field is not the pseudo-header sum */
	uint64_t tx_validated;     /* frames with NETTXF_data_validated */
	uint64_t tx_gso;           /* frames with a GSO slot */
	uint8_t last_gso_type;
	uint16_t last_gso_size;
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
	unsigned int n = 0, i, ext = 0;
	uint32_t rest = 0, pos = 0;
	int16_t status = NETIF_RSP_OKAY;
	netif_extra_info_t gso;
	int notify;

	xen_rmb();
	if (avail == 0 || q->pending)
		return false;
	if (avail > NETFRONT_TX_RING_SIZE) {
		snprintf(m->err, sizeof(m->err), "guest-tx req_prod ran %u ahead", avail);
		return false;
	}
	memset(&gso, 0, sizeof(gso));
	do {
		if (n + ext == avail)
			return false;      /* the rest is not posted yet */
		if (n == MB_MAX_SLOTS) {
			m->bad_requests++;
			snprintf(m->err, sizeof(m->err), "frame of more than %d slots",
				MB_MAX_SLOTS);
			return false;
		}
		RING_COPY_REQUEST(&q->tx, q->tx.req_cons + n + ext, &req[n]);
		n++;
		if (n == 1 && (req[0].flags & NETTXF_extra_info)) {
			/* One GSO slot is all a frontend sends (netif.h). */
			netif_tx_request_t raw;

			if (n + ext == avail)
				return false;
			RING_COPY_REQUEST(&q->tx, q->tx.req_cons + 1, &raw);
			memcpy(&gso, &raw, sizeof(gso));
			ext = 1;
			if (gso.type != XEN_NETIF_EXTRA_TYPE_GSO || gso.flags != 0 ||
					!m->offer_gso || gso.u.gso.size == 0 ||
					(gso.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
					 gso.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6))
				snprintf(m->err, sizeof(m->err), "bad extra slot: type %u flags %u "
					"gso type %u size %u (offered %d)", gso.type, gso.flags,
					gso.u.gso.type, gso.u.gso.size, m->offer_gso);
		}
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
		if (i == 0 && ext != 0) {
			/* The extra slot's answer, in its ring position, as netback. */
			rsp = RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt);
			rsp->id = 0;
			rsp->status = NETIF_RSP_NULL;
			q->tx.rsp_prod_pvt++;
		}
	}
	q->tx.req_cons += n + ext;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
	if (notify)
		mb_notify(q);
	if (status == NETIF_RSP_OKAY) {
		m->frames_in++;
		q->len = req[0].size;
		q->pending = true;
		q->tx_flags = req[0].flags;
		q->gso = gso;
		if (req[0].flags & NETTXF_csum_blank) {
			m->tx_csum_blank++;
			if (netfront_csum_check_partial(q->frame, q->len) != 1)
				m->tx_csum_partial_bad++;
		}
		if (req[0].flags & NETTXF_data_validated)
			m->tx_validated++;
		if (ext != 0) {
			m->tx_gso++;
			m->last_gso_type = gso.u.gso.type;
			m->last_gso_size = gso.u.gso.size;
		}
	}
	return true;
}

/* Echo the pending frame on the guest-rx ring, in rx_chunk pieces. */
static bool
mb_guest_rx(struct mb *m, struct mb_queue *q)
{
	xengnttab_grant_copy_segment_t seg[NETFRONT_RX_RING_SIZE];
	netif_rx_request_t req[NETFRONT_RX_RING_SIZE];
	uint32_t chunk = m->rx_chunk, need, i, j, pos = 0, ext;
	netif_extra_info_t gso = q->gso;
	uint16_t flags = 0;
	RING_IDX avail;
	bool bad;
	int notify, v;

	if (!q->pending)
		return false;
	/* The metadata echoed: as sent, unless told otherwise. */
	if (q->tx_flags & NETTXF_csum_blank)
		flags |= NETRXF_csum_blank;
	if (q->tx_flags & NETTXF_data_validated)
		flags |= NETRXF_data_validated;
	v = ld(&m->rx_flags_next);
	if (v >= 0)
		flags = (uint16_t)v;
	v = ld(&m->rx_gso_type_next);
	if (v >= 0) {
		memset(&gso, 0, sizeof(gso));
		gso.type = XEN_NETIF_EXTRA_TYPE_GSO;
		gso.u.gso.type = (uint8_t)v;
		gso.u.gso.size = (uint16_t)ld(&m->rx_gso_size_next);
	}
	ext = gso.type != XEN_NETIF_EXTRA_TYPE_NONE;
	need = (q->len + chunk - 1) / chunk;
	avail = q->rx.sring->req_prod - q->rx.req_cons;
	xen_rmb();
	if (avail < need + ext) {
		/* Ask for a kick when the guest posts more. */
		q->rx.sring->req_event = q->rx.req_cons + need + ext;
		xen_mb();
		return false;
	}
	st(&m->rx_flags_next, -1);
	st(&m->rx_gso_type_next, -1);
	for (i = 0; i < need + ext; i++)
		RING_COPY_REQUEST(&q->rx, q->rx.req_cons + i, &req[i]);
	for (i = 0; i < need; i++) {
		uint32_t len = q->len - pos < chunk ? q->len - pos : chunk;
		/* Data slot i takes request i, or i + 1 after the GSO slot. */
		uint32_t r = i == 0 ? 0 : i + ext;

		memset(&seg[i], 0, sizeof(seg[i]));
		seg[i].source.virt = q->frame + pos;
		seg[i].dest.foreign.ref = req[r].gref;
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
	for (i = 0, j = 0; i < need; i++, j++) {
		netif_rx_response_t *rsp = RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt);

		rsp->id = req[j].id;
		rsp->offset = 0;
		rsp->flags = i + 1 < need ? NETRXF_more_data : 0;
		rsp->status = seg[i].status == GNTST_okay ? (int16_t)seg[i].len : NETIF_RSP_ERROR;
		if (bad && i == 0)
			rsp->status = NETIF_RSP_ERROR;
		q->rx.rsp_prod_pvt++;
		if (i == 0) {
			rsp->flags |= flags;
			if (ext != 0) {
				/* The GSO slot takes the next request's place. */
				netif_extra_info_t *e = (netif_extra_info_t *)
					RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt);

				rsp->flags |= NETRXF_extra_info;
				memset(e, 0, sizeof(netif_rx_response_t));
				*e = gso;
				e->flags = 0;
				q->rx.rsp_prod_pvt++;
				j++;
			}
		}
	}
	q->rx.req_cons += need + ext;
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
		mb_write(m, "feature-gso-tcpv4", m->offer_gso ? "1" : "0");
		mb_write(m, "feature-gso-tcpv6", m->offer_gso ? "1" : "0");
		mb_write(m, "feature-ipv6-csum-offload", m->offer_ipv6_csum ? "1" : "0");
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
	m->rx_gso_type_next = -1;
	m->rx_flags_next = -1;
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
	struct netfront_rx_meta meta[4096];
	int csum_partial[4096];    /* netfront_csum_check_partial() of the frame */
	int csum_full[4096];       /* netfront_csum_check() */
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
		l->meta[l->n] = q->rx_meta;
		l->csum_partial[l->n] = netfront_csum_check_partial(f, len);
		l->csum_full[l->n] = netfront_csum_check(f, len);
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

/* Poll until the frontend has counted want protocol errors (or timeout_ms). */
static void
poll_until_proto_errors(struct netfront *nf, struct rxlog *l, uint64_t want, int timeout_ms)
{
	struct netfront_stats s;
	int waited;

	for (waited = 0; waited <= timeout_ms; waited += 20) {
		netfront_get_stats(nf, &s);
		if (s.proto_errors >= want || netfront_poll(nf, rx_record, l) < 0)
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

/* The conf of the guest's vif handle: defaults, this run's sim, 5 s waits. */
static void
conf_vif(struct netfront_conf *c, uint16_t handle)
{
	netfront_conf_init(c);
	c->sim_dir = sim_dir;
	c->domid = DOMID;
	c->handle = handle;
	c->timeout_ms = 5000;
}
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
	conf_vif(&c, 0);
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
	conf_vif(&c, 1);
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
	conf_vif(&c, 2);
	c.nr_queues = 2;
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
	conf_vif(&c, 4);
	c.toolstack = false;
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

/* --- Offloads --- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * A TCP or UDP frame of len bytes over IPv4 or IPv6, with vlans VLAN tags
 * and (IPv6) hop-by-hop and destination-options headers when ext; the
 * payload is make_frame's pattern. The checksum field is left 0.
 */
static uint32_t
make_l4(uint8_t *f, uint32_t len, bool v6, bool tcp, int vlans, bool ext, uint32_t seed)
{
	uint32_t o = 12, l3, l4, hl = tcp ? 20 : 8;
	int k;

	make_frame(f, len, seed);
	for (k = 0; k < vlans; k++) {
		put16(f + o, k == 0 && vlans == 2 ? 0x88a8 : 0x8100);
		put16(f + o + 2, (uint16_t)(100 + k));
		o += 4;
	}
	put16(f + o, v6 ? 0x86dd : 0x0800);
	l3 = o + 2;
	if (v6) {
		uint8_t nh = tcp ? 6 : 17;

		memset(f + l3, 0, 40);
		f[l3] = 0x60;
		f[l3 + 7] = 64;
		f[l3 + 8] = 0xfe;
		f[l3 + 9] = 0x80;
		f[l3 + 23] = 1;
		f[l3 + 24] = 0xfe;
		f[l3 + 25] = 0x80;
		f[l3 + 39] = 2;
		l4 = l3 + 40;
		if (ext) {
			/* hop-by-hop (8 bytes), then destination options (16). */
			f[l3 + 6] = 0;
			memset(f + l4, 0, 24);
			f[l4] = 60;
			f[l4 + 1] = 0;
			f[l4 + 2] = 1;     /* PadN over the rest */
			f[l4 + 3] = 4;
			f[l4 + 8] = nh;
			f[l4 + 9] = 1;
			f[l4 + 10] = 1;
			f[l4 + 11] = 12;
			l4 += 24;
		} else {
			f[l3 + 6] = nh;
		}
		put16(f + l3 + 4, (uint16_t)(len - l3 - 40));
	} else {
		memset(f + l3, 0, 20);
		f[l3] = 0x45;
		put16(f + l3 + 2, (uint16_t)(len - l3));
		put16(f + l3 + 4, (uint16_t)seed);
		put16(f + l3 + 6, 0x4000);   /* DF */
		f[l3 + 8] = 64;
		f[l3 + 9] = tcp ? 6 : 17;
		f[l3 + 12] = 169;
		f[l3 + 13] = 254;
		f[l3 + 15] = 1;
		f[l3 + 16] = 169;
		f[l3 + 17] = 254;
		f[l3 + 19] = 2;
		l4 = l3 + 20;
	}
	memset(f + l4, 0, hl);
	put16(f + l4, 40000);
	put16(f + l4 + 2, 5201);
	if (tcp) {
		put16(f + l4 + 4, (uint16_t)(seed >> 16));
		put16(f + l4 + 6, (uint16_t)seed);
		f[l4 + 12] = 5 << 4;
		f[l4 + 13] = 0x18 | 0x01;  /* PSH ACK FIN */
		put16(f + l4 + 14, 65535);
	} else {
		put16(f + l4 + 4, (uint16_t)(len - l4));
	}
	return l4;
}

struct segs {
	unsigned int n;
	uint32_t total;            /* payload bytes */
	uint32_t hdr;
	uint8_t payload[NETFRONT_MAX_FRAME];
	bool sums_ok;
	unsigned int fin;
};

static int
seg_take(void *arg, const uint8_t *seg, uint32_t len)
{
	struct segs *s = arg;

	if (netfront_csum_check(seg, len) != 1)
		s->sums_ok = false;
	if (s->total + len - s->hdr > sizeof(s->payload))
		return -1;
	memcpy(s->payload + s->total, seg + s->hdr, len - s->hdr);
	s->total += len - s->hdr;
	if (seg[s->hdr - 20 + 13] & 0x01)
		s->fin++;
	s->n++;
	return 0;
}

static void
test_offload_helpers(void)
{
	uint8_t *f = malloc(NETFRONT_MAX_FRAME), *g = malloc(NETFRONT_MAX_FRAME);
	struct segs *sg = calloc(1, sizeof(*sg));
	struct netfront_l4 l4;
	uint32_t l4off;
	int v6, tcp, vlans, ext;

	printf("offload helpers: checksums over IPv4/IPv6, VLAN tags, extension headers; "
		"TCP segmentation\n");
	for (v6 = 0; v6 < 2; v6++)
	for (tcp = 0; tcp < 2; tcp++)
	for (vlans = 0; vlans < 3; vlans++)
	for (ext = 0; ext < 1 + v6; ext++) {
		l4off = make_l4(f, 1000 + 77 * vlans, v6, tcp, vlans, ext, 3);
		CHECK(netfront_l4_parse(f, 1000 + 77 * vlans, &l4) == 0 &&
			l4.l4_off == l4off && l4.proto == (tcp ? 6 : 17) && l4.ipv6 == v6,
			"parse v6 %d tcp %d vlans %d ext %d: l4 at %u (want %u)",
			v6, tcp, vlans, ext, l4.l4_off, l4off);
		CHECK(netfront_csum_fill(f, 1000 + 77 * vlans) == 0, "fill");
		CHECK(netfront_csum_check(f, 1000 + 77 * vlans) == 1, "full checksum right "
			"(v6 %d tcp %d vlans %d ext %d)", v6, tcp, vlans, ext);
		f[900] ^= 0x10;
		CHECK(netfront_csum_check(f, 1000 + 77 * vlans) == 0, "a flipped bit shows");
		f[900] ^= 0x10;
		memcpy(g, f, 1000 + 77 * vlans);
		CHECK(netfront_csum_partial(g, 1000 + 77 * vlans) == 0, "partial");
		CHECK(netfront_csum_check_partial(g, 1000 + 77 * vlans) == 1, "pseudo sum");
		CHECK(netfront_csum_check(g, 1000 + 77 * vlans) == 0, "a partial sum is no checksum");
		/* Completing it as virtio's NEEDS_CSUM does gives the full one. */
		CHECK(netfront_csum_at(g, 1000 + 77 * vlans, l4.l4_off, l4.csum_off) == 0 &&
			memcmp(f, g, 1000 + 77 * vlans) == 0, "csum_at completes the partial sum");
	}
	/* What is not TCP/UDP over IP, and what does not hold together. */
	make_frame(f, 100, 1);
	CHECK(netfront_l4_parse(f, 100, &l4) == -ENOENT, "not IP");
	make_l4(f, 200, false, false, 0, false, 1);
	f[20] = 0x20;                 /* more fragments */
	CHECK(netfront_l4_parse(f, 200, &l4) == -ENOENT, "IPv4 fragment");
	make_l4(f, 200, false, true, 0, false, 1);
	CHECK(netfront_l4_parse(f, 150, &l4) == -EINVAL, "IPv4 length beyond the frame");
	make_l4(f, 200, true, false, 0, false, 1);
	f[14 + 6] = 44;
	CHECK(netfront_l4_parse(f, 200, &l4) == -ENOENT, "IPv6 fragment header");
	make_l4(f, 200, true, false, 0, true, 1);
	f[14 + 40 + 1] = 200;         /* hop-by-hop longer than the packet */
	CHECK(netfront_l4_parse(f, 200, &l4) == -EINVAL, "extension header beyond the packet");
	make_l4(f, 200, false, true, 0, false, 1);
	f[14 + 20 + 12] = 15 << 4;    /* 60-byte TCP header in 166 bytes: fine */
	CHECK(netfront_l4_parse(f, 200, &l4) == 0 && l4.l4_hlen == 60, "TCP options");
	make_l4(f, 60, false, true, 0, false, 1);
	f[14 + 20 + 12] = 15 << 4;
	CHECK(netfront_l4_parse(f, 60, &l4) == -EINVAL, "TCP header beyond the packet");
	CHECK(netfront_l4_parse(f, 13, &l4) == -EINVAL, "13 bytes");

	/* Segmentation: 30000 bytes of TCP/IPv6 in 1448-byte segments. */
	for (v6 = 0; v6 < 2; v6++) {
		uint32_t len = 30000, hdr;

		l4off = make_l4(f, len, v6, true, v6, v6, 77);
		hdr = l4off + 20;
		memset(sg, 0, sizeof(*sg));
		sg->hdr = hdr;
		sg->sums_ok = true;
		CHECK(netfront_tcp_segment(f, len, 1448, false, seg_take, sg) ==
			(int)((len - hdr + 1447) / 1448), "segments (v6 %d)", v6);
		CHECK(sg->total == len - hdr && memcmp(sg->payload, f + hdr, len - hdr) == 0,
			"payload whole and in order");
		CHECK(sg->sums_ok, "every segment's checksum right");
		CHECK(sg->fin == 1, "FIN on the last segment only (%u)", sg->fin);
	}
	CHECK(netfront_tcp_segment(f, 30000, 0, false, seg_take, sg) == -EINVAL, "mss 0");
	make_l4(f, 3000, false, false, 0, false, 1);
	CHECK(netfront_tcp_segment(f, 3000, 1000, false, seg_take, sg) == -EINVAL, "UDP");
	free(sg);
	free(f);
	free(g);
}

/* Send f, wait for its echo; its index in l, or -1. */
static int
send_meta_echo(struct netfront *nf, struct rxlog *l, const uint8_t *f, uint32_t len,
		const struct netfront_tx_meta *meta)
{
	uint32_t before = l->n;
	int ret;

	ret = netfront_send_meta(nf, f, len, meta);
	CHECK(ret == 0, "send_meta of %u bytes: %d", len, ret);
	if (ret != 0)
		return -1;
	poll_until(nf, l, before + 1, 3000);
	CHECK(l->n == before + 1, "echo of %u bytes came back", len);
	if (l->n != before + 1)
		return -1;
	CHECK(l->len[before] == len && l->sum[before] == fnv(f, len), "echo whole");
	return (int)before;
}

static void
test_offloads(void)
{
	struct netfront_tx_meta meta;
	struct netfront_conf c;
	struct netfront *nf;
	struct netfront_stats s;
	struct rxlog *l = calloc(1, sizeof(*l));
	uint8_t *f = malloc(NETFRONT_MAX_FRAME);
	uint32_t i;
	struct mb m;
	int k;

	printf("offloads negotiated: csum_blank and GSO slots both ways\n");
	CHECK(mb_start(&m, sim_dir, DOMID, 5) == 0, "backend thread");
	m.offer_gso = true;
	m.offer_ipv6_csum = true;
	conf_vif(&c, 5);
	nf = netfront_open(&c);
	CHECK(nf != NULL, "open");
	if (nf == NULL)
		goto out;
	CHECK(netfront_connect(nf) == 0, "connect");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/5/feature-gso-tcpv4", "1"), "");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/5/feature-gso-tcpv6", "1"), "");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/5/feature-ipv6-csum-offload", "1"), "");
	{
		char *v = xs_get(xs, "/local/domain/7/device/vif/5/feature-no-csum-offload");

		CHECK(v == NULL, "no feature-no-csum-offload (%s)", v);
		free(v);
	}
	CHECK(nf->be_gso_tcpv4 && nf->be_gso_tcpv6 && nf->be_ipv6_csum, "backend features read");
	CHECK(nf->tx_csum && nf->tx_csum_ipv6 && nf->tx_gso_tcpv4 && nf->tx_gso_tcpv6,
		"everything negotiated");

	/* UDP/IPv4 with a blank checksum, as Linux sends CHECKSUM_PARTIAL. */
	make_l4(f, 1400, false, false, 0, false, 1);
	CHECK(netfront_csum_partial(f, 1400) == 0, "partial");
	meta = (struct netfront_tx_meta){ .flags = NETTXF_csum_blank | NETTXF_data_validated };
	k = send_meta_echo(nf, l, f, 1400, &meta);
	CHECK(m.tx_csum_blank == 1 && m.tx_validated == 1 && m.tx_csum_partial_bad == 0,
		"backend saw csum_blank|data_validated with the pseudo-header sum");
	if (k >= 0) {
		CHECK(l->meta[k].flags == (NETRXF_csum_blank | NETRXF_data_validated),
			"rx flags 0x%x", l->meta[k].flags);
		CHECK(l->meta[k].gso_type == XEN_NETIF_GSO_TYPE_NONE, "no GSO");
		CHECK(l->csum_partial[k] == 1, "the echo holds the pseudo-header sum");
	}

	/* TCP/IPv6 (VLAN, extension headers) GSO super-frames, many: the
	 * GSO slot's rx buffer must be reposted or the ring runs dry. */
	for (i = 0; i < 300; i++) {
		uint32_t len = 20000 + i * 97;

		make_l4(f, len, true, true, 1, true, i);
		netfront_csum_partial(f, len);
		meta = (struct netfront_tx_meta){
			.flags = NETTXF_csum_blank | NETTXF_data_validated,
			.gso_type = XEN_NETIF_GSO_TYPE_TCPV6, .gso_size = 1428,
		};
		k = send_meta_echo(nf, l, f, len, &meta);
		if (k < 0)
			break;
		if (i == 0) {
			CHECK(m.tx_gso == 1 && m.last_gso_type == XEN_NETIF_GSO_TYPE_TCPV6 &&
				m.last_gso_size == 1428, "backend saw the GSO slot (%u, %u)",
				m.last_gso_type, m.last_gso_size);
			CHECK(l->meta[k].gso_type == XEN_NETIF_GSO_TYPE_TCPV6 &&
				l->meta[k].gso_size == 1428, "rx GSO meta (%u, %u)",
				l->meta[k].gso_type, l->meta[k].gso_size);
		}
	}
	CHECK(i == 300 && m.tx_gso == 300 && m.tx_csum_partial_bad == 0, "300 GSO frames (%u)", i);
	/* TCPv4 GSO on multi-slot rx (1000-byte chunks). */
	m.rx_chunk = 1000;
	make_l4(f, 9000, false, true, 0, false, 9);
	netfront_csum_partial(f, 9000);
	meta = (struct netfront_tx_meta){
		.flags = NETTXF_csum_blank | NETTXF_data_validated,
		.gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1460,
	};
	k = send_meta_echo(nf, l, f, 9000, &meta);
	CHECK(k >= 0 && l->meta[k].gso_type == XEN_NETIF_GSO_TYPE_TCPV4 &&
		l->meta[k].gso_size == 1460, "TCPv4 GSO echoed over 10 slots");
	m.rx_chunk = XENSIM_PAGE_SIZE;
	/* data_validated alone, full checksum. */
	make_l4(f, 3000, true, false, 0, false, 4);
	netfront_csum_fill(f, 3000);
	meta = (struct netfront_tx_meta){ .flags = NETTXF_data_validated };
	k = send_meta_echo(nf, l, f, 3000, &meta);
	CHECK(k >= 0 && l->meta[k].flags == NETRXF_data_validated && l->csum_full[k] == 1,
		"data_validated echoed, checksum right");
	netfront_get_stats(nf, &s);
	CHECK(s.proto_errors == 0 && s.rx_errors == 0 && s.tx_errors == 0,
		"clean (%" PRIu64 " %" PRIu64 " %" PRIu64 ")", s.proto_errors, s.rx_errors,
		s.tx_errors);
	CHECK(s.tx_gso == 301 && s.rx_gso == 301, "GSO counted (%" PRIu64 ", %" PRIu64 ")",
		s.tx_gso, s.rx_gso);
	CHECK(s.tx_csum_blank == 302 && s.rx_csum_blank == 302 && s.rx_data_validated == 303,
		"csum counted (%" PRIu64 ", %" PRIu64 ", %" PRIu64 ")", s.tx_csum_blank,
		s.rx_csum_blank, s.rx_data_validated);
	CHECK(netfront_tx_inflight(nf) == 0 && nf->q[0].tx_extras_due == 0,
		"every NETIF_RSP_NULL taken");

	/* Refused: metadata out of what the protocol has. */
	meta = (struct netfront_tx_meta){ .gso_type = XEN_NETIF_GSO_TYPE_TCPV4 };
	CHECK(netfront_send_meta(nf, f, 3000, &meta) == -EINVAL, "GSO size 0");
	meta = (struct netfront_tx_meta){ .gso_type = 7, .gso_size = 1000 };
	CHECK(netfront_send_meta(nf, f, 3000, &meta) == -EINVAL, "GSO type 7");
	meta = (struct netfront_tx_meta){ .flags = NETTXF_more_data };
	CHECK(netfront_send_meta(nf, f, 3000, &meta) == -EINVAL, "flags beyond csum");

	/* A hostile backend: bad GSO slots are dropped and counted. */
	st(&m.rx_gso_type_next, 9);
	st(&m.rx_gso_size_next, 1000);
	make_l4(f, 3000, false, true, 0, false, 5);
	netfront_csum_fill(f, 3000);
	i = l->n;
	CHECK(netfront_send(nf, f, 3000) == 0, "send");
	/* Each bad echo taken before the next is set up, else both hit one. */
	poll_until_proto_errors(nf, l, 1, 3000);
	st(&m.rx_gso_type_next, XEN_NETIF_GSO_TYPE_TCPV4);
	st(&m.rx_gso_size_next, 0);
	CHECK(netfront_send(nf, f, 3000) == 0, "send");
	poll_until_proto_errors(nf, l, 2, 3000);
	CHECK(netfront_send(nf, f, 3000) == 0, "send");
	poll_until(nf, l, i + 1, 3000);
	netfront_get_stats(nf, &s);
	CHECK(l->n == i + 1 && l->meta[i].gso_type == XEN_NETIF_GSO_TYPE_NONE,
		"the two bad frames dropped, the next delivered (%u)", l->n - i);
	CHECK(s.rx_errors == 2 && s.proto_errors == 2, "bad GSO slots counted (%" PRIu64
		", %" PRIu64 ")", s.rx_errors, s.proto_errors);
	netfront_close(nf);
out:
	mb_stop(&m);
	CHECK(m.err[0] == '\0', "backend saw: %s", m.err);
	CHECK(m.bad_requests == 0, "bad requests");
	free(l);
	free(f);
}

static void
test_offloads_off(void)
{
	struct netfront_tx_meta meta;
	struct netfront_conf c;
	struct netfront *nf;
	struct netfront_stats s;
	struct rxlog *l = calloc(1, sizeof(*l));
	uint8_t *f = malloc(NETFRONT_MAX_FRAME);
	struct mb m;
	char *v;
	int k;

	printf("offloads not offered, or turned off: refused both ways\n");
	CHECK(mb_start(&m, sim_dir, DOMID, 6) == 0, "backend thread");
	conf_vif(&c, 6);
	nf = netfront_open(&c);
	CHECK(nf != NULL, "open");
	if (nf == NULL)
		goto out;
	CHECK(netfront_connect(nf) == 0, "connect");
	CHECK(nf->tx_csum && !nf->tx_csum_ipv6 && !nf->tx_gso_tcpv4 && !nf->tx_gso_tcpv6,
		"only IPv4 csum_blank to send");
	make_l4(f, 5000, false, true, 0, false, 1);
	netfront_csum_partial(f, 5000);
	meta = (struct netfront_tx_meta){
		.flags = NETTXF_csum_blank | NETTXF_data_validated,
		.gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1460,
	};
	CHECK(netfront_send_meta(nf, f, 5000, &meta) == -EINVAL, "GSO not offered: refused");
	meta.gso_type = XEN_NETIF_GSO_TYPE_NONE;
	meta.gso_size = 0;
	k = send_meta_echo(nf, l, f, 5000, &meta);
	CHECK(k >= 0, "IPv4 csum_blank always allowed");
	make_l4(f, 5000, true, false, 2, false, 1);
	netfront_csum_partial(f, 5000);
	CHECK(netfront_send_meta(nf, f, 5000, &meta) == -EINVAL,
		"IPv6 csum_blank without feature-ipv6-csum-offload: refused");
	netfront_close(nf);

	/* Everything off: the keys say so; a backend sending them anyway is wrong. */
	c.csum = false;
	c.gso = false;
	c.ipv6_csum = false;
	nf = netfront_open(&c);
	CHECK(nf != NULL, "open");
	if (nf == NULL)
		goto out;
	CHECK(netfront_connect(nf) == 0, "connect");
	CHECK(xs_is(xs, "/local/domain/7/device/vif/6/feature-no-csum-offload", "1"), "");
	v = xs_get(xs, "/local/domain/7/device/vif/6/feature-gso-tcpv4");
	CHECK(v == NULL, "no feature-gso-tcpv4");
	free(v);
	v = xs_get(xs, "/local/domain/7/device/vif/6/feature-ipv6-csum-offload");
	CHECK(v == NULL, "no feature-ipv6-csum-offload");
	free(v);
	make_l4(f, 1000, false, false, 0, false, 1);
	netfront_csum_partial(f, 1000);
	meta = (struct netfront_tx_meta){ .flags = NETTXF_csum_blank };
	CHECK(netfront_send_meta(nf, f, 1000, &meta) == -EINVAL, "csum off: csum_blank refused");
	netfront_csum_fill(f, 1000);
	st(&m.rx_flags_next, NETRXF_csum_blank);
	CHECK(netfront_send(nf, f, 1000) == 0, "send");
	/* Each bad echo taken before the next is set up, else both hit one. */
	poll_until_proto_errors(nf, l, 1, 3000);
	st(&m.rx_gso_type_next, XEN_NETIF_GSO_TYPE_TCPV4);
	st(&m.rx_gso_size_next, 1000);
	CHECK(netfront_send(nf, f, 1000) == 0, "send");
	poll_until_proto_errors(nf, l, 2, 3000);
	k = (int)l->n;
	CHECK(netfront_send(nf, f, 1000) == 0, "send");
	poll_until(nf, l, (uint32_t)k + 1, 3000);
	netfront_get_stats(nf, &s);
	CHECK(l->n == (uint32_t)k + 1, "a plain frame after them delivered");
	CHECK(s.rx_errors == 2 && s.proto_errors == 2 && s.rx_packets == 1,
		"csum_blank and GSO we did not ask for: dropped (%" PRIu64 ", %" PRIu64 ")",
		s.rx_errors, s.proto_errors);
	netfront_close(nf);
out:
	mb_stop(&m);
	CHECK(m.err[0] == '\0', "backend saw: %s", m.err);
	free(l);
	free(f);
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
	test_offload_helpers();
	test_offloads();
	test_offloads_off();
	xs_close(xs);
	printf("%u passed, %u failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
