#!/usr/bin/env bash
# A live migration's switchover, as the hypervisor reports it (issue 21): the source host says
# HV_LEAVING (SUSPENDED/MIGRATED) and its FHR holds what its own segment sends the VM, tells the
# segment the VM is at its MAC and the gateway LEAVING; then either the migration fails (HV_LIVE
# from the same host: delivered here, the segment told the VM's MAC again) or the VM runs in the
# other DC (HV_LIVE there): the MovedAway releases what was held up, to the gateway, which sends
# it on to the new site. The events are sent as the hosts send them (vmroam-qemu-hook -e, signed
# with the tenant's hypervisor-events key, from the hypervisor's namespace).
#
#   ms (192.0.2.1) == gw1 -- fw1 -- fhr1 (br0 198.51.100.1/25, nfqueue 1) -- fab: brdc1 (vm, h1) -+
#                  == gw2 -- fw2 -- fhr2 (br0 198.51.100.1/25, nfqueue 2) -- fab: brdc2 (h2) ------+
#                                                          x1==x2: the extension, FHRP filter
#
# h1 pings the VM at 1 kpps (same segment, same subnet); unanswered, ping slows down to 100 pps
# (its own back-off), so a 0.5 s hold holds some 50 pings. h2, in DC2 on the same subnet, pings
# it too, at layer 2 across the extension: FHR1's announcement does not reach it (FHRP
# isolation), so FHR1 draws the frames to the VM's MAC to itself (a RARP from that MAC) and
# holds them with the rest. The VM's pause is a drop-all table in
# its namespace (frames in and out), begun as vmroam-virtwatch does: a LEAVING whose pause
# follows (the hold), acknowledged, then the pause, then a LEAVING (paused: FHR1 draws the
# frames to the VM's MAC only then, not while the VM still answers).
# Asserted, round 1 (the migration fails): FHR1 shows the VM leaving with packets held, none
# answered while held; the gateway got the LEAVING and holds the VM (fhr-leaving, then its
# hold-end when FHR1 says the VM stays: REFRESH); after HV_LIVE
# every ping answered (none lost), in order, no duplicate; h1's ARP entry is the VM's MAC again;
# h2's pings, which FHR1 held (the frames to the VM's MAC), answered once, none lost but those
# h2 sent between the pause and the draw (the hook's run, some ms), delivered here once
# the VM answered FHR1 (the bridges have the VM's MAC at its own port again); the few h2 sent
# after that answer reached the VM straight, ahead of the held ones: counted, not asserted.
# Round 2 (the VM moves to DC2): FHR1 holds, the VM resumes in DC2 (QEMU's RARP there, HV_LIVE
# to FHR2, HV_LEFT to FHR1 right after, as libvirt orders them), the MovedAway releases the
# held pings up (h1's and h2's): none lost (h2: as in round 1), none twice (h2's later ones,
# straight to the VM once
# its RARP taught the bridges, come before the held ones: counted).
# Adversarial: an HV_LEAVING signed with another key changes nothing; a flood of LEAVING for 384
# EIDs holds at most 256 of them, one EID at most 4096 packets, the rest passed on and counted.
# usage: leaving.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

GWMAC=02:00:5e:00:01:01 # the VMs' gateway on both FHRs
VMMAC=52:54:00:00:00:10
VM=198.51.100.10 H1=198.51.100.40 H2=198.51.100.41
COUNT=3000 # pings per round: 3 s at 1 kpps

star gw1=10 gw2=11
for i in 1 2; do
	# gw-fw 198.51.100.192/30, fw-fhr .196/30 (DC2 .200/30, .204/30): the FHR a routed hop
	# behind its gateway, as the lab has it (a gateway routes an EID toward its FHR's address)
	t=$((192 + (i - 1) * 8))
	host "gw$i" s0 "198.51.100.$((t + 1))/30" "fw$i" "198.51.100.$((t + 2))/30"
	host "fw$i" t0 "198.51.100.$((t + 5))/30" "fhr$i" "198.51.100.$((t + 6))/30"
	ip -n "$(ns "gw$i")" route add 198.51.100.0/25 via "198.51.100.$((t + 2))"
	ip -n "$(ns "gw$i")" route add "198.51.100.$((t + 4))/30" via "198.51.100.$((t + 2))"
	ip -n "$(ns "fw$i")" route replace default via "198.51.100.$((t + 1))"
	ip -n "$(ns "fw$i")" route add 198.51.100.0/25 via "198.51.100.$((t + 6))"
	# what comes up from the FHR goes to the gateway (a moved-away VM's route up: no hairpin)
	ip -n "$(ns "fw$i")" route add default via "198.51.100.$((t + 1))" table 50
	ip -n "$(ns "fw$i")" rule add iif t0 lookup 50
	ip -n "$(ns "fhr$i")" route replace default via "198.51.100.$((t + 5))"
	nsx "fw$i" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$(ns "fhr$i")" -b - <<-B
		link add br0 type bridge
		link set br0 address $GWMAC
		addr add 198.51.100.1/25 dev br0
		link set br0 up
	B
	for r in "gw$i" "fhr$i"; do nsx "$r" sysctl -qw net.ipv4.ip_forward=1; done
	nsx "fhr$i" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
