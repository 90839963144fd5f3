/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * fuzz-frontend-keys: the frontend's xenstore keys (and the toolstack's
 * in the backend directory) as xnb reads them, through the production
 * XenBus code: xnb_xenbus_update() passes (xnb_xenbus.c: the number of
 * queues, the feature flags, each queue's ring refs and event channels,
 * split or not, queue-N subdirectories, the hotplug keys, the owner
 * record, the toolstack's rate node), domain= resolution (xnb_follow.c), xnb_xenstore.c's strict
 * reads and xnb_number.c's parser.
 *
 * The seam: this file defines the libxenstore calls xnb makes (xs_read,
 * xs_write, xs_directory, xs_watch, ...) over an in-memory store, so the
 * link resolves xnb's calls here rather than to libxenstore: no daemon,
 * thousands of passes a second. The port's queue operations are ours too.
 *
 * Input: u8 mode (bit 0: domain=NAME rather than domid=7; bits 1-3:
 * queues offered - 1; bits 4-7: queue pairs the application configured,
 * % 9), u8 offloads= (XNB_OFFLOAD_*), u8 hotplug= (% 3), then actions
 * (u8 op % OP_COUNT):
 *   SET   u8 key, [u8 qualifier], u8 n, n bytes: write a key (key_path(): a
 *         frontend or backend key, a queue-N key, /local/domain/N/name,
 *         or an entry or frontend key of any name)
 *   RM    u8 key, [u8 ...]: remove it
 *   PASS  one xnb_xenbus_update(), acted on as the port does
 *   FATAL u8 queue, u8 why: xnb_xenbus_fatal()
 *   RESULT u8: what the next queue connects return (0, -EPROTO, -ENOENT, -EINVAL)
 *   FAULT u8: bit 0 the next transaction end fails (EAGAIN), bit 1 the
 *         next watch fails, bit 2 the next write fails
 *   APPQ  u8: the queue pairs the application has configured now
 * At the end xnb_xenbus_close() (on_close=keep when bit 7 of the hotplug byte is set).
 *
 * Checks, beyond ASan, UBSan and LeakSanitizer: every queue xnb connects
 * gets exactly the ring refs, event channels (split or not) and features
 * that the keys say when read by an independent strict parser, from the
 * right directory, for a queue count within what was offered and
 * configured; the rate applied is what the rate node says, only while
 * connected; no queue connected twice; connected means every used
 * queue connected and nothing else; xnb writes and removes only under
 * its backend directory, state values 1-6 only; every watch set is
 * removed at close; xnb_parse_dec() and xnb_parse_domid() agree with
 * the independent parser on every value written.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "fuzz_common.h"
#include "xnb_number.h"
#include "xnb_owner.h"
#include "xnb_private.h"
#include "xnb_xenbus.h"
#include "xnb_xenstore.h"

/* --- The store --- */

#define MAX_ENTRIES 256
#define MAX_PATH 300
#define MAX_VAL 200
#define MAX_WATCHES 16

struct entry {
	char path[MAX_PATH];
	char val[MAX_VAL + 1];
	unsigned int len;
};

static struct {
	struct entry e[MAX_ENTRIES];
	unsigned int n;
	char watch[MAX_WATCHES][MAX_PATH];
	unsigned int nb_watch;
	bool open;
	uint8_t fault;
	const char *backend;   /* xnb's writes stay under it */
} xs;

static int fake_handle;

static struct entry *
find(const char *path)
{
	unsigned int i;

	for (i = 0; i < xs.n; i++)
		if (strcmp(xs.e[i].path, path) == 0)
			return &xs.e[i];
	return NULL;
}

static void
store_set(const char *path, const void *val, unsigned int len)
{
	struct entry *e = find(path);

	if (len > MAX_VAL)
		len = MAX_VAL;
	if (e == NULL) {
		if (xs.n == MAX_ENTRIES || strlen(path) >= MAX_PATH)
			return;
		e = &xs.e[xs.n++];
		snprintf(e->path, sizeof(e->path), "%s", path);
	}
	memcpy(e->val, val, len);
	e->val[len] = '\0';
	e->len = len;
}

static void
store_rm(const char *path)
{
	size_t n = strlen(path);
	unsigned int i = 0;

	while (i < xs.n) {
		if (strcmp(xs.e[i].path, path) == 0 ||
				(strncmp(xs.e[i].path, path, n) == 0 && xs.e[i].path[n] == '/'))
			xs.e[i] = xs.e[--xs.n];
		else
			i++;
	}
}

/* Where xnb may write: its backend directory. */
static void
check_ours(const char *path)
{
	size_t n = strlen(xs.backend);

	FZ_CHECK(xs.backend[0] != '\0' && strncmp(path, xs.backend, n) == 0 && path[n] == '/',
		"xnb wrote %s, outside its backend directory %s", path, xs.backend);
}

struct xs_handle *
xs_open(unsigned long flags)
{
	RTE_SET_USED(flags);
	xs.open = true;
	return (struct xs_handle *)&fake_handle;
}

void
xs_close(struct xs_handle *h)
{
	if (h == NULL)
		return;
	FZ_CHECK(h == (struct xs_handle *)&fake_handle && xs.open, "xs_close of %p", (void *)h);
	xs.open = false;
}

void *
xs_read(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *len)
{
	struct entry *e = find(path);
	char *v;

	RTE_SET_USED(t);
	FZ_CHECK(h == (struct xs_handle *)&fake_handle && xs.open, "xs_read on a closed handle");
	if (e == NULL) {
		errno = ENOENT;
		return NULL;
	}
	v = malloc(e->len + 1);
	FZ_CHECK(v != NULL, "malloc");
	memcpy(v, e->val, e->len + 1);
	if (len != NULL)
		*len = e->len;
	return v;
}

bool
xs_write(struct xs_handle *h, xs_transaction_t t, const char *path, const void *data,
		unsigned int len)
{
	const struct entry *fe;
	unsigned long fstate;
	char v[16];
	unsigned int i;

	RTE_SET_USED(t);
	FZ_CHECK(h == (struct xs_handle *)&fake_handle && xs.open, "xs_write on a closed handle");
	check_ours(path);
	if (strcmp(path + strlen(xs.backend), "/state") == 0) {
		FZ_CHECK(len == 1, "state of %u bytes", len);
		memcpy(v, data, len);
		/*
		 * 1-6, or Reconfigured (8) answering a frontend that is
		 * Reconfiguring (7), its state read as xnb reads a number
		 * ("007" too, as Linux's xenbus_scanf("%d") does).
		 */
		fe = find("/local/domain/7/device/vif/0/state");
		FZ_CHECK((v[0] >= '1' && v[0] <= '6') || (v[0] == '8' && fe != NULL &&
			xnb_parse_dec(fe->val, XenbusStateReconfigured, false, &fstate) == 0 &&
			fstate == XenbusStateReconfiguring), "state %c written, the frontend's \"%s\"",
			v[0], fe != NULL ? fe->val : "(none)");
	}
	for (i = 0; i < len; i++)
		FZ_CHECK(((const char *)data)[i] != '\0', "a NUL in a value written");
	if (xs.fault & 4) {
		xs.fault &= ~4;
		errno = EACCES;
		return false;
	}
	store_set(path, data, len);
	return true;
}

bool
xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	RTE_SET_USED(t);
	FZ_CHECK(h == (struct xs_handle *)&fake_handle && xs.open, "xs_rm on a closed handle");
	check_ours(path);
	store_rm(path);
	return true;
}

