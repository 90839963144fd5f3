# SPDX-License-Identifier: BSD-3-Clause
# 00-guest: a PV guest without a vif boots the payload's initramfs and
# reports on its console. Needs no PMD.

xr_guest_cfg xnbguest >/run/xr/xnbguest.cfg
xr_create xnbguest /run/xr/xnbguest.cfg "$(xr_next_domid)"
xr_guest_wait xnbguest BOOTED 120
xr_info guest_booted "$(echo "$XR_VAL" | tr ' ' '_')"
xr_guest_wait xnbguest DONE 60
[ "$(xr_guest_line xnbguest ETH)" = none ] ||
	xr_fail "the guest without a vif has a network interface: $(xr_guest_line xnbguest ETH)"
xr_destroy xnbguest
