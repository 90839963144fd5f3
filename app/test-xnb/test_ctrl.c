/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Suite "ctrl": the control ring (feature-ctrl-ring) over the simulated
 * platform and xenstored, with the guest emulator as a frontend that
 * configures hashing as Windows' PV drivers do: every message of
 * netif.h, each parameter check (XSA-270's among them) answered
 * INVALID_PARAMETER with the configuration unchanged, unsupported types
 * NOT_SUPPORTED, a full ring answered past the per-kick budget, a
 * frontend whose indices break the ring refused without harm to its
 * queues, and a reconnect starting from netif.h's defaults.
 */

/* netif.h's reference Toeplitz hash, to check xnb's against. */
#define XEN_NETIF_DEFINE_TOEPLITZ

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_bus_vdev.h>
#include <ethdev_driver.h>
#include <rte_ethdev.h>

#include "netfront.h"
#include "test.h"
#include "test_common.h"
#include "test_xenbus_env.h"
#include "xnb_port.h"
#include "xnb_steer.h"

#define WAIT_MS 4000

static int
suite_setup(void)
{
	return env_start("ctrl") == 0 ? TEST_SUCCESS : TEST_FAILED;
}

static void
suite_teardown(void)
{
	env_stop();
}

/* A port offering nq queues to domid and a guest using them with a control ring. */
struct ctrl_vif {
	char name[32];
	int port_id;
	struct netfront *nf;
};

/* v's port: created, its nq queue pairs set up and started. 0 or -1. */
static int
vif_port(struct ctrl_vif *v, uint16_t domid, uint16_t nq)
{
	char args[256];
	uint16_t port_id;

	snprintf(args, sizeof(args), "domid=%u,queues=%u,platform=sim,sim_dir=%s", domid, nq,
		env_sim_dir());
	if (rte_vdev_init(v->name, args) != 0 ||
			rte_eth_dev_get_port_by_name(v->name, &port_id) != 0)
		return -1;
	v->port_id = port_id;
	return env_port_setup_queues(port_id, nq);
}

static int
vif_open(struct ctrl_vif *v, uint16_t domid, uint16_t nq)
{
	struct netfront_conf c;

	v->port_id = -1;
	v->nf = NULL;
	snprintf(v->name, sizeof(v->name), "net_xnb_ctrl%u", domid);
	if (vif_port(v, domid, nq) != 0)
		return -1;
	netfront_conf_init(&c);
	c.sim_dir = env_sim_dir();
	c.domid = domid;
	c.nr_queues = nq;
	c.ctrl_ring = true;
	c.timeout_ms = WAIT_MS;
	c.mac[0] = 0x02;
	c.mac[5] = (uint8_t)domid;
	v->nf = netfront_open(&c);
	if (v->nf == NULL || netfront_connect(v->nf) != 0 || env_wait_link(v->port_id, 1) != 0)
		return -1;
	return v->nf->ctrl ? 0 : -1;
}

static void
vif_close(struct ctrl_vif *v)
{
	if (v->nf != NULL)
		netfront_close(v->nf);
	env_port_destroy(v->port_id, v->name);
}

static const struct xnb_hash *
vif_hash(const struct ctrl_vif *v)
{
	const struct xnb_port *port = rte_eth_devices[v->port_id].data->dev_private;

	return &port->ctrl.hash;
}

/* One request: its status, or -1 when the exchange itself failed. */
static long
ctrl(struct ctrl_vif *v, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
		uint32_t *data)
{
	uint32_t status, d;
	int ret;

	ret = netfront_ctrl(v->nf, type, d0, d1, d2, &status, data != NULL ? data : &d);
	if (ret != 0) {
		fprintf(stderr, "    control request type %u: %s\n", type, strerror(-ret));
		return -1;
	}
	return status;
}

#define OK XEN_NETIF_CTRL_STATUS_SUCCESS
#define INVAL XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER
#define NOTSUP XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED

/* Every message of netif.h, good and bad, and what it leaves configured. */
static int
ctrl_messages(struct ctrl_vif *vp)
{
	static const uint32_t map[4] = { 0, 1, 1, 0 };
	const uint32_t bad_map[2] = { 1, 2 };
	struct ctrl_vif v = *vp;
	const struct xnb_hash *h = vif_hash(&v);
	uint8_t key[XNB_HASH_KEY_MAX + 1];
	uint32_t data, status;
	unsigned int i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);

	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data), OK,
		"GET_HASH_FLAGS");
	TEST_ASSERT_EQUAL(data, XNB_HASH_TYPES, "every type offered");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 1, 0, 0, NULL), INVAL,
		"hash types before an algorithm");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 2, 0, 0, NULL),
		INVAL, "an unknown algorithm");
	TEST_ASSERT_EQUAL(h->alg, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE, "still none");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, NULL), OK, "Toeplitz");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0x10, 0, 0, NULL), INVAL,
		"an unknown hash type");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XNB_HASH_TYPES, 0, 0,
		NULL), OK, "every hash type");
	TEST_ASSERT_EQUAL(h->types, XNB_HASH_TYPES, "types set");

	/* The key: 40 octets, then 41 (too long), a foreign gref, none. */
	TEST_ASSERT(netfront_ctrl_set_key(v.nf, key, XNB_HASH_KEY_MAX, &status) == 0 &&
		status == OK, "a 40-octet key");
	TEST_ASSERT(memcmp(h->key, key, XNB_HASH_KEY_MAX) == 0, "the key copied");
	TEST_ASSERT(netfront_ctrl_set_key(v.nf, key, XNB_HASH_KEY_MAX + 1, &status) == 0 &&
		status == XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW, "a 41-octet key");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0xfffff, 8, 0, NULL),
		INVAL, "a key behind a gref not granted");
	TEST_ASSERT(memcmp(h->key, key, XNB_HASH_KEY_MAX) == 0, "refused keys change nothing");
	TEST_ASSERT(netfront_ctrl_set_key(v.nf, key, 4, &status) == 0 && status == OK,
		"a 4-octet key");
	TEST_ASSERT(memcmp(h->key, key, 4) == 0 && h->key[4] == 0 &&
		h->key[XNB_HASH_KEY_MAX - 1] == 0, "the rest zero");

	/* The mapping: its size, then sub-tables good and bad (XSA-270). */
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, &data),
		OK, "GET_HASH_MAPPING_SIZE");
	TEST_ASSERT_EQUAL(data, XNB_HASH_MAPPING_MAX, "128 entries");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE,
		XNB_HASH_MAPPING_MAX + 1, 0, 0, NULL), INVAL, "129 entries");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 64, 0, 0, NULL),
		OK, "64 entries");
	TEST_ASSERT_EQUAL(h->size, 64, "size set");
	TEST_ASSERT(netfront_ctrl_set_mapping(v.nf, map, 4, 60, &status) == 0 && status == OK,
		"4 entries at 60");
	TEST_ASSERT(memcmp(&h->mapping[60], map, sizeof(map)) == 0, "the entries copied");
	TEST_ASSERT(netfront_ctrl_set_mapping(v.nf, map, 4, 61, &status) == 0 && status == INVAL,
		"4 entries at 61: past the table's 64");
	TEST_ASSERT(netfront_ctrl_set_mapping(v.nf, map, 2, UINT32_MAX, &status) == 0 &&
		status == INVAL, "offset + length wraps (XSA-270)");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING,
		(uint32_t)v.nf->ctrl_map_ref, UINT32_MAX, 1, NULL), INVAL,
		"length + offset wraps (XSA-270)");
	TEST_ASSERT(netfront_ctrl_set_mapping(v.nf, bad_map, 2, 0, &status) == 0 &&
		status == INVAL, "queue 2 of 2 queues");
	TEST_ASSERT_EQUAL(h->mapping[0], 0, "a refused sub-table changes nothing");
	TEST_ASSERT_EQUAL(h->mapping[1], 0, "a refused sub-table changes nothing");
	TEST_ASSERT(memcmp(&h->mapping[60], map, sizeof(map)) == 0, "the good entries stay");
	TEST_ASSERT(netfront_ctrl_set_mapping(v.nf, map, 0, 64, &status) == 0 && status == OK,
		"0 entries at the end");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 16, 0, 0, NULL),
		OK, "a new size");
	TEST_ASSERT(h->size == 16 && h->mapping[60] == 0, "the old table gone");

	/* What xnb does not implement, and what does not exist. */
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE, 0, 0, 0, NULL),
		NOTSUP, "GET_GREF_MAPPING_SIZE");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 0, 0, NULL),
		NOTSUP, "ADD_GREF_MAPPING");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_INVALID, 0, 0, 0, NULL), NOTSUP,
		"type 0");
	TEST_ASSERT_EQUAL(ctrl(&v, 0xffff, 0, 0, 0, NULL), NOTSUP, "type 65535");

	/* Hashing off: the queues carry traffic by their own numbers again. */
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		XEN_NETIF_CTRL_HASH_ALGORITHM_NONE, 0, 0, NULL), OK, "no algorithm");
	for (i = 0; i < 2; i++)
		TEST_ASSERT_SUCCESS(env_check_queue_traffic(v.nf, v.port_id, (uint16_t)i, 200),
			"traffic on queue %u", i);

	/* A reconnect starts from netif.h's defaults. */
	TEST_ASSERT(netfront_disconnect(v.nf) == 0 && env_wait_link(v.port_id, 0) == 0 &&
		netfront_connect(v.nf) == 0 && env_wait_link(v.port_id, 1) == 0, "reconnected");
	TEST_ASSERT(h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE && h->types == 0 &&
		h->size == 0 && h->key[0] == 0, "defaults after a reconnect");
	TEST_ASSERT_EQUAL(ctrl(&v, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data), OK,
		"served after the reconnect");
	return TEST_SUCCESS;
}

