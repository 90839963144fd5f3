/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The Xen access ops on the simulated platform (lib/xensim), for machines
 * without a hypervisor. The simulation's directory holds the domain files
 * (dom<domid>) and the socket of its xenstored (devtools/xnb-xenstored).
 *
 * A backend usually starts before its guest exists, and a guest that
 * reboots creates its domain file afresh: so guest_open() asks for nothing,
 * and the domain is attached when it is first needed (mapping rings,
 * opening an event channel) and attached again when the file on disk is
 * no longer the one mapped. Mappings made from the previous incarnation
 * stay valid until unmapped, as a dying domain's pages do under Xen.
 *
 * The queue's ops (map, unmap, copy, event channels) that fail return
 * -errno (or NULL and errno) with at most a DEBUG line: the caller that
 * acts on the failure logs it once.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include <xenstore.h>

#include "xensim.h"
#include "xnb_logs.h"
#include "xnb_xen.h"

struct xnb_host {
	char sim_dir[PATH_MAX];
};

struct xnb_xen {
	struct xnb_host *host;
	uint16_t domid;
	pthread_mutex_t lock;           /* attaching */
	/* The incarnation in use (read by the datapath), NULL before any. */
	struct xensim_dom *dom;
	/*
	 * The one before: a datapath thread may still be in a copy on it
	 * when a reboot is noticed. Closed at the next re-attach or close.
	 */
	struct xensim_dom *retired;
};

struct xnb_evtchn {
	struct xensim_evtchn *h;
	uint16_t domid;
};

