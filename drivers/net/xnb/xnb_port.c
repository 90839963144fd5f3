/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The port's control path (xnb_port.h): its lock, the link and LSC, the
 * xenstore watch on the interrupt thread, the fatal alarm, and what it
 * lends and answers its XenBus side (xnb_xenbus.h): queue operations,
 * and a retarget when domain= follows the guest to another domain.
 * xnb_ethdev.c calls in from the ethdev ops.
 */

#include <errno.h>
#include <string.h>

#include <rte_alarm.h>
#include <rte_cycles.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <ethdev_driver.h>

#include "xnb_logs.h"
#include "xnb_port.h"
#include "xnb_xenstore.h"

/*
 * LSC for a link changed by an ethdev op is raised this long after it,
 * on the interrupt thread: ethdev marks the port started or stopped
 * right after the op returns.
 */
#define XNB_LSC_DEFER_US 1000
/* Deferrals while ethdev has not recorded the op yet, at most (1 s). */
#define XNB_LSC_DEFER_MAX 1000
/* How often a refused port looks again whether the vif's owner has gone. */
#define XNB_RECHECK_US (1000 * 1000)
/* How often a port looks whether xenstore is still there, or back. */
#define XNB_XS_CHECK_US (1000 * 1000)
/* How often a changed hashing configuration is kept in xenstore, at most. */
#define XNB_KEEP_HASH_US 200000
/* Control requests answered per kick, and the wait before more (xnb_ctrl_serve()). */
#define XNB_CTRL_BUDGET 64
#define XNB_CTRL_AGAIN_US (10 * 1000)

const struct rte_eth_link xnb_port_link_down = {
	.link_speed = RTE_ETH_SPEED_NUM_10G,
	.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
	.link_status = RTE_ETH_LINK_DOWN,
	.link_autoneg = RTE_ETH_LINK_FIXED,
};

/* See xnb_port.h: connected, started, no guest-rx queue stalled. */
bool
xnb_port_link_up(const struct xnb_port *port)
{
	uint16_t i;

	if (!port->bus.connected || !port->started)
		return false;
	/* As Linux's netback turns the carrier off while any queue is stalled. */
	for (i = 0; i < port->nb_queues; i++)
		if (__atomic_load_n(&port->queues[i]->tx.stalled, __ATOMIC_ACQUIRE) != 0)
			return false;
	return true;
}

static void
port_queue_event(struct xnb_port *port, uint16_t qid, bool rx, bool enable)
{
	if (port->qev_len == XNB_QEV_MAX) {
		/* The oldest goes: a later change of the same queue is queued. */
		port->qev_head = (port->qev_head + 1) % XNB_QEV_MAX;
		port->qev_len--;
	}
	port->qev[(port->qev_head + port->qev_len) % XNB_QEV_MAX] =
		(struct rte_pmd_xnb_queue_event){ .queue_id = qid, .rx = rx, .enable = enable };
	port->qev_len++;
}

/* The queues the guest uses against what was told; true if any changed. */
static bool
port_queue_sync(struct xnb_port *port)
{
	bool used, changed = false;
	uint16_t i;

	for (i = 0; i < port->nb_queues; i++) {
		used = port->queues[i]->connected;
		if (used == port->q_used[i])
			continue;
		port->q_used[i] = used;
		port_queue_event(port, i, true, used);
		port_queue_event(port, i, false, used);
		changed = true;
	}
	if (changed)
		__atomic_store_n(&port->qstate_due, 1, __ATOMIC_RELEASE);
	return changed;
}

/*
 * The link follows the vif: up while it is connected, the port
 * started and no guest-rx queue stalled (xnb_port_link_up()); the
 * queue-state events follow the queues the guest uses. Control path,
 * port->lock held. True when either changed: the caller raises LSC
 * after dropping the lock.
 */
bool
xnb_port_link_sync(struct xnb_port *port)
{
	struct rte_eth_dev *dev = &rte_eth_devices[port->port_id];
	struct rte_eth_link link = xnb_port_link_down;
	bool up = xnb_port_link_up(port);
	bool queues = port_queue_sync(port);

	xnb_xenbus_carrier(&port->bus, up);
	link.link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	/* rte_eth_linkstatus_set returns 0 only when the status changed. */
	if (rte_eth_linkstatus_set(dev, &link) != 0)
		return queues;
	XNB_PORT_LOG(INFO, port, "link %s", up ? "up" : "down");
	__atomic_store_n(&port->lsc_due, 1, __ATOMIC_RELEASE);
	return true;
}

