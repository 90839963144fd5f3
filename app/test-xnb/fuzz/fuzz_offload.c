/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * fuzz-offload: the header parser and checksum/GSO helpers both
 * datapaths use (xnb_offload.c, xnb_offload.h), over arbitrary frames in
 * arbitrary mbuf chains.
 *
 * Input: u8 flags, u32 frame_len for xnb_hdr_parse_len() (a GSO frame's
 * length when the chain holds only its headers), u8 chain (segments),
 * u16 gso_size, u8 gso_type, u8 segment index, then up to 7 u16 segment
 * sizes, then the frame's bytes (the rest of the input).
 *
 * Checks, beyond ASan and UBSan:
 *  - the fast parse and the general parse agree wherever the fast one
 *    takes a frame (xnb_hdr_parse_fast() against xnb_hdr_parse_len());
 *  - a parsed header holds together: lengths within the frame, L4
 *    header within the datagram;
 *  - a completed checksum verifies (summed here independently), and
 *    equals the one xnb_csum_split() computes from a header copy;
 *  - a GSO segment's header (xnb_gso_seg_header()) parses again with
 *    the segment's lengths and a good IPv4 header checksum;
 *  - the parse only reads: the chain's bytes are unchanged by it.
 */

#include <string.h>
#include <netinet/in.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "fuzz_common.h"
#include "test_common.h"
#include "xnb_netif.h"
#include "xnb_offload.h"

#define MAX_FRAME 9216
#define MAX_SEGS 8

static struct rte_mempool *pool;

/* A chain holding data[0..len) cut at the given sizes (the last takes the rest). */
static struct rte_mbuf *
make_chain(const uint8_t *data, uint32_t len, const uint16_t *sizes, unsigned int nsizes)
{
	struct rte_mbuf *head = NULL, *tail = NULL, *m;
	uint32_t pos = 0, room, n;
	unsigned int i = 0;

	do {
		m = rte_pktmbuf_alloc(pool);
		FZ_CHECK(m != NULL, "mbuf pool empty");
		room = rte_pktmbuf_tailroom(m);
		n = len - pos;
		if (i < nsizes && sizes[i] < n)
			n = sizes[i];
		if (n > room)
			n = room;
		i++;
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), data + pos, n);
		m->data_len = (uint16_t)n;
		pos += n;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
		}
		tail = m;
	} while (pos < len && head->nb_segs < 64);
	head->pkt_len = pos;
	return head;
}

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

/* The pseudo-header sum of a flat frame f parsed into h, for l4_total bytes. */
static uint32_t
phdr(const uint8_t *f, const struct xnb_hdr *h, uint32_t l4_total)
{
	const uint8_t *ip = f + h->l2_len;
	uint32_t sum;

	if (h->ipv6)
		sum = sum16(ip + 8, 32, 0);
	else
		sum = sum16(ip + 12, 8, 0);
	return sum + h->proto + (l4_total & 0xffff) + (l4_total >> 16);
}

static void
check_hdr(const struct xnb_hdr *h, uint32_t frame_len)
{
	if (h->l3_len == 0)
		return;
	FZ_CHECK(h->l2_len == 14 || h->l2_len == 18 || h->l2_len == 22, "l2_len %u", h->l2_len);
	FZ_CHECK((uint64_t)h->l2_len + h->l3_len + h->l4_total <= frame_len,
		"l2 %u l3 %u l4_total %u frame %u", h->l2_len, h->l3_len, h->l4_total, frame_len);
	FZ_CHECK(h->l4_len <= h->l4_total, "l4_len %u l4_total %u", h->l4_len, h->l4_total);
	if (!h->ipv6)
		FZ_CHECK(h->l3_len >= 20 && h->l3_len <= 60 && h->l3_len % 4 == 0,
			"IPv4 l3_len %u", h->l3_len);
	else
		FZ_CHECK(h->l3_len >= 40 && (h->l3_len - 40) % 8 == 0, "IPv6 l3_len %u",
			h->l3_len);
	if (h->l4_len != 0) {
		FZ_CHECK(!h->frag, "a fragment with an L4 header");
		FZ_CHECK(h->proto == IPPROTO_TCP ? h->l4_len >= 20 && h->l4_len <= 60 :
			h->proto == IPPROTO_UDP && h->l4_len == 8, "proto %u l4_len %u",
			h->proto, h->l4_len);
	}
}

static bool
hdr_equal(const struct xnb_hdr *a, const struct xnb_hdr *b)
{
	return a->ptype == b->ptype && a->l2_len == b->l2_len && a->l3_len == b->l3_len &&
		a->l4_len == b->l4_len && a->l4_total == b->l4_total && a->proto == b->proto &&
		a->ipv6 == b->ipv6 && a->frag == b->frag;
}

