/* SPDX-License-Identifier: BSD-3-Clause */

/* Multicast control's filter (xnb_mcast.h). */

#include <errno.h>
#include <string.h>

#include "xnb_mcast.h"

/* Marks an entry in use: the all-zero address is a valid one to add. */
#define XNB_MCAST_USED (1ull << 48)

static uint64_t
mcast_key(const uint8_t *mac)
{
	uint64_t k = 0;
	unsigned int i;

	for (i = 0; i < 6; i++)
		k = k << 8 | mac[i];
	return k | XNB_MCAST_USED;
}

int
xnb_mcast_add(struct xnb_mcast *mc, const uint8_t *mac)
{
	uint64_t key = mcast_key(mac), free_slot;
	unsigned int i;

	for (i = 0; i < XNB_MCAST_MAX; i++) {
		free_slot = 0;
		if (__atomic_compare_exchange_n(&mc->addr[i], &free_slot, key, false,
				__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return 0;
	}
	return -ENOSPC;
}

void
xnb_mcast_del(struct xnb_mcast *mc, const uint8_t *mac)
{
	uint64_t key = mcast_key(mac), cur;
	unsigned int i;

	for (i = 0; i < XNB_MCAST_MAX; i++) {
		cur = key;
		if (__atomic_compare_exchange_n(&mc->addr[i], &cur, 0, false,
				__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return;
	}
}

void
xnb_mcast_clear(struct xnb_mcast *mc)
{
	unsigned int i;

	for (i = 0; i < XNB_MCAST_MAX; i++)
		__atomic_store_n(&mc->addr[i], 0, __ATOMIC_RELAXED);
}

bool
xnb_mcast_pass(const struct xnb_mcast *mc, const uint8_t *dst)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint64_t key;
	unsigned int i;

	/* Unicast and broadcast are not filtered (Linux: PACKET_MULTICAST only). */
	if ((dst[0] & 1) == 0 || memcmp(dst, bcast, sizeof(bcast)) == 0)
		return true;
	key = mcast_key(dst);
	for (i = 0; i < XNB_MCAST_MAX; i++)
		if (__atomic_load_n(&mc->addr[i], __ATOMIC_ACQUIRE) == key)
			return true;
	return false;
}