int
rte_pmd_xnb_get_queue_event(uint16_t port_id, struct rte_pmd_xnb_queue_event *event)
{
	struct xnb_port *port;
	int ret = -EAGAIN;

	if (!rte_eth_dev_is_valid_port(port_id) || !xnb_is_port(&rte_eth_devices[port_id]))
		return -ENODEV;
	port = rte_eth_devices[port_id].data->dev_private;
	pthread_mutex_lock(&port->lock);
	if (port->qev_len > 0) {
		*event = port->qev[port->qev_head];
		port->qev_head = (port->qev_head + 1) % XNB_QEV_MAX;
		port->qev_len--;
		ret = 0;
	}
	pthread_mutex_unlock(&port->lock);
	return ret;
}

static void
xnb_port_lsc_alarm(void *arg)
{
	struct xnb_port *port = arg;
	struct rte_eth_dev *dev = &rte_eth_devices[port->port_id];

	/*
	 * dev_start or dev_stop has returned but ethdev has not recorded it
	 * yet (its thread was preempted): later, or a callback that stops
	 * the port would find it not started, and the start then completes.
	 */
	if (dev->data->dev_started != __atomic_load_n(&port->started, __ATOMIC_RELAXED) &&
			port->lsc_deferred++ < XNB_LSC_DEFER_MAX) {
		if (rte_eal_alarm_set(XNB_LSC_DEFER_US, xnb_port_lsc_alarm, port) == 0)
			return;
	}
	port->lsc_deferred = 0;
	if (__atomic_exchange_n(&port->lsc_due, 0, __ATOMIC_ACQ_REL) != 0)
		rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_INTR_LSC, NULL);
	if (__atomic_exchange_n(&port->qstate_due, 0, __ATOMIC_ACQ_REL) != 0)
		rte_eth_dev_callback_process(dev, RTE_ETH_EVENT_QUEUE_STATE, NULL);
}

/*
 * LSC, raised without port->lock so that the application's callback may
 * call any ethdev op on the port. From the interrupt thread's own work
 * (watch events, fatal errors) at once; from an ethdev op through an EAL
 * alarm, so that the callback runs after the op has returned and ethdev
 * has recorded it (a callback that stops the port from inside dev_start
 * would find it not started yet).
 */
static void
port_lsc_now(struct xnb_port *port, bool changed)
{
	if (changed)
		xnb_port_lsc_alarm(port);
}

void
xnb_port_lsc_after_op(struct xnb_port *port, bool changed)
{
	if (changed)
		rte_eal_alarm_set(XNB_LSC_DEFER_US, xnb_port_lsc_alarm, port);
}

/*
 * Point the port's platform context and queues at another guest domain.
 * port->lock held, every queue disconnected (quiesced). 0, or -errno
 * with the port unchanged.
 */
static int
port_retarget(struct xnb_port *port, uint16_t domid)
{
	struct xnb_xen *x, *old = port->xen;
	uint16_t i;
	int ret;

	for (i = 0; i < port->nb_queues; i++)
		if (port->queues[i]->connected)
			return -EBUSY;
	ret = port->ops->guest_open(port->host, domid, &x);
	if (ret != 0)
		return ret;
	/*
	 * The queues are disconnected: their bursts see allow == 0 and touch
	 * neither the context nor the domid; the next connect publishes both
	 * with its allow store.
	 */
	for (i = 0; i < port->nb_queues; i++) {
		port->queues[i]->xen = x;
		port->queues[i]->domid = domid;
	}
	port->xen = x;
	if (old != NULL)
		port->ops->guest_close(old);
	return 0;
}

static void port_recheck_alarm(void *arg);
static void port_ctrl_alarm(void *arg);
static void port_steer_update(struct xnb_port *port);
static void port_keep_hash_alarm(void *arg);

/*
 * One pass of the XenBus side, and what it asks of the port: a retarget
 * (domain=), then the handshake with the new domain. port->lock held;
 * true when the link changed.
 */
