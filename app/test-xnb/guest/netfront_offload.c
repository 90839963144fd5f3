/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Checksums and TCP segmentation as a guest's stack does them (see
 * netfront_offload.h). Every offset is checked against the frame.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netfront_offload.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define PROTO_TCP 6
#define PROTO_UDP 17
#define IPV6_HLEN 40
#define UDP_HLEN 8
#define TCP_MIN_HLEN 20
/* IPv6 extension headers walked over. */
#define NH_HOPOPTS 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_AH 51
#define NH_DSTOPTS 60
#define MAX_EXT_HDRS 8

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Sum of big-endian 16-bit words (a last odd byte padded with zero). */
static uint64_t
sum_bytes(const uint8_t *p, uint32_t len, uint64_t sum)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Offset of the first byte after the Ethernet header and VLAN tags, and the type. */
static int
eth_skip(const uint8_t *f, uint32_t len, uint32_t *off, uint16_t *type)
{
	uint32_t o = ETH_HLEN;
	uint16_t t;
	int tags = 0;

	if (len < ETH_HLEN)
		return -EINVAL;
	t = get16(f + 12);
	while (t == ETHERTYPE_VLAN || t == ETHERTYPE_QINQ) {
		if (++tags > 2)
			return -ENOENT;
		if (len < o + 4)
			return -EINVAL;
		t = get16(f + o + 2);
		o += 4;
	}
	*off = o;
	*type = t;
	return 0;
}

int
netfront_ip_version(const uint8_t *f, uint32_t len)
{
	uint32_t off;
	uint16_t type;

	if (eth_skip(f, len, &off, &type) != 0)
		return 0;
	if (type == ETHERTYPE_IPV4)
		return 4;
	if (type == ETHERTYPE_IPV6)
		return 6;
	return 0;
}

static int
parse_ipv4(const uint8_t *f, uint32_t len, struct netfront_l4 *l4)
{
	const uint8_t *ip = f + l4->l3_off;
	uint32_t ihl, tot;

	if (len - l4->l3_off < 20)
		return -EINVAL;
	if ((ip[0] >> 4) != 4)
		return -EINVAL;
	ihl = (uint32_t)(ip[0] & 0xf) * 4;
	tot = get16(ip + 2);
	if (ihl < 20 || tot < ihl || len - l4->l3_off < tot)
		return -EINVAL;
	/* A fragment: more fragments, or an offset. */
	if ((get16(ip + 6) & 0x3fff) != 0)
		return -ENOENT;
	l4->proto = ip[9];
	l4->l4_off = l4->l3_off + ihl;
	l4->l4_len = tot - ihl;
	l4->ipv6 = false;
	return 0;
}

static int
parse_ipv6(const uint8_t *f, uint32_t len, struct netfront_l4 *l4)
{
	const uint8_t *ip = f + l4->l3_off;
	uint32_t off, end, plen, hl;
	uint8_t nh;
	int n;

	if (len - l4->l3_off < IPV6_HLEN)
		return -EINVAL;
	if ((ip[0] >> 4) != 6)
		return -EINVAL;
	plen = get16(ip + 4);
	if (plen == 0)
		return -EINVAL;        /* a jumbogram: not on this wire */
	end = l4->l3_off + IPV6_HLEN + plen;
	if (end > len)
		return -EINVAL;
	nh = ip[6];
	off = l4->l3_off + IPV6_HLEN;
	for (n = 0; ; n++) {
		if (nh == PROTO_TCP || nh == PROTO_UDP)
			break;
		if (nh == NH_FRAGMENT)
			return -ENOENT;
		if (nh != NH_HOPOPTS && nh != NH_ROUTING && nh != NH_DSTOPTS && nh != NH_AH)
			return -ENOENT;
		if (n == MAX_EXT_HDRS || end - off < 8)
			return -EINVAL;
		if (nh == NH_AH)
			hl = ((uint32_t)f[off + 1] + 2) * 4;
		else
			hl = ((uint32_t)f[off + 1] + 1) * 8;
		if (end - off < hl)
			return -EINVAL;
		nh = f[off];
		off += hl;
	}
	l4->proto = nh;
	l4->l4_off = off;
	l4->l4_len = end - off;
	l4->ipv6 = true;
	return 0;
}

int
netfront_l4_parse(const uint8_t *f, uint32_t len, struct netfront_l4 *l4)
{
	uint16_t type;
	int ret;

	memset(l4, 0, sizeof(*l4));
	ret = eth_skip(f, len, &l4->l3_off, &type);
	if (ret != 0)
		return ret;
	if (type == ETHERTYPE_IPV4)
		ret = parse_ipv4(f, len, l4);
	else if (type == ETHERTYPE_IPV6)
		ret = parse_ipv6(f, len, l4);
	else
		return -ENOENT;
	if (ret != 0)
		return ret;
	if (l4->proto == PROTO_TCP) {
		if (l4->l4_len < TCP_MIN_HLEN)
			return -EINVAL;
		l4->l4_hlen = (uint32_t)(f[l4->l4_off + 12] >> 4) * 4;
		if (l4->l4_hlen < TCP_MIN_HLEN || l4->l4_hlen > l4->l4_len)
			return -EINVAL;
		l4->csum_off = 16;
	} else if (l4->proto == PROTO_UDP) {
		if (l4->l4_len < UDP_HLEN || get16(f + l4->l4_off + 4) != l4->l4_len)
			return -EINVAL;
		l4->l4_hlen = UDP_HLEN;
		l4->csum_off = 6;
	} else {
		return -ENOENT;
	}
	return 0;
}

