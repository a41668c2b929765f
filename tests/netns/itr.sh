#!/usr/bin/env bash
# xtr-gateway as ITR (a branch office xTR) with a Map-Resolver and an ETR, in namespaces:
# lig resolves an EID through the Map-Resolver and the ETR's answer fills the map-cache;
# negative answers and configured entries show with their action; an SMR makes the ITR ask
# the mapping system again; clear empties what was learned.
# usage: itr.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

star dc1=10 br=20

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix 10.1.1.0/24 accept-more-specifics
 site BRANCH
  authentication-key br-key
  eid-prefix 10.2.2.0/24
 ipv4 map-server
 ipv4 map-resolver
CONF
cat >"$WORK/dc1.conf" <<CONF
router lisp
 database-mapping 10.1.1.0/24 192.0.2.10 priority 1 weight 100
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
CONF
cat >"$WORK/br.conf" <<CONF
router lisp
 locator-set BR
  ipv4-interface eth0 priority 1 weight 100
  exit
 eid-table default instance-id 0
  database-mapping 10.2.2.0/24 locator-set BR
  map-cache 10.4.0.0/16 map-request
  exit
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key br-key
CONF
BRCTL="$BIN/xtrctl -s $WORK/br.sock"
bg ms "$BIN/xtr-gateway" -f "$WORK/ms.conf" -s "$WORK/ms.sock" 2>"$WORK/ms.log"
retry 5 test -S "$WORK/ms.sock"
bg dc1 "$BIN/xtr-gateway" -f "$WORK/dc1.conf" -s "$WORK/dc1.sock" 2>"$WORK/dc1.log"
bg br "$BIN/xtr-gateway" -f "$WORK/br.conf" -s "$WORK/br.sock" 2>"$WORK/br.log"
retry 5 test -S "$WORK/br.sock"
retry 5 bash -c "$BIN/xtrctl -s $WORK/dc1.sock -j show ip lisp database | jq -e '.database_mappings[0].registrations[0].registered' >/dev/null"

mc() { $BRCTL -j show ip lisp map-cache | jq -e "$1" >/dev/null; }
stats() { $BRCTL -j show lisp statistics | jq -e ".statistics | $1" >/dev/null; }

check "configured map-cache entry: negative, send-map-request, never expires" \
	mc '.map_cache[] | select(.eid_prefix=="10.4.0.0/16") | .configured and .state=="negative" and .action=="send-map-request" and .expires==0'
out=$($BRCTL lig 10.1.1.10)
check "lig: Map-Request sent" grep -q "Map-Request sent" <<<"$out"
check "map-cache: 10.1.1.0/24 -> 192.0.2.10 from DC1's Map-Reply" retry 3 mc \
	'.map_cache[] | select(.eid_prefix=="10.1.1.0/24") | .state=="complete" and .locators[0].address=="192.0.2.10" and .locators[0].up and .expires>0'
check "the pending host entry is gone" mc '[.map_cache[] | select(.eid_prefix=="10.1.1.10/32")] == []'
out=$($BRCTL lig 10.1.1.11)
check "lig of a covered EID: already in the map-cache" grep -q "already in the map-cache" <<<"$out"
$BRCTL lig 172.16.0.1 >/dev/null
check "negative Map-Reply cached with its action" retry 3 mc \
	'.map_cache[] | select(.eid_prefix=="128.0.0.0/1") | .state=="negative" and .action=="native-forward"'
check "text: show ip lisp map-cache" bash -c "$BRCTL show ip lisp map-cache | grep -q '^10.1.1.0/24, uptime: .*, via map-reply, complete'"
before=$($BRCTL -j show lisp statistics | jq .statistics.map_requests_sent)
nsx dc1 "$BIN/lispc" smr -m 192.0.2.20 -e 10.1.1.10 -r 192.0.2.10 -p 40000
check "SMR: received, and the ITR asked the mapping system again" retry 3 stats \
	".smrs_received==1 and .map_requests_sent==$((before + 1)) and .map_replies>=3"
check "no unsolicited reply was taken" stats '.map_replies_unsolicited==0'
out=$($BRCTL clear ip lisp map-cache)
check "clear: learned entries removed, the configured one stays" \
	mc '[.map_cache[].eid_prefix] == ["10.4.0.0/16"]'

finish
