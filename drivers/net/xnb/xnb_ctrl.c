/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The control ring (xnb_ctrl.h): map it, bind its event channel, answer
 * its requests.
 *
 * Every request is copied out of the shared page once, then checked;
 * the frontend's indices are bounded by the ring's size. The parameters
 * are checked as Linux's netback checks them after XSA-270
 * (drivers/net/xen-netback/hash.c): a mapping sub-table whose offset
 * plus length wraps or passes the table's size, longer than a page, or
 * naming a queue the frontend did not connect is refused
 * (INVALID_PARAMETER) and leaves the table as it was. A key longer than
 * xnb keeps is BUFFER_OVERFLOW, as netif.h says (Linux answers
 * INVALID_PARAMETER). Key and sub-table are grant-copied from the
 * frontend's page into a buffer of ours, and only a complete, checked
 * copy replaces the old one. Unknown types, and the gref-mapping types
 * xnb does not implement, are NOT_SUPPORTED.
 *
 * The hash itself (Toeplitz, with DPDK's rte_softrss) is the datapath's;
 * here it is only configured.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_common.h>

#include "xnb_ctrl.h"
#include "xnb_logs.h"
#include "xnb_number.h"
#include "xnb_rxtx.h"

int
xnb_ctrl_open(struct xnb_ctrl *c)
{
	memset(c, 0, sizeof(*c));
	c->port = -1;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	return c->epfd >= 0 ? 0 : -errno;
}

void
xnb_ctrl_close(struct xnb_ctrl *c)
{
	xnb_ctrl_disconnect(c);
	if (c->epfd >= 0)
		close(c->epfd);
	c->epfd = -1;
}

static int
ctrl_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

int
xnb_ctrl_connect(struct xnb_ctrl *c, const struct xnb_xen_ops *ops, struct xnb_xen *xen,
		uint16_t domid, uint32_t ring_ref, uint32_t evtchn, uint16_t nb_queues)
{
	struct epoll_event ev = { .events = EPOLLIN };
	xen_netif_ctrl_sring_t *s;
	RING_IDX req_prod, rsp_prod;
	int ret, fd;

	if (c->connected)
		return -EBUSY;
	c->ops = ops;
	c->xen = xen;
	c->domid = domid;
	c->nb_queues = nb_queues;
	c->ring_ref = ring_ref;
	c->broken = false;
	memset(&c->hash, 0, sizeof(c->hash));
	c->page = ops->map_refs(xen, 1, &ring_ref, true);
	if (c->page == NULL) {
		ret = ctrl_errno();
		XNB_LOG(DEBUG, "dom %u: cannot map the control ring (ctrl-ring-ref %u): %s",
			domid, ring_ref, strerror(-ret));
		return ret;
	}
	s = c->page;
	rsp_prod = __atomic_load_n(&s->rsp_prod, __ATOMIC_ACQUIRE);
	req_prod = __atomic_load_n(&s->req_prod, __ATOMIC_ACQUIRE);
	BACK_RING_ATTACH(&c->ring, s, rsp_prod, XNB_PAGE_SIZE);
	if (req_prod - rsp_prod > RING_SIZE(&c->ring)) {
		XNB_LOG(DEBUG, "dom %u: control ring: req_prod %u is %u requests ahead of rsp_prod %u, more than the ring's %u",
			domid, req_prod, req_prod - rsp_prod, rsp_prod, RING_SIZE(&c->ring));
		ret = -EPROTO;
		goto fail;
	}
	c->evtchn = ops->evtchn_open(xen);
	if (c->evtchn == NULL) {
		ret = ctrl_errno();
		goto fail;
	}
	ret = ops->evtchn_bind(c->evtchn, evtchn);
	if (ret < 0) {
		XNB_LOG(DEBUG, "dom %u: cannot bind the control ring's event channel %u: %s",
			domid, evtchn, strerror(-ret));
		goto fail;
	}
	c->port = ret;
	fd = ops->evtchn_fd(c->evtchn);
	if (fd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		ret = fd < 0 ? -EBADF : -errno;
		goto fail;
	}
	c->connected = true;
	return 0;

fail:
	c->connected = true;
	xnb_ctrl_disconnect(c);
	return ret;
}

void
xnb_ctrl_disconnect(struct xnb_ctrl *c)
{
	int fd;

	if (!c->connected)
		return;
	if (c->evtchn != NULL) {
		fd = c->ops->evtchn_fd(c->evtchn);
		if (fd >= 0)
			epoll_ctl(c->epfd, EPOLL_CTL_DEL, fd, NULL);
		if (c->port >= 0 && c->ops->evtchn_unbind(c->evtchn, (uint32_t)c->port) != 0)
			XNB_LOG(WARNING, "dom %u: unbinding the control ring's event channel port %d failed",
				c->domid, c->port);
		c->ops->evtchn_close(c->evtchn);
	}
	if (c->page != NULL && c->ops->unmap(c->xen, c->page, 1) != 0)
		XNB_LOG(WARNING, "dom %u: unmapping the control ring failed", c->domid);
	c->evtchn = NULL;
	c->port = -1;
	c->page = NULL;
	memset(&c->ring, 0, sizeof(c->ring));
	c->connected = false;
}

/* Copy len bytes at offset 0 of the frontend's grant gref into dst. */
static bool
ctrl_copy_in(struct xnb_ctrl *c, uint32_t gref, void *dst, uint32_t len)
{
	xengnttab_grant_copy_segment_t seg;

	if (len == 0)
		return true;
	xnb_copy_from_guest(&seg, c->domid, gref, 0, dst, (uint16_t)len);
	return c->ops->copy(c->xen, 1, &seg) == 0 && seg.status == GNTST_okay;
}

static uint32_t
ctrl_set_key(struct xnb_ctrl *c, uint32_t gref, uint32_t len)
{
	uint8_t key[XNB_HASH_KEY_MAX];

	if (len > XNB_HASH_KEY_MAX)
		return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
	if (!ctrl_copy_in(c, gref, key, len))
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	/* Octets not given are zero; a key of 0 octets clears it. */
	memset(c->hash.key, 0, sizeof(c->hash.key));
	memcpy(c->hash.key, key, len);
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static uint32_t
ctrl_set_mapping(struct xnb_ctrl *c, uint32_t gref, uint32_t len, uint32_t off)
{
	uint32_t entries[XNB_HASH_MAPPING_MAX], i;

	/* XSA-270: the sum may wrap; the table's size bounds both. */
	if (off > c->hash.size || len > c->hash.size - off)
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	/* Within the table, hence within a page (128 entries of 4 B). */
	if (!ctrl_copy_in(c, gref, entries, len * sizeof(entries[0])))
		return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	for (i = 0; i < len; i++)
		if (entries[i] >= c->nb_queues)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
	memcpy(&c->hash.mapping[off], entries, len * sizeof(entries[0]));
	return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

uint32_t
xnb_ctrl_request(struct xnb_ctrl *c, const struct xen_netif_ctrl_request *req,
		uint32_t *data)
{
	*data = 0;
	switch (req->type) {
	case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
		if (req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
				req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		c->hash.alg = req->data[0];
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
		*data = XNB_HASH_TYPES;
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
		/* netif.h: an algorithm first; 0 turns hashing off. */
		if ((req->data[0] & ~(uint32_t)XNB_HASH_TYPES) != 0 ||
				c->hash.alg == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		c->hash.types = req->data[0];
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
		return ctrl_set_key(c, req->data[0], req->data[1]);
	case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
		*data = XNB_HASH_MAPPING_MAX;
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
		if (req->data[0] > XNB_HASH_MAPPING_MAX)
			return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		/* The old table is gone; the new one is all queue 0. */
		c->hash.size = req->data[0];
		memset(c->hash.mapping, 0, sizeof(c->hash.mapping));
		return XEN_NETIF_CTRL_STATUS_SUCCESS;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
		return ctrl_set_mapping(c, req->data[0], req->data[1], req->data[2]);
	default:
		/* INVALID (0), the gref-mapping types, and anything newer. */
		return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
	}
}

int
xnb_ctrl_serve(struct xnb_ctrl *c, unsigned int budget, bool *more)
{
	struct xen_netif_ctrl_request req;
	struct xen_netif_ctrl_response *rsp;
	RING_IDX prod, cons;
	unsigned int n = 0;
	uint32_t status, data;
	int notify, again;

	*more = false;
	if (!c->connected)
		return 0;
	/* Bounded: a frontend that kicks without pause gets at most this much. */
	while (n < RING_SIZE(&c->ring) && c->ops->evtchn_take(c->evtchn) > 0)
		n++;
	/* Said once (-EPROTO below); then left alone until the next connect. */
	if (c->broken)
		return 0;
	n = 0;
	do {
		prod = __atomic_load_n(&c->ring.sring->req_prod, __ATOMIC_ACQUIRE);
		cons = c->ring.req_cons;
		if (prod - cons > RING_SIZE(&c->ring) ||
				prod - c->ring.rsp_prod_pvt > RING_SIZE(&c->ring)) {
			c->broken = true;
			return -EPROTO;
		}
		for (; cons != prod && n < budget; cons++, n++) {
			RING_COPY_REQUEST(&c->ring, cons, &req);
			status = xnb_ctrl_request(c, &req, &data);
			if (status == XEN_NETIF_CTRL_STATUS_SUCCESS &&
					req.type != XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS &&
					req.type != XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE)
				c->gen++;
			c->stats.requests++;
			c->stats.errors += status != XEN_NETIF_CTRL_STATUS_SUCCESS;
			XNB_LOG(DEBUG, "dom %u: control request %u %s (%u, %u, %u): status %u, data %u",
				c->domid, req.id, xnb_ctrl_type_str(req.type), req.data[0],
				req.data[1], req.data[2], status, data);
			rsp = RING_GET_RESPONSE(&c->ring, c->ring.rsp_prod_pvt);
			rsp->id = req.id;
			rsp->type = req.type;
			rsp->status = status;
			rsp->data = data;
			c->ring.rsp_prod_pvt++;
		}
		c->ring.req_cons = cons;
		RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&c->ring, notify);
		if (notify)
			c->ops->evtchn_notify(c->evtchn, (uint32_t)c->port);
		if (n == budget) {
			*more = cons != prod || RING_HAS_UNCONSUMED_REQUESTS(&c->ring);
			break;
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&c->ring, again);
	} while (again);
	return (int)n;
}

void
xnb_hash_format(const struct xnb_hash *h, char *buf, size_t size)
{
	size_t len;
	uint32_t i;

	len = (size_t)snprintf(buf, size, "%u %u ", h->alg, h->types);
	for (i = 0; i < XNB_HASH_KEY_MAX && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%02x", h->key[i]);
	if (len < size)
		len += (size_t)snprintf(buf + len, size - len, " %u %s", h->size,
			h->size == 0 ? "-" : "");
	for (i = 0; i < h->size && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%u", i ? "," : "",
			h->mapping[i]);
}

/*
 * The next field of *s, up to sep or the end (*s then NULL), as the
 * project's one number parser takes it (xnb_parse_dec()).
 */
static int
hash_field(char **s, char sep, unsigned long max, uint32_t *v)
{
	const char seps[2] = { sep, '\0' };
	char *f = strsep(s, seps);
	unsigned long n;

	if (f == NULL || xnb_parse_dec(f, max, false, &n) != 0)
		return -EINVAL;
	*v = (uint32_t)n;
	return 0;
}

int
xnb_hash_parse(const char *s, uint16_t nb_queues, struct xnb_hash *h)
{
	static const char hex[] = "0123456789abcdef";
	char buf[XNB_HASH_TEXT_MAX], *p = buf, *key;
	const char *hi, *lo;
	struct xnb_hash k;
	uint32_t i;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	memset(&k, 0, sizeof(k));
	if (hash_field(&p, ' ', XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, &k.alg) != 0 ||
			hash_field(&p, ' ', XNB_HASH_TYPES, &k.types) != 0 ||
			(k.types & ~XNB_HASH_TYPES) != 0)
		return -EINVAL;
	key = strsep(&p, " ");
	if (key == NULL || strlen(key) != 2 * XNB_HASH_KEY_MAX)
		return -EINVAL;
	for (i = 0; i < XNB_HASH_KEY_MAX; i++) {
		hi = strchr(hex, key[2 * i]);
		lo = strchr(hex, key[2 * i + 1]);
		if (hi == NULL || lo == NULL)
			return -EINVAL;
		k.key[i] = (uint8_t)((hi - hex) << 4 | (lo - hex));
	}
	if (hash_field(&p, ' ', XNB_HASH_MAPPING_MAX, &k.size) != 0 || p == NULL)
		return -EINVAL;
	/* The rest is the mapping: "-", or exactly size entries below nb_queues. */
	if (k.size == 0) {
		if (strcmp(p, "-") != 0)
			return -EINVAL;
	} else {
		if (nb_queues == 0)
			return -EINVAL;
		for (i = 0; i < k.size; i++)
			if (hash_field(&p, ',', nb_queues - 1u, &k.mapping[i]) != 0)
				return -EINVAL;
		if (p != NULL)
			return -EINVAL;
	}
	*h = k;
	return 0;
}

void
xnb_ctrl_restore(struct xnb_ctrl *c, const struct xnb_hash *h)
{
	c->hash = *h;
	c->gen++;
}

const char *
xnb_ctrl_type_str(uint16_t type)
{
	static const char *const names[] = {
		[XEN_NETIF_CTRL_TYPE_INVALID] = "INVALID",
		[XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS] = "GET_HASH_FLAGS",
		[XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS] = "SET_HASH_FLAGS",
		[XEN_NETIF_CTRL_TYPE_SET_HASH_KEY] = "SET_HASH_KEY",
		[XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE] = "GET_HASH_MAPPING_SIZE",
		[XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE] = "SET_HASH_MAPPING_SIZE",
		[XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING] = "SET_HASH_MAPPING",
		[XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM] = "SET_HASH_ALGORITHM",
		[XEN_NETIF_CTRL_TYPE_GET_GREF_MAPPING_SIZE] = "GET_GREF_MAPPING_SIZE",
		[XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING] = "ADD_GREF_MAPPING",
		[XEN_NETIF_CTRL_TYPE_DEL_GREF_MAPPING] = "DEL_GREF_MAPPING",
	};

	return type < RTE_DIM(names) && names[type] != NULL ? names[type] : "unknown";
}
