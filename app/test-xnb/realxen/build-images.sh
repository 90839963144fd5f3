#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build (once) and cache the base images of the real-Xen harness, from
# Debian's packages alone:
#   xen              the uncompressed Xen 4.17 hypervisor (QEMU's multiboot
#                    loader cannot take the gzipped one)
#   vmlinuz          the Debian kernel, dom0's and the guest's
#   initrd.img       dom0's initramfs: busybox, virtio-blk and ext4, an
#                    /init that mounts /dev/vda and switches to it (no
#                    udev: saves about 20 s per boot under TCG)
#   dom0.img         dom0's root file system (ext4): bookworm minbase, Xen
#                    and its tools, the kernel, DPDK's testpmd, Open
#                    vSwitch with DPDK (ovs-vswitchd-dpdk); netback
#                    blacklisted
#   domU-base.cpio.gz  the guest's initramfs: static busybox, the same
#                    kernel's xen-netfront.ko, ethtool, OpenBSD netcat
#                    (busybox nc cannot reach fe80::1%eth0); its /init hands
#                    over to /xnb/init, which each run appends (see
#                    run-scenario.sh)
#
# The cache lives in $XNB_REALXEN_CACHE (default /var/cache/xnb-realxen),
# one directory per hash of this script and of devtools/testpmd-lib.sh
# (the project's testpmd driver, which dom0's lib.sh sources from the
# image, /usr/local/lib/xnb): edit either and the next run rebuilds;
# anything else (the harness, the scenarios, the PMD) travels in the
# per-run payload and never forces a rebuild.
#
# Usage: build-images.sh [--force]
# Prints the image directory on stdout; everything else goes to stderr.
# Exit 77 (skip) when the images are missing and cannot be built here
# (not root).
set -euo pipefail

