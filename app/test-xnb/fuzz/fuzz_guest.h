/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What fuzz-guest-tx and fuzz-guest-rx share: the unit suites' test
 * guest (test_common.h) set up once, with grant references of every
 * kind a hostile guest may name; mbuf pools of several data rooms; and
 * the queue's copy op wrapped, so that every local address a copy
 * segment names is checked to lie inside an mbuf's data buffer (or the
 * queue's header copies) before the simulated hypervisor copies, and so
 * that a copy call can be made to fail as a whole.
 */

#ifndef XNB_FUZZ_GUEST_H
#define XNB_FUZZ_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "test_common.h"

/* Pools: 0 default (2048 B), 1 small (512 B), 2 tiny (128 B, the least
 * rx queue setup takes), 3 odd (301 B), 4 scarce (48 mbufs of 2048 B). */
#define FZ_NR_POOLS 5
#define FZ_SCARCE 48
struct rte_mempool *fz_pool(unsigned int i);
/* Data room past the headroom. */
uint32_t fz_pool_room(unsigned int i);

/* The test guest, its extra grants, the checked copy op. Exits on failure. */
void fz_guest_init(struct test_guest *g);

/*
 * A grant reference as a fuzz input names it: the top byte picks the
 * kind, the rest an index. 0: a guest-tx buffer (read-only), 1: a
 * guest-rx buffer (writable), 2: a ring page, 3: a revoked grant, 4: a
 * grant to another domain, 5: ref 0, 6: the low 24 bits as they are,
 * else the 32 bits as they are. *pfn: the page behind a buffer ref, else -1.
 */
uint32_t fz_gref(struct test_guest *g, uint32_t v, int *pfn);

/* Write n bytes into guest page pfn at off (clamped to the page); the page is cleared later. */
void fz_page_write(struct test_guest *g, int pfn, uint32_t off, const uint8_t *p, uint32_t n);
/* Clear every page written since the last call. */
void fz_pages_clean(struct test_guest *g);

/* Empty rings with both sides' counters at tx_start and rx_start. */
void fz_rings_reset(struct test_guest *g, RING_IDX tx_start, RING_IDX rx_start);

/* The n-th copy call from now fails as a whole (-EIO); 0: none. */
void fz_copy_fail_in(unsigned int n);
/* Copy calls and segments checked so far. */
extern uint64_t fz_copy_calls, fz_copy_segs;

/* Mbufs in a chain (following next), bounded. */
unsigned int fz_chain_len(const struct rte_mbuf *m);

#endif /* XNB_FUZZ_GUEST_H */
