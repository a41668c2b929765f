#!/usr/bin/env bash
# Data-center failover: 10,000 VMs move at once from DC1 to DC2, in network namespaces, with
# real daemons: the Map-Server, both site gateways, both first-hop routers (fhr-agent) and a
# branch xTR (an xtr-gateway with a map-cache, subscribed to the Map-Server, RFC 9437).
#
#          ms 192.0.2.1 (Map-Server, Map-Resolver) -- br0 -- gw1 .10, gw2 .11, branch .20
#   gw1 f0 203.0.113.1/30 -- fhr1 (seg 198.18.0.1/16) -- vms1 (the VMs' addresses, on vm)
#   gw2 f0 203.0.113.5/30 -- fhr2 (seg 198.18.0.1/16) -- vms2
#   branch e0 198.51.100.1/24 -- bh 198.51.100.10
#
# The VMs first run in DC1 (announced there, registered by gw1), the branch's map-cache holds
# each of them (asked with lig). A move: the VMs' addresses leave vms1 (they stop in
# DC1) and come up in vms2, where each sends a gratuitous ARP (GAP_US apart: restarted VMs, or
# the new hosts' announcements), as after a failover to DC2. Measured: the time from the first
# frame until the Map-Server, gw2 (registered), gw1 (away entry to gw2's locator) and the
# branch's map-cache all name gw2's locator for every moved EID (from each daemon's own
# timestamps, checked by polling their JSON state every POLL s), and the CPU time each daemon
# spent meanwhile. Baseline in the same run: BASE (100) VMs moved the same way first.
# Limits raised for the load, as an operator would: host-limit / eid-limit 16384 for the one
# dynamic-eid of 10,100 VMs, the branch's subscription-limit 20000, map-reply rate-limit.
# usage: bench_failover.sh BUILD_BIN_DIR      (as root; VMS, BASE, GAP_US)
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/../tests/netns/lib.sh"
V=${VMS:-10000}
B=${BASE:-100}
GAP_US=${GAP_US:-100}
POLL=${POLL:-0.5}
HZ=$(getconf CLK_TCK)

star gw1=10 gw2=11 branch=20
for d in 1 2; do
	ns_add "fhr$d"
	pair_link "gw$d" f0 "203.0.113.$((d * 4 - 3))/30" "fhr$d" eth0 "203.0.113.$((d * 4 - 2))/30"
	ip -n "$(ns "fhr$d")" route add default via "203.0.113.$((d * 4 - 3))"
	ns_add "vms$d"
	ip link add seg netns "$(ns "fhr$d")" type veth peer name vm netns "$(ns "vms$d")"
	ip -n "$(ns "fhr$d")" addr add 198.18.0.1/16 dev seg
	ip -n "$(ns "fhr$d")" link set seg up
	ip -n "$(ns "vms$d")" link set vm up
	cat >"$WORK/gw$d.conf" <<CONF
router lisp
 locator-set DC$d
  ipv4-interface eth0 priority 1 weight 100
  exit
 eid-table vrf TENANT instance-id 100
  dynamic-eid VMS
   database-mapping 198.18.0.0/16 locator-set DC$d
   eid-notify authentication-key tenant-key
   host-limit 16384
   exit
  exit
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
 site-id $d
CONF
	cat >"$WORK/fhr$d.conf" <<CONF
router lisp
 fhr-id fhr-dc$d
 eid-table vrf TENANT instance-id 100
  dynamic-eid VMS
   database-mapping 198.18.0.0/16
   eid-notify 203.0.113.$((d * 4 - 3)) key tenant-key
   eid-limit 16384
   exit
  exit
interface seg
 lisp mobility VMS
CONF
done
ns_add bh
pair_link branch e0 198.51.100.1/24 bh eth0 198.51.100.10/24
ip -n "$(ns bh)" route add default via 198.51.100.1
nsx branch sysctl -qw net.ipv4.ip_forward=1
cat >"$WORK/branch.conf" <<CONF
router lisp
 eid-table vrf TENANT instance-id 100
  database-mapping 198.51.100.0/24 192.0.2.20 priority 1 weight 100
  map-cache 198.18.0.0/16 map-request
  exit
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 itr subscribe xtr-id 000000000000000000000000000000b1 site-id 20 authentication-key branch-sub-key
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key branch-key
CONF
cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix instance-id 100 198.18.0.0/16 accept-more-specifics
  exit
 site BRANCH
  authentication-key branch-key
  eid-prefix instance-id 100 198.51.100.0/24
  exit
 subscriber BRANCH
  authentication-key branch-sub-key
  xtr-id 000000000000000000000000000000b1 site-id 20
  itr-rloc 192.0.2.20
  subscription-limit 20000
  exit
 ipv4 map-server
 ipv4 map-resolver
 map-reply rate-limit 100000 burst 20000 total 100000
