/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The XenBus side of a port: its vif's backend directory, the frontend's
 * keys, the handshake (xnb_xenbus_fsm.h decides, xnb_xenbus.c acts) and,
 * with domain=, which domain the guest is (xnb_follow.c).
 *
 * The port and XenBus meet only here. The port lends a few operations
 * on its queues (struct xnb_xenbus_port_ops) and calls in with its lock
 * held; XenBus never calls ethdev. A pass returns what changed
 * (XNB_BUS_*), and the port acts on it: the link, after dropping its
 * lock, and a retarget to another domain.
 */

#ifndef XNB_XENBUS_H
#define XNB_XENBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "xnb_logs.h"
#include "xnb_private.h"
#include "xnb_xenbus_fsm.h"
#include "xnb_xenstore.h"

struct xs_handle;

#define XNB_XS_PATH_MAX 256
/* A domain name as xl takes it (name=): 1-63 characters [A-Za-z0-9_.-]. */
#define XNB_DOMAIN_NAME_MAX 64
#define XNB_NAME_MAX 64

/* What the port lends XenBus; called with the port's lock held. */
struct xnb_xenbus_port_ops {
	/* Queue pairs the application configured, 0 until each has its rx pool. */
	uint16_t (*ready_queues)(void *arg);
	/* Connect queue qid to the frontend's rings. 0 or -errno, nothing logged. */
	int (*queue_connect)(void *arg, uint16_t qid, const struct xnb_queue_conf *c);
	void (*queue_disconnect)(void *arg, uint16_t qid);
	/* Limit what the guest sends to bytes every usec on each queue (0: none). */
	void (*set_rate)(void *arg, uint64_t bytes, uint64_t usec);
	/*
	 * Connect the frontend's control ring (ctrl-ring-ref,
	 * event-channel-ctrl); its mapping may name queues below nb_queues.
	 * kept: on a reattach, the hashing configuration a predecessor kept
	 * (xnb_xenbus_keep_hash()), else NULL. 0 or -errno (-EPROTO: its
	 * indices do not hold together), nothing logged.
	 */
	int (*ctrl_connect)(void *arg, uint32_t ring_ref, uint32_t evtchn, uint16_t nb_queues,
		const char *kept);
	void (*ctrl_disconnect)(void *arg);
	/* Filter multicast frames to the guest or not; clear: forget its addresses too. */
	void (*set_mcast)(void *arg, bool on, bool clear);
	/* Put frames to the guest this many bytes into their first page (xdp-headroom). */
	void (*set_headroom)(void *arg, uint16_t headroom);
};

/* Who the vif is, fixed when XenBus is opened (the devargs as written). */
struct xnb_xenbus_conf {
	const char *name;          /* the port's name */
	const char *type;          /* xenstore backend type ("vif") */
	uint16_t domid;            /* domid=; 0 with domain= */
	const char *domain;        /* domain=NAME, or "" */
	uint16_t handle;
	uint16_t nb_queues;        /* queues offered */
	uint32_t offloads;         /* XNB_OFFLOAD_* offered */
	enum xnb_hotplug hotplug;  /* when Connected waits for the hotplug script */
	const struct xnb_xenbus_port_ops *ops;
	void *ops_arg;
};

/* What a pass changed (xnb_xenbus_update()). */
enum {
	XNB_BUS_LINK = 1u << 0,     /* connected went up or down */
	/*
	 * The guest named by domain= is now domain bus->retarget_domid:
	 * the port points its queues there, then xnb_xenbus_target().
	 */
	XNB_BUS_RETARGET = 1u << 1,
	/* Another backend serves the vif: look again in a while (no event says it went). */
	XNB_BUS_RECHECK = 1u << 2,
};

struct xnb_xenbus {
	/* Fixed at open. */
	char name[XNB_NAME_MAX];
	char type[32];
	char domain[XNB_DOMAIN_NAME_MAX];
	uint16_t handle;
	uint16_t nb_queues;
	uint32_t offloads;
	enum xnb_hotplug hotplug;
	const struct xnb_xenbus_port_ops *ops;
	void *ops_arg;

