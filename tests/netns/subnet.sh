#!/usr/bin/env bash
# Across subnets, with hosts left behind on the VM's subnet (issue 20): the VM (198.51.100.10/25,
# 2001:db8:d1::10/64) lives on DC1's subnet with a server, srv1; DC2's FHR serves other subnets
# (198.51.100.128/26, 2001:db8:d2::/64). Both FHRs answer ARP and ND by proxy (ip proxy-arp) and
# share the gateway MAC. The firewalls send what comes up from their FHR to the site gateway, so
# nothing hairpins back to the FHR.
#
#   ms (192.0.2.1) == gw1 -- fw1 -- fhr1 (br0 198.51.100.1/25, 2001:db8:d1::1/64) --+
#                  == gw2 -- fw2 -- fhr2 (br0 198.51.100.129/26, 2001:db8:d2::1/64) -+
#                                   fab: brdc1 (srv1, the VM at home) | brdc2 (srv2) +
#
# The gateways route both families through LISP (map-cache for the IPv6 prefix too, resolved over
# IPv6 RLOCs). srv1 and the VM ping each other (IPv4 and IPv6, both ways, 200 pps each) while the
# VM moves to DC2 (a gratuitous ARP, and for IPv6 a neighbour solicitation) and back (QEMU's
# RARP only). Asserted:
# - at home, they talk directly (each has the other's MAC);
# - in DC2: FHR1 routes the VM out its uplink and keeps no neighbour entry for it on br0, sends
#   no redirect, and has told srv1 (gratuitous ARP / override NA) that the VM is at br0's MAC;
#   FHR2 has taken the VM's frames for srv1's MAC and told the VM that srv1 is at its br0's MAC;
#   srv2, on DC2's own subnet, reaches the VM through FHR2 without being redirected to it;
#   no ping lost among those sent from 1 s after the move;
# - back home: direct delivery again (FHR1 tells both the true MACs), FHR1 routes the VM on br0,
#   no ping lost among those sent from 1 s after the move.
# The hosts keep a reachable neighbour entry for minutes (base_reachable_time), so that only
# what the FHRs announce changes them: no host-side probing hides a missing announcement.
# Losses are reported.
# usage: subnet.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

GWMAC=02:00:5e:00:01:01 # the VMs' gateway on both FHRs
VM4=198.51.100.10 VM6=2001:db8:d1::10 SRV4=198.51.100.20 SRV6=2001:db8:d1::20
RATE=0.005 # ping interval: 200 pps
COUNT=1600 # 1 s before the move, 7 s after

star gw1=10 gw2=11
for i in 1 2; do
	t=$((192 + (i - 1) * 8)) # gw-fw 198.51.100.192/30 (DC2 .200), fw-fhr .196/30 (DC2 .204)
	f=2001:db8:f$i           # gw-fw $f::/64, fw-fhr $f:1::/64
	if [ "$i" = 1 ]; then v4net=198.51.100.0/25 br4=198.51.100.1/25
	else v4net=198.51.100.128/26 br4=198.51.100.129/26; fi
	host "gw$i" s0 "198.51.100.$((t + 1))/30" "fw$i" "198.51.100.$((t + 2))/30"
	host "fw$i" t0 "198.51.100.$((t + 5))/30" "fhr$i" "198.51.100.$((t + 6))/30"
	ip -n "$(ns "gw$i")" -b - <<-B
		addr add $f::1/64 dev s0 nodad
		route add 198.51.100.$((t + 4))/30 via 198.51.100.$((t + 2))
		route add $v4net via 198.51.100.$((t + 2))
		route add $f:1::/64 via $f::2
		route add 2001:db8:d$i::/64 via $f::2
	B
	ip -n "$(ns "fw$i")" -b - <<-B
		addr add $f::2/64 dev eth0 nodad
		addr add $f:1::1/64 dev t0 nodad
		route replace default via 198.51.100.$((t + 1))
		route add ::/0 via $f::1
		route add 198.51.100.0/24 via 198.51.100.$((t + 6))
		route add 2001:db8:d0::/44 via $f:1::2
		route add default via 198.51.100.$((t + 1)) table 50
		route add ::/0 via $f::1 table 50
		rule add iif t0 lookup 50
	B
	ip -n "$(ns "fw$i")" -6 rule add iif t0 lookup 50
	ip -n "$(ns "fhr$i")" -b - <<-B
		addr add $f:1::2/64 dev eth0 nodad
		route replace default via 198.51.100.$((t + 5))
		route add ::/0 via $f:1::1
		link add br0 type bridge
		link set br0 address $GWMAC
		addr add $br4 dev br0
		addr add 2001:db8:d$i::1/64 dev br0 nodad
		link set br0 up
	B
	for r in "gw$i" "fw$i" "fhr$i"; do
		nsx "$r" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done
	nsx "fhr$i" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
