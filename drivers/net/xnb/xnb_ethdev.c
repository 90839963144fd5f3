/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * net_xnb: probe/remove, registration, eth_dev_ops, queue setup, stats
 * and xstats. One port serves one Xen vif; the XenBus side is in
 * xnb_xenbus.c, the datapath in xnb_rx.c and xnb_tx.c, a secondary
 * process's view of a port in xnb_secondary.c.
 *
 * The port's control path (its lock, link, LSC, the XenBus glue) is in
 * xnb_port.c; the ops here take its lock and call in.
 */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <bus_vdev_driver.h>

#include "xnb_logs.h"
#include "xnb_args.h"
#include "xnb_discover.h"
#include "xnb_port.h"
#include "xnb_secondary.h"

RTE_LOG_REGISTER_DEFAULT(xnb_logtype, NOTICE);

/* The first mbuf of a packet holds at least this much (XSA-423). */
#define XNB_MIN_RX_DATA 128

static void
queues_allow(struct xnb_port *port)
{
	uint16_t i;

	for (i = 0; i < port->nb_queues; i++)
		xnb_queue_resume(port->queues[i]);
}

/*
 * The MTU holds both ways: a guest frame longer than MTU plus Ethernet
 * header and one VLAN tag is answered NETIF_RSP_DROPPED, an mbuf longer
 * than that is dropped on tx (oerrors); GSO and TSO super-frames are
 * checked by their segment size instead (the guest's MSS follows its
 * MTU, the application's tso_segsz ours). The bursts read max_frame
 * without a lock: a burst racing a change sees the old or the new limit.
 */
static void
xnb_mtu_apply(struct xnb_port *port, uint16_t mtu)
{
	uint16_t i;

	port->mtu = mtu;
	for (i = 0; i < port->nb_queues; i++) {
		port->queues[i]->rx.max_frame = (uint32_t)mtu + XNB_FRAME_OVERHEAD;
		port->queues[i]->tx.max_frame = (uint32_t)mtu + XNB_FRAME_OVERHEAD;
	}
}

static int
xnb_dev_configure(struct rte_eth_dev *dev)
{
	struct xnb_port *port = dev->data->dev_private;
	uint16_t nb_rx = dev->data->nb_rx_queues, nb_tx = dev->data->nb_tx_queues;

	/* A Xen queue is a pair of rings: rx and tx queues come in pairs. */
	if (nb_rx != nb_tx || nb_rx > port->nb_queues) {
		XNB_PORT_LOG(ERR, port,
			"%u rx and %u tx queues requested: xnb needs equal numbers, at most queues=%u",
			nb_rx, nb_tx, port->nb_queues);
		return -EINVAL;
	}
	pthread_mutex_lock(&port->lock);
	port->nb_app_queues = nb_rx;
	/* rte_eth_dev_configure() set the MTU without calling mtu_set. */
	xnb_mtu_apply(port, dev->data->mtu);
	pthread_mutex_unlock(&port->lock);
	return 0;
}

int
xnb_dev_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct xnb_port *port = dev->data->dev_private;

	info->driver_name = RTE_STR(XNB_DRIVER_NAME);
	info->max_mac_addrs = 1;
	info->max_rx_queues = port->nb_queues;
	info->max_tx_queues = port->nb_queues;
	info->max_rx_pktlen = XNB_MAX_FRAME;
	info->min_rx_bufsize = XNB_MIN_RX_DATA;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = XNB_MAX_FRAME - XNB_FRAME_OVERHEAD;
	/*
	 * Guest frames span several mbufs when they exceed one; a guest's
	 * blank checksums may stay blank (L4_CKSUM_NONE) and its GSO
	 * super-frames whole (LRO). Towards the guest, checksums and TSO go
	 * as netif flags and GSO slots, or are done in software for a guest
	 * that does not take them (doc/offloads.md).
	 */
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER | RTE_ETH_RX_OFFLOAD_IPV4_CKSUM |
		RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
		RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_RSS_HASH;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
		RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
		RTE_ETH_TX_OFFLOAD_TCP_TSO;
	info->max_lro_pkt_size = XNB_MAX_FRAME;
	info->speed_capa = RTE_ETH_LINK_SPEED_10G;
	/* The netif rings have a fixed size; descriptor counts are ignored. */
	info->default_rxportconf.ring_size = XNB_TX_RING_SIZE;
	info->default_txportconf.ring_size = XNB_RX_RING_SIZE;
	info->default_rxportconf.nb_queues = 1;
	info->default_txportconf.nb_queues = 1;
	info->default_rxportconf.burst_size = 32;
	info->default_txportconf.burst_size = 32;
	return 0;
}

