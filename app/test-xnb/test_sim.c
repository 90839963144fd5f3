/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Suite "sim": the simulated platform as the driver and the guest use it,
 * through lib/xensim directly and through xnb_xen_sim_ops. Every grant
 * check Xen makes, both directions of grant copy, grant mapping, event
 * channels between two handles, and re-attaching to a recreated domain.
 *
 * Suite "xenstored": Debian's xenstored started by devtools/xnb-xenstored
 * with the LD_PRELOAD shim, used through xnb_xen_sim_ops.xs_open().
 */

#define _GNU_SOURCE     /* close_range */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include <rte_common.h>

#include "xensim.h"
#include "xnb_netif.h"
#include "xnb_xen.h"

#include "test.h"

#define GUEST_DOMID 7
#define OTHER_DOMID 5
#define NR_PAGES 16
#define NR_GRANTS 64

/* Short: under /tmp, made by mkdtemp; leaves room for file names. */
static char sim_dir[256];
static struct xensim_dom *guest;     /* the guest's view */
static struct xensim_dom *backend;   /* the backend's view (attached) */

static void
fill(void *p, size_t len, uint8_t seed)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

static int
make_sim_dir(void)
{
	snprintf(sim_dir, sizeof(sim_dir), "/tmp/xnb-test-sim-XXXXXX");
	if (mkdtemp(sim_dir) == NULL) {
		fprintf(stderr, "    mkdtemp: %s\n", strerror(errno));
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

static void
remove_sim_dir(void)
{
	char cmd[PATH_MAX + 16];

	if (sim_dir[0] == '\0')
		return;
	/* Only what the tests made: domain files, the daemon's files. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sim_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "    could not remove %s\n", sim_dir);
	sim_dir[0] = '\0';
}

static int
dom_setup(void)
{
	if (make_sim_dir() != TEST_SUCCESS)
		return TEST_FAILED;
	guest = xensim_dom_create(sim_dir, GUEST_DOMID, NR_PAGES, NR_GRANTS);
	if (guest == NULL) {
		fprintf(stderr, "    xensim_dom_create: %s\n", strerror(errno));
		return TEST_FAILED;
	}
	backend = xensim_dom_attach(sim_dir, GUEST_DOMID);
	if (backend == NULL) {
		fprintf(stderr, "    xensim_dom_attach: %s\n", strerror(errno));
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

static void
dom_teardown(void)
{
	xensim_dom_close(backend);
	backend = NULL;
	xensim_dom_close(guest);
	guest = NULL;
	if (sim_dir[0] != '\0')
		xensim_dom_destroy(sim_dir, GUEST_DOMID);
	remove_sim_dir();
}

/* --- domains --- */

static int
test_dom_attach_checks(void)
{
	char path[PATH_MAX];
	int fd;

	TEST_ASSERT_EQUAL(xensim_dom_id(backend), GUEST_DOMID, "domid");
	TEST_ASSERT_EQUAL(xensim_dom_nr_pages(backend), NR_PAGES, "pages");
	TEST_ASSERT_EQUAL(xensim_dom_generation(backend),
		xensim_dom_generation(guest), "same incarnation");
	TEST_ASSERT(xensim_dom_is_current(backend), "file is current");
	TEST_ASSERT_NULL(xensim_dom_page(guest, NR_PAGES), "page out of range");
	TEST_ASSERT_NOT_NULL(xensim_dom_page(guest, NR_PAGES - 1), "last page");

	/*
	 * The guest cannot pull its memory from under the backend: the
	 * domain is sealed against shrinking (and growing), whoever opens it.
	 */
	snprintf(path, sizeof(path), "%s/dom%u", sim_dir, GUEST_DOMID);
	fd = open(path, O_RDWR);
	TEST_ASSERT(fd >= 0, "open %s", path);
	TEST_ASSERT(ftruncate(fd, 4096) != 0 && errno == EPERM, "a shrink is refused");
	TEST_ASSERT(ftruncate(fd, 1 << 30) != 0 && errno == EPERM, "a growth is refused");
	close(fd);
	TEST_ASSERT_NOT_NULL(xensim_dom_page(backend, NR_PAGES - 1), "the backend's view");
	TEST_ASSERT_EQUAL(*(volatile uint8_t *)xensim_dom_page(backend, NR_PAGES - 1), 0,
		"the last page still reads");

	/* No such domain. */
	TEST_ASSERT_NULL(xensim_dom_attach(sim_dir, GUEST_DOMID + 1), "dom8");
	TEST_ASSERT_EQUAL(errno, ENOENT, "attach of a missing domain");
	/* Domain 0 is the backend, never a simulated guest. */
	TEST_ASSERT_NULL(xensim_dom_create(sim_dir, 0, 1, 8), "dom0");
	TEST_ASSERT_EQUAL(errno, EINVAL, "dom0 create");

	/* A file that is not a domain is refused, not believed. */
	snprintf(path, sizeof(path), "%s/dom9", sim_dir);
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	TEST_ASSERT(fd >= 0, "create %s", path);
	TEST_ASSERT_EQUAL(write(fd, "garbage, not a domain", 21), 21, "write");
	close(fd);
	TEST_ASSERT_NULL(xensim_dom_attach(sim_dir, 9), "garbage domain");
	TEST_ASSERT_EQUAL(errno, EINVAL, "garbage domain");
	unlink(path);
	return TEST_SUCCESS;
}

/* --- grant copy --- */

static void
seg_from_gref(xengnttab_grant_copy_segment_t *s, uint32_t ref, uint16_t off,
		uint16_t domid, void *dst, uint16_t len)
{
	memset(s, 0, sizeof(*s));
	s->flags = GNTCOPY_source_gref;
	s->source.foreign.ref = ref;
	s->source.foreign.offset = off;
	s->source.foreign.domid = domid;
	s->dest.virt = dst;
	s->len = len;
	s->status = 99;
}

static void
seg_to_gref(xengnttab_grant_copy_segment_t *s, void *src, uint32_t ref,
		uint16_t off, uint16_t domid, uint16_t len)
{
	memset(s, 0, sizeof(*s));
	s->flags = GNTCOPY_dest_gref;
	s->source.virt = src;
	s->dest.foreign.ref = ref;
	s->dest.foreign.offset = off;
	s->dest.foreign.domid = domid;
	s->len = len;
	s->status = 99;
}

static int
test_grant_copy_good(void)
{
	uint8_t buf[3000], src[1000], expect[XENSIM_PAGE_SIZE];
	xengnttab_grant_copy_segment_t segs[3];
	int ro, rw;

	fill(xensim_dom_page(guest, 3), XENSIM_PAGE_SIZE, 11);
	memset(xensim_dom_page(guest, 4), 0, XENSIM_PAGE_SIZE);
	ro = xensim_grant_access(guest, 0, 3, true);
	rw = xensim_grant_access(guest, 0, 4, false);
	TEST_ASSERT(ro >= 1 && rw >= 1 && ro != rw, "refs %d %d", ro, rw);

	/* Guest -> backend from a read-only grant, at an offset. */
	memset(buf, 0, sizeof(buf));
	seg_from_gref(&segs[0], ro, 1000, GUEST_DOMID, buf, sizeof(buf));
	/* Backend -> guest into a writable grant. */
	fill(src, sizeof(src), 200);
	seg_to_gref(&segs[1], src, rw, 96, GUEST_DOMID, sizeof(src));
	/* Gref to gref, ending exactly at the page end. */
	memset(&segs[2], 0, sizeof(segs[2]));
	segs[2].flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
	segs[2].source.foreign.ref = ro;
	segs[2].source.foreign.offset = 0;
	segs[2].source.foreign.domid = GUEST_DOMID;
	segs[2].dest.foreign.ref = rw;
	segs[2].dest.foreign.offset = 4096 - 16;
	segs[2].dest.foreign.domid = GUEST_DOMID;
	segs[2].len = 16;

	TEST_ASSERT_SUCCESS(xensim_grant_copy(backend, 0, 3, segs), "copy");
	TEST_ASSERT_EQUAL(segs[0].status, GNTST_okay, "from gref");
	TEST_ASSERT_EQUAL(segs[1].status, GNTST_okay, "to gref");
	TEST_ASSERT_EQUAL(segs[2].status, GNTST_okay, "gref to gref");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(buf,
		(uint8_t *)xensim_dom_page(guest, 3) + 1000, sizeof(buf),
		"guest -> backend bytes");
	memset(expect, 0, sizeof(expect));
	memcpy(expect + 96, src, sizeof(src));
	memcpy(expect + 4096 - 16, xensim_dom_page(guest, 3), 16);
	TEST_ASSERT_BUFFERS_ARE_EQUAL(xensim_dom_page(guest, 4), expect,
		sizeof(expect), "backend -> guest bytes, nothing else touched");

	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, ro), "end ro");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, rw), "end rw");
	return TEST_SUCCESS;
}

