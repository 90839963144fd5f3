/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * The differences between the DPDK releases xnb builds with: Debian 12's
 * 22.11 and Debian 13's 24.11. The code is written against the newer
 * API; where the installed DPDK lacks it, this maps it onto the older
 * one. meson finds out which it is (XNB_HAS_* in
 * drivers/net/xnb/meson.build); nothing else tests a DPDK version.
 */

#ifndef XNB_COMPAT_H
#define XNB_COMPAT_H

#include <rte_telemetry.h>

/*
 * 23.03 added the unsigned telemetry values and deprecated the u64 ones
 * (24.11 warns about them); 22.11 has only rte_tel_data_add_dict_u64().
 */
#ifndef XNB_HAS_TEL_DICT_UINT
#define rte_tel_data_add_dict_uint rte_tel_data_add_dict_u64
#endif

#endif /* XNB_COMPAT_H */
