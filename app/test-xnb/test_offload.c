/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Checksum completion of frames a guest sent with NETTXF_csum_blank:
 * TCP and UDP over IPv4 and IPv6 (extension headers, VLAN tags), over
 * mbuf chains split inside the headers, compared with a reference sum
 * computed here byte by byte; hostile headers are refused and leave the
 * frame unchanged; and the rx burst applies it and sets the mbuf flags.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "test.h"
#include "test_common.h"
#include "xnb_offload.h"

static struct test_guest g;
/* Up to the largest netif frame: GSO super-frames. */
static uint8_t frame[XNB_MAX_FRAME + 1];
static uint8_t out[XNB_MAX_FRAME + 1];

/* One's complement sum of big-endian 16-bit words, the RFC 1071 way. */
static uint32_t
ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

struct built {
	size_t len;
	size_t csum_off;     /* offset of the L4 checksum field */
	uint16_t expect;     /* its correct value, big-endian as a number */
};

/*
 * Build Ethernet [+ vlans] + IPv4/IPv6 [+ ext headers] + TCP/UDP + payload,
 * fill the right checksum into b->expect and leave the field holding the
 * pseudo-header sum, as Linux's netfront sends CHECKSUM_PARTIAL frames.
 */
static void
build(struct built *b, int ipv6, int proto, int vlans, int ext, size_t payload)
{
	uint8_t *p = frame, *l3, *l4;
	uint32_t phdr, l4len, hl;
	size_t i;
	int v;

	memset(frame, 0, sizeof(frame));
	memset(p, 0xff, 6);
	p[6] = 0x02;
	p += 12;
	for (v = 0; v < vlans; v++) {
		p[0] = v == 0 && vlans == 2 ? 0x88 : 0x81;
		p[1] = v == 0 && vlans == 2 ? 0xa8 : 0x00;
		p[2] = 0;
		p[3] = 10 + v;
		p += 4;
	}
	p[0] = ipv6 ? 0x86 : 0x08;
	p[1] = ipv6 ? 0xdd : 0x00;
	p += 2;
	l3 = p;
	hl = proto == IPPROTO_TCP ? 20 : 8;
	l4len = hl + payload;
	if (!ipv6) {
		l3[0] = 0x45;
		l3[2] = (20 + l4len) >> 8;
		l3[3] = (20 + l4len) & 0xff;
		l3[8] = 64;
		l3[9] = proto;
		l3[12] = 169; l3[13] = 254; l3[14] = 0; l3[15] = 1;
		l3[16] = 169; l3[17] = 254; l3[18] = 0; l3[19] = 2;
		l4 = l3 + 20;
		phdr = ref_sum(l3 + 12, 8, 0) + proto + l4len;
	} else {
		uint8_t next = proto;
		uint32_t extlen = ext * 8;

		l3[0] = 0x60;
		l3[4] = (extlen + l4len) >> 8;
		l3[5] = (extlen + l4len) & 0xff;
		l3[7] = 64;
		l3[8] = 0xfe; l3[9] = 0x80; l3[23] = 1;
		l3[24] = 0xfe; l3[25] = 0x80; l3[39] = 2;
		l4 = l3 + 40;
		if (ext > 0) {
			/* Hop-by-hop then destination options, 8 bytes each. */
			l3[6] = IPPROTO_HOPOPTS;
			for (v = 0; v < ext; v++) {
				l4[0] = v + 1 < ext ? IPPROTO_DSTOPTS : next;
				l4[1] = 0;
				l4[2] = 1;  /* PadN */
				l4[3] = 4;
				l4 += 8;
			}
		} else {
			l3[6] = next;
		}
		phdr = ref_sum(l3 + 8, 32, 0) + proto + l4len;
	}
	l4[0] = 0x30; l4[1] = 0x39; l4[2] = 0x00; l4[3] = 0x50;
	if (proto == IPPROTO_TCP) {
		l4[12] = 5 << 4;
		l4[13] = 0x18;
		b->csum_off = (l4 - frame) + 16;
	} else {
		l4[4] = l4len >> 8;
		l4[5] = l4len & 0xff;
		b->csum_off = (l4 - frame) + 6;
	}
	for (i = 0; i < payload; i++)
		l4[hl + i] = (uint8_t)(i * 31 + 7);
	b->len = (l4 - frame) + l4len;
	b->expect = ref_fold(ref_sum(l4, l4len, phdr));
	if (b->expect == 0 && proto == IPPROTO_UDP)
		b->expect = 0xffff;
	/* The partial sum netfront leaves: the folded pseudo header, not inverted. */
	phdr = (uint16_t)~ref_fold(phdr);
	frame[b->csum_off] = phdr >> 8;
	frame[b->csum_off + 1] = phdr & 0xff;
}

static uint16_t
csum_at(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] << 8 | p[off + 1]);
}

/* Complete it on a chain of small mbufs (headers split across them). */
static int
complete_and_check(const struct built *b, const char *what)
{
	struct rte_mbuf *m = tg_mbuf(tg_small_pool(), frame, b->len);
	int len;

	TEST_ASSERT_NOT_NULL(m, "mbuf for %s", what);
	TEST_ASSERT_SUCCESS(xnb_csum_complete_frame(m), "%s: completed", what);
	len = tg_mbuf_read(m, out, sizeof(out));
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(len, (int)b->len, "%s: length", what);
	TEST_ASSERT_EQUAL(csum_at(out, b->csum_off), b->expect, "%s: checksum", what);
	/* Nothing else changed. */
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, frame, b->csum_off, "%s: before the field", what);
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out + b->csum_off + 2, frame + b->csum_off + 2,
		b->len - b->csum_off - 2, "%s: after the field", what);
	return TEST_SUCCESS;
}

static int
test_csum_cases(void)
{
	static const struct {
		int ipv6, proto, vlans, ext;
		size_t payload;
		const char *name;
	} cases[] = {
		{ 0, IPPROTO_TCP, 0, 0, 0, "tcp4 empty" },
		{ 0, IPPROTO_TCP, 0, 0, 1460, "tcp4 1460" },
		{ 0, IPPROTO_UDP, 0, 0, 33, "udp4 odd" },
		{ 0, IPPROTO_UDP, 1, 0, 8000, "udp4 vlan 8000 (spans mbufs)" },
		{ 0, IPPROTO_TCP, 2, 0, 1000, "tcp4 qinq" },
		{ 1, IPPROTO_TCP, 0, 0, 1440, "tcp6" },
		{ 1, IPPROTO_UDP, 0, 2, 777, "udp6 with 2 extension headers" },
		{ 1, IPPROTO_TCP, 1, 1, 9000 - 100, "tcp6 vlan hop-by-hop jumbo" },
	};
	struct built b;
	unsigned int i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		build(&b, cases[i].ipv6, cases[i].proto, cases[i].vlans, cases[i].ext,
			cases[i].payload);
		if (complete_and_check(&b, cases[i].name) != TEST_SUCCESS)
			return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

/*
 * The rx fast path's check of a guessed TCP header length
 * (xnb_hdr_is_tcp4(), and its scalar form) takes a frame exactly when
 * xnb_hdr_fast_tcp4() finds that length and the IPv4 packet fills the
 * frame, for every length a TCP header can have.
 */
static int
test_is_tcp4_agrees(const uint8_t *p, uint32_t len, unsigned int i, unsigned int *guessed)
{
	uint32_t l4, found;
	bool unpadded, take;

	if (len < XNB_FAST_MIN)
		return TEST_SUCCESS;
	found = xnb_hdr_fast_tcp4(p, len);
	unpadded = (uint32_t)(p[16] << 8 | p[17]) + RTE_ETHER_HDR_LEN == len;
	for (l4 = sizeof(struct rte_tcp_hdr); l4 <= 60; l4 += 4) {
		if (len < XNB_GUESS_MIN(l4))
			continue;
		take = found == l4 && unpadded;
		TEST_ASSERT_EQUAL(xnb_hdr_is_tcp4(p, len, l4), take,
			"frame %u (%u B, TCP/IPv4 header found %u B): guessed %u B", i, len, found, l4);
		/* The scalar form, which other CPUs than x86 use. */
		TEST_ASSERT_EQUAL(xnb_hdr_is_tcp4_scalar(p, len, l4), take,
			"frame %u (%u B, TCP/IPv4 header found %u B): guessed %u B, scalar", i, len,
			found, l4);
		*guessed += take;
	}
	return TEST_SUCCESS;
}

/*
 * The inline parse of the common case says what the general parse says,
 * whenever it answers at all: over every frame kind, and over the same
 * frames with header bytes changed at random.
 */
static int
test_parse_fast_agrees(void)
{
	struct xnb_hdr fast, full;
	struct rte_mbuf *m;
	uint32_t rng = 777;
	unsigned int i, k, answered = 0, guessed = 0;
	struct built b;

	for (i = 0; i < 4000; i++) {
		rng = rng * 1103515245 + 12345;
		build(&b, (rng >> 3) & 1, (rng >> 4) & 1 ? IPPROTO_TCP : IPPROTO_UDP,
			(rng >> 5) % 3 == 2 ? 1 : 0, (rng >> 7) % 4 == 3 ? 1 : 0, (rng >> 9) % 3000);
		for (k = 0; i % 2 == 1 && k < 2; k++) {
			rng = rng * 1103515245 + 12345;
			frame[(rng >> 8) % 80] = (uint8_t)(rng >> 20);
		}
		/* Any TCP data offset, where an untagged TCP/IPv4 frame has it. */
		if (i % 4 == 2)
			frame[14 + 20 + 12] = (uint8_t)((rng >> 13) << 4 | (frame[14 + 20 + 12] & 0xf));
		/* Padding after the IPv4 packet, in some. */
		if (i % 8 == 5 && b.len + 6 <= sizeof(frame)) {
			memset(frame + b.len, 0, 6);
			b.len += 6;
		}
		if (test_is_tcp4_agrees(frame, b.len, i, &guessed) != TEST_SUCCESS)
			return TEST_FAILED;
		m = tg_mbuf(tg_pool(), frame, b.len);
		TEST_ASSERT_NOT_NULL(m, "mbuf");
		if (xnb_hdr_parse_fast(m, m->pkt_len, &fast)) {
			answered++;
			if (xnb_hdr_parse_len(m, m->pkt_len, &full) != 0 ||
					fast.ptype != full.ptype || fast.l2_len != full.l2_len ||
					fast.l3_len != full.l3_len || fast.l4_len != full.l4_len ||
					fast.l4_total != full.l4_total || fast.proto != full.proto ||
					fast.ipv6 != full.ipv6 || fast.frag != full.frag) {
				rte_pktmbuf_free(m);
				TEST_ASSERT(0, "frame %u: the fast parse disagrees", i);
			}
		}
		rte_pktmbuf_free(m);
	}
	/* A length 64 KiB past the IPv4 total length's: not taken, though its low 16 bits match. */
	build(&b, 0, IPPROTO_TCP, 0, 0, 1000);
	TEST_ASSERT(xnb_hdr_is_tcp4(frame, b.len, 20) && xnb_hdr_is_tcp4_scalar(frame, b.len, 20),
		"the guess check takes a TCP/IPv4 frame");
	TEST_ASSERT(!xnb_hdr_is_tcp4(frame, b.len + 65536, 20) &&
		!xnb_hdr_is_tcp4_scalar(frame, b.len + 65536, 20),
		"the guess check takes a frame 64 KiB longer than its IPv4 packet");
	printf("    the fast parse answered %u of 4000 frames, as the general one; the guess check took %u\n",
		answered, guessed);
	TEST_ASSERT(answered > 1000, "the fast parse took the common frames");
	TEST_ASSERT(guessed > 300, "the guess check took the TCP/IPv4 frames");
	return TEST_SUCCESS;
}

/* Hostile or unsuitable headers: refused, and the frame is left as it was. */
static int
refused(size_t len, const char *what)
{
	struct rte_mbuf *m = tg_mbuf(tg_small_pool(), frame, len);
	int n;

	TEST_ASSERT_NOT_NULL(m, "mbuf");
	TEST_ASSERT(xnb_csum_complete_frame(m) != 0, "%s: refused", what);
	n = tg_mbuf_read(m, out, sizeof(out));
	rte_pktmbuf_free(m);
	TEST_ASSERT_EQUAL(n, (int)len, "%s: length", what);
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, frame, len, "%s: unchanged", what);
	return TEST_SUCCESS;
}

