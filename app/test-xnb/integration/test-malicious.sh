#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Integration test: a malicious frontend (xnb-evil) attacks one port of a
# dpdk-testpmd while two well-behaved guests on two other ports of the
# same process exchange verified frames. The attacker runs for a random
# 2 to 8 seconds at a time from a printed seed, is stopped (every other
# time with SIGKILL, leaving its xenstore directories behind) and starts
# again with the next seed, until the time is up. Checked:
#   - testpmd never crashes or hangs: it stays alive and its telemetry
#     answers every second;
#   - the good guests' every batch of frames comes back verified, and
#     their rate under attack is reported beside the rate before it (the
#     attacker shares this machine's two cores: a floor of a quarter);
#   - afterwards a fresh good guest uses the attacked port: every frame
#     verified.
#
# Usage: test-malicious.sh SRCDIR BUILDDIR   (meson passes both)
#   XNB_MALICIOUS_SECS  how long the attack lasts (default 30)
#   XNB_MALICIOUS_SEED  the first seed (default: from the clock, printed)
set -u

src=${1:?usage: test-malicious.sh SRCDIR BUILDDIR}
build=${2:?usage: test-malicious.sh SRCDIR BUILDDIR}
secs=${XNB_MALICIOUS_SECS:-30}
seed=${XNB_MALICIOUS_SEED:-$(date +%s)}
name=test-malicious
. "$src/app/test-xnb/integration/lib.sh"
env_init
evil=$build/app/test-xnb/guest/xnb-evil
tp=$work/testpmd
evil_pid=
refl_pid=
cleanup() {
	rc=$?
	[ -z "$evil_pid" ] || kill -KILL "$evil_pid" 2>/dev/null
	[ -z "$refl_pid" ] || kill -KILL "$refl_pid" 2>/dev/null
	tp_kill "$tp"
	"$xsd" stop "$sim" >/dev/null 2>&1 || :
	[ "$rc" -eq 0 ] || show_logs "$tp.log" "$work"/evil*.out "$work"/*.err
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pmd=$(plugin_path "$pmd" "$work/pmd")
"$xsd" start "$sim" "$shim" >/dev/null || { echo "$name: FAIL: xenstored"; exit 1; }

# Ports 0 (dom80, attacked) and 1 (dom81) are paired, so are 2 (dom82,
# the generator) and 3 (dom83, the reflector). on_close=disconnect: the
# guests close when testpmd does.
vdevs=
for d in 80 81 82 83; do
	vdevs="$vdevs --vdev=net_xnb$d,domid=$d,platform=sim,sim_dir=$sim,on_close=disconnect"
done
# shellcheck disable=SC2086
tp_start "$tp" -l 0,1 --no-huge --no-pci -m 1024 --file-prefix="xnbevil$$" -d "$pmd" \
	$vdevs -- --forward-mode=io --port-topology=paired --nb-cores=1 \
	--total-num-mbufs=32768 --disable-link-check ||
	{ echo "$name: FAIL: testpmd: $TP_ERROR"; exit 1; }

reflect() {
	"$guest" --sim-dir "$sim" --domid "$1" --mode reflect --timeout "$2" \
		>"$work/reflect$1.out" 2>"$work/reflect$1.err" &
	refl_pid=$!
	wait_for "$work/reflect$1.err" "connected" 150 ||
		{ echo "$name: FAIL: the reflecting guest dom$1 did not connect"; exit 1; }
}

# batch DOMID TAG: 20000 frames of 60 to 1514 bytes from DOMID, every one
# verified; its rate (Mpps) in batch_mpps
batch() {
	batch_mpps=
	"$guest" --sim-dir "$sim" --domid "$1" --mode gen --frames 20000 --size-range 60-1514 \
		--window 64 --timeout 20 --quiet >"$work/gen.out" 2>"$work/gen.err"
	_rc=$?
	if [ $_rc -ne 0 ] || [ "$(guest_field "$work/gen.out" received)" != 20000 ] ||
			[ "$(guest_field "$work/gen.out" verify_failures)" != 0 ]; then
		echo "$name: FAIL: $2: the good guest's batch: exit $_rc," \
			"$(grep '^xnb-guest: sent=' "$work/gen.out" | cut -d' ' -f2-5)"
		fail=1
		return 1
	fi
	batch_mpps=$(guest_field "$work/gen.out" mpps)
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'
}

reflect 83 $((secs + 120))
: >"$work/before"
for _ in 1 2 3; do
	batch 82 "before the attack" && echo "$batch_mpps" >>"$work/before"
done

echo "$name: attack for $secs s from seed $seed"
: >"$work/during"
end=$(($(date +%s) + secs))
runs=0
hung=0
while [ "$(date +%s)" -lt "$end" ]; do
	if [ -z "$evil_pid" ] || ! kill -0 "$evil_pid" 2>/dev/null; then
		wait "$evil_pid" 2>/dev/null
		runs=$((runs + 1))
		"$evil" --sim-dir "$sim" --domid 80 --seed "$seed" --duration 60 \
			>"$work/evil$runs.out" 2>&1 &
		evil_pid=$!
		kill_at=$(($(date +%s) + 2 + seed % 7))
		seed=$((seed + 1))
	fi
	batch 82 "under attack" && echo "$batch_mpps" >>"$work/during"
	# Responsive: telemetry answers (a hung process would not).
	if ! timeout 5 sh -c ". '$src/devtools/testpmd-lib.sh'; tp_telemetry '$tp' /ethdev/stats,0" \
			>/dev/null 2>&1; then
		hung=$((hung + 1))
	fi
	tp_alive "$tp" || { echo "$name: FAIL: testpmd died under attack"; fail=1; break; }
	if [ "$(date +%s)" -ge "$kill_at" ]; then
		# Abruptly one time in two; else it closes and says what it did.
		[ $((runs % 2)) -eq 0 ] && sig=KILL || sig=TERM
		kill "-$sig" "$evil_pid" 2>/dev/null
		wait "$evil_pid" 2>/dev/null
		evil_pid=
	fi
done
[ -z "$evil_pid" ] || { kill -KILL "$evil_pid" 2>/dev/null; wait "$evil_pid" 2>/dev/null; }
evil_pid=
grep -h "seed=" "$work"/evil*.out | grep actions= | head -n 3 | sed "s/^/$name: /"

check "testpmd alive after the attack" "$(tp_alive "$tp" && echo yes)" yes
check "telemetry calls that did not answer in 5 s" "$hung" 0
before=$(median <"$work/before")
during=$(median <"$work/during")
echo "$name: the good guests: $(wc -l <"$work/during") batches of 20000 frames under" \
	"attack, all verified; median $during Mpps against $before Mpps before ($runs attacker runs)"
check "good guests' median rate under attack >= 1/4 of before" \
	"$(awk -v d="$during" -v b="$before" 'BEGIN { print (d * 4 >= b) ? "yes" : "no (" d " vs " b ")" }')" yes
# What xnb made of it: the reasons it gave for disabling the attacked vif.
echo "$name: xnb disabled the attacked vif for:"
sed -n 's/.*net_xnb80 (dom 80 vif 0): .*queue [0-9]*: \(.*\); vif disabled.*/\1/p' "$tp.log" |
	sed 's/[0-9][0-9]*/N/g' | sort | uniq -c | sort -rn | sed "s/^/$name:   /"
connects=$(cat "$work"/evil*.out | grep -c "^xnb-evil: connected" || :)
echo "$name: the attacker connected $connects times over $runs runs"
check "the attacker got connected" "$([ "$connects" -gt 0 ] && echo yes)" yes

# A fresh good guest on the attacked port (its pair reflects).
kill -INT "$refl_pid" 2>/dev/null
wait "$refl_pid" 2>/dev/null
refl_pid=
reflect 81 60
batch 80 "a fresh guest on the attacked port" &&
	echo "$name: a fresh guest on the attacked port: 20000 frames verified ($batch_mpps Mpps)"
kill -INT "$refl_pid" 2>/dev/null
wait "$refl_pid" 2>/dev/null
refl_pid=
check "testpmd alive at the end" "$(tp_alive "$tp" && echo yes)" yes
tp_stop "$tp" || :
check "testpmd's exit status" "$TP_RC" 0

if [ "$fail" -ne 0 ]; then
	echo "$name: FAILED"
	exit 1
fi
echo "$name: PASSED"
