#!/usr/bin/env bash
# The proxy xTR: a branch client reaches a host of a non-LISP site through the PETR, and that
# host's answers reach the branch through the PITR (one xtr-gateway in the core acting as
# Map-Server, Map-Resolver, proxy-ITR and proxy-ETR).
#
#   client --(203.0.113.0/25)-- br ==RLOC 192.0.2.0/24== core --(203.0.113.128/25)-- inet
#
# usage: proxy.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

star br=20
host br c0 203.0.113.1/25 client 203.0.113.20/25
host ms i0 203.0.113.129/25 inet 203.0.113.200/25
for r in ms br; do nsx "$r" sysctl -qw net.ipv4.ip_forward=1; done

cat >"$WORK/ms.conf" <<CONF
router lisp
 site BRANCH
  authentication-key br-key
  eid-prefix 203.0.113.0/25
 ipv4 map-server
 ipv4 map-resolver
 map-cache 203.0.113.0/25 map-request
 ipv4 itr map-resolver 192.0.2.1
 ipv4 proxy-itr 192.0.2.1
 ipv4 proxy-etr
CONF
cat >"$WORK/br.conf" <<CONF
router lisp
 database-mapping 203.0.113.0/25 192.0.2.20 priority 1 weight 100
 map-cache 203.0.113.128/25 map-request
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key br-key
 ipv4 use-petr 192.0.2.1
CONF
daemons ms br
retry 5 jctl br '.database_mappings[0].registrations[0].registered' show ip lisp database

check "branch client reaches the non-LISP host (PETR out, PITR back)" \
	nsx client ping -c 5 -i 0.2 -W 2 203.0.113.200 >/dev/null
check "branch: negative natively-forward entry for the non-LISP destination" jctl br \
	'[.map_cache[] | select(.state=="negative" and .action=="native-forward")] | length>0' \
	show ip lisp map-cache
check "branch: packets encapsulated to the PETR" jctl br \
	'.dataplane.pipeline[] | select(.name=="encapsulated to the proxy-ETR") | .packets>0' \
	show lisp dataplane
check "core (PETR): packets for the non-LISP site decapsulated" jctl ms \
	'.dataplane.pipeline[] | select(.name=="decapsulated") | .packets>0' show lisp dataplane
check "core (PITR): the branch resolved through its own Map-Resolver" jctl ms \
	'.map_cache[] | select(.eid_prefix=="203.0.113.0/25") | .state=="complete" and .locators[0].address=="192.0.2.20"' \
	show ip lisp map-cache
check "core (PITR): packets encapsulated" jctl ms \
	'.dataplane.pipeline[] | select(.name=="encapsulated") | .packets>0' show lisp dataplane

# a reload changes the routes into the data plane with the configured map-cache
echo " map-cache 203.0.113.64/26 drop" >>"$WORK/br.conf"
check "reload with a new map-cache prefix" bash -c "$BIN/xtrctl -s $WORK/br.sock reload >/dev/null"
check "the new prefix is routed into lisp0" \
	bash -c "ip -n $(ns br) route show proto 145 | grep -q '^203.0.113.64/26 dev lisp0'"
check "map-cache: the new static drop entry" jctl br \
	'.map_cache[] | select(.eid_prefix=="203.0.113.64/26") | .configured and .action=="drop"' \
	show ip lisp map-cache
sed -i '/203.0.113.64\/26/d' "$WORK/br.conf"
check "reload without it" bash -c "$BIN/xtrctl -s $WORK/br.sock reload >/dev/null"
check "its route is gone, the others stay" bash -c "! ip -n $(ns br) route show proto 145 |
	grep -q 203.0.113.64/26 && ip -n $(ns br) route show proto 145 | grep -q '^203.0.113.128/25 dev lisp0'"
finish
