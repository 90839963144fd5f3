/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The control ring (xnb_ctrl.c): netif.h's out-of-band channel from the
 * frontend (feature-ctrl-ring; ctrl-ring-ref, event-channel-ctrl), which
 * carries the receive-side hashing configuration: algorithm, hash types,
 * key and the mapping of hash values to queues.
 */

#ifndef XNB_CTRL_H
#define XNB_CTRL_H

#include <stdbool.h>
#include <stdint.h>

#include "xnb_netif.h"
#include "xnb_xen.h"

/* Linux's netback: XEN_NETBK_MAX_HASH_KEY_SIZE, XEN_NETBK_MAX_HASH_MAPPING_SIZE. */
#define XNB_HASH_KEY_MAX 40
#define XNB_HASH_MAPPING_MAX 128
/* The hash types xnb computes. */
#define XNB_HASH_TYPES (XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP | \
	XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)

/* The frontend's hashing configuration, as its control messages left it. */
struct xnb_hash {
	uint32_t alg;                            /* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
	uint32_t types;                          /* XEN_NETIF_CTRL_HASH_TYPE_* */
	uint8_t key[XNB_HASH_KEY_MAX];           /* unset octets are zero */
	uint32_t size;                           /* mapping entries; 0: hash modulo queues */
	uint32_t mapping[XNB_HASH_MAPPING_MAX];  /* queue of each entry, < nb_queues */
};

struct xnb_ctrl_stats {
	uint64_t requests;         /* requests answered */
	uint64_t errors;           /* answered other than SUCCESS */
};

/*
 * One vif's control ring. Control path only (the port's lock): the
 * requests are served on the interrupt thread when the frontend kicks.
 */
struct xnb_ctrl {
	int epfd;                  /* epoll set: the event channel's fd while connected */
	bool connected;
	bool broken;               /* its indices broke the ring: no request served since */
	const struct xnb_xen_ops *ops;
	struct xnb_xen *xen;
	uint16_t domid;
	uint16_t nb_queues;        /* queues the frontend connected: the mapping's bound */
	uint32_t ring_ref;
	xen_netif_ctrl_back_ring_t ring;
	void *page;
	struct xnb_evtchn *evtchn;
	int port;                  /* local event channel port, -1 unbound */
	struct xnb_hash hash;
	uint32_t gen;              /* bumped by every SET that succeeds */
	struct xnb_ctrl_stats stats;
};

/* Before the first connect and after the last disconnect: the epoll set. 0 or -errno. */
int xnb_ctrl_open(struct xnb_ctrl *c);
void xnb_ctrl_close(struct xnb_ctrl *c);
/*
 * Map the frontend's control ring and bind its event channel, with a
 * hashing configuration as netif.h's defaults (no algorithm, no key, no
 * mapping). 0, -EPROTO when the ring's indices claim more requests than
 * it holds, else the failed op's -errno. Logs nothing above DEBUG.
 */
int xnb_ctrl_connect(struct xnb_ctrl *c, const struct xnb_xen_ops *ops, struct xnb_xen *xen,
		uint16_t domid, uint32_t ring_ref, uint32_t evtchn, uint16_t nb_queues);
void xnb_ctrl_disconnect(struct xnb_ctrl *c);
/*
 * Take the frontend's notifications and answer at most budget requests.
 * The number answered; -EPROTO once when the frontend's indices break
 * the ring (the ring is then left alone until the next connect).
 * *more: requests remain beyond the budget.
 */
int xnb_ctrl_serve(struct xnb_ctrl *c, unsigned int budget, bool *more);
/*
 * One request, copied once by the caller: its status
 * (XEN_NETIF_CTRL_STATUS_*), *data for the response. Key and mapping
 * are grant-copied from the frontend's page through c->ops.
 */
uint32_t xnb_ctrl_request(struct xnb_ctrl *c, const struct xen_netif_ctrl_request *req,
		uint32_t *data);
/* The name of a request type, for logs. */
const char *xnb_ctrl_type_str(uint16_t type);

/*
 * The hashing configuration kept for a successor process (on_close=keep)
 * in the backend's xenstore directory, as text: "ALG TYPES KEY SIZE MAP",
 * KEY the 40 key octets in hex, MAP the SIZE entries comma-separated (or
 * "-"). The node's name, the text's largest size, and the two ways.
 * xnb_hash_parse() checks everything against netif.h's bounds and the
 * connection's queues as a control message would be: 0, or -EINVAL with
 * *h untouched.
 */
#define XNB_HASH_NODE "xnb-hash"
#define XNB_HASH_TEXT_MAX (2 * 11 + 2 * XNB_HASH_KEY_MAX + 4 + 6 * XNB_HASH_MAPPING_MAX + 8)
void xnb_hash_format(const struct xnb_hash *h, char *buf, size_t size);
int xnb_hash_parse(const char *s, uint16_t nb_queues, struct xnb_hash *h);
/* Take a kept configuration as the frontend's current one (after xnb_ctrl_connect()). */
void xnb_ctrl_restore(struct xnb_ctrl *c, const struct xnb_hash *h);

#endif /* XNB_CTRL_H */
