/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-guest: a simulated Xen guest with one vif, driven by the netfront
 * library, for demos and tests of an xnb port.
 *
 *   xnb-guest --sim-dir DIR --domid N [--handle H] [--type vif] [--mac M]
 *             [--mode reflect|gen|sink|tap] [--frames N]
 *             [--sizes 60,1514,9000 | --size-range MIN-MAX] [--window W]
 *             [--proto raw|udp4|udp6|tcp4|tcp6] [--csum-blank] [--gso MSS]
 *             [--no-csum-offload] [--no-ipv6-csum] [--no-gso]
 *             [--tap NAME] [--netns NS]
 *             [--dst MAC] [--timeout SEC] [--no-toolstack] [--script PATH]
 *             [--bridge NAME] [--no-sg]
 *             [--aligned] [--seed S] [--quiet] [--lossy]
 *
 * gen sends N numbered frames with a pattern derived from the number,
 * keeps at most W in flight and checks that every one comes back whole,
 * once; as TCP or UDP over IPv4/IPv6 (--proto) their checksum is sent in
 * full or blank (--csum-blank: NETTXF_csum_blank, the pseudo-header sum in
 * the field, as Linux), and TCP frames longer than an MSS as GSO frames
 * (--gso). reflect sends back whatever it receives, with the metadata it
 * came with (as a Linux bridge forwards); sink counts and drops. Every
 * mode checks the checksum of each TCP/UDP frame received: a blank one
 * must hold the pseudo-header sum, any other must be right. tap bridges
 * the vif to a TAP device (xnb_guest_tap.c) until SIGINT/SIGTERM; SIGUSR1
 * makes it print the summary line with its counters so far.
 * The last line on stdout is
 *   xnb-guest: sent=N received=N verify_failures=N tx_errors=N rx_errors=N
 *   secs=S mpps=X gbps=Y csum_ok=N csum_bad=N rx_csum_blank=N
 *   rx_data_validated=N rx_gso=N tx_csum_blank=N tx_gso=N tx_segmented=N
 *   tx_sw_csum=N tap_in=N tap_out=N tap_dropped=N tap_down=N
 * Exit status: 0 on success, 1 on lost or bad frames, bad checksums,
 * errors, or a failed handshake, 2 on bad usage, 3 when gen's --gso or
 * --csum-blank asks for an offload the backend did not negotiate.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netfront.h"
#include "netfront_offload.h"
#include "xnb_guest.h"

#define GUEST_ETHERTYPE 0x88B5     /* IEEE local experimental */
#define GUEST_MAGIC 0x474e4258u    /* "XNBG" */
#define GUEST_HDR_LEN 26           /* Ethernet 14 + magic 4 + seq 4 + len 4 */
#define GUEST_ID_LEN 12            /* magic, seq, len */
#define GUEST_SPIN 256
#define GUEST_EXIT_NO_OFFLOAD 3

volatile int stop_flag;
volatile int report_flag;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		report_flag = 1;
	else
		stop_flag = 1;
}

uint64_t
guest_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
now_ms(void)
{
	return guest_now_ms();
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: xnb-guest --sim-dir DIR --domid N [options]\n"
		"  --handle H          vif index (0)\n"
		"  --type T            backend type in xenstore (vif)\n"
		"  --mac M             the guest's MAC (00:16:3e:<domid>:<handle>)\n"
		"  --mode M            gen | reflect | sink | tap (gen)\n"
		"  --frames N          gen: frames to send (100000); reflect/sink: stop after N\n"
		"  --sizes L           gen: frame sizes to cycle through, comma separated\n"
		"  --size-range A-B    gen: pseudo-random sizes from A to B\n"
		"  --window W          gen: frames in flight at most (fits the 256 rx buffers)\n"
		"  --dst MAC           gen: destination MAC (broadcast)\n"
		"  --proto P           gen: raw (own Ethernet type), udp4, udp6, tcp4, tcp6 (raw)\n"
		"  --csum-blank        gen: TCP/UDP sent with NETTXF_csum_blank, the\n"
		"                      pseudo-header sum in the field (as Linux)\n"
		"  --gso MSS           gen: TCP frames longer than one MSS sent as GSO\n"
		"                      frames (implies --csum-blank)\n"
		"  --no-csum-offload   neither send nor take blank checksums\n"
		"                      (feature-no-csum-offload=1)\n"
		"  --no-ipv6-csum      do not take blank IPv6 checksums\n"
		"  --no-gso            neither send nor take GSO frames\n"
		"  --tap NAME          tap: the TAP device to create and bridge to\n"
		"  --netns NS          tap: create it in network namespace NS (ip netns)\n"
		"  --timeout SEC       gen: bound of the handshake, and give up SEC after\n"
		"                      the last progress (10); reflect/sink: run at most\n"
		"                      SEC (the handshake is bounded by 10 s)\n"
		"  --no-toolstack      the device directories exist already (no xl role)\n"
		"  --script PATH       the vif's hotplug script, as xl's script= (/bin/true)\n"
		"  --bridge NAME       the vif's bridge node, as xl's bridge= (none)\n"
		"  --no-sg             do not offer feature-sg (frames fit one page)\n"
		"  --aligned           page-aligned slots instead of varied offsets\n"
		"  --seed S            seed of the slot layout and size choice\n"
		"  --quiet             no progress on stderr\n"
		"  --lossy             gen: frames answered with an error (tx_errors,\n"
		"                      rx_errors) are accounted for, not lost (fault tests)\n");
}

