#!/usr/bin/env bash
# A VM moves between two data centers while a branch-office client pings it at 1 kpps, all
# through xtr-gateway's data plane (single-hop: the VMs' subnet hangs off each gateway).
#
#   client --(203.0.113.0/24)-- br ==RLOC 192.0.2.0/24 (ms: MS/MR)== dc1, dc2 --vmbr-- fab -- vm
#
# The VM (198.51.100.10) first talks from DC1, which learns it from its data (source check),
# registers it and the branch resolves it there. Then its port is re-mastered from DC1's to
# DC2's segment in the fabric namespace (the live-migration model of shared/platform.md) and
# it sends one packet. Asserted: DC2 learned and registered it, the Map-Server moved it and
# told DC1, DC1 keeps an away entry that re-encapsulates the branch's packets to DC2 and sends
# the branch an SMR, the branch map-cache then points at DC2, no ping is lost after DC1 knew,
# and tshark reads the RLOC traffic as LISP with the right inner packets. Lost pings and the
# convergence steps are reported.
# usage: move.sh BUILD_BIN_DIR esm|asm
set -eu
BIN=$(realpath "$1")
MODE=${2:-esm}
. "$(dirname "$0")/lib.sh"

star dc1=10 dc2=11 br=20
host br c0 203.0.113.1/24 client 203.0.113.20/24
ns_add vm
ns_add fab
GWMAC=02:00:5e:00:01:01 # the VMs' gateway: the same IP and MAC in both DCs
if [ "$MODE" = asm ]; then
	VMNET=198.51.100.0/25 DC2NET=198.51.100.129/25
else
	VMNET=198.51.100.0/24 DC2NET=198.51.100.1/24
