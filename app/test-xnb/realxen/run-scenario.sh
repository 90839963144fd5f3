#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run one scenario of the real-Xen harness: Xen 4.17 + a Debian dom0 under
# QEMU (TCG), xnb from BUILDDIR in dom0, Linux's netfront in a PV guest.
#
# Usage: run-scenario.sh NAME [BUILDDIR]
#   NAME      a script scenarios/NAME.sh (dom0 part); scenarios/NAME.guest.sh,
#             if present, is the guest's part
#   BUILDDIR  the xnb build whose librte_net_xnb.so goes into dom0
#             (default: build)
#
# Environment:
#   XNB_REALXEN_CACHE     image cache (default /var/cache/xnb-realxen)
#   XNB_REALXEN_TIMEOUT   host bound on the whole QEMU run, s (default 1500)
#   XNB_REALXEN_SCENARIO_TIMEOUT  dom0 bound on the scenario, s (default 900)
#   XNB_REALXEN_VERBOSE=1 stream the console (default: only on a terminal)
#   XNB_REALXEN_DUMP=1    dump every log even when the scenario passes
#   XNB_REALXEN_RUNDIR    where the run's files go (default BUILDDIR/realxen/NAME)
#   CI=true               a scenario that cannot run fails instead of
#                         being skipped (.ci/run sets it)
#
# Exit: 0 PASS, 1 FAIL, 77 skipped (the images cannot be built here;
# FAIL under CI).
set -uo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
top=$(cd "$here/../../.." && pwd)