/*
 * Rx interrupts (intr_conf.rxq): each rx queue's fd (xnb_intr.c) becomes
 * an efd of the port's interrupt handle, for rte_eth_dev_rx_intr_ctl_q().
 * The fds live as long as the port, across stops and reconnects, since
 * the application adds them to its epoll set once. port->lock held.
 */
static int
xnb_rx_intr_install(struct rte_eth_dev *dev)
{
	struct xnb_port *port = dev->data->dev_private;
	uint16_t i, n = dev->data->nb_rx_queues;
	int ret;

	if (!dev->data->dev_conf.intr_conf.rxq)
		return 0;
	if (port->rx_intr == NULL) {
		port->rx_intr = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
		if (port->rx_intr == NULL ||
				rte_intr_type_set(port->rx_intr, RTE_INTR_HANDLE_EXT) != 0)
			goto fail_errno;
	}
	rte_intr_vec_list_free(port->rx_intr);
	if (rte_intr_vec_list_alloc(port->rx_intr, NULL, n) != 0)
		goto fail_errno;
	for (i = 0; i < n; i++) {
		ret = xnb_intr_open(port->queues[i]);
		if (ret != 0) {
			XNB_PORT_LOG(ERR, port, "rx queue %u: cannot make its interrupt fd: %s",
				i, strerror(-ret));
			return ret;
		}
		if (rte_intr_vec_list_index_set(port->rx_intr, i, RTE_INTR_VEC_RXTX_OFFSET + i) != 0 ||
				rte_intr_efds_index_set(port->rx_intr, i, port->queues[i]->intr_fd) != 0)
			goto fail_errno;
	}
	if (rte_intr_nb_efd_set(port->rx_intr, n) != 0 ||
			rte_intr_max_intr_set(port->rx_intr, n + 1) != 0)
		goto fail_errno;
	dev->intr_handle = port->rx_intr;
	return 0;

fail_errno:
	XNB_PORT_LOG(ERR, port, "cannot set up rx interrupts: %s", rte_strerror(rte_errno));
	return -rte_errno;
}

static void
xnb_rx_intr_free(struct rte_eth_dev *dev)
{
	struct xnb_port *port = dev->data->dev_private;
	uint16_t i;

	for (i = 0; i < port->nb_queues; i++)
		if (port->queues[i] != NULL)
			xnb_intr_close(port->queues[i]);
	if (port->rx_intr == NULL)
		return;
	rte_intr_vec_list_free(port->rx_intr);
	rte_intr_instance_free(port->rx_intr);
	port->rx_intr = NULL;
	dev->intr_handle = NULL;
}

static int
xnb_rx_intr_enable(struct rte_eth_dev *dev, uint16_t qid)
{
	struct xnb_port *port = dev->data->dev_private;

	return xnb_intr_enable(port->queues[qid]);
}

static int
xnb_rx_intr_disable(struct rte_eth_dev *dev, uint16_t qid)
{
	struct xnb_port *port = dev->data->dev_private;

	return xnb_intr_disable(port->queues[qid]);
}