static int
test_csum_hostile(void)
{
	struct built b;
	size_t l3 = 14;

	build(&b, 0, IPPROTO_TCP, 0, 0, 100);
	TEST_ASSERT_SUCCESS(refused(10, "shorter than Ethernet"), "");
	TEST_ASSERT_SUCCESS(refused(30, "IPv4 header cut short"), "");
	frame[l3 + 3] += 8;  /* total length past the frame */
	TEST_ASSERT_SUCCESS(refused(b.len, "IPv4 total length too large"), "");
	build(&b, 0, IPPROTO_TCP, 0, 0, 100);
	frame[l3] = 0x44;    /* IHL 4 */
	TEST_ASSERT_SUCCESS(refused(b.len, "IPv4 IHL below 5"), "");
	build(&b, 0, IPPROTO_TCP, 0, 0, 100);
	frame[l3] = 0x4f;    /* IHL 15: options past the L4 data */
	frame[l3 + 2] = 0;
	frame[l3 + 3] = 40;
	TEST_ASSERT_SUCCESS(refused(b.len, "IPv4 IHL beyond total length"), "");
	build(&b, 0, IPPROTO_UDP, 0, 0, 100);
	frame[l3 + 6] = 0x20;  /* more fragments */
	TEST_ASSERT_SUCCESS(refused(b.len, "IPv4 fragment"), "");
	build(&b, 0, IPPROTO_TCP, 0, 0, 0);
	frame[l3 + 3] -= 4;    /* TCP header cut to 16 bytes */
	TEST_ASSERT_SUCCESS(refused(b.len - 4, "TCP header too short"), "");
	build(&b, 0, IPPROTO_ICMP, 0, 0, 100);
	TEST_ASSERT_SUCCESS(refused(b.len, "not TCP or UDP"), "");
	build(&b, 1, IPPROTO_UDP, 0, 1, 100);
	frame[l3 + 40 + 1] = 200;  /* extension header runs past the payload */
	TEST_ASSERT_SUCCESS(refused(b.len, "IPv6 extension header too long"), "");
	build(&b, 1, IPPROTO_UDP, 0, 9, 10);
	TEST_ASSERT_SUCCESS(refused(b.len, "IPv6 with 9 extension headers"), "");
	build(&b, 1, IPPROTO_TCP, 0, 0, 100);
	frame[l3 + 4] = 0xff;  /* payload length past the frame */
	TEST_ASSERT_SUCCESS(refused(b.len, "IPv6 payload length too large"), "");
	build(&b, 0, IPPROTO_TCP, 0, 0, 100);
	frame[12] = 0x88;      /* not IP */
	frame[13] = 0xb5;
	TEST_ASSERT_SUCCESS(refused(b.len, "ethertype 0x88b5"), "");
	return TEST_SUCCESS;
}

static int
setup(void)
{
	return tg_create(&g, 0, 0) == 0 ? TEST_SUCCESS : TEST_FAILED;
}

static void
teardown(void)
{
	tg_destroy(&g);
}

/* Sent by the guest with NETTXF_csum_blank: one slot, first request's flags. */
static void
send_blank(size_t len, uint16_t flags)
{
	uint16_t size = (uint16_t)len;

	tg_tx_pkt(&g, frame, &size, 1, 0);
	RING_GET_REQUEST(&g.tx, g.tx.req_prod_pvt - 1)->flags |= flags;
	tg_tx_push(&g);
}

