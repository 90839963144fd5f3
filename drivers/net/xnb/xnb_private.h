/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Per-port and per-queue structures shared across the driver's files.
 *
 * Naming: "rx" and "tx" always mean the DPDK side. The Xen rings keep the
 * guest's point of view: the guest-tx ring carries the guest's transmits,
 * which become our rx; the guest-rx ring carries what we transmit.
 */

#ifndef XNB_PRIVATE_H
#define XNB_PRIVATE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "xnb_netif.h"
#include "xnb_xen.h"

#define XNB_DRIVER_NAME net_xnb
#define XNB_MAX_QUEUES 8
/* Grant-copy segments gathered before one copy call. */
#define XNB_COPY_BATCH 512
/* Largest frame a guest may send or receive (netif's 16-bit size). */
#define XNB_MAX_FRAME XEN_NETIF_MAX_TX_SIZE
/* Slots a guest-tx packet may use; more is an error (Linux: 18). */
#define XNB_MAX_TX_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* A guest-tx packet with this many slots or more disconnects the vif. */
#define XNB_FATAL_TX_SLOTS 20
#define XNB_MAX_BURST 64

enum xnb_platform {
	XNB_PLATFORM_XEN,
	XNB_PLATFORM_SIM,
};

/* Devargs, after parsing (xnb_args.c). */
struct xnb_args {
	uint16_t domid;
	uint16_t handle;
	bool has_mac;
	struct rte_ether_addr mac;
	uint16_t queues;
	enum xnb_platform platform;
	char sim_dir[PATH_MAX];
	char type[32];             /* xenstore backend type, "vif" */
};

/* What the frontend asked for and we agreed to (xnb_xenbus.c). */
struct xnb_features {
	bool sg;                   /* feature-sg: multi-slot packets */
	bool rx_notify;            /* feature-rx-notify */
	bool rx_copy;              /* request-rx-copy */
};

/* The frontend's keys for one queue (xnb_xenbus.c reads them). */
struct xnb_queue_conf {
	uint32_t tx_ring_ref;      /* guest-tx ring page */
	uint32_t rx_ring_ref;      /* guest-rx ring page */
	uint32_t evtchn;           /* the frontend's port (its guest-tx ring's if split) */
	uint32_t evtchn_rx;        /* split event channels: its guest-rx ring's port */
	bool split;                /* event-channel-tx/-rx rather than event-channel */
	struct xnb_features feat;
};

/* Why a queue was disconnected from the datapath (xnb_queue_fatal()). */
enum xnb_fatal {
	XNB_FATAL_NONE = 0,
	XNB_FATAL_TX_RING_OVERFLOW,   /* guest-tx req_prod - req_cons > size */
	XNB_FATAL_RX_RING_OVERFLOW,   /* guest-rx req_prod - req_cons > size */
	XNB_FATAL_TOO_MANY_SLOTS,         /* a packet with >= XNB_FATAL_TX_SLOTS */
	XNB_FATAL_COPY,               /* the copy call itself failed */
	XNB_FATAL_TX_EXTRAS,          /* a guest-tx extra-info chain too long */
};

struct xnb_queue;

struct xnb_rx_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t errors;           /* malformed guest packets, failed copies */
	uint64_t nombuf;           /* mbuf allocation failures */
	uint64_t copy_calls;
	uint64_t copy_segs;
};

struct xnb_tx_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t errors;           /* dropped: too large, failed copies */
	uint64_t copy_calls;
	uint64_t copy_segs;
};

/* Per guest-tx packet bookkeeping between gathering and the copy call. */
struct xnb_rx_pkt {
	struct rte_mbuf *head;
	uint16_t first_seg;        /* its first copy segment */
	uint16_t nb_segs;          /* its copy segments */
	RING_IDX first_req;        /* its first request */
	uint16_t nb_reqs;          /* requests including extra-info slots */
	int16_t status;            /* NETIF_RSP_* so far */
	uint16_t nb_extras;        /* extra-info slots, right after the first */
	uint16_t flags;            /* NETTXF_* of the first request */
	/* From the extra-info slots, for the offload work. */
	uint16_t gso_size;
	uint8_t gso_type;          /* XEN_NETIF_GSO_TYPE_*, NONE without */
	uint8_t extra_types;       /* bit (1 << type) per extra type seen */
};

