#!/usr/bin/env bash
# xtr-gateway as ETR against xtr-gateway as Map-Server/Map-Resolver, in namespaces: the ETR
# registers its database-mappings (locator from an interface and inline), the Map-Server
# forwards an ITR's Map-Request to it and it answers; a host registered elsewhere becomes an
# acknowledged away entry; a mapping dropped on reload is withdrawn; registrations signed with
# HMAC-SHA-1 (hash-function sha1) are taken; a wrong key keeps retrying and never registers.
# usage: etr.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

star dc1=10 itr=20

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix instance-id 4100 10.1.1.0/24 accept-more-specifics
  eid-prefix 10.3.3.0/24
 ipv4 map-server
 ipv4 map-resolver
CONF
cat >"$WORK/dc1.conf" <<CONF
router lisp
 locator-set DC1
  ipv4-interface eth0 priority 1 weight 100
  exit
 eid-table vrf TENANT-A instance-id 4100
  database-mapping 10.1.1.0/24 locator-set DC1
  exit
 database-mapping 10.3.3.0/24 192.0.2.10 priority 1 weight 100
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
 map-reply rate-limit 5 burst 10
CONF
MSCTL="$BIN/xtrctl -s $WORK/ms.sock"
DCCTL="$BIN/xtrctl -s $WORK/dc1.sock"
bg ms "$BIN/xtr-gateway" -f "$WORK/ms.conf" -s "$WORK/ms.sock" 2>"$WORK/ms.log"
retry 5 test -S "$WORK/ms.sock"
bg dc1 "$BIN/xtr-gateway" -f "$WORK/dc1.conf" -s "$WORK/dc1.sock" 2>"$WORK/dc1.log"
DPID=${PIDS[-1]}
retry 5 test -S "$WORK/dc1.sock"

ms_has() { $MSCTL -j show lisp site | jq -e "$1" >/dev/null; }
dc_has() { $DCCTL -j show ip lisp database | jq -e "$1" >/dev/null; }

check "MS: 10.1.1.0/24 (iid 4100) registered by DC1 with its interface address" retry 5 ms_has \
	'.sites[0].prefixes[] | select(.eid_prefix=="10.1.1.0/24" and .instance_id==4100) | .registered and .registrants[0].locators[0].address=="192.0.2.10"'
check "MS: 10.3.3.0/24 registered (inline locator)" retry 5 ms_has \
	'.sites[0].prefixes[] | select(.eid_prefix=="10.3.3.0/24") | .registered'
check "DC1: show ip lisp database says registered" retry 5 dc_has \
	'[.database_mappings[].registrations[].registered] == [true, true]'
check "DC1: interface locator resolved" dc_has \
	'.database_mappings[] | select(.eid_prefix=="10.1.1.0/24") | .locators[0] | .address=="192.0.2.10" and .source=="cfg-intf" and .interface=="eth0" and .up'
out=$(nsx itr "$BIN/lispc" request -m 192.0.2.1 -e 10.1.1.77 -i 4100 -r 192.0.2.20 -w 2)
check "ITR: Map-Request forwarded by the MS, answered by DC1 authoritatively" \
	grep -q "^map-reply from=192.0.2.10 .* eid=10.1.1.0/24 iid=4100 ttl=1440 act=0 auth=1 locators=192.0.2.10" <<<"$out"
check "text: show ip lisp database" bash -c "$DCCTL show ip lisp database | grep -q 'Map-Server 192.0.2.1: registered'"

# a reflector's request (one ECM, 200 records) gets one Map-Reply; a flood toward one ITR-RLOC
# gets map-reply rate-limit's burst (10), the rest counted
dc_stat() { $DCCTL -j show lisp statistics | jq -e ".statistics | $1" >/dev/null; }
nsx itr "$BIN/lispc" request -m 192.0.2.10 -e 10.1.1.77 -i 4100 -r 192.0.2.20 -N 200 -w 0 >/dev/null
check "DC1: 200 records, one answer, 199 ignored" retry 3 dc_stat \
	'.etr_map_replies == 2 and .etr_request_records_ignored == 199'
