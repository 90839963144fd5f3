/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Simulated event channels.
 *
 * The port tables live in the domain file: one for the guest's ports, one
 * for the backend's. A handle is one datagram unix socket with a name in
 * the abstract namespace, unique per process and handle; every port the
 * handle allocates or binds records that name, so the peer knows where to
 * deliver. A notify sends the peer's local port number as a 4-byte
 * datagram; the receiving handle's fd is readable while one is queued, as
 * /dev/xen/evtchn is while an event is pending.
 *
 * Port states change with a compare-and-swap on the entry's state word
 * (busy while an entry is filled), so processes can allocate, bind and
 * unbind concurrently. Closing one end of an interdomain channel turns the
 * other end back to unbound, as Xen does; a notify on an unbound port is
 * dropped silently, as Xen does.
 *
 * A process that dies without closing its handles (kill -9) leaves its
 * ports in the file; Xen closes a dead process's event channels, and so
 * does the sim when it meets one: a handle's socket goes with its
 * process, so a port whose socket no longer answers is closed, and its
 * peer turned back to unbound, when someone binds to that peer.
 *
 * Abstract unix socket names belong to a network namespace: the guest and
 * the backend of one domain must share one.
 */

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "xensim_priv.h"

#define PORT_WORDS ((XENSIM_NR_PORTS + 63) / 64)

struct xensim_evtchn {
	struct xensim_dom *dom;
	int fd;
	int side;                   /* XENSIM_SIDE_*: whose table we use */
	uint16_t self;
	uint16_t peer_dom;          /* the only domain on the other side */
	uint32_t sock_len;
	char sock_name[XENSIM_SOCK_NAME_MAX];
	/* The ports this handle allocated or bound (atomic bit ops). */
	uint64_t ports[PORT_WORDS];
};

static uint32_t handle_seq;

static bool
port_mine(const struct xensim_evtchn *h, uint32_t port)
{
	return (__atomic_load_n(&h->ports[port / 64], __ATOMIC_ACQUIRE) >>
		(port % 64)) & 1;
}

static void
port_set_mine(struct xensim_evtchn *h, uint32_t port, bool mine)
{
	uint64_t bit = 1ull << (port % 64);

	if (mine)
		__atomic_fetch_or(&h->ports[port / 64], bit, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&h->ports[port / 64], ~bit, __ATOMIC_RELEASE);
}

static struct xensim_port *
port_entry(const struct xensim_evtchn *h, int side, uint32_t port)
{
	return &h->dom->ports[side][port];
}

struct xensim_evtchn *
xensim_evtchn_open(struct xensim_dom *d, uint16_t self)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xensim_evtchn *h;
	uint64_t rnd = 0;
	int n, err;

	if (d == NULL || (self != d->domid && self != XENSIM_BACKEND_DOMID)) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->self = self;
	if (self == d->domid) {
		h->side = XENSIM_SIDE_GUEST;
		h->peer_dom = XENSIM_BACKEND_DOMID;
	} else {
		h->side = XENSIM_SIDE_BACKEND;
		h->peer_dom = d->domid;
	}

	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)(uintptr_t)h ^ ((uint64_t)getpid() << 32);
	/* Abstract name: a leading NUL, then no terminator. */
	n = snprintf(h->sock_name + 1, sizeof(h->sock_name) - 1,
		"xensim-%d-%u-%016" PRIx64, (int)getpid(),
		__atomic_fetch_add(&handle_seq, 1, __ATOMIC_RELAXED), rnd);
	h->sock_name[0] = '\0';
	h->sock_len = (uint32_t)n + 1;

	h->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		goto fail;
	memcpy(sa.sun_path, h->sock_name, h->sock_len);
	if (bind(h->fd, (struct sockaddr *)&sa,
			(socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			h->sock_len)) != 0)
		goto fail_close;
	xensim_dom_get(d);
	h->dom = d;
	return h;

fail_close:
	err = errno;
	close(h->fd);
	errno = err;
fail:
	err = errno;
	free(h);
	errno = err;
	return NULL;
}

/* Take a free port of our side's table: its number, or -ENOSPC. */
static int
port_alloc(struct xensim_evtchn *h)
{
	uint32_t port, expected;

	for (port = 1; port < h->dom->nr_ports; port++) {
		expected = XENSIM_PORT_FREE;
		if (__atomic_compare_exchange_n(
				&port_entry(h, h->side, port)->state, &expected,
				XENSIM_PORT_BUSY, false, __ATOMIC_ACQUIRE,
				__ATOMIC_RELAXED))
			return (int)port;
	}
	return -ENOSPC;
}

static void
port_fill(struct xensim_evtchn *h, struct xensim_port *p, uint16_t remote,
		uint32_t remote_port)
{
	p->remote_dom = remote;
	p->remote_port = remote_port;
	memset(p->sock_name, 0, sizeof(p->sock_name));
	memcpy(p->sock_name, h->sock_name, h->sock_len);
	p->sock_len = h->sock_len;
}