static int
parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
			&tail) != 6)
		return -1;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (s[0] == '-' || s[0] == '\0')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

static int
parse_sizes(struct guest *g, const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;
	uint64_t v;
	int ret = 0;

	if (copy == NULL)
		return -1;
	g->nr_sizes = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (g->nr_sizes == GUEST_MAX_SIZES ||
				parse_u64(tok, GUEST_HDR_LEN, NETFRONT_MAX_FRAME, &v) != 0) {
			ret = -1;
			break;
		}
		g->sizes[g->nr_sizes++] = (uint32_t)v;
	}
	if (g->nr_sizes == 0)
		ret = -1;
	free(copy);
	return ret;
}

static uint32_t
mix32(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

/* Bytes before gen's frame number: Ethernet, IP and TCP/UDP headers. */
static uint32_t
proto_hlen(enum guest_proto p)
{
	switch (p) {
	case PROTO_UDP4:
		return 14 + 20 + 8;
	case PROTO_UDP6:
		return 14 + 40 + 8;
	case PROTO_TCP4:
		return 14 + 20 + 20;
	case PROTO_TCP6:
		return 14 + 40 + 20;
	default:
		return 14;
	}
}

static uint32_t
frame_len(const struct guest *g, uint64_t seq)
{
	uint32_t len, min = proto_hlen(g->proto) + GUEST_ID_LEN;

	if (g->nr_sizes != 0)
		len = g->sizes[seq % g->nr_sizes];
	else
		len = g->size_min + mix32(seq) % (g->size_max - g->size_min + 1);
	return len < min ? min : len;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * The pattern: byte i of every frame is base[i] (distinct for every
 * position up to 64 KiB) XOR byte i % 4 of a 32-bit word derived from the
 * frame's number. Data moved within a frame or taken from another frame
 * shows; built eight bytes at a time.
 */
static uint8_t *
pattern_base(void)
{
	uint8_t *b = malloc(NETFRONT_MAX_FRAME + 8);
	uint32_t i;

	if (b == NULL)
		return NULL;
	for (i = 0; i < NETFRONT_MAX_FRAME + 8; i++)
		b[i] = (uint8_t)(i * 0x9du) ^ (uint8_t)(i >> 8);
	return b;
}

/*
 * IP and TCP/UDP headers for gen's frame seq: link-local addresses
 * (169.254.0.0/16, fe80::/64) made from the MACs, IPv4 id and TCP
 * sequence from the number. The checksum field is left 0.
 */
static void
l4_headers(const struct guest *g, uint64_t seq, uint32_t len, uint8_t *f)
{
	bool v6 = g->proto == PROTO_UDP6 || g->proto == PROTO_TCP6;
	bool tcp = g->proto == PROTO_TCP4 || g->proto == PROTO_TCP6;
	uint8_t *ip = f + 14, *l4;
	uint32_t l4len;

	if (v6) {
		put16(f + 12, 0x86dd);
		memset(ip, 0, 40);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(len - 54));
		ip[6] = tcp ? 6 : 17;
		ip[7] = 64;
		ip[8] = 0xfe;
		ip[9] = 0x80;
		memcpy(ip + 18, g->src, 6);
		ip[24] = 0xfe;
		ip[25] = 0x80;
		memcpy(ip + 34, g->dst, 6);
		l4 = ip + 40;
	} else {
		put16(f + 12, 0x0800);
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(len - 14));
		put16(ip + 4, (uint16_t)seq);
		put16(ip + 6, 0x4000);   /* DF */
		ip[8] = 64;
		ip[9] = tcp ? 6 : 17;
		ip[12] = 169;
		ip[13] = 254;
		ip[14] = g->src[4];
		ip[15] = g->src[5];
		ip[16] = 169;
		ip[17] = 254;
		ip[18] = g->dst[4];
		ip[19] = g->dst[5];
		{
			uint32_t sum = 0, i;

			for (i = 0; i < 20; i += 2)
				sum += (uint32_t)ip[i] << 8 | ip[i + 1];
			while (sum >> 16)
				sum = (sum & 0xffff) + (sum >> 16);
			put16(ip + 10, (uint16_t)~sum);
		}
		l4 = ip + 20;
	}
	l4len = len - (uint32_t)(l4 - f);
	put16(l4, 40000);
	put16(l4 + 2, 5201);
	if (tcp) {
		memset(l4 + 4, 0, 16);
		put32(l4 + 4, (uint32_t)seq * 65536u);
		put32(l4 + 8, 1);
		l4[12] = 5 << 4;
		l4[13] = 0x18;              /* PSH ACK */
		put16(l4 + 14, 65535);
	} else {
		put16(l4 + 4, (uint16_t)l4len);
		put16(l4 + 6, 0);
	}
}

/*
 * The frame numbered seq: header, number, length, then its pattern; as
 * TCP/UDP its checksum is full (what must come back).
 */
