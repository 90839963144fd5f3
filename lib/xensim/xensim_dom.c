/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Simulated domains: create, attach and destroy <dir>/dom<domid>.
 *
 * The guest's memory is a sealed memfd: it cannot be shrunk or grown once
 * set up, by anyone, so a guest cannot pull pages from under a backend's
 * mapping (with a plain file, an ftruncate made the backend die of
 * SIGBUS on its next read of a ring; Xen never lets a guest unmap what
 * a backend maps). <dir>/dom<domid> is a symbolic link to the creator's
 * descriptor (/proc/<pid>/fd/<fd>), made under a temporary name and
 * renamed into place once the domain is complete, so an attaching
 * backend never sees half a domain; attaching opens the same memfd. A
 * backend still attached to a previous incarnation keeps its own until
 * it lets go, and a domain whose creator died can no longer be attached
 * (as a destroyed domain).
 */

#define _GNU_SOURCE     /* memfd_create, F_ADD_SEALS */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xensim_priv.h"

#define ALIGN_UP(v, a) (((v) + (uint64_t)(a) - 1) & ~((uint64_t)(a) - 1))

void
xensim_layout(uint32_t nr_pages, uint32_t nr_grants, uint32_t nr_ports,
		struct xensim_layout *l)
{
	uint64_t off = XENSIM_HDR_SIZE;

	l->grant_off = off;
	off = ALIGN_UP(off + (uint64_t)nr_grants * sizeof(grant_entry_v1_t), 64);
	l->gstate_off = off;
	off = ALIGN_UP(off + (uint64_t)nr_grants * sizeof(uint32_t), 64);
	l->port_off[XENSIM_SIDE_GUEST] = off;
	off = ALIGN_UP(off + (uint64_t)nr_ports * sizeof(struct xensim_port), 64);
	l->port_off[XENSIM_SIDE_BACKEND] = off;
	off = ALIGN_UP(off + (uint64_t)nr_ports * sizeof(struct xensim_port), 64);
	l->page_off = ALIGN_UP(off, XENSIM_PAGE_SIZE);
	l->file_size = l->page_off + (uint64_t)nr_pages * XENSIM_PAGE_SIZE;
}

