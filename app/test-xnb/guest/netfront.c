/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * netfront: the guest side of a Xen vif on the simulated platform (see
 * netfront.h). Ring names follow the guest here: "tx" is the guest-tx
 * ring (what we send), "rx" the guest-rx ring (what we receive).
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "netfront.h"
#include "netfront_offload.h"

#define NF_XS_RETRIES 100
#define NF_WATCH_TOKEN "nf-backend-state"

#define NF_ERR(nf, fmt, ...) \
	fprintf(stderr, "netfront dom%u vif%u: " fmt "\n", \
		(nf)->conf.domid, (nf)->conf.handle, ##__VA_ARGS__)

/* --- Small helpers --- */

static uint64_t
nf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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

static const char *
nf_state_str(int s)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured",
	};

	if (s >= 0 && s < (int)(sizeof(names) / sizeof(names[0])))
		return names[s];
	return "invalid";
}

void
netfront_conf_init(struct netfront_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->backend_domid = XENSIM_BACKEND_DOMID;
	c->type = "vif";
	c->sg = true;
	c->rx_notify = true;
	c->csum = true;
	c->ipv6_csum = true;
	c->gso = true;
	c->nr_queues = 1;
	c->toolstack = true;
	c->timeout_ms = NETFRONT_DEFAULT_TIMEOUT_MS;
	c->tx_layout = NETFRONT_TX_VARIED;
	c->seed = 0x9e3779b9u;
}

/* --- xenstore --- */

static bool
nf_cancelled(const struct netfront *nf)
{
	return nf->conf.cancel != NULL && *nf->conf.cancel != 0;
}

/* Read path as a bounded unsigned integer. 0, -ENOENT or -EINVAL. */
static int
nf_read_uint(struct netfront *nf, const char *path, unsigned long max,
		unsigned long *val)
{
	unsigned int len;
	char *s, *end;
	unsigned long v;
	int ret = 0;

	s = xs_read(nf->xs, XBT_NULL, path, &len);
	if (s == NULL)
		return -ENOENT;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (len == 0 || end != s + len || errno != 0 || v > max || s[0] == '-')
		ret = -EINVAL;
	else
		*val = v;
	free(s);
	return ret;
}

/* A backend key read as a boolean feature flag (absent: false). */
static bool
nf_be_feature(struct netfront *nf, const char *key)
{
	char path[256];
	unsigned long v = 0;

	snprintf(path, sizeof(path), "%s/%s", nf->be_path, key);
	if (nf_read_uint(nf, path, ULONG_MAX, &v) != 0)
		return false;
	return v != 0;
}

int
netfront_backend_state(struct netfront *nf)
{
	unsigned long v;
	int ret;

	ret = nf_read_uint(nf, nf->be_state_path, 255, &v);
	if (ret == -ENOENT)
		return XenbusStateUnknown;
	if (ret != 0)
		return -1;           /* garbage: matches no state */
	return (int)v;
}

static bool
nf_xs_write(struct netfront *nf, xs_transaction_t t, const char *dir,
		const char *key, const char *val)
{
	char path[256];

	if (key != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, key);
	else
		snprintf(path, sizeof(path), "%s", dir);
	return xs_write(nf->xs, t, path, val, strlen(val));
}

int
netfront_write_key(struct netfront *nf, const char *key, const char *value)
{
	if (!nf_xs_write(nf, XBT_NULL, nf->fe_path, key, value))
		return -errno;
	return 0;
}

int
netfront_set_state(struct netfront *nf, enum xenbus_state state)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", (int)state);
	return netfront_write_key(nf, "state", v);
}

/* Take every queued watch event; they only say "look again". */
static void
nf_drain_watches(struct netfront *nf)
{
	char **vec;

	while ((vec = xs_check_watch(nf->xs)) != NULL)
		free(vec);
}

