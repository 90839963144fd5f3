/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What the libFuzzer harnesses share (doc/fuzzing.md): EAL set up once
 * for mbuf pools, a reader over the fuzz input that yields zeros once it
 * runs out (so every input means something), the seed writer, and a
 * builder of well-formed Ethernet/IP/TCP/UDP frames for the seeds.
 *
 * A harness's checks fail with FZ_CHECK(), which prints the condition
 * and aborts: libFuzzer reports the abort as a crash and keeps the input.
 */

#ifndef XNB_FUZZ_COMMON_H
#define XNB_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FZ_CHECK(cond, fmt, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "xnb fuzz check failed at %s:%d: %s: " fmt "\n", \
			__FILE__, __LINE__, #cond, ##__VA_ARGS__); \
		abort(); \
	} \
} while (0)

/*
 * EAL without hugepages, shared files or telemetry, its log to /dev/null
 * (XNB_FUZZ_LOG=1 keeps it on stderr; the driver logs at debug then).
 * Exits when EAL cannot start.
 */
void fz_eal_init(const char *prog);

/* The input, read front to back. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool
fz_more(const struct fz_in *in)
{
	return in->n > 0;
}

static inline uint8_t
fz_u8(struct fz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t
fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);

	return (uint16_t)(lo | fz_u8(in) << 8);
}

static inline uint32_t
fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);

	return lo | (uint32_t)fz_u16(in) << 16;
}

/* Up to n bytes into buf (zeros past the end of the input); how many came from it. */
size_t fz_bytes(struct fz_in *in, void *buf, size_t n);

/* --- Writing inputs: the seeds --- */

struct fz_out {
	uint8_t buf[65536];
	size_t n;
};

static inline void
fz_put8(struct fz_out *o, uint8_t v)
{
	if (o->n < sizeof(o->buf))
		o->buf[o->n++] = v;
}

static inline void
fz_put16(struct fz_out *o, uint16_t v)
{
	fz_put8(o, (uint8_t)v);
	fz_put8(o, (uint8_t)(v >> 8));
}

static inline void
fz_put32(struct fz_out *o, uint32_t v)
{
	fz_put16(o, (uint16_t)v);
	fz_put16(o, (uint16_t)(v >> 16));
}

void fz_put(struct fz_out *o, const void *p, size_t n);

/*
 * XNB_FUZZ_MAKE_SEEDS=DIR: the harness writes its seeds into DIR (from
 * LLVMFuzzerInitialize) and exits. make(dir) writes them with
 * fz_seed_write(). Returns only when the variable is unset.
 */
void fz_make_seeds_if_asked(void (*make)(const char *dir));
void fz_seed_write(const char *dir, const char *name, const struct fz_out *o);

/* --- Frames for the seeds --- */

struct fz_frame {
	int ipv;             /* 4, 6, or 0: an ARP frame */
	uint8_t proto;       /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP... */
	unsigned int vlans;  /* 0-2 tags */
	unsigned int ip_opts;    /* IPv4 option bytes (multiple of 4) */
	unsigned int ipv6_ext;   /* IPv6 extension headers (8 bytes each) */
	unsigned int tcp_opts;   /* TCP option bytes (multiple of 4) */
	unsigned int payload;
	bool frag;           /* IPv4 MF, or an IPv6 fragment header */
	bool csum_blank;     /* L4 checksum: the pseudo-header sum, else a full one */
	uint8_t tcp_flags;
};

/* Build f into buf (up to max bytes, patterned payload): its length. */
size_t fz_frame_build(uint8_t *buf, size_t max, const struct fz_frame *f);

#endif /* XNB_FUZZ_COMMON_H */
