/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The Xen access ops on a Xen host (dom0 or a driver domain): Xen's own
 * user-space libraries over the Linux Xen devices.
 *
 *   grants          libxengnttab  /dev/xen/gntdev    (module xen-gntdev)
 *   event channels  libxenevtchn  /dev/xen/evtchn    (module xen-evtchn)
 *   xenstore        libxenstore   xenstored's socket or /dev/xen/xenbus
 *
 * Messages of the Xen libraries go to the driver's log type through a
 * xentoollog logger instead of stderr, at DEBUG: each comes with a
 * failure the library returns. The queue's ops (map, unmap, copy, event
 * channels) return it as -errno (or NULL and errno) with at most a DEBUG
 * line of their own: the caller that acts on it logs it once.
 *
 * Differences from the simulated platform a caller must respect:
 * - gntdev refuses a whole grant-copy call with EINVAL when a segment's
 *   foreign offset + len exceeds 4096 or a segment has no grant at all
 *   (xensim answers the former per segment with GNTST_bad_copy_arg).
 *   Copies are split in batches of 16 in the kernel, so a failing call
 *   may have copied earlier segments.
 */

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_log.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xentoollog.h>

#include "xnb_logs.h"
#include "xnb_xen.h"

/*
 * Grant pages one handle may have mapped at once: two ring pages per
 * queue, with room to spare. Linux ignores it since 5.8 (no limit).
 */
#define XNB_REAL_MAX_GRANTS 1024

struct xnb_host {
	xengnttab_handle *xgt;          /* /dev/xen/gntdev */
};

struct xnb_xen {
	struct xnb_host *host;
	uint16_t domid;
};

struct xnb_evtchn {
	xenevtchn_handle *xce;
	uint16_t domid;
};

/* --- the Xen libraries' messages into our log --- */

static void
xtl_vmessage(struct xentoollog_logger *logger, xentoollog_level level,
		int errnoval, const char *context, const char *format, va_list al)
{
	const char *what = level >= XTL_ERROR ? "error" : level == XTL_WARN ? "warning" : "note";
	char msg[512];

	vsnprintf(msg, sizeof(msg), format, al);
	if (errnoval >= 0)
		rte_log(RTE_LOG_DEBUG, xnb_logtype, "xen %s %s: %s: %s\n",
			context != NULL ? context : "lib", what, msg, strerror(errnoval));
	else
		rte_log(RTE_LOG_DEBUG, xnb_logtype, "xen %s %s: %s\n",
			context != NULL ? context : "lib", what, msg);
}

static void
xtl_destroy(struct xentoollog_logger *logger)
{
}

static struct xentoollog_logger xnb_xtl = {
	.vmessage = xtl_vmessage,
	.progress = NULL,
	.destroy = xtl_destroy,
};

/* --- grants --- */

static int
real_host_open(struct xnb_host **hp, const struct xnb_host_params *p)
{
	struct xnb_host *h;
	int err;

	RTE_SET_USED(p);
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->xgt = xengnttab_open(&xnb_xtl, 0);
	if (h->xgt == NULL) {
		err = errno;
		XNB_LOG(ERR, "xengnttab_open failed: %s; a Xen backend needs dom0 "
			"(or a driver domain) with /dev/xen/gntdev (modprobe xen-gntdev); "
			"on a machine without Xen use platform=sim", strerror(err));
		free(h);
		return -err;
	}
	/* Must come right after open, before any other call on the handle. */
	if (xengnttab_set_max_grants(h->xgt, XNB_REAL_MAX_GRANTS) != 0)
		XNB_LOG(WARNING, "xengnttab_set_max_grants(%u) failed: %s",
			XNB_REAL_MAX_GRANTS, strerror(errno));
	*hp = h;
	return 0;
}

static void
real_host_close(struct xnb_host *h)
{
	if (h == NULL)
		return;
	if (xengnttab_close(h->xgt) != 0)
		XNB_LOG(WARNING, "xengnttab_close failed: %s", strerror(errno));
	free(h);
}

