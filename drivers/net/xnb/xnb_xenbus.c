/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The XenBus backend: watches the vif's backend directory (written by
 * the toolstack) and the frontend's state, advertises features in a
 * transaction, and walks InitWait -> Connected -> Closing -> Closed, and
 * back to InitWait when the frontend starts over (a guest reboot).
 *
 * Everything here runs on DPDK's interrupt thread (the xenstore watch fd
 * through rte_intr, fatal errors through an EAL alarm) or on the
 * application's control thread (ethdev ops), serialised by port->lock;
 * never on a datapath lcore. Queues are quiesced before anything is
 * unmapped (xnb_queue_disconnect).
 *
 * Every value read from the frontend's directory is hostile input.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_common.h>
#include <rte_interrupts.h>

#include "xnb_logs.h"
#include "xnb_port.h"
#include "xnb_xenstore.h"

const char *
xnb_xenbus_state_str(int state)
{
	static const char * const names[] = {
		[XenbusStateUnknown] = "Unknown",
		[XenbusStateInitialising] = "Initialising",
		[XenbusStateInitWait] = "InitWait",
		[XenbusStateInitialised] = "Initialised",
		[XenbusStateConnected] = "Connected",
		[XenbusStateClosing] = "Closing",
		[XenbusStateClosed] = "Closed",
		[XenbusStateReconfiguring] = "Reconfiguring",
		[XenbusStateReconfigured] = "Reconfigured",
	};

	if (state < 0 || state >= (int)RTE_DIM(names))
		return "none";
	return names[state];
}

static int
write_state(struct xnb_port *port, int state)
{
	struct xnb_xenbus *bus = &port->bus;
	int ret;

	bus->state = state;
	ret = xnb_xs_printf(bus->xs, XBT_NULL, bus->backend, "state", "%d", state);
	if (ret != 0)
		XNB_PORT_LOG(ERR, port, "cannot write %s/state=%s: %s",
			bus->backend, xnb_xenbus_state_str(state), strerror(-ret));
	else
		XNB_PORT_LOG(DEBUG, port, "backend state %s", xnb_xenbus_state_str(state));
	return ret;
}

/* A problem the frontend or toolstack should see: "error" and Closing. */
static void
backend_error(struct xnb_port *port, const char *msg)
{
	struct xnb_xenbus *bus = &port->bus;

	XNB_PORT_LOG(ERR, port, "%s", msg);
	xnb_xs_printf(bus->xs, XBT_NULL, bus->backend, "error", "%s", msg);
	write_state(port, XenbusStateClosing);
}

/* Advertise what we offer, in one transaction, then InitWait. */
static int
advertise(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	uint32_t off = port->args.offloads;
	const struct {
		const char *key;
		int val;
	} features[] = {
		{ "feature-sg", 1 },
		{ "feature-rx-copy", 1 },
		{ "feature-rx-flip", 0 },   /* obsolete; say so */
		{ "feature-gso-tcpv4", (off & XNB_OFFLOAD_TSO4) != 0 },
		{ "feature-gso-tcpv6", (off & XNB_OFFLOAD_TSO6) != 0 },
		{ "feature-ipv6-csum-offload", (off & XNB_OFFLOAD_CSUM) != 0 },
		{ "feature-split-event-channels", 1 },
		{ "feature-ctrl-ring", 0 },
		{ "feature-multicast-control", 0 },
	};
	xs_transaction_t t;
	unsigned int i, tries;
	int ret = 0;

	for (tries = 0; tries < 16; tries++) {
		t = xs_transaction_start(bus->xs);
		if (t == XBT_NULL)
			return -errno;
		for (i = 0; i < RTE_DIM(features) && ret == 0; i++)
			ret = xnb_xs_printf(bus->xs, t, bus->backend,
				features[i].key, "%d", features[i].val);
		if (ret == 0)
			ret = xnb_xs_printf(bus->xs, t, bus->backend, "multi-queue-max-queues",
				"%u", port->nb_queues);
		if (ret == 0)
			ret = xnb_xs_printf(bus->xs, t, bus->backend, "state",
				"%d", XenbusStateInitWait);
		if (!xs_transaction_end(bus->xs, t, ret != 0)) {
			if (errno == EAGAIN && ret == 0)
				continue;
			return ret != 0 ? ret : -errno;
		}
		if (ret == 0) {
			bus->state = XenbusStateInitWait;
			XNB_PORT_LOG(INFO, port, "backend %s: features advertised, InitWait",
				bus->backend);
		}
		return ret;
	}
	return -EAGAIN;
}