static int
test_rx_burst_csum(void)
{
	netif_tx_response_t rsp[4];
	struct rte_mbuf *m[4];
	struct built b, icmp;
	int len;

	build(&b, 0, IPPROTO_TCP, 0, 0, 1000);
	send_blank(b.len, NETTXF_csum_blank);
	build(&icmp, 0, IPPROTO_ICMP, 0, 0, 64);
	send_blank(icmp.len, NETTXF_csum_blank);   /* blank, but no TCP/UDP */
	build(&icmp, 0, IPPROTO_ICMP, 0, 0, 64);
	send_blank(icmp.len, NETTXF_data_validated);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 2, "the completed and the validated frame");
	build(&b, 0, IPPROTO_TCP, 0, 0, 1000);
	len = tg_mbuf_read(m[0], out, sizeof(out));
	TEST_ASSERT_EQUAL(len, (int)b.len, "length");
	TEST_ASSERT_EQUAL(csum_at(out, b.csum_off), b.expect, "completed checksum");
	TEST_ASSERT((m[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		"completed: L4 checksum good");
	TEST_ASSERT((m[1]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		"data_validated: L4 checksum good");
	rte_pktmbuf_free_bulk(m, 2);
	TEST_ASSERT_EQUAL(tg_tx_rsps(&g, rsp, RTE_DIM(rsp)), 3, "three responses");
	TEST_ASSERT_EQUAL(rsp[0].status, NETIF_RSP_OKAY, "completed: OKAY");
	TEST_ASSERT_EQUAL(rsp[1].status, NETIF_RSP_ERROR, "blank checksum not found: ERROR");
	TEST_ASSERT_EQUAL(rsp[2].status, NETIF_RSP_OKAY, "validated: OKAY");
	TEST_ASSERT_EQUAL(g.q->rx.stats.errors, 1, "the dropped frame is counted");
	return TEST_SUCCESS;
}

/* --- the rx policy: what the application asked for --- */

/* The guest sends frame[0..len) in a first slot of first bytes and 4 KiB slots after it. */
static void
send_frame(size_t len, uint16_t flags, uint8_t gso_type, uint16_t gso_size, size_t first)
{
	netif_extra_info_t e;
	size_t pos = 0, n;
	unsigned int b;
	bool more;

	do {
		n = pos == 0 ? RTE_MIN(first, len) : RTE_MIN((size_t)XNB_PAGE_SIZE, len - pos);
		b = g.next_tx_buf++ % TG_NR_TX_BUFS;
		memcpy(tg_tx_buf(&g, b), frame + pos, n);
		more = pos + n < len;
		tg_tx_req(&g, g.tx_buf_ref[b], 0, (more ? NETTXF_more_data : 0) |
			(pos == 0 ? flags : 0) |
			(pos == 0 && gso_type != XEN_NETIF_GSO_TYPE_NONE ? NETTXF_extra_info : 0),
			g.next_id++, pos == 0 ? (uint16_t)len : (uint16_t)n);
		if (pos == 0 && gso_type != XEN_NETIF_GSO_TYPE_NONE) {
			memset(&e, 0, sizeof(e));
			e.type = XEN_NETIF_EXTRA_TYPE_GSO;
			e.u.gso.size = gso_size;
			e.u.gso.type = gso_type;
			tg_tx_extra(&g, &e);
		}
		pos += n;
	} while (pos < len);
	tg_tx_push(&g);
}

/* The pseudo-header sum of the datagram in buf (l3 at l3off) for an L4 length. */
static uint32_t
ref_phdr(const uint8_t *buf, size_t l3off, int ipv6, int proto, uint32_t l4len)
{
	return ipv6 ? ref_sum(buf + l3off + 8, 32, 0) + proto + l4len :
		ref_sum(buf + l3off + 12, 8, 0) + proto + l4len;
}

/* The rx queue as an application configured it. */
static void
rx_config(bool csum_tcp, bool csum_udp, bool lro)
{
	g.q->rx.csum_tcp = csum_tcp;
	g.q->rx.csum_udp = csum_udp;
	g.q->rx.lro = lro;
}

/*
 * With rx checksum offload enabled, a blank checksum stays blank and says
 * so (L4_CKSUM_NONE), with the pseudo-header sum left in the field; per
 * protocol: with only TCP's enabled, UDP's is completed. Headers parsed
 * on the way are reported in packet_type and l2/l3/l4_len.
 */
static int
test_rx_csum_policy(void)
{
	struct rte_mbuf *m[4];
	struct built b;
	int len;

	rx_config(true, false, false);
	build(&b, 0, IPPROTO_TCP, 1, 0, 1000);
	send_frame(b.len, NETTXF_csum_blank | NETTXF_data_validated, 0, 0, b.len);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "tcp4");
	TEST_ASSERT((m[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE,
		"blank: L4_CKSUM_NONE");
	len = tg_mbuf_read(m[0], out, sizeof(out));
	TEST_ASSERT_EQUAL(len, (int)b.len, "length");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, frame, b.len, "left as the guest sent it");
	TEST_ASSERT_EQUAL(m[0]->packet_type, RTE_PTYPE_L2_ETHER_VLAN | RTE_PTYPE_L3_IPV4 |
		RTE_PTYPE_L4_TCP, "packet_type");
	TEST_ASSERT(m[0]->l2_len == 18 && m[0]->l3_len == 20 && m[0]->l4_len == 20,
		"l2/l3/l4 %u/%u/%u", m[0]->l2_len, m[0]->l3_len, m[0]->l4_len);
	rte_pktmbuf_free(m[0]);

	build(&b, 1, IPPROTO_UDP, 0, 2, 3000);
	send_frame(b.len, NETTXF_csum_blank, 0, 0, 1000);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "udp6, UDP offload off");
	TEST_ASSERT((m[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		"completed: GOOD");
	tg_mbuf_read(m[0], out, sizeof(out));
	TEST_ASSERT_EQUAL(csum_at(out, b.csum_off), b.expect, "udp6 over 3 slots completed");
	TEST_ASSERT_EQUAL(m[0]->l3_len, 40 + 16, "IPv6 with two extension headers");
	rte_pktmbuf_free(m[0]);

	rx_config(true, true, false);
	build(&b, 1, IPPROTO_UDP, 0, 2, 3000);
	send_frame(b.len, NETTXF_csum_blank, 0, 0, 1000);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "udp6, UDP offload on");
	TEST_ASSERT((m[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE,
		"blank: NONE");
	rte_pktmbuf_free(m[0]);
	return TEST_SUCCESS;
}

/*
 * With RX_OFFLOAD_IPV4_CKSUM the IPv4 header checksum is checked, blank
 * L4 checksum or not: GOOD or BAD; IPv6 says nothing (UNKNOWN).
 */
static int
test_rx_ip_csum(void)
{
	struct rte_mbuf *m[8];
	struct built b;
	unsigned int i;
	uint16_t c;

	rx_config(true, true, false);
	g.q->rx.csum_ip = true;
	build(&b, 0, IPPROTO_UDP, 0, 0, 300);
	c = ref_fold(ref_sum(frame + 14, 20, 0));
	frame[24] = c >> 8;
	frame[25] = c & 0xff;
	send_frame(b.len, 0, 0, 0, b.len);                    /* plain, right */
	send_frame(b.len, NETTXF_csum_blank, 0, 0, b.len);    /* blank, right */
	frame[25] ^= 1;
	send_frame(b.len, 0, 0, 0, b.len);                    /* plain, wrong */
	send_frame(b.len, NETTXF_csum_blank, 0, 0, b.len);    /* blank, wrong */
	build(&b, 1, IPPROTO_UDP, 0, 0, 300);
	send_frame(b.len, NETTXF_csum_blank, 0, 0, b.len);    /* IPv6 */
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 8), 5, "five frames");
	for (i = 0; i < 2; i++)
		TEST_ASSERT((m[i]->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ==
			RTE_MBUF_F_RX_IP_CKSUM_GOOD, "frame %u: IP checksum good", i);
	for (i = 2; i < 4; i++)
		TEST_ASSERT((m[i]->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ==
			RTE_MBUF_F_RX_IP_CKSUM_BAD, "frame %u: a wrong IP checksum is BAD", i);
	TEST_ASSERT((m[4]->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == 0, "IPv6: unknown");
	TEST_ASSERT(m[0]->l3_len == 20 && m[0]->packet_type != 0, "parsed");
	rte_pktmbuf_free_bulk(m, 5);
	return TEST_SUCCESS;
}

/*
 * FreeBSD xnb(4)'s BUGS: a UDP datagram spanning several frames (here
 * slots, and mbufs) and IPv6 get correct checksums; and its CAVEAT:
 * without rx checksum offload nothing blank reaches the application.
 * Mixed flags in one burst each get their own treatment.
 */
static int
test_rx_csum_mixed_burst(void)
{
	static const struct {
		int ipv6, proto, vlans, ext;
		size_t payload, first;
		uint16_t flags;
	} cases[] = {
		{ 0, IPPROTO_UDP, 0, 0, 8000, 100, NETTXF_csum_blank },
		{ 1, IPPROTO_UDP, 1, 1, 6000, 64, NETTXF_csum_blank },
		{ 1, IPPROTO_TCP, 2, 0, 1440, 1500, NETTXF_csum_blank | NETTXF_data_validated },
		{ 0, IPPROTO_TCP, 0, 0, 500, 554, NETTXF_data_validated },
		{ 0, IPPROTO_UDP, 0, 0, 500, 542, 0 },
	};
	struct rte_mbuf *m[8];
	uint8_t sent[RTE_DIM(cases)][9100];
	struct built b[RTE_DIM(cases)];
	unsigned int i;
	int len;

	rx_config(false, false, false);
	for (i = 0; i < RTE_DIM(cases); i++) {
		build(&b[i], cases[i].ipv6, cases[i].proto, cases[i].vlans, cases[i].ext,
			cases[i].payload);
		if (cases[i].flags == 0 || cases[i].flags == NETTXF_data_validated) {
			/* A full checksum, as a guest without offload sends it. */
			frame[b[i].csum_off] = b[i].expect >> 8;
			frame[b[i].csum_off + 1] = b[i].expect & 0xff;
		}
		memcpy(sent[i], frame, b[i].len);
		send_frame(b[i].len, cases[i].flags, 0, 0, cases[i].first);
	}
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 8), RTE_DIM(cases), "all in one burst");
	for (i = 0; i < RTE_DIM(cases); i++) {
		len = tg_mbuf_read(m[i], out, sizeof(out));
		TEST_ASSERT_EQUAL(len, (int)b[i].len, "frame %u length", i);
		TEST_ASSERT_EQUAL(csum_at(out, b[i].csum_off), b[i].expect, "frame %u checksum", i);
		TEST_ASSERT((m[i]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
			(cases[i].flags != 0 ? RTE_MBUF_F_RX_L4_CKSUM_GOOD : 0),
			"frame %u flags 0x%" PRIx64, i, m[i]->ol_flags);
		memcpy(sent[i] + b[i].csum_off, out + b[i].csum_off, 2);
		TEST_ASSERT_BUFFERS_ARE_EQUAL(out, sent[i], b[i].len, "frame %u bytes", i);
	}
	rte_pktmbuf_free_bulk(m, RTE_DIM(cases));
	return TEST_SUCCESS;
}

/*
 * The fast path's guess (xnb_rx.c, rx_mbuf_init()): the gathering loop
 * writes the packet type, flags and lengths of the TCP/IPv4 frame last
 * seen into every frame with a blank checksum, before its headers are
 * copied. Each frame must still come up with its own: a TCP header of
 * another length (in the batch that learns it, and the next), UDP (whose
 * checksum the application left to xnb), IPv6, a fragment, a TCP header
 * too short, a frame in two slots, and frames without a blank checksum,
 * all in one burst, then again.
 */
static int
test_rx_blank_guess(void)
{
	static const struct {
		int ipv6, proto, doff, frag, ok;
		size_t first;         /* bytes in the first slot; 0: all */
		uint16_t flags;
		uint32_t ptype;
		uint16_t l3, l4;
		uint64_t l4_flag;
	} cases[] = {
		{ 0, IPPROTO_TCP, 5, 0, 1, 0, NETTXF_csum_blank, RTE_PTYPE_L4_TCP, 20, 20,
			RTE_MBUF_F_RX_L4_CKSUM_NONE },
		{ 0, IPPROTO_TCP, 8, 0, 1, 0, NETTXF_csum_blank | NETTXF_data_validated,
			RTE_PTYPE_L4_TCP, 20, 32, RTE_MBUF_F_RX_L4_CKSUM_NONE },
		{ 0, IPPROTO_TCP, 8, 0, 1, 0, NETTXF_csum_blank, RTE_PTYPE_L4_TCP, 20, 32,
			RTE_MBUF_F_RX_L4_CKSUM_NONE },
		{ 0, IPPROTO_UDP, 0, 0, 1, 0, NETTXF_csum_blank, RTE_PTYPE_L4_UDP, 20, 8,
			RTE_MBUF_F_RX_L4_CKSUM_GOOD },
		{ 0, IPPROTO_TCP, 5, 0, 1, 0, 0, 0, 0, 0, 0 },
		{ 0, IPPROTO_TCP, 8, 0, 1, 0, NETTXF_data_validated, 0, 0, 0,
			RTE_MBUF_F_RX_L4_CKSUM_GOOD },
		{ 0, IPPROTO_TCP, 8, 1, 0, 0, NETTXF_csum_blank, 0, 0, 0, 0 },
		{ 0, IPPROTO_TCP, 3, 0, 0, 0, NETTXF_csum_blank, 0, 0, 0, 0 },
		{ 1, IPPROTO_TCP, 5, 0, 1, 0, NETTXF_csum_blank, RTE_PTYPE_L4_TCP, 40, 20,
			RTE_MBUF_F_RX_L4_CKSUM_NONE },
		{ 0, IPPROTO_TCP, 8, 0, 1, 60, NETTXF_csum_blank, RTE_PTYPE_L4_TCP, 20, 32,
			RTE_MBUF_F_RX_L4_CKSUM_NONE },
		{ 0, IPPROTO_TCP, 5, 0, 1, 0, NETTXF_csum_blank, RTE_PTYPE_L4_TCP, 20, 20,
			RTE_MBUF_F_RX_L4_CKSUM_NONE },
	};
	netif_tx_response_t rsp[2 * RTE_DIM(cases) + 4];
	struct rte_mbuf *m[2 * RTE_DIM(cases)];
	unsigned int i, k, pass, n, ok = 0;
	struct built b;
	uint32_t ptype;

	rx_config(true, false, false);
	for (pass = 0; pass < 2; pass++) {
		ok = 0;
		for (i = 0; i < RTE_DIM(cases); i++) {
			build(&b, cases[i].ipv6, cases[i].proto, 0, 0, 1000);
			if (cases[i].proto == IPPROTO_TCP)
				frame[14 + (cases[i].ipv6 ? 40 : 20) + 12] = cases[i].doff << 4;
			if (cases[i].frag)
				frame[14 + 6] = 0x20;     /* more fragments */
			send_frame(b.len, cases[i].flags, 0, 0,
				cases[i].first != 0 ? cases[i].first : b.len);
			ok += cases[i].ok;
		}
		n = xnb_rx_burst(&g.q->rx, m, RTE_DIM(m));
		TEST_ASSERT_EQUAL(n, ok, "pass %u: the frames that are good", pass);
		for (i = 0, k = 0; i < RTE_DIM(cases); i++) {
			if (!cases[i].ok)
				continue;
			ptype = cases[i].ptype == 0 ? 0 : RTE_PTYPE_L2_ETHER | cases[i].ptype |
				(cases[i].ipv6 ? RTE_PTYPE_L3_IPV6 : RTE_PTYPE_L3_IPV4);
			TEST_ASSERT_EQUAL(m[k]->packet_type, ptype, "pass %u frame %u: packet type",
				pass, i);
			TEST_ASSERT(m[k]->l2_len == (ptype != 0 ? 14 : 0) &&
				m[k]->l3_len == cases[i].l3 && m[k]->l4_len == cases[i].l4 &&
				m[k]->tso_segsz == 0,
				"pass %u frame %u: l2/l3/l4 %u/%u/%u", pass, i,
				m[k]->l2_len, m[k]->l3_len, m[k]->l4_len);
			TEST_ASSERT_EQUAL(m[k]->ol_flags, cases[i].l4_flag,
				"pass %u frame %u: flags 0x%" PRIx64, pass, i, m[k]->ol_flags);
			k++;
		}
		rte_pktmbuf_free_bulk(m, n);
		n = tg_tx_rsps(&g, rsp, RTE_DIM(rsp));
		TEST_ASSERT(n >= RTE_DIM(cases), "pass %u: responses", pass);
		for (i = 0, k = 0; i < RTE_DIM(cases); i++) {
			TEST_ASSERT_EQUAL(rsp[k].status, cases[i].ok ? NETIF_RSP_OKAY :
				NETIF_RSP_ERROR, "pass %u frame %u: status", pass, i);
			k += cases[i].first != 0 ? 2 : 1;
		}
	}
	return TEST_SUCCESS;
}

/* IP fragments pass untouched; a blank checksum on one cannot be completed. */
static int
test_rx_fragments(void)
{
	netif_tx_response_t rsp[8];
	struct rte_mbuf *m[4];
	struct built b;
	uint8_t sent[2000];
	size_t l3 = 14, len;

	rx_config(false, false, false);
	build(&b, 0, IPPROTO_UDP, 0, 0, 1000);
	frame[l3 + 6] = 0x20;          /* more fragments */
	len = b.len;
	memcpy(sent, frame, len);
	send_frame(b.len, 0, 0, 0, b.len);
	send_frame(b.len, NETTXF_data_validated, 0, 0, b.len);
	send_frame(b.len, NETTXF_csum_blank, 0, 0, b.len);
	build(&b, 1, IPPROTO_UDP, 0, 0, 1000);
	frame[l3 + 6] = IPPROTO_FRAGMENT;
	send_frame(b.len, NETTXF_csum_blank, 0, 0, b.len);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 2, "the two without a blank checksum");
	TEST_ASSERT_EQUAL(tg_mbuf_read(m[0], out, sizeof(out)), (int)len, "length");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out, sent, len, "untouched");
	rte_pktmbuf_free_bulk(m, 2);
	TEST_ASSERT_EQUAL(tg_tx_rsps(&g, rsp, 8), 4, "responses");
	TEST_ASSERT(rsp[0].status == NETIF_RSP_OKAY && rsp[1].status == NETIF_RSP_OKAY &&
		rsp[2].status == NETIF_RSP_ERROR && rsp[3].status == NETIF_RSP_ERROR,
		"fragments with a blank checksum are errors");
	return TEST_SUCCESS;
}

/* --- GSO super-frames from the guest --- */

/*
 * Check frame k of n (seg, len bytes) that a super-frame (frame, b,
 * headers of hlen bytes at l3 offset l3off) was cut into at mss:
 * lengths, IP id, sequence number, flags, payload, and the checksum:
 * complete, or blank with the segment's pseudo-header sum when blank.
 */
static int
check_segment(const uint8_t *seg, int len, unsigned int k, unsigned int n,
		const struct built *b, int ipv6, size_t l3off, size_t hlen, uint32_t mss, bool blank)
{
	size_t payload = b->len - hlen, l4off = hlen - 20, plen, want;
	uint32_t seq0 = (uint32_t)frame[l4off + 4] << 24 | frame[l4off + 5] << 16 |
		frame[l4off + 6] << 8 | frame[l4off + 7];
	uint32_t seq, phdr;

	TEST_ASSERT_EQUAL(n, (payload + mss - 1) / mss, "frames");
	plen = RTE_MIN((size_t)mss, payload - k * mss);
	TEST_ASSERT_EQUAL(len, (int)(hlen + plen), "frame %u length", k);
	TEST_ASSERT_BUFFERS_ARE_EQUAL(seg + hlen, frame + hlen + k * mss, plen,
		"frame %u payload", k);
	TEST_ASSERT_BUFFERS_ARE_EQUAL(seg, frame, l3off, "frame %u L2", k);
	if (!ipv6) {
		TEST_ASSERT_EQUAL(seg[l3off + 2] << 8 | seg[l3off + 3],
			(int)(hlen - l3off + plen), "frame %u total length", k);
		TEST_ASSERT_EQUAL(seg[l3off + 4] << 8 | seg[l3off + 5], (int)k,
			"frame %u IP id", k);
		TEST_ASSERT_EQUAL(ref_fold(ref_sum(seg + l3off, 20, 0)), 0,
			"frame %u IPv4 header checksum", k);
	} else {
		TEST_ASSERT_EQUAL(seg[l3off + 4] << 8 | seg[l3off + 5],
			(int)(hlen - l3off - 40 + plen), "frame %u payload length", k);
	}
	seq = (uint32_t)seg[l4off + 4] << 24 | seg[l4off + 5] << 16 |
		seg[l4off + 6] << 8 | seg[l4off + 7];
	TEST_ASSERT_EQUAL(seq, seq0 + k * mss, "frame %u sequence", k);
	want = k + 1 == n ? frame[l4off + 13] :
		(frame[l4off + 13] & ~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG));
	TEST_ASSERT_EQUAL(seg[l4off + 13], want, "frame %u TCP flags", k);
	phdr = ref_phdr(seg, l3off, ipv6, IPPROTO_TCP, (uint32_t)(20 + plen));
	if (blank)
		TEST_ASSERT_EQUAL(csum_at(seg, l4off + 16), (uint16_t)~ref_fold(phdr),
			"frame %u blank with its pseudo-header sum", k);
	else
		TEST_ASSERT_EQUAL(ref_fold(ref_sum(seg + l4off, 20 + plen, phdr)), 0,
			"frame %u TCP checksum", k);
	return TEST_SUCCESS;
}

/* The same over mbufs, with their flags and header lengths. */
static int
check_segments(struct rte_mbuf **m, unsigned int n, const struct built *b, int ipv6,
		size_t l3off, size_t hlen, uint32_t mss, bool blank)
{
	unsigned int k;
	int len;

	for (k = 0; k < n; k++) {
		len = tg_mbuf_read(m[k], out, sizeof(out));
		if (check_segment(out, len, k, n, b, ipv6, l3off, hlen, mss, blank) != 0)
			return TEST_FAILED;
		TEST_ASSERT((m[k]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) ==
			(blank ? RTE_MBUF_F_RX_L4_CKSUM_NONE : RTE_MBUF_F_RX_L4_CKSUM_GOOD),
			"frame %u flags", k);
		TEST_ASSERT(m[k]->l4_len == 20 &&
			(size_t)m[k]->l2_len + m[k]->l3_len == hlen - 20,
			"frame %u header lengths", k);
	}
	return n > 0 ? TEST_SUCCESS : TEST_FAILED;
}

/* All a queue has ready, over as many bursts of burst as it takes. */
static unsigned int
rx_all(struct rte_mbuf **m, unsigned int max, uint16_t burst)
{
	unsigned int n = 0, got, tries;

	for (tries = 0; tries < 64 && n < max; tries++) {
		got = xnb_rx_burst(&g.q->rx, m + n, RTE_MIN(burst, (uint16_t)(max - n)));
		n += got;
		if (got == 0 && tries > 2)
			break;
	}
	return n;
}

/*
 * Without LRO a super-frame becomes MSS-sized frames with correct headers,
 * over bursts smaller than the frame count (the rest waits for the next
 * burst); a 60000 B TCPv4 frame over 16 slots at MSS 1448, and TCPv6 with
 * a VLAN tag and an extension header, checksums complete or left blank.
 */
static int
test_rx_gso_segmented(void)
{
	static struct rte_mbuf *m[XNB_RX_GSO_MAX_SEGS];
	netif_tx_response_t rsp[24];
	struct built b;
	unsigned int n, k;

	rx_config(false, false, false);
	build(&b, 0, IPPROTO_TCP, 0, 0, 60000);
	frame[14 + 20 + 13] = 0x19;   /* FIN|PSH|ACK: on the last frame only */
	send_frame(b.len, NETTXF_csum_blank | NETTXF_data_validated, XEN_NETIF_GSO_TYPE_TCPV4,
		1448, 1000);
	n = rx_all(m, RTE_DIM(m), 32);
	TEST_ASSERT_SUCCESS(check_segments(m, n, &b, 0, 14, 54, 1448, false), "tcp4");
	rte_pktmbuf_free_bulk(m, n);
	n = tg_tx_rsps(&g, rsp, RTE_DIM(rsp));
	TEST_ASSERT_EQUAL(n, 1 + 1 + 15, "a response per slot, extra included");
	for (k = 0; k < n; k++)
		TEST_ASSERT_EQUAL(rsp[k].status, k == 1 ? NETIF_RSP_NULL : NETIF_RSP_OKAY,
			"response %u", k);
	TEST_ASSERT_EQUAL(g.q->rx.stash_len, 0, "nothing left over");
	TEST_ASSERT(g.q->rx.stats.gso == 1 && g.q->rx.stats.gso_segments == 42 &&
		g.q->rx.stats.csum_blank == 1 && g.q->rx.stats.packets == 42, "counters");

	rx_config(true, true, false);
	build(&b, 1, IPPROTO_TCP, 1, 1, 30000);
	send_frame(b.len, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV6, 1000, 4000);
	n = rx_all(m, RTE_DIM(m), 7);
	TEST_ASSERT_SUCCESS(check_segments(m, n, &b, 1, 18, 18 + 48 + 20, 1000, true),
		"tcp6 vlan, blank");
	rte_pktmbuf_free_bulk(m, n);
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "no mbuf leaked");
	return TEST_SUCCESS;
}

