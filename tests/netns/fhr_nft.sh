#!/usr/bin/env bash
# fhr-agent's data-packet detection rules in nftables (detect_nft.c): one table of its own,
# inet vmroam_fhr_q<queue>, replacing one left behind; known EIDs are elements of a set (added
# in-process, no child process), whose packets return before the queue; the table is gone when
# the agent stops (also when it is killed: the table is owned by its socket).
#
#   fhr (br0 198.51.100.1/25, 2001:db8:d::1/64; nfqueue 3) -- vm (198.51.100.20, 2001:db8:d::20)
#
# usage: fhr_nft.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

N=50 # known EIDs from the neighbour table
T="inet vmroam_fhr_q3"
ns_add fhr
ns_add vm
ip -n "$(ns fhr)" link add br0 type bridge
ip -n "$(ns fhr)" addr add 198.51.100.1/25 dev br0
ip -n "$(ns fhr)" addr add 2001:db8:d::1/64 dev br0 nodad
ip -n "$(ns fhr)" link set br0 up
nsx fhr sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
ip link add p-vm netns "$(ns fhr)" type veth peer name eth0 netns "$(ns vm)"
ip -n "$(ns fhr)" link set p-vm master br0 up
ip -n "$(ns vm)" addr add 198.51.100.20/25 dev eth0
ip -n "$(ns vm)" addr add 2001:db8:d::20/64 dev eth0 nodad
ip -n "$(ns vm)" link set eth0 up
# the VM never announces itself: it knows its gateway's MAC (no ARP, no ND)
gwmac=$(ip -n "$(ns fhr)" -br link show br0 | awk '{ print $3 }')
ip -n "$(ns vm)" route add default via 198.51.100.1
ip -n "$(ns vm)" -6 route add default via 2001:db8:d::1
ip -n "$(ns vm)" neigh add 198.51.100.1 lladdr "$gwmac" dev eth0
ip -n "$(ns vm)" neigh add 2001:db8:d::1 lladdr "$gwmac" dev eth0

cat >"$WORK/fhr.conf" <<CONF
router lisp
 fhr-id fhr-nft
 nfqueue 3
 eid-table vrf TENANT-A instance-id 4100
  dynamic-eid VMS
   database-mapping 198.51.100.0/25
   database-mapping 2001:db8:d::/64
   eid-notify 198.51.100.126 key tenant-a-key
   exit
  exit
interface br0
 lisp mobility VMS
 lisp extended-subnet-mode
CONF

fhrd() {
	rm -f "$WORK/fhr.sock"
	bg fhr "$BIN/fhr-agent" -f "$WORK/fhr.conf" -s "$WORK/fhr.sock" 2>>"$WORK/fhr.log"
	FPID=$!
	retry 5 test -S "$WORK/fhr.sock"
}
# eid EID JQ: the agent has dynamic EID EID and JQ holds on it
eid() {
	"$BIN/fhrctl" -s "$WORK/fhr.sock" -j show lisp dynamic-eid |
		jq -e ".dynamic_eids[] | select(.eid==\"$1\") | $2" >/dev/null
}
nftx() {
	nsx fhr nft "$@" 2>/dev/null # (nft's listing of the xtables NFQUEUE target warns on stderr)
}
has_table() { nftx list table $T >/dev/null; }
# set_is SET N: the set holds N elements
set_is() {
	[ "$(nftx -j list set $T "$1" | jq '[.nftables[] | select(.set) | .set.elem // [] | length][0]')" = "$2" ]
}
in_set() { nftx list set $T "$1" | grep -qw -- "$2"; }
# packets MATCH: the packet counter of the rule whose listing has MATCH
packets() {
	nftx list chain $T prerouting | grep -F -- "$1" | grep -o 'packets [0-9]*' | awk '{ print $2 }'
}
# the chain's rules without their counters
rules() {
	nftx list chain $T prerouting | grep -E 'return|queue|drop' |
		sed -E 's/counter packets [0-9]+ bytes [0-9]+ //; s/^[[:space:]]+//'
}
udp4() { nsx vm bash -c 'echo x >/dev/udp/203.0.113.9/9' || true; }
udp6() { nsx vm bash -c 'echo x >/dev/udp/2001:db8:ff::9/9' || true; }
no_children() {
	local i
	for i in $(seq 1 20); do
		[ -z "$(pgrep -P "$FPID")" ] || return 1
		[ -z "$(cat /proc/"$FPID"/task/*/children 2>/dev/null | tr -d ' ')" ] || return 1
		sleep 0.05
	done
}
expected_rules() {
	printf '%s\n' 'iifname "br0" ip daddr @leaving4 queue num 3 bypass' \
		'iifname "br0" ip6 daddr @leaving6 queue num 3 bypass' \
		'ip saddr @known4 return' 'ip6 saddr @known6 return' \
		'iifname "br0" ip saddr 198.51.100.0/25 queue num 3 bypass' \
		'iifname "br0" ip6 saddr 2001:db8:d::/64 queue num 3 bypass'
}
rules_ok() { diff <(rules) <(expected_rules); }
bounded() { nftx -j list set $T known6 | jq -e '.nftables[] | select(.set) | .set.size > 0' >/dev/null; }
owned() { nftx list table $T | grep -q 'flags owner'; }
six_rules() { [ "$(nftx -a list chain $T prerouting | grep -cE '(return|bypass) # handle')" = 6 ]; }
quiet_log() { ! grep -E 'nfqueue: cannot|nftables' "$WORK/fhr.log"; }