char **
xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path, unsigned int *num)
{
	const char *names[MAX_ENTRIES];
	size_t lens[MAX_ENTRIES], n = strlen(path), total = 0, k;
	unsigned int i, j, count = 0;
	const char *rest, *slash;
	char **out, *p;

	RTE_SET_USED(t);
	FZ_CHECK(h == (struct xs_handle *)&fake_handle && xs.open, "xs_directory on a closed handle");
	for (i = 0; i < xs.n; i++) {
		if (strncmp(xs.e[i].path, path, n) != 0 || xs.e[i].path[n] != '/')
			continue;
		rest = xs.e[i].path + n + 1;
		slash = strchr(rest, '/');
		k = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
		for (j = 0; j < count; j++)
			if (lens[j] == k && strncmp(names[j], rest, k) == 0)
				break;
		if (j < count)
			continue;
		names[count] = rest;
		lens[count++] = k;
		total += k + 1;
	}
	if (count == 0) {
		errno = ENOENT;
		return NULL;
	}
	/* One allocation, as libxenstore's: the caller frees it whole. */
	out = malloc(count * sizeof(char *) + total);
	FZ_CHECK(out != NULL, "malloc");
	p = (char *)(out + count);
	for (j = 0; j < count; j++) {
		memcpy(p, names[j], lens[j]);
		p[lens[j]] = '\0';
		out[j] = p;
		p += lens[j] + 1;
	}
	*num = count;
	return out;
}

bool
xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	RTE_SET_USED(token);
	FZ_CHECK(h == (struct xs_handle *)&fake_handle && xs.open, "xs_watch on a closed handle");
	if (xs.fault & 2) {
		xs.fault &= ~2;
		errno = ENOSPC;
		return false;
	}
	FZ_CHECK(xs.nb_watch < MAX_WATCHES, "%u watches", xs.nb_watch);
	snprintf(xs.watch[xs.nb_watch++], MAX_PATH, "%s", path);
	return true;
}

