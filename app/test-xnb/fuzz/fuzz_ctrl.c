/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * fuzz-ctrl: what a frontend puts on its control ring (netif.h's
 * control requests: any type, any parameters, grant references of every
 * kind for the key and the mapping, page contents) and its indices,
 * through the production code: xnb_ctrl_serve() and xnb_ctrl_request()
 * over the unit suites' test guest on the simulated platform. The ring
 * page is the harness's own (standing in for the mapped grant), the
 * copies of key and sub-tables go through the checked copy op.
 *
 * Input: a header, then a program.
 *   header: u8 queues the frontend connected (1-8), u32 the ring's start index.
 *   actions (u8 op % OP_COUNT):
 *     REQ    u16 id, u8 type (values past the known types are raw u16s:
 *            type byte >= 0x80 reads a u16), u8 ctl, u32 data[3]
 *            (ctl bit 0: data[0] names a grant kind, fz_gref()): a
 *            request at req_prod_pvt
 *     PUSH   req_prod = req_prod_pvt
 *     PROD   u8 mode, u32 v: req_prod = v (mode odd) or req_prod_pvt + (int16)v
 *     PAGE   u32 gref pick, u16 off, u8 n, n bytes: written into the page
 *            a buffer grant names (a key, a mapping)
 *     SERVE  u8 budget (0: 1)
 *     RESET  u8 queues, u32 start: a new connection, netif.h's defaults
 *
 * Checks, beyond ASan and UBSan: a serve answers at most its budget, or
 * says -EPROTO once for indices that break the ring and then answers
 * nothing; every response published answers the request the harness
 * wrote at that index, in order, with a known status, and the data
 * GET_HASH_FLAGS and GET_HASH_MAPPING_SIZE promise (0 otherwise); no
 * response past what was published; the configuration stays one xnb
 * can use: algorithm NONE or Toeplitz, known hash types, a table of at
 * most 128 entries each naming a connected queue.
 */

#include <errno.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_guest.h"
#include "xnb_ctrl.h"
#include "xnb_xen.h"

enum {
	OP_REQ,
	OP_PUSH,
	OP_PROD,
	OP_PAGE,
	OP_SERVE,
	OP_RESET,
	OP_COUNT,
};

static struct test_guest g;
static struct xnb_evtchn *evtchn;
static struct xnb_ctrl c;
static uint8_t ring_page[XNB_PAGE_SIZE] __attribute__((aligned(XNB_PAGE_SIZE)));

static struct {
	xen_netif_ctrl_front_ring_t front;
	/* Each slot as it was before the last serve: what its response must answer. */
	struct xen_netif_ctrl_request req[XNB_PAGE_SIZE / sizeof(struct xen_netif_ctrl_request)];
	RING_IDX checked;          /* responses checked up to here */
	bool broken;
} st;

#define NREQ RTE_DIM(st.req)

static void
ctrl_reset(uint16_t nq, RING_IDX start)
{
	xen_netif_ctrl_sring_t *s = (xen_netif_ctrl_sring_t *)ring_page;

	memset(&c, 0, sizeof(c));
	c.epfd = -1;
	/* The sim's own copy: the checked one admits only mbufs as destinations. */
	c.ops = &xnb_xen_sim_ops;
	c.xen = g.q->xen;
	c.domid = g.q->domid;
	c.nb_queues = nq;
	c.evtchn = evtchn;
	c.port = -1;
	memset(ring_page, 0, sizeof(ring_page));
	SHARED_RING_INIT(s);
	s->req_prod = start;
	s->rsp_prod = start;
	s->req_event = start + 1;
	s->rsp_event = start + 1;
	BACK_RING_ATTACH(&c.ring, s, start, XNB_PAGE_SIZE);
	FRONT_RING_ATTACH(&st.front, s, start, XNB_PAGE_SIZE);
	c.page = ring_page;
	c.connected = true;
	st.checked = start;
	st.broken = false;
	fz_pages_clean(&g);
}

static void
check_config(void)
{
	const struct xnb_hash *h = &c.hash;
	uint32_t i;

	FZ_CHECK(h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE ||
		h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, "algorithm %u", h->alg);
	FZ_CHECK((h->types & ~(uint32_t)XNB_HASH_TYPES) == 0, "types 0x%x", h->types);
	FZ_CHECK(h->size <= XNB_HASH_MAPPING_MAX, "size %u", h->size);
	for (i = 0; i < h->size; i++)
		FZ_CHECK(h->mapping[i] < c.nb_queues, "entry %u: queue %u of %u", i,
			h->mapping[i], c.nb_queues);
	for (i = h->size; i < XNB_HASH_MAPPING_MAX; i++)
		FZ_CHECK(h->mapping[i] == 0, "entry %u past the table: %u", i, h->mapping[i]);
}

