#!/usr/bin/env bash
# LISP multi-hop: the VM's first-hop router (fhr-agent in a tenant container) sits one routed
# hop (a tenant firewall) behind the site gateway (xtr-gateway) and tells it which VMs are here.
#
#   ms (MS/MR 192.0.2.1) == gw (RLOC 192.0.2.10) -- fw (tenant firewall) -- fhr (br0) -- vm, vm2
#
# Asserted: a VM announcing itself (gratuitous ARP, IPv6 DAD) is notified and registered at the
# Map-Server as a /32 and /128 of instance-id 4100, the gateway names the FHR; an EID the FHR
# takes but the gateway's dynamic-eid does not is refused; a second agent with another tenant's
# key is refused; the FHR restarting (table from the kernel's neighbours) and the gateway
# restarting (the FHR resyncs) both converge with nothing lost; clearing an EID on the FHR
# withdraws it. The time from the announcement to the registration is reported.
# usage: multihop.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

star gw=10
host gw s0 198.51.100.193/30 fw 198.51.100.194/30
host fw t0 198.51.100.197/30 fhr 198.51.100.198/30
ip -n "$(ns fhr)" link add br0 type bridge
ip -n "$(ns fhr)" addr add 198.51.100.1/25 dev br0
ip -n "$(ns fhr)" addr add 2001:db8:d::1/64 dev br0 nodad
ip -n "$(ns fhr)" link set br0 up
nsx fhr sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
for v in vm vm2 vm3; do
	ns_add "$v"
	ip link add "p-$v" netns "$(ns fhr)" type veth peer name eth0 netns "$(ns "$v")"
	ip -n "$(ns fhr)" link set "p-$v" master br0 up
	ip -n "$(ns "$v")" link set eth0 up
done
ip -n "$(ns vm)" addr add 198.51.100.10/25 dev eth0
ip -n "$(ns vm)" route add default via 198.51.100.1
ip -n "$(ns vm2)" addr add 198.51.100.100/25 dev eth0
# vm3 never announces itself: it knows its gateway's MAC, so it sends no ARP either
ip -n "$(ns vm3)" addr add 198.51.100.20/25 dev eth0
ip -n "$(ns vm3)" route add default via 198.51.100.1
ip -n "$(ns vm3)" neigh add 198.51.100.1 lladdr "$(ip -n "$(ns fhr)" -br link show br0 | awk '{ print $3 }')" dev eth0
ip -n "$(ns gw)" route add 198.51.100.0/25 via 198.51.100.194
ip -n "$(ns gw)" route add 198.51.100.196/30 via 198.51.100.194
ip -n "$(ns fw)" route replace default via 198.51.100.193
ip -n "$(ns fw)" route add 198.51.100.0/25 via 198.51.100.198
ip -n "$(ns fhr)" route replace default via 198.51.100.197
for r in gw fw fhr; do nsx "$r" sysctl -qw net.ipv4.ip_forward=1; done

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix instance-id 4100 198.51.100.0/24 accept-more-specifics
  eid-prefix instance-id 4100 2001:db8:d::/48 accept-more-specifics
 ipv4 map-server
 ipv4 map-resolver
CONF
cat >"$WORK/gw.conf" <<CONF
router lisp
 locator-set RLOC
  ipv4-interface eth0 priority 1 weight 100
  exit
 eid-table vrf TENANT-A instance-id 4100
  dynamic-eid VMS
   database-mapping 198.51.100.0/26 locator-set RLOC
   database-mapping 2001:db8:d::/64 locator-set RLOC
   eid-notify authentication-key tenant-a-key
   exit
  exit
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
CONF
cat >"$WORK/fhr.conf" <<CONF
router lisp
 fhr-id fhr-dc1
 nfqueue 0
 eid-table vrf TENANT-A instance-id 4100
  dynamic-eid VMS
   database-mapping 198.51.100.0/25
   database-mapping 2001:db8:d::/64
   eid-notify 198.51.100.193 key tenant-a-key
   exit
  exit
interface br0
 lisp mobility VMS
 lisp extended-subnet-mode
CONF
# another tenant's agent on the same segment, trying instance-id 4100 with its own key
sed -e 's/fhr-dc1/fhr-rogue/' -e 's/tenant-a-key/tenant-b-key/' -e '/nfqueue/d' "$WORK/fhr.conf" \
	>"$WORK/rogue.conf"
daemons ms gw
fhrd() {
	bg fhr "$BIN/fhr-agent" -f "$WORK/$1.conf" -s "$WORK/$1.sock" 2>>"$WORK/$1.log"
	retry 5 test -S "$WORK/$1.sock"
}
fhrctl() {
	local r=$1
	shift
	"$BIN/fhrctl" -s "$WORK/$r.sock" "$@"
}
fhr_j() {
	local r=$1 q=$2
	shift 2
	fhrctl "$r" -j "$@" | jq -e "$q" >/dev/null
}
fhrd fhr
fhrd rogue
retry 5 jctl gw '.eid_notify_peers[] | select(.id=="fhr-dc1") | .up' show lisp eid-notify
check "fhrctl: the gateway is up for the FHR" retry 3 fhr_j fhr \
	'.eid_notify_peers[] | select(.address=="198.51.100.193") | .up' show lisp eid-notify

