/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-intr-fwd: one lcore serving many ports, the idle ones asleep on
 * their rx interrupts. Each port is polled while it has frames; after
 * enough empty polls in a row it is parked: its rx interrupt is armed
 * (for an xnb port, the guest's event channel) and the loop stops
 * polling it. The parked ports are looked at together, with one
 * non-blocking rte_epoll_wait(), every --look-us microseconds (the clock
 * read every 8 loops), and a port whose interrupt fired is polled again.
 * When every port is parked the lcore sleeps until one has a frame, as
 * DPDK's l3fwd-power does.
 *
 * How many empty polls make a port idle adapts per port, as an adaptive
 * lock decides between spinning and sleeping: a port woken again sooner
 * than 4 times the time it was polled empty before it was parked (a
 * guest that paused, not one that stopped) waits twice as many polls
 * next time, up to 1024 times --idle-polls; one that stayed parked
 * longer waits half as many, down to --idle-polls. So a busy guest
 * that the host deschedules for a few microseconds is not put to sleep
 * each time, and a guest that sends a frame a millisecond costs a few
 * microseconds of polling per frame.
 *
 * So an idle vif costs the busy ones nothing per loop, which polling
 * every port cannot give (doc/benchmark.md, "Density and idle cost"):
 * xnb-bench-density measures one busy vif beside 63 idle ones with it,
 * and realxen 13-rx-interrupts has a guest that sends nothing cost no
 * core.
 *
 * What it does with a frame (--mode):
 *   pairs  out of the paired port (0 <-> 1, 2 <-> 3, ...), as testpmd's
 *          io mode; the default with an even number of ports
 *   back   back out of the port it came in on; the default with one port
 *   drop   freed, as testpmd's rxonly mode
 *
 * Usage: xnb-intr-fwd EAL_ARGS... [-- --mode pairs|back|drop]
 *          [--idle-polls N] [--look-us N]
 *   --idle-polls N  empty polls of a port before it is parked, at least
 *                   (default 1000)
 *   --look-us N     microseconds between looks at the parked ports while
 *                   others are polled (default 20): how long a parked
 *                   port's first frame may wait
 *
 * On SIGINT or SIGTERM it prints one line: frames received and sent,
 * sleeps (every port parked) and wakeups (of those, the ones a frame
 * ended), parks and unparks of single ports, busy_unparks (the ports
 * woken by the look at parked ports while others were polled), and the
 * CPU time it used against the wall-clock time.
 */

#include <errno.h>
#include <stdbool.h>
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
/* Loops between two reads of the clock for the look at parked ports. */
#define LOOK_CLOCK_LOOPS 8
/* How long an lcore with every port parked sleeps at most (ms). */
#define SLEEP_MS 1000
/* The empty poll at which a port's idle time starts to be timed. */
#define SPIN_MARK 64
/* A port's empty polls before parking grow up to --idle-polls << this. */
#define SPIN_GROWTH 10

enum fwd_mode { MODE_PAIRS, MODE_BACK, MODE_DROP };

static const char *const mode_names[] = {
	[MODE_PAIRS] = "pairs", [MODE_BACK] = "back", [MODE_DROP] = "drop",
};

struct fwd_stats {
	uint64_t rx, tx, sleeps, wakeups, parks, unparks, busy_unparks;
};

/*
 * The ports of the lcore: active[0..nb_active) are polled, the others
 * parked. Per port p: idle[p] counts its empty polls in a row, and it is
 * parked at spin[p] of them; since[p] is the TSC at its SPIN_MARK-th,
 * spun[p] how long it was polled empty before it was parked, and
 * parked_at[p] when.
 */
struct fwd_sched {
	uint16_t active[RTE_MAX_ETHPORTS];
	uint16_t nb_active;
	uint16_t nb_ports;
	unsigned long min_spin, max_spin;
	bool parked[RTE_MAX_ETHPORTS];
	unsigned long idle[RTE_MAX_ETHPORTS];
	unsigned long spin[RTE_MAX_ETHPORTS];
	uint64_t since[RTE_MAX_ETHPORTS];
	uint64_t spun[RTE_MAX_ETHPORTS];
	uint64_t parked_at[RTE_MAX_ETHPORTS];
};

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
	/* The port's number comes back in each of its interrupt events. */
	if (ret == 0)
		ret = rte_eth_dev_rx_intr_ctl_q(port, 0, RTE_EPOLL_PER_THREAD,
			RTE_INTR_EVENT_ADD, (void *)(uintptr_t)port);
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

/* Stop polling active[i]: its rx interrupt wakes it. */
static void
park(struct fwd_sched *s, uint16_t i, struct fwd_stats *st)
{
	uint16_t p = s->active[i];

	s->parked_at[p] = rte_rdtsc();
	s->spun[p] = s->idle[p] >= SPIN_MARK ? s->parked_at[p] - s->since[p] : 0;
	/* xnb raises the interrupt at once if frames came in the meantime. */
	rte_eth_dev_rx_intr_enable(p, 0);
	s->parked[p] = true;
	s->active[i] = s->active[--s->nb_active];
	st->parks++;
}

/*
 * Poll p again: its rx interrupt fired. Woken soon after it was parked,
 * it spins longer next time; after a long sleep, shorter. false when p
 * was not parked (an interrupt raised while it was polled).
 */
static bool
unpark(struct fwd_sched *s, uint16_t p, struct fwd_stats *st)
{
	uint64_t slept;

	if (p >= s->nb_ports || !s->parked[p])
		return false;
	slept = rte_rdtsc() - s->parked_at[p];
	if (slept < 4 * s->spun[p])
		s->spin[p] = RTE_MIN(s->spin[p] * 2, s->max_spin);
	else
		s->spin[p] = RTE_MAX(s->spin[p] / 2, s->min_spin);
	rte_eth_dev_rx_intr_disable(p, 0);
	s->parked[p] = false;
	s->idle[p] = 0;
	s->active[s->nb_active++] = p;
	st->unparks++;
	return true;
}

/* Wait up to timeout_ms for parked ports' interrupts; the ports woken. */
static unsigned int
wait_parked(struct fwd_sched *s, int timeout_ms, struct fwd_stats *st)
{
	struct rte_epoll_event ev[RTE_MAX_ETHPORTS];
	unsigned int woken = 0;
	int n, k;

	n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, RTE_DIM(ev), timeout_ms);
	for (k = 0; k < n; k++)
		woken += unpark(s, (uint16_t)(uintptr_t)ev[k].epdata.data, st);
	return woken;
}

