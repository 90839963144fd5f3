/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-evil: a malicious frontend on the simulated platform (issue 13),
 * built on the guest emulator's netfront library and its raw access.
 * For a bounded time it does, at random moments from a printed seed,
 * what a guest can do to its backend:
 *  - valid frames, to keep the backend's paths warm between attacks;
 *  - garbage guest-tx requests: ids, flags (more_data, extra_info and
 *    the checksum bits), offsets, sizes, and grant refs that are valid,
 *    read-only, revoked, the ring's own, out of range or another's;
 *  - garbage guest-rx requests;
 *  - requests rewritten after they were posted;
 *  - shared indices jumping forward and back;
 *  - its grants revoked under the backend;
 *  - event storms on both channels;
 *  - random writes to its own xenstore directory (state, ring refs,
 *    event channels, features, queue keys);
 *  - disconnects and reconnects.
 * It never checks what the backend answers beyond what keeps it going:
 * the test around it checks the backend (test-malicious.sh).
 *
 * Usage: xnb-evil --sim-dir DIR --domid N [--seed S] [--duration SEC]
 * Ends with "xnb-evil: seed=S actions=N ..." (counts per action).
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netfront.h"

#define PROG "xnb-evil: "
#define EV_DIM(a) (sizeof(a) / sizeof((a)[0]))
/* Grants of its own pages it keeps for requests, at most. */
#define EVIL_GRANTS 64

enum act {
	ACT_SEND,
	ACT_GARBAGE_TX,
	ACT_GARBAGE_RX,
	ACT_REWRITE,
	ACT_JUMP,
	ACT_REVOKE,
	ACT_STORM,
	ACT_XENSTORE,
	ACT_STATE,
	ACT_RECONNECT,
	ACT_MAX
};

static const char * const act_names[ACT_MAX] = {
	"send", "garbage_tx", "garbage_rx", "rewrite", "jump", "revoke", "storm",
	"xenstore", "state", "reconnect",
};

/* How often each is drawn, out of the sum. */
static const unsigned int act_weights[ACT_MAX] = {
	30, 20, 10, 8, 5, 5, 3, 8, 3, 2,
};

