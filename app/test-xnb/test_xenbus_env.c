/* SPDX-License-Identifier: BSD-3-Clause */

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "test.h"
#include "test_xenbus_env.h"

static char sim_dir[64];
static struct rte_mempool *pool;

/*
 * The daemon outlives this process when a test dies: it must not keep
 * our descriptors. DPDK's telemetry socket, inherited and never accepted
 * on, would make every later DPDK process of our file prefix hang in
 * rte_telemetry_init() once its backlog is full.
 */
static void
cloexec_all(void)
{
	struct dirent *e;
	DIR *d;
	int fd;

	d = opendir("/proc/self/fd");
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		fd = atoi(e->d_name);
		if (fd > 2 && fd != dirfd(d))
			fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
	}
	closedir(d);
}

static int
xenstored(const char *verb)
{
	const char *script = getenv("XNB_XENSTORED_SCRIPT");
	const char *shim = getenv("XNB_XENSTORED_SHIM");
	char cmd[1024];

	if (script == NULL || shim == NULL) {
		fprintf(stderr, "XNB_XENSTORED_SCRIPT and XNB_XENSTORED_SHIM must be set (meson test sets them)\n");
		return -1;
	}
	if (strcmp(verb, "start") == 0)
		snprintf(cmd, sizeof(cmd), "%s start %s %s", script, sim_dir, shim);
	else
		snprintf(cmd, sizeof(cmd), "%s %s %s", script, verb, sim_dir);
	cloexec_all();
	return system(cmd) == 0 ? 0 : -1;
}

int
env_start(const char *prefix)
{
	char name[RTE_MEMPOOL_NAMESIZE];

	snprintf(sim_dir, sizeof(sim_dir), "/tmp/xnb-%s-XXXXXX", prefix);
	if (mkdtemp(sim_dir) == NULL || xenstored("start") != 0)
		return -1;
	snprintf(name, sizeof(name), "%s_pool", prefix);
	pool = rte_pktmbuf_pool_create(name, 8192, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		SOCKET_ID_ANY);
	return pool != NULL ? 0 : -1;
}

void
env_stop(void)
{
	char cmd[128];

	xenstored("stop");
	rte_mempool_free(pool);
	pool = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", sim_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", sim_dir);
}

const char *
env_sim_dir(void)
{
	return sim_dir;
}

struct rte_mempool *
env_pool(void)
{
	return pool;
}

int
env_port_setup(uint16_t port_id)
{
	return env_port_setup_queues(port_id, 1);
}

int
env_port_setup_queues(uint16_t port_id, uint16_t nb_queues)
{
	struct rte_eth_conf conf = { 0 };

	conf.intr_conf.lsc = 1;
	return env_port_setup_conf(port_id, nb_queues, &conf);
}

int
env_port_setup_conf(uint16_t port_id, uint16_t nb_queues, const struct rte_eth_conf *conf)
{
	uint16_t q;

	if (rte_eth_dev_configure(port_id, nb_queues, nb_queues, conf) != 0)
		return -1;
	for (q = 0; q < nb_queues; q++)
		if (rte_eth_rx_queue_setup(port_id, q, 256, SOCKET_ID_ANY, NULL, pool) != 0 ||
				rte_eth_tx_queue_setup(port_id, q, 256, SOCKET_ID_ANY, NULL) != 0)
			return -1;
	return rte_eth_dev_start(port_id) != 0 ? -1 : 0;
}

void
env_port_destroy(int port_id, const char *name)
{
	if (port_id < 0)
		return;
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
	rte_vdev_uninit(name);
}

struct netfront *
env_guest_open(uint16_t domid, const char *name, unsigned int timeout_ms)
{
	struct netfront_conf c;

	netfront_conf_init(&c);
	c.sim_dir = sim_dir;
	c.domid = domid;
	c.name = name;
	c.timeout_ms = timeout_ms;
	c.mac[0] = 0x02;
	c.mac[5] = domid;
	return netfront_open(&c);
}

uint64_t
env_deadline(unsigned int ms)
{
	return rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;
}

bool
env_waited(uint64_t end)
{
	rte_delay_ms(2);
	return rte_get_timer_cycles() >= end;
}

int
env_wait_link(int port_id, int up)
{
	struct rte_eth_link link;
	uint64_t end = env_deadline(ENV_WAIT_MS);

	do {
		if (rte_eth_link_get_nowait(port_id, &link) == 0 &&
				link.link_status == up)
			return 0;
	} while (!env_waited(end));
	return -1;
}

int
env_wait_backend_state(struct netfront *nf, int state)
{
	uint64_t end = env_deadline(ENV_WAIT_MS);

	do {
		if (netfront_backend_state(nf) == state)
			return 0;
	} while (!env_waited(end));
	return -1;
}

static void *
connect_thread(void *p)
{
	struct env_connect *c = p;

	c->ret = netfront_connect(c->nf);
	return NULL;
}

int
env_connect_start(struct env_connect *c)
{
	return pthread_create(&c->th, NULL, connect_thread, c);
}

void
env_connect_join(struct env_connect *c)
{
	pthread_join(c->th, NULL);
}

struct echo_check {
	uint8_t frame[2000];
	uint32_t len;
	unsigned int matched;
};

static void
echo_rx(void *arg, struct netfront_queue *q, const uint8_t *frame, uint32_t len)
{
	struct echo_check *c = arg;

	RTE_SET_USED(q);
	if (len == c->len && memcmp(frame, c->frame, len) == 0)
		c->matched++;
}

int
env_check_traffic(struct netfront *nf, int port_id, uint32_t len)
{
	return env_check_queue_traffic(nf, port_id, 0, len);
}

int
env_check_queue_traffic(struct netfront *nf, int port_id, uint16_t qid, uint32_t len)
{
	struct netfront_queue *q = netfront_queue(nf, qid);
	struct echo_check c = { .len = len };
	struct rte_mbuf *m = NULL;
	uint64_t end;
	uint32_t i;
	uint16_t n;

	TEST_ASSERT(len <= sizeof(c.frame), "frame of %u B too large for the check", len);
	for (i = 0; i < len; i++)
		c.frame[i] = (uint8_t)(i * 7 + len);
	TEST_ASSERT_NOT_NULL(q, "the guest has queue %u", qid);
	TEST_ASSERT_SUCCESS(netfront_queue_send(q, c.frame, len), "guest send on queue %u", qid);
	end = env_deadline(ENV_WAIT_MS);
	do {
		n = rte_eth_rx_burst(port_id, qid, &m, 1);
	} while (n == 0 && rte_get_timer_cycles() < end);
	TEST_ASSERT_EQUAL(n, 1, "the guest's frame reaches the port");
	TEST_ASSERT_EQUAL(m->pkt_len, len, "length kept");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(rte_pktmbuf_mtod(m, void *), c.frame,
		RTE_MIN(len, m->data_len), "bytes kept");
	TEST_ASSERT_EQUAL(rte_eth_tx_burst(port_id, qid, &m, 1), 1, "port sends it back");
	end = env_deadline(ENV_WAIT_MS);
	while (c.matched == 0 && rte_get_timer_cycles() < end)
		TEST_ASSERT(netfront_queue_poll(q, echo_rx, &c) >= 0, "guest poll");
	TEST_ASSERT_EQUAL(c.matched, 1, "the guest gets its frame back byte-exact on queue %u",
		qid);
	return TEST_SUCCESS;
}
