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
# For each: iperf3 TCP with 1 and 4 streams (Gbit/s), UDP 64-byte packets (received packets/s),
# and CPU (all cores, from /proc/stat) per Gbit/s; then the ratios vmroam/VXLAN and
# vmroam/routing. Root only; everything it creates is removed on exit.
# usage: bench/bench_tunnel.sh [BUILD_BIN_DIR]   (SECONDS=5 per measurement)
set -euo pipefail
BIN=$(realpath "${1:-build/bin}")
T=${SECONDS_EACH:-5}
P="vmrbt$$"
NS=()
PIDS=()
WORK=$(mktemp -d)

cleanup() {
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ns() { echo "$P-$1"; }
nsx() {
	local n=$1
	shift
	ip netns exec "$(ns "$n")" "$@"
}
for n in ha xa xb hb ms; do
	ip netns add "$(ns "$n")"
	NS+=("$(ns "$n")")
	ip -n "$(ns "$n")" link set lo up
done
link() { # link NS1 IF1 ADDR1 NS2 IF2 ADDR2
	ip link add "$2" netns "$(ns "$1")" type veth peer name "$5" netns "$(ns "$4")"
	ip -n "$(ns "$1")" addr add "$3" dev "$2"
	ip -n "$(ns "$4")" addr add "$6" dev "$5"
	ip -n "$(ns "$1")" link set "$2" up
	ip -n "$(ns "$4")" link set "$5" up
}
link xa r0 192.0.2.1/30 xb r0 192.0.2.2/30
link xa m0 192.0.2.5/30 ms eth0 192.0.2.6/30
link ha eth0 198.51.100.10/25 xa e0 198.51.100.1/25
link hb eth0 198.51.100.130/25 xb e0 198.51.100.129/25
ip -n "$(ns ha)" route add default via 198.51.100.1
ip -n "$(ns hb)" route add default via 198.51.100.129
ip -n "$(ns ms)" route add default via 192.0.2.5
ip -n "$(ns xb)" route add 192.0.2.4/30 via 192.0.2.1
for n in xa xb; do
	nsx "$n" sysctl -qw net.ipv4.ip_forward=1
	# GRO on the RLOC link, as a NIC has it (veth: NAPI); every path below gets it
	nsx "$n" ethtool -K r0 gro on >/dev/null
done

cat >"$WORK/ms.conf" <<CONF
router lisp
 site BENCH
  authentication-key bench-key
  eid-prefix 198.51.100.0/24 accept-more-specifics
 ipv4 map-server
 ipv4 map-resolver
CONF
xtr_conf() { # xtr_conf OWN_PREFIX OWN_RLOC OTHER_PREFIX
	cat <<CONF
router lisp
 database-mapping $1 $2 priority 1 weight 100
 map-cache $3 map-request
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.6
 ipv4 etr
 ipv4 etr map-server 192.0.2.6 key bench-key
CONF
}
xtr_conf 198.51.100.0/25 192.0.2.1 198.51.100.128/25 >"$WORK/xa.conf"
xtr_conf 198.51.100.128/25 192.0.2.2 198.51.100.0/25 >"$WORK/xb.conf"

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
HZ=$(getconf CLK_TCK)

# measure LABEL: three iperf3 runs to hb; prints one row and keeps the figures in $R_<label>_*
measure() {
	local label=$1 b0 b1 j gbps1 gbps4 pps cpu
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
	kill "$(cat "$WORK/iperf.pid")" 2>/dev/null || true
	sleep 0.3
	printf '%-16s %10.2f %10.2f %14.0f %16s\n' "$label" "$gbps1" "$gbps4" "$pps" "$cpu"
	eval "R_${label//[^a-z]/}=\"$gbps1 $gbps4 $pps $cpu\""
}

reachable() { nsx ha ping -c 1 -W 1 198.51.100.130 >/dev/null 2>&1; }
wait_reachable() {
	for _ in $(seq 50); do reachable && return 0; sleep 0.2; done
	echo "bench_tunnel: 198.51.100.130 unreachable ($1)" >&2
	return 1
}

printf '%-16s %10s %10s %14s %16s\n' "path" "TCP1 Gb/s" "TCP4 Gb/s" "UDP64 pkt/s" "CPU cores/Gb/s"

# 1. vmroam
ip netns exec "$(ns ms)" "$BIN/xtr-gateway" -f "$WORK/ms.conf" -s "$WORK/ms.sock" 2>"$WORK/ms.log" &
PIDS+=($!)
for n in xa xb; do
	ip netns exec "$(ns "$n")" "$BIN/xtr-gateway" -f "$WORK/$n.conf" -s "$WORK/$n.sock" \
		2>"$WORK/$n.log" &
	PIDS+=($!)
done
wait_reachable vmroam
measure vmroam
# how the offloads did (syscalls against packets)
for n in xa xb; do
	"$BIN/xtrctl" -s "$WORK/$n.sock" -j show lisp dataplane | jq -r --arg n "$n" \
		'[.dataplane.io[] | {(.name): .packets}] | add | "  \($n): EID side \(."EID side received") packets in \(."EID side reads (TUN)") reads (\(."EID side TSO segments read, cut by the data plane") TSO), \(."EID side sent") out in \(."EID side writes (TUN)") writes (\(."EID side writes gathered into one TSO segment") gathered); RLOC side \(."RLOC side received") in \(."RLOC side receive calls") calls (\(."RLOC side datagrams coalesced by the kernel (UDP GRO)") GRO), \(."RLOC side sent") sent"'
done
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()

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

read -r v1 v4 vp vc <<<"$R_vmroam"
read -r x1 x4 xp xc <<<"$R_vxlan"
read -r r1 r4 rp rc <<<"$R_routing"
awk -v v1="$v1" -v v4="$v4" -v vp="$vp" -v x1="$x1" -v x4="$x4" -v xp="$xp" \
	-v r1="$r1" -v r4="$r4" -v rp="$rp" 'BEGIN {
	printf "ratio vmroam/vxlan:   TCP1 %.2f  TCP4 %.2f  UDP64 pps %.2f   (targets: TCP >= 1.0, pps >= 0.8)\n", v1 / x1, v4 / x4, vp / xp
	printf "ratio vmroam/routing: TCP1 %.2f  TCP4 %.2f  UDP64 pps %.2f\n", v1 / r1, v4 / r4, vp / rp
}'