bool
xnb_port_bus_update(struct xnb_port *port)
{
	uint32_t changed;

	if (port->closed)
		return false;
	changed = xnb_xenbus_update(&port->bus);
	if (changed & XNB_BUS_RETARGET) {
		if (port_retarget(port, port->bus.retarget_domid) == 0 &&
				xnb_xenbus_target(&port->bus, port->bus.retarget_domid) == 0)
			changed = xnb_xenbus_update(&port->bus);
	}
	/* Another backend serves the vif: no event tells when it goes. */
	if (changed & XNB_BUS_RECHECK)
		rte_eal_alarm_set(XNB_RECHECK_US, port_recheck_alarm, port);
	/* A hashing configuration kept across a restart (bus_ctrl_connect()). */
	if (port->ctrl.gen != port->steer_gen)
		port_steer_update(port);
	return xnb_port_link_sync(port);
}

/* The xenstore watch fd, on the interrupt thread. */
static void
port_watch_cb(void *arg)
{
	struct xnb_port *port = arg;
	bool lsc;

	xnb_xenbus_drain(&port->bus);
	pthread_mutex_lock(&port->lock);
	lsc = xnb_port_bus_update(port);
	pthread_mutex_unlock(&port->lock);
	port_lsc_now(port, lsc);
}

/* While another backend serves the vif: a pass a second, on the interrupt thread. */
static void
port_recheck_alarm(void *arg)
{
	struct xnb_port *port = arg;
	bool lsc;

	pthread_mutex_lock(&port->lock);
	lsc = xnb_port_bus_update(port);
	pthread_mutex_unlock(&port->lock);
	port_lsc_now(port, lsc);
}

/*
 * xenstore is gone: connect again, set the watches again on the new
 * connection and take its watch fd; the lock is held. Whether the pass
 * that follows changed the link.
 */
static bool
port_xs_reconnect(struct xnb_port *port)
{
	char why[XNB_XS_PATH_MAX + 128];
	struct xs_handle *xs;

	port->bus.xs_out.tries++;
	xs = port->ops->xs_open(port->host, why, sizeof(why));
	if (xs == NULL)
		return false;
	/* On the interrupt thread: port_watch_cb() is not running. */
	xnb_xs_unwatch_intr(&port->intr, port_watch_cb, port);
	if (xnb_xenbus_reconnect(&port->bus, xs) != 0)
		return false;
	/* Without it the check below still finds every event, a second late. */
	xnb_xs_watch_intr(port->bus.xs, port->name, port_watch_cb, port, &port->intr);
	return xnb_port_bus_update(port);
}

/*
 * Queues the datapath marked stalled since the last look, and stalled
 * queues whose guest posts buffers again: said once each; the link
 * follows. port->lock held; true when the link changed.
 */
static bool
port_stall_check(struct xnb_port *port)
{
	struct xnb_txq *txq;
	bool stalled, recovered, changed = false;
	uint16_t i;

	for (i = 0; i < port->nb_queues; i++) {
		txq = &port->queues[i]->tx;
		stalled = xnb_tx_stall_check(txq, &recovered);
		if (recovered || stalled != port->stall_seen[i])
			changed = true;
		if (stalled && !port->stall_seen[i])
			XNB_PORT_LOG(WARNING, port, "guest-rx queue %u stalled: the guest posted no receive buffers for %.1f s while frames waited; link down, frames to it dropped until it posts again (devarg stall_timeout)",
				i, (double)txq->stall_tsc / rte_get_timer_hz());
		else if (!stalled && port->stall_seen[i])
			XNB_PORT_LOG(NOTICE, port, "guest-rx queue %u: the guest posts receive buffers again; no longer stalled",
				i);
		port->stall_seen[i] = stalled;
	}
	return changed && xnb_port_link_sync(port);
}

/*
 * Every second, on the interrupt thread: a lost xenstore connection
 * sends no watch event, so look whether it is still there (events
 * taken, or the connection found gone, make a pass), or, once lost,
 * whether xenstored is back; and whether a queue stalled or recovered.
 */
static void
port_xs_alarm(void *arg)
{
	struct xnb_port *port = arg;
	bool lsc = false;

	pthread_mutex_lock(&port->lock);
	if (port->closed) {
		pthread_mutex_unlock(&port->lock);
		return;
	}
	if (port->bus.xs_out.lost)
		lsc = port_xs_reconnect(port);
	else if (xnb_xenbus_pending(&port->bus))
		lsc = xnb_port_bus_update(port);
	lsc |= port_stall_check(port);
	rte_eal_alarm_set(XNB_XS_CHECK_US, port_xs_alarm, port);
	pthread_mutex_unlock(&port->lock);
	port_lsc_now(port, lsc);
}