static void
link_update(struct xnb_port *port)
{
	xnb_ethdev_link_set(port, port->bus.connected && port->started);
}

static void
disconnect(struct xnb_port *port, const char *why)
{
	struct xnb_xenbus *bus = &port->bus;
	uint16_t i;

	if (!bus->connected)
		return;
	for (i = 0; i < port->nb_queues; i++)
		xnb_queue_disconnect(port->queues[i]);
	bus->connected = false;
	link_update(port);
	XNB_PORT_LOG(INFO, port, "disconnected from dom%u: %s",
		port->args.domid, why);
}

#define XNB_MSG_MAX (XNB_XS_PATH_MAX + 128)

/*
 * A number the frontend wrote under dir; a bad one is reported to it, and
 * a missing one unless optional (then -ENOENT, unreported).
 */
static int
read_frontend_uint(struct xnb_port *port, const char *dir, const char *key,
		const char *what, unsigned long max, bool optional, unsigned long *v)
{
	char msg[XNB_MSG_MAX];
	int ret;

	ret = xnb_xs_read_uint(port->bus.xs, XBT_NULL, dir, key, max, v);
	if (ret != 0 && !(optional && ret == -ENOENT)) {
		snprintf(msg, sizeof(msg), "reading %s/%s: %s", dir, key,
			ret == -ENOENT ? "missing" : what);
		backend_error(port, msg);
	}
	return ret;
}

/* A feature flag the frontend wrote: absent, 0 or 1. */
static int
read_frontend_bool(struct xnb_port *port, const char *key, bool *v)
{
	char msg[XNB_MSG_MAX];
	int ret;

	ret = xnb_xs_read_bool(port->bus.xs, XBT_NULL, port->bus.frontend, key);
	if (ret < 0) {
		snprintf(msg, sizeof(msg), "reading %s/%s: neither 0 nor 1",
			port->bus.frontend, key);
		backend_error(port, msg);
		return ret;
	}
	*v = ret == 1;
	return 0;
}

/*
 * How many queues the frontend uses: multi-queue-num-queues, 1 without
 * it. More than we offer, or more than the application configured, is
 * refused (Linux's netback refuses the first too).
 */
static int
read_num_queues(struct xnb_port *port, uint16_t *num)
{
	struct xnb_xenbus *bus = &port->bus;
	char msg[XNB_MSG_MAX];
	unsigned long v;
	int ret;

	ret = xnb_xs_read_uint(bus->xs, XBT_NULL, bus->frontend,
		"multi-queue-num-queues", UINT32_MAX, &v);
	if (ret == -ENOENT) {
		v = 1;
	} else if (ret != 0 || v == 0 || v > port->nb_queues) {
		snprintf(msg, sizeof(msg),
			"%s/multi-queue-num-queues: %s; the backend offers 1 to %u queues",
			bus->frontend, ret != 0 ? "not a number" : "out of range",
			port->nb_queues);
		backend_error(port, msg);
		return -EINVAL;
	} else if (v > port->nb_app_queues) {
		snprintf(msg, sizeof(msg),
			"the frontend uses %lu queues but the application configured %u queue pairs: "
			"configure %lu, or offer fewer with queues=",
			v, port->nb_app_queues, v);
		backend_error(port, msg);
		return -EINVAL;
	}
	*num = (uint16_t)v;
	return 0;
}