fi
VMLEN=${VMNET#*/}

# fabric: one segment per DC; the VM's port sits on DC1's
ip -n "$(ns fab)" link add brdc1 type bridge
ip -n "$(ns fab)" link add brdc2 type bridge
ip -n "$(ns fab)" link set brdc1 up
ip -n "$(ns fab)" link set brdc2 up
for i in 1 2; do
	ip link add "f$i" netns "$(ns fab)" type veth peer name up0 netns "$(ns dc$i)"
	ip -n "$(ns fab)" link set "f$i" master "brdc$i" up
	ip -n "$(ns dc$i)" link add vmbr type bridge
	ip -n "$(ns dc$i)" link set vmbr address $GWMAC
	ip -n "$(ns dc$i)" link set up0 master vmbr up
	ip -n "$(ns dc$i)" link set vmbr up
done
ip -n "$(ns dc1)" addr add "198.51.100.1/$VMLEN" dev vmbr
ip -n "$(ns dc2)" addr add "$DC2NET" dev vmbr
[ "$MODE" = asm ] && ip -n "$(ns dc2)" addr add 198.51.100.1/32 dev vmbr # anycast gateway
ip link add vmf netns "$(ns fab)" type veth peer name eth0 netns "$(ns vm)"
ip -n "$(ns fab)" link set vmf master brdc1 up
ip -n "$(ns vm)" addr add "198.51.100.10/$VMLEN" dev eth0
ip -n "$(ns vm)" link set eth0 up
ip -n "$(ns vm)" route add default via 198.51.100.1
for r in br dc1 dc2; do nsx "$r" sysctl -qw net.ipv4.ip_forward=1; done

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
CONF
for i in 1 2; do
	cat >"$WORK/dc$i.conf" <<CONF
router lisp
 locator-set RLOC
  ipv4-interface eth0 priority 1 weight 100
  exit
 dynamic-eid VMS
  database-mapping $VMNET locator-set RLOC
  exit
 map-cache 203.0.113.0/24 map-request
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
interface vmbr
 lisp mobility VMS
CONF
	[ "$MODE" = esm ] && echo " lisp extended-subnet-mode" >>"$WORK/dc$i.conf"
done
cat >"$WORK/br.conf" <<CONF
router lisp
 database-mapping 203.0.113.0/24 192.0.2.20 priority 1 weight 100
 map-cache 198.51.100.0/24 map-request
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.1
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key br-key
CONF
daemons ms dc1 dc2 br
retry 5 jctl br '.database_mappings[0].registrations[0].registered' show ip lisp database

# 1. the VM speaks from DC1: learned there, registered, the branch resolves it to DC1
check "VM in DC1 reaches the client (DC1 learns it, the first packets wait for the Map-Reply)" \
	nsx vm ping -c 3 -i 0.2 -W 2 203.0.113.20 >/dev/null
check "DC1: dynamic EID 198.51.100.10 learned from data, registered" retry 3 jctl dc1 \
	'.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .policy=="VMS" and .source=="data" and .registered' \
	show lisp dynamic-eid summary
check "Map-Server: 198.51.100.10/32 registered by DC1" retry 3 jctl ms \
	'.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32") | .registered and .last_registered_by=="192.0.2.10"' \
	show lisp site
check "client reaches the VM in DC1" nsx client ping -c 3 -i 0.2 -W 2 198.51.100.10 >/dev/null
check "branch map-cache: 198.51.100.10/32 -> DC1" jctl br \
	'.map_cache[] | select(.eid_prefix=="198.51.100.10/32") | .locators[0].address=="192.0.2.10"' \
	show ip lisp map-cache
if [ "$MODE" = asm ]; then
	check "DC1 (across subnets): host route to the VM on vmbr" \
		bash -c "ip -n $(ns dc1) route show 198.51.100.10 proto 145 | grep -q 'dev vmbr'"
fi

# 2. the move, under 1 kpps of pings and a capture of the RLOC segment
mkfifo "$WORK/go"
bg vm bash -c "exec 3>/dev/udp/203.0.113.20/9; read -r _ <'$WORK/go'; echo moved >&3"
bg ms tshark -q -n -i br0 -f "udp port 4341 or udp port 4342" -a duration:6 -c 20000 \
	-w "$WORK/rloc.pcapng" 2>"$WORK/tshark.log"
sleep 1 # tshark up
nsx client ping -D -n -i 0.001 -c 3000 -W 1 198.51.100.10 >"$WORK/ping.out" 2>&1 &
PING=$!
PIDS+=($PING)
sleep 1
t_move=$EPOCHREALTIME
ip -n "$(ns fab)" link set vmf master brdc2
t_moved=$EPOCHREALTIME # the re-master ends the ip process: the VM speaks from here
echo go >"$WORK/go"
wait "$PING" || true

# 3. where everything stands now
check "DC2: dynamic EID 198.51.100.10 learned from data, registered" retry 3 jctl dc2 \
	'.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .source=="data" and .registered' \
	show lisp dynamic-eid summary
check "Map-Server: 198.51.100.10/32 now registered by DC2" jctl ms \
	'.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32") | .last_registered_by=="192.0.2.11"' \
	show lisp site
check "DC1: the dynamic EID is gone" jctl dc1 \
	'[.dynamic_eids[] | select(.eid=="198.51.100.10/32")] | length==0' show lisp dynamic-eid
check "DC1: away entry -> DC2, packets re-encapsulated, SMRs sent" jctl dc1 \
	'.away[] | select(.eid_prefix=="198.51.100.10/32") | .locators[0].address=="192.0.2.11" and .packets>0 and .smrs>0' \
	show lisp away
check "DC1: away EID routed into lisp0" \
	bash -c "ip -n $(ns dc1) route show 198.51.100.10 proto 145 | grep -q 'dev lisp0'"
check "branch map-cache: 198.51.100.10/32 -> DC2 after the SMR" jctl br \
	'.map_cache[] | select(.eid_prefix=="198.51.100.10/32") | .locators[0].address=="192.0.2.11"' \
	show ip lisp map-cache
check "branch: SMR received" jctl br '.statistics.smrs_received>0' show lisp statistics
check "branch map-cache: DC2's locator counts data in and out and its Map-Reply" jctl br \
	'.map_cache[] | select(.eid_prefix=="198.51.100.10/32") | .locators[0] | .packets_out>0 and .packets_in>0 and .control_in>0' \
	show ip lisp map-cache
if [ "$MODE" = asm ]; then
	check "DC2 (across subnets): host route to the VM on vmbr" \
		bash -c "ip -n $(ns dc2) route show 198.51.100.10 proto 145 | grep -q 'dev vmbr'"
	check "DC1: its host route is gone" \
		bash -c "! ip -n $(ns dc1) route show 198.51.100.10 proto 145 | grep -q vmbr"
fi
check "client still reaches the VM, now in DC2" nsx client ping -c 3 -i 0.2 -W 2 198.51.100.10 >/dev/null

# 4. losses: which pings had no answer, and when they were sent (between the answers around them)
t_away=$(ctl dc1 -j show lisp away | jq '.away[] | select(.eid_prefix=="198.51.100.10/32") | .since')
t_learn=$(ctl dc2 -j show lisp dynamic-eid | jq '.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .since')
t_branch=$(ctl br -j show ip lisp map-cache | jq '.map_cache[] | select(.eid_prefix=="198.51.100.10/32") | .locators[0].since')
awk -v n=3000 -F'[][ =]+' '/icmp_seq=/ { for (i = 1; i <= NF; i++) if ($i == "icmp_seq") s = $(i + 1); t[s] = $2 }
	END { last = 0; for (s = 1; s <= n; s++) if (s in t) { if (last && s - last > 1)
		for (k = last + 1; k < s; k++) printf "%d %.6f\n", k, t[last] + (t[s] - t[last]) * (k - last) / (s - last);
		last = s } }' "$WORK/ping.out" >"$WORK/lost"
sent=$(grep -o '[0-9]* packets transmitted' "$WORK/ping.out" | cut -d' ' -f1)
recv=$(grep -o '[0-9]* received' "$WORK/ping.out" | cut -d' ' -f1)
lost=$((sent - recv))
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (a - b) * 1000 }'; }
echo "move ($MODE): from the VM's first packet in DC2: DC2 learned +$(ms "$t_learn" "$t_moved") ms, DC1 away +$(ms "$t_away" "$t_moved") ms, branch map-cache -> DC2 +$(ms "$t_branch" "$t_moved") ms (the re-master itself took $(ms "$t_moved" "$t_move") ms)"
echo "move ($MODE): pings sent $sent, answered $recv, lost $lost"
check "every ping was sent (3000)" test "$sent" -eq 3000
check "no ping lost before the move or after DC1 learned of it (5 ms of slack for timing)" \
	awk -v a="$t_move" -v b="$t_away" '$2 < a - 0.005 || $2 > b + 0.005 { bad = 1; print "lost ping " $1 " sent at " $2 > "/dev/stderr" } END { exit bad }' "$WORK/lost"