static int
test_ctrl_messages(void)
{
	struct ctrl_vif v;
	int ret = TEST_FAILED;

	if (vif_open(&v, 91, 2) == 0)
		ret = ctrl_messages(&v);
	vif_close(&v);
	return ret;
}

/*
 * A frontend that fills the ring (128 requests) before one kick: all are
 * answered, in order, past the 64 answered per kick.
 */
static int
test_ctrl_full_ring(void)
{
	xen_netif_ctrl_front_ring_t *r;
	struct xen_netif_ctrl_request *req;
	const struct xen_netif_ctrl_response *rsp;
	struct ctrl_vif v;
	uint64_t end;
	unsigned int i, n;
	int ret = TEST_FAILED, notify;

	if (vif_open(&v, 92, 1) != 0)
		goto out;
	r = &v.nf->ctrl_ring;
	n = RING_SIZE(r);
	for (i = 0; i < n; i++) {
		req = RING_GET_REQUEST(r, r->req_prod_pvt);
		memset(req, 0, sizeof(*req));
		req->id = (uint16_t)(1000 + i);
		req->type = XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE;
		r->req_prod_pvt++;
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, notify);
	xensim_evtchn_notify(v.nf->ctrl_evtchn, (uint32_t)v.nf->ctrl_port);
	end = env_deadline(WAIT_MS);
	while (r->sring->rsp_prod - r->rsp_cons < n && !env_waited(end))
		;
	if (r->sring->rsp_prod - r->rsp_cons != n) {
		fprintf(stderr, "    %u of %u requests answered\n", r->sring->rsp_prod - r->rsp_cons,
			n);
		goto out;
	}
	for (i = 0; i < n; i++, r->rsp_cons++) {
		rsp = RING_GET_RESPONSE(r, r->rsp_cons);
		if (rsp->id != 1000 + i || rsp->status != OK || rsp->data != XNB_HASH_MAPPING_MAX) {
			fprintf(stderr, "    response %u: id %u status %u data %u\n", i, rsp->id,
				rsp->status, rsp->data);
			goto out;
		}
	}
	RTE_SET_USED(notify);
	ret = TEST_SUCCESS;
out:
	vif_close(&v);
	return ret;
}

