/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What the netfront library's files share and its users do not see: the
 * error message, the clock, the xenstore helpers of netfront_xenbus.c
 * (the toolstack role uses them too) and a queue's setup and release
 * from netfront_ring.c (the handshake calls them).
 */

#ifndef NETFRONT_PRIVATE_H
#define NETFRONT_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <xenstore.h>

#include "netfront.h"

#define NF_XS_RETRIES 100
#define NF_WATCH_TOKEN "nf-backend-state"

#define NF_ERR(nf, fmt, ...) \
	fprintf(stderr, "netfront dom%u vif%u: " fmt "\n", \
		(nf)->conf.domid, (nf)->conf.handle, ##__VA_ARGS__)

/* A bit per XenBus state, for nf_wait_be_state()'s mask. */
#define NF_MASK(s) (1u << (s))

static inline uint64_t
nf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- netfront_xenbus.c --- */

/* A XenBus state's name, for messages. */
const char *nf_state_str(int s);
/* Write dir/key (key NULL: dir itself) in transaction t; false with errno. */
bool nf_xs_write(struct netfront *nf, xs_transaction_t t, const char *dir,
		const char *key, const char *val);
/* Take every queued watch event. */
void nf_drain_watches(struct netfront *nf);
/* Wait for a backend state in mask: the state, -ETIMEDOUT or -EINTR. */
int nf_wait_be_state(struct netfront *nf, unsigned int mask, unsigned int timeout_ms,
		bool cancellable);

/* --- netfront_ring.c --- */

/* Set up queue qid: ring pages granted, event channel port(s), rx posted. */
int nf_queue_setup(struct netfront *nf, uint16_t qid);
/* Revoke its grants, close its event channel, keep its counters. */
void nf_queue_release(struct netfront_queue *q);
/* Revoke grant *ref (a backend mapping it gets the timeout), then *ref = -1. */
int nf_ungrant_wait(struct netfront *nf, int32_t *ref, const char *what);

/* --- netfront_ctrl.c --- */

/* The control ring's pages granted and its port allocated (nf->ctrl set). */
int nf_ctrl_setup(struct netfront *nf);
/* Its keys (ctrl-ring-ref, event-channel-ctrl) in transaction t; false with errno. */
bool nf_ctrl_publish(struct netfront *nf, xs_transaction_t t);
void nf_ctrl_release(struct netfront *nf);

#endif /* NETFRONT_PRIVATE_H */
