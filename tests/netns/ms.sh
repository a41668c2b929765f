#!/usr/bin/env bash
# xtr-gateway as Map-Server / Map-Resolver in network namespaces: ETRs register (IPv4 and IPv6
# transport), a host EID moves from DC1 to DC2 and DC1 is told, an ITR resolves, bad keys and
# bad configs are refused; negative answers leave holes for registered hosts, and forged
# requests get one answer each, rate-limited. Checked with xtrctl -j and tshark on the wire.
# usage: ms.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

# The core: a bridge in the MS namespace; the others hang off it.
star dc1=10 dc2=30 itr=20

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DATA_CENTER
  authentication-key dc-key
  eid-prefix instance-id 4100 10.1.1.0/24 accept-more-specifics
  eid-prefix 2001:db8:1::/48 accept-more-specifics
 site BRANCH
  authentication-key branch-key
  eid-prefix 10.2.2.0/24
 ipv4 map-server
 ipv4 map-resolver
 ipv6 map-server
 ipv6 map-resolver
 map-reply rate-limit 2 burst 6
CONF
SOCK=$WORK/xtr.sock
XTRCTL="$BIN/xtrctl -s $SOCK"
LISPC=$BIN/lispc
bg ms timeout 60 tshark -q -i br0 -f "udp port 4342" -w "$WORK/ms.pcap" -a duration:50 2>/dev/null
bg ms "$BIN/xtr-gateway" -d -f "$WORK/ms.conf" -s "$SOCK" 2>"$WORK/xtr.log"
XPID=${PIDS[-1]}
retry 5 test -S "$SOCK"
sleep 1 # tshark starting

site_json() { $XTRCTL -j show lisp site >"$WORK/site.json" 2>/dev/null; }
jqs() { site_json && jq -e "$1" "$WORK/site.json" >/dev/null; }

# DC1 registers its subnet and a host; both acknowledged with a valid MAC
out=$(nsx dc1 $LISPC register -m 192.0.2.1 -k dc-key -e 10.1.1.0/24 -i 4100 -r 192.0.2.10 -M -n 1)
check "DC1 /24 acknowledged" grep -q "^map-notify from=192.0.2.1 nonce=0x0000000000000001 mac=ok eid=10.1.1.0/24 iid=4100" <<<"$out"
out=$(nsx dc1 $LISPC register -m 192.0.2.1 -k dc-key -e 10.1.1.10/32 -i 4100 -r 192.0.2.10 -M -n 2)
check "DC1 /32 acknowledged" grep -q "mac=ok eid=10.1.1.10/32 iid=4100 ttl=1440 act=0 auth=1 locators=192.0.2.10" <<<"$out"
check "show lisp site: /32 registered by DC1" jqs '.sites[0].prefixes[] | select(.eid_prefix=="10.1.1.10/32") | .registered and .last_registered_by=="192.0.2.10"'
check "show lisp site: /24 counts one more-specific" jqs '.sites[0].prefixes[] | select(.eid_prefix=="10.1.1.0/24" and .configured) | .more_specifics==1'

# DC1 listens (and acks) while the VM moves to DC2
bg dc1 $LISPC listen -k dc-key -s 192.0.2.10 -A -w 8 -c 2 >"$WORK/dc1.out"
retry 3 grep -q listening "$WORK/dc1.out"
out=$(nsx dc2 $LISPC register -m 192.0.2.1 -k dc-key -e 10.1.1.10/32 -i 4100 -r 192.0.2.30 -M -n 1)
check "DC2 /32 acknowledged" grep -q "mac=ok eid=10.1.1.10/32 iid=4100 .*locators=192.0.2.30" <<<"$out"
check "DC1 told the EID moved to DC2" retry 3 grep -q "^map-notify from=192.0.2.1 .*mac=ok eid=10.1.1.10/32 iid=4100 .*locators=192.0.2.30" "$WORK/dc1.out"
check "DC1's ack stops the retransmissions" retry 3 jqs '.sites[0].counters.map_notify_acks==1 and .sites[0].counters.moves==1'
check "show lisp site: /32 now DC2's alone" jqs '[.sites[0].prefixes[] | select(.eid_prefix=="10.1.1.10/32") | .registrants[].address] == ["192.0.2.30"]'