bool
xs_unwatch(struct xs_handle *h, const char *path, const char *token)
{
	unsigned int i;

	RTE_SET_USED(token);
	FZ_CHECK(h == (struct xs_handle *)&fake_handle && xs.open, "xs_unwatch on a closed handle");
	for (i = 0; i < xs.nb_watch; i++)
		if (strcmp(xs.watch[i], path) == 0) {
			memmove(xs.watch[i], xs.watch[i + 1], (xs.nb_watch - i - 1) * MAX_PATH);
			xs.nb_watch--;
			return true;
		}
	FZ_CHECK(false, "xs_unwatch of %s, never watched", path);
	return false;
}

char **
xs_check_watch(struct xs_handle *h)
{
	RTE_SET_USED(h);
	errno = EAGAIN;
	return NULL;
}

int
xs_fileno(struct xs_handle *h)
{
	RTE_SET_USED(h);
	errno = EBADF;
	return -1;
}

xs_transaction_t
xs_transaction_start(struct xs_handle *h)
{
	FZ_CHECK(h == (struct xs_handle *)&fake_handle && xs.open, "transaction on a closed handle");
	return 1;
}

bool
xs_transaction_end(struct xs_handle *h, xs_transaction_t t, bool abandon)
{
	RTE_SET_USED(h);
	RTE_SET_USED(abandon);
	FZ_CHECK(t == 1, "transaction %u", t);
	if (xs.fault & 1) {
		xs.fault &= ~1;
		errno = EAGAIN;
		return false;
	}
	return true;
}

/* --- The independent parser --- */

/* A decimal number as xnb must take it: digits only, bounded; canonical: no leading zero. */
static bool
ref_dec(const char *s, size_t len, unsigned long max, bool canonical, unsigned long *v)
{
	unsigned long long n = 0;
	size_t i;

	if (len == 0 || strlen(s) != len || (canonical && s[0] == '0' && len > 1))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		/* n * 10 + d <= max, without overflow. */
		if ((unsigned long)(s[i] - '0') > max ||
				n > (max - (unsigned long)(s[i] - '0')) / 10)
			return false;
		n = n * 10 + (unsigned long long)(s[i] - '0');
	}
	*v = (unsigned long)n;
	return true;
}

/* A frontend key as xnb reads a number: present, shorter than XNB_XS_VALUE_MAX. */
static int
key_num(const char *dir, const char *key, unsigned long max, unsigned long *v)
{
	char path[MAX_PATH];
	struct entry *e;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	e = find(path);
	if (e == NULL)
		return -ENOENT;
	if (e->len >= XNB_XS_VALUE_MAX || !ref_dec(e->val, e->len, max, false, v))
		return -EINVAL;
	return 0;
}

static int
key_bool(const char *dir, const char *key)
{
	unsigned long v;
	int ret = key_num(dir, key, 1, &v);

	return ret == -ENOENT ? 0 : ret != 0 ? -1 : (int)v;
}

/* --- The port --- */

#define FRONTEND "/local/domain/7/device/vif/0"
#define BACKEND "/local/domain/0/backend/vif/7/0"

static struct xnb_xenbus bus;

static struct {
	bool connected[XNB_MAX_QUEUES];
	bool ctrl;                 /* the control ring connected */
	bool mcast;                /* multicast frames filtered */
	uint16_t app_queues;
	int result;
	uint16_t nb_queues;
	uint32_t offloads;
} port;

static uint16_t
ready_queues(void *arg)
{
	RTE_SET_USED(arg);
	return port.app_queues;
}

