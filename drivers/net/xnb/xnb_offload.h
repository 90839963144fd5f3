/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Checksum offloads between netif flags and mbufs (xnb_offload.c).
 */

#ifndef XNB_OFFLOAD_H
#define XNB_OFFLOAD_H

#include <stdint.h>

#include <rte_mbuf.h>

/*
 * Fill in the TCP or UDP checksum of a frame whose guest sent it with
 * NETTXF_csum_blank (the checksum field holds at most a partial sum), as
 * the guest's stack expected its "hardware" to. Every header is parsed
 * with bounds: Ethernet with up to two VLAN tags, IPv4 (not a fragment)
 * or IPv6 with extension headers. Returns 0 when the checksum was
 * written, -EINVAL when the frame is not TCP/UDP over IP or its headers
 * or lengths do not hold together (the frame is then left unchanged).
 */
int xnb_csum_complete(struct rte_mbuf *m);

#endif /* XNB_OFFLOAD_H */
