/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Discovery: a net_xnb instance with discover=1 creates no ethdev of its
 * own. It watches /local/domain/<self>/backend/<type>/ and hotplugs one
 * port per <domid>/<handle> vif directory the toolstack writes there,
 * named <instance>_<domid>_<handle> (still "net_xnb..." for the vdev bus),
 * with the instance's platform devargs. Ports present when the instance
 * is probed exist when the probe returns; later ones are probed from an
 * EAL alarm, and ethdev announces them with RTE_ETH_EVENT_NEW. When a vif
 * directory goes away its port gets RTE_ETH_EVENT_INTR_RMV, and
 * XNB_DISC_RMV_DELAY_US later it is closed and detached unless the
 * application detached it first, or once the application has stopped it
 * (port_left_started()). Removing the instance stops discovery
 * and detaches the ports it created.
 *
 * Threads: the watch callback runs on the interrupt thread and only
 * schedules the alarm, which also runs there. The alarm probes and
 * removes devices, which takes the vdev bus lock; the instance's removal
 * runs with that lock held (rte_vdev_uninit), so it must never wait for a
 * running alarm. Instead, a running alarm that finds the instance stopped
 * finishes the teardown itself (see disc_remove and disc_alarm).
 *
 * Directory entries are hostile input: only canonical domids 1-32751 (not
 * our own) and handles 0-65535 are taken, at most XNB_DISC_MAX_VIFS.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_string_fns.h>
#include <ethdev_driver.h>
#include <bus_vdev_driver.h>

#include "xnb_logs.h"
#include "xnb_args.h"
#include "xnb_discover.h"
#include "xnb_number.h"
#include "xnb_xenstore.h"

#define XNB_DISC_MAX_VIFS RTE_MAX_ETHPORTS
/* How long an application has to stop polling a port after INTR_RMV. */
#define XNB_DISC_RMV_DELAY_US (1000 * 1000)
/* How often an instance looks whether xenstore is still there, or back. */
#define XNB_DISC_XS_CHECK_US (1000 * 1000)
/*
 * EAL's hotplug request holds devargs of fewer bytes than this
 * (EAL_DEV_MP_DEV_ARGS_MAX_LEN, in a header DPDK does not install).
 */
#define XNB_HOTPLUG_DEVARGS_MAX 128

struct xnb_disc_vif {
	uint16_t domid;
	uint16_t handle;
	bool present;              /* seen in the last scan */
	bool created;              /* our probe of its port succeeded */
	bool removing;             /* INTR_RMV raised, detach due at rmv_at */
	bool said;                 /* its port was left started (logged once) */
	uint64_t rmv_at;           /* timer cycles */
	char port[RTE_ETH_NAME_MAX_LEN];
};

struct xnb_disc {
	TAILQ_ENTRY(xnb_disc) next;
	/* Room for "_<domid>_<handle>" in a port name. */
	char name[RTE_ETH_NAME_MAX_LEN - 12];
	struct xnb_args args;
	const struct xnb_xen_ops *ops;
	struct xnb_host *host;
	struct xs_handle *xs;
	struct rte_intr_handle *intr;
	uint32_t self_domid;
	char dir[XNB_XS_PATH_MAX];
	char token[80];

	/* Guards the fields below, and xs and intr; never held across a device probe/remove. */
	pthread_mutex_t lock;
	bool closing;              /* being removed: xs and intr stay as they are */
	bool stopping;             /* being removed: alarms do nothing more */
	bool in_alarm;             /* an alarm is running its pass */
	bool alarm_owns_teardown;  /* removal left the rest to that alarm */
	bool alarm_pending;
	struct xnb_xs_outage xs_out;
	unsigned int nb_vifs;
	struct xnb_disc_vif vifs[XNB_DISC_MAX_VIFS];
};

static TAILQ_HEAD(, xnb_disc) disc_list = TAILQ_HEAD_INITIALIZER(disc_list);
static pthread_mutex_t disc_list_lock = PTHREAD_MUTEX_INITIALIZER;

static void disc_alarm(void *arg);

/* Schedule a pass; several requests before it runs make one. */
static void
disc_kick(struct xnb_disc *disc, uint64_t us)
{
	pthread_mutex_lock(&disc->lock);
	if (!disc->stopping && !disc->alarm_pending) {
		if (rte_eal_alarm_set(us, disc_alarm, disc) == 0)
			disc->alarm_pending = true;
		else
			XNB_LOG(ERR, "%s: cannot set an EAL alarm: %s", disc->name,
				strerror(rte_errno));
	}
	pthread_mutex_unlock(&disc->lock);
}