# the ITR resolves: registered EIDs are forwarded to the ETR, others answered negatively
bg dc1 $LISPC listen -s 192.0.2.10 -w 4 -c 1 >"$WORK/dc1-ecm.out"
retry 3 grep -q listening "$WORK/dc1-ecm.out"
nsx itr $LISPC request -m 192.0.2.1 -e 10.1.1.99 -i 4100 -r 192.0.2.20 -w 0.5 >/dev/null || true
check "Map-Request for DC1's subnet forwarded to DC1" retry 3 grep -q "^ecm-map-request from=192.0.2.1 .*eid=\[4100\] 10.1.1.99/32" "$WORK/dc1-ecm.out"
out=$(nsx itr $LISPC request -m 192.0.2.1 -e 172.16.1.1 -r 192.0.2.20 -p 50002)
check "not a LISP EID: negative 128.0.0.0/1 for 15 min" grep -q "^map-reply from=192.0.2.1 .* eid=128.0.0.0/1 iid=0 ttl=15 act=1 auth=0 locators=none" <<<"$out"
out=$(nsx itr $LISPC request -m 192.0.2.1 -e 10.2.2.7 -r 192.0.2.20 -p 50003)
check "site prefix, nothing registered: negative for 1 min, send-map-request" grep -q "eid=10.2.2.0/24 iid=0 ttl=1 act=2" <<<"$out"

# IPv6 transport
out=$(nsx dc2 $LISPC register -m 2001:db8::1 -k dc-key -e 2001:db8:1::5/128 -r 2001:db8::30 -M -n 2)
check "registration over IPv6 acknowledged" grep -q "^map-notify from=2001:db8::1 .*mac=ok eid=2001:db8:1::5/128" <<<"$out"
out=$(nsx itr $LISPC request -m 2001:db8::1 -e 2001:db8:99::1 -r 2001:db8::20)
check "negative Map-Reply over IPv6" grep -q "^map-reply from=2001:db8::1 .*ttl=15 act=1" <<<"$out"

# refusals
out=$(nsx dc2 $LISPC register -m 192.0.2.1 -k wrong-key -e 10.1.1.11/32 -i 4100 -r 192.0.2.30 -M -n 3 -w 0.5 || true)
check "wrong key: no Map-Notify" grep -q timeout <<<"$out"
check "wrong key counted" jqs '.sites[0].counters.auth_failures==1'
out=$(nsx dc2 $LISPC register -m 192.0.2.1 -k dc-key -e 10.9.9.0/24 -i 4100 -r 192.0.2.30 -M -n 4 -w 0.5 || true)
check "prefix in no site: no Map-Notify" grep -q timeout <<<"$out"
out=$(nsx dc2 $LISPC register -m 192.0.2.1 -k dc-key -e 10.1.1.12/32 -i 999 -r 192.0.2.30 -M -n 5 -w 0.5 || true)
check "right prefix, other instance-id: refused" grep -q timeout <<<"$out"

# garbage is counted and dropped; global statistics
nsx itr bash -c 'printf "\x30garbage" >/dev/udp/192.0.2.1/4342'
check "show lisp statistics: garbage counted as malformed, no-site register, requests" \
	retry 3 bash -c "$XTRCTL -j show lisp statistics | jq -e '.statistics | .malformed==1 and .unknown_eid==2 and .map_requests>=4 and .negative_not_lisp==2' >/dev/null"
check "daemon survived the garbage" kill -0 "$XPID"

# a negative answer next to a registered host (DC2's 2001:db8:1::5) leaves it out: the hole
out=$(nsx itr $LISPC request -m 2001:db8::1 -e 2001:db8:1::7 -r 2001:db8::20)
check "negative Map-Reply around a registered host: 2001:db8:1::6/127, send-map-request" \
	grep -q "eid=2001:db8:1::6/127 iid=0 ttl=1 act=2" <<<"$out"
# a forged request repeating its record 200 times gets one answer; 20 requests naming DC1 as
# their ITR-RLOC get the burst of map-reply rate-limit (6), the rest is refused and counted
nsx itr $LISPC request -m 192.0.2.1 -e 10.2.2.8 -r 192.0.2.20 -N 200 -p 50004 -w 1 >/dev/null || true
check "200 records in one request: the first answered, 199 counted" \
	retry 3 bash -c "$XTRCTL -j show lisp statistics | jq -e '.statistics.map_request_records_ignored==199' >/dev/null"
nsx dc1 $LISPC request -m 192.0.2.1 -e 10.2.2.9 -r 192.0.2.10 -c 20 -p 50005 -w 0 >/dev/null
check "20 requests toward DC1: the rest after the burst refused and counted" \
	retry 3 bash -c "$XTRCTL -j show lisp statistics | jq -e '.statistics.map_replies_rate_limited>=13' >/dev/null"
out=$(nsx itr $LISPC request -m 192.0.2.1 -e 10.2.2.9 -r 192.0.2.20 -p 50006)
check "another ITR-RLOC still answered" grep -q "^map-reply from=192.0.2.1 .*eid=10.2.2.0/24" <<<"$out"

