/* SPDX-License-Identifier: BSD-3-Clause */

/* domain=NAME: find the guest by name (xnb_follow.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "xnb_follow.h"
#include "xnb_logs.h"
#include "xnb_number.h"
#include "xnb_xenbus.h"
#include "xnb_xenstore.h"

static const char * const special_watches[] = { "@introduceDomain", "@releaseDomain" };

int
xnb_follow_watch(struct xnb_xenbus *bus)
{
	unsigned int i;

	if (!xs_watch(bus->xs, bus->type_dir, bus->token)) {
		XNB_BUS_LOG(ERR, bus, "cannot watch %s: %s", bus->type_dir, strerror(errno));
		return -errno;
	}
	for (i = 0; i < RTE_DIM(special_watches); i++)
		if (!xs_watch(bus->xs, special_watches[i], bus->token))
			XNB_BUS_LOG(WARNING, bus,
				"cannot watch %s (%s): guests are noticed through %s only",
				special_watches[i], strerror(errno), bus->type_dir);
	bus->guest_watched = true;
	return 0;
}

void
xnb_follow_unwatch(struct xnb_xenbus *bus)
{
	unsigned int i;

	if (!bus->guest_watched)
		return;
	xs_unwatch(bus->xs, bus->type_dir, bus->token);
	for (i = 0; i < RTE_DIM(special_watches); i++)
		xs_unwatch(bus->xs, special_watches[i], bus->token);
	bus->guest_watched = false;
}

/* Does the toolstack have our vif for domid in xenstore? */
static bool
has_vif(const struct xnb_xenbus *bus, unsigned long domid)
{
	char dir[XNB_XS_PATH_MAX];
	unsigned long v;

	snprintf(dir, sizeof(dir), "%s/%lu/%u", bus->type_dir, domid, bus->handle);
	return xnb_xs_read_uint(bus->xs, XBT_NULL, dir, "frontend-id",
		UINT16_MAX, &v) == 0 && v == domid;
}

uint16_t
xnb_follow_resolve(struct xnb_xenbus *bus)
{
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
				strcmp(name, bus->domain) != 0)
			continue;
		matches++;
		if (id == bus->domid) {
			best = id;
			break;
		}
		vif = has_vif(bus, id);
		if (best == 0 || (vif && !best_vif) || (vif == best_vif && id < best)) {
			best = id;
			best_vif = vif;
		}
	}
	free(ents);
	if (matches > 1 && best != bus->domid)
		XNB_BUS_LOG(WARNING, bus, "%u domains are named %s; following dom%lu",
			matches, bus->domain, best);
	return (uint16_t)best;
}
