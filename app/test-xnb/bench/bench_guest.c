/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-bench-guest: the guest side of xnb's benchmark (devtools/xnb-bench).
 *
 * A lean traffic guest on the simulated platform. netfront (the library)
 * does the toolstack's writes and the XenBus handshake; after that this
 * program drives the two rings itself, as a fast guest would, so that the
 * guest is not what limits a backend figure:
 *
 *  - one thread, pinned, busy-polling both rings; no sleeping, no
 *    notification requested from the backend (rsp_event is never
 *    re-armed), a notification sent only when the backend asks for one;
 *  - transmit frames are built once: every transmit page is written and
 *    granted (read-only) before the run and stays granted; sending a
 *    frame writes its requests (and in fwd a 4-byte sequence number);
 *  - receive buffers stay granted and are reposted as soon as their
 *    response is read; a received frame's length is checked, and in fwd
 *    mode its sequence number (the frames come back in order). No other
 *    byte is looked at in the timed loop.
 *
 * Ring names follow the guest here: "tx" is the guest-tx ring (what we
 * send: the backend's rx), "rx" the guest-rx ring.
 *
 * Modes: g2b sends as fast as the ring allows; b2g receives; fwd sends
 * --inflight frames and then sends each frame that comes back out again,
 * from the receive buffers it arrived in, without writing to them (a
 * closed loop, as testpmd's "start tx_first" in io mode, whose
 * virtio-user guest sends the received mbufs back untouched). In fwd the
 * transmit pages are granted writable too and join netfront's receive
 * buffers in one pool: a buffer that arrives is replaced on the guest-rx
 * ring by a spare one at once (the ring stays full, as Linux keeps it),
 * and becomes a spare itself when its transmit response is in. The
 * frames keep their sequence numbers (0 ... inflight - 1, written into
 * the transmit pages before the run), so they come back in a fixed
 * cycle; every SEQ_SAMPLE-th frame's number is read and checked against
 * it. Reading every frame would pull each frame's cache line over to
 * this core, and the backend would pay to take it back for its next
 * copy, a cost the testpmd guests of the other systems never cause.
 *
 * Frames (--proto): "raw" (default) is a local experimental ethertype
 * with a pattern; "tcp" and "udp" are valid Ethernet/IPv4/TCP or UDP
 * frames, as a Linux guest sends them, with a full checksum or, with
 * --csum-blank, NETTXF_csum_blank | NETTXF_data_validated and the
 * pseudo-header sum in the checksum field (Linux's CHECKSUM_PARTIAL).
 * --gso MSS sends TCP super-frames of --size bytes (up to 65535) as
 * Linux's netfront sends a TSO skb: blank checksum, the first request,
 * a XEN_NETIF_EXTRA_TYPE_GSO extra-info slot, then the data slots. All
 * of it is written once, before the run: the flags and the extra slot
 * cost a sending frame one more request write, no byte of data. The
 * frontend keys feature-gso-tcpv4 (and the checksum offload keys) are
 * written by netfront as Linux writes them, so the backend may send GSO
 * super-frames to us: the guest-rx ring's GSO extra slots are read (and
 * counted), and in fwd a frame that came with one goes back with one,
 * and with the checksum flags it came with (or, with --csum-blank,
 * always blank: a forwarding guest's stack would leave it so).
 *
 * lat (--rate PPS) times the round trip of single frames: one frame every
 * 1/PPS seconds, the next sent only once the last came back, sent back by
 * the backend's application (testpmd io on one port, xnb-intr-fwd with one
 * port). Each window ends with a "latency" line: the round trips' median,
 * 90th and 99th percentiles and maximum. It is the backend's wake-up that
 * it shows: this guest busy-polls its guest-rx ring, so a frame back in
 * its ring is seen at once.
 *
 * Control: "ready" on stdout once connected; nothing is sent before SIGUSR2
 * ("go": the backend forwards by then; testpmd drops what waits in its rx
 * queues when forwarding starts). Until then the program sleeps (except
 * in b2g, which only receives), so that a guest kept idle costs no cpu:
 * xnb-bench-density keeps many so. Each SIGUSR1 marks a window
 * boundary: each odd one starts a window, each even one prints one "window"
 * line with the rates and counters over it. SIGTERM or SIGINT stops,
 * disconnects and prints a "total" line. --max-seconds bounds the run.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "netfront.h"
#include "netfront_offload.h"

#define PROG "xnb-bench-guest: "
#define PAGE XENSIM_PAGE_SIZE
#define TX_SIZE NETFRONT_TX_RING_SIZE
#define RX_SIZE NETFRONT_RX_RING_SIZE
/* Where the sequence number sits in a raw frame: right after the MAC header. */
#define SEQ_OFF NETFRONT_ETH_HLEN
#define MIN_FRAME (SEQ_OFF + 4)
/* TCP and UDP frames: Ethernet, IPv4 without options, TCP without options. */
#define IP4_HLEN 20
#define TCP_HLEN 20
#define UDP_HLEN 8
/* Frames sent per loop iteration at most. */
#define TX_BATCH 64
/* fwd: one frame in this many has its sequence number checked. */
#define SEQ_SAMPLE 64
/* fwd: a guest-tx id with this bit sends buffer (id & ~REFLECT) back. */
#define REFLECT 0x8000u
/* fwd: buffers 0 ... RX_SIZE - 1 are netfront's receive buffers, then the transmit pages. */
#define NB_BUFS (RX_SIZE + TX_SIZE)

enum mode { MODE_G2B, MODE_B2G, MODE_FWD, MODE_LAT };
static const char *const mode_names[] = { "g2b", "b2g", "fwd", "lat" };

/* lat: round trips kept per window (more are counted, not kept). */
#define LAT_SAMPLES 65536
/* lat: a frame not back after this long is counted lost. */
#define LAT_LOST_NS 1000000000u

enum proto { PROTO_RAW, PROTO_TCP, PROTO_UDP };
static const char *const proto_names[] = { "raw", "tcp", "udp" };

static volatile sig_atomic_t stop_flag;
static volatile int cancel_flag;
static volatile sig_atomic_t marks;
static volatile sig_atomic_t go_flag;

struct counters {
	uint64_t tx_frames;        /* frames posted on the guest-tx ring */
	uint64_t tx_done;          /* frames whose every slot was answered */
	uint64_t tx_errors;        /* slots answered with an error */
	uint64_t tx_blocked;       /* polls that had frames to send and no room;
	                            * fwd: frames not sent back for want of room */
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t rx_slots;
	uint64_t rx_errors;        /* frames with an error status or bad layout */
	uint64_t len_errors;       /* frames not of the expected length */
	uint64_t seq_errors;       /* fwd: sampled frames not in sequence */
	uint64_t proto_errors;     /* responses that break the protocol */
	uint64_t rx_gso;           /* frames received with a GSO extra slot */
	uint64_t rx_csum_blank;    /* frames received with NETRXF_csum_blank */
	uint64_t notifies;
	uint64_t polls;
	uint64_t idle_polls;       /* polls that found nothing to do */
	uint64_t busy_tsc;         /* TSC ticks spent in polls that did work */
	uint64_t lat_lost;         /* lat: frames not back within LAT_LOST_NS */
};

/* lat: one frame out at a time, and the round trips of the window. */
struct latency {
	uint64_t period_ns;        /* 1 / --rate */
	uint64_t next_ns;          /* when the next frame goes */
	uint64_t sent_ns;          /* when the frame out went */
	bool out;                  /* a frame is out */
	uint32_t n;                /* round trips kept */
	uint64_t seen;             /* round trips in the window */
	uint32_t ns[LAT_SAMPLES];
};

struct bench {
	struct netfront *nf;
	struct netfront_queue *q;
	enum mode mode;
	uint32_t size;
	uint32_t nslots;           /* guest-tx slots per frame */
	uint32_t nframes;          /* frames that fit in the transmit pages */
	uint32_t inflight;         /* fwd: frames circulating */
	enum proto proto;
	uint32_t seq_off;          /* where the sequence number sits */
	bool csum_blank;           /* --csum-blank */
	uint16_t gso_size;         /* --gso: the MSS; 0: none */
	uint16_t tx_flags;         /* first request's flags but more_data */
	uint32_t tx_reqs;          /* guest-tx requests per frame (slots and extra) */

	/* Transmit: frame f uses ids f * nslots ... f * nslots + nslots - 1. */
	int32_t gref[TX_SIZE];
	uint8_t *page[TX_SIZE];
	uint16_t slot_size[TX_SIZE];
	uint16_t pending[TX_SIZE]; /* per frame: slots not answered yet */
	uint16_t free_frames[TX_SIZE];
	uint32_t nb_free;
	uint32_t tx_seq;
	uint64_t debt;             /* fwd: frames still to send from the transmit pages */

	/* Receive. */
	uint8_t *rx_page[RX_SIZE];
	bool rx_busy;              /* a frame is being gathered */
	bool rx_extra;             /* the next slot is an extra-info slot */
	bool rx_more;
	bool rx_bad;
	bool rx_has_seq;
	uint16_t rx_flags;         /* the frame's first response's flags */
	uint8_t rx_gso_type;       /* from its GSO extra slot, or NONE */
	uint16_t rx_gso_size;
	uint32_t rx_len;
	uint32_t rx_seq;
	/* fwd: the receive buffers of the frame being gathered. */
	uint16_t rx_ids[NETFRONT_MAX_TX_SLOTS];
	uint16_t rx_sizes[NETFRONT_MAX_TX_SLOTS];
	uint16_t rx_offs[NETFRONT_MAX_TX_SLOTS];
	uint32_t rx_nids;
	/* fwd: buffers out on the guest-tx ring: 0 no, 1 yes, 2 a frame's last. */
	uint8_t rx_lent[NB_BUFS];
	/* fwd: buffers neither posted nor in use, and ring slots waiting for one. */
	uint16_t spare[NB_BUFS];
	uint32_t nb_spare;
	uint32_t rx_unposted;

	struct latency lat;
	struct counters c;
};

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void
on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
	cancel_flag = 1;
}

