/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Finding guests without a domid, against the simulated platform (a real
 * xenstored, the guest emulator as toolstack and frontend):
 *  - domain=NAME: the port resolves the name, serves that guest, follows
 *    it when it is rebuilt under a new domid (xl reboot) and ignores
 *    guests of other names;
 *  - discover=1: an instance that hotplugs a port per vif the toolstack
 *    creates (RTE_ETH_EVENT_NEW) and removes it when the vif goes
 *    (RTE_ETH_EVENT_INTR_RMV, then detached once the application stops it).
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "netfront.h"
#include "test.h"
#include "test_xenbus_env.h"

#define WAIT_MS ENV_WAIT_MS

static uint32_t lsc_events[RTE_MAX_ETHPORTS];
static uint32_t new_events[RTE_MAX_ETHPORTS];
static uint32_t rmv_events[RTE_MAX_ETHPORTS];

static int
event_cb(uint16_t port_id, enum rte_eth_event_type type, void *arg, void *ret)
{
	RTE_SET_USED(arg);
	RTE_SET_USED(ret);
	if (type == RTE_ETH_EVENT_INTR_LSC)
		__atomic_fetch_add(&lsc_events[port_id], 1, __ATOMIC_RELAXED);
	else if (type == RTE_ETH_EVENT_NEW)
		__atomic_fetch_add(&new_events[port_id], 1, __ATOMIC_RELAXED);
	else if (type == RTE_ETH_EVENT_INTR_RMV)
		__atomic_fetch_add(&rmv_events[port_id], 1, __ATOMIC_RELAXED);
	return 0;
}

static const enum rte_eth_event_type watched_events[] = {
	RTE_ETH_EVENT_INTR_LSC, RTE_ETH_EVENT_NEW, RTE_ETH_EVENT_INTR_RMV,
};

static int
suite_setup(void)
{
	unsigned int i;

	if (env_start("discover") != 0)
		return TEST_FAILED;
	/* Every port, present and future. */
	for (i = 0; i < RTE_DIM(watched_events); i++)
		if (rte_eth_dev_callback_register(RTE_ETH_ALL, watched_events[i],
				event_cb, NULL) != 0)
			return TEST_FAILED;
	return TEST_SUCCESS;
}

static void
suite_teardown(void)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(watched_events); i++)
		rte_eth_dev_callback_unregister(RTE_ETH_ALL, watched_events[i], event_cb, NULL);
	env_stop();
}

/* A started port created with the given devargs; its id or -1. */
static int
port_create(const char *name, const char *args)
{
	uint16_t port_id;

	if (rte_vdev_init(name, args) != 0 ||
			rte_eth_dev_get_port_by_name(name, &port_id) != 0)
		return -1;
	lsc_events[port_id] = 0;
	return env_port_setup(port_id) == 0 ? port_id : -1;
}

/* A guest no backend serves: its toolstack need not wait long on close. */
#define UNSERVED_MS 200

static struct netfront *
guest_open(uint16_t domid, const char *name)
{
	return env_guest_open(domid, name, WAIT_MS);
}

/* The port called name, once it exists: its id, or -1 after WAIT_MS. */
static int
wait_port(const char *name)
{
	uint64_t end = env_deadline(WAIT_MS);
	uint16_t port_id;

	do {
		if (rte_eth_dev_get_port_by_name(name, &port_id) == 0)
			return port_id;
	} while (!env_waited(end));
	return -1;
}

static int
wait_port_gone(const char *name, unsigned int ms)
{
	uint64_t end = env_deadline(ms);
	uint16_t port_id;

	do {
		if (rte_eth_dev_get_port_by_name(name, &port_id) != 0)
			return 0;
	} while (!env_waited(end));
	return -1;
}

static int
connect_and_check(struct netfront *nf, int port_id, uint32_t len)
{
	if (nf == NULL || netfront_connect(nf) != 0) {
		fprintf(stderr, "    the frontend did not connect\n");
		return TEST_FAILED;
	}
	if (env_wait_link(port_id, 1) != 0) {
		fprintf(stderr, "    link not up\n");
		return TEST_FAILED;
	}
	return env_check_traffic(nf, port_id, len);
}

