/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Who serves a vif (xnb_owner.c). A backend process that takes a vif
 * writes an owner record into the vif's backend directory, which the
 * guest cannot write: this host's boot id, its pid and start time, and
 * the port's name. A record whose process is gone (killed, or another
 * boot) is free to take over; one whose process lives is another
 * backend's vif, as is a vif the kernel's xen-netback has bound.
 */

#ifndef XNB_OWNER_H
#define XNB_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The owner record's key in the backend directory. */
#define XNB_OWNER_KEY "xnb-owner"
#define XNB_OWNER_MAX 128

/* Our record for port name: 0, or -errno when /proc cannot tell. */
int xnb_owner_self(const char *name, char *buf, size_t size);

/*
 * Is record (as read from xenstore: anyone's writing, parsed strictly)
 * a live process other than us (self)? Then true, with who it is in
 * who. A malformed record, a dead process or another boot: false.
 */
bool xnb_owner_other(const char *record, const char *self, char *who, size_t size);

/* Has a kernel backend (xen-netback) bound type-domid-handle (its sysfs driver link)? */
bool xnb_owner_kernel(const char *type, uint16_t domid, uint16_t handle);

#endif /* XNB_OWNER_H */