usage() {
	echo "usage: $0 NAME [BUILDDIR]; scenarios: $(cd "$here/scenarios" &&
		ls ./*.sh | grep -v '\.guest\.sh$' | sed 's|^\./||; s|\.sh$||' | tr '\n' ' ')" >&2
	exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
name=$1
builddir=${2:-$top/build}
builddir=$(readlink -f "$builddir")
scen=$here/scenarios/$name.sh
[ -f "$scen" ] || { echo "run-scenario: no scenario $scen" >&2; usage; }

say() { echo "realxen $name: $*"; }
fail() {
	say "FAIL: $*"
	exit 1
}
# Under CI a green run must mean the scenario ran: no skip there.
skip() {
	case ${CI:-} in
	true | 1 | yes) fail "cannot run under CI (CI=$CI): $*" ;;
	esac
	say "SKIP: $*"
	exit 77
}

t_start=$(date +%s)
pmd=$builddir/drivers/net/xnb/librte_net_xnb.so
if grep -q '^# realxen: needs-pmd' "$scen" && [ ! -f "$pmd" ]; then
	fail "the scenario needs the PMD and $pmd does not exist; build it: ninja -C $builddir"
fi
for tool in qemu-system-x86_64 mkfs.ext4 cpio gzip timeout; do
	command -v $tool >/dev/null 2>&1 || [ "$(id -u)" = 0 ] ||
		fail "$tool is missing; run $here/build-images.sh as root once (it installs the host tools)"
done

# --- the cached images ---------------------------------------------------
img=$("$here/build-images.sh")
rc=$?
if [ $rc = 77 ]; then
	skip "the images cannot be built here (see above)"
fi
[ $rc = 0 ] && [ -f "$img/complete" ] || fail "building the images failed (build-images.sh exit $rc)"
t_images=$(date +%s)

# --- the payload: harness, scenario, guest initramfs, the PMD ------------
run=${XNB_REALXEN_RUNDIR:-$builddir/realxen/$name}
rm -rf "$run"
mkdir -p "$run/payload/pmd" "$run/overlay/xnb" "$run/logs"
p=$run/payload
cp "$here/dom0/init.sh" "$p/init.sh"
cp "$here/dom0/lib.sh" "$p/lib.sh"
cp "$scen" "$p/scenario.sh"
# libxl's hotplug script for OVS (dom0's init.sh installs it as
# /etc/xen/scripts/vif-xnb).
cp "$top/usertools/vif-xnb" "$p/vif-xnb"
cat >"$p/env" <<EOF
XR_SCENARIO=$name
XR_SCENARIO_TIMEOUT=${XNB_REALXEN_SCENARIO_TIMEOUT:-900}
XR_DUMP_ALWAYS=${XNB_REALXEN_DUMP:-0}
EOF
if [ -f "$pmd" ]; then
	cp "$pmd" "$p/pmd/librte_net_xnb.so"
	# Tools of the build a scenario may use in dom0.
	for t in app/test-xnb/guest/xnb-guest app/test-xnb/intr-fwd/xnb-intr-fwd; do
		[ -x "$builddir/$t" ] && cp "$builddir/$t" "$p/pmd/"
	done
fi
cp "$here/guest/init" "$here/guest/lib.sh" "$run/overlay/xnb/"
if [ -f "$here/scenarios/$name.guest.sh" ]; then
	cp "$here/scenarios/$name.guest.sh" "$run/overlay/xnb/guest.sh"
fi
chmod 755 "$run/overlay/xnb/init"
# Linux unpacks concatenated (compressed) cpio archives in order: the
# run's /xnb overlays the cached base.
(cd "$run/overlay" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -9 >"$run/overlay.cpio.gz"
cat "$img/domU-base.cpio.gz" "$run/overlay.cpio.gz" >"$p/domU-initrd.gz"
chmod -R u=rwX,go=rX "$p"
chmod 755 "$p/init.sh" "$p/scenario.sh" "$p/vif-xnb"
kb=$(du -sk "$p" | cut -f1)
mkfs.ext4 -q -F -L xnbpayload -d "$p" "$run/payload.img" "$((kb / 1024 + 16))M" >/dev/null ||
	fail "mkfs.ext4 -d of the payload failed"

# --- boot --------------------------------------------------------------------
host_timeout=${XNB_REALXEN_TIMEOUT:-1500}
verbose=${XNB_REALXEN_VERBOSE:-}
if [ -z "$verbose" ]; then
	if [ -t 1 ]; then verbose=1; else verbose=0; fi
fi
xen_args="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2"
xen_args="$xen_args loglvl=all guest_loglvl=all"
dom0_args="console=hvc0 earlyprintk=xen root=/dev/vda rw panic=5"
dom0_args="$dom0_args init=/sbin/xnb-realxen-init"
# qemu64 + the SSE4.2 DPDK needs; not -enable-kvm (PVM here), not -cpu max
# (SMAP kills the PV dom0 under TCG): see shared/reference/REALXEN.md.
qemu=(qemu-system-x86_64 -accel tcg -cpu qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt
	-m 2048 -smp 2 -display none -serial stdio -monitor none -no-reboot -net none
	-kernel "$img/xen" -append "$xen_args"
	-initrd "$img/vmlinuz $dom0_args,$img/initrd.img"
	-drive "file=$img/dom0.img,if=virtio,format=raw,snapshot=on"
	-drive "file=$run/payload.img,if=virtio,format=raw,readonly=on")
printf '%q ' "${qemu[@]}" >"$run/qemu-cmdline"
say "booting Xen + dom0 (images $(basename "$img"), run dir $run, bound ${host_timeout} s)"
t_boot=$(date +%s)
if [ "$verbose" = 1 ]; then
	timeout -k 10 "$host_timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$run/console.raw" |
		tr -d '\r'
	qrc=${PIPESTATUS[0]}
else
	timeout -k 10 "$host_timeout" "${qemu[@]}" </dev/null >"$run/console.raw" 2>&1
	qrc=$?
fi
t_end=$(date +%s)
tr -d '\r' <"$run/console.raw" >"$run/console.log"
con=$run/console.log

# --- verdict -------------------------------------------------------------------
# Split the dumped logs into files for reading.
awk -v dir="$run/logs" '
	/XNB-REALXEN: ---- begin log / {
		f = $0; sub(/.*---- begin log /, "", f); sub(/ ----$/, "", f)
		gsub(/[^A-Za-z0-9._-]/, "_", f); out = dir "/" f; next }
	/XNB-REALXEN: ---- end log/ { out = ""; next }
	out != "" { print > out }' "$con"

timing="boot+scenario $((t_end - t_boot)) s, images $((t_images - t_start)) s, total $((t_end - t_start)) s"
infos=$(sed -n 's/^.*XNB-REALXEN: INFO //p' "$con" | tr '\n' ' ')
if grep -q "XNB-REALXEN: PASS $name\$" "$con"; then
	say "PASS ($timing)"
	[ -n "$infos" ] && say "measured: $infos"
	exit 0
fi

reason=$(sed -n "s/^.*XNB-REALXEN: FAIL $name: //p" "$con" | head -n 1)
if [ -z "$reason" ]; then
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		reason="no verdict: QEMU was still running after the host bound of $host_timeout s"
	else
		reason="no verdict: the machine stopped (QEMU exit $qrc) before the scenario ended; Xen or dom0 crashed?"
	fi
fi
echo "========================================================================"
say "FAIL: $reason"
say "$timing; console: $con; logs: $run/logs"
[ -n "$infos" ] && say "measured: $infos"
# steps [-e PATTERN...]: the harness's progress lines, less the log
# markers and what the PATTERNs match.
steps() {
	grep 'XNB-REALXEN: ' "$con" | grep -v -e '---- \(begin\|end\) log' "$@"
}
echo "---- harness progress (console) ----"
steps | tail -n 40
crash=$(grep -n -E 'Kernel panic|BUG:|Oops|general protection|FATAL|Panic on CPU|segfault|SIGILL|Illegal instruction' "$con" | head -n 20)
if [ -n "$crash" ]; then
	echo "---- crash lines (console) ----"
	echo "$crash"
fi
shown=0
for f in "$run"/logs/*; do
	[ -f "$f" ] || continue
	case $(basename "$f") in
	*testpmd* | *ovs-vswitchd.log | *xl-* | *guest-* | *xl_dmesg* | *xenstore_backend* | \
	*dom0_dmesg* | *syslog.log) ;;
	*) continue ;;
	esac
	echo "---- $(basename "$f") (last 60 lines; whole file in $run/logs) ----"
	tail -n 60 "$f"
	shown=1
done
if [ $shown = 0 ]; then
	echo "---- last 80 console lines ----"
	tail -n 80 "$con"
fi
# meson keeps only the last 100 lines of a failed test's output: say the
# verdict again below the logs, with the last steps and the guests' lines.
echo "---- in short ----"
say "FAIL: $reason"
steps -e 'XNB-REALXEN: INFO' | tail -n 8
for f in "$run"/logs/guest-*; do
	[ -f "$f" ] && tr -d '\r' <"$f" | grep -o 'XNBG: .*' | tail -n 6 | sed "s|^|$(basename "$f"): |"
done
echo "========================================================================"
exit 1
