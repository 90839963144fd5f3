# SPDX-License-Identifier: BSD-3-Clause
# 01-connect-traffic, guest part: ping dom0, then 4 MiB each way over TCP:
#   phase 1, IPv4, netfront's default offloads: the guest's frames carry
#     blank checksums (NETTXF_csum_blank) and span several slots (SG);
#   phase 2, IPv6, offloads off (ethtool: tx, sg, tso, gso): full
#     checksums, one slot per frame. Linux's netfront cannot turn IPv4
#     checksum offload off (not in its hw_features: "[requested off]"),
#     but IPv6's it can, and does anyway when the backend does not offer
#     feature-ipv6-csum-offload: hence IPv6 for the full-checksum phase.
# A failed transfer is reported and the next phase still runs.

xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
xg_ping 6 "$XG_DOM0_IP6"
for ph in 1 2; do
	if [ $ph = 1 ]; then
		host=$XG_DOM0_IP4
	else
		host=$XG_DOM0_IP6%eth0
		ethtool -K eth0 tx off sg off tso off gso off
	fi
	ethtool -k eth0 | grep -E '^(tx-checksumming|scatter-gather|tcp-segmentation|generic-segmentation|	tx-checksum-ipv)'
	xg_say "OFFLOADS$ph" "$(xg_offloads)"
	head -c 4194304 /dev/urandom >"/tmp/tx-$ph"
	err=
	xg_send "$host" $((5001 + 2 * (ph - 1))) "/tmp/tx-$ph" || err="$XG_ERR"
	xg_recv "$host" $((5002 + 2 * (ph - 1))) "/tmp/rx-$ph" || err="$err${err:+; }$XG_ERR"
	[ -f "/tmp/rx-$ph" ] || : >"/tmp/rx-$ph"
	xg_say "XFER$ph" "tx=$(xg_md5 "/tmp/tx-$ph") rx=$(xg_md5 "/tmp/rx-$ph") rxbytes=$(wc -c <"/tmp/rx-$ph") err=${err:-none}"
	rm -f "/tmp/tx-$ph" "/tmp/rx-$ph"
done
