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
#include <rte_spinlock.h>

#include "xnb_netif.h"
#include "xnb_offload.h"
#include "xnb_xen.h"

struct xnb_steer;
struct xnb_mcast;

#define XNB_DRIVER_NAME net_xnb
#define XNB_MAX_QUEUES 8
/* Grant-copy segments gathered before one copy call. */
#define XNB_COPY_BATCH 512
/* Largest frame a guest may send or receive (netif's 16-bit size). */
#define XNB_MAX_FRAME XEN_NETIF_MAX_TX_SIZE
/* A frame's bytes beyond the MTU: Ethernet header and one VLAN tag. */
#define XNB_FRAME_OVERHEAD (RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN)
/* Slots a guest-tx packet may use; more is an error (Linux: 18). */
#define XNB_MAX_TX_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* A guest-tx packet with this many slots or more disconnects the vif. */
#define XNB_FATAL_TX_SLOTS 20
#define XNB_MAX_BURST 64
/*
 * MSS-sized frames one guest GSO super-frame may become when the
 * application did not enable LRO; a smaller gso_size is answered
 * NETIF_RSP_ERROR (a 64 KiB frame at an MSS of 256 B still fits).
 */
#define XNB_RX_GSO_MAX_SEGS 256

/* Offloads the offloads= devarg may narrow (all by default). */
#define XNB_OFFLOAD_CSUM (1u << 0)  /* blank checksums towards guests, IPv6 from them */
#define XNB_OFFLOAD_TSO4 (1u << 1)  /* GSO super-frames over IPv4, both ways */
#define XNB_OFFLOAD_TSO6 (1u << 2)  /* and over IPv6 */
#define XNB_OFFLOAD_ALL (XNB_OFFLOAD_CSUM | XNB_OFFLOAD_TSO4 | XNB_OFFLOAD_TSO6)

/*
 * hotplug=: whether Connected waits for the toolstack's hotplug script to
 * say hotplug-status=connected, as Linux's netback always waits.
 */
enum xnb_hotplug {
	XNB_HOTPLUG_AUTO,   /* wait when the vif's script does something (not true) */
	XNB_HOTPLUG_WAIT,   /* always wait */
	XNB_HOTPLUG_IGNORE, /* never wait */
};

/* Devargs, after parsing (xnb_args.c). */
struct xnb_args {
	uint16_t domid;
	uint16_t handle;
	bool has_mac;
	struct rte_ether_addr mac;
	uint16_t queues;
	const struct xnb_xen_ops *platform; /* platform=, looked up (xnb_xen_ops_get()) */
	char sim_dir[PATH_MAX];
	char type[32];             /* xenstore backend type, "vif" */
	uint32_t offloads;         /* XNB_OFFLOAD_* offered */
	bool keep_on_close;        /* on_close=keep (default): leave the vif Connected for a successor */
	enum xnb_hotplug hotplug;  /* hotplug= */
	uint32_t drain_ms;         /* drain_timeout=: frames for a guest without buffers dropped after */
	uint32_t stall_ms;         /* stall_timeout=: such a guest's queue stalled after (rx-notify) */
};

/* What the frontend asked for and we agreed to (xnb_xenbus.c). */
struct xnb_features {
	bool sg;                   /* feature-sg: multi-slot packets */
	bool rx_notify;            /* feature-rx-notify */
	bool rx_copy;              /* request-rx-copy */
	/*
	 * What the guest-rx ring may carry, as the frontend takes it and the
	 * offloads= devarg allows: blank checksums over IPv4 (no
	 * feature-no-csum-offload) and IPv6 (feature-ipv6-csum-offload), GSO
	 * super-frames (feature-gso-tcpv4/-tcpv6, with feature-sg).
	 */
	bool csum4;
	bool csum6;
	bool gso4;
	bool gso6;
	uint16_t xdp_headroom;     /* xdp-headroom, bounded (feature-xdp-headroom) */
};

/*
 * The most XDP headroom xnb gives: Linux's netback takes up to
 * XEN_NETIF_MAX_XDP_HEADROOM (0x7fff), past a page; xnb keeps half a
 * page for the frame. A response carries its offset, so a frontend gets
 * what it is given (Linux's netfront asks for XDP_PACKET_HEADROOM, 256).
 */
#define XNB_XDP_HEADROOM_MAX 2048

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
	uint64_t csum_blank;       /* frames the guest sent with a blank checksum */
	uint64_t gso;              /* GSO super-frames the guest sent */
	uint64_t gso_segments;     /* frames xnb cut them into (no LRO) */
	uint64_t throttled;        /* bursts that stopped at the vif's rate limit */
	uint64_t mcast_requests;   /* multicast control requests (MCAST_ADD/DEL) */
};

