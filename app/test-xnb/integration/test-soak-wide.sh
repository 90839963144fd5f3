#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The soak test (test-soak.sh) with 64 vifs in one dpdk-testpmd. Debian's
# DPDK allows 32 ports in one process (RTE_MAX_ETHPORTS), so this takes
# the testpmd of a DPDK built from the same source with 64
# (devtools/xnb-dpdk-wide: built once, about 3 minutes, cached in
# /var/cache/xnb-dpdk-wide) and an xnb built against it in BUILDDIR/wide
# (a nested build of this tree, kept for the next run).
#
# Usage: test-soak-wide.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_SOAK_FRAMES   frames per generator and round (test-soak.sh's)
set -eu

src=${1:?usage: test-soak-wide.sh SRCDIR BUILDDIR}
build=${2:?usage: test-soak-wide.sh SRCDIR BUILDDIR}

wide=$("$src/devtools/xnb-dpdk-wide" --xnb "$build/wide" 64) || {
	echo "test-soak-wide: FAIL: no DPDK with 64 ports, or no xnb built against it"
	exit 1
}
XNB_SOAK_VIFS=64 TP_TESTPMD=$wide/bin/dpdk-testpmd \
	exec "$src/app/test-xnb/integration/test-soak.sh" "$src" "$build/wide"