/* domain=NAME: found, followed across a rebuild with a new domid. */
static int
test_named_follow(void)
{
	static const char name[] = "net_xnb_named0";
	struct netfront *alpha = NULL, *beta = NULL;
	struct rte_ether_addr mac0, mac1;
	int port_id, ret = TEST_FAILED;
	char args[PATH_MAX + 64];
	uint32_t lsc0;

	snprintf(args, sizeof(args), "domain=alpha,platform=sim,sim_dir=%s", env_sim_dir());
	port_id = port_create(name, args);
	TEST_ASSERT(port_id >= 0, "port with domain=alpha created");
	rte_eth_macaddr_get(port_id, &mac0);

	/* Another guest is no business of this port. */
	beta = env_guest_open(32, "beta", UNSERVED_MS);
	alpha = guest_open(31, "alpha");
	if (connect_and_check(alpha, port_id, 333) != TEST_SUCCESS)
		goto out;
	rte_delay_ms(300);
	if (netfront_backend_state(beta) != XenbusStateInitialising) {
		fprintf(stderr, "    guest beta's vif was touched (backend state %d)\n",
			netfront_backend_state(beta));
		goto out;
	}

	/* xl reboot: the domain is destroyed and built again as dom 33. */
	lsc0 = __atomic_load_n(&lsc_events[port_id], __ATOMIC_RELAXED);
	netfront_close(alpha);
	alpha = NULL;
	if (env_wait_link(port_id, 0) != 0) {
		fprintf(stderr, "    link still up after the guest was destroyed\n");
		goto out;
	}
	alpha = guest_open(33, "alpha");
	if (connect_and_check(alpha, port_id, 1514) != TEST_SUCCESS) {
		fprintf(stderr, "    the port did not follow alpha to dom 33\n");
		goto out;
	}
	if (__atomic_load_n(&lsc_events[port_id], __ATOMIC_RELAXED) < lsc0 + 2) {
		fprintf(stderr, "    expected LSC down and up across the rebuild\n");
		goto out;
	}
	rte_eth_macaddr_get(port_id, &mac1);
	if (!rte_is_same_ether_addr(&mac0, &mac1)) {
		fprintf(stderr, "    the port's MAC changed with the domid\n");
		goto out;
	}
	/* Traffic after more than one round trip, and beta still untouched. */
	if (env_check_traffic(alpha, port_id, 60) != TEST_SUCCESS ||
			netfront_backend_state(beta) != XenbusStateInitialising)
		goto out;
	ret = TEST_SUCCESS;
out:
	netfront_close(alpha);
	netfront_close(beta);
	env_port_destroy(port_id, name);
	return ret;
}

/* The guest is up and waiting before the port exists. */
static int
test_named_guest_first(void)
{
	static const char name[] = "net_xnb_named1";
	char args[PATH_MAX + 64];
	struct env_connect a;
	int port_id, ret = TEST_FAILED;

	a.nf = guest_open(34, "gamma.example-1");
	TEST_ASSERT_NOT_NULL(a.nf, "guest opened");
	TEST_ASSERT_SUCCESS(env_connect_start(&a), "thread");
	rte_delay_ms(200);
	snprintf(args, sizeof(args), "domain=gamma.example-1,platform=sim,sim_dir=%s", env_sim_dir());
	port_id = port_create(name, args);
	env_connect_join(&a);
	if (port_id < 0 || a.ret != 0) {
		fprintf(stderr, "    port %d, frontend connect %d\n", port_id, a.ret);
		goto out;
	}
	if (env_wait_link(port_id, 1) != 0 || env_check_traffic(a.nf, port_id, 999) != TEST_SUCCESS)
		goto out;
	ret = TEST_SUCCESS;
out:
	netfront_close(a.nf);
	env_port_destroy(port_id, name);
	return ret;
}