/*
 * Wait until the backend's state is one of mask (bit per state), at most
 * timeout_ms. The state seen, -ETIMEDOUT, or -EINTR when cancelled (only
 * the handshake's waits can be: a teardown always gives the backend its
 * bounded time to let go of our pages).
 */
static int
nf_wait_be_state(struct netfront *nf, unsigned int mask, unsigned int timeout_ms,
		bool cancellable)
{
	uint64_t deadline = nf_now_ms() + timeout_ms;
	uint64_t now, left;
	struct pollfd pfd;
	int s;

	pfd.fd = xs_fileno(nf->xs);
	pfd.events = POLLIN;
	for (;;) {
		nf_drain_watches(nf);
		s = netfront_backend_state(nf);
		nf->be_state = s;
		if (s >= 0 && s < 32 && (mask & (1u << s)) != 0)
			return s;
		if (cancellable && nf_cancelled(nf))
			return -EINTR;
		now = nf_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		/* Wake up now and then to look at the cancel flag. */
		left = deadline - now;
		if (left > 200)
			left = 200;
		if (pfd.fd < 0) {
			usleep(left * 1000);
			continue;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}

#define NF_MASK(s) (1u << (s))

/* --- The toolstack --- */

static void
nf_mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		m[0], m[1], m[2], m[3], m[4], m[5]);
}

int
netfront_toolstack_create(struct netfront *nf)
{
	struct xs_permissions be_perms[2] = {
		{ .id = nf->conf.backend_domid, .perms = XS_PERM_NONE },
		{ .id = nf->conf.domid, .perms = XS_PERM_READ },
	};
	struct xs_permissions fe_perms[2] = {
		{ .id = nf->conf.domid, .perms = XS_PERM_NONE },
		{ .id = nf->conf.backend_domid, .perms = XS_PERM_READ },
	};
	char mac[32], num[16], fe_id[16], be_id[16], dom_path[64];
	int tries;

	nf_mac_str(nf->conf.mac, mac, sizeof(mac));
	snprintf(num, sizeof(num), "%u", nf->conf.handle);
	snprintf(fe_id, sizeof(fe_id), "%u", nf->conf.domid);
	snprintf(be_id, sizeof(be_id), "%u", nf->conf.backend_domid);
	snprintf(dom_path, sizeof(dom_path), "/local/domain/%u", nf->conf.domid);

	for (tries = 0; tries < NF_XS_RETRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(nf->xs);
		bool ok;

		if (t == XBT_NULL) {
			NF_ERR(nf, "xenstore transaction start failed: %s", strerror(errno));
			return -errno;
		}
		/* A stale device from a crashed run is replaced, as a new one. */
		xs_rm(nf->xs, t, nf->be_path);
		xs_rm(nf->xs, t, nf->fe_path);

		/* xl writes the name when it creates the domain, before devices. */
		ok = (nf->name[0] == '\0' ||
				nf_xs_write(nf, t, dom_path, "name", nf->name)) &&
			xs_mkdir(nf->xs, t, nf->be_path) &&
			xs_set_permissions(nf->xs, t, nf->be_path, be_perms, 2) &&
			nf_xs_write(nf, t, nf->be_path, "frontend", nf->fe_path) &&
			nf_xs_write(nf, t, nf->be_path, "frontend-id", fe_id) &&
			nf_xs_write(nf, t, nf->be_path, "online", "1") &&
			nf_xs_write(nf, t, nf->be_path, "state", "1") &&
			nf_xs_write(nf, t, nf->be_path, "script", "/bin/true") &&
			nf_xs_write(nf, t, nf->be_path, "mac", mac) &&
			nf_xs_write(nf, t, nf->be_path, "handle", num) &&
			nf_xs_write(nf, t, nf->be_path, "type", "vif") &&
			nf_xs_write(nf, t, nf->be_path, "hotplug-status", "") &&
			xs_mkdir(nf->xs, t, nf->fe_path) &&
			xs_set_permissions(nf->xs, t, nf->fe_path, fe_perms, 2) &&
			nf_xs_write(nf, t, nf->fe_path, "backend", nf->be_path) &&
			nf_xs_write(nf, t, nf->fe_path, "backend-id", be_id) &&
			nf_xs_write(nf, t, nf->fe_path, "handle", num) &&
			nf_xs_write(nf, t, nf->fe_path, "mac", mac) &&
			nf_xs_write(nf, t, nf->fe_path, "state", "1");
		if (!ok) {
			int err = errno;

			xs_transaction_end(nf->xs, t, true);
			NF_ERR(nf, "toolstack: writing %s and %s failed: %s",
				nf->be_path, nf->fe_path, strerror(err));
			return -err;
		}
		if (xs_transaction_end(nf->xs, t, false)) {
			nf->toolstack_done = true;
			return 0;
		}
		if (errno != EAGAIN) {
			NF_ERR(nf, "toolstack: transaction failed: %s", strerror(errno));
			return -errno;
		}
	}
	NF_ERR(nf, "toolstack: transaction kept conflicting (EAGAIN %d times)", tries);
	return -EAGAIN;
}

