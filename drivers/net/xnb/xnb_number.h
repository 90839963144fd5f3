/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * Strict decimal numbers, the one parser for devargs, xenstore values
 * and xenstore directory entries: digits only (no sign, space, base
 * prefix or trailing text), bounded.
 */

#ifndef XNB_NUMBER_H
#define XNB_NUMBER_H

#include <stdbool.h>

/* The highest guest domain id (DOMID_FIRST_RESERVED - 1). */
#define XNB_MAX_DOMID 32751

/*
 * s as a decimal number no larger than max; canonical additionally
 * refuses leading zeros ("03" would alias 3 where names are compared).
 * 0, or -EINVAL with *v untouched.
 */
int xnb_parse_dec(const char *s, unsigned long max, bool canonical, unsigned long *v);

/* A xenstore entry that names a guest domain: canonical, 1 to XNB_MAX_DOMID. */
int xnb_parse_domid(const char *s, unsigned long *domid);

#endif /* XNB_NUMBER_H */
