/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Checksum and segmentation offloads. A guest's netfront "offloads"
 * checksums by leaving them blank (NETTXF_csum_blank) and sends TCP
 * super-frames of up to 64 KiB with a GSO extra slot; what xnb hands a
 * guest may be the same. Whatever an application or a guest did not take
 * on, xnb does here in software (FreeBSD xnb(4) CAVEATS).
 *
 * Every byte parsed here may come from a guest: each header is read
 * through rte_pktmbuf_read with bounds, and lengths are checked against
 * the frame before use. The parser is our own rather than
 * rte_net_get_ptype() because that one does not check the IP lengths
 * against the frame, which a hostile guest's frame needs, and a second
 * pass to check them would cost as much as this one.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mbuf_ptype.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "xnb_netif.h"
#include "xnb_offload.h"

/* IPv6 extension headers we walk, at most this many. */
#define XNB_MAX_IPV6_EXT 8

static int
parse_ipv4(const struct rte_mbuf *m, uint32_t off, uint32_t frame_len, struct xnb_hdr *h)
{
	struct rte_ipv4_hdr buf;
	const struct rte_ipv4_hdr *ip;
	uint32_t hlen, tlen;

	ip = rte_pktmbuf_read(m, off, sizeof(buf), &buf);
	if (ip == NULL || (ip->version_ihl >> 4) != 4)
		return -EINVAL;
	hlen = (ip->version_ihl & 0xf) * 4u;
	tlen = rte_be_to_cpu_16(ip->total_length);
	if (hlen < sizeof(*ip) || tlen < hlen || off + tlen > frame_len)
		return -EINVAL;
	h->l3_len = (uint16_t)hlen;
	h->l4_total = tlen - hlen;
	h->proto = ip->next_proto_id;
	h->frag = (rte_be_to_cpu_16(ip->fragment_offset) &
		(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
	h->ptype |= hlen == sizeof(*ip) ? RTE_PTYPE_L3_IPV4 : RTE_PTYPE_L3_IPV4_EXT;
	return 0;
}

static int
parse_ipv6(const struct rte_mbuf *m, uint32_t off, uint32_t frame_len, struct xnb_hdr *h)
{
	struct rte_ipv6_hdr buf;
	const struct rte_ipv6_hdr *ip;
	uint8_t ext_buf[2];
	const uint8_t *ext;
	uint32_t end, pos, i;
	uint8_t next;

	ip = rte_pktmbuf_read(m, off, sizeof(buf), &buf);
	if (ip == NULL || (rte_be_to_cpu_32(ip->vtc_flow) >> 28) != 6)
		return -EINVAL;
	pos = off + sizeof(*ip);
	end = pos + rte_be_to_cpu_16(ip->payload_len);
	if (end > frame_len)
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
	if (i == XNB_MAX_IPV6_EXT)
		return -EINVAL;
	h->l3_len = (uint16_t)(pos - off);
	h->l4_total = end - pos;
	h->proto = next;
	h->ipv6 = true;
	h->frag = next == IPPROTO_FRAGMENT;
	h->ptype |= pos == off + sizeof(*ip) ? RTE_PTYPE_L3_IPV6 : RTE_PTYPE_L3_IPV6_EXT;
	return 0;
}

static int
parse_l4(const struct rte_mbuf *m, struct xnb_hdr *h)
{
	uint32_t off = (uint32_t)h->l2_len + h->l3_len;
	struct rte_tcp_hdr tbuf;
	const struct rte_tcp_hdr *tcp;
	uint32_t doff;

	if (h->frag) {
		h->ptype |= RTE_PTYPE_L4_FRAG;
		return 0;
	}
	switch (h->proto) {
	case IPPROTO_TCP:
		tcp = h->l4_total >= sizeof(*tcp) ?
			rte_pktmbuf_read(m, off, sizeof(tbuf), &tbuf) : NULL;
		if (tcp == NULL)
			return -EINVAL;
		doff = (tcp->data_off >> 4) * 4u;
		if (doff < sizeof(*tcp) || doff > h->l4_total)
			return -EINVAL;
		h->l4_len = (uint16_t)doff;
		h->ptype |= RTE_PTYPE_L4_TCP;
		return 0;
	case IPPROTO_UDP:
		if (h->l4_total < sizeof(struct rte_udp_hdr))
			return -EINVAL;
		h->l4_len = sizeof(struct rte_udp_hdr);
		h->ptype |= RTE_PTYPE_L4_UDP;
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		h->ptype |= RTE_PTYPE_L4_ICMP;
		return 0;
	default:
		h->ptype |= RTE_PTYPE_L4_NONFRAG;
		return 0;
	}
}

int
xnb_hdr_parse_len(const struct rte_mbuf *m, uint32_t frame_len, struct xnb_hdr *h)
{
	struct rte_vlan_hdr vbuf;
	const struct rte_vlan_hdr *vlan;
	struct rte_ether_hdr ebuf;
	const struct rte_ether_hdr *eth;
	uint32_t off;
	uint16_t type;
	int i, ret;

	memset(h, 0, sizeof(*h));
	eth = rte_pktmbuf_read(m, 0, sizeof(ebuf), &ebuf);
	if (eth == NULL)
		return -EINVAL;
	h->ptype = RTE_PTYPE_L2_ETHER;
	type = rte_be_to_cpu_16(eth->ether_type);
	off = sizeof(*eth);
	for (i = 0; i < 2 && (type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ); i++) {
		vlan = rte_pktmbuf_read(m, off, sizeof(vbuf), &vbuf);
		if (vlan == NULL)
			return -EINVAL;
		type = rte_be_to_cpu_16(vlan->eth_proto);
		off += sizeof(*vlan);
		h->ptype = i == 0 ? RTE_PTYPE_L2_ETHER_VLAN : RTE_PTYPE_L2_ETHER_QINQ;
	}
	h->l2_len = (uint16_t)off;
	if (type == RTE_ETHER_TYPE_IPV4)
		ret = parse_ipv4(m, off, frame_len, h);
	else if (type == RTE_ETHER_TYPE_IPV6)
		ret = parse_ipv6(m, off, frame_len, h);
	else
		return 0;   /* not IP: l3_len stays 0 */
	if (ret == 0)
		ret = parse_l4(m, h);
	if (ret != 0)
		h->l3_len = 0;
	return ret;
}

uint32_t
xnb_hdr_csum_off(const struct xnb_hdr *h)
{
	return (uint32_t)h->l2_len + h->l3_len + (h->proto == IPPROTO_TCP ?
		offsetof(struct rte_tcp_hdr, cksum) : offsetof(struct rte_udp_hdr, dgram_cksum));
}

/*
 * IPv4's is DPDK's. IPv6's is ours: rte_ipv6_phdr_cksum() takes the
 * payload length as the L4 length, which is wrong once extension headers
 * come first; l4_total is what the pseudo-header needs (RFC 8200 8.1).
 */
static uint16_t
phdr_sum(const void *ip, bool ipv6, uint8_t proto, uint32_t l4_total)
{
	const struct rte_ipv6_hdr *ip6 = ip;
	const struct rte_ipv4_hdr *ip4 = ip;
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
	} __rte_packed ph4;
	struct {
		uint8_t src[16], dst[16];
		uint32_t len;
		uint8_t zero[3], proto;
	} __rte_packed ph6;

	if (!ipv6) {
		/* rte_ipv4_phdr_cksum() would take the length from total_length. */
		ph4.src = ip4->src_addr;
		ph4.dst = ip4->dst_addr;
		ph4.zero = 0;
		ph4.proto = proto;
		ph4.len = rte_cpu_to_be_16((uint16_t)l4_total);
		return rte_raw_cksum(&ph4, sizeof(ph4));
	}
	/*
	 * By address: a uint8_t[16] in DPDK 22.11, a struct rte_ipv6_addr in
	 * 24.11, 16 bytes either way.
	 */
	RTE_BUILD_BUG_ON(sizeof(ip6->src_addr) != sizeof(ph6.src));
	memcpy(ph6.src, &ip6->src_addr, sizeof(ph6.src));
	memcpy(ph6.dst, &ip6->dst_addr, sizeof(ph6.dst));
	ph6.len = rte_cpu_to_be_32(l4_total);
	memset(ph6.zero, 0, sizeof(ph6.zero));
	ph6.proto = proto;
	return rte_raw_cksum(&ph6, sizeof(ph6));
}

uint16_t
xnb_phdr_sum(const uint8_t *hdr, const struct xnb_hdr *h)
{
	return phdr_sum(hdr + h->l2_len, h->ipv6, h->proto, h->l4_total);
}

static uint16_t
csum_final(uint32_t sum, uint8_t proto)
{
	uint16_t v;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	v = (uint16_t)~sum;
	/* RFC 768: a computed UDP checksum of zero is sent as all ones. */
	if (v == 0 && proto == IPPROTO_UDP)
		v = 0xffff;
	return v;
}

/*
 * The raw sum of len bytes of m from offset off, as rte_raw_cksum_mbuf()
 * but keeping the carries: DPDK 22.11's truncates a segment's unfolded
 * sum to 16 bits before it swaps the bytes of a segment that starts at
 * an odd offset, so a chain with an odd-length segment before the last
 * got a wrong checksum (fuzz-offload found it; test_odd_segment_checksum).
 */
static int
raw_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint16_t *cksum)
{
	uint32_t sum = 0, tmp, n, done = 0;

	if ((uint64_t)off + len > m->pkt_len)
		return -1;
	for (; m != NULL && len > 0; m = m->next) {
		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		n = RTE_MIN((uint32_t)m->data_len - off, len);
		tmp = __rte_raw_cksum_reduce(__rte_raw_cksum(
			rte_pktmbuf_mtod_offset(m, const void *, off), n, 0));
		if (done & 1)
			tmp = rte_bswap16((uint16_t)tmp);
		sum += tmp;
		done += n;
		len -= n;
		off = 0;
	}
	if (len != 0)
		return -1;
	*cksum = __rte_raw_cksum_reduce(sum);
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
xnb_csum_complete(struct rte_mbuf *m, const struct xnb_hdr *h)
{
	uint8_t buf[sizeof(struct rte_ipv6_hdr)];
	uint32_t csum_off = xnb_hdr_csum_off(h), l4_off = (uint32_t)h->l2_len + h->l3_len;
	const void *ip;
	uint16_t raw;

	ip = rte_pktmbuf_read(m, h->l2_len,
		h->ipv6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr), buf);
	if (ip == NULL || l4_off + h->l4_total > m->pkt_len)
		return -EINVAL;
	/* The field holds the guest's partial sum, or anything: start from zero. */
	write16(m, csum_off, 0);
	if (raw_cksum_mbuf(m, l4_off, h->l4_total, &raw) != 0)
		return -EINVAL;
	write16(m, csum_off, csum_final((uint32_t)raw +
		phdr_sum(ip, h->ipv6, h->proto, h->l4_total), h->proto));
	return 0;
}

