/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The devargs (xnb_args.c): keys, defaults, one typed setter per key,
 * errors naming the key and the accepted values. What the user wrote
 * stays as written; runtime state (the domain served now) lives in the
 * XenBus side.
 */

#ifndef XNB_ARGS_H
#define XNB_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xnb_private.h"
#include "xnb_xenbus.h"

/* Everything the devargs say: the port's options and how to find guests. */
struct xnb_devargs {
	struct xnb_args a;
	char domain[XNB_DOMAIN_NAME_MAX]; /* domain=NAME; "" with domid= */
	bool discover;                    /* discover=1: no port, a discovery */
};

#define XNB_ARG_DOMID    "domid"
#define XNB_ARG_DOMAIN   "domain"
#define XNB_ARG_DISCOVER "discover"
#define XNB_ARG_HANDLE   "handle"
#define XNB_ARG_MAC      "mac"
#define XNB_ARG_QUEUES   "queues"
#define XNB_ARG_PLATFORM "platform"
#define XNB_ARG_SIM_DIR  "sim_dir"
#define XNB_ARG_TYPE     "type"
#define XNB_ARG_OFFLOADS "offloads"
#define XNB_ARG_ON_CLOSE "on_close"
#define XNB_ARG_HOTPLUG  "hotplug"
#define XNB_ARG_DRAIN_TIMEOUT "drain_timeout"
#define XNB_ARG_STALL_TIMEOUT "stall_timeout"

#define XNB_DEFAULT_SIM_DIR "/run/xnb-sim"
#define XNB_DEFAULT_TYPE    "vif"

/* Linux's netback: rx_drain_timeout_msecs and rx_stall_timeout_msecs. */
#define XNB_DEFAULT_DRAIN_MS 10000
#define XNB_DEFAULT_STALL_MS 60000
#define XNB_MAX_TIMEOUT_MS 3600000

#define XNB_PARAMS_STRING \
	XNB_ARG_DOMID "=<1-32751> " \
	XNB_ARG_DOMAIN "=<domain name> " \
	XNB_ARG_DISCOVER "=<0|1> " \
	XNB_ARG_HANDLE "=<0-65535> " \
	XNB_ARG_MAC "=<xx:xx:xx:xx:xx:xx> " \
	XNB_ARG_QUEUES "=<1-8> " \
	XNB_ARG_PLATFORM "=<xen|sim> " \
	XNB_ARG_SIM_DIR "=<path> " \
	XNB_ARG_TYPE "=<xenstore backend type, default vif> " \
	XNB_ARG_OFFLOADS "=<all|none|csum:tso4:tso6> " \
	XNB_ARG_ON_CLOSE "=<keep|disconnect> " \
	XNB_ARG_HOTPLUG "=<auto|wait|ignore> " \
	XNB_ARG_DRAIN_TIMEOUT "=<0-3600000 ms, 0: never> " \
	XNB_ARG_STALL_TIMEOUT "=<0-3600000 ms, 0: never>"

int xnb_args_parse(const char *name, const char *params, struct xnb_devargs *d);
extern const char xnb_args_help[];
/* The offloads= value that names XNB_OFFLOAD_* bits; snprintf's result. */
int xnb_offloads_str(uint32_t bits, char *buf, size_t size);
/* The hotplug= value of h. */
const char *xnb_hotplug_str(enum xnb_hotplug h);
/* Does s name a domain as xl accepts it (1-63 of [A-Za-z0-9_.-])? */
bool xnb_domain_name_valid(const char *s);

#endif /* XNB_ARGS_H */
