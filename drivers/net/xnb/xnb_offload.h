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

#include <netinet/in.h>

#include <rte_branch_prediction.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mbuf_ptype.h>
#include <rte_tcp.h>
#include <rte_udp.h>

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

/*
 * The common case without rte_pktmbuf_read(): untagged Ethernet, IPv4
 * without options or IPv6 without extension headers, TCP or UDP, not a
 * fragment, every header in the first mbuf. It reaches the same result
 * as the general parse (the offload suite checks that over every frame
 * kind); false leaves anything else to it. Inline, and about a third of
 * the general parse's instructions: the blank checksum of every TCP
 * segment a Linux guest sends goes through it.
 */
static inline bool
xnb_hdr_parse_fast(const struct rte_mbuf *m, uint32_t frame_len, struct xnb_hdr *h)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t dlen = m->data_len, l3, total, l4;
	uint16_t type;
	uint8_t proto;

	if (unlikely(dlen < RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr) +
			sizeof(struct rte_tcp_hdr)))
		return false;
	type = (uint16_t)(p[12] << 8 | p[13]);
	if (type == RTE_ETHER_TYPE_IPV4) {
		/* Version 4, 20 bytes, no MF flag or fragment offset. */
		if (p[14] != 0x45 || ((p[20] & 0x3f) | p[21]) != 0)
			return false;
		l3 = sizeof(struct rte_ipv4_hdr);
		total = (uint32_t)(p[16] << 8 | p[17]);
		if (total < l3 || RTE_ETHER_HDR_LEN + total > frame_len)
			return false;
		total -= l3;
		proto = p[23];
		h->ptype = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4;
		h->ipv6 = false;
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		if ((p[14] >> 4) != 6)
			return false;
		l3 = sizeof(struct rte_ipv6_hdr);
		total = (uint32_t)(p[18] << 8 | p[19]);
		if (RTE_ETHER_HDR_LEN + l3 + total > frame_len)
			return false;
		proto = p[20];
		h->ptype = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV6;
		h->ipv6 = true;
	} else {
		return false;
	}
	if (proto == IPPROTO_TCP) {
		l4 = (uint32_t)(p[RTE_ETHER_HDR_LEN + l3 + 12] >> 4) * 4;
		if (l4 < sizeof(struct rte_tcp_hdr) || l4 > total)
			return false;
		h->ptype |= RTE_PTYPE_L4_TCP;
	} else if (proto == IPPROTO_UDP) {
		l4 = sizeof(struct rte_udp_hdr);
		if (l4 > total)
			return false;
		h->ptype |= RTE_PTYPE_L4_UDP;
	} else {
		return false;
	}
	h->l2_len = RTE_ETHER_HDR_LEN;
	h->l3_len = (uint16_t)l3;
	h->l4_len = (uint16_t)l4;
	h->l4_total = total;
	h->proto = proto;
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