static void
check_responses(void)
{
	const xen_netif_ctrl_sring_t *s = (const xen_netif_ctrl_sring_t *)ring_page;
	const struct xen_netif_ctrl_response *rsp;
	const struct xen_netif_ctrl_request *req;
	RING_IDX prod = s->rsp_prod, i;

	FZ_CHECK(prod == c.ring.rsp_prod_pvt, "rsp_prod %u, pushed %u", prod,
		c.ring.rsp_prod_pvt);
	FZ_CHECK(prod - st.checked <= NREQ, "%u responses at once", prod - st.checked);
	for (i = st.checked; i != prod; i++) {
		rsp = RING_GET_RESPONSE(&st.front, i);
		req = &st.req[i % NREQ];
		FZ_CHECK(rsp->id == req->id && rsp->type == req->type,
			"response %u: id %u type %u for request id %u type %u", i, rsp->id,
			rsp->type, req->id, req->type);
		FZ_CHECK(rsp->status <= XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, "status %u",
			rsp->status);
		if (rsp->status == XEN_NETIF_CTRL_STATUS_SUCCESS &&
				req->type == XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS)
			FZ_CHECK(rsp->data == XNB_HASH_TYPES, "flags data %u", rsp->data);
		else if (rsp->status == XEN_NETIF_CTRL_STATUS_SUCCESS &&
				req->type == XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE)
			FZ_CHECK(rsp->data == XNB_HASH_MAPPING_MAX, "size data %u", rsp->data);
		else
			FZ_CHECK(rsp->data == 0, "type %u: data %u", req->type, rsp->data);
		FZ_CHECK(req->type <= XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM ||
			rsp->status == XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED,
			"type %u answered %u", req->type, rsp->status);
	}
	st.checked = prod;
}

static void
op_req(struct fz_in *in)
{
	struct xen_netif_ctrl_request r;
	uint8_t t, ctl;
	int pfn;

	r.id = fz_u16(in);
	t = fz_u8(in);
	r.type = t < 0x80 ? t % (XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING + 1) : fz_u16(in);
	ctl = fz_u8(in);
	r.data[0] = fz_u32(in);
	r.data[1] = fz_u32(in);
	r.data[2] = fz_u32(in);
	if (ctl & 1)
		r.data[0] = fz_gref(&g, r.data[0], &pfn);
	memcpy(RING_GET_REQUEST(&st.front, st.front.req_prod_pvt), &r, sizeof(r));
	st.front.req_prod_pvt++;
}

static void
op_page(struct fz_in *in)
{
	uint8_t buf[255];
	uint32_t off;
	uint8_t n;
	int pfn;

	fz_gref(&g, fz_u32(in), &pfn);
	off = fz_u16(in);
	n = fz_u8(in);
	fz_bytes(in, buf, n);
	if (pfn >= 0)
		fz_page_write(&g, pfn, off, buf, n);
}

static void
op_serve(struct fz_in *in)
{
	unsigned int budget = fz_u8(in);
	RING_IDX before = c.ring.rsp_prod_pvt, i;
	unsigned int k;
	bool more;
	int n;

	if (budget == 0)
		budget = 1;
	/*
	 * What the backend will take is what the slots hold now, whatever
	 * the harness wrote (req_prod may point past it): response i must
	 * answer slot i as it is before the serve.
	 */
	for (k = 0; k < NREQ; k++) {
		i = c.ring.req_cons + k;
		memcpy(&st.req[i % NREQ], RING_GET_REQUEST(&st.front, i), sizeof(st.req[0]));
	}
	n = xnb_ctrl_serve(&c, budget, &more);
	if (n == -EPROTO) {
		FZ_CHECK(!st.broken, "-EPROTO said twice");
		st.broken = true;
	} else {
		FZ_CHECK(n >= 0 && (unsigned int)n <= budget, "served %d of budget %u", n,
			budget);
		FZ_CHECK(c.ring.rsp_prod_pvt - before == (RING_IDX)n, "%d served, %u answered",
			n, c.ring.rsp_prod_pvt - before);
		FZ_CHECK(!st.broken || n == 0, "a broken ring answered %d", n);
	}
	check_responses();
	check_config();
}