struct evil {
	struct netfront_conf conf;
	struct netfront *nf;
	uint64_t rng;
	int32_t grants[EVIL_GRANTS];  /* refs of its own pages, -1 free */
	uint64_t counts[ACT_MAX];
	uint64_t actions;
	uint64_t connects;
	uint64_t connect_failures;
	uint8_t frame[NETFRONT_MAX_FRAME];
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* xorshift64*: the whole run follows from the seed. */
static uint32_t
ev_rand(struct evil *e)
{
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return (uint32_t)((e->rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t
ev_below(struct evil *e, uint32_t n)
{
	return n == 0 ? 0 : ev_rand(e) % n;
}

/* A 16-bit value of the kinds that hurt: 0, small, near a page, max, any. */
static uint16_t
ev_u16(struct evil *e)
{
	switch (ev_below(e, 6)) {
	case 0:
		return 0;
	case 1:
		return (uint16_t)ev_below(e, 64);
	case 2:
		return (uint16_t)(4096 - 8 + ev_below(e, 16));
	case 3:
		return 0xffff - (uint16_t)ev_below(e, 4);
	case 4:
		return (uint16_t)(1514 + ev_below(e, 64) - 32);
	default:
		return (uint16_t)ev_rand(e);
	}
}

static void
noop_rx(void *arg, struct netfront_queue *q, const uint8_t *frame, uint32_t len)
{
	(void)arg;
	(void)q;
	(void)frame;
	(void)len;
}

/* A grant ref for a request: its own, read-only, revoked, the ring's, any. */
static uint32_t
ev_gref(struct evil *e, struct netfront_queue *q)
{
	uint32_t i = ev_below(e, EVIL_GRANTS), pfn;
	int ref;

	switch (ev_below(e, 7)) {
	case 0:
	case 1:
		/* A page of its own, granted now (read-only one time in two). */
		if (e->grants[i] >= 0)
			return (uint32_t)e->grants[i];
		pfn = q->tx_pfn_base + ev_below(e, NETFRONT_TX_RING_SIZE);
		ref = netfront_grant(e->nf, pfn, ev_below(e, 2) == 0);
		if (ref < 0)
			return ev_rand(e);
		e->grants[i] = ref;
		return (uint32_t)ref;
	case 2:
		return (uint32_t)q->tx_ring_ref;
	case 3:
		return (uint32_t)q->rx_ring_ref;
	case 4:
		return 0;
	case 5:
		return ev_below(e, 4096);
	default:
		return ev_rand(e);
	}
}

static void
act_garbage_tx(struct evil *e, struct netfront_queue *q)
{
	unsigned int n = 1 + ev_below(e, 12), i;
	netif_tx_request_t *req;

	for (i = 0; i < n; i++) {
		req = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);
		req->gref = ev_gref(e, q);
		req->offset = ev_u16(e);
		req->flags = (uint16_t)(ev_below(e, 4) == 0 ? ev_rand(e) : ev_below(e, 16));
		req->id = ev_below(e, 2) == 0 ? (uint16_t)ev_below(e, NETFRONT_TX_RING_SIZE) :
			(uint16_t)ev_rand(e);
		req->size = ev_u16(e);
		q->tx.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS(&q->tx);
	netfront_notify(q);
}

static void
act_garbage_rx(struct evil *e, struct netfront_queue *q)
{
	unsigned int n = 1 + ev_below(e, 32), i;
	netif_rx_request_t *req;

	for (i = 0; i < n; i++) {
		req = RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt);
		req->id = (uint16_t)ev_rand(e);
		req->gref = ev_gref(e, q);
		q->rx.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS(&q->rx);
	netfront_notify_rx(q);
}

/* Posted requests the backend may not have taken yet, rewritten. */
static void
act_rewrite(struct evil *e, struct netfront_queue *q)
{
	RING_IDX i, from = q->tx.sring->rsp_prod, to = q->tx.req_prod_pvt;
	netif_tx_request_t *req;
	netif_rx_request_t *rreq;

	if (to - from > NETFRONT_TX_RING_SIZE)
		from = to - NETFRONT_TX_RING_SIZE;
	for (i = from; i != to; i++) {
		if (ev_below(e, 3) != 0)
			continue;
		req = RING_GET_REQUEST(&q->tx, i);
		switch (ev_below(e, 4)) {
		case 0:
			req->size = ev_u16(e);
			break;
		case 1:
			req->flags ^= (uint16_t)(1u << ev_below(e, 4));
			break;
		case 2:
			req->gref = ev_gref(e, q);
			break;
		default:
			req->offset = ev_u16(e);
			break;
		}
	}
	for (i = q->rx.sring->rsp_prod; i != q->rx.req_prod_pvt; i++) {
		if (ev_below(e, 4) != 0)
			continue;
		rreq = RING_GET_REQUEST(&q->rx, i);
		rreq->gref = ev_gref(e, q);
	}
	netfront_notify(q);
}

/* The shared producer indices (and event thresholds) set anywhere. */
static void
act_jump(struct evil *e, struct netfront_queue *q)
{
	static const int32_t deltas[] = { 1, 255, 256, 257, 512, -1, -256, 65536, INT32_MAX };
	int32_t d = ev_below(e, 3) == 0 ? (int32_t)ev_rand(e) :
		deltas[ev_below(e, EV_DIM(deltas))];

	if (ev_below(e, 2) == 0) {
		q->tx.sring->req_prod = q->tx.req_prod_pvt + (RING_IDX)d;
		q->tx.sring->rsp_event = ev_rand(e);
		netfront_notify(q);
	} else {
		q->rx.sring->req_prod = q->rx.req_prod_pvt + (RING_IDX)d;
		q->rx.sring->rsp_event = ev_rand(e);
		netfront_notify_rx(q);
	}
}

/* Grants revoked under the backend: its own, a tx buffer's, an rx buffer's. */
static void
act_revoke(struct evil *e, struct netfront_queue *q)
{
	uint32_t i = ev_below(e, EVIL_GRANTS), k;

	if (ev_below(e, 2) == 0 && e->grants[i] >= 0) {
		netfront_ungrant(e->nf, (uint32_t)e->grants[i]);
		e->grants[i] = -1;
		return;
	}
	k = ev_below(e, NETFRONT_RX_RING_SIZE);
	if (q->rx_buf[k].gref >= 0)
		netfront_ungrant(e->nf, (uint32_t)q->rx_buf[k].gref);
	k = ev_below(e, NETFRONT_TX_RING_SIZE);
	if (q->tx_slot[k].gref >= 0)
		netfront_ungrant(e->nf, (uint32_t)q->tx_slot[k].gref);
}

static void
act_storm(struct evil *e, struct netfront_queue *q)
{
	unsigned int n = 1000 + ev_below(e, 20000), i;

	for (i = 0; i < n; i++) {
		if (i & 1)
			netfront_notify_rx(q);
		else
			netfront_notify(q);
	}
}

/* Its own xenstore directory, written with what no frontend should write. */
static void
act_xenstore(struct evil *e)
{
	static const char * const keys[] = {
		"tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx",
		"event-channel-rx", "request-rx-copy", "feature-sg", "feature-rx-notify",
		"feature-gso-tcpv4", "feature-gso-tcpv6", "feature-no-csum-offload",
		"feature-ipv6-csum-offload", "multi-queue-num-queues", "queue-0/tx-ring-ref",
		"queue-0/rx-ring-ref", "queue-0/event-channel", "queue-1/tx-ring-ref",
		"queue-7/event-channel-rx", "state", "mac", "feature-gso-tcpv4-prefix",
	};
	static const char * const values[] = {
		"", "0", "1", "2", "4", "6", "9", "-1", "4294967296", "99999999999999999999",
		"abc", "0x10", " 1", "1 ", "256", "65535", "3\n", "00:00:00:00:00:00",
	};
	char big[1024], value[32];
	const char *v;

	switch (ev_below(e, 4)) {
	case 0:
		snprintf(value, sizeof(value), "%" PRIu32, ev_rand(e));
		v = value;
		break;
	case 1:
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		v = big;
		break;
	default:
		v = values[ev_below(e, EV_DIM(values))];
		break;
	}
	netfront_write_key(e->nf, keys[ev_below(e, EV_DIM(keys))], v);
}

static void
act_send(struct evil *e)
{
	uint32_t len = 60 + ev_below(e, 1514 - 60 + 1), i;

	for (i = 0; i < len; i++)
		e->frame[i] = (uint8_t)ev_rand(e);
	/* Broadcast, so that a switch floods it: the other ports see it too. */
	memset(e->frame, 0xff, 6);
	netfront_send(e->nf, e->frame, len);
}

/* Forget its own grants; revoke them first while the domain is there. */
static void
ev_release_grants(struct evil *e, bool revoke)
{
	unsigned int i;

	for (i = 0; i < EVIL_GRANTS; i++) {
		if (revoke && e->grants[i] >= 0)
			netfront_ungrant(e->nf, (uint32_t)e->grants[i]);
		e->grants[i] = -1;
	}
}

/* Open (toolstack and all) and connect; false when the backend would not. */
static bool
ev_connect(struct evil *e)
{
	if (e->nf == NULL) {
		e->nf = netfront_open(&e->conf);
		if (e->nf == NULL)
			return false;
	}
	if (netfront_connect(e->nf) != 0) {
		e->connect_failures++;
		ev_release_grants(e, false);
		netfront_close(e->nf);
		e->nf = NULL;
		return false;
	}
	e->connects++;
	printf(PROG "connected (%" PRIu64 ")\n", e->connects);
	fflush(stdout);
	return true;
}

/* Take the connection down (the grants go with the domain's queues). */
static void
ev_disconnect(struct evil *e)
{
	ev_release_grants(e, true);
	netfront_disconnect(e->nf);
}

static enum act
ev_pick(struct evil *e)
{
	unsigned int sum = 0, r, i;

	for (i = 0; i < ACT_MAX; i++)
		sum += act_weights[i];
	r = ev_below(e, sum);
	for (i = 0; i < ACT_MAX; i++) {
		if (r < act_weights[i])
			return (enum act)i;
		r -= act_weights[i];
	}
	return ACT_SEND;
}

static void
ev_step(struct evil *e)
{
	struct netfront_queue *q = netfront_queue(e->nf, 0);
	enum act a = ev_pick(e);
	int ret;

	if (q == NULL)
		return;
	e->counts[a]++;
	e->actions++;
	switch (a) {
	case ACT_SEND:
		act_send(e);
		break;
	case ACT_GARBAGE_TX:
		act_garbage_tx(e, q);
		break;
	case ACT_GARBAGE_RX:
		act_garbage_rx(e, q);
		break;
	case ACT_REWRITE:
		act_rewrite(e, q);
		break;
	case ACT_JUMP:
		act_jump(e, q);
		break;
	case ACT_REVOKE:
		act_revoke(e, q);
		break;
	case ACT_STORM:
		act_storm(e, q);
		break;
	case ACT_XENSTORE:
		act_xenstore(e);
		break;
	case ACT_STATE:
		netfront_set_state(e->nf, (enum xenbus_state)ev_below(e, 10));
		break;
	case ACT_RECONNECT:
		ev_disconnect(e);
		return;
	default:
		break;
	}
	/* What the backend answered, as far as it keeps the guest going. */
	ret = netfront_poll(e->nf, noop_rx, NULL);
	if (ret == -ENOTCONN || ret == -EPROTO || netfront_check_backend(e->nf) != 0)
		ev_disconnect(e);
}

static void
usage(void)
{
	fprintf(stderr, "usage: xnb-evil --sim-dir DIR --domid N [--handle H] [--seed S] [--duration SEC]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sim-dir", required_argument, NULL, 'd' },
		{ "domid", required_argument, NULL, 'i' },
		{ "handle", required_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct evil e;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32), end;
	unsigned int duration = 30, i;
	int opt;

	netfront_conf_init(&e.conf);
	e.conf.timeout_ms = 2000;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			e.conf.sim_dir = optarg;
			break;
		case 'i':
			e.conf.domid = (uint16_t)strtoul(optarg, NULL, 0);
			break;
		case 'H':
			e.conf.handle = (uint16_t)strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 't':
			duration = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (e.conf.sim_dir == NULL || e.conf.domid == 0) {
		usage();
		return 2;
	}
	e.conf.mac[0] = 0x02;
	e.conf.mac[4] = (uint8_t)(e.conf.domid >> 8);
	e.conf.mac[5] = (uint8_t)e.conf.domid;
	e.conf.seed = (uint32_t)seed;
	e.rng = seed != 0 ? seed : 1;
	for (i = 0; i < EVIL_GRANTS; i++)
		e.grants[i] = -1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf(PROG "seed=%" PRIu64 " dom%u vif%u for %u s\n", seed, e.conf.domid,
		e.conf.handle, duration);
	fflush(stdout);

	end = now_ms() + (uint64_t)duration * 1000;
	while (!stop && now_ms() < end) {
		if ((e.nf == NULL || !e.nf->connected) && !ev_connect(&e)) {
			usleep(100 * 1000);
			continue;
		}
		ev_step(&e);
	}
	netfront_close(e.nf);

	printf(PROG "seed=%" PRIu64 " actions=%" PRIu64 " connects=%" PRIu64
		" connect_failures=%" PRIu64, seed, e.actions, e.connects, e.connect_failures);
	for (i = 0; i < ACT_MAX; i++)
		printf(" %s=%" PRIu64, act_names[i], e.counts[i]);
	printf("\n");
	return 0;
}