CONF
daemons ms gw1 gw2 branch
DPIDS=("${PIDS[@]}") # ms gw1 gw2 branch
fhrs fhr1 fhr2
DPIDS+=("${PIDS[@]:4:2}")
NAMES=(ms gw1 gw2 branch fhr1 fhr2)
retry 10 jctl gw1 '[.eid_notify_peers[] | select(.up)] | length == 1' show lisp eid-notify
retry 10 jctl gw2 '[.eid_notify_peers[] | select(.up)] | length == 1' show lisp eid-notify

# the VMs: the big set from 198.18.1.0, the baseline's from 198.18.100.0
addrs() { awk -v a="$1" -v n="$2" 'BEGIN { split(a, o, "."); x = o[3] * 256 + o[4]
	for (i = 0; i < n; i++) printf "198.18.%d.%d\n", int((x + i) / 256), (x + i) % 256 }'; }
addrs 198.18.1.0 "$V" >"$WORK/big"
addrs 198.18.100.0 "$B" >"$WORK/base"
cat "$WORK/big" "$WORK/base" >"$WORK/all"
vms_addr() { sed "s|.*|addr $2 &/32 dev vm|" "$3" | ip -n "$(ns "vms$1")" -b -; }
garps() { sed 's/^/vm /' "$2" | nsx "vms$1" "$BIN/announce" - list "$GAP_US" >"$3"; }
# EID LOCATOR TIME lines of each daemon's view (TIME: when it took that view; the Map-Server's:
# when its registrants' locators became what they are, not last_registered, which each refresh
# moves)
norm='sub("^\\[[0-9]+\\] *"; "") | sub("/32$"; "")'
view_ms() { ctl ms -j show lisp site DC | jq -r ".sites[].prefixes[] | select(.registered and (.eid_prefix | test(\"/32\$\")))
	| \"\(.eid_prefix | $norm) \([.registrants[].locators[].address] | unique | join(\",\")) \([.registrants[].since] | max)\""; }
view_gw() { # the gateway's own hosts (registered) and its away entries
	ctl "$1" -j show lisp dynamic-eid | jq -r ".dynamic_eids[] | select(.registered)
		| \"\(.eid | $norm) $2 \(.since)\""
	ctl "$1" -j show lisp away | jq -r ".away[] | \"\(.eid_prefix | $norm) \([.locators[].address] | join(\",\")) \(.since)\""
}
view_branch() { ctl branch -j show ip lisp map-cache | jq -r ".map_cache[] | select(.eid_prefix | test(\"/32\$\"))
	| \"\(.eid_prefix | $norm) \([.locators[].address] | join(\",\")) \([.locators[].since] | max)\""; }
views() { # -> $WORK/v.NAME
	view_ms >"$WORK/v.ms"
	view_gw gw1 192.0.2.10 >"$WORK/v.gw1"
	view_gw gw2 192.0.2.11 >"$WORK/v.gw2"
	view_branch >"$WORK/v.branch"
}
agree() { # SET LOCATOR NAME: how many of SET the view NAME maps to LOCATOR alone
	awk -v l="$2" 'NR == FNR { want[$1] = 1; next } ($1 in want) && $2 == l { n++ } END { print n + 0 }' \
		"$1" "$WORK/v.$3"
}
all_agree() { # SET LOCATOR: every view maps every EID of SET to LOCATOR
	local n v
	n=$(wc -l <"$1")
	views
	for v in ms gw1 gw2 branch; do [ "$(agree "$1" "$2" "$v")" -eq "$n" ] || return 1; done
}
cpu() { for p in "${DPIDS[@]}"; do awk '{ printf "%d ", $14 + $15 }' "/proc/$p/stat"; done; }

# DC1: every VM announced and registered; the branch's ITR asks for each (lig) until its map-cache
# has them all
vms_addr 1 add "$WORK/all"
t0=$EPOCHREALTIME
garps 1 "$WORK/all" "$WORK/sent.dc1"
dc1_ok() { views; [ "$(agree "$WORK/all" 192.0.2.10 ms)" -eq $((V + B)) ]; }
retry 120 dc1_ok || echo "bench_failover: only $(agree "$WORK/all" 192.0.2.10 ms) of $((V + B)) registered from DC1"
echo "bench_failover: $((V + B)) VMs registered from DC1 in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
t0=$EPOCHREALTIME
# (up to 10 rounds, 1 s apart: gw1's ETR rate-limits its Map-Replies, some are not answered)
for round in 1 2 3 4 5 6 7 8 9 10; do # the branch's ITR asks for each VM (lig: the map-cache takes the answer)
	# (FILENAME, not NR == FNR: the map-cache's view is empty at first, and then NR == FNR
	# would hold for every line of the second file, and nothing be asked)
	awk 'FILENAME == ARGV[1] { have[$1] = 1; next } !($1 in have)' "$WORK/v.branch" "$WORK/all" |
		while read -r a; do ctl branch lig instance-id 100 "$a" >/dev/null 2>&1 || true; done
	views
	[ "$(agree "$WORK/all" 192.0.2.10 branch)" -lt $((V + B)) ] || break
	sleep 1