/* A GSO segment's header: parses with the segment's own lengths. */
static void
check_gso_segment(const uint8_t *frame, const struct xnb_hdr *h, uint16_t gso_size,
		uint8_t kpick)
{
	uint8_t seg[XNB_GSO_HDR_MAX + 64];
	uint32_t hlen = xnb_hdr_len(h), payload = h->l4_total - h->l4_len, nseg, k, sp;
	struct rte_mbuf *m;
	struct xnb_hdr hs;
	uint16_t c;

	nseg = (payload + gso_size - 1) / gso_size;
	k = kpick % nseg;
	sp = payload - k * gso_size < gso_size ? payload - k * gso_size : gso_size;
	memcpy(seg, frame, hlen);
	xnb_gso_seg_header(seg, h, k, gso_size, sp, k + 1 == nseg);
	/* The segment's header with (up to 64 bytes of) payload behind it. */
	m = rte_pktmbuf_alloc(pool);
	FZ_CHECK(m != NULL, "mbuf");
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), seg, hlen);
	memset(rte_pktmbuf_mtod_offset(m, uint8_t *, hlen), 0x5a, sp < 64 ? sp : 64);
	m->data_len = (uint16_t)(hlen + (sp < 64 ? sp : 64));
	m->pkt_len = m->data_len;
	FZ_CHECK(xnb_hdr_parse_len(m, hlen + sp, &hs) == 0, "segment %u of %u does not parse",
		k, nseg);
	FZ_CHECK(hs.l2_len == h->l2_len && hs.l3_len == h->l3_len && hs.l4_len == h->l4_len &&
		hs.l4_total == h->l4_len + sp && hs.ipv6 == h->ipv6 && hs.proto == IPPROTO_TCP,
		"segment %u header: l4_total %u, want %u", k, hs.l4_total, h->l4_len + sp);
	if (!h->ipv6)
		FZ_CHECK(fold(sum16(seg + h->l2_len, h->l3_len, 0)) == 0xffff,
			"segment %u: bad IPv4 header checksum", k);
	/* Its TCP checksum field: the segment's pseudo-header sum. */
	memcpy(&c, seg + xnb_hdr_csum_off(h), 2);
	FZ_CHECK(c == xnb_phdr_sum(seg, &hs), "segment %u: pseudo-header sum", k);
	rte_pktmbuf_free(m);
}

