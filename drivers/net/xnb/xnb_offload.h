/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Checksum and segmentation offloads between netif flags and mbufs
 * (xnb_offload.c): the header parser both directions share, checksum
 * completion, pseudo-header sums, and the per-segment header of a GSO
 * super-frame cut into MSS-sized frames.
 */

#ifndef XNB_OFFLOAD_H
#define XNB_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mbuf_ptype.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_vect.h>

/*
 * The longest header run (L2 + L3 + L4) a GSO frame may have: a segment's
 * copy of it is kept whole in one buffer. Linux's largest: Ethernet, two
 * tags, IPv6 with extension headers and TCP with options fit with room.
 */
#define XNB_GSO_HDR_MAX 256

/* What the headers of a frame say (xnb_hdr_parse()). */
struct xnb_hdr {
	uint32_t ptype;      /* RTE_PTYPE_* as far as parsed */
	uint16_t l2_len;     /* Ethernet and its VLAN tags; 0 when not IP */
	uint16_t l3_len;     /* IPv4 with options, IPv6 with extension headers */
	uint16_t l4_len;     /* TCP with options, UDP; 0 for other protocols */
	uint32_t l4_total;   /* L4 header and payload, by the IP header's length */
	uint8_t proto;       /* L4 protocol */
	bool ipv6;
	bool frag;           /* an IP fragment: no L4 checksum to touch */
};

/*
 * Parse the Ethernet (up to two VLAN tags), IPv4 or IPv6 (extension
 * headers) and TCP or UDP headers of m, every read bounded by the frame
 * and every length checked against it: the IP datagram must lie within
 * the frame (padding after it is allowed), TCP's data offset within the
 * datagram. 0 with *h filled (l3_len 0 when the frame is not IP),
 * -EINVAL when the IP or L4 headers do not hold together.
 */
int xnb_hdr_parse_len(const struct rte_mbuf *m, uint32_t frame_len, struct xnb_hdr *h);

/* xnb_hdr_fast()'s result, packed so that it stays in one register. */
#define XNB_FAST_L3(f) ((f) & 0xff)             /* 20 (IPv4) or 40 (IPv6) */
#define XNB_FAST_L4(f) (((f) >> 8) & 0xff)      /* TCP with options, or UDP's 8 */
#define XNB_FAST_PROTO(f) (((f) >> 16) & 0xff)  /* IPPROTO_TCP or IPPROTO_UDP */

/*
 * The commonest frame of all, a TCP segment over IPv4 without options,
 * checked with two word compares: EtherType, version and header length
 * at once, then not a fragment and TCP. The TCP header's length, or 0
 * for anything else (xnb_hdr_fast() then looks further). The caller
 * checked that p holds 74 bytes (XNB_FAST_MIN) of the frame_len.
 */
#define XNB_FAST_MIN (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr) + sizeof(struct rte_tcp_hdr))

static __rte_always_inline uint32_t
xnb_hdr_fast_tcp4(const uint8_t *p, uint32_t frame_len)
{
	/* Bytes 12-15: EtherType, version and IHL, TOS (any). */
	uint32_t w = *(const unaligned_uint32_t *)(p + 12);
	/* Bytes 20-23: flags and fragment offset, TTL (any), protocol. */
	uint32_t v = *(const unaligned_uint32_t *)(p + 20);
	uint32_t total, l4;

	if ((w & RTE_BE32(0xffffff00)) != RTE_BE32(RTE_ETHER_TYPE_IPV4 << 16 | 0x4500) ||
			(v & RTE_BE32(0x3fff00ff)) != RTE_BE32(IPPROTO_TCP))
		return 0;
	total = rte_be_to_cpu_16(*(const unaligned_uint16_t *)(p + 16));
	/* The data offset's 4 bits times 4, shifted once. */
	l4 = (uint32_t)(p[RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + 12] & 0xf0) >> 2;
	if (l4 < sizeof(struct rte_tcp_hdr) || total < sizeof(struct rte_ipv4_hdr) + l4 ||
			RTE_ETHER_HDR_LEN + total > frame_len)
		return 0;
	return l4;
}

