/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Multicast control (xnb_mcast.c): netif.h's feature-multicast-control.
 * A frontend that sets request-multicast-control gets only the multicast
 * frames whose address it added (XEN_NETIF_EXTRA_TYPE_MCAST_ADD/DEL
 * slots on its guest-tx ring), as Linux's netback filters them
 * (xenvif_mcast_match()); broadcast always passes.
 *
 * One filter per vif, written by the rx bursts of any queue (a guest
 * adds on whichever queue it sends) and read by the tx bursts: each
 * entry is one 64-bit word, taken and freed with atomics, so that no
 * burst waits for another.
 */

#ifndef XNB_MCAST_H
#define XNB_MCAST_H

#include <stdbool.h>
#include <stdint.h>

/* Linux's netback: XEN_NETBK_MCAST_MAX. */
#define XNB_MCAST_MAX 64

struct xnb_mcast {
	uint32_t enabled;          /* request-multicast-control, as last read */
	uint64_t addr[XNB_MCAST_MAX]; /* the address | XNB_MCAST_USED; 0: free */
};

/* Add mac: 0, or -ENOSPC with XNB_MCAST_MAX addresses already (Linux: an error response). */
int xnb_mcast_add(struct xnb_mcast *mc, const uint8_t *mac);
/* Remove one entry of mac, if there is one. */
void xnb_mcast_del(struct xnb_mcast *mc, const uint8_t *mac);
/* Every entry gone (the frontend disconnected). Control path, queues quiesced. */
void xnb_mcast_clear(struct xnb_mcast *mc);
/* Does a frame to dst pass the filter? Call only while enabled. */
bool xnb_mcast_pass(const struct xnb_mcast *mc, const uint8_t *dst);

#endif /* XNB_MCAST_H */
