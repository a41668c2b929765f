#!/usr/bin/env bash
# 1000 tenants' first-hop routers against one site gateway, in network namespaces, with real
# processes: one fhr-agent per tenant (its own namespace, instance-id 1000+i and key, as an
# operator configures them: fhr-agent.conf per tenant, one eid-table per tenant on the gateway
# and at the Map-Server), one xtr-gateway, one Map-Server. 1000 agents fit this machine easily
# (each ~1 MiB of its own memory; 1000 namespaces are cheap), so nothing is simulated.
#
#   ms 192.0.2.1 ==== core 192.0.2.2  gw  tn 198.18.0.1/21 (bridge) ---- eth0 of tenant i (ti)
#                                                 ti: seg 198.19.0.1/16 (lisp mobility) ---- vmi (ns vms)
# Every tenant's VMs are in 198.19.0.0/16 (the same addresses in each: the instance-id keeps
# them apart); its VM 198.19.0.10 lives on vmi in the shared namespace vms (it answers the
# agent's ARP probes).
#
# Measured twice in the same run, with the same arrival stream (ARRIVALS gratuitous ARPs,
# GAP_US apart, each a VM new to the mapping system): baseline, 1 tenant (its FHR, the gateway
# and the Map-Server configured for it alone; the stream's VMs all in that tenant), then TENANTS
# tenants (one arrival in each). Figures: FHR process memory (RSS, PSS, private); the gateway's
# memory growth per tenant; CPU while idle (per FHR, the gateway), and per arrival; arrival
# (the frame's send time) -> registered at the Map-Server (its first_registered), p50/p99;
# the time until every FHR's channel is up at start.
# usage: bench_tenants.sh BUILD_BIN_DIR      (as root; TENANTS<=1000, ARRIVALS, GAP_US)
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/../tests/netns/lib.sh"
N=${TENANTS:-1000}
A=${ARRIVALS:-1000}
GAP_US=${GAP_US:-2000}
HZ=$(getconf CLK_TCK)
[ "$N" -ge 1 ] && [ "$N" -le 1000 ] || { echo "TENANTS: 1..1000 (a bridge has 1024 ports)"; exit 2; }

# The kernel's ARP and ND tables are one for all namespaces, with one limit (gc_thresh3, 1024
# by default): the gateway's neighbours (one per tenant) and each tenant's own (the gateway,
# its VM) overflowed it ("neighbor table overflow": datagrams dropped, 512 channels of 1000 up
# after 5 min). Raised for the run as an operator of such a gateway raises them (never
# lowered), and put back on exit unless someone changed them meanwhile.
NEIGH_SET=()
neigh_raise() { # FILE VALUE
	local old
	old=$(cat "$1")
	[ "$old" -lt "$2" ] || return 0
	echo "$2" >"$1"
	NEIGH_SET+=("$1 $old $2")
}
neigh_restore() {
	local f old new
	for e in "${NEIGH_SET[@]}"; do
		read -r f old new <<<"$e"
		[ "$(cat "$f")" = "$new" ] && echo "$old" >"$f"
	done
}
trap 'neigh_restore; cleanup' EXIT
for v in 4 6; do
	neigh_raise "/proc/sys/net/ipv$v/neigh/default/gc_thresh1" $((N * 4))
	neigh_raise "/proc/sys/net/ipv$v/neigh/default/gc_thresh2" $((N * 8))
	neigh_raise "/proc/sys/net/ipv$v/neigh/default/gc_thresh3" $((N * 16))
done

# the tenant's uplink address on the gateway's bridge (198.18.0.0/21)
up_addr() { echo "198.18.$((($1 + 1) / 256)).$((($1 + 1) % 256))"; }

echo "bench_tenants: building $N tenant namespaces"
ns_add ms
ns_add gw
ns_add vms
pair_link gw core 192.0.2.2/24 ms eth0 192.0.2.1/24
ip -n "$(ns gw)" link add tn type bridge
ip -n "$(ns gw)" addr add 198.18.0.1/21 dev tn
ip -n "$(ns gw)" link set tn up
for i in $(seq 1 "$N"); do ns_add "t$i"; done
for i in $(seq 1 "$N"); do
	echo "link add t$i netns $(ns gw) type veth peer name eth0 netns $(ns "t$i")"
	echo "link add seg netns $(ns "t$i") type veth peer name vm$i netns $(ns vms)"
done | ip -b -
for i in $(seq 1 "$N"); do echo "link set t$i master tn up"; done | ip -n "$(ns gw)" -b -
for i in $(seq 1 "$N"); do
	echo "addr add 198.19.0.10/16 dev vm$i"
	echo "link set vm$i up"