static int
xnb_dev_start(struct rte_eth_dev *dev)
{
	struct xnb_port *port = dev->data->dev_private;
	uint16_t i;
	bool lsc;
	int ret;

	pthread_mutex_lock(&port->lock);
	ret = xnb_rx_intr_install(dev);
	if (ret != 0) {
		pthread_mutex_unlock(&port->lock);
		return ret;
	}
	port->started = true;
	queues_allow(port);
	lsc = xnb_port_bus_update(port);
	pthread_mutex_unlock(&port->lock);
	xnb_port_lsc_after_op(port, lsc);
	for (i = 0; i < dev->data->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	return 0;
}

static int
xnb_dev_stop(struct rte_eth_dev *dev)
{
	struct xnb_port *port = dev->data->dev_private;
	uint16_t i;
	bool lsc;

	pthread_mutex_lock(&port->lock);
	port->started = false;
	/* The vif stays connected to the guest; only the datapath stops. */
	for (i = 0; i < port->nb_queues; i++)
		if (port->queues[i]->connected)
			xnb_queue_quiesce(port->queues[i]);
	lsc = xnb_port_link_sync(port);
	pthread_mutex_unlock(&port->lock);
	xnb_port_lsc_after_op(port, lsc);
	for (i = 0; i < dev->data->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

static void
xnb_port_free(struct xnb_port *port)
{
	uint16_t i;

	for (i = 0; i < port->nb_queues; i++) {
		if (port->queues[i] != NULL)
			xnb_rx_release(&port->queues[i]->rx);
		rte_free(port->queues[i]);
		port->queues[i] = NULL;
	}
	if (port->xen != NULL) {
		port->ops->guest_close(port->xen);
		port->xen = NULL;
	}
	if (port->host != NULL) {
		port->ops->host_close(port->host);
		port->host = NULL;
	}
	pthread_mutex_destroy(&port->lock);
}

static int
xnb_dev_close(struct rte_eth_dev *dev)
{
	struct xnb_port *port = dev->data->dev_private;

	/* Only the primary's ops close (a secondary's: xnb_secondary.c). */
	if (port->closed)
		return 0;
	if (port->started)
		xnb_dev_stop(dev);
	xnb_port_bus_close(port);
	xnb_rx_intr_free(dev);
	xnb_port_free(port);
	XNB_LOG(INFO, "%s closed", port->name);
	return 0;
}

static int
xnb_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		unsigned int socket_id, const struct rte_eth_rxconf *conf,
		struct rte_mempool *mp)
{
	struct xnb_port *port = dev->data->dev_private;
	uint16_t room = rte_pktmbuf_data_room_size(mp);
	struct xnb_rxq *rxq;
	uint64_t offloads;
	bool lsc;

	RTE_SET_USED(nb_desc);
	RTE_SET_USED(socket_id);
	if (room < RTE_PKTMBUF_HEADROOM + XNB_MIN_RX_DATA) {
		XNB_PORT_LOG(ERR, port,
			"mbuf pool %s has %u B of data room: xnb needs at least %u (headroom %u + %u) so the first segment holds the headers",
			mp->name, room, RTE_PKTMBUF_HEADROOM + XNB_MIN_RX_DATA,
			RTE_PKTMBUF_HEADROOM, XNB_MIN_RX_DATA);
		return -EINVAL;
	}
	pthread_mutex_lock(&port->lock);
	rxq = &port->queues[qid]->rx;
	rxq->port_id = dev->data->port_id;
	rxq->mb_pool = mp;
	offloads = dev->data->dev_conf.rxmode.offloads | conf->offloads;
	rxq->scatter = (offloads & RTE_ETH_RX_OFFLOAD_SCATTER) != 0;
	rxq->csum_tcp = (offloads & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0;
	rxq->csum_udp = (offloads & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) != 0;
	rxq->lro = (offloads & RTE_ETH_RX_OFFLOAD_TCP_LRO) != 0;
	rxq->csum_ip = (offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
	rxq->rss_hash = (offloads & RTE_ETH_RX_OFFLOAD_RSS_HASH) != 0;
	dev->data->rx_queues[qid] = rxq;
	/* The frontend may have been waiting for us. */
	lsc = xnb_port_bus_update(port);
	pthread_mutex_unlock(&port->lock);
	xnb_port_lsc_after_op(port, lsc);
	return 0;
}

static int
xnb_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		unsigned int socket_id, const struct rte_eth_txconf *conf)
{
	struct xnb_port *port = dev->data->dev_private;
	struct xnb_txq *txq = &port->queues[qid]->tx;

	RTE_SET_USED(nb_desc);
	RTE_SET_USED(socket_id);
	RTE_SET_USED(conf);
	dev->data->tx_queues[qid] = txq;
	return 0;
}

static void
xnb_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	/* Queues belong to the port and live until it is closed. */
	RTE_SET_USED(dev);
	RTE_SET_USED(qid);
}

/* The ring is the protocol's: 256 slots, whatever the application asked. */
void
xnb_rxq_info_get(struct rte_eth_dev *dev, uint16_t qid, struct rte_eth_rxq_info *info)
{
	struct xnb_port *port = dev->data->dev_private;
	const struct xnb_rxq *rxq = &port->queues[qid]->rx;

	info->mp = rxq->mb_pool;
	info->scattered_rx = rxq->scatter;
	info->nb_desc = XNB_TX_RING_SIZE;
	info->rx_buf_size = rxq->mb_pool != NULL ?
		rte_pktmbuf_data_room_size(rxq->mb_pool) - RTE_PKTMBUF_HEADROOM : 0;
	info->conf.offloads = (rxq->scatter ? RTE_ETH_RX_OFFLOAD_SCATTER : 0) |
		(rxq->csum_tcp ? RTE_ETH_RX_OFFLOAD_TCP_CKSUM : 0) |
		(rxq->csum_udp ? RTE_ETH_RX_OFFLOAD_UDP_CKSUM : 0) |
		(rxq->lro ? RTE_ETH_RX_OFFLOAD_TCP_LRO : 0) |
		(rxq->csum_ip ? RTE_ETH_RX_OFFLOAD_IPV4_CKSUM : 0) |
		(rxq->rss_hash ? RTE_ETH_RX_OFFLOAD_RSS_HASH : 0);
}

void
xnb_txq_info_get(struct rte_eth_dev *dev, uint16_t qid, struct rte_eth_txq_info *info)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(qid);
	info->nb_desc = XNB_RX_RING_SIZE;
}

static int
xnb_link_update(struct rte_eth_dev *dev, int wait_to_complete)
{
	struct xnb_port *port = dev->data->dev_private;
	struct rte_eth_link link = xnb_port_link_down;

	RTE_SET_USED(wait_to_complete);
	link.link_status = xnb_port_link_up(port) ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	return rte_eth_linkstatus_set(dev, &link);
}

/*
 * The counters, the port and its queues are in DPDK's shared memory
 * (rte_malloc): these callbacks serve secondary processes too
 * (xnb_secondary.c). A queue pointer is NULL only while the primary
 * closes the port, which a secondary may be reading meanwhile.
 */
int
xnb_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *stats)
{
	struct xnb_port *port = dev->data->dev_private;
	uint16_t i;

	for (i = 0; i < port->nb_queues; i++) {
		const struct xnb_queue *q = port->queues[i];
		const struct xnb_rx_stats *rx;
		const struct xnb_tx_stats *tx;

		if (q == NULL)
			continue;
		rx = &q->rx.stats;
		tx = &q->tx.stats;
		stats->ipackets += rx->packets;
		stats->ibytes += rx->bytes;
		stats->ierrors += rx->errors;
		stats->rx_nombuf += rx->nombuf;
		stats->opackets += tx->packets;
		stats->obytes += tx->bytes;
		stats->oerrors += tx->errors;
		if (i < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			stats->q_ipackets[i] = rx->packets;
			stats->q_ibytes[i] = rx->bytes;
			stats->q_errors[i] = rx->errors;
			stats->q_opackets[i] = tx->packets;
			stats->q_obytes[i] = tx->bytes;
		}
	}
	return 0;
}

