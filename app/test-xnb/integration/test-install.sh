#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# `ninja install` puts librte_net_xnb.so into DPDK's PMD directory (checked
# in a DESTDIR, so this machine's DPDK applications are left alone), and
# Debian's unmodified dpdk-testpmd loads the installed plugin, registers
# net_xnb and reports devarg errors by key.
#
# Usage: test-install.sh SRCDIR BUILDDIR
set -eu

src=$1
build=$2
# shellcheck source=../../../devtools/testpmd-lib.sh
. "$src/devtools/testpmd-lib.sh"
# EAL refuses a plugin below a world-writable directory: work in the first
# of these that is not (/run normally is not; a container's may be).
work=
for base in /run /var/cache /root; do
	if [ -d "$base" ] && [ -z "$(find "$base" -maxdepth 0 -perm -0002)" ]; then
		work=$(mktemp -d "$base/xnb-install.XXXXXX") && break
	fi
done
[ -n "$work" ] || { echo "FAIL: no directory that is not world-writable for the plugin"; exit 1; }
trap 'rm -rf "$work"' EXIT INT TERM
fail() {
	echo "FAIL: $*"
	exit 1
}

command -v dpdk-testpmd >/dev/null ||
	fail "dpdk-testpmd is not installed (apt-get install dpdk-dev)"
pmddir=$(ls -d "$(pkg-config --variable=libdir libdpdk)"/dpdk/pmds-* | tail -n 1)
meson install -C "$build" --no-rebuild --destdir "$work/root" >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log"; fail "meson install"; }
so=$work/root$pmddir/librte_net_xnb.so
[ -f "$so" ] || fail "not installed into the PMD directory $pmddir"
echo "ok: installed as $pmddir/librte_net_xnb.so"
script=$work/root/etc/xen/scripts/vif-xnb
[ -x "$script" ] || fail "vif-xnb not installed as an executable into /etc/xen/scripts"
cmp -s "$script" "$src/usertools/vif-xnb" || fail "the installed vif-xnb differs from usertools/vif-xnb"
echo "ok: installed /etc/xen/scripts/vif-xnb, where libxl finds script=vif-xnb"

testpmd() {
	# one-shot (devtools/testpmd-lib.sh): its output in $work/tp.log
	TP_RUN_TIMEOUT=60 tp_run "$work/tp" --no-huge --no-pci -m 256 --file-prefix=xnbinst$$ \
		--log-level=pmd.net.xnb:info -d "$so" "$@" -- --total-num-mbufs=2048
}

# The plugin loads and its driver probes: without a xenstored the probe
# fails with a message saying what to do, and testpmd carries on without it.
testpmd --vdev=net_xnb0,domid=3,platform=sim,sim_dir="$work/nosim" || true
grep -q "net_xnb0 (dom 3 vif 0): cannot connect to xenstore" "$work/tp.log" ||
	{ cat "$work/tp.log"; fail "the installed plugin did not probe net_xnb0"; }
echo "ok: dpdk-testpmd loads the installed plugin and probes net_xnb0"

# A bad devarg names the key and the accepted values.
testpmd --vdev=net_xnb0,domid=abc,platform=sim || true
grep -q "invalid domid=abc: expected an integer from 1 to 32751" "$work/tp.log" ||
	{ cat "$work/tp.log"; fail "no error naming the bad devarg"; }
testpmd --vdev=net_xnb0,domid=3,platform=hvm || true
grep -q "invalid platform=hvm: expected xen" "$work/tp.log" ||
	{ cat "$work/tp.log"; fail "no error naming the bad platform"; }
echo "ok: bad devargs are refused by key"
