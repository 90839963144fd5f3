/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef XNB_LOGS_H
#define XNB_LOGS_H

#include <rte_log.h>

extern int xnb_logtype;

#define XNB_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, xnb_logtype, "%s(): " fmt "\n", \
		__func__, ##__VA_ARGS__)

/*
 * A log line about one port: "net_xnb0 (dom 3 vif 0): ...", or, while a
 * port that follows a guest by name has no domain to serve,
 * "net_xnb0 (guest web1, not running, vif 0): ...".
 */
#define XNB_PORT_LOG(level, port, fmt, ...) do { \
	if ((port)->args.domid == 0 && (port)->domain[0] != '\0') \
		XNB_LOG(level, "%s (guest %s, not running, vif %u): " fmt, \
			(port)->name, (port)->domain, (port)->args.handle, \
			##__VA_ARGS__); \
	else \
		XNB_LOG(level, "%s (dom %u vif %u): " fmt, (port)->name, \
			(port)->args.domid, (port)->args.handle, ##__VA_ARGS__); \
} while (0)

/* Datapath logging compiles to nothing unless RTE_LIBRTE_XNB_DEBUG_DP. */
#ifdef RTE_LIBRTE_XNB_DEBUG_DP
#define XNB_DP_LOG(level, fmt, ...) XNB_LOG(level, fmt, ##__VA_ARGS__)
#else
#define XNB_DP_LOG(level, fmt, ...) do { } while (0)
#endif

#endif /* XNB_LOGS_H */