static void
frame_build(const struct guest *g, uint64_t seq, uint32_t len, uint8_t *f)
{
	uint32_t x = mix32(seq + 1);
	uint64_t x64 = (uint64_t)x << 32 | x, w;
	uint32_t i, h = proto_hlen(g->proto);

	/* Whole words from 24 on (8-aligned, so word byte k is at i % 8 == k). */
	for (i = 24; i + 8 <= len; i += 8) {
		memcpy(&w, g->base + i, 8);
		w ^= x64;
		memcpy(f + i, &w, 8);
	}
	for (; i < len; i++)
		f[i] = g->base[i] ^ (uint8_t)(x64 >> (8 * (i % 8)));
	memcpy(f, g->dst, 6);
	memcpy(f + 6, g->src, 6);
	f[12] = GUEST_ETHERTYPE >> 8;
	f[13] = GUEST_ETHERTYPE & 0xff;
	if (g->proto != PROTO_RAW)
		l4_headers(g, seq, len, f);
	put32(f + h, GUEST_MAGIC);
	put32(f + h + 4, (uint32_t)seq);
	put32(f + h + 8, len);
	if (g->proto != PROTO_RAW)
		netfront_csum_fill(f, len);
}

void
guest_report(const struct guest *g, const struct netfront_stats *st, double secs)
{
	if (secs <= 0)
		secs = 1e-9;
	printf("xnb-guest: sent=%" PRIu64 " received=%" PRIu64 " verify_failures=%" PRIu64
		" tx_errors=%" PRIu64 " rx_errors=%" PRIu64 " secs=%.3f mpps=%.3f gbps=%.3f",
		g->sent, g->received, g->verify_failures, st->tx_errors, st->rx_errors, secs,
		(double)g->received / secs / 1e6, (double)g->rx_bytes * 8 / secs / 1e9);
	printf(" csum_ok=%" PRIu64 " csum_bad=%" PRIu64 " rx_csum_blank=%" PRIu64
		" rx_data_validated=%" PRIu64 " rx_gso=%" PRIu64 " tx_csum_blank=%" PRIu64
		" tx_gso=%" PRIu64 " tx_segmented=%" PRIu64 " tx_sw_csum=%" PRIu64
		" tap_in=%" PRIu64 " tap_out=%" PRIu64 " tap_dropped=%" PRIu64
		" tap_down=%" PRIu64 "\n",
		g->csum_ok, g->csum_bad, g->rx_csum_blank, g->rx_validated, g->rx_gso,
		st->tx_csum_blank, st->tx_gso, g->tx_segmented, g->tx_sw_csum, g->tap_in,
		g->tap_out, g->tap_dropped, g->tap_down);
	fflush(stdout);
}

static void
verify_fail(struct guest *g, const char *why, uint64_t seq, uint32_t len)
{
	if (g->verify_failures < 10)
		fprintf(stderr, "xnb-guest: bad frame (%s): seq %" PRIu64 ", %u bytes\n",
			why, seq, len);
	g->verify_failures++;
}

int
guest_rx_csum(struct guest *g, const struct netfront_rx_meta *meta, const uint8_t *f,
		uint32_t len)
{
	int ret;

	if (meta->flags & NETRXF_csum_blank)
		g->rx_csum_blank++;
	if (meta->flags & NETRXF_data_validated)
		g->rx_validated++;
	if (meta->gso_type != XEN_NETIF_GSO_TYPE_NONE)
		g->rx_gso++;
	if (meta->flags & NETRXF_csum_blank)
		ret = netfront_csum_check_partial(f, len);
	else
		ret = netfront_csum_check(f, len);
	if (ret == -ENOENT && !(meta->flags & NETRXF_csum_blank) &&
			meta->gso_type == XEN_NETIF_GSO_TYPE_NONE)
		return -1;             /* not TCP/UDP: nothing to check */
	if (ret == 1) {
		g->csum_ok++;
		return 1;
	}
	/* Wrong, or a blank checksum / GSO frame that is not TCP/UDP. */
	if (g->csum_bad < 10)
		fprintf(stderr, "xnb-guest: bad checksum (%s, flags 0x%x, gso %u): %u bytes\n",
			ret == 0 ? "wrong" : strerror(-ret), meta->flags, meta->gso_type, len);
	g->csum_bad++;
	return 0;
}

