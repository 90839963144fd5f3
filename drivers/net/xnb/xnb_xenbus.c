/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The XenBus backend (xnb_xenbus.h): watches the vif's backend directory
 * (written by the toolstack) and the frontend's state, reads what one
 * pass needs, lets the state machine decide (xnb_xenbus_fsm.c) and
 * carries its actions out: features advertised in a transaction, the
 * frontend's keys read and checked, the port's queues connected.
 *
 * Runs with the port's lock held, on DPDK's interrupt thread (watch
 * events, fatal errors) or in ethdev ops; never on a datapath lcore.
 * Every value read from the frontend's directory is hostile input.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_string_fns.h>

#include "xnb_ctrl.h"
#include "xnb_follow.h"
#include "xnb_logs.h"
#include "xnb_number.h"
#include "xnb_owner.h"
#include "xnb_xenbus.h"
#include "xnb_xenstore.h"

static int
write_state(struct xnb_xenbus *bus, int state)
{
	int ret;

	bus->state = state;
	ret = xnb_xs_printf(bus->xs, XBT_NULL, bus->backend, "state", "%d", state);
	if (ret != 0)
		XNB_BUS_LOG(ERR, bus, "cannot write %s/state=%s: %s",
			bus->backend, xnb_xenbus_state_str(state), strerror(-ret));
	else
		XNB_BUS_LOG(DEBUG, bus, "backend state %s", xnb_xenbus_state_str(state));
	return ret;
}

/* A problem the frontend or toolstack should see: "error" and Closing. */
static void
backend_error(struct xnb_xenbus *bus, const char *msg)
{
	XNB_BUS_LOG(ERR, bus, "%s", msg);
	xnb_xs_printf(bus->xs, XBT_NULL, bus->backend, "error", "%s", msg);
	write_state(bus, XenbusStateClosing);
}

/* Advertise what we offer, in one transaction, then InitWait. */
static int
advertise(struct xnb_xenbus *bus)
{
	uint32_t off = bus->offloads;
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
		{ "feature-ctrl-ring", 1 },
		{ "feature-xdp-headroom", 1 },
		{ "feature-multicast-control", 1 },
		{ "feature-dynamic-multicast-control", 1 },
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
				"%u", bus->nb_queues);
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
			XNB_BUS_LOG(INFO, bus, "backend %s: features advertised, InitWait",
				bus->backend);
		}
		return ret;
	}
	return -EAGAIN;
}

/* XNB_BUS_LINK if it was connected. */
static uint32_t
disconnect(struct xnb_xenbus *bus, const char *why)
{
	uint16_t i;

	if (!bus->connected)
		return 0;
	bus->ops->ctrl_disconnect(bus->ops_arg);
	for (i = 0; i < bus->nb_queues; i++)
		bus->ops->queue_disconnect(bus->ops_arg, i);
	/* Its filter goes with the connection, as Linux's netback frees it. */
	bus->ops->set_mcast(bus->ops_arg, false, true);
	bus->mcast_ctrl = false;
	bus->connected = false;
	XNB_BUS_LOG(INFO, bus, "disconnected from dom%u: %s", bus->domid, why);
	return XNB_BUS_LINK;
}

#define XNB_MSG_MAX (XNB_XS_PATH_MAX + 128)

/*
 * A number the frontend wrote under dir; a bad one is reported to it, and
 * a missing one unless optional (then -ENOENT, unreported).
 */
static int
read_frontend_uint(struct xnb_xenbus *bus, const char *dir, const char *key,
		const char *what, unsigned long max, bool optional, unsigned long *v)
{
	char msg[XNB_MSG_MAX];
	int ret;

	ret = xnb_xs_read_uint(bus->xs, XBT_NULL, dir, key, max, v);
	if (ret != 0 && !(optional && ret == -ENOENT)) {
		snprintf(msg, sizeof(msg), "reading %s/%s: %s", dir, key,
			ret == -ENOENT ? "missing" : what);
		backend_error(bus, msg);
	}
	return ret;
}