static void
on_mark(int sig)
{
	(void)sig;
	marks++;
}

static void
on_go(int sig)
{
	(void)sig;
	go_flag = 1;
}

static void
proto_error(struct bench *b, const char *what, unsigned int a, unsigned int c)
{
	if (b->c.proto_errors < 10)
		fprintf(stderr, PROG "backend protocol error: %s (%u, %u)\n",
			what, a, c);
	b->c.proto_errors++;
}

/* Receive buffer id's page and grant (fwd also receives into transmit pages). */
static inline uint8_t *
buf_page(const struct bench *b, uint16_t id)
{
	return id < RX_SIZE ? b->rx_page[id] : b->page[id - RX_SIZE];
}

static inline grant_ref_t
buf_gref(const struct bench *b, uint16_t id)
{
	return (grant_ref_t)(id < RX_SIZE ? b->q->rx_buf[id].gref : b->gref[id - RX_SIZE]);
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Make frame an Ethernet/IPv4/TCP or UDP frame of b->size bytes, from
 * 10.0.0.2 to 10.0.0.1, the pattern as its payload: the IPv4 header
 * checksum, and the TCP/UDP checksum in full or (--csum-blank, --gso)
 * the pseudo-header sum.
 */
static int
ip_frame(const struct bench *b, uint8_t *frame)
{
	static const uint8_t src[4] = { 10, 0, 0, 2 }, dst[4] = { 10, 0, 0, 1 };
	uint8_t *ip = frame + NETFRONT_ETH_HLEN, *l4 = ip + IP4_HLEN;
	uint32_t sum = 0, i;
	int ret;

	frame[12] = 0x08;
	frame[13] = 0x00;
	memset(ip, 0, IP4_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, b->size - NETFRONT_ETH_HLEN);
	put16(ip + 6, 0x4000);             /* don't fragment */
	ip[8] = 64;
	ip[9] = b->proto == PROTO_TCP ? 6 : 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	for (i = 0; i < IP4_HLEN; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
	if (b->proto == PROTO_TCP) {
		memset(l4, 0, TCP_HLEN);
		put16(l4, 40000);
		put16(l4 + 2, 5001);
		put16(l4 + 4, 0x1000);     /* sequence number */
		put16(l4 + 8, 0x2000);     /* acknowledgement */
		l4[12] = (TCP_HLEN / 4) << 4;
		l4[13] = 0x18;             /* ACK, PSH */
		put16(l4 + 14, 65535);
	} else {
		memset(l4, 0, UDP_HLEN);
		put16(l4, 40000);
		put16(l4 + 2, 5001);
		put16(l4 + 4, b->size - NETFRONT_ETH_HLEN - IP4_HLEN);
	}
	ret = b->csum_blank ? netfront_csum_partial(frame, b->size) :
		netfront_csum_fill(frame, b->size);
	if (ret < 0)
		fprintf(stderr, PROG "cannot checksum the %s frame: %s\n",
			proto_names[b->proto], strerror(-ret));
	return ret;
}

/* Grant every transmit page once, with its piece of the prebuilt frame. */
static int
tx_prepare(struct bench *b, const uint8_t *mac)
{
	struct netfront_queue *q = b->q;
	uint8_t frame[NETFRONT_MAX_FRAME];
	uint32_t f, j, i;

	/* Broadcast, from our MAC, a local experimental ethertype, a pattern. */
	memset(frame, 0xff, 6);
	memcpy(frame + 6, mac, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	for (i = NETFRONT_ETH_HLEN; i < b->size; i++)
		frame[i] = (uint8_t)(i * 7 + 1);
	if (b->proto != PROTO_RAW && ip_frame(b, frame) < 0)
		return -EINVAL;

	/* netfront's own transmit path is not used: take all its ids. */
	q->tx_nr_free = 0;
	for (f = 0; f < b->nframes; f++) {
		for (j = 0; j < b->nslots; j++) {
			uint32_t id = f * b->nslots + j;
			uint32_t off = j * PAGE;
			uint32_t len = b->size - off < PAGE ? b->size - off : PAGE;
			int ref;

			b->page[id] = netfront_page(b->nf, q->tx_pfn_base + id);
			if (b->page[id] == NULL)
				return -ENOSPC;
			memcpy(b->page[id], frame + off, len);
			/* Writable in fwd, where it also receives. */
			ref = netfront_grant(b->nf, q->tx_pfn_base + id, b->mode != MODE_FWD);
			if (ref < 0) {
				fprintf(stderr, PROG "cannot grant transmit page %u: %s\n",
					id, strerror(-ref));
				return ref;
			}
			b->gref[id] = ref;
			b->slot_size[id] = (uint16_t)len;
			/* netfront_close() revokes it with the others. */
			q->tx_slot[id].gref = ref;
		}
		b->pending[f] = 0;
		b->free_frames[b->nb_free++] = (uint16_t)(b->nframes - 1 - f);
	}
	return 0;
}

static void
rx_prepare(struct bench *b)
{
	uint32_t i;

	for (i = 0; i < RX_SIZE; i++)
		b->rx_page[i] = netfront_page(b->nf, b->q->rx_buf[i].pfn);
}

/* Publish the guest-tx requests; kick the backend if it asks. */
static void
tx_push(struct bench *b)
{
	struct netfront_queue *q = b->q;
	int notify;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
	if (notify && netfront_notify(q) == 0)
		b->c.notifies++;
}

/* The GSO extra-info slot, right after a frame's first request. */
static inline void
put_gso(struct netfront_queue *q, uint8_t type, uint16_t size)
{
	netif_extra_info_t *gso = (netif_extra_info_t *)
		RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);

	memset(gso, 0, sizeof(netif_tx_request_t));
	gso->type = XEN_NETIF_EXTRA_TYPE_GSO;
	gso->u.gso.size = size;
	gso->u.gso.type = type;
	q->tx.req_prod_pvt++;
}

/* Post up to n frames. Returns the number posted. */
static uint32_t
tx_send(struct bench *b, uint32_t n)
{
	struct netfront_queue *q = b->q;
	uint32_t k, j;

	if (n > b->nb_free)
		n = b->nb_free;
	if (n > TX_BATCH)
		n = TX_BATCH;
	if (n == 0)
		return 0;
	for (k = 0; k < n; k++) {
		uint16_t f = b->free_frames[--b->nb_free];
		uint32_t id0 = (uint32_t)f * b->nslots;

		/* Only fwd reads it back; elsewhere the page stays untouched. */
		if (b->mode == MODE_FWD)
			memcpy(b->page[id0] + b->seq_off, &b->tx_seq, sizeof(b->tx_seq));
		b->tx_seq++;
		for (j = 0; j < b->nslots; j++) {
			netif_tx_request_t *req = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);
			uint32_t id = id0 + j;

			req->gref = (grant_ref_t)b->gref[id];
			req->offset = 0;
			req->flags = j + 1 < b->nslots ? NETTXF_more_data : 0;
			req->id = (uint16_t)id;
			req->size = j == 0 ? (uint16_t)b->size : b->slot_size[id];
			q->tx.req_prod_pvt++;
			if (j == 0 && b->tx_flags != 0) {
				req->flags |= b->tx_flags;
				if (b->gso_size != 0)
					put_gso(q, XEN_NETIF_GSO_TYPE_TCPV4, b->gso_size);
			}
		}
		b->pending[f] = (uint16_t)b->nslots;
	}
	tx_push(b);
	b->c.tx_frames += n;
	return n;
}

/* Post receive buffer id on the guest-rx ring again (pushed by rx_push()). */
static void
rx_repost(struct bench *b, uint16_t id)
{
	struct netfront_queue *q = b->q;
	netif_rx_request_t *req = RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt);

	req->id = id;
	req->pad = 0;
	req->gref = buf_gref(b, id);
	q->rx_posted[q->rx.req_prod_pvt & (RX_SIZE - 1)] = id;
	q->rx.req_prod_pvt++;
}

