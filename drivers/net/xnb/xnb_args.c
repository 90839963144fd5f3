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
#include "xnb_args.h"
#include "xnb_number.h"

const char xnb_args_help[] = XNB_PARAMS_STRING;

static const char * const valid_arguments[] = {
	XNB_ARG_DOMID,
	XNB_ARG_DOMAIN,
	XNB_ARG_DISCOVER,
	XNB_ARG_HANDLE,
	XNB_ARG_MAC,
	XNB_ARG_QUEUES,
	XNB_ARG_PLATFORM,
	XNB_ARG_SIM_DIR,
	XNB_ARG_TYPE,
	XNB_ARG_OFFLOADS,
	XNB_ARG_ON_CLOSE,
	XNB_ARG_HOTPLUG,
	XNB_ARG_DRAIN_TIMEOUT,
	XNB_ARG_STALL_TIMEOUT,
	NULL
};

static int
parse_uint(const char *key, const char *value, unsigned long min,
		unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	*out = 0;
	if (xnb_parse_dec(value, max, false, &v) != 0 || v < min) {
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

bool
xnb_domain_name_valid(const char *s)
{
	size_t i, len = strnlen(s, XNB_DOMAIN_NAME_MAX);

	if (len == 0 || len >= XNB_DOMAIN_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
				(s[i] >= '0' && s[i] <= '9') ||
				s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static int
set_domain(const char *key, const char *value, void *opaque)
{
	struct xnb_devargs *d = opaque;

	if (!xnb_domain_name_valid(value)) {
		XNB_LOG(ERR, "invalid %s=%s: expected a domain name as given to xl (name=): 1-%d characters [A-Za-z0-9_.-]",
			key, value, XNB_DOMAIN_NAME_MAX - 1);
		return -EINVAL;
	}
	rte_strscpy(d->domain, value, sizeof(d->domain));
	return 0;
}

static int
set_discover(const char *key, const char *value, void *opaque)
{
	struct xnb_devargs *d = opaque;
	unsigned long v;
	int ret;

	ret = parse_uint(key, value, 0, 1, &v);
	if (ret == 0)
		d->discover = v == 1;
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

	ret = parse_uint(key, value, 1, XNB_MAX_QUEUES, &v);
	if (ret == 0)
		a->queues = v;
	return ret;
}

/* drain_timeout= and stall_timeout=: milliseconds, 0 for never. */
static int
set_timeout(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;
	unsigned long v;
	int ret;

	ret = parse_uint(key, value, 0, XNB_MAX_TIMEOUT_MS, &v);
	if (ret != 0)
		return ret;
	if (strcmp(key, XNB_ARG_DRAIN_TIMEOUT) == 0)
		a->drain_ms = v;
	else
		a->stall_ms = v;
	return 0;
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

	a->platform = xnb_xen_ops_get(value);
	if (a->platform == NULL) {
#ifdef XNB_HAS_SIM
		XNB_LOG(ERR, "invalid %s=%s: expected xen (a Xen host) or sim (the simulated platform)",
			key, value);
#else
		XNB_LOG(ERR, "invalid %s=%s: expected xen (a Xen host); this build has no simulated platform (-Dsim=false)",
			key, value);
#endif
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

/*
 * The offloads offered: "all", "none", or a list of csum, tso4, tso6
 * joined by ':' (or ',' inside brackets, as kvargs lists go).
 */
/*
 * What a closing port leaves its guest: keep (the default: the vif stays
 * Connected; the next backend process with the same devargs reattaches)
 * or disconnect (Closed: Linux's netfront gives its vif up for good). A
 * toolstack's close is answered at once either way.
 */
static int
set_on_close(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;

	if (strcmp(value, "keep") == 0) {
		a->keep_on_close = true;
	} else if (strcmp(value, "disconnect") == 0) {
		a->keep_on_close = false;
	} else {
		XNB_LOG(ERR, "invalid %s=%s: expected disconnect (the guest sees Closed) or keep (the vif stays Connected for the next process to reattach)",
			key, value);
		return -EINVAL;
	}
	return 0;
}

static const char * const hotplug_names[] = {
	[XNB_HOTPLUG_AUTO] = "auto",
	[XNB_HOTPLUG_WAIT] = "wait",
	[XNB_HOTPLUG_IGNORE] = "ignore",
};

const char *
xnb_hotplug_str(enum xnb_hotplug h)
{
	return (unsigned int)h < RTE_DIM(hotplug_names) ? hotplug_names[h] : "?";
}

/* When Connected waits for the hotplug script (enum xnb_hotplug). */
static int
set_hotplug(const char *key, const char *value, void *opaque)
{
	struct xnb_args *a = opaque;
	unsigned int i;

	for (i = 0; i < RTE_DIM(hotplug_names); i++) {
		if (strcmp(value, hotplug_names[i]) == 0) {
			a->hotplug = i;
			return 0;
		}
	}
	XNB_LOG(ERR, "invalid %s=%s: expected auto (wait for the toolstack's hotplug script to write hotplug-status=connected when the vif has a script other than true), wait (always) or ignore (never)",
		key, value);
	return -EINVAL;
}

static int
set_offloads(const char *key, const char *value, void *opaque)
{
	static const struct {
		const char *name;
		uint32_t bits;
	} names[] = {
		{ "all", XNB_OFFLOAD_ALL },
		{ "none", 0 },
		{ "csum", XNB_OFFLOAD_CSUM },
		{ "tso4", XNB_OFFLOAD_TSO4 },
		{ "tso6", XNB_OFFLOAD_TSO6 },
	};
	struct xnb_args *a = opaque;
	char buf[64], *tok, *save = NULL;
	const char *list = value;
	size_t len = strlen(value);
	uint32_t bits = 0;
	unsigned int i;

	if (len >= 2 && value[0] == '[' && value[len - 1] == ']') {
		list++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf))
		goto bad;
	memcpy(buf, list, len);
	buf[len] = '\0';
	for (tok = strtok_r(buf, ":,", &save); tok != NULL; tok = strtok_r(NULL, ":,", &save)) {
		for (i = 0; i < RTE_DIM(names); i++)
			if (strcmp(tok, names[i].name) == 0)
				break;
		if (i == RTE_DIM(names))
			goto bad;
		bits |= names[i].bits;
	}
	/* TSO needs the checksum offload of its IP version. */
	if ((bits & (XNB_OFFLOAD_TSO4 | XNB_OFFLOAD_TSO6)) != 0 && (bits & XNB_OFFLOAD_CSUM) == 0) {
		XNB_LOG(ERR, "invalid %s=%s: tso4 and tso6 need csum (GSO frames carry blank checksums)",
			key, value);
		return -EINVAL;
	}
	a->offloads = bits;
	return 0;
bad:
	XNB_LOG(ERR, "invalid %s=%s: expected all, none, or some of csum, tso4, tso6 joined by ':' (e.g. csum:tso4)",
		key, value);
	return -EINVAL;
}

int
xnb_offloads_str(uint32_t bits, char *buf, size_t size)
{
	/* TSO comes only with csum (set_offloads()). */
	if ((bits & XNB_OFFLOAD_CSUM) == 0)
		return snprintf(buf, size, "none");
	return snprintf(buf, size, "csum%s%s", bits & XNB_OFFLOAD_TSO4 ? ":tso4" : "",
		bits & XNB_OFFLOAD_TSO6 ? ":tso6" : "");
}

/* Setters get the struct xnb_devargs; its first member is the xnb_args. */
static const struct {
	const char *key;
	arg_handler_t fn;
} setters[] = {
	{ XNB_ARG_DOMID, set_domid },
	{ XNB_ARG_DOMAIN, set_domain },
	{ XNB_ARG_DISCOVER, set_discover },
	{ XNB_ARG_HANDLE, set_handle },
	{ XNB_ARG_MAC, set_mac },
	{ XNB_ARG_QUEUES, set_queues },
	{ XNB_ARG_PLATFORM, set_platform },
	{ XNB_ARG_SIM_DIR, set_sim_dir },
	{ XNB_ARG_TYPE, set_type },
	{ XNB_ARG_OFFLOADS, set_offloads },
	{ XNB_ARG_ON_CLOSE, set_on_close },
	{ XNB_ARG_HOTPLUG, set_hotplug },
	{ XNB_ARG_DRAIN_TIMEOUT, set_timeout },
	{ XNB_ARG_STALL_TIMEOUT, set_timeout },
};

struct setter_ctx {
	struct xnb_devargs *d;
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
	return ctx->fn(key, value, ctx->d);
}

/* discover=1 takes only these keys: it names no guest and serves no vif. */
static const char * const discover_keys[] = {
	XNB_ARG_DISCOVER, XNB_ARG_TYPE, XNB_ARG_PLATFORM, XNB_ARG_SIM_DIR, XNB_ARG_OFFLOADS,
	XNB_ARG_ON_CLOSE, XNB_ARG_HOTPLUG, XNB_ARG_DRAIN_TIMEOUT, XNB_ARG_STALL_TIMEOUT,
};

static bool
is_discover_key(const char *key)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(discover_keys); i++)
		if (strcmp(key, discover_keys[i]) == 0)
			return true;
	return false;
}

int
xnb_args_parse(const char *name, const char *params, struct xnb_devargs *d)
{
	struct xnb_args *a = &d->a;
	struct rte_kvargs *kvlist;
	unsigned int i, nb_domid, nb_domain;
	int ret = 0;

	memset(d, 0, sizeof(*d));
	a->queues = 1;
	a->offloads = XNB_OFFLOAD_ALL;
	a->keep_on_close = true;
	a->drain_ms = XNB_DEFAULT_DRAIN_MS;
	a->stall_ms = XNB_DEFAULT_STALL_MS;
	a->platform = &xnb_xen_real_ops;
	rte_strscpy(a->sim_dir, XNB_DEFAULT_SIM_DIR, sizeof(a->sim_dir));
	rte_strscpy(a->type, XNB_DEFAULT_TYPE, sizeof(a->type));

	if (params == NULL || params[0] == '\0') {
		XNB_LOG(ERR, "%s: missing %s or %s: name the guest, e.g. --vdev=%s,domid=3 or --vdev=%s,domain=web1, or discover its vifs with --vdev=%s,discover=1 (keys: %s)",
			name, XNB_ARG_DOMID, XNB_ARG_DOMAIN, name, name, name, xnb_args_help);
		return -EINVAL;
	}
	kvlist = rte_kvargs_parse(params, valid_arguments);
	if (kvlist == NULL) {
		XNB_LOG(ERR, "%s: cannot parse \"%s\": an unknown key or bad syntax; accepted keys: %s",
			name, params, xnb_args_help);
		return -EINVAL;
	}
	for (i = 0; i < RTE_DIM(setters); i++) {
		struct setter_ctx ctx = { d, setters[i].fn };

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
	if (d->discover) {
		for (i = 0; i < kvlist->count; i++) {
			if (is_discover_key(kvlist->pairs[i].key))
				continue;
			XNB_LOG(ERR, "%s: %s cannot go with %s=1: a discovery instance serves every vif of its backend type and accepts only %s, %s, %s, %s, %s, %s, %s, %s and %s",
				name, kvlist->pairs[i].key, XNB_ARG_DISCOVER, XNB_ARG_DISCOVER,
				XNB_ARG_TYPE, XNB_ARG_PLATFORM, XNB_ARG_SIM_DIR, XNB_ARG_OFFLOADS,
				XNB_ARG_ON_CLOSE, XNB_ARG_HOTPLUG, XNB_ARG_DRAIN_TIMEOUT,
				XNB_ARG_STALL_TIMEOUT);
			ret = -EINVAL;
			goto out;
		}
		goto out;
	}
	nb_domid = rte_kvargs_count(kvlist, XNB_ARG_DOMID);
	nb_domain = rte_kvargs_count(kvlist, XNB_ARG_DOMAIN);
	if (nb_domid + nb_domain != 1) {
		XNB_LOG(ERR, "%s: %s: name the guest with exactly one of %s=<1-%u> or %s=<its xl name>, e.g. --vdev=%s,domid=3 or --vdev=%s,domain=web1",
			name, nb_domid + nb_domain == 0 ? "missing guest" : "both domid and domain given",
			XNB_ARG_DOMID, XNB_MAX_DOMID, XNB_ARG_DOMAIN, name, name);
		ret = -EINVAL;
	}
out:
	rte_kvargs_free(kvlist);
	return ret;
}