static void
disc_watch_cb(void *arg)
{
	struct xnb_disc *disc = arg;
	int ret;

	/* Drain and coalesce (XSA-349); the alarm does the work. */
	ret = xnb_xs_drain_watches(disc->xs);
	if (ret < 0)
		XNB_LOG(ERR, "%s: reading xenstore watch events: %s", disc->name,
			strerror(-ret));
	disc_kick(disc, 1);
}

static struct xnb_disc_vif *
vif_find(struct xnb_disc *disc, unsigned long domid, unsigned long handle)
{
	unsigned int i;

	for (i = 0; i < disc->nb_vifs; i++)
		if (disc->vifs[i].domid == domid && disc->vifs[i].handle == handle)
			return &disc->vifs[i];
	return NULL;
}

/* Mark every <domid>/<handle> under the type directory present; add new ones. */
static void
scan_dir(struct xnb_disc *disc)
{
	char sub[XNB_XS_PATH_MAX + 16];
	unsigned int i, j, n = 0, m;
	unsigned long domid, handle;
	struct xnb_disc_vif *v;
	char **doms, **vifs;
	bool full = false;

	for (i = 0; i < disc->nb_vifs; i++)
		disc->vifs[i].present = false;
	doms = xs_directory(disc->xs, XBT_NULL, disc->dir, &n);
	if (doms == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (xnb_parse_domid(doms[i], &domid) != 0 || domid == disc->self_domid) {
			XNB_LOG(DEBUG, "%s: %s/%.32s is not a guest domain id: ignored",
				disc->name, disc->dir, doms[i]);
			continue;
		}
		snprintf(sub, sizeof(sub), "%s/%lu", disc->dir, domid);
		m = 0;
		vifs = xs_directory(disc->xs, XBT_NULL, sub, &m);
		if (vifs == NULL)
			continue;
		for (j = 0; j < m; j++) {
			if (xnb_parse_dec(vifs[j], UINT16_MAX, true, &handle) != 0) {
				XNB_LOG(DEBUG, "%s: %s/%.32s is not a vif handle: ignored",
					disc->name, sub, vifs[j]);
				continue;
			}
			v = vif_find(disc, domid, handle);
			if (v == NULL) {
				if (disc->nb_vifs == XNB_DISC_MAX_VIFS) {
					full = true;
					continue;
				}
				v = &disc->vifs[disc->nb_vifs++];
				memset(v, 0, sizeof(*v));
				v->domid = domid;
				v->handle = handle;
				snprintf(v->port, sizeof(v->port), "%s_%u_%u",
					disc->name, v->domid, v->handle);
			}
			v->present = true;
		}
		free(vifs);
	}
	free(doms);
	if (full)
		XNB_LOG(WARNING, "%s: more than %u vifs under %s: the rest are not served",
			disc->name, XNB_DISC_MAX_VIFS, disc->dir);
}

/*
 * The scan, if xenstored answered it: a lost connection reads like an
 * empty directory, which must not take every port away from its guest.
 * false, with nothing marked, when xenstore is gone.
 */
static bool
scan(struct xnb_disc *disc)
{
	unsigned int i, nb = disc->nb_vifs;
	bool was[XNB_DISC_MAX_VIFS];

	for (i = 0; i < nb; i++)
		was[i] = disc->vifs[i].present;
	scan_dir(disc);
	if (xnb_xs_alive(disc->xs))
		return true;
	for (i = 0; i < nb; i++)
		disc->vifs[i].present = was[i];
	xnb_xs_outage_begin(&disc->xs_out, disc->name,
		"its ports keep serving their guests; new vifs are found once it is back");
	return false;
}

/*
 * xenstore is gone: connect again and watch the type directory again.
 * The lock is held, on the interrupt thread (disc_watch_cb() is not
 * running). true when connected.
 */