# 1. arrival by gratuitous ARP
t0=$EPOCHREALTIME
nsx vm arping -q -U -c 1 -w 1 -I eth0 198.51.100.10 || true
check "gateway: 198.51.100.10 learned from the FHR (named), registered" retry 3 jctl gw \
	'.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .source=="fhr" and .fhr=="fhr-dc1" and .registered' \
	show lisp dynamic-eid
check "Map-Server: [4100] 198.51.100.10/32 registered by the gateway" retry 3 jctl ms \
	'.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32" and .instance_id==4100) | .registered and .last_registered_by=="192.0.2.10"' \
	show lisp site
t_reg=$(ctl ms -j show lisp site | jq '.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32") | .first_registered')
echo "multihop: gratuitous ARP -> registered at the Map-Server in $(awk -v a="$t_reg" -v b="$t0" 'BEGIN { printf "%.1f", (a - b) * 1000 }') ms (arping itself included)"
check "gateway: a host route to the VM toward its FHR (via the firewall, the tenant table 4100)" \
	bash -c "ip -n $(ns gw) route show table 4100 proto 145 | grep -q '^198.51.100.10 via 198.51.100.194 dev s0'"
check "FHR: the EID acknowledged by its gateway" fhr_j fhr \
	'.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .registered and .source=="arp"' \
	show lisp dynamic-eid

# 2. arrival by IPv6 duplicate address detection
ip -n "$(ns vm)" addr add 2001:db8:d::10/64 dev eth0
check "gateway: 2001:db8:d::10/128 learned from the FHR (ND)" retry 4 jctl gw \
	'.dynamic_eids[] | select(.eid=="2001:db8:d::10/128") | .source=="fhr" and .registered' \
	show lisp dynamic-eid
# (extended subnet: a DAD may have crossed a layer-2 extension; the FHR probes the address once
# DAD is over, unless the VM's first packet to the gateway came first)
check "FHR: learned on its own segment (its DAD probed, or its first packet)" fhr_j fhr \
	'.dynamic_eids[] | select(.eid=="2001:db8:d::10/128") | .source=="nd" or .source=="data"' \
	show lisp dynamic-eid

# 2b. arrival by its first data packet only (NFQUEUE): vm3 sends a datagram off-subnet
check "FHR: its data-packet rules are in place (nftables, its own table)" \
	bash -c "ip netns exec $(ns fhr) nft list chain inet vmroam_fhr_q0 prerouting 2>/dev/null | grep -q 'queue num 0 bypass'"
nsx vm3 bash -c 'echo x >/dev/udp/203.0.113.9/9' || true
check "gateway: 198.51.100.20 learned from its first data packet at the FHR" retry 3 jctl gw \
	'.dynamic_eids[] | select(.eid=="198.51.100.20/32") | .source=="fhr" and .registered' \
	show lisp dynamic-eid
check "FHR: source data, and its packets no longer queued (in the set that returns first)" bash -c \
	"$BIN/fhrctl -s $WORK/fhr.sock -j show lisp dynamic-eid | jq -e '.dynamic_eids[] | select(.eid==\"198.51.100.20/32\") | .source==\"data\"' >/dev/null &&
	 ip netns exec $(ns fhr) nft list set inet vmroam_fhr_q0 known4 | grep -qw 198.51.100.20"

# 3. an EID the FHR takes (198.51.100.0/25) but the gateway's dynamic-eid does not (/26)
nsx vm2 arping -q -U -c 1 -w 1 -I eth0 198.51.100.100 || true
check "gateway: 198.51.100.100 refused (outside its dynamic-eid), counted" retry 3 jctl gw \
	'.eid_notify_peers[] | select(.id=="fhr-dc1") | .refused>0' show lisp eid-notify
check "gateway: 198.51.100.100 not learned" jctl gw \
	'[.dynamic_eids[] | select(.eid=="198.51.100.100/32")] | length==0' show lisp dynamic-eid
check "FHR: 198.51.100.100 detected but never acknowledged" fhr_j fhr \
	'.dynamic_eids[] | select(.eid=="198.51.100.100/32") | .registered | not' show lisp dynamic-eid

# 4. the other tenant's key for instance-id 4100: refused before anything is read
check "gateway: the rogue agent's datagrams fail authentication" \
	grep -q "eid-notify: from 198.51.100.198: authentication failed" "$WORK/gw.log"
check "gateway: no peer fhr-rogue" jctl gw \
	'[.eid_notify_peers[] | select(.id=="fhr-rogue")] | length==0' show lisp eid-notify

# 5. the FHR restarts: its table comes back from the neighbour table (each host probed: the VM
#    answers before the first tick sends the table), nothing is withdrawn
nsx vm ping -q -c 1 -W 1 198.51.100.1 >/dev/null # the FHR's kernel knows the VM now
nsx vm ping -6 -q -c 1 -W 1 2001:db8:d::1 >/dev/null
pkill -f "fhr-agent -f $WORK/fhr.conf"
sleep 0.5
fhrd fhr
check "FHR restarted: the neighbour table's hosts probed" retry 3 \
	grep -q "host(s) of the neighbour table probed" "$WORK/fhr.log"