static void
rx_push(struct bench *b)
{
	struct netfront_queue *q = b->q;
	int notify;

	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
	if (notify && netfront_notify_rx(q) == 0)
		b->c.notifies++;
}

/* fwd: buffer id is free again: post it where a slot waits, else keep it spare. */
static void
buf_free(struct bench *b, uint16_t id)
{
	if (b->rx_unposted > 0) {
		b->rx_unposted--;
		rx_repost(b, id);
	} else {
		b->spare[b->nb_spare++] = id;
	}
}

/* fwd: a buffer arrived and is kept: post a spare one in its place. */
static void
buf_replace(struct bench *b)
{
	if (b->nb_spare > 0)
		rx_repost(b, b->spare[--b->nb_spare]);
	else
		b->rx_unposted++;
}

/* fwd: the transmit response for a buffer sent back. */
static int
rx_returned(struct bench *b, uint16_t id, int16_t status)
{
	if (id >= NB_BUFS || b->rx_lent[id] == 0) {
		proto_error(b, "guest-tx response for a buffer not sent", id, 0);
		return -EPROTO;
	}
	if (status != NETIF_RSP_OKAY)
		b->c.tx_errors++;
	if (b->rx_lent[id] == 2)
		b->c.tx_done++;
	b->rx_lent[id] = 0;
	buf_free(b, id);
	return 0;
}