/* Remove dir, and its parent too once it has no other entry. */
static void
nf_rm_dir_and_empty_parent(struct netfront *nf, xs_transaction_t t, const char *dir)
{
	char parent[256];
	char **ents;
	unsigned int n = 0;
	char *slash;

	xs_rm(nf->xs, t, dir);
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash == NULL || slash == parent)
		return;
	*slash = '\0';
	ents = xs_directory(nf->xs, t, parent, &n);
	if (ents != NULL && n == 0)
		xs_rm(nf->xs, t, parent);
	free(ents);
}

int
netfront_toolstack_destroy(struct netfront *nf)
{
	char path[256];
	int ret = 0, tries, s;
	bool wait = false;

	if (!nf->toolstack_done)
		return 0;

	/* As libxl: a backend already Closed (or gone) is not touched. */
	for (tries = 0; tries < NF_XS_RETRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(nf->xs);

		if (t == XBT_NULL)
			break;
		s = netfront_backend_state(nf);
		wait = s != XenbusStateClosed && s != XenbusStateUnknown;
		if (wait) {
			snprintf(path, sizeof(path), "%s/online", nf->be_path);
			xs_write(nf->xs, t, path, "0", 1);
			snprintf(path, sizeof(path), "%s/state", nf->be_path);
			xs_write(nf->xs, t, path, "5", 1);
		}
		if (xs_transaction_end(nf->xs, t, false) || errno != EAGAIN)
			break;
	}
	if (wait) {
		s = nf_wait_be_state(nf, NF_MASK(XenbusStateClosed) |
				NF_MASK(XenbusStateUnknown), nf->conf.timeout_ms, false);
		if (s < 0) {
			NF_ERR(nf, "toolstack: backend %s did not reach Closed within %u ms "
				"(state %s); removing the device anyway",
				nf->be_path, nf->conf.timeout_ms, nf_state_str(nf->be_state));
			ret = -ETIMEDOUT;
		}
	}
	for (tries = 0; tries < NF_XS_RETRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(nf->xs);

		if (t == XBT_NULL)
			break;
		nf_rm_dir_and_empty_parent(nf, t, nf->be_path);
		nf_rm_dir_and_empty_parent(nf, t, nf->fe_path);
		if (xs_transaction_end(nf->xs, t, false) || errno != EAGAIN)
			break;
	}
	nf->toolstack_done = false;
	return ret;
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
static int
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

static void
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

static int
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

/* --- Open / close --- */


struct netfront *
netfront_open(const struct netfront_conf *conf)
{
	static const uint8_t zero_mac[6];
	struct netfront *nf;
	uint32_t need_pages, nr_grants;
	int err;

	if (conf->sim_dir == NULL || conf->sim_dir[0] == '\0') {
		fprintf(stderr, "netfront: no sim_dir given\n");
		errno = EINVAL;
		return NULL;
	}
	if (conf->nr_queues == 0 || conf->nr_queues > NETFRONT_MAX_QUEUES) {
		fprintf(stderr, "netfront: nr_queues %u is out of range 1-%u\n",
			conf->nr_queues, NETFRONT_MAX_QUEUES);
		errno = EINVAL;
		return NULL;
	}
	if (conf->domid == conf->backend_domid || conf->domid >= DOMID_FIRST_RESERVED) {
		fprintf(stderr, "netfront: domid %u is not a guest domain id "
			"(1-%u, not the backend's %u)\n", conf->domid,
			DOMID_FIRST_RESERVED - 1, conf->backend_domid);
		errno = EINVAL;
		return NULL;
	}

	nf = calloc(1, sizeof(*nf));
	if (nf == NULL)
		return NULL;
	nf->conf = *conf;
	snprintf(nf->sim_dir, sizeof(nf->sim_dir), "%s", conf->sim_dir);
	nf->conf.sim_dir = nf->sim_dir;
	snprintf(nf->type, sizeof(nf->type), "%s",
		conf->type != NULL && conf->type[0] != '\0' ? conf->type : "vif");
	nf->conf.type = nf->type;
	if (conf->name != NULL && strlen(conf->name) >= sizeof(nf->name)) {
		fprintf(stderr, "netfront: domain name %s is longer than %zu characters\n",
			conf->name, sizeof(nf->name) - 1);
		free(nf);
		errno = EINVAL;
		return NULL;
	}
	snprintf(nf->name, sizeof(nf->name), "%s", conf->name != NULL ? conf->name : "");
	nf->conf.name = nf->name;
	if (nf->conf.timeout_ms == 0)
		nf->conf.timeout_ms = NETFRONT_DEFAULT_TIMEOUT_MS;
	nf->be_state = XenbusStateUnknown;
	nf->nr_queues = 0;

	if (memcmp(nf->conf.mac, zero_mac, 6) == 0) {
		/* Xen's OUI, as xl makes them up: 00:16:3e:xx:xx:xx. */
		nf->conf.mac[0] = 0x00;
		nf->conf.mac[1] = 0x16;
		nf->conf.mac[2] = 0x3e;
		nf->conf.mac[3] = (uint8_t)(conf->domid >> 8);
		nf->conf.mac[4] = (uint8_t)conf->domid;
		nf->conf.mac[5] = (uint8_t)conf->handle;
	}

	snprintf(nf->fe_path, sizeof(nf->fe_path), "/local/domain/%u/device/vif/%u",
		conf->domid, conf->handle);
	snprintf(nf->be_path, sizeof(nf->be_path), "/local/domain/%u/backend/%s/%u/%u",
		conf->backend_domid, nf->type, conf->domid, conf->handle);
	snprintf(nf->be_state_path, sizeof(nf->be_state_path), "%s/state", nf->be_path);

	/* The guest domain and its memory. */
	need_pages = nf->conf.pfn_base + (uint32_t)conf->nr_queues * NETFRONT_QUEUE_PAGES;
	if (conf->dom != NULL) {
		nf->dom = conf->dom;
		if (xensim_dom_nr_pages(nf->dom) < need_pages) {
			NF_ERR(nf, "the given domain has %u pages; this vif needs pages up to %u",
				xensim_dom_nr_pages(nf->dom), need_pages);
			err = ENOSPC;
			goto fail;
		}
	} else {
		uint32_t nr_pages = conf->nr_pages != 0 ? conf->nr_pages : need_pages;

		if (nr_pages < need_pages) {
			NF_ERR(nf, "nr_pages %u is too small: %u queue(s) need %u pages",
				nr_pages, conf->nr_queues, need_pages);
			err = EINVAL;
			goto fail;
		}
		nr_grants = conf->nr_grants != 0 ? conf->nr_grants :
			(uint32_t)conf->nr_queues * NETFRONT_QUEUE_PAGES + 64;
		nf->dom = xensim_dom_create(nf->sim_dir, conf->domid, nr_pages, nr_grants);
		if (nf->dom == NULL) {
			err = errno;
			NF_ERR(nf, "cannot create the simulated domain %s/dom%u: %s%s",
				nf->sim_dir, conf->domid, strerror(err), err == ENOENT ?
				" (the sim dir must exist, with xenstored running in it)" : "");
			goto fail;
		}
		nf->own_dom = true;
	}

	/* xenstore: the real client, pointed at the simulation's daemon. */
	nf->xs = xensim_xs_open(nf->sim_dir);
	if (nf->xs == NULL) {
		err = errno;
		NF_ERR(nf, "cannot connect to xenstored at %s/socket (%s): start one with "
			"devtools/xnb-xenstored start %s SHIM", nf->sim_dir, strerror(err),
			nf->sim_dir);
		goto fail;
	}

	if (nf->conf.toolstack) {
		int ret = netfront_toolstack_create(nf);

		if (ret < 0) {
			err = -ret;
			goto fail;
		}
	}
	return nf;

fail:
	netfront_close(nf);
	errno = err;
	return NULL;
}

void
netfront_close(struct netfront *nf)
{
	if (nf == NULL)
		return;
	if (nf->nr_queues != 0)
		netfront_disconnect(nf);
	if (nf->xs != NULL) {
		bool ts = nf->toolstack_done;

		netfront_toolstack_destroy(nf);
		if (ts && nf->own_dom) {
			/* The domain goes too, as with xl destroy. */
			char path[64];

			snprintf(path, sizeof(path), "/local/domain/%u", nf->conf.domid);
			xs_rm(nf->xs, XBT_NULL, path);
		}
		if (nf->watching)
			xs_unwatch(nf->xs, nf->be_state_path, NF_WATCH_TOKEN);
		xs_close(nf->xs);
	}
	if (nf->own_dom && nf->dom != NULL) {
		xensim_dom_close(nf->dom);
		xensim_dom_destroy(nf->sim_dir, nf->conf.domid);
	}
	free(nf);
}

/* --- The frontend handshake --- */

/* Read the frontend's device keys written by the toolstack (or someone). */
static int
nf_find_backend(struct netfront *nf)
{
	uint64_t deadline = nf_now_ms() + nf->conf.timeout_ms;
	char path[256];
	unsigned int len;
	char *be;

	snprintf(path, sizeof(path), "%s/backend", nf->fe_path);
	for (;;) {
		be = xs_read(nf->xs, XBT_NULL, path, &len);
		if (be != NULL)
			break;
		if (nf_now_ms() >= deadline) {
			NF_ERR(nf, "no %s in xenstore after %u ms: nobody created the device "
				"(run with the toolstack role, or write it first)",
				path, nf->conf.timeout_ms);
			return -ETIMEDOUT;
		}
		if (nf_cancelled(nf))
			return -EINTR;
		usleep(10000);
	}
	if (len == 0 || len >= sizeof(nf->be_path) - 8 || strncmp(be, "/local/domain/", 14) != 0) {
		NF_ERR(nf, "%s holds \"%.*s\", not a backend path", path, (int)len, be);
		free(be);
		return -EINVAL;
	}
	memcpy(nf->be_path, be, len);
	nf->be_path[len] = '\0';
	free(be);
	snprintf(nf->be_state_path, sizeof(nf->be_state_path), "%s/state", nf->be_path);
	return 0;
}

static int
nf_publish(struct netfront *nf)
{
	char path[256], v[16];
	int tries;
	uint16_t i;

	for (tries = 0; tries < NF_XS_RETRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(nf->xs);
		bool ok = true;

		if (t == XBT_NULL)
			return -errno;
		for (i = 0; i < nf->nr_queues && ok; i++) {
			struct netfront_queue *q = &nf->q[i];
			char dir[160];

			if (nf->nr_queues == 1)
				snprintf(dir, sizeof(dir), "%s", nf->fe_path);
			else
				snprintf(dir, sizeof(dir), "%s/queue-%u", nf->fe_path, i);
			snprintf(v, sizeof(v), "%d", q->tx_ring_ref);
			ok = nf_xs_write(nf, t, dir, "tx-ring-ref", v);
			snprintf(v, sizeof(v), "%d", q->rx_ring_ref);
			ok = ok && nf_xs_write(nf, t, dir, "rx-ring-ref", v);
			snprintf(v, sizeof(v), "%d", q->port);
			if (q->port_rx == q->port) {
				ok = ok && nf_xs_write(nf, t, dir, "event-channel", v);
			} else {
				ok = ok && nf_xs_write(nf, t, dir, "event-channel-tx", v);
				snprintf(v, sizeof(v), "%d", q->port_rx);
				ok = ok && nf_xs_write(nf, t, dir, "event-channel-rx", v);
			}
		}
		if (ok && nf->nr_queues > 1) {
			snprintf(v, sizeof(v), "%u", nf->nr_queues);
			ok = nf_xs_write(nf, t, nf->fe_path, "multi-queue-num-queues", v);
		}
		ok = ok && nf_xs_write(nf, t, nf->fe_path, "request-rx-copy", "1");
		if (ok && nf->conf.rx_notify)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-rx-notify", "1");
		if (ok && nf->conf.sg)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-sg", "1");
		/* What we take from the backend, keys as Linux's netfront writes. */
		if (ok && nf->conf.gso)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-gso-tcpv4", "1") &&
				nf_xs_write(nf, t, nf->fe_path, "feature-gso-tcpv6", "1");
		if (ok && nf->conf.ipv6_csum)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-ipv6-csum-offload", "1");
		if (ok && !nf->conf.csum)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-no-csum-offload", "1");
		if (!ok) {
			int err = errno;

			xs_transaction_end(nf->xs, t, true);
			snprintf(path, sizeof(path), "%s", nf->fe_path);
			NF_ERR(nf, "writing the frontend keys under %s failed: %s",
				path, strerror(err));
			return -err;
		}
		if (xs_transaction_end(nf->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

int
netfront_connect(struct netfront *nf)
{
	unsigned long v;
	char path[256];
	uint16_t i, nq;
	int ret, s;

	if (nf->nr_queues != 0)
		return -EISCONN;
	nf->backend_gone = false;
	if (nf->toolstack_done || nf->be_state != XenbusStateUnknown) {
		/* A new connection (again): we start Initialising. */
		ret = netfront_set_state(nf, XenbusStateInitialising);
		if (ret < 0)
			return ret;
	}

	if (!nf->conf.toolstack || !nf->toolstack_done) {
		ret = nf_find_backend(nf);
		if (ret < 0)
			return ret;
	}
	if (!nf->watching) {
		if (!xs_watch(nf->xs, nf->be_state_path, NF_WATCH_TOKEN)) {
			NF_ERR(nf, "cannot watch %s: %s", nf->be_state_path, strerror(errno));
			return -errno;
		}
		nf->watching = true;
	}

	s = nf_wait_be_state(nf, NF_MASK(XenbusStateInitWait), nf->conf.timeout_ms, true);
	if (s < 0) {
		if (s == -ETIMEDOUT)
			NF_ERR(nf, "the backend %s did not reach InitWait within %u ms (state %s): "
				"is the backend (the xnb port for domid %u) running?",
				nf->be_path, nf->conf.timeout_ms, nf_state_str(nf->be_state),
				nf->conf.domid);
		return s;
	}

	/* What the backend offers. */
	nf->be_rx_copy = nf_be_feature(nf, "feature-rx-copy");
	nf->be_sg = nf_be_feature(nf, "feature-sg");
	nf->be_split_evtchn = nf_be_feature(nf, "feature-split-event-channels");
	nf->be_gso_tcpv4 = nf_be_feature(nf, "feature-gso-tcpv4");
	nf->be_gso_tcpv6 = nf_be_feature(nf, "feature-gso-tcpv6");
	nf->be_ipv6_csum = nf_be_feature(nf, "feature-ipv6-csum-offload");
	snprintf(path, sizeof(path), "%s/multi-queue-max-queues", nf->be_path);
	nf->be_max_queues = nf_read_uint(nf, path, 65535, &v) == 0 ? (unsigned int)v : 1;
	if (nf->be_max_queues == 0)
		nf->be_max_queues = 1;
	if (!nf->be_rx_copy) {
		NF_ERR(nf, "the backend %s does not offer feature-rx-copy; "
			"rx-flip is obsolete and not supported", nf->be_path);
		return -EPROTONOSUPPORT;
	}
	nf->sg = nf->conf.sg && nf->be_sg;
	/*
	 * What we may send, as Linux's xennet_fix_features: IPv4 blank
	 * checksums always, IPv6 ones when the backend offers them; TSO
	 * needs sg and the checksum offload of its IP version.
	 */
	nf->tx_csum = nf->conf.csum;
	nf->tx_csum_ipv6 = nf->conf.csum && nf->be_ipv6_csum;
	nf->tx_gso_tcpv4 = nf->conf.gso && nf->be_gso_tcpv4 && nf->sg && nf->tx_csum;
	nf->tx_gso_tcpv6 = nf->conf.gso && nf->be_gso_tcpv6 && nf->sg && nf->tx_csum_ipv6;
	nq = nf->conf.nr_queues;
	if (nq > nf->be_max_queues) {
		NF_ERR(nf, "the backend allows %u queue(s); using that many instead of %u",
			nf->be_max_queues, nq);
		nq = (uint16_t)nf->be_max_queues;
	}

	for (i = 0; i < nq; i++) {
		ret = nf_queue_setup(nf, i);
		if (ret < 0)
			goto fail;
		nf->nr_queues = (uint16_t)(i + 1);
	}

	ret = nf_publish(nf);
	if (ret < 0)
		goto fail;
	/* Straight from Initialising to Connected, as Linux's netfront. */
	ret = netfront_set_state(nf, XenbusStateConnected);
	if (ret < 0) {
		NF_ERR(nf, "cannot write our state: %s", strerror(-ret));
		goto fail;
	}
	nf->connected = true;

	s = nf_wait_be_state(nf, NF_MASK(XenbusStateConnected) | NF_MASK(XenbusStateClosing) |
			NF_MASK(XenbusStateClosed), nf->conf.timeout_ms, true);
	if (s != XenbusStateConnected) {
		if (s == -ETIMEDOUT)
			NF_ERR(nf, "the backend %s did not reach Connected within %u ms "
				"(state %s)", nf->be_path, nf->conf.timeout_ms,
				nf_state_str(nf->be_state));
		else if (s >= 0)
			NF_ERR(nf, "the backend %s went to %s instead of Connected; "
				"its log says why", nf->be_path, nf_state_str(s));
		ret = s < 0 ? s : -ECONNREFUSED;
		if (s >= 0)
			nf->backend_gone = true;
		netfront_disconnect(nf);
		return ret;
	}
	return 0;

fail:
	while (nf->nr_queues > 0)
		nf_queue_release(&nf->q[--nf->nr_queues]);
	netfront_set_state(nf, XenbusStateClosed);
	return ret;
}

int
netfront_disconnect(struct netfront *nf)
{
	int ret = 0, s;

	if (nf->nr_queues == 0)
		return 0;
	nf->connected = false;
	s = netfront_backend_state(nf);
	if (!nf->backend_gone && s != XenbusStateClosed && s != XenbusStateUnknown) {
		netfront_set_state(nf, XenbusStateClosing);
		s = nf_wait_be_state(nf, NF_MASK(XenbusStateClosing) | NF_MASK(XenbusStateClosed) |
				NF_MASK(XenbusStateUnknown), nf->conf.timeout_ms, false);
		if (s == -ETIMEDOUT) {
			NF_ERR(nf, "the backend did not start closing within %u ms (state %s)",
				nf->conf.timeout_ms, nf_state_str(nf->be_state));
			ret = s;
		}
	}
	netfront_set_state(nf, XenbusStateClosed);
	s = nf_wait_be_state(nf, NF_MASK(XenbusStateClosed) | NF_MASK(XenbusStateUnknown) |
			NF_MASK(XenbusStateInitWait), nf->conf.timeout_ms, false);
	if (s == -ETIMEDOUT) {
		NF_ERR(nf, "the backend did not close within %u ms (state %s)",
			nf->conf.timeout_ms, nf_state_str(nf->be_state));
		ret = s;
	}
	while (nf->nr_queues > 0)
		nf_queue_release(&nf->q[--nf->nr_queues]);
	return ret;
}

/*
 * The backend's state changed under us. Closing or Closed (or its
 * directory removed) while we are connected: we close too, straight to
 * Closed, as Linux's netfront does; resources go in netfront_disconnect.
 */
int
netfront_check_backend(struct netfront *nf)
{
	int s;

	if (nf->backend_gone)
		return -ENOTCONN;
	if (nf->nr_queues == 0)
		return 0;
	s = netfront_backend_state(nf);
	nf->be_state = s;
	if (s == XenbusStateClosing || s == XenbusStateClosed || s == XenbusStateUnknown) {
		NF_ERR(nf, "the backend went to %s; disconnecting", nf_state_str(s));
		nf->backend_gone = true;
		nf->connected = false;
		netfront_set_state(nf, XenbusStateClosed);
		return -ENOTCONN;
	}
	return 0;
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

unsigned int
netfront_pollfds(struct netfront *nf, struct pollfd *pfd, unsigned int max)
{
	unsigned int n = 0, i;

	for (i = 0; i < nf->nr_queues && n < max; i++) {
		pfd[n].fd = xensim_evtchn_fd(nf->q[i].evtchn);
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	if (n < max) {
		pfd[n].fd = nf->watching ? xs_fileno(nf->xs) : -1;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	return n;
}

int
netfront_handle_events(struct netfront *nf, const struct pollfd *pfd, unsigned int n)
{
	unsigned int i;
	int got = 0;

	if (nf->backend_gone)
		return -ENOTCONN;
	for (i = 0; i < nf->nr_queues && i < n; i++) {
		struct netfront_queue *q = &nf->q[i];
		int port;

		if (pfd[i].revents == 0)
			continue;
		while ((port = xensim_evtchn_pending(q->evtchn)) >= 0) {
			xensim_evtchn_unmask(q->evtchn, (uint32_t)port);
			q->stats.events++;
			got = 1;
		}
	}
	if (n == (unsigned int)nf->nr_queues + 1 && pfd[n - 1].revents != 0) {
		nf_drain_watches(nf);
		if (netfront_check_backend(nf) < 0)
			return -ENOTCONN;
		got = 1;
	}
	return got;
}

int
netfront_wait(struct netfront *nf, int timeout_ms)
{
	struct pollfd pfd[NETFRONT_MAX_QUEUES + 1];
	unsigned int n;
	int ret;

	if (nf->backend_gone)
		return -ENOTCONN;
	n = netfront_pollfds(nf, pfd, NETFRONT_MAX_QUEUES + 1);
	ret = poll(pfd, n, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? -EINTR : -errno;
	return netfront_handle_events(nf, pfd, n);
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
