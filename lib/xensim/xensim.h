/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The simulated Xen platform: what the hypervisor would provide, for a
 * machine that has none.
 *
 * A simulated guest domain is one file, <dir>/dom<domid>, that every
 * process taking part maps shared: a header, the guest's grant table
 * (grant_entry_v1 entries, as Xen's v1 table), the guest's event channel
 * tables (guest side and backend side) and the guest's memory pages. The
 * guest emulator creates it; the backend attaches to it.
 *
 * Grant operations are checked as Xen checks them and each failure gets
 * the GNTST_* status Xen would give. Event channels are delivered between
 * processes through a datagram socket per handle, so each handle has one
 * pollable fd, as /dev/xen/evtchn does.
 *
 * The simulation replaces the hypervisor only: the same xenstore daemon,
 * ring layouts and grant-copy segment format as on real Xen.
 */

#ifndef XENSIM_H
#define XENSIM_H

#include <stdbool.h>
#include <stdint.h>

#include <xengnttab.h>

#define XENSIM_PAGE_SIZE 4096u
/* The backend domain of the simulation: dom0, as for the toolstack. */
#define XENSIM_BACKEND_DOMID 0

struct xensim_dom;
struct xensim_evtchn;

/* --- Domains --- */

/*
 * Guest side: create <dir>/dom<domid> (replacing a stale one) with
 * nr_pages pages of guest memory and nr_grants grant entries, all zero.
 * Returns NULL and sets errno on failure.
 */
struct xensim_dom *xensim_dom_create(const char *dir, uint16_t domid,
		uint32_t nr_pages, uint32_t nr_grants);

/* Backend side: map an existing domain. NULL and errno on failure. */
struct xensim_dom *xensim_dom_attach(const char *dir, uint16_t domid);

/*
 * Unmap (either side). The file stays. Grant mappings and event channel
 * handles made through d keep the file mapped until they are undone.
 */
void xensim_dom_close(struct xensim_dom *d);

/* Remove <dir>/dom<domid>: the domain is destroyed. */
int xensim_dom_destroy(const char *dir, uint16_t domid);

uint16_t xensim_dom_id(const struct xensim_dom *d);
uint32_t xensim_dom_nr_pages(const struct xensim_dom *d);

/* The domain's creation id: random, never 0, new at every create. */
uint64_t xensim_dom_generation(const struct xensim_dom *d);

/*
 * Backend side: whether <dir>/dom<domid> is still the file d maps. False
 * once the domain was destroyed or created again (a guest reboot): the
 * backend then attaches afresh.
 */
bool xensim_dom_is_current(const struct xensim_dom *d);

/* Guest side: the guest's own view of its page pfn (NULL if out of range). */
void *xensim_dom_page(struct xensim_dom *d, uint32_t pfn);

/* --- Grant table, guest side --- */

/*
 * Grant domid access to page pfn; read-only when readonly. Returns the
 * grant ref (>= 1; ref 0 is reserved as in Linux) or -errno.
 */
int xensim_grant_access(struct xensim_dom *d, uint16_t domid, uint32_t pfn,
		bool readonly);

/* Revoke a grant. -EBUSY while the backend has it mapped. */
int xensim_grant_end(struct xensim_dom *d, uint32_t ref);

/* --- Grant table, backend side (the calls gntdev would make) --- */

/*
 * Map count grant refs of domain d, granted to backend_domid, into one
 * contiguous range of this process's address space (an mmap of the page
 * frames, like gntdev). writable asks for a writable mapping, which a
 * read-only grant refuses. NULL and errno on failure (EINVAL bad ref,
 * EPERM not granted to us or read-only).
 */
void *xensim_map_grant_refs(struct xensim_dom *d, uint16_t backend_domid,
		uint32_t count, const uint32_t *refs, bool writable);

/*
 * Undo xensim_map_grant_refs: addr and count as it returned and was
 * given. d may be NULL: the mapping knows its domain (a backend that
 * attached to a recreated domain still unmaps what it mapped from the old
 * one). 0, or -EINVAL when addr/count is not such a mapping (of d).
 */
int xensim_unmap(struct xensim_dom *d, void *addr, uint32_t count);

/*
 * Grant copy with libxengnttab's segment format: each segment's source
 * and dest is a local address or a foreign {ref, offset, domid} chosen by
 * GNTCOPY_source_gref / GNTCOPY_dest_gref in flags. Every segment gets a
 * status: GNTST_okay, or GNTST_bad_domain (domid is not d's),
 * GNTST_bad_gntref (ref out of range or not in use),
 * GNTST_permission_denied (not granted to backend_domid, or a write to a
 * read-only grant), GNTST_bad_copy_arg (offset + len > 4096). A segment
 * is copied only when it passes every check. Returns 0 (the call itself
 * succeeded; statuses carry per-segment errors) or -errno.
 */
int xensim_grant_copy(struct xensim_dom *d, uint16_t backend_domid,
		uint32_t count, xengnttab_grant_copy_segment_t *segs);

/* Number of grant refs of d mapped by backends right now (leak checks). */
uint32_t xensim_grant_mapped_count(const struct xensim_dom *d);

/* --- Event channels --- */

/*
 * Open an event channel handle for domain self (the guest's domid on the
 * guest side, XENSIM_BACKEND_DOMID on the backend side) in d's tables.
 */
struct xensim_evtchn *xensim_evtchn_open(struct xensim_dom *d, uint16_t self);
void xensim_evtchn_close(struct xensim_evtchn *h);

/* The pollable fd: readable while a notification is pending. */
int xensim_evtchn_fd(struct xensim_evtchn *h);

/* Guest side: allocate a port that remote may bind. Port or -errno. */
int xensim_evtchn_alloc_unbound(struct xensim_evtchn *h, uint16_t remote);

/* Backend side: bind to the guest's unbound port. Local port or -errno. */
int xensim_evtchn_bind_interdomain(struct xensim_evtchn *h, uint16_t remote,
		uint32_t remote_port);

int xensim_evtchn_unbind(struct xensim_evtchn *h, uint32_t port);

/* Send an event to the peer of local port. 0 or -errno. */
int xensim_evtchn_notify(struct xensim_evtchn *h, uint32_t port);

/* Take one pending event: its local port, or -EAGAIN if none. */
int xensim_evtchn_pending(struct xensim_evtchn *h);

int xensim_evtchn_unmask(struct xensim_evtchn *h, uint32_t port);

/* --- xenstore --- */

struct xs_handle;

/*
 * Connect the real libxenstore client to the simulation's xenstored,
 * whose socket is <sim_dir>/socket. NULL and errno on failure (ENOENT:
 * no daemon there; start one with devtools/xnb-xenstored).
 */
struct xs_handle *xensim_xs_open(const char *sim_dir);

#endif /* XENSIM_H */