int
xensim_evtchn_alloc_unbound(struct xensim_evtchn *h, uint16_t remote)
{
	struct xensim_port *p;
	int port;

	if (h == NULL)
		return -EINVAL;
	port = port_alloc(h);
	if (port < 0)
		return port;
	p = port_entry(h, h->side, (uint32_t)port);
	port_fill(h, p, remote, 0);
	port_set_mine(h, (uint32_t)port, true);
	__atomic_store_n(&p->state, XENSIM_PORT_UNBOUND, __ATOMIC_RELEASE);
	return port;
}

static void peer_unlink(struct xensim_evtchn *h, uint32_t port, uint32_t remote_port);

/* Is the handle that owns port p still open (its socket bound)? */
static bool
port_owner_alive(const struct xensim_port *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint32_t len = __atomic_load_n(&p->sock_len, __ATOMIC_RELAXED);
	bool alive;
	int fd;

	if (len == 0 || len > sizeof(p->sock_name) || len > sizeof(sa.sun_path))
		return false;
	memcpy(sa.sun_path, p->sock_name, len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true;        /* cannot tell: leave it */
	/* A datagram connect sends nothing; it fails when no one has the name. */
	alive = connect(fd, (struct sockaddr *)&sa,
		(socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == 0 ||
		errno != ECONNREFUSED;
	close(fd);
	return alive;
}

/*
 * rp, a port of the other side, is bound to a port of ours whose handle
 * died with its process: close that port and turn rp back to unbound,
 * as Xen does when the process's event channel device is released.
 */
static void
reclaim_dead_peer(struct xensim_evtchn *h, struct xensim_port *rp, uint32_t remote_port)
{
	uint32_t ours = __atomic_load_n(&rp->remote_port, __ATOMIC_RELAXED), st;
	struct xensim_port *op;

	if (ours == 0 || ours >= h->dom->nr_ports)
		return;
	op = port_entry(h, h->side, ours);
	st = XENSIM_PORT_INTERDOMAIN;
	if (__atomic_load_n(&op->remote_port, __ATOMIC_RELAXED) != remote_port ||
			port_owner_alive(op) ||
			!__atomic_compare_exchange_n(&op->state, &st, XENSIM_PORT_BUSY, false,
			__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	op->remote_dom = 0;
	op->remote_port = 0;
	op->sock_len = 0;
	memset(op->sock_name, 0, sizeof(op->sock_name));
	__atomic_store_n(&op->state, XENSIM_PORT_FREE, __ATOMIC_RELEASE);
	peer_unlink(h, ours, remote_port);
}

int
xensim_evtchn_bind_interdomain(struct xensim_evtchn *h, uint16_t remote,
		uint32_t remote_port)
{
	struct xensim_port *lp, *rp;
	uint32_t expected;
	int port;

	if (h == NULL)
		return -EINVAL;
	/* The other side of this domain file is the only domain to bind. */
	if (remote != h->peer_dom)
		return -ESRCH;
	if (remote_port == 0 || remote_port >= h->dom->nr_ports)
		return -EINVAL;
	rp = port_entry(h, !h->side, remote_port);
	if (__atomic_load_n(&rp->state, __ATOMIC_ACQUIRE) == XENSIM_PORT_INTERDOMAIN)
		reclaim_dead_peer(h, rp, remote_port);

	port = port_alloc(h);
	if (port < 0)
		return port;
	lp = port_entry(h, h->side, (uint32_t)port);

	/* Lock the remote port while it is unbound, then check it is for us. */
	expected = XENSIM_PORT_UNBOUND;
	if (!__atomic_compare_exchange_n(&rp->state, &expected,
			XENSIM_PORT_BUSY, false, __ATOMIC_ACQUIRE,
			__ATOMIC_RELAXED)) {
		__atomic_store_n(&lp->state, XENSIM_PORT_FREE, __ATOMIC_RELEASE);
		return -EINVAL;
	}
	if (__atomic_load_n(&rp->remote_dom, __ATOMIC_RELAXED) != h->self) {
		__atomic_store_n(&rp->state, XENSIM_PORT_UNBOUND,
			__ATOMIC_RELEASE);
		__atomic_store_n(&lp->state, XENSIM_PORT_FREE, __ATOMIC_RELEASE);
		return -EINVAL;
	}

	port_fill(h, lp, remote, remote_port);
	port_set_mine(h, (uint32_t)port, true);
	__atomic_store_n(&lp->state, XENSIM_PORT_INTERDOMAIN, __ATOMIC_RELEASE);
	__atomic_store_n(&rp->remote_port, (uint32_t)port, __ATOMIC_RELAXED);
	__atomic_store_n(&rp->state, XENSIM_PORT_INTERDOMAIN, __ATOMIC_RELEASE);
	return port;
}

/* Turn the peer of an interdomain port back to unbound, as Xen does. */
static void
peer_unlink(struct xensim_evtchn *h, uint32_t port, uint32_t remote_port)
{
	struct xensim_port *rp;
	uint32_t expected = XENSIM_PORT_INTERDOMAIN;

	if (remote_port == 0 || remote_port >= h->dom->nr_ports)
		return;
	rp = port_entry(h, !h->side, remote_port);
	if (!__atomic_compare_exchange_n(&rp->state, &expected,
			XENSIM_PORT_BUSY, false, __ATOMIC_ACQUIRE,
			__ATOMIC_RELAXED))
		return;
	if (__atomic_load_n(&rp->remote_port, __ATOMIC_RELAXED) == port) {
		__atomic_store_n(&rp->remote_port, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&rp->state, XENSIM_PORT_UNBOUND,
			__ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&rp->state, XENSIM_PORT_INTERDOMAIN,
			__ATOMIC_RELEASE);
	}
}

int
xensim_evtchn_unbind(struct xensim_evtchn *h, uint32_t port)
{
	struct xensim_port *lp;
	uint32_t st, spins;

	if (h == NULL || port == 0 || port >= h->dom->nr_ports)
		return -EINVAL;
	if (!port_mine(h, port))
		return -ENOTCONN;
	lp = port_entry(h, h->side, port);
	/*
	 * Busy: the peer is linking or unlinking it right now, for a few
	 * instructions. The entry sits in memory the guest can write, so
	 * the wait is bounded and the port is taken back regardless.
	 */
	for (spins = 0; spins < 100000; spins++) {
		st = __atomic_load_n(&lp->state, __ATOMIC_ACQUIRE);
		if (st != XENSIM_PORT_BUSY &&
				__atomic_compare_exchange_n(&lp->state, &st,
				XENSIM_PORT_BUSY, false, __ATOMIC_ACQUIRE,
				__ATOMIC_ACQUIRE))
			break;
		sched_yield();
	}
	if (st == XENSIM_PORT_INTERDOMAIN)
		peer_unlink(h, port, __atomic_load_n(&lp->remote_port,
			__ATOMIC_RELAXED));
	port_set_mine(h, port, false);
	lp->remote_dom = 0;
	lp->remote_port = 0;
	lp->sock_len = 0;
	memset(lp->sock_name, 0, sizeof(lp->sock_name));
	__atomic_store_n(&lp->state, XENSIM_PORT_FREE, __ATOMIC_RELEASE);
	return 0;
}

int
xensim_evtchn_notify(struct xensim_evtchn *h, uint32_t port)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const struct xensim_port *lp, *rp;
	uint32_t remote_port, len;

	if (h == NULL || port == 0 || port >= h->dom->nr_ports)
		return -EINVAL;
	if (!port_mine(h, port))
		return -ENOTCONN;
	lp = port_entry(h, h->side, port);
	switch (__atomic_load_n(&lp->state, __ATOMIC_ACQUIRE)) {
	case XENSIM_PORT_INTERDOMAIN:
		break;
	case XENSIM_PORT_UNBOUND:
	case XENSIM_PORT_BUSY:
		return 0;           /* no peer: dropped, as Xen does */
	default:
		return -EINVAL;
	}
	remote_port = __atomic_load_n(&lp->remote_port, __ATOMIC_RELAXED);
	if (remote_port == 0 || remote_port >= h->dom->nr_ports)
		return 0;
	rp = port_entry(h, !h->side, remote_port);
	if (__atomic_load_n(&rp->state, __ATOMIC_ACQUIRE) !=
			XENSIM_PORT_INTERDOMAIN)
		return 0;
	len = __atomic_load_n(&rp->sock_len, __ATOMIC_RELAXED);
	if (len < 2 || len > XENSIM_SOCK_NAME_MAX)
		return 0;
	memcpy(sa.sun_path, rp->sock_name, len);
	if (sendto(h->fd, &remote_port, sizeof(remote_port),
			MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa,
			(socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		/*
		 * A full queue means an event is pending already; a socket
		 * gone means the peer is gone: either way nothing to do.
		 */
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
				errno == ECONNREFUSED || errno == ENOENT)
			return 0;
		return -errno;
	}
	return 0;
}

int
xensim_evtchn_pending(struct xensim_evtchn *h)
{
	uint32_t buf[2];
	unsigned int junk;
	ssize_t n;

	if (h == NULL)
		return -EINVAL;
	/* Bounded: a flood of junk from elsewhere must not hold us here. */
	for (junk = 0; junk < 64; junk++) {
		n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		/* Anyone may send to our socket: take only our own ports. */
		if (n == (ssize_t)sizeof(uint32_t) && buf[0] != 0 &&
				buf[0] < h->dom->nr_ports && port_mine(h, buf[0]))
			return (int)buf[0];
	}
	return -EAGAIN;
}

int
xensim_evtchn_unmask(struct xensim_evtchn *h, uint32_t port)
{
	if (h == NULL || port == 0 || port >= h->dom->nr_ports)
		return -EINVAL;
	return 0;
}

int
xensim_evtchn_fd(struct xensim_evtchn *h)
{
	return h == NULL ? -1 : h->fd;
}

void
xensim_evtchn_close(struct xensim_evtchn *h)
{
	uint32_t port;

	if (h == NULL)
		return;
	for (port = 1; port < h->dom->nr_ports; port++)
		if (port_mine(h, port))
			xensim_evtchn_unbind(h, port);
	close(h->fd);
	xensim_dom_put(h->dom);
	free(h);
}