static bool
disc_reconnect(struct xnb_disc *disc)
{
	char why[XNB_XS_PATH_MAX + 128];
	struct xs_handle *xs;

	if (disc->closing)
		return false;
	disc->xs_out.tries++;
	xs = disc->ops->xs_open(disc->host, why, sizeof(why));
	if (xs == NULL)
		return false;
	if (!xs_watch(xs, disc->dir, disc->token)) {
		XNB_LOG(ERR, "%s: cannot watch %s: %s", disc->name, disc->dir, strerror(errno));
		xs_close(xs);
		return false;
	}
	xnb_xs_unwatch_intr(&disc->intr, disc_watch_cb, disc);
	xs_close(disc->xs);
	disc->xs = xs;
	/* Without it the check below still finds every event, a second late. */
	xnb_xs_watch_intr(xs, disc->name, disc_watch_cb, disc, &disc->intr);
	xnb_xs_outage_end(&disc->xs_out, disc->name);
	return true;
}

/*
 * Every second, on the interrupt thread: a lost xenstore connection
 * sends no watch event. Events taken, the connection found gone, or
 * lost already: a pass (which connects again first).
 */
static void
disc_xs_alarm(void *arg)
{
	struct xnb_disc *disc = arg;
	bool pass;

	pthread_mutex_lock(&disc->lock);
	if (disc->closing) {
		pthread_mutex_unlock(&disc->lock);
		return;
	}
	pass = disc->xs_out.lost || xnb_xs_drain_watches(disc->xs) != 0;
	rte_eal_alarm_set(XNB_DISC_XS_CHECK_US, disc_xs_alarm, disc);
	pthread_mutex_unlock(&disc->lock);
	if (pass)
		disc_kick(disc, 1);
}

static int
port_of(const char *name, uint16_t *port_id)
{
	return rte_eth_dev_get_port_by_name(name, port_id);
}

/* Hotplug the port of a vif. Called without disc->lock. */
/*
 * Append ",key=value" to devargs of size bytes, *len used so far; *len
 * goes past size when it does not fit.
 */
static void __rte_format_printf(4, 5)
devargs_add(char *devargs, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = *len < size ? vsnprintf(devargs + *len, size - *len, fmt, ap) : 0;
	va_end(ap);
	*len = n < 0 ? size : *len + (size_t)n;
}

static void
vif_probe(struct xnb_disc *disc, struct xnb_disc_vif *v, char *devargs, size_t size)
{
	const struct xnb_args *a = &disc->args;
	char offloads[32];
	uint16_t port_id;
	size_t len = 0;
	int ret;

	/*
	 * The instance's keys that differ from their defaults
	 * (xnb_args_parse()), not every key: EAL's hotplug request carries
	 * at most XNB_HOTPLUG_DEVARGS_MAX bytes, and DPDK 24.11 refuses
	 * longer devargs (E2BIG) where 22.11 cut them silently.
	 */
	devargs_add(devargs, size, &len, "%s,%s=%u,%s=%u", v->port,
		XNB_ARG_DOMID, v->domid, XNB_ARG_HANDLE, v->handle);
	if (strcmp(a->type, XNB_DEFAULT_TYPE) != 0)
		devargs_add(devargs, size, &len, ",%s=%s", XNB_ARG_TYPE, a->type);
	if (strcmp(a->platform->name, "xen") != 0)
		devargs_add(devargs, size, &len, ",%s=%s", XNB_ARG_PLATFORM,
			a->platform->name);
	if (strcmp(a->sim_dir, XNB_DEFAULT_SIM_DIR) != 0)
		devargs_add(devargs, size, &len, ",%s=%s", XNB_ARG_SIM_DIR, a->sim_dir);
	if (a->offloads != XNB_OFFLOAD_ALL) {
		xnb_offloads_str(a->offloads, offloads, sizeof(offloads));
		devargs_add(devargs, size, &len, ",%s=%s", XNB_ARG_OFFLOADS, offloads);
	}
	if (!a->keep_on_close)
		devargs_add(devargs, size, &len, ",%s=disconnect", XNB_ARG_ON_CLOSE);
	if (a->hotplug != XNB_HOTPLUG_AUTO)
		devargs_add(devargs, size, &len, ",%s=%s", XNB_ARG_HOTPLUG,
			xnb_hotplug_str(a->hotplug));
	if (a->drain_ms != XNB_DEFAULT_DRAIN_MS)
		devargs_add(devargs, size, &len, ",%s=%u", XNB_ARG_DRAIN_TIMEOUT,
			a->drain_ms);
	if (a->stall_ms != XNB_DEFAULT_STALL_MS)
		devargs_add(devargs, size, &len, ",%s=%u", XNB_ARG_STALL_TIMEOUT,
			a->stall_ms);
	if (len >= size || len >= XNB_HOTPLUG_DEVARGS_MAX ||
			strlen(v->port) >= RTE_ETH_NAME_MAX_LEN - 1) {
		XNB_LOG(ERR, "%s: the port name or devargs for dom%u vif%u are too long (EAL takes devargs of at most %d bytes); use a shorter instance name or %s",
			disc->name, v->domid, v->handle, XNB_HOTPLUG_DEVARGS_MAX - 1,
			XNB_ARG_SIM_DIR);
		return;
	}
	if (port_of(v->port, &port_id) == 0) {
		XNB_LOG(ERR, "%s: a port named %s exists already: dom%u vif%u is left to it",
			disc->name, v->port, v->domid, v->handle);
		return;
	}
	/* A device left by an earlier port of that name (closed, not detached). */
	rte_vdev_uninit(v->port);
	ret = rte_dev_probe(devargs);
	if (ret != 0) {
		XNB_LOG(ERR, "%s: cannot create port %s for dom%u vif%u: %s; it is retried when the vif is created again",
			disc->name, v->port, v->domid, v->handle, strerror(-ret));
		return;
	}
	v->created = true;
	XNB_LOG(INFO, "%s: dom%u vif%u appeared: port %s", disc->name, v->domid,
		v->handle, v->port);
}