int
xnb_stats_reset(struct rte_eth_dev *dev)
{
	struct xnb_port *port = dev->data->dev_private;
	struct xnb_queue *q;
	uint16_t i;

	for (i = 0; i < port->nb_queues; i++) {
		q = port->queues[i];
		if (q == NULL)
			continue;
		memset(&q->rx.stats, 0, sizeof(q->rx.stats));
		memset(&q->tx.stats, 0, sizeof(q->tx.stats));
	}
	return 0;
}

/* Per-queue counters beyond the basic stats, as name/offset tables. */
struct xnb_xstat {
	const char *name;
	size_t offset;
};

/*
 * ethdev fills rx_qN_packets, _bytes and _errors and tx_qN_packets and
 * _bytes itself (RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS, from the per-queue
 * stats, for every queue xnb can have): the tables add the rest.
 */
static_assert(XNB_MAX_QUEUES <= RTE_ETHDEV_QUEUE_STAT_CNTRS,
	"ethdev's per-queue stats hold every queue");

static const struct xnb_xstat xnb_rx_xstats[] = {
	{ "nombuf", offsetof(struct xnb_rx_stats, nombuf) },
	{ "copy_calls", offsetof(struct xnb_rx_stats, copy_calls) },
	{ "copy_segs", offsetof(struct xnb_rx_stats, copy_segs) },
	{ "throttled", offsetof(struct xnb_rx_stats, throttled) },
	{ "mcast_requests", offsetof(struct xnb_rx_stats, mcast_requests) },
	{ "csum_blank", offsetof(struct xnb_rx_stats, csum_blank) },
	{ "gso", offsetof(struct xnb_rx_stats, gso) },
	{ "gso_segments", offsetof(struct xnb_rx_stats, gso_segments) },
};

