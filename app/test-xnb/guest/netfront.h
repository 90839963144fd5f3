/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * netfront: a Xen network frontend on the simulated platform, as a
 * library. It plays two roles a guest system would split:
 *
 *  - the toolstack (what `xl create` / `xl destroy` do for a vif): it
 *    writes the backend and frontend device directories in xenstore and
 *    removes them again;
 *  - the guest's netfront driver, behaving as Linux's xen-netfront does:
 *    XenBus handshake (1 -> 4, never 3), one page per ring, every rx
 *    buffer posted up front, grant references per slot, notifications
 *    through an event channel, RING_*_CHECK_NOTIFY hold-off.
 *
 * Ring names keep the guest's point of view here (we are the guest):
 * "tx" is what the guest sends (the backend's rx), "rx" what it receives.
 *
 * The structures are public so hostile tests can write raw ring contents,
 * indices, grant refs and xenstore keys; the normal API keeps them sane.
 * Nothing is global: several netfronts can live in one process. A
 * netfront is not thread-safe, but its queues may be driven by different
 * threads through the netfront_queue_* calls.
 *
 * The backend is untrusted too: every response is copied off the ring once
 * before it is looked at, and every id, offset and length is bounded.
 */

#ifndef NETFRONT_H
#define NETFRONT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenstore.h>

#include "xnb_netif.h"
#include "xensim.h"

#define NETFRONT_TX_RING_SIZE ((unsigned int)XNB_TX_RING_SIZE)
#define NETFRONT_RX_RING_SIZE ((unsigned int)XNB_RX_RING_SIZE)
#define NETFRONT_MAX_QUEUES 8
/* Largest frame: netif's 16-bit size field. */
#define NETFRONT_MAX_FRAME XEN_NETIF_MAX_TX_SIZE
/* Slots a transmitted frame may use (what every backend accepts). */
#define NETFRONT_MAX_TX_SLOTS XEN_NETIF_NR_SLOTS_MIN
/* Slots a received frame may use before it is dropped as malformed. */
#define NETFRONT_MAX_RX_SLOTS 64
/* Guest pages one queue uses: two rings, rx buffers, tx buffers. */
#define NETFRONT_QUEUE_PAGES (2 + NETFRONT_RX_RING_SIZE + NETFRONT_TX_RING_SIZE)
/* The control ring, its key page and its mapping page. */
#define NETFRONT_CTRL_PAGES 3
#define NETFRONT_ETH_HLEN 14
#define NETFRONT_DEFAULT_TIMEOUT_MS 10000

/* How netfront_send() lays a frame out in slots. */
enum netfront_tx_layout {
	/*
	 * As skbs come: the first slot starts at a varying offset in its
	 * page (but holds at least the Ethernet header, as Linux ensures),
	 * and following slots are page fragments of varying offset and
	 * size, so data crosses slots at unaligned points.
	 */
	NETFRONT_TX_VARIED = 0,
	/* Every slot at offset 0, full pages but the last. */
	NETFRONT_TX_ALIGNED,
};

struct netfront_conf {
	const char *sim_dir;       /* the simulation's directory */
	uint16_t domid;            /* the guest domain */
	uint16_t handle;           /* vif index: device/vif/<handle> */
	uint16_t backend_domid;    /* XENSIM_BACKEND_DOMID */
	const char *type;          /* backend type; NULL: "vif" */
	/*
	 * The domain's name (xl's name=), written by the toolstack role to
	 * /local/domain/<domid>/name as xl does; NULL or "": none written.
	 */
	const char *name;
	uint8_t mac[6];            /* the guest's MAC */

	/* Features the frontend offers (used only if the backend has them). */
	bool sg;                   /* feature-sg: multi-slot frames */
	bool rx_notify;            /* feature-rx-notify */
	/*
	 * Checksum offload, as Linux's NETIF_F_IP_CSUM/RXCSUM: send TCP/UDP
	 * with NETTXF_csum_blank, and take frames with NETRXF_csum_blank.
	 * Off: feature-no-csum-offload=1 is written and neither is done.
	 */
	bool csum;
	/* feature-ipv6-csum-offload: take IPv6 frames with a blank checksum. */
	bool ipv6_csum;
	/*
	 * feature-gso-tcpv4/-tcpv6: take GSO frames (an extra-info slot)
	 * from the backend; send them when the backend offers the same
	 * (and sg and csum are on), as Linux's TSO.
	 */
	bool gso;
	/* One event channel per queue even when the backend offers two. */
	bool no_split_evtchn;
	/*
	 * Give the backend a control ring (netif.h: ctrl-ring-ref,
	 * event-channel-ctrl) when it offers feature-ctrl-ring, as Windows'
	 * PV drivers do for hashing (Linux's netfront does not). Three more
	 * pages after the queues' (NETFRONT_CTRL_PAGES).
	 */
	bool ctrl_ring;
	/*
	 * Ask for multicast control (request-multicast-control=1) when the
	 * backend offers feature-multicast-control: only the multicast
	 * addresses added (netfront_mcast()) come through.
	 */
	bool mcast_ctrl;
	/* xdp-headroom to ask for when the backend offers feature-xdp-headroom. */
	uint16_t xdp_headroom;
	uint16_t nr_queues;        /* 1, or multi-queue-num-queues */

	/*
	 * Guest memory. dom NULL: create <sim_dir>/dom<domid> with nr_pages
	 * pages (0: what the queues need) and destroy it on close. Otherwise
	 * use the caller's domain (several vifs of one guest), from page
	 * pfn_base on; the caller keeps the ranges of its vifs apart.
	 */
	struct xensim_dom *dom;
	uint32_t nr_pages;
	uint32_t nr_grants;        /* 0: enough for the queues */
	uint32_t pfn_base;

	/* Do the toolstack's writes on open and removal on close. */
	bool toolstack;
	/*
	 * The backend's script and bridge nodes, as xl writes them from the
	 * vif's script= and bridge=; NULL: /bin/true, and no bridge node.
	 */
	const char *script;
	const char *bridge;
	/* Bound of every wait on the backend (ms). */
	unsigned int timeout_ms;

	enum netfront_tx_layout tx_layout;
	uint32_t seed;             /* for the varied layout */

	/*
	 * When set and non-zero, the handshake's waits give up with -EINTR
	 * (for signal handlers). Teardown waits stay bounded by timeout_ms.
	 */
	const volatile int *cancel;
};

struct netfront_stats {
	uint64_t tx_packets;       /* frames handed to the backend */
	uint64_t tx_csum_blank;    /* of them, sent with NETTXF_csum_blank */
	uint64_t tx_gso;           /* of them, sent with a GSO extra-info slot */
	uint64_t tx_bytes;
	uint64_t tx_errors;        /* frames answered NETIF_RSP_ERROR/DROPPED */
	uint64_t tx_completed;     /* frames whose every slot was answered */
	uint64_t rx_packets;       /* whole frames delivered */
	uint64_t rx_bytes;
	uint64_t rx_csum_blank;    /* delivered with NETRXF_csum_blank */
	uint64_t rx_data_validated;/* delivered with NETRXF_data_validated */
	uint64_t rx_gso;           /* delivered with a GSO extra-info slot */
	uint64_t rx_errors;        /* frames dropped: error status, bad layout */
	uint64_t proto_errors;     /* backend protocol violations */
	uint64_t notifies;         /* event channel kicks we sent */
	uint64_t events;           /* event channel kicks we took */
};

/*
 * What a frame carries besides its bytes on the guest-tx ring (as Linux's
 * xennet_start_xmit derives it from an skb).
 */
struct netfront_tx_meta {
	uint16_t flags;            /* NETTXF_csum_blank, NETTXF_data_validated */
	uint8_t gso_type;          /* XEN_NETIF_GSO_TYPE_NONE, _TCPV4, _TCPV6 */
	uint16_t gso_size;         /* the MSS, with a GSO type */
};

/*
 * The same for a received frame, from its first response and its GSO
 * extra-info slot; valid during the receive callback (q->rx_meta).
 */
struct netfront_rx_meta {
	uint16_t flags;            /* NETRXF_csum_blank, NETRXF_data_validated */
	uint8_t gso_type;          /* XEN_NETIF_GSO_TYPE_NONE when no GSO slot */
	uint16_t gso_size;
	/* A hash extra slot: _XEN_NETIF_CTRL_HASH_TYPE_* + 1, 0 when none. */
	uint8_t hash_type;
	uint32_t hash;
	uint16_t offset;           /* where the frame started in its first page */
};

/* A transmit slot in flight (indexed by request id). */
struct netfront_tx_slot {
	int32_t gref;              /* -1 when free */
	uint16_t head;             /* id of its frame's first slot */
	bool first;                /* first slot of its frame */
	bool err;                  /* (first slot) an error was counted */
	uint16_t pending;          /* (first slot) slots not yet answered */
};

/* A receive buffer (indexed by its id = its ring position when posted). */
struct netfront_rx_buf {
	int32_t gref;              /* -1 when not posted */
	uint32_t pfn;
};

struct netfront;

struct netfront_queue {
	struct netfront *nf;
	uint16_t id;

	/* The two front rings and their pages. */
	netif_tx_front_ring_t tx;
	netif_rx_front_ring_t rx;
	uint32_t tx_ring_pfn;
	uint32_t rx_ring_pfn;
	int32_t tx_ring_ref;       /* -1 when not granted */
	int32_t rx_ring_ref;

	/*
	 * Event channels: one handle (one fd) per queue; one port, or two
	 * when the backend offers feature-split-event-channels: port for the
	 * guest-tx ring, port_rx for the guest-rx ring (== port otherwise).
	 */
	struct xensim_evtchn *evtchn;
	int port;                  /* -1 when none */
	int port_rx;

	/* Transmit buffers: one page per request id. */
	uint32_t tx_pfn_base;
	struct netfront_tx_slot tx_slot[NETFRONT_TX_RING_SIZE];
	uint16_t tx_free[NETFRONT_TX_RING_SIZE];
	uint16_t tx_nr_free;
	uint32_t rng;
	/* Extra-info slots sent whose NETIF_RSP_NULL is still due. */
	uint32_t tx_extras_due;

	/* Receive buffers; rx_posted[i] is the buffer posted at ring index i. */
	uint32_t rx_pfn_base;
	struct netfront_rx_buf rx_buf[NETFRONT_RX_RING_SIZE];
	uint16_t rx_posted[NETFRONT_RX_RING_SIZE];
	uint16_t rx_free[NETFRONT_RX_RING_SIZE];
	uint16_t rx_nr_free;

	/* Reassembly of a frame spread over several rx responses. */
	bool asm_busy;             /* a frame is being gathered */
	bool asm_bad;              /* it is being dropped */
	bool asm_extra;            /* the next response is an extra-info slot */
	bool asm_more;             /* the last data slot said more_data */
	uint32_t asm_len;
	uint32_t asm_slots;
	uint8_t *asm_buf;          /* NETFRONT_MAX_FRAME bytes */
	struct netfront_rx_meta asm_meta;
	/* The frame being delivered: valid during the receive callback. */
	struct netfront_rx_meta rx_meta;

	bool broken;               /* the backend violated the protocol */
	struct netfront_stats stats;
};

struct netfront {
	struct netfront_conf conf;
	char type[32];
	char name[64];
	char sim_dir[4096];

	struct xensim_dom *dom;
	bool own_dom;

	struct xs_handle *xs;
	char fe_path[128];         /* /local/domain/<domid>/device/vif/<handle> */
	char be_path[128];         /* the backend's directory */
	char be_state_path[160];
	bool watching;
	bool toolstack_done;       /* the toolstack's writes are in xenstore */

	/* What the backend offers (read at InitWait). */
	bool be_sg;
	bool be_rx_copy;
	bool be_split_evtchn;
	bool be_gso_tcpv4;
	bool be_gso_tcpv6;
	bool be_ipv6_csum;
	unsigned int be_max_queues;

	bool sg;                   /* negotiated */
	/* What we may send (negotiated): NETTXF_csum_blank over IPv4 and IPv6,
	 * GSO TCPv4 and TCPv6. */
	bool tx_csum;
	bool tx_csum_ipv6;
	bool tx_gso_tcpv4;
	bool tx_gso_tcpv6;
	bool connected;            /* our state is 4 */
	bool backend_gone;         /* backend went to Closing/Closed */
	int be_state;              /* last seen, XenbusStateUnknown if none */

	uint16_t nr_queues;
	struct netfront_queue q[NETFRONT_MAX_QUEUES];

	/* The control ring: in use when ctrl is set (netfront_ctrl.c). */
	bool be_ctrl_ring;         /* the backend offers feature-ctrl-ring */
	bool be_mcast_ctrl;        /* the backend offers feature-multicast-control */
	bool be_xdp_headroom;      /* the backend offers feature-xdp-headroom */
	bool ctrl;
	xen_netif_ctrl_front_ring_t ctrl_ring;
	uint32_t ctrl_pfn;         /* ring page; the key's and the mapping's follow */
	int32_t ctrl_ring_ref;     /* -1 when not granted */
	int32_t ctrl_key_ref;      /* read-only grant of the key page */
	int32_t ctrl_map_ref;      /* read-only grant of the mapping page */
	struct xensim_evtchn *ctrl_evtchn;
	int ctrl_port;
	uint16_t ctrl_next_id;
	/* Counters of queues already released (disconnects). */
	struct netfront_stats stats_closed;
};

/* Receive callback: frame valid during the call only, and q->rx_meta
 * with it. netfront_send() may be called from it; netfront_poll() may not. */
typedef void (*netfront_rx_cb)(void *arg, struct netfront_queue *q,
		const uint8_t *frame, uint32_t len);

/*
 * One control request (netif.h's XEN_NETIF_CTRL_TYPE_*), answered
 * within the timeout: 0 with the response's status and data, -ENOTCONN
 * without a control ring, -ETIMEDOUT, -EPROTO when the response does
 * not match the request.
 */
int netfront_ctrl(struct netfront *nf, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
		uint32_t *status, uint32_t *data);
/*
 * Amend the backend's multicast filter (netif.h's dummy transmit request
 * with an MCAST_ADD or MCAST_DEL extra slot) on queue 0; its answer
 * comes as any transmit response (an ERROR counts in tx_errors).
 */
int netfront_mcast(struct netfront *nf, bool add, const uint8_t *mac);

/*
 * A new xdp-headroom while connected, as Linux's netfront sets it when an
 * XDP program is attached (xennet_xdp_set()): the key written, our state
 * Reconfiguring, the backend's Reconfigured awaited, Connected again.
 * 0, -EOPNOTSUPP without feature-xdp-headroom, -ETIMEDOUT, -ENOTCONN.
 */
int netfront_set_xdp_headroom(struct netfront *nf, uint16_t headroom);

/* SET_HASH_KEY of len octets (at most a page) through the key page. */
int netfront_ctrl_set_key(struct netfront *nf, const uint8_t *key, uint32_t len,
		uint32_t *status);
/* SET_HASH_MAPPING of len entries at off through the mapping page. */
int netfront_ctrl_set_mapping(struct netfront *nf, const uint32_t *entries, uint32_t len,
		uint32_t off, uint32_t *status);

/* Defaults: backend dom0, "vif", sg, rx-notify, csum, ipv6 csum and gso
 * offered (as Linux), one queue, toolstack on, 10 s timeouts, varied
 * layout. sim_dir and domid remain. */
void netfront_conf_init(struct netfront_conf *c);

/*
 * Create (or adopt) the guest domain, connect to xenstore
 * (<sim_dir>/socket) and, with conf->toolstack, write the device
 * directories. NULL on failure with errno set and a message on stderr.
 */
struct netfront *netfront_open(const struct netfront_conf *conf);

/*
 * The frontend handshake: wait for the backend's InitWait, read its
 * features, set up rings, grants, event channels and rx buffers, publish
 * them, go to Connected and wait for the backend's Connected. 0 or -errno
 * (-ETIMEDOUT when the backend does not answer in time).
 */
int netfront_connect(struct netfront *nf);

/*
 * Close as Linux's netfront does on removal: state 5, wait for the backend
 * to close, state 6, wait for Closed, then revoke grants and free rings.
 * Also used after the backend went away. 0, or -errno if a wait ran out
 * (everything is released all the same, except grants the backend still
 * holds mapped).
 */
int netfront_disconnect(struct netfront *nf);

/* Disconnect if needed, remove the device (toolstack), destroy or release
 * the domain, free everything. NULL is fine. */
void netfront_close(struct netfront *nf);

/*
 * Send one frame on queue 0 (netfront_queue_send for others). 0, -EAGAIN
 * when the ring lacks slots or ids (poll, then retry), -EMSGSIZE when it
 * cannot be sent at all (too large, more than one page without sg),
 * -ENOTCONN when not connected.
 */
int netfront_send(struct netfront *nf, const void *frame, uint32_t len);
int netfront_queue_send(struct netfront_queue *q, const void *frame, uint32_t len);

/*
 * Send with offload metadata (meta NULL: as netfront_queue_send): the
 * flags on the first request and, with a GSO type, an extra-info slot
 * (XEN_NETIF_EXTRA_TYPE_GSO) right after it, as Linux's netfront. The
 * frame is sent as given: with NETTXF_csum_blank its TCP/UDP checksum
 * field must hold the pseudo-header sum (netfront_csum_partial()).
 * -EINVAL when the metadata asks for what was not negotiated
 * (csum_blank without csum, over IPv6 without the backend's
 * feature-ipv6-csum-offload; GSO of a type the backend does not offer,
 * or a GSO size of 0) or flags other than these two; else as
 * netfront_queue_send.
 */
int netfront_queue_send_meta(struct netfront_queue *q, const void *frame, uint32_t len,
		const struct netfront_tx_meta *meta);
int netfront_send_meta(struct netfront *nf, const void *frame, uint32_t len,
		const struct netfront_tx_meta *meta);

/*
 * Reap responses on every queue: free answered tx slots, gather received
 * frames (callback once per whole frame), repost rx buffers, and re-arm
 * the backend's notifications (RING_FINAL_CHECK_FOR_RESPONSES). Returns
 * the number of frames delivered, -ENOTCONN once the backend has gone
 * away, -EPROTO when a queue's backend broke the ring protocol.
 */
int netfront_poll(struct netfront *nf, netfront_rx_cb cb, void *arg);
int netfront_queue_poll(struct netfront_queue *q, netfront_rx_cb cb, void *arg);

/*
 * For a caller's own poll loop: fill pfd (at most max entries) with the
 * fds netfront_wait() would sleep on; returns how many. After poll(),
 * netfront_handle_events() takes what fired: 1 if anything did, 0, or
 * -ENOTCONN if the backend has gone away.
 */
unsigned int netfront_pollfds(struct netfront *nf, struct pollfd *pfd, unsigned int max);
int netfront_handle_events(struct netfront *nf, const struct pollfd *pfd, unsigned int n);

/*
 * Sleep until an event channel fires or xenstore changes, at most
 * timeout_ms (-1: no bound). Takes the pending events and handles the
 * backend's state changes. 1 on an event, 0 on timeout, -EINTR on a
 * signal, -ENOTCONN if the backend has gone away.
 */
int netfront_wait(struct netfront *nf, int timeout_ms);

/* Look at the backend's state now (handles Closing/Closed). Like wait's
 * result without sleeping: 0, or -ENOTCONN. */
int netfront_check_backend(struct netfront *nf);

/* Counters summed over the queues. */
void netfront_get_stats(const struct netfront *nf, struct netfront_stats *s);

/* Frames sent whose slots have not all been answered yet. */
uint64_t netfront_tx_inflight(const struct netfront *nf);

/* --- Raw access, for hostile and low-level tests --- */

static inline struct netfront_queue *
netfront_queue(struct netfront *nf, uint16_t i)
{
	return i < nf->nr_queues ? &nf->q[i] : NULL;
}

/* The guest's view of its page pfn (relative to the whole domain). */
void *netfront_page(struct netfront *nf, uint32_t pfn);

/* Grant the backend access to page pfn: ref or -errno. */
int netfront_grant(struct netfront *nf, uint32_t pfn, bool readonly);
int netfront_ungrant(struct netfront *nf, uint32_t ref);

/* Kick the backend on the queue's (guest-tx ring's) event channel. */
int netfront_notify(struct netfront_queue *q);
/* The same for the guest-rx ring (its own channel when split). */
int netfront_notify_rx(struct netfront_queue *q);

/* Write/read a key under the frontend's directory (our side of xenstore). */
int netfront_write_key(struct netfront *nf, const char *key, const char *value);
/* Our XenBus state, written as the frontend does. */
int netfront_set_state(struct netfront *nf, enum xenbus_state state);
/* The backend's state key now, or XenbusStateUnknown. */
int netfront_backend_state(struct netfront *nf);

/* --- The toolstack's part, usable alone --- */

/* Write both device directories in one transaction, as xl does (and the
 * domain's name first, when conf->name is set). */
int netfront_toolstack_create(struct netfront *nf);
/*
 * As xl destroy: backend state 5 and online 0, wait (bounded) for the
 * backend's 6, then remove both directories. 0 or -ETIMEDOUT (the
 * directories are removed either way).
 */
int netfront_toolstack_destroy(struct netfront *nf);

#endif /* NETFRONT_H */
