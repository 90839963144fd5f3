/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The port: one ethdev serving one Xen vif (domid, handle). Owned by
 * xnb_ethdev.c; xnb_xenbus.c runs its backend state machine.
 */

#ifndef XNB_PORT_H
#define XNB_PORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include <rte_ether.h>

#include "xnb_private.h"

struct rte_eth_dev;
struct rte_kvargs;
struct xs_handle;
struct rte_intr_handle;

#define XNB_XS_PATH_MAX 256
/* A domain name as xl takes it (name=): 1-63 characters [A-Za-z0-9_.-]. */
#define XNB_DOMAIN_NAME_MAX 64

/* Everything the devargs say: the port's options and how to find guests. */
struct xnb_devargs {
	struct xnb_args a;
	char domain[XNB_DOMAIN_NAME_MAX]; /* domain=NAME; "" with domid= */
	bool discover;                    /* discover=1: no port, a discovery */
};

/* The XenBus side of a port (xnb_xenbus.c). */
struct xnb_xenbus {
	struct xs_handle *xs;
	struct rte_intr_handle *intr;
	uint32_t self_domid;            /* the backend's own domain */
	char backend[XNB_XS_PATH_MAX];  /* .../backend/<type>/<domid>/<handle> */
	char frontend[XNB_XS_PATH_MAX]; /* from the backend's "frontend" key */
	char token[80];                 /* "xnb-" and the port name */
	char type_dir[XNB_XS_PATH_MAX]; /* .../backend/<type>, watched with domain= */
	bool backend_watched;
	bool frontend_watched;
	bool guest_watched;             /* type_dir and the special watches */
	bool connected;                 /* rings mapped, event channel bound */
	int state;                      /* XenbusState we last wrote, or -1 */
	uint64_t connects;              /* successful connects so far */
	struct xnb_features feat;       /* negotiated on the last connect */
	uint32_t evtchn;                /* the frontend's port (queue 0), for logs */
	uint16_t nb_connected;          /* queues the frontend uses */
};

struct xnb_port {
	char name[64];
	uint16_t port_id;
	struct xnb_args args;           /* args.domid: the guest now, 0 for none */
	char domain[XNB_DOMAIN_NAME_MAX]; /* the guest's name, "" with domid= */
	const struct xnb_xen_ops *ops;
	struct xnb_xen *xen;
	struct rte_ether_addr mac;
	uint16_t nb_queues;             /* Xen queues offered (queues=) */
	uint16_t nb_app_queues;         /* queue pairs the application configured */
	struct xnb_queue *queues[XNB_MAX_QUEUES];
	bool started;
	bool closed;
	uint16_t mtu;
	/* Serialises the control path: ethdev ops vs. the xenstore thread. */
	pthread_mutex_t lock;
	struct xnb_xenbus bus;
};

#define XNB_ARG_DOMID    "domid"
#define XNB_ARG_DOMAIN   "domain"
#define XNB_ARG_DISCOVER "discover"
#define XNB_ARG_HANDLE   "handle"
#define XNB_ARG_MAC      "mac"
#define XNB_ARG_QUEUES   "queues"
#define XNB_ARG_PLATFORM "platform"
#define XNB_ARG_SIM_DIR  "sim_dir"
#define XNB_ARG_TYPE     "type"
#define XNB_ARG_OFFLOADS "offloads"

#define XNB_PARAMS_STRING \
	XNB_ARG_DOMID "=<1-32751> " \
	XNB_ARG_DOMAIN "=<domain name> " \
	XNB_ARG_DISCOVER "=<0|1> " \
	XNB_ARG_HANDLE "=<0-65535> " \
	XNB_ARG_MAC "=<xx:xx:xx:xx:xx:xx> " \
	XNB_ARG_QUEUES "=<1-8> " \
	XNB_ARG_PLATFORM "=<xen|sim> " \
	XNB_ARG_SIM_DIR "=<path> " \
	XNB_ARG_TYPE "=<xenstore backend type, default vif> " \
	XNB_ARG_OFFLOADS "=<all|none|csum:tso4:tso6>"

/* xnb_args.c */
int xnb_args_parse(const char *name, const char *params, struct xnb_devargs *d);
extern const char xnb_args_help[];
/* The offloads= value that names XNB_OFFLOAD_* bits; snprintf's result. */
int xnb_offloads_str(uint32_t bits, char *buf, size_t size);
/* Does s name a domain as xl accepts it (1-63 of [A-Za-z0-9_.-])? */
bool xnb_domain_name_valid(const char *s);

/* xnb_xenbus.c; all but xnb_xenbus_update take port->lock themselves. */
int xnb_xenbus_open(struct xnb_port *port);
void xnb_xenbus_close(struct xnb_port *port);
/* Re-read xenstore and move the state machine; caller holds port->lock. */
void xnb_xenbus_update(struct xnb_port *port);
/* "Connected" for XenbusStateConnected, ...; "none" for -1. */
const char *xnb_xenbus_state_str(int state);

/*
 * xnb_dump.c: the port's state, every queue's ring indices and counters,
 * as text (rte_eth_dev_priv_dump, telemetry's /ethdev/dump_priv).
 */
struct rte_eth_dev;
int xnb_dev_priv_dump(struct rte_eth_dev *dev, FILE *f);

/* xnb_ethdev.c: link state changes, raised from the control path. */
void xnb_ethdev_link_set(struct xnb_port *port, bool up);
/*
 * Point the port's platform context and queues at another guest domain.
 * Control path, port->lock held, every queue disconnected (quiesced).
 * 0, or -errno with the port unchanged.
 */
int xnb_ethdev_retarget(struct xnb_port *port, uint16_t domid);

/*
 * xnb_discover.c: discover=1 instances. probe watches the backend type
 * directory and hotplugs a port per vif; remove returns -ENOENT when name
 * is not a discovery instance, else stops it and detaches its ports.
 */
struct rte_vdev_device;
int xnb_discover_probe(struct rte_vdev_device *vdev, const struct xnb_devargs *d);
int xnb_discover_remove(const char *name);
/* xenstore directory entries that name a guest domain id (strictly). */
int xnb_parse_domid(const char *s, unsigned long *domid);

#endif /* XNB_PORT_H */
