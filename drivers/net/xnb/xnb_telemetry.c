/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb's own telemetry commands, beside ethdev's (/ethdev/...), for an
 * operator with many guests:
 *   /xnb/vifs[,FIRST]
 *                   every vif this process serves, by port id (from port
 *                   FIRST): the guest, its state, link, queues and
 *                   negotiated features; at most XNB_TEL_VIFS_PER_REPLY
 *                   vifs a reply, and "next": the port to ask from for
 *                   the others
 *   /xnb/vif,PORT   one vif in detail: its xenstore directories, its
 *                   per-queue rings and stalls, its control ring and
 *                   hashing, multicast control
 * Read under each port's lock, as the private dump reads.
 */

#include <assert.h>
#include <errno.h>
#include <stdio.h>

#include <ethdev_driver.h>
#include <rte_telemetry.h>

#include "xnb_compat.h"
#include "xnb_number.h"
#include "xnb_port.h"

/*
 * DPDK's telemetry cuts a reply at 16 KiB without a word (MAX_OUTPUT_LEN
 * in 22.11 and 24.11), and a vif's summary takes up to about 250 bytes:
 * 48 vifs a reply stay well inside it. More ports than that exist in a
 * DPDK built with RTE_MAX_ETHPORTS above 32 (64 vifs: 58 made it into
 * one reply before replies were paged).
 */
#define XNB_TEL_VIFS_PER_REPLY 48

/* The negotiated features, as netif.h names them, space-separated. */
static void
tel_features(const struct xnb_port *port, char *buf, size_t size)
{
	const struct xnb_features *f = &port->bus.feat;

	snprintf(buf, size, "%s%s%s%s%s%s%s%s",
		f->sg ? "sg " : "", f->rx_notify ? "rx-notify " : "",
		f->csum4 ? "csum-ipv4 " : "", f->csum6 ? "csum-ipv6 " : "",
		f->gso4 ? "gso-tcpv4 " : "", f->gso6 ? "gso-tcpv6 " : "",
		port->ctrl.connected ? "ctrl-ring " : "",
		port->bus.mcast_ctrl ? "multicast-control " : "");
}

/* The summary of one port; port->lock held. */
static void
tel_vif_summary(struct xnb_port *port, struct rte_tel_data *v)
{
	const struct xnb_xenbus *bus = &port->bus;
	char feat[160];

	tel_features(port, feat, sizeof(feat));
	rte_tel_data_add_dict_string(v, "name", port->name);
	rte_tel_data_add_dict_int(v, "domid", bus->domid);
	rte_tel_data_add_dict_string(v, "domain", bus->domain);
	rte_tel_data_add_dict_int(v, "handle", bus->handle);
	rte_tel_data_add_dict_string(v, "state", xnb_xenbus_state_str(bus->state));
	rte_tel_data_add_dict_string(v, "link", xnb_port_link_up(port) ? "up" : "down");
	rte_tel_data_add_dict_int(v, "queues_used", bus->connected ? bus->nb_connected : 0);
	rte_tel_data_add_dict_int(v, "queues_offered", port->nb_queues);
	rte_tel_data_add_dict_string(v, "features", feat);
}

static struct xnb_port *
tel_port(uint16_t port_id)
{
	if (!rte_eth_dev_is_valid_port(port_id) || !xnb_is_port(&rte_eth_devices[port_id]))
		return NULL;
	return rte_eth_devices[port_id].data->dev_private;
}

/* A port id parameter: 0 with *pid set, or -EINVAL. */
static int
tel_port_param(const char *params, uint16_t *pid)
{
	unsigned long v;

	if (params == NULL || xnb_parse_dec(params, RTE_MAX_ETHPORTS - 1, false, &v) != 0)
		return -EINVAL;
	*pid = (uint16_t)v;
	return 0;
}