static void
handle(uint16_t p, struct rte_mbuf **m, uint16_t n, enum fwd_mode mode, struct fwd_stats *st)
{
	uint16_t sent = 0;

	st->rx += n;
	if (mode != MODE_DROP)
		sent = rte_eth_tx_burst(mode == MODE_PAIRS ? p ^ 1 : p, 0, m, n);
	if (sent < n)
		rte_pktmbuf_free_bulk(m + sent, n - sent);
	st->tx += sent;
}

static void
run(struct fwd_sched *s, enum fwd_mode mode, uint64_t look_tsc, struct fwd_stats *st)
{
	struct rte_mbuf *m[BURST];
	uint64_t last_look = rte_rdtsc(), now;
	unsigned long loops = 0;
	uint16_t i, p, n;

	while (!stop) {
		for (i = 0; i < s->nb_active; ) {
			p = s->active[i];
			n = rte_eth_rx_burst(p, 0, m, BURST);
			if (n > 0) {
				handle(p, m, n, mode, st);
				s->idle[p] = 0;
			} else {
				if (++s->idle[p] == SPIN_MARK)
					s->since[p] = rte_rdtsc();
				if (s->idle[p] >= s->spin[p]) {
					park(s, i, st);
					continue;       /* active[i] is another port now */
				}
			}
			i++;
		}
		if (s->nb_active == s->nb_ports)
			continue;
		if (s->nb_active == 0) {
			/* Every port parked: sleep until one has a frame. */
			st->sleeps++;
			if (wait_parked(s, SLEEP_MS, st) > 0)
				st->wakeups++;
		} else if (++loops % LOOK_CLOCK_LOOPS == 0) {
			now = rte_rdtsc();
			if (now - last_look >= look_tsc) {
				last_look = now;
				st->busy_unparks += wait_parked(s, 0, st);
			}
		}
	}
}

