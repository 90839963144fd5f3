# SPDX-License-Identifier: BSD-3-Clause
# 00-boot: Xen and dom0 boot, the Xen userland answers, dom0 has what xnb
# needs (the /dev/xen devices, no kernel netback) and DPDK's testpmd runs.
# Needs no PMD.

xr_run xl-info xl info
v=$(sed -n 's/^xen_version *: *//p' "$XR_LOGS/xl-info.log")
[ -n "$v" ] || xr_fail "xl info shows no xen_version"
xr_info xen_version "$v"
for d in evtchn gntdev gntalloc privcmd xenbus xenbus_backend; do
	[ -e "/dev/xen/$d" ] || xr_fail "dom0 has no /dev/xen/$d"
done
if lsmod | grep -q '^xen_netback'; then
	xr_fail "the kernel's netback is loaded: it would claim every vif backend"
fi
[ "$(xr_xs_read /local/domain/0/name)" = Domain-0 ] ||
	xr_fail "xenstore has no /local/domain/0/name = Domain-0 (xen-init-dom0 did not run?)"
# DPDK runs in the PV dom0 (needs SSE4.2 from QEMU's CPU model): a
# one-shot testpmd (tp_run) that starts forwarding with tx_first and quits.
if ! TP_STARTUP='start tx_first' TP_RUN_TIMEOUT=120 tp_run "$XR_LOGS/testpmd-null" \
	-l 0-1 --no-huge -m 128 --no-pci --file-prefix=boot --vdev=net_null0 --vdev=net_null1 \
	-- --nb-cores=1 --total-num-mbufs=2048 --forward-mode=io --max-pkt-len=1518; then
	tail -n 30 "$XR_LOGS/testpmd-null.log"
	xr_fail "testpmd-null failed: $TP_ERROR"
fi
grep -q 'Done' "$XR_LOGS/testpmd-null.log" || xr_fail "testpmd did not bring its null ports up"
xr_mark "Xen $v, dom0 $(uname -r), testpmd runs"