/* One bad segment of each kind between good ones, in one call. */
static int
test_grant_copy_status(void)
{
	enum { N = 16 };
	xengnttab_grant_copy_segment_t segs[N];
	uint8_t in[N][64], out[N][64], page_before[XENSIM_PAGE_SIZE];
	uint8_t ro_before[XENSIM_PAGE_SIZE];
	int16_t want[N];
	int ro, rw, other, freed, i, n = 0;

	fill(xensim_dom_page(guest, 5), XENSIM_PAGE_SIZE, 1);
	fill(xensim_dom_page(guest, 6), XENSIM_PAGE_SIZE, 2);
	ro = xensim_grant_access(guest, 0, 5, true);
	rw = xensim_grant_access(guest, 0, 6, false);
	other = xensim_grant_access(guest, OTHER_DOMID, 6, false);
	freed = xensim_grant_access(guest, 0, 6, false);
	TEST_ASSERT(ro > 0 && rw > 0 && other > 0 && freed > 0, "grants");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, freed), "end");
	memcpy(page_before, xensim_dom_page(guest, 6), sizeof(page_before));
	memcpy(ro_before, xensim_dom_page(guest, 5), sizeof(ro_before));
	memset(out, 0xee, sizeof(out));
	for (i = 0; i < N; i++)
		fill(in[i], sizeof(in[i]), (uint8_t)(100 + i));

	/* Guest -> backend (source is the grant). */
	seg_from_gref(&segs[n], ro, 0, GUEST_DOMID, out[n], 64);
	want[n++] = GNTST_okay;
	seg_from_gref(&segs[n], ro, 0, OTHER_DOMID, out[n], 64);
	want[n++] = GNTST_bad_domain;
	seg_from_gref(&segs[n], NR_GRANTS, 0, GUEST_DOMID, out[n], 64);
	want[n++] = GNTST_bad_gntref;
	seg_from_gref(&segs[n], freed, 0, GUEST_DOMID, out[n], 64);
	want[n++] = GNTST_bad_gntref;
	seg_from_gref(&segs[n], 0, 0, GUEST_DOMID, out[n], 64);
	want[n++] = GNTST_bad_gntref;
	seg_from_gref(&segs[n], other, 0, GUEST_DOMID, out[n], 64);
	want[n++] = GNTST_permission_denied;
	seg_from_gref(&segs[n], ro, 4096 - 63, GUEST_DOMID, out[n], 64);
	want[n++] = GNTST_bad_copy_arg;
	seg_from_gref(&segs[n], rw, 4096 - 64, GUEST_DOMID, out[n], 64);
	want[n++] = GNTST_okay;

	/* Backend -> guest (dest is the grant). */
	seg_to_gref(&segs[n], in[n], rw, 128, GUEST_DOMID, 64);
	want[n++] = GNTST_okay;
	seg_to_gref(&segs[n], in[n], rw, 256, OTHER_DOMID, 64);
	want[n++] = GNTST_bad_domain;
	seg_to_gref(&segs[n], in[n], 100000, 256, GUEST_DOMID, 64);
	want[n++] = GNTST_bad_gntref;
	seg_to_gref(&segs[n], in[n], freed, 256, GUEST_DOMID, 64);
	want[n++] = GNTST_bad_gntref;
	seg_to_gref(&segs[n], in[n], other, 256, GUEST_DOMID, 64);
	want[n++] = GNTST_permission_denied;
	seg_to_gref(&segs[n], in[n], ro, 256, GUEST_DOMID, 64);
	want[n++] = GNTST_permission_denied;     /* write to read-only */
	seg_to_gref(&segs[n], in[n], rw, 4095, GUEST_DOMID, 2);
	want[n++] = GNTST_bad_copy_arg;
	seg_to_gref(&segs[n], in[n], rw, 512, GUEST_DOMID, 64);
	want[n++] = GNTST_okay;
	TEST_ASSERT_EQUAL(n, N, "segment count");

	TEST_ASSERT_SUCCESS(xensim_grant_copy(backend, 0, N, segs), "copy");
	for (i = 0; i < N; i++)
		TEST_ASSERT_EQUAL(segs[i].status, want[i], "segment %d", i);

	/* Only the good segments moved bytes. */
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out[0], xensim_dom_page(guest, 5), 64,
		"seg 0");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(out[7],
		(uint8_t *)page_before + 4096 - 64, 64, "seg 7");
	for (i = 1; i < 7; i++) {
		uint8_t ee[64];

		memset(ee, 0xee, sizeof(ee));
		TEST_ASSERT_BUFFERS_ARE_EQUAL(out[i], ee, 64,
			"failed seg %d wrote the backend buffer", i);
	}
	memcpy(page_before + 128, in[8], 64);
	memcpy(page_before + 512, in[15], 64);
	TEST_ASSERT_BUFFERS_ARE_EQUAL(xensim_dom_page(guest, 6), page_before,
		XENSIM_PAGE_SIZE, "guest page: only segs 8 and 15 written");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(xensim_dom_page(guest, 5), ro_before,
		XENSIM_PAGE_SIZE, "read-only page untouched");

	/* A copy that involves no grant is refused as gntdev does. */
	memset(&segs[0], 0, sizeof(segs[0]));
	segs[0].source.virt = in[0];
	segs[0].dest.virt = out[0];
	segs[0].len = 8;
	TEST_ASSERT_EQUAL(xensim_grant_copy(backend, 0, 1, segs), -EINVAL,
		"local to local");

	/* The backend domid is checked too: a grant to dom0 is not dom5's. */
	seg_from_gref(&segs[0], ro, 0, GUEST_DOMID, out[0], 8);
	TEST_ASSERT_SUCCESS(xensim_grant_copy(backend, OTHER_DOMID, 1, segs),
		"copy as dom5");
	TEST_ASSERT_EQUAL(segs[0].status, GNTST_permission_denied, "as dom5");

	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, ro), "end");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, rw), "end");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, other), "end");
	TEST_ASSERT_EQUAL(xensim_grant_end(guest, freed), -EINVAL, "end twice");
	TEST_ASSERT_EQUAL(xensim_grant_end(guest, 0), -EINVAL, "end ref 0");
	TEST_ASSERT_EQUAL(xensim_grant_end(guest, NR_GRANTS), -EINVAL, "range");
	return TEST_SUCCESS;
}

static int
test_grant_exhaust(void)
{
	int refs[NR_GRANTS], i, n;

	TEST_ASSERT_EQUAL(xensim_grant_access(guest, 0, NR_PAGES, false),
		-EINVAL, "pfn out of range");
	for (n = 0; n < NR_GRANTS; n++) {
		refs[n] = xensim_grant_access(guest, 0, 0, false);
		if (refs[n] < 0)
			break;
		TEST_ASSERT(refs[n] >= 1 && refs[n] < NR_GRANTS, "ref %d", refs[n]);
	}
	/* Ref 0 is reserved: one fewer than the table. */
	TEST_ASSERT_EQUAL(n, NR_GRANTS - 1, "usable grants");
	TEST_ASSERT_EQUAL(refs[n], -ENOSPC, "full table");
	for (i = 0; i < n; i++)
		TEST_ASSERT_SUCCESS(xensim_grant_end(guest, refs[i]), "end %d", i);
	return TEST_SUCCESS;
}

/* --- grant map --- */