/* With LRO the super-frame goes up whole: RX_LRO, tso_segsz, one chain. */
static int
test_rx_gso_lro(void)
{
	struct rte_mbuf *m[4];
	struct built b;
	uint8_t *sent;
	int len;

	rx_config(true, true, true);
	g.q->rx.scatter = false;      /* LRO alone allows the chain */
	build(&b, 0, IPPROTO_TCP, 0, 0, 40000);
	sent = malloc(b.len);
	TEST_ASSERT_NOT_NULL(sent, "malloc");
	memcpy(sent, frame, b.len);
	send_frame(b.len, NETTXF_csum_blank | NETTXF_data_validated, XEN_NETIF_GSO_TYPE_TCPV4,
		1448, 2048);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "one frame");
	TEST_ASSERT((m[0]->ol_flags & RTE_MBUF_F_RX_LRO) != 0, "RX_LRO");
	TEST_ASSERT((m[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE,
		"blank: NONE");
	TEST_ASSERT_EQUAL(m[0]->tso_segsz, 1448, "tso_segsz");
	TEST_ASSERT(m[0]->nb_segs > 1, "a chain");
	len = tg_mbuf_read(m[0], out, sizeof(out));
	TEST_ASSERT_EQUAL(len, (int)b.len, "whole");
	TEST_ASSERT(memcmp(out, sent, b.len) == 0, "as sent");
	free(sent);
	rte_pktmbuf_free(m[0]);

	/* Without rx checksum offload, the super-frame's checksum is completed. */
	rx_config(false, false, true);
	build(&b, 1, IPPROTO_TCP, 0, 0, 20000);
	send_frame(b.len, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV6, 1440, 2048);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "tcp6");
	tg_mbuf_read(m[0], out, sizeof(out));
	TEST_ASSERT_EQUAL(csum_at(out, b.csum_off), b.expect, "completed");
	TEST_ASSERT((m[0]->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD,
		"GOOD");
	rte_pktmbuf_free(m[0]);
	return TEST_SUCCESS;
}

/* Bad GSO from a guest, each answered NETIF_RSP_ERROR; the queue goes on. */
static int
test_rx_gso_hostile(void)
{
	static const struct {
		int ipv6, proto;
		uint8_t type;
		uint16_t size;
		size_t payload, first;
		const char *what;
	} cases[] = {
		{ 0, IPPROTO_TCP, XEN_NETIF_GSO_TYPE_TCPV4, 0, 4000, 1000, "gso_size 0" },
		{ 0, IPPROTO_TCP, 7, 1448, 4000, 1000, "unknown GSO type" },
		{ 0, IPPROTO_UDP, XEN_NETIF_GSO_TYPE_TCPV4, 1448, 4000, 1000, "GSO on UDP" },
		{ 1, IPPROTO_TCP, XEN_NETIF_GSO_TYPE_TCPV4, 1448, 4000, 1000, "TCPV4 on IPv6" },
		{ 0, IPPROTO_TCP, XEN_NETIF_GSO_TYPE_TCPV6, 1448, 4000, 1000, "TCPV6 on IPv4" },
		{ 0, IPPROTO_TCP, XEN_NETIF_GSO_TYPE_TCPV4, 9000, 4000, 1000, "gso_size > frame" },
		{ 0, IPPROTO_TCP, XEN_NETIF_GSO_TYPE_TCPV4, 1448, 4000, 40, "header past slot 1" },
		{ 0, IPPROTO_ICMP, XEN_NETIF_GSO_TYPE_TCPV4, 1448, 4000, 1000, "GSO on ICMP" },
		/* Last, only when segmenting: LRO takes it whole. */
		{ 0, IPPROTO_TCP, XEN_NETIF_GSO_TYPE_TCPV4, 100, 60000, 1000, "600 segments" },
	};
	netif_tx_response_t rsp[32];
	struct rte_mbuf *m[XNB_RX_GSO_MAX_SEGS];
	struct built b;
	unsigned int i, n, lro;

	for (lro = 0; lro < 2; lro++) {
		rx_config(false, false, lro == 1);
		for (i = 0; i < RTE_DIM(cases) - lro; i++) {
			build(&b, cases[i].ipv6, cases[i].proto, 0, 0, cases[i].payload);
			send_frame(b.len, NETTXF_csum_blank, cases[i].type, cases[i].size,
				cases[i].first);
			n = xnb_rx_burst(&g.q->rx, m, RTE_DIM(m));
			rte_pktmbuf_free_bulk(m, n);
			TEST_ASSERT_EQUAL(n, 0, "%s (lro %u): nothing delivered", cases[i].what, lro);
			n = tg_tx_rsps(&g, rsp, RTE_DIM(rsp));
			TEST_ASSERT(n >= 2 && rsp[0].status == NETIF_RSP_ERROR,
				"%s (lro %u): ERROR", cases[i].what, lro);
		}
	}
	TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_NONE, "not fatal");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "no mbuf leaked");
	/* And a good one still goes. */
	build(&b, 0, IPPROTO_TCP, 0, 0, 3000);
	send_frame(b.len, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4, 1448, 1000);
	rx_config(false, false, false);
	n = rx_all(m, RTE_DIM(m), 32);
	rte_pktmbuf_free_bulk(m, n);
	TEST_ASSERT_EQUAL(n, 3, "three frames");
	return TEST_SUCCESS;
}