static uint64_t
pseudo_raw(const uint8_t *f, const struct netfront_l4 *l4)
{
	const uint8_t *ip = f + l4->l3_off;
	uint64_t sum;

	if (l4->ipv6)
		sum = sum_bytes(ip + 8, 32, 0);
	else
		sum = sum_bytes(ip + 12, 8, 0);
	return sum + l4->proto + (l4->l4_len & 0xffff) + (l4->l4_len >> 16);
}

uint16_t
netfront_pseudo_sum(const uint8_t *f, const struct netfront_l4 *l4)
{
	return fold(pseudo_raw(f, l4));
}

int
netfront_csum_partial(uint8_t *f, uint32_t len)
{
	struct netfront_l4 l4;
	int ret;

	ret = netfront_l4_parse(f, len, &l4);
	if (ret != 0)
		return ret;
	put16(f + l4.l4_off + l4.csum_off, netfront_pseudo_sum(f, &l4));
	return 0;
}

int
netfront_csum_fill(uint8_t *f, uint32_t len)
{
	struct netfront_l4 l4;
	uint16_t c;
	int ret;

	ret = netfront_l4_parse(f, len, &l4);
	if (ret != 0)
		return ret;
	put16(f + l4.l4_off + l4.csum_off, 0);
	c = (uint16_t)~fold(sum_bytes(f + l4.l4_off, l4.l4_len, pseudo_raw(f, &l4)));
	if (c == 0 && l4.proto == PROTO_UDP)
		c = 0xffff;
	put16(f + l4.l4_off + l4.csum_off, c);
	return 0;
}

int
netfront_csum_check(const uint8_t *f, uint32_t len)
{
	struct netfront_l4 l4;
	int ret;

	ret = netfront_l4_parse(f, len, &l4);
	if (ret != 0)
		return ret;
	if (l4.proto == PROTO_UDP && !l4.ipv6 && get16(f + l4.l4_off + 6) == 0)
		return 1;
	return fold(sum_bytes(f + l4.l4_off, l4.l4_len, pseudo_raw(f, &l4))) == 0xffff;
}

int
netfront_csum_check_partial(const uint8_t *f, uint32_t len)
{
	struct netfront_l4 l4;
	int ret;

	ret = netfront_l4_parse(f, len, &l4);
	if (ret != 0)
		return ret;
	return get16(f + l4.l4_off + l4.csum_off) == netfront_pseudo_sum(f, &l4);
}

int
netfront_csum_at(uint8_t *f, uint32_t len, uint32_t start, uint32_t off)
{
	uint16_t c;

	if (start >= len || off > len - start || len - start - off < 2)
		return -EINVAL;
	c = (uint16_t)~fold(sum_bytes(f + start, len - start, 0));
	put16(f + start + off, c != 0 ? c : 0xffff);
	return 0;
}

int
netfront_tcp_segment(const uint8_t *f, uint32_t len, uint16_t mss, bool partial,
		netfront_seg_fn fn, void *arg)
{
	struct netfront_l4 l4;
	uint32_t hdr, payload, done, chunk, seq;
	uint8_t *seg, flags;
	uint16_t id;
	int n = 0, ret;

	if (mss == 0 || netfront_l4_parse(f, len, &l4) != 0 || l4.proto != PROTO_TCP)
		return -EINVAL;
	hdr = l4.l4_off + l4.l4_hlen;
	payload = l4.l4_len - l4.l4_hlen;
	seg = malloc(hdr + mss);
	if (seg == NULL)
		return -ENOMEM;
	seq = (uint32_t)get16(f + l4.l4_off + 4) << 16 | get16(f + l4.l4_off + 6);
	flags = f[l4.l4_off + 13];
	id = l4.ipv6 ? 0 : get16(f + l4.l3_off + 4);
	done = 0;
	do {
		uint8_t *ip = seg + l4.l3_off, *th = seg + l4.l4_off;
		bool last;

		chunk = payload - done < mss ? payload - done : mss;
		last = done + chunk == payload;
		memcpy(seg, f, hdr);
		memcpy(seg + hdr, f + hdr + done, chunk);
		if (l4.ipv6) {
			put16(ip + 4, (uint16_t)(l4.l4_off - l4.l3_off - IPV6_HLEN + l4.l4_hlen + chunk));
		} else {
			uint32_t ihl = l4.l4_off - l4.l3_off;

			put16(ip + 2, (uint16_t)(ihl + l4.l4_hlen + chunk));
			put16(ip + 4, (uint16_t)(id + n));
			put16(ip + 10, 0);
			put16(ip + 10, (uint16_t)~fold(sum_bytes(ip, ihl, 0)));
		}
		put16(th + 4, (uint16_t)((seq + done) >> 16));
		put16(th + 6, (uint16_t)(seq + done));
		th[13] = flags;
		if (n != 0)
			th[13] &= (uint8_t)~TCP_CWR;
		if (!last)
			th[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (partial)
			ret = netfront_csum_partial(seg, hdr + chunk);
		else
			ret = netfront_csum_fill(seg, hdr + chunk);
		if (ret == 0)
			ret = fn(arg, seg, hdr + chunk);
		if (ret != 0) {
			free(seg);
			return ret;
		}
		n++;
		done += chunk;
	} while (done < payload);
	free(seg);
	return n;
}
