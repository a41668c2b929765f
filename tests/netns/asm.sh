#!/usr/bin/env bash
# Across-subnet mode on the first-hop router (interface br0: ip proxy-arp): fhr-agent answers ARP
# on the VMs' segment for addresses of the dynamic-eid that are not here, with br0's MAC, so a
# VM reaches a peer that lives (or moved) elsewhere through the routed LISP path; for a VM that is
# here it stays silent and the VM answers itself.
# usage: asm.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

ns_add fhr
ip -n "$(ns fhr)" link add br0 type bridge
ip -n "$(ns fhr)" addr add 198.51.100.1/24 dev br0
ip -n "$(ns fhr)" link set br0 up
for v in a b; do
	ns_add "$v"
	ip link add "p-$v" netns "$(ns fhr)" type veth peer name eth0 netns "$(ns "$v")"
	ip -n "$(ns fhr)" link set "p-$v" master br0 up
	ip -n "$(ns "$v")" link set eth0 up
done
ip -n "$(ns a)" addr add 198.51.100.10/24 dev eth0
ip -n "$(ns b)" addr add 198.51.100.11/24 dev eth0
ip -n "$(ns fhr)" addr add 2001:db8:d::1/64 dev br0 nodad
cat >"$WORK/fhr.conf" <<CONF
router lisp
 fhr-id fhr-asm
 dynamic-eid VMS
  database-mapping 198.51.100.0/24
  database-mapping 2001:db8:d::/64
  eid-notify 192.0.2.10 key k
  exit
interface br0
 lisp mobility VMS
 ip proxy-arp
CONF
bg fhr "$BIN/fhr-agent" -f "$WORK/fhr.conf" -s "$WORK/fhr.sock" 2>"$WORK/fhr.log"
retry 5 test -S "$WORK/fhr.sock"
brmac=$(ip -n "$(ns fhr)" -br link show br0 | awk '{ print $3 }')
bmac=$(ip -n "$(ns b)" -br link show eth0 | awk '{ print $3 }')
nsx b arping -q -U -c 1 -w 1 -I eth0 198.51.100.11 || true # b is here
retry 3 bash -c "$BIN/fhrctl -s $WORK/fhr.sock -j show lisp dynamic-eid | jq -e '.dynamic_eids[] | select(.eid==\"198.51.100.11/32\")' >/dev/null"

check "across subnets: a host route to the VM on br0 (protocol 145)" \
	bash -c "ip -n $(ns fhr) route show proto 145 | grep -q '^198.51.100.11 dev br0'"
out=$(nsx a arping -c 1 -w 2 -I eth0 198.51.100.77 || true)
check "ARP for an address that is not here: answered by the FHR with br0's MAC" \
	grep -qi "198.51.100.77 \[$brmac\]" <<<"$out"
out=$(nsx a arping -c 2 -w 2 -I eth0 198.51.100.11 || true)
check "ARP for a VM that is here: answered by the VM, not by the FHR" \
	bash -c "grep -qi '\[$bmac\]' <<<'$out' && ! grep -qi '\[$brmac\]' <<<'$out'"
out=$(nsx a arping -c 1 -w 2 -I eth0 203.0.113.5 || true)
check "ARP for an address outside the dynamic-eid: not answered" \
	bash -c "! grep -qi 'reply from' <<<'$out'"

# the same for IPv6: a neighbour solicitation for an address not here gets the FHR's advertisement
ip -n "$(ns a)" addr add 2001:db8:d::10/64 dev eth0 nodad
nsx a ping -6 -c 1 -W 1 2001:db8:d::77 >/dev/null 2>&1 || true
check "NS for an IPv6 address that is not here: advertised by the FHR with br0's MAC" \
	bash -c "ip -n $(ns a) -6 neigh show 2001:db8:d::77 | grep -qi 'lladdr $brmac'"

# liveness: quiet EIDs are probed (ARP, and a unicast neighbour solicitation for IPv6) and kept
# while they answer
ip -n "$(ns b)" addr add 2001:db8:d::11/64 dev eth0 # DAD: detected
retry 3 bash -c "$BIN/fhrctl -s $WORK/fhr.sock -j show lisp dynamic-eid | jq -e '.dynamic_eids[] | select(.eid==\"2001:db8:d::11/128\")' >/dev/null"
bg fhr tcpdump -n -l -i br0 'arp or (icmp6 and (ip6[40] == 135 or ip6[40] == 136))' \
	>"$WORK/probes" 2>/dev/null
sleep 14
check "IPv4 liveness: the FHR's ARP probe to the VM answered" \
	bash -c "grep -q 'Request who-has 198.51.100.11 .*tell 198.51.100.1' $WORK/probes && grep -q 'Reply 198.51.100.11 is-at' $WORK/probes"
check "IPv6 liveness: the FHR's neighbour solicitation answered (its checksum is right)" \
	bash -c "grep -q '2001:db8:d::1 > 2001:db8:d::11: ICMP6, neighbor solicitation' $WORK/probes && grep -q '2001:db8:d::11 > 2001:db8:d::1: ICMP6, neighbor advertisement' $WORK/probes"
check "both EIDs still here, no pings pending" bash -c \
	"$BIN/fhrctl -s $WORK/fhr.sock -j show lisp dynamic-eid | jq -e '[.dynamic_eids[] | select(.eid==\"198.51.100.11/32\" or .eid==\"2001:db8:d::11/128\") | select(.pending_pings==0)] | length==2' >/dev/null"
finish