static void
gen_rx(void *arg, struct netfront_queue *q, const uint8_t *f, uint32_t len)
{
	struct guest *g = arg;
	uint32_t seq, want, h = proto_hlen(g->proto);

	g->received++;
	g->rx_bytes += len;
	g->last_progress_ms = now_ms();
	if (guest_rx_csum(g, &q->rx_meta, f, len) == 0) {
		verify_fail(g, "checksum", UINT64_MAX, len);
		return;
	}
	if (g->proto != PROTO_RAW) {
		/* Compare with the full checksum, as it must come out. */
		if (len > NETFRONT_MAX_FRAME) {
			verify_fail(g, "too long", UINT64_MAX, len);
			return;
		}
		memcpy(g->scratch2, f, len);
		if (q->rx_meta.flags & NETRXF_csum_blank)
			netfront_csum_fill(g->scratch2, len);
		f = g->scratch2;
	}
	if (len < h + GUEST_ID_LEN || get32(f + h) != GUEST_MAGIC ||
			(g->proto == PROTO_RAW && (f[12] != (GUEST_ETHERTYPE >> 8) ||
			f[13] != (GUEST_ETHERTYPE & 0xff)))) {
		verify_fail(g, "not one of ours", UINT64_MAX, len);
		return;
	}
	seq = get32(f + h + 4);
	if (seq >= g->sent) {
		verify_fail(g, "sequence number never sent", seq, len);
		return;
	}
	if (g->seen[seq / 8] & (1u << (seq % 8))) {
		verify_fail(g, "duplicate", seq, len);
		return;
	}
	want = frame_len(g, seq);
	if (len != want || get32(f + h + 8) != want) {
		verify_fail(g, "wrong length", seq, len);
		return;
	}
	if (q->rx_meta.gso_type != XEN_NETIF_GSO_TYPE_NONE &&
			(q->rx_meta.gso_size != g->gso_mss ||
			q->rx_meta.gso_type != (g->proto == PROTO_TCP6 ?
				XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4))) {
		verify_fail(g, "GSO type or size not as sent", seq, len);
		return;
	}
	frame_build(g, seq, want, g->scratch);
	if (memcmp(f, g->scratch, len) != 0) {
		uint32_t i;

		for (i = 0; i < len && f[i] == g->scratch[i]; i++)
			;
		if (g->verify_failures < 10)
			fprintf(stderr, "xnb-guest: seq %u: byte %u is 0x%02x, want 0x%02x\n",
				seq, i, f[i], g->scratch[i]);
		verify_fail(g, "content differs", seq, len);
		return;
	}
	g->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	g->received_ok++;
}

static void
sink_rx(void *arg, struct netfront_queue *q, const uint8_t *f, uint32_t len)
{
	struct guest *g = arg;

	g->received++;
	g->rx_bytes += len;
	g->last_progress_ms = now_ms();
	guest_rx_csum(g, &q->rx_meta, f, len);
}

/* --- Sending as a stack over netfront does --- */

unsigned int
guest_backlog_room(const struct guest *g)
{
	return GUEST_BACKLOG - g->bl_count;
}

/* Send now, or queue behind what waits already. */
static int
xmit_one(struct guest *g, const uint8_t *f, uint32_t len, const struct netfront_tx_meta *meta)
{
	struct guest_pending *p;
	int ret;

	if (g->bl_count == 0) {
		ret = netfront_send_meta(g->nf, f, len, meta);
		if (ret == 0) {
			g->sent++;
			return 0;
		}
		if (ret != -EAGAIN)
			return ret;
	}
	if (g->bl_count == GUEST_BACKLOG)
		return -ENOBUFS;
	p = &g->backlog[(g->bl_head + g->bl_count) % GUEST_BACKLOG];
	p->buf = malloc(len);
	if (p->buf == NULL)
		return -ENOMEM;
	memcpy(p->buf, f, len);
	p->len = len;
	p->meta = *meta;
	g->bl_count++;
	return 0;
}

void
guest_flush(struct guest *g)
{
	while (g->bl_count > 0) {
		struct guest_pending *p = &g->backlog[g->bl_head];
		int ret = netfront_send_meta(g->nf, p->buf, p->len, &p->meta);

		if (ret == -EAGAIN)
			return;
		if (ret == 0)
			g->sent++;
		else
			g->reflect_dropped++;
		free(p->buf);
		p->buf = NULL;
		g->bl_head = (g->bl_head + 1) % GUEST_BACKLOG;
		g->bl_count--;
	}
}

struct seg_ctx {
	struct guest *g;
	struct netfront_tx_meta meta;
	int err;
};

static int
seg_send(void *arg, const uint8_t *seg, uint32_t len)
{
	struct seg_ctx *c = arg;
	int ret = xmit_one(c->g, seg, len, &c->meta);

	if (ret != 0)
		c->err = ret;
	return 0;                  /* the other segments still go, as a NIC's queue */
}

int
guest_xmit(struct guest *g, const uint8_t *f, uint32_t len, const struct netfront_tx_meta *meta)
{
	struct netfront *nf = g->nf;
	struct netfront_tx_meta m = *meta;
	int v = netfront_ip_version(f, len);
	bool csum_ok = nf->tx_csum && (v != 6 || nf->tx_csum_ipv6);
	bool gso_ok = (m.gso_type == XEN_NETIF_GSO_TYPE_TCPV4 && nf->tx_gso_tcpv4) ||
		(m.gso_type == XEN_NETIF_GSO_TYPE_TCPV6 && nf->tx_gso_tcpv6);

	if (m.gso_type != XEN_NETIF_GSO_TYPE_NONE && (!gso_ok || len > NETFRONT_MAX_FRAME)) {
		/* Software GSO: blank checksums where they are allowed. */
		struct seg_ctx c = { .g = g, .err = 0 };
		int n;

		c.meta.flags = csum_ok ? NETTXF_csum_blank | NETTXF_data_validated : 0;
		n = netfront_tcp_segment(f, len, m.gso_size, csum_ok, seg_send, &c);
		if (n < 0)
			return n;
		g->tx_segmented++;
		return c.err;
	}
	if ((m.flags & NETTXF_csum_blank) && !csum_ok) {
		/* Completed here, as Linux's skb_checksum_help. */
		uint8_t *copy = malloc(len);
		int ret;

		if (copy == NULL)
			return -ENOMEM;
		memcpy(copy, f, len);
		ret = netfront_csum_fill(copy, len);
		if (ret == 0) {
			g->tx_sw_csum++;
			m.flags = 0;
			ret = xmit_one(g, copy, len, &m);
		}
		free(copy);
		return ret;
	}
	return xmit_one(g, f, len, &m);
}