/*
 * Whether the frame is xnb_hdr_fast_tcp4()'s shape with a TCP header of
 * exactly l4 bytes and no Ethernet padding (the IPv4 total length is
 * frame_len - 14): what a guest's TCP stream sends frame after frame.
 * true only where xnb_hdr_fast_tcp4() returns l4 (and never for a
 * frame_len past UINT16_MAX, which no IPv4 total length describes, nor a
 * copy segment holds). The caller checked that p holds XNB_GUESS_MIN(l4)
 * bytes of the frame_len.
 */
#define XNB_GUESS_MIN(l4) RTE_MAX((uint32_t)XNB_FAST_MIN, \
	(uint32_t)(RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr)) + (l4))

/*
 * xnb_hdr_is_tcp4() in three scalar compares: bytes 12-19 in one 8-byte
 * load (EtherType, version, header length, total length; TOS and IP id
 * masked), the fragment bits and protocol, the data offset byte. What
 * other CPUs than x86 use; the offload suite checks it on every CPU.
 */
static __rte_always_inline bool
xnb_hdr_is_tcp4_scalar(const uint8_t *p, uint32_t frame_len, uint32_t l4)
{
	uint64_t eth_ip;
	uint32_t frag_proto;

	/* Free where frame_len is a copy segment's 16-bit length. */
	if (unlikely(frame_len > UINT16_MAX))
		return false;
	/* memcpy(): p + 12 is 4-byte aligned at best, and the loads stay one each. */
	memcpy(&eth_ip, p + 12, sizeof(eth_ip));
	memcpy(&frag_proto, p + 20, sizeof(frag_proto));
	return (rte_be_to_cpu_64(eth_ip) & UINT64_C(0xffffff00ffff0000)) ==
			((uint64_t)RTE_ETHER_TYPE_IPV4 << 48 | UINT64_C(0x45) << 40 |
			 (uint64_t)(frame_len - RTE_ETHER_HDR_LEN) << 16) &&
		(frag_proto & RTE_BE32(0x3fff00ff)) == RTE_BE32(IPPROTO_TCP) &&
		(p[RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + 12] & 0xf0) == l4 << 2;
}

#if defined(RTE_ARCH_X86) && defined(__SSE4_1__)
/*
 * On x86, two 16-byte loads (bytes 12-27 and 32-47), masked and compared
 * with what the shape must hold, and one branch: the rx fast path's
 * completion loop checks a blank frame about 0.45 cycles faster this way
 * than in the three scalar compares, which GCC lays out as three taken
 * branches (doc/benchmark.md, Offloads). SSE4.1, which DPDK's x86
 * baseline has.
 */
static __rte_always_inline bool
xnb_hdr_is_tcp4(const uint8_t *p, uint32_t frame_len, uint32_t l4)
{
	/* Bytes 12-27: EtherType, version and header length, total length, fragment bits, protocol. */
	const __m128i ip_mask = _mm_setr_epi8(-1, -1, -1, 0, -1, -1, 0, 0, 0x3f, -1, 0, -1,
		0, 0, 0, 0);
	const __m128i ip_want = _mm_setr_epi8(RTE_ETHER_TYPE_IPV4 >> 8, RTE_ETHER_TYPE_IPV4 & 0xff,
		0x45, 0, 0, 0, 0, 0, 0, 0, 0, IPPROTO_TCP, 0, 0, 0, 0);
	/* Bytes 32-47: the TCP data offset, byte 46. */
	const __m128i tcp_mask = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		(char)0xf0, 0);
	__m128i ip, tcp, diff;

	/* The second load ends at byte 47, within the XNB_GUESS_MIN() the caller checked. */
	RTE_BUILD_BUG_ON(XNB_FAST_MIN < 32 + sizeof(__m128i));
	/* Free where frame_len is a copy segment's 16-bit length. */
	if (unlikely(frame_len > UINT16_MAX))
		return false;
	ip = _mm_xor_si128(_mm_and_si128(_mm_loadu_si128((const __m128i *)(p + 12)), ip_mask),
		_mm_insert_epi16(ip_want,
			rte_cpu_to_be_16((uint16_t)(frame_len - RTE_ETHER_HDR_LEN)), 2));
	tcp = _mm_xor_si128(_mm_and_si128(_mm_loadu_si128((const __m128i *)(p + 32)), tcp_mask),
		_mm_insert_epi8(_mm_setzero_si128(), (int)(l4 << 2), 14));
	diff = _mm_or_si128(ip, tcp);
	return _mm_testz_si128(diff, diff);
}
#else
#define xnb_hdr_is_tcp4 xnb_hdr_is_tcp4_scalar
#endif