struct xnb_tx_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t errors;           /* dropped: too large, failed copies */
	uint64_t copy_calls;
	uint64_t copy_segs;
	uint64_t csum_blank;       /* frames sent with NETRXF_csum_blank */
	uint64_t gso;              /* super-frames sent with a GSO slot */
	uint64_t tso_segments;     /* frames xnb cut TSO requests into */
	uint64_t stalls;           /* times the guest-rx queue was marked stalled */
	uint64_t mcast_filtered;   /* multicast frames not in the guest's filter, dropped */
	uint64_t drain_drops;      /* frames dropped: no guest buffers for the drain time */
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
};

/*
 * What the general path knows of a packet beyond its record, kept apart
 * so the fast case's record stays small: a GSO super-frame segmented
 * has no head, its frames are in rxq->seg_out.
 */
struct xnb_rx_pkt_ext {
	struct xnb_hdr hdr;        /* its headers, when segmented */
	uint16_t first_len;        /* bytes in its first slot */
	uint16_t first_out;
	uint16_t nb_out;
	/* The guest's hash slot (read only when the packet has extra slots). */
	bool has_hash;
	uint32_t hash;
	bool mcast;                /* a multicast control request: no frame */
};

/* No frame's NETTXF_csum_blank | NETTXF_extra_info bits: xnb_rxq.blank_fast off. */
#define XNB_RX_BLANK_FAST_OFF 0x8000

/* DPDK rx queue: the guest-tx ring into mbufs (xnb_rx.c). */
struct xnb_rxq {
	struct xnb_queue *q;
	struct rte_mempool *mb_pool;
	/* The application enabled RTE_ETH_RX_OFFLOAD_SCATTER: chains allowed. */
	bool scatter;
	/*
	 * The application takes blank TCP/UDP checksums (RX_OFFLOAD_TCP_CKSUM,
	 * _UDP_CKSUM) as RTE_MBUF_F_RX_L4_CKSUM_NONE, and GSO super-frames
	 * (RX_OFFLOAD_TCP_LRO) as one RTE_MBUF_F_RX_LRO chain.
	 */
	bool csum_tcp;
	bool csum_udp;
	bool lro;
	/* RX_OFFLOAD_IPV4_CKSUM: IPv4 header checksums checked (GOOD/BAD). */
	bool csum_ip;
	/*
	 * A frame's NETTXF_csum_blank and NETTXF_extra_info bits when the fast
	 * path may take it: NETTXF_csum_blank while csum_tcp && !csum_ip, else
	 * XNB_RX_BLANK_FAST_OFF, which no frame has. Worked out by each burst,
	 * so that each frame pays one compare for its flags and the queue's
	 * settings.
	 */
	uint16_t blank_fast;
	/*
	 * While the fast path is on, what a frame with a blank checksum is
	 * expected to be: TCP over IPv4 with guess_l4 bytes of TCP header
	 * (guess_tx: its tx_offload), the last the fast path found. The
	 * gathering loop writes that into each such frame's mbuf, and the
	 * completion loop leaves one that matches untouched (rx_blank_tcp4()).
	 * A new length found is kept in guess_next and taken up once the
	 * batch is done, since the batch's frames hold the old one.
	 */
	uint32_t guess_l4;
	uint32_t guess_next;
	uint64_t guess_tx;
	/* Shortest frame the fast path reads: XNB_GUESS_MIN(guess_l4). */
	uint32_t guess_min;
	/* RX_OFFLOAD_RSS_HASH: a guest's hash slot into hash.rss (RX_RSS_HASH). */
	bool rss_hash;
	/* The vif's multicast filter, which the guest's MCAST slots amend (the port's). */
	struct xnb_mcast *mcast;
	/* Longest frame taken (MTU + XNB_FRAME_OVERHEAD); GSO frames aside. */
	uint32_t max_frame;
	uint16_t port_id;          /* mbuf->port */

	/* Quiesce: the control path clears allow and waits for !busy. */
	uint32_t allow;
	uint32_t busy;