static void
run(struct fz_in *in)
{
	const xen_netif_ctrl_sring_t *s = (const xen_netif_ctrl_sring_t *)ring_page;
	uint8_t mode;
	uint32_t v;

	ctrl_reset((uint16_t)(fz_u8(in) % XNB_MAX_QUEUES + 1), fz_u32(in));
	while (fz_more(in)) {
		switch (fz_u8(in) % OP_COUNT) {
		case OP_REQ:
			op_req(in);
			break;
		case OP_PUSH:
			RING_PUSH_REQUESTS(&st.front);
			break;
		case OP_PROD:
			mode = fz_u8(in);
			v = fz_u32(in);
			__atomic_store_n(&((xen_netif_ctrl_sring_t *)ring_page)->req_prod,
				(mode & 1) ? v : st.front.req_prod_pvt + (int16_t)v,
				__ATOMIC_RELEASE);
			break;
		case OP_PAGE:
			op_page(in);
			break;
		case OP_SERVE:
			op_serve(in);
			break;
		case OP_RESET:
			mode = fz_u8(in);
			ctrl_reset((uint16_t)(mode % XNB_MAX_QUEUES + 1), fz_u32(in));
			break;
		}
	}
	RTE_SET_USED(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
	struct fz_in in = { d, size };

	run(&in);
	return 0;
}

/* --- Seeds --- */

static struct fz_out o;

static void
s_req(uint16_t id, uint8_t type, uint8_t ctl, uint32_t d0, uint32_t d1, uint32_t d2)
{
	fz_put8(&o, OP_REQ);
	fz_put16(&o, id);
	fz_put8(&o, type);
	fz_put8(&o, ctl);
	fz_put32(&o, d0);
	fz_put32(&o, d1);
	fz_put32(&o, d2);
}

static void
s_page(uint32_t gref, uint16_t off, const void *p, uint8_t n)
{
	fz_put8(&o, OP_PAGE);
	fz_put32(&o, gref);
	fz_put16(&o, off);
	fz_put8(&o, n);
	fz_put(&o, p, n);
}

static void
s_serve(uint8_t budget)
{
	fz_put8(&o, OP_PUSH);
	fz_put8(&o, OP_SERVE);
	fz_put8(&o, budget);
}

static void
make_seeds(const char *dir)
{
	static const uint8_t key[40] = { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2 };
	static const uint32_t map[8] = { 0, 1, 1, 0, 1, 0, 0, 1 };
	const uint32_t buf0 = 0;          /* fz_gref kind 0: guest-tx buffer 0 */
	const uint32_t buf1 = 1;

	/* A Windows-like configuration, one request per serve. */
	o.n = 0;
	fz_put8(&o, 1);
	fz_put32(&o, 0);
	s_page(buf0, 0, key, sizeof(key));
	s_page(buf1, 0, map, sizeof(map));
	s_req(1, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, 0);
	s_serve(64);
	s_req(2, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 0, 1, 0, 0);
	s_req(3, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0, 0xf, 0, 0);
	s_req(4, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 1, buf0, 40, 0);
	s_req(5, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, 0);
	s_req(6, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 0, 8, 0, 0);
	s_req(7, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, buf1, 8, 0);
	s_serve(64);
	fz_seed_write(dir, "configure", &o);

	/* XSA-270: offsets and lengths that wrap or pass the table. */
	o.n = 0;
	fz_put8(&o, 3);
	fz_put32(&o, 0xfffffff0);
	s_page(buf1, 0, map, sizeof(map));
	s_req(1, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 0, 128, 0, 0);
	s_req(2, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, buf1, 2, 0xffffffff);
	s_req(3, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, buf1, 0xffffffff, 2);
	s_req(4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, buf1, 8, 124);
	s_req(5, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 1, buf0, 4096, 0);
	s_req(6, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 1, 3u << 24, 8, 0);
	s_serve(3);
	s_serve(64);
	fz_seed_write(dir, "xsa270", &o);

	/* Indices that break the ring, then a reset. */
	o.n = 0;
	fz_put8(&o, 0);
	fz_put32(&o, 0);
	s_req(1, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, 0);
	fz_put8(&o, OP_PROD);
	fz_put8(&o, 1);
	fz_put32(&o, 5000);
	fz_put8(&o, OP_SERVE);
	fz_put8(&o, 64);
	s_serve(64);
	fz_put8(&o, OP_RESET);
	fz_put8(&o, 1);
	fz_put32(&o, 7);
	/* A type past the known ones, raw. */
	fz_put8(&o, OP_REQ);
	fz_put16(&o, 1);
	fz_put8(&o, 0x80);
	fz_put16(&o, 0xffff);
	fz_put8(&o, 0);
	fz_put32(&o, 0);
	fz_put32(&o, 0);
	fz_put32(&o, 0);
	s_serve(64);
	fz_seed_write(dir, "broken-indices", &o);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_make_seeds_if_asked(make_seeds);
	fz_eal_init((*argv)[0]);
	fz_guest_init(&g);
	evtchn = g.q->ops->evtchn_open(g.q->xen);
	FZ_CHECK(evtchn != NULL, "an event channel handle");
	RTE_SET_USED(argc);
	return 0;
}
