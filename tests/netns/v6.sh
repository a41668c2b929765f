#!/usr/bin/env bash
# The data plane over IPv6: IPv6 EIDs over IPv6 RLOCs (outer IPv6 with a zero UDP checksum,
# raw IPv6 sockets, IPv6 routes into the TUN). A VM on DC1's segment is learned from its data
# and registered as a /128; the branch client and the VM ping each other; tshark reads the
# RLOC segment as LISP with the right inner IPv6 packets.
#
#   client --(2001:db8:b::/64)-- br ==RLOC 2001:db8::/64 (ms)== dc1 --(2001:db8:d::/64)-- vm
#
# usage: v6.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

star dc1=10 br=20
host br c0 2001:db8:b::1/64 client 2001:db8:b::20/64
host dc1 vmbr 2001:db8:d::1/64 vm 2001:db8:d::10/64
for r in br dc1; do nsx "$r" sysctl -qw net.ipv6.conf.all.forwarding=1; done

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix 2001:db8:d::/48 accept-more-specifics
 site BRANCH
  authentication-key br-key
  eid-prefix 2001:db8:b::/48
 ipv6 map-server
 ipv6 map-resolver
CONF
cat >"$WORK/dc1.conf" <<CONF
router lisp
 locator-set RLOC
  ipv6-interface eth0 priority 1 weight 100
  exit
 dynamic-eid VMS
  database-mapping 2001:db8:d::/48 locator-set RLOC
  exit
 map-cache 2001:db8:b::/48 map-request
 ipv6 itr
 ipv6 itr map-resolver 2001:db8::1
 ipv6 etr
 ipv6 etr map-server 2001:db8::1 key dc-key
interface vmbr
 lisp mobility VMS
 lisp extended-subnet-mode
CONF
cat >"$WORK/br.conf" <<CONF
router lisp
 database-mapping 2001:db8:b::/48 2001:db8::20 priority 1 weight 100
 map-cache 2001:db8:d::/48 map-request
 ipv6 itr
 ipv6 itr map-resolver 2001:db8::1
 ipv6 etr
 ipv6 etr map-server 2001:db8::1 key br-key
CONF
daemons ms dc1 br
retry 5 jctl br '.database_mappings[0].registrations[0].registered' show ipv6 lisp database
bg ms tshark -q -n -i br0 -f "udp port 4341" -a duration:8 -c 2000 -w "$WORK/rloc.pcapng" \
	2>"$WORK/tshark.log"
sleep 1

check "VM reaches the client over IPv6 (learned from its first packets, held until resolved)" \
	nsx vm ping -6 -c 3 -i 0.2 -W 2 2001:db8:b::20 >/dev/null
check "DC1: dynamic EID 2001:db8:d::10/128 learned and registered" retry 3 jctl dc1 \
	'.dynamic_eids[] | select(.eid=="2001:db8:d::10/128") | .registered' show lisp dynamic-eid
check "Map-Server: 2001:db8:d::10/128 registered by DC1 over IPv6" retry 3 jctl ms \
	'.sites[].prefixes[] | select(.eid_prefix=="2001:db8:d::10/128") | .registered and .last_registered_by=="2001:db8::10"' \
	show lisp site
check "client reaches the VM over IPv6" nsx client ping -6 -c 3 -i 0.2 -W 2 2001:db8:d::10 >/dev/null
check "branch map-cache: 2001:db8:d::10/128 -> 2001:db8::10" jctl br \
	'.map_cache[] | select(.eid_prefix=="2001:db8:d::10/128") | .locators[0].address=="2001:db8::10" and .locators[0].packets_out>0' \
	show ipv6 lisp map-cache
check "DC1: the TUN's MTU leaves room for the IPv6 outer header (1500 - 56)" jctl dc1 \
	'.dataplane.interfaces[0].mtu==1444' show lisp dataplane
sleep 0.5
tshark -n -r "$WORK/rloc.pcapng" -o udp.check_checksum:TRUE -Y lisp-data -T fields \
	-E occurrence=a -E aggregator=, -e ipv6.src -e ipv6.dst -e udp.checksum \
	-e lisp-data.flags.nonce -e udp.checksum.status >"$WORK/data.txt" 2>"$WORK/tshark.err"
check "tshark: IPv6 LISP data packets captured" test -s "$WORK/data.txt"
# a packet sent alone carries UDP checksum 0 (RFC 9300 §5.3); a run of one flow leaves in one UDP
# GSO send, for which the kernel computes it (it refuses GSO without): then it must verify
check "tshark: outer IPv6 between the RLOCs, inner between client and VM, UDP checksum 0 or right" \
	awk -F'\t' '{ split($1, s, ","); split($2, d, ",");
		ok = ($3 == "0x0000" || $5 == "1") && (($4 == "1" || $4 == "True")) &&
		((s[1] == "2001:db8::20" && d[1] == "2001:db8::10" && s[2] == "2001:db8:b::20" && d[2] == "2001:db8:d::10") ||
		 (s[1] == "2001:db8::10" && d[1] == "2001:db8::20" && s[2] == "2001:db8:d::10" && d[2] == "2001:db8:b::20"));
		if (!ok) { bad = 1; print "bad: " $0 > "/dev/stderr" } } END { exit bad }' "$WORK/data.txt"
finish
