/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-bench-burst: the driver's own cost per packet, one thread, no
 * second core.
 *
 *   xnb-bench-burst [EAL args] -- DIR BYTES [PACKETS]
 *
 * DIR is g2b (xnb_rx_burst: the guest-tx ring into mbufs), b2g
 * (xnb_tx_burst: mbufs into the guest-rx ring) or fwd (each received
 * burst sent straight back). The guest lives in the same thread: before
 * each burst it posts a burst's worth of single-page frames (g2b, fwd) or
 * empty pages (b2g, fwd) and after it takes the responses, as the bench
 * guest does on its own core. Only the driver's burst calls are timed
 * (rdtsc), so the figure leaves out what the cross-core ring traffic of
 * devtools/xnb-bench adds; with valgrind --tool=callgrind
 * --toggle-collect='xnb_*_burst' it gives instruction counts, which repeat
 * exactly from run to run: the tool for A/B tests of datapath changes on
 * a noisy machine. Prints one line: packets, TSC cycles per packet per
 * burst function, copy segments per call.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "bench_clock.h"
#include "test_common.h"

#define BURST 32
#define POOL_SIZE 16383
#define POOL_CACHE 250   /* testpmd's per-lcore mempool cache */

enum dir { G2B, B2G, FWD };

static const char *const dir_names[] = { "g2b", "b2g", "fwd" };

struct bench {
	struct test_guest g;
	struct rte_mempool *mp;
	enum dir dir;
	uint16_t bytes;
	uint16_t tx_flags;         /* NETTXF_* of the guest's frames */
	uint16_t burst;            /* frames per burst: BURST, fewer over a page */
	uint64_t rx_cycles, tx_cycles, packets;
};

static void
usage(void)
{
	fprintf(stderr, "usage: xnb-bench-burst [EAL args] -- g2b|b2g|fwd BYTES [PACKETS [KIND]]\n"
		"  BYTES: 60..9000, a page per slot\n"
		"  KIND: plain (default), blank (TCP/IPv4 with NETTXF_csum_blank, completed\n"
		"        by xnb), blank-rxo (the same, left blank: rx TCP checksum offload on),\n"
		"        idle (PACKETS polls of a queue whose guest posts nothing: ns per poll)\n");
}

/*
 * Every guest tx page holds a TCP/IPv4 frame of b->bytes whose checksum
 * is blank (the pseudo-header sum in the field, as Linux's netfront).
 */
static void
guest_fill_tcp(struct bench *b)
{
	static const uint8_t hdr[54] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 6, 0, 0, 169, 254, 0, 1, 169, 254, 0, 2,
		0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff,
		0, 0, 0, 0,
	};
	unsigned int i;
	uint8_t *p;

	for (i = 0; i < TG_NR_TX_BUFS; i++) {
		p = tg_tx_buf(&b->g, i);
		memcpy(p, hdr, sizeof(hdr));
		p[16] = (uint8_t)((b->bytes - 14) >> 8);
		p[17] = (uint8_t)(b->bytes - 14);
		/* Any partial sum will do: the figure is the same either way. */
		p[50] = 0x12;
		p[51] = 0x34;
	}
}

/* The guest posts n single-slot frames of b->bytes from its tx pages. */
static void
guest_send(struct bench *b, unsigned int n)
{
	struct test_guest *g = &b->g;
	unsigned int i, page, s, slots = (b->bytes + XNB_PAGE_SIZE - 1) / XNB_PAGE_SIZE;
	uint16_t size;

	for (i = 0; i < n; i++) {
		/* A frame over a page takes a page per slot, as netfront's sg. */
		for (s = 0; s < slots; s++) {
			page = g->next_tx_buf++ % TG_NR_TX_BUFS;
			size = s == 0 ? b->bytes : (uint16_t)RTE_MIN(XNB_PAGE_SIZE,
				b->bytes - s * XNB_PAGE_SIZE);
			tg_tx_req(g, g->tx_buf_ref[page], 0,
				(s == 0 ? b->tx_flags : 0) | (s + 1 < slots ? NETTXF_more_data : 0),
				(uint16_t)page, size);
		}
	}
	tg_tx_push(g);
}