/*
 * Hostile headers at random: valid frames of every kind with a few bytes
 * of their headers changed, random checksum flags and random GSO extras,
 * in both rx modes. Whatever the guest sends, every slot is answered, the
 * queue goes on, and no mbuf is lost.
 */
static int
test_rx_offload_random(void)
{
	static struct rte_mbuf *m[XNB_RX_GSO_MAX_SEGS];
	netif_tx_response_t rsp[64];
	uint32_t rng = 12345, r, sent_slots, got_rsps, n;
	static const uint8_t types[] = { 0, XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV6, 3 };
	struct built b;
	unsigned int i, k;
	size_t first;

	for (i = 0; i < 1500; i++) {
		r = rng = rng * 1103515245 + 12345;
		rx_config(r & 1, r & 2, r & 4);
		build(&b, (r >> 3) & 1, (r >> 4) & 1 ? IPPROTO_TCP : IPPROTO_UDP, (r >> 5) % 3,
			(r >> 7) % 3, (r >> 9) % 20000);
		for (k = 0; k < ((r >> 24) & 3) + 1; k++) {
			rng = rng * 1103515245 + 12345;
			frame[(rng >> 8) % RTE_MIN(b.len, (size_t)120)] = (uint8_t)(rng >> 20);
		}
		rng = rng * 1103515245 + 12345;
		first = 14 + (rng >> 8) % 200;
		sent_slots = (uint32_t)(1 + (b.len > first ? (b.len - first + XNB_PAGE_SIZE - 1) /
			XNB_PAGE_SIZE : 0));
		send_frame(b.len, (rng >> 4) & 3, types[(rng >> 6) & 3],
			(uint16_t)((rng >> 12) % 3000), first);
		if (types[(rng >> 6) & 3] != 0)
			sent_slots++;
		got_rsps = 0;
		for (k = 0; k < 8; k++) {
			n = xnb_rx_burst(&g.q->rx, m, RTE_DIM(m));
			rte_pktmbuf_free_bulk(m, n);
			got_rsps += tg_tx_rsps(&g, rsp, RTE_DIM(rsp));
			if (got_rsps == sent_slots && g.q->rx.stash_len == 0)
				break;
		}
		TEST_ASSERT_EQUAL(got_rsps, sent_slots, "frame %u: every slot answered", i);
		TEST_ASSERT_EQUAL(g.q->fatal, XNB_FATAL_NONE, "frame %u: queue goes on", i);
	}
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "no mbuf leaked");
	printf("    %" PRIu64 " frames up (%" PRIu64 " from segmented GSO), %" PRIu64 " refused\n",
		g.q->rx.stats.packets, g.q->rx.stats.gso_segments, g.q->rx.stats.errors);
	TEST_ASSERT(g.q->rx.stats.gso_segments > 0 && g.q->rx.stats.errors > 0 &&
		g.q->rx.stats.packets > 0, "both fates were exercised");
	return TEST_SUCCESS;
}

