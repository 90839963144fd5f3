/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The simulated grant table: what the guest's grant code and Xen's
 * grant-table hypercalls (through gntdev) do, on the shared domain file.
 *
 * Every check Xen makes on a grant entry is made here, on values read
 * once from memory that the guest may change at any time: a hostile
 * guest can make its own grants fail, never make the backend touch memory
 * outside the guest's pages.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "xensim_priv.h"

#define XENSIM_LIKELY(x) __builtin_expect(!!(x), 1)
#define XENSIM_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* A grant mapping made by this process (what gntdev remembers). */
struct xensim_mapping {
	struct xensim_mapping *next;
	struct xensim_dom *dom;
	uint8_t *addr;
	uint32_t count;
	uint32_t refs[];
};

static pthread_mutex_t mappings_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xensim_mapping *mappings;

static void gref_unpin(struct xensim_dom *d, uint32_t ref);

/* --- Pin records: who holds each mapping, across processes --- */

/* A process's start time (field 22 of /proc/PID/stat), or 0 if it is gone. */
static uint64_t
proc_start(int32_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	size_t n;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%" PRId32 "/stat", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command name, which may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	/* Fields 3 to 21, then the start time. */
	for (i = 3; i <= 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	return start;
}

/* This process: its pid and start time, looked up again after a fork. */
static void
proc_self(int32_t *pid, uint64_t *start)
{
	static int32_t self_pid;
	static uint64_t self_start;
	int32_t now = (int32_t)getpid();

	if (__atomic_load_n(&self_pid, __ATOMIC_ACQUIRE) != now) {
		__atomic_store_n(&self_start, proc_start(now), __ATOMIC_RELAXED);
		__atomic_store_n(&self_pid, now, __ATOMIC_RELEASE);
	}
	*pid = now;
	*start = __atomic_load_n(&self_start, __ATOMIC_RELAXED);
}

/*
 * Record that this process holds a mapping of ref. With every slot taken
 * the mapping stands unrecorded: it is released only by an unmap.
 */
static void
pin_record(struct xensim_dom *d, uint32_t ref)
{
	struct xensim_pin *p;
	uint32_t free_ref;
	uint64_t start;
	int32_t pid;
	size_t i;

	proc_self(&pid, &start);
	for (i = 0; i < XENSIM_NR_PINS; i++) {
		p = &d->pins[i];
		free_ref = 0;
		if (!__atomic_compare_exchange_n(&p->ref, &free_ref, ref, false,
				__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&p->start, start, __ATOMIC_RELAXED);
		__atomic_store_n(&p->pid, pid, __ATOMIC_RELEASE);
		return;
	}
}

/* Forget one record of this process's mapping of ref. */
static void
pin_forget(struct xensim_dom *d, uint32_t ref)
{
	struct xensim_pin *p;
	uint64_t start;
	int32_t pid;
	size_t i;

	proc_self(&pid, &start);
	for (i = 0; i < XENSIM_NR_PINS; i++) {
		p = &d->pins[i];
		if (__atomic_load_n(&p->ref, __ATOMIC_ACQUIRE) != ref ||
				__atomic_load_n(&p->pid, __ATOMIC_ACQUIRE) != pid)
			continue;
		__atomic_store_n(&p->pid, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->ref, 0, __ATOMIC_RELEASE);
		return;
	}
}

/*
 * Release the mappings of ref whose process has died (or, with ref 0,
 * of every ref), as the kernel does when a dead process's gntdev file is
 * closed. The number released.
 */
static uint32_t
pin_reclaim(struct xensim_dom *d, uint32_t ref)
{
	struct xensim_pin *p;
	uint32_t r, n = 0;
	uint64_t start;
	int32_t pid;
	size_t i;

	for (i = 0; i < XENSIM_NR_PINS; i++) {
		p = &d->pins[i];
		r = __atomic_load_n(&p->ref, __ATOMIC_ACQUIRE);
		if (r == 0 || (ref != 0 && r != ref) || r >= d->nr_grants)
			continue;
		pid = __atomic_load_n(&p->pid, __ATOMIC_ACQUIRE);
		start = __atomic_load_n(&p->start, __ATOMIC_RELAXED);
		if (pid <= 0 || (start != 0 && proc_start(pid) == start))
			continue;
		/* Its holder is gone: claim the record, then drop the pin. */
		if (!__atomic_compare_exchange_n(&p->pid, &pid, 0, false,
				__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&p->ref, 0, __ATOMIC_RELEASE);
		gref_unpin(d, r);
		n++;
	}
	return n;
}

/* --- Guest side --- */

int
xensim_grant_access(struct xensim_dom *d, uint16_t domid, uint32_t pfn,
		bool readonly)
{
	uint32_t i, ref, expected;
	grant_entry_v1_t *e;

	if (d == NULL || pfn >= d->nr_pages)
		return -EINVAL;

	ref = __atomic_load_n(&d->next_ref, __ATOMIC_RELAXED);
	for (i = 0; i < d->nr_grants; i++, ref++) {
		if (ref >= d->nr_grants || ref == 0)
			ref = 1;    /* ref 0 is reserved, as in Linux */
		expected = XENSIM_GNT_FREE;
		if (!__atomic_compare_exchange_n(&d->gstate[ref], &expected,
				XENSIM_GNT_BUSY, false, __ATOMIC_ACQUIRE,
				__ATOMIC_RELAXED))
			continue;
		/* Xen's order: domid and frame first, the flags last. */
		e = &d->gnt[ref];
		__atomic_store_n(&e->domid, domid, __ATOMIC_RELAXED);
		__atomic_store_n(&e->frame, pfn, __ATOMIC_RELAXED);
		__atomic_store_n(&e->flags, (uint16_t)(GTF_permit_access |
			(readonly ? GTF_readonly : 0)), __ATOMIC_RELEASE);
		__atomic_store_n(&d->gstate[ref], XENSIM_GNT_INUSE,
			__ATOMIC_RELEASE);
		__atomic_store_n(&d->next_ref, ref + 1, __ATOMIC_RELAXED);
		return (int)ref;
	}
	return -ENOSPC;
}

int
xensim_grant_end(struct xensim_dom *d, uint32_t ref)
{
	uint32_t expected = XENSIM_GNT_INUSE;

	if (d == NULL || ref == 0 || ref >= d->nr_grants)
		return -EINVAL;
	/*
	 * Only an unmapped grant moves from in use to busy; mappings of a
	 * process that died were released with it.
	 */
	if (!__atomic_compare_exchange_n(&d->gstate[ref], &expected,
			XENSIM_GNT_BUSY, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if ((expected & XENSIM_GNT_STATE_MASK) != XENSIM_GNT_INUSE)
			return -EINVAL;
		expected = XENSIM_GNT_INUSE;
		if (pin_reclaim(d, ref) == 0 ||
				!__atomic_compare_exchange_n(&d->gstate[ref], &expected,
				XENSIM_GNT_BUSY, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return -EBUSY;
	}
	__atomic_store_n(&d->gnt[ref].flags, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&d->gstate[ref], XENSIM_GNT_FREE, __ATOMIC_RELEASE);
	return 0;
}

uint32_t
xensim_grant_mapped_count(const struct xensim_dom *d)
{
	uint32_t i, n = 0;

	if (d == NULL)
		return 0;
	pin_reclaim((struct xensim_dom *)(uintptr_t)d, 0);
	for (i = 0; i < d->nr_grants; i++)
		n += __atomic_load_n(&d->gstate[i], __ATOMIC_RELAXED) >>
			XENSIM_GNT_MAP_SHIFT;
	return n;
}

/* --- Backend side --- */

/*
 * Fault injection for the fault tests: with XENSIM_FAULT_COPY=N in the
 * environment of the process that copies, about one copy segment in N
 * fails with GNTST_general_error (as Xen's may, e.g. when a page is
 * being paged out), at random from XENSIM_FAULT_SEED (else the pid).
 * Read once, when the library is loaded.
 */
static uint32_t fault_every;
static uint64_t fault_seed;
static __thread uint64_t fault_rng;

__attribute__((constructor)) static void
fault_init(void)
{
	const char *every = getenv("XENSIM_FAULT_COPY"), *seed = getenv("XENSIM_FAULT_SEED");

	if (every == NULL)
		return;
	fault_every = (uint32_t)strtoul(every, NULL, 10);
	fault_seed = seed != NULL ? strtoull(seed, NULL, 10) : (uint64_t)getpid();
	if (fault_every != 0)
		fprintf(stderr, "xensim: fault injection: one grant-copy segment in %" PRIu32
			" fails (seed %" PRIu64 ")\n", fault_every, fault_seed);
}

/*
 * After a call's copies: fail some segments (what they copied is to be
 * ignored, as after a failure of Xen's). Once per call, so that the
 * copy loop carries no test for it.
 */
static __attribute__((noinline)) void
fault_apply(uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
	uint32_t i;

	if (fault_rng == 0)
		fault_rng = (fault_seed ^ (uint64_t)(uintptr_t)&fault_rng) | 1;
	for (i = 0; i < count; i++) {
		fault_rng ^= fault_rng >> 12;
		fault_rng ^= fault_rng << 25;
		fault_rng ^= fault_rng >> 27;
		if (((fault_rng * 0x2545f4914f6cdd1dull) >> 32) % fault_every == 0)
			segs[i].status = GNTST_general_error;
	}
}

/*
 * Check a grant entry for an access by backend_domid and find its page.
 * The entry is read once; statuses as Xen's acquire_grant_for_copy gives.
 */
static inline int16_t
gref_page(const struct xensim_dom *d, uint16_t backend_domid, uint32_t ref,
		bool write, uint8_t **page)
{
	const grant_entry_v1_t *e;
	uint32_t st, frame;
	uint16_t flags;

	if (XENSIM_UNLIKELY(ref >= d->nr_grants))
		return GNTST_bad_gntref;
	st = __atomic_load_n(&d->gstate[ref], __ATOMIC_ACQUIRE);
	if (XENSIM_UNLIKELY((st & XENSIM_GNT_STATE_MASK) != XENSIM_GNT_INUSE))
		return GNTST_bad_gntref;
	e = &d->gnt[ref];
	flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
	if (XENSIM_UNLIKELY((flags & GTF_type_mask) != GTF_permit_access ||
			__atomic_load_n(&e->domid, __ATOMIC_RELAXED) !=
			backend_domid))
		return GNTST_permission_denied;
	if (XENSIM_UNLIKELY(write && (flags & GTF_readonly)))
		return GNTST_permission_denied;
	frame = __atomic_load_n(&e->frame, __ATOMIC_RELAXED);
	if (XENSIM_UNLIKELY(frame >= d->nr_pages))
		return GNTST_bad_page;
	*page = d->pages + (size_t)frame * XENSIM_PAGE_SIZE;
	return GNTST_okay;
}

int
xensim_grant_copy(struct xensim_dom *d, uint16_t backend_domid,
		uint32_t count, xengnttab_grant_copy_segment_t *segs)
{
	xengnttab_grant_copy_segment_t *seg;
	uint8_t *src, *dst, *page;
	uint16_t flags;
	uint32_t i;
	int16_t st;

	if (d == NULL || (segs == NULL && count != 0))
		return -EINVAL;

	for (i = 0; i < count; i++) {
		seg = &segs[i];
		flags = seg->flags;
		/* As gntdev: a copy must involve at least one grant. */
		if (XENSIM_UNLIKELY((flags &
				(GNTCOPY_source_gref | GNTCOPY_dest_gref)) == 0))
			return -EINVAL;

		/* Xen's order: both domains, the source, the dest, the bounds. */
		if (XENSIM_UNLIKELY(((flags & GNTCOPY_source_gref) &&
				seg->source.foreign.domid != d->domid) ||
				((flags & GNTCOPY_dest_gref) &&
				seg->dest.foreign.domid != d->domid))) {
			seg->status = GNTST_bad_domain;
			continue;
		}
		if (flags & GNTCOPY_source_gref) {
			st = gref_page(d, backend_domid, seg->source.foreign.ref,
				false, &page);
			if (XENSIM_UNLIKELY(st != GNTST_okay)) {
				seg->status = st;
				continue;
			}
			src = page + seg->source.foreign.offset;
		} else {
			src = seg->source.virt;
		}
		if (flags & GNTCOPY_dest_gref) {
			st = gref_page(d, backend_domid, seg->dest.foreign.ref,
				true, &page);
			if (XENSIM_UNLIKELY(st != GNTST_okay)) {
				seg->status = st;
				continue;
			}
			dst = page + seg->dest.foreign.offset;
		} else {
			dst = seg->dest.virt;
		}
		if (XENSIM_UNLIKELY(((flags & GNTCOPY_source_gref) &&
				(uint32_t)seg->source.foreign.offset + seg->len >
				XENSIM_PAGE_SIZE) ||
				((flags & GNTCOPY_dest_gref) &&
				(uint32_t)seg->dest.foreign.offset + seg->len >
				XENSIM_PAGE_SIZE))) {
			seg->status = GNTST_bad_copy_arg;
			continue;
		}
		memcpy(dst, src, seg->len);
		seg->status = GNTST_okay;
	}
	if (XENSIM_UNLIKELY(fault_every != 0))
		fault_apply(count, segs);
	return 0;
}

/* Count one more mapping of ref, if it is in use. */
static int
gref_pin(struct xensim_dom *d, uint32_t ref)
{
	uint32_t st = __atomic_load_n(&d->gstate[ref], __ATOMIC_ACQUIRE);

	do {
		if ((st & XENSIM_GNT_STATE_MASK) != XENSIM_GNT_INUSE)
			return -EINVAL;
		if ((st >> XENSIM_GNT_MAP_SHIFT) == (UINT32_MAX >> XENSIM_GNT_MAP_SHIFT))
			return -EBUSY;
	} while (!__atomic_compare_exchange_n(&d->gstate[ref], &st,
			st + XENSIM_GNT_MAP_ONE, true, __ATOMIC_ACQ_REL,
			__ATOMIC_ACQUIRE));
	return 0;
}

/* Drop one mapping of ref (never below zero, whatever the guest wrote). */
static void
gref_unpin(struct xensim_dom *d, uint32_t ref)
{
	uint32_t st = __atomic_load_n(&d->gstate[ref], __ATOMIC_RELAXED);

	do {
		if ((st >> XENSIM_GNT_MAP_SHIFT) == 0)
			return;
	} while (!__atomic_compare_exchange_n(&d->gstate[ref], &st,
			st - XENSIM_GNT_MAP_ONE, true, __ATOMIC_ACQ_REL,
			__ATOMIC_RELAXED));
}

void *
xensim_map_grant_refs(struct xensim_dom *d, uint16_t backend_domid,
		uint32_t count, const uint32_t *refs, bool writable)
{
	struct xensim_mapping *m;
	uint32_t i, pinned = 0;
	const grant_entry_v1_t *e;
	uint32_t *frames;
	uint16_t flags;
	uint8_t *addr;
	size_t len;
	int prot, err;

	if (d == NULL || refs == NULL || count == 0 || count > d->nr_grants) {
		errno = EINVAL;
		return NULL;
	}
	m = malloc(sizeof(*m) + 2 * (size_t)count * sizeof(uint32_t));
	if (m == NULL)
		return NULL;
	frames = m->refs + count;

	/* Check every ref as Xen's map hypercall does, pinning each one. */
	for (i = 0; i < count; i++) {
		if (refs[i] >= d->nr_grants) {
			err = EINVAL;
			goto fail_unpin;
		}
		err = -gref_pin(d, refs[i]);
		if (err != 0)
			goto fail_unpin;
		pinned++;
		m->refs[i] = refs[i];
		e = &d->gnt[refs[i]];
		flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
		if ((flags & GTF_type_mask) != GTF_permit_access ||
				__atomic_load_n(&e->domid, __ATOMIC_RELAXED) !=
				backend_domid ||
				(writable && (flags & GTF_readonly))) {
			err = EPERM;
			goto fail_unpin;
		}
		frames[i] = __atomic_load_n(&e->frame, __ATOMIC_RELAXED);
		if (frames[i] >= d->nr_pages) {
			err = EINVAL;
			goto fail_unpin;
		}
	}

	/* One contiguous range, then each page frame of the file in it. */
	len = (size_t)count * XENSIM_PAGE_SIZE;
	addr = mmap(NULL, len, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (addr == MAP_FAILED) {
		err = errno;
		goto fail_unpin;
	}
	prot = PROT_READ | (writable ? PROT_WRITE : 0);
	for (i = 0; i < count; i++) {
		off_t off = (off_t)((uint8_t *)d->pages - d->base) +
			(off_t)frames[i] * XENSIM_PAGE_SIZE;

		if (mmap(addr + (size_t)i * XENSIM_PAGE_SIZE, XENSIM_PAGE_SIZE,
				prot, MAP_SHARED | MAP_FIXED, d->fd, off) ==
				MAP_FAILED) {
			err = errno;
			munmap(addr, len);
			goto fail_unpin;
		}
	}

	for (i = 0; i < count; i++)
		pin_record(d, refs[i]);
	m->dom = d;
	m->addr = addr;
	m->count = count;
	xensim_dom_get(d);
	pthread_mutex_lock(&mappings_lock);
	m->next = mappings;
	mappings = m;
	pthread_mutex_unlock(&mappings_lock);
	return addr;

fail_unpin:
	for (i = 0; i < pinned; i++)
		gref_unpin(d, refs[i]);
	free(m);
	errno = err;
	return NULL;
}

int
xensim_unmap(struct xensim_dom *d, void *addr, uint32_t count)
{
	struct xensim_mapping **pp, *m = NULL;
	uint32_t i;

	pthread_mutex_lock(&mappings_lock);
	for (pp = &mappings; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->addr == addr && (*pp)->count == count &&
				(d == NULL || (*pp)->dom == d)) {
			m = *pp;
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&mappings_lock);
	if (m == NULL)
		return -EINVAL;

	munmap(m->addr, (size_t)m->count * XENSIM_PAGE_SIZE);
	for (i = 0; i < m->count; i++) {
		pin_forget(m->dom, m->refs[i]);
		gref_unpin(m->dom, m->refs[i]);
	}
	xensim_dom_put(m->dom);
	free(m);
	return 0;
}