/* A guest is a domain id: the grant device serves every domain. */
static int
real_guest_open(struct xnb_host *h, uint16_t domid, struct xnb_xen **xp)
{
	struct xnb_xen *x;

	if (domid == 0 || domid >= DOMID_FIRST_RESERVED) {
		XNB_LOG(ERR, "domid %u cannot be a guest (1..%u)", domid,
			DOMID_FIRST_RESERVED - 1);
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	x->host = h;
	x->domid = domid;
	*xp = x;
	return 0;
}

static void
real_guest_close(struct xnb_xen *x)
{
	free(x);
}

static struct xs_handle *
real_xs_open(struct xnb_host *h, char *why, size_t size)
{
	struct xs_handle *xs = xs_open(0);
	int err = errno;

	RTE_SET_USED(h);
	if (xs == NULL) {
		snprintf(why, size, "xs_open: %s; is xenstored running (its socket, or /dev/xen/xenbus)?",
			strerror(err));
		errno = err;
	}
	return xs;
}

static void *
real_map_refs(struct xnb_xen *x, uint32_t count, const uint32_t *refs, bool writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	void *addr;
	int err;

	if (refs == NULL || count == 0) {
		errno = EINVAL;
		return NULL;
	}
	/* libxengnttab only reads refs; its prototype lacks the const. */
	addr = xengnttab_map_domain_grant_refs(x->host->xgt, count, x->domid,
		(uint32_t *)(uintptr_t)refs, prot);
	if (addr == NULL) {
		err = errno;
		XNB_LOG(DEBUG, "xengnttab_map_domain_grant_refs of %u ref(s) of domain "
			"%u (first %u, %s) failed: %s", count, x->domid, refs[0],
			writable ? "read-write" : "read-only", strerror(err));
		errno = err;
	}
	return addr;
}

static int
real_unmap(struct xnb_xen *x, void *addr, uint32_t count)
{
	int err;

	if (xengnttab_unmap(x->host->xgt, addr, count) != 0) {
		err = errno;
		XNB_LOG(DEBUG, "xengnttab_unmap of %u page(s) at %p failed: %s",
			count, addr, strerror(err));
		return -err;
	}
	return 0;
}

static int
real_copy(struct xnb_xen *x, uint32_t count,
		xengnttab_grant_copy_segment_t *segs)
{
	int err;

	if (unlikely(xengnttab_grant_copy(x->host->xgt, count, segs) != 0)) {
		/* The queue stops and logs it once (xnb_copy_flush()). */
		err = errno;
		return err != 0 ? -err : -EIO;
	}
	return 0;
}

/* --- event channels --- */

static struct xnb_evtchn *
real_evtchn_open(struct xnb_xen *x)
{
	struct xnb_evtchn *e;
	int err;

	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->domid = x->domid;
	e->xce = xenevtchn_open(&xnb_xtl, 0);
	if (e->xce == NULL) {
		err = errno;
		XNB_LOG(DEBUG, "xenevtchn_open failed: %s; a Xen backend needs "
			"/dev/xen/evtchn (modprobe xen-evtchn)", strerror(err));
		free(e);
		errno = err;
		return NULL;
	}
	return e;
}

static void
real_evtchn_close(struct xnb_evtchn *e)
{
	if (e == NULL)
		return;
	if (xenevtchn_close(e->xce) != 0)
		XNB_LOG(WARNING, "xenevtchn_close failed: %s", strerror(errno));
	free(e);
}

static int
real_evtchn_bind(struct xnb_evtchn *e, uint32_t remote_port)
{
	xenevtchn_port_or_error_t port;
	int err;

	port = xenevtchn_bind_interdomain(e->xce, e->domid, remote_port);
	if (port < 0) {
		err = errno;
		XNB_LOG(DEBUG, "xenevtchn_bind_interdomain to port %u of domain %u "
			"failed: %s", remote_port, e->domid, strerror(err));
		return -err;
	}
	return port;
}

static int
real_evtchn_unbind(struct xnb_evtchn *e, uint32_t port)
{
	int err;

	if (xenevtchn_unbind(e->xce, port) != 0) {
		err = errno;
		XNB_LOG(DEBUG, "xenevtchn_unbind of port %u failed: %s", port,
			strerror(err));
		return -err;
	}
	return 0;
}

static int
real_evtchn_notify(struct xnb_evtchn *e, uint32_t port)
{
	int err;

	if (unlikely(xenevtchn_notify(e->xce, port) != 0)) {
		err = errno;
		XNB_DP_LOG(ERR, "xenevtchn_notify of port %u failed: %s", port,
			strerror(err));
		return -err;
	}
	return 0;
}

static int
real_evtchn_fd(struct xnb_evtchn *e)
{
	return xenevtchn_fd(e->xce);
}

static int
real_evtchn_take(struct xnb_evtchn *e)
{
	struct pollfd pfd = { .fd = xenevtchn_fd(e->xce), .events = POLLIN };
	xenevtchn_port_or_error_t port;

	/* xenevtchn_pending() reads the device, and blocks when nothing is pending. */
	if (poll(&pfd, 1, 0) != 1 || (pfd.revents & POLLIN) == 0)
		return 0;
	port = xenevtchn_pending(e->xce);
	if (port < 0)
		return 0;
	xenevtchn_unmask(e->xce, (evtchn_port_t)port);
	return 1;
}

const struct xnb_xen_ops xnb_xen_real_ops = {
	.name = "xen",
	.host_open = real_host_open,
	.host_close = real_host_close,
	.xs_open = real_xs_open,
	.guest_open = real_guest_open,
	.guest_close = real_guest_close,
	.map_refs = real_map_refs,
	.unmap = real_unmap,
	.copy = real_copy,
	.evtchn_open = real_evtchn_open,
	.evtchn_close = real_evtchn_close,
	.evtchn_bind = real_evtchn_bind,
	.evtchn_unbind = real_evtchn_unbind,
	.evtchn_notify = real_evtchn_notify,
	.evtchn_fd = real_evtchn_fd,
	.evtchn_take = real_evtchn_take,
};
