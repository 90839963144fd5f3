/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Devargs: an options struct with defaults, one typed, range-checked
 * setter per key, and errors that name the key and the accepted values.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_kvargs.h>
#include <rte_string_fns.h>

#include "xnb_logs.h"
#include "xnb_port.h"

#define XNB_DEFAULT_SIM_DIR "/run/xnb-sim"
#define XNB_DEFAULT_TYPE    "vif"
/* Domain ids at and above DOMID_FIRST_RESERVED are not guests. */
#define XNB_MAX_DOMID (DOMID_FIRST_RESERVED - 1)

const char xnb_args_help[] = XNB_PARAMS_STRING;

static const char * const valid_arguments[] = {
	XNB_ARG_DOMID,
	XNB_ARG_HANDLE,
	XNB_ARG_MAC,
	XNB_ARG_QUEUES,
	XNB_ARG_PLATFORM,
	XNB_ARG_SIM_DIR,
	XNB_ARG_TYPE,
	NULL
};

static int
parse_uint(const char *key, const char *value, unsigned long min,
		unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(value, &end, 0);
	if (errno != 0 || end == value || *end != '\0' || value[0] == '-' ||
			v < min || v > max) {
		XNB_LOG(ERR, "invalid %s=%s: expected an integer from %lu to %lu",
			key, value, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
set_domid(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;
	unsigned long v;
	int ret;

	/* Domain 0 is the backend itself, never a guest of ours. */
	ret = parse_uint(key, value, 1, XNB_MAX_DOMID, &v);
	if (ret == 0)
		a->domid = v;
	return ret;
}

static int
set_handle(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;
	unsigned long v;
	int ret;

	ret = parse_uint(key, value, 0, UINT16_MAX, &v);
	if (ret == 0)
		a->handle = v;
	return ret;
}

static int
set_queues(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;
	unsigned long v;
	int ret;

	/* Multi-queue comes with the full protocol; one queue until then. */
	ret = parse_uint(key, value, 1, 1, &v);
	if (ret == 0)
		a->queues = v;
	return ret;
}

static int
set_mac(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;

	if (rte_ether_unformat_addr(value, &a->mac) != 0 ||
			rte_is_multicast_ether_addr(&a->mac) ||
			rte_is_zero_ether_addr(&a->mac)) {
		XNB_LOG(ERR, "invalid %s=%s: expected a unicast MAC address xx:xx:xx:xx:xx:xx",
			key, value);
		return -EINVAL;
	}
	a->has_mac = true;
	return 0;
}

static int
set_platform(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;

	if (strcmp(value, "xen") == 0) {
		a->platform = XNB_PLATFORM_XEN;
	} else if (strcmp(value, "sim") == 0) {
		a->platform = XNB_PLATFORM_SIM;
	} else {
		XNB_LOG(ERR, "invalid %s=%s: expected xen (a Xen host) or sim (the simulated platform)",
			key, value);
		return -EINVAL;
	}
	return 0;
}

static int
set_sim_dir(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;

	if (value[0] != '/' || strlen(value) >= sizeof(a->sim_dir) - 16) {
		XNB_LOG(ERR, "invalid %s=%s: expected an absolute path shorter than %zu bytes",
			key, value, sizeof(a->sim_dir) - 16);
		return -EINVAL;
	}
	rte_strscpy(a->sim_dir, value, sizeof(a->sim_dir));
	return 0;
}

static int
set_type(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;
	size_t i, len = strlen(value);

	/* It becomes a xenstore path component: keep it to a safe alphabet. */
	for (i = 0; i < len; i++)
		if (!((value[i] >= 'a' && value[i] <= 'z') ||
				(value[i] >= '0' && value[i] <= '9') ||
				value[i] == '-' || value[i] == '_'))
			break;
	if (len == 0 || i != len || len >= sizeof(a->type)) {
		XNB_LOG(ERR, "invalid %s=%s: expected a xenstore backend type of 1-%zu characters [a-z0-9_-], e.g. vif",
			key, value, sizeof(a->type) - 1);
		return -EINVAL;
	}
	rte_strscpy(a->type, value, sizeof(a->type));
	return 0;
}

static const struct {
	const char *key;
	arg_handler_t fn;
} setters[] = {
	{ XNB_ARG_DOMID, set_domid },
	{ XNB_ARG_HANDLE, set_handle },
	{ XNB_ARG_MAC, set_mac },
	{ XNB_ARG_QUEUES, set_queues },
	{ XNB_ARG_PLATFORM, set_platform },
	{ XNB_ARG_SIM_DIR, set_sim_dir },
	{ XNB_ARG_TYPE, set_type },
};

struct setter_ctx {
	struct xnb_args *a;
	arg_handler_t fn;
};

static int
run_setter(const char *key, const char *value, void *opaque)
{
	const struct setter_ctx *ctx = opaque;

	if (value == NULL || value[0] == '\0') {
		XNB_LOG(ERR, "%s needs a value: %s", key, xnb_args_help);
		return -EINVAL;
	}
	return ctx->fn(key, value, ctx->a);
}

int
xnb_args_parse(const char *name, const char *params, struct xnb_args *a)
{
	struct rte_kvargs *kvlist;
	unsigned int i;
	int ret = 0;

	memset(a, 0, sizeof(*a));
	a->queues = 1;
	a->platform = XNB_PLATFORM_XEN;
	rte_strscpy(a->sim_dir, XNB_DEFAULT_SIM_DIR, sizeof(a->sim_dir));
	rte_strscpy(a->type, XNB_DEFAULT_TYPE, sizeof(a->type));

	if (params == NULL || params[0] == '\0') {
		XNB_LOG(ERR, "%s: missing %s: name the guest, e.g. --vdev=%s,domid=3 (keys: %s)",
			name, XNB_ARG_DOMID, name, xnb_args_help);
		return -EINVAL;
	}
	kvlist = rte_kvargs_parse(params, valid_arguments);
	if (kvlist == NULL) {
		XNB_LOG(ERR, "%s: cannot parse \"%s\": an unknown key or bad syntax; accepted keys: %s",
			name, params, xnb_args_help);
		return -EINVAL;
	}
	for (i = 0; i < RTE_DIM(setters); i++) {
		struct setter_ctx ctx = { a, setters[i].fn };

		if (rte_kvargs_count(kvlist, setters[i].key) > 1) {
			XNB_LOG(ERR, "%s: %s given more than once", name, setters[i].key);
			ret = -EINVAL;
			goto out;
		}
		ret = rte_kvargs_process(kvlist, setters[i].key, run_setter, &ctx);
		if (ret != 0) {
			ret = -EINVAL;
			goto out;
		}
	}
	if (rte_kvargs_count(kvlist, XNB_ARG_DOMID) == 0) {
		XNB_LOG(ERR, "%s: missing %s: name the guest, e.g. --vdev=%s,domid=3",
			name, XNB_ARG_DOMID, name);
		ret = -EINVAL;
	}
out:
	rte_kvargs_free(kvlist);
	return ret;
}