	/*
	 * The toolstack's rate limit on what the guest sends (its "rate"
	 * node), as Linux's netback's credit scheduler: rate_bytes of credit
	 * every rate_tsc timer cycles, 0 for none. Written by the control
	 * path (xnb_rx_set_rate()), read by each burst; the rest is the
	 * datapath's own.
	 */
	uint64_t rate_bytes;
	uint64_t rate_tsc;
	uint64_t credit;           /* bytes the guest may still send */
	uint64_t credit_start;     /* timer cycles when the window began */
	bool credit_waiting;       /* the last burst stopped at the limit */

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
	/* The frames of the segmented GSO packets of one copy batch. */
	struct rte_mbuf *seg_out[XNB_RX_GSO_MAX_SEGS];
	struct xnb_rx_pkt_ext pkt_ext[XNB_MAX_BURST];   /* by packet, general path */
	/*
	 * Frames made ready beyond what a burst asked for (a super-frame
	 * segmented into more frames than were left), handed out first by
	 * the next burst; freed when the queue disconnects.
	 */
	struct rte_mbuf *stash[XNB_RX_GSO_MAX_SEGS];
	uint16_t stash_head;
	uint16_t stash_len;
} __rte_cache_aligned;

/* Per guest-rx packet bookkeeping: one frame to the guest. */
struct xnb_tx_pkt {
	struct rte_mbuf *head;     /* freed after the copy; NULL on all but the
				    * last frame of an mbuf segmented here */
	uint32_t len;              /* bytes to the guest */
	RING_IDX first_slot;       /* its first guest-rx request */
	uint16_t first_seg;
	uint16_t nb_segs;
	uint16_t nb_slots;         /* data slots; extra-info slots are not counted */
	/* NETRXF_* of its first slot; with NETRXF_extra_info, txq->gso[] says more. */
	uint16_t flags;
};

/*
 * The extra-info slots of a frame to the guest (NETRXF_extra_info): a
 * GSO slot when gso_size is set, a hash slot when hash_type is (struct
 * xnb_tx_hash's type: _XEN_NETIF_CTRL_HASH_TYPE_* + 1), in that order.
 */
struct xnb_tx_extra {
	uint16_t gso_size;
	uint8_t gso_type;
	uint8_t hash_type;
	uint32_t hash;
};

/* Frames, and fixed-up header copies, a tx copy batch may hold. */
#define XNB_TX_HDRS 128

/* DPDK tx queue: mbufs into the guest-rx ring (xnb_tx.c). */
struct xnb_txq {
	struct xnb_queue *q;
	/* Longest frame sent (MTU + XNB_FRAME_OVERHEAD); TSO frames aside. */
	uint32_t max_frame;

	uint32_t allow;
	uint32_t busy;

	/*
	 * A guest that posts no receive buffers (xnb_tx.c), as Linux's
	 * netback treats it: frames that find no room for drain_tsc timer
	 * cycles are dropped rather than handed back; a frontend with
	 * feature-rx-notify that posts none for stall_tsc has its queue
	 * marked stalled (the port's link goes down) until it posts again.
	 * 0: never. blocked_since: when a burst last found no room after
	 * one that made progress (0: not blocked). stalled: set by the
	 * datapath, cleared by it or by the control path
	 * (xnb_tx_stall_check()).
	 */
	uint64_t drain_tsc;
	uint64_t stall_tsc;
	uint64_t blocked_since;
	uint32_t stalled;

	/*
	 * Steering by the frontend's hash (xnb_steer.c): while steered, a
	 * burst on any queue of the port may write this queue's guest-rx
	 * ring, under lock. Both set by the control path with every queue
	 * of the port quiesced.
	 */
	uint32_t steered;
	struct xnb_steer *steer;
	rte_spinlock_t lock;
	/*
	 * The guest's XDP headroom (feature-xdp-headroom): where data starts
	 * in each frame's first page, as the frontend's xdp-headroom says
	 * (at most XNB_XDP_HEADROOM_MAX); hr_cur: as the running burst took it.
	 */
	uint16_t headroom;
	uint16_t hr_cur;
	/* The vif's multicast filter (the port's), applied while enabled. */
	struct xnb_mcast *mcast;

	struct xnb_tx_stats stats;

	netif_rx_request_t reqs[XNB_RX_RING_SIZE];
	/* Frames of a copy batch: an mbuf segmented here is several. */
	struct xnb_tx_pkt pkts[XNB_TX_HDRS];
	struct xnb_tx_extra extra[XNB_TX_HDRS];  /* by frame, with NETRXF_extra_info */
	/* Which slot of its packet each copy segment fills, for its status. */
	uint16_t seg_slot[XNB_COPY_BATCH];
	xengnttab_grant_copy_segment_t copy[XNB_COPY_BATCH];
	/* Headers copied out of mbufs and fixed up, the source of their copies. */
	uint8_t hdr[XNB_TX_HDRS][XNB_GSO_HDR_MAX];
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

