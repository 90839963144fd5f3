/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-guest: a simulated Xen guest with one vif, driven by the netfront
 * library, for demos and tests of an xnb port.
 *
 *   xnb-guest --sim-dir DIR --domid N [--handle H] [--type vif] [--mac M]
 *             [--mode reflect|gen|sink] [--frames N]
 *             [--sizes 60,1514,9000 | --size-range MIN-MAX] [--window W]
 *             [--dst MAC] [--timeout SEC] [--no-toolstack] [--no-sg]
 *             [--aligned] [--seed S] [--quiet]
 *
 * gen sends N numbered frames with a pattern derived from the number,
 * keeps at most W in flight and checks that every one comes back whole,
 * once. reflect sends back whatever it receives; sink counts and drops.
 * The last line on stdout is
 *   xnb-guest: sent=N received=N verify_failures=N tx_errors=N rx_errors=N
 *   secs=S mpps=X gbps=Y
 * Exit status: 0 on success, 1 on lost or bad frames, errors, or a failed
 * handshake, 2 on bad usage.
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

#define GUEST_ETHERTYPE 0x88B5     /* IEEE local experimental */
#define GUEST_MAGIC 0x474e4258u    /* "XNBG" */
#define GUEST_HDR_LEN 26           /* Ethernet 14 + magic 4 + seq 4 + len 4 */
#define GUEST_MAX_SIZES 64
#define GUEST_BACKLOG 1024
#define GUEST_SPIN 256

enum guest_mode {
	MODE_GEN,
	MODE_REFLECT,
	MODE_SINK,
};

struct guest {
	struct netfront *nf;
	enum guest_mode mode;
	bool quiet;

	/* gen */
	uint64_t frames;
	uint32_t sizes[GUEST_MAX_SIZES];
	unsigned int nr_sizes;
	uint32_t size_min, size_max;   /* range mode when nr_sizes == 0 */
	uint32_t window;
	uint8_t dst[6];
	uint8_t src[6];
	uint8_t *seen;                 /* bitmap over sequence numbers */
	uint8_t *base;                 /* the position part of the pattern */
	uint8_t *scratch;              /* expected frame, for comparison */

	/* counts */
	uint64_t sent;
	uint64_t received;
	uint64_t received_ok;
	uint64_t rx_bytes;
	uint64_t verify_failures;
	uint64_t reflect_dropped;
	uint64_t last_progress_ms;

	/* reflect: frames waiting for room on the guest-tx ring */
	uint8_t *backlog[GUEST_BACKLOG];
	uint32_t backlog_len[GUEST_BACKLOG];
	unsigned int bl_head, bl_count;
};

static volatile int stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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
		"  --mode M            gen | reflect | sink (gen)\n"
		"  --frames N          gen: frames to send (100000); reflect/sink: stop after N\n"
		"  --sizes L           gen: frame sizes to cycle through, comma separated\n"
		"  --size-range A-B    gen: pseudo-random sizes from A to B\n"
		"  --window W          gen: frames in flight at most (fits the 256 rx buffers)\n"
		"  --dst MAC           gen: destination MAC (broadcast)\n"
		"  --timeout SEC       gen: bound of the handshake, and give up SEC after\n"
		"                      the last progress (10); reflect/sink: run at most\n"
		"                      SEC (the handshake is bounded by 10 s)\n"
		"  --no-toolstack      the device directories exist already (no xl role)\n"
		"  --no-sg             do not offer feature-sg (frames fit one page)\n"
		"  --aligned           page-aligned slots instead of varied offsets\n"
		"  --seed S            seed of the slot layout and size choice\n"
		"  --quiet             no progress on stderr\n");
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

