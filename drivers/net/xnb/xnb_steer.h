/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Frames to a guest steered by its own hashing configuration (xnb_steer.c):
 * once a frontend selected Toeplitz over its control ring, each frame the
 * application sends to the vif goes to the guest-rx queue its hash maps
 * to (netif.h: mapping[hash % size], or hash % queues without a table),
 * whichever DPDK tx queue it was sent on, and carries its hash to the
 * guest in a XEN_NETIF_EXTRA_TYPE_HASH slot, as Linux's netback does
 * (xenvif_select_queue(), xenvif_set_skb_hash()).
 */

#ifndef XNB_STEER_H
#define XNB_STEER_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "xnb_ctrl.h"

/* What the datapath reads: written by the control path into the spare copy. */
struct xnb_steer_cfg {
	uint32_t types;            /* XEN_NETIF_CTRL_HASH_TYPE_* */
	uint32_t size;             /* mapping entries; 0: hash modulo queues */
	uint8_t key[XNB_HASH_KEY_MAX];
	uint32_t mapping[XNB_HASH_MAPPING_MAX];
};

/*
 * Per port. sel names the current copy; a burst that reads a copy while
 * the control path rewrites it (two changes within one burst) may pick
 * an odd queue for a frame, never a queue out of range: every entry is
 * bounded again when used.
 */
struct xnb_steer {
	uint32_t sel;
	uint16_t nb_queues;        /* queues the frontend connected */
	struct xnb_queue **queues; /* the port's */
	struct xnb_steer_cfg cfg[2];
};

/* A frame's hash as the guest gets it: type 0 for none, else _XEN_NETIF_CTRL_HASH_TYPE_* + 1. */
struct xnb_tx_hash {
	uint32_t value;
	uint8_t type;
};

/*
 * The Toeplitz hash of m under cfg (rte_softrss over the addresses, and
 * TCP's ports when that type is on): *h, type 0 when no enabled type
 * applies (not IP, a type off); then the guest-rx queue, below
 * nb_queues (nb_queues > 0).
 */
uint16_t xnb_steer_pick(const struct xnb_steer_cfg *cfg, uint16_t nb_queues,
		const struct rte_mbuf *m, struct xnb_tx_hash *h);
/* The control path's new configuration, published. */
void xnb_steer_publish(struct xnb_steer *st, const struct xnb_hash *hash, uint16_t nb_queues);

#endif /* XNB_STEER_H */
