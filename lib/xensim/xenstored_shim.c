/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * LD_PRELOAD library that lets Debian's C xenstored (xen-utils-4.17 or
 * xen-utils-4.20, /usr/lib/xen-4.NN/bin/xenstored) run on a machine
 * without Xen, as the simulated platform's xenstore daemon:
 *
 *   XENSTORED_RUNDIR=DIR LD_PRELOAD=libxnb_xenstored_shim.so \
 *       /usr/lib/xen-4.17/bin/xenstored -N ...
 *
 * It stands in for exactly the hypervisor calls the daemon makes (its
 * dynamic imports from libxenctrl, libxengnttab and libxenevtchn) and for
 * the two /proc/xen files it reads at start:
 *
 * - xc_interface_open/close: a handle that is never used for a hypercall;
 *   xc_domain_getinfo (Xen 4.17) and xc_domain_getinfo_single (4.20):
 *   the asked domain exists and runs (the daemon asks them about domains
 *   it was told of, and drops those reported gone).
 * - libxengnttab: open/close/set_max_grants; map_grant_ref gives a zeroed
 *   page (the ring page of a domain introduced with XS_INTRODUCE, which
 *   no simulated guest uses: simulated guests are socket clients).
 * - libxenevtchn: a handle whose fd is the read end of a pipe nobody
 *   writes, so no event ever fires; binds return fresh port numbers,
 *   notify and unmask succeed, pending says nothing is pending.
 * - /proc/xen/xsd_port: a memory file holding "1" (dom0's xenstore port);
 *   /proc/xen/xsd_kva: a zeroed 4 KiB memory file the daemon maps as
 *   dom0's ring page. Every other path goes to the real open/fopen.
 *
 * Socket clients (the backend, the guest emulator, xenstore-* tools) are
 * treated by the daemon as dom0, as on a Xen host.
 */

/*
 * This file defines both open and open64 (and fopen, fopen64): with
 * 64-bit file offsets the headers would rename open to open64.
 */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#define SHIM_PAGE_SIZE 4096

#define XSD_PORT_PATH "/proc/xen/xsd_port"
#define XSD_KVA_PATH "/proc/xen/xsd_kva"

/* Distinct non-NULL handles; the daemon only passes them back to us. */
static char xc_dummy;
static char xgt_dummy;

struct xenevtchn_handle {
	int pipe[2];
	evtchn_port_t next_port;
};

/* --- libxenctrl --- */

xc_interface *
xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
		unsigned int open_flags)
{
	return (xc_interface *)&xc_dummy;
}

int
xc_interface_close(xc_interface *xch)
{
	return 0;
}

/*
 * Xen 4.17's xenstored asks xc_domain_getinfo(), 4.20's (whose libxenctrl
 * dropped it and xc_dominfo_t) xc_domain_getinfo_single(); meson says
 * which the headers declare (lib/xensim/meson.build).
 */
#ifdef XENSIM_HAS_XC_DOMINFO
int
xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
		unsigned int max_doms, xc_dominfo_t *info)
{
	if (max_doms == 0)
		return 0;
	memset(info, 0, sizeof(*info));
	info->domid = first_domid;
	info->running = 1;
	info->nr_online_vcpus = 1;
	return 1;
}
#endif

#ifdef XENSIM_HAS_XC_DOMAIN_GETINFO_SINGLE
int
xc_domain_getinfo_single(xc_interface *xch, uint32_t domid,
		xc_domaininfo_t *info)
{
	memset(info, 0, sizeof(*info));
	info->domain = domid;
	info->flags = XEN_DOMINF_running;
	info->max_vcpu_id = 0;
	return 0;
}
#endif

/* --- libxengnttab --- */

xengnttab_handle *
xengnttab_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	return (xengnttab_handle *)&xgt_dummy;
}

int
xengnttab_close(xengnttab_handle *xgt)
{
	return 0;
}

int
xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