static int
test_grant_map(void)
{
	uint32_t refs[3], bad[2];
	int ro, other, freed, i;
	uint8_t *m, *m2;

	for (i = 0; i < 3; i++) {
		fill(xensim_dom_page(guest, 8 + i), XENSIM_PAGE_SIZE,
			(uint8_t)(40 + i));
		refs[i] = (uint32_t)xensim_grant_access(guest, 0, 10 - i, false);
	}
	ro = xensim_grant_access(guest, 0, 11, true);
	other = xensim_grant_access(guest, OTHER_DOMID, 11, false);
	freed = xensim_grant_access(guest, 0, 11, false);
	xensim_grant_end(guest, freed);

	/* Three refs, pages 10 9 8, contiguous and in the order asked. */
	m = xensim_map_grant_refs(backend, 0, 3, refs, true);
	TEST_ASSERT_NOT_NULL(m, "map: %s", strerror(errno));
	for (i = 0; i < 3; i++)
		TEST_ASSERT_BUFFERS_ARE_EQUAL(m + i * XENSIM_PAGE_SIZE,
			xensim_dom_page(guest, 10 - i), XENSIM_PAGE_SIZE,
			"page %d", i);
	/* Shared, both ways. */
	m[5] = 0xa5;
	TEST_ASSERT_EQUAL(((uint8_t *)xensim_dom_page(guest, 10))[5], 0xa5,
		"backend write seen by the guest");
	((uint8_t *)xensim_dom_page(guest, 8))[7] = 0x5a;
	TEST_ASSERT_EQUAL(m[2 * XENSIM_PAGE_SIZE + 7], 0x5a,
		"guest write seen by the backend");

	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(guest), 3, "mapped");
	TEST_ASSERT_EQUAL(xensim_grant_end(guest, refs[1]), -EBUSY,
		"end while mapped");

	/* A read-only grant maps read-only, and only so. */
	m2 = xensim_map_grant_refs(backend, 0, 1, (uint32_t *)&ro, true);
	TEST_ASSERT_NULL(m2, "writable map of a read-only grant");
	TEST_ASSERT_EQUAL(errno, EPERM, "read-only");
	m2 = xensim_map_grant_refs(backend, 0, 1, (uint32_t *)&ro, false);
	TEST_ASSERT_NOT_NULL(m2, "read-only map: %s", strerror(errno));
	TEST_ASSERT_BUFFERS_ARE_EQUAL(m2, xensim_dom_page(guest, 11), 64, "ro");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(guest), 4, "mapped");

	/* Bad refs; a failure maps nothing and pins nothing. */
	bad[0] = refs[0];
	bad[1] = NR_GRANTS;
	TEST_ASSERT_NULL(xensim_map_grant_refs(backend, 0, 2, bad, false),
		"ref out of range");
	TEST_ASSERT_EQUAL(errno, EINVAL, "ref out of range");
	bad[1] = (uint32_t)freed;
	TEST_ASSERT_NULL(xensim_map_grant_refs(backend, 0, 2, bad, false),
		"ref not in use");
	TEST_ASSERT_EQUAL(errno, EINVAL, "ref not in use");
	bad[1] = 0;
	TEST_ASSERT_NULL(xensim_map_grant_refs(backend, 0, 2, bad, false),
		"ref 0");
	TEST_ASSERT_EQUAL(errno, EINVAL, "ref 0");
	bad[1] = (uint32_t)other;
	TEST_ASSERT_NULL(xensim_map_grant_refs(backend, 0, 2, bad, false),
		"granted to another domain");
	TEST_ASSERT_EQUAL(errno, EPERM, "granted to another domain");
	TEST_ASSERT_NULL(xensim_map_grant_refs(backend, 0, 0, refs, false),
		"zero refs");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(guest), 4,
		"failed maps left pins");

	/* Unmap: wrong address or count refused, then the real one. */
	TEST_ASSERT_EQUAL(xensim_unmap(backend, m + XENSIM_PAGE_SIZE, 2),
		-EINVAL, "middle of a mapping");
	TEST_ASSERT_EQUAL(xensim_unmap(backend, m, 2), -EINVAL, "wrong count");
	TEST_ASSERT_EQUAL(xensim_unmap(guest, m, 3), -EINVAL, "wrong domain");
	TEST_ASSERT_SUCCESS(xensim_unmap(backend, m, 3), "unmap");
	TEST_ASSERT_EQUAL(xensim_unmap(backend, m, 3), -EINVAL, "twice");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(guest), 1, "mapped");
	TEST_ASSERT_SUCCESS(xensim_unmap(NULL, m2, 1), "unmap without dom");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(guest), 0, "mapped");

	for (i = 0; i < 3; i++)
		TEST_ASSERT_SUCCESS(xensim_grant_end(guest, refs[i]), "end");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, ro), "end");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, other), "end");
	return TEST_SUCCESS;
}

/* A mapping keeps the domain's memory after the backend closes it. */
static int
test_grant_map_outlives_close(void)
{
	struct xensim_dom *b;
	uint32_t ref;
	uint8_t *m;

	b = xensim_dom_attach(sim_dir, GUEST_DOMID);
	TEST_ASSERT_NOT_NULL(b, "attach");
	fill(xensim_dom_page(guest, 2), XENSIM_PAGE_SIZE, 77);
	ref = (uint32_t)xensim_grant_access(guest, 0, 2, false);
	m = xensim_map_grant_refs(b, 0, 1, &ref, true);
	TEST_ASSERT_NOT_NULL(m, "map");
	xensim_dom_close(b);
	TEST_ASSERT_BUFFERS_ARE_EQUAL(m, xensim_dom_page(guest, 2),
		XENSIM_PAGE_SIZE, "still mapped");
	TEST_ASSERT_SUCCESS(xensim_unmap(NULL, m, 1), "unmap");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, ref), "end");
	return TEST_SUCCESS;
}

/* --- event channels --- */

static int
readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static int
test_evtchn(void)
{
	struct xensim_evtchn *g, *b;
	int gp, gp2, bp, other;

	g = xensim_evtchn_open(guest, GUEST_DOMID);
	b = xensim_evtchn_open(backend, 0);
	TEST_ASSERT_NOT_NULL(g, "guest handle");
	TEST_ASSERT_NOT_NULL(b, "backend handle");
	TEST_ASSERT_NULL(xensim_evtchn_open(guest, OTHER_DOMID), "not a side");
	TEST_ASSERT(xensim_evtchn_fd(g) >= 0 && xensim_evtchn_fd(b) >= 0, "fd");
	TEST_ASSERT_NOT_EQUAL(xensim_evtchn_fd(g), xensim_evtchn_fd(b), "fds");

	gp = xensim_evtchn_alloc_unbound(g, 0);
	TEST_ASSERT(gp > 0, "alloc_unbound: %d", gp);
	other = xensim_evtchn_alloc_unbound(g, OTHER_DOMID);
	TEST_ASSERT(other > 0 && other != gp, "alloc_unbound for dom5");

	/* Bad binds. */
	TEST_ASSERT_EQUAL(xensim_evtchn_bind_interdomain(b, GUEST_DOMID, 0),
		-EINVAL, "port 0");
	TEST_ASSERT_EQUAL(xensim_evtchn_bind_interdomain(b, GUEST_DOMID,
		100000), -EINVAL, "port out of range");
	TEST_ASSERT_EQUAL(xensim_evtchn_bind_interdomain(b, GUEST_DOMID,
		gp + 10), -EINVAL, "port not allocated");
	TEST_ASSERT_EQUAL(xensim_evtchn_bind_interdomain(b, GUEST_DOMID,
		other), -EINVAL, "port unbound for another domain");
	TEST_ASSERT_EQUAL(xensim_evtchn_bind_interdomain(b, OTHER_DOMID, gp),
		-ESRCH, "no such domain");

	bp = xensim_evtchn_bind_interdomain(b, GUEST_DOMID, gp);
	TEST_ASSERT(bp > 0, "bind: %d", bp);
	TEST_ASSERT_EQUAL(xensim_evtchn_bind_interdomain(b, GUEST_DOMID, gp),
		-EINVAL, "bind twice");

	/* Nothing pending yet. */
	TEST_ASSERT(!readable(xensim_evtchn_fd(g), 0), "guest fd idle");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(g), -EAGAIN, "none pending");

	/* Backend -> guest. */
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(b, bp), "notify");
	TEST_ASSERT(readable(xensim_evtchn_fd(g), 1000), "guest fd readable");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(g), gp, "guest's port");
	TEST_ASSERT_SUCCESS(xensim_evtchn_unmask(g, gp), "unmask");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(g), -EAGAIN, "taken");
	TEST_ASSERT(!readable(xensim_evtchn_fd(g), 0), "guest fd idle again");

	/* Guest -> backend. */
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(g, gp), "notify");
	TEST_ASSERT(readable(xensim_evtchn_fd(b), 1000), "backend readable");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(b), bp, "backend's port");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(b), -EAGAIN, "taken");

	/* Ports that are not ours, or not ports. */
	TEST_ASSERT_EQUAL(xensim_evtchn_notify(b, bp + 1), -ENOTCONN,
		"notify a port this handle does not hold");
	TEST_ASSERT_EQUAL(xensim_evtchn_notify(b, 0), -EINVAL, "port 0");
	TEST_ASSERT_EQUAL(xensim_evtchn_notify(b, 100000), -EINVAL, "range");
	TEST_ASSERT_EQUAL(xensim_evtchn_unbind(b, 100000), -EINVAL, "range");
	TEST_ASSERT_EQUAL(xensim_evtchn_unmask(b, 100000), -EINVAL, "range");

	/* A notify on an unbound port goes nowhere, as on Xen. */
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(g, other), "unbound notify");

	/* The guest closes its end: the backend's end is unbound again. */
	TEST_ASSERT_SUCCESS(xensim_evtchn_unbind(g, gp), "unbind");
	TEST_ASSERT_EQUAL(xensim_evtchn_unbind(g, gp), -ENOTCONN, "twice");
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(b, bp), "notify, no peer");
	TEST_ASSERT(!readable(xensim_evtchn_fd(g), 50), "nothing delivered");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(g), -EAGAIN, "nothing");

	/* And a new channel reuses the ports cleanly. */
	gp2 = xensim_evtchn_alloc_unbound(g, 0);
	TEST_ASSERT(gp2 > 0, "alloc again");
	TEST_ASSERT_SUCCESS(xensim_evtchn_unbind(b, bp), "backend unbind");
	bp = xensim_evtchn_bind_interdomain(b, GUEST_DOMID, gp2);
	TEST_ASSERT(bp > 0, "bind again");
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(g, gp2), "notify");
	TEST_ASSERT(readable(xensim_evtchn_fd(b), 1000), "backend readable");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(b), bp, "right port");

	/* Closing a handle unbinds what it had: the peer is unbound. */
	xensim_evtchn_close(b);
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(g, gp2), "peer gone");
	xensim_evtchn_close(g);
	return TEST_SUCCESS;
}