done
# A gateway routes the EIDs an FHR tells it toward that FHR only in the family of the eid-notify
# channel (IPv4 here): DC2's gateway reaches the VM's IPv6 address, off DC2's subnets, through a
# static route (metric above the data plane's: its away route wins once the VM is back in DC1).
ip -n "$(ns gw2)" route add $VM6/128 via 2001:db8:f2::2 metric 2000
ns_add fab
ip -n "$(ns fab)" -b - <<-B
	link add brdc1 type bridge
	link add brdc2 type bridge
	link set brdc1 up
	link set brdc2 up
B
for i in 1 2; do
	ip link add "u$i" netns "$(ns fab)" type veth peer name up0 netns "$(ns "fhr$i")"
	ip -n "$(ns fab)" link set "u$i" master "brdc$i" up
	ip -n "$(ns "fhr$i")" link set up0 master br0 up
done
while read -r r port a4 a6; do
	ns_add "$r"
	ip link add "$port" netns "$(ns fab)" type veth peer name eth0 netns "$(ns "$r")"
	ip -n "$(ns fab)" link set "$port" master brdc1 up
	# neighbour entries stay reachable for minutes
	nsx "$r" sysctl -qw net.ipv4.neigh.eth0.base_reachable_time_ms=600000 \
		net.ipv6.neigh.eth0.base_reachable_time_ms=600000
	ip -n "$(ns "$r")" -b - <<-B
		addr add $a4/25 dev eth0
		addr add $a6/64 dev eth0 nodad
		link set eth0 up
		route add default via 198.51.100.1
		route add ::/0 via 2001:db8:d1::1
	B
done <<-L
	vm vmf $VM4 $VM6
	srv1 s1 $SRV4 $SRV6
L
# srv2: a host of DC2's own subnet, which reaches the moved-in VM through FHR2 (its gateway)
ns_add srv2
ip link add s2 netns "$(ns fab)" type veth peer name eth0 netns "$(ns srv2)"
ip -n "$(ns fab)" link set s2 master brdc2 up
ip -n "$(ns srv2)" -b - <<-B
	addr add 198.51.100.140/26 dev eth0
	addr add 2001:db8:d2::20/64 dev eth0 nodad
	link set eth0 up
	route add default via 198.51.100.129
	route add ::/0 via 2001:db8:d2::1
B
VMMAC=$(ip -n "$(ns vm)" -br link show eth0 | awk '{ print $3 }')
SRVMAC=$(ip -n "$(ns srv1)" -br link show eth0 | awk '{ print $3 }')

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix 198.51.100.0/24 accept-more-specifics
  eid-prefix 2001:db8:d0::/44 accept-more-specifics
 ipv4 map-server
 ipv4 map-resolver
 ipv6 map-resolver
CONF
for i in 1 2; do
	cat >"$WORK/gw$i.conf" <<CONF
router lisp
 locator-set RLOC
  ipv4-interface eth0 priority 1 weight 100
  ipv6-interface eth0 priority 1 weight 100
  exit
 dynamic-eid VMS
  database-mapping 198.51.100.0/24 locator-set RLOC
  database-mapping 2001:db8:d0::/44 locator-set RLOC
  eid-notify authentication-key tenant-key
  exit
 map-cache 198.51.100.0/24 map-request
 map-cache 2001:db8:d0::/44 map-request
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 ipv6 itr
 ipv6 itr map-resolver 2001:db8::1
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
CONF
	cat >"$WORK/fhr$i.conf" <<CONF
router lisp
 fhr-id fhr-dc$i
 nfqueue $i
 dynamic-eid VMS
  database-mapping 198.51.100.0/24
  database-mapping 2001:db8:d0::/44
  eid-notify 198.51.100.$((193 + (i - 1) * 8)) key tenant-key
  exit