done
# FHR1's other segment: the EIDs of the flood (no host behind them: they only need to be here)
ip -n "$(ns fhr1)" -b - <<-B
	link add br1 type bridge
	addr add 203.0.113.1/24 dev br1
	link set br1 up
B
ns_add fab
ip -n "$(ns fab)" -b - <<-B
	link add brdc1 type bridge
	link add brdc2 type bridge
	link set brdc1 up
	link set brdc2 up
	link add x1 type veth peer name x2
	link set x1 master brdc1 up
	link set x2 master brdc2 up
B
for i in 1 2; do
	ip link add "u$i" netns "$(ns fab)" type veth peer name up0 netns "$(ns "fhr$i")"
	ip -n "$(ns fab)" link set "u$i" master "brdc$i" up
	ip -n "$(ns "fhr$i")" link set up0 master br0 up
done
while read -r r port dc a; do
	ns_add "$r"
	ip link add "$port" netns "$(ns fab)" type veth peer name eth0 netns "$(ns "$r")"
	ip -n "$(ns fab)" link set "$port" master "brdc$dc" up
	ip -n "$(ns "$r")" -b - <<-B
		addr add $a/25 dev eth0
		link set eth0 up
		route add default via 198.51.100.1
	B
done <<-L
	vm vmf 1 $VM
	h1 h1f 1 $H1
	h2 h2f 2 $H2
L
ip -n "$(ns vm)" link set eth0 address $VMMAC
# the hosts keep their neighbour entries: only what is announced changes them
for r in vm h1 h2; do nsx "$r" sysctl -qw net.ipv4.neigh.eth0.base_reachable_time_ms=600000; done
# FHRP isolation on the extension (as the lab's DCI): the gateway MAC and address stay local
nsx fab nft -f - <<NFT
table bridge vmr_fhrp {
	chain forward {
		type filter hook forward priority 0; policy accept;
		oifname { "x1", "x2" } ether saddr $GWMAC counter drop
		oifname { "x1", "x2" } ether daddr $GWMAC counter drop
		oifname { "x1", "x2" } arp saddr ip 198.51.100.1 counter drop
		oifname { "x1", "x2" } arp daddr ip 198.51.100.1 counter drop
	}
}
NFT

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix 198.51.100.0/24 accept-more-specifics
 ipv4 map-server
 ipv4 map-resolver
CONF
for i in 1 2; do
	cat >"$WORK/gw$i.conf" <<CONF
router lisp
 locator-set RLOC
  ipv4-interface eth0 priority 1 weight 100
  exit
 dynamic-eid VMS
  database-mapping 198.51.100.0/25 locator-set RLOC
  eid-notify authentication-key tenant-key
  exit
 map-cache 198.51.100.0/24 map-request
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
CONF
	cat >"$WORK/fhr$i.conf" <<CONF
router lisp
 fhr-id fhr-dc$i
 nfqueue $i
 dynamic-eid VMS
  database-mapping 198.51.100.0/25
  eid-notify 198.51.100.$((193 + (i - 1) * 8)) key tenant-key
  hypervisor-events key hv-key
  migration-hold 3000
  exit
$([ "$i" = 1 ] && printf ' dynamic-eid FLOOD\n  database-mapping 203.0.113.0/24\n  database-mapping 2001:db8:f::/64\n  eid-notify 198.51.100.193 key not-a-gateway-key\n  hypervisor-events key hv-key\n  exit\n')
interface br0
 lisp mobility VMS
 lisp extended-subnet-mode
