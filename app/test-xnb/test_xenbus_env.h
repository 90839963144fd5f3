/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What the handshake suites (xenbus, discover) share: a simulated
 * platform with a real xenstored started through devtools/xnb-xenstored,
 * an mbuf pool, ports configured as an application would, guests from
 * the netfront emulator, bounded waits, and a frame both ways.
 */

#ifndef XNB_TEST_XENBUS_ENV_H
#define XNB_TEST_XENBUS_ENV_H

#include <pthread.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "netfront.h"

/* Bound of every wait, ms. */
#define ENV_WAIT_MS 5000

/* Make a sim dir under /tmp named after prefix, start xenstored, make the pool. */
int env_start(const char *prefix);
/* Stop xenstored, free the pool, remove the sim dir. */
void env_stop(void);
const char *env_sim_dir(void);
/* The suite's mbuf pool (the ports' rx queues take from it). */
struct rte_mempool *env_pool(void);

/* Configure one queue pair with LSC interrupts and start the port. */
int env_port_setup(uint16_t port_id);
/* The same with nb_queues queue pairs. */
int env_port_setup_queues(uint16_t port_id, uint16_t nb_queues);
/* The same with the application's configuration conf. */
int env_port_setup_conf(uint16_t port_id, uint16_t nb_queues, const struct rte_eth_conf *conf);
/* Stop, close and remove a port made with rte_vdev_init(name). */
void env_port_destroy(int port_id, const char *name);

/* A guest (toolstack role on) of domid, named name (NULL: none). */
struct netfront *env_guest_open(uint16_t domid, const char *name, unsigned int timeout_ms);

uint64_t env_deadline(unsigned int ms);
/* Sleep a little; true once end has passed. */
bool env_waited(uint64_t end);
int env_wait_link(int port_id, int up);
int env_wait_backend_state(struct netfront *nf, int state);

/* netfront_connect() in a thread, for a guest that waits for its backend. */
struct env_connect {
	struct netfront *nf;       /* set before env_connect_start */
	int ret;                   /* netfront_connect's result, after the join */
	pthread_t th;
};

int env_connect_start(struct env_connect *c);
void env_connect_join(struct env_connect *c);

/* A frame from the guest through the port's rx, back by its tx, byte-exact. */
int env_check_traffic(struct netfront *nf, int port_id, uint32_t len);
/* The same on queue qid of both the guest and the port. */
int env_check_queue_traffic(struct netfront *nf, int port_id, uint16_t qid, uint32_t len);

#endif /* XNB_TEST_XENBUS_ENV_H */