check "losses account for every missing answer" test "$(wc -l <"$WORK/lost")" -eq "$lost" -o "$lost" -eq 0

# 5. the RLOC segment as tshark reads it
sleep 0.5
tshark -n -r "$WORK/rloc.pcapng" -Y lisp-data -T fields -E occurrence=a -E aggregator=, \
	-e ip.src -e ip.dst -e lisp-data.flags.nonce -e lisp-data.flags.iid -e udp.dstport \
	>"$WORK/data.txt" 2>"$WORK/tshark.err"
tshark -n -r "$WORK/rloc.pcapng" -Y 'lisp.mreq.flags.smr == 1 || lisp.mreq.flags.smri == 1' \
	-T fields -E occurrence=f -e ip.src -e ip.dst -e lisp.mreq.flags.smr \
	-e lisp.mreq.flags.smri >"$WORK/smr.txt" 2>>"$WORK/tshark.err" || true
check "tshark: LISP data packets captured" test -s "$WORK/data.txt"
check "tshark: every LISP data packet carries the client<->VM packet inside, N and I set" \
	awk -F'\t' '{ split($1, s, ","); split($2, d, ",");
		ok = ($4 == "1" || $4 == "True") && ($3 == "1" || $3 == "True") &&
		((s[2] == "203.0.113.20" && d[2] == "198.51.100.10") || (s[2] == "198.51.100.10" && d[2] == "203.0.113.20"));
		if (!ok) { bad = 1; print "bad: " $0 > "/dev/stderr" } } END { exit bad }' "$WORK/data.txt"
check "tshark: branch -> DC1 before the move, branch -> DC2 after" \
	bash -c "grep -q '^192.0.2.20,203.0.113.20	192.0.2.10,' $WORK/data.txt && grep -q '^192.0.2.20,203.0.113.20	192.0.2.11,' $WORK/data.txt"
check "tshark: DC1 re-encapsulated late packets to DC2" \
	grep -q '^192.0.2.10,203.0.113.20[^	]*	192.0.2.11,198.51.100.10' "$WORK/data.txt"
check "tshark: SMR from DC1 to the branch" grep -Eq '^192.0.2.10	192.0.2.20	(1|True)	' "$WORK/smr.txt"
check "tshark: SMR-invoked Map-Request from the branch to the Map-Resolver" \
	grep -Eq '^192.0.2.20	192.0.2.1	[^	]*	(1|True)' "$WORK/smr.txt"
# what an operator sees now (before the clear below)
for q in "ms show lisp site" "br show ip lisp map-cache" "dc1 show lisp dynamic-eid summary" \
	"dc2 show lisp dynamic-eid summary" "dc1 show lisp away" "dc2 show ip lisp database" \
	"dc1 show lisp dataplane"; do
	set -- $q
	echo "--- ${1^^}# $(shift; echo "$@")"
	ctl "$@" || true
done
check "DC2: clear lisp dynamic-eid withdraws the VM from the Map-Server" bash -c \
	"$BIN/xtrctl -s $WORK/dc2.sock clear lisp dynamic-eid 198.51.100.10 | grep -q '1 dynamic EIDs cleared'"
check "Map-Server: 198.51.100.10/32 no longer registered" retry 3 jctl ms \
	'[.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32" and .registered)] | length==0' \
	show lisp site
finish