/* The keys xnb must have read for queue qid: the independent reading. */
static void
check_conf(uint16_t qid, const struct xnb_queue_conf *c)
{
	char dir[MAX_PATH];
	unsigned long num = 1, v;
	int ret, b;
	bool no_csum;

	ret = key_num(bus.frontend, "multi-queue-num-queues", UINT32_MAX, &num);
	FZ_CHECK(ret == 0 || ret == -ENOENT, "connect with a bad multi-queue-num-queues");
	if (ret == -ENOENT)
		num = 1;
	FZ_CHECK(num >= 1 && num <= port.nb_queues && num <= port.app_queues && qid < num,
		"queue %u of %lu connected (offered %u, configured %u)", qid, num,
		port.nb_queues, port.app_queues);
	if (num == 1)
		snprintf(dir, sizeof(dir), "%s", bus.frontend);
	else
		snprintf(dir, sizeof(dir), "%s/queue-%u", bus.frontend, qid);
	FZ_CHECK(key_num(dir, "tx-ring-ref", UINT32_MAX, &v) == 0 && v == c->tx_ring_ref,
		"tx-ring-ref %u", c->tx_ring_ref);
	FZ_CHECK(key_num(dir, "rx-ring-ref", UINT32_MAX, &v) == 0 && v == c->rx_ring_ref,
		"rx-ring-ref %u", c->rx_ring_ref);
	ret = key_num(dir, "event-channel-tx", UINT32_MAX, &v);
	if (ret == 0) {
		FZ_CHECK(c->split && c->evtchn == v, "split: event-channel-tx %lu, got %u (split %d)",
			v, c->evtchn, c->split);
		FZ_CHECK(key_num(dir, "event-channel-rx", UINT32_MAX, &v) == 0 && v == c->evtchn_rx,
			"event-channel-rx");
	} else {
		FZ_CHECK(ret == -ENOENT && !c->split, "a bad event-channel-tx taken");
		FZ_CHECK(key_num(dir, "event-channel", UINT32_MAX, &v) == 0 && v == c->evtchn,
			"event-channel %u", c->evtchn);
	}
	/* Features: each absent, 0 or 1; rx-copy required. */
	FZ_CHECK(key_bool(bus.frontend, "request-rx-copy") == 1 && c->feat.rx_copy, "rx-copy");
	b = key_bool(bus.frontend, "feature-sg");
	FZ_CHECK(b >= 0 && c->feat.sg == (b == 1), "feature-sg");
	b = key_bool(bus.frontend, "feature-rx-notify");
	FZ_CHECK(b >= 0 && c->feat.rx_notify == (b == 1), "feature-rx-notify");
	b = key_bool(bus.frontend, "feature-no-csum-offload");
	FZ_CHECK(b >= 0, "feature-no-csum-offload");
	no_csum = b == 1;
	FZ_CHECK(c->feat.csum4 == (!no_csum && (port.offloads & XNB_OFFLOAD_CSUM)), "csum4");
	b = key_bool(bus.frontend, "feature-ipv6-csum-offload");
	FZ_CHECK(b >= 0 && c->feat.csum6 == (b == 1 && (port.offloads & XNB_OFFLOAD_CSUM)),
		"csum6");
	b = key_bool(bus.frontend, "feature-gso-tcpv4");
	FZ_CHECK(b >= 0 && c->feat.gso4 == (b == 1 && c->feat.sg && c->feat.csum4 &&
		(port.offloads & XNB_OFFLOAD_TSO4)), "gso4");
	b = key_bool(bus.frontend, "feature-gso-tcpv6");
	FZ_CHECK(b >= 0 && c->feat.gso6 == (b == 1 && c->feat.sg && c->feat.csum6 &&
		(port.offloads & XNB_OFFLOAD_TSO6)), "gso6");
	FZ_CHECK(key_bool(bus.frontend, "feature-gso-tcpv4-prefix") >= 0 &&
		key_bool(bus.frontend, "feature-gso-tcpv6-prefix") >= 0, "prefix keys");
}

static int
queue_connect(void *arg, uint16_t qid, const struct xnb_queue_conf *c)
{
	RTE_SET_USED(arg);
	FZ_CHECK(qid < XNB_MAX_QUEUES && qid < port.nb_queues, "connect of queue %u", qid);
	FZ_CHECK(!port.connected[qid], "queue %u connected twice", qid);
	check_conf(qid, c);
	if (port.result != 0)
		return port.result;
	port.connected[qid] = true;
	return 0;
}

static void
queue_disconnect(void *arg, uint16_t qid)
{
	RTE_SET_USED(arg);
	FZ_CHECK(qid < port.nb_queues, "disconnect of queue %u", qid);
	port.connected[qid] = false;
}

/* The toolstack's rate node as xnb must read it: "BYTES,USEC", else no limit. */
static void
set_rate(void *arg, uint64_t bytes, uint64_t usec)
{
	struct entry *e = find(BACKEND "/rate");
	unsigned long b = 0, u = 0;
	const char *comma;

	RTE_SET_USED(arg);
	char first[64];

	if (e != NULL && e->len < 64 && strlen(e->val) == e->len &&
			(comma = strchr(e->val, ',')) != NULL) {
		snprintf(first, sizeof(first), "%.*s", (int)(comma - e->val), e->val);
		if (!ref_dec(first, strlen(first), UINT32_MAX * 1024ul, false, &b) ||
				!ref_dec(comma + 1, strlen(comma + 1), UINT32_MAX, false, &u))
			b = u = 0;
	}
	if (b == 0 || u == 0)
		b = u = 0;
	FZ_CHECK(bytes == b && usec == u, "rate %lu,%lu applied; the node says %lu,%lu",
		(unsigned long)bytes, (unsigned long)usec, b, u);
	FZ_CHECK(bus.connected, "a rate applied while disconnected");
}