/* On the interrupt thread, after the datapath flagged a queue. */
static void
port_fatal_alarm(void *arg)
{
	struct xnb_port *port = arg;
	bool lsc = false;
	uint32_t why;
	uint16_t i;

	pthread_mutex_lock(&port->lock);
	for (i = 0; i < port->nb_queues && !port->closed; i++) {
		why = __atomic_load_n(&port->queues[i]->fatal, __ATOMIC_ACQUIRE);
		if (why != XNB_FATAL_NONE && xnb_xenbus_fatal(&port->bus, i, why) != 0) {
			lsc = xnb_port_link_sync(port);
			break;
		}
	}
	pthread_mutex_unlock(&port->lock);
	port_lsc_now(port, lsc);
}

/* Datapath context: never block; the alarm tears down on the control side. */
void
xnb_port_on_fatal(struct xnb_queue *q, void *arg)
{
	RTE_SET_USED(q);
	rte_eal_alarm_set(1, port_fatal_alarm, arg);
}

/* What the port lends its XenBus side (struct xnb_xenbus_port_ops). */
static uint16_t
bus_ready_queues(void *arg)
{
	const struct xnb_port *port = arg;
	uint16_t i;

	for (i = 0; i < port->nb_app_queues; i++)
		if (port->queues[i]->rx.mb_pool == NULL)
			return 0;
	return port->nb_app_queues;
}

static int
bus_queue_connect(void *arg, uint16_t qid, const struct xnb_queue_conf *c)
{
	struct xnb_port *port = arg;
	int ret;

	ret = xnb_queue_connect(port->queues[qid], c);
	if (ret == 0 && !port->started)
		xnb_queue_quiesce(port->queues[qid]);
	return ret;
}

static void
bus_queue_disconnect(void *arg, uint16_t qid)
{
	struct xnb_port *port = arg;

	xnb_queue_disconnect(port->queues[qid]);
}

static void
bus_set_rate(void *arg, uint64_t bytes, uint64_t usec)
{
	struct xnb_port *port = arg;
	uint16_t i;

	for (i = 0; i < port->nb_queues; i++)
		xnb_rx_set_rate(&port->queues[i]->rx, bytes, usec);
}

static int
bus_ctrl_connect(void *arg, uint32_t ring_ref, uint32_t evtchn, uint16_t nb_queues,
		const char *kept)
{
	struct xnb_port *port = arg;
	struct xnb_hash h;
	int ret;

	ret = xnb_ctrl_connect(&port->ctrl, port->ops, port->xen, port->bus.domid, ring_ref,
		evtchn, nb_queues);
	if (ret != 0 || kept == NULL)
		return ret;
	/* Published by xnb_port_bus_update(), once the queues are connected. */
	if (xnb_hash_parse(kept, nb_queues, &h) == 0) {
		xnb_ctrl_restore(&port->ctrl, &h);
		port->hash_kept_gen = port->ctrl.gen;
		XNB_PORT_LOG(INFO, port, "the guest's hashing configuration, kept by the process before this one, is in force again");
	} else {
		XNB_PORT_LOG(WARNING, port, "the kept hashing configuration (%s/%s) does not hold together for %u queue(s): netif.h's defaults until the guest configures hashing again",
			port->bus.backend, XNB_HASH_NODE, nb_queues);
	}
	return 0;
}

/*
 * Publish the frontend's hashing to the tx bursts, and steer by it while
 * it selects Toeplitz: turning steering on or off quiesces every queue
 * (xnb_tx_burst() reads txq->steered while entered). port->lock held.
 */
