# SPDX-License-Identifier: BSD-3-Clause
# 01-connect-traffic, guest part: ping dom0, then 4 MiB each way over TCP
# in three phases, each started by dom0 typing "goN" on our console (so it
# can read xnb's counters of each phase alone):
#   phase 1, IPv4, netfront's default offloads: blank checksums
#     (NETTXF_csum_blank), multi-slot frames (SG) and TSO super-frames
#     with a GSO extra slot;
#   phase 2, IPv6, the same defaults: blank IPv6 checksums (the backend
#     offers feature-ipv6-csum-offload) and TCPv6 super-frames;
#   phase 3, IPv6, offloads off (ethtool: tx, sg, tso, gso): full
#     checksums, one slot per frame. Linux's netfront cannot turn IPv4
#     checksum offload off (not in its hw_features: "[requested off]"),
#     but IPv6's it can: hence IPv6 for the full-checksum phase.
# A failed transfer is reported and the next phase still runs.

xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
xg_ping 6 "$XG_DOM0_IP6"
for ph in 1 2 3; do
	xg_wait_word "go$ph" 600
	if [ $ph = 1 ]; then
		host=$XG_DOM0_IP4
	else
		host=$XG_DOM0_IP6%eth0
	fi
	[ $ph = 3 ] && ethtool -K eth0 tx off sg off tso off gso off
	echo "ethtool -k eth0 (phase $ph):"
	ethtool -k eth0
	xg_say "OFFLOADS$ph" "$(xg_offloads)"
	head -c 4194304 /dev/urandom >"/tmp/tx-$ph"
	err=
	xg_send "$host" $((5001 + 2 * (ph - 1))) "/tmp/tx-$ph" || err="$XG_ERR"
	xg_recv "$host" $((5002 + 2 * (ph - 1))) "/tmp/rx-$ph" || err="$err${err:+; }$XG_ERR"
	[ -f "/tmp/rx-$ph" ] || : >"/tmp/rx-$ph"
	xg_say "XFER$ph" "tx=$(xg_md5 "/tmp/tx-$ph") rx=$(xg_md5 "/tmp/rx-$ph") rxbytes=$(wc -c <"/tmp/rx-$ph") err=${err:-none}"
	rm -f "/tmp/tx-$ph" "/tmp/rx-$ph"
done
