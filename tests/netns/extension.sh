#!/usr/bin/env bash
# Extended subnet with a real layer-2 extension (issue 20): the two data centres' VM segments are
# joined by a link (a veth between their fabric bridges) with FHRP isolation, as a DCI does it:
# on the extension, frames from or to the gateway MAC and ARP from or for the gateway address are
# dropped (nftables, bridge family), so each DC keeps its own FHR (same address, same MAC).
# Broadcasts of the hosts still cross it, and an FHR must not take a host it hears only through
# the extension for one of its own.
#
#   ms (192.0.2.1) == gw1 -- fhr1 (br0 198.51.100.1/25) -- fab: brdc1 (vm, h1) --+
#                  == gw2 -- fhr2 (br0 198.51.100.1/25) -- fab: brdc2 (h2) ------+ x1 == x2
#
# Asserted: the VM (DC1) and h2 (DC2) announce themselves (gratuitous ARPs) and ARP for each other
# (broadcast): FHR1 detects the VM and not h2, FHR2 h2 and not the VM, the Map-Server moves
# nothing; the VM and h2 reach each other over the extension. The VM moves to DC2 (migrate,
# gratuitous ARP): FHR2 detects it, FHR1 lets it go and does not take it back from its
# broadcasts that cross the extension for a few seconds; h2 and h1 (DC1) reach it. Then it moves
# to DC1 and back within 50 ms: FHR2 detects it back (its rate-limited probe deferred, not
# dropped). The filter dropped something.
# usage: extension.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

GWMAC=02:00:5e:00:01:01 # the VMs' gateway on both FHRs
VM=198.51.100.10 H1=198.51.100.40 H2=198.51.100.30

star gw1=10 gw2=11
for i in 1 2; do
	t=$((192 + (i - 1) * 4)) # gw-fhr 198.51.100.192/30 (DC2 .196/30)
	host "gw$i" s0 "198.51.100.$((t + 1))/30" "fhr$i" "198.51.100.$((t + 2))/30"
	ip -n "$(ns "gw$i")" route add 198.51.100.0/25 via "198.51.100.$((t + 2))"
	ip -n "$(ns "fhr$i")" -b - <<-B
		link add br0 type bridge
		link set br0 address $GWMAC
		addr add 198.51.100.1/25 dev br0
		link set br0 up
	B
	for r in "gw$i" "fhr$i"; do nsx "$r" sysctl -qw net.ipv4.ip_forward=1; done
	nsx "fhr$i" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
done
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
# FHRP isolation on the extension: what leaves through x1 or x2 (toward the other DC)
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
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
CONF
	cat >"$WORK/fhr$i.conf" <<CONF
router lisp
 fhr-id fhr-dc$i
 dynamic-eid VMS
  database-mapping 198.51.100.0/25
  eid-notify 198.51.100.$((193 + (i - 1) * 4)) key tenant-key
  exit
interface br0
 lisp mobility VMS
 lisp extended-subnet-mode
