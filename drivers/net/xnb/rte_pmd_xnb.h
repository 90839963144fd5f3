/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb's own API beside ethdev's, for applications that link the PMD.
 *
 * A guest may use fewer Xen queues than the port's queue pairs, and uses
 * none while it is not connected. Each time the queues it uses change,
 * the port raises RTE_ETH_EVENT_QUEUE_STATE, as DPDK's vhost PMD does
 * for its virtqueues; the application then takes the changes, one queue
 * and direction per call, as with rte_eth_vhost_get_queue_event().
 */

#ifndef RTE_PMD_XNB_H
#define RTE_PMD_XNB_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_pmd_xnb_queue_event {
	uint16_t queue_id;
	bool rx;                   /* the rx queue (the guest's guest-tx ring), else tx */
	bool enable;               /* the guest uses it from now on, else no longer */
};

/*
 * The oldest change not taken yet: 0 with *event filled, -EAGAIN when
 * none is left, -ENODEV when port_id is not an xnb port of this process
 * (in a secondary process none is: the primary takes them). A port keeps
 * the last 64 changes; older ones are dropped (the last of each queue
 * is always among them: a change of the queues used adds at most 16).
 */
int rte_pmd_xnb_get_queue_event(uint16_t port_id, struct rte_pmd_xnb_queue_event *event);

#ifdef __cplusplus
}
#endif

#endif /* RTE_PMD_XNB_H */