static int tx_reap(struct bench *b);

/*
 * fwd: send the frame just gathered back out of the buffers it arrived
 * in, or free them when it was bad or the ring is short.
 */
static void
rx_reflect(struct bench *b)
{
	struct netfront_queue *q = b->q;
	netif_tx_request_t *req;
	uint32_t j, n = b->rx_nids;

	/*
	 * The slots of frames that came back since the last reap may still
	 * hold their responses: take them first when the ring looks short.
	 */
	uint32_t need = n + (b->rx_gso_type != XEN_NETIF_GSO_TYPE_NONE);
	uint16_t flags = 0;

	if (RING_FREE_REQUESTS(&q->tx) < need && tx_reap(b) < 0)
		b->rx_bad = true;
	if (b->rx_bad || b->rx_len != b->size || n == 0 ||
			RING_FREE_REQUESTS(&q->tx) < need) {
		/* Counted as an error already, or as blocked here. */
		if (!b->rx_bad && b->rx_len == b->size && n > 0)
			b->c.tx_blocked++;
		for (j = 0; j < n; j++)
			buf_free(b, b->rx_ids[j]);
		b->rx_nids = 0;
		return;
	}
	/* As it came (the two flags swap bits between the rings), or blank. */
	if (b->csum_blank || (b->rx_flags & NETRXF_csum_blank))
		flags = NETTXF_csum_blank | NETTXF_data_validated;
	else if (b->rx_flags & NETRXF_data_validated)
		flags = NETTXF_data_validated;
	for (j = 0; j < n; j++) {
		req = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);
		req->gref = buf_gref(b, b->rx_ids[j]);
		req->offset = b->rx_offs[j];
		req->flags = j + 1 < n ? NETTXF_more_data : 0;
		req->id = (uint16_t)(REFLECT | b->rx_ids[j]);
		req->size = j == 0 ? (uint16_t)b->rx_len : b->rx_sizes[j];
		q->tx.req_prod_pvt++;
		if (j == 0) {
			req->flags |= flags;
			if (need > n) {
				req->flags |= NETTXF_extra_info;
				put_gso(q, b->rx_gso_type, b->rx_gso_size);
			}
		}
		b->rx_lent[b->rx_ids[j]] = j + 1 < n ? 1 : 2;
	}
	b->rx_nids = 0;
	b->c.tx_frames++;
}

