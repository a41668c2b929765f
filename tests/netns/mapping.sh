#!/usr/bin/env bash
# The mapping system's answers under an outsider's questions (issue 17, items 1-3), with our
# daemons in every role and an attacker namespace that crafts Map-Requests and plays a lying
# Map-Resolver (tests/tools/lispc).
#
#   client 203.0.113.20 -- br (branch xTR) ==RLOC 192.0.2.0/24== dc1 (DC xTR) -- br0 -- vm1, vm2
#                        ms 192.0.2.1 (MS/MR) on the RLOC bridge; itr2 (.30) asks atk (.66);
#                        vic (.77) is the address the attacker writes in its requests
#
# 1. Negative answers punch holes: a question about an unused address of the DC's subnet does
#    not make the branch lose the VM registered beside it, and a VM that appears right after the
#    question is reachable within seconds (the negative entry says: ask again).
# 2. Reflector: one request of 200 records gives one answer; a flood of requests naming one
#    victim as ITR-RLOC gives it no more than the configured rate, from the Map-Server and from
#    the ETR, while another ITR is still answered.
# 3. Cache poisoning: records of a Map-Reply that do not answer the question asked (another
#    instance-id, a prefix not covering the EID) are not installed.
# usage: mapping.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
LISPC=$BIN/lispc

star dc1=10 br=20 itr2=30 atk=66 vic=77
host br c0 203.0.113.1/24 client 203.0.113.20/24
fhr_lan dc1 198.51.100.1/24 vm1 198.51.100.10
for r in br dc1; do nsx "$r" sysctl -qw net.ipv4.ip_forward=1; done

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix 198.51.100.0/24 accept-more-specifics
 site BRANCH
  authentication-key br-key
  eid-prefix 203.0.113.0/24
 ipv4 map-server
 ipv4 map-resolver
 map-reply rate-limit 5 burst 10 total 1000
CONF
cat >"$WORK/dc1.conf" <<CONF
router lisp
 locator-set RLOC
  192.0.2.10 priority 1 weight 100
  exit
 dynamic-eid VMS
  database-mapping 198.51.100.0/24 locator-set RLOC
  exit
 map-cache 203.0.113.0/24 map-request
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
 map-reply rate-limit 5 burst 10 total 1000
interface br0
 lisp mobility VMS
CONF
cat >"$WORK/br.conf" <<CONF
router lisp
 database-mapping 203.0.113.0/24 192.0.2.20 priority 1 weight 100
 map-cache 198.51.100.0/24 map-request
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key br-key
CONF
cat >"$WORK/itr2.conf" <<CONF
router lisp
 locator-set R
  ipv4-interface eth0 priority 1 weight 100
  exit
 eid-table vrf A instance-id 100
  database-mapping 198.51.100.0/26 locator-set R
  exit
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.66
CONF
daemons ms dc1 br itr2
retry 5 jctl br '.database_mappings[0].registrations[0].registered' show ip lisp database

mc() { # mc ROLE JQ: true if JQ holds on ROLE's map-cache
	jctl "$1" "$2" show ip lisp map-cache
}

# 1. negative answers
# vm1 speaks to an address of the branch that does not answer: the branch's ITR has no reason to
# resolve it yet
nsx vm1 ping -c 2 -i 0.5 -W 1 203.0.113.99 >/dev/null || true
check "vm1 spoke: DC1 learned it, the Map-Server has 198.51.100.10/32" retry 5 jctl ms \
	'.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32") | .registered' show lisp site
ctl br lig 198.51.100.20 >/dev/null
check "branch asked about an unused address: the answer is the hole 198.51.100.16/28" retry 3 mc br \
	'.map_cache[] | select(.eid_prefix=="198.51.100.16/28") | .state=="negative" and .action=="send-map-request" and .expires > 0'
check "no learned answer covers the registered VM" mc br \
	'[.map_cache[] | select(.configured | not) | select(.eid_prefix=="198.51.100.0/24" or .eid_prefix=="198.51.100.0/25")] == []'
check "the configured map-cache 198.51.100.0/24 map-request entry is still configured" mc br \
	'.map_cache[] | select(.eid_prefix=="198.51.100.0/24") | .configured and .action=="send-map-request"'
check "the client reaches the registered VM after that question" retry 5 bash -c \
	"ip netns exec $(ns client) ping -c 1 -W 1 198.51.100.10 >/dev/null"
fhr_lan dc1 198.51.100.1/24 vm2 198.51.100.20
t0=$EPOCHREALTIME
check "a VM appearing in the hole right after the question reaches the client within 5 s" \
	retry 5 bash -c "ip netns exec $(ns vm2) ping -c 1 -W 1 203.0.113.20 >/dev/null"
