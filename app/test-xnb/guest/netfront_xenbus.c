/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * netfront's XenBus side, as Linux's xen-netfront: xenstore reads and
 * writes, waits for a backend state, and the frontend handshake: find
 * the backend, read its features at InitWait, set up the queues
 * (netfront_ring.c), publish ring refs, event channels, features and
 * per-queue keys, go Connected; and the way back to Closed.
 */

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenstore.h>

#include "netfront_private.h"

const char *
nf_state_str(int s)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring", "Reconfigured",
	};

	if (s >= 0 && s < (int)(sizeof(names) / sizeof(names[0])))
		return names[s];
	return "invalid";
}

/* --- xenstore --- */

static bool
nf_cancelled(const struct netfront *nf)
{
	return nf->conf.cancel != NULL && *nf->conf.cancel != 0;
}

/* Read path as a bounded unsigned integer. 0, -ENOENT or -EINVAL. */
static int
nf_read_uint(struct netfront *nf, const char *path, unsigned long max,
		unsigned long *val)
{
	unsigned int len;
	char *s, *end;
	unsigned long v;
	int ret = 0;

	s = xs_read(nf->xs, XBT_NULL, path, &len);
	if (s == NULL)
		return -ENOENT;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (len == 0 || end != s + len || errno != 0 || v > max || s[0] == '-')
		ret = -EINVAL;
	else
		*val = v;
	free(s);
	return ret;
}

/* A backend key read as a boolean feature flag (absent: false). */
static bool
nf_be_feature(struct netfront *nf, const char *key)
{
	char path[256];
	unsigned long v = 0;

	snprintf(path, sizeof(path), "%s/%s", nf->be_path, key);
	if (nf_read_uint(nf, path, ULONG_MAX, &v) != 0)
		return false;
	return v != 0;
}

int
netfront_backend_state(struct netfront *nf)
{
	unsigned long v;
	int ret;

	ret = nf_read_uint(nf, nf->be_state_path, 255, &v);
	if (ret == -ENOENT)
		return XenbusStateUnknown;
	if (ret != 0)
		return -1;           /* garbage: matches no state */
	return (int)v;
}

bool
nf_xs_write(struct netfront *nf, xs_transaction_t t, const char *dir,
		const char *key, const char *val)
{
	char path[256];

	if (key != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, key);
	else
		snprintf(path, sizeof(path), "%s", dir);
	return xs_write(nf->xs, t, path, val, strlen(val));
}

int
netfront_write_key(struct netfront *nf, const char *key, const char *value)
{
	if (!nf_xs_write(nf, XBT_NULL, nf->fe_path, key, value))
		return -errno;
	return 0;
}

int
netfront_set_state(struct netfront *nf, enum xenbus_state state)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", (int)state);
	return netfront_write_key(nf, "state", v);
}

/* Take every queued watch event; they only say "look again". */
void
nf_drain_watches(struct netfront *nf)
{
	char **vec;

	while ((vec = xs_check_watch(nf->xs)) != NULL)
		free(vec);
}

/*
 * Whether our xenstore connection still answers: a guest whose xenstored
 * went away (a test kills it) must not wait out every timeout.
 */
static bool
nf_xs_alive(struct netfront *nf)
{
	unsigned int len;
	char *v = xs_read(nf->xs, XBT_NULL, "/", &len);

	if (v != NULL) {
		free(v);
		return true;
	}
	/* libxenstore's own errors, not an answer from xenstored. */
	return errno != EBADF && errno != EINVAL && errno != EPIPE && errno != ECONNRESET &&
		errno != EIO;
}

/*
 * Wait until the backend's state is one of mask (bit per state), at most
 * timeout_ms. The state seen, -ETIMEDOUT, -ENOTCONN when xenstore is
 * gone, or -EINTR when cancelled (only the handshake's waits can be: a
 * teardown always gives the backend its bounded time to let go of our
 * pages).
 */