/*
 * A frontend whose req_prod claims more requests than the ring holds:
 * refused once, in the log and the dump, nothing served from it; its
 * queues keep working; a reconnect gets a working control ring again.
 */
static int
test_ctrl_broken_indices(void)
{
	struct ctrl_vif v;
	char *dump = NULL;
	size_t len = 0;
	uint32_t data;
	FILE *f;
	int ret = TEST_FAILED;

	if (vif_open(&v, 93, 1) != 0)
		goto out;
	v.nf->ctrl_ring.sring->req_prod += 1000;
	xensim_evtchn_notify(v.nf->ctrl_evtchn, (uint32_t)v.nf->ctrl_port);
	rte_delay_ms(200);
	f = open_memstream(&dump, &len);
	if (f == NULL)
		goto out;
	rte_eth_dev_priv_dump(v.port_id, f);
	fclose(f);
	if (dump == NULL || strstr(dump, "BROKEN") == NULL) {
		fprintf(stderr, "    the dump does not say the control ring is broken:\n%s",
			dump != NULL ? dump : "");
		goto out;
	}
	if (v.nf->ctrl_ring.sring->rsp_prod != 0) {
		fprintf(stderr, "    responses written to a broken ring\n");
		goto out;
	}
	if (env_check_traffic(v.nf, v.port_id, 300) != TEST_SUCCESS)
		goto out;
	if (netfront_disconnect(v.nf) != 0 || netfront_connect(v.nf) != 0 ||
			env_wait_link(v.port_id, 1) != 0 ||
			ctrl(&v, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, &data) != OK ||
			data != XNB_HASH_MAPPING_MAX) {
		fprintf(stderr, "    no working control ring after a reconnect\n");
		goto out;
	}
	ret = TEST_SUCCESS;
out:
	free(dump);
	vif_close(&v);
	return ret;
}