interface br0
 lisp mobility VMS
 ip proxy-arp
CONF
done
daemons ms gw1 gw2
fhrs fhr1 fhr2
# registered GW FHR-ID EID...: GW holds each EID from FHR-ID, registered
registered() {
	local gw=$1 id=$2 e
	shift 2
	for e in "$@"; do
		jctl "$gw" ".dynamic_eids[] | select(.eid==\"$e\") | .fhr==\"$id\" and .registered" \
			show lisp dynamic-eid || return 1
	done
}
# neigh_is ROLE DEV MAC ADDR...: ROLE's neighbour entry for each ADDR on DEV is at MAC
neigh_is() {
	local r=$1 dev=$2 mac=$3 a
	shift 3
	for a in "$@"; do
		ip -n "$(ns "$r")" -j neigh show "$a" dev "$dev" | jq -e --arg m "$mac" '.[0].lladdr == $m' \
			>/dev/null || return 1
	done
}
# no_neigh ROLE DEV ADDR...: ROLE has no usable neighbour entry (one with a MAC) for any ADDR
no_neigh() {
	local r=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		ip -n "$(ns "$r")" -j neigh show "$a" dev "$dev" |
			jq -e '[.[] | select(.lladdr)] | length == 0' >/dev/null || return 1
	done
}
# neigh_say ROLE DEV ADDR...: "ADDR MAC STATE, ..." as ROLE has them, for the figures
neigh_say() {
	local r=$1 dev=$2 a out=
	shift 2
	for a in "$@"; do
		out+="${out:+, }$(ip -n "$(ns "$r")" -j neigh show "$a" dev "$dev" | jq -r --arg a "$a" \
			'"\($a) \(.[0].lladdr // "-") \((.[0].state // ["none"]) | join("+"))"')"
	done
	echo "$out"
}
# route_say ROLE ADDR: "dev X" or "via Y dev X" of ROLE's route to ADDR, for the figures
route_say() {
	ip -n "$(ns "$1")" route get "$2" | grep -o '\(via [^ ]* \)\?dev [^ ]*' | head -1
}
BRMAC1=$(ip -n "$(ns fhr1)" -br link show br0 | awk '{ print $3 }')
BRMAC2=$(ip -n "$(ns fhr2)" -br link show br0 | awk '{ print $3 }')
for i in 1 2; do
	check "FHR$i and gateway $i see each other up" retry 5 fhr_j "fhr$i" \
		'.eid_notify_peers[0].up' show lisp eid-notify
done

# At home. srv1 and the VM announce themselves (IPv4: a gratuitous ARP; IPv6: the neighbour
# solicitation of a ping to their gateway, which also puts them in FHR1's neighbour table)
# before they talk to each other.
for spec in srv1=$SRV4 vm=$VM4; do
	echo | nsx "${spec%=*}" "$BIN/announce" eth0 garp "${spec#*=}"
	nsx "${spec%=*}" ping -c 1 -W 1 198.51.100.1 >/dev/null || true
	nsx "${spec%=*}" ping -c 1 -W 1 2001:db8:d1::1 >/dev/null || true
done
check "home: srv1 and the VM (IPv4, IPv6) notified by FHR1, registered by gateway 1" retry 5 \
	registered gw1 fhr-dc1 $SRV4/32 $SRV6/128 $VM4/32 $VM6/128
# FHR1 resolves the VM itself: its entries reachable (15-45 s) when the VM moves
ip -n "$(ns fhr1)" neigh flush to $VM4 dev br0
ip -n "$(ns fhr1)" neigh flush to $VM6 dev br0
nsx fhr1 ping -c 1 -W 1 $VM4 >/dev/null || true
nsx fhr1 ping -c 1 -W 1 $VM6 >/dev/null || true
check "home: FHR1's kernel has the VM as a neighbour on br0 (IPv4, IPv6)" \
	neigh_is fhr1 br0 "$VMMAC" $VM4 $VM6
# srv1 resolves the VM, then the VM resolves srv1 afresh: both entries reachable
nsx srv1 ping -c 1 -W 1 $VM4 >/dev/null || true
nsx srv1 ping -c 1 -W 1 $VM6 >/dev/null || true
ip -n "$(ns vm)" neigh flush to $SRV4 dev eth0
ip -n "$(ns vm)" neigh flush to $SRV6 dev eth0
for a in $SRV4 $SRV6; do
	check "home: VM -> srv1 $a" nsx vm ping -c 3 -i 0.2 -W 1 "$a" >/dev/null
done
for a in $VM4 $VM6; do
	check "home: srv1 -> VM $a" nsx srv1 ping -c 3 -i 0.2 -W 1 "$a" >/dev/null
done
check "home: srv1 has the VM at the VM's MAC (IPv4, IPv6): direct" \
	neigh_is srv1 eth0 "$VMMAC" $VM4 $VM6
check "home: the VM has srv1 at srv1's MAC (IPv4, IPv6): direct" \
	neigh_is vm eth0 "$SRVMAC" $SRV4 $SRV6
echo "home: srv1 has $(neigh_say srv1 eth0 $VM4 $VM6); the VM has $(neigh_say vm eth0 $SRV4 $SRV6)"

# pings_start TAG: srv1 -> VM and VM -> srv1, IPv4 and IPv6, $COUNT each at $RATE, in the
# background (output in $WORK/TAG-{s4,s6,v4,v6}); pings_wait waits for them.
PINGS=()
pings_start() {
	local k r a
	PINGS=()
	while read -r k r a; do
		nsx "$r" ping -D -n -i $RATE -c $COUNT -W 1 "$a" >"$WORK/$1-$k" 2>&1 &
		PIDS+=($!)
		PINGS+=($!)
	done <<-L
		s4 srv1 $VM4
		s6 srv1 $VM6
		v4 vm $SRV4
		v6 vm $SRV6
	L
}
pings_wait() {
	local p
	for p in "${PINGS[@]}"; do wait "$p" || true; done
}
# lost FILE: "SEQ TIME" for each ping of FILE (ping -D) that got no answer, TIME when it was
# sent: between two answered ones (answer time less round trip) interpolated, past the last
# one $RATE apart (far in the future when none was answered).
lost() {
	awk -v n=$COUNT -v gap=$RATE '/bytes from .*icmp_seq=/ {
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^icmp_seq=/) s = substr($i, 10) + 0
				if ($i ~ /^time=/) r = substr($i, 6)
			}
			t[s] = substr($1, 2, length($1) - 2) - r / 1000 }
		END {
			last = 0
			for (s = 1; s <= n; s++) if (s in t) {
				for (k = last + 1; k < s; k++)
					printf "%d %.6f\n", k, last ? t[last] + (t[s] - t[last]) * (k - last) / (s - last) : t[s] - (s - k) * gap
				last = s
			}
			for (k = last + 1; k <= n; k++) printf "%d %.6f\n", k, last ? t[last] + (k - last) * gap : 9e9
		}' "$1"
}
# losses TAG WHERE MOVED: reports each ping's losses, and checks none was lost among those sent
# from MOVED (unix time) + 1 s
losses() {
	local tag=$1 where=$2 moved=$3 k what all late report=
	for k in s4 s6 v4 v6; do
		case $k in
		s4) what="srv1 -> VM (IPv4)" ;; s6) what="srv1 -> VM (IPv6)" ;;
		v4) what="VM -> srv1 (IPv4)" ;; v6) what="VM -> srv1 (IPv6)" ;;
		esac
		lost "$WORK/$tag-$k" >"$WORK/$tag-$k.lost"
		all=$(wc -l <"$WORK/$tag-$k.lost")
		late=$(awk -v a="$moved" '$2 >= a + 1' "$WORK/$tag-$k.lost" | wc -l)
		report+="${report:+; }$what $all ($late late)"
		check "$where: $what: no ping lost among those sent from 1 s after the move" \
			test "$late" -eq 0
	done
	echo "$where: pings lost of $COUNT each at $RATE s (of them sent from 1 s after the move): $report"
}
redirects() {
	nsx fhr1 nstat -asz IcmpOutRedirects Icmp6OutRedirects | awk '/Redirects/ { n += $2 } END { print n + 0 }'
}