CONF
done
daemons ms gw1 gw2
fhrs fhr1 fhr2
# here FHR ADDR...: FHR holds each ADDR as a host of its own (detected or acknowledged)
here() {
	local r=$1 a
	shift
	for a in "$@"; do
		fhr_j "$r" "any(.dynamic_eids[]; .eid==\"$a/32\" and (.state==\"detected\" or .state==\"acknowledged\"))" \
			show lisp dynamic-eid || return 1
	done
}
# nowhere FHR ADDR...: FHR holds none of ADDR as its own
nowhere() {
	local r=$1 a
	shift
	for a in "$@"; do ! here "$r" "$a" || return 1; done
}
# held GW N ADDR...: gateway GW holds each ADDR, told by FHR N; N=0: holds none of them
held() {
	local gw=$1 n=$2 a q
	shift 2
	for a in "$@"; do
		q="any(.dynamic_eids[]; .eid==\"$a/32\" and .fhr==\"fhr-dc$n\")"
		[ "$n" = 0 ] && q="all(.dynamic_eids[]; .eid!=\"$a/32\")"
		jctl "$gw" "$q" show lisp dynamic-eid || return 1
	done
}
# by_dc N ADDR...: the Map-Server has each ADDR registered by DC N's gateway
by_dc() {
	local n=$1 a
	shift
	for a in "$@"; do
		jctl ms ".sites[].prefixes[] | select(.eid_prefix==\"$a/32\") | .registered and .last_registered_by==\"192.0.2.1$((n - 1))\"" \
			show lisp site || return 1
	done
}
# detections FHR ADDR [SINCE]: how many times FHR detected ADDR (its event history), since SINCE
# (unix time)
detections() {
	"$BIN/fhrctl" -s "$WORK/$1.sock" -j show lisp event-history |
		jq --arg e "$2/32" --argjson t "${3:-0}" \
			'[.events[] | select(.event=="detected" and .eid==$e and .time>=$t)] | length'
}
# never FHR ADDR...: FHR never detected any ADDR, and holds none
never() {
	local r=$1 a
	shift
	for a in "$@"; do
		[ "$(detections "$r" "$a")" = 0 ] || return 1
	done
	nowhere "$r" "$@"
}
# learned GW ADDR [SINCE]: how many times gateway GW learned ADDR (its event history), since SINCE
learned() {
	ctl "$1" -j show lisp event-history |
		jq --arg e "$2/32" --argjson t "${3:-0}" \
			'[.events[] | select(.event=="learned" and .eid==$e and .time>=$t)] | length'
}
moves() { ctl ms -j show lisp site | jq '[.sites[].counters.moves] | add'; }
# say ADDR...: who holds each ADDR (FHRs: state, gateways: from which FHR), for the figures
say() {
	local a r out=
	for a in "$@"; do
		out+="${out:+; }$a:"
		for r in fhr1 fhr2; do
			out+=" $r $("$BIN/fhrctl" -s "$WORK/$r.sock" -j show lisp dynamic-eid |
				jq -r --arg e "$a/32" '[.dynamic_eids[] | select(.eid==$e) | .state] | first // "-"')"
		done
		for r in gw1 gw2; do
			out+=" $r $(ctl "$r" -j show lisp dynamic-eid |
				jq -r --arg e "$a/32" '[.dynamic_eids[] | select(.eid==$e) | .fhr] | first // "-"')"
		done
	done
	echo "$out; Map-Server moves: $(moves)"
}
# chatter ROLE ADDR PEER N: ROLE announces ADDR (gratuitous ARP) and ARPs for PEER by broadcast,
# N times each, 1 s apart
chatter() {
	local k p
	for ((k = 0; k < $4; k++)); do echo; sleep 1; done | nsx "$1" "$BIN/announce" eth0 garp "$2" &
	p=$!
	nsx "$1" arping -q -b -c "$4" -w $(($4 + 1)) -I eth0 "$3" || true
	wait $p
}
# reach A ADDR-A B ADDR-B: A and B ping each other
reach() {
	nsx "$1" ping -c 3 -i 0.2 -W 1 "$4" >/dev/null && nsx "$3" ping -c 3 -i 0.2 -W 1 "$2" >/dev/null
}
dropped() {
	nsx fab nft -j list table bridge vmr_fhrp |
		jq '[.nftables[] | .rule? // empty | .expr[] | .counter? // empty | .packets] | add'
}
for i in 1 2; do
	check "FHR$i and gateway $i see each other up" retry 5 fhr_j "fhr$i" \
		'.eid_notify_peers[0].up' show lisp eid-notify
done