/* The control ring xnb connects: the refs the frontend wrote, once. */
static int
ctrl_connect(void *arg, uint32_t ring_ref, uint32_t evtchn, uint16_t nb_queues,
		const char *kept)
{
	unsigned long ref, ev;

	RTE_SET_USED(arg);
	RTE_SET_USED(kept);
	FZ_CHECK(!port.ctrl, "control ring connected twice");
	FZ_CHECK(key_num(FRONTEND, "ctrl-ring-ref", UINT32_MAX, &ref) == 0 && ref == ring_ref,
		"ctrl-ring-ref %u", ring_ref);
	FZ_CHECK(key_num(FRONTEND, "event-channel-ctrl", UINT32_MAX, &ev) == 0 && ev == evtchn,
		"event-channel-ctrl %u", evtchn);
	FZ_CHECK(nb_queues >= 1 && nb_queues <= port.nb_queues, "%u queues", nb_queues);
	if (port.result != 0)
		return port.result;
	port.ctrl = true;
	return 0;
}

static void
ctrl_disconnect(void *arg)
{
	RTE_SET_USED(arg);
	port.ctrl = false;
}

/* Multicast filtering as the frontend asks for it, only while connected. */
static void
set_mcast(void *arg, bool on, bool clear)
{
	RTE_SET_USED(arg);
	if (on)
		FZ_CHECK(bus.connected && key_bool(FRONTEND, "request-multicast-control") == 1,
			"filtering without request-multicast-control=1 or a connection");
	else if (!clear)
		FZ_CHECK(key_bool(FRONTEND, "request-multicast-control") != 1,
			"filtering off while request-multicast-control=1");
	port.mcast = on;
}

/* A new headroom only for a connected frontend, as much as it asks, at most 2048. */
static void
set_headroom(void *arg, uint16_t headroom)
{
	unsigned long v = 0;

	RTE_SET_USED(arg);
	FZ_CHECK(bus.connected, "headroom set while disconnected");
	if (key_num(FRONTEND, "xdp-headroom", UINT16_MAX, &v) != 0)
		v = 0;
	FZ_CHECK(headroom == RTE_MIN(v, (unsigned long)XNB_XDP_HEADROOM_MAX),
		"headroom %u, the frontend asks %lu", headroom, v);
}

static const struct xnb_xenbus_port_ops port_ops = {
	.ready_queues = ready_queues,
	.queue_connect = queue_connect,
	.queue_disconnect = queue_disconnect,
	.set_rate = set_rate,
	.ctrl_connect = ctrl_connect,
	.ctrl_disconnect = ctrl_disconnect,
	.set_mcast = set_mcast,
	.set_headroom = set_headroom,
};

static void
check_connected(void)
{
	uint16_t i;

	for (i = 0; i < port.nb_queues; i++)
		FZ_CHECK(port.connected[i] == (bus.connected && i < bus.nb_connected),
			"queue %u: connected %d, bus connected %d with %u queues", i,
			port.connected[i], bus.connected, bus.nb_connected);
	FZ_CHECK(!port.ctrl || bus.connected, "a control ring without a connection");
	FZ_CHECK(!port.mcast || bus.connected, "multicast filtering without a connection");
}

/* --- Keys --- */

static const char *const fe_keys[] = {
	"state", "tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx",
	"event-channel-rx", "request-rx-copy", "feature-sg", "feature-rx-notify",
	"feature-no-csum-offload", "feature-ipv6-csum-offload", "feature-gso-tcpv4",
	"feature-gso-tcpv6", "feature-gso-tcpv4-prefix", "feature-gso-tcpv6-prefix",
	"multi-queue-num-queues", "protocol", "ctrl-ring-ref", "event-channel-ctrl",
	"request-multicast-control", "xdp-headroom",
};
static const char *const q_keys[] = {
	"tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx", "event-channel-rx",
};
static const char *const be_keys[] = {
	"frontend", "frontend-id", "state", "hotplug-status", "script", XNB_OWNER_KEY,
	"hotplug-error", "rate",
};
#define NB_KEYS (RTE_DIM(fe_keys) + RTE_DIM(q_keys) + RTE_DIM(be_keys) + 2)

/* The path key k names (reading its qualifier from the input). */
static void
key_path(struct fz_in *in, char *path, size_t size)
{
	unsigned int k = fz_u8(in) % NB_KEYS, q;
	char name[64];
	uint8_t n;

	if (k < RTE_DIM(fe_keys)) {
		snprintf(path, size, "%s/%s", FRONTEND, fe_keys[k]);
		return;
	}
	k -= RTE_DIM(fe_keys);
	if (k < RTE_DIM(q_keys)) {
		q = fz_u8(in) % 10;
		snprintf(path, size, "%s/queue-%u/%s", FRONTEND, q, q_keys[k]);
		return;
	}
	k -= RTE_DIM(q_keys);
	if (k < RTE_DIM(be_keys)) {
		snprintf(path, size, "%s/%s", BACKEND, be_keys[k]);
		return;
	}
	k -= RTE_DIM(be_keys);
	/* A domain's name entry, or a key of any name in the frontend's directory. */
	n = fz_u8(in);
	if (k == 0 && n < 200) {
		snprintf(path, size, "/local/domain/%u/name", n);
		return;
	}
	n = (uint8_t)((n - 200) % sizeof(name));
	fz_bytes(in, name, n);
	name[n] = '\0';
	snprintf(path, size, k == 0 ? "/local/domain/%s/name" : FRONTEND "/%s", name);
}