/*
 * Detach a port if it is still there: the application may have detached
 * it already, or only closed it (then its vdev device is left).
 */
static void
port_detach(const char *name)
{
	uint16_t port_id;
	int ret;

	if (port_of(name, &port_id) != 0) {
		rte_vdev_uninit(name);
		return;
	}
	ret = rte_dev_remove(rte_eth_devices[port_id].device);
	if (ret != 0)
		XNB_LOG(ERR, "cannot detach %s: %s", name, strerror(-ret));
	else
		XNB_LOG(NOTICE, "%s detached", name);
}

/*
 * The delay after INTR_RMV ran out: is the port still started? Then it
 * is not detached yet (looked at again a delay later): applications that
 * do not handle INTR_RMV (Open vSwitch 3.1 among them) would go on
 * polling a detached port. One left started serves its vif again if the
 * toolstack creates it again first, and goes when the application stops
 * or detaches it (vif-xnb offline: ovs-vsctl del-port).
 */
static bool
port_left_started(struct xnb_disc *disc, struct xnb_disc_vif *v)
{
	uint16_t port_id;

	if (port_of(v->port, &port_id) != 0 || !rte_eth_devices[port_id].data->dev_started)
		return false;
	if (!v->said)
		XNB_LOG(NOTICE, "%s: port %s is still started: it is detached once the application stops it (RTE_ETH_EVENT_INTR_RMV), and serves dom%u vif%u again if the toolstack creates it again first",
			disc->name, v->port, v->domid, v->handle);
	v->said = true;
	return true;
}

/*
 * One pass: rescan, raise INTR_RMV for vanished vifs and detach those
 * whose delay ran out, probe new ones. Ports are probed and removed with
 * the lock dropped (the vdev bus lock is taken inside).
 */