/* Many notifies, fewer reads: never an error, never a stale port. */
static int
test_evtchn_flood(void)
{
	struct xensim_evtchn *g, *b;
	int gp, bp, i, n = 0, rc;

	g = xensim_evtchn_open(guest, GUEST_DOMID);
	b = xensim_evtchn_open(backend, 0);
	TEST_ASSERT(g != NULL && b != NULL, "handles");
	gp = xensim_evtchn_alloc_unbound(g, 0);
	bp = xensim_evtchn_bind_interdomain(b, GUEST_DOMID, gp);
	TEST_ASSERT(gp > 0 && bp > 0, "channel");
	for (i = 0; i < 5000; i++)
		TEST_ASSERT_SUCCESS(xensim_evtchn_notify(b, bp), "notify %d", i);
	while ((rc = xensim_evtchn_pending(g)) != -EAGAIN) {
		TEST_ASSERT_EQUAL(rc, gp, "pending");
		n++;
	}
	TEST_ASSERT(n >= 1 && n <= 5000, "delivered %d", n);
	xensim_evtchn_close(b);
	xensim_evtchn_close(g);
	return TEST_SUCCESS;
}

/* --- through the driver's ops --- */

static int
test_ops_grants_and_evtchn(void)
{
	const struct xnb_xen_ops *ops = &xnb_xen_sim_ops;
	struct xnb_host_params p = { .sim_dir = sim_dir };
	xengnttab_grant_copy_segment_t segs[2];
	struct xnb_xen *x = NULL, *other = NULL;
	struct xnb_host *h = NULL;
	struct xensim_evtchn *g;
	struct xnb_evtchn *e;
	uint8_t buf[200];
	uint32_t ref;
	int gp, bp;
	uint8_t *m;

	TEST_ASSERT(strcmp(ops->name, "sim") == 0, "name");
	TEST_ASSERT_SUCCESS(ops->host_open(&h, &p), "host_open");
	TEST_ASSERT_SUCCESS(ops->guest_open(h, GUEST_DOMID, &x), "guest_open");
	TEST_ASSERT_EQUAL(ops->guest_open(h, 0, &other), -EINVAL, "dom0 is no guest");
	TEST_ASSERT_SUCCESS(ops->guest_open(h, OTHER_DOMID, &other), "another guest");
	fill(xensim_dom_page(guest, 1), XENSIM_PAGE_SIZE, 9);
	ref = (uint32_t)xensim_grant_access(guest, 0, 1, false);

	m = ops->map_refs(x, 1, &ref, true);
	TEST_ASSERT_NOT_NULL(m, "map_refs: %s", strerror(errno));
	TEST_ASSERT_BUFFERS_ARE_EQUAL(m, xensim_dom_page(guest, 1),
		XENSIM_PAGE_SIZE, "mapped page");
	TEST_ASSERT_NULL(ops->map_refs(other, 1, &ref, true),
		"the ref through another guest's context");
	ops->guest_close(other);

	/* As gntdev: a segment past the page fails the whole call, nothing copied. */
	memset(buf, 0xee, sizeof(buf));
	seg_from_gref(&segs[0], ref, 10, GUEST_DOMID, buf, sizeof(buf));
	seg_to_gref(&segs[1], buf, ref, 3000, GUEST_DOMID, 1200);
	TEST_ASSERT_EQUAL(ops->copy(x, 2, segs), -EINVAL, "offset + len > 4096");
	TEST_ASSERT(buf[0] == 0xee && buf[sizeof(buf) - 1] == 0xee, "nothing copied");
	seg_to_gref(&segs[1], buf, ref, 4000, GUEST_DOMID, 96);  /* ends at the page end */
	TEST_ASSERT_SUCCESS(ops->copy(x, 2, segs), "copy");
	TEST_ASSERT_EQUAL(segs[0].status, GNTST_okay, "seg 0");
	TEST_ASSERT_EQUAL(segs[1].status, GNTST_okay, "seg 1");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(buf, m + 10, sizeof(buf), "bytes");

	TEST_ASSERT_EQUAL(xensim_grant_end(guest, ref), -EBUSY, "mapped");
	TEST_ASSERT_SUCCESS(ops->unmap(x, m, 1), "unmap");
	TEST_ASSERT_EQUAL(ops->unmap(x, m, 1), -EINVAL, "unmap twice");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, ref), "end");

	g = xensim_evtchn_open(guest, GUEST_DOMID);
	TEST_ASSERT_NOT_NULL(g, "guest handle");
	gp = xensim_evtchn_alloc_unbound(g, 0);
	e = ops->evtchn_open(x);
	TEST_ASSERT_NOT_NULL(e, "evtchn_open");
	TEST_ASSERT_EQUAL(ops->evtchn_bind(e, gp + 1), -EINVAL,
		"bind to a port that is not unbound");
	bp = ops->evtchn_bind(e, (uint32_t)gp);
	TEST_ASSERT(bp > 0, "bind: %d", bp);
	TEST_ASSERT_SUCCESS(ops->evtchn_notify(e, bp), "backend kick");
	TEST_ASSERT(readable(xensim_evtchn_fd(g), 1000), "guest readable");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(g), gp, "guest pending");
	TEST_ASSERT_SUCCESS(ops->evtchn_unbind(e, bp), "unbind");
	ops->evtchn_close(e);
	xensim_evtchn_close(g);
	ops->guest_close(x);
	ops->host_close(h);
	return TEST_SUCCESS;
}

