/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The Xen access layer: everything the driver asks of Xen, as one ops
 * table with two implementations, looked up once by the "platform"
 * devarg (xnb_xen_ops_get()), as virtio_user chooses its backend ops:
 *   xnb_xen_real.c - libxengnttab, libxenevtchn, libxenstore (a Xen host);
 *   xnb_xen_sim.c  - the simulated platform (lib/xensim) and the same
 *                    libxenstore client against a xenstored of its own.
 * Outside these files no code knows which one runs, and only the ops
 * print platform-specific hints.
 *
 * Two levels: the host (the grant device, xenstore), opened once per
 * port or discovery instance; and a guest (its grants, its event
 * channels), opened for the domain a port serves, and again when a
 * port named by domain= follows its guest to a new domain.
 */

#ifndef XNB_XEN_H
#define XNB_XEN_H

#include <stdbool.h>
#include <stdint.h>

#include <xengnttab.h>

struct xs_handle;

/* Host-level context: devices and xenstore access. */
struct xnb_host;
/* Per-guest context: one frontend domain's grants and event channels. */
struct xnb_xen;
/* An event channel handle: one pollable fd; one per queue. */
struct xnb_evtchn;

/* What a port or discovery instance tells the platform layer. */
struct xnb_host_params {
	const char *sim_dir;       /* sim only: the simulation's directory */
};

struct xnb_xen_ops {
	const char *name;          /* "xen" or "sim" */

	/* Host level. 0 or -errno; a failure is logged with what to do. */
	int (*host_open)(struct xnb_host **hp, const struct xnb_host_params *p);
	void (*host_close)(struct xnb_host *h);
	/*
	 * A connection to xenstore (libxenstore's client). NULL with errno
	 * and, in why, what went wrong and what to do on this platform, for
	 * the caller to log with its context.
	 */
	struct xs_handle *(*xs_open)(struct xnb_host *h, char *why, size_t size);

	/* A guest domain's context. 0 or -errno, logged. */
	int (*guest_open)(struct xnb_host *h, uint16_t domid, struct xnb_xen **xp);
	void (*guest_close)(struct xnb_xen *x);

	/*
	 * The guest's ops below fail with -errno (or NULL and errno) and at
	 * most a DEBUG line: the caller that acts on the failure logs it.
	 *
	 * Map count refs of the guest contiguously, writable or read-only.
	 */
	void *(*map_refs)(struct xnb_xen *x, uint32_t count, const uint32_t *refs,
			bool writable);
	int (*unmap)(struct xnb_xen *x, void *addr, uint32_t count);

	/*
	 * Batched grant copy, both directions, one status per segment.
	 * 0 when the call itself succeeded (per-segment errors are in the
	 * statuses), else -errno and no statuses are valid.
	 */
	int (*copy)(struct xnb_xen *x, uint32_t count,
			xengnttab_grant_copy_segment_t *segs);

	/* Event channels with the guest. */
	struct xnb_evtchn *(*evtchn_open)(struct xnb_xen *x);
	void (*evtchn_close)(struct xnb_evtchn *e);
	/* Bind to the guest's port; returns the local port or -errno. */
	int (*evtchn_bind)(struct xnb_evtchn *e, uint32_t remote_port);
	int (*evtchn_unbind)(struct xnb_evtchn *e, uint32_t port);
	int (*evtchn_notify)(struct xnb_evtchn *e, uint32_t port);
	/* Readable while a notification from the guest is pending. */
	int (*evtchn_fd)(struct xnb_evtchn *e);
	/* Take one pending notification, unmasking its port: 1, or 0 if none. */
	int (*evtchn_take)(struct xnb_evtchn *e);
};

extern const struct xnb_xen_ops xnb_xen_real_ops;
#ifdef XNB_HAS_SIM
extern const struct xnb_xen_ops xnb_xen_sim_ops;
#endif

/*
 * The implementation of platform name ("xen", "sim"); NULL when unknown
 * or not built in (-Dsim=false).
 */
const struct xnb_xen_ops *xnb_xen_ops_get(const char *name);

#endif /* XNB_XEN_H */
