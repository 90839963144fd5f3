/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb-bench-mem: what one vif costs in memory, from the driver's own
 * structures (compiled against its headers, so always current) and the
 * mbuf pool arithmetic of DPDK's mempool.
 *
 * Usage: xnb-bench-mem [DATA_ROOM...]
 * Prints key=value lines; devtools/xnb-bench turns them into its report.
 * DATA_ROOM: mbuf data room sizes (with headroom) to size pools for;
 * default 2176 (RTE_MBUF_DEFAULT_BUF_SIZE) and 9344 (a 9000-byte frame).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "xnb_port.h"
#include "xnb_private.h"

#define FIELD_SIZE(type, field) sizeof(((type *)NULL)->field)

static void
kv(const char *key, size_t value)
{
	printf("%s=%zu\n", key, value);
}

int
main(int argc, char **argv)
{
	static const unsigned int frames[] = { 64, 512, 1518, 9000 };
	unsigned int default_rooms[] = { RTE_MBUF_DEFAULT_BUF_SIZE, 9344 };
	unsigned int *rooms = default_rooms;
	unsigned int nb_rooms = RTE_DIM(default_rooms), r, f;
	unsigned int argv_rooms[16];
	int i;

	if (argc > 1) {
		nb_rooms = 0;
		for (i = 1; i < argc && nb_rooms < RTE_DIM(argv_rooms); i++) {
			char *end;
			unsigned long v = strtoul(argv[i], &end, 10);

			if (*end != '\0' || v <= RTE_PKTMBUF_HEADROOM || v > UINT16_MAX) {
				fprintf(stderr, "xnb-bench-mem: %s: expected a data room size "
					"from %u to %u\n", argv[i], RTE_PKTMBUF_HEADROOM + 1,
					UINT16_MAX);
				return 2;
			}
			argv_rooms[nb_rooms++] = (unsigned int)v;
		}
		rooms = argv_rooms;
	}

	/* Control state: one per port. */
	kv("port", sizeof(struct xnb_port));
	/* One Xen queue: both rings' state, the DPDK rx and tx queues. */
	kv("queue", sizeof(struct xnb_queue));
	kv("rxq", sizeof(struct xnb_rxq));
	kv("rxq.reqs", FIELD_SIZE(struct xnb_rxq, reqs));
	kv("rxq.pkts", FIELD_SIZE(struct xnb_rxq, pkts));
	kv("rxq.copy", FIELD_SIZE(struct xnb_rxq, copy));
	kv("txq", sizeof(struct xnb_txq));
	kv("txq.reqs", FIELD_SIZE(struct xnb_txq, reqs));
	kv("txq.pkts", FIELD_SIZE(struct xnb_txq, pkts));
	kv("txq.seg_slot", FIELD_SIZE(struct xnb_txq, seg_slot));
	kv("txq.copy", FIELD_SIZE(struct xnb_txq, copy));
	kv("copy_segment", sizeof(xengnttab_grant_copy_segment_t));
	kv("copy_batch", XNB_COPY_BATCH);
	kv("max_burst", XNB_MAX_BURST);
	kv("tx_ring_size", XNB_TX_RING_SIZE);
	kv("rx_ring_size", XNB_RX_RING_SIZE);
	/* The guest's ring pages, mapped (guest memory, not allocated here). */
	kv("ring_pages_mapped", 2 * XNB_PAGE_SIZE);
	kv("max_tx_slots", XNB_MAX_TX_SLOTS);

	/*
	 * mbufs: the driver keeps none between bursts (rx allocates a chain
	 * per packet at receive time, tx frees each mbuf once its data is
	 * copied into the guest's buffers). What one burst needs is the
	 * burst's frames times their chain length.
	 */
	for (r = 0; r < nb_rooms; r++) {
		struct rte_mempool_objsz sz;
		unsigned int room = rooms[r];
		unsigned int data = room - RTE_PKTMBUF_HEADROOM;
		uint32_t elt = sizeof(struct rte_mbuf) + room;
		char key[96];

		rte_mempool_calc_obj_size(elt, 0, &sz);
		snprintf(key, sizeof(key), "mbuf[%u].bytes", room);
		kv(key, sz.total_size);
		for (f = 0; f < RTE_DIM(frames); f++) {
			unsigned int segs = (frames[f] + data - 1) / data;

			snprintf(key, sizeof(key), "mbuf[%u].segs_per_frame[%u]", room, frames[f]);
			kv(key, segs);
			snprintf(key, sizeof(key), "mbuf[%u].burst_mbufs[%u]", room, frames[f]);
			kv(key, (size_t)segs * XNB_MAX_BURST);
			snprintf(key, sizeof(key), "mbuf[%u].burst_bytes[%u]", room, frames[f]);
			kv(key, (size_t)segs * XNB_MAX_BURST * sz.total_size);
		}
	}
	return 0;
}
