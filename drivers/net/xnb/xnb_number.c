/* SPDX-License-Identifier: BSD-3-Clause */

/* Strict decimal numbers (xnb_number.h). */

#include <errno.h>
#include <stdlib.h>

#include "xnb_netif.h"
#include "xnb_number.h"

/* Domain ids at and above DOMID_FIRST_RESERVED are not guests. */
_Static_assert(XNB_MAX_DOMID == DOMID_FIRST_RESERVED - 1, "XNB_MAX_DOMID");

int
xnb_parse_dec(const char *s, unsigned long max, bool canonical, unsigned long *v)
{
	unsigned long n;
	char *end;

	/* strtoul alone takes leading space, a sign and "0x". */
	if (s[0] < '0' || s[0] > '9' || (canonical && s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > max)
		return -EINVAL;
	*v = n;
	return 0;
}

int
xnb_parse_domid(const char *s, unsigned long *domid)
{
	unsigned long v;

	if (xnb_parse_dec(s, XNB_MAX_DOMID, true, &v) != 0 || v == 0)
		return -EINVAL;
	*domid = v;
	return 0;
}