/* The backend starts first, the guest reboots: the ops follow. */
static int
test_ops_reattach(void)
{
	const struct xnb_xen_ops *ops = &xnb_xen_sim_ops;
	struct xnb_host_params p = { .sim_dir = sim_dir };
	const uint16_t domid = GUEST_DOMID + 1;
	xengnttab_grant_copy_segment_t seg;
	struct xensim_dom *g1, *g2;
	uint8_t *m1, *m2, old[64], buf[64];
	struct xnb_host *h = NULL;
	struct xnb_xen *x = NULL;
	uint32_t r1, r2;

	/* No domain file yet: open works, a map says the domain is missing. */
	TEST_ASSERT_SUCCESS(ops->host_open(&h, &p), "host_open");
	TEST_ASSERT_SUCCESS(ops->guest_open(h, domid, &x), "open before the guest");
	r1 = 1;
	TEST_ASSERT_NULL(ops->map_refs(x, 1, &r1, false), "no domain");
	TEST_ASSERT_EQUAL(errno, ENOENT, "no domain");

	g1 = xensim_dom_create(sim_dir, domid, 4, 16);
	TEST_ASSERT_NOT_NULL(g1, "create");
	fill(xensim_dom_page(g1, 2), XENSIM_PAGE_SIZE, 1);
	r1 = (uint32_t)xensim_grant_access(g1, 0, 2, false);
	m1 = ops->map_refs(x, 1, &r1, true);
	TEST_ASSERT_NOT_NULL(m1, "map, first boot: %s", strerror(errno));
	memcpy(old, m1, sizeof(old));

	/* Reboot: the domain is destroyed and created again. */
	TEST_ASSERT_SUCCESS(xensim_dom_destroy(sim_dir, domid), "destroy");
	g2 = xensim_dom_create(sim_dir, domid, 4, 16);
	TEST_ASSERT_NOT_NULL(g2, "create again");
	TEST_ASSERT_NOT_EQUAL(xensim_dom_generation(g1),
		xensim_dom_generation(g2), "new generation");
	fill(xensim_dom_page(g2, 3), XENSIM_PAGE_SIZE, 2);
	r2 = (uint32_t)xensim_grant_access(g2, 0, 3, true);

	m2 = ops->map_refs(x, 1, &r2, false);
	TEST_ASSERT_NOT_NULL(m2, "map, second boot: %s", strerror(errno));
	TEST_ASSERT_BUFFERS_ARE_EQUAL(m2, xensim_dom_page(g2, 3),
		XENSIM_PAGE_SIZE, "the new domain's page");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g2), 1, "mapped in new");
	/* The old mapping still shows the old memory. */
	TEST_ASSERT_BUFFERS_ARE_EQUAL(m1, old, sizeof(old), "old mapping");

	/* Copies go to the new incarnation. */
	seg_from_gref(&seg, r2, 0, domid, buf, sizeof(buf));
	TEST_ASSERT_SUCCESS(ops->copy(x, 1, &seg), "copy");
	TEST_ASSERT_EQUAL(seg.status, GNTST_okay, "status");
	TEST_ASSERT_BUFFERS_ARE_EQUAL(buf, xensim_dom_page(g2, 3), sizeof(buf),
		"copied from the new domain");

	/* Both mappings unmap through the ops; pins drop in each file. */
	TEST_ASSERT_SUCCESS(ops->unmap(x, m1, 1), "unmap old");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g1), 0, "old pins");
	TEST_ASSERT_SUCCESS(ops->unmap(x, m2, 1), "unmap new");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(g2), 0, "new pins");

	ops->guest_close(x);
	ops->host_close(h);
	xensim_dom_close(g1);
	xensim_dom_close(g2);
	TEST_ASSERT_SUCCESS(xensim_dom_destroy(sim_dir, domid), "destroy");
	return TEST_SUCCESS;
}

/* A second process, as the guest emulator and the backend are. */
static int
test_cross_process(void)
{
	struct xensim_evtchn *b;
	int bp, status, pipefd[2];
	uint32_t gp;
	pid_t pid;

	b = xensim_evtchn_open(backend, 0);
	TEST_ASSERT_NOT_NULL(b, "backend handle");
	TEST_ASSERT_SUCCESS(pipe(pipefd), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		/* The guest: its own attach, grant, channel; kicks, waits. */
		struct xensim_dom *d = xensim_dom_attach(sim_dir, GUEST_DOMID);
		struct xensim_evtchn *g;
		int ref, port, ok = 1;

		close(pipefd[0]);
		if (d == NULL)
			_exit(2);
		g = xensim_evtchn_open(d, GUEST_DOMID);
		if (g == NULL)
			_exit(2);
		memset(xensim_dom_page(d, 12), 0x3c, XENSIM_PAGE_SIZE);
		ref = xensim_grant_access(d, 0, 12, true);
		port = xensim_evtchn_alloc_unbound(g, 0);
		gp = ((uint32_t)ref << 16) | (uint32_t)port;
		if (write(pipefd[1], &gp, sizeof(gp)) != sizeof(gp))
			_exit(3);
		/* Wait for the backend's kick, then answer. */
		ok = readable(xensim_evtchn_fd(g), 5000) &&
			xensim_evtchn_pending(g) == port &&
			xensim_evtchn_notify(g, (uint32_t)port) == 0;
		/* Keep the grant until the parent is done with it. */
		poll(NULL, 0, 200);
		_exit(ok ? 0 : 4);
	}
	close(pipefd[1]);
	TEST_ASSERT_EQUAL(read(pipefd[0], &gp, sizeof(gp)), sizeof(gp), "read");
	close(pipefd[0]);
	bp = xensim_evtchn_bind_interdomain(b, GUEST_DOMID, gp & 0xffff);
	TEST_ASSERT(bp > 0, "bind to the child's port: %d", bp);
	{
		uint32_t ref = gp >> 16;
		uint8_t *m = xensim_map_grant_refs(backend, 0, 1, &ref, false);
		uint8_t want[XENSIM_PAGE_SIZE];

		TEST_ASSERT_NOT_NULL(m, "map the child's grant");
		memset(want, 0x3c, sizeof(want));
		TEST_ASSERT_BUFFERS_ARE_EQUAL(m, want, sizeof(want), "child page");
		TEST_ASSERT_SUCCESS(xensim_unmap(backend, m, 1), "unmap");
	}
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(b, bp), "kick the child");
	TEST_ASSERT(readable(xensim_evtchn_fd(b), 5000), "child answered");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(b), bp, "answer's port");
	TEST_ASSERT_EQUAL(waitpid(pid, &status, 0), pid, "wait");
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"child status %d", status);
	xensim_evtchn_close(b);
	return TEST_SUCCESS;
}

/*
 * A backend process killed while bound (kill -9: no unbind, no close):
 * as Xen releases a dead process's event channels, the guest's port is
 * unbound again for the next backend to bind, and its kicks reach it. A
 * live backend's binding is never taken.
 */