/* The key of the published Toeplitz verification vectors (Microsoft's RSS). */
static const uint8_t rss_key[XNB_HASH_KEY_MAX] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/*
 * An Ethernet frame of 100 B: IPv4 or IPv6, proto, addresses and ports
 * (for TCP/UDP), tag in its last byte. proto 0: an ARP-typed frame.
 */
static uint32_t
frame_build(uint8_t *f, bool v6, uint8_t proto, const uint8_t *src, const uint8_t *dst,
		uint16_t sport, uint16_t dport, uint8_t tag)
{
	const uint32_t len = 100;
	uint32_t l3 = v6 ? 40 : 20, alen = v6 ? 16 : 4, l4;

	memset(f, 0, len);
	f[0] = 0x02;
	f[6] = 0x02;
	f[11] = 1;
	if (proto == 0) {
		f[12] = 0x08;
		f[13] = 0x06;
		f[len - 1] = tag;
		return len;
	}
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[14] = 0x60;
		f[18] = (uint8_t)((len - 14 - l3) >> 8);
		f[19] = (uint8_t)(len - 14 - l3);
		f[20] = proto;
		f[21] = 64;
		memcpy(f + 22, src, alen);
		memcpy(f + 22 + alen, dst, alen);
	} else {
		f[14] = 0x45;
		f[16] = (uint8_t)((len - 14) >> 8);
		f[17] = (uint8_t)(len - 14);
		f[22] = 64;
		f[23] = proto;
		memcpy(f + 26, src, alen);
		memcpy(f + 26 + alen, dst, alen);
	}
	l4 = 14 + l3;
	f[l4] = (uint8_t)(sport >> 8);
	f[l4 + 1] = (uint8_t)sport;
	f[l4 + 2] = (uint8_t)(dport >> 8);
	f[l4 + 3] = (uint8_t)dport;
	if (proto == IPPROTO_TCP)
		f[l4 + 12] = 0x50;
	else
		f[l4 + 5] = (uint8_t)(len - l4);
	f[len - 1] = tag;
	return len;
}