done
echo "bench_failover: the branch's map-cache has $(agree "$WORK/all" 192.0.2.10 branch) of $((V + B)) after $round round(s) of lig, $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s;" \
	"subscriptions at the Map-Server: $(ctl ms -j show lisp subscription | jq '[.subscribers[].subscriptions] | add')"
sleep 2

# move SET LABEL: the VMs of SET stop in DC1 and start in DC2; convergence and CPU
move() {
	local set=$1 label=$2 n c0 c1 w0 w1 ok=1
	n=$(wc -l <"$set")
	vms_addr 1 del "$set"
	vms_addr 2 add "$set"
	c0=$(cpu)
	w0=$EPOCHREALTIME
	garps 2 "$set" "$WORK/sent.$label"
	retry 120 all_agree "$set" 192.0.2.11 || ok=0
	w1=$EPOCHREALTIME
	c1=$(cpu)
	local first
	first=$(awk 'NR == 1 { print $3 }' "$WORK/sent.$label")
	{
		printf '%s %d %d %s %s %s' "$label" "$n" "$ok" "$first" "$w0" "$w1"
		for v in ms gw1 gw2 branch; do
			printf ' %s:%s:%s' "$v" "$(agree "$set" 192.0.2.11 "$v")" "$(awk -v l=192.0.2.11 \
				'NR == FNR { want[$1] = 1; next } ($1 in want) && $2 == l && $3 > m { m = $3 } END { printf "%.6f", m }' \
				"$set" "$WORK/v.$v")"
		done
		printf ' cpu'
		paste -d: <(echo "$c0" | tr ' ' '\n') <(echo "$c1" | tr ' ' '\n') | awk -F: 'NF == 2 && $1 != "" { printf " %d", $2 - $1 }'
		echo
	} >>"$WORK/results"
}
echo "bench_failover: baseline: $B VMs move DC1 -> DC2 ($GAP_US us between their announcements)"
move "$WORK/base" base
sleep 2
echo "bench_failover: $V VMs move DC1 -> DC2 at once ($GAP_US us between their announcements)"
move "$WORK/big" big

awk -v hz="$HZ" -v names="${NAMES[*]}" 'BEGIN { split(names, nm, " ") }
{ L = $1; n[L] = $2; ok[L] = $3; t0 = $4; w[L] = $6 - $5; worst[L] = 0
  for (i = 7; i <= 10; i++) { split($i, a, ":"); cnt[L, a[1]] = a[2]; d = (a[3] - t0) * 1000; at[L, a[1]] = d; if (d > worst[L]) worst[L] = d }
  for (i = 12; i <= NF; i++) c[L, i - 11] = $i }
END {
  for (k = 1; k <= 2; k++) { L = k == 1 ? "base" : "big"
    printf "bench_failover: %s, %d VMs: %s; all agree on DC2 after %.1f ms (ms %.1f, gw2 %.1f, gw1 %.1f, branch %.1f ms after the first frame; agreeing %d/%d/%d/%d)\n",
      (L == "base" ? "baseline" : "failover"), n[L], (ok[L] ? "converged" : "NOT converged in 120 s"), worst[L],
      at[L, "ms"], at[L, "gw2"], at[L, "gw1"], at[L, "branch"], cnt[L, "ms"], cnt[L, "gw2"], cnt[L, "gw1"], cnt[L, "branch"]
    printf "bench_failover: %s CPU (ms) over %.1f s:", (L == "base" ? "baseline" : "failover"), w[L]
    for (i = 1; i <= 6; i++) printf " %s %.0f", nm[i], c[L, i] / hz * 1000
    printf "\n" }
  printf "bench_failover: ratio %d VMs / %d VMs: convergence %.1fx for %.0fx the VMs; per VM %.3f ms against %.3f ms\n",
    n["big"], n["base"], (worst["base"] > 0 ? worst["big"] / worst["base"] : 0), n["big"] / n["base"], worst["big"] / n["big"], worst["base"] / n["base"]
}' "$WORK/results"
for v in ms gw1 gw2 branch; do
	ctl "$v" -j show lisp statistics | jq -c "{$v: .statistics | with_entries(select(.value != 0))}" 2>/dev/null || true
done | sed 's/^/bench_failover: counters: /'
for v in fhr1 fhr2; do
	"$BIN/fhrctl" -s "$WORK/$v.sock" -j show lisp statistics |
		jq -c "{$v: .statistics | with_entries(select(.value != 0))}" 2>/dev/null || true
done | sed 's/^/bench_failover: counters: /'
finish >/dev/null