/* --- towards the guest: mbufs with offload requests --- */

/* What the guest got: one frame's bytes, its first flags, its GSO extra. */
struct got {
	int len;                   /* -1: a slot failed */
	uint16_t flags;
	netif_extra_info_t gso;    /* type NONE without */
};

/* Take the guest-rx responses of up to max frames. */
static unsigned int
guest_frames(struct got *got, uint8_t (*bufs)[XNB_MAX_FRAME + 1], unsigned int max)
{
	static netif_rx_response_t rsp[256];
	unsigned int n, i = 0, f = 0;
	netif_rx_response_t cur;
	size_t len;

	n = tg_rx_rsps(&g, rsp, RTE_DIM(rsp));
	while (i < n && f < max) {
		memset(&got[f], 0, sizeof(got[f]));
		got[f].flags = rsp[i].flags;
		len = 0;
		do {
			cur = rsp[i++];
			if (cur.status < 0 || cur.id >= TG_NR_RX_BUFS ||
					len + cur.status > XNB_MAX_FRAME) {
				got[f].len = -1;
			} else if (got[f].len >= 0) {
				memcpy(bufs[f] + len, tg_rx_buf(&g, cur.id) + cur.offset, cur.status);
				len += cur.status;
			}
			/* After the first response, its extra-info slot. */
			if (len == (size_t)cur.status && (cur.flags & NETRXF_extra_info) && i < n)
				memcpy(&got[f].gso, &rsp[i++], sizeof(got[f].gso));
		} while ((cur.flags & NETRXF_more_data) && i < n);
		if (got[f].len == 0)
			got[f].len = (int)len;
		f++;
	}
	return f;
}

static uint8_t gbuf[64][XNB_MAX_FRAME + 1];

/* An mbuf (chain, small mbufs if small) of frame[0..len) with offload requests. */
static struct rte_mbuf *
tx_mbuf(size_t len, uint64_t ol, uint16_t l2, uint16_t l3, uint16_t l4, uint16_t mss, bool small)
{
	struct rte_mbuf *m = tg_mbuf(small ? tg_small_pool() : tg_pool(), frame, len);

	if (m == NULL)
		return NULL;
	m->ol_flags = ol;
	m->l2_len = l2;
	m->l3_len = l3;
	m->l4_len = l4;
	m->tso_segsz = mss;
	return m;
}

static void
guest_offloads(bool csum4, bool csum6, bool gso4, bool gso6)
{
	g.q->feat.csum4 = csum4;
	g.q->feat.csum6 = csum6;
	g.q->feat.gso4 = gso4;
	g.q->feat.gso6 = gso6;
}

/*
 * Checksum requests towards a guest that takes blank checksums become
 * NETRXF_csum_blank|data_validated with the pseudo-header sum in the
 * field; the IPv4 header checksum is filled in; a received checksum that
 * was good stays known good (data_validated); a checksum left blank by
 * an xnb rx port (L4_CKSUM_NONE) goes on blank.
 */
static int
test_tx_csum_flags(void)
{
	struct rte_mbuf *m[4];
	struct got got[4];
	struct built b[4];
	uint8_t sent[4][2000];
	unsigned int i;

	guest_offloads(true, false, false, false);
	tg_rx_post(&g, 8);
	build(&b[0], 0, IPPROTO_TCP, 0, 0, 1000);
	memcpy(sent[0], frame, b[0].len);
	frame[14 + 10] = frame[14 + 11] = 0;   /* IP checksum to fill in */
	m[0] = tx_mbuf(b[0].len, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
		RTE_MBUF_F_TX_TCP_CKSUM, 14, 20, 20, 0, false);
	build(&b[1], 0, IPPROTO_UDP, 1, 0, 700);
	frame[b[1].csum_off] = b[1].expect >> 8;
	frame[b[1].csum_off + 1] = b[1].expect & 0xff;
	memcpy(sent[1], frame, b[1].len);
	m[1] = tx_mbuf(b[1].len, RTE_MBUF_F_RX_L4_CKSUM_GOOD, 0, 0, 0, 0, false);
	build(&b[2], 0, IPPROTO_UDP, 0, 0, 1200);
	memcpy(sent[2], frame, b[2].len);
	m[2] = tx_mbuf(b[2].len, RTE_MBUF_F_RX_L4_CKSUM_NONE, 0, 0, 0, 0, true);
	for (i = 0; i < 3; i++)
		TEST_ASSERT_NOT_NULL(m[i], "mbuf %u", i);
	/* The IPv4 checksum of frame 0 as it must arrive. */
	sent[0][14 + 10] = sent[0][14 + 11] = 0;
	i = ref_fold(ref_sum(sent[0] + 14, 20, 0));
	sent[0][14 + 10] = i >> 8;
	sent[0][14 + 11] = i & 0xff;

	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 3), 3, "taken");
	TEST_ASSERT_EQUAL(guest_frames(got, gbuf, 4), 3, "three frames");
	for (i = 0; i < 3; i++) {
		TEST_ASSERT_EQUAL(got[i].len, (int)b[i].len, "frame %u length", i);
		TEST_ASSERT_BUFFERS_ARE_EQUAL(gbuf[i], sent[i], b[i].len, "frame %u bytes", i);
	}
	TEST_ASSERT_EQUAL(got[0].flags, NETRXF_csum_blank | NETRXF_data_validated, "TX_TCP_CKSUM");
	TEST_ASSERT_EQUAL(got[1].flags, NETRXF_data_validated, "RX_L4_CKSUM_GOOD");
	TEST_ASSERT_EQUAL(got[2].flags & ~NETRXF_more_data,
		NETRXF_csum_blank | NETRXF_data_validated, "RX_L4_CKSUM_NONE");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()) + tg_in_use(tg_small_pool()), 0, "mbufs freed");
	return TEST_SUCCESS;
}