static uint32_t
frame_len(const struct guest *g, uint64_t seq)
{
	if (g->nr_sizes != 0)
		return g->sizes[seq % g->nr_sizes];
	return g->size_min + mix32(seq) % (g->size_max - g->size_min + 1);
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

/* The frame numbered seq: header, number, length, then its pattern. */
static void
frame_build(const struct guest *g, uint64_t seq, uint32_t len, uint8_t *f)
{
	uint32_t x = mix32(seq + 1);
	uint64_t x64 = (uint64_t)x << 32 | x, w;
	uint32_t i;

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
	put32(f + 14, GUEST_MAGIC);
	put32(f + 18, (uint32_t)seq);
	put32(f + 22, len);
}

static void
verify_fail(struct guest *g, const char *why, uint64_t seq, uint32_t len)
{
	if (g->verify_failures < 10)
		fprintf(stderr, "xnb-guest: bad frame (%s): seq %" PRIu64 ", %u bytes\n",
			why, seq, len);
	g->verify_failures++;
}

static void
gen_rx(void *arg, struct netfront_queue *q, const uint8_t *f, uint32_t len)
{
	struct guest *g = arg;
	uint32_t seq, want;

	(void)q;
	g->received++;
	g->rx_bytes += len;
	g->last_progress_ms = now_ms();
	if (len < GUEST_HDR_LEN || f[12] != (GUEST_ETHERTYPE >> 8) ||
			f[13] != (GUEST_ETHERTYPE & 0xff) || get32(f + 14) != GUEST_MAGIC) {
		verify_fail(g, "not one of ours", UINT64_MAX, len);
		return;
	}
	seq = get32(f + 18);
	if (seq >= g->sent) {
		verify_fail(g, "sequence number never sent", seq, len);
		return;
	}
	if (g->seen[seq / 8] & (1u << (seq % 8))) {
		verify_fail(g, "duplicate", seq, len);
		return;
	}
	want = frame_len(g, seq);
	if (len != want || get32(f + 22) != want) {
		verify_fail(g, "wrong length", seq, len);
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

	(void)q;
	(void)f;
	g->received++;
	g->rx_bytes += len;
	g->last_progress_ms = now_ms();
}

static void
reflect_rx(void *arg, struct netfront_queue *q, const uint8_t *f, uint32_t len)
{
	struct guest *g = arg;
	unsigned int slot;
	int ret;

	g->received++;
	g->rx_bytes += len;
	g->last_progress_ms = now_ms();
	if (g->bl_count == 0) {
		ret = netfront_queue_send(q, f, len);
		if (ret == 0) {
			g->sent++;
			return;
		}
		if (ret != -EAGAIN) {
			g->reflect_dropped++;
			return;
		}
	}
	if (g->bl_count == GUEST_BACKLOG) {
		g->reflect_dropped++;
		return;
	}
	slot = (g->bl_head + g->bl_count) % GUEST_BACKLOG;
	if (g->backlog[slot] == NULL)
		g->backlog[slot] = malloc(NETFRONT_MAX_FRAME);
	if (g->backlog[slot] == NULL) {
		g->reflect_dropped++;
		return;
	}
	memcpy(g->backlog[slot], f, len);
	g->backlog_len[slot] = len;
	g->bl_count++;
}

static void
reflect_flush(struct guest *g)
{
	while (g->bl_count > 0) {
		int ret = netfront_send(g->nf, g->backlog[g->bl_head], g->backlog_len[g->bl_head]);

		if (ret == -EAGAIN)
			return;
		if (ret == 0)
			g->sent++;
		else
			g->reflect_dropped++;
		g->bl_head = (g->bl_head + 1) % GUEST_BACKLOG;
		g->bl_count--;
	}
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

		while (g->sent < g->frames && g->sent - g->received < g->window) {
			uint32_t len = frame_len(g, g->sent);

			frame_build(g, g->sent, len, buf);
			ret = netfront_send(g->nf, buf, len);
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
		if (g->sent == g->frames && g->received >= g->sent)
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
				" frame(s) did not come back\n", timeout_s, g->sent - g->received);
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
			reflect_flush(g);
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
		{ "no-sg", no_argument, NULL, 'G' },
		{ "aligned", no_argument, NULL, 'A' },
		{ "seed", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
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
		case 'q':
			g->quiet = true;
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
	conf.cancel = &stop_flag;
	conf.timeout_ms = g->mode == MODE_GEN ? timeout_s * 1000 : NETFRONT_DEFAULT_TIMEOUT_MS;

	g->nf = netfront_open(&conf);
	if (g->nf == NULL) {
		fprintf(stderr, "xnb-guest: cannot set up the guest (%s)\n", strerror(errno));
		printf("xnb-guest: sent=0 received=0 verify_failures=0 tx_errors=0 rx_errors=0 "
			"secs=0.000 mpps=0.000 gbps=0.000\n");
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
		fprintf(stderr, "xnb-guest: connected (sg %s, %u queue(s)); mode %s\n",
			g->nf->sg ? "on" : "off", g->nf->nr_queues,
			g->mode == MODE_GEN ? "gen" : g->mode == MODE_REFLECT ? "reflect" : "sink");

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
		g->seen = calloc(g->frames / 8 + 1, 1);
		g->scratch = malloc(NETFRONT_MAX_FRAME);
		g->base = pattern_base();
		if (g->seen == NULL || g->scratch == NULL || g->base == NULL) {
			fprintf(stderr, "xnb-guest: out of memory\n");
			status = 1;
			goto done;
		}
		ret = run_gen(g, timeout_s);
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
		lost = g->sent - g->received_ok;
		if (g->sent != g->frames || lost != 0 || g->verify_failures != 0)
			status = 1;
		if (stop_flag)
			fprintf(stderr, "xnb-guest: interrupted\n");
		if (lost != 0)
			fprintf(stderr, "xnb-guest: %" PRIu64 " frame(s) lost\n", lost);
	}
	if (st.tx_errors != 0 || st.rx_errors != 0 || st.proto_errors != 0)
		status = 1;
	if (g->reflect_dropped != 0) {
		fprintf(stderr, "xnb-guest: %" PRIu64 " frame(s) not reflected\n",
			g->reflect_dropped);
		status = 1;
	}
	if (st.proto_errors != 0)
		fprintf(stderr, "xnb-guest: %" PRIu64 " backend protocol error(s)\n",
			st.proto_errors);
	if (secs <= 0)
		secs = 1e-9;
	printf("xnb-guest: sent=%" PRIu64 " received=%" PRIu64 " verify_failures=%" PRIu64
		" tx_errors=%" PRIu64 " rx_errors=%" PRIu64 " secs=%.3f mpps=%.3f gbps=%.3f\n",
		g->sent, g->received, g->verify_failures, st.tx_errors, st.rx_errors, secs,
		(double)g->received / secs / 1e6, (double)g->rx_bytes * 8 / secs / 1e9);
	fflush(stdout);
	for (i = 0; i < GUEST_BACKLOG; i++)
		free(g->backlog[i]);
	free(g->seen);
	free(g->scratch);
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