	/* Runtime. */
	uint16_t domid;                 /* the guest served now; 0 for none yet */
	uint16_t retarget_domid;        /* with XNB_BUS_RETARGET */
	struct xs_handle *xs;
	uint32_t self_domid;            /* the backend's own domain */
	char backend[XNB_XS_PATH_MAX];  /* .../backend/<type>/<domid>/<handle> */
	char frontend[XNB_XS_PATH_MAX]; /* from the backend's "frontend" key */
	char token[80];                 /* "xnb-" and the port name */
	char type_dir[96];              /* /local/domain/<self>/backend/<type> */
	bool backend_watched;
	bool frontend_watched;
	bool guest_watched;             /* type_dir and the special watches */
	bool connected;                 /* rings mapped, event channel bound */
	int state;                      /* XenbusState we last wrote, or XNB_FSM_NONE */
	uint64_t connects;              /* successful connects so far */
	struct xnb_features feat;       /* negotiated on the last connect */
	uint32_t evtchn;                /* the frontend's port (queue 0), for logs */
	uint16_t nb_connected;          /* queues the frontend uses */
	char owner[128];                /* our owner record (xnb_owner.h) */
	bool owner_written;             /* in the backend directory */
	int carrier;                    /* the carrier node as last written, -1: not */
	bool refused;                   /* another backend serves the vif (said once) */
	bool hotplug_said;              /* the wait for the hotplug script was logged */
	char hotplug_status[16];        /* with the hotplug-status it saw */
	unsigned long rate_bytes;       /* the rate limit applied (0: none) */
	unsigned long rate_usec;
	bool mcast_ctrl;                /* request-multicast-control as applied */
	bool mcast_bad;                 /* an unreadable one was said */
	bool rate_bad;                  /* an unparsable rate node was said */
	struct xnb_xs_outage xs_out;    /* xenstore lost: no pass until reconnected */
	char who[XNB_NAME_MAX + 32];    /* "net_xnb0 (dom 3 vif 0)", for xs_out's lines */
};

/*
 * A log line about the vif: "net_xnb0 (dom 3 vif 0): ...", or, while a
 * port that follows a guest by name has no domain to serve,
 * "net_xnb0 (guest web1, not running, vif 0): ...".
 */
#define XNB_BUS_LOG(level, bus, fmt, ...) do { \
	if ((bus)->domid == 0 && (bus)->domain[0] != '\0') \
		XNB_LOG(level, "%s (guest %s, not running, vif %u): " fmt, \
			(bus)->name, (bus)->domain, (bus)->handle, ##__VA_ARGS__); \
	else \
		XNB_LOG(level, "%s (dom %u vif %u): " fmt, (bus)->name, \
			(bus)->domid, (bus)->handle, ##__VA_ARGS__); \
} while (0)

/* Who the vif is, before anything is opened (logs name it from now on). */
void xnb_xenbus_init(struct xnb_xenbus *bus, const struct xnb_xenbus_conf *conf);
/*
 * Take xenstore connection xs (XenBus closes it, also on failure) and
 * set the watches; the first watch events do the rest. 0 or -errno.
 */
int xnb_xenbus_open(struct xnb_xenbus *bus, struct xs_handle *xs);
/*
 * Disconnect (unmap, unbind), tell the toolstack and frontend (Closed)
 * unless keep, unwatch, close xenstore. With keep the vif stays as the
 * guest sees it, Connected, for a successor to reattach.
 */
void xnb_xenbus_close(struct xnb_xenbus *bus, bool keep);
/* Take every pending watch event (coalesced into one pass, XSA-349). */
void xnb_xenbus_drain(struct xnb_xenbus *bus);
/*
 * For a periodic look without a watch event: took pending events, or
 * found the connection gone; a pass is due either way.
 */
bool xnb_xenbus_pending(struct xnb_xenbus *bus);
/*
 * After a pass found xenstore gone (bus->xs_out.lost): take the new
 * connection xs (XenBus closes it on failure) and set the watches again;
 * the guest's rings stay as they are. 0 or -errno. A pass follows.
 */
int xnb_xenbus_reconnect(struct xnb_xenbus *bus, struct xs_handle *xs);
/* Re-read xenstore and move the state machine. XNB_BUS_* changed. */
uint32_t xnb_xenbus_update(struct xnb_xenbus *bus);
/* After XNB_BUS_RETARGET and the port's retarget: serve domid. 0 or -errno. */
int xnb_xenbus_target(struct xnb_xenbus *bus, uint16_t domid);
/*
 * netif.h's link state: the backend's "carrier" node, "1" while the
 * port's link is up, "0" while it is down; written when it changes and
 * only into a backend directory that still exists (never recreating one
 * the toolstack removed).
 */
void xnb_xenbus_carrier(struct xnb_xenbus *bus, bool up);
/*
 * The frontend's hashing configuration (xnb_hash_format()'s text), kept
 * in the backend directory's XNB_HASH_NODE for a process that reattaches
 * after this one (on_close=keep), as the carrier node is written. A
 * fresh connect removes it: a frontend that connects anew starts from
 * netif.h's defaults.
 */
void xnb_xenbus_keep_hash(struct xnb_xenbus *bus, const char *text);
/*
 * A queue's datapath found the guest hostile (why: XNB_FATAL_*): the vif
 * is disconnected, with an error node and Closing. XNB_BUS_* changed.
 */
uint32_t xnb_xenbus_fatal(struct xnb_xenbus *bus, uint16_t qid, uint32_t why);

#endif /* XNB_XENBUS_H */