done | ip -n "$(ns vms)" -b -
for i in $(seq 1 "$N"); do
	printf '%s\n' "addr add $(up_addr "$i")/21 dev eth0" "link set eth0 up" \
		"addr add 198.19.0.1/16 dev seg" "link set seg up" \
		"route add default via 198.18.0.1" | ip -n "$(ns "t$i")" -b -
done

# configurations for K tenants (1..K), as an operator writes them
write_conf() {
	local k=$1 i
	{
		printf 'router lisp\n site DC\n  authentication-key dc-key\n'
		for i in $(seq 1 "$k"); do
			echo "  eid-prefix instance-id $((1000 + i)) 198.19.0.0/16 accept-more-specifics"
		done
		printf '  exit\n ipv4 map-server\n ipv4 map-resolver\n'
	} >"$WORK/ms.conf"
	{
		printf 'router lisp\n locator-set DC\n  ipv4-interface core priority 1 weight 100\n  exit\n'
		for i in $(seq 1 "$k"); do
			printf ' eid-table vrf T%d instance-id %d\n  dynamic-eid VMS-T%d\n' \
				"$i" $((1000 + i)) "$i"
			printf '   database-mapping 198.19.0.0/16 locator-set DC\n'
			printf '   eid-notify authentication-key tenant-%d-key\n   exit\n  exit\n' "$i"
		done
		printf ' ipv4 itr\n ipv4 itr map-resolver 192.0.2.1\n ipv4 etr\n'
		printf ' ipv4 etr map-server 192.0.2.1 key dc-key\n'
	} >"$WORK/gw.conf"
	for i in $(seq 1 "$k"); do
		cat >"$WORK/t$i.conf" <<CONF
router lisp
 fhr-id fhr-t$i
 eid-table vrf T$i instance-id $((1000 + i))
  dynamic-eid VMS-T$i
   database-mapping 198.19.0.0/16
   eid-notify 198.18.0.1 key tenant-$i-key
   exit
  exit
interface seg
 lisp mobility VMS-T$i
CONF
	done
}

cpu_ticks() { # PIDS... -> utime + stime, summed
	local p t=0
	for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
	echo "$t"
}
status_kb() { # FIELD PIDS... -> the mean of /proc/PID/status FIELD (kB)
	local f=$1
	shift
	for p in "$@"; do awk -v f="$f:" '$1 == f { print $2 }' "/proc/$p/status"; done |
		awk '{ s += $1 } END { printf "%.0f", s / NR }'
}
pss_kb() { for p in "$@"; do awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup"; done |
	awk '{ s += $1 } END { printf "%.0f", s / NR }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.2f MiB", k / 1024 }'; }
registered() { ctl ms -j show lisp site | jq '[.sites[].prefixes[] | select(.registered and (.eid_prefix | test("/32$")))] | length'; }
peers_up() { ctl gw -j show lisp eid-notify | jq '[.eid_notify_peers[] | select(.up)] | length'; }
at_least() { [ "$("$1")" -ge "$2" ]; } # at_least registered|peers_up N