static void
reflect_rx(void *arg, struct netfront_queue *q, const uint8_t *f, uint32_t len)
{
	struct guest *g = arg;
	struct netfront_tx_meta m = { .flags = 0 };

	g->received++;
	g->rx_bytes += len;
	g->last_progress_ms = now_ms();
	guest_rx_csum(g, &q->rx_meta, f, len);
	/* What a bridge forwards: CHECKSUM_PARTIAL, UNNECESSARY, GSO. */
	if (q->rx_meta.flags & NETRXF_csum_blank)
		m.flags = NETTXF_csum_blank | NETTXF_data_validated;
	else if (q->rx_meta.flags & NETRXF_data_validated)
		m.flags = NETTXF_data_validated;
	m.gso_type = q->rx_meta.gso_type;
	m.gso_size = q->rx_meta.gso_size;
	if (guest_xmit(g, f, len, &m) != 0)
		g->reflect_dropped++;
}

/* Sleep briefly unless there was work; returns a negative errno on disconnect. */
static int
idle_wait(struct guest *g, unsigned int *idle)
{
	int ret;

	if (++*idle < GUEST_SPIN)
		return 0;
	*idle = 0;
	ret = netfront_wait(g->nf, 100);
	if (ret == -EINTR)
		return 0;
	return ret < 0 ? ret : 0;
}

/* Frames the backend answered with an error on either ring, with --lossy. */
static uint64_t
gen_errors(struct guest *g)
{
	struct netfront_stats st;

	if (!g->lossy)
		return 0;
	netfront_get_stats(g->nf, &st);
	return st.tx_errors + st.rx_errors;
}

static int
run_gen(struct guest *g, unsigned int timeout_s)
{
	uint8_t *buf = malloc(NETFRONT_MAX_FRAME);
	uint64_t last_report = now_ms(), t;
	unsigned int idle = 0;
	int ret = 0, n;

	if (buf == NULL)
		return -ENOMEM;
	g->last_progress_ms = now_ms();
	while (!stop_flag) {
		bool sent_any = false;

		while (g->sent < g->frames &&
				g->sent - g->received - gen_errors(g) < g->window) {
			uint32_t len = frame_len(g, g->sent);
			struct netfront_tx_meta meta = { .flags = 0 };

			frame_build(g, g->sent, len, buf);
			if (g->csum_blank && g->proto != PROTO_RAW) {
				/* As Linux sends CHECKSUM_PARTIAL. */
				netfront_csum_partial(buf, len);
				meta.flags = NETTXF_csum_blank | NETTXF_data_validated;
			}
			if (g->gso_mss != 0 && len - proto_hlen(g->proto) > g->gso_mss) {
				meta.gso_type = g->proto == PROTO_TCP6 ?
					XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4;
				meta.gso_size = g->gso_mss;
			}
			ret = netfront_send_meta(g->nf, buf, len, &meta);
			if (ret == -EAGAIN) {
				ret = 0;
				break;
			}
			if (ret < 0) {
				fprintf(stderr, "xnb-guest: sending frame %" PRIu64 " (%u bytes) "
					"failed: %s\n", g->sent, len, strerror(-ret));
				goto out;
			}
			g->sent++;
			sent_any = true;
		}
		if (sent_any)
			g->last_progress_ms = now_ms();
		n = netfront_poll(g->nf, gen_rx, g);
		if (n < 0) {
			ret = n;
			fprintf(stderr, "xnb-guest: %s\n", n == -ENOTCONN ?
				"the backend closed the connection" :
				"the backend broke the ring protocol");
			goto out;
		}
		if (g->sent == g->frames && g->received + gen_errors(g) >= g->sent)
			break;
		if (n == 0 && !sent_any) {
			ret = idle_wait(g, &idle);
			if (ret < 0)
				goto out;
		} else {
			idle = 0;
		}
		t = now_ms();
		if (t - g->last_progress_ms > (uint64_t)timeout_s * 1000) {
			fprintf(stderr, "xnb-guest: no progress for %u s: %" PRIu64
				" frame(s) did not come back\n", timeout_s,
				g->sent - g->received - gen_errors(g));
			break;
		}
		if (!g->quiet && t - last_report >= 1000) {
			last_report = t;
			fprintf(stderr, "xnb-guest: sent %" PRIu64 " received %" PRIu64
				" in flight %" PRIu64 "\n", g->sent, g->received,
				g->sent - g->received);
		}
	}
	/* Collect the last transmit responses (their errors count). */
	t = now_ms();
	while (netfront_tx_inflight(g->nf) > 0 && now_ms() - t < 1000) {
		if (netfront_poll(g->nf, gen_rx, g) < 0)
			break;
		if (netfront_tx_inflight(g->nf) > 0)
			netfront_wait(g->nf, 10);
	}
out:
	free(buf);
	return ret;
}