/* The frontend's features, top level, the same for every queue. */
static int
read_features(struct xnb_port *port, struct xnb_features *feat)
{
	uint32_t off = port->args.offloads;
	bool no_csum, prefix4, prefix6;

	if (read_frontend_bool(port, "request-rx-copy", &feat->rx_copy) != 0)
		return -EINVAL;
	if (!feat->rx_copy) {
		backend_error(port, "frontend does not request rx-copy (request-rx-copy=1); "
			"rx-flip is obsolete and not supported");
		return -EINVAL;
	}
	if (read_frontend_bool(port, "feature-sg", &feat->sg) != 0 ||
			read_frontend_bool(port, "feature-rx-notify", &feat->rx_notify) != 0 ||
			read_frontend_bool(port, "feature-no-csum-offload", &no_csum) != 0 ||
			read_frontend_bool(port, "feature-ipv6-csum-offload", &feat->csum6) != 0 ||
			read_frontend_bool(port, "feature-gso-tcpv4", &feat->gso4) != 0 ||
			read_frontend_bool(port, "feature-gso-tcpv6", &feat->gso6) != 0 ||
			read_frontend_bool(port, "feature-gso-tcpv4-prefix", &prefix4) != 0 ||
			read_frontend_bool(port, "feature-gso-tcpv6-prefix", &prefix6) != 0)
		return -EINVAL;
	/*
	 * What goes on its guest-rx ring: what it takes and we offer. A GSO
	 * frame spans slots and carries a blank checksum, so GSO needs sg
	 * and the checksum offload of its IP version, as in Linux.
	 */
	feat->csum4 = !no_csum && (off & XNB_OFFLOAD_CSUM) != 0;
	feat->csum6 = feat->csum6 && (off & XNB_OFFLOAD_CSUM) != 0;
	feat->gso4 = feat->gso4 && feat->sg && feat->csum4 && (off & XNB_OFFLOAD_TSO4) != 0;
	feat->gso6 = feat->gso6 && feat->sg && feat->csum6 && (off & XNB_OFFLOAD_TSO6) != 0;
	if ((prefix4 && !feat->gso4) || (prefix6 && !feat->gso6))
		XNB_PORT_LOG(INFO, port,
			"%s offers prefix GSO (feature-gso-tcpv4/6-prefix): not supported, its TCP super-frames are segmented by xnb",
			port->bus.frontend);
	XNB_PORT_LOG(INFO, port,
		"guest-rx offloads: checksum v4 %s v6 %s, GSO v4 %s v6 %s",
		feat->csum4 ? "on" : "off", feat->csum6 ? "on" : "off",
		feat->gso4 ? "on" : "off", feat->gso6 ? "on" : "off");
	return 0;
}

/*
 * The ring and event channel keys of queue qid of num: in the frontend's
 * directory with one queue, in its queue-N directory with more (netif.h).
 * c->feat is the caller's.
 */
static int
read_queue_conf(struct xnb_port *port, uint16_t qid, uint16_t num, struct xnb_queue_conf *c)
{
	struct xnb_xenbus *bus = &port->bus;
	char dir[XNB_XS_PATH_MAX + 16];
	unsigned long v;
	int ret;

	if (num == 1)
		snprintf(dir, sizeof(dir), "%s", bus->frontend);
	else
		snprintf(dir, sizeof(dir), "%s/queue-%u", bus->frontend, qid);
	if (read_frontend_uint(port, dir, "tx-ring-ref", "not a grant reference",
			UINT32_MAX, false, &v) != 0)
		return -EINVAL;
	c->tx_ring_ref = v;
	if (read_frontend_uint(port, dir, "rx-ring-ref", "not a grant reference",
			UINT32_MAX, false, &v) != 0)
		return -EINVAL;
	c->rx_ring_ref = v;
	/* Split event channels (offered): one port per ring; else one port. */
	ret = read_frontend_uint(port, dir, "event-channel-tx", "not a port number",
		UINT32_MAX, true, &v);
	c->split = ret != -ENOENT;
	if (c->split) {
		if (ret != 0)
			return -EINVAL;
		c->evtchn = v;
		if (read_frontend_uint(port, dir, "event-channel-rx", "not a port number",
				UINT32_MAX, false, &v) != 0)
			return -EINVAL;
		c->evtchn_rx = v;
	} else {
		if (read_frontend_uint(port, dir, "event-channel", "not a port number",
				UINT32_MAX, false, &v) != 0)
			return -EINVAL;
		c->evtchn = v;
		c->evtchn_rx = 0;
	}
	return 0;
}

/* The application configured its queues and set up their rx halves. */
static bool
queues_ready(const struct xnb_port *port)
{
	uint16_t i;

	if (port->nb_app_queues == 0)
		return false;
	for (i = 0; i < port->nb_app_queues; i++)
		if (port->queues[i]->rx.mb_pool == NULL)
			return false;
	return true;
}