	/* Rx interrupts (xnb_intr.c): -1 unless the application asked for them. */
	int intr_fd;               /* an epoll set: intr_evfd, the event channel's fd */
	int intr_evfd;             /* an eventfd xnb writes */

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
/*
 * Map the rings and bind the event channels, taking the rings at their
 * shared indices (a reattach resumes where the last backend stopped).
 * 0, -EPROTO when the indices claim more requests than a ring holds,
 * else the -errno of the failed op. Logs nothing above DEBUG.
 */
int xnb_queue_connect(struct xnb_queue *q, const struct xnb_queue_conf *c);
void xnb_queue_disconnect(struct xnb_queue *q);
/* Let the bursts of a connected queue run again (after quiesce). */
void xnb_queue_resume(struct xnb_queue *q);
void xnb_queue_quiesce(struct xnb_queue *q);

/*
 * True when the control path's quiesce orders the datapath's accesses
 * with membarrier(2) (xnb_queue.c): the datapath's busy store and allow
 * load then need only a compiler barrier between them, not a fence.
 */
extern bool xnb_dp_asymmetric;

/*
 * The datapath's side of quiesce, for anything that touches the rings
 * or the event channel from an lcore (bursts, rx interrupt arming): mark
 * the half busy, then look whether the control path allows it. Every
 * enter is paired with xnb_dp_leave(), allowed or not.
 *
 * The store must be seen before the load (Dekker's pattern against the
 * control path's allow store and busy load). A fence says so on every
 * burst, at about 20 cycles, most of an idle vif's poll; with
 * membarrier(2) available the control path, which quiesces rarely, pays
 * instead: its barrier makes every running thread of the process order
 * its accesses, so that a burst either is seen busy or sees allow == 0.
 */
static __rte_always_inline bool
xnb_dp_enter(uint32_t *busy, uint32_t *allow)
{
	if (likely(xnb_dp_asymmetric)) {
		__atomic_store_n(busy, 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		return __atomic_load_n(allow, __ATOMIC_ACQUIRE) != 0;
	}
	__atomic_store_n(busy, 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(allow, __ATOMIC_SEQ_CST) != 0;
}

static __rte_always_inline void
xnb_dp_leave(uint32_t *busy)
{
	__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
}
/*
 * Stop the queue's bursts until it is connected again and call on_fatal;
 * the first call per connection does so and logs one line, later ones
 * do nothing. err: the -errno behind it (a failed copy call), else 0.
 * Datapath context: never blocks.
 */
void xnb_queue_fatal(struct xnb_queue *q, enum xnb_fatal why, int err);

/*
 * Rx interrupts (xnb_intr.c). open/close: the queue's fd, for the life of
 * the port; attach/detach: the event channel joins it while connected
 * (xnb_queue_connect/disconnect call them); enable/disable: on the
 * polling lcore, between bursts. 0 or -errno.
 */
int xnb_intr_open(struct xnb_queue *q);
void xnb_intr_close(struct xnb_queue *q);
void xnb_intr_attach(struct xnb_queue *q);
void xnb_intr_detach(struct xnb_queue *q);
int xnb_intr_enable(struct xnb_queue *q);
int xnb_intr_disable(struct xnb_queue *q);
const char *xnb_fatal_str(enum xnb_fatal why);

/* xnb_rx.c, xnb_tx.c: the burst functions. */
uint16_t xnb_rx_burst(void *rxq, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t xnb_tx_burst(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t xnb_tx_prepare(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts);
/* Free the frames an rx queue holds between bursts (control path, quiesced). */
void xnb_rx_release(struct xnb_rxq *rxq);
/*
 * Limit what the guest sends on the queue to bytes every usec (0 in
 * either: no limit). Control path; takes effect at the next burst.
 */
void xnb_rx_set_rate(struct xnb_rxq *rxq, uint64_t bytes, uint64_t usec);
/*
 * How long a guest may post no receive buffers while frames wait before
 * they are dropped (drain_ms) and before its queue is marked stalled
 * (stall_ms; only with feature-rx-notify); 0: never. Control path.
 */
void xnb_tx_set_timeouts(struct xnb_txq *txq, uint32_t drain_ms, uint32_t stall_ms);
/* Forget a blocked or stalled state: the queue (re)connects. Control path. */
void xnb_tx_stall_reset(struct xnb_txq *txq);
/*
 * Control path, every second: is the queue stalled? A stalled queue
 * whose guest has posted buffers again is cleared first (*recovered set).
 */
bool xnb_tx_stall_check(struct xnb_txq *txq, bool *recovered);

#endif /* XNB_PRIVATE_H */