# The VM moves to DC2, announced by a gratuitous ARP and for IPv6 by the solicitation of its
# gateway's address (it resolves it afresh: its entry deleted), while srv1 and the VM ping each
# other. (Not an unsolicited NA through a MAC "change": that flushes the VM's neighbour cache.)
red0=$(redirects)
pings_start dc2
sleep 1
"$BIN/migrate" "$(ns fab)" vmf brdc2 "$(ns vm)" eth0 garp $VM4 >"$WORK/migrate-dc2.json"
ip -n "$(ns vm)" neigh flush to 2001:db8:d1::1 dev eth0
nsx vm ping -c 1 -W 0.2 2001:db8:d1::1 >/dev/null || true
moved=$(jq .moved "$WORK/migrate-dc2.json")
check "DC2: the VM (IPv4, IPv6) notified by FHR2, registered by gateway 2" retry 3 \
	registered gw2 fhr-dc2 $VM4/32 $VM6/128
check "DC2: FHR1 told the VM moved away (IPv4, IPv6)" retry 3 fhr_j fhr1 \
	"[.dynamic_eids[] | select(.eid==\"$VM4/32\" or .eid==\"$VM6/128\") | .state==\"moved-away\"] == [true, true]" \
	show lisp dynamic-eid
check "DC2: FHR1 routes the VM out its uplink via its default gateway, not on br0 (IPv4)" \
	retry 2 bash -c "ip -n $(ns fhr1) route get $VM4 | grep -q 'via 198.51.100.197 dev eth0'"