static int
test_evtchn_dead_process(void)
{
	struct xensim_evtchn *g, *b;
	int gp, bp, pipefd[2], status;
	pid_t pid;
	char c;

	g = xensim_evtchn_open(guest, GUEST_DOMID);
	TEST_ASSERT_NOT_NULL(g, "guest handle");
	gp = xensim_evtchn_alloc_unbound(g, 0);
	TEST_ASSERT(gp > 0, "unbound port");
	TEST_ASSERT_SUCCESS(pipe(pipefd), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		/* The first backend: binds, says so, and dies holding it. */
		struct xensim_dom *d = xensim_dom_attach(sim_dir, GUEST_DOMID);
		struct xensim_evtchn *h = d != NULL ?
			xensim_evtchn_open(d, XENSIM_BACKEND_DOMID) : NULL;

		close(pipefd[0]);
		c = h != NULL && xensim_evtchn_bind_interdomain(h, GUEST_DOMID,
			(uint32_t)gp) > 0 ? 'b' : 'x';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	TEST_ASSERT_EQUAL(read(pipefd[0], &c, 1), 1, "read");
	close(pipefd[0]);
	TEST_ASSERT_EQUAL(c, 'b', "the first backend bound");
	b = xensim_evtchn_open(backend, XENSIM_BACKEND_DOMID);
	TEST_ASSERT_NOT_NULL(b, "second backend handle");
	TEST_ASSERT_EQUAL(xensim_evtchn_bind_interdomain(b, GUEST_DOMID, (uint32_t)gp), -EINVAL,
		"a live backend's binding is not taken");
	kill(pid, SIGKILL);
	TEST_ASSERT_EQUAL(waitpid(pid, &status, 0), pid, "wait");
	bp = xensim_evtchn_bind_interdomain(b, GUEST_DOMID, (uint32_t)gp);
	TEST_ASSERT(bp > 0, "bind after the first backend died: %d", bp);
	TEST_ASSERT_SUCCESS(xensim_evtchn_notify(g, (uint32_t)gp), "guest kick");
	TEST_ASSERT(readable(xensim_evtchn_fd(b), 1000), "the kick reaches the new backend");
	TEST_ASSERT_EQUAL(xensim_evtchn_pending(b), bp, "its port");
	xensim_evtchn_close(b);
	xensim_evtchn_close(g);
	return TEST_SUCCESS;
}

/*
 * A backend process killed holding grant mappings: Linux releases its
 * gntdev file's mappings, so the guest can revoke the grants and a new
 * backend can map them. A live process's mapping is kept.
 */
static int
test_grant_dead_process(void)
{
	int ref, ref2, pipefd[2], status;
	uint32_t r;
	void *live;
	pid_t pid;
	char c;

	ref = xensim_grant_access(guest, XENSIM_BACKEND_DOMID, 1, false);
	ref2 = xensim_grant_access(guest, XENSIM_BACKEND_DOMID, 2, false);
	TEST_ASSERT(ref > 0 && ref2 > 0, "grants");
	TEST_ASSERT_SUCCESS(pipe(pipefd), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		/* The first backend: maps both, says so, and dies holding them. */
		struct xensim_dom *d = xensim_dom_attach(sim_dir, GUEST_DOMID);
		uint32_t refs[2] = { (uint32_t)ref, (uint32_t)ref2 };

		close(pipefd[0]);
		c = d != NULL && xensim_map_grant_refs(d, XENSIM_BACKEND_DOMID, 2, refs,
			true) != NULL ? 'm' : 'x';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	TEST_ASSERT_EQUAL(read(pipefd[0], &c, 1), 1, "read");
	close(pipefd[0]);
	TEST_ASSERT_EQUAL(c, 'm', "the first backend mapped");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(guest), 2, "mapped by a live process");
	TEST_ASSERT_EQUAL(xensim_grant_end(guest, (uint32_t)ref), -EBUSY,
		"a live process's mapping keeps its grant");
	/* This process maps ref2 too: its own mapping stays through the reclaim. */
	r = (uint32_t)ref2;
	live = xensim_map_grant_refs(backend, XENSIM_BACKEND_DOMID, 1, &r, true);
	TEST_ASSERT_NOT_NULL(live, "a second mapping");
	kill(pid, SIGKILL);
	TEST_ASSERT_EQUAL(waitpid(pid, &status, 0), pid, "wait");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(guest), 1,
		"the dead process's mappings released, ours kept");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, (uint32_t)ref),
		"the guest revokes what the dead process had mapped");
	TEST_ASSERT_EQUAL(xensim_grant_end(guest, (uint32_t)ref2), -EBUSY,
		"not what a live process maps");
	TEST_ASSERT_SUCCESS(xensim_unmap(backend, live, 1), "unmap");
	TEST_ASSERT_SUCCESS(xensim_grant_end(guest, (uint32_t)ref2), "then it revokes");
	TEST_ASSERT_EQUAL(xensim_grant_mapped_count(guest), 0, "nothing mapped");
	return TEST_SUCCESS;
}

/* Without Xen the real ops fail cleanly, with the errno of the device. */
static int
test_real_ops_without_xen(void)
{
	struct xnb_host_params p = { .sim_dir = NULL };
	struct xnb_host *h = NULL;

	if (access("/dev/xen/gntdev", F_OK) == 0)
		return TEST_SKIPPED;        /* a Xen host: nothing to check */
	TEST_ASSERT(strcmp(xnb_xen_real_ops.name, "xen") == 0, "name");
	TEST_ASSERT(xnb_xen_ops_get("xen") == &xnb_xen_real_ops, "lookup xen");
	TEST_ASSERT(xnb_xen_ops_get("sim") == &xnb_xen_sim_ops, "lookup sim");
	TEST_ASSERT_NULL(xnb_xen_ops_get("hvm"), "lookup of an unknown platform");
	TEST_ASSERT_EQUAL(xnb_xen_real_ops.host_open(&h, &p), -ENOENT,
		"open without /dev/xen/gntdev");
	TEST_ASSERT_NULL(h, "no context on failure");
	return TEST_SUCCESS;
}

static struct unit_test_suite sim_suite = {
	.suite_name = "sim",
	.unit_test_cases = {
		TEST_CASE_ST(dom_setup, dom_teardown, test_dom_attach_checks),
		TEST_CASE_ST(dom_setup, dom_teardown, test_grant_copy_good),
		TEST_CASE_ST(dom_setup, dom_teardown, test_grant_copy_status),
		TEST_CASE_ST(dom_setup, dom_teardown, test_grant_exhaust),
		TEST_CASE_ST(dom_setup, dom_teardown, test_grant_map),
		TEST_CASE_ST(dom_setup, dom_teardown,
			test_grant_map_outlives_close),
		TEST_CASE_ST(dom_setup, dom_teardown, test_evtchn),
		TEST_CASE_ST(dom_setup, dom_teardown, test_evtchn_flood),
		TEST_CASE_ST(dom_setup, dom_teardown, test_ops_grants_and_evtchn),
		TEST_CASE_ST(dom_setup, dom_teardown, test_ops_reattach),
		TEST_CASE_ST(dom_setup, dom_teardown, test_cross_process),
		TEST_CASE_ST(dom_setup, dom_teardown, test_evtchn_dead_process),
		TEST_CASE_ST(dom_setup, dom_teardown, test_grant_dead_process),
		TEST_CASE(test_real_ops_without_xen),
		TEST_CASES_END(),
	},
};

REGISTER_TEST_SUITE(sim_suite);

/* --- suite "xenstored" --- */

static char xs_dir[256];
static char xs_script[PATH_MAX];
static char xs_shim[PATH_MAX];
static struct xnb_host *xs_host;
static struct xs_handle *xs;

/*
 * The build directory this test-xnb lives in (<build>/app/test-xnb/), for
 * defaults when meson's test environment is not there.
 */
static int
build_dir(char *buf, size_t len)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;
	int i;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	for (i = 0; i < 3; i++) {
		slash = strrchr(exe, '/');
		if (slash == NULL)
			return -1;
		*slash = '\0';
	}
	if ((size_t)snprintf(buf, len, "%s", exe) >= len)
		return -1;
	return 0;
}

/* The source tree, from the build directory's meson-info.json. */
static int
source_dir(const char *build, char *buf, size_t len)
{
	char path[PATH_MAX], json[8192], *p, *end;
	size_t n;
	FILE *f;

	if (snprintf(path, sizeof(path), "%.*s/meson-info/meson-info.json",
			PATH_MAX / 2, build) >= (int)sizeof(path))
		return -1;
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(json, 1, sizeof(json) - 1, f);
	fclose(f);
	json[n] = '\0';
	p = strstr(json, "\"source\": \"");
	if (p == NULL)
		return -1;
	p += strlen("\"source\": \"");
	end = strchr(p, '"');
	if (end == NULL || (size_t)(end - p) >= len)
		return -1;
	memcpy(buf, p, (size_t)(end - p));
	buf[end - p] = '\0';
	return 0;
}

/* XNB_XENSTORED_SCRIPT / _SHIM (meson test sets them), else the build's. */
static int
find_xenstored_files(void)
{
	const char *script = getenv("XNB_XENSTORED_SCRIPT");
	const char *shim = getenv("XNB_XENSTORED_SHIM");
	/* Half of PATH_MAX: room for the file names appended. */
	char build[PATH_MAX / 2], src[PATH_MAX / 2];
	bool have_build = build_dir(build, sizeof(build)) == 0;

	if (shim != NULL && shim[0] != '\0')
		snprintf(xs_shim, sizeof(xs_shim), "%s", shim);
	else if (have_build)
		snprintf(xs_shim, sizeof(xs_shim),
			"%s/lib/xensim/libxnb_xenstored_shim.so", build);
	if (script != NULL && script[0] != '\0')
		snprintf(xs_script, sizeof(xs_script), "%s", script);
	else if (have_build && source_dir(build, src, sizeof(src)) == 0)
		snprintf(xs_script, sizeof(xs_script), "%s/devtools/xnb-xenstored",
			src);
	if (access(xs_shim, R_OK) != 0 || access(xs_script, X_OK) != 0) {
		fprintf(stderr, "    cannot find the xenstored shim (%s) or script "
			"(%s): set XNB_XENSTORED_SHIM and XNB_XENSTORED_SCRIPT, "
			"or run through meson test\n", xs_shim, xs_script);
		return -1;
	}
	return 0;
}