# multihomed: DC2 registers DC1's subnet with its own locator only; merged, nobody displaced
out=$(nsx dc2 $LISPC register -m 192.0.2.1 -k dc-key -e 10.1.1.0/24 -i 4100 -r 192.0.2.30 -M)
check "a second ETR registers the subnet with its own locator: acknowledged" grep -q "mac=ok eid=10.1.1.0/24" <<<"$out"
check "show lisp site: both ETRs hold the subnet, no second move" \
	jqs '([.sites[0].prefixes[] | select(.eid_prefix=="10.1.1.0/24") | .registrants[].address] | sort) == ["192.0.2.10","192.0.2.30"] and .sites[0].counters.moves==1'

# reload: a bad file keeps the running configuration, a good one applies without losing state
cp "$WORK/ms.conf" "$WORK/ms.good"
echo " frobnicate" >>"$WORK/ms.conf"
rc=0
$XTRCTL reload >/dev/null 2>"$WORK/reload.err" || rc=$?
check "bad reload refused (exit 3) with file:line" grep -q "ms.conf:14: unknown or misplaced command 'frobnicate'" "$WORK/reload.err"
check "bad reload exit code 3" test "$rc" -eq 3
cp "$WORK/ms.good" "$WORK/ms.conf"
kill -HUP "$XPID"
check "SIGHUP reload keeps registrations" retry 3 jqs '.sites[0].prefixes[] | select(.eid_prefix=="10.1.1.10/32") | .registered'
check "daemon still running" kill -0 "$XPID"
check "xtrctl detail by prefix" bash -c "$XTRCTL show lisp site 10.1.1.10/32 instance-id 4100 | grep -q 'Who last registered:  192.0.2.30'"
rc=0
out=$($XTRCTL sh li si NOSUCH 2>&1) || rc=$?
check "xtrctl abbreviations; an unknown site is exit 3" bash -c "[ $rc -eq 3 ] && grep -q 'no such site' <<<'$out'"
check "xtrctl log debug / brief" bash -c "$XTRCTL log debug register && $XTRCTL log brief"
check "xtrctl text summary" bash -c "$XTRCTL show lisp site | grep -E '^ +[0-9:]+ +yes +192.0.2.30 +4100 +10.1.1.10/32'"

# what went over the wire, read by tshark
sleep 0.5
kill "${PIDS[0]}" 2>/dev/null || true
wait "${PIDS[0]}" 2>/dev/null || true
tshark -r "$WORK/ms.pcap" -Y "lisp.type==4 && ip.dst==192.0.2.10 && lisp.nonce != 0x0000000000000001 && lisp.nonce != 0x0000000000000002" \
	-T fields -e lisp.mapping.eid.masklen -e lisp.lcaf.iid -e lisp.lcaf.iid.ipv4 -e lisp.loc.locator -e lisp.keyid -e lisp.authlen 2>/dev/null |
	head -1 >"$WORK/notify.txt"
check "tshark: move Map-Notify to DC1 carries [4100] 10.1.1.10/32 -> 192.0.2.30, SHA-256" \
	grep -qx $'32\t4100\t10.1.1.10\t192.0.2.30\t0x0002\t32' "$WORK/notify.txt"
tshark -r "$WORK/ms.pcap" -Y "lisp.type==2 && udp.dstport==50002" -T fields -e lisp.mapping.eid.ipv4 \
	-e lisp.mapping.eid.masklen -e lisp.mapping.ttl -e lisp.mapping.act -e lisp.mapping.loccnt 2>/dev/null >"$WORK/neg.txt"
check "tshark: negative Map-Reply 128.0.0.0/1, TTL 15, Natively-Forward" grep -qx $'128.0.0.0\t1\t15\t1\t0' "$WORK/neg.txt"
n=$(tshark -r "$WORK/ms.pcap" -Y "lisp.type==2 && udp.dstport==50004" 2>/dev/null | wc -l)
check "tshark: one Map-Reply to the request of 200 records (saw $n)" test "$n" -eq 1
n=$(tshark -r "$WORK/ms.pcap" -Y "lisp.type==2 && ip.dst==192.0.2.10 && udp.dstport==50005" 2>/dev/null | wc -l)
check "tshark: DC1 got the burst of Map-Replies, not 20 (saw $n)" test "$n" -ge 6 -a "$n" -le 7
tshark -r "$WORK/ms.pcap" -o udp.check_checksum:TRUE -Y "udp.checksum.status==0" 2>/dev/null >"$WORK/badsum.txt"
check "tshark: no bad UDP checksum" test ! -s "$WORK/badsum.txt"

finish