static void
disc_pass(struct xnb_disc *disc)
{
	char devargs[PATH_MAX + 256];
	uint64_t now, next = 0, hz = rte_get_timer_hz();
	struct xnb_disc_vif v;
	uint16_t port_id;
	unsigned int i;

	pthread_mutex_lock(&disc->lock);
	if ((disc->xs_out.lost && !disc_reconnect(disc)) || !scan(disc)) {
		pthread_mutex_unlock(&disc->lock);
		return;
	}
	now = rte_get_timer_cycles();
	for (i = 0; i < disc->nb_vifs && !disc->stopping; i++) {
		struct xnb_disc_vif *e = &disc->vifs[i];

		if (e->present && !e->removing)
			continue;
		if (e->present && e->created && port_of(e->port, &port_id) == 0 &&
				rte_eth_devices[port_id].data->dev_started) {
			/* Back while its port was left started (port_left_started()): it serves it. */
			e->removing = false;
			e->said = false;
			continue;
		}
		if (!e->created || port_of(e->port, &port_id) != 0) {
			if (!e->present) {
				/* Gone and no port (failed, or detached by the app). */
				disc->vifs[i--] = disc->vifs[--disc->nb_vifs];
			}
			continue;
		}
		if (!e->removing) {
			e->removing = true;
			e->rmv_at = now + hz * XNB_DISC_RMV_DELAY_US / US_PER_S;
			XNB_LOG(INFO, "%s: dom%u vif%u is gone: port %s is removed",
				disc->name, e->domid, e->handle, e->port);
			pthread_mutex_unlock(&disc->lock);
			rte_eth_dev_callback_process(&rte_eth_devices[port_id],
				RTE_ETH_EVENT_INTR_RMV, NULL);
			pthread_mutex_lock(&disc->lock);
		}
		if (now < e->rmv_at) {
			if (next == 0 || e->rmv_at < next)
				next = e->rmv_at;
			continue;
		}
		if (port_left_started(disc, e)) {
			/* Look again in a while. */
			e->rmv_at = now + hz * XNB_DISC_RMV_DELAY_US / US_PER_S;
			if (next == 0 || e->rmv_at < next)
				next = e->rmv_at;
			continue;
		}
		v = *e;
		disc->vifs[i--] = disc->vifs[--disc->nb_vifs];
		pthread_mutex_unlock(&disc->lock);
		port_detach(v.port);
		pthread_mutex_lock(&disc->lock);
	}
	/* The vif table may change while unlocked: probe by copy, then mark. */
	for (i = 0; i < disc->nb_vifs && !disc->stopping; i++) {
		if (!disc->vifs[i].present || disc->vifs[i].created || disc->vifs[i].removing)
			continue;
		/* Tried once; a failure is not retried until the vif comes back. */
		disc->vifs[i].created = true;
		v = disc->vifs[i];
		v.created = false;
		pthread_mutex_unlock(&disc->lock);
		vif_probe(disc, &v, devargs, sizeof(devargs));
		pthread_mutex_lock(&disc->lock);
	}
	pthread_mutex_unlock(&disc->lock);
	if (next != 0) {
		now = rte_get_timer_cycles();
		disc_kick(disc, next > now ? (next - now) * US_PER_S / hz + 1 : 1);
	}
}

static void
disc_free(struct xnb_disc *disc)
{
	if (disc->xs != NULL)
		xs_close(disc->xs);
	if (disc->host != NULL)
		disc->ops->host_close(disc->host);
	pthread_mutex_destroy(&disc->lock);
	free(disc);
}

/*
 * Stop, close and release every port the instance created; its lock is
 * not held. The ports' vdev devices are not freed here: this also runs
 * from the bus's cleanup at rte_eal_cleanup(), which walks the device
 * list and would step on a freed neighbour. A closed port's device is
 * freed when a port of its name is created again, or at EAL cleanup.
 */
static void
disc_detach_all(struct xnb_disc *disc)
{
	uint16_t port_id;
	unsigned int i;

	for (i = 0; i < disc->nb_vifs; i++) {
		if (!disc->vifs[i].created || port_of(disc->vifs[i].port, &port_id) != 0)
			continue;
		rte_eth_dev_stop(port_id);
		if (rte_eth_dev_close(port_id) != 0)
			XNB_LOG(ERR, "%s: cannot close %s", disc->name, disc->vifs[i].port);
		else
			XNB_LOG(INFO, "%s: %s closed", disc->name, disc->vifs[i].port);
	}
	disc->nb_vifs = 0;
}

static void
disc_alarm(void *arg)
{
	struct xnb_disc *disc = arg;
	bool teardown;

	pthread_mutex_lock(&disc->lock);
	disc->alarm_pending = false;
	if (disc->stopping) {
		pthread_mutex_unlock(&disc->lock);
		return;
	}
	disc->in_alarm = true;
	pthread_mutex_unlock(&disc->lock);

	disc_pass(disc);

	pthread_mutex_lock(&disc->lock);
	disc->in_alarm = false;
	teardown = disc->alarm_owns_teardown;
	pthread_mutex_unlock(&disc->lock);
	if (teardown) {
		/* The instance was removed while this pass ran. */
		disc_detach_all(disc);
		disc_free(disc);
	}
}