/* netif.h's reference over the frame's addresses (and ports). */
static uint32_t
frame_ref_hash(const uint8_t *f, bool v6, bool ports)
{
	uint32_t alen = v6 ? 16 : 4, off = v6 ? 22 : 26;
	uint8_t in[36];

	memcpy(in, f + off, 2 * alen);
	if (ports)
		memcpy(in + 2 * alen, f + 14 + (v6 ? 40 : 20), 4);
	return xen_netif_toeplitz_hash(rss_key, sizeof(rss_key), in, 2 * alen + (ports ? 4 : 0));
}

/*
 * The Toeplitz hash: rte_softrss as xnb computes it (xnb_steer_pick())
 * and netif.h's reference both give the published vectors, over IPv4
 * and IPv6, with and without the ports; each type only when enabled.
 */
static int
test_toeplitz_vectors(void)
{
	static const struct {
		bool v6;
		uint8_t src[16], dst[16];
		uint16_t sport, dport;
		uint32_t l3, l4;
	} vec[] = {
		{ false, { 66, 9, 149, 187 }, { 161, 142, 100, 80 }, 2794, 1766,
			0x323e8fc2, 0x51ccc178 },
		{ false, { 199, 92, 111, 2 }, { 65, 69, 140, 83 }, 14230, 4739,
			0xd718262a, 0xc626b0ea },
		{ true, { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 7 },
			{ 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 1 },
			2794, 1766, 0x2cc18cd5, 0x40207d3d },
	};
	struct xnb_steer_cfg cfg;
	struct xnb_tx_hash h;
	struct rte_mbuf *m;
	uint8_t f[100];
	unsigned int i;
	uint32_t len;

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.key, rss_key, sizeof(rss_key));
	for (i = 0; i < RTE_DIM(vec); i++) {
		len = frame_build(f, vec[i].v6, IPPROTO_TCP, vec[i].src, vec[i].dst, vec[i].sport,
			vec[i].dport, 0);
		TEST_ASSERT_EQUAL(frame_ref_hash(f, vec[i].v6, false), vec[i].l3,
			"vector %u: netif.h's reference, addresses", i);
		TEST_ASSERT_EQUAL(frame_ref_hash(f, vec[i].v6, true), vec[i].l4,
			"vector %u: netif.h's reference, with ports", i);
		m = tg_mbuf(tg_pool(), f, len);
		TEST_ASSERT_NOT_NULL(m, "mbuf");
		cfg.types = XNB_HASH_TYPES;
		xnb_steer_pick(&cfg, 1, m, &h);
		TEST_ASSERT(h.value == vec[i].l4 && h.type == (vec[i].v6 ?
			_XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP : _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP) + 1,
			"vector %u: TCP types on: 0x%08x type %u", i, h.value, h.type);
		cfg.types = vec[i].v6 ? XEN_NETIF_CTRL_HASH_TYPE_IPV6 : XEN_NETIF_CTRL_HASH_TYPE_IPV4;
		xnb_steer_pick(&cfg, 1, m, &h);
		TEST_ASSERT(h.value == vec[i].l3 && h.type == (vec[i].v6 ?
			_XEN_NETIF_CTRL_HASH_TYPE_IPV6 : _XEN_NETIF_CTRL_HASH_TYPE_IPV4) + 1,
			"vector %u: addresses only: 0x%08x type %u", i, h.value, h.type);
		cfg.types = vec[i].v6 ? XEN_NETIF_CTRL_HASH_TYPE_IPV4 : XEN_NETIF_CTRL_HASH_TYPE_IPV6;
		xnb_steer_pick(&cfg, 1, m, &h);
		TEST_ASSERT(h.type == 0 && h.value == 0, "vector %u: its types off: no hash", i);
		rte_pktmbuf_free(m);
	}
	return TEST_SUCCESS;
}