static int
tel_vifs(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *v;
	struct xnb_port *port;
	uint16_t pid, first = 0;
	unsigned int n = 0;
	char key[8];

	RTE_SET_USED(cmd);
	if (params != NULL && *params != '\0' && tel_port_param(params, &first) != 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	RTE_ETH_FOREACH_DEV(pid) {
		port = pid >= first ? tel_port(pid) : NULL;
		if (port == NULL)
			continue;
		if (n++ == XNB_TEL_VIFS_PER_REPLY) {
			rte_tel_data_add_dict_int(d, "next", pid);
			break;
		}
		v = rte_tel_data_alloc();
		if (v == NULL)
			return -ENOMEM;
		rte_tel_data_start_dict(v);
		pthread_mutex_lock(&port->lock);
		tel_vif_summary(port, v);
		pthread_mutex_unlock(&port->lock);
		snprintf(key, sizeof(key), "%u", pid);
		rte_tel_data_add_dict_container(d, key, v, 0);
	}
	return 0;
}

/* One queue's state; port->lock held. */
static struct rte_tel_data *
tel_queue(const struct xnb_queue *q)
{
	struct rte_tel_data *v = rte_tel_data_alloc();

	if (v == NULL)
		return NULL;
	rte_tel_data_start_dict(v);
	rte_tel_data_add_dict_string(v, "connected", q->connected ? "yes" : "no");
	rte_tel_data_add_dict_string(v, "stalled",
		__atomic_load_n(&q->tx.stalled, __ATOMIC_RELAXED) ? "yes" : "no");
	rte_tel_data_add_dict_string(v, "fatal",
		__atomic_load_n(&q->fatal, __ATOMIC_RELAXED) == XNB_FATAL_NONE ? "none" :
		xnb_fatal_str((enum xnb_fatal)q->fatal));
	rte_tel_data_add_dict_uint(v, "rx_packets", q->rx.stats.packets);
	rte_tel_data_add_dict_uint(v, "tx_packets", q->tx.stats.packets);
	rte_tel_data_add_dict_uint(v, "rx_errors", q->rx.stats.errors);
	rte_tel_data_add_dict_uint(v, "tx_errors", q->tx.stats.errors);
	return v;
}

static int
tel_vif(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct xnb_hash *h;
	struct rte_tel_data *v;
	struct xnb_port *port;
	unsigned int i, n;
	char key[16];
	uint16_t pid, q;

	RTE_SET_USED(cmd);
	if (tel_port_param(params, &pid) != 0)
		return -EINVAL;
	port = tel_port(pid);
	if (port == NULL)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&port->lock);
	tel_vif_summary(port, d);
	rte_tel_data_add_dict_string(d, "backend", port->bus.backend);
	rte_tel_data_add_dict_string(d, "frontend", port->bus.frontend);
	h = &port->ctrl.hash;
	rte_tel_data_add_dict_string(d, "ctrl_ring", port->ctrl.connected ?
		(port->ctrl.broken ? "broken" : "connected") : "none");
	rte_tel_data_add_dict_string(d, "hash_algorithm",
		h->alg == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ ? "toeplitz" : "none");
	rte_tel_data_add_dict_int(d, "hash_types", (int)h->types);
	rte_tel_data_add_dict_int(d, "hash_mapping_size", (int)h->size);
	rte_tel_data_add_dict_string(d, "steering", port->steering ? "on" : "off");
	for (i = 0, n = 0; i < XNB_MCAST_MAX; i++)
		n += __atomic_load_n(&port->mcast.addr[i], __ATOMIC_RELAXED) != 0;
	rte_tel_data_add_dict_string(d, "multicast_filter", port->bus.mcast_ctrl ? "on" : "off");
	rte_tel_data_add_dict_int(d, "multicast_addresses", (int)n);
	rte_tel_data_add_dict_uint(d, "rate_bytes", port->bus.rate_bytes);
	rte_tel_data_add_dict_uint(d, "rate_usec", port->bus.rate_usec);
	for (q = 0; q < port->nb_queues; q++) {
		v = tel_queue(port->queues[q]);
		if (v == NULL)
			break;
		snprintf(key, sizeof(key), "queue%u", q);
		rte_tel_data_add_dict_container(d, key, v, 0);
	}
	pthread_mutex_unlock(&port->lock);
	return 0;
}

/*
 * rte_telemetry_register_cmd() refuses a help text of RTE_TEL_MAX_STRING_LEN
 * bytes or more, and the command is then unknown: checked at build time.
 */
#define TEL_VIFS_HELP "Returns up to 48 Xen vifs xnb serves, by port id, and next: the port " \
	"to ask from. Parameters: int first port_id (optional)"
#define TEL_VIF_HELP "Returns one Xen vif's details. Parameters: int port_id"
static_assert(sizeof(TEL_VIFS_HELP) <= RTE_TEL_MAX_STRING_LEN, "help text too long");
static_assert(sizeof(TEL_VIF_HELP) <= RTE_TEL_MAX_STRING_LEN, "help text too long");
static_assert(XNB_TEL_VIFS_PER_REPLY == 48, "TEL_VIFS_HELP says 48");

RTE_INIT(xnb_telemetry_init)
{
	rte_telemetry_register_cmd("/xnb/vifs", tel_vifs, TEL_VIFS_HELP);
	rte_telemetry_register_cmd("/xnb/vif", tel_vif, TEL_VIF_HELP);
}
