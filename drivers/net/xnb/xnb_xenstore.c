/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>

#include "xnb_logs.h"
#include "xnb_netif.h"
#include "xnb_number.h"
#include "xnb_xenstore.h"

static int
key_path(char *path, size_t size, const char *dir, const char *key)
{
	int n;

	/* No directory: a path relative to our domain's home. */
	if (dir == NULL || dir[0] == '\0')
		n = snprintf(path, size, "%s", key);
	else
		n = snprintf(path, size, "%s/%s", dir, key);

	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

int
xnb_xs_read(struct xs_handle *xs, xs_transaction_t t, const char *dir,
		const char *key, char *buf, size_t size)
{
	char path[512];
	unsigned int len;
	char *val;
	int ret;

	ret = key_path(path, sizeof(path), dir, key);
	if (ret != 0)
		return ret;
	val = xs_read(xs, t, path, &len);
	if (val == NULL)
		return errno != 0 ? -errno : -ENOENT;
	if (len >= size) {
		free(val);
		return -E2BIG;
	}
	memcpy(buf, val, len);
	buf[len] = '\0';
	free(val);
	/* An embedded NUL would make the value mean two things. */
	return strlen(buf) == len ? 0 : -EINVAL;
}

int
xnb_xs_read_uint(struct xs_handle *xs, xs_transaction_t t, const char *dir,
		const char *key, unsigned long max, unsigned long *out)
{
	char buf[XNB_XS_VALUE_MAX];
	unsigned long v;
	int ret;

	ret = xnb_xs_read(xs, t, dir, key, buf, sizeof(buf));
	if (ret != 0)
		return ret == -E2BIG ? -EINVAL : ret;
	if (xnb_parse_dec(buf, max, false, &v) != 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int
xnb_xs_read_bool(struct xs_handle *xs, xs_transaction_t t, const char *dir,
		const char *key)
{
	unsigned long v;
	int ret;

	ret = xnb_xs_read_uint(xs, t, dir, key, 1, &v);
	if (ret == -ENOENT)
		return 0;
	return ret != 0 ? ret : (int)v;
}

int
xnb_xs_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir,
		const char *key, const char *fmt, ...)
{
	char path[512], val[XNB_XS_VALUE_MAX];
	va_list ap;
	int n, ret;

	ret = key_path(path, sizeof(path), dir, key);
	if (ret != 0)
		return ret;
	va_start(ap, fmt);
	n = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(val))
		return -E2BIG;
	if (!xs_write(xs, t, path, val, n))
		return errno != 0 ? -errno : -EIO;
	return 0;
}

int
xnb_xs_read_state(struct xs_handle *xs, const char *dir)
{
	unsigned long v;

	if (xnb_xs_read_uint(xs, XBT_NULL, dir, "state",
			XenbusStateReconfigured, &v) != 0)
		return XenbusStateUnknown;
	return (int)v;
}

int
xnb_xs_drain_watches(struct xs_handle *xs)
{
	unsigned int n = 0;
	char **vec;

	while ((vec = xs_check_watch(xs)) != NULL) {
		free(vec);
		n++;
	}
	if (n == 0 && errno != EAGAIN)
		return -errno;
	return (int)n;
}

bool
xnb_xs_alive(struct xs_handle *xs)
{
	unsigned int len;
	char *val;

	/* The root node always exists, and a backend may read it. */
	val = xs_read(xs, XBT_NULL, "/", &len);
	if (val != NULL) {
		free(val);
		return true;
	}
	/*
	 * An error xenstored answered (EACCES in a driver domain) is an
	 * answer. These are libxenstore's own: EBADF once its reader thread
	 * closed the socket, EINVAL for a reply that will never come,
	 * EPIPE/ECONNRESET/EIO from the socket itself.
	 */
	return errno != EBADF && errno != EINVAL && errno != EPIPE &&
		errno != ECONNRESET && errno != EIO && errno != ENOTCONN;
}

void
xnb_xs_outage_begin(struct xnb_xs_outage *o, const char *who, const char *what)
{
	if (o->lost)
		return;
	o->lost = true;
	o->since = rte_get_timer_cycles();
	o->tries = 0;
	XNB_LOG(ERR, "%s: lost the connection to xenstore (xenstored stopped or restarted): %s; connecting again every second",
		who, what);
}

void
xnb_xs_outage_end(struct xnb_xs_outage *o, const char *who)
{
	double secs = (double)(rte_get_timer_cycles() - o->since) / (double)rte_get_timer_hz();

	o->lost = false;
	XNB_LOG(NOTICE, "%s: connected to xenstore again after %.1f s (%u tries); watches set again",
		who, secs, o->tries);
}

uint32_t
xnb_xs_self_domid(struct xs_handle *xs)
{
	unsigned long self = 0;

	xnb_xs_read_uint(xs, XBT_NULL, NULL, "domid", UINT16_MAX, &self);
	return (uint32_t)self;
}

int
xnb_xs_watch_intr(struct xs_handle *xs, const char *who, rte_intr_callback_fn cb,
		void *arg, struct rte_intr_handle **intr)
{
	struct rte_intr_handle *h;
	int fd = xs_fileno(xs), ret;

	if (fd < 0) {
		ret = -errno;
		XNB_LOG(ERR, "%s: no xenstore watch fd: %s", who, strerror(-ret));
		return ret;
	}
	h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (h == NULL)
		return -ENOMEM;
	if (rte_intr_fd_set(h, fd) != 0 || rte_intr_type_set(h, RTE_INTR_HANDLE_EXT) != 0)
		ret = -rte_errno;
	else
		ret = rte_intr_callback_register(h, cb, arg);
	if (ret != 0) {
		XNB_LOG(ERR, "%s: cannot register the xenstore watch fd: %s", who,
			strerror(-ret));
		rte_intr_instance_free(h);
		return ret;
	}
	*intr = h;
	return 0;
}

void
xnb_xs_unwatch_intr(struct rte_intr_handle **intr, rte_intr_callback_fn cb, void *arg)
{
	if (*intr == NULL)
		return;
	rte_intr_callback_unregister_sync(*intr, cb, arg);
	rte_intr_instance_free(*intr);
	*intr = NULL;
}
