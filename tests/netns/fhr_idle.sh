#!/usr/bin/env bash
# fhr-agent's footprint while idle (issue 23): it sleeps until its next deadline, not on a
# periodic tick, and stays small with 1000 EIDs.
#
#   gw (xtr-gateway, 192.0.2.1) == fhr (gw0 192.0.2.2; br0 2001:db8:100::1/64: fhr-agent) -- vm
#
# The 1000 EIDs are IPv6 (network tests use only the documentation ranges, and 1000 IPv4
# addresses do not fit in them): the VM namespace holds 2001:db8:100::2 ... ::3e9 (nodad; its
# kernel answers the liveness probes, neighbour solicitations) and announces them (unsolicited
# neighbour advertisements to ff02::1, announce nas). Only the link to the gateway is IPv4.
# A wake-up is a voluntary context switch of the agent (/proc/PID/status): each is one return
# from epoll_wait after sleeping. Over an idle window of WINDOW s the agent may wake only for
# what is due in it:
#   - its Keepalive to the gateway, every NOTIFY_KEEPALIVE = 1 s (lib/notify.h): counted as
#     the datagrams it sent (fhrctl show lisp eid-notify: arrivals), at most WINDOW + 1;
#   - the gateway's Keepalive, every 1 s (its tick): datagrams received, at most WINDOW + 1;
#   - with EIDs, the liveness walk: an EID quiet for FHR_PROBE_AFTER = 10 s is probed (then
#     every 3 s), the walk at most once a second; the window is chosen right after a round of
#     probes, so none is due in it (checked: the probe counter does not move).
# So: wake-ups <= Keepalives sent + datagrams received, each <= WINDOW + 1; with no EID, the
# same. (The old 0.1 s tick woke it 10 times a second more.) And VmRSS <= 4096 kB with the
# 1000 EIDs. The neighbour entries that would age are fixed (the FHR's of the gateway, the
# VM's of the FHR): a kernel's reachability probe (an ARP, a solicitation the agent sees) is
# no deadline of the agent's.
# usage: fhr_idle.sh BUILD_BIN_DIR [sanitized]
set -eu
BIN=$(realpath "$1")
BUILD=${2:-release} # "sanitized": an ASan build, whose shadow memory makes VmRSS meaningless
. "$(dirname "$0")/lib.sh"
N=1000
WINDOW=5

ns_add gw
ns_add fhr
ns_add vm
pair_link gw eth0 192.0.2.1/24 fhr gw0 192.0.2.2/24
ip -n "$(ns fhr)" link add br0 type bridge
ip -n "$(ns fhr)" addr add 2001:db8:100::1/64 dev br0 nodad
ip -n "$(ns fhr)" link set br0 up
ip link add p-vm netns "$(ns fhr)" type veth peer name eth0 netns "$(ns vm)"
ip -n "$(ns fhr)" link set p-vm master br0 up
# the gateway's neighbour entry is fixed: its ageing is no deadline of the agent's
ip -n "$(ns fhr)" neigh replace 192.0.2.1 dev gw0 nud permanent \
	lladdr "$(ip -n "$(ns gw)" -j link show eth0 | jq -r '.[0].address')"
# the VM's of the FHR too: answering the probes (from the FHR's address) through a STALE entry,
# its kernel would solicit the FHR 5 s later (DELAY, PROBE), a frame that wakes the agent
ip -n "$(ns vm)" neigh replace 2001:db8:100::1 dev eth0 nud permanent \
	lladdr "$(ip -n "$(ns fhr)" -j link show br0 | jq -r '.[0].address')"
awk -v n="$N" 'BEGIN { for (i = 2; i < n + 2; i++)
	printf "addr add 2001:db8:100::%x/64 dev eth0 nodad\n", i }' >"$WORK/addrs"
ip -n "$(ns vm)" -batch "$WORK/addrs"
ip -n "$(ns vm)" link set eth0 up

cat >"$WORK/gw.conf" <<CONF
router lisp
 locator-set RLOC
  ipv4-interface eth0 priority 1 weight 100
  exit
 dynamic-eid VMS
  database-mapping 2001:db8:100::/64 locator-set RLOC
  eid-notify authentication-key idle-key
  exit
 ipv4 etr
CONF
cat >"$WORK/fhr.conf" <<CONF
router lisp
 fhr-id idle
 dynamic-eid VMS
  database-mapping 2001:db8:100::/64
  eid-notify 192.0.2.1 key idle-key
  exit
interface br0
 lisp mobility VMS
CONF
daemons gw
bg fhr "$BIN/fhr-agent" -f "$WORK/fhr.conf" -s "$WORK/fhr.sock" 2>"$WORK/fhr.log"
AGENT=$!
retry 5 fhr_j fhr '.eid_notify_peers[0].up' show lisp eid-notify

stat() { "$BIN/fhrctl" -s "$WORK/fhr.sock" -j show lisp statistics | jq ".statistics.$1"; }
sent() { "$BIN/fhrctl" -s "$WORK/fhr.sock" -j show lisp eid-notify | jq '.eid_notify_peers[0].arrivals'; }
csw() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$AGENT/status"; }

# idle_window NAME: wake-ups over WINDOW s against the deadlines due in it
idle_window() {
	local s0 r0 p0 c0 c1 s1 r1 p1 wakes
	s0=$(sent) r0=$(stat received) p0=$(stat probes)
	sleep 0.3 # (the agent has seen fhrctl leave)
	c0=$(csw)
	sleep "$WINDOW"
	c1=$(csw)
	s1=$(sent) r1=$(stat received) p1=$(stat probes)
	wakes=$((c1 - c0))
	echo "$1: $wakes wake-ups in $WINDOW s; due: $((s1 - s0)) Keepalives sent," \
		"$((r1 - r0)) datagrams received, $((p1 - p0)) probes (old tick: $((WINDOW * 10)) more)"
	check "$1: no probe due in the window" test "$p1" -eq "$p0"
	check "$1: Keepalives sent <= $((WINDOW + 1))" test $((s1 - s0)) -le $((WINDOW + 1))
	check "$1: datagrams received <= $((WINDOW + 1))" test $((r1 - r0)) -le $((WINDOW + 1))
	check "$1: wake-ups ($wakes) <= the deadlines due ($((s1 - s0 + r1 - r0)))" \
		test "$wakes" -le $((s1 - s0 + r1 - r0))
}

sleep 1
idle_window "no EID"

nsx vm "$BIN/announce" eth0 nas 2001:db8:100::2 "$N" 200 >/dev/null
check "the gateway learned the $N EIDs" \
	retry 10 jctl gw "[.dynamic_eids[]] | length == $N" show lisp dynamic-eid
# the first round of liveness probes (10 s after the announcements), answered; the window
# follows it (the next round is due 10 s after the answers)
probed() { [ "$(stat probes)" -ge "$1" ]; }
check "the first round of probes" retry 15 probed $(($(stat probes) + N))
sleep 1.5
check "the $N EIDs answered their probes" \
	fhr_j fhr "[.dynamic_eids[] | select(.pending_pings == 0)] | length == $N" \
	show lisp dynamic-eid
idle_window "$N EIDs"
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$AGENT/status")
echo "VmRSS with $N EIDs: $rss kB"
if [ "$BUILD" = sanitized ]; then
	echo "VmRSS not judged: a sanitizer build (the release build's run judges it)"
else
	check "VmRSS $rss kB <= 4096 kB" test "$rss" -le 4096
fi
finish