/*
 * The common case without rte_pktmbuf_read(): untagged Ethernet, IPv4
 * without options or IPv6 without extension headers, TCP or UDP, not a
 * fragment, every header in the first mbuf. Packed lengths and protocol
 * (XNB_FAST_*), or 0 to leave the frame to the general parse, which
 * reaches the same result (the offload suite checks that over every
 * frame kind). Inline, and a fraction of the general parse's
 * instructions: the blank checksum of every TCP segment a Linux guest
 * sends goes through it. One integer rather than a struct xnb_hdr, so
 * that the compiler keeps it in a register where the branches join.
 */
static __rte_always_inline uint32_t
xnb_hdr_fast(const struct rte_mbuf *m, uint32_t frame_len)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t l3, avail, proto, l4;
	uint16_t type;

	if (unlikely(m->data_len < XNB_FAST_MIN))
		return 0;
	l4 = xnb_hdr_fast_tcp4(p, frame_len);
	if (likely(l4 != 0))
		return sizeof(struct rte_ipv4_hdr) | l4 << 8 | IPPROTO_TCP << 16;
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == RTE_ETHER_TYPE_IPV4) {
		/* Version 4, 20 bytes, no MF flag or fragment offset. */
		if (p[14] != 0x45 || ((p[20] & 0x3f) | p[21]) != 0)
			return 0;
		avail = (uint32_t)(p[16] << 8 | p[17]);
		if (avail < sizeof(struct rte_ipv4_hdr) || RTE_ETHER_HDR_LEN + avail > frame_len)
			return 0;
		l3 = sizeof(struct rte_ipv4_hdr);
		avail -= l3;
		proto = p[23];
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		if ((p[14] >> 4) != 6)
			return 0;
		l3 = sizeof(struct rte_ipv6_hdr);
		avail = (uint32_t)(p[18] << 8 | p[19]);
		if (RTE_ETHER_HDR_LEN + l3 + avail > frame_len)
			return 0;
		proto = p[20];
	} else {
		return 0;
	}
	if (proto == IPPROTO_TCP) {
		l4 = (uint32_t)(p[RTE_ETHER_HDR_LEN + l3 + 12] >> 4) * 4;
		if (l4 < sizeof(struct rte_tcp_hdr))
			return 0;
	} else if (proto == IPPROTO_UDP) {
		l4 = sizeof(struct rte_udp_hdr);
	} else {
		return 0;
	}
	if (l4 > avail)
		return 0;
	return l3 | l4 << 8 | proto << 16;
}

/* The packet type of an xnb_hdr_fast() result. */
static inline uint32_t
xnb_hdr_fast_ptype(uint32_t f)
{
	return RTE_PTYPE_L2_ETHER |
		(XNB_FAST_L3(f) == sizeof(struct rte_ipv6_hdr) ? RTE_PTYPE_L3_IPV6 : RTE_PTYPE_L3_IPV4) |
		(XNB_FAST_PROTO(f) == IPPROTO_TCP ? RTE_PTYPE_L4_TCP : RTE_PTYPE_L4_UDP);
}

/* xnb_hdr_fast() into *h: true, or false with *h untouched. */
static inline bool
xnb_hdr_parse_fast(const struct rte_mbuf *m, uint32_t frame_len, struct xnb_hdr *h)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t f = xnb_hdr_fast(m, frame_len);

	if (f == 0)
		return false;
	h->ptype = xnb_hdr_fast_ptype(f);
	h->l2_len = RTE_ETHER_HDR_LEN;
	h->l3_len = (uint16_t)XNB_FAST_L3(f);
	h->l4_len = (uint16_t)XNB_FAST_L4(f);
	h->ipv6 = XNB_FAST_L3(f) == sizeof(struct rte_ipv6_hdr);
	h->l4_total = h->ipv6 ? (uint32_t)(p[18] << 8 | p[19]) :
		(uint32_t)(p[16] << 8 | p[17]) - sizeof(struct rte_ipv4_hdr);
	h->proto = (uint8_t)XNB_FAST_PROTO(f);
	h->frag = false;
	return true;
}

