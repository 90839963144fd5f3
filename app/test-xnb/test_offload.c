/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Checksum completion of frames a guest sent with NETTXF_csum_blank:
 * TCP and UDP over IPv4 and IPv6 (extension headers, VLAN tags), over
 * mbuf chains split inside the headers, compared with a reference sum
 * computed here byte by byte; hostile headers are refused and leave the
 * frame unchanged; and the rx burst applies it and sets the mbuf flags.
 */

#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "test.h"
#include "test_common.h"
#include "xnb_offload.h"

static struct test_guest g;
static uint8_t frame[9100];
static uint8_t out[9100];

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
	TEST_ASSERT_SUCCESS(xnb_csum_complete(m), "%s: completed", what);
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

/* Hostile or unsuitable headers: refused, and the frame is left as it was. */
static int
refused(size_t len, const char *what)
{
	struct rte_mbuf *m = tg_mbuf(tg_small_pool(), frame, len);
	int n;

	TEST_ASSERT_NOT_NULL(m, "mbuf");
	TEST_ASSERT(xnb_csum_complete(m) != 0, "%s: refused", what);
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

static struct unit_test_suite offload_suite = {
	.suite_name = "offload",
	.unit_test_cases = {
		TEST_CASE(test_csum_cases),
		TEST_CASE(test_csum_hostile),
		TEST_CASE_ST(setup, teardown, test_rx_burst_csum),
		TEST_CASES_END()
	}
};

REGISTER_TEST_SUITE(offload_suite);