int
xnb_csum_complete_frame(struct rte_mbuf *m)
{
	struct xnb_hdr h;

	if (xnb_hdr_parse(m, &h) != 0 || !xnb_hdr_l4_csum_ok(&h))
		return -EINVAL;
	return xnb_csum_complete(m, &h);
}

int
xnb_gso_check(const struct xnb_hdr *h, uint8_t gso_type, uint16_t gso_size,
		uint32_t frame_len, uint32_t hdr_room)
{
	uint32_t hlen = xnb_hdr_len(h);

	if (h->l3_len == 0 || h->frag || h->proto != IPPROTO_TCP || h->l4_len == 0)
		return -EINVAL;
	if ((gso_type != XEN_NETIF_GSO_TYPE_TCPV4 && gso_type != XEN_NETIF_GSO_TYPE_TCPV6) ||
			h->ipv6 != (gso_type == XEN_NETIF_GSO_TYPE_TCPV6))
		return -EINVAL;
	if (hlen > hdr_room || hlen > XNB_GSO_HDR_MAX)
		return -EINVAL;
	if (gso_size == 0 || gso_size > frame_len || h->l4_total <= h->l4_len)
		return -EINVAL;
	return 0;
}

void
xnb_ipv4_csum_set(uint8_t *hdr, const struct xnb_hdr *h)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(hdr + h->l2_len);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