static void
port_steer_update(struct xnb_port *port)
{
	const struct xnb_ctrl *c = &port->ctrl;
	bool on = c->connected && c->hash.alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
	uint16_t i;

	port->steer_gen = c->gen;
	xnb_steer_publish(&port->steer, &c->hash, c->nb_queues);
	if (c->connected && c->gen != port->hash_kept_gen && !port->hash_keep_due) {
		port->hash_keep_due = true;
		rte_eal_alarm_set(XNB_KEEP_HASH_US, port_keep_hash_alarm, port);
	}
	if (on == port->steering)
		return;
	for (i = 0; i < port->nb_queues; i++)
		xnb_queue_quiesce(port->queues[i]);
	for (i = 0; i < port->nb_queues; i++)
		port->queues[i]->tx.steered = on;
	port->steering = on;
	if (port->started)
		for (i = 0; i < port->nb_queues; i++)
			xnb_queue_resume(port->queues[i]);
	XNB_PORT_LOG(INFO, port, "%s", on ?
		"the guest selected Toeplitz hashing: frames to it go to the receive queue its hash maps to, with the hash" :
		"the guest's receive queues are no longer steered by its hash");
}

static void
bus_ctrl_disconnect(void *arg)
{
	struct xnb_port *port = arg;

	rte_eal_alarm_cancel(port_ctrl_alarm, port);
	xnb_ctrl_disconnect(&port->ctrl);
	port_steer_update(port);
}

static void
bus_set_mcast(void *arg, bool on, bool clear)
{
	struct xnb_port *port = arg;

	__atomic_store_n(&port->mcast.enabled, on, __ATOMIC_RELAXED);
	if (clear)
		xnb_mcast_clear(&port->mcast);
}

static void
bus_set_headroom(void *arg, uint16_t headroom)
{
	struct xnb_port *port = arg;
	uint16_t i;

	for (i = 0; i < port->nb_queues; i++)
		__atomic_store_n(&port->queues[i]->tx.headroom, headroom, __ATOMIC_RELAXED);
}

const struct xnb_xenbus_port_ops xnb_port_bus_ops = {
	.ready_queues = bus_ready_queues,
	.queue_connect = bus_queue_connect,
	.queue_disconnect = bus_queue_disconnect,
	.set_rate = bus_set_rate,
	.ctrl_connect = bus_ctrl_connect,
	.ctrl_disconnect = bus_ctrl_disconnect,
	.set_mcast = bus_set_mcast,
	.set_headroom = bus_set_headroom,
};

/*
 * The control ring's requests. port->lock held. A frontend that keeps
 * the ring full gets XNB_CTRL_BUDGET answers per XNB_CTRL_AGAIN_US: the
 * interrupt thread serves every port's watches and rings.
 */
static void
port_ctrl_serve(struct xnb_port *port)
{
	bool more;
	int n;

	n = xnb_ctrl_serve(&port->ctrl, XNB_CTRL_BUDGET, &more);
	if (port->ctrl.gen != port->steer_gen)
		port_steer_update(port);
	if (n == -EPROTO)
		XNB_PORT_LOG(ERR, port, "control ring of dom%u: its indices claim more requests than the ring holds: the frontend is broken or hostile; its control requests go unanswered until it reconnects",
			port->bus.domid);
	if (more)
		rte_eal_alarm_set(XNB_CTRL_AGAIN_US, port_ctrl_alarm, port);
}

/* A hashing change into xenstore for a successor, if one waits. port->lock held. */
static void
port_keep_hash(struct xnb_port *port)
{
	char text[XNB_HASH_TEXT_MAX];

	if (!port->hash_keep_due)
		return;
	port->hash_keep_due = false;
	if (!port->ctrl.connected || port->ctrl.gen == port->hash_kept_gen)
		return;
	xnb_hash_format(&port->ctrl.hash, text, sizeof(text));
	xnb_xenbus_keep_hash(&port->bus, text);
	port->hash_kept_gen = port->ctrl.gen;
}

/*
 * Kept at most every XNB_KEEP_HASH_US: a guest that changes its hashing
 * on every kick must not turn each into a xenstore transaction.
 */
static void
port_keep_hash_alarm(void *arg)
{
	struct xnb_port *port = arg;

	pthread_mutex_lock(&port->lock);
	if (!port->closed)
		port_keep_hash(port);
	pthread_mutex_unlock(&port->lock);
}

/* The frontend kicked the control ring's event channel, or more waited (an alarm). */
static void
port_ctrl_alarm(void *arg)
{
	struct xnb_port *port = arg;

	pthread_mutex_lock(&port->lock);
	if (!port->closed)
		port_ctrl_serve(port);
	pthread_mutex_unlock(&port->lock);
}