# 1. a table left behind (another run's, dropping the VMs' packets): replaced at start
nsx fhr nft -f - <<NFT
table $T {
	set known4 { type ipv4_addr; elements = { 198.51.100.99 } }
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		ip saddr 198.51.100.0/25 counter drop
	}
}
NFT
fhrd
check "nft: the agent's table replaced the leftover one (owned, empty sets)" \
	eval 'owned && set_is known4 0'
check "nft: its rules: a leaving EID's packets from br0 queued (held), the known EIDs return, then the queue (bypass) per prefix on br0" rules_ok
check "nft: the sets are bounded" bounded

# 2. N known EIDs (the neighbour table's, at once): N set elements, no process started
for i in $(seq 1 $N); do
	printf 'neigh replace 198.51.100.%d lladdr 02:00:00:00:00:%02x dev br0 nud reachable\n' \
		$((30 + i)) "$i"
done | ip -n "$(ns fhr)" -batch -
check "fhr-agent: no child process while $N EIDs arrive" no_children
check "nft: $N known EIDs are $N elements of known4" retry 5 set_is known4 $N
check "fhr-agent: the $N EIDs from the neighbour table" eid 198.51.100.80/32 '.source=="neighbor"'
check "nft: still six rules (a known EID is no rule)" six_rules

# 3. the VM's first data packet is queued and it is learned; its next ones return before it
udp4
check "fhr-agent: 198.51.100.20 learned from its first data packet" retry 3 \
	eid 198.51.100.20/32 '.source=="data"'
check "nft: ... and in known4" retry 2 in_set known4 198.51.100.20
q0=$(packets "ip saddr 198.51.100.0/25")
r0=$(packets "@known4")
for i in 1 2 3 4 5; do udp4; done
q1=$(packets "ip saddr 198.51.100.0/25")
r1=$(packets "@known4")
check "nft: its packets no longer reach the queue (queued $q0 -> $q1, returned $r0 -> $r1)" \
	test "$q1" -eq "$q0" -a "$r1" -ge $((r0 + 5))
udp6
check "fhr-agent: 2001:db8:d::20 learned from its first data packet" retry 3 \
	eid 2001:db8:d::20/128 '.source=="data"'
check "nft: ... and in known6" retry 2 in_set known6 2001:db8:d::20

# 4. an EID cleared is deleted from its set: its next packet is a detection again
"$BIN/fhrctl" -s "$WORK/fhr.sock" clear lisp dynamic-eid 198.51.100.20 instance-id 4100 >/dev/null
check "nft: a cleared EID leaves known4" retry 3 set_is known4 $N
udp4
check "fhr-agent: ... and its next packet detects it again" retry 3 eid 198.51.100.20/32 true

# 5. the agent stops: its table goes; killed, the same (the kernel drops what its socket owned)
kill "$FPID"
check "nft: no table once the agent stopped" retry 3 eval '! has_table'
fhrd
check "nft: the agent started again" retry 3 has_table
kill -9 "$FPID"
check "nft: no table once the agent was killed" retry 3 eval '! has_table'
check "fhr-agent: no nftables error in its log" quiet_log
finish
