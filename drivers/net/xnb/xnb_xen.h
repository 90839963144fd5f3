/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The Xen access layer: everything the driver asks of Xen, as one ops
 * table with two implementations chosen at probe time by the "platform"
 * devarg, as virtio_user chooses its backend ops:
 *   xnb_xen_real.c - libxengnttab, libxenevtchn, libxenstore (a Xen host);
 *   xnb_xen_sim.c  - the simulated platform (lib/xensim) and the same
 *                    libxenstore client against a xenstored of its own.
 * Outside these two files no code knows which one runs.
 */

#ifndef XNB_XEN_H
#define XNB_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include <xengnttab.h>

struct xs_handle;

/* Per-port platform context, owned by the implementation. */
struct xnb_xen;
/* An event channel handle: one pollable fd; one per queue. */
struct xnb_evtchn;

/* What a port tells the platform layer when it opens it. */
struct xnb_xen_params {
	uint16_t domid;            /* the frontend domain */
	const char *sim_dir;       /* sim only: the simulation's directory */
};

struct xnb_xen_ops {
	const char *name;          /* "xen" or "sim" */

	/* Open grant-table access for the frontend domain. 0 or -errno. */
	int (*open)(struct xnb_xen **xp, const struct xnb_xen_params *p);
	void (*close)(struct xnb_xen *x);

	/* A connection to xenstore (the real libxenstore client). */
	struct xs_handle *(*xs_open)(struct xnb_xen *x);

	/*
	 * Map count refs of domid contiguously; writable or read-only.
	 * NULL and errno on failure.
	 */
	void *(*map_refs)(struct xnb_xen *x, uint16_t domid, uint32_t count,
			const uint32_t *refs, bool writable);
	int (*unmap)(struct xnb_xen *x, void *addr, uint32_t count);

	/*
	 * Batched grant copy, both directions, one status per segment.
	 * 0 when the call itself succeeded (per-segment errors are in the
	 * statuses), else -errno and no statuses are valid.
	 */
	int (*copy)(struct xnb_xen *x, uint32_t count,
			xengnttab_grant_copy_segment_t *segs);

	/* Event channels. */
	struct xnb_evtchn *(*evtchn_open)(struct xnb_xen *x);
	void (*evtchn_close)(struct xnb_evtchn *e);
	int (*evtchn_fd)(struct xnb_evtchn *e);
	/* Bind to the frontend's port; returns the local port or -errno. */
	int (*evtchn_bind)(struct xnb_evtchn *e, uint16_t domid,
			uint32_t remote_port);
	int (*evtchn_unbind)(struct xnb_evtchn *e, uint32_t port);
	int (*evtchn_notify)(struct xnb_evtchn *e, uint32_t port);
	/* Take one pending event: local port, or -EAGAIN. */
	int (*evtchn_pending)(struct xnb_evtchn *e);
	int (*evtchn_unmask)(struct xnb_evtchn *e, uint32_t port);
};

extern const struct xnb_xen_ops xnb_xen_real_ops;
extern const struct xnb_xen_ops xnb_xen_sim_ops;

#endif /* XNB_XEN_H */
