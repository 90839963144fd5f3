/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The port: one ethdev serving one Xen vif (xnb_ethdev.c). It owns the
 * queues, the lock that serialises the control path (ethdev ops against
 * the interrupt thread), the xenstore watch interrupt and the link; its
 * XenBus side (xnb_xenbus.h) runs the handshake under that lock and
 * says what changed.
 */

#ifndef XNB_PORT_H
#define XNB_PORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ethdev.h>

#include "xnb_private.h"
#include "rte_pmd_xnb.h"
#include "xnb_ctrl.h"
#include "xnb_mcast.h"
#include "xnb_steer.h"
#include "xnb_xenbus.h"

struct rte_eth_dev;
struct rte_intr_handle;

/* Queue changes a port keeps for the application (rte_pmd_xnb.h). */
#define XNB_QEV_MAX 64

struct xnb_port {
	char name[XNB_NAME_MAX];
	uint16_t port_id;
	struct xnb_args args;           /* as the devargs said */
	const struct xnb_xen_ops *ops;  /* the platform */
	struct xnb_host *host;          /* its devices and xenstore */
	struct xnb_xen *xen;            /* the guest bus.domid; NULL for none yet */
	struct rte_ether_addr mac;
	uint16_t nb_queues;             /* Xen queues offered (queues=) */
	uint16_t nb_app_queues;         /* queue pairs the application configured */
	struct xnb_queue *queues[XNB_MAX_QUEUES];
	bool started;
	bool closed;
	uint16_t mtu;
	uint16_t lsc_deferred;          /* LSC alarm: waits for ethdev to record an op */
	uint32_t lsc_due;               /* the link changed: LSC to raise */
	uint32_t qstate_due;            /* the queues the guest uses changed: QUEUE_STATE */
	bool q_used[XNB_MAX_QUEUES];    /* each queue's use, as last told */
	/* Changes for rte_pmd_xnb_get_queue_event(), oldest first (port->lock). */
	struct rte_pmd_xnb_queue_event qev[XNB_QEV_MAX];
	uint16_t qev_head;
	uint16_t qev_len;
	bool stall_seen[XNB_MAX_QUEUES]; /* stalled queues already said (port_xs_alarm) */
	/* Serialises the control path: ethdev ops vs. the interrupt thread. */
	pthread_mutex_t lock;
	struct rte_intr_handle *intr;   /* the xenstore watch fd */
	struct rte_intr_handle *rx_intr; /* rx interrupts: the queues' fds (dev->intr_handle) */
	struct xnb_ctrl ctrl;           /* the frontend's control ring */
	struct xnb_steer steer;         /* its hashing, as the tx bursts read it */
	struct xnb_mcast mcast;         /* the guest's multicast filter (multicast control) */
	uint32_t steer_gen;             /* ctrl.gen published */
	bool steering;                  /* the queues are steered (txq->steered) */
	bool hash_keep_due;             /* a hashing change waits to be kept (xnb_port.c) */
	uint32_t hash_kept_gen;         /* ctrl.gen as kept in xenstore */
	struct rte_intr_handle *ctrl_intr; /* its event channel, on the interrupt thread */
	struct xnb_xenbus bus;
};

#define XNB_PORT_LOG(level, port, fmt, ...) \
	XNB_BUS_LOG(level, &(port)->bus, fmt, ##__VA_ARGS__)

/* xnb_port.c: the port's control path. */

/* The link as the port reports it while the vif is not up. */
extern const struct rte_eth_link xnb_port_link_down;
/* What the port lends its XenBus side. */
extern const struct xnb_xenbus_port_ops xnb_port_bus_ops;

/*
 * Open the XenBus side on a xenstore connection and take its watch fd
 * into the interrupt thread. 0 or -errno, logged.
 */
int xnb_port_bus_open(struct xnb_port *port);
/*
 * Stop the watch interrupt and the alarms, then let XenBus tell the
 * toolstack and the frontend (on_close) and close xenstore.
 */
void xnb_port_bus_close(struct xnb_port *port);
/*
 * One pass of the XenBus side and what it asks of the port. port->lock
 * held; true when the link changed.
 */
bool xnb_port_bus_update(struct xnb_port *port);
/* Is dev one of ours (xnb_ethdev.c)? */
bool xnb_is_port(const struct rte_eth_dev *dev);
/* Connected, started and no guest-rx queue stalled. */
bool xnb_port_link_up(const struct xnb_port *port);
/*
 * The link from the vif and the port's state, and the queue-state events;
 * port->lock held. True if either changed.
 */
bool xnb_port_link_sync(struct xnb_port *port);
/* LSC for a change an ethdev op made: raised after the op returns, without the lock. */
void xnb_port_lsc_after_op(struct xnb_port *port, bool changed);
/* A queue's datapath found the guest hostile (xnb_queue.on_fatal). */
void xnb_port_on_fatal(struct xnb_queue *q, void *arg);

/*
 * xnb_dump.c: the port's state, every queue's ring indices and counters,
 * as text (rte_eth_dev_priv_dump, telemetry's /ethdev/dump_priv).
 */
int xnb_dev_priv_dump(struct rte_eth_dev *dev, FILE *f);

#endif /* XNB_PORT_H */
