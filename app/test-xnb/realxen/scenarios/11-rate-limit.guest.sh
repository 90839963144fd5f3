# SPDX-License-Identifier: BSD-3-Clause
# 11-rate-limit, guest part: ping dom0, then do what dom0 types on our
# console, one line at a time: "xnbcmd ID recv PORT" (receive from dom0),
# "xnbcmd ID send PORT" (send 2 MiB of fresh random bytes, made before the
# clock starts), "xnbcmd ID end". Each transfer is timed from nc's start
# to its end and reported as "XFER-ID md5=... s=SECONDS bytes=...
# retrans=N err=..." (N: TCP segments we retransmitted meanwhile). The
# limit on what we send is the backend's business: nothing here knows of
# it.
size=2097152
cr=$(printf '\r')

# The next command dom0 typed (as xg_wait_word reads a word).
next_cmd() {
	# shellcheck disable=SC2016
	cmd=$(timeout 600 sh -c 'while read -r l; do
		case "$l" in *"xnbcmd "*) echo "${l##*xnbcmd }"; exit 0 ;; esac
	done; exit 1' </dev/hvc0) || xg_fail "dom0 typed no command within 600 s"
	cmd=${cmd%"$cr"}
}

# TCP segments this guest retransmitted so far.
retrans() {
	awk '/^Tcp:/ { if (h == "") h = $0; else v = $0 }
		END { n = split(h, a); split(v, b); for (i = 2; i <= n; i++) if (a[i] == "RetransSegs") print b[i] }' /proc/net/snmp
}

xg_net_up 120
xg_ping 4 "$XG_DOM0_IP4"
while :; do
	next_cmd
	# shellcheck disable=SC2086
	set -- $cmd
	[ $# = 3 ] || xg_fail "dom0 typed '$cmd', not 'ID recv|send|end PORT'"
	id=$1
	port=$3
	err=
	r0=$(retrans)
	# The clock is read with the shell's read (no fork: under TCG a fork
	# can cost most of a second) right before and after nc.
	case $2 in
	end)
		break
		;;
	recv)
		f=/tmp/rx
		read -r t0 _ </proc/uptime
		timeout 300 nc.openbsd -d -w 30 "$XG_DOM0_IP4" "$port" >$f 2>/tmp/nc-err ||
			err="receiving: $(cat /tmp/nc-err)"
		read -r t1 _ </proc/uptime
		;;
	send)
		f=/tmp/tx
		head -c $size /dev/urandom >$f
		read -r t0 _ </proc/uptime
		timeout 300 nc.openbsd -N -w 30 "$XG_DOM0_IP4" "$port" <$f >/dev/null 2>/tmp/nc-err ||
			err="sending: $(cat /tmp/nc-err)"
		read -r t1 _ </proc/uptime
		;;
	*)
		xg_fail "dom0 typed '$cmd': no such command"
		;;
	esac
	s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	xg_say "XFER-$id" "md5=$(xg_md5 "$f") s=$s bytes=$(wc -c <"$f") retrans=$(($(retrans) - r0)) err=$(echo "${err:-none}" | tr ' ' '_')"
	rm -f /tmp/tx /tmp/rx
done
