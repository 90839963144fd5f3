/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-intr-fwd: forwards every frame between ports 0 and 1 (one queue
 * pair each, as testpmd's io mode does), or with one port back out of
 * it, and, once the ports have been idle for a while, sleeps on their rx
 * interrupts until one has a frame, as DPDK's l3fwd-power does. It shows
 * what rx interrupts buy on an xnb port: a guest that sends nothing costs
 * no core (realxen 13-rx-interrupts), and a guest that sends little
 * costs little (xnb-bench-density's interrupt figures).
 *
 * Usage: xnb-intr-fwd EAL_ARGS... [-- --idle-polls N]
 *   --idle-polls N  empty polls of both ports before sleeping (default 1000)
 *
 * On SIGINT or SIGTERM it prints one line: frames each way, sleeps,
 * wakeups, and the CPU time it used against the wall-clock time.
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_mbuf.h>

#define BURST 32
#define NB_MBUFS 8191

static volatile int stop;

static void
on_signal(int sig)
{
	RTE_SET_USED(sig);
	stop = 1;
}

static int
port_init(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = { 0 };
	int ret;

	conf.intr_conf.rxq = 1;
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port), NULL, pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, 256, rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret == 0)
		rte_eth_promiscuous_enable(port);
	if (ret == 0)
		ret = rte_eth_dev_rx_intr_ctl_q(port, 0, RTE_EPOLL_PER_THREAD,
			RTE_INTR_EVENT_ADD, NULL);
	if (ret != 0)
		fprintf(stderr, "xnb-intr-fwd: port %u: %s (rx interrupts need intr_conf.rxq support)\n",
			port, strerror(-ret));
	return ret;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	uint64_t fwd[2] = { 0, 0 }, sleeps = 0, wakeups = 0, t0;
	struct rte_epoll_event ev[2];
	uint16_t nports;
	unsigned long idle_polls = 1000, idle = 0;
	struct rte_mbuf *m[BURST];
	struct rte_mempool *pool;
	uint16_t p, n, sent;
	int ret, i;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "xnb-intr-fwd: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--idle-polls") == 0 && i + 1 < argc) {
			idle_polls = strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: xnb-intr-fwd EAL_ARGS... [-- --idle-polls N]\n");
			return 2;
		}
	}
	nports = rte_eth_dev_count_avail();
	if (nports != 1 && nports != 2) {
		fprintf(stderr, "xnb-intr-fwd: one or two ports needed, %u given\n", nports);
		return 2;
	}
	pool = rte_pktmbuf_pool_create("fwd", NB_MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		rte_socket_id());
	for (p = 0; p < nports; p++)
		if (pool == NULL || port_init(p, pool) != 0)
			return 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("xnb-intr-fwd: forwarding %s, sleeping after %lu idle polls\n",
		nports == 2 ? "0 <-> 1" : "0 back to 0", idle_polls);
	fflush(stdout);

	t0 = rte_get_timer_cycles();
	while (!stop) {
		for (p = 0; p < nports; p++) {
			n = rte_eth_rx_burst(p, 0, m, BURST);
			if (n == 0)
				continue;
			sent = rte_eth_tx_burst(nports == 2 ? p ^ 1 : p, 0, m, n);
			if (sent < n)
				rte_pktmbuf_free_bulk(m + sent, n - sent);
			fwd[p] += sent;
			idle = 0;
		}
		if (++idle < idle_polls)
			continue;
		/* All idle: arm, sleep until a frame (or a second), disarm. */
		for (p = 0; p < nports; p++)
			rte_eth_dev_rx_intr_enable(p, 0);
		sleeps++;
		if (rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, 2, 1000) > 0)
			wakeups++;
		for (p = 0; p < nports; p++)
			rte_eth_dev_rx_intr_disable(p, 0);
		idle = 0;
	}
	printf("xnb-intr-fwd: forwarded from 0 %" PRIu64 " from 1 %" PRIu64 " sleeps %" PRIu64
		" wakeups %" PRIu64 " cpu %.2f s of %.2f s\n", fwd[0], fwd[1], sleeps, wakeups,
		cpu_seconds(), (double)(rte_get_timer_cycles() - t0) / (double)rte_get_timer_hz());
	for (p = 0; p < nports; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_eal_cleanup();
	return 0;
}