static const struct xnb_xstat xnb_tx_xstats[] = {
	{ "errors", offsetof(struct xnb_tx_stats, errors) },
	{ "copy_calls", offsetof(struct xnb_tx_stats, copy_calls) },
	{ "copy_segs", offsetof(struct xnb_tx_stats, copy_segs) },
	{ "csum_blank", offsetof(struct xnb_tx_stats, csum_blank) },
	{ "gso", offsetof(struct xnb_tx_stats, gso) },
	{ "tso_segments", offsetof(struct xnb_tx_stats, tso_segments) },
	{ "stalls", offsetof(struct xnb_tx_stats, stalls) },
	{ "drain_drops", offsetof(struct xnb_tx_stats, drain_drops) },
	{ "mcast_filtered", offsetof(struct xnb_tx_stats, mcast_filtered) },
};

#define XNB_NB_XSTATS_PER_QUEUE (RTE_DIM(xnb_rx_xstats) + RTE_DIM(xnb_tx_xstats))

int
xnb_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
		unsigned int size)
{
	struct xnb_port *port = dev->data->dev_private;
	unsigned int n = port->nb_queues * XNB_NB_XSTATS_PER_QUEUE, k = 0, i;
	uint16_t q;

	if (names == NULL || size < n)
		return n;
	for (q = 0; q < port->nb_queues; q++) {
		for (i = 0; i < RTE_DIM(xnb_rx_xstats); i++)
			snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, "rx_q%u_%s",
				q, xnb_rx_xstats[i].name);
		for (i = 0; i < RTE_DIM(xnb_tx_xstats); i++)
			snprintf(names[k++].name, RTE_ETH_XSTATS_NAME_SIZE, "tx_q%u_%s",
				q, xnb_tx_xstats[i].name);
	}
	return n;
}

int
xnb_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xstats,
		unsigned int size)
{
	struct xnb_port *port = dev->data->dev_private;
	unsigned int n = port->nb_queues * XNB_NB_XSTATS_PER_QUEUE, k = 0, i;
	uint16_t q;

	if (xstats == NULL || size < n)
		return n;
	for (q = 0; q < port->nb_queues; q++) {
		const struct xnb_queue *xq = port->queues[q];
		const char *rx = xq != NULL ? (const char *)&xq->rx.stats : NULL;
		const char *tx = xq != NULL ? (const char *)&xq->tx.stats : NULL;

		for (i = 0; i < RTE_DIM(xnb_rx_xstats); i++, k++) {
			xstats[k].id = k;
			xstats[k].value = rx != NULL ?
				*(const uint64_t *)(rx + xnb_rx_xstats[i].offset) : 0;
		}
		for (i = 0; i < RTE_DIM(xnb_tx_xstats); i++, k++) {
			xstats[k].id = k;
			xstats[k].value = tx != NULL ?
				*(const uint64_t *)(tx + xnb_tx_xstats[i].offset) : 0;
		}
	}
	return n;
}

/*
 * A vif has no receive filter: the backend hands on every frame the
 * guest sends. Promiscuous and all-multicast are therefore always in
 * effect: enabling them succeeds, disabling them is not supported
 * (ethdev then keeps reporting them on), so the port never claims a
 * filter it does not apply. (Multicast control, doc/multicast.md,
 * filters what goes to the guest, not what the application gets.)
 */
int
xnb_promisc_on(struct rte_eth_dev *dev)
{
	RTE_SET_USED(dev);
	return 0;
}

static int
xnb_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	struct xnb_port *port = dev->data->dev_private;

	/* ethdev has checked min_mtu/max_mtu. */
	pthread_mutex_lock(&port->lock);
	xnb_mtu_apply(port, mtu);
	pthread_mutex_unlock(&port->lock);
	XNB_PORT_LOG(INFO, port, "MTU %u: frames up to %u B both ways", mtu,
		mtu + XNB_FRAME_OVERHEAD);
	return 0;
}

