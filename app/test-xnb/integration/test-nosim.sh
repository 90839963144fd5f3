#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# -Dsim=false: the PMD for hosts that only run real Xen builds, holds
# nothing of lib/xensim, refuses platform=sim naming the option, and on a
# machine without Xen says what the real platform needs.
#
#   test-nosim.sh SRC BUILD DPDK_SRC
#   XNB_SANITIZE_MESON_ARGS  more meson options for the nested build
#                  (devtools/xnb-sanitize: the sanitizers)
set -u
src=$1 build=$2 dpdk_src=$3
name=nosim
. "$src/app/test-xnb/integration/lib.sh"
env_init
trap 'rm -rf "$work"' EXIT

b=$work/build
# shellcheck disable=SC2086  # XNB_SANITIZE_MESON_ARGS: options, or none
meson setup "$b" "$src" -Dsim=false -Dtests=false -Ddpdk_src="$dpdk_src" \
	-Dwerror=true ${XNB_SANITIZE_MESON_ARGS:-} >"$work/setup.log" 2>&1 ||
	{ show_logs "$work/setup.log"; echo "$name: FAIL: meson setup -Dsim=false"; exit 1; }
ninja -C "$b" >"$work/ninja.log" 2>&1 ||
	{ show_logs "$work/ninja.log"; echo "$name: FAIL: the build with -Dsim=false"; exit 1; }
so=$b/drivers/net/xnb/librte_net_xnb.so
check "xensim symbols in the PMD" "$(nm "$so" | grep -c -i xensim)" 0

testpmd() {
	timeout 60 dpdk-testpmd --no-huge --no-pci -m 256 --file-prefix=xnbnosim$$ \
		-d "$so" "$@" -- --total-num-mbufs=2048 </dev/null >"$work/tp.log" 2>&1
}
testpmd --vdev=net_xnb0,domid=3,platform=sim || true
check "platform=sim refused naming the option" \
	"$(grep -c 'invalid platform=sim: expected xen (a Xen host); this build has no simulated platform (-Dsim=false)' "$work/tp.log")" 1
if [ ! -e /dev/xen/gntdev ]; then
	testpmd --vdev=net_xnb0,domid=3 || true
	check "without Xen, what the real platform needs" \
		"$(grep -c 'xengnttab_open failed.*/dev/xen/gntdev.*use platform=sim' "$work/tp.log")" 1
fi
[ "$fail" -eq 0 ] || { show_logs "$work/tp.log"; exit 1; }
echo "$name: ok"