static int
dom_path(char *buf, size_t len, const char *dir, uint16_t domid)
{
	int n;

	if (dir == NULL || dir[0] == '\0')
		return -EINVAL;
	n = snprintf(buf, len, "%s/dom%u", dir, domid);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

static uint64_t
new_generation(void)
{
	uint64_t gen = 0;
	struct timespec ts;

	if (getrandom(&gen, sizeof(gen), 0) != (ssize_t)sizeof(gen)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		gen = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
			((uint64_t)getpid() << 16);
	}
	return gen != 0 ? gen : 1;
}

/* Fill the process-local view from a validated header and a mapping. */
static void
dom_setup(struct xensim_dom *d, uint8_t *base, size_t size,
		const struct xensim_layout *l, uint32_t nr_pages,
		uint32_t nr_grants, uint16_t domid, uint64_t gen)
{
	d->refcnt = 1;
	d->base = base;
	d->size = size;
	d->hdr = (struct xensim_hdr *)base;
	d->pins = (struct xensim_pin *)(base + XENSIM_PIN_OFF);
	d->gnt = (grant_entry_v1_t *)(base + l->grant_off);
	d->gstate = (uint32_t *)(base + l->gstate_off);
	d->ports[XENSIM_SIDE_GUEST] =
		(struct xensim_port *)(base + l->port_off[XENSIM_SIDE_GUEST]);
	d->ports[XENSIM_SIDE_BACKEND] =
		(struct xensim_port *)(base + l->port_off[XENSIM_SIDE_BACKEND]);
	d->pages = base + l->page_off;
	d->nr_pages = nr_pages;
	d->nr_grants = nr_grants;
	d->nr_ports = XENSIM_NR_PORTS;
	d->domid = domid;
	d->gen = gen;
	d->next_ref = 1;
}

/* A zeroed handle that knows its file's path; NULL and errno on failure. */
static struct xensim_dom *
dom_new(const char *dir, uint16_t domid)
{
	struct xensim_dom *d = calloc(1, sizeof(*d));
	int rc;

	if (d == NULL)
		return NULL;
	rc = dom_path(d->path, sizeof(d->path), dir, domid);
	if (rc < 0) {
		free(d);
		errno = -rc;
		return NULL;
	}
	return d;
}

struct xensim_dom *
xensim_dom_create(const char *dir, uint16_t domid, uint32_t nr_pages,
		uint32_t nr_grants)
{
	char tmp[sizeof(((struct xensim_dom *)0)->path) + 16], target[64];
	struct xensim_layout l;
	struct xensim_dom *d;
	struct xensim_hdr *h;
	struct stat st;
	uint8_t *base;
	int fd, err;

	/* Domain 0 is the backend; DOMID_FIRST_RESERVED and up are not guests. */
	if (domid == XENSIM_BACKEND_DOMID || domid >= DOMID_FIRST_RESERVED ||
			nr_pages == 0 || nr_pages > XENSIM_MAX_PAGES ||
			nr_grants < 2 || nr_grants > XENSIM_MAX_GRANTS) {
		errno = EINVAL;
		return NULL;
	}
	d = dom_new(dir, domid);
	if (d == NULL)
		return NULL;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", d->path, (int)getpid());
	snprintf(target, sizeof(target), "xensim-dom%u", domid);
	fd = memfd_create(target, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		err = errno;
		free(d);
		errno = err;
		return NULL;
	}
	xensim_layout(nr_pages, nr_grants, XENSIM_NR_PORTS, &l);
	if (fchmod(fd, 0660) != 0 || ftruncate(fd, (off_t)l.file_size) != 0 ||
			fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		goto fail_unlink;
	base = mmap(NULL, l.file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		goto fail_unlink;

	/* The file is new and sparse: every table and page is already zero. */
	h = (struct xensim_hdr *)base;
	h->magic = XENSIM_MAGIC;
	h->version = XENSIM_VERSION;
	h->hdr_size = XENSIM_HDR_SIZE;
	h->gen = new_generation();
	h->file_size = l.file_size;
	h->nr_pages = nr_pages;
	h->nr_grants = nr_grants;
	h->nr_ports = XENSIM_NR_PORTS;
	h->domid = domid;
	h->grant_off = l.grant_off;
	h->gstate_off = l.gstate_off;
	h->port_off[0] = l.port_off[0];
	h->port_off[1] = l.port_off[1];
	h->page_off = l.page_off;
	__atomic_thread_fence(__ATOMIC_RELEASE);

	snprintf(target, sizeof(target), "/proc/%d/fd/%d", (int)getpid(), fd);
	unlink(tmp);
	if (fstat(fd, &st) != 0 || symlink(target, tmp) != 0 || rename(tmp, d->path) != 0) {
		err = errno;
		munmap(base, l.file_size);
		errno = err;
		goto fail_unlink;
	}
	dom_setup(d, base, l.file_size, &l, nr_pages, nr_grants, domid, h->gen);
	d->fd = fd;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	return d;

fail_unlink:
	err = errno;
	unlink(tmp);
	close(fd);
	free(d);
	errno = err;
	return NULL;
}

struct xensim_dom *
xensim_dom_attach(const char *dir, uint16_t domid)
{
	struct xensim_layout l;
	struct xensim_dom *d;
	struct xensim_hdr h;
	struct stat st;
	uint8_t *base;
	int fd, err;

	if (domid == XENSIM_BACKEND_DOMID || domid >= DOMID_FIRST_RESERVED) {
		errno = EINVAL;
		return NULL;
	}
	d = dom_new(dir, domid);
	if (d == NULL)
		return NULL;
	fd = open(d->path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		free(d);
		errno = err;
		return NULL;
	}
	if (fstat(fd, &st) != 0)
		goto fail;
	/* Everything in the header is checked before it is believed. */
	if (!S_ISREG(st.st_mode) ||
			pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
			h.magic != XENSIM_MAGIC || h.version != XENSIM_VERSION ||
			h.hdr_size != XENSIM_HDR_SIZE || h.domid != domid ||
			h.gen == 0 || h.nr_pages == 0 ||
			h.nr_pages > XENSIM_MAX_PAGES || h.nr_grants < 2 ||
			h.nr_grants > XENSIM_MAX_GRANTS ||
			h.nr_ports != XENSIM_NR_PORTS) {
		errno = EINVAL;
		goto fail;
	}
	xensim_layout(h.nr_pages, h.nr_grants, h.nr_ports, &l);
	if (h.file_size != l.file_size || (uint64_t)st.st_size != l.file_size ||
			h.grant_off != l.grant_off || h.gstate_off != l.gstate_off ||
			h.port_off[0] != l.port_off[0] ||
			h.port_off[1] != l.port_off[1] || h.page_off != l.page_off) {
		errno = EINVAL;
		goto fail;
	}
	base = mmap(NULL, l.file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		goto fail;
	dom_setup(d, base, l.file_size, &l, h.nr_pages, h.nr_grants, domid, h.gen);
	d->fd = fd;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	return d;

fail:
	err = errno;
	close(fd);
	free(d);
	errno = err;
	return NULL;
}

void
xensim_dom_get(struct xensim_dom *d)
{
	__atomic_fetch_add(&d->refcnt, 1, __ATOMIC_RELAXED);
}

void
xensim_dom_put(struct xensim_dom *d)
{
	if (__atomic_sub_fetch(&d->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	munmap(d->base, d->size);
	close(d->fd);
	free(d);
}

void
xensim_dom_close(struct xensim_dom *d)
{
	if (d != NULL)
		xensim_dom_put(d);
}

int
xensim_dom_destroy(const char *dir, uint16_t domid)
{
	char path[sizeof(((struct xensim_dom *)0)->path)];
	int rc;

	rc = dom_path(path, sizeof(path), dir, domid);
	if (rc < 0)
		return rc;
	if (unlink(path) != 0)
		return -errno;
	return 0;
}

uint16_t
xensim_dom_id(const struct xensim_dom *d)
{
	return d->domid;
}

uint32_t
xensim_dom_nr_pages(const struct xensim_dom *d)
{
	return d->nr_pages;
}

uint64_t
xensim_dom_generation(const struct xensim_dom *d)
{
	return d->gen;
}

bool
xensim_dom_is_current(const struct xensim_dom *d)
{
	struct stat st;

	if (stat(d->path, &st) != 0)
		return false;
	return st.st_dev == d->dev && st.st_ino == d->ino;
}

void *
xensim_dom_page(struct xensim_dom *d, uint32_t pfn)
{
	if (d == NULL || pfn >= d->nr_pages)
		return NULL;
	return d->pages + (size_t)pfn * XENSIM_PAGE_SIZE;
}
