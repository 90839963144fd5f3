/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-bench-memcpy: the physical bound of a copying backend, on one core.
 *
 * A backend that moves packets by copying (xnb's grant copies, vhost's
 * and memif's copy modes) cannot beat one memcpy per packet per
 * direction on the same core. This probe measures that: for each frame
 * size it copies frames, back to back, between buffers laid out as the
 * datapath lays them out, and reports frames per second, Gbit/s of frame
 * data and TSC cycles per frame, per second of the thread's cpu time:
 *
 *  - the guest side is a set of 4 KiB pages (a guest ring's worth, 256),
 *    one frame per run of consecutive pages, each page-sized piece copied
 *    on its own (a grant-copy segment never crosses a guest page);
 *  - the host side is a burst's worth of mbuf-sized buffers (32), one
 *    frame per buffer: a mempool's per-lcore cache hands out last the
 *    mbufs freed first, so a busy-polling lcore that frees each burst
 *    before the next (testpmd rxonly, txonly, io) keeps reusing the same
 *    few mbufs;
 *  - g2b copies guest pages into host buffers, b2g host buffers into guest
 *    pages, fwd does both per frame (the round trip's two copies).
 *
 * Usage: xnb-bench-memcpy [--cpu N] [--seconds S] [--runs R]
 *        [--dirs g2b,b2g,fwd] SIZE...
 * Output, one line per direction, size and run:
 *   memcpy dir=g2b size=64 run=1 frames=N seconds=S mpps=X gbps=Y cycles_per_pkt=Z
 *          cpu=C wall_mpps=W
 * where C is the share of the run this thread spent on a cpu (below 1 when
 * other load on the machine took the core; the rates are per cpu second,
 * wall_mpps per wall second).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench_clock.h"

#define PAGE 4096u
#define GUEST_PAGES 256u
#define HOST_BUFS 32u
#define MAX_FRAME 65535u
/* Frames copied between two looks at the clock. */
#define CHUNK 256u

static void *
alloc_buf(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);

	if (p == MAP_FAILED) {
		fprintf(stderr, "xnb-bench-memcpy: cannot map %zu bytes: %s\n", len,
			strerror(errno));
		exit(1);
	}
	/* Touch every page now, not in the timed loop. */
	memset(p, 0x5a, len);
	return p;
}

struct layout {
	uint8_t *guest;            /* GUEST_PAGES pages (two sets for fwd) */
	uint8_t *guest2;
	uint8_t *host;             /* HOST_BUFS buffers of host_stride */
	size_t host_stride;
	uint32_t size;
	uint32_t pages_per_frame;
	uint32_t guest_frames;     /* frames the guest pages hold */
};

/* Frame i's page-sized pieces between guest frame g and host buffer h. */
static inline void
copy_from_guest(const struct layout *l, const uint8_t *g, uint8_t *h)
{
	uint32_t left = l->size, off = 0;

	while (left > 0) {
		uint32_t n = left < PAGE ? left : PAGE;

		memcpy(h + off, g + off, n);
		off += n;
		left -= n;
	}
}

static inline void
copy_to_guest(const struct layout *l, const uint8_t *h, uint8_t *g)
{
	uint32_t left = l->size, off = 0;

	while (left > 0) {
		uint32_t n = left < PAGE ? left : PAGE;

		memcpy(g + off, h + off, n);
		off += n;
		left -= n;
	}
}

enum dir { DIR_G2B, DIR_B2G, DIR_FWD };

static const char *const dir_names[] = { "g2b", "b2g", "fwd" };

static void
run_one(const struct layout *l, enum dir d, double seconds, unsigned int run)
{
	uint64_t frames = 0, t0, t1, c0, c1, r0, r1, deadline;
	uint32_t gi = 0, hi = 0, i;
	volatile uint8_t sink;
	double secs, pps, cpu;

	r0 = thread_ns();
	t0 = now_ns();
	c0 = tsc();
	deadline = t0 + (uint64_t)(seconds * 1e9);
	do {
		for (i = 0; i < CHUNK; i++) {
			uint8_t *g = l->guest + (size_t)gi * l->pages_per_frame * PAGE;
			uint8_t *g2 = l->guest2 + (size_t)gi * l->pages_per_frame * PAGE;
			uint8_t *h = l->host + (size_t)hi * l->host_stride;

			switch (d) {
			case DIR_G2B:
				copy_from_guest(l, g, h);
				break;
			case DIR_B2G:
				copy_to_guest(l, h, g);
				break;
			case DIR_FWD:
				copy_from_guest(l, g, h);
				copy_to_guest(l, h, g2);
				break;
			}
			if (++gi == l->guest_frames)
				gi = 0;
			if (++hi == HOST_BUFS)
				hi = 0;
		}
		frames += CHUNK;
		t1 = now_ns();
	} while (t1 < deadline);
	c1 = tsc();
	r1 = thread_ns();
	/* Keep the copies observable. */
	sink = l->host[(size_t)((hi + HOST_BUFS - 1) % HOST_BUFS) * l->host_stride];
	(void)sink;

	/*
	 * Rates per second on the cpu: what one core does, also when other
	 * load on the machine took it part of the time (cpu < 1). The TSC
	 * cycles are scaled alike.
	 */
	secs = (double)(t1 - t0) / 1e9;
	cpu = (double)(r1 - r0) / (double)(t1 - t0);
	if (cpu > 1.0)
		cpu = 1.0;
	pps = (double)frames / (secs * cpu);
	printf("memcpy dir=%s size=%u run=%u frames=%" PRIu64 " seconds=%.3f mpps=%.4f "
		"gbps=%.4f cycles_per_pkt=%.2f cpu=%.3f wall_mpps=%.4f\n",
		dir_names[d], l->size, run, frames, secs, pps / 1e6,
		pps * l->size * 8.0 / 1e9, (double)(c1 - c0) * cpu / (double)frames,
		cpu, (double)frames / secs / 1e6);
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: xnb-bench-memcpy [--cpu N] [--seconds S] [--runs R] "
		"[--dirs g2b,b2g,fwd] SIZE...\n"
		"  SIZE: frame bytes, 14-%u\n", MAX_FRAME);
	exit(2);
}

int
main(int argc, char **argv)
{
	double seconds = 0.5;
	unsigned int runs = 1, r, s;
	bool dirs[3] = { true, true, true };
	uint32_t sizes[64];
	unsigned int nb_sizes = 0;
	int cpu = -1, i;
	struct layout l;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cpu") == 0 && i + 1 < argc) {
			cpu = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			seconds = atof(argv[++i]);
			if (seconds <= 0 || seconds > 60)
				usage();
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = (unsigned int)atoi(argv[++i]);
			if (runs == 0 || runs > 1000)
				usage();
		} else if (strcmp(argv[i], "--dirs") == 0 && i + 1 < argc) {
			const char *v = argv[++i];

			dirs[DIR_G2B] = strstr(v, "g2b") != NULL;
			dirs[DIR_B2G] = strstr(v, "b2g") != NULL;
			dirs[DIR_FWD] = strstr(v, "fwd") != NULL;
		} else if (argv[i][0] == '-') {
			usage();
		} else {
			char *end;
			unsigned long v = strtoul(argv[i], &end, 10);

			if (*end != '\0' || v < 14 || v > MAX_FRAME || nb_sizes == 64)
				usage();
			sizes[nb_sizes++] = (uint32_t)v;
		}
	}
	if (nb_sizes == 0)
		usage();

	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0) {
			fprintf(stderr, "xnb-bench-memcpy: cannot pin to cpu %d: %s\n", cpu,
				strerror(errno));
			return 1;
		}
	}

	for (s = 0; s < nb_sizes; s++) {
		memset(&l, 0, sizeof(l));
		l.size = sizes[s];
		l.pages_per_frame = (l.size + PAGE - 1) / PAGE;
		l.guest_frames = GUEST_PAGES / l.pages_per_frame;
		if (l.guest_frames == 0)
			l.guest_frames = 1;
		/* An mbuf: 128 B header, 128 B headroom, the data room, cache aligned. */
		l.host_stride = 256 + (((size_t)l.size + 63) & ~(size_t)63);
		l.guest = alloc_buf((size_t)l.guest_frames * l.pages_per_frame * PAGE);
		l.guest2 = alloc_buf((size_t)l.guest_frames * l.pages_per_frame * PAGE);
		l.host = alloc_buf((size_t)HOST_BUFS * l.host_stride);
		for (r = 1; r <= runs; r++) {
			int d;

			for (d = DIR_G2B; d <= DIR_FWD; d++)
				if (dirs[d])
					run_one(&l, (enum dir)d, seconds, r);
		}
		munmap(l.guest, (size_t)l.guest_frames * l.pages_per_frame * PAGE);
		munmap(l.guest2, (size_t)l.guest_frames * l.pages_per_frame * PAGE);
		munmap(l.host, (size_t)HOST_BUFS * l.host_stride);
	}
	return 0;
}