/* The control ring's epoll set on the interrupt thread, for the port's life. */
static int
port_ctrl_open(struct xnb_port *port)
{
	struct rte_intr_handle *h;
	int ret;

	ret = xnb_ctrl_open(&port->ctrl);
	if (ret != 0)
		return ret;
	h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (h == NULL)
		return -ENOMEM;
	if (rte_intr_fd_set(h, port->ctrl.epfd) != 0 ||
			rte_intr_type_set(h, RTE_INTR_HANDLE_EXT) != 0)
		ret = -rte_errno;
	else
		ret = rte_intr_callback_register(h, port_ctrl_alarm, port);
	if (ret != 0) {
		rte_intr_instance_free(h);
		return ret;
	}
	port->ctrl_intr = h;
	return 0;
}

/* Without port->lock: waits for a running callback. */
static void
port_ctrl_stop(struct xnb_port *port)
{
	if (port->ctrl_intr == NULL)
		return;
	rte_intr_callback_unregister_sync(port->ctrl_intr, port_ctrl_alarm, port);
	rte_intr_instance_free(port->ctrl_intr);
	port->ctrl_intr = NULL;
	rte_eal_alarm_cancel(port_ctrl_alarm, port);
}

/*
 * Stop the watch interrupt and the fatal alarm, then let XenBus tell the
 * toolstack and the frontend (Closed) and close xenstore.
 */
void
xnb_port_bus_close(struct xnb_port *port)
{
	/* Closed stops port_xs_alarm() re-arming; the cancel waits for a running one. */
	pthread_mutex_lock(&port->lock);
	port->closed = true;
	pthread_mutex_unlock(&port->lock);
	rte_eal_alarm_cancel(port_xs_alarm, port);
	xnb_xs_unwatch_intr(&port->intr, port_watch_cb, port);
	port_ctrl_stop(port);
	rte_eal_alarm_cancel(port_fatal_alarm, port);
	rte_eal_alarm_cancel(port_recheck_alarm, port);
	rte_eal_alarm_cancel(port_keep_hash_alarm, port);
	pthread_mutex_lock(&port->lock);
	/* The successor's configuration, if the last change has not been kept yet. */
	if (port->args.keep_on_close)
		port_keep_hash(port);
	xnb_xenbus_close(&port->bus, port->args.keep_on_close);
	xnb_ctrl_close(&port->ctrl);
	xnb_port_link_sync(port);
	pthread_mutex_unlock(&port->lock);
	/* Nothing left to raise or look again for (closed: none re-arms). */
	rte_eal_alarm_cancel(xnb_port_lsc_alarm, port);
	rte_eal_alarm_cancel(port_recheck_alarm, port);
}

/*
 * Open the XenBus side on a xenstore connection and take its watch fd
 * into the interrupt thread. 0 or -errno, logged.
 */
int
xnb_port_bus_open(struct xnb_port *port)
{
	char why[XNB_XS_PATH_MAX + 128];
	struct xs_handle *xs;
	int ret;

	/* The platform says what went wrong, and what to do. */
	xs = port->ops->xs_open(port->host, why, sizeof(why));
	if (xs == NULL) {
		XNB_PORT_LOG(ERR, port, "cannot connect to xenstore: %s", why);
		return -ENOTCONN;
	}
	ret = port_ctrl_open(port);
	if (ret != 0) {
		XNB_PORT_LOG(ERR, port, "cannot watch a control ring's event channel: %s",
			strerror(-ret));
		xs_close(xs);
		xnb_ctrl_close(&port->ctrl);
		return ret;
	}
	ret = xnb_xenbus_open(&port->bus, xs);
	if (ret != 0) {
		port_ctrl_stop(port);
		xnb_ctrl_close(&port->ctrl);
		return ret;
	}
	ret = xnb_xs_watch_intr(xs, port->name, port_watch_cb, port, &port->intr);
	if (ret != 0) {
		xnb_xenbus_close(&port->bus, true);     /* nothing served yet: touch nothing */
		port_ctrl_stop(port);
		xnb_ctrl_close(&port->ctrl);
		return ret;
	}
	ret = rte_eal_alarm_set(XNB_XS_CHECK_US, port_xs_alarm, port);
	if (ret != 0)
		XNB_PORT_LOG(WARNING, port, "cannot set an EAL alarm (%s): a lost xenstore connection goes unnoticed",
			strerror(-ret));
	return 0;
}