/* Both parsers on a value written. */
static void
check_parsers(const char *val, unsigned int len)
{
	static const unsigned long maxes[] = { 0, 1, 9, 255, 32751, UINT32_MAX, ~0ul };
	unsigned long a = 12345, b = 12345;
	unsigned int i;
	bool canon, ok;
	int ret;

	if (strlen(val) != len)
		return;   /* xnb_xs_read() refuses these before parsing */
	for (i = 0; i < RTE_DIM(maxes); i++)
		for (canon = false; ; canon = true) {
			ret = xnb_parse_dec(val, maxes[i], canon, &a);
			ok = ref_dec(val, len, maxes[i], canon, &b);
			FZ_CHECK((ret == 0) == ok && (!ok || a == b),
				"xnb_parse_dec(\"%s\", %lu, %d): %d %lu, expected %d %lu", val,
				maxes[i], canon, ret, a, ok, b);
			if (canon)
				break;
		}
	ret = xnb_parse_domid(val, &a);
	ok = ref_dec(val, len, XNB_MAX_DOMID, true, &b) && b != 0;
	FZ_CHECK((ret == 0) == ok && (!ok || a == b), "xnb_parse_domid(\"%s\")", val);
}

enum {
	OP_SET,
	OP_RM,
	OP_PASS,
	OP_FATAL,
	OP_RESULT,
	OP_FAULT,
	OP_APPQ,
	OP_COUNT,
};

static void
pass(void)
{
	uint32_t changed;
	uint16_t i;

	changed = xnb_xenbus_update(&bus);
	if (getenv("XNB_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "pass: changed %#x, state %d, connected %d (%u queues), frontend state %s\n",
			changed, bus.state, bus.connected, bus.nb_connected,
			find(FRONTEND "/state") != NULL ? find(FRONTEND "/state")->val : "-");
	check_connected();
	if (changed & XNB_BUS_RETARGET) {
		/* The port's retarget: every queue is disconnected, then the new domain. */
		for (i = 0; i < port.nb_queues; i++)
			FZ_CHECK(!port.connected[i], "retarget with queue %u connected", i);
		FZ_CHECK(bus.retarget_domid != 0 && bus.retarget_domid <= XNB_MAX_DOMID,
			"retarget to dom %u", bus.retarget_domid);
		xnb_xenbus_target(&bus, bus.retarget_domid);
		xs.backend = bus.backend;
	}
}

static void
run(struct fz_in *in)
{
	uint8_t mode = fz_u8(in), off = fz_u8(in), hp = fz_u8(in), n;
	struct xnb_xenbus_conf conf = {
		.name = "fz0",
		.type = "vif",
		.handle = 0,
		.ops = &port_ops,
	};
	char path[MAX_PATH], val[256];
	unsigned int i;
	int r;

	memset(&xs, 0, sizeof(xs));
	memset(&port, 0, sizeof(port));
	xs.backend = "";
	/* The toolstack's vif and a frontend that has just started. */
	store_set(BACKEND "/frontend", FRONTEND, sizeof(FRONTEND) - 1);
	store_set(BACKEND "/frontend-id", "7", 1);
	store_set(BACKEND "/state", "1", 1);
	store_set(FRONTEND "/state", "1", 1);
	store_set(FRONTEND "/backend", BACKEND, sizeof(BACKEND) - 1);
	store_set("/local/domain/7/name", "guest7", 6);
	store_set("/local/domain/0/name", "Domain-0", 8);

	port.nb_queues = (uint16_t)(((mode >> 1) & 7) + 1);
	port.app_queues = (uint16_t)((mode >> 4) % 9);
	port.offloads = off & XNB_OFFLOAD_ALL;
	conf.nb_queues = port.nb_queues;
	conf.offloads = port.offloads;
	conf.hotplug = (enum xnb_hotplug)(hp % 3);
	if (mode & 1) {
		conf.domid = 0;
		conf.domain = "guest7";
	} else {
		conf.domid = 7;
		conf.domain = "";
	}
	xnb_xenbus_init(&bus, &conf);
	FZ_CHECK(xnb_xenbus_open(&bus, xs_open(0)) == 0, "open");
	xs.backend = bus.domid != 0 ? bus.backend : "";

	while (fz_more(in)) {
		switch (fz_u8(in) % OP_COUNT) {
		case OP_SET:
			key_path(in, path, sizeof(path));
			n = fz_u8(in) % (MAX_VAL + 1);
			fz_bytes(in, val, n);
			val[n] = '\0';
			check_parsers(val, n);
			store_set(path, val, n);
			break;
		case OP_RM:
			key_path(in, path, sizeof(path));
			store_rm(path);
			break;
		case OP_PASS:
			pass();
			break;
		case OP_FATAL:
			i = fz_u8(in) % port.nb_queues;
			xnb_xenbus_fatal(&bus, (uint16_t)i, fz_u8(in) % 6);
			check_connected();
			FZ_CHECK(!bus.connected, "connected after a fatal error");
			break;
		case OP_RESULT:
			r = fz_u8(in) % 4;
			port.result = r == 0 ? 0 : r == 1 ? -EPROTO : r == 2 ? -ENOENT : -EINVAL;
			break;
		case OP_FAULT:
			xs.fault = fz_u8(in);
			break;
		case OP_APPQ:
			port.app_queues = fz_u8(in) % 9;
			break;
		}
	}
	xnb_xenbus_close(&bus, (hp >> 7) & 1);
	for (i = 0; i < port.nb_queues; i++)
		FZ_CHECK(!port.connected[i], "queue %u connected after close", i);
	FZ_CHECK(!xs.open, "xenstore left open");
	FZ_CHECK(xs.nb_watch == 0, "%u watches left after close (%s)", xs.nb_watch,
		xs.watch[0]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	run(&in);
	return 0;
}

/* --- Seeds --- */

static struct fz_out o;

static void
s_set(unsigned int key, int qual, const char *v)
{
	fz_put8(&o, OP_SET);
	fz_put8(&o, (uint8_t)key);
	if (qual >= 0)
		fz_put8(&o, (uint8_t)qual);
	fz_put8(&o, (uint8_t)strlen(v));
	fz_put(&o, v, strlen(v));
}

static unsigned int
fe(const char *key)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(fe_keys); i++)
		if (strcmp(fe_keys[i], key) == 0)
			return i;
	abort();
}