static void
connect_frontend(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	struct xnb_queue_conf conf, first;
	char protocol[32] = "native";
	struct xnb_features feat;
	char msg[XNB_MSG_MAX];
	uint16_t i, num;
	int ret;

	if (read_num_queues(port, &num) != 0 || read_features(port, &feat) != 0)
		return;
	xnb_xs_read(bus->xs, XBT_NULL, bus->frontend, "protocol", protocol,
		sizeof(protocol));
	memset(&first, 0, sizeof(first));
	memset(&conf, 0, sizeof(conf));
	conf.feat = feat;
	for (i = 0; i < num; i++) {
		/* A bad key is reported by read_queue_conf() itself. */
		ret = read_queue_conf(port, i, num, &conf);
		if (ret == 0) {
			ret = xnb_queue_connect(port->queues[i], &conf);
			if (ret != 0) {
				snprintf(msg, sizeof(msg),
					"queue %u: mapping ring refs %u/%u and binding event channel %u of dom%u: %s",
					i, conf.tx_ring_ref, conf.rx_ring_ref, conf.evtchn,
					port->args.domid, strerror(-ret));
				backend_error(port, msg);
			}
		}
		if (ret != 0) {
			while (i-- > 0)
				xnb_queue_disconnect(port->queues[i]);
			return;
		}
		if (!port->started)
			xnb_queue_quiesce(port->queues[i]);
		if (i == 0)
			first = conf;
	}
	bus->connected = true;
	bus->connects++;
	bus->feat = feat;
	bus->evtchn = first.evtchn;
	bus->nb_connected = num;
	write_state(port, XenbusStateConnected);
	XNB_PORT_LOG(INFO, port,
		"attached to dom%u vif%u (%s), event channel %u%s, protocol %s, %u of %u queue(s)%s%s",
		port->args.domid, port->args.handle, bus->frontend, first.evtchn,
		first.split ? " (split: tx and rx ports)" : "", protocol, num, port->nb_queues,
		feat.sg ? ", sg" : "", feat.rx_notify ? ", rx-notify" : "");
	link_update(port);
}

static void
unwatch_frontend(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	char path[XNB_XS_PATH_MAX + 8];

	if (!bus->frontend_watched)
		return;
	snprintf(path, sizeof(path), "%s/state", bus->frontend);
	xs_unwatch(bus->xs, path, bus->token);
	bus->frontend_watched = false;
}

/* Follow the backend's "frontend" key; watch that frontend's state. */
static int
follow_frontend(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	char fe[XNB_XS_PATH_MAX], path[XNB_XS_PATH_MAX + 8];
	unsigned long fe_id;
	int ret;

	ret = xnb_xs_read(bus->xs, XBT_NULL, bus->backend, "frontend", fe, sizeof(fe));
	if (ret != 0)
		return ret;
	if (bus->frontend_watched && strcmp(fe, bus->frontend) == 0)
		return 0;
	ret = xnb_xs_read_uint(bus->xs, XBT_NULL, bus->backend, "frontend-id",
		UINT16_MAX, &fe_id);
	if (ret != 0 || fe_id != port->args.domid) {
		XNB_PORT_LOG(ERR, port, "%s/frontend-id is not %u: this vif belongs to another domain",
			bus->backend, port->args.domid);
		return -EINVAL;
	}
	unwatch_frontend(port);
	snprintf(bus->frontend, sizeof(bus->frontend), "%s", fe);
	snprintf(path, sizeof(path), "%s/state", bus->frontend);
	if (!xs_watch(bus->xs, path, bus->token)) {
		XNB_PORT_LOG(ERR, port, "cannot watch %s: %s", path, strerror(errno));
		return -errno;
	}
	bus->frontend_watched = true;
	XNB_PORT_LOG(INFO, port, "frontend %s", bus->frontend);
	return 0;
}

/* --- domain=NAME: find the guest by name and follow it --- */

static const char * const special_watches[] = { "@introduceDomain", "@releaseDomain" };

static void
unwatch_target(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;

	unwatch_frontend(port);
	if (bus->backend_watched) {
		xs_unwatch(bus->xs, bus->backend, bus->token);
		bus->backend_watched = false;
	}
}