/* Take the guest-tx ring's responses. Returns the number, or -EPROTO. */
static int
tx_reap(struct bench *b)
{
	struct netfront_queue *q = b->q;
	RING_IDX prod, i, cons = q->tx.rsp_cons;

	prod = __atomic_load_n(&q->tx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	if (prod == cons)
		return 0;
	if ((RING_IDX)(prod - cons) > (RING_IDX)(q->tx.req_prod_pvt - cons)) {
		proto_error(b, "guest-tx rsp_prod beyond our requests", prod, cons);
		return -EPROTO;
	}
	for (i = cons; i != prod; i++) {
		netif_tx_response_t rsp;
		uint32_t f, j;

		RING_COPY_RESPONSE(&q->tx, i, &rsp);
		/* The answer to a GSO extra-info slot. */
		if (rsp.status == NETIF_RSP_NULL)
			continue;
		if (rsp.id & REFLECT) {
			if (rx_returned(b, (uint16_t)(rsp.id & ~REFLECT), rsp.status) < 0)
				return -EPROTO;
			continue;
		}
		if (rsp.id >= b->nframes * b->nslots) {
			proto_error(b, "guest-tx response id out of range", rsp.id, i);
			return -EPROTO;
		}
		f = rsp.id / b->nslots;
		if (b->pending[f] == 0) {
			proto_error(b, "guest-tx response for an id not in flight", rsp.id, i);
			return -EPROTO;
		}
		if (rsp.status != NETIF_RSP_OKAY)
			b->c.tx_errors++;
		if (--b->pending[f] == 0) {
			b->c.tx_done++;
			if (b->mode != MODE_FWD) {
				b->free_frames[b->nb_free++] = (uint16_t)f;
			} else {
				/* Sent once; its pages receive from now on. */
				for (j = 0; j < b->nslots; j++)
					buf_free(b, (uint16_t)(RX_SIZE + f * b->nslots + j));
			}
		}
	}
	q->tx.rsp_cons = prod;
	rx_push(b);
	return (int)(prod - cons);
}

static void
rx_frame_done(struct bench *b)
{
	b->c.rx_frames++;
	b->c.rx_bytes += b->rx_len;
	b->c.rx_gso += b->rx_gso_type != XEN_NETIF_GSO_TYPE_NONE;
	b->c.rx_csum_blank += (b->rx_flags & NETRXF_csum_blank) != 0;
	if (b->rx_bad) {
		b->c.rx_errors++;
	} else if (b->rx_len != b->size) {
		b->c.len_errors++;
	} else if (b->rx_has_seq && b->rx_seq != (b->c.rx_frames - 1) % b->inflight) {
		b->c.seq_errors++;
	}
	if (b->mode == MODE_FWD)
		rx_reflect(b);
	if (b->mode == MODE_LAT && b->lat.out) {
		uint64_t rtt = now_ns() - b->lat.sent_ns;

		if (b->lat.n < LAT_SAMPLES)
			b->lat.ns[b->lat.n++] = rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
		b->lat.seen++;
		b->lat.out = false;
	}
	b->rx_busy = false;
	b->rx_extra = false;
	b->rx_more = false;
}

/* Take the guest-rx ring's responses and repost their buffers. */
static int
rx_poll(struct bench *b)
{
	struct netfront_queue *q = b->q;
	RING_IDX prod, i, cons = q->rx.rsp_cons;

	prod = __atomic_load_n(&q->rx.sring->rsp_prod, __ATOMIC_ACQUIRE);
	if (prod == cons)
		return 0;
	if ((RING_IDX)(prod - cons) > (RING_IDX)(q->rx.req_prod_pvt - cons)) {
		proto_error(b, "guest-rx rsp_prod beyond our requests", prod, cons);
		return -EPROTO;
	}
	for (i = cons; i != prod; i++) {
		uint16_t id = q->rx_posted[i & (RX_SIZE - 1)];
		netif_rx_response_t rsp;
		bool reposted = true;
		bool more;

		RING_COPY_RESPONSE(&q->rx, i, &rsp);
		if (b->rx_extra) {
			netif_extra_info_t ex;

			memcpy(&ex, &rsp, sizeof(ex));
			b->rx_extra = (ex.flags & XEN_NETIF_EXTRA_FLAG_MORE) != 0;
			if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO) {
				b->rx_gso_type = ex.u.gso.type;
				b->rx_gso_size = ex.u.gso.size;
			}
			more = b->rx_more;
		} else {
			if (rsp.id != id) {
				proto_error(b, "guest-rx response id differs from the posted one",
					rsp.id, id);
				b->rx_bad = true;
			}
			if (!b->rx_busy) {
				b->rx_busy = true;
				b->rx_bad = rsp.id != id;
				b->rx_len = 0;
				b->rx_has_seq = false;
				b->rx_flags = rsp.flags;
				b->rx_gso_type = XEN_NETIF_GSO_TYPE_NONE;
				b->rx_extra = (rsp.flags & NETRXF_extra_info) != 0;
				if (b->mode == MODE_FWD && b->c.rx_frames % SEQ_SAMPLE == 0 &&
						rsp.status >= (int16_t)(b->seq_off + 4) &&
						(uint32_t)rsp.offset + b->seq_off + 4 <= PAGE) {
					memcpy(&b->rx_seq, buf_page(b, id) + rsp.offset + b->seq_off,
						sizeof(b->rx_seq));
					b->rx_has_seq = true;
				}
			}
			if (rsp.status < 0 || (uint32_t)rsp.offset + (uint32_t)rsp.status > PAGE)
				b->rx_bad = true;
			else
				b->rx_len += (uint32_t)rsp.status;
			more = (rsp.flags & NETRXF_more_data) != 0;
			b->rx_more = more;
			b->c.rx_slots++;
			if (b->mode == MODE_FWD && b->rx_nids < NETFRONT_MAX_TX_SLOTS) {
				/* Kept to be sent back (rx_reflect()). */
				b->rx_ids[b->rx_nids] = id;
				b->rx_offs[b->rx_nids] = rsp.offset;
				b->rx_sizes[b->rx_nids++] =
					rsp.status < 0 ? 0 : (uint16_t)rsp.status;
				buf_replace(b);
				reposted = false;
			} else {
				b->rx_bad |= b->mode == MODE_FWD;
			}
		}
		/* The buffer is ours again: post it anew, still granted. */
		if (reposted)
			rx_repost(b, id);
		if (!more && !b->rx_extra)
			rx_frame_done(b);
	}
	q->rx.rsp_cons = prod;
	rx_push(b);
	if (b->mode == MODE_FWD)
		tx_push(b);
	return (int)(prod - cons);
}

