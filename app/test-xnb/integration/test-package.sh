#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The Debian package (debian/, doc/packaging.md), as root on Debian 12:
#  1. builds it with dpkg-buildpackage from a copy of the checkout's HEAD
#     (git archive) and its .deps/dpdk-<version> (the driver SDK headers)
#     in a temporary directory, so that nothing lands in the checkout;
#  2. runs lintian on the .changes (.dsc, .debs, .buildinfo): any error or
#     warning not overridden with its reason fails;
#  3. in a clean Debian 12 chroot, a throwaway copy of a cached one,
#     installs the .deb with apt-get (which must find every dependency from
#     its Depends alone: the plugin's libraries all resolve), then Debian's
#     dpdk-dev for dpdk-testpmd;
#  4. runs Debian's dpdk-testpmd there without -d: EAL loads the packaged
#     plugin from its PMD directory and the driver probes net_xnb0 (no
#     xenstore there: the driver's own "cannot connect to xenstore"); bad
#     devargs get the driver's errors naming the key;
#  5. checks that vif-xnb, the header and the docs are where the package
#     puts them, that `dpkg -r` removes every file but the conffile vif-xnb
#     and testpmd no longer finds the driver, and that `dpkg -P` leaves
#     nothing of the package behind.
#
# The chroot cache is $XNB_PKG_CACHE (default /var/cache/xnb-pkg-bookworm)
# /bookworm-KEY, KEY a hash of the mirrors and package lists below: a
# changed list makes a new one and removes the old. debootstrap (minbase)
# builds it in a temporary directory, renamed into place only when complete;
# it holds apt's lists and the .debs of the packages installed in step 3,
# downloaded, not installed, so each run installs them itself. Each run
# copies it, so the cache stays clean. /proc, /sys, /dev and a private
# /dev/shm are mounted into the copy and always unmounted.
#
# Usage: test-package.sh SRCDIR [BUILDDIR]
#   BUILDDIR: the logs of the run are kept in BUILDDIR/meson-logs/package
# XNB_PKG_MIRROR (default http://deb.debian.org/debian),
# XNB_PKG_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
set -eu