/* The daemon's pid from DIR/xenstored.pid, or -1. */
static pid_t
daemon_pid(const char *dir)
{
	char path[PATH_MAX];
	long pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/xenstored.pid", dir);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return (pid_t)pid;
}

/*
 * Run the script (start DIR SHIM / stop DIR / status DIR); its exit status.
 * Our descriptors are closed in the child: the daemon it leaves behind
 * must not hold the EAL's files. The suite is the daemons' subreaper
 * (the script leaves them orphaned): a stopped daemon is reaped here,
 * not left a zombie where init does not reap.
 */
static int
run_script(const char *verb, const char *dir)
{
	pid_t pid, daemon = -1;
	int status;

	if (strcmp(verb, "stop") == 0)
		daemon = daemon_pid(dir);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close_range(3, ~0u, 0);
		if (strcmp(verb, "start") == 0)
			execl("/bin/sh", "sh", xs_script, verb, dir, xs_shim,
				(char *)NULL);
		else
			execl("/bin/sh", "sh", xs_script, verb, dir, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (daemon > 0)
		waitpid(daemon, NULL, WNOHANG);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int
xs_suite_setup(void)
{
	struct xnb_host_params p;
	char why[PATH_MAX + 128];
	char *env_before;

	if (find_xenstored_files() != 0)
		return TEST_FAILED;
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	snprintf(xs_dir, sizeof(xs_dir), "/tmp/xnb-test-xs-XXXXXX");
	if (mkdtemp(xs_dir) == NULL) {
		fprintf(stderr, "    mkdtemp: %s\n", strerror(errno));
		return TEST_FAILED;
	}
	if (run_script("start", xs_dir) != 0) {
		fprintf(stderr, "    %s start %s failed\n", xs_script, xs_dir);
		return TEST_FAILED;
	}
	p.sim_dir = xs_dir;
	if (xnb_xen_sim_ops.host_open(&xs_host, &p) != 0)
		return TEST_FAILED;
	env_before = getenv("XENSTORED_PATH");
	xs = xnb_xen_sim_ops.xs_open(xs_host, why, sizeof(why));
	if (xs == NULL) {
		fprintf(stderr, "    xs_open: %s\n", why);
		return TEST_FAILED;
	}
	/* The connection does not leave the environment changed. */
	if (getenv("XENSTORED_PATH") != env_before &&
			(env_before == NULL || getenv("XENSTORED_PATH") == NULL ||
			strcmp(getenv("XENSTORED_PATH"), env_before) != 0)) {
		fprintf(stderr, "    xs_open left XENSTORED_PATH changed\n");
		return TEST_FAILED;
	}
	return TEST_SUCCESS;
}

static void
xs_suite_teardown(void)
{
	char cmd[PATH_MAX + 16];

	if (xs != NULL)
		xs_close(xs);
	xs = NULL;
	if (xs_host != NULL)
		xnb_xen_sim_ops.host_close(xs_host);
	xs_host = NULL;
	if (xs_dir[0] == '\0')
		return;
	if (run_script("stop", xs_dir) != 0)
		fprintf(stderr, "    %s stop %s failed\n", xs_script, xs_dir);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", xs_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "    could not remove %s\n", xs_dir);
	xs_dir[0] = '\0';
}

/* Read a key: 0 and the value in buf, or -errno. */
static int
xs_get(xs_transaction_t t, const char *path, char *buf, size_t len)
{
	unsigned int n;
	char *v;

	v = xs_read(xs, t, path, &n);
	if (v == NULL)
		return -errno;
	snprintf(buf, len, "%.*s", (int)n, v);
	free(v);
	return 0;
}

static bool
xs_put(xs_transaction_t t, const char *path, const char *val)
{
	return xs_write(xs, t, path, val, (unsigned int)strlen(val));
}

static int
test_xs_write_read(void)
{
	char v[64];

	TEST_ASSERT(xs_put(XBT_NULL, "/local/domain/0/backend/vif/7/0/state",
		"2"), "write: %s", strerror(errno));
	TEST_ASSERT_SUCCESS(xs_get(XBT_NULL,
		"/local/domain/0/backend/vif/7/0/state", v, sizeof(v)), "read");
	TEST_ASSERT(strcmp(v, "2") == 0, "value %s", v);
	/* Parents were created on the way. */
	TEST_ASSERT_SUCCESS(xs_get(XBT_NULL, "/local/domain/0/backend/vif/7",
		v, sizeof(v)), "parent");
	TEST_ASSERT_EQUAL(xs_get(XBT_NULL, "/local/domain/0/nothing", v,
		sizeof(v)), -ENOENT, "missing key");
	TEST_ASSERT(xs_put(XBT_NULL, "/local/domain/0/backend/vif/7/0/state",
		"4"), "overwrite");
	TEST_ASSERT_SUCCESS(xs_get(XBT_NULL,
		"/local/domain/0/backend/vif/7/0/state", v, sizeof(v)), "read");
	TEST_ASSERT(strcmp(v, "4") == 0, "value %s", v);
	return TEST_SUCCESS;
}

static int
test_xs_directory(void)
{
	static const char *const want[] = { "mac", "handle", "frontend-id" };
	bool seen[RTE_DIM(want)] = { false };
	unsigned int n, i, j;
	char path[128], **dir;

	for (i = 0; i < RTE_DIM(want); i++) {
		snprintf(path, sizeof(path), "/test/dir/%s", want[i]);
		TEST_ASSERT(xs_put(XBT_NULL, path, "x"), "write %s", path);
	}
	dir = xs_directory(xs, XBT_NULL, "/test/dir", &n);
	TEST_ASSERT_NOT_NULL(dir, "directory: %s", strerror(errno));
	TEST_ASSERT_EQUAL(n, RTE_DIM(want), "entries");
	for (i = 0; i < n; i++)
		for (j = 0; j < RTE_DIM(want); j++)
			if (strcmp(dir[i], want[j]) == 0)
				seen[j] = true;
	free(dir);
	for (j = 0; j < RTE_DIM(want); j++)
		TEST_ASSERT(seen[j], "%s listed", want[j]);
	TEST_ASSERT_NULL(xs_directory(xs, XBT_NULL, "/test/none", &n), "none");
	return TEST_SUCCESS;
}

/* The next watch event within 2 s: 0, or -1 on timeout. */
static int
xs_next_event(char *path, size_t plen, char *token, size_t tlen)
{
	struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };
	unsigned int n;
	char **vec;

	vec = xs_check_watch(xs);
	if (vec == NULL) {
		if (poll(&pfd, 1, 2000) != 1)
			return -1;
		vec = xs_read_watch(xs, &n);
		if (vec == NULL)
			return -1;
	}
	snprintf(path, plen, "%s", vec[XS_WATCH_PATH]);
	snprintf(token, tlen, "%s", vec[XS_WATCH_TOKEN]);
	free(vec);
	return 0;
}

static int
test_xs_watch(void)
{
	char path[128], token[64], why[PATH_MAX + 128];
	struct xs_handle *other;

	TEST_ASSERT(xs_fileno(xs) >= 0, "watch fd");
	TEST_ASSERT(xs_watch(xs, "/test/watched", "tok1"), "watch: %s",
		strerror(errno));
	/* A new watch fires once at once, for its own path. */
	TEST_ASSERT_SUCCESS(xs_next_event(path, sizeof(path), token,
		sizeof(token)), "initial event");
	TEST_ASSERT(strcmp(path, "/test/watched") == 0, "path %s", path);
	TEST_ASSERT(strcmp(token, "tok1") == 0, "token %s", token);

	/* A write from another connection to a node below it. */
	other = xnb_xen_sim_ops.xs_open(xs_host, why, sizeof(why));
	TEST_ASSERT_NOT_NULL(other, "second connection: %s", why);
	TEST_ASSERT(xs_write(other, XBT_NULL, "/test/watched/state", "3", 1),
		"write");
	xs_close(other);
	TEST_ASSERT_SUCCESS(xs_next_event(path, sizeof(path), token,
		sizeof(token)), "event for the write");
	TEST_ASSERT(strcmp(path, "/test/watched/state") == 0, "path %s", path);
	TEST_ASSERT(strcmp(token, "tok1") == 0, "token %s", token);

	/* Elsewhere: nothing. After unwatch: nothing. */
	TEST_ASSERT(xs_put(XBT_NULL, "/test/elsewhere", "1"), "write");
	TEST_ASSERT_EQUAL(xs_next_event(path, sizeof(path), token,
		sizeof(token)), -1, "no event for another path (got %s)", path);
	TEST_ASSERT(xs_unwatch(xs, "/test/watched", "tok1"), "unwatch");
	TEST_ASSERT(xs_put(XBT_NULL, "/test/watched/state", "4"), "write");
	TEST_ASSERT_EQUAL(xs_next_event(path, sizeof(path), token,
		sizeof(token)), -1, "no event after unwatch (got %s)", path);
	return TEST_SUCCESS;
}

static int
test_xs_transaction(void)
{
	xs_transaction_t t, t2;
	char v[64];

	/* Commit: invisible outside until the end, then there. */
	t = xs_transaction_start(xs);
	TEST_ASSERT(t != XBT_NULL, "start: %s", strerror(errno));
	TEST_ASSERT(xs_put(t, "/test/tx/feature-sg", "1"), "write in t");
	TEST_ASSERT(xs_put(t, "/test/tx/feature-gso-tcpv4", "1"), "write in t");
	TEST_ASSERT_EQUAL(xs_get(XBT_NULL, "/test/tx/feature-sg", v, sizeof(v)),
		-ENOENT, "visible before commit");
	TEST_ASSERT_SUCCESS(xs_get(t, "/test/tx/feature-sg", v, sizeof(v)),
		"visible inside");
	TEST_ASSERT(xs_transaction_end(xs, t, false), "commit: %s",
		strerror(errno));
	TEST_ASSERT_SUCCESS(xs_get(XBT_NULL, "/test/tx/feature-gso-tcpv4", v,
		sizeof(v)), "visible after commit");

	/* Abort: nothing lands. */
	t = xs_transaction_start(xs);
	TEST_ASSERT(xs_put(t, "/test/tx/aborted", "1"), "write in t");
	TEST_ASSERT(xs_transaction_end(xs, t, true), "abort");
	TEST_ASSERT_EQUAL(xs_get(XBT_NULL, "/test/tx/aborted", v, sizeof(v)),
		-ENOENT, "aborted write landed");

	/* Conflict: a write outside to what t read makes the commit EAGAIN. */
	t = xs_transaction_start(xs);
	TEST_ASSERT_SUCCESS(xs_get(t, "/test/tx/feature-sg", v, sizeof(v)),
		"read in t");
	TEST_ASSERT(xs_put(XBT_NULL, "/test/tx/feature-sg", "0"), "outside");
	TEST_ASSERT(xs_put(t, "/test/tx/state", "4"), "write in t");
	errno = 0;
	TEST_ASSERT(!xs_transaction_end(xs, t, false), "conflict committed");
	TEST_ASSERT_EQUAL(errno, EAGAIN, "conflict errno");
	TEST_ASSERT_EQUAL(xs_get(XBT_NULL, "/test/tx/state", v, sizeof(v)),
		-ENOENT, "conflicting write landed");

	/* Retry, as a backend does, succeeds. */
	t2 = xs_transaction_start(xs);
	TEST_ASSERT_SUCCESS(xs_get(t2, "/test/tx/feature-sg", v, sizeof(v)),
		"read in t2");
	TEST_ASSERT(strcmp(v, "0") == 0, "sees the outside write: %s", v);
	TEST_ASSERT(xs_put(t2, "/test/tx/state", "4"), "write in t2");
	TEST_ASSERT(xs_transaction_end(xs, t2, false), "retry: %s",
		strerror(errno));
	TEST_ASSERT_SUCCESS(xs_get(XBT_NULL, "/test/tx/state", v, sizeof(v)),
		"landed");
	return TEST_SUCCESS;
}

static int
test_xs_rm(void)
{
	unsigned int n;
	char v[64];

	TEST_ASSERT(xs_put(XBT_NULL, "/test/rm/a/b", "1"), "write");
	TEST_ASSERT(xs_put(XBT_NULL, "/test/rm/c", "1"), "write");
	TEST_ASSERT(xs_rm(xs, XBT_NULL, "/test/rm/a"), "rm: %s", strerror(errno));
	TEST_ASSERT_EQUAL(xs_get(XBT_NULL, "/test/rm/a/b", v, sizeof(v)),
		-ENOENT, "child removed with its parent");
	TEST_ASSERT_EQUAL(xs_get(XBT_NULL, "/test/rm/a", v, sizeof(v)),
		-ENOENT, "removed");
	TEST_ASSERT_SUCCESS(xs_get(XBT_NULL, "/test/rm/c", v, sizeof(v)),
		"sibling kept");
	free(xs_directory(xs, XBT_NULL, "/test/rm", &n));
	TEST_ASSERT_EQUAL(n, 1, "one entry left");
	return TEST_SUCCESS;
}

static int
test_xs_permissions(void)
{
	struct xs_permissions set[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = GUEST_DOMID, .perms = XS_PERM_READ },
	}, *got;
	unsigned int n;

	TEST_ASSERT(xs_put(XBT_NULL, "/test/perm", "1"), "write");
	TEST_ASSERT(xs_set_permissions(xs, XBT_NULL, "/test/perm", set, 2),
		"set: %s", strerror(errno));
	got = xs_get_permissions(xs, XBT_NULL, "/test/perm", &n);
	TEST_ASSERT_NOT_NULL(got, "get: %s", strerror(errno));
	TEST_ASSERT_EQUAL(n, 2, "entries");
	TEST_ASSERT(got[0].id == 0 && got[0].perms == XS_PERM_NONE &&
		got[1].id == GUEST_DOMID && got[1].perms == XS_PERM_READ,
		"n0 r%u", GUEST_DOMID);
	free(got);
	return TEST_SUCCESS;
}

