/* SPDX-License-Identifier: BSD-3-Clause */

/* The one lookup of the Xen access ops by platform name (xnb_xen.h). */

#include <stddef.h>
#include <string.h>

#include <rte_common.h>

#include "xnb_xen.h"

static const struct xnb_xen_ops * const platforms[] = {
	&xnb_xen_real_ops,
#ifdef XNB_HAS_SIM
	&xnb_xen_sim_ops,
#endif
};

const struct xnb_xen_ops *
xnb_xen_ops_get(const char *name)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(platforms); i++)
		if (strcmp(platforms[i]->name, name) == 0)
			return platforms[i];
	return NULL;
}
