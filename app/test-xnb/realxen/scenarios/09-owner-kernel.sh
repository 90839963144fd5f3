# SPDX-License-Identifier: BSD-3-Clause
# 09-owner-kernel: the kernel's xen-netback (loaded in dom0) has bound a
# guest's vif; xnb started for the same vif refuses it, saying that the
# kernel's backend serves it, writes no owner record, keeps its link down
# and touches nothing while testpmd keeps running.
# realxen: needs-pmd

# The image keeps modprobe from loading it (the other scenarios want no
# kernel backend): insmod it here, for this boot only.
insmod "/lib/modules/$(uname -r)/kernel/drivers/net/xen-netback/xen-netback.ko" ||
	xr_fail "cannot load xen-netback in dom0"
domid=$(xr_next_domid)
be=$(xr_vif_backend "$domid" 0)
xr_guest_cfg xnbguest "$(xr_vif_spec)" >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$domid"
bound() { [ -e "/sys/bus/xen-backend/devices/vif-$domid-0/driver" ]; }
xr_wait 60 "xen-netback bound to vif-$domid-0" bound
xr_info kernel_driver "$(basename "$(readlink "/sys/bus/xen-backend/devices/vif-$domid-0/driver")")"
state0=$(xr_xs_read "$be/state")

xr_testpmd_start "--vdev=net_xnb0,domid=$domid,handle=0,type=vif" \
	--vdev=net_tap0,iface=xnbtap0
refused() { xr_testpmd_log_has "dom$domid vif0 .* is served by the kernel's backend"; }
xr_wait 30 "xnb refusing the vif" refused
xr_info xnb_said "$(tr -d '\r' <"$XR_TP.log" | grep -o 'is served by [^:]*' | head -n 1 | tr ' ' '_')"
sleep 3
[ "$(tr -d '\r' <"$XR_TP.log" | grep -c 'is served by')" = 1 ] ||
	xr_fail "xnb said it more than once while looking again"
[ -z "$(xr_xs_read "$be/xnb-owner")" ] || xr_fail "xnb wrote an owner record into a vif it refused"
xr_testpmd_link 0
[ "$XR_LINK" = down ] || xr_fail "xnb's port is '$XR_LINK' on a vif it refused"
xr_testpmd_log_has "features advertised|attached to|reattached" &&
	xr_fail "xnb advertised or attached on a vif the kernel serves"
xr_info backend_state "$state0 -> $(xr_xs_read "$be/state")"
xr_testpmd_alive || xr_fail "dpdk-testpmd died"
xr_testpmd_stop
