/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * xnb ports in a secondary process (xnb_secondary.c): the primary's
 * ports attached for reading (counters, configuration, link, capture
 * through pdump), never the vif itself.
 */

#ifndef XNB_SECONDARY_H
#define XNB_SECONDARY_H

#include <ethdev_driver.h>

struct rte_vdev_device;

/*
 * xnb_ethdev.c: ethdev callbacks that read or reset only what lives in
 * DPDK's shared memory (dev->data, the port and its rte_malloc'd queues,
 * the mempools), never the primary's own state (mappings, event
 * channels, xenstore, the lock): the secondary's ops use them too.
 */
int xnb_dev_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info);
void xnb_rxq_info_get(struct rte_eth_dev *dev, uint16_t qid, struct rte_eth_rxq_info *info);
void xnb_txq_info_get(struct rte_eth_dev *dev, uint16_t qid, struct rte_eth_txq_info *info);
int xnb_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *stats);
int xnb_stats_reset(struct rte_eth_dev *dev);
int xnb_xstats_get_names(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
	unsigned int size);
int xnb_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xstats, unsigned int size);
int xnb_promisc_on(struct rte_eth_dev *dev);

/* The ops of a port in a secondary process. */
extern const struct eth_dev_ops xnb_secondary_ops;

/*
 * Attach the primary's port of the vdev's name; devargs given here are
 * ignored (the vif is set up by the primary alone). 0 also for a
 * discovery instance, which has no port; -ENODEV, logged, for a name the
 * primary serves no port under.
 */
int xnb_secondary_probe(struct rte_vdev_device *vdev);
/* Release this process's ethdev of the port; the vif stays the primary's. */
int xnb_secondary_remove(struct rte_vdev_device *vdev);

#endif /* XNB_SECONDARY_H */