void *
xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref,
		int prot)
{
	void *p = mmap(NULL, SHIM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int
xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	return munmap(start_address, (size_t)count * SHIM_PAGE_SIZE);
}

/* --- libxenevtchn --- */

xenevtchn_handle *
xenevtchn_open(struct xentoollog_logger *logger, unsigned int open_flags)
{
	xenevtchn_handle *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	/*
	 * xenstored asks for XENEVTCHN_NO_CLOEXEC: a live update execs the
	 * new binary, which takes the fd over (xenevtchn_fdopen()). Both
	 * ends survive the exec: with the write end closed the read end
	 * would poll as hung up, which xenstored takes as fatal.
	 */
	if (pipe2(h->pipe, O_NONBLOCK |
			((open_flags & XENEVTCHN_NO_CLOEXEC) ? 0 : O_CLOEXEC)) != 0) {
		free(h);
		return NULL;
	}
	h->next_port = 1;
	return h;
}

xenevtchn_handle *
xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
		unsigned int open_flags)
{
	xenevtchn_handle *h;

	/* Not our read end, still open after the exec: start afresh. */
	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return xenevtchn_open(logger, open_flags);
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	/* The old process's write end lives on in this one, unused. */
	h->pipe[0] = fd;
	h->pipe[1] = -1;
	h->next_port = 1;
	return h;
}

int
xenevtchn_close(xenevtchn_handle *xce)
{
	if (xce == NULL)
		return 0;
	close(xce->pipe[0]);
	close(xce->pipe[1]);
	free(xce);
	return 0;
}

int
xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->pipe[0];
}

int
xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

static xenevtchn_port_or_error_t
new_port(xenevtchn_handle *xce)
{
	return (xenevtchn_port_or_error_t)xce->next_port++;
}

xenevtchn_port_or_error_t
xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
	return new_port(xce);
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
		evtchn_port_t remote_port)
{
	return new_port(xce);
}

xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	return new_port(xce);
}

int
xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

xenevtchn_port_or_error_t
xenevtchn_pending(xenevtchn_handle *xce)
{
	errno = EAGAIN;
	return -1;
}

int
xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

/* --- /proc/xen --- */

/* A memory file standing in for one of the /proc/xen files, or -1. */
static int
proc_xen_fd(const char *path)
{
	int fd;

	if (path == NULL)
		return -1;
	if (strcmp(path, XSD_PORT_PATH) == 0) {
		fd = memfd_create("xsd_port", MFD_CLOEXEC);
		if (fd < 0)
			return -2;
		/* dom0's xenstore event channel; no newline, as the kernel's. */
		if (write(fd, "1", 1) != 1 || lseek(fd, 0, SEEK_SET) != 0) {
			close(fd);
			errno = EIO;
			return -2;
		}
		return fd;
	}
	if (strcmp(path, XSD_KVA_PATH) == 0) {
		fd = memfd_create("xsd_kva", MFD_CLOEXEC);
		if (fd < 0)
			return -2;
		if (ftruncate(fd, SHIM_PAGE_SIZE) != 0) {
			close(fd);
			return -2;
		}
		return fd;
	}
	return -1;
}

/* The /proc/xen files from memory; everything else from the real call. */
static int
shim_open(const char *name, const char *path, int flags, mode_t mode)
{
	int (*fn)(const char *, int, ...);
	int fd;

	fd = proc_xen_fd(path);
	if (fd != -1)
		return fd < 0 ? -1 : fd;
	fn = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, name);
	if (fn == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return fn(path, flags, mode);
}

static mode_t
open_mode(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

int
open(const char *path, int flags, ...)
{
	mode_t mode;
	va_list ap;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return shim_open("open", path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode;
	va_list ap;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return shim_open("open64", path, flags, mode);
}

static FILE *
shim_fopen(const char *name, const char *path, const char *mode)
{
	FILE *(*fn)(const char *, const char *);
	FILE *f;
	int fd;

	fd = proc_xen_fd(path);
	if (fd < -1)
		return NULL;
	if (fd >= 0) {
		f = fdopen(fd, mode);
		if (f == NULL)
			close(fd);
		return f;
	}
	fn = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, name);
	if (fn == NULL) {
		errno = ENOSYS;
		return NULL;
	}
	return fn(path, mode);
}

FILE *
fopen(const char *path, const char *mode)
{
	return shim_fopen("fopen", path, mode);
}

FILE *
fopen64(const char *path, const char *mode)
{
	return shim_fopen("fopen64", path, mode);
}
