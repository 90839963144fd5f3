/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The grant-copy batch shared by both directions: xnb_rx.c and xnb_tx.c
 * fill an array of segments (xnb_copy_from_guest(), xnb_copy_to_guest()
 * in xnb_rxtx.h) while they gather a burst, then make one copy call for
 * all of it here and read each segment's status back into its response.
 */

#include <errno.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

#include "xnb_logs.h"
#include "xnb_private.h"
#include "xnb_rxtx.h"

int
xnb_copy_flush(struct xnb_queue *q, xengnttab_grant_copy_segment_t *segs,
		uint32_t count, uint64_t *calls, uint64_t *nsegs)
{
	uint32_t i;
	int ret;

	if (count == 0)
		return 0;
	ret = q->ops->copy(q->xen, count, segs);
	(*calls)++;
	*nsegs += count;
	if (unlikely(ret != 0)) {
		/* No status is valid: every packet of the batch fails. */
		XNB_DP_LOG(ERR, "dom %u queue %u: grant copy of %u segments failed: %d",
			q->domid, q->id, count, ret);
		for (i = 0; i < count; i++)
			segs[i].status = GNTST_general_error;
	}
	return ret;
}
