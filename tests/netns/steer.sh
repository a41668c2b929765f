#!/usr/bin/env bash
# vmroam-virtwatch's steering of a guest's tap in its switchover (hypervisor-hooks/steer.c),
# through the steer tool (the watcher's own code, driven from stdin):
#
#   fhr (02:00:5e:00:01:0a, 192.0.2.1, 2001:db8::1) -- p1 [hv: bridge brx] t0 -- vm (192.0.2.10)
#                                                          `- p2 -- h (192.0.2.20, another host)
#
# Asserted: while on, what the fhr and another host send the VM (IPv4 and IPv6) reaches the fhr
# instead, its destination the fhr's MAC, its source the bridge's (no switch learns a sender
# where it is not), and nothing reaches the VM; ARP still does; the VM's own frames go out as
# before; through (the guest runs again): the fhr's own frames reach it, another host's not;
# off: the VM answers again; a tap in no bridge is refused; the table goes with the
# process that made it (a watcher that ends leaves nothing steered).
# usage: steer.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

FHRMAC=02:00:5e:00:01:0a VMMAC=52:54:00:00:00:10
for r in hv fhr vm h; do ns_add "$r"; done
ip -n "$(ns hv)" link add name brx type bridge
ip -n "$(ns hv)" link set brx up
for p in p1:fhr t0:vm p2:h; do
	ip link add "${p%%:*}" netns "$(ns hv)" type veth peer name eth0 netns "$(ns "${p#*:}")"
	ip -n "$(ns hv)" link set "${p%%:*}" master brx up
done
ip -n "$(ns hv)" link add lone type veth peer name lone1 # (in no bridge)
ip -n "$(ns fhr)" link set eth0 address $FHRMAC
ip -n "$(ns vm)" link set eth0 address $VMMAC
for r in fhr:1 vm:10 h:20; do
	ip -n "$(ns "${r%%:*}")" addr add "192.0.2.${r#*:}/24" dev eth0
	ip -n "$(ns "${r%%:*}")" addr add "2001:db8::${r#*:}/64" dev eth0 nodad
	ip -n "$(ns "${r%%:*}")" link set eth0 up
done
check "fhr reaches the VM" retry 5 nsx fhr ping -c 1 -W 1 -q 192.0.2.10
check "h reaches the VM (IPv6)" retry 5 nsx h ping -6 -c 1 -W 1 -q 2001:db8::10
BRMAC=$(ip -n "$(ns hv)" -j link show brx | jq -r '.[0].address')

# the tool, on a fifo: one command a line, its answers in a file
mkfifo "$WORK/in"
exec 7<>"$WORK/in" # (read-write: neither open waits for the other end)
: >"$WORK/out"
# (not bg: an asynchronous command reads /dev/null unless its own redirection says otherwise)
nsx hv "$BIN/steer" <"$WORK/in" >"$WORK/out" 7>&- &
PIDS+=($!)
cmd() { # cmd LINE: the tool's answer to it
	local n
	n=$(wc -l <"$WORK/out")
	echo "$1" >&7
	retry 3 bash -c "[ \$(wc -l <'$WORK/out') -gt $n ]" && tail -1 "$WORK/out"
}
vmrx() { # echo requests the VM received (IPv4 and IPv6)
	nsx vm nstat -az IcmpInEchos Icmp6InEchos | awk '/InEchos/ { n += $2 } END { print n + 0 }'
}

out=$(cmd "on lone $VMMAC $FHRMAC")
check "a tap in no bridge: refused ($out)" test "$out" != ok
out=$(cmd "on t0 $VMMAC $BRMAC")
check "to the bridge's own MAC (the FHR on this bridge): refused ($out)" test "$out" != ok
check "steering t0 to the fhr: on" test "$(cmd "on t0 $VMMAC $FHRMAC")" = ok
ip netns exec "$(ns fhr)" tcpdump -U -nei eth0 -w "$WORK/fhr.pcap" \
	'icmp or (icmp6 and ip6[40] == 128)' 2>/dev/null 7>&- &
PIDS+=($!)
sleep 1
rx0=$(vmrx)
nsx fhr ping -c 5 -i 0.1 -W 1 -q 192.0.2.10 >/dev/null || true
nsx h ping -c 5 -i 0.1 -W 1 -q 192.0.2.10 >/dev/null || true
nsx h ping -6 -c 5 -i 0.1 -W 1 -q 2001:db8::10 >/dev/null || true
rx1=$(vmrx)
sleep 0.5
kill "${PIDS[-1]}"
wait "${PIDS[-1]}" 2>/dev/null || true
frames() { tcpdump -ner "$WORK/fhr.pcap" 2>/dev/null | grep -F "$1" | grep -cF "$2" || true; }

check "on: no echo request reached the VM ($((rx1 - rx0)))" test "$((rx1 - rx0))" -eq 0
n1=$(frames "$BRMAC > $FHRMAC" '192.0.2.1 > 192.0.2.10: ICMP echo request')
n2=$(frames "$BRMAC > $FHRMAC" '192.0.2.20 > 192.0.2.10: ICMP echo request')
n3=$(frames "$BRMAC > $FHRMAC" '2001:db8::20 > 2001:db8::10: ICMP6, echo request')
check "on: the fhr's own pings came back to it, from the bridge's MAC to its own ($n1 of 5)" \
	test "$n1" -eq 5
check "on: another host's pings too, IPv4 ($n2 of 5)" test "$n2" -eq 5
check "on: another host's pings too, IPv6 ($n3 of 5)" test "$n3" -eq 5
nsx vm arping -c 1 -w 1 -I eth0 192.0.2.20 >/dev/null 2>&1 || true
check "on: ARP is not steered (the fhr resolves the VM)" bash -c \
	"ip -n $(ns fhr) neigh flush dev eth0; ip netns exec $(ns fhr) arping -c 1 -w 2 -I eth0 192.0.2.10 | grep -qi '$VMMAC'"
# the guest runs here again: what the fhr sends reaches it, what others send still the fhr
check "steering t0: through (the fhr's own frames pass)" test "$(cmd "through t0 $VMMAC $FHRMAC")" = ok
rx0=$(vmrx)
check "through: the fhr reaches the VM" nsx fhr ping -c 2 -i 0.1 -W 1 -q 192.0.2.10
check "through: another host does not (its frames still to the fhr)" bash -c \
	"! ip netns exec $(ns h) ping -c 2 -i 0.1 -W 1 -q 192.0.2.10 >/dev/null"
rx1=$(vmrx)
check "through: the VM got the fhr's 2 echo requests only ($((rx1 - rx0)))" test "$((rx1 - rx0))" -eq 2
check "steering t0: off" test "$(cmd "off t0")" = ok
check "off: the VM answers again" nsx fhr ping -c 2 -i 0.1 -W 1 -q 192.0.2.10
check "off, twice: still fine" test "$(cmd "off t0")" = ok
check "on again" test "$(cmd "on t0 $VMMAC $FHRMAC")" = ok
check "on: the VM unreachable" bash -c "! ip netns exec $(ns fhr) ping -c 2 -i 0.1 -W 1 -q 192.0.2.10 >/dev/null"
exec 7>&- # (EOF: the tool ends, its table with it)
check "the tool ended: its table went with it" retry 3 bash -c \
	"! ip netns exec $(ns hv) nft list tables | grep -q vmroam_steer"
check "after it: the VM answers" nsx fhr ping -c 2 -i 0.1 -W 1 -q 192.0.2.10
finish