nsx itr "$BIN/lispc" request -m 192.0.2.10 -e 10.1.1.77 -i 4100 -r 192.0.2.20 -c 50 -w 0 >/dev/null
check "DC1: 50 requests toward one ITR-RLOC: the burst answered, the rest rate-limited" retry 3 \
	dc_stat '.etr_map_replies >= 10 and .etr_map_replies <= 13 and .etr_map_replies + .etr_map_replies_rate_limited == 52'
check "text: show lisp statistics, the ETR's part" bash -c \
	"$DCCTL show lisp statistics | grep -qE 'Map-Replies sent: +[0-9]+ \\([1-9][0-9]* not sent: map-reply rate-limit\\)'"

# a host of DC1's subnet registers elsewhere: the MS tells DC1, which acknowledges and keeps an
# away entry pointing at the new locator
out=$(nsx itr "$BIN/lispc" register -m 192.0.2.1 -k dc-key -e 10.1.1.77/32 -i 4100 -r 192.0.2.20 -M -n 1)
check "the other ETR's /32 acknowledged" grep -q "mac=ok eid=10.1.1.77/32" <<<"$out"
check "MS: DC1 acknowledged the move notification" retry 3 ms_has \
	'.sites[0].counters.map_notify_acks==1 and .sites[0].counters.moves==1'
check "DC1: show lisp away" retry 3 bash -c "$DCCTL -j show lisp away | jq -e '.away[] | select(.eid_prefix==\"10.1.1.77/32\" and .instance_id==4100) | .locators[0].address==\"192.0.2.20\" and .map_server==\"192.0.2.1\"' >/dev/null"
check "DC1: text show lisp away" bash -c "$DCCTL show lisp away | grep -q '^10.1.1.77/32 instance-id 4100, away since'"

# reload without 10.3.3.0/24: withdrawn at once (TTL 0), not left to expire; the map-server now
# with hash-function sha1 (HMAC-SHA-1-96, as a Map-Server that knows nothing else wants it): the
# ETR registers again at once, signed so, and our Map-Server takes it and answers in kind
regs=$($MSCTL -j show lisp site | jq '.sites[0].counters.registrations')
sed -i '/10.3.3.0/d' "$WORK/dc1.conf"
sed -i 's/key dc-key$/key dc-key hash-function sha1/' "$WORK/dc1.conf"
$DCCTL reload >/dev/null
check "MS: dropped mapping withdrawn" retry 3 ms_has \
	'.sites[0].prefixes[] | select(.eid_prefix=="10.3.3.0/24") | .registered | not'
check "MS: deregistration counted" ms_has '.sites[0].counters.deregistrations==1'
check "MS: 10.1.1.0/24 still registered" ms_has \
	'.sites[0].prefixes[] | select(.eid_prefix=="10.1.1.0/24") | .registered'
check "MS: a SHA-1 Map-Register taken, none refused" retry 3 ms_has \
	".sites[0].counters.registrations > $regs and .sites[0].counters.auth_failures == 0"
check "DC1: its SHA-1 registration acknowledged (Map-Notify verified)" retry 3 bash -c \
	"$DCCTL -j show ip lisp database | jq -e '.database_mappings[0].registrations[0] | .registered' >/dev/null"

# a wrong key: the MS refuses, the ETR keeps trying with back-off
sed -i 's/key dc-key/key not-the-key/' "$WORK/dc1.conf"
sed -i 's|database-mapping 10.1.1.0/24|database-mapping 10.1.1.128/25|' "$WORK/dc1.conf"
kill -HUP "$DPID"
check "MS: wrong key counted" retry 4 ms_has '.sites[0].counters.auth_failures>=2'
check "DC1: not registered, retrying" retry 4 dc_has \
	'.database_mappings[0].registrations[0] | (.registered | not) and .attempts>=2'

finish
