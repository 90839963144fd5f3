/* SPDX-License-Identifier: BSD-3-Clause */

/* What the libFuzzer harnesses share: see fuzz_common.h. */

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "fuzz_common.h"
#include "xnb_logs.h"

void
fz_eal_init(const char *prog)
{
	static bool done;
	char lcores[64], *args[16];
	const char *log = getenv("XNB_FUZZ_LOG");
	bool verbose = log != NULL && strcmp(log, "0") != 0;
	cpu_set_t set;
	int n = 0, cpu;
	FILE *devnull;

	if (done)
		return;
	done = true;
	/* One lcore, free to run on every CPU this process may use. */
	cpu = 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
			;
	snprintf(lcores, sizeof(lcores), "0@(%d)", cpu);
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 1) {
		int first = -1, last = -1, c;

		/* A contiguous range is the common case; else the first CPU. */
		for (c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set)) {
				if (first < 0)
					first = c;
				last = c;
			}
		if (CPU_COUNT(&set) == last - first + 1)
			snprintf(lcores, sizeof(lcores), "0@(%d-%d)", first, last);
	}
	args[n++] = (char *)(uintptr_t)prog;
	args[n++] = "--no-huge";
	args[n++] = "--no-pci";
	args[n++] = "--no-shconf";
	args[n++] = "--no-telemetry";
	args[n++] = "-m";
	args[n++] = "256";
	args[n++] = "--lcores";
	args[n++] = lcores;
	args[n++] = verbose ? "--log-level=pmd.net.xnb:debug" : "--log-level=*:error";
	args[n] = NULL;
	if (!verbose) {
		devnull = fopen("/dev/null", "w");
		if (devnull != NULL)
			rte_openlog_stream(devnull);
	}
	if (rte_eal_init(n, args) < 0) {
		fprintf(stderr, "%s: EAL init failed (XNB_FUZZ_LOG=1 shows why)\n", prog);
		exit(1);
	}
	/* The driver's lines are formatted (to /dev/null) at every level. */
	rte_log_set_level(xnb_logtype, RTE_LOG_DEBUG);
}

size_t
fz_bytes(struct fz_in *in, void *buf, size_t n)
{
	size_t k = n < in->n ? n : in->n;

	memcpy(buf, in->p, k);
	memset((uint8_t *)buf + k, 0, n - k);
	in->p += k;
	in->n -= k;
	return k;
}

void
fz_put(struct fz_out *o, const void *p, size_t n)
{
	size_t k = sizeof(o->buf) - o->n;

	if (n < k)
		k = n;
	memcpy(o->buf + o->n, p, k);
	o->n += k;
}

void
fz_make_seeds_if_asked(void (*make)(const char *dir))
{
	const char *dir = getenv("XNB_FUZZ_MAKE_SEEDS");

	if (dir == NULL || dir[0] == '\0')
		return;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "mkdir %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	make(dir);
	exit(0);
}