echo "   (vm2 answered after $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s)"
check "branch map-cache: 198.51.100.20/32 -> DC1" mc br \
	'.map_cache[] | select(.eid_prefix=="198.51.100.20/32") | .locators[0].address=="192.0.2.10"'

# 2. reflector: the victim counts the Map-Replies it gets
victim() { grep -c '^map-reply' "$WORK/vic.out" || true; }
bg vic "$LISPC" listen -s 192.0.2.77 -p 40001 -w 30 >"$WORK/vic.out"
retry 3 grep -q listening "$WORK/vic.out"
nsx atk "$LISPC" request -m 192.0.2.1 -e 198.51.100.10 -r 192.0.2.77 -N 200 -w 0 -s 192.0.2.66 \
	-p 40001 >/dev/null
check "one request of 200 records about a registered VM: the victim gets one Map-Reply (from the ETR)" \
	retry 3 test "$(victim)" -eq 1
nsx atk "$LISPC" request -m 192.0.2.1 -e 198.51.100.99 -r 192.0.2.77 -N 200 -w 0 -s 192.0.2.66 \
	-p 40001 >/dev/null
check "one request of 200 records about an unused address: one negative Map-Reply" \
	retry 3 test "$(victim)" -eq 2
sleep 1
check "nothing more arrives" test "$(victim)" -eq 2
sleep 2 # the buckets refill
before=$(victim)
t0=$EPOCHREALTIME
nsx atk "$LISPC" request -m 192.0.2.1 -e 198.51.100.99 -r 192.0.2.77 -c 300 -w 0 -s 192.0.2.66 \
	-p 40001 >/dev/null
nsx atk "$LISPC" request -m 192.0.2.1 -e 198.51.100.10 -r 192.0.2.77 -c 300 -w 0 -s 192.0.2.66 \
	-p 40001 >/dev/null
sleep 1
el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a + 1 }')
got=$(($(victim) - before))
max=$((2 * (10 + 5 * el))) # the MS's and the ETR's buckets: burst + rate x elapsed each
echo "   (600 requests naming the victim in ${el} s: it got $got Map-Replies, at most $max allowed)"
check "a flood naming one victim: it gets at most the configured rate" test "$got" -le "$max"
check "... and the limit is not a black hole: some were answered" test "$got" -ge 10
st() { jctl "$1" ".statistics | $2" show lisp statistics; }
check "Map-Server: the 2 x 199 extra records counted as ignored" st ms '.map_request_records_ignored == 398'
check "Map-Server: answers and forwards refused by the limit counted" st ms \
	'.map_replies_rate_limited > 0 and .map_requests_forward_rate_limited > 0'
check "ETR: the forwarded request's 199 extra records counted as ignored" st dc1 \
	'.etr_request_records_ignored == 199'
check "text: show lisp statistics names them" bash -c \
	"$BIN/xtrctl -s $WORK/ms.sock show lisp statistics | grep -qi 'rate-limit'"
ctl br lig 198.51.100.98 >/dev/null
check "another ITR is still answered meanwhile (the hole beside .10 and .20: 198.51.100.64/26)" \
	retry 3 mc br '.map_cache[] | select(.eid_prefix=="198.51.100.64/26") | .state=="negative"'

# 3. cache poisoning: a lying Map-Resolver adds records that answer nothing asked
bg atk "$LISPC" mr -s 192.0.2.66 -e 198.51.100.128/25 -r 192.0.2.10 \
	-X 200:0.0.0.0/0,100:203.0.113.0/24,100:0.0.0.0/1 -w 20 >"$WORK/mr.out"
retry 3 grep -q listening "$WORK/mr.out"
echo "   (itr2: $(ctl itr2 lig instance-id 100 198.51.100.130 2>&1))"
check "the lying Map-Resolver answered" retry 3 grep -q "^answered .*records=4" "$WORK/mr.out"
check "the answer to the question is installed: [100] 198.51.100.128/25 -> 192.0.2.10" retry 3 mc itr2 \
	'.map_cache[] | select(.eid_prefix=="198.51.100.128/25" and .instance_id==100) | .locators[0].address=="192.0.2.10"'
check "nothing of another instance-id was installed" mc itr2 '[.map_cache[] | select(.instance_id==200)] == []'
check "no prefix that does not cover the requested EID was installed" mc itr2 \
	'[.map_cache[] | select(.eid_prefix=="203.0.113.0/24" or .eid_prefix=="0.0.0.0/1")] == []'
check "the three records that answer nothing are counted as refused" \
	jctl itr2 '.statistics.map_reply_records_refused == 3' show lisp statistics

finish