int
xnb_discover_probe(struct rte_vdev_device *vdev, const struct xnb_devargs *d)
{
	const char *name = rte_vdev_device_name(vdev);
	char why[XNB_XS_PATH_MAX + 128];
	struct xnb_host_params params;
	struct xnb_disc *disc;
	int ret;

	disc = calloc(1, sizeof(*disc));
	if (disc == NULL)
		return -ENOMEM;
	if (strlen(name) >= sizeof(disc->name)) {
		XNB_LOG(ERR, "%s: a discovery instance's name must be shorter than %zu characters (its ports add _<domid>_<handle>)",
			name, sizeof(disc->name));
		free(disc);
		return -ENAMETOOLONG;
	}
	rte_strscpy(disc->name, name, sizeof(disc->name));
	disc->args = d->a;
	disc->ops = d->a.platform;
	pthread_mutex_init(&disc->lock, NULL);

	/* Only the host: xenstore. The platform logs what went wrong. */
	params.sim_dir = disc->args.sim_dir;
	ret = disc->ops->host_open(&disc->host, &params);
	if (ret != 0) {
		disc->host = NULL;
		goto fail;
	}
	disc->xs = disc->ops->xs_open(disc->host, why, sizeof(why));
	if (disc->xs == NULL) {
		XNB_LOG(ERR, "%s: cannot connect to xenstore: %s", name, why);
		ret = -ENOTCONN;
		goto fail;
	}
	disc->self_domid = xnb_xs_self_domid(disc->xs);
	snprintf(disc->dir, sizeof(disc->dir), "/local/domain/%u/backend/%s",
		disc->self_domid, disc->args.type);
	snprintf(disc->token, sizeof(disc->token), "xnb-%s", name);

	/* The vifs there now get their ports before the probe returns. */
	disc_pass(disc);

	if (!xs_watch(disc->xs, disc->dir, disc->token)) {
		ret = -errno;
		XNB_LOG(ERR, "%s: cannot watch %s: %s", name, disc->dir, strerror(errno));
		goto fail_ports;
	}
	ret = xnb_xs_watch_intr(disc->xs, name, disc_watch_cb, disc, &disc->intr);
	if (ret != 0) {
		xs_unwatch(disc->xs, disc->dir, disc->token);
		goto fail_ports;
	}
	if (rte_eal_alarm_set(XNB_DISC_XS_CHECK_US, disc_xs_alarm, disc) != 0)
		XNB_LOG(WARNING, "%s: cannot set an EAL alarm: a lost xenstore connection goes unnoticed",
			name);
	pthread_mutex_lock(&disc_list_lock);
	TAILQ_INSERT_TAIL(&disc_list, disc, next);
	pthread_mutex_unlock(&disc_list_lock);
	XNB_LOG(INFO, "%s: discovering vifs under %s (platform %s), %u now", name,
		disc->dir, disc->ops->name, disc->nb_vifs);
	return 0;

fail_ports:
	disc_detach_all(disc);
fail:
	disc_free(disc);
	return ret;
}

int
xnb_discover_remove(const char *name)
{
	struct xnb_disc *disc;
	bool busy;

	pthread_mutex_lock(&disc_list_lock);
	TAILQ_FOREACH(disc, &disc_list, next)
		if (strcmp(disc->name, name) == 0)
			break;
	if (disc != NULL)
		TAILQ_REMOVE(&disc_list, disc, next);
	pthread_mutex_unlock(&disc_list_lock);
	if (disc == NULL)
		return -ENOENT;

	/* No more reconnects (they replace xs and intr), nor checks for them. */
	pthread_mutex_lock(&disc->lock);
	disc->closing = true;
	pthread_mutex_unlock(&disc->lock);
	rte_eal_alarm_cancel(disc_xs_alarm, disc);
	/* No more watch events: the callback only schedules, so this ends. */
	xnb_xs_unwatch_intr(&disc->intr, disc_watch_cb, disc);
	xs_unwatch(disc->xs, disc->dir, disc->token);

	pthread_mutex_lock(&disc->lock);
	disc->stopping = true;
	busy = disc->in_alarm;
	disc->alarm_owns_teardown = busy;
	pthread_mutex_unlock(&disc->lock);
	XNB_LOG(INFO, "%s: discovery stopped", name);
	if (busy) {
		/*
		 * A pass is running on the interrupt thread and may be waiting
		 * for the vdev bus lock our caller holds: it finishes the
		 * teardown (detaches the ports, frees the instance) itself.
		 */
		return 0;
	}
	/* Alarms not yet run see stopping and return at once. */
	rte_eal_alarm_cancel(disc_alarm, disc);
	disc_detach_all(disc);
	disc_free(disc);
	return 0;
}