/*
 * A guest that did not negotiate checksum offload (for that IP version)
 * never gets a blank checksum: xnb completes it, over chains and slots,
 * IPv6 and UDP included (FreeBSD xnb(4)'s BUGS and CAVEATS).
 */
static int
test_tx_csum_software(void)
{
	static const struct {
		int ipv6, proto, vlans, ext;
		size_t payload;
		uint64_t ol;
	} cases[] = {
		{ 1, IPPROTO_UDP, 0, 1, 9000 - 100, RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM },
		{ 0, IPPROTO_UDP, 1, 0, 5000, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM },
		{ 1, IPPROTO_TCP, 2, 0, 1400, RTE_MBUF_F_RX_L4_CKSUM_NONE },
		{ 0, IPPROTO_TCP, 0, 0, 33, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM },
	};
	struct rte_mbuf *m[RTE_DIM(cases)];
	struct got got[RTE_DIM(cases)];
	struct built b[RTE_DIM(cases)];
	unsigned int i, csum6;

	for (csum6 = 0; csum6 < 2; csum6++) {
		/* csum6: IPv6 blank is fine, IPv4 is not. */
		guest_offloads(false, csum6 == 1, false, false);
		tg_rx_post(&g, 16);
		for (i = 0; i < RTE_DIM(cases); i++) {
			build(&b[i], cases[i].ipv6, cases[i].proto, cases[i].vlans, cases[i].ext,
				cases[i].payload);
			m[i] = tx_mbuf(b[i].len, cases[i].ol, 0, 0, 0, 0, true);
			TEST_ASSERT_NOT_NULL(m[i], "mbuf");
		}
		TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, RTE_DIM(cases)), RTE_DIM(cases), "taken");
		TEST_ASSERT_EQUAL(guest_frames(got, gbuf, RTE_DIM(cases)), RTE_DIM(cases), "frames");
		for (i = 0; i < RTE_DIM(cases); i++) {
			build(&b[i], cases[i].ipv6, cases[i].proto, cases[i].vlans, cases[i].ext,
				cases[i].payload);
			TEST_ASSERT_EQUAL(got[i].len, (int)b[i].len, "frame %u length", i);
			if (cases[i].ipv6 && csum6) {
				TEST_ASSERT_EQUAL(got[i].flags & NETRXF_csum_blank, NETRXF_csum_blank,
					"frame %u blank for a guest that takes IPv6's", i);
				continue;
			}
			TEST_ASSERT_EQUAL(got[i].flags & (NETRXF_csum_blank | NETRXF_data_validated),
				0, "frame %u: no flags", i);
			TEST_ASSERT_EQUAL(csum_at(gbuf[i], b[i].csum_off), b[i].expect,
				"frame %u checksum completed", i);
			memcpy(frame + b[i].csum_off, gbuf[i] + b[i].csum_off, 2);
			TEST_ASSERT_BUFFERS_ARE_EQUAL(gbuf[i], frame, b[i].len, "frame %u bytes", i);
		}
	}
	return TEST_SUCCESS;
}

/* TSO to a guest that negotiated GSO: one super-frame with the GSO extra slot. */
static int
test_tx_tso_gso(void)
{
	struct rte_mbuf *m[2];
	struct got got[2];
	struct built b;
	uint32_t phdr;
	unsigned int ipv6;

	for (ipv6 = 0; ipv6 < 2; ipv6++) {
		guest_offloads(true, true, true, true);
		tg_rx_post(&g, 32);
		build(&b, ipv6, IPPROTO_TCP, 0, 0, 40000);
		m[0] = tx_mbuf(b.len, RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
			(ipv6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM),
			14, ipv6 ? 40 : 20, 20, 1448, false);
		TEST_ASSERT_NOT_NULL(m[0], "mbuf");
		TEST_ASSERT_EQUAL(xnb_tx_prepare(&g.q->tx, m, 1), 1, "prepared");
		TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 1), 1, "taken");
		TEST_ASSERT_EQUAL(guest_frames(got, gbuf, 2), 1, "one frame");
		TEST_ASSERT_EQUAL(got[0].len, (int)b.len, "whole");
		TEST_ASSERT((got[0].flags & (NETRXF_csum_blank | NETRXF_data_validated |
			NETRXF_extra_info)) == (NETRXF_csum_blank | NETRXF_data_validated |
			NETRXF_extra_info), "flags 0x%x", got[0].flags);
		TEST_ASSERT_EQUAL(got[0].gso.type, XEN_NETIF_EXTRA_TYPE_GSO, "GSO extra");
		TEST_ASSERT_EQUAL(g.q->tx.stats.gso, ipv6 + 1, "counted");
		TEST_ASSERT_EQUAL(got[0].gso.u.gso.size, 1448, "gso size");
		TEST_ASSERT_EQUAL(got[0].gso.u.gso.type,
			ipv6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4, "gso type");
		/* Linux's partial sum of a GSO frame: its whole L4 length. */
		phdr = ref_phdr(gbuf[0], 14, ipv6, IPPROTO_TCP, (uint32_t)(b.len - 14 -
			(ipv6 ? 40 : 20)));
		TEST_ASSERT_EQUAL(csum_at(gbuf[0], b.csum_off), (uint16_t)~ref_fold(phdr),
			"pseudo-header sum");
		memcpy(frame + b.csum_off, gbuf[0] + b.csum_off, 2);
		if (!ipv6)
			memcpy(frame + 14 + 10, gbuf[0] + 14 + 10, 2);
		TEST_ASSERT_BUFFERS_ARE_EQUAL(gbuf[0], frame, b.len, "bytes");
		if (!ipv6)
			TEST_ASSERT_EQUAL(ref_fold(ref_sum(gbuf[0] + 14, 20, 0)), 0, "IP checksum");
	}
	return TEST_SUCCESS;
}

/* TSO to a guest without GSO: MSS-sized frames made here, checksums blank or done. */
static int
test_tx_tso_software(void)
{
	struct rte_mbuf *m[2];
	struct got got[40];
	struct built b;
	unsigned int n, k, csum, ipv6;
	size_t hlen;

	for (ipv6 = 0; ipv6 < 2; ipv6++) {
		for (csum = 0; csum < 2; csum++) {
			guest_offloads(csum, csum, false, false);
			tg_rx_post(&g, 40);
			build(&b, ipv6, IPPROTO_TCP, 1, 0, 20000);
			frame[18 + (ipv6 ? 40 : 20) + 13] = 0x19;   /* FIN|PSH|ACK */
			hlen = 18 + (ipv6 ? 40 : 20) + 20;
			m[0] = tx_mbuf(b.len, RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM |
				(ipv6 ? RTE_MBUF_F_TX_IPV6 :
				 RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM),
				18, ipv6 ? 40 : 20, 20, 1000, true);
			TEST_ASSERT_NOT_NULL(m[0], "mbuf");
			TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 1), 1, "taken");
			n = guest_frames(got, gbuf, RTE_DIM(got));
			TEST_ASSERT_EQUAL(n, 20, "frames (v6 %u csum %u)", ipv6, csum);
			for (k = 0; k < n; k++) {
				TEST_ASSERT_EQUAL(got[k].gso.type, XEN_NETIF_EXTRA_TYPE_NONE, "no GSO");
				TEST_ASSERT_EQUAL(got[k].flags & NETRXF_csum_blank,
					csum ? NETRXF_csum_blank : 0, "frame %u flags", k);
				if (check_segment(gbuf[k], got[k].len, k, n, &b, ipv6, 18, hlen, 1000,
						csum) != TEST_SUCCESS)
					return TEST_FAILED;
			}
		}
	}
	TEST_ASSERT_EQUAL(tg_in_use(tg_small_pool()), 0, "mbufs freed");
	TEST_ASSERT_EQUAL(g.q->tx.stats.tso_segments, 4 * 20, "counted");
	TEST_ASSERT_EQUAL(g.q->tx.stats.gso, 0, "no GSO slot");
	return TEST_SUCCESS;
}

/*
 * Guest to guest through an application that forwards untouched: a GSO
 * super-frame taken as LRO goes back out as the same GSO super-frame,
 * never segmented, its checksum still blank.
 */
