/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Internal to the datapath (xnb_copy.c, xnb_rx.c, xnb_tx.c) and its unit
 * tests: the grant-copy batch helpers and the checks a guest-tx packet
 * goes through, each a function over requests already copied out of the
 * shared ring.
 */

#ifndef XNB_RXTX_H
#define XNB_RXTX_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "xnb_private.h"

/* --- The copy batch (xnb_copy.c) --- */

/* A segment from a guest page (gref, offset) into local memory. */
static inline void
xnb_copy_from_guest(xengnttab_grant_copy_segment_t *seg, uint16_t domid,
		uint32_t gref, uint16_t offset, void *dst, uint16_t len)
{
	seg->source.foreign.ref = gref;
	seg->source.foreign.offset = offset;
	seg->source.foreign.domid = domid;
	seg->dest.virt = dst;
	seg->len = len;
	seg->flags = GNTCOPY_source_gref;
	seg->status = GNTST_general_error;
}

/* A segment from local memory into a guest page (gref, offset). */
static inline void
xnb_copy_to_guest(xengnttab_grant_copy_segment_t *seg, const void *src,
		uint16_t domid, uint32_t gref, uint16_t offset, uint16_t len)
{
	seg->source.virt = (void *)(uintptr_t)src;
	seg->dest.foreign.ref = gref;
	seg->dest.foreign.offset = offset;
	seg->dest.foreign.domid = domid;
	seg->len = len;
	seg->flags = GNTCOPY_dest_gref;
	seg->status = GNTST_general_error;
}

/*
 * One copy call for segs[0..count). Counts the call and its segments in
 * *calls and *nsegs. When the call itself fails, every segment's status
 * is set to GNTST_general_error, so every packet in the batch fails, and
 * the queue is stopped (xnb_queue_fatal(), XNB_FATAL_COPY): the caller
 * answers the batch and gathers no more. Returns what the call returned
 * (0 or -errno); count 0 makes no call.
 */
int xnb_copy_flush(struct xnb_queue *q, xengnttab_grant_copy_segment_t *segs,
		uint32_t count, uint64_t *calls, uint64_t *nsegs);

/* --- Checks of one guest-tx packet (xnb_rx.c) --- */

/* What a check says about a packet. */
enum xnb_verdict {
	XNB_VERDICT_OK = 0,
	XNB_VERDICT_PARTIAL,   /* not all its slots are posted yet: wait */
	XNB_VERDICT_ERROR,     /* answer every slot NETIF_RSP_ERROR, drop it */
	XNB_VERDICT_DROP,      /* well formed, but we cannot take it: RSP_DROPPED */
	XNB_VERDICT_FATAL,     /* disconnect the queue (xnb_queue_fatal) */
};

/* A packet carries at most one extra-info slot of each type. */
#define XNB_MAX_TX_EXTRAS (XEN_NETIF_EXTRA_TYPE_MAX - 1)

/* The offload fields the extra-info slots of a packet carry. */
struct xnb_rx_extras {
	uint16_t gso_size;
	uint8_t gso_type;          /* XEN_NETIF_GSO_TYPE_NONE without GSO */
	uint8_t types;             /* bit (1 << type) per extra type seen */
	bool has_hash;             /* a hash slot of a known hash type */
	uint32_t hash;             /* its value */
	/* XEN_NETIF_EXTRA_TYPE_MCAST_ADD or _DEL (ADD when both), 0: none. */
	uint8_t mcast_op;
	uint8_t mcast_addr[6];
};

/* One guest-tx packet as found on the ring by xnb_rx_walk(). */
struct xnb_rx_walk {
	uint16_t nb_reqs;          /* all its slots */
	uint16_t nb_extras;        /* extra-info slots after the first */
	uint16_t nb_data;          /* data slots, the first included */
	uint16_t first_len;        /* bytes in the first slot itself */
	enum xnb_fatal why;        /* with XNB_VERDICT_FATAL */
	/* Its data slots in order; sized by the fatal slot count (XSA-432). */
	const netif_tx_request_t *data[XNB_FATAL_TX_SLOTS];
	netif_extra_info_t extras[XNB_MAX_TX_EXTRAS];
	struct xnb_rx_extras ext;
};

/*
 * Extra-info slots: a type of NONE or >= XEN_NETIF_EXTRA_TYPE_MAX, a
 * type seen twice, a GSO extra with size 0 or an unknown GSO type are
 * errors; a hash slot of an unknown hash type is ignored, as Linux's
 * netback ignores it. Fills *out. OK or ERROR.
 */
enum xnb_verdict xnb_rx_extras_verdict(const netif_extra_info_t *extras,
		unsigned int count, struct xnb_rx_extras *out);

/*
 * The slot count: more than XNB_MAX_TX_SLOTS is an error, from
 * XNB_FATAL_TX_SLOTS on it is fatal.
 */
enum xnb_verdict xnb_rx_count_verdict(unsigned int nb_data);

/*
 * The data slots of one packet (data[0] is the first, whose size is the
 * packet's length): the length must be at least RTE_ETHER_HDR_LEN and no
 * smaller than the sum of the other slots; no slot may cross its page
 * (offset + bytes > 4096). Stores the first slot's own bytes in
 * *first_len. OK or ERROR (or FATAL for the slot count).
 */
enum xnb_verdict xnb_rx_slots_verdict(const netif_tx_request_t *const *data,
		unsigned int nb_data, uint16_t *first_len);

/*
 * The datapath's fast case, checked before the general walk: a packet of
 * one slot with no extra-info slot whose frame is well formed (no shorter
 * than an Ethernet header, inside its page) and fits one mbuf of room
 * bytes. Every packet it accepts, xnb_rx_walk() finds OK with one data
 * slot; everything else goes through the walk, which decides.
 */
static inline bool
xnb_rx_single_ok(const netif_tx_request_t *req, uint32_t room)
{
	return (req->flags & (NETTXF_extra_info | NETTXF_more_data)) == 0 &&
		req->size >= RTE_ETHER_HDR_LEN && req->size <= room &&
		(uint32_t)req->offset + req->size <= XNB_PAGE_SIZE;
}

/*
 * Find the packet starting at ring index start among avail copied
 * requests (reqs indexed by ring index & mask) and check it with the
 * functions above. PARTIAL when its last slot is not posted yet (unless
 * it is already known to be fatal). A multicast control request (an
 * MCAST_ADD or _DEL extra slot) is its first slot and extra slots only,
 * its data slots not followed (w->ext.mcast_op set).
 */
enum xnb_verdict xnb_rx_walk(const netif_tx_request_t *reqs, uint32_t mask,
		RING_IDX start, uint32_t avail, struct xnb_rx_walk *w);

#endif /* XNB_RXTX_H */