static int
watch_backend(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;

	snprintf(bus->backend, sizeof(bus->backend), "/local/domain/%u/backend/%s/%u/%u",
		bus->self_domid, port->args.type, port->args.domid, port->args.handle);
	if (!xs_watch(bus->xs, bus->backend, bus->token)) {
		XNB_PORT_LOG(ERR, port, "cannot watch %s: %s", bus->backend, strerror(errno));
		return -errno;
	}
	bus->backend_watched = true;
	return 0;
}

/* Let go of the guest we served: as on close, it sees Closed. */
static void
untarget(struct xnb_port *port, const char *why)
{
	struct xnb_xenbus *bus = &port->bus;

	disconnect(port, why);
	if (bus->state != -1 && bus->state != XenbusStateClosed &&
			follow_frontend(port) == 0)
		write_state(port, XenbusStateClosed);
	unwatch_target(port);
	bus->state = -1;
	bus->backend[0] = '\0';
	bus->frontend[0] = '\0';
	port->args.domid = 0;
}

/* Does the toolstack have our vif for domid in xenstore? */
static bool
has_vif(struct xnb_port *port, unsigned long domid)
{
	char dir[XNB_XS_PATH_MAX];
	unsigned long v;

	snprintf(dir, sizeof(dir), "/local/domain/%u/backend/%s/%lu/%u",
		port->bus.self_domid, port->args.type, domid, port->args.handle);
	return xnb_xs_read_uint(port->bus.xs, XBT_NULL, dir, "frontend-id",
		UINT16_MAX, &v) == 0 && v == domid;
}

/*
 * The domain whose /local/domain/<id>/name is ours: 0 when none. While a
 * guest is rebuilt two domains may carry the name for a moment: the one
 * we serve stays, else the one with our vif, else the lowest id.
 */
static uint16_t
resolve_guest(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	char dir[32], name[XNB_DOMAIN_NAME_MAX];
	unsigned long id, best = 0;
	unsigned int i, n = 0, matches = 0;
	bool best_vif = false, vif;
	char **ents;

	ents = xs_directory(bus->xs, XBT_NULL, "/local/domain", &n);
	if (ents == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		/* Entries and names are anyone's writing: strict, bounded. */
		if (xnb_parse_domid(ents[i], &id) != 0 || id == bus->self_domid)
			continue;
		snprintf(dir, sizeof(dir), "/local/domain/%lu", id);
		if (xnb_xs_read(bus->xs, XBT_NULL, dir, "name", name, sizeof(name)) != 0 ||
				strcmp(name, port->domain) != 0)
			continue;
		matches++;
		if (id == port->args.domid) {
			best = id;
			break;
		}
		vif = has_vif(port, id);
		if (best == 0 || (vif && !best_vif) || (vif == best_vif && id < best)) {
			best = id;
			best_vif = vif;
		}
	}
	free(ents);
	if (matches > 1 && best != port->args.domid)
		XNB_PORT_LOG(WARNING, port, "%u domains are named %s; following dom%lu",
			matches, port->domain, best);
	return (uint16_t)best;
}

static void
follow_guest(struct xnb_port *port)
{
	uint16_t old = port->args.domid, now;
	char why[XNB_DOMAIN_NAME_MAX + 64];
	int ret;

	now = resolve_guest(port);
	if (now == old)
		return;
	if (old != 0) {
		snprintf(why, sizeof(why), "guest %s is no longer dom%u", port->domain, old);
		untarget(port, why);
	}
	if (now == 0) {
		XNB_PORT_LOG(INFO, port, "guest %s is gone; waiting for a domain of that name",
			port->domain);
		return;
	}
	ret = xnb_ethdev_retarget(port, now);
	if (ret != 0)
		return;
	if (watch_backend(port) != 0) {
		port->args.domid = 0;
		return;
	}
	XNB_PORT_LOG(NOTICE, port, "guest %s is now dom%u%s", port->domain, now,
		old != 0 ? "" : " (found)");
}

static void
unwatch_guest(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	unsigned int i;

	if (!bus->guest_watched)
		return;
	xs_unwatch(bus->xs, bus->type_dir, bus->token);
	for (i = 0; i < RTE_DIM(special_watches); i++)
		xs_unwatch(bus->xs, special_watches[i], bus->token);
	bus->guest_watched = false;
}