/* The guest takes its guest-tx responses; each must be OKAY. */
static int
guest_tx_done(struct bench *b)
{
	netif_tx_response_t rsp[XNB_TX_RING_SIZE];
	unsigned int n, i;

	n = tg_tx_rsps(&b->g, rsp, RTE_DIM(rsp));
	for (i = 0; i < n; i++)
		if (rsp[i].status != NETIF_RSP_OKAY) {
			fprintf(stderr, "guest-tx response %d for id %u\n", rsp[i].status,
				rsp[i].id);
			return -1;
		}
	return 0;
}

/* The guest takes its guest-rx responses and posts the pages again. */
static int
guest_rx_done(struct bench *b)
{
	netif_rx_response_t rsp[XNB_RX_RING_SIZE];
	struct test_guest *g = &b->g;
	unsigned int n, i, want;

	n = tg_rx_rsps(g, rsp, RTE_DIM(rsp));
	for (i = 0; i < n; i++) {
		/* A frame over a page: full pages, then the rest. */
		want = (rsp[i].flags & NETRXF_more_data) ? XNB_PAGE_SIZE :
			(b->bytes - 1) % XNB_PAGE_SIZE + 1;
		if (rsp[i].status != (int)want) {
			fprintf(stderr, "guest-rx response %d for id %u, not %u\n",
				rsp[i].status, rsp[i].id, want);
			return -1;
		}
		tg_rx_req(g, rsp[i].id, g->rx_buf_ref[rsp[i].id]);
	}
	tg_rx_push(g);
	return 0;
}

static int
run(struct bench *b, uint64_t packets)
{
	struct rte_mbuf *pkts[BURST];
	struct test_guest *g = &b->g;
	uint16_t nb, sent;
	uint64_t t0, t1;
	unsigned int i;

	/* Every rx buffer page posted once; each is posted again as it returns. */
	for (i = 0; i < TG_NR_RX_BUFS; i++)
		tg_rx_req(g, (uint16_t)i, g->rx_buf_ref[i]);
	tg_rx_push(g);

	while (b->packets < packets) {
		if (b->dir == B2G) {
			if (rte_pktmbuf_alloc_bulk(b->mp, pkts, b->burst) != 0)
				return -ENOMEM;
			for (i = 0; i < b->burst; i++) {
				pkts[i]->data_len = b->bytes;
				pkts[i]->pkt_len = b->bytes;
			}
			nb = b->burst;
		} else {
			guest_send(b, b->burst);
			t0 = tsc();
			nb = xnb_rx_burst(&g->q->rx, pkts, b->burst);
			t1 = tsc();
			b->rx_cycles += t1 - t0;
			if (guest_tx_done(b) != 0)
				return -EIO;
			if (nb != b->burst) {
				fprintf(stderr, "rx burst took %u of %u frames\n", nb, b->burst);
				return -EIO;
			}
			if (b->dir == G2B) {
				rte_pktmbuf_free_bulk(pkts, nb);
				b->packets += nb;
				continue;
			}
		}
		t0 = tsc();
		sent = xnb_tx_burst(&g->q->tx, pkts, nb);
		t1 = tsc();
		b->tx_cycles += t1 - t0;
		if (sent != nb) {
			fprintf(stderr, "tx burst sent %u of %u frames\n", sent, nb);
			rte_pktmbuf_free_bulk(pkts + sent, nb - sent);
			return -EIO;
		}
		if (guest_rx_done(b) != 0)
			return -EIO;
		b->packets += nb;
	}
	return 0;
}

/*
 * What an idle vif costs the lcore that polls it: polls of a connected
 * queue whose guest posts nothing, rx (an empty guest-tx ring) and tx
 * (a burst of no frames) each timed over the whole run, so that the
 * clock reads do not count.
 */