/* A hostile name node (too long, not a string we wrote) is not a match. */
static int
test_named_hostile(void)
{
	static const char name[] = "net_xnb_named2";
	char args[PATH_MAX + 64], longname[300];
	struct netfront *nf;
	int port_id, ret = TEST_FAILED;

	memset(longname, 'd', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(args, sizeof(args), "domain=delta,platform=sim,sim_dir=%s", env_sim_dir());
	port_id = port_create(name, args);
	TEST_ASSERT(port_id >= 0, "port created");
	/* "delta" followed by more bytes, and a name far too long. */
	nf = env_guest_open(35, "deltaX", UNSERVED_MS);
	if (nf == NULL)
		goto out;
	if (!xs_write(nf->xs, XBT_NULL, "/local/domain/36/name", longname, strlen(longname)) ||
			!xs_write(nf->xs, XBT_NULL, "/local/domain/037/name", "delta", 5) ||
			!xs_write(nf->xs, XBT_NULL, "/local/domain/38/name", "delta\0x", 7))
		goto out;
	rte_delay_ms(300);
	if (netfront_backend_state(nf) != XenbusStateInitialising) {
		fprintf(stderr, "    a guest of another name was served\n");
		goto out;
	}
	ret = TEST_SUCCESS;
out:
	if (nf != NULL) {
		xs_rm(nf->xs, XBT_NULL, "/local/domain/36");
		xs_rm(nf->xs, XBT_NULL, "/local/domain/037");
		xs_rm(nf->xs, XBT_NULL, "/local/domain/38");
	}
	netfront_close(nf);
	env_port_destroy(port_id, name);
	return ret;
}

/* discover=1: ports come and go with the vifs. */
static int
test_discover(void)
{
	static const char disc[] = "net_xnb_disc0";
	static const char name_a[] = "net_xnb_disc0_41_0", name_b[] = "net_xnb_disc0_42_0";
	struct netfront *a = NULL, *b = NULL;
	char args[PATH_MAX + 64];
	int pa, pb, ret = TEST_FAILED;

	/* Guest a's vif exists before discovery starts, guest b's after. */
	a = guest_open(41, "disc-a");
	TEST_ASSERT_NOT_NULL(a, "guest a opened");
	/*
	 * on_close=disconnect (passed on to the ports): the guests left
	 * behind when the instance goes are told, and close at once.
	 */
	snprintf(args, sizeof(args), "discover=1,platform=sim,sim_dir=%s,on_close=disconnect",
		env_sim_dir());
	if (rte_vdev_init(disc, args) != 0) {
		fprintf(stderr, "    discovery instance refused\n");
		goto out;
	}
	if (rte_eth_dev_get_port_by_name(disc, &(uint16_t){0}) == 0) {
		fprintf(stderr, "    the discovery instance made a port of its own\n");
		goto out;
	}
	pa = wait_port(name_a);
	if (pa < 0 || __atomic_load_n(&new_events[pa], __ATOMIC_RELAXED) == 0) {
		fprintf(stderr, "    no port (or no NEW event) for the vif present at start\n");
		goto out;
	}
	b = guest_open(42, "disc-b");
	if (b == NULL)
		goto out;
	pb = wait_port(name_b);
	if (pb < 0 || __atomic_load_n(&new_events[pb], __ATOMIC_RELAXED) == 0) {
		fprintf(stderr, "    no port (or no NEW event) for the hotplugged vif\n");
		goto out;
	}
	if (env_port_setup(pa) != 0 || env_port_setup(pb) != 0) {
		fprintf(stderr, "    discovered ports cannot be set up\n");
		goto out;
	}
	if (connect_and_check(a, pa, 1000) != TEST_SUCCESS ||
			connect_and_check(b, pb, 1001) != TEST_SUCCESS)
		goto out;

	/*
	 * xl destroy of b: INTR_RMV; the port is not detached while the
	 * application has it started (it might still poll it), and is once
	 * the application stops it, as it should on INTR_RMV. a carries on.
	 */
	rmv_events[pb] = 0;
	netfront_close(b);
	b = NULL;
	if (wait_port_gone(name_b, 2500) == 0) {
		fprintf(stderr, "    the port of the destroyed guest was detached while started\n");
		goto out;
	}
	if (__atomic_load_n(&rmv_events[pb], __ATOMIC_RELAXED) == 0) {
		fprintf(stderr, "    no INTR_RMV for the destroyed guest's port\n");
		goto out;
	}
	if (rte_eth_dev_stop(pb) != 0 || wait_port_gone(name_b, WAIT_MS) != 0) {
		fprintf(stderr, "    the port of the destroyed guest was not detached once stopped\n");
		goto out;
	}
	if (env_check_traffic(a, pa, 77) != TEST_SUCCESS) {
		fprintf(stderr, "    the other guest's port was harmed\n");
		goto out;
	}

	/* Removing the instance stops discovery and takes its ports along. */
	if (rte_vdev_uninit(disc) != 0 || wait_port_gone(name_a, WAIT_MS) != 0) {
		fprintf(stderr, "    the discovery instance's port outlived it\n");
		goto out;
	}
	b = env_guest_open(43, "disc-c", UNSERVED_MS);
	rte_delay_ms(300);
	if (b == NULL || wait_port_gone("net_xnb_disc0_43_0", 1) != 0) {
		fprintf(stderr, "    discovery went on after removal\n");
		goto out;
	}
	ret = TEST_SUCCESS;
out:
	rte_vdev_uninit(disc);
	netfront_close(a);
	netfront_close(b);
	return ret;
}

/* Two discovery instances on different types do not see each other's vifs. */
static int
test_discover_type(void)
{
	static const char disc[] = "net_xnb_disc1";
	struct netfront_conf c;
	struct netfront *nf;
	char args[PATH_MAX + 64];
	int p, ret = TEST_FAILED;
	char *gso;

	/* Its ports offer what the instance was told to (offloads=). */
	snprintf(args, sizeof(args),
		"discover=1,type=vif2,platform=sim,sim_dir=%s,offloads=csum,on_close=disconnect",
		env_sim_dir());
	TEST_ASSERT_SUCCESS(rte_vdev_init(disc, args), "discovery instance");
	nf = env_guest_open(44, "plain-vif", UNSERVED_MS);
	netfront_conf_init(&c);
	rte_delay_ms(300);
	if (wait_port_gone("net_xnb_disc1_44_0", 1) != 0) {
		fprintf(stderr, "    a vif of another type was taken\n");
		goto out;
	}
	netfront_close(nf);
	c.sim_dir = env_sim_dir();
	c.domid = 45;
	c.type = "vif2";
	c.timeout_ms = WAIT_MS;
	nf = netfront_open(&c);
	p = wait_port("net_xnb_disc1_45_0");
	if (nf == NULL || p < 0 || env_port_setup(p) != 0 || connect_and_check(nf, p, 500) != 0)
		goto out;
	snprintf(args, sizeof(args), "%s/feature-gso-tcpv4", nf->be_path);
	gso = xs_read(nf->xs, XBT_NULL, args, NULL);
	if (gso == NULL || strcmp(gso, "0") != 0) {
		fprintf(stderr, "    offloads=csum: the port offers feature-gso-tcpv4=%s\n",
			gso != NULL ? gso : "(none)");
		free(gso);
		goto out;
	}
	free(gso);
	ret = TEST_SUCCESS;
out:
	rte_vdev_uninit(disc);
	netfront_close(nf);
	return ret;
}

static struct unit_test_suite discover_suite = {
	.suite_name = "discover",
	.setup = suite_setup,
	.teardown = suite_teardown,
	.unit_test_cases = {
		TEST_CASE(test_named_follow),
		TEST_CASE(test_named_guest_first),
		TEST_CASE(test_named_hostile),
		TEST_CASE(test_discover),
		TEST_CASE(test_discover_type),
		TEST_CASES_END()
	}
};

REGISTER_TEST_SUITE(discover_suite);