$([ "$i" = 1 ] && printf 'interface br1\n lisp mobility FLOOD\n')
CONF
	cat >"$WORK/hv$i.conf" <<CONF
hypervisor
 host-id dc$i-host
 tenant T
  instance-id 0
  key hv-key
  fhr 198.51.100.$((198 + (i - 1) * 8))
CONF
done
sed 's/key hv-key/key not-the-key/' "$WORK/hv1.conf" >"$WORK/hv-wrong.conf"
cat >"$WORK/vm.xml" <<XML
<domain><name>vm1</name><uuid>00000000-0000-0000-0000-000000000010</uuid><metadata>
<v:vm xmlns:v='urn:vmroam:libvirt:1'><v:tenant>T</v:tenant>
<v:address mac='$VMMAC'>$VM</v:address></v:vm></metadata>
<devices><interface type='bridge'><mac address='$VMMAC'/><source bridge='brdc1'/></interface>
</devices></domain>
XML
daemons ms gw1 gw2
fhrs fhr1 fhr2
for i in 1 2; do
	check "FHR$i and gateway $i see each other up" retry 5 fhr_j "fhr$i" \
		'any(.eid_notify_peers[]; .up)' show lisp eid-notify
done

# hv N KIND [CONF]: host N's hypervisor tells its FHR KIND about the VM (signed, acknowledged)
hv() {
	nsx "gw$1" "$BIN/vmroam-qemu-hook" -c "${3:-$WORK/hv$1.conf}" -L "$WORK/hook.log" -e "$2" vm1 \
		<"$WORK/vm.xml"
}
pause() { nsx vm nft -f - <<<'table netdev pause { chain p { type filter hook ingress device "eth0" priority 0; policy drop; }; chain q { type filter hook egress device "eth0" priority 0; policy drop; }; }'; }
unpause() { nsx vm nft delete table netdev pause; }
fst() { "$BIN/fhrctl" -s "$WORK/$1.sock" -j show lisp statistics | jq ".statistics.$2"; }
state() {
	"$BIN/fhrctl" -s "$WORK/$1.sock" -j show lisp dynamic-eid |
		jq -r ".dynamic_eids[] | select(.eid==\"$VM/32\") | .state"
}
# lost FILE: the pings of FILE never answered; late FILE MS: those answered after MS
lost() { awk -v n=$COUNT '/icmp_seq=/ { for (i = 1; i <= NF; i++) if ($i ~ /^icmp_seq=/) { split($i, a, "="); s[a[2]] = 1 } }
	END { m = 0; for (k = 1; k <= n; k++) if (!(k in s)) m++; print m }' "$1"; }
late() { grep -o 'time=[0-9.]*' "$1" | awk -F= -v ms="$2" '$2 >= ms { n++ } END { print n + 0 }'; }
# in order: each reply's icmp_seq above the one before; no "DUP!"
ordered() { ! grep -q 'DUP!' "$1" && grep 'bytes from' "$1" | grep -o 'icmp_seq=[0-9]*' | cut -d= -f2 |
	awk 'NR > 1 && $1 <= last { bad = 1 } { last = $1 } END { exit bad }'; }
# once FILE: every reply once (no "DUP!", no icmp_seq twice); overtaken FILE: replies that came
# before one to an earlier request (a held ping delivered after a later one went straight)
once() { ! grep -q 'DUP!' "$1" && [ -z "$(grep 'bytes from' "$1" | grep -o 'icmp_seq=[0-9]*' | sort | uniq -d)" ]; }
overtaken() { grep 'bytes from' "$1" | grep -o 'icmp_seq=[0-9]*' | cut -d= -f2 |
	awk '{ s[NR] = $1 } END { m = 1e9; for (i = NR; i >= 1; i--) { if (s[i] > m) n++; if (s[i] < m) m = s[i] } print n + 0 }'; }

# the VM at home, known to FHR1 from the hypervisor, registered by gateway 1
hv 1 live
check "FHR1: the VM here (hypervisor)" retry 3 fhr_j fhr1 \
	".dynamic_eids[] | select(.eid==\"$VM/32\") | .source==\"hypervisor\"" show lisp dynamic-eid
check "gateway 1: the VM registered from FHR1" retry 3 jctl gw1 \
	".dynamic_eids[] | select(.eid==\"$VM/32\") | .fhr==\"fhr-dc1\" and .registered" \
	show lisp dynamic-eid
check "h1 reaches the VM directly" nsx h1 ping -c 3 -i 0.2 -W 2 $VM >/dev/null
check "h1 has the VM at its own MAC" bash -c "ip -n $(ns h1) neigh show $VM | grep -q $VMMAC"
check "h2 (DC2) reaches the VM across the extension" nsx h2 ping -c 3 -i 0.2 -W 2 $VM >/dev/null
check "h2 has the VM at its own MAC" bash -c "ip -n $(ns h2) neigh show $VM | grep -q $VMMAC"
# fdb BRIDGE PORT: the fabric's bridge BRIDGE has the VM's MAC at PORT
fdb() { bridge -n "$(ns fab)" fdb show br "$1" | grep -q "^$VMMAC dev $2 master"; }
fdbs() { fdb brdc1 "$1" && fdb brdc2 "$2"; } # fdbs PORT1 PORT2: both bridges

# A LEAVING signed with another key: refused, nothing changes.
hv 1 leaving "$WORK/hv-wrong.conf"
not_leaving() { [ "$(fst fhr1 leaving)" = 0 ] && [ "$(fst fhr1 hv_leaving)" = 0 ]; }
check "wrong key: refused (counted)" fhr_j fhr1 '.hypervisor.auth_failures >= 1' show lisp hypervisor
check "wrong key: the VM not leaving" not_leaving
check "wrong key: h1 still has the VM's MAC" bash -c "ip -n $(ns h1) neigh show $VM | grep -q $VMMAC"

# Round 1: the migration fails; the VM resumes where it was.
nsx h1 ping -D -n -i 0.001 -c $COUNT -W 3 $VM >"$WORK/ping1.out" 2>&1 &
PIDS+=($!)
nsx h2 ping -D -n -i 0.001 -c $COUNT -W 3 $VM >"$WORK/h2ping1.out" 2>&1 &
PIDS+=($!)
sleep 0.5
t0=$EPOCHREALTIME
hv 1 switching # (as the watcher: the hold first, acknowledged; then the pause; then "paused")
pause
tp=$EPOCHREALTIME
hv 1 leaving
t1=$EPOCHREALTIME
w1=$(awk -v a="$tp" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 + 2 }')
sleep 0.5
st=$(state fhr1)
echo "round 1: the hook's LEAVING acknowledged in $(grep -o 'leaving told.*acknowledged in [0-9.]* ms' "$WORK/hook.log" | tail -1 | grep -o '[0-9.]* ms$') (hook and pause together $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }') ms); FHR1 says: $st"
n_held=$(sed -n 's/^leaving (\([0-9]*\) held)$/\1/p' <<<"$st")
check "FHR1: the VM leaving, packets held" test "${n_held:-0}" -gt 30
check "FHR1: event history has leaving and hold" bash -c \
	"$BIN/fhrctl -s $WORK/fhr1.sock -j show lisp event-history | jq -e '[.events[].event] | index(\"leaving\") and index(\"hold\") and index(\"notify-leaving\")' >/dev/null"
check "h1 sends to FHR1's MAC (told at LEAVING)" bash -c "ip -n $(ns h1) neigh show $VM | grep -q $GWMAC"
check "gateway 1 got the LEAVING from FHR1 and holds the VM" bash -c \
	"$BIN/xtrctl -s $WORK/gw1.sock -j show lisp event-history | jq -e '[.events[] | select(.eid==\"$VM/32\") | .event] | index(\"fhr-leaving\") and index(\"leaving\")' >/dev/null &&
	 $BIN/xtrctl -s $WORK/gw1.sock -j show lisp dynamic-eid | jq -e '.dynamic_eids[] | select(.eid==\"$VM/32\") | .leaving' >/dev/null"
check "the fabric's DC1 bridge has the VM's MAC at FHR1 (drawn there)" fdb brdc1 u1
unpause
hv 1 live
wait "${PIDS[-2]}" "${PIDS[-1]}" || true
echo "round 1: $(tail -2 "$WORK/ping1.out" | head -1); answered late (>= 1 ms): $(late "$WORK/ping1.out" 1)"
echo "round 1, h2: $(tail -2 "$WORK/h2ping1.out" | head -1); answered late (>= 1 ms): $(late "$WORK/h2ping1.out" 1); FHR1 held $(fst fhr1 steal_held) of its frames, delivered $(fst fhr1 steal_released_here) here"
# h2's frames reach the paused VM until FHR1 draws its MAC, on the paused LEAVING (here a hook
# process, some ms; vmroam-virtwatch sends it as its pause returns): at 1 kpps, what h2 sent
# between the pause and the hook's Ack at most; none sent after
echo "round 1, h2: $(lost "$WORK/h2ping1.out") lost; the pause to FHR1's draw: at most $w1 ms"
check "round 1: h2 (DC2, across the extension): none lost but sent between the pause and the draw" \
	test "$(lost "$WORK/h2ping1.out")" -le "$w1"
echo "round 1, h2: $(overtaken "$WORK/h2ping1.out") replies before that to an earlier request"
check "round 1: h2: no duplicate" once "$WORK/h2ping1.out"
check "round 1: FHR1 held h2's pings (steal) and delivered them here" bash -c \
	"[ $(fst fhr1 steal_held) -gt 30 ] && [ $(fst fhr1 steal_released_here) = $(fst fhr1 steal_held) ] && [ $(fst fhr1 steal_holding) = 0 ]"
check "round 1: the bridges have the VM's MAC at its own port again" fdbs vmf x2
check "round 1: no ping lost" test "$(lost "$WORK/ping1.out")" = 0
check "round 1: in order, no duplicate" ordered "$WORK/ping1.out"
check "round 1: the held pings were answered at its end (late), none during it" \
	test "$(late "$WORK/ping1.out" 1)" -ge "$n_held"
stayed() { [ "$(fst fhr1 hold_released_here)" -ge "$n_held" ] && [ "$(fst fhr1 leaving_stayed)" = 1 ] &&
	[ "$(fst fhr1 hold_holding)" = 0 ] && [[ "$(state fhr1)" =~ ^(detected|acknowledged)$ ]]; }
check "round 1: FHR1 delivered them here, the VM here again" stayed
check "round 1: h1 has the VM at its own MAC again" bash -c "ip -n $(ns h1) neigh show $VM | grep -q $VMMAC"
check "round 1: gateway 1 still has the VM from FHR1, no longer leaving" jctl gw1 \
	".dynamic_eids[] | select(.eid==\"$VM/32\") | .fhr==\"fhr-dc1\" and (.leaving | not)" show lisp dynamic-eid

# Round 2: the VM runs in DC2 after the switchover.
sleep 0.5
nsx h1 ping -D -n -i 0.001 -c $COUNT -W 3 $VM >"$WORK/ping2.out" 2>&1 &
PIDS+=($!)
nsx h2 ping -D -n -i 0.001 -c $COUNT -W 3 $VM >"$WORK/h2ping2.out" 2>&1 &
PIDS+=($!)
sleep 0.5
hv 1 switching
pause
tp=$EPOCHREALTIME
hv 1 leaving
w2=$(awk -v a="$tp" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 + 2 }')
sleep 0.3
ip -n "$(ns fab)" link set vmf master brdc2
unpause
echo | nsx vm "$BIN/announce" eth0 rarp # QEMU's self-announce at the destination
t_live=$EPOCHREALTIME
hv 2 live
hv 1 left
wait "${PIDS[-2]}" "${PIDS[-1]}" || true
for r in fhr1 fhr2; do "$BIN/fhrctl" -s "$WORK/$r.sock" show lisp event-history >"$WORK/$r.evh"; done
for r in gw1 gw2; do ctl "$r" show lisp event-history >"$WORK/$r.evh"; done
[ -n "${LEAVING_PAUSE:-}" ] && { echo "paused: $NS_PREFIX $WORK"; sleep "$LEAVING_PAUSE"; }
echo "round 2: $(tail -2 "$WORK/ping2.out" | head -1); answered late (>= 200 ms): $(late "$WORK/ping2.out" 200)"
check "round 2: FHR2 has the VM, gateway 2 registered it" retry 3 jctl gw2 \
	".dynamic_eids[] | select(.eid==\"$VM/32\") | .fhr==\"fhr-dc2\" and .registered" show lisp dynamic-eid
# (HV_LEFT comes before or after the MovedAway: the race of libvirt's confirm phase)
moved_up() { [ "$(fst fhr1 hold_released_up)" -gt 20 ] && [ "$(fst fhr1 leaving_moved)" = 1 ]; }
check "round 2: FHR1 released the held pings up (MovedAway)" retry 2 moved_up
check "round 2: FHR1 event history: hold-released up" bash -c \
	"$BIN/fhrctl -s $WORK/fhr1.sock -j show lisp event-history | jq -e '[.events[].event] | index(\"hold-released up\")' >/dev/null"
gone1() { [ -z "$(state fhr1)" ]; }
check "round 2: FHR1 no longer has the VM (it departs 1 s after the MovedAway)" retry 3 gone1
check "round 2: no ping lost" test "$(lost "$WORK/ping2.out")" = 0
check "round 2: in order, no duplicate" ordered "$WORK/ping2.out"
echo "round 2, h2: $(tail -2 "$WORK/h2ping2.out" | head -1); FHR1 routed $(fst fhr1 steal_released_up) of its frames up"
echo "round 2, h2: $(lost "$WORK/h2ping2.out") lost; the pause to FHR1's draw: at most $w2 ms"
check "round 2: h2 (DC2): none lost but sent between the pause and the draw" \
	test "$(lost "$WORK/h2ping2.out")" -le "$w2"
echo "round 2, h2: $(overtaken "$WORK/h2ping2.out") replies before that to an earlier request"
check "round 2: h2: no duplicate" once "$WORK/h2ping2.out"
check "round 2: FHR1 routed h2's held pings up" bash -c "[ $(fst fhr1 steal_released_up) -gt 20 ] && [ $(fst fhr1 steal_holding) = 0 ]"
check "round 2: the bridges have the VM's MAC at its new port" fdbs x1 vmf

# The flood: 3 domains of 16 interfaces of 8 addresses each (IPv4 and IPv6), live on FHR1's
# second segment, then all leaving: at most 256 EIDs held, the others counted; one EID gets 5000
# packets in 1 s: at most 4096 held, the rest passed on at once and counted.
flood_addr() { # DOMAIN INDEX
	if [ "$1" = 0 ]; then echo "203.0.113.$((2 + $2))"; else printf '2001:db8:f::%x\n' $((($1 << 8) + $2)); fi
}
for d in 0 1 2; do
	{
		echo "<domain><name>flood$d</name><metadata><v:vm xmlns:v='urn:vmroam:libvirt:1'><v:tenant>T</v:tenant>"
		for f in $(seq 0 15); do
			mac=$(printf '52:54:01:00:%02x:%02x' "$d" "$f")
			for a in $(seq 0 7); do echo "<v:address mac='$mac'>$(flood_addr $d $((f * 8 + a)))</v:address>"; done
		done
		echo "</v:vm></metadata><devices>"
		for f in $(seq 0 15); do printf "<interface type='bridge'><mac address='52:54:01:00:%02x:%02x'/></interface>" "$d" "$f"; done
		echo "</devices></domain>"
	} >"$WORK/flood$d.xml"
done
flood_hv() { nsx gw1 "$BIN/vmroam-qemu-hook" -c "$WORK/hv1.conf" -L "$WORK/hook.log" -e "$2" "flood$1" <"$WORK/flood$1.xml"; }
for d in 0 1 2; do flood_hv $d live; done
n_flood=$("$BIN/fhrctl" -s "$WORK/fhr1.sock" -j show lisp dynamic-eid | jq '[.dynamic_eids[] | select(.policy=="FLOOD")] | length')
echo "flood: $n_flood EIDs of the flood here"
for d in 0 1 2; do flood_hv $d leaving; done
nsx h1 ping -q -n -l 5000 -c 5000 -W 1 203.0.113.2 >/dev/null 2>&1 || true # (-l: all at once)
held_now=$(fst fhr1 hold_holding) over=$(fst fhr1 hold_over_limit) refused=$(fst fhr1 hold_eids_refused)
echo "flood: leaving $(fst fhr1 leaving_now), held now $held_now, over a limit $over, EIDs not held $refused"
check "flood: more than 256 EIDs leaving, at most 256 held, the others counted" \
	bash -c "[ $n_flood -gt 256 ] && [ $refused -ge $((n_flood - 256)) ]"
check "flood: one EID holds at most 4096 packets, the rest passed on and counted" \
	bash -c "[ $held_now -le 4096 ] && [ $over -ge 900 ]"
none_held() { [ "$(fst fhr1 hold_holding)" = 0 ] && [ "$(fst fhr1 leaving_now)" = 0 ]; }
check "flood: the hold time (2 s) lets them go, nothing left leaving" retry 8 none_held
check "FHR1 still answers (show lisp statistics)" fhr_j fhr1 '.statistics.hold_held > 0' show lisp statistics
finish