void
fz_seed_write(const char *dir, const char *name, const struct fz_out *o)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(o->buf, 1, o->n, f) != o->n || fclose(f) != 0) {
		fprintf(stderr, "writing %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* --- Frames --- */

static uint32_t
sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t
fz_frame_build(uint8_t *buf, size_t max, const struct fz_frame *f)
{
	uint8_t b[70000];
	size_t off = 12, l3, l4, end, i;
	unsigned int v, e;
	uint8_t next;
	uint32_t sum;
	uint16_t c;

	memset(b, 0, sizeof(b));
	/* Destination and source: locally administered. */
	b[0] = 0x02; b[5] = 0x01; b[6] = 0x02; b[11] = 0x02;
	for (v = 0; v < f->vlans && v < 2; v++) {
		put_be16(b + off, v == 0 && f->vlans == 2 ? 0x88a8 : 0x8100);
		put_be16(b + off + 2, (uint16_t)(100 + v));
		off += 4;
	}
	if (f->ipv == 0) {
		put_be16(b + off, 0x0806);
		end = off + 2 + 28;
		goto out;
	}
	put_be16(b + off, f->ipv == 4 ? 0x0800 : 0x86dd);
	l3 = off + 2;
	next = f->proto;
	if (f->ipv == 4) {
		l4 = l3 + 20 + f->ip_opts;
		b[l3] = (uint8_t)(0x40 | (20 + f->ip_opts) / 4);
		b[l3 + 6] = f->frag ? 0x20 : 0x40;   /* MF, else DF */
		b[l3 + 8] = 64;
		b[l3 + 9] = f->proto;
		b[l3 + 12] = 10; b[l3 + 15] = 1;
		b[l3 + 16] = 10; b[l3 + 19] = 2;
		for (i = 0; i < f->ip_opts; i++)
			b[l3 + 20 + i] = 1;   /* NOP */
	} else {
		l4 = l3 + 40 + 8 * f->ipv6_ext + (f->frag ? 8 : 0);
		b[l3] = 0x60;
		b[l3 + 7] = 64;
		b[l3 + 8] = 0xfd; b[l3 + 23] = 1;
		b[l3 + 24] = 0xfd; b[l3 + 39] = 2;
		next = f->ipv6_ext > 0 ? IPPROTO_DSTOPTS : f->frag ? IPPROTO_FRAGMENT : f->proto;
		b[l3 + 6] = next;
		for (e = 0; e < f->ipv6_ext; e++) {
			i = l3 + 40 + 8 * e;
			b[i] = e + 1 < f->ipv6_ext ? IPPROTO_DSTOPTS :
				f->frag ? IPPROTO_FRAGMENT : f->proto;
			b[i + 1] = 0;
		}
		if (f->frag) {
			i = l3 + 40 + 8 * f->ipv6_ext;
			b[i] = f->proto;
			b[i + 3] = 1;   /* more fragments */
		}
	}
	if (f->proto == IPPROTO_TCP) {
		b[l4 + 3] = 80; b[l4 + 1] = 0x30;
		b[l4 + 7] = 1;
		b[l4 + 12] = (uint8_t)((20 + f->tcp_opts) / 4 << 4);
		b[l4 + 13] = f->tcp_flags != 0 ? f->tcp_flags : 0x18;
		b[l4 + 15] = 0xff;
		for (i = 0; i < f->tcp_opts; i++)
			b[l4 + 20 + i] = 1;
		end = l4 + 20 + f->tcp_opts + f->payload;
	} else if (f->proto == IPPROTO_UDP) {
		b[l4 + 1] = 53; b[l4 + 3] = 53;
		end = l4 + 8 + f->payload;
		put_be16(b + l4 + 4, (uint16_t)(end - l4));
	} else {
		end = l4 + 8 + f->payload;
	}
	if (end > sizeof(b))
		end = sizeof(b);
	for (i = l4 + (f->proto == IPPROTO_TCP ? 20 + f->tcp_opts : 8); i < end; i++)
		b[i] = (uint8_t)(i * 7 + 3);
	if (f->ipv == 4) {
		put_be16(b + l3 + 2, (uint16_t)(end - l3));
		put_be16(b + l3 + 10, (uint16_t)~fold(sum16(b + l3, 20 + f->ip_opts, 0)));
	} else {
		put_be16(b + l3 + 4, (uint16_t)(end - l3 - 40));
	}
	if (!f->frag && (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP)) {
		/* Pseudo-header, then the datagram (checksum field zero). */
		if (f->ipv == 4)
			sum = sum16(b + l3 + 12, 8, 0);
		else
			sum = sum16(b + l3 + 8, 32, 0);
		sum += f->proto + (uint32_t)(end - l4);
		i = l4 + (f->proto == IPPROTO_TCP ? 16 : 6);
		if (f->csum_blank) {
			put_be16(b + i, fold(sum));
		} else {
			c = (uint16_t)~fold(sum16(b + l4, end - l4, sum));
			put_be16(b + i, c == 0 && f->proto == IPPROTO_UDP ? 0xffff : c);
		}
	}
out:
	if (end > max)
		end = max;
	memcpy(buf, b, end);
	return end;
}