static int
test_gso_forwarded(void)
{
	struct rte_mbuf *m[4];
	struct got got[2];
	struct built b;
	uint8_t *sent;
	unsigned int i;

	rx_config(true, true, true);
	guest_offloads(true, true, true, true);
	build(&b, 0, IPPROTO_TCP, 0, 0, 64000);
	i = ref_fold(ref_sum(frame + 14, 20, 0));   /* as a guest sends it */
	frame[14 + 10] = i >> 8;
	frame[14 + 11] = i & 0xff;
	sent = malloc(b.len);
	TEST_ASSERT_NOT_NULL(sent, "malloc");
	memcpy(sent, frame, b.len);
	send_frame(b.len, NETTXF_csum_blank | NETTXF_data_validated, XEN_NETIF_GSO_TYPE_TCPV4,
		1448, 2048);
	TEST_ASSERT_EQUAL(xnb_rx_burst(&g.q->rx, m, 4), 1, "one LRO frame");
	tg_rx_post(&g, 32);
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, m, 1), 1, "forwarded");
	TEST_ASSERT_EQUAL(guest_frames(got, gbuf, 2), 1, "one frame");
	TEST_ASSERT_EQUAL(got[0].len, (int)b.len, "whole");
	TEST_ASSERT_EQUAL(got[0].gso.u.gso.size, 1448, "GSO kept");
	TEST_ASSERT(got[0].flags & NETRXF_csum_blank, "checksum still blank");
	TEST_ASSERT(memcmp(gbuf[0], sent, b.len) == 0, "byte for byte");
	free(sent);
	return TEST_SUCCESS;
}

/* Give the IPv4 frame built in frame[] (no VLAN) 4 bytes of IP options. */
static void
add_ipv4_options(struct built *b)
{
	size_t l3 = 14;
	uint16_t tot;

	memmove(frame + l3 + 24, frame + l3 + 20, b->len - l3 - 20);
	memcpy(frame + l3 + 20, "\x01\x01\x01\x00", 4);   /* NOP NOP NOP EOL */
	frame[l3] = 0x46;
	tot = (uint16_t)((frame[l3 + 2] << 8 | frame[l3 + 3]) + 4);
	frame[l3 + 2] = tot >> 8;
	frame[l3 + 3] = tot & 0xff;
	b->len += 4;
	b->csum_off += 4;   /* options are not in the pseudo-header: same sum */
}

/* IPv4 options: checksums completed behind them, on rx and on tx. */
static int
test_csum_ipv4_options(void)
{
	static const int protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	struct got got[1];
	struct rte_mbuf *m;
	struct built b;
	unsigned int i;

	for (i = 0; i < RTE_DIM(protos); i++) {
		build(&b, 0, protos[i], 0, 0, 999);
		add_ipv4_options(&b);
		if (complete_and_check(&b, protos[i] == IPPROTO_TCP ? "tcp4 options" :
				"udp4 options") != TEST_SUCCESS)
			return TEST_FAILED;
		/* Towards a guest without checksum offload: completed by tx. */
		guest_offloads(false, false, false, false);
		tg_rx_post(&g, 1);
		m = tx_mbuf(b.len, RTE_MBUF_F_TX_IPV4 | (protos[i] == IPPROTO_TCP ?
			RTE_MBUF_F_TX_TCP_CKSUM : RTE_MBUF_F_TX_UDP_CKSUM), 14, 24, 0, 0, true);
		TEST_ASSERT_NOT_NULL(m, "mbuf");
		TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "sent");
		TEST_ASSERT_EQUAL(guest_frames(got, gbuf, 1), 1, "one frame");
		TEST_ASSERT_EQUAL(got[0].len, (int)b.len, "length");
		TEST_ASSERT_EQUAL(csum_at(gbuf[0], b.csum_off), b.expect, "tx: completed");
	}
	return TEST_SUCCESS;
}

/* tx_pkt_prepare refuses what xnb cannot do, and prepares the rest. */
static int
test_tx_prepare(void)
{
	struct rte_mbuf *m[3];
	struct built b;
	uint16_t n;

	build(&b, 0, IPPROTO_TCP, 0, 0, 100);
	frame[b.csum_off] = frame[b.csum_off + 1] = 0;
	m[0] = tx_mbuf(b.len, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM, 14, 20, 20, 0, false);
	m[1] = tx_mbuf(b.len, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_SCTP_CKSUM, 14, 20, 20, 0, false);
	m[2] = tx_mbuf(b.len, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_SEG,
		14, 20, 20, 0, false);
	TEST_ASSERT(m[0] != NULL && m[1] != NULL && m[2] != NULL, "mbufs");
	n = xnb_tx_prepare(&g.q->tx, m, 2);
	TEST_ASSERT_EQUAL(n, 1, "stops at SCTP");
	TEST_ASSERT_EQUAL(rte_errno, ENOTSUP, "ENOTSUP");
	TEST_ASSERT_EQUAL(csum_at(rte_pktmbuf_mtod(m[0], uint8_t *), b.csum_off),
		(uint16_t)~ref_fold(ref_phdr(frame, 14, 0, IPPROTO_TCP, b.len - 34)),
		"pseudo-header sum prepared");
	n = xnb_tx_prepare(&g.q->tx, &m[2], 1);
	TEST_ASSERT_EQUAL(n, 0, "TSO without tso_segsz");
	TEST_ASSERT_EQUAL(rte_errno, EINVAL, "EINVAL");
	rte_pktmbuf_free_bulk(m, 3);
	return TEST_SUCCESS;
}

/*
 * An SCTP checksum request that skipped tx_pkt_prepare: not a checksum
 * netif can leave blank, so dropped and counted, never sent blank.
 */
static int
test_tx_sctp_dropped(void)
{
	struct rte_mbuf *m;
	struct built b;
	uint64_t err0;

	guest_offloads(true, true, true, true);
	tg_rx_post(&g, 4);
	build(&b, 0, IPPROTO_SCTP, 0, 0, 100);
	m = tx_mbuf(b.len, RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_SCTP_CKSUM, 14, 20, 0, 0, false);
	TEST_ASSERT_NOT_NULL(m, "mbuf");
	err0 = g.q->tx.stats.errors;
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "taken");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, err0 + 1, "dropped and counted");
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "nothing reached the guest");
	return TEST_SUCCESS;
}

/*
 * TSO whose segments could not be netif frames (an MSS near 64 KiB, from
 * an mbuf over 64 KiB) towards a guest without GSO: dropped and counted,
 * never a frame over 16 slots.
 */
static int
test_tx_tso_mss_too_large(void)
{
	struct rte_mbuf *m, *tail;
	struct built b;
	uint64_t err0;

	guest_offloads(true, true, false, false);
	tg_rx_post(&g, 40);
	build(&b, 0, IPPROTO_TCP, 0, 0, 60000);
	m = tx_mbuf(b.len, RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM,
		14, 20, 20, 65500, false);
	tail = tx_mbuf(b.len, 0, 0, 0, 0, 0, false);
	TEST_ASSERT(m != NULL && tail != NULL, "mbufs");
	TEST_ASSERT_SUCCESS(rte_pktmbuf_chain(m, tail), "a 120 KB TSO mbuf");
	err0 = g.q->tx.stats.errors;
	TEST_ASSERT_EQUAL(xnb_tx_burst(&g.q->tx, &m, 1), 1, "taken");
	TEST_ASSERT_EQUAL(g.q->tx.stats.errors, err0 + 1, "dropped and counted");
	TEST_ASSERT_EQUAL(tg_rx_pending(&g), 0, "nothing reached the guest");
	TEST_ASSERT_EQUAL(tg_in_use(tg_pool()), 0, "freed");
	return TEST_SUCCESS;
}

static struct unit_test_suite offload_suite = {
	.suite_name = "offload",
	.unit_test_cases = {
		TEST_CASE(test_csum_cases),
		TEST_CASE(test_csum_hostile),
		TEST_CASE(test_parse_fast_agrees),
		TEST_CASE_ST(setup, teardown, test_rx_burst_csum),
		TEST_CASE_ST(setup, teardown, test_rx_csum_policy),
		TEST_CASE_ST(setup, teardown, test_rx_ip_csum),
		TEST_CASE_ST(setup, teardown, test_rx_csum_mixed_burst),
		TEST_CASE_ST(setup, teardown, test_rx_blank_guess),
		TEST_CASE_ST(setup, teardown, test_rx_fragments),
		TEST_CASE_ST(setup, teardown, test_rx_gso_segmented),
		TEST_CASE_ST(setup, teardown, test_rx_gso_lro),
		TEST_CASE_ST(setup, teardown, test_rx_gso_hostile),
		TEST_CASE_ST(setup, teardown, test_rx_offload_random),
		TEST_CASE_ST(setup, teardown, test_tx_csum_flags),
		TEST_CASE_ST(setup, teardown, test_tx_csum_software),
		TEST_CASE_ST(setup, teardown, test_tx_tso_gso),
		TEST_CASE_ST(setup, teardown, test_tx_tso_software),
		TEST_CASE_ST(setup, teardown, test_gso_forwarded),
		TEST_CASE_ST(setup, teardown, test_tx_prepare),
		TEST_CASE_ST(setup, teardown, test_tx_tso_mss_too_large),
		TEST_CASE_ST(setup, teardown, test_tx_sctp_dropped),
		TEST_CASE_ST(setup, teardown, test_csum_ipv4_options),
		TEST_CASES_END()
	}
};

REGISTER_TEST_SUITE(offload_suite);