static void
print_counters(const char *tag, const struct counters *c, const struct counters *c0,
		double seconds, uint64_t tsc_ticks)
{
	uint64_t polls = c->polls - c0->polls;
	uint64_t rx = c->rx_frames - c0->rx_frames;
	uint64_t tx = c->tx_frames - c0->tx_frames;

	printf("%s seconds=%.4f tx_frames=%" PRIu64 " rx_frames=%" PRIu64
		" tx_pps=%.0f rx_pps=%.0f tx_done=%" PRIu64 " rx_bytes=%" PRIu64
		" rx_slots=%" PRIu64 " busy=%.4f polls=%" PRIu64 " idle_polls=%" PRIu64
		" tx_blocked=%" PRIu64 " rx_per_poll=%.3f tx_errors=%" PRIu64
		" rx_errors=%" PRIu64 " len_errors=%" PRIu64 " seq_errors=%" PRIu64
		" proto_errors=%" PRIu64 " notifies=%" PRIu64 " busy_tsc=%" PRIu64
		" tsc=%" PRIu64 " rx_gso=%" PRIu64 " rx_csum_blank=%" PRIu64 "\n",
		tag, seconds, tx, rx,
		seconds > 0 ? (double)tx / seconds : 0.0,
		seconds > 0 ? (double)rx / seconds : 0.0,
		c->tx_done - c0->tx_done, c->rx_bytes - c0->rx_bytes,
		c->rx_slots - c0->rx_slots,
		tsc_ticks > 0 ? (double)(c->busy_tsc - c0->busy_tsc) / (double)tsc_ticks : 0.0,
		polls, c->idle_polls - c0->idle_polls, c->tx_blocked - c0->tx_blocked,
		polls > 0 ? (double)rx / (double)polls : 0.0,
		c->tx_errors - c0->tx_errors, c->rx_errors - c0->rx_errors,
		c->len_errors - c0->len_errors, c->seq_errors - c0->seq_errors,
		c->proto_errors - c0->proto_errors, c->notifies - c0->notifies,
		c->busy_tsc - c0->busy_tsc, tsc_ticks, c->rx_gso - c0->rx_gso,
		c->rx_csum_blank - c0->rx_csum_blank);
	fflush(stdout);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* lat: the window's round trips, sorted in place. */
static void
print_latency(struct latency *l, uint64_t lost)
{
	uint32_t n = l->n;

	qsort(l->ns, n, sizeof(l->ns[0]), cmp_u32);
	printf("latency n=%" PRIu64 " kept=%u p50_ns=%u p90_ns=%u p99_ns=%u max_ns=%u lost=%"
		PRIu64 "\n", l->seen, n, n ? l->ns[n / 2] : 0, n ? l->ns[n * 9 / 10] : 0,
		n ? l->ns[n * 99 / 100] : 0, n ? l->ns[n - 1] : 0, lost);
	fflush(stdout);
}

/* lat: the next frame when it is due and none is out; a frame out too long is lost. */
static uint32_t
lat_send(struct bench *b)
{
	struct latency *l = &b->lat;
	uint64_t now = now_ns();

	if (l->out) {
		if (now - l->sent_ns < LAT_LOST_NS)
			return 0;
		b->c.lat_lost++;
		l->out = false;
	}
	if (now < l->next_ns || tx_send(b, 1) == 0)
		return 0;
	l->sent_ns = now;
	l->out = true;
	/* On the schedule; a late frame does not make the next one early. */
	l->next_ns += l->period_ns;
	if (l->next_ns < now + l->period_ns / 2)
		l->next_ns = now + l->period_ns / 2;
	return 1;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: xnb-bench-guest --sim-dir DIR --domid N --mode g2b|b2g|fwd|lat\n"
		"       --size BYTES [--handle N] [--inflight K] [--rate PPS] [--cpu N]\n"
		"       [--timeout-ms MS] [--max-seconds S]\n"
		"       [--proto raw|tcp|udp] [--csum-blank] [--gso MSS]\n");
	exit(2);
}