script=$(readlink -f "$0")
tp_lib=$(dirname "$script")/../../../devtools/testpmd-lib.sh
[ -f "$tp_lib" ] || { echo "[build-images] ERROR: no $tp_lib" >&2; exit 1; }
cache=${XNB_REALXEN_CACHE:-/var/cache/xnb-realxen}
mirror=${XNB_REALXEN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${XNB_REALXEN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
key=$(cat "$script" "$tp_lib" | sha256sum | cut -c1-16)
out=$cache/$key
force=no
[ "${1:-}" = --force ] && force=yes

log() { echo "[build-images] $*" >&2; }
die() { echo "[build-images] ERROR: $*" >&2; exit 1; }

if [ $force = no ] && [ -f "$out/complete" ]; then
	echo "$out"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "[build-images] the real-Xen images are not in $out and building them" \
		"needs root (debootstrap, chroot, apt-get); run" \
		"'sudo $script' once, or set XNB_REALXEN_CACHE to a built cache" >&2
	exit 77
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -w 1800 9; then
	die "another build holds $cache/.lock for more than 30 minutes; remove it if stale"
fi
if [ $force = no ] && [ -f "$out/complete" ]; then
	echo "$out"
	exit 0
fi

work=$out.tmp
root=$work/rootfs
t_all=$(date +%s)
t_step=$t_all
step() {
	local now
	now=$(date +%s)
	log "step '$1' took $((now - t_step)) s (total $((now - t_all)) s)"
	t_step=$now
}

umount_chroot() {
	local m
	for m in dev/pts dev proc sys; do
		if mountpoint -q "$root/$m" 2>/dev/null; then
			umount -l "$root/$m" || true
		fi
	done
}
cleanup() {
	local rc=$?
	umount_chroot
	if [ $rc != 0 ]; then
		log "FAILED (exit $rc); the partial build is left in $work for inspection"
	fi
}
trap cleanup EXIT

# --- 1. host tools --------------------------------------------------------
host_pkgs="qemu-system-x86 debootstrap cpio busybox-static e2fsprogs gzip"
missing=
for p in $host_pkgs; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "installing host packages:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2 || die "apt-get update failed; check the network to the Debian mirror"
	apt-get install -y -q --no-install-recommends $missing >&2 ||
		die "could not install$missing"
fi
step host-packages

# Never delete through a mount (a bind-mounted /dev would take the host's
# device nodes with it).
safe_rm_work() {
	umount_chroot
	if grep -q " $work/" /proc/mounts; then
		die "$work still has mounts ($(grep " $work/" /proc/mounts | cut -d' ' -f2 | tr '\n' ' ')); unmount them first"
	fi
	rm -rf "$@"
}

# --- 2. debootstrap --------------------------------------------------------
safe_rm_work "$work"
mkdir -p "$work"
log "debootstrap bookworm minbase from $mirror"
debootstrap --variant=minbase --components=main bookworm "$root" "$mirror" \
	>"$work/debootstrap.log" 2>&1 ||
	die "debootstrap failed; see $work/debootstrap.log (tail: $(tail -n 3 "$work/debootstrap.log"))"
step debootstrap

# --- 3. packages in the chroot ---------------------------------------------
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
EOF
cat >"$root/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
exit 101
EOF
chmod 755 "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/apt/apt.conf.d/90xnb-realxen" <<'EOF'
APT::Install-Recommends "false";
Acquire::Languages "none";
Dpkg::Use-Pty "false";
EOF
# dpkg must not unpack what the image never needs.
cat >"$root/etc/dpkg/dpkg.cfg.d/90xnb-realxen" <<'EOF'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/include/*
EOF
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/91xnb-realxen-unsafe-io"
# dom0 boots with this script's own small initramfs: the kernel package
# must not spend a minute generating Debian's (twice).
chroot "$root" dpkg-divert --local --rename --add /usr/sbin/update-initramfs >/dev/null
cat >"$root/usr/sbin/update-initramfs" <<'EOF'
#!/bin/sh
exit 0
EOF
chmod 755 "$root/usr/sbin/update-initramfs"
# Keep the kernel's netback out: xnb is the only vif backend in dom0.
mkdir -p "$root/etc/modprobe.d"
cat >"$root/etc/modprobe.d/xnb-realxen.conf" <<'EOF'
blacklist xen-netback
install xen-netback /bin/false
EOF
echo xnb-dom0 >"$root/etc/hostname"

mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }

# xen-system-amd64: hypervisor + tools; dpdk-dev: dpdk-testpmd (the
# "dpdk" package has only the helper scripts); librte-net-tap23: testpmd's
# second port; socat: the dom0 end of the TCP transfers; ethtool,
# netcat-openbsd and busybox-static: copied into the guest's initramfs;
# openvswitch-switch-dpdk: ovs-vswitchd-dpdk (DPDK linked dynamically,
# Debian's 22.11 as testpmd's), with ovsdb-server, ovs-vsctl and
# ovs-ofctl from openvswitch-switch and -common, for the vif-xnb hotplug
# script's scenario.
dom0_pkgs="xen-system-amd64 xen-utils-4.17 xenstore-utils linux-image-amd64
	dpdk-dev librte-net-tap23 librte-mempool-ring23 kmod iproute2 procps
	socat ethtool netcat-openbsd busybox-static e2fsprogs
	openvswitch-switch-dpdk"
in_root apt-get update -q >"$work/apt.log" 2>&1 ||
	die "apt-get update in the chroot failed; see $work/apt.log"
step apt-update
# shellcheck disable=SC2086
in_root apt-get install -y -q $dom0_pkgs >>"$work/apt.log" 2>&1 ||
	die "apt-get install in the chroot failed; see $work/apt.log (tail: $(tail -n 5 "$work/apt.log"))"
step apt-install

# Every library dpdk-testpmd, xl and OVS need must resolve in the image.
ovs_vswitchd=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
for b in /usr/bin/dpdk-testpmd /usr/lib/xen-4.17/bin/xl $ovs_vswitchd \
		/usr/sbin/ovsdb-server /usr/bin/ovs-vsctl; do
	[ -e "$root$b" ] || continue
	if in_root ldd "$b" | grep -q 'not found'; then
		die "$b has unresolved libraries in the image: $(in_root ldd "$b" | grep 'not found' | tr '\n' ' ')"
	fi
done
[ -x "$root/usr/bin/dpdk-testpmd" ] || die "dpdk-testpmd is missing from the image (package dpdk-dev)"
for b in $ovs_vswitchd /usr/sbin/ovsdb-server /usr/bin/ovsdb-tool /usr/bin/ovs-vsctl \
		/usr/bin/ovs-ofctl /usr/bin/ovs-appctl /usr/share/openvswitch/vswitch.ovsschema; do
	[ -e "$root$b" ] || die "$b is missing from the image (openvswitch-switch-dpdk and its dependencies)"
done
kver=$(basename "$(ls -d "$root"/lib/modules/* | sort -V | tail -n 1)")
[ -n "$kver" ] || die "no kernel modules in the image"
xengz=$(ls "$root"/boot/xen-4.17*.gz 2>/dev/null | sort -V | tail -n 1)
[ -n "$xengz" ] || die "no /boot/xen-4.17*.gz in the image (package xen-hypervisor-4.17-amd64)"
dpdk_img=$(in_root dpkg-query -W -f '${Version}' librte-ethdev23)
dpdk_host=$(dpkg-query -W -f '${Version}' librte-ethdev23 2>/dev/null || echo none)
ovs_img=$(in_root dpkg-query -W -f '${Version}' openvswitch-switch-dpdk)
log "kernel $kver, $(basename "$xengz"), DPDK in the image $dpdk_img (host $dpdk_host), OVS $ovs_img"

# --- 4. the stable dom0 init -------------------------------------------------
# It only mounts the payload disk and hands over to it: the harness itself
# travels in the payload so that editing it never rebuilds the image.
cat >"$root/sbin/xnb-realxen-init" <<'EOF'
#!/bin/sh
# dom0 init of the real-Xen harness: mount the payload, run its init.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "XNB-REALXEN: dom0 init started (uptime $(cut -d' ' -f1 /proc/uptime) s)"
mkdir -p /payload
if mount -t ext4 -o ro /dev/vdb /payload && [ -x /payload/init.sh ]; then
	exec /payload/init.sh
fi
echo "XNB-REALXEN: FAIL boot: no payload disk with init.sh on /dev/vdb"
echo o >/proc/sysrq-trigger
while :; do sleep 60; done
EOF
chmod 755 "$root/sbin/xnb-realxen-init"
# The project's testpmd driver (dom0/lib.sh sources it; the key above
# covers it).
install -D -m 644 "$tp_lib" "$root/usr/local/lib/xnb/testpmd-lib.sh"
step dom0-init

# --- 5. the guest's base initramfs -------------------------------------------
g=$work/domU
mkdir -p "$g"/bin "$g"/sbin "$g"/proc "$g"/sys "$g"/dev "$g"/tmp "$g"/run \
	"$g"/lib/modules "$g"/xnb "$g"/etc
cp "$root/bin/busybox" "$g/bin/busybox"
for a in $("$g/bin/busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$g/bin/$a"
done
nf=$(find "$root/lib/modules/$kver" -name 'xen-netfront.ko*' | head -n 1)
[ -n "$nf" ] || die "xen-netfront.ko is not in the kernel $kver modules"
case $nf in
*.xz) xz -dc "$nf" >"$g/lib/modules/xen-netfront.ko" ;;
*.zst) zstd -dc "$nf" >"$g/lib/modules/xen-netfront.ko" ;;
*) cp "$nf" "$g/lib/modules/xen-netfront.ko" ;;
esac
nf_deps=$(in_root modinfo -F depends xen-netfront -k "$kver" 2>/dev/null || true)
[ -z "$nf_deps" ] || die "xen-netfront depends on '$nf_deps'; the guest initramfs would need them"
# ethtool and OpenBSD's nc (dynamic), with exactly the libraries they need.
for b in /usr/sbin/ethtool /bin/nc.openbsd; do
	mkdir -p "$g$(dirname "$b")"
	cp -L "$root$b" "$g$b"
	for lib in $(in_root ldd "$b" | grep -o '/[^ ]*'); do
		mkdir -p "$g$(dirname "$lib")"
		cp -L "$root$lib" "$g$lib"
	done
done
cat >"$g/init" <<'EOF'
#!/bin/sh
# Guest init of the real-Xen harness: hand over to the run's /xnb/init.
export PATH=/bin:/sbin
if [ -x /xnb/init ]; then
	exec /xnb/init
fi
mount -t devtmpfs devtmpfs /dev
echo "XNBG: FAIL no /xnb/init in the initramfs" >/dev/console
poweroff -f
EOF
chmod 755 "$g/init"
(cd "$g" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 >"$work/domU-base.cpio.gz"
step domU-initramfs

# --- 5b. dom0's initramfs ------------------------------------------------------
d=$work/dom0-initrd
mkdir -p "$d"/bin "$d"/proc "$d"/sys "$d"/dev "$d"/root "$d"/lib/modules
cp "$root/bin/busybox" "$d/bin/busybox"
for a in sh mount umount insmod switch_root sleep echo cat mkdir; do
	ln -s busybox "$d/bin/$a"
done
# The modules to mount an ext4 root on virtio-blk, in load order.
: >"$d/lib/modules/order"
for ko in $(in_root modprobe -S "$kver" -a --show-depends virtio_pci virtio_blk \
		crc32c_generic ext4 | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++'); do
	base=$(basename "$ko")
	case $base in
	*.xz) xz -dc "$root$ko" >"$d/lib/modules/${base%.xz}"; base=${base%.xz} ;;
	*.zst) zstd -dc "$root$ko" >"$d/lib/modules/${base%.zst}"; base=${base%.zst} ;;
	*) cp "$root$ko" "$d/lib/modules/$base" ;;
	esac
	echo "$base" >>"$d/lib/modules/order"
done
if ! grep -q '^virtio_blk.ko$' "$d/lib/modules/order" ||
		! grep -q '^ext4.ko$' "$d/lib/modules/order"; then
	die "modprobe --show-depends did not list virtio_blk and ext4 (got: $(tr '\n' ' ' <"$d/lib/modules/order"))"
fi
cat >"$d/init" <<'INIT'
#!/bin/sh
# dom0 initramfs of the real-Xen harness: load virtio-blk and ext4, mount
# the root (/dev/vda), switch to its init.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m" || echo "initramfs: insmod $m failed"
done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
init=/sbin/init
for w in $(cat /proc/cmdline); do
	case $w in init=*) init=${w#init=} ;; esac
done
if ! mount -t ext4 -o rw /dev/vda /root; then
	echo "XNB-REALXEN: FAIL boot: cannot mount /dev/vda (the dom0 image)"
	echo o >/proc/sysrq-trigger
fi
umount /proc /sys
mount --move /dev /root/dev
exec switch_root /root "$init"
INIT
chmod 755 "$d/init"
(cd "$d" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$work/initrd.img"
step dom0-initramfs

# --- 6. kernel, hypervisor, trimmed dom0 image -------------------------------
zcat "$xengz" >"$work/xen"
cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
umount_chroot
# Trim: the dom0 needs no docs, locales, apt state, or drivers for
# hardware QEMU does not emulate here.
rm -rf "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/info \
	"$root"/usr/share/locale/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
	"$root"/var/log/*.log "$root"/var/log/apt "$root"/boot/initrd.img-* \
	"$root"/boot/xen-*.gz "$root"/usr/lib/x86_64-linux-gnu/*.a
m=$root/lib/modules/$kver/kernel
rm -rf "$m"/sound "$m"/drivers/gpu "$m"/drivers/media "$m"/drivers/infiniband \
	"$m"/drivers/net/wireless "$m"/drivers/net/ethernet "$m"/drivers/staging \
	"$m"/drivers/bluetooth "$m"/net/bluetooth "$m"/drivers/usb "$m"/drivers/scsi \
	"$m"/drivers/hid "$m"/drivers/iio "$m"/drivers/mtd "$m"/drivers/isdn \
	"$m"/drivers/input "$m"/drivers/nfc "$m"/net/wireless "$m"/net/mac80211 \
	"$m"/drivers/ata "$m"/drivers/md "$m"/drivers/hwmon "$m"/drivers/platform \
	"$m"/drivers/thunderbolt "$m"/drivers/misc "$m"/drivers/mmc "$m"/fs/btrfs \
	"$m"/fs/xfs "$m"/fs/ocfs2 "$m"/fs/nfs "$m"/fs/nfsd "$m"/fs/ceph "$m"/fs/smb \
	"$m"/fs/gfs2 "$m"/fs/f2fs "$m"/fs/bcachefs
chroot "$root" /sbin/depmod -a "$kver"
# Open vSwitch: only ovs-vswitchd-dpdk, ovsdb-server, ovsdb-tool, ovs-vsctl,
# ovs-ofctl and ovs-appctl run here; the kernel-datapath ovs-vswitchd (the
# alternative's other choice), the kernel datapath's tool and the Python
# tools (debugging, packet capture, PKI) are not needed.
rm -f "$root"/usr/lib/openvswitch-switch/ovs-vswitchd "$root"/usr/bin/ovs-dpctl \
	"$root"/usr/bin/ovs-dpctl-top "$root"/usr/sbin/ovs-bugtool "$root"/usr/bin/ovs-tcpdump \
	"$root"/usr/bin/ovs-vlan-test "$root"/usr/bin/ovs-pki "$root"/usr/bin/ovsdb-client \
	"$root"/usr/bin/ovs-pcap "$root"/usr/bin/ovs-tcpundump "$root"/usr/bin/ovs-l3ping \
	"$root"/usr/bin/ovs-parse-backtrace "$root"/usr/bin/ovs-test
rm -rf "$root"/usr/share/openvswitch/scripts/ovs-bugtool* "$root"/usr/share/bash-completion
# The "dpdk" package (openvswitch-switch-dpdk depends on it) brings
# pciutils and the PCI id list for dpdk-devbind, which nothing runs here.
rm -f "$root"/usr/share/misc/pci.ids
# EAL dlopens every driver in its plugin directory at each start (128 of
# them, seconds under TCG): keep there the ones a harness run uses. Debian
# keeps the drivers' real files in that directory (dpdk-testpmd links
# many of them): move the others next to their /usr/lib symlinks.
libdir=$root/usr/lib/x86_64-linux-gnu
pmds=$(ls -d "$libdir"/dpdk/pmds-* | tail -n 1)
for f in "$pmds"/*.so.*.*; do
	[ -f "$f" ] && [ ! -L "$f" ] || continue
	real=$(basename "$f")
	lib=${real%%.so.*}
	case $lib in
	librte_bus_vdev | librte_mempool_ring | librte_mempool_stack | librte_net_tap | \
	librte_net_null | librte_net_ring) continue ;;
	esac
	mv -f "$f" "$libdir/$real"
	for l in "$pmds/$lib".so*; do
		[ -L "$l" ] || continue
		rm -f "$l"
		ln -sfn "$real" "$libdir/$(basename "$l")"
	done
done
# ovs-vswitchd-dpdk links DPDK's libraries dynamically (librte_eal,
# _ethdev, _mbuf, _mempool, _vhost...: none of them a driver), and EAL
# loads the plugin directory's drivers as for testpmd: the six kept there
# (bus_vdev and mempool_ring among them) are what OVS needs too.
for b in /usr/bin/dpdk-testpmd $ovs_vswitchd; do
	if chroot "$root" ldd "$b" | grep -q 'not found'; then
		die "trimming $pmds broke $b: $(chroot "$root" ldd "$b" |
			grep 'not found' | tr '\n' ' ')"
	fi
done
used=$(du -sm "$root" | cut -f1)
size=$((used + used / 4 + 128))
mkfs.ext4 -q -F -L dom0root -d "$root" "$work/dom0.img" "${size}M" >/dev/null ||
	die "mkfs.ext4 -d failed (e2fsprogs >= 1.43 needed)"
step dom0-image

cat >"$work/manifest" <<EOF
recipe $key
kernel $kver
xen $(basename "$xengz")
dpdk $dpdk_img
ovs $ovs_img
dom0_rootfs_mb $used
dom0_image_mb $size
domU_initramfs_bytes $(stat -c %s "$work/domU-base.cpio.gz")
built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - t_all )) s
EOF
safe_rm_work "$root" "$g" "$d"
rm -rf "$out"
mv "$work" "$out"
touch "$out/complete"
# Older recipes' images are dead weight.
for d in "$cache"/*; do
	case $(basename "$d") in
	"$key") ;;
	[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]*)
		rm -rf "$d" ;;
	esac
done
log "images ready in $out ($(tr '\n' ';' <"$out/manifest"))"
echo "$out"