static int
sim_host_open(struct xnb_host **hp, const struct xnb_host_params *p)
{
	struct xnb_host *h;
	int n;

	if (p->sim_dir == NULL || p->sim_dir[0] == '\0') {
		XNB_LOG(ERR, "the sim platform needs a sim directory (devarg sim_dir)");
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	n = snprintf(h->sim_dir, sizeof(h->sim_dir), "%s", p->sim_dir);
	if (n < 0 || (size_t)n >= sizeof(h->sim_dir)) {
		free(h);
		XNB_LOG(ERR, "sim directory name too long: %s", p->sim_dir);
		return -ENAMETOOLONG;
	}
	*hp = h;
	return 0;
}

static void
sim_host_close(struct xnb_host *h)
{
	free(h);
}

static int
sim_guest_open(struct xnb_host *h, uint16_t domid, struct xnb_xen **xp)
{
	struct xnb_xen *x;

	if (domid == XENSIM_BACKEND_DOMID || domid >= DOMID_FIRST_RESERVED) {
		XNB_LOG(ERR, "domid %u cannot be a simulated guest (1..%u)",
			domid, DOMID_FIRST_RESERVED - 1);
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	x->host = h;
	x->domid = domid;
	pthread_mutex_init(&x->lock, NULL);
	*xp = x;
	return 0;
}

static void
sim_guest_close(struct xnb_xen *x)
{
	if (x == NULL)
		return;
	xensim_dom_close(x->retired);
	xensim_dom_close(x->dom);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

/*
 * The current incarnation of the domain, attached or re-attached as
 * needed (control path: it stats the file). NULL and errno if the domain
 * does not exist.
 */
static struct xensim_dom *
sim_attach(struct xnb_xen *x)
{
	struct xensim_dom *d, *cur;
	int err;

	pthread_mutex_lock(&x->lock);
	cur = x->dom;
	if (cur != NULL && xensim_dom_is_current(cur)) {
		pthread_mutex_unlock(&x->lock);
		return cur;
	}
	d = xensim_dom_attach(x->host->sim_dir, x->domid);
	if (d == NULL) {
		err = errno;
		pthread_mutex_unlock(&x->lock);
		XNB_LOG(DEBUG, "cannot attach simulated domain %u in %s: %s%s",
			x->domid, x->host->sim_dir, strerror(err),
			err == ENOENT ? " (the guest has not created it yet)" : "");
		errno = err;
		return NULL;
	}
	if (cur != NULL) {
		XNB_LOG(INFO, "simulated domain %u was recreated (generation %" PRIx64
			" -> %" PRIx64 "): attached afresh", x->domid,
			xensim_dom_generation(cur), xensim_dom_generation(d));
		xensim_dom_close(x->retired);
		x->retired = cur;
	}
	__atomic_store_n(&x->dom, d, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&x->lock);
	return d;
}

static struct xs_handle *
sim_xs_open(struct xnb_host *h, char *why, size_t size)
{
	struct xs_handle *xs = xensim_xs_open(h->sim_dir);
	int err = errno;

	if (xs == NULL) {
		snprintf(why, size, "no xenstored at %s/socket (%s): start one with "
			"devtools/xnb-xenstored start %s SHIM_SO", h->sim_dir,
			strerror(err), h->sim_dir);
		errno = err;
	}
	return xs;
}

static void *
sim_map_refs(struct xnb_xen *x, uint32_t count, const uint32_t *refs, bool writable)
{
	struct xensim_dom *d;
	void *addr;
	int err;

	d = sim_attach(x);
	if (d == NULL)
		return NULL;
	addr = xensim_map_grant_refs(d, XENSIM_BACKEND_DOMID, count, refs,
		writable);
	if (addr == NULL) {
		err = errno;
		XNB_LOG(DEBUG, "cannot map %u grant ref(s) of domain %u (first %u, %s): %s",
			count, x->domid, count > 0 && refs != NULL ? refs[0] : 0,
			writable ? "writable" : "read-only", strerror(err));
		errno = err;
	}
	return addr;
}

static int
sim_unmap(struct xnb_xen *x, void *addr, uint32_t count)
{
	int rc;

	/* The mapping knows its incarnation of the domain. */
	rc = xensim_unmap(NULL, addr, count);
	if (rc < 0)
		XNB_LOG(DEBUG, "cannot unmap %u page(s) at %p of domain %u: %s",
			count, addr, x->domid, strerror(-rc));
	return rc;
}

/*
 * What Linux's gntdev checks before any hypercall, as the real platform
 * gets it: a segment without a grant on either side, or whose foreign
 * offset + len passes the page, fails the whole call with EINVAL (Xen
 * itself, in lib/xensim, answers the latter per segment; gntdev never lets
 * it get that far). Found on real Xen: the driver must bound every guest
 * offset and size before it builds a segment, and it does.
 */
static int
gntdev_check(uint32_t count, const xengnttab_grant_copy_segment_t *segs)
{
	const xengnttab_grant_copy_segment_t *seg;
	uint32_t i;

	for (i = 0; i < count; i++) {
		seg = &segs[i];
		if (unlikely((seg->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)) == 0))
			return -EINVAL;
		if (unlikely((seg->flags & GNTCOPY_source_gref) &&
				(uint32_t)seg->source.foreign.offset + seg->len > XENSIM_PAGE_SIZE))
			return -EINVAL;
		if (unlikely((seg->flags & GNTCOPY_dest_gref) &&
				(uint32_t)seg->dest.foreign.offset + seg->len > XENSIM_PAGE_SIZE))
			return -EINVAL;
	}
	return 0;
}

static int
sim_copy(struct xnb_xen *x, uint32_t count,
		xengnttab_grant_copy_segment_t *segs)
{
	struct xensim_dom *d = __atomic_load_n(&x->dom, __ATOMIC_ACQUIRE);

	if (unlikely(gntdev_check(count, segs) != 0))
		return -EINVAL;
	if (unlikely(d == NULL)) {
		/* Nothing mapped yet: not the datapath's usual state. */
		d = sim_attach(x);
		if (d == NULL)
			return -errno;
	}
	return xensim_grant_copy(d, XENSIM_BACKEND_DOMID, count, segs);
}

static struct xnb_evtchn *
sim_evtchn_open(struct xnb_xen *x)
{
	struct xensim_dom *d;
	struct xnb_evtchn *e;
	int err;

	d = sim_attach(x);
	if (d == NULL)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->domid = x->domid;
	e->h = xensim_evtchn_open(d, XENSIM_BACKEND_DOMID);
	if (e->h == NULL) {
		err = errno;
		XNB_LOG(DEBUG, "cannot open an event channel handle for domain %u: %s",
			x->domid, strerror(err));
		free(e);
		errno = err;
		return NULL;
	}
	return e;
}

static void
sim_evtchn_close(struct xnb_evtchn *e)
{
	if (e == NULL)
		return;
	xensim_evtchn_close(e->h);
	free(e);
}

static int
sim_evtchn_bind(struct xnb_evtchn *e, uint32_t remote_port)
{
	int rc = xensim_evtchn_bind_interdomain(e->h, e->domid, remote_port);

	if (rc < 0)
		XNB_LOG(DEBUG, "cannot bind to port %u of domain %u: %s",
			remote_port, e->domid, strerror(-rc));
	return rc;
}

static int
sim_evtchn_unbind(struct xnb_evtchn *e, uint32_t port)
{
	return xensim_evtchn_unbind(e->h, port);
}

static int
sim_evtchn_notify(struct xnb_evtchn *e, uint32_t port)
{
	return xensim_evtchn_notify(e->h, port);
}

static int
sim_evtchn_fd(struct xnb_evtchn *e)
{
	return xensim_evtchn_fd(e->h);
}

static int
sim_evtchn_take(struct xnb_evtchn *e)
{
	int port = xensim_evtchn_pending(e->h);

	if (port < 0)
		return 0;
	xensim_evtchn_unmask(e->h, (uint32_t)port);
	return 1;
}

const struct xnb_xen_ops xnb_xen_sim_ops = {
	.name = "sim",
	.host_open = sim_host_open,
	.host_close = sim_host_close,
	.xs_open = sim_xs_open,
	.guest_open = sim_guest_open,
	.guest_close = sim_guest_close,
	.map_refs = sim_map_refs,
	.unmap = sim_unmap,
	.copy = sim_copy,
	.evtchn_open = sim_evtchn_open,
	.evtchn_close = sim_evtchn_close,
	.evtchn_bind = sim_evtchn_bind,
	.evtchn_unbind = sim_evtchn_unbind,
	.evtchn_notify = sim_evtchn_notify,
	.evtchn_fd = sim_evtchn_fd,
	.evtchn_take = sim_evtchn_take,
};