int
nf_wait_be_state(struct netfront *nf, unsigned int mask, unsigned int timeout_ms,
		bool cancellable)
{
	uint64_t deadline = nf_now_ms() + timeout_ms;
	uint64_t now, left;
	struct pollfd pfd;
	int s;

	pfd.fd = xs_fileno(nf->xs);
	pfd.events = POLLIN;
	for (;;) {
		nf_drain_watches(nf);
		s = netfront_backend_state(nf);
		nf->be_state = s;
		if (s >= 0 && s < 32 && (mask & (1u << s)) != 0)
			return s;
		if (s < 0 && !nf_xs_alive(nf))
			return -ENOTCONN;
		if (cancellable && nf_cancelled(nf))
			return -EINTR;
		now = nf_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		/* Wake up now and then to look at the cancel flag. */
		left = deadline - now;
		if (left > 200)
			left = 200;
		if (pfd.fd < 0) {
			usleep(left * 1000);
			continue;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
}

/* --- The frontend handshake --- */

/* Read the frontend's device keys written by the toolstack (or someone). */
static int
nf_find_backend(struct netfront *nf)
{
	uint64_t deadline = nf_now_ms() + nf->conf.timeout_ms;
	char path[256];
	unsigned int len;
	char *be;

	snprintf(path, sizeof(path), "%s/backend", nf->fe_path);
	for (;;) {
		be = xs_read(nf->xs, XBT_NULL, path, &len);
		if (be != NULL)
			break;
		if (nf_now_ms() >= deadline) {
			NF_ERR(nf, "no %s in xenstore after %u ms: nobody created the device "
				"(run with the toolstack role, or write it first)",
				path, nf->conf.timeout_ms);
			return -ETIMEDOUT;
		}
		if (nf_cancelled(nf))
			return -EINTR;
		usleep(10000);
	}
	if (len == 0 || len >= sizeof(nf->be_path) - 8 || strncmp(be, "/local/domain/", 14) != 0) {
		NF_ERR(nf, "%s holds \"%.*s\", not a backend path", path, (int)len, be);
		free(be);
		return -EINVAL;
	}
	memcpy(nf->be_path, be, len);
	nf->be_path[len] = '\0';
	free(be);
	snprintf(nf->be_state_path, sizeof(nf->be_state_path), "%s/state", nf->be_path);
	return 0;
}

static int
nf_publish(struct netfront *nf)
{
	char path[256], v[16];
	int tries;
	uint16_t i;

	for (tries = 0; tries < NF_XS_RETRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(nf->xs);
		bool ok = true;

		if (t == XBT_NULL)
			return -errno;
		for (i = 0; i < nf->nr_queues && ok; i++) {
			struct netfront_queue *q = &nf->q[i];
			char dir[160];

			if (nf->nr_queues == 1)
				snprintf(dir, sizeof(dir), "%s", nf->fe_path);
			else
				snprintf(dir, sizeof(dir), "%s/queue-%u", nf->fe_path, i);
			snprintf(v, sizeof(v), "%d", q->tx_ring_ref);
			ok = nf_xs_write(nf, t, dir, "tx-ring-ref", v);
			snprintf(v, sizeof(v), "%d", q->rx_ring_ref);
			ok = ok && nf_xs_write(nf, t, dir, "rx-ring-ref", v);
			snprintf(v, sizeof(v), "%d", q->port);
			if (q->port_rx == q->port) {
				ok = ok && nf_xs_write(nf, t, dir, "event-channel", v);
			} else {
				ok = ok && nf_xs_write(nf, t, dir, "event-channel-tx", v);
				snprintf(v, sizeof(v), "%d", q->port_rx);
				ok = ok && nf_xs_write(nf, t, dir, "event-channel-rx", v);
			}
		}
		if (ok && nf->ctrl)
			ok = nf_ctrl_publish(nf, t);
		if (ok && nf->conf.mcast_ctrl && nf->be_mcast_ctrl)
			ok = nf_xs_write(nf, t, nf->fe_path, "request-multicast-control", "1");
		if (ok && nf->conf.xdp_headroom != 0 && nf->be_xdp_headroom) {
			snprintf(v, sizeof(v), "%u", nf->conf.xdp_headroom);
			ok = nf_xs_write(nf, t, nf->fe_path, "xdp-headroom", v);
		}
		if (ok && nf->nr_queues > 1) {
			snprintf(v, sizeof(v), "%u", nf->nr_queues);
			ok = nf_xs_write(nf, t, nf->fe_path, "multi-queue-num-queues", v);
		}
		ok = ok && nf_xs_write(nf, t, nf->fe_path, "request-rx-copy", "1");
		if (ok && nf->conf.rx_notify)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-rx-notify", "1");
		if (ok && nf->conf.sg)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-sg", "1");
		/* What we take from the backend, keys as Linux's netfront writes. */
		if (ok && nf->conf.gso)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-gso-tcpv4", "1") &&
				nf_xs_write(nf, t, nf->fe_path, "feature-gso-tcpv6", "1");
		if (ok && nf->conf.ipv6_csum)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-ipv6-csum-offload", "1");
		if (ok && !nf->conf.csum)
			ok = nf_xs_write(nf, t, nf->fe_path, "feature-no-csum-offload", "1");
		if (!ok) {
			int err = errno;

			xs_transaction_end(nf->xs, t, true);
			snprintf(path, sizeof(path), "%s", nf->fe_path);
			NF_ERR(nf, "writing the frontend keys under %s failed: %s",
				path, strerror(err));
			return -err;
		}
		if (xs_transaction_end(nf->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

int
netfront_connect(struct netfront *nf)
{
	unsigned long v;
	char path[256];
	uint16_t i, nq;
	int ret, s;

	if (nf->nr_queues != 0)
		return -EISCONN;
	nf->backend_gone = false;
	if (nf->toolstack_done || nf->be_state != XenbusStateUnknown) {
		/* A new connection (again): we start Initialising. */
		ret = netfront_set_state(nf, XenbusStateInitialising);
		if (ret < 0)
			return ret;
	}

	if (!nf->conf.toolstack || !nf->toolstack_done) {
		ret = nf_find_backend(nf);
		if (ret < 0)
			return ret;
	}
	if (!nf->watching) {
		if (!xs_watch(nf->xs, nf->be_state_path, NF_WATCH_TOKEN)) {
			NF_ERR(nf, "cannot watch %s: %s", nf->be_state_path, strerror(errno));
			return -errno;
		}
		nf->watching = true;
	}

	s = nf_wait_be_state(nf, NF_MASK(XenbusStateInitWait), nf->conf.timeout_ms, true);
	if (s < 0) {
		if (s == -ETIMEDOUT)
			NF_ERR(nf, "the backend %s did not reach InitWait within %u ms (state %s): "
				"is the backend (the xnb port for domid %u) running?",
				nf->be_path, nf->conf.timeout_ms, nf_state_str(nf->be_state),
				nf->conf.domid);
		return s;
	}

	/* What the backend offers. */
	nf->be_rx_copy = nf_be_feature(nf, "feature-rx-copy");
	nf->be_sg = nf_be_feature(nf, "feature-sg");
	nf->be_split_evtchn = nf_be_feature(nf, "feature-split-event-channels");
	nf->be_gso_tcpv4 = nf_be_feature(nf, "feature-gso-tcpv4");
	nf->be_gso_tcpv6 = nf_be_feature(nf, "feature-gso-tcpv6");
	nf->be_ipv6_csum = nf_be_feature(nf, "feature-ipv6-csum-offload");
	nf->be_ctrl_ring = nf_be_feature(nf, "feature-ctrl-ring");
	nf->be_mcast_ctrl = nf_be_feature(nf, "feature-multicast-control");
	nf->be_xdp_headroom = nf_be_feature(nf, "feature-xdp-headroom");
	snprintf(path, sizeof(path), "%s/multi-queue-max-queues", nf->be_path);
	nf->be_max_queues = nf_read_uint(nf, path, 65535, &v) == 0 ? (unsigned int)v : 1;
	if (nf->be_max_queues == 0)
		nf->be_max_queues = 1;
	if (!nf->be_rx_copy) {
		NF_ERR(nf, "the backend %s does not offer feature-rx-copy; "
			"rx-flip is obsolete and not supported", nf->be_path);
		return -EPROTONOSUPPORT;
	}
	nf->sg = nf->conf.sg && nf->be_sg;
	/*
	 * What we may send, as Linux's xennet_fix_features: IPv4 blank
	 * checksums always, IPv6 ones when the backend offers them; TSO
	 * needs sg and the checksum offload of its IP version.
	 */
	nf->tx_csum = nf->conf.csum;
	nf->tx_csum_ipv6 = nf->conf.csum && nf->be_ipv6_csum;
	nf->tx_gso_tcpv4 = nf->conf.gso && nf->be_gso_tcpv4 && nf->sg && nf->tx_csum;
	nf->tx_gso_tcpv6 = nf->conf.gso && nf->be_gso_tcpv6 && nf->sg && nf->tx_csum_ipv6;
	nq = nf->conf.nr_queues;
	if (nq > nf->be_max_queues) {
		NF_ERR(nf, "the backend allows %u queue(s); using that many instead of %u",
			nf->be_max_queues, nq);
		nq = (uint16_t)nf->be_max_queues;
	}

	for (i = 0; i < nq; i++) {
		ret = nf_queue_setup(nf, i);
		if (ret < 0)
			goto fail;
		nf->nr_queues = (uint16_t)(i + 1);
	}
	if (nf->conf.ctrl_ring && nf->be_ctrl_ring) {
		ret = nf_ctrl_setup(nf);
		if (ret < 0)
			goto fail;
	}

	ret = nf_publish(nf);
	if (ret < 0)
		goto fail;
	/* Straight from Initialising to Connected, as Linux's netfront. */
	ret = netfront_set_state(nf, XenbusStateConnected);
	if (ret < 0) {
		NF_ERR(nf, "cannot write our state: %s", strerror(-ret));
		goto fail;
	}
	nf->connected = true;

	s = nf_wait_be_state(nf, NF_MASK(XenbusStateConnected) | NF_MASK(XenbusStateClosing) |
			NF_MASK(XenbusStateClosed), nf->conf.timeout_ms, true);
	if (s != XenbusStateConnected) {
		if (s == -ETIMEDOUT)
			NF_ERR(nf, "the backend %s did not reach Connected within %u ms "
				"(state %s)", nf->be_path, nf->conf.timeout_ms,
				nf_state_str(nf->be_state));
		else if (s >= 0)
			NF_ERR(nf, "the backend %s went to %s instead of Connected; "
				"its log says why", nf->be_path, nf_state_str(s));
		ret = s < 0 ? s : -ECONNREFUSED;
		if (s >= 0)
			nf->backend_gone = true;
		netfront_disconnect(nf);
		return ret;
	}
	return 0;

fail:
	nf_ctrl_release(nf);
	while (nf->nr_queues > 0)
		nf_queue_release(&nf->q[--nf->nr_queues]);
	netfront_set_state(nf, XenbusStateClosed);
	return ret;
}

int
netfront_set_xdp_headroom(struct netfront *nf, uint16_t headroom)
{
	char v[16];
	int s;

	if (!nf->connected || nf->backend_gone)
		return -ENOTCONN;
	if (!nf->be_xdp_headroom)
		return -EOPNOTSUPP;
	snprintf(v, sizeof(v), "%u", headroom);
	if (netfront_write_key(nf, "xdp-headroom", v) != 0 ||
			netfront_set_state(nf, XenbusStateReconfiguring) != 0)
		return -EIO;
	s = nf_wait_be_state(nf, NF_MASK(XenbusStateReconfigured), nf->conf.timeout_ms, true);
	if (s < 0)
		return s;
	if (netfront_set_state(nf, XenbusStateConnected) != 0)
		return -EIO;
	s = nf_wait_be_state(nf, NF_MASK(XenbusStateConnected), nf->conf.timeout_ms, true);
	return s < 0 ? s : 0;
}

int
netfront_disconnect(struct netfront *nf)
{
	int ret = 0, s;

	if (nf->nr_queues == 0)
		return 0;
	nf->connected = false;
	s = netfront_backend_state(nf);
	if (!nf->backend_gone && s != XenbusStateClosed && s != XenbusStateUnknown) {
		netfront_set_state(nf, XenbusStateClosing);
		s = nf_wait_be_state(nf, NF_MASK(XenbusStateClosing) | NF_MASK(XenbusStateClosed) |
				NF_MASK(XenbusStateUnknown), nf->conf.timeout_ms, false);
		if (s == -ETIMEDOUT) {
			NF_ERR(nf, "the backend did not start closing within %u ms (state %s)",
				nf->conf.timeout_ms, nf_state_str(nf->be_state));
			ret = s;
		}
	}
	netfront_set_state(nf, XenbusStateClosed);
	s = nf_wait_be_state(nf, NF_MASK(XenbusStateClosed) | NF_MASK(XenbusStateUnknown) |
			NF_MASK(XenbusStateInitWait), nf->conf.timeout_ms, false);
	if (s == -ETIMEDOUT) {
		NF_ERR(nf, "the backend did not close within %u ms (state %s)",
			nf->conf.timeout_ms, nf_state_str(nf->be_state));
		ret = s;
	}
	nf_ctrl_release(nf);
	while (nf->nr_queues > 0)
		nf_queue_release(&nf->q[--nf->nr_queues]);
	return ret;
}

/*
 * The backend's state changed under us. Closing or Closed (or its
 * directory removed) while we are connected: we close too, straight to
 * Closed, as Linux's netfront does; resources go in netfront_disconnect.
 * As in Linux's netfront (netback_changed), that is final: the guest
 * does not connect again by itself (only netfront_connect() does, from
 * Initialising), and an InitWait written while we are connected is
 * ignored. So a backend restart that the guest survives here is one it
 * survives with Linux too: the backend must not write its state.
 */
int
netfront_check_backend(struct netfront *nf)
{
	int s;

	if (nf->backend_gone)
		return -ENOTCONN;
	if (nf->nr_queues == 0)
		return 0;
	s = netfront_backend_state(nf);
	nf->be_state = s;
	if (s == XenbusStateClosing || s == XenbusStateClosed || s == XenbusStateUnknown) {
		NF_ERR(nf, "the backend went to %s; disconnecting", nf_state_str(s));
		nf->backend_gone = true;
		nf->connected = false;
		netfront_set_state(nf, XenbusStateClosed);
		return -ENOTCONN;
	}
	return 0;
}