static int
parse_args(int argc, char **argv, int *mode, unsigned long *idle_polls,
		unsigned long *look_us)
{
	char *end;
	int i, k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
			i++;
			for (k = 0; k < (int)RTE_DIM(mode_names); k++)
				if (strcmp(argv[i], mode_names[k]) == 0)
					*mode = k;
			if (*mode < 0) {
				fprintf(stderr, "xnb-intr-fwd: --mode %s: pairs, back or drop\n", argv[i]);
				return -1;
			}
		} else if ((strcmp(argv[i], "--idle-polls") == 0 ||
				strcmp(argv[i], "--look-us") == 0) && i + 1 < argc) {
			unsigned long v = strtoul(argv[i + 1], &end, 10);

			if (*end != '\0' || v == 0 || v > 1000000) {
				fprintf(stderr, "xnb-intr-fwd: %s %s: a number from 1 to 1000000\n",
					argv[i], argv[i + 1]);
				return -1;
			}
			if (strcmp(argv[i], "--idle-polls") == 0)
				*idle_polls = v;
			else
				*look_us = v;
			i++;
		} else {
			fprintf(stderr, "usage: xnb-intr-fwd EAL_ARGS... [-- --mode pairs|back|drop] [--idle-polls N] [--look-us N]\n");
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct fwd_sched sched;
	struct fwd_stats st = { 0 };
	unsigned long idle_polls = 1000, look_us = 20;
	struct rte_mempool *pool;
	int ret, mode = -1;
	uint64_t t0;
	uint16_t p;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "xnb-intr-fwd: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (parse_args(argc - ret, argv + ret, &mode, &idle_polls, &look_us) != 0)
		return 2;
	sched.nb_ports = rte_eth_dev_count_avail();
	if (mode < 0)
		mode = sched.nb_ports == 1 ? MODE_BACK : MODE_PAIRS;
	if (sched.nb_ports == 0 || (mode == MODE_PAIRS && sched.nb_ports % 2 != 0)) {
		fprintf(stderr, "xnb-intr-fwd: %u ports: --mode pairs needs an even number, the others at least one\n",
			sched.nb_ports);
		return 2;
	}
	pool = rte_pktmbuf_pool_create("fwd", NB_MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		rte_socket_id());
	sched.min_spin = idle_polls;
	sched.max_spin = idle_polls << SPIN_GROWTH;
	for (p = 0; p < sched.nb_ports; p++) {
		if (pool == NULL || port_init(p, pool) != 0)
			return 1;
		sched.active[sched.nb_active++] = p;
		sched.spin[p] = idle_polls;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("xnb-intr-fwd: %u ports, mode %s, parking a port after %lu to %lu idle polls, looking at parked ports every %lu us\n",
		sched.nb_ports, mode_names[mode], sched.min_spin, sched.max_spin, look_us);
	fflush(stdout);

	t0 = rte_get_timer_cycles();
	run(&sched, mode, (uint64_t)look_us * rte_get_tsc_hz() / 1000000, &st);
	printf("xnb-intr-fwd: received %" PRIu64 " sent %" PRIu64 " sleeps %" PRIu64
		" wakeups %" PRIu64 " parks %" PRIu64 " unparks %" PRIu64 " busy_unparks %" PRIu64
		" cpu %.2f s of %.2f s\n",
		st.rx, st.tx, st.sleeps, st.wakeups, st.parks, st.unparks, st.busy_unparks, cpu_seconds(),
		(double)(rte_get_timer_cycles() - t0) / (double)rte_get_timer_hz());
	for (p = 0; p < sched.nb_ports; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	rte_eal_cleanup();
	return 0;
}
