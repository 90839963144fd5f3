/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * discover=1 instances (xnb_discover.c): watch the backend type
 * directory and hotplug a port per vif.
 */

#ifndef XNB_DISCOVER_H
#define XNB_DISCOVER_H

#include "xnb_args.h"

struct rte_vdev_device;

int xnb_discover_probe(struct rte_vdev_device *vdev, const struct xnb_devargs *d);
/* -ENOENT when name is not a discovery instance, else stop it and detach its ports. */
int xnb_discover_remove(const char *name);

#endif /* XNB_DISCOVER_H */