static int
run_idle(struct bench *b, uint64_t polls)
{
	struct rte_mbuf *pkts[BURST];
	struct test_guest *g = &b->g;
	uint64_t t0, t1, t2, i, got = 0;
	double ns;

	t0 = tsc();
	for (i = 0; i < polls; i++)
		got += xnb_rx_burst(&g->q->rx, pkts, BURST);
	t1 = tsc();
	for (i = 0; i < polls; i++)
		got += xnb_tx_burst(&g->q->tx, pkts, 0);
	t2 = tsc();
	if (got != 0) {
		fprintf(stderr, "an idle queue gave %" PRIu64 " frames\n", got);
		return -EIO;
	}
	ns = 1e9 / (double)rte_get_tsc_hz();
	printf("idle: %" PRIu64 " polls, rx_burst %.1f cycles (%.1f ns)/poll, "
		"tx_burst %.1f cycles (%.1f ns)/poll\n", polls,
		(double)(t1 - t0) / (double)polls, (double)(t1 - t0) / (double)polls * ns,
		(double)(t2 - t1) / (double)polls, (double)(t2 - t1) / (double)polls * ns);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct bench b;
	uint64_t packets = 2000000, calls, segs;
	const char *default_eal[] = { argv[0], "--no-huge", "--no-pci", "-m", "512",
		"--no-shconf", "--log-level=lib.eal:error" };
	char *eal_argv[RTE_DIM(default_eal)];
	const char *kind;
	int n, ret, i;
	long bytes;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			break;
	if (i == argc) {
		/* No EAL args: the defaults, and every argument is ours. */
		memcpy(eal_argv, default_eal, sizeof(default_eal));
		n = rte_eal_init(RTE_DIM(eal_argv), eal_argv);
		argc -= 1;
		argv += 1;
	} else {
		n = rte_eal_init(i, argv);
		argc -= i + 1;
		argv += i + 1;
	}
	if (n < 0) {
		fprintf(stderr, "xnb-bench-burst: EAL init failed\n");
		return 1;
	}
	if (argc < 2) {
		usage();
		return 2;
	}
	for (i = 0; i < (int)RTE_DIM(dir_names); i++)
		if (strcmp(argv[0], dir_names[i]) == 0)
			break;
	if (i == (int)RTE_DIM(dir_names)) {
		usage();
		return 2;
	}
	b.dir = (enum dir)i;
	bytes = strtol(argv[1], NULL, 10);
	if (bytes < 60 || bytes > 9000) {
		usage();
		return 2;
	}
	b.bytes = (uint16_t)bytes;
	/* The guest posts TG_NR_RX_BUFS pages: a burst's frames must fit them. */
	b.burst = (uint16_t)RTE_MIN((unsigned int)BURST,
		TG_NR_RX_BUFS / ((b.bytes + XNB_PAGE_SIZE - 1) / XNB_PAGE_SIZE));
	if (argc > 2)
		packets = strtoull(argv[2], NULL, 10);
	kind = argc > 3 ? argv[3] : "plain";
	if (strcmp(kind, "plain") != 0 && strcmp(kind, "blank") != 0 &&
			strcmp(kind, "blank-rxo") != 0 && strcmp(kind, "idle") != 0) {
		usage();
		return 2;
	}

	/* One mbuf per frame, as the benchmark's testpmd has it. */
	b.mp = rte_pktmbuf_pool_create("bench_pool", POOL_SIZE, POOL_CACHE, 0,
		b.bytes > RTE_MBUF_DEFAULT_DATAROOM ? RTE_PKTMBUF_HEADROOM + 9216 :
		RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (b.mp == NULL) {
		fprintf(stderr, "xnb-bench-burst: cannot create the mbuf pool\n");
		return 1;
	}
	if (tg_create(&b.g, 0, 0) != 0)
		return 1;
	b.g.q->rx.mb_pool = b.mp;
	if (strcmp(kind, "idle") == 0) {
		xnb_queue_resume(b.g.q);
		ret = run_idle(&b, packets);
		tg_destroy(&b.g);
		rte_mempool_free(b.mp);
		rte_eal_cleanup();
		return ret == 0 ? 0 : 1;
	}
	if (strcmp(kind, "plain") != 0) {
		if (b.bytes < 54) {
			usage();
			return 2;
		}
		guest_fill_tcp(&b);
		b.tx_flags = NETTXF_csum_blank | NETTXF_data_validated;
		b.g.q->rx.csum_tcp = strcmp(kind, "blank-rxo") == 0;
	}
	xnb_queue_resume(b.g.q);

	ret = run(&b, packets);
	if (ret == 0) {
		calls = b.g.q->rx.stats.copy_calls + b.g.q->tx.stats.copy_calls;
		segs = b.g.q->rx.stats.copy_segs + b.g.q->tx.stats.copy_segs;
		printf("%s %u B %s: %" PRIu64 " packets, rx_burst %.1f cycles/pkt, "
			"tx_burst %.1f cycles/pkt, %.1f segs/call\n",
			dir_names[b.dir], b.bytes, kind, b.packets,
			(double)b.rx_cycles / (double)b.packets,
			(double)b.tx_cycles / (double)b.packets,
			calls != 0 ? (double)segs / (double)calls : 0.0);
	}
	tg_destroy(&b.g);
	rte_mempool_free(b.mp);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
