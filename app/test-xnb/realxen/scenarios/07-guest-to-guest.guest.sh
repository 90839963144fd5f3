# SPDX-License-Identifier: BSD-3-Clause
# 07-guest-to-guest, guest part (both guests, told apart by their names):
# bring eth0 up, log `ethtool -k eth0`, then at dom0's "go0" ping the other
# guest (v4, v6); at "go1" and "go2" listen for and send 4 MiB to the
# other guest at once, over IPv4 and IPv6, with netfront's default
# offloads (TSO on); report both md5s.

case $(hostname) in
xnbga) XG_IP4=169.254.0.2 XG_IP6=fe80::2 peer=3 ;;
xnbgb) XG_IP4=169.254.0.3 XG_IP6=fe80::3 peer=2 ;;
*) xg_fail "unknown guest name $(hostname)" ;;
esac
xg_net_up 180
echo "ethtool -k eth0:"
ethtool -k eth0
xg_say OFFLOADS "$(xg_offloads)"
xg_wait_word go0 600
xg_ping 4 "169.254.0.$peer"
xg_ping 6 "fe80::$peer"
for ph in 1 2; do
	xg_wait_word "go$ph" 600
	if [ $ph = 1 ]; then
		fam=4 host=169.254.0.$peer
	else
		fam=6 host=fe80::$peer%eth0
	fi
	head -c 4194304 /dev/urandom >"/tmp/tx-$ph"
	err=
	xg_listen $((5000 + ph)) "/tmp/rx-$ph" $fam
	xg_send_peer "$host" $((5000 + ph)) "/tmp/tx-$ph" || err="$XG_ERR"
	xg_listen_wait || err="$err${err:+; }$XG_ERR"
	xg_say "XFER$ph" "tx=$(xg_md5 "/tmp/tx-$ph") rx=$(xg_md5 "/tmp/rx-$ph") rxbytes=$(wc -c <"/tmp/rx-$ph") err=${err:-none}"
	rm -f "/tmp/tx-$ph" "/tmp/rx-$ph"
done