src=$(cd "$1" && pwd)
logs=
[ -z "${2:-}" ] || logs=$2/meson-logs/package
prog=test-package
cache_base=${XNB_PKG_CACHE:-/var/cache/xnb-pkg-bookworm}
mirror=${XNB_PKG_MIRROR:-http://deb.debian.org/debian}
secmirror=${XNB_PKG_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=bookworm
pkg=dpdk-pmd-xnb
# Downloaded into the cached chroot and installed by each run: the
# package's runtime dependencies (librte-* come with dpdk-dev) and
# dpdk-dev, which has dpdk-testpmd on Debian 12.
fetch_pkgs="dpdk-dev libxengnttab1 libxenevtchn1 libxenstore4"
# Bump when the way the chroot is made changes.
recipe=1

t0=$(date +%s)
step() {
	echo "$prog: [$(($(date +%s) - t0)) s] $*"
}
fail() {
	echo "FAIL: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || fail "run as root: debootstrap, chroot and mounts need it"
# shellcheck disable=SC1091
. /etc/os-release
[ "${VERSION_CODENAME:-}" = $suite ] ||
	fail "the package is built against this machine's DPDK for Debian 12 ($suite), and this is ${PRETTY_NAME:-not Debian}"
for t in git dpkg-buildpackage dh lintian debootstrap pkg-config; do
	command -v $t >/dev/null || fail "$t is not installed: run devtools/xnb-setup"
done
git -C "$src" rev-parse --verify -q HEAD >/dev/null ||
	fail "$src is not a git checkout with a commit: the package is built from HEAD"

mkdir -p "$cache_base"
work=$(mktemp -d /var/tmp/xnb-package.XXXXXX)
root=$work/root
mounts=

unmount_all() {
	for m in $mounts; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
			echo "$prog: cannot unmount $m" >&2
	done
	mounts=
}
# Unmount whatever is still mounted below $1; false if something stays.
unmount_below() {
	grep -o " $1/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || :
	done
	! grep -q " $1/" /proc/self/mounts
}
# Remove directory $1, never through a mount.
remove_dir() {
	[ -e "$1" ] || return 0
	if unmount_below "$1"; then
		rm -rf --one-file-system "$1"
	else
		echo "$prog: not removing $1: something is still mounted below it" >&2
	fi
}
newcache=
cleanup() {
	rc=$?
	unmount_all
	if [ -n "$logs" ]; then
		if mkdir -p "$logs"; then
			cp "$work"/*.log "$logs"/ 2>/dev/null || :
		fi
	fi
	remove_dir "$work"
	[ -z "$newcache" ] || remove_dir "$newcache"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# mnt DIR ARGS...: mount onto DIR, remembered for cleanup; made private,
# so that nothing mounted below it reaches the host's mounts.
mnt() {
	d=$1
	shift
	mount "$@" "$d"
	mounts="$d $mounts"
	mount --make-rprivate "$d"
}
mount_system() {
	mnt "$1/proc" -t proc proc
	mnt "$1/sys" -t sysfs -o ro sysfs
	mnt "$1/dev" --bind /dev
	mnt "$1/dev/shm" -t tmpfs -o mode=1777,size=512m tmpfs
}
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"
}
# logged NAME CMD...: run CMD with its output in $work/NAME.log; on failure
# show the end of it.
logged() {
	name=$1
	shift
	if "$@" >"$work/$name.log" 2>&1; then
		return 0
	fi
	tail -n 40 "$work/$name.log"
	return 1
}

# 1. The package, from HEAD and the driver SDK headers of .deps.
step "building the package from HEAD ($(git -C "$src" rev-parse --short HEAD))"
[ -z "$(git -C "$src" status --porcelain -- debian)" ] ||
	echo "$prog: note: debian/ has uncommitted changes; the package is built from HEAD without them"
dpdk_src=$("$src/devtools/fetch-dpdk-src.sh" "$src/.deps") ||
	fail "no DPDK driver SDK headers (devtools/fetch-dpdk-src.sh said why above)"
tree=$work/build/xnb
mkdir -p "$tree/.deps"
git -C "$src" archive HEAD | tar -x -C "$tree"
cp -a "$dpdk_src" "$tree/.deps/"
[ -f "$tree/debian/control" ] || fail "HEAD has no debian/control"
# dpkg-buildpackage -j2: the machine has two cores.
(cd "$tree" && logged dpkg-buildpackage dpkg-buildpackage -us -uc -j2) ||
	fail "dpkg-buildpackage failed (log: ${logs:-$work}/dpkg-buildpackage.log)"
version=$(cd "$tree" && dpkg-parsechangelog -S Version)
deb=$(ls "$work/build/${pkg}_${version}"_*.deb 2>/dev/null | head -n 1)
changes=$(ls "$work/build/xnb_${version}"_*.changes 2>/dev/null | head -n 1)
[ -n "$deb" ] && [ -n "$changes" ] || fail "dpkg-buildpackage made no ${pkg}_$version .deb or .changes"
echo "ok: built $(basename "$deb") and the source package xnb_$version"
if git -C "$src" status --porcelain --ignored -- debian | grep -q .; then
	git -C "$src" status --porcelain --ignored -- debian
	fail "the build left files in the checkout's debian/"
fi

# 2. lintian: errors and warnings fail unless overridden (with a reason,
# debian/README.source).
step "lintian"
rc=0
lintian --fail-on error,warning --pedantic --display-info --show-overrides \
	"$changes" >"$work/lintian.log" 2>&1 || rc=$?
grep -v 'running with root privileges is not recommended' "$work/lintian.log" | sed 's/^/  /'
[ $rc = 0 ] ||
	fail "lintian reports errors or warnings (above): fix them, or override them with the reason"
echo "ok: lintian: no error or warning; $(grep -c '^[IPO]: ' "$work/lintian.log" || :) info, pedantic or overridden tag(s), listed above"

# 3. The chroot: the cached one, made if missing, copied.
key=$(printf '%s\n' "$recipe" "$mirror" "$secmirror" "$suite" minbase "$fetch_pkgs" |
	sha256sum | cut -c1-12)
cache=$cache_base/$suite-$key
# One run at a time makes or replaces the cache; what a killed run left
# half made (.new.*, perhaps with debootstrap's mounts) goes first.
exec 9>"$cache_base/.lock"
flock 9
for old in "$cache_base"/.new.*; do
	[ -d "$old" ] && remove_dir "$old"
done
if [ ! -d "$cache" ]; then
	step "creating the cached chroot $cache (debootstrap $suite from $mirror)"
	newcache=$(mktemp -d "$cache_base/.new.XXXXXX")
	chmod 755 "$newcache"
	logged debootstrap debootstrap --variant=minbase $suite "$newcache" "$mirror" ||
		fail "debootstrap of $suite from $mirror failed: is the mirror reachable? (XNB_PKG_MIRROR)"
	cat >"$newcache/etc/apt/sources.list" <<-EOF
	deb $mirror $suite main
	deb $mirror $suite-updates main
	deb $secmirror $suite-security main
	EOF
	# No daemon starts in the chroot; dpkg need not sync every file.
	printf '#!/bin/sh\nexit 101\n' >"$newcache/usr/sbin/policy-rc.d"
	chmod 755 "$newcache/usr/sbin/policy-rc.d"
	echo force-unsafe-io >"$newcache/etc/dpkg/dpkg.cfg.d/unsafe-io"
	cp /etc/resolv.conf "$newcache/etc/resolv.conf"
	root=$newcache
	logged apt-update in_root apt-get update ||
		fail "apt-get update in the new chroot failed: are $mirror and $secmirror reachable?"
	# shellcheck disable=SC2086
	logged apt-download in_root apt-get install -y --download-only --no-install-recommends $fetch_pkgs ||
		fail "downloading $fetch_pkgs into the new chroot failed"
	root=$work/root
	for old in "$cache_base/$suite"-*; do
		[ -d "$old" ] && remove_dir "$old"
	done
	mv "$newcache" "$cache"
	newcache=
	echo "ok: made the cached chroot $cache"
fi
step "copying the cached chroot $cache"
cp -a "$cache" "$root"
flock -u 9
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount_system "$root"
cp "$deb" "$root/tmp/"
debname=/tmp/$(basename "$deb")

step "installing $(basename "$deb") with its dependencies"
logged apt-install-deb in_root apt-get install -y --no-install-recommends "$debname" ||
	fail "apt-get install of the package into a clean Debian 12 failed (its Depends?)"
sed -n 's/^Setting up \([^ ]*\) .*/\1/p' "$work/apt-install-deb.log" | sort | tr '\n' ' ' >"$work/pulled"
echo "ok: apt-get installed $pkg and its dependencies: $(cat "$work/pulled")"
for d in libxengnttab1 libxenevtchn1 libxenstore4 librte-ethdev23 librte-bus-vdev23; do
	grep -q "$d:\|$d " "$work/pulled" ||
		fail "$d did not come with the package (Depends: $(dpkg-deb -f "$deb" Depends))"
done
pmddir=$(in_root sh -c 'ls -d /usr/lib/*/dpdk/pmds-*' | tail -n 1)
so=$pmddir/librte_net_xnb.so
in_root test -f "$so" || fail "the package did not install $so"
in_root ldd "$so" >"$work/ldd.log" 2>&1 || { cat "$work/ldd.log"; fail "ldd $so failed"; }
if grep 'not found' "$work/ldd.log"; then
	fail "the plugin's libraries above are not installed by the package's Depends"
fi
echo "ok: every library of $so resolves with only the package's dependencies installed"

step "installing Debian's dpdk-dev (dpdk-testpmd)"
logged apt-install-dpdk in_root apt-get install -y --no-install-recommends dpdk-dev ||
	fail "apt-get install dpdk-dev in the chroot failed"

# 4. Debian's dpdk-testpmd without -d.
testpmd() {
	log=$work/$1.log
	shift
	in_root timeout 60 dpdk-testpmd --no-huge --no-pci -m 256 --file-prefix=xnbpkg$$ \
		--log-level=lib.eal:debug --log-level=pmd.net.xnb:info "$@" \
		-- -i --total-num-mbufs=2048 </dev/null >"$log" 2>&1 || :
}
step "dpdk-testpmd in the chroot, without -d"
testpmd testpmd-probe --vdev=net_xnb0,domid=3,platform=sim,sim_dir=/nonexistent
grep -q "open shared lib $so\$" "$work/testpmd-probe.log" ||
	{ tail -n 40 "$work/testpmd-probe.log"; fail "EAL did not load $so from the PMD directory"; }
grep -q "net_xnb0 (dom 3 vif 0): cannot connect to xenstore" "$work/testpmd-probe.log" ||
	{ grep -v 'EAL: open shared lib' "$work/testpmd-probe.log" | tail -n 40; fail "the packaged plugin did not probe net_xnb0"; }
echo "ok: dpdk-testpmd loaded $so by itself (EAL: open shared lib $so) and probed net_xnb0: \"$(grep -o 'net_xnb0 (dom 3 vif 0): cannot connect to xenstore.*' "$work/testpmd-probe.log" | head -n 1)\""
testpmd testpmd-domid --vdev=net_xnb0,domid=abc,platform=sim
grep -q "invalid domid=abc: expected an integer from 1 to 32751" "$work/testpmd-domid.log" ||
	{ tail -n 40 "$work/testpmd-domid.log"; fail "no error naming the bad devarg domid"; }
testpmd testpmd-platform --vdev=net_xnb0,domid=3,platform=hvm
grep -q "invalid platform=hvm: expected xen" "$work/testpmd-platform.log" ||
	{ tail -n 40 "$work/testpmd-platform.log"; fail "no error naming the bad devarg platform"; }
echo "ok: bad devargs are refused by key: \"$(grep -o 'invalid domid=abc.*' "$work/testpmd-domid.log" | head -n 1)\", \"$(grep -o 'invalid platform=hvm.*' "$work/testpmd-platform.log" | head -n 1)\""

# 5. Where the files are, and removal.
step "the installed files"
in_root dpkg -L $pkg >"$work/files.log"
in_root sh -c "cat /var/lib/dpkg/info/$pkg.conffiles" >"$work/conffiles.log" 2>/dev/null || :
[ "$(cat "$work/conffiles.log")" = /etc/xen/scripts/vif-xnb ] ||
	fail "the conffiles are '$(cat "$work/conffiles.log")', not /etc/xen/scripts/vif-xnb"
in_root test -x /etc/xen/scripts/vif-xnb || fail "vif-xnb is not an executable in /etc/xen/scripts"
cmp -s "$root/etc/xen/scripts/vif-xnb" "$tree/usertools/vif-xnb" ||
	fail "the installed vif-xnb differs from usertools/vif-xnb"
cmp -s "$root/usr/include/dpdk/rte_pmd_xnb.h" "$tree/drivers/net/xnb/rte_pmd_xnb.h" ||
	fail "/usr/include/dpdk/rte_pmd_xnb.h is missing or differs from drivers/net/xnb/rte_pmd_xnb.h"
doc=/usr/share/doc/$pkg
for f in README.md xnb.rst copyright changelog; do
	[ -f "$root$doc/$f" ] || [ -f "$root$doc/$f.gz" ] || fail "$doc/$f(.gz) is not installed"
done
zcat "$root$doc/README.md.gz" | cmp -s - "$tree/README.md" || fail "$doc/README.md.gz is not README.md"
echo "ok: /etc/xen/scripts/vif-xnb (executable, a conffile), /usr/include/dpdk/rte_pmd_xnb.h, $doc/: $(ls "$root$doc" | tr '\n' ' ')"

step "dpkg -r $pkg"
logged dpkg-remove in_root dpkg -r $pkg || fail "dpkg -r $pkg failed"
left=
while read -r f; do
	[ "$f" = /. ] && continue
	if [ -d "$root$f" ] && [ ! -L "$root$f" ]; then
		continue
	fi
	if grep -qx "$f" "$work/conffiles.log"; then
		[ -f "$root$f" ] || fail "dpkg -r removed the conffile $f (only a purge should)"
	elif [ -e "$root$f" ] || [ -L "$root$f" ]; then
		left="$left $f"
	fi
done <"$work/files.log"
[ -z "$left" ] || fail "dpkg -r left:$left"
testpmd testpmd-removed --vdev=net_xnb0,domid=3,platform=sim,sim_dir=/nonexistent
if grep -q "librte_net_xnb\|cannot connect to xenstore" "$work/testpmd-removed.log"; then
	fail "dpdk-testpmd still finds the driver after dpkg -r"
fi
echo "ok: dpkg -r removed every file but the conffile /etc/xen/scripts/vif-xnb; dpdk-testpmd no longer knows net_xnb"

step "dpkg -P $pkg"
logged dpkg-purge in_root dpkg -P $pkg || fail "dpkg -P $pkg failed"
while read -r f; do
	[ "$f" = /. ] && continue
	[ -e "$root$f" ] || [ -L "$root$f" ] || continue
	# A directory another package owns (/usr/include/dpdk, ...) stays.
	if [ -d "$root$f" ] && in_root dpkg-query -S "$f" >/dev/null 2>&1; then
		continue
	fi
	left="$left $f"
done <"$work/files.log"
[ -z "$left" ] || fail "dpkg -P left:$left"
status=$(in_root dpkg-query -W -f '${Status}' $pkg 2>/dev/null || :)
case $status in
'' | *not-installed) ;;
*) fail "dpkg still knows $pkg after the purge: $status" ;;
esac
echo "ok: dpkg -P left nothing of $pkg (its own directories, /etc/xen/scripts among them, are gone)"
step "done"