static void
run(struct fz_in *in)
{
	static uint8_t frame[MAX_FRAME], flat[MAX_FRAME], before[MAX_FRAME];
	uint8_t flags = fz_u8(in), chain = fz_u8(in), gso_type = fz_u8(in), kpick = fz_u8(in);
	uint32_t frame_len = fz_u32(in), len, l4_off, want, l4;
	uint16_t sizes[MAX_SEGS], gso_size = fz_u16(in), csum, csum2;
	unsigned int nsizes = chain % MAX_SEGS, i;
	struct xnb_hdr hf, hg, h;
	struct rte_mbuf *m;
	bool fast, guess_ok;
	int ret, ret2;

	for (i = 0; i < nsizes; i++)
		sizes[i] = fz_u16(in);
	len = (uint32_t)fz_bytes(in, frame, in->n < MAX_FRAME ? in->n : MAX_FRAME);
	m = make_chain(frame, len, sizes, nsizes);
	len = m->pkt_len;

	/* The fast parse and the general one agree. */
	fast = xnb_hdr_parse_fast(m, len, &hf);
	ret = xnb_hdr_parse_len(m, len, &hg);
	if (fast) {
		FZ_CHECK(ret == 0 && hdr_equal(&hf, &hg),
			"fast parse: l3 %u l4 %u total %u proto %u; general (%d): l3 %u l4 %u total %u proto %u",
			hf.l3_len, hf.l4_len, hf.l4_total, hf.proto, ret, hg.l3_len, hg.l4_len,
			hg.l4_total, hg.proto);
		FZ_CHECK(m->data_len >= XNB_FAST_MIN, "fast parse of a short first mbuf");
	}
	if (m->data_len >= XNB_FAST_MIN && xnb_hdr_fast_tcp4(frame, len) != 0)
		FZ_CHECK(fast && !hf.ipv6 && hf.proto == IPPROTO_TCP && hf.l3_len == 20 &&
			hf.l4_len == xnb_hdr_fast_tcp4(frame, len), "TCP/IPv4 test and fast parse");
	/* The rx fast path's check of a guessed TCP header length, the same way. */
	for (l4 = sizeof(struct rte_tcp_hdr); l4 <= 60; l4 += 4) {
		if (len < XNB_GUESS_MIN(l4))
			continue;
		guess_ok = xnb_hdr_fast_tcp4(frame, len) == l4 &&
			(uint32_t)(frame[16] << 8 | frame[17]) + RTE_ETHER_HDR_LEN == len;
		FZ_CHECK(xnb_hdr_is_tcp4(frame, len, l4) == guess_ok,
			"guess check of %u B of TCP header", l4);
		FZ_CHECK(xnb_hdr_is_tcp4_scalar(frame, len, l4) == guess_ok,
			"scalar guess check of %u B of TCP header", l4);
	}
	ret2 = xnb_hdr_parse(m, &h);
	FZ_CHECK(ret2 == ret && (ret != 0 || hdr_equal(&h, &hg)), "xnb_hdr_parse");
	if (ret == 0)
		check_hdr(&hg, len);
	else
		FZ_CHECK(hg.l3_len == 0, "a failed parse leaves l3_len %u", hg.l3_len);

	/* The length of a frame the chain holds the start of. */
	if (xnb_hdr_parse_len(m, frame_len, &h) == 0)
		check_hdr(&h, frame_len);
	FZ_CHECK(tg_mbuf_read(m, flat, sizeof(flat)) == (int)len &&
		memcmp(flat, frame, len) == 0, "the parse wrote into the frame");

	if (ret == 0 && xnb_hdr_l4_csum_ok(&hg)) {
		h = hg;
		l4_off = (uint32_t)h.l2_len + h.l3_len;
		FZ_CHECK(xnb_hdr_len(&h) <= len, "headers beyond the frame");
		csum = 0;
		ret2 = xnb_hdr_len(&h) <= XNB_GSO_HDR_MAX ?
			xnb_csum_split(frame, &h, m, xnb_hdr_len(&h), h.l4_total - h.l4_len, &csum) :
			-1;
		memcpy(before, frame, len);
		FZ_CHECK(xnb_csum_complete(m, &h) == 0, "checksum of a parsed datagram");
		FZ_CHECK(tg_mbuf_read(m, flat, sizeof(flat)) == (int)len, "chain");
		/* Only the checksum field changed, and it verifies. */
		memcpy(&csum2, flat + xnb_hdr_csum_off(&h), 2);
		memcpy(before + xnb_hdr_csum_off(&h), &csum2, 2);
		FZ_CHECK(memcmp(before, flat, len) == 0, "checksum completion wrote elsewhere");
		want = fold(sum16(flat + l4_off, h.l4_total, phdr(flat, &h, h.l4_total)));
		FZ_CHECK(want == 0xffff || (h.proto == IPPROTO_UDP && csum2 == 0xffff &&
			want == 0xffff), "completed checksum does not verify: sum %#x", want);
		if (ret2 == 0)
			FZ_CHECK(csum == csum2, "xnb_csum_split %#x, xnb_csum_complete %#x",
				csum, csum2);
		FZ_CHECK(xnb_csum_complete_frame(m) == 0, "completing again");
		if (flags & 1) {
			/* The pseudo-header sum a blank checksum holds. */
			csum = xnb_phdr_sum(flat, &h);
			FZ_CHECK(rte_be_to_cpu_16(csum) == fold(phdr(flat, &h, h.l4_total)),
				"pseudo-header sum");
		}
	} else {
		FZ_CHECK(xnb_csum_complete_frame(m) != 0, "completed a frame without a checksum");
		FZ_CHECK(tg_mbuf_read(m, flat, sizeof(flat)) == (int)len &&
			memcmp(flat, frame, len) == 0, "a refused completion wrote");
	}

	/* GSO: the checks of a super-frame, then a segment's header. */
	if (ret == 0 && xnb_gso_check(&hg, gso_type, gso_size, len,
			(flags & 2) ? m->data_len : XNB_GSO_HDR_MAX) == 0) {
		FZ_CHECK(hg.proto == IPPROTO_TCP && xnb_hdr_len(&hg) <= XNB_GSO_HDR_MAX &&
			hg.l4_total > hg.l4_len && gso_size != 0, "xnb_gso_check took a bad frame");
		FZ_CHECK(xnb_hdr_len(&hg) <= len, "GSO headers beyond the frame");
		check_gso_segment(frame, &hg, gso_size, kpick);
	}
	if (ret == 0 && hg.l3_len != 0 && !hg.ipv6 && xnb_hdr_len(&hg) <= len) {
		memcpy(flat, frame, len);
		xnb_ipv4_csum_set(flat, &hg);
		FZ_CHECK(fold(sum16(flat + hg.l2_len, hg.l3_len, 0)) == 0xffff,
			"IPv4 header checksum");
	}
	rte_pktmbuf_free(m);
	FZ_CHECK(tg_in_use(pool) == 0, "mbufs leaked");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	run(&in);
	return 0;
}