static unsigned int
qk(const char *key)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(q_keys); i++)
		if (strcmp(q_keys[i], key) == 0)
			return (unsigned int)RTE_DIM(fe_keys) + i;
	abort();
}

static unsigned int
be(const char *key)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(be_keys); i++)
		if (strcmp(be_keys[i], key) == 0)
			return (unsigned int)(RTE_DIM(fe_keys) + RTE_DIM(q_keys)) + i;
	abort();
}

static void
s_begin(uint8_t mode, uint8_t off, uint8_t hp)
{
	o.n = 0;
	fz_put8(&o, mode);
	fz_put8(&o, off);
	fz_put8(&o, hp);
	fz_put8(&o, OP_PASS);
}

/* Linux's netfront, one queue. */
static void
s_linux(const char *state)
{
	s_set(fe("tx-ring-ref"), -1, "8");
	s_set(fe("rx-ring-ref"), -1, "9");
	s_set(fe("event-channel"), -1, "5");
	s_set(fe("request-rx-copy"), -1, "1");
	s_set(fe("feature-sg"), -1, "1");
	s_set(fe("feature-rx-notify"), -1, "1");
	s_set(fe("feature-gso-tcpv4"), -1, "1");
	s_set(fe("feature-gso-tcpv6"), -1, "1");
	s_set(fe("feature-ipv6-csum-offload"), -1, "1");
	s_set(fe("state"), -1, state);
}