/* No daemon in a directory: the ops say so, and nothing is left set. */
static int
test_xs_no_daemon(void)
{
	struct xnb_host_params p = { .sim_dir = "/nonexistent" };
	char why[PATH_MAX + 128] = "";
	struct xnb_host *h;

	TEST_ASSERT_SUCCESS(xnb_xen_sim_ops.host_open(&h, &p), "open");
	TEST_ASSERT_NULL(xnb_xen_sim_ops.xs_open(h, why, sizeof(why)), "connected to nothing");
	TEST_ASSERT_EQUAL(errno, ENOENT, "errno");
	TEST_ASSERT(strstr(why, "devtools/xnb-xenstored start /nonexistent") != NULL,
		"what to do: %s", why);
	xnb_xen_sim_ops.host_close(h);
	return TEST_SUCCESS;
}

/* start is idempotent; stop ends the daemon and the socket answers no more. */
static int
test_xs_script(void)
{
	char v[64];

	TEST_ASSERT_SUCCESS(run_script("start", xs_dir), "second start");
	TEST_ASSERT(xs_put(XBT_NULL, "/test/script", "kept"), "write");
	TEST_ASSERT_SUCCESS(run_script("status", xs_dir), "status");
	TEST_ASSERT_SUCCESS(xs_get(XBT_NULL, "/test/script", v, sizeof(v)),
		"same daemon, same store");
	TEST_ASSERT_SUCCESS(run_script("stop", xs_dir), "stop");
	TEST_ASSERT_NOT_EQUAL(run_script("status", xs_dir), 0, "still running");
	TEST_ASSERT_EQUAL(xs_get(XBT_NULL, "/test/script", v, sizeof(v)) < 0, 1,
		"a stopped daemon answered");
	/* And it starts again from a clean state (for the teardown). */
	TEST_ASSERT_SUCCESS(run_script("start", xs_dir), "restart");
	return TEST_SUCCESS;
}

static struct unit_test_suite xenstored_suite = {
	.suite_name = "xenstored",
	.setup = xs_suite_setup,
	.teardown = xs_suite_teardown,
	.unit_test_cases = {
		TEST_CASE(test_xs_write_read),
		TEST_CASE(test_xs_directory),
		TEST_CASE(test_xs_watch),
		TEST_CASE(test_xs_transaction),
		TEST_CASE(test_xs_rm),
		TEST_CASE(test_xs_permissions),
		TEST_CASE(test_xs_no_daemon),
		TEST_CASE(test_xs_script),
		TEST_CASES_END(),
	},
};

REGISTER_TEST_SUITE(xenstored_suite);