static int
run_rs(struct guest *g, unsigned int timeout_s, bool timeout_given)
{
	netfront_rx_cb cb = g->mode == MODE_REFLECT ? reflect_rx : sink_rx;
	uint64_t start = now_ms(), last_report = start, t;
	unsigned int idle = 0;
	int n;

	while (!stop_flag) {
		if (g->bl_count > 0)
			guest_flush(g);
		n = netfront_poll(g->nf, cb, g);
		if (n < 0) {
			fprintf(stderr, "xnb-guest: %s\n", n == -ENOTCONN ?
				"the backend closed the connection" :
				"the backend broke the ring protocol");
			return n;
		}
		if (g->frames != 0 && g->received >= g->frames && g->bl_count == 0)
			break;
		if (n == 0 && g->bl_count == 0) {
			n = idle_wait(g, &idle);
			if (n < 0) {
				fprintf(stderr, "xnb-guest: the backend closed the connection\n");
				return n;
			}
		} else {
			idle = 0;
		}
		t = now_ms();
		if (timeout_given && t - start >= (uint64_t)timeout_s * 1000)
			break;
		if (!g->quiet && t - last_report >= 5000) {
			last_report = t;
			fprintf(stderr, "xnb-guest: received %" PRIu64 " sent %" PRIu64 "\n",
				g->received, g->sent);
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sim-dir", required_argument, NULL, 'd' },
		{ "domid", required_argument, NULL, 'i' },
		{ "handle", required_argument, NULL, 'H' },
		{ "type", required_argument, NULL, 'T' },
		{ "mac", required_argument, NULL, 'm' },
		{ "mode", required_argument, NULL, 'M' },
		{ "frames", required_argument, NULL, 'n' },
		{ "sizes", required_argument, NULL, 's' },
		{ "size-range", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "dst", required_argument, NULL, 'D' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-toolstack", no_argument, NULL, 'N' },
		{ "script", required_argument, NULL, 'x' },
		{ "bridge", required_argument, NULL, 'B' },
		{ "no-sg", no_argument, NULL, 'G' },
		{ "aligned", no_argument, NULL, 'A' },
		{ "seed", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "lossy", no_argument, NULL, 'L' },
		{ "proto", required_argument, NULL, 'P' },
		{ "csum-blank", no_argument, NULL, 'C' },
		{ "gso", required_argument, NULL, 'g' },
		{ "no-csum-offload", no_argument, NULL, 'c' },
		{ "no-ipv6-csum", no_argument, NULL, '6' },
		{ "no-gso", no_argument, NULL, 'o' },
		{ "tap", required_argument, NULL, 'a' },
		{ "netns", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const uint32_t default_sizes[] = {
		60, 1514, 9000, 128, 4200, 512, 2048, 8000, 64, 1000, 4096, 256, 3000, 6000,
	};
	static const uint32_t default_sizes_nosg[] = {
		60, 1514, 128, 512, 2048, 64, 1000, 4096, 256, 3000,
	};
	struct netfront_conf conf;
	struct netfront_stats st;
	struct sigaction sa;
	struct guest *g;
	uint64_t v, lost = 0;
	unsigned int timeout_s = 10, i;
	bool timeout_given = false, have_domid = false, have_frames = false, have_window = false;
	double t0, secs;
	int opt, lidx = 0, ret, status = 0;

	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return 1;
	netfront_conf_init(&conf);
	memset(g->dst, 0xff, 6);
	g->mode = MODE_GEN;
	g->frames = 100000;

	while ((opt = getopt_long(argc, argv, "h", opts, &lidx)) != -1) {
		switch (opt) {
		case 'd':
			conf.sim_dir = optarg;
			break;
		case 'i':
			if (parse_u64(optarg, 1, DOMID_FIRST_RESERVED - 1, &v) != 0)
				goto bad;
			conf.domid = (uint16_t)v;
			have_domid = true;
			break;
		case 'H':
			if (parse_u64(optarg, 0, 65535, &v) != 0)
				goto bad;
			conf.handle = (uint16_t)v;
			break;
		case 'T':
			conf.type = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, conf.mac) != 0)
				goto bad;
			break;
		case 'M':
			if (strcmp(optarg, "gen") == 0)
				g->mode = MODE_GEN;
			else if (strcmp(optarg, "reflect") == 0)
				g->mode = MODE_REFLECT;
			else if (strcmp(optarg, "sink") == 0)
				g->mode = MODE_SINK;
			else if (strcmp(optarg, "tap") == 0)
				g->mode = MODE_TAP;
			else
				goto bad;
			break;
		case 'n':
			if (parse_u64(optarg, 1, UINT32_MAX, &g->frames) != 0)
				goto bad;
			have_frames = true;
			break;
		case 's':
			if (parse_sizes(g, optarg) != 0)
				goto bad;
			break;
		case 'r': {
			unsigned int a, b;
			char tail;

			if (sscanf(optarg, "%u-%u%c", &a, &b, &tail) != 2 || a < GUEST_HDR_LEN ||
					b < a || b > NETFRONT_MAX_FRAME)
				goto bad;
			g->nr_sizes = 0;
			g->size_min = a;
			g->size_max = b;
			break;
		}
		case 'w':
			if (parse_u64(optarg, 1, 1u << 20, &v) != 0)
				goto bad;
			g->window = (uint32_t)v;
			have_window = true;
			break;
		case 'D':
			if (parse_mac(optarg, g->dst) != 0)
				goto bad;
			break;
		case 't':
			if (parse_u64(optarg, 1, 86400, &v) != 0)
				goto bad;
			timeout_s = (unsigned int)v;
			timeout_given = true;
			break;
		case 'N':
			conf.toolstack = false;
			break;
		case 'x':
			conf.script = optarg;
			break;
		case 'B':
			conf.bridge = optarg;
			break;
		case 'G':
			conf.sg = false;
			break;
		case 'A':
			conf.tx_layout = NETFRONT_TX_ALIGNED;
			break;
		case 'S':
			if (parse_u64(optarg, 0, UINT32_MAX, &v) != 0)
				goto bad;
			conf.seed = (uint32_t)v != 0 ? (uint32_t)v : 1;
			break;
		case 'L':
			g->lossy = true;
			break;
		case 'q':
			g->quiet = true;
			break;
		case 'P':
			if (strcmp(optarg, "raw") == 0)
				g->proto = PROTO_RAW;
			else if (strcmp(optarg, "udp4") == 0)
				g->proto = PROTO_UDP4;
			else if (strcmp(optarg, "udp6") == 0)
				g->proto = PROTO_UDP6;
			else if (strcmp(optarg, "tcp4") == 0)
				g->proto = PROTO_TCP4;
			else if (strcmp(optarg, "tcp6") == 0)
				g->proto = PROTO_TCP6;
			else
				goto bad;
			break;
		case 'C':
			g->csum_blank = true;
			break;
		case 'g':
			if (parse_u64(optarg, 64, 65535, &v) != 0)
				goto bad;
			g->gso_mss = (uint16_t)v;
			g->csum_blank = true;
			break;
		case 'c':
			conf.csum = false;
			break;
		case '6':
			conf.ipv6_csum = false;
			break;
		case 'o':
			conf.gso = false;
			break;
		case 'a':
			g->tap_name = optarg;
			break;
		case 'e':
			g->netns = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || conf.sim_dir == NULL || !have_domid) {
		fprintf(stderr, "xnb-guest: --sim-dir and --domid are required\n");
		usage(stderr);
		return 2;
	}
	if (g->mode != MODE_GEN && !have_frames)
		g->frames = 0;
	if ((g->mode == MODE_TAP) != (g->tap_name != NULL) ||
			(g->netns != NULL && g->mode != MODE_TAP)) {
		fprintf(stderr, "xnb-guest: --tap NAME goes with --mode tap (and --netns only "
			"with them)\n");
		return 2;
	}
	if (g->gso_mss != 0 && g->proto != PROTO_TCP4 && g->proto != PROTO_TCP6) {
		fprintf(stderr, "xnb-guest: --gso needs --proto tcp4 or tcp6\n");
		return 2;
	}
	if ((g->csum_blank || g->gso_mss != 0) && !conf.csum) {
		fprintf(stderr, "xnb-guest: --csum-blank and --gso need checksum offload "
			"(no --no-csum-offload)\n");
		return 2;
	}
	if (g->gso_mss != 0 && !conf.gso) {
		fprintf(stderr, "xnb-guest: --gso and --no-gso together\n");
		return 2;
	}

	/* The sizes, and a window that the 256 posted rx buffers can hold. */
	if (g->nr_sizes == 0 && g->size_max == 0) {
		if (conf.sg) {
			memcpy(g->sizes, default_sizes, sizeof(default_sizes));
			g->nr_sizes = sizeof(default_sizes) / sizeof(default_sizes[0]);
		} else {
			memcpy(g->sizes, default_sizes_nosg, sizeof(default_sizes_nosg));
			g->nr_sizes = sizeof(default_sizes_nosg) / sizeof(default_sizes_nosg[0]);
		}
	}
	{
		uint32_t max = g->nr_sizes != 0 ? 0 : g->size_max;

		for (i = 0; i < g->nr_sizes; i++)
			if (g->sizes[i] > max)
				max = g->sizes[i];
		if (!conf.sg && max > XENSIM_PAGE_SIZE) {
			fprintf(stderr, "xnb-guest: frames of %u bytes need feature-sg; drop "
				"--no-sg or keep sizes up to %u\n", max, XENSIM_PAGE_SIZE);
			return 2;
		}
		if (!have_window) {
			/*
			 * A backend may use a slot per 2 KiB (one per mbuf segment):
			 * keep what can be in flight within the rx buffers.
			 */
			uint32_t slots = (max + 2047) / 2048;

			g->window = NETFRONT_RX_RING_SIZE / (slots != 0 ? slots : 1);
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	conf.cancel = &stop_flag;
	conf.timeout_ms = g->mode == MODE_GEN ? timeout_s * 1000 : NETFRONT_DEFAULT_TIMEOUT_MS;

	g->nf = netfront_open(&conf);
	if (g->nf == NULL) {
		fprintf(stderr, "xnb-guest: cannot set up the guest (%s)\n", strerror(errno));
		printf("xnb-guest: sent=0 received=0 verify_failures=0 tx_errors=0 rx_errors=0 "
			"secs=0.000 mpps=0.000 gbps=0.000 csum_ok=0 csum_bad=0 rx_csum_blank=0 "
			"rx_data_validated=0 rx_gso=0 tx_csum_blank=0 tx_gso=0 tx_segmented=0 "
			"tx_sw_csum=0 tap_in=0 tap_out=0 tap_dropped=0 tap_down=0\n");
		return 1;
	}
	memcpy(g->src, g->nf->conf.mac, 6);
	if (!g->quiet)
		fprintf(stderr, "xnb-guest: dom%u vif%u (%s) waiting for the backend %s\n",
			conf.domid, conf.handle, g->nf->fe_path, g->nf->be_path);
	ret = netfront_connect(g->nf);
	if (ret < 0) {
		fprintf(stderr, "xnb-guest: handshake with the backend failed: %s\n",
			strerror(-ret));
		status = 1;
		t0 = now_s();
		goto done;
	}
	if (!g->quiet)
		fprintf(stderr, "xnb-guest: connected (sg %s, %u queue(s); may send csum_blank "
			"%s, ipv6 csum_blank %s, gso tcpv4 %s, tcpv6 %s); mode %s\n",
			g->nf->sg ? "on" : "off", g->nf->nr_queues,
			g->nf->tx_csum ? "yes" : "no", g->nf->tx_csum_ipv6 ? "yes" : "no",
			g->nf->tx_gso_tcpv4 ? "yes" : "no", g->nf->tx_gso_tcpv6 ? "yes" : "no",
			g->mode == MODE_GEN ? "gen" : g->mode == MODE_REFLECT ? "reflect" :
			g->mode == MODE_SINK ? "sink" : "tap");

	t0 = now_s();
	if (g->mode == MODE_GEN) {
		uint32_t max = g->nr_sizes != 0 ? 0 : g->size_max;

		for (i = 0; i < g->nr_sizes; i++)
			if (g->sizes[i] > max)
				max = g->sizes[i];
		if (!g->nf->sg && max > XENSIM_PAGE_SIZE) {
			fprintf(stderr, "xnb-guest: the backend does not offer feature-sg; "
				"frames of %u bytes cannot be sent\n", max);
			status = 1;
			goto done;
		}
		if ((g->csum_blank && (g->proto == PROTO_UDP6 || g->proto == PROTO_TCP6) &&
				!g->nf->tx_csum_ipv6) ||
				(g->gso_mss != 0 && ((g->proto == PROTO_TCP4 && !g->nf->tx_gso_tcpv4) ||
				(g->proto == PROTO_TCP6 && !g->nf->tx_gso_tcpv6)))) {
			fprintf(stderr, "xnb-guest: offload not negotiated: the backend %s does not "
				"offer %s\n", g->nf->be_path, g->gso_mss != 0 ?
				(g->proto == PROTO_TCP6 ? "feature-gso-tcpv6 (with sg and "
				"feature-ipv6-csum-offload)" : "feature-gso-tcpv4 (with sg)") :
				"feature-ipv6-csum-offload");
			status = GUEST_EXIT_NO_OFFLOAD;
			goto done;
		}
		g->seen = calloc(g->frames / 8 + 1, 1);
		g->scratch = malloc(NETFRONT_MAX_FRAME);
		g->scratch2 = malloc(NETFRONT_MAX_FRAME);
		g->base = pattern_base();
		if (g->seen == NULL || g->scratch == NULL || g->scratch2 == NULL ||
				g->base == NULL) {
			fprintf(stderr, "xnb-guest: out of memory\n");
			status = 1;
			goto done;
		}
		ret = run_gen(g, timeout_s);
	} else if (g->mode == MODE_TAP) {
		ret = guest_run_tap(g, timeout_s, timeout_given);
	} else {
		ret = run_rs(g, timeout_s, timeout_given);
	}
	if (ret < 0)
		status = 1;
done:
	secs = now_s() - t0;
	netfront_get_stats(g->nf, &st);
	netfront_close(g->nf);

	if (g->mode == MODE_GEN) {
		lost = g->sent - g->received_ok - (g->lossy ? st.tx_errors + st.rx_errors : 0);
		if (status == 0 && (g->sent != g->frames || lost != 0 || g->verify_failures != 0))
			status = 1;
		if (stop_flag)
			fprintf(stderr, "xnb-guest: interrupted\n");
		if (lost != 0)
			fprintf(stderr, "xnb-guest: %" PRIu64 " frame(s) lost\n", lost);
	}
	if ((!g->lossy && (st.tx_errors != 0 || st.rx_errors != 0)) || st.proto_errors != 0 ||
			g->csum_bad != 0)
		status = status != 0 ? status : 1;
	if (g->reflect_dropped != 0) {
		fprintf(stderr, "xnb-guest: %" PRIu64 " frame(s) not reflected\n",
			g->reflect_dropped);
		status = 1;
	}
	if (st.proto_errors != 0)
		fprintf(stderr, "xnb-guest: %" PRIu64 " backend protocol error(s)\n",
			st.proto_errors);
	guest_report(g, &st, secs);
	for (i = 0; i < GUEST_BACKLOG; i++)
		free(g->backlog[i].buf);
	free(g->seen);
	free(g->scratch);
	free(g->scratch2);
	free(g->base);
	free(g);
	return status;

bad:
	fprintf(stderr, "xnb-guest: bad value \"%s\" for --%s%s\n", optarg, opts[lidx].name,
		opts[lidx].val == 's' || opts[lidx].val == 'r' ?
		" (frame sizes are 26 to 65535 bytes)" : "");
	usage(stderr);
	return 2;
}