static int
xnb_mac_addr_set(struct rte_eth_dev *dev, struct rte_ether_addr *addr)
{
	struct xnb_port *port = dev->data->dev_private;
	char buf[RTE_ETHER_ADDR_FMT_SIZE];

	/* As the mac devarg: the port's own address is a unicast one. */
	if (!rte_is_valid_assigned_ether_addr(addr)) {
		rte_ether_format_addr(buf, sizeof(buf), addr);
		XNB_PORT_LOG(ERR, port, "MAC %s refused: the port's address must be unicast and not zero",
			buf);
		return -EINVAL;
	}
	rte_ether_addr_copy(addr, &port->mac);
	return 0;
}

static const struct eth_dev_ops xnb_ops;

bool
xnb_is_port(const struct rte_eth_dev *dev)
{
	return dev->dev_ops == &xnb_ops;
}

static const struct eth_dev_ops xnb_ops = {
	.dev_configure = xnb_dev_configure,
	.dev_infos_get = xnb_dev_infos_get,
	.dev_start = xnb_dev_start,
	.dev_stop = xnb_dev_stop,
	.dev_close = xnb_dev_close,
	.rx_queue_setup = xnb_rx_queue_setup,
	.tx_queue_setup = xnb_tx_queue_setup,
	.rx_queue_release = xnb_queue_release,
	.tx_queue_release = xnb_queue_release,
	.link_update = xnb_link_update,
	.stats_get = xnb_stats_get,
	.stats_reset = xnb_stats_reset,
	.xstats_get = xnb_xstats_get,
	.xstats_get_names = xnb_xstats_get_names,
	.xstats_reset = xnb_stats_reset,
	.promiscuous_enable = xnb_promisc_on,
	.allmulticast_enable = xnb_promisc_on,
	.mtu_set = xnb_mtu_set,
	.mac_addr_set = xnb_mac_addr_set,
	.rxq_info_get = xnb_rxq_info_get,
	.txq_info_get = xnb_txq_info_get,
	.eth_dev_priv_dump = xnb_dev_priv_dump,
	.rx_queue_intr_enable = xnb_rx_intr_enable,
	.rx_queue_intr_disable = xnb_rx_intr_disable,
};

/*
 * Without a mac devarg: locally administered 02:58:4e:<domid>:<handle>;
 * for a guest named by domain=, 16 bits of a hash of the name instead of
 * the domid, so the port keeps its address when the guest gets a new one.
 */