check "DC2: FHR1 routes the VM out its uplink via its default gateway, not on br0 (IPv6)" \
	retry 2 bash -c "ip -n $(ns fhr1) route get $VM6 | grep -q 'via 2001:db8:f1:1::1 dev eth0'"
check "DC2: FHR1 has no usable neighbour entry for the VM on br0 (IPv4, IPv6)" \
	retry 2 no_neigh fhr1 br0 $VM4 $VM6
check "DC2: srv1 has the VM at FHR1's br0 MAC (IPv4, IPv6): FHR1 announced it" \
	retry 2 neigh_is srv1 eth0 "$BRMAC1" $VM4 $VM6
check "DC2: the VM has srv1 at FHR2's br0 MAC (IPv4, IPv6): FHR2 corrected it" \
	retry 2 neigh_is vm eth0 "$BRMAC2" $SRV4 $SRV6
echo "DC2: FHR1 routes the VM $(route_say fhr1 $VM4), $(route_say fhr1 $VM6); FHR1 has $(neigh_say fhr1 br0 $VM4 $VM6)"
echo "DC2: srv1 has $(neigh_say srv1 eth0 $VM4 $VM6); the VM has $(neigh_say vm eth0 $SRV4 $SRV6)"
# srv2 (DC2's subnet, same segment) reaches the VM through FHR2, which routes it without telling
# srv2 to go direct: a host taking that shortcut would lose the VM when it moves on
for a in $VM4 $VM6; do
	check "DC2: srv2 (DC2's subnet) -> VM $a through FHR2" nsx srv2 ping -c 3 -i 0.2 -W 1 "$a" >/dev/null
done
check "DC2: FHR1 counted its announcements, FHR2 the VM's packets it routed on and its corrections (show lisp statistics)" \
	bash -c "$BIN/fhrctl -s $WORK/fhr1.sock -j show lisp statistics | jq -e '.statistics.announced >= 2' >/dev/null &&
		 $BIN/fhrctl -s $WORK/fhr2.sock -j show lisp statistics | jq -e '.statistics.moved_in_forwarded >= 2 and .statistics.moved_in_corrections >= 2 and .statistics.malformed_frames == 0' >/dev/null"
check "DC2: srv2 was sent no redirect (ICMP, ICMPv6)" test "$(nsx srv2 nstat -asz IcmpInRedirects Icmp6InRedirects | awk '/Redirects/ { n += $2 } END { print n + 0 }')" = 0
pings_wait
red1=$(redirects)
echo "DC2: FHR1's redirects sent (ICMP + ICMPv6): $red0 before the move, $red1 after"
check "DC2: FHR1 sent no redirect during the move (ICMP, ICMPv6)" test "$red1" = "$red0"
losses dc2 DC2 "$moved"

# Back to DC1, announced by QEMU's RARP only: direct delivery again.
pings_start dc1
sleep 1
"$BIN/migrate" "$(ns fab)" vmf brdc1 "$(ns vm)" eth0 rarp >"$WORK/migrate-dc1.json"
moved=$(jq .moved "$WORK/migrate-dc1.json")
check "DC1 again: the VM (IPv4, IPv6) notified by FHR1 (RARP), registered by gateway 1" retry 3 \
	registered gw1 fhr-dc1 $VM4/32 $VM6/128
