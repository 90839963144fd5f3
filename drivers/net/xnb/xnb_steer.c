/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Steering to the guest by its hash (xnb_steer.h). The tuple is read
 * after xnb_hdr_parse() (VLAN tags, IPv6 extension headers, fragments);
 * a fragment gets the addresses' hash only, as Linux's flow dissector
 * gives no ports for one. The hash is DPDK's rte_softrss: the test suite
 * checks it against netif.h's reference (xen_netif_toeplitz_hash()) and
 * the published Toeplitz test vectors.
 */

#include <stddef.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_thash.h>

#include "xnb_offload.h"
#include "xnb_private.h"
#include "xnb_steer.h"

/* The hash input of m and its type, or 0 words. */
static uint32_t
steer_tuple(const struct xnb_steer_cfg *cfg, const struct rte_mbuf *m, uint32_t *t,
		uint8_t *type)
{
	uint8_t buf[2 * 16 + 4];
	const uint8_t *p;
	struct xnb_hdr h;
	uint32_t alen, n, i, l4;
	bool tcp;

	if (xnb_hdr_parse(m, &h) != 0 || h.l3_len == 0)
		return 0;
	tcp = h.proto == IPPROTO_TCP && !h.frag;
	if (!h.ipv6) {
		if (tcp && (cfg->types & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP))
			*type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP + 1;
		else if (cfg->types & XEN_NETIF_CTRL_HASH_TYPE_IPV4)
			*type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4 + 1;
		else
			return 0;
		alen = 4;
		p = rte_pktmbuf_read(m, h.l2_len + offsetof(struct rte_ipv4_hdr, src_addr),
			2 * alen, buf);
	} else {
		if (tcp && (cfg->types & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP))
			*type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP + 1;
		else if (cfg->types & XEN_NETIF_CTRL_HASH_TYPE_IPV6)
			*type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6 + 1;
		else
			return 0;
		alen = 16;
		p = rte_pktmbuf_read(m, h.l2_len + offsetof(struct rte_ipv6_hdr, src_addr),
			2 * alen, buf);
	}
	if (p == NULL)
		return (*type = 0);
	if (p != buf)
		memcpy(buf, p, 2 * alen);
	n = 2 * alen;
	if (*type == _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP + 1 ||
			*type == _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP + 1) {
		l4 = (uint32_t)h.l2_len + h.l3_len;
		p = rte_pktmbuf_read(m, l4, 4, buf + n);
		if (p == NULL)
			return (*type = 0);
		if (p != buf + n)
			memcpy(buf + n, p, 4);
		n += 4;
	}
	/* rte_softrss takes the big-endian input as host-order words. */
	for (i = 0; i < n / 4; i++)
		t[i] = rte_be_to_cpu_32(*(const unaligned_uint32_t *)(buf + 4 * i));
	return n / 4;
}

uint16_t
xnb_steer_pick(const struct xnb_steer_cfg *cfg, uint16_t nb_queues, const struct rte_mbuf *m,
		struct xnb_tx_hash *h)
{
	uint32_t t[9], n, size, q;

	/* rte_softrss reads the key in 32-bit words. */
	RTE_BUILD_BUG_ON(offsetof(struct xnb_steer_cfg, key) % sizeof(uint32_t) != 0);
	h->type = 0;
	h->value = 0;
	n = steer_tuple(cfg, m, t, &h->type);
	if (n != 0)
		h->value = rte_softrss(t, n, cfg->key);
	size = RTE_MIN(cfg->size, (uint32_t)XNB_HASH_MAPPING_MAX);
	q = size != 0 ? cfg->mapping[h->value % size] : h->value % nb_queues;
	return q < nb_queues ? (uint16_t)q : 0;
}

void
xnb_steer_publish(struct xnb_steer *st, const struct xnb_hash *hash, uint16_t nb_queues)
{
	uint32_t next = !__atomic_load_n(&st->sel, __ATOMIC_RELAXED);
	struct xnb_steer_cfg *c = &st->cfg[next];

	c->types = hash->types;
	c->size = hash->size;
	memcpy(c->key, hash->key, sizeof(c->key));
	memcpy(c->mapping, hash->mapping, sizeof(c->mapping));
	st->nb_queues = nb_queues;
	__atomic_store_n(&st->sel, next, __ATOMIC_RELEASE);
}