static void
default_mac(const struct xnb_devargs *d, struct rte_ether_addr *mac)
{
	uint32_t h = 2166136261u;  /* FNV-1a */
	uint16_t id = d->a.domid;
	const char *c;

	if (d->domain[0] != '\0') {
		for (c = d->domain; *c != '\0'; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		id = (uint16_t)(h ^ (h >> 16));
	}
	mac->addr_bytes[0] = 0x02;
	mac->addr_bytes[1] = 'X';
	mac->addr_bytes[2] = 'N';
	mac->addr_bytes[3] = id >> 8;
	mac->addr_bytes[4] = id & 0xff;
	mac->addr_bytes[5] = d->a.handle & 0xff;
}

static int
xnb_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct xnb_xenbus_conf bus_conf;
	struct xnb_host_params params;
	struct rte_eth_dev *dev;
	struct xnb_port *port;
	struct xnb_devargs d;
	struct xnb_args args;
	uint16_t i;
	int ret;

	/* A secondary attaches to the primary's port (xnb_secondary.c). */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return xnb_secondary_probe(vdev);
	ret = xnb_args_parse(name, rte_vdev_device_args(vdev), &d);
	if (ret != 0)
		return ret;
	if (d.discover)
		return xnb_discover_probe(vdev, &d);
	args = d.a;
	if (strlen(name) >= sizeof(port->name)) {
		XNB_LOG(ERR, "%s: the device name is longer than %zu characters",
			name, sizeof(port->name) - 1);
		return -ENAMETOOLONG;
	}

	dev = rte_eth_vdev_allocate(vdev, sizeof(*port));
	if (dev == NULL)
		return -ENOMEM;
	port = dev->data->dev_private;
	snprintf(port->name, sizeof(port->name), "%s", name);
	port->port_id = dev->data->port_id;
	port->args = args;
	port->ops = args.platform;
	port->nb_queues = args.queues;
	port->mtu = RTE_ETHER_MTU;
	pthread_mutex_init(&port->lock, NULL);
	port->ctrl.epfd = -1;
	port->ctrl.port = -1;
	if (args.has_mac)
		port->mac = args.mac;
	else
		default_mac(&d, &port->mac);
	bus_conf = (struct xnb_xenbus_conf){
		.name = name,
		.type = args.type,
		.domid = d.domain[0] != '\0' ? 0 : args.domid,
		.domain = d.domain,
		.handle = args.handle,
		.nb_queues = args.queues,
		.offloads = args.offloads,
		.hotplug = args.hotplug,
		.ops = &xnb_port_bus_ops,
		.ops_arg = port,
	};
	xnb_xenbus_init(&port->bus, &bus_conf);

	/*
	 * The host's devices and xenstore now; the guest's context once there
	 * is a guest (with domain=, when the name resolves: port_retarget()).
	 * The platform logs what went wrong and what to do.
	 */
	params.sim_dir = args.sim_dir;
	ret = port->ops->host_open(&port->host, &params);
	if (ret != 0) {
		port->host = NULL;
		goto fail;
	}
	if (bus_conf.domid != 0) {
		ret = port->ops->guest_open(port->host, bus_conf.domid, &port->xen);
		if (ret != 0) {
			port->xen = NULL;
			goto fail;
		}
	}
	for (i = 0; i < port->nb_queues; i++) {
		port->queues[i] = rte_zmalloc_socket(name, sizeof(struct xnb_queue),
			RTE_CACHE_LINE_SIZE, vdev->device.numa_node);
		if (port->queues[i] == NULL) {
			ret = -ENOMEM;
			goto fail;
		}
		xnb_queue_init(port->queues[i], port->ops, port->xen, bus_conf.domid, i);
		port->queues[i]->on_fatal = xnb_port_on_fatal;
		port->queues[i]->on_fatal_arg = port;
		xnb_tx_set_timeouts(&port->queues[i]->tx, args.drain_ms, args.stall_ms);
		port->queues[i]->tx.steer = &port->steer;
		port->queues[i]->tx.mcast = &port->mcast;
		port->queues[i]->rx.mcast = &port->mcast;
	}
	port->steer.queues = port->queues;

	dev->data->mac_addrs = rte_zmalloc(name, sizeof(struct rte_ether_addr), 0);
	if (dev->data->mac_addrs == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	/* ethdev reads the address from data->mac_addrs; keep one copy. */
	rte_ether_addr_copy(&port->mac, dev->data->mac_addrs);
	dev->dev_ops = &xnb_ops;
	dev->rx_pkt_burst = xnb_rx_burst;
	dev->tx_pkt_burst = xnb_tx_burst;
	dev->tx_pkt_prepare = xnb_tx_prepare;
	dev->data->dev_link = xnb_port_link_down;
	dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC | RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	dev->data->promiscuous = 1;
	dev->data->all_multicast = 1;

	ret = xnb_port_bus_open(port);
	if (ret != 0)
		goto fail;
	XNB_PORT_LOG(INFO, port, "platform %s", port->ops->name);
	rte_eth_dev_probing_finish(dev);
	return 0;

fail:
	XNB_LOG(ERR, "%s: probe failed: %s", name, strerror(-ret));
	xnb_port_free(port);
	rte_eth_dev_release_port(dev);
	return ret;
}

static int
xnb_remove(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct rte_eth_dev *dev;
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return xnb_secondary_remove(vdev);
	ret = xnb_discover_remove(name);
	if (ret != -ENOENT)
		return ret;
	dev = rte_eth_dev_allocated(name);
	if (dev == NULL)
		return 0;
	xnb_dev_close(dev);
	rte_eth_dev_release_port(dev);
	return 0;
}

static struct rte_vdev_driver xnb_vdev_driver = {
	.probe = xnb_probe,
	.remove = xnb_remove,
};

RTE_PMD_REGISTER_VDEV(XNB_DRIVER_NAME, xnb_vdev_driver);
RTE_PMD_REGISTER_PARAM_STRING(XNB_DRIVER_NAME, XNB_PARAMS_STRING);