/*
 * The same for m's own frame: xnb_hdr_parse_len() takes the length of a
 * frame of which m holds only the first bytes (a GSO frame's headers,
 * copied ahead of its payload).
 */
static inline int
xnb_hdr_parse(const struct rte_mbuf *m, struct xnb_hdr *h)
{
	if (likely(xnb_hdr_parse_fast(m, m->pkt_len, h)))
		return 0;
	return xnb_hdr_parse_len(m, m->pkt_len, h);
}

/* Is h a whole (not fragmented) TCP or UDP datagram whose checksum we can find? */
static inline bool
xnb_hdr_l4_csum_ok(const struct xnb_hdr *h)
{
	return h->l3_len != 0 && !h->frag && h->l4_len != 0;
}

/* The L4 checksum field's offset in the frame (xnb_hdr_l4_csum_ok(h)). */
uint32_t xnb_hdr_csum_off(const struct xnb_hdr *h);

/*
 * The pseudo-header sum of h's datagram (addresses, protocol and L4
 * length), folded, not complemented: what a blank checksum field holds
 * (Linux's CHECKSUM_PARTIAL, DPDK's non-TSO checksum offload). hdr holds
 * the frame's first l2 + l3 bytes.
 */
uint16_t xnb_phdr_sum(const uint8_t *hdr, const struct xnb_hdr *h);

/*
 * Fill in the TCP or UDP checksum of m, parsed into h with
 * xnb_hdr_l4_csum_ok(h), whatever the field held before. 0, or -EINVAL
 * when the frame is shorter than its headers say.
 */
int xnb_csum_complete(struct rte_mbuf *m, const struct xnb_hdr *h);

/*
 * Complete m's blank checksum as a guest's NETTXF_csum_blank asks:
 * parse, check that the checksum can be found, fill it in. -EINVAL (m
 * unchanged) when the frame is not a whole TCP/UDP datagram over IP.
 */
int xnb_csum_complete_frame(struct rte_mbuf *m);

/*
 * A GSO super-frame's checks: a TCP frame of the IP version gso_type
 * names (XEN_NETIF_GSO_TYPE_TCPV4/6), not a fragment, whose headers fit
 * hdr_room bytes, with payload, and a gso_size no larger than the frame.
 * 0 or -EINVAL.
 */
int xnb_gso_check(const struct xnb_hdr *h, uint8_t gso_type, uint16_t gso_size,
		uint32_t frame_len, uint32_t hdr_room);

/* Header bytes of h: l2 + l3 + l4. */
static inline uint32_t
xnb_hdr_len(const struct xnb_hdr *h)
{
	return (uint32_t)h->l2_len + h->l3_len + h->l4_len;
}

/*
 * Turn hdr, a copy of a TCP super-frame's headers (xnb_hdr_len(h) bytes),
 * into the headers of its segment k carrying seg_payload bytes at
 * mss bytes per segment, as Linux's GSO does: IPv4 total length, an IP id
 * one more per segment and the header checksum; IPv6 payload length; the
 * TCP sequence number advanced by k * mss; FIN and PSH on the last
 * segment only, CWR on the first only. The TCP checksum field gets the
 * segment's pseudo-header sum (blank).
 */
void xnb_gso_seg_header(uint8_t *hdr, const struct xnb_hdr *h, uint32_t k, uint32_t mss,
		uint32_t seg_payload, bool last);

/* Write the IPv4 header checksum of hdr (h not IPv6). */
void xnb_ipv4_csum_set(uint8_t *hdr, const struct xnb_hdr *h);

/*
 * The L4 checksum of a frame whose headers are hdr (xnb_hdr_len(h) bytes,
 * the checksum field ignored) and whose payload is len bytes of m from
 * offset off: the value to store in the field. -EINVAL if m is short.
 */
int xnb_csum_split(const uint8_t *hdr, const struct xnb_hdr *h, const struct rte_mbuf *m,
		uint32_t off, uint32_t len, uint16_t *csum);

#endif /* XNB_OFFLOAD_H */
