/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The grant-copy batch shared by both directions: xnb_rx.c and xnb_tx.c
 * fill an array of segments (xnb_copy_from_guest(), xnb_copy_to_guest()
 * in xnb_rxtx.h) while they gather a burst, then make one copy call for
 * all of it here and read each segment's status back into its response.
 */

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "xnb_private.h"
#include "xnb_rxtx.h"

/*
 * The call itself failed, not a segment: gntdev refused the batch or the
 * hypercall failed. The datapath bounds every offset and length a guest
 * gives, so no guest input should get here, and a retry would fail every
 * burst from now on. Linux's netback does not go on either:
 * gnttab_batch_copy() BUG()s on a failed GNTTABOP_copy. One failed call
 * stops the queue (XNB_FATAL_COPY, logged once with its errno): the
 * batch's packets fail, the control path disconnects the vif and the
 * frontend may connect again.
 */
static __rte_noinline __rte_cold void
copy_failed(struct xnb_queue *q, xengnttab_grant_copy_segment_t *segs, uint32_t count,
		int ret)
{
	uint32_t i;

	for (i = 0; i < count; i++)
		segs[i].status = GNTST_general_error;
	xnb_queue_fatal(q, XNB_FATAL_COPY, ret);
}

int
xnb_copy_flush(struct xnb_queue *q, xengnttab_grant_copy_segment_t *segs,
		uint32_t count, uint64_t *calls, uint64_t *nsegs)
{
	int ret;

	if (count == 0)
		return 0;
	/* Counted first: fewer registers to keep across the call. */
	(*calls)++;
	*nsegs += count;
	ret = q->ops->copy(q->xen, count, segs);
	if (unlikely(ret != 0))
		copy_failed(q, segs, count, ret);
	return ret;
}
