/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Checksum offloads. A guest's netfront "offloads" checksums by leaving
 * them blank (NETTXF_csum_blank): the backend must complete them before a
 * frame can leave the host (FreeBSD xnb(4) CAVEATS). Every byte parsed
 * here comes from a guest: each header is read through rte_pktmbuf_read
 * with bounds, and lengths are checked against the frame before use.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "xnb_offload.h"

/* IPv6 extension headers we walk, at most this many. */
#define XNB_MAX_IPV6_EXT 8

/* Where the L4 header starts, its protocol and length, and the pseudo-header sum. */
struct l4_info {
	uint32_t off;
	uint32_t len;
	uint8_t proto;
	uint32_t phdr_sum;
};

static int
parse_ipv4(const struct rte_mbuf *m, uint32_t off, struct l4_info *l4)
{
	struct rte_ipv4_hdr buf;
	const struct rte_ipv4_hdr *ip;
	uint32_t hlen, tlen;
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
	} __rte_packed ph;

	ip = rte_pktmbuf_read(m, off, sizeof(buf), &buf);
	if (ip == NULL || (ip->version_ihl >> 4) != 4)
		return -EINVAL;
	hlen = (ip->version_ihl & 0xf) * 4u;
	tlen = rte_be_to_cpu_16(ip->total_length);
	/* A fragment carries no whole L4 segment to checksum. */
	if (hlen < sizeof(*ip) || tlen < hlen || off + tlen > m->pkt_len ||
			(rte_be_to_cpu_16(ip->fragment_offset) &
			 (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return -EINVAL;
	l4->off = off + hlen;
	l4->len = tlen - hlen;
	l4->proto = ip->next_proto_id;
	ph.src = ip->src_addr;
	ph.dst = ip->dst_addr;
	ph.zero = 0;
	ph.proto = l4->proto;
	ph.len = rte_cpu_to_be_16((uint16_t)l4->len);
	l4->phdr_sum = rte_raw_cksum(&ph, sizeof(ph));
	return 0;
}

static int
parse_ipv6(const struct rte_mbuf *m, uint32_t off, struct l4_info *l4)
{
	struct rte_ipv6_hdr buf;
	const struct rte_ipv6_hdr *ip;
	uint8_t ext_buf[2];
	const uint8_t *ext;
	uint32_t end, pos, i;
	uint8_t next;
	struct {
		uint8_t src[16], dst[16];
		uint32_t len;
		uint8_t zero[3], proto;
	} __rte_packed ph;

	ip = rte_pktmbuf_read(m, off, sizeof(buf), &buf);
	if (ip == NULL || (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)
		return -EINVAL;
	pos = off + sizeof(*ip);
	end = pos + rte_be_to_cpu_16(ip->payload_len);
	if (end > m->pkt_len)
		return -EINVAL;
	next = ip->proto;
	for (i = 0; i < XNB_MAX_IPV6_EXT; i++) {
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
				next != IPPROTO_DSTOPTS)
			break;
		ext = rte_pktmbuf_read(m, pos, sizeof(ext_buf), ext_buf);
		if (ext == NULL)
			return -EINVAL;
		next = ext[0];
		pos += (ext[1] + 1u) * 8u;
		if (pos > end)
			return -EINVAL;
	}
	/* A fragment header, or too many extension headers: not ours to sum. */
	if (i == XNB_MAX_IPV6_EXT || next == IPPROTO_FRAGMENT)
		return -EINVAL;
	l4->off = pos;
	l4->len = end - pos;
	l4->proto = next;
	memcpy(ph.src, ip->src_addr, sizeof(ph.src));
	memcpy(ph.dst, ip->dst_addr, sizeof(ph.dst));
	ph.len = rte_cpu_to_be_32(l4->len);
	memset(ph.zero, 0, sizeof(ph.zero));
	ph.proto = next;
	l4->phdr_sum = rte_raw_cksum(&ph, sizeof(ph));
	return 0;
}

/* Write 2 bytes at offset off of a (possibly chained) mbuf. */
static void
write16(struct rte_mbuf *m, uint32_t off, uint16_t v)
{
	uint8_t b[2];
	uint32_t i;

	memcpy(b, &v, sizeof(b));
	for (i = 0; i < 2; i++, off++) {
		struct rte_mbuf *s = m;
		uint32_t o = off;

		while (o >= s->data_len) {
			o -= s->data_len;
			s = s->next;
		}
		*rte_pktmbuf_mtod_offset(s, uint8_t *, o) = b[i];
	}
}

int
xnb_csum_complete(struct rte_mbuf *m)
{
	struct rte_vlan_hdr vbuf;
	const struct rte_vlan_hdr *vlan;
	struct rte_ether_hdr ebuf;
	const struct rte_ether_hdr *eth;
	struct l4_info l4;
	uint32_t off, csum_off, sum;
	uint16_t type, raw;
	int i, ret;

	eth = rte_pktmbuf_read(m, 0, sizeof(ebuf), &ebuf);
	if (eth == NULL)
		return -EINVAL;
	type = rte_be_to_cpu_16(eth->ether_type);
	off = sizeof(*eth);
	for (i = 0; i < 2 && (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ); i++) {
		vlan = rte_pktmbuf_read(m, off, sizeof(vbuf), &vbuf);
		if (vlan == NULL)
			return -EINVAL;
		type = rte_be_to_cpu_16(vlan->eth_proto);
		off += sizeof(*vlan);
	}
	if (type == RTE_ETHER_TYPE_IPV4)
		ret = parse_ipv4(m, off, &l4);
	else if (type == RTE_ETHER_TYPE_IPV6)
		ret = parse_ipv6(m, off, &l4);
	else
		ret = -EINVAL;
	if (ret != 0)
		return ret;

	if (l4.proto == IPPROTO_TCP && l4.len >= sizeof(struct rte_tcp_hdr))
		csum_off = l4.off + offsetof(struct rte_tcp_hdr, cksum);
	else if (l4.proto == IPPROTO_UDP && l4.len >= sizeof(struct rte_udp_hdr))
		csum_off = l4.off + offsetof(struct rte_udp_hdr, dgram_cksum);
	else
		return -EINVAL;

	/* The field holds the guest's partial sum: start from zero. */
	write16(m, csum_off, 0);
	if (rte_raw_cksum_mbuf(m, l4.off, l4.len, &raw) != 0)
		return -EINVAL;
	sum = (uint32_t)raw + l4.phdr_sum;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	raw = (uint16_t)~sum;
	/* RFC 768: a computed UDP checksum of zero is sent as all ones. */
	if (raw == 0 && l4.proto == IPPROTO_UDP)
		raw = 0xffff;
	write16(m, csum_off, raw);
	return 0;
}
