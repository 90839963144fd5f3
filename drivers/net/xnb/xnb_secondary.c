/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * net_xnb in a secondary process (dpdk-proc-info, dpdk-dumpcap,
 * dpdk-pdump): the primary's port, attached for reading.
 *
 * A secondary reaches what lives in DPDK's shared memory: dev->data, the
 * port (dev_private) and its queues (rte_malloc), hence the counters,
 * the queue configuration, the MAC and the link as the primary keeps
 * them. Everything else of a port is the primary's own and never touched
 * here: the rings' grant mappings, the event channels, the xenstore
 * connection and its watch fd, the platform handles (malloc), the EAL
 * alarms, the port's lock (a process-private mutex), and every pointer
 * into the primary's copy of this library (port->ops, the queues'
 * callbacks).
 *
 * So the bursts move nothing (0 frames, as ethdev's dummy bursts): the
 * rings are mapped in the primary alone. A capture (pdump, dumpcap) still
 * sees every frame, since pdump's callbacks run in the primary's bursts.
 * An operation that needs the primary's state answers -ENOTSUP and says
 * so. Closing or removing the port here releases this process's ethdev
 * only; the vif stays connected, served by the primary.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_kvargs.h>
#include <ethdev_driver.h>
#include <bus_vdev_driver.h>

#include "xnb_logs.h"
#include "xnb_args.h"
#include "xnb_secondary.h"

static int
sec_refuse(const struct rte_eth_dev *dev, const char *op)
{
	XNB_LOG(ERR,
		"%s: %s refused in a secondary process: it belongs to the primary process, which serves the vif (do it there, e.g. on testpmd's command line); a secondary reads the port's counters and configuration only",
		dev->data->name, op);
	return -ENOTSUP;
}

static int
sec_dev_start(struct rte_eth_dev *dev)
{
	return sec_refuse(dev, "starting the port");
}

static int
sec_dev_stop(struct rte_eth_dev *dev)
{
	return sec_refuse(dev, "stopping the port");
}

static int
sec_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	RTE_SET_USED(mtu);
	return sec_refuse(dev, "setting the MTU");
}

static int
sec_mac_addr_set(struct rte_eth_dev *dev, struct rte_ether_addr *addr)
{
	RTE_SET_USED(addr);
	return sec_refuse(dev, "setting the MAC address");
}

/* The dump reads the rings, which only the primary maps. */
static int
sec_priv_dump(struct rte_eth_dev *dev, FILE *f)
{
	RTE_SET_USED(f);
	return sec_refuse(dev, "the private dump (the rings are mapped in the primary only)");
}

/* The queues' interrupt fds are the primary's. */
static int
sec_rx_intr(struct rte_eth_dev *dev, uint16_t qid)
{
	RTE_SET_USED(qid);
	return sec_refuse(dev, "rx interrupt control");
}

/* The primary sets dev->data->dev_link whenever the vif's link changes. */
static int
sec_link_update(struct rte_eth_dev *dev, int wait_to_complete)
{
	RTE_SET_USED(dev);
	RTE_SET_USED(wait_to_complete);
	return 0;
}

/*
 * Nothing of this process to free: ethdev then releases the port here
 * (rte_eth_dev_release_port), which in a secondary leaves the shared
 * data, and so the vif, to the primary.
 */
static int
sec_dev_close(struct rte_eth_dev *dev)
{
	XNB_LOG(INFO, "%s: released in this secondary process; the primary still serves the vif",
		dev->data->name);
	return 0;
}

/*
 * dev_configure, rx_queue_setup, tx_queue_setup and the queue releases
 * stay NULL: ethdev rewrites the shared configuration (dev_conf, the
 * queue arrays) before it calls them, which would undo the primary's.
 * With them NULL, ethdev answers -ENOTSUP before it changes anything.
 */
const struct eth_dev_ops xnb_secondary_ops = {
	.dev_infos_get = xnb_dev_infos_get,
	.dev_start = sec_dev_start,
	.dev_stop = sec_dev_stop,
	.dev_close = sec_dev_close,
	.link_update = sec_link_update,
	.stats_get = xnb_stats_get,
	.stats_reset = xnb_stats_reset,
	.xstats_get = xnb_xstats_get,
	.xstats_get_names = xnb_xstats_get_names,
	.xstats_reset = xnb_stats_reset,
	.promiscuous_enable = xnb_promisc_on,
	.allmulticast_enable = xnb_promisc_on,
	.mtu_set = sec_mtu_set,
	.mac_addr_set = sec_mac_addr_set,
	.rxq_info_get = xnb_rxq_info_get,
	.txq_info_get = xnb_txq_info_get,
	.eth_dev_priv_dump = sec_priv_dump,
	.rx_queue_intr_enable = sec_rx_intr,
	.rx_queue_intr_disable = sec_rx_intr,
};

/* Do the devargs make a discovery instance (discover=1)? */
static bool
sec_is_discovery(const char *args)
{
	struct rte_kvargs *kv = rte_kvargs_parse(args, NULL);
	const char *v;
	bool yes;

	if (kv == NULL)
		return false;
	v = rte_kvargs_get(kv, XNB_ARG_DISCOVER);
	yes = v != NULL && strcmp(v, "1") == 0;
	rte_kvargs_free(kv);
	return yes;
}

int
xnb_secondary_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	const char *args = rte_vdev_device_args(vdev);
	struct rte_eth_dev *dev;

	if (args[0] != '\0' && sec_is_discovery(args)) {
		XNB_LOG(INFO, "%s: a discovery instance has no port to attach; its ports attach under their own names",
			name);
		return 0;
	}
	if (args[0] != '\0')
		XNB_LOG(NOTICE, "%s: devargs \"%s\" ignored in a secondary process: the primary alone sets the vif up",
			name, args);
	dev = rte_eth_dev_attach_secondary(name);
	if (dev == NULL) {
		/*
		 * Without devargs the name comes from the primary's device
		 * list, which holds discovery instances too: nothing to attach.
		 */
		if (args[0] == '\0') {
			XNB_LOG(INFO, "%s: the primary has no port of this name (a discovery instance has none); nothing attached",
				name);
			return 0;
		}
		XNB_LOG(ERR, "%s: the primary process has no port of this name: ports are created by the primary (its --vdev, or a hotplug there); a secondary only attaches to them",
			name);
		return -ENODEV;
	}
	dev->device = &vdev->device;
	dev->dev_ops = &xnb_secondary_ops;
	/* The rings are mapped in the primary only: rx and tx stay there. */
	dev->rx_pkt_burst = rte_eth_pkt_burst_dummy;
	dev->tx_pkt_burst = rte_eth_pkt_burst_dummy;
	dev->tx_pkt_prepare = NULL;
	rte_eth_dev_probing_finish(dev);
	XNB_LOG(INFO, "%s: port %u attached in a secondary process (counters and configuration; rx and tx stay in the primary)",
		name, dev->data->port_id);
	return 0;
}

int
xnb_secondary_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));

	/* None attached (a discovery instance), or closed already. */
	if (dev == NULL || dev->state == RTE_ETH_DEV_UNUSED)
		return 0;
	return rte_eth_dev_release_port(dev);
}