/* DPDK rx queue: the guest-tx ring into mbufs (xnb_rx.c). */
struct xnb_rxq {
	struct xnb_queue *q;
	struct rte_mempool *mb_pool;
	/* The application enabled RTE_ETH_RX_OFFLOAD_SCATTER: chains allowed. */
	bool scatter;
	uint16_t port_id;
	uint16_t queue_id;

	/* Quiesce: the control path clears allow and waits for !busy. */
	uint32_t allow;
	uint32_t busy;

	struct xnb_rx_stats stats;

	/*
	 * Copied requests, indexed by ring index & (size - 1). Every slot
	 * is copied once, when req_prod first shows it; slots from
	 * guest_tx.req_cons up to req_copied are copied and not yet
	 * consumed (a partial packet, or a packet left for lack of mbufs).
	 */
	RING_IDX req_copied;
	netif_tx_request_t reqs[XNB_TX_RING_SIZE];
	struct xnb_rx_pkt pkts[XNB_MAX_BURST];
	xengnttab_grant_copy_segment_t copy[XNB_COPY_BATCH];
} __rte_cache_aligned;

/* Per guest-rx packet bookkeeping. */
struct xnb_tx_pkt {
	struct rte_mbuf *head;
	uint16_t first_seg;
	uint16_t nb_segs;
	RING_IDX first_slot;       /* its first guest-rx request */
	uint16_t nb_slots;
};

/* DPDK tx queue: mbufs into the guest-rx ring (xnb_tx.c). */
struct xnb_txq {
	struct xnb_queue *q;
	uint16_t port_id;
	uint16_t queue_id;

	uint32_t allow;
	uint32_t busy;

	struct xnb_tx_stats stats;

	netif_rx_request_t reqs[XNB_RX_RING_SIZE];
	struct xnb_tx_pkt pkts[XNB_MAX_BURST];
	/* Which slot of its packet each copy segment fills, for its status. */
	uint16_t seg_slot[XNB_COPY_BATCH];
	xengnttab_grant_copy_segment_t copy[XNB_COPY_BATCH];
} __rte_cache_aligned;

/* One Xen queue: both rings, one event channel (xnb_queue.c). */
struct xnb_queue {
	const struct xnb_xen_ops *ops;
	struct xnb_xen *xen;
	uint16_t domid;
	uint16_t id;

	bool connected;
	struct xnb_features feat;
	netif_tx_back_ring_t guest_tx;
	netif_rx_back_ring_t guest_rx;
	void *guest_tx_page;
	void *guest_rx_page;

	struct xnb_evtchn *evtchn;
	int evtchn_port;           /* local port, -1 when unbound (guest-tx ring's) */
	int evtchn_rx_port;        /* the guest-rx ring's: evtchn_port unless split */

	/* Set once by the datapath; the control path then disconnects. */
	uint32_t fatal;            /* enum xnb_fatal */
	/* Called from the datapath on a fatal error; must not block. */
	void (*on_fatal)(struct xnb_queue *q, void *arg);
	void *on_fatal_arg;

	struct xnb_rxq rx;
	struct xnb_txq tx;
};

/* xnb_queue.c */
void xnb_queue_init(struct xnb_queue *q, const struct xnb_xen_ops *ops,
		struct xnb_xen *xen, uint16_t domid, uint16_t id);
int xnb_queue_connect(struct xnb_queue *q, const struct xnb_queue_conf *c);
void xnb_queue_disconnect(struct xnb_queue *q);
/* Let the bursts of a connected queue run again (after quiesce). */
void xnb_queue_resume(struct xnb_queue *q);
void xnb_queue_quiesce(struct xnb_queue *q);
void xnb_queue_fatal(struct xnb_queue *q, enum xnb_fatal why);
const char *xnb_fatal_str(enum xnb_fatal why);

/* xnb_rx.c, xnb_tx.c: the burst functions. */
uint16_t xnb_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t xnb_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts);

#endif /* XNB_PRIVATE_H */