# Each host speaks in its own DC; its broadcasts also cross the extension.
chatter vm $VM $H2 2 &
p1=$!
chatter h2 $H2 $VM 2 &
p2=$!
chatter h1 $H1 $VM 2
wait $p1 $p2
check "DC1: FHR1 detects the VM and h1" retry 3 here fhr1 $VM $H1
check "DC2: FHR2 detects h2" retry 3 here fhr2 $H2
# a few more seconds of their broadcasts, across the extension too
chatter vm $VM $H2 4 &
p1=$!
chatter h2 $H2 $VM 4 &
p2=$!
chatter h1 $H1 $H2 4
wait $p1 $p2
echo "home: $(say $VM $H1 $H2)"
echo "home: detections by FHR1: the VM $(detections fhr1 $VM), h1 $(detections fhr1 $H1), h2 $(detections fhr1 $H2); by FHR2: the VM $(detections fhr2 $VM), h1 $(detections fhr2 $H1), h2 $(detections fhr2 $H2)"
check "DC1: FHR1 never takes h2 (heard through the extension only)" never fhr1 $H2
check "DC2: FHR2 never takes the VM or h1 (heard through the extension only)" never fhr2 $VM $H1
gateways_home() {
	held gw1 1 $VM $H1 && held gw2 2 $H2 && [ "$(learned gw1 $H2)" = 0 ] &&
		[ "$(learned gw2 $VM)" = 0 ] && [ "$(learned gw2 $H1)" = 0 ]
}
check "gateways: gateway 1 holds the VM and h1 (from FHR1) and never had h2, gateway 2 the reverse" \
	gateways_home
ms_home() { by_dc 1 $VM $H1 && by_dc 2 $H2 && [ "$(moves)" = 0 ]; }
check "Map-Server: the VM and h1 registered by DC1, h2 by DC2, no move" ms_home
check "the VM and h2 ping each other over the extension" reach vm $VM h2 $H2
check "the VM and h1 ping each other in DC1" reach vm $VM h1 $H1

# The VM moves to DC2 and announces itself there; then it keeps broadcasting (ARP for h1, who
# is in DC1: through the extension).
"$BIN/migrate" "$(ns fab)" vmf brdc2 "$(ns vm)" eth0 garp $VM >"$WORK/migrate.json"
moved=$(jq .moved "$WORK/migrate.json")
moved_in() { here fhr2 $VM && held gw2 2 $VM && by_dc 2 $VM; }
check "DC2: FHR2 detects the VM, gateway 2 registers it" retry 3 moved_in
check "DC1: FHR1 told the VM moved away" retry 3 fhr_j fhr1 \
	".dynamic_eids[] | select(.eid==\"$VM/32\") | .state==\"moved-away\"" show lisp dynamic-eid
chatter vm $VM $H1 4
echo "DC2: $(say $VM); FHR1 detected it $(detections fhr1 $VM "$moved") time(s) since the move"
not_back() { [ "$(detections fhr1 $VM "$moved")" = 0 ] && nowhere fhr1 $VM; }
check "DC1: FHR1 does not take the VM back from its broadcasts through the extension" not_back
stays() { held gw1 0 $VM && by_dc 2 $VM && [ "$(learned gw1 $VM "$moved")" = 0 ]; }
check "gateway 1 lets the VM go (not learned again since the move), the Map-Server has it from DC2" \
	stays
check "h2 (DC2) and the VM ping each other" reach h2 $H2 vm $VM
check "h1 (DC1) and the VM ping each other over the extension" reach h1 $H1 vm $VM
# Away and straight back (found by the lab's faults): the VM moves to DC1 and 50 ms later back
# to DC2, announcing itself each time. FHR2 heard the first announcement through the extension
# and probed it (no answer: the VM was in DC1); it probes the second, local one too, once its
# rate limit allows (0.2 s), and detects the VM, which stays silent afterwards.
"$BIN/migrate" "$(ns fab)" vmf brdc1 "$(ns vm)" eth0 garp $VM >/dev/null
sleep 0.05
"$BIN/migrate" "$(ns fab)" vmf brdc2 "$(ns vm)" eth0 garp $VM >/dev/null
check "DC1 and back to DC2 within 50 ms: FHR2 detects it back, the Map-Server has it from DC2" \
	retry 3 moved_in
echo "back: $(say $VM)"
check "FHR2 counted its locality probes (show lisp statistics)" fhr_j fhr2 \
	'.statistics.locality_probes > 0' show lisp statistics
n=$(dropped)
echo "extension: $n frames dropped by the FHRP filter"
check "the extension's FHRP filter dropped frames" test "${n:-0}" -gt 0
finish