/*
 * The toolstack writes a new guest's vifs under our backend type
 * directory; on a real Xen host the special watches also tell of domains
 * coming and going. Any of them makes us look the name up again.
 */
static int
watch_guest(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	unsigned int i;

	if (!xs_watch(bus->xs, bus->type_dir, bus->token)) {
		XNB_PORT_LOG(ERR, port, "cannot watch %s: %s", bus->type_dir, strerror(errno));
		return -errno;
	}
	for (i = 0; i < RTE_DIM(special_watches); i++)
		if (!xs_watch(bus->xs, special_watches[i], bus->token))
			XNB_PORT_LOG(WARNING, port,
				"cannot watch %s (%s): guests are noticed through %s only",
				special_watches[i], strerror(errno), bus->type_dir);
	bus->guest_watched = true;
	return 0;
}

void
xnb_xenbus_update(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	int be_state, fe_state;

	if (port->closed || bus->xs == NULL)
		return;
	if (port->domain[0] != '\0')
		follow_guest(port);
	if (port->args.domid == 0)
		return;

	/* No backend directory: the toolstack has not created the vif yet, or removed it. */
	if (follow_frontend(port) != 0) {
		disconnect(port, "backend directory removed");
		bus->state = -1;
		return;
	}

	be_state = xnb_xs_read_state(bus->xs, bus->backend);
	if (be_state != bus->state) {
		/* Someone else wrote our state: the toolstack. */
		if (be_state == XenbusStateClosing || be_state == XenbusStateClosed) {
			disconnect(port, "toolstack closed the vif");
			write_state(port, XenbusStateClosed);
			return;
		}
		if (bus->state == -1 || be_state == XenbusStateInitialising) {
			/* A new vif (or a new toolstack run): start over. */
			disconnect(port, "vif recreated");
			if (advertise(port) != 0) {
				XNB_PORT_LOG(ERR, port, "cannot advertise features in %s",
					bus->backend);
				return;
			}
		}
	}

	fe_state = xnb_xs_read_state(bus->xs, bus->frontend);
	switch (fe_state) {
	case XenbusStateInitialising:
	case XenbusStateInitWait:
		/* The frontend starts (over): a rebooted or reloaded guest. */
		disconnect(port, "frontend restarted");
		if (bus->state == XenbusStateClosing || bus->state == XenbusStateClosed ||
				bus->state == XenbusStateConnected)
			advertise(port);
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		/* Linux's netfront goes from Initialising straight to Connected. */
		if (!bus->connected && bus->state == XenbusStateInitWait &&
				queues_ready(port))
			connect_frontend(port);
		break;
	case XenbusStateClosing:
		disconnect(port, "frontend closing");
		if (bus->state != XenbusStateClosing && bus->state != XenbusStateClosed)
			write_state(port, XenbusStateClosing);
		break;
	case XenbusStateClosed:
		disconnect(port, "frontend closed");
		if (bus->state != XenbusStateClosed)
			write_state(port, XenbusStateClosed);
		break;
	default:
		/* Unknown: the frontend's directory vanished (domain destroyed). */
		disconnect(port, "frontend vanished");
		if (bus->state != XenbusStateClosed && bus->state != -1)
			write_state(port, XenbusStateClosed);
		break;
	}
}

static void
watch_cb(void *arg)
{
	struct xnb_port *port = arg;
	char **vec;
	unsigned int events = 0;

	/* Drain every pending event, then act once (XSA-349: coalesce). */
	while ((vec = xs_check_watch(port->bus.xs)) != NULL) {
		free(vec);
		events++;
	}
	if (events == 0 && errno != EAGAIN)
		XNB_PORT_LOG(ERR, port, "reading xenstore watch events: %s",
			strerror(errno));
	pthread_mutex_lock(&port->lock);
	xnb_xenbus_update(port);
	pthread_mutex_unlock(&port->lock);
}

/* On the interrupt thread, after the datapath flagged a queue. */
static void
fatal_alarm(void *arg)
{
	struct xnb_port *port = arg;
	char msg[XNB_MSG_MAX];
	uint16_t i;

	pthread_mutex_lock(&port->lock);
	for (i = 0; i < port->nb_queues; i++) {
		uint32_t why = __atomic_load_n(&port->queues[i]->fatal, __ATOMIC_ACQUIRE);

		if (why == XNB_FATAL_NONE || !port->bus.connected)
			continue;
		snprintf(msg, sizeof(msg), "queue %u: %s; vif disabled", i,
			xnb_fatal_str(why));
		disconnect(port, msg);
		backend_error(port, msg);
		break;
	}
	pthread_mutex_unlock(&port->lock);
}

