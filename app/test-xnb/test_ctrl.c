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

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <ethdev_driver.h>
#include <rte_ethdev.h>

#include "netfront.h"
#include "test.h"
#include "test_common.h"
#include "test_xenbus_env.h"
#include "xnb_port.h"

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

static int
vif_open(struct ctrl_vif *v, uint16_t domid, uint16_t nq)
{
	struct netfront_conf c;
	char args[256];
	uint16_t port_id;

	v->port_id = -1;
	v->nf = NULL;
	snprintf(v->name, sizeof(v->name), "net_xnb_ctrl%u", domid);
	snprintf(args, sizeof(args), "domid=%u,queues=%u,platform=sim,sim_dir=%s", domid, nq,
		env_sim_dir());
	if (rte_vdev_init(v->name, args) != 0 ||
			rte_eth_dev_get_port_by_name(v->name, &port_id) != 0)
		return -1;
	v->port_id = port_id;
	if (env_port_setup_queues(port_id, nq) != 0)
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
	if (v->nf == NULL || netfront_connect(v->nf) != 0 || env_wait_link(port_id, 1) != 0)
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

	/* The queues still carry traffic. */
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

static struct unit_test_suite ctrl_suite = {
	.suite_name = "ctrl",
	.setup = suite_setup,
	.teardown = suite_teardown,
	.unit_test_cases = {
		TEST_CASE(test_ctrl_messages),
		TEST_CASE(test_ctrl_full_ring),
		TEST_CASE(test_ctrl_broken_indices),
		TEST_CASES_END()
	}
};

REGISTER_TEST_SUITE(ctrl_suite);
