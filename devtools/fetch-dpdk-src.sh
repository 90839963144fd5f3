#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Fetch the DPDK source tree that matches the installed libdpdk from
# Debian's source package (Debian 12: 22.11.x, Debian 13: 24.11.x).
# Debian's libdpdk-dev lacks the driver SDK headers (ethdev_driver.h,
# ethdev_vdev.h, bus_vdev_driver.h, ...); the source tree has them.
#
# Usage: fetch-dpdk-src.sh DESTDIR
# Prints the path of the unpacked tree on success.
set -eu

dest=${1:?usage: fetch-dpdk-src.sh DESTDIR}
want=$(pkg-config --modversion libdpdk) || {
	echo "fetch-dpdk-src: libdpdk is not installed (apt-get install libdpdk-dev)" >&2
	exit 1
}
debver=$(dpkg-query -W -f '${Version}' libdpdk-dev)
# The upstream version: no epoch, no Debian revision (24.11.8-0+deb13u1).
upver=${debver#*:}
upver=${upver%-*}

# No source package, no SDK headers: say what to do.
unreachable() {
	echo "fetch-dpdk-src: $1: make Debian's deb-src of dpdk $debver reachable, or give meson -Ddpdk_src= a DPDK $want source tree" >&2
	exit 1
}

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
tree="$dest/dpdk-$want"
if [ -f "$tree/VERSION" ] && [ "$(cat "$tree/VERSION")" = "$want" ]; then
	echo "$tree"
	exit 0
fi

# deb-src entries for the same archives as the binary packages, from every
# place apt reads: deb822 *.sources, sources.list and *.list files.
lists="$dest/apt"
parts="$lists/parts"
rm -rf "$parts"
mkdir -p "$lists/lists/partial" "$parts"
n=0
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	sed -n -e 's/^Types:.*/Types: deb-src/' \
		-e '/^\(Types\|URIs\|Suites\|Components\|Signed-By\):/p' -e '/^$/p' \
		"$f" > "$parts/src$n.sources"
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	sed -n 's/^deb\([[:space:]]\)/deb-src\1/p' "$f" > "$parts/src$n.list"
done
aptopts="-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts=$parts -o Dir::State::Lists=$lists/lists -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root"
apt-get $aptopts update >&2 || unreachable "apt-get update of the deb-src lists failed"
cd "$dest"
apt-get $aptopts source --download-only "dpdk=$debver" >&2 ||
	unreachable "Debian's source package dpdk=$debver could not be downloaded"
orig=$(ls "dpdk_$upver".orig.tar.* 2>/dev/null | head -n 1)
[ -n "$orig" ] || unreachable "no dpdk_$upver.orig.tar.* among what apt-get source downloaded"
rm -rf "$tree.tmp"
mkdir -p "$tree.tmp"
tar -xf "$orig" -C "$tree.tmp" --strip-components=1
got=$(cat "$tree.tmp/VERSION")
if [ "$got" != "$want" ]; then
	echo "fetch-dpdk-src: source package has DPDK $got but libdpdk is $want" >&2
	exit 1
fi
rm -rf "$tree"
mv "$tree.tmp" "$tree"
echo "$tree"