# run K LABEL: the daemons for K tenants, their figures into $WORK/LABEL.*; stops them after
run() {
	local k=$1 label=$2 i t0 t1 c0 c1 f0 f1 m0 m1 w0 w1 want before
	local -a fpids=()
	write_conf "$k"
	daemons ms gw
	local gw_pid=${PIDS[-1]} ms_pid=${PIDS[-2]}
	local gw_rss0
	gw_rss0=$(status_kb VmRSS "$gw_pid")
	t0=$EPOCHREALTIME
	for i in $(seq 1 "$k"); do
		bg "t$i" "$BIN/fhr-agent" -f "$WORK/t$i.conf" -s "$WORK/t$i.sock" 2>"$WORK/t$i.log"
		fpids+=($!)
	done
	retry 300 at_least peers_up "$k" || echo "bench_tenants: only $(peers_up) of $k channels up"
	t1=$EPOCHREALTIME
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')" >"$WORK/$label.up"

	# each tenant's VM arrives (a gratuitous ARP), then the idle figures over 10 s
	if [ "$k" -gt 1 ]; then
		for i in $(seq 1 "$k"); do echo "vm$i 198.19.0.10"; done >"$WORK/$label.list"
	else
		echo "vm1 198.19.0.10" >"$WORK/$label.list"
	fi
	before=$(registered)
	want=$((before + $(wc -l <"$WORK/$label.list")))
	c0=$(cpu_ticks "$gw_pid")
	f0=$(cpu_ticks "${fpids[@]}")
	m0=$(cpu_ticks "$ms_pid")
	w0=$EPOCHREALTIME
	nsx vms "$BIN/announce" - list "$GAP_US" <"$WORK/$label.list" >"$WORK/$label.sent"
	retry 30 at_least registered "$want" || true
	w1=$EPOCHREALTIME
	c1=$(cpu_ticks "$gw_pid")
	f1=$(cpu_ticks "${fpids[@]}")
	m1=$(cpu_ticks "$ms_pid")
	if [ "$k" -gt 1 ]; then # the stream is this one: its CPU per arrival
		echo "$(($(registered) - before)) $((c1 - c0)) $((f1 - f0)) $((m1 - m0)) $w0 $w1" \
			>"$WORK/$label.burst"
		ctl ms -j show lisp site >"$WORK/$label.site"
	fi
	sleep 2
	c0=$(cpu_ticks "$gw_pid")
	f0=$(cpu_ticks "${fpids[@]}")
	m0=$(cpu_ticks "$ms_pid")
	w0=$EPOCHREALTIME
	sleep 10
	c1=$(cpu_ticks "$gw_pid")
	f1=$(cpu_ticks "${fpids[@]}")
	m1=$(cpu_ticks "$ms_pid")
	w1=$EPOCHREALTIME
	echo "$((c1 - c0)) $((f1 - f0)) $((m1 - m0)) $w0 $w1" >"$WORK/$label.idle"
	echo "$gw_rss0 $(status_kb VmRSS "$gw_pid") $(status_kb VmRSS "${fpids[@]}")" \
		"$(pss_kb "${fpids[@]}") $(status_kb RssAnon "${fpids[@]}")" >"$WORK/$label.mem"

	if [ "$k" -eq 1 ]; then # the baseline's stream: ARRIVALS VMs in the one tenant
		awk -v n="$A" 'BEGIN { for (i = 0; i < n; i++)
			printf "vm1 198.19.%d.%d\n", 1 + int(i / 250), 1 + i % 250 }' >"$WORK/$label.list"
		before=$(registered)
		want=$((before + A))
		c0=$(cpu_ticks "$gw_pid")
		f0=$(cpu_ticks "${fpids[@]}")
		m0=$(cpu_ticks "$ms_pid")
		w0=$EPOCHREALTIME
		nsx vms "$BIN/announce" - list "$GAP_US" <"$WORK/$label.list" >"$WORK/$label.sent"
		retry 30 at_least registered "$want" || true
		w1=$EPOCHREALTIME
		c1=$(cpu_ticks "$gw_pid")
		f1=$(cpu_ticks "${fpids[@]}")
		m1=$(cpu_ticks "$ms_pid")
		echo "$(($(registered) - before)) $((c1 - c0)) $((f1 - f0)) $((m1 - m0)) $w0 $w1" \
			>"$WORK/$label.burst"
		ctl ms -j show lisp site >"$WORK/$label.site"
	fi
	ctl gw -j show lisp statistics >"$WORK/$label.stats" || true

	# arrival -> registered at the Map-Server, per VM: (instance-id, EID) joined with its frame
	jq -r '.sites[].prefixes[] | select(.registered and (.eid_prefix | test("/32$")))
		| "\(.instance_id) \(.eid_prefix | sub("^\\[[0-9]+\\]"; "") | sub("/32$"; "")) \(.first_registered)"' \
		"$WORK/$label.site" >"$WORK/$label.reg"
	awk 'NR == FNR { iid = 1000 + substr($1, 3); t[iid " " $2] = $3; next }
		($1 " " $2) in t { printf "%.3f\n", ($3 - t[$1 " " $2]) * 1000 }' \
		"$WORK/$label.sent" "$WORK/$label.reg" | sort -n >"$WORK/$label.lat"

	for p in "${fpids[@]}" "$gw_pid" "$ms_pid"; do kill "$p" 2>/dev/null || true; done
	for p in "${fpids[@]}" "$gw_pid" "$ms_pid"; do wait "$p" 2>/dev/null || true; done
	PIDS=()
}

pct() { awk -v n="$2" -v p="$1" 'BEGIN { i = int(n * p + 0.5); if (i < 1) i = 1 } NR == i { print; exit }' "$3"; }