static unsigned long
num_arg(const char *name, const char *v, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || v[0] == '-' || n < min || n > max) {
		fprintf(stderr, PROG "--%s %s: expected a number from %lu to %lu\n",
			name, v, min, max);
		exit(2);
	}
	return n;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sim-dir", required_argument, NULL, 'd' },
		{ "domid", required_argument, NULL, 'i' },
		{ "handle", required_argument, NULL, 'h' },
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "inflight", required_argument, NULL, 'k' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "max-seconds", required_argument, NULL, 'x' },
		{ "proto", required_argument, NULL, 'p' },
		{ "csum-blank", no_argument, NULL, 'b' },
		{ "gso", required_argument, NULL, 'g' },
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	static struct bench bench;
	struct bench *b = &bench;
	struct netfront_conf conf;
	struct counters c0;
	struct sigaction sa;
	const char *sim_dir = NULL;
	unsigned long domid = 0, handle = 0, inflight = 128, timeout_ms = 10000;
	unsigned long max_seconds = 600, rate = 0;
	uint64_t start_ns, next_check_ns, win_ns = 0, win_tsc = 0, t0, t1;
	int cpu = -1, opt, ret, seen_marks = 0, status = 0;
	bool has_mode = false, has_proto = false, slept;

	memset(b, 0, sizeof(*b));
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			sim_dir = optarg;
			break;
		case 'i':
			domid = num_arg("domid", optarg, 1, DOMID_FIRST_RESERVED - 1);
			break;
		case 'h':
			handle = num_arg("handle", optarg, 0, 65535);
			break;
		case 'm':
			for (b->mode = MODE_G2B; b->mode <= MODE_LAT; b->mode++)
				if (strcmp(optarg, mode_names[b->mode]) == 0)
					break;
			if (b->mode > MODE_LAT) {
				fprintf(stderr, PROG "--mode %s: expected g2b, b2g, fwd or lat\n",
					optarg);
				return 2;
			}
			has_mode = true;
			break;
		case 's':
			b->size = (uint32_t)num_arg("size", optarg, MIN_FRAME, NETFRONT_MAX_FRAME);
			break;
		case 'k':
			inflight = num_arg("inflight", optarg, 1, TX_SIZE);
			break;
		case 'c':
			cpu = (int)num_arg("cpu", optarg, 0, CPU_SETSIZE - 1);
			break;
		case 't':
			timeout_ms = num_arg("timeout-ms", optarg, 100, 600000);
			break;
		case 'x':
			max_seconds = num_arg("max-seconds", optarg, 1, 86400);
			break;
		case 'p':
			for (b->proto = PROTO_RAW; b->proto <= PROTO_UDP; b->proto++)
				if (strcmp(optarg, proto_names[b->proto]) == 0)
					break;
			if (b->proto > PROTO_UDP) {
				fprintf(stderr, PROG "--proto %s: expected raw, tcp or udp\n",
					optarg);
				return 2;
			}
			has_proto = true;
			break;
		case 'b':
			b->csum_blank = true;
			break;
		case 'g':
			b->gso_size = (uint16_t)num_arg("gso", optarg, 1, 65535);
			break;
		case 'r':
			rate = num_arg("rate", optarg, 1, 1000000);
			break;
		default:
			usage();
		}
	}
	if (sim_dir == NULL || domid == 0 || !has_mode || b->size == 0 || optind != argc)
		usage();
	if ((b->mode == MODE_LAT) != (rate != 0)) {
		fprintf(stderr, PROG "--rate goes with --mode lat, and lat needs it\n");
		return 2;
	}
	b->lat.period_ns = rate ? 1000000000u / rate : 0;

	if (b->gso_size != 0) {
		/* Linux's TSO: TCP, checksum left blank. */
		if (has_proto && b->proto != PROTO_TCP) {
			fprintf(stderr, PROG "--gso needs --proto tcp\n");
			return 2;
		}
		b->proto = PROTO_TCP;
		b->csum_blank = true;
	} else if (b->csum_blank && !has_proto) {
		b->proto = PROTO_TCP;
	}
	if (b->csum_blank && b->proto == PROTO_RAW) {
		fprintf(stderr, PROG "--csum-blank needs --proto tcp or udp\n");
		return 2;
	}
	b->seq_off = b->proto == PROTO_RAW ? SEQ_OFF : NETFRONT_ETH_HLEN + IP4_HLEN +
		(b->proto == PROTO_TCP ? TCP_HLEN : UDP_HLEN);
	if (b->size < b->seq_off + 4) {
		fprintf(stderr, PROG "--size %u: %s frames take at least %u bytes\n",
			b->size, proto_names[b->proto], b->seq_off + 4);
		return 2;
	}
	if (b->csum_blank)
		b->tx_flags = NETTXF_csum_blank | NETTXF_data_validated;
	if (b->gso_size != 0)
		b->tx_flags |= NETTXF_extra_info;
	b->nslots = (b->size + PAGE - 1) / PAGE;
	if (b->nslots > NETFRONT_MAX_TX_SLOTS) {
		fprintf(stderr, PROG "a %u-byte frame needs %u slots; at most %u\n",
			b->size, b->nslots, NETFRONT_MAX_TX_SLOTS);
		return 2;
	}
	b->tx_reqs = b->nslots + (b->gso_size != 0);
	b->nframes = TX_SIZE / b->tx_reqs;
	/* fwd: what both rings hold (a frame takes as many receive buffers). */
	b->inflight = (uint32_t)inflight;
	if (b->inflight > b->nframes)
		b->inflight = b->nframes;
	/* A GSO frame coming back takes a guest-rx slot more, its extra. */
	if (b->inflight > RX_SIZE / b->tx_reqs)
		b->inflight = RX_SIZE / b->tx_reqs;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_mark;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_go;
	sigaction(SIGUSR2, &sa, NULL);

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0) {
			fprintf(stderr, PROG "cannot pin to cpu %d: %s\n", cpu,
				strerror(errno));
			return 1;
		}
	}

	netfront_conf_init(&conf);
	conf.sim_dir = sim_dir;
	conf.domid = (uint16_t)domid;
	conf.handle = (uint16_t)handle;
	conf.timeout_ms = (unsigned int)timeout_ms;
	conf.tx_layout = NETFRONT_TX_ALIGNED;
	conf.cancel = &cancel_flag;
	b->nf = netfront_open(&conf);
	if (b->nf == NULL) {
		fprintf(stderr, PROG "netfront_open failed: %s\n", strerror(errno));
		return 1;
	}
	ret = netfront_connect(b->nf);
	if (ret < 0) {
		fprintf(stderr, PROG "connecting to the backend failed: %s\n",
			strerror(-ret));
		netfront_close(b->nf);
		return 1;
	}
	b->q = netfront_queue(b->nf, 0);
	if (b->size > PAGE && !b->nf->sg) {
		fprintf(stderr, PROG "the backend did not offer feature-sg; "
			"%u-byte frames need it\n", b->size);
		netfront_close(b->nf);
		return 1;
	}
	if ((b->csum_blank && !b->nf->tx_csum) || (b->gso_size != 0 && !b->nf->tx_gso_tcpv4)) {
		fprintf(stderr, PROG "the backend did not offer %s\n",
			b->gso_size != 0 ? "feature-gso-tcpv4" : "checksum offload");
		netfront_close(b->nf);
		return 1;
	}
	ret = tx_prepare(b, b->nf->conf.mac);
	if (ret < 0) {
		netfront_close(b->nf);
		return 1;
	}
	rx_prepare(b);
	if (b->mode == MODE_FWD) {
		uint32_t id;

		b->debt = b->inflight;
		/* The pages of the frames not sent are spare buffers from the start. */
		for (id = b->inflight * b->nslots; id < b->nframes * b->nslots; id++)
			b->spare[b->nb_spare++] = (uint16_t)(RX_SIZE + id);
	}
	printf("ready mode=%s size=%u slots=%u frames=%u inflight=%u proto=%s csum_blank=%d "
		"gso=%u\n", mode_names[b->mode], b->size, b->nslots, b->nframes,
		b->mode == MODE_FWD ? b->inflight : 0, proto_names[b->proto], b->csum_blank,
		b->gso_size);
	fflush(stdout);

	start_ns = now_ns();
	next_check_ns = start_ns + 1000000000u;
	memset(&c0, 0, sizeof(c0));
	while (!stop_flag) {
		uint32_t want;
		int work = 0;

		if (marks != seen_marks) {
			seen_marks++;
			if (seen_marks % 2 == 1) {
				c0 = b->c;
				win_ns = now_ns();
				win_tsc = tsc();
				b->lat.n = 0;
				b->lat.seen = 0;
			} else {
				print_counters("window", &b->c, &c0,
					(double)(now_ns() - win_ns) / 1e9, tsc() - win_tsc);
				if (b->mode == MODE_LAT)
					print_latency(&b->lat, b->c.lat_lost - c0.lat_lost);
			}
		}
		slept = !go_flag && b->mode != MODE_B2G;
		if (slept) {
			/*
			 * Nothing to send yet: sleep, an idle guest costs no cpu.
			 * Long naps (SIGUSR1/2 end them at once): many idle guests
			 * waking every millisecond would take the busy guests'
			 * cpu and make their vifs look idle to the backend.
			 */
			const struct timespec nap = { .tv_sec = 0, .tv_nsec = 100000000 };

			nanosleep(&nap, NULL);
		}
		t0 = tsc();
		if (b->mode != MODE_B2G) {
			ret = tx_reap(b);
			if (ret < 0)
				break;
			work += ret;
		}
		/*
		 * fwd: the whole window goes out before any frame is sent
		 * back (tx_send() posts TX_BATCH frames at a time). A frame
		 * reflected in between would sit among the window's first
		 * sends and break the cycle of sequence numbers the check
		 * expects.
		 */
		if (b->mode != MODE_G2B && !(b->mode == MODE_FWD && b->debt > 0)) {
			ret = rx_poll(b);
			if (ret < 0)
				break;
			work += ret;
		}
		if (b->mode == MODE_LAT && go_flag) {
			work += (int)lat_send(b);
		} else if (b->mode != MODE_B2G && go_flag) {
			want = b->mode == MODE_G2B ? b->nframes :
				(b->debt > b->nframes ? b->nframes : (uint32_t)b->debt);
			if (want > 0) {
				uint32_t n = tx_send(b, want);

				if (n == 0)
					b->c.tx_blocked++;
				if (b->mode == MODE_FWD)
					b->debt -= n;
				work += (int)n;
			}
		}
		t1 = tsc();
		b->c.polls++;
		if (work > 0) {
			b->c.busy_tsc += t1 - t0;
		} else {
			b->c.idle_polls++;
			cpu_relax();
		}
		if ((b->c.polls & 0xffff) == 0 || slept) {
			uint64_t now = now_ns();

			if (now >= next_check_ns) {
				next_check_ns = now + 1000000000u;
				if (netfront_check_backend(b->nf) < 0) {
					fprintf(stderr, PROG "the backend went away\n");
					status = 1;
					break;
				}
				if (now - start_ns > max_seconds * 1000000000u) {
					fprintf(stderr, PROG "--max-seconds %lu reached\n",
						max_seconds);
					break;
				}
			}
		}
	}
	if (b->c.proto_errors > 0)
		status = 1;
	memset(&c0, 0, sizeof(c0));
	print_counters("total", &b->c, &c0, (double)(now_ns() - start_ns) / 1e9, 0);
	/* The disconnect below must not be cut short by the stop signal. */
	cancel_flag = 0;
	b->nf->conf.timeout_ms = 3000;
	netfront_close(b->nf);
	printf("closed\n");
	return status;
}
