/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What a guest's network stack does around checksum and segmentation
 * offloads, for the netfront library, its tests and xnb-guest's tap mode:
 * locate a frame's TCP/UDP checksum, fill it in full or with the
 * pseudo-header sum (Linux's CHECKSUM_PARTIAL), check it, and cut a TCP
 * GSO super-frame into segments as Linux's software GSO does.
 *
 * Frames are Ethernet with up to two VLAN tags (0x8100, 0x88a8), then
 * IPv4 (with options, not a fragment) or IPv6 (hop-by-hop, routing,
 * destination options and AH extension headers; not a fragment), then TCP
 * or UDP. Every header and length is checked against the frame: the
 * bytes may come from anyone. Bytes after the IP datagram (Ethernet
 * padding) are allowed and left alone.
 */

#ifndef NETFRONT_OFFLOAD_H
#define NETFRONT_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

/* Where a frame's layers are. */
struct netfront_l4 {
	uint32_t l3_off;           /* the IP header */
	uint32_t l4_off;           /* the TCP/UDP header: csum_start */
	uint32_t l4_len;           /* TCP/UDP header and payload, per the IP header */
	uint32_t l4_hlen;          /* TCP header with options; UDP 8 */
	uint16_t csum_off;         /* the checksum field from l4_off: TCP 16, UDP 6 */
	uint8_t proto;             /* IPPROTO_TCP or IPPROTO_UDP */
	bool ipv6;
};

/*
 * Parse a frame down to its TCP or UDP header. 0; -ENOENT when it is not
 * TCP/UDP over IP, or an IP fragment (nothing to offload); -EINVAL when
 * its headers or lengths do not hold together.
 */
int netfront_l4_parse(const uint8_t *f, uint32_t len, struct netfront_l4 *l4);

/* The IP version of a frame after its VLAN tags: 4, 6, or 0 (not IP). */
int netfront_ip_version(const uint8_t *f, uint32_t len);

/*
 * The pseudo-header sum of a parsed frame (addresses, protocol, l4_len),
 * folded to 16 bits and not complemented: what Linux leaves in the
 * checksum field of a CHECKSUM_PARTIAL frame (in network byte order, as
 * the field is read with two byte loads).
 */
uint16_t netfront_pseudo_sum(const uint8_t *f, const struct netfront_l4 *l4);

/*
 * Write the checksum field: netfront_csum_partial() the pseudo-header sum
 * (for a send with NETTXF_csum_blank), netfront_csum_fill() the full
 * TCP/UDP checksum. 0, or netfront_l4_parse()'s error (frame unchanged).
 */
int netfront_csum_partial(uint8_t *f, uint32_t len);
int netfront_csum_fill(uint8_t *f, uint32_t len);

/*
 * Check the full checksum: 1 right (a UDP/IPv4 checksum of 0, "none",
 * counts as right), 0 wrong, or netfront_l4_parse()'s error.
 */
int netfront_csum_check(const uint8_t *f, uint32_t len);

/*
 * Check that the checksum field holds the pseudo-header sum, as a frame
 * with NETRXF_csum_blank must: 1 yes, 0 no, or netfront_l4_parse()'s error.
 */
int netfront_csum_check_partial(const uint8_t *f, uint32_t len);

/*
 * The generic offload (virtio's NEEDS_CSUM, Linux's skb_checksum_help):
 * the ones' complement of the sum from start to the end of the frame,
 * added to what the 16-bit field at start + off holds, stored there.
 * -EINVAL when the field lies outside the frame.
 */
int netfront_csum_at(uint8_t *f, uint32_t len, uint32_t start, uint32_t off);

/* Receives one segment of netfront_tcp_segment(); non-zero stops it. */
typedef int (*netfront_seg_fn)(void *arg, const uint8_t *seg, uint32_t len);

/*
 * Cut a TCP frame into segments of at most mss payload bytes, as Linux's
 * software GSO: headers copied, IPv4 total length, id (+1 per segment)
 * and header checksum, IPv6 payload length, the TCP sequence number, CWR
 * on the first segment only, FIN and PSH on the last only, and the TCP
 * checksum in full or (partial) the pseudo-header sum. Returns the number
 * of segments, fn's non-zero result, or -EINVAL (not TCP, bad headers,
 * mss 0).
 */
int netfront_tcp_segment(const uint8_t *f, uint32_t len, uint16_t mss, bool partial,
		netfront_seg_fn fn, void *arg);

#endif /* NETFRONT_OFFLOAD_H */