static void
make_seeds(const char *dir)
{
	/* 1 queue offered and configured: connect, then a reboot, then close. */
	s_begin(1 << 4, XNB_OFFLOAD_ALL, 2);
	s_linux("4");
	fz_put8(&o, OP_PASS);
	s_set(fe("state"), -1, "1");
	fz_put8(&o, OP_PASS);
	s_set(fe("state"), -1, "4");
	fz_put8(&o, OP_PASS);
	s_set(fe("state"), -1, "5");
	fz_put8(&o, OP_PASS);
	fz_seed_write(dir, "linux-one-queue", &o);

	/* 4 queues offered, 4 configured, 2 used, split event channels. */
	s_begin(3 << 1 | 4 << 4, XNB_OFFLOAD_CSUM, 2);
	s_linux("3");
	s_set(fe("multi-queue-num-queues"), -1, "2");
	s_set(qk("tx-ring-ref"), 0, "10");
	s_set(qk("rx-ring-ref"), 0, "11");
	s_set(qk("event-channel-tx"), 0, "12");
	s_set(qk("event-channel-rx"), 0, "13");
	s_set(qk("tx-ring-ref"), 1, "20");
	s_set(qk("rx-ring-ref"), 1, "21");
	s_set(qk("event-channel"), 1, "22");
	fz_put8(&o, OP_PASS);
	fz_put8(&o, OP_FATAL); fz_put8(&o, 1); fz_put8(&o, 3);
	s_set(fe("state"), -1, "1");
	fz_put8(&o, OP_PASS);
	s_set(fe("state"), -1, "4");
	fz_put8(&o, OP_PASS);
	fz_seed_write(dir, "multi-queue-split", &o);

	/* Bad values: a sign, a leading space, hex, too long, a NUL, not 0/1. */
	s_begin(1 << 4, XNB_OFFLOAD_ALL, 2);
	s_linux("4");
	s_set(fe("tx-ring-ref"), -1, "+8");
	fz_put8(&o, OP_PASS);
	s_set(fe("tx-ring-ref"), -1, "0x8");
	fz_put8(&o, OP_PASS);
	s_set(fe("tx-ring-ref"), -1, "4294967296");
	fz_put8(&o, OP_PASS);
	s_set(fe("tx-ring-ref"), -1, "0000000008");
	s_set(fe("feature-sg"), -1, "2");
	fz_put8(&o, OP_PASS);
	s_set(fe("feature-sg"), -1, "1");
	s_set(fe("multi-queue-num-queues"), -1, "0");
	fz_put8(&o, OP_PASS);
	s_set(fe("multi-queue-num-queues"), -1, "99");
	fz_put8(&o, OP_PASS);
	s_set(fe("state"), -1, "1");
	fz_put8(&o, OP_PASS);
	s_set(fe("state"), -1, "4");
	s_set(fe("multi-queue-num-queues"), -1, "1");
	s_set(fe("request-rx-copy"), -1, "0");
	fz_put8(&o, OP_PASS);
	fz_seed_write(dir, "bad-values", &o);

	/* The hotplug script: waited for, failed, then connected; an owner record. */
	s_begin(1 << 4, XNB_OFFLOAD_ALL, 0);
	s_set(be("script"), -1, "/etc/xen/scripts/vif-xnb");
	s_linux("4");
	fz_put8(&o, OP_PASS);
	s_set(be("hotplug-status"), -1, "error");
	s_set(be("hotplug-error"), -1, "no such bridge");
	fz_put8(&o, OP_PASS);
	s_set(be("hotplug-status"), -1, "connected");
	fz_put8(&o, OP_PASS);
	s_set(be(XNB_OWNER_KEY), -1, "00000000-0000-0000-0000-000000000000/1/2/other");
	fz_put8(&o, OP_PASS);
	s_set(be("rate"), -1, "125000,20000");
	fz_put8(&o, OP_PASS);
	s_set(be("rate"), -1, "10,");
	fz_put8(&o, OP_PASS);
	fz_seed_write(dir, "hotplug-owner", &o);

	/* domain=: names that collide, entries that are not domids. */
	s_begin(1 | 1 << 4, XNB_OFFLOAD_ALL, 130);
	s_linux("4");
	s_set(NB_KEYS - 2, 9, "guest7");
	/* An entry "007" (not canonical) and one "x" with the same name. */
	fz_put8(&o, OP_SET); fz_put8(&o, NB_KEYS - 2); fz_put8(&o, 203); fz_put(&o, "007", 3);
	fz_put8(&o, 6); fz_put(&o, "guest7", 6);
	fz_put8(&o, OP_SET); fz_put8(&o, NB_KEYS - 2); fz_put8(&o, 201); fz_put(&o, "x", 1);
	fz_put8(&o, 6); fz_put(&o, "guest7", 6);
	fz_put8(&o, OP_PASS);
	fz_put8(&o, OP_PASS);
	s_set(NB_KEYS - 2, 7, "gone");
	fz_put8(&o, OP_PASS);
	fz_seed_write(dir, "domain-name", &o);

	/* Failures: a transaction retried, a refused connect, the app with fewer queues. */
	s_begin(1 << 1 | 1 << 4, XNB_OFFLOAD_ALL, 2);
	fz_put8(&o, OP_FAULT); fz_put8(&o, 1);
	fz_put8(&o, OP_PASS);
	s_linux("4");
	s_set(fe("multi-queue-num-queues"), -1, "2");
	s_set(qk("tx-ring-ref"), 0, "10");
	s_set(qk("rx-ring-ref"), 0, "11");
	s_set(qk("event-channel"), 0, "12");
	s_set(qk("tx-ring-ref"), 1, "20");
	s_set(qk("rx-ring-ref"), 1, "21");
	s_set(qk("event-channel"), 1, "22");
	fz_put8(&o, OP_PASS);
	fz_put8(&o, OP_APPQ); fz_put8(&o, 2);
	fz_put8(&o, OP_RESULT); fz_put8(&o, 1);
	fz_put8(&o, OP_PASS);
	fz_put8(&o, OP_RESULT); fz_put8(&o, 0);
	s_set(fe("state"), -1, "1");
	fz_put8(&o, OP_PASS);
	s_set(fe("state"), -1, "4");
	fz_put8(&o, OP_PASS);
	fz_seed_write(dir, "failures", &o);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	RTE_SET_USED(argc);
	fz_make_seeds_if_asked(make_seeds);
	/* EAL for the log only (no memory is used). */
	fz_eal_init((*argv)[0]);
	return 0;
}
