#!/usr/bin/env bash
# A live migration cancelled after its switchover began, in the lab (extended subnet, a real
# guest): vmroam-virtwatch has steered the guest's frames to its FHR and paused it when the
# operator aborts the job, and QEMU resumes the guest where it was. Asserted: it runs there,
# still registered there; the watcher let the FHR's frames through before telling it the guest
# runs, and gave the tap all its frames back on the FHR's Ack (none left steered); the FHR
# delivered what it held to the guest; every ping of the branch and of either server reached
# the guest's tap, once each, in order (what the guest, just resumed under TCG, answers of that
# burst is printed: it is the guest's). The operator's downtime limit is set to 500 ms: the
# watcher pauses the guest with about that much memory still to copy (at 50 MiB/s), time to
# abort; QEMU resumes it 1 to 2 s later, so the FHRs' and gateways' hold time is set to 10 s
# (--hold; past it, held packets for a steered guest are dropped, never sent round).
# usage: lab_cancel.sh BUILD_BIN_DIR (KEEP=1 leaves the lab running afterwards)
set -u
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh" # (root; check, finish; cleanup of the pingers at exit)
for t in libvirtd virsh qemu-system-x86_64; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (packaging/deps.sh)"; exit 77; }
done
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export VMROAM_BIN=$BIN VMROAM_LAB=vmrcc$$
W=/tmp/$VMROAM_LAB
OUT=$WORK/lab.out
trap '[ -n "${KEEP:-}" ] || "$TOP/lab/vmroam-lab" --cleanup >/dev/null 2>&1; cleanup' EXIT
vsh() {
	local h=$1
	shift
	timeout 60 virsh -q -c "qemu+unix:///system?socket=$W/hv$h/sock/libvirt-sock" "$@"
}
EID=198.51.100.10

"$TOP/lab/vmroam-lab" --guest qemu --scenario esm --moves 1 --hold 10000 --keep >"$OUT" 2>&1
rc=$?
check "the lab ran, one migration to DC2 (exit $rc)" test $rc -eq 0
[ $rc -eq 0 ] || { tail -40 "$OUT"; exit 1; }

# what reaches the guest's tap (the network's end; what the guest then answers is its own)
TAP=$(vsh 2 domiflist vm-a | awk '$5 == "52:54:00:0a:00:10" { print $1 }')
ip netns exec "$VMROAM_LAB-hv2" tcpdump --immediate-mode -U -B 16384 -s 96 -ni "$TAP" -w "$W/cancel-tap.pcap" \
	'icmp[icmptype] == icmp-echo' 2>/dev/null &
CAP=$!
sleep 1 # (tcpdump listening)
# the branch and the server of each DC ping the guest (srv-a1 across the extension)
PIDS=()
for r in cl-a srv-a1 srv-a2; do
	ip netns exec "$VMROAM_LAB-$r" ping -D -n -i 0.002 -c 2500 -W 3 $EID >"$W/cancel-$r.ping" 2>&1 &
	PIDS+=($!)
done
sleep 0.5
told0=$(grep -c "steered told" "$W/watch2.log")
check "the operator's downtime limit set to 500 ms" vsh 2 migrate-setmaxdowntime vm-a 500
vsh 2 migrate --live --p2p --persistent vm-a "qemu+unix:///system?socket=$W/hv1/sock/libvirt-sock" \
	--migrateuri tcp://192.0.2.241 --bandwidth 50 >"$W/cancel-migrate.out" 2>&1 &
MIG=$!
paused() { [ "$(grep -c "steered told" "$W/watch2.log")" -gt "$told0" ]; }
for _ in $(seq 500); do paused && break; sleep 0.01; done
check "the watcher paused the guest, its frames steered to its FHR" paused
check "steering on hv2 while paused" bash -c "ip netns exec $VMROAM_LAB-hv2 nft list table netdev vmroam_steer | grep -q fwd"
vsh 2 domjobabort vm-a >/dev/null
mrc=0
wait $MIG || mrc=$?
check "the migration failed: aborted ($(tail -1 "$W/cancel-migrate.out"))" test $mrc -ne 0
check "the guest runs at DC2" bash -c "[ \"\$(virsh -q -c 'qemu+unix:///system?socket=$W/hv2/sock/libvirt-sock' domstate vm-a)\" = running ]"
wait "${PIDS[@]}"
sleep 1.2 # (libpcap hands over what it buffered within a second, immediate mode or not)
kill $CAP
wait $CAP 2>/dev/null
check "no steering left on hv2" bash -c "! ip netns exec $VMROAM_LAB-hv2 nft list table netdev vmroam_steer | grep -q fwd"
# the watcher's order: through (the FHR's frames pass), LIVE told, then (its Ack) all frames
order=$(grep -n "vm-a" "$W/watch2.log" | sed -n "/steered told/,\$p" |
	grep -o "its FHR's frames reach it\|live told\|frames reach it again" | tr '\n' ',')
check "the watcher: FHR's frames through, live told, then all frames back ($order)" \
	test "$order" = "its FHR's frames reach it,live told,frames reach it again,"
fst() { "$BIN/fhrctl" -s "$W/fhr-a2.sock" -j show lisp statistics | jq ".statistics.$1"; }
check "FHR of DC2: the leaving ended by HV_LIVE, what it held delivered here ($(fst hold_released_here))" \
	bash -c "[ $(fst leaving_stayed) -ge 1 ] && [ $(fst hold_released_here) -gt 0 ]"
check "the Map-Server has the guest at DC2" bash -c "'$BIN/xtrctl' -s '$W/core.sock' -j show lisp site |
	jq -e '.sites[].prefixes[] | select(.eid_prefix==\"$EID/32\" and .instance_id==100) | .last_registered_by==\"192.0.2.11\"'"
for r in cl-a:203.0.113.10 srv-a1:198.51.100.20 srv-a2:198.51.100.30; do
	f=$W/cancel-${r%%:*}.ping
	sent=$(awk '/packets transmitted/ { print $1 }' "$f")
	seqs=$(tcpdump -nr "$W/cancel-tap.pcap" "src host ${r#*:}" 2>/dev/null | grep -o 'seq [0-9]*' | cut -d' ' -f2)
	check "${r%%:*}: every ping sent reached the guest's tap ($(wc -w <<<"$seqs") of $sent)" \
		test "$(sort -un <<<"$seqs" | wc -l)" -eq "$sent"
	check "${r%%:*}: none twice" test "$(sort -n <<<"$seqs" | uniq -d | wc -l)" -eq 0
	check "${r%%:*}: in order" bash -c "awk 'NR > 1 && \$1 <= l { b = 1 } { l = \$1 } END { exit b }' <<<'$seqs'"
	echo "   ${r%%:*}: the guest answered $(grep 'packets transmitted' "$f")"
done
finish
