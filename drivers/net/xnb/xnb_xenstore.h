/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Small helpers over libxenstore: keys under a directory, strict number
 * parsing of values the frontend wrote (they are hostile input), and
 * printf-style writes.
 */

#ifndef XNB_XENSTORE_H
#define XNB_XENSTORE_H

#include <stdbool.h>
#include <stdint.h>

#include <xenstore.h>

#include <rte_interrupts.h>

/* Longest value we accept from the frontend. */
#define XNB_XS_VALUE_MAX 128

/*
 * Read dir/key as a string into buf (NUL-terminated). -ENOENT when the
 * key is absent, -E2BIG when longer than size - 1, -errno otherwise.
 */
int xnb_xs_read(struct xs_handle *xs, xs_transaction_t t, const char *dir,
		const char *key, char *buf, size_t size);

/*
 * Read dir/key as a decimal unsigned integer no larger than max. -ENOENT
 * when absent, -EINVAL when it is not such a number.
 */
int xnb_xs_read_uint(struct xs_handle *xs, xs_transaction_t t,
		const char *dir, const char *key, unsigned long max,
		unsigned long *out);

/* A boolean feature key: 1 if "1", 0 if absent or "0", -EINVAL else. */
int xnb_xs_read_bool(struct xs_handle *xs, xs_transaction_t t,
		const char *dir, const char *key);

/* Write dir/key = printf(fmt, ...). 0 or -errno. */
int xnb_xs_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir,
		const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A XenbusState node: its value, XenbusStateUnknown (0) when absent or bad. */
int xnb_xs_read_state(struct xs_handle *xs, const char *dir);

/*
 * Take every pending watch event without acting on each (the caller
 * makes one pass over the state afterwards: XSA-349). The number of
 * events, or -errno when reading failed before any.
 */
int xnb_xs_drain_watches(struct xs_handle *xs);

/*
 * Whether xs still reaches xenstored: one round trip. Asked after a
 * pass's reads, a true answer also proves that their answers were
 * xenstored's (one connection answers in order), not the errors of a
 * lost connection, which read like absent nodes.
 */
bool xnb_xs_alive(struct xs_handle *xs);

/*
 * A connection to xenstored lost and made again: said once each way,
 * with how long it was gone (who: the port's or instance's name; what:
 * what goes on meanwhile).
 */
struct xnb_xs_outage {
	bool lost;
	uint64_t since;       /* timer cycles */
	unsigned int tries;   /* reconnects tried */
};
void xnb_xs_outage_begin(struct xnb_xs_outage *o, const char *who, const char *what);
void xnb_xs_outage_end(struct xnb_xs_outage *o, const char *who);

/* Our own domain: "domid" relative to our home in xenstore; dom0 when absent. */
uint32_t xnb_xs_self_domid(struct xs_handle *xs);

/*
 * Have cb(arg) called on DPDK's interrupt thread whenever xs has watch
 * events. 0 with *intr set, or -errno (logged, with who for context).
 */
int xnb_xs_watch_intr(struct xs_handle *xs, const char *who, rte_intr_callback_fn cb,
		void *arg, struct rte_intr_handle **intr);
/* Undo it; waits for a running cb. Not from cb itself. */
void xnb_xs_unwatch_intr(struct rte_intr_handle **intr, rte_intr_callback_fn cb, void *arg);

#endif /* XNB_XENSTORE_H */