void
xnb_gso_seg_header(uint8_t *hdr, const struct xnb_hdr *h, uint32_t k, uint32_t mss,
		uint32_t seg_payload, bool last)
{
	uint8_t *l3 = hdr + h->l2_len;
	struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)(l3 + h->l3_len);
	uint32_t l4_total = h->l4_len + seg_payload;
	struct rte_ipv4_hdr *ip4;
	struct rte_ipv6_hdr *ip6;

	if (!h->ipv6) {
		ip4 = (struct rte_ipv4_hdr *)l3;
		ip4->total_length = rte_cpu_to_be_16((uint16_t)(h->l3_len + l4_total));
		ip4->packet_id = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip4->packet_id) + k));
		xnb_ipv4_csum_set(hdr, h);
	} else {
		ip6 = (struct rte_ipv6_hdr *)l3;
		ip6->payload_len = rte_cpu_to_be_16((uint16_t)(h->l3_len - sizeof(*ip6) + l4_total));
	}
	tcp->sent_seq = rte_cpu_to_be_32(rte_be_to_cpu_32(tcp->sent_seq) + k * mss);
	if (!last)
		tcp->tcp_flags &= (uint8_t)~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
	if (k != 0)
		tcp->tcp_flags &= (uint8_t)~RTE_TCP_CWR_FLAG;
	tcp->cksum = phdr_sum(l3, h->ipv6, h->proto, l4_total);
}

int
xnb_csum_split(const uint8_t *hdr, const struct xnb_hdr *h, const struct rte_mbuf *m,
		uint32_t off, uint32_t len, uint16_t *csum)
{
	uint8_t l4[XNB_GSO_HDR_MAX];
	uint32_t csum_at = xnb_hdr_csum_off(h) - h->l2_len - h->l3_len;
	uint16_t payload = 0;

	/* The L4 header with its checksum field zeroed; TCP and UDP headers are even. */
	memcpy(l4, hdr + h->l2_len + h->l3_len, h->l4_len);
	memset(l4 + csum_at, 0, 2);
	if (len != 0 && raw_cksum_mbuf(m, off, len, &payload) != 0)
		return -EINVAL;
	*csum = csum_final((uint32_t)rte_raw_cksum(l4, h->l4_len) + payload +
		phdr_sum(hdr + h->l2_len, h->ipv6, h->proto, h->l4_len + len), h->proto);
	return 0;
}
