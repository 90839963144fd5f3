/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The netif wire formats, from Xen's public headers, never redefined.
 *
 * ring.h expects the includer to provide the barriers. Requests and
 * responses live in memory shared with another domain (or, on the
 * simulated platform, another process), so these are real fences.
 */

#ifndef XNB_NETIF_H
#define XNB_NETIF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * The interface version must be set before the first Xen header: left
 * at its default (0), ring.h maps the fences to mb()/rmb()/wmb(), which
 * nothing defines. 0x00040e00 is Xen 4.14+, the latest 4.17 knows.
 */
#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif
#include <xen/xen.h>

#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

#include <xen/grant_table.h>
#include <xen/io/ring.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#define XNB_PAGE_SIZE 4096u

/* Entries in a one-page ring: 256 for both netif rings. */
#define XNB_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, XNB_PAGE_SIZE)
#define XNB_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, XNB_PAGE_SIZE)

#endif /* XNB_NETIF_H */
