/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The port's private dump (eth_dev_priv_dump): what Linux's netback shows
 * in debugfs (io_ring_qN) and FreeBSD's xnb in its dump_rings sysctl.
 * DPDK hands it on as rte_eth_dev_priv_dump() and as telemetry's
 * /ethdev/dump_priv,PORT. One block per queue: both rings' shared and
 * private indices, the requests copied ahead, the event channel, the
 * counters and the fatal reason, if any.
 *
 * The shared indices are the guest's to write: they are read once each,
 * as they are at that moment, and only while the rings are mapped (the
 * port lock keeps them mapped).
 */

#include <inttypes.h>
#include <stdio.h>

#include <ethdev_driver.h>

#include <rte_cycles.h>

#include "xnb_port.h"

static void
dump_ring_idx(FILE *f, const char *name, RING_IDX req_prod, RING_IDX req_event,
		RING_IDX rsp_prod, RING_IDX rsp_event, RING_IDX req_cons, RING_IDX rsp_prod_pvt)
{
	fprintf(f, "  %s: req_prod %" PRIu32 " req_cons %" PRIu32 " req_event %" PRIu32
		" rsp_prod %" PRIu32 " rsp_prod_pvt %" PRIu32 " rsp_event %" PRIu32
		" (requests waiting %" PRIu32 ", responses unpushed %" PRIu32 ")\n",
		name, req_prod, req_cons, req_event, rsp_prod, rsp_prod_pvt, rsp_event,
		req_prod - req_cons, rsp_prod_pvt - rsp_prod);
}

static void
dump_queue(FILE *f, const struct xnb_queue *q)
{
	const netif_tx_sring_t *ts = q->guest_tx.sring;
	const netif_rx_sring_t *rs = q->guest_rx.sring;
	const struct xnb_rx_stats *r = &q->rx.stats;
	const struct xnb_tx_stats *t = &q->tx.stats;
	uint32_t fatal = __atomic_load_n(&q->fatal, __ATOMIC_RELAXED);
	uint64_t blocked;

	fprintf(f, "queue %u: %s, event channel %d (guest-rx ring: %d), fatal: %s\n", q->id,
		q->connected ? "connected" : "disconnected", q->evtchn_port, q->evtchn_rx_port,
		fatal == XNB_FATAL_NONE ? "none" : xnb_fatal_str((enum xnb_fatal)fatal));
	if (q->connected) {
		dump_ring_idx(f, "guest-tx ring (rx)",
			__atomic_load_n(&ts->req_prod, __ATOMIC_RELAXED),
			__atomic_load_n(&ts->req_event, __ATOMIC_RELAXED),
			__atomic_load_n(&ts->rsp_prod, __ATOMIC_RELAXED),
			__atomic_load_n(&ts->rsp_event, __ATOMIC_RELAXED),
			q->guest_tx.req_cons, q->guest_tx.rsp_prod_pvt);
		fprintf(f, "  guest-tx requests copied ahead of req_cons: %" PRIu32 "\n",
			q->rx.req_copied - q->guest_tx.req_cons);
		dump_ring_idx(f, "guest-rx ring (tx)",
			__atomic_load_n(&rs->req_prod, __ATOMIC_RELAXED),
			__atomic_load_n(&rs->req_event, __ATOMIC_RELAXED),
			__atomic_load_n(&rs->rsp_prod, __ATOMIC_RELAXED),
			__atomic_load_n(&rs->rsp_event, __ATOMIC_RELAXED),
			q->guest_rx.req_cons, q->guest_rx.rsp_prod_pvt);
	}
	fprintf(f, "  rx: packets %" PRIu64 " bytes %" PRIu64 " errors %" PRIu64
		" nombuf %" PRIu64 " copy_calls %" PRIu64 " copy_segs %" PRIu64 "\n",
		r->packets, r->bytes, r->errors, r->nombuf, r->copy_calls, r->copy_segs);
	fprintf(f, "  tx: packets %" PRIu64 " bytes %" PRIu64 " errors %" PRIu64
		" copy_calls %" PRIu64 " copy_segs %" PRIu64 "\n",
		t->packets, t->bytes, t->errors, t->copy_calls, t->copy_segs);
	blocked = __atomic_load_n(&q->tx.blocked_since, __ATOMIC_RELAXED);
	fprintf(f, "  guest-rx queue: %s, frames found no guest buffer for %.1f s; stalls %" PRIu64
		" drain_drops %" PRIu64 " (drain_timeout %.1f s, stall_timeout %.1f s)\n",
		__atomic_load_n(&q->tx.stalled, __ATOMIC_RELAXED) ? "STALLED" : "not stalled",
		blocked != 0 ? (double)(rte_get_timer_cycles() - blocked) / rte_get_timer_hz() : 0.0,
		t->stalls, t->drain_drops, (double)q->tx.drain_tsc / rte_get_timer_hz(),
		(double)q->tx.stall_tsc / rte_get_timer_hz());
}

static void
dump_ctrl(FILE *f, const struct xnb_ctrl *c)
{
	const struct xnb_hash *h = &c->hash;

	if (!c->connected) {
		fprintf(f, "control ring: none\n");
		return;
	}
	fprintf(f, "control ring: ref %" PRIu32 ", event channel %d%s, requests %" PRIu64
		" (%" PRIu64 " not SUCCESS); hash: algorithm %s, types 0x%" PRIx32
		", mapping %" PRIu32 " entries\n",
		c->ring_ref, c->port, c->broken ? ", BROKEN (indices out of bounds)" : "",
		c->stats.requests, c->stats.errors,
		h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ ? "toeplitz" : "none",
		h->types, h->size);
}

int
xnb_dev_priv_dump(struct rte_eth_dev *dev, FILE *f)
{
	struct xnb_port *port = dev->data->dev_private;
	const struct xnb_xenbus *bus = &port->bus;
	uint16_t i;

	pthread_mutex_lock(&port->lock);
	fprintf(f, "%s: dom %u vif %u%s%s, platform %s, %s\n", port->name,
		bus->domid, bus->handle,
		bus->domain[0] != '\0' ? ", guest " : "", bus->domain,
		port->ops->name, port->started ? "started" : "stopped");
	fprintf(f, "backend %s: state %s, connects %" PRIu64 "\n",
		bus->backend[0] != '\0' ? bus->backend : "(none)",
		xnb_xenbus_state_str(bus->state), bus->connects);
	fprintf(f, "frontend %s: %u of %u queues (%u configured), event channel %" PRIu32
		", sg %d, rx-notify %d\n",
		bus->frontend[0] != '\0' ? bus->frontend : "(none)",
		bus->connected ? bus->nb_connected : 0, port->nb_queues, port->nb_app_queues,
		bus->evtchn, bus->feat.sg, bus->feat.rx_notify);
	dump_ctrl(f, &port->ctrl);
	for (i = 0; i < port->nb_queues; i++)
		dump_queue(f, port->queues[i]);
	pthread_mutex_unlock(&port->lock);
	return 0;
}