report() { # LABEL K: one line per figure
	local label=$1 k=$2 got n p50 p99 reg gwc fc mc w
	n=$(wc -l <"$WORK/$label.lat")
	p50=$(pct 0.50 "$n" "$WORK/$label.lat")
	p99=$(pct 0.99 "$n" "$WORK/$label.lat")
	read -r reg gwc fc mc w0 w1 <"$WORK/$label.burst"
	echo "$label|$k|$(cat "$WORK/$label.up")|$n|$p50|$p99|$reg|$gwc|$fc|$mc|$w0|$w1|$(cat "$WORK/$label.idle")|$(cat "$WORK/$label.mem")"
}

echo "bench_tenants: baseline, 1 tenant, $A arrivals in it ($GAP_US us apart)"
run 1 one
echo "bench_tenants: $N tenants, one arrival in each ($GAP_US us apart)"
run "$N" many
report one 1 >"$WORK/r"
report many "$N" >>"$WORK/r"
awk -F'|' -v hz="$HZ" -v N="$N" '
function ms(t, n) { return n ? t / hz * 1000 / n : 0 }
{ L = $1; k[L] = $2; up[L] = $3; lat[L] = $4; p50[L] = $5; p99[L] = $6; reg[L] = $7
  gwc[L] = $8; fc[L] = $9; mc[L] = $10; bw[L] = $12 - $11
  split($13, I, " "); igw[L] = I[1]; ifc[L] = I[2]; ims[L] = I[3]; iw[L] = I[5] - I[4]
  split($14, M, " "); gw0[L] = M[1]; gw1[L] = M[2]; frss[L] = M[3]; fpss[L] = M[4]; fanon[L] = M[5] }
END {
  printf "bench_tenants: channels up after start: %s s for %d FHRs (baseline 1 FHR: %s s)\n", up["many"], N, up["one"]
  printf "bench_tenants: arrivals registered: %d of %d tenants; baseline %d of its stream in 1 tenant\n", reg["many"], N, reg["one"]
  printf "bench_tenants: arrival -> registered at the Map-Server: p50 %.2f ms, p99 %.2f ms with %d tenants;" \
    " baseline 1 tenant p50 %.2f ms, p99 %.2f ms -> ratio p99 %.2f\n", p50["many"], p99["many"], N, p50["one"], p99["one"], (p99["one"] > 0 ? p99["many"] / p99["one"] : 0)
  printf "bench_tenants: CPU per arrival: gateway %.3f ms, FHRs %.3f ms, Map-Server %.3f ms with %d tenants;" \
    " baseline %.3f / %.3f / %.3f ms\n", ms(gwc["many"], reg["many"]), ms(fc["many"], reg["many"]), ms(mc["many"], reg["many"]), N,
    ms(gwc["one"], reg["one"]), ms(fc["one"], reg["one"]), ms(mc["one"], reg["one"])
  printf "bench_tenants: FHR process (mean of %d): RSS %.2f MiB, PSS %.2f MiB, private %.2f MiB; baseline the lone FHR: RSS %.2f, PSS %.2f, private %.2f MiB\n",
    N, frss["many"] / 1024, fpss["many"] / 1024, fanon["many"] / 1024, frss["one"] / 1024, fpss["one"] / 1024, fanon["one"] / 1024
  printf "bench_tenants: gateway RSS with %d tenants: %.1f MiB after start (%.1f MiB at config load), baseline 1 tenant %.1f MiB -> %.1f KiB per tenant\n",
    N, gw1["many"] / 1024, gw0["many"] / 1024, gw1["one"] / 1024, (gw1["many"] - gw1["one"]) / (N - 1 > 0 ? N - 1 : 1)
  printf "bench_tenants: idle CPU over %.0f s: FHRs together %.2f%% of a core (%.4f%% per tenant), gateway %.2f%%, Map-Server %.2f%%;" \
    " baseline 1 tenant: FHR %.4f%%, gateway %.2f%%, Map-Server %.2f%% -> gateway idle cost per extra tenant %.4f%%\n",
    iw["many"], ifc["many"] / hz / iw["many"] * 100, ifc["many"] / hz / iw["many"] * 100 / N, igw["many"] / hz / iw["many"] * 100, ims["many"] / hz / iw["many"] * 100,
    ifc["one"] / hz / iw["one"] * 100, igw["one"] / hz / iw["one"] * 100, ims["one"] / hz / iw["one"] * 100,
    (igw["many"] / hz / iw["many"] - igw["one"] / hz / iw["one"]) * 100 / (N - 1 > 0 ? N - 1 : 1)
}' "$WORK/r"
jq -c '{eid_notify: .statistics | with_entries(select(.key | test("notify|refused|answers|hello"; "i")))}' \
	"$WORK/many.stats" 2>/dev/null | sed 's/^/bench_tenants: gateway counters: /' || true
finish >/dev/null
