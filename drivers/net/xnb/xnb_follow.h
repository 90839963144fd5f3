/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * domain=NAME: which domain the guest of that name is. xenstore's
 * /local/domain/<id>/name entries are anyone's writing, so they are
 * read strictly and bounded. The XenBus side (xnb_xenbus.c) acts on the
 * answer.
 */

#ifndef XNB_FOLLOW_H
#define XNB_FOLLOW_H

#include <stdint.h>

struct xnb_xenbus;

/*
 * Watch what tells of guests coming and going: the backend type
 * directory (the toolstack writes a new guest's vifs there) and, on a
 * real Xen host, @introduceDomain and @releaseDomain. 0 or -errno.
 */
int xnb_follow_watch(struct xnb_xenbus *bus);
void xnb_follow_unwatch(struct xnb_xenbus *bus);

/*
 * The domain named bus->domain now: 0 when none. While a guest is
 * rebuilt two domains may carry the name for a moment: the one served
 * (bus->domid) stays, else the one with our vif, else the lowest id.
 */
uint16_t xnb_follow_resolve(struct xnb_xenbus *bus);

#endif /* XNB_FOLLOW_H */