check "FHR restarted: the VM known again, it answered (IPv4 and IPv6)" retry 3 \
	fhr_j fhr '[.dynamic_eids[] | select(.source=="arp" or .source=="nd") | .eid] | contains(["198.51.100.10/32", "2001:db8:d::10/128"])' \
	show lisp dynamic-eid
check "gateway: resync received, the VM still registered" retry 3 jctl gw \
	'(.eid_notify_peers[] | select(.id=="fhr-dc1") | .resyncs>=2)' show lisp eid-notify
check "Map-Server: still registered" jctl ms \
	'.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32") | .registered' show lisp site

# 5a. reload (SIGHUP): a valid configuration is applied in place (same process, started again:
#     here the NFQUEUE number changes), nothing is withdrawn; an invalid one changes nothing
fpid=$(pgrep -f "fhr-agent -f $WORK/fhr.conf")
sed -i 's/^ nfqueue 0$/ nfqueue 1/' "$WORK/fhr.conf"
kill -HUP "$fpid"
check "FHR reloaded: its rules now use queue 1" retry 5 bash -c \
	"ip netns exec $(ns fhr) nft list ruleset 2>/dev/null | grep -q 'queue num 1 bypass'"
check "FHR reloaded: the same process" test "$(pgrep -f "fhr-agent -f $WORK/fhr.conf")" = "$fpid"
check "FHR reloaded: the VM known again" retry 3 \
	fhr_j fhr '[.dynamic_eids[] | .eid] | contains(["198.51.100.10/32"])' show lisp dynamic-eid
check "Map-Server: still registered after the reload" jctl ms \
	'.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32") | .registered' show lisp site
cp "$WORK/fhr.conf" "$WORK/fhr.good"
echo " nfqueue 70000" >>"$WORK/fhr.conf"
kill -HUP "$fpid"
sleep 0.5
check "FHR: an invalid configuration on reload is refused (logged with file:line)" \
	grep -q "fhr.conf:.*the running configuration stays" "$WORK/fhr.log"
check "FHR: ... and it runs on (the same process)" \
	test "$(pgrep -f "fhr-agent -f $WORK/fhr.conf")" = "$fpid"
check "FHR: ... unchanged (queue 1)" bash -c \
	"ip netns exec $(ns fhr) nft list ruleset 2>/dev/null | grep -q 'queue num 1 bypass'"
cp "$WORK/fhr.good" "$WORK/fhr.conf"

# 5b. the neighbour table's changes: an entry ageing to STALE (a host that may have left) is no
#     arrival; one the kernel confirmed REACHABLE (the host answered here) is
ip -n "$(ns fhr)" neigh replace 198.51.100.30 lladdr 02:00:00:00:00:30 dev br0 nud stale
sleep 0.5
check "FHR: a neighbour entry turning STALE is not an arrival" fhr_j fhr \
	'[.dynamic_eids[] | select(.eid=="198.51.100.30/32")] | length==0' show lisp dynamic-eid
ip -n "$(ns fhr)" neigh replace 198.51.100.30 lladdr 02:00:00:00:00:30 dev br0 nud reachable
check "FHR: a neighbour entry confirmed REACHABLE is" retry 3 fhr_j fhr \
	'.dynamic_eids[] | select(.eid=="198.51.100.30/32") | .source=="neighbor"' show lisp dynamic-eid

# 6. the gateway restarts empty: the FHR notices its new session and sends its table again
pkill -f "xtr-gateway -f $WORK/gw.conf"
sleep 0.5
rm -f "$WORK/gw.sock"
daemons gw
check "gateway restarted: the FHR's resync brings the VMs back" retry 6 jctl gw \
	'[.dynamic_eids[] | select(.source=="fhr")] | length>=2' show lisp dynamic-eid

# 7. clearing the EID on the FHR withdraws it at the Map-Server
check "fhrctl clear lisp dynamic-eid" bash -c \
	"$BIN/fhrctl -s $WORK/fhr.sock clear lisp dynamic-eid 198.51.100.10 instance-id 4100 | grep -q '1 dynamic EIDs cleared'"
check "gateway: the VM departed" retry 3 jctl gw \
	'[.dynamic_eids[] | select(.eid=="198.51.100.10/32")] | length==0' show lisp dynamic-eid
check "Map-Server: no longer registered" retry 3 jctl ms \
	'[.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32" and .registered)] | length==0' \
	show lisp site
pkill -f "fhr-agent -f $WORK/fhr.conf"
check "FHR stopped: its nftables table is gone" retry 3 bash -c \
	"! ip netns exec $(ns fhr) nft list tables | grep -q vmroam_fhr"
echo "--- FHR# show lisp dynamic-eid summary"
fhrctl fhr show lisp dynamic-eid summary || true
echo "--- GW# show lisp eid-notify"
ctl gw show lisp eid-notify || true
finish