/* A feature flag the frontend wrote: absent, 0 or 1. */
static int
read_frontend_bool(struct xnb_xenbus *bus, const char *key, bool *v)
{
	char msg[XNB_MSG_MAX];
	int ret;

	ret = xnb_xs_read_bool(bus->xs, XBT_NULL, bus->frontend, key);
	if (ret < 0) {
		snprintf(msg, sizeof(msg), "reading %s/%s: neither 0 nor 1",
			bus->frontend, key);
		backend_error(bus, msg);
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
read_num_queues(struct xnb_xenbus *bus, uint16_t app_queues, uint16_t *num)
{
	char msg[XNB_MSG_MAX];
	unsigned long v;
	int ret;

	ret = xnb_xs_read_uint(bus->xs, XBT_NULL, bus->frontend,
		"multi-queue-num-queues", UINT32_MAX, &v);
	if (ret == -ENOENT) {
		v = 1;
	} else if (ret != 0 || v == 0 || v > bus->nb_queues) {
		snprintf(msg, sizeof(msg),
			"%s/multi-queue-num-queues: %s; the backend offers 1 to %u queues",
			bus->frontend, ret != 0 ? "not a number" : "out of range",
			bus->nb_queues);
		backend_error(bus, msg);
		return -EINVAL;
	} else if (v > app_queues) {
		snprintf(msg, sizeof(msg),
			"the frontend uses %lu queues but the application configured %u queue pairs: "
			"configure %lu, or offer fewer with queues=",
			v, app_queues, v);
		backend_error(bus, msg);
		return -EINVAL;
	}
	*num = (uint16_t)v;
	return 0;
}

/*
 * The frontend's xdp-headroom (feature-xdp-headroom): absent or not a
 * number, none (as Linux's netback); past XNB_XDP_HEADROOM_MAX, that
 * much (said once: each response says where its data starts).
 */
static uint16_t
read_xdp_headroom(struct xnb_xenbus *bus)
{
	unsigned long v;

	if (xnb_xs_read_uint(bus->xs, XBT_NULL, bus->frontend, "xdp-headroom", UINT16_MAX,
			&v) != 0)
		return 0;
	if (v > XNB_XDP_HEADROOM_MAX) {
		XNB_BUS_LOG(WARNING, bus, "%s/xdp-headroom=%lu: frames get %u bytes of headroom, the most xnb gives",
			bus->frontend, v, XNB_XDP_HEADROOM_MAX);
		v = XNB_XDP_HEADROOM_MAX;
	}
	return (uint16_t)v;
}

/* The frontend's features, top level, the same for every queue. */
static int
read_features(struct xnb_xenbus *bus, struct xnb_features *feat)
{
	uint32_t off = bus->offloads;
	bool no_csum, prefix4, prefix6;

	if (read_frontend_bool(bus, "request-rx-copy", &feat->rx_copy) != 0)
		return -EINVAL;
	if (!feat->rx_copy) {
		backend_error(bus, "frontend does not request rx-copy (request-rx-copy=1); "
			"rx-flip is obsolete and not supported");
		return -EINVAL;
	}
	if (read_frontend_bool(bus, "feature-sg", &feat->sg) != 0 ||
			read_frontend_bool(bus, "feature-rx-notify", &feat->rx_notify) != 0 ||
			read_frontend_bool(bus, "feature-no-csum-offload", &no_csum) != 0 ||
			read_frontend_bool(bus, "feature-ipv6-csum-offload", &feat->csum6) != 0 ||
			read_frontend_bool(bus, "feature-gso-tcpv4", &feat->gso4) != 0 ||
			read_frontend_bool(bus, "feature-gso-tcpv6", &feat->gso6) != 0 ||
			read_frontend_bool(bus, "feature-gso-tcpv4-prefix", &prefix4) != 0 ||
			read_frontend_bool(bus, "feature-gso-tcpv6-prefix", &prefix6) != 0)
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
	feat->xdp_headroom = read_xdp_headroom(bus);
	if ((prefix4 && !feat->gso4) || (prefix6 && !feat->gso6))
		XNB_BUS_LOG(INFO, bus,
			"%s offers prefix GSO (feature-gso-tcpv4/6-prefix): not supported, its TCP super-frames are segmented by xnb",
			bus->frontend);
	XNB_BUS_LOG(INFO, bus,
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
read_queue_conf(struct xnb_xenbus *bus, uint16_t qid, uint16_t num,
		struct xnb_queue_conf *c)
{
	char dir[XNB_XS_PATH_MAX + 16];
	unsigned long v;
	int ret;

	if (num == 1)
		snprintf(dir, sizeof(dir), "%s", bus->frontend);
	else
		snprintf(dir, sizeof(dir), "%s/queue-%u", bus->frontend, qid);
	if (read_frontend_uint(bus, dir, "tx-ring-ref", "not a grant reference",
			UINT32_MAX, false, &v) != 0)
		return -EINVAL;
	c->tx_ring_ref = v;
	if (read_frontend_uint(bus, dir, "rx-ring-ref", "not a grant reference",
			UINT32_MAX, false, &v) != 0)
		return -EINVAL;
	c->rx_ring_ref = v;
	/* Split event channels (offered): one port per ring; else one port. */
	ret = read_frontend_uint(bus, dir, "event-channel-tx", "not a port number",
		UINT32_MAX, true, &v);
	c->split = ret != -ENOENT;
	if (c->split) {
		if (ret != 0)
			return -EINVAL;
		c->evtchn = v;
		if (read_frontend_uint(bus, dir, "event-channel-rx", "not a port number",
				UINT32_MAX, false, &v) != 0)
			return -EINVAL;
		c->evtchn_rx = v;
	} else {
		if (read_frontend_uint(bus, dir, "event-channel", "not a port number",
				UINT32_MAX, false, &v) != 0)
			return -EINVAL;
		c->evtchn = v;
		c->evtchn_rx = 0;
	}
	return 0;
}

/*
 * The control ring, if the frontend gives one (netif.h: ctrl-ring-ref
 * and event-channel-ctrl, both before Connected). 0 when there is none
 * or it is connected; else reported to the frontend, as Linux's netback
 * fails the connect.
 */
static int
connect_ctrl_ring(struct xnb_xenbus *bus, uint16_t num, bool reattach)
{
	char msg[XNB_MSG_MAX], kept[XNB_HASH_TEXT_MAX];
	unsigned long ref, evtchn;
	bool has_kept;
	int ret;

	ret = read_frontend_uint(bus, bus->frontend, "ctrl-ring-ref", "not a grant reference",
		UINT32_MAX, true, &ref);
	if (ret == -ENOENT)
		return 0;
	if (ret != 0 || read_frontend_uint(bus, bus->frontend, "event-channel-ctrl",
			"not a port number", UINT32_MAX, false, &evtchn) != 0)
		return -EINVAL;
	has_kept = reattach && xnb_xs_read(bus->xs, XBT_NULL, bus->backend, XNB_HASH_NODE, kept,
		sizeof(kept)) == 0;
	ret = bus->ops->ctrl_connect(bus->ops_arg, ref, evtchn, num, has_kept ? kept : NULL);
	if (ret != 0) {
		snprintf(msg, sizeof(msg),
			"control ring: %s (ctrl-ring-ref %lu, event-channel-ctrl %lu)",
			ret == -EPROTO ? "its indices claim more requests than it holds: the frontend is broken or hostile" :
			strerror(-ret), ref, evtchn);
		backend_error(bus, msg);
		return ret;
	}
	XNB_BUS_LOG(INFO, bus, "control ring connected (ctrl-ring-ref %lu, event channel %lu): hashing configurable",
		ref, evtchn);
	return 0;
}

/*
 * Read and check the frontend's keys, connect the queues; Connected
 * written, or, to reattach, left as a predecessor wrote it (the rings
 * are taken at their shared indices either way: xnb_queue_connect()).
 * XNB_BUS_LINK when the vif connected.
 */
static uint32_t
connect_frontend(struct xnb_xenbus *bus, uint16_t app_queues, bool reattach)
{
	struct xnb_queue_conf conf, first;
	char protocol[32] = "native";
	struct xnb_features feat;
	char msg[XNB_MSG_MAX];
	uint16_t i, num;
	int ret;

	if (read_num_queues(bus, app_queues, &num) != 0 || read_features(bus, &feat) != 0)
		return 0;
	xnb_xs_read(bus->xs, XBT_NULL, bus->frontend, "protocol", protocol,
		sizeof(protocol));
	memset(&first, 0, sizeof(first));
	memset(&conf, 0, sizeof(conf));
	conf.feat = feat;
	for (i = 0; i < num; i++) {
		/* A bad key is reported by read_queue_conf() itself. */
		ret = read_queue_conf(bus, i, num, &conf);
		if (ret == 0) {
			ret = bus->ops->queue_connect(bus->ops_arg, i, &conf);
			if (ret == -EPROTO) {
				/* xnb_queue_connect(): the shared indices do not hold together. */
				snprintf(msg, sizeof(msg),
					"queue %u: the rings of refs %u/%u claim more requests than they hold: the frontend is broken or hostile",
					i, conf.tx_ring_ref, conf.rx_ring_ref);
				backend_error(bus, msg);
			} else if (ret != 0) {
				snprintf(msg, sizeof(msg),
					"queue %u: mapping ring refs %u/%u and binding event channel %u of dom%u: %s",
					i, conf.tx_ring_ref, conf.rx_ring_ref, conf.evtchn,
					bus->domid, strerror(-ret));
				backend_error(bus, msg);
			}
		}
		if (ret != 0) {
			while (i-- > 0)
				bus->ops->queue_disconnect(bus->ops_arg, i);
			return 0;
		}
		if (i == 0)
			first = conf;
	}
	/* What a predecessor kept belongs to the connection it served. */
	if (!reattach)
		xnb_xenbus_keep_hash(bus, NULL);
	if (connect_ctrl_ring(bus, num, reattach) != 0) {
		for (i = 0; i < num; i++)
			bus->ops->queue_disconnect(bus->ops_arg, i);
		return 0;
	}
	bus->connected = true;
	bus->connects++;
	bus->feat = feat;
	bus->evtchn = first.evtchn;
	bus->nb_connected = num;
	if (reattach)
		bus->state = XenbusStateConnected;
	else
		write_state(bus, XenbusStateConnected);
	XNB_BUS_LOG(INFO, bus,
		"%s dom%u vif%u (%s), event channel %u%s, protocol %s, %u of %u queue(s)%s%s",
		reattach ? "reattached to (left Connected by an earlier backend process)" :
		"attached to", bus->domid, bus->handle, bus->frontend, first.evtchn,
		first.split ? " (split: tx and rx ports)" : "", protocol, num, bus->nb_queues,
		feat.sg ? ", sg" : "", feat.rx_notify ? ", rx-notify" : "");
	return XNB_BUS_LINK;
}

static void
unwatch_frontend(struct xnb_xenbus *bus)
{
	char path[XNB_XS_PATH_MAX + 32];

	if (!bus->frontend_watched)
		return;
	snprintf(path, sizeof(path), "%s/state", bus->frontend);
	xs_unwatch(bus->xs, path, bus->token);
	snprintf(path, sizeof(path), "%s/request-multicast-control", bus->frontend);
	xs_unwatch(bus->xs, path, bus->token);
	bus->frontend_watched = false;
}

/* Follow the backend's "frontend" key; watch that frontend's state. */
static int
follow_frontend(struct xnb_xenbus *bus)
{
	char fe[XNB_XS_PATH_MAX], path[XNB_XS_PATH_MAX + 32];
	unsigned long fe_id;
	int ret;

	ret = xnb_xs_read(bus->xs, XBT_NULL, bus->backend, "frontend", fe, sizeof(fe));
	if (ret != 0)
		return ret;
	if (bus->frontend_watched && strcmp(fe, bus->frontend) == 0)
		return 0;
	ret = xnb_xs_read_uint(bus->xs, XBT_NULL, bus->backend, "frontend-id",
		UINT16_MAX, &fe_id);
	if (ret != 0 || fe_id != bus->domid) {
		XNB_BUS_LOG(ERR, bus, "%s/frontend-id is not %u: this vif belongs to another domain",
			bus->backend, bus->domid);
		return -EINVAL;
	}
	unwatch_frontend(bus);
	snprintf(bus->frontend, sizeof(bus->frontend), "%s", fe);
	snprintf(path, sizeof(path), "%s/state", bus->frontend);
	if (!xs_watch(bus->xs, path, bus->token)) {
		XNB_BUS_LOG(ERR, bus, "cannot watch %s: %s", path, strerror(errno));
		return -errno;
	}
	bus->frontend_watched = true;
	/* feature-dynamic-multicast-control: the frontend may change it while connected. */
	snprintf(path, sizeof(path), "%s/request-multicast-control", bus->frontend);
	if (!xs_watch(bus->xs, path, bus->token))
		XNB_BUS_LOG(WARNING, bus, "cannot watch %s: %s; a change is seen at the next pass",
			path, strerror(errno));
	XNB_BUS_LOG(INFO, bus, "frontend %s", bus->frontend);
	return 0;
}

static void
unwatch_target(struct xnb_xenbus *bus)
{
	unwatch_frontend(bus);
	if (bus->backend_watched) {
		xs_unwatch(bus->xs, bus->backend, bus->token);
		bus->backend_watched = false;
	}
}

static int
watch_backend(struct xnb_xenbus *bus)
{
	snprintf(bus->backend, sizeof(bus->backend), "%s/%u/%u", bus->type_dir,
		bus->domid, bus->handle);
	bus->carrier = -1;
	if (!xs_watch(bus->xs, bus->backend, bus->token)) {
		XNB_BUS_LOG(ERR, bus, "cannot watch %s: %s", bus->backend, strerror(errno));
		return -errno;
	}
	bus->backend_watched = true;
	return 0;
}

/* Let go of the guest we served: as on close, it sees Closed. */
static uint32_t
untarget(struct xnb_xenbus *bus, const char *why)
{
	uint32_t changed = disconnect(bus, why);

	if (bus->state != XNB_FSM_NONE && bus->state != XenbusStateClosed &&
			follow_frontend(bus) == 0)
		write_state(bus, XenbusStateClosed);
	unwatch_target(bus);
	bus->state = XNB_FSM_NONE;
	bus->backend[0] = '\0';
	bus->frontend[0] = '\0';
	bus->domid = 0;
	return changed;
}

/*
 * Were this pass's reads answered by xenstored? A lost connection reads
 * like a vif that is gone, and the guest, still connected and sending,
 * must not be cut off for that: the pass stops, and the port connects
 * again (xnb_xenbus_reconnect()).
 */
static bool
bus_alive(struct xnb_xenbus *bus)
{
	if (xnb_xs_alive(bus->xs))
		return true;
	snprintf(bus->who, sizeof(bus->who), "%s (dom %u vif %u)", bus->name, bus->domid,
		bus->handle);
	xnb_xs_outage_begin(&bus->xs_out, bus->who, bus->connected ?
		"the guest keeps its connection and its traffic; its handshake waits for xenstore" :
		"the handshake waits for xenstore");
	return false;
}

/* domain=: is the guest another domain now? */
static uint32_t
follow_guest(struct xnb_xenbus *bus)
{
	char why[XNB_DOMAIN_NAME_MAX + 64];
	uint16_t old = bus->domid, now;
	uint32_t changed = 0;

	now = xnb_follow_resolve(bus);
	if (now == old || !bus_alive(bus))
		return 0;
	if (old != 0) {
		snprintf(why, sizeof(why), "guest %s is no longer dom%u", bus->domain, old);
		changed = untarget(bus, why);
	}
	if (now == 0) {
		XNB_BUS_LOG(INFO, bus, "guest %s is gone; waiting for a domain of that name",
			bus->domain);
		return changed;
	}
	bus->retarget_domid = now;
	return changed | XNB_BUS_RETARGET;
}

int
xnb_xenbus_target(struct xnb_xenbus *bus, uint16_t domid)
{
	int ret;

	bus->domid = domid;
	ret = watch_backend(bus);
	if (ret != 0) {
		bus->domid = 0;
		return ret;
	}
	XNB_BUS_LOG(NOTICE, bus, "guest %s is now dom%u", bus->domain, domid);
	return 0;
}

/*
 * Does another live backend serve our vif: the kernel's xen-netback, or
 * a process whose owner record is in the backend directory? Said once,
 * with who it is; a dead owner's vif is free.
 */
static bool
vif_taken(struct xnb_xenbus *bus)
{
	char rec[XNB_OWNER_MAX], who[96];

	if (xnb_owner_kernel(bus->type, bus->domid, bus->handle))
		snprintf(who, sizeof(who), "the kernel's backend (xen-netback: unbind it or "
			"unload the module)");
	else if (xnb_xs_read(bus->xs, XBT_NULL, bus->backend, XNB_OWNER_KEY, rec,
			sizeof(rec)) != 0 ||
			!xnb_owner_other(rec, bus->owner, who, sizeof(who)))
		return false;
	if (!bus->refused)
		XNB_BUS_LOG(ERR, bus, "dom%u vif%u (%s) is served by %s: refused; it is taken over once that backend is gone",
			bus->domid, bus->handle, bus->backend, who);
	bus->refused = true;
	return true;
}

/*
 * Is the toolstack's hotplug script still plugging the vif in (vif-xnb
 * putting its port into a switch)? Linux's netback holds Connected back
 * until the script writes hotplug-status=connected, so that the guest
 * sends nothing before the port is switched. hotplug=auto waits only when
 * the vif has a script that does something: with script=/bin/true
 * nothing would ever write it. Said once per hotplug-status seen.
 */
static bool
hotplug_pending(struct xnb_xenbus *bus)
{
	char status[sizeof(bus->hotplug_status)], script[256], err[XNB_MSG_MAX];
	const char *base;

	if (bus->hotplug == XNB_HOTPLUG_IGNORE)
		return false;
	if (xnb_xs_read(bus->xs, XBT_NULL, bus->backend, "hotplug-status", status,
			sizeof(status)) != 0)
		status[0] = '\0';
	if (strcmp(status, "connected") == 0)
		return false;
	if (xnb_xs_read(bus->xs, XBT_NULL, bus->backend, "script", script, sizeof(script)) != 0)
		script[0] = '\0';
	if (bus->hotplug == XNB_HOTPLUG_AUTO) {
		base = strrchr(script, '/');
		base = base != NULL ? base + 1 : script;
		if (base[0] == '\0' || strcmp(base, "true") == 0)
			return false;
	}
	if (bus->hotplug_said && strcmp(status, bus->hotplug_status) == 0)
		return true;
	bus->hotplug_said = true;
	rte_strscpy(bus->hotplug_status, status, sizeof(bus->hotplug_status));
	if (strcmp(status, "error") == 0) {
		if (xnb_xs_read(bus->xs, XBT_NULL, bus->backend, "hotplug-error", err,
				sizeof(err)) != 0)
			rte_strscpy(err, "(no hotplug-error)", sizeof(err));
		XNB_BUS_LOG(ERR, bus, "the toolstack's hotplug script failed: %s; the guest is not connected (the toolstack removes the vif)",
			err);
	} else {
		XNB_BUS_LOG(INFO, bus, "the frontend is ready; Connected waits for the hotplug script (%s) to write %s/hotplug-status=connected",
			script[0] != '\0' ? script : "none named: hotplug=wait", bus->backend);
	}
	return true;
}

/*
 * The toolstack's rate limit on what the guest sends: the backend node
 * "rate", "BYTES,USEC" (xl's rate=10Mb/s@20ms), read as Linux's netback
 * does (xen_net_read_rate()): absent, no limit; not two numbers, no
 * limit, said once; 0 in either, no limit. Applied to every queue when
 * it changes, or always with force (after a connect).
 */
static void
apply_rate(struct xnb_xenbus *bus, bool force)
{
	unsigned long bytes = 0, usec = 0;
	char v[64], *comma;

	if (xnb_xs_read(bus->xs, XBT_NULL, bus->backend, "rate", v, sizeof(v)) == 0) {
		comma = strchr(v, ',');
		if (comma != NULL)
			*comma = '\0';
		if (comma == NULL || xnb_parse_dec(v, UINT32_MAX * 1024ul, false, &bytes) != 0 ||
				xnb_parse_dec(comma + 1, UINT32_MAX, false, &usec) != 0) {
			if (!bus->rate_bad)
				XNB_BUS_LOG(WARNING, bus, "%s/rate is not BYTES,USEC: the guest's traffic is not limited",
					bus->backend);
			bus->rate_bad = true;
			bytes = 0;
			usec = 0;
		} else {
			bus->rate_bad = false;
		}
	}
	if (bytes == 0 || usec == 0)
		bytes = usec = 0;
	if (!force && bytes == bus->rate_bytes && usec == bus->rate_usec)
		return;
	bus->rate_bytes = bytes;
	bus->rate_usec = usec;
	bus->ops->set_rate(bus->ops_arg, bytes, usec);
	if (bytes != 0)
		XNB_BUS_LOG(INFO, bus, "what the guest sends is limited to %lu bytes every %lu us (%.1f Mbit/s)",
			bytes, usec, (double)bytes * 8 / (double)usec);
	else if (!force)
		XNB_BUS_LOG(INFO, bus, "what the guest sends is no longer limited");
}

/*
 * Multicast control: the frontend's request-multicast-control, read at
 * connect and again on every pass (feature-dynamic-multicast-control:
 * the frontend may change it at any time), as Linux's netback samples
 * it. Absent or unreadable: off (an unreadable value is said once).
 */
static void
apply_mcast(struct xnb_xenbus *bus)
{
	int v = xnb_xs_read_bool(bus->xs, XBT_NULL, bus->frontend, "request-multicast-control");
	bool on = v == 1;

	if (v < 0) {
		if (!bus->mcast_bad)
			XNB_BUS_LOG(WARNING, bus, "%s/request-multicast-control is neither 0 nor 1: multicast frames are not filtered",
				bus->frontend);
		bus->mcast_bad = true;
	} else {
		bus->mcast_bad = false;
	}
	if (on == bus->mcast_ctrl)
		return;
	bus->mcast_ctrl = on;
	bus->ops->set_mcast(bus->ops_arg, on, false);
	XNB_BUS_LOG(INFO, bus, "multicast frames to the guest are %s",
		on ? "filtered by the addresses it adds (request-multicast-control)" :
		"no longer filtered");
}

uint32_t
xnb_xenbus_update(struct xnb_xenbus *bus)
{
	struct xnb_fsm_out out;
	struct xnb_fsm_in in;
	uint16_t app_queues, hr;
	uint32_t changed = 0;

	if (bus->xs == NULL || bus->xs_out.lost)
		return 0;
	if (bus->domain[0] != '\0') {
		changed = follow_guest(bus);
		if (changed & XNB_BUS_RETARGET)
			return changed;
	}
	if (bus->domid == 0)
		return changed;

	app_queues = bus->ops->ready_queues(bus->ops_arg);
	in.vif = follow_frontend(bus) == 0;
	in.taken = in.vif && bus->state == XNB_FSM_NONE && vif_taken(bus);
	in.ours = bus->state;
	in.backend = in.vif ? xnb_xs_read_state(bus->xs, bus->backend) : XenbusStateUnknown;
	in.frontend = in.vif ? xnb_xs_read_state(bus->xs, bus->frontend) : XenbusStateUnknown;
	in.connected = bus->connected;
	in.ready = app_queues != 0;
	in.plugging = in.vif && !in.connected && bus->state == XenbusStateInitWait &&
		(in.frontend == XenbusStateInitialised || in.frontend == XenbusStateConnected) &&
		hotplug_pending(bus);
	if (in.connected)
		bus->hotplug_said = false;
	if (!bus_alive(bus))
		return changed;
	xnb_fsm_step(&in, &out);

	if (out.act & XNB_FSM_DISCONNECT)
		changed |= disconnect(bus, xnb_fsm_why_str(out.why));
	if (out.act & XNB_FSM_FORGET)
		bus->state = XNB_FSM_NONE;
	if ((out.act & XNB_FSM_ADVERTISE) && advertise(bus) != 0) {
		XNB_BUS_LOG(ERR, bus, "cannot advertise features in %s", bus->backend);
		return changed;
	}
	if (out.act & (XNB_FSM_CONNECT | XNB_FSM_REATTACH)) {
		changed |= connect_frontend(bus, app_queues, (out.act & XNB_FSM_REATTACH) != 0);
		if (bus->connected)
			apply_rate(bus, true);
	} else if (bus->connected) {
		/* The toolstack may change it at any time (a watch event). */
		apply_rate(bus, false);
	}
	/* Read at connect, and again on every pass (the frontend may change it). */
	if (bus->connected)
		apply_mcast(bus);
	if ((out.act & XNB_FSM_RECONFIGURE) && bus->connected) {
		hr = read_xdp_headroom(bus);
		if (hr != bus->feat.xdp_headroom)
			XNB_BUS_LOG(INFO, bus, "frames to the guest now start %u bytes into their page (xdp-headroom)",
				hr);
		bus->feat.xdp_headroom = hr;
		bus->ops->set_headroom(bus->ops_arg, hr);
	}
	if (out.act & XNB_FSM_WRITE)
		write_state(bus, out.state);
	if (out.act & XNB_FSM_FORGET)
		bus->owner_written = false;
	else if (bus->state != XNB_FSM_NONE && !bus->owner_written && bus->owner[0] != '\0')
		/* The vif is ours now: say so, for the next backend that looks. */
		bus->owner_written = xnb_xs_printf(bus->xs, XBT_NULL, bus->backend,
			XNB_OWNER_KEY, "%s", bus->owner) == 0;
	if (bus->owner_written)
		bus->refused = false;
	return in.taken ? changed | XNB_BUS_RECHECK : changed;
}

uint32_t
xnb_xenbus_fatal(struct xnb_xenbus *bus, uint16_t qid, uint32_t why)
{
	char msg[XNB_MSG_MAX];
	uint32_t changed;

	if (!bus->connected)
		return 0;
	snprintf(msg, sizeof(msg), "queue %u: %s; vif disabled", qid, xnb_fatal_str(why));
	changed = disconnect(bus, msg);
	backend_error(bus, msg);
	return changed;
}

void
xnb_xenbus_drain(struct xnb_xenbus *bus)
{
	int ret = xnb_xs_drain_watches(bus->xs);

	if (ret < 0)
		XNB_BUS_LOG(ERR, bus, "reading xenstore watch events: %s", strerror(-ret));
}

bool
xnb_xenbus_pending(struct xnb_xenbus *bus)
{
	return bus->xs != NULL && !bus->xs_out.lost && xnb_xs_drain_watches(bus->xs) != 0;
}

int
xnb_xenbus_reconnect(struct xnb_xenbus *bus, struct xs_handle *xs)
{
	struct xs_handle *old = bus->xs;
	int ret = 0;

	/* The old connection's watches went with it. */
	bus->xs = xs;
	bus->backend_watched = false;
	bus->frontend_watched = false;
	bus->guest_watched = false;
	if (bus->domain[0] != '\0')
		ret = xnb_follow_watch(bus);
	if (ret == 0 && bus->domid != 0)
		ret = watch_backend(bus);
	if (ret != 0) {
		xs_close(xs);
		bus->xs = old;
		return ret;
	}
	xs_close(old);
	xnb_xs_outage_end(&bus->xs_out, bus->who);
	return 0;
}

void
xnb_xenbus_init(struct xnb_xenbus *bus, const struct xnb_xenbus_conf *conf)
{
	memset(bus, 0, sizeof(*bus));
	bus->carrier = -1;
	rte_strscpy(bus->name, conf->name, sizeof(bus->name));
	rte_strscpy(bus->type, conf->type, sizeof(bus->type));
	rte_strscpy(bus->domain, conf->domain, sizeof(bus->domain));
	bus->domid = conf->domid;
	bus->handle = conf->handle;
	bus->nb_queues = conf->nb_queues;
	bus->offloads = conf->offloads;
	bus->hotplug = conf->hotplug;
	bus->ops = conf->ops;
	bus->ops_arg = conf->ops_arg;
	bus->state = XNB_FSM_NONE;
}

int
xnb_xenbus_open(struct xnb_xenbus *bus, struct xs_handle *xs)
{
	int ret;

	bus->xs = xs;
	bus->self_domid = xnb_xs_self_domid(xs);
	if (xnb_owner_self(bus->name, bus->owner, sizeof(bus->owner)) != 0) {
		bus->owner[0] = '\0';
		XNB_BUS_LOG(WARNING, bus, "cannot tell this process's identity from /proc: no owner record, other backends cannot see this one");
	}
	snprintf(bus->type_dir, sizeof(bus->type_dir), "/local/domain/%u/backend/%s",
		bus->self_domid, bus->type);
	snprintf(bus->token, sizeof(bus->token), "xnb-%s", bus->name);

	/* The first events (every watch fires once when set) do the rest. */
	if (bus->domain[0] != '\0')
		ret = xnb_follow_watch(bus);
	else
		ret = watch_backend(bus);
	if (ret != 0) {
		xs_close(xs);
		bus->xs = NULL;
		return ret;
	}
	if (bus->domain[0] != '\0')
		XNB_BUS_LOG(INFO, bus, "serving guest %s vif %u under %s", bus->domain,
			bus->handle, bus->type_dir);
	else
		XNB_BUS_LOG(INFO, bus, "serving %s", bus->backend);
	return 0;
}

void
xnb_xenbus_close(struct xnb_xenbus *bus, bool keep)
{
	char path[XNB_XS_PATH_MAX + 16];

	if (bus->xs == NULL)
		return;
	disconnect(bus, keep ? "port closed; the vif is kept for a successor (on_close=keep)" :
		"port closed");
	/* Our record goes with us (a successor would find it dead anyway). */
	if (bus->owner_written && bus->domid != 0 && follow_frontend(bus) == 0) {
		snprintf(path, sizeof(path), "%s/%s", bus->backend, XNB_OWNER_KEY);
		xs_rm(bus->xs, XBT_NULL, path);
	}
	bus->owner_written = false;
	/* Tell the toolstack and the frontend this backend is gone, unless kept. */
	if (!keep && bus->state != XNB_FSM_NONE && bus->domid != 0 &&
			follow_frontend(bus) == 0 && bus->state != XenbusStateClosed)
		write_state(bus, XenbusStateClosed);
	unwatch_target(bus);
	xnb_follow_unwatch(bus);
	xs_close(bus->xs);
	bus->xs = NULL;
}

/*
 * A node of the backend directory set to value (NULL: removed), only
 * while the directory exists: never recreating one the toolstack
 * removed. true when written (or removed).
 */
static bool
backend_node_set(struct xnb_xenbus *bus, const char *node, const char *value)
{
	char path[XNB_XS_PATH_MAX + 16];
	xs_transaction_t t;
	unsigned int tries, len;
	char *state;
	bool ok;

	if (bus->xs == NULL || bus->backend[0] == '\0')
		return false;
	for (tries = 0; tries < 16; tries++) {
		t = xs_transaction_start(bus->xs);
		if (t == XBT_NULL)
			return false;
		snprintf(path, sizeof(path), "%s/state", bus->backend);
		state = xs_read(bus->xs, t, path, &len);
		ok = state != NULL;
		free(state);
		if (ok && value != NULL) {
			ok = xnb_xs_printf(bus->xs, t, bus->backend, node, "%s", value) == 0;
		} else if (ok) {
			snprintf(path, sizeof(path), "%s/%s", bus->backend, node);
			ok = xs_rm(bus->xs, t, path) || errno == ENOENT;
		}
		if (xs_transaction_end(bus->xs, t, !ok))
			return ok;
		if (errno != EAGAIN)
			return false;
	}
	return false;
}

void
xnb_xenbus_carrier(struct xnb_xenbus *bus, bool up)
{
	if (bus->carrier == (int)up)
		return;
	/* Not written (no directory): whatever comes next writes it. */
	bus->carrier = backend_node_set(bus, "carrier", up ? "1" : "0") ? up : -1;
}

void
xnb_xenbus_keep_hash(struct xnb_xenbus *bus, const char *text)
{
	if (!backend_node_set(bus, XNB_HASH_NODE, text) && text != NULL)
		XNB_BUS_LOG(WARNING, bus, "the guest's hashing configuration could not be kept in %s/%s: a restarted application will not steer by it until the guest configures it again",
			bus->backend, XNB_HASH_NODE);
}