check "DC1 again: FHR1 routes the VM on br0 (IPv4, IPv6)" retry 2 bash -c \
	"ip -n $(ns fhr1) route get $VM4 | grep -q 'dev br0' && ip -n $(ns fhr1) route get $VM6 | grep -q 'dev br0'"
check "DC1 again: srv1 has the VM at the VM's MAC (IPv4, IPv6): direct" \
	retry 3 neigh_is srv1 eth0 "$VMMAC" $VM4 $VM6
check "DC1 again: the VM has srv1 at srv1's MAC (IPv4, IPv6): direct, told by FHR1" \
	retry 3 neigh_is vm eth0 "$SRVMAC" $SRV4 $SRV6
echo "DC1 again: FHR1 routes the VM $(route_say fhr1 $VM4), $(route_say fhr1 $VM6)"
echo "DC1 again: srv1 has $(neigh_say srv1 eth0 $VM4 $VM6); the VM has $(neigh_say vm eth0 $SRV4 $SRV6)"
pings_wait
losses dc1 "DC1 again" "$moved"

# To DC2 again, announced by nothing at all (issue 22), while the VM sends a TCP stream to srv2
# (DC2's subnet: through its gateway) and pings srv1. The only packets of the VM that reach an
# FHR's IP layer are the stream's, GSO packets through the veths and bridges: FHR2 must learn
# the VM's MAC from the first one (the kernel segments a GSO packet for a queue that does not
# take them whole, and the segments come without the link-layer header), or, if it did not,
# ask for it; else the VM's packets to srv1's MAC went unseen until its neighbour entry expired
# (the lab's host left behind lost the VM for seconds).
bg srv2 timeout 30 python3 -c 'import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.140", 5001))
s.listen(1)
c, _ = s.accept()
n = 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    n += len(b)
open("'"$WORK"'/stream.bytes", "w").write(str(n))'
retry 3 nsx srv2 bash -c "ss -ltn | grep -q ':5001'"
nsx vm timeout 20 python3 -c 'import socket, time
s = socket.create_connection(("198.51.100.140", 5001), timeout=5)
b = b"x" * 65536
end = time.time() + 10
while time.time() < end:  # 64 KiB each 10 ms (6.5 MB/s): GSO packets, not a flood
    s.sendall(b)
    time.sleep(0.01)
s.close()' &
PIDS+=($!)
STREAM=$!
pings_start dc2s
sleep 1
"$BIN/migrate" "$(ns fab)" vmf brdc2 "$(ns vm)" eth0 >"$WORK/migrate-dc2s.json"
moved=$(jq .moved "$WORK/migrate-dc2s.json")
check "DC2, silent: the VM (IPv4, IPv6) notified by FHR2, registered by gateway 2" \
	retry 3 registered gw2 fhr-dc2 $VM4/32 $VM6/128
check "DC2, silent: the VM has srv1 at FHR2's br0 MAC (IPv4, IPv6): FHR2 corrected it" \
	retry 2 neigh_is vm eth0 "$BRMAC2" $SRV4 $SRV6
check "DC2, silent: FHR2 had the VM's MAC from its first packets (no MAC asked)" \
	bash -c "$BIN/fhrctl -s $WORK/fhr2.sock -j show lisp statistics | jq -e '.statistics.mac_asks == 0' >/dev/null"
echo "DC2, silent: FHR2 $($BIN/fhrctl -s $WORK/fhr2.sock -j show lisp statistics | jq -c '.statistics | {mac_asks, macs_learned, moved_in_forwarded, moved_in_corrections}')"
echo "DC2, silent: the VM has $(neigh_say vm eth0 $SRV4 $SRV6); srv1 has $(neigh_say srv1 eth0 $VM4 $VM6)"
pings_wait
wait "$STREAM" || true
check "DC2, silent: the VM's stream to srv2 went on across the move (over 40 MB)" \
	retry 3 bash -c "[ \$(cat $WORK/stream.bytes 2>/dev/null || echo 0) -gt 40000000 ]"
losses dc2s "DC2, silent" "$moved"
finish