/* What the guest got: per tag, its queue and hash. */
struct steer_seen {
	int queue[256];
	uint8_t hash_type[256];
	uint32_t hash[256];
	unsigned int n;
	/* What the test expects of each tag. */
	uint8_t want_type[256];
	uint32_t want_hash[256];
};

static void
steer_rx(void *arg, struct netfront_queue *q, const uint8_t *frame, uint32_t len)
{
	struct steer_seen *s = arg;
	uint8_t tag = frame[len - 1];

	s->queue[tag] = q->id;
	s->hash_type[tag] = q->rx_meta.hash_type;
	s->hash[tag] = q->rx_meta.hash;
	s->n++;
}

/*
 * Steering to the guest by its hash: a 2-queue guest selects Toeplitz
 * over IPv4 and TCP/IPv4 with a 4-entry table {1, 0, 0, 1}. Frames the
 * application sends on either DPDK queue reach the guest-rx queue
 * mapping[hash % 4] with the hash in a HASH extra (TCP: ports too; UDP:
 * addresses; IPv6 and ARP: no hash, queue mapping[0]). Then the guest
 * turns hashing off: frames go by the DPDK queue again, without a hash.
 */
static int
steering(struct ctrl_vif *v)
{
	static const uint32_t map[4] = { 1, 0, 0, 1 };
	const uint8_t a[4] = { 169, 254, 7, 1 }, b[4] = { 169, 254, 7, 2 };
	const uint8_t a6[16] = { 0xfe, 0x80, [15] = 1 }, b6[16] = { 0xfe, 0x80, [15] = 2 };
	struct steer_seen *seen;
	struct rte_mbuf *m;
	uint8_t f[100], type;
	uint32_t status, len, want;
	unsigned int i, n = 40;
	uint64_t end;
	int ret = TEST_FAILED, q;

	seen = calloc(1, sizeof(*seen));
	if (seen == NULL)
		return TEST_FAILED;
	if (ctrl(v, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ,
			0, 0, NULL) != OK ||
			netfront_ctrl_set_key(v->nf, rss_key, sizeof(rss_key), &status) != 0 ||
			status != OK ||
			ctrl(v, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_HASH_TYPE_IPV4 |
				XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0, NULL) != OK ||
			ctrl(v, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 4, 0, 0, NULL) != OK ||
			netfront_ctrl_set_mapping(v->nf, map, 4, 0, &status) != 0 || status != OK) {
		fprintf(stderr, "    configuring the hash failed\n");
		goto out;
	}
	/* 36 TCP flows, 2 UDP, 1 IPv6 TCP, 1 ARP; tag i; DPDK queue i % 2. */
	for (i = 0; i < n; i++) {
		if (i < 36)
			len = frame_build(f, false, IPPROTO_TCP, a, b, (uint16_t)(1000 + 7 * i), 80,
				(uint8_t)i);
		else if (i < 38)
			len = frame_build(f, false, IPPROTO_UDP, a, i == 36 ? b : a, 53, 53,
				(uint8_t)i);
		else if (i == 38)
			len = frame_build(f, true, IPPROTO_TCP, a6, b6, 1, 2, (uint8_t)i);
		else
			len = frame_build(f, false, 0, NULL, NULL, 0, 0, (uint8_t)i);
		m = tg_mbuf(env_pool(), f, len);
		if (m == NULL || rte_eth_tx_burst(v->port_id, (uint16_t)(i % 2), &m, 1) != 1) {
			rte_pktmbuf_free(m);
			fprintf(stderr, "    frame %u not sent\n", i);
			goto out;
		}
		seen->queue[i] = -1;
		/* What the guest must see. */
		if (i < 36) {
			want = frame_ref_hash(f, false, true);
			type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP + 1;
		} else if (i < 38) {
			want = frame_ref_hash(f, false, false);
			type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4 + 1;
		} else {
			want = 0;
			type = 0;
		}
		seen->want_hash[i] = want;
		seen->want_type[i] = type;
	}
	end = env_deadline(WAIT_MS);
	while (seen->n < n && !env_waited(end))
		netfront_poll(v->nf, steer_rx, seen);
	if (seen->n != n) {
		fprintf(stderr, "    the guest got %u of %u frames\n", seen->n, n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		want = seen->want_hash[i];
		q = (int)map[want % 4];
		if (seen->queue[i] != q || seen->hash_type[i] != seen->want_type[i] ||
				seen->hash[i] != want) {
			fprintf(stderr, "    frame %u: queue %d (want %d), hash type %u value 0x%08x (want %u, 0x%08x)\n",
				i, seen->queue[i], q, seen->hash_type[i], seen->hash[i],
				seen->want_type[i], want);
			goto out;
		}
	}
	/* Hashing off: each frame on the guest-rx queue of its DPDK queue, no hash. */
	if (ctrl(v, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE,
			0, 0, NULL) != OK)
		goto out;
	seen->n = 0;
	for (i = 0; i < 8; i++) {
		len = frame_build(f, false, IPPROTO_TCP, a, b, (uint16_t)(1000 + 7 * i), 80,
			(uint8_t)i);
		m = tg_mbuf(env_pool(), f, len);
		if (m == NULL || rte_eth_tx_burst(v->port_id, (uint16_t)(i % 2), &m, 1) != 1) {
			rte_pktmbuf_free(m);
			goto out;
		}
	}
	end = env_deadline(WAIT_MS);
	while (seen->n < 8 && !env_waited(end))
		netfront_poll(v->nf, steer_rx, seen);
	for (i = 0; i < 8; i++) {
		if (seen->queue[i] != (int)(i % 2) || seen->hash_type[i] != 0) {
			fprintf(stderr, "    unsteered frame %u: queue %d, hash type %u\n", i,
				seen->queue[i], seen->hash_type[i]);
			goto out;
		}
	}
	ret = TEST_SUCCESS;
out:
	free(seen);
	return ret;
}

static int
test_ctrl_steering(void)
{
	struct ctrl_vif v;
	int ret = TEST_FAILED;

	if (vif_open(&v, 94, 2) == 0)
		ret = steering(&v);
	vif_close(&v);
	return ret;
}

/* The new port of a restarted application, reattaching to v's guest (on_close=keep). */
static int
vif_restart(struct ctrl_vif *v, uint16_t domid, uint16_t nq)
{
	env_port_destroy(v->port_id, v->name);
	v->port_id = -1;
	if (vif_port(v, domid, nq) != 0 || env_wait_link(v->port_id, 1) != 0)
		return -1;
	return netfront_check_backend(v->nf) == 0 ? 0 : -1;
}

/* The backend's xnb-hash node, waited for up to WAIT_MS: 0, or -1 if it does not come. */
static int
kept_node(struct xs_handle *xs, const struct ctrl_vif *v, char *buf, size_t size)
{
	char path[256];
	uint64_t end = env_deadline(WAIT_MS);
	unsigned int len;
	char *val;

	snprintf(path, sizeof(path), "%s/%s", v->nf->be_path, XNB_HASH_NODE);
	do {
		val = xs_read(xs, XBT_NULL, path, &len);
		if (val != NULL) {
			snprintf(buf, size, "%s", val);
			free(val);
			return 0;
		}
		rte_delay_ms(10);
	} while (!env_waited(end));
	return -1;
}

/*
 * The guest's hashing survives an application restart (on_close=keep):
 * the configuration is kept in the backend's directory and the next
 * process steers by it at once, the guest sending nothing again (as
 * Windows would not). A kept node that does not hold together gives
 * netif.h's defaults; a guest that connects anew starts from them and
 * the node goes.
 */
static int
test_ctrl_hash_kept(void)
{
	static const uint32_t map[4] = { 1, 0, 0, 1 };
	const uint16_t domid = 95;
	struct xnb_hash want;
	struct xs_handle *xs = NULL;
	struct ctrl_vif v;
	const struct xnb_port *port;
	char text[XNB_HASH_TEXT_MAX], path[256];
	uint32_t status;
	int ret = TEST_FAILED;

	if (vif_open(&v, domid, 2) != 0)
		goto out;
	xs = xensim_xs_open(env_sim_dir());
	if (xs == NULL ||
			ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
				XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, NULL) != OK ||
			netfront_ctrl_set_key(v.nf, rss_key, sizeof(rss_key), &status) != 0 ||
			status != OK ||
			ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XNB_HASH_TYPES, 0, 0, NULL) != OK ||
			ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 4, 0, 0, NULL) != OK ||
			netfront_ctrl_set_mapping(v.nf, map, 4, 0, &status) != 0 || status != OK) {
		fprintf(stderr, "    configuring the hash failed\n");
		goto out;
	}
	want = *vif_hash(&v);
	/* Restarted at once: the close keeps what the alarm has not kept yet. */
	if (vif_restart(&v, domid, 2) != 0) {
		fprintf(stderr, "    the restarted port did not reattach\n");
		goto out;
	}
	port = rte_eth_devices[v.port_id].data->dev_private;
	if (memcmp(vif_hash(&v), &want, sizeof(want)) != 0 || !port->steering) {
		fprintf(stderr, "    after the restart: alg %u types %u size %u, steering %d\n",
			vif_hash(&v)->alg, vif_hash(&v)->types, vif_hash(&v)->size, port->steering);
		goto out;
	}
	if (kept_node(xs, &v, text, sizeof(text)) != 0) {
		fprintf(stderr, "    no %s node\n", XNB_HASH_NODE);
		goto out;
	}
	/* Broken by hand: a bad key digit, then a mapping to queue 2 of 2. */
	snprintf(path, sizeof(path), "%s/%s", v.nf->be_path, XNB_HASH_NODE);
	text[10] = 'z';
	if (!xs_write(xs, XBT_NULL, path, text, (unsigned int)strlen(text)) ||
			vif_restart(&v, domid, 2) != 0 || vif_hash(&v)->alg != 0 ||
			vif_hash(&v)->size != 0) {
		fprintf(stderr, "    a broken node was taken\n");
		goto out;
	}
	/* The restart above kept nothing new: configure, then reconnect anew. */
	if (ctrl(&v, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
			XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, NULL) != OK ||
			kept_node(xs, &v, text, sizeof(text)) != 0 || text[0] != '1') {
		fprintf(stderr, "    the new configuration was not kept\n");
		goto out;
	}
	if (netfront_disconnect(v.nf) != 0 || env_wait_link(v.port_id, 0) != 0 ||
			netfront_connect(v.nf) != 0 || env_wait_link(v.port_id, 1) != 0 ||
			vif_hash(&v)->alg != 0 || xs_read(xs, XBT_NULL, path, NULL) != NULL) {
		fprintf(stderr, "    a fresh connect kept the old configuration\n");
		goto out;
	}
	ret = TEST_SUCCESS;
out:
	if (xs != NULL)
		xs_close(xs);
	vif_close(&v);
	return ret;
}

static struct unit_test_suite ctrl_suite = {
	.suite_name = "ctrl",
	.setup = suite_setup,
	.teardown = suite_teardown,
	.unit_test_cases = {
		TEST_CASE(test_ctrl_messages),
		TEST_CASE(test_ctrl_full_ring),
		TEST_CASE(test_ctrl_broken_indices),
		TEST_CASE(test_toeplitz_vectors),
		TEST_CASE(test_ctrl_steering),
		TEST_CASE(test_ctrl_hash_kept),
		TEST_CASES_END()
	}
};

REGISTER_TEST_SUITE(ctrl_suite);