/* Datapath context: never block; the alarm tears down on the control side. */
static void
on_fatal(struct xnb_queue *q, void *arg)
{
	RTE_SET_USED(q);
	rte_eal_alarm_set(1, fatal_alarm, arg);
}

int
xnb_xenbus_open(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	unsigned long self = 0;
	uint16_t i;
	int fd, ret;

	bus->state = -1;
	bus->xs = port->ops->xs_open(port->xen);
	if (bus->xs == NULL) {
		XNB_PORT_LOG(ERR, port, "cannot connect to xenstore (%s): is xenstored running?%s",
			strerror(errno), port->args.platform == XNB_PLATFORM_SIM ?
			" For platform=sim start it with devtools/xnb-xenstored start SIM_DIR SHIM" : "");
		return -ENOTCONN;
	}
	/* Our own domain: "domid" relative to our home; dom0 when absent. */
	xnb_xs_read_uint(bus->xs, XBT_NULL, NULL, "domid", UINT16_MAX, &self);
	bus->self_domid = self;
	snprintf(bus->type_dir, sizeof(bus->type_dir), "/local/domain/%u/backend/%s",
		bus->self_domid, port->args.type);
	snprintf(bus->token, sizeof(bus->token), "xnb-%s", port->name);

	for (i = 0; i < port->nb_queues; i++) {
		port->queues[i]->on_fatal = on_fatal;
		port->queues[i]->on_fatal_arg = port;
	}

	fd = xs_fileno(bus->xs);
	if (fd < 0) {
		ret = -errno;
		XNB_PORT_LOG(ERR, port, "no xenstore watch fd: %s", strerror(errno));
		goto fail;
	}
	bus->intr = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (bus->intr == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	rte_intr_fd_set(bus->intr, fd);
	rte_intr_type_set(bus->intr, RTE_INTR_HANDLE_EXT);
	/* The first events (every watch fires once when set) do the rest. */
	if (port->domain[0] != '\0')
		ret = watch_guest(port);
	else
		ret = watch_backend(port);
	if (ret != 0)
		goto fail;
	ret = rte_intr_callback_register(bus->intr, watch_cb, port);
	if (ret != 0) {
		XNB_PORT_LOG(ERR, port, "cannot register the xenstore watch fd: %s",
			strerror(-ret));
		unwatch_guest(port);
		unwatch_target(port);
		goto fail;
	}
	if (port->domain[0] != '\0')
		XNB_PORT_LOG(INFO, port, "serving guest %s vif %u under %s (platform %s)",
			port->domain, port->args.handle, bus->type_dir, port->ops->name);
	else
		XNB_PORT_LOG(INFO, port, "serving %s (platform %s)", bus->backend,
			port->ops->name);
	return 0;
fail:
	rte_intr_instance_free(bus->intr);
	bus->intr = NULL;
	xs_close(bus->xs);
	bus->xs = NULL;
	return ret;
}

void
xnb_xenbus_close(struct xnb_port *port)
{
	struct xnb_xenbus *bus = &port->bus;
	int ret;

	if (bus->xs == NULL)
		return;
	if (bus->intr != NULL) {
		do {
			ret = rte_intr_callback_unregister(bus->intr, watch_cb, port);
			if (ret == -EAGAIN)
				usleep(1000);
		} while (ret == -EAGAIN);
		rte_intr_instance_free(bus->intr);
		bus->intr = NULL;
	}
	rte_eal_alarm_cancel(fatal_alarm, port);

	pthread_mutex_lock(&port->lock);
	disconnect(port, "port closed");
	/* Tell the toolstack and the frontend this backend is gone. */
	if (bus->state != -1 && port->args.domid != 0 && follow_frontend(port) == 0 &&
			bus->state != XenbusStateClosed)
		write_state(port, XenbusStateClosed);
	unwatch_target(port);
	unwatch_guest(port);
	xs_close(bus->xs);
	bus->xs = NULL;
	pthread_mutex_unlock(&port->lock);
}