/* --- Seeds --- */

static void
seed(const char *dir, const char *name, const struct fz_frame *f, uint8_t flags,
		uint8_t chain, const uint16_t *sizes, uint16_t gso_size, uint8_t gso_type,
		uint32_t frame_len)
{
	static struct fz_out o;
	uint8_t buf[MAX_FRAME];
	size_t n = fz_frame_build(buf, sizeof(buf), f);
	unsigned int i;

	o.n = 0;
	fz_put8(&o, flags);
	fz_put8(&o, chain);
	fz_put8(&o, gso_type);
	fz_put8(&o, 1);
	fz_put32(&o, frame_len != 0 ? frame_len : (uint32_t)n);
	fz_put16(&o, gso_size);
	for (i = 0; i < chain % MAX_SEGS; i++)
		fz_put16(&o, sizes[i]);
	fz_put(&o, buf, n);
	fz_seed_write(dir, name, &o);
}

static void
make_seeds(const char *dir)
{
	static const uint16_t split[] = { 14, 20, 8, 100 };
	static const uint16_t one[] = { 60 };
	const uint8_t V4 = XEN_NETIF_GSO_TYPE_TCPV4, V6 = XEN_NETIF_GSO_TYPE_TCPV6;

	seed(dir, "tcp4", &(struct fz_frame){ .ipv = 4, .proto = IPPROTO_TCP, .payload = 100 },
		1, 0, NULL, 0, 0, 0);
	seed(dir, "tcp4-gso", &(struct fz_frame){ .ipv = 4, .proto = IPPROTO_TCP,
		.payload = 3000, .csum_blank = true }, 0, 0, NULL, 1000, V4, 0);
	seed(dir, "tcp6-gso-ext", &(struct fz_frame){ .ipv = 6, .proto = IPPROTO_TCP,
		.payload = 2000, .ipv6_ext = 2, .tcp_opts = 12 }, 0, 0, NULL, 700, V6, 0);
	seed(dir, "udp4-split", &(struct fz_frame){ .ipv = 4, .proto = IPPROTO_UDP,
		.payload = 300 }, 1, 4, split, 0, 0, 0);
	seed(dir, "udp6", &(struct fz_frame){ .ipv = 6, .proto = IPPROTO_UDP, .payload = 64 },
		1, 0, NULL, 0, 0, 0);
	seed(dir, "tcp4-opts-qinq", &(struct fz_frame){ .ipv = 4, .proto = IPPROTO_TCP,
		.vlans = 2, .ip_opts = 8, .tcp_opts = 12, .payload = 500 }, 0, 1, one, 400, V4, 0);
	seed(dir, "tcp4-vlan-short-first", &(struct fz_frame){ .ipv = 4, .proto = IPPROTO_TCP,
		.vlans = 1, .payload = 1400 }, 2, 1, one, 1000, V4, 0);
	seed(dir, "frag4", &(struct fz_frame){ .ipv = 4, .proto = IPPROTO_UDP, .frag = true,
		.payload = 100 }, 0, 0, NULL, 0, 0, 0);
	seed(dir, "frag6", &(struct fz_frame){ .ipv = 6, .proto = IPPROTO_TCP, .frag = true,
		.payload = 100 }, 0, 0, NULL, 0, 0, 0);
	seed(dir, "icmp4", &(struct fz_frame){ .ipv = 4, .proto = IPPROTO_ICMP, .payload = 56 },
		0, 0, NULL, 0, 0, 0);
	seed(dir, "arp", &(struct fz_frame){ .ipv = 0 }, 0, 0, NULL, 0, 0, 0);
	/* Headers only, of a longer frame (a GSO frame's first slot). */
	seed(dir, "tcp4-headers-of-64k", &(struct fz_frame){ .ipv = 4, .proto = IPPROTO_TCP,
		.payload = 0 }, 0, 0, NULL, 1448, V4, 65000);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_make_seeds_if_asked(make_seeds);
	fz_eal_init((*argv)[0]);
	pool = rte_pktmbuf_pool_create("fz_offload", 1023, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	FZ_CHECK(pool != NULL, "mbuf pool");
	return 0;
}
