/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef XNB_LOGS_H
#define XNB_LOGS_H

#include <rte_log.h>

extern int xnb_logtype;

#define XNB_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, xnb_logtype, "%s(): " fmt "\n", \
		__func__, ##__VA_ARGS__)

/* Datapath logging compiles to nothing unless RTE_LIBRTE_XNB_DEBUG_DP. */
#ifdef RTE_LIBRTE_XNB_DEBUG_DP
#define XNB_DP_LOG(level, fmt, ...) XNB_LOG(level, fmt, ##__VA_ARGS__)
#else
#define XNB_DP_LOG(level, fmt, ...) do { } while (0)
#endif

#endif /* XNB_LOGS_H */
