#!/usr/bin/env bash
# The data plane against the kernel's own tunnel, one run, side by side. Two xTR namespaces joined
# by one veth pair (the RLOC link), a host behind each:
#
#   ha (198.51.100.10) -- xa ==== veth 192.0.2.1 / .2 ==== xb -- hb (198.51.100.130)
#                          `-- ms (Map-Server, control plane only)
#
# 1. vmroam: xtr-gateway ITR/ETR in xa and xb (TUN, UDP 4341);
# 2. kernel VXLAN between xa and xb over the same veth (L3 routed over the vxlan device);
# 3. plain kernel routing, no encapsulation (the ceiling).
# For each: iperf3 TCP with 1 and 4 streams (Gbit/s), UDP 64-byte packets (received packets/s)
# twice: with the default socket buffers (208 KiB) and with 4 MiB ones at both iperf3 ends (-w 4M,
# as UDP receivers are tuned; capped by net.core.rmem_max, printed), and CPU (all cores, from
# /proc/stat) per Gbit/s; then the ratios vmroam/VXLAN and vmroam/routing. Every path gets the
# same iperf3 settings. Root only; everything it creates is removed on exit.
# usage: bench/bench_tunnel.sh [BUILD_BIN_DIR]   (SECONDS=5 per measurement)
set -euo pipefail
BIN=$(realpath "${1:-build/bin}")
T=${SECONDS_EACH:-5}
# namespaces, cleanup on exit, the two xTRs and their configurations: the tests' helpers
. "$(dirname "$0")/../tests/netns/lib.sh"
xtr_pair

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
HZ=$(getconf CLK_TCK)

# measure LABEL: three iperf3 runs to hb; prints one row and keeps the figures in $R_<label>_*
measure() {
	local label=$1 b0 b1 j gbps1 gbps4 pps ppsw cpu
	nsx hb iperf3 -s -D -I "$WORK/iperf.pid" >/dev/null
	sleep 0.3
	b0=$(busy)
	j=$(nsx ha iperf3 -c 198.51.100.130 -t "$T" -J)
	b1=$(busy)
	gbps1=$(jq '.end.sum_received.bits_per_second / 1e9' <<<"$j")
	cpu=$(awk -v a="$b0" -v b="$b1" -v hz="$HZ" -v t="$T" -v g="$gbps1" \
		'BEGIN { printf "%.2f", (b - a) / hz / t / (g > 0 ? g : 1) }')
	j=$(nsx ha iperf3 -c 198.51.100.130 -t "$T" -P 4 -J)
	gbps4=$(jq '.end.sum_received.bits_per_second / 1e9' <<<"$j")
	j=$(nsx ha iperf3 -c 198.51.100.130 -t "$T" -u -l 64 -b 0 -J)
	pps=$(jq '(.end.sum.packets - .end.sum.lost_packets) / .end.sum.seconds' <<<"$j")
	j=$(nsx ha iperf3 -c 198.51.100.130 -t "$T" -u -l 64 -b 0 -w 4M -J)
	ppsw=$(jq '(.end.sum.packets - .end.sum.lost_packets) / .end.sum.seconds' <<<"$j")
	kill "$(cat "$WORK/iperf.pid")" 2>/dev/null || true
	sleep 0.3
	printf '%-16s %10.2f %10.2f %14.0f %14.0f %16s\n' "$label" "$gbps1" "$gbps4" "$pps" "$ppsw" "$cpu"
	eval "R_${label//[^a-z]/}=\"$gbps1 $gbps4 $pps $ppsw $cpu\""
}

reachable() { nsx ha ping -c 1 -W 1 198.51.100.130 >/dev/null 2>&1; }
wait_reachable() {
	for _ in $(seq 50); do reachable && return 0; sleep 0.2; done
	echo "bench_tunnel: 198.51.100.130 unreachable ($1)" >&2
	return 1
}

echo "workers per xtr-gateway: ${DP_WORKERS:-one per CPU} ($(nproc) CPUs); net.core.rmem_max $(sysctl -n net.core.rmem_max)"
printf '%-16s %10s %10s %14s %14s %16s\n' "path" "TCP1 Gb/s" "TCP4 Gb/s" "UDP64 pkt/s" "UDP64 -w 4M" "CPU cores/Gb/s"

# 1. vmroam (DP_WORKERS=N: dataplane workers N)
if [ -n "${DP_WORKERS:-}" ]; then
	for n in xa xb; do echo " dataplane workers $DP_WORKERS" >>"$WORK/$n.conf"; done
fi
daemons ms xa xb
wait_reachable vmroam
measure vmroam
# how the offloads did (syscalls against packets)
for n in xa xb; do
	ctl "$n" -j show lisp dataplane | jq -r --arg n "$n" \
		'[.dataplane.io[] | {(.name): .packets}] | add | "  \($n): EID side \(."EID side received") packets in \(."EID side reads (TUN)") reads (\(."EID side TSO segments read, cut by the data plane") TSO), \(."EID side sent") out in \(."EID side writes (TUN)") writes (\(."EID side writes gathered into one TSO segment") gathered); RLOC side \(."RLOC side received") in \(."RLOC side receive calls") calls (\(."RLOC side datagrams coalesced by the kernel (UDP GRO)") GRO), \(."RLOC side sent") sent"'
done
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done

# 2. kernel VXLAN over the same veth
ip -n "$(ns xa)" link add vx0 type vxlan id 42 local 192.0.2.1 remote 192.0.2.2 dstport 4789
ip -n "$(ns xb)" link add vx0 type vxlan id 42 local 192.0.2.2 remote 192.0.2.1 dstport 4789
ip -n "$(ns xa)" addr add 203.0.113.1/30 dev vx0
ip -n "$(ns xb)" addr add 203.0.113.2/30 dev vx0
ip -n "$(ns xa)" link set vx0 up
ip -n "$(ns xb)" link set vx0 up
ip -n "$(ns xa)" route replace 198.51.100.128/25 via 203.0.113.2
ip -n "$(ns xb)" route replace 198.51.100.0/25 via 203.0.113.1
wait_reachable vxlan
measure vxlan

# 3. plain routing over the veth
ip -n "$(ns xa)" route replace 198.51.100.128/25 via 192.0.2.2
ip -n "$(ns xb)" route replace 198.51.100.0/25 via 192.0.2.1
wait_reachable routing
measure routing

read -r v1 v4 vp vw vc <<<"$R_vmroam"
read -r x1 x4 xp xw xc <<<"$R_vxlan"
read -r r1 r4 rp rw rc <<<"$R_routing"
awk -v v1="$v1" -v v4="$v4" -v vp="$vp" -v vw="$vw" -v x1="$x1" -v x4="$x4" -v xp="$xp" \
	-v xw="$xw" -v r1="$r1" -v r4="$r4" -v rp="$rp" -v rw="$rw" 'BEGIN {
	printf "ratio vmroam/vxlan:   TCP1 %.2f  TCP4 %.2f  UDP64 pps %.2f  -w 4M %.2f   (targets: TCP >= 1.0, pps >= 0.8)\n", v1 / x1, v4 / x4, vp / xp, vw / xw
	printf "ratio vmroam/routing: TCP1 %.2f  TCP4 %.2f  UDP64 pps %.2f  -w 4M %.2f\n", v1 / r1, v4 / r4, vp / rp, vw / rw
}'
