/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * netfront's toolstack role: what `xl create` and `xl destroy` do for a
 * vif in xenstore. Create writes the domain's name and both device
 * directories (permissions, the keys xl writes) in one transaction;
 * destroy takes the backend to Closing, waits for Closed and removes
 * them.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "netfront_private.h"

static void
nf_mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x",
		m[0], m[1], m[2], m[3], m[4], m[5]);
}

int
netfront_toolstack_create(struct netfront *nf)
{
	struct xs_permissions be_perms[2] = {
		{ .id = nf->conf.backend_domid, .perms = XS_PERM_NONE },
		{ .id = nf->conf.domid, .perms = XS_PERM_READ },
	};
	struct xs_permissions fe_perms[2] = {
		{ .id = nf->conf.domid, .perms = XS_PERM_NONE },
		{ .id = nf->conf.backend_domid, .perms = XS_PERM_READ },
	};
	char mac[32], num[16], fe_id[16], be_id[16], dom_path[64];
	int tries;

	nf_mac_str(nf->conf.mac, mac, sizeof(mac));
	snprintf(num, sizeof(num), "%u", nf->conf.handle);
	snprintf(fe_id, sizeof(fe_id), "%u", nf->conf.domid);
	snprintf(be_id, sizeof(be_id), "%u", nf->conf.backend_domid);
	snprintf(dom_path, sizeof(dom_path), "/local/domain/%u", nf->conf.domid);

	for (tries = 0; tries < NF_XS_RETRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(nf->xs);
		bool ok;

		if (t == XBT_NULL) {
			NF_ERR(nf, "xenstore transaction start failed: %s", strerror(errno));
			return -errno;
		}
		/* A stale device from a crashed run is replaced, as a new one. */
		xs_rm(nf->xs, t, nf->be_path);
		xs_rm(nf->xs, t, nf->fe_path);

		/* xl writes the name when it creates the domain, before devices. */
		ok = (nf->name[0] == '\0' ||
				nf_xs_write(nf, t, dom_path, "name", nf->name)) &&
			xs_mkdir(nf->xs, t, nf->be_path) &&
			xs_set_permissions(nf->xs, t, nf->be_path, be_perms, 2) &&
			nf_xs_write(nf, t, nf->be_path, "frontend", nf->fe_path) &&
			nf_xs_write(nf, t, nf->be_path, "frontend-id", fe_id) &&
			nf_xs_write(nf, t, nf->be_path, "online", "1") &&
			nf_xs_write(nf, t, nf->be_path, "state", "1") &&
			nf_xs_write(nf, t, nf->be_path, "script",
				nf->conf.script != NULL ? nf->conf.script : "/bin/true") &&
			(nf->conf.bridge == NULL ||
				nf_xs_write(nf, t, nf->be_path, "bridge", nf->conf.bridge)) &&
			nf_xs_write(nf, t, nf->be_path, "mac", mac) &&
			nf_xs_write(nf, t, nf->be_path, "handle", num) &&
			nf_xs_write(nf, t, nf->be_path, "type", "vif") &&
			nf_xs_write(nf, t, nf->be_path, "hotplug-status", "") &&
			xs_mkdir(nf->xs, t, nf->fe_path) &&
			xs_set_permissions(nf->xs, t, nf->fe_path, fe_perms, 2) &&
			nf_xs_write(nf, t, nf->fe_path, "backend", nf->be_path) &&
			nf_xs_write(nf, t, nf->fe_path, "backend-id", be_id) &&
			nf_xs_write(nf, t, nf->fe_path, "handle", num) &&
			nf_xs_write(nf, t, nf->fe_path, "mac", mac) &&
			nf_xs_write(nf, t, nf->fe_path, "state", "1");
		if (!ok) {
			int err = errno;

			xs_transaction_end(nf->xs, t, true);
			NF_ERR(nf, "toolstack: writing %s and %s failed: %s",
				nf->be_path, nf->fe_path, strerror(err));
			return -err;
		}
		if (xs_transaction_end(nf->xs, t, false)) {
			nf->toolstack_done = true;
			return 0;
		}
		if (errno != EAGAIN) {
			NF_ERR(nf, "toolstack: transaction failed: %s", strerror(errno));
			return -errno;
		}
	}
	NF_ERR(nf, "toolstack: transaction kept conflicting (EAGAIN %d times)", tries);
	return -EAGAIN;
}

/* Remove dir, and its parent too once it has no other entry. */
static void
nf_rm_dir_and_empty_parent(struct netfront *nf, xs_transaction_t t, const char *dir)
{
	char parent[256];
	char **ents;
	unsigned int n = 0;
	char *slash;

	xs_rm(nf->xs, t, dir);
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash == NULL || slash == parent)
		return;
	*slash = '\0';
	ents = xs_directory(nf->xs, t, parent, &n);
	if (ents != NULL && n == 0)
		xs_rm(nf->xs, t, parent);
	free(ents);
}

int
netfront_toolstack_destroy(struct netfront *nf)
{
	char path[256];
	int ret = 0, tries, s;
	bool wait = false;

	if (!nf->toolstack_done)
		return 0;

	/* As libxl: a backend already Closed (or gone) is not touched. */
	for (tries = 0; tries < NF_XS_RETRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(nf->xs);

		if (t == XBT_NULL)
			break;
		s = netfront_backend_state(nf);
		wait = s != XenbusStateClosed && s != XenbusStateUnknown;
		if (wait) {
			snprintf(path, sizeof(path), "%s/online", nf->be_path);
			xs_write(nf->xs, t, path, "0", 1);
			snprintf(path, sizeof(path), "%s/state", nf->be_path);
			xs_write(nf->xs, t, path, "5", 1);
		}
		if (xs_transaction_end(nf->xs, t, false) || errno != EAGAIN)
			break;
	}
	if (wait) {
		s = nf_wait_be_state(nf, NF_MASK(XenbusStateClosed) |
				NF_MASK(XenbusStateUnknown), nf->conf.timeout_ms, false);
		if (s < 0) {
			NF_ERR(nf, "toolstack: backend %s did not reach Closed within %u ms "
				"(state %s); removing the device anyway",
				nf->be_path, nf->conf.timeout_ms, nf_state_str(nf->be_state));
			ret = -ETIMEDOUT;
		}
	}
	for (tries = 0; tries < NF_XS_RETRIES; tries++) {
		xs_transaction_t t = xs_transaction_start(nf->xs);

		if (t == XBT_NULL)
			break;
		nf_rm_dir_and_empty_parent(nf, t, nf->be_path);
		nf_rm_dir_and_empty_parent(nf, t, nf->fe_path);
		if (xs_transaction_end(nf->xs, t, false) || errno != EAGAIN)
			break;
	}
	nf->toolstack_done = false;
	return ret;
}
