#!/usr/bin/env bash
# The eid-notify channel against an attacker who captures what the FHR and its gateways say and
# replays it: to the other data centre's gateway, to the same gateway from elsewhere, to the FHR
# with a gateway's address, and to the gateway after it restarted. Nothing changes; refusals count.
#
#   ms (MS/MR 192.0.2.1, the RLOC bridge) == gw1 (.10) gw2 (.11): DC1's two gateways
#                                         == gw3 (.12): DC2's gateway, same tenant key
#                                         == atk (.66): the attacker
#   gw1 -- fw (tenant firewall) -- fhr (br0 198.51.100.1/25) -- vm (198.51.100.10)
#
# The FHR reports to gw1 and gw2; tcpdump in gw1's and the FHR's namespaces plays the capture.
# usage: notify_attack.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"
REPLAY="python3 $(dirname "$(realpath "$0")")/../tools/replay.py"

star gw1=10 gw2=11 gw3=12 atk=66
host gw1 s0 198.51.100.193/30 fw 198.51.100.194/30
host fw t0 198.51.100.197/30 fhr 198.51.100.198/30
fhr_lan fhr 198.51.100.1/25 vm 198.51.100.10
ip -n "$(ns gw1)" route add 198.51.100.0/25 via 198.51.100.194
ip -n "$(ns gw1)" route add 198.51.100.196/30 via 198.51.100.194
for r in gw2 gw3 atk; do ip -n "$(ns "$r")" route add 198.51.100.0/24 via 192.0.2.10; done
ip -n "$(ns fw)" route replace default via 198.51.100.193
ip -n "$(ns fw)" route add 198.51.100.0/25 via 198.51.100.198
ip -n "$(ns fhr)" route replace default via 198.51.100.197
for r in gw1 fw fhr; do nsx "$r" sysctl -qw net.ipv4.ip_forward=1; done
# no reverse-path filter: the attacker's spoofed sources must reach the daemons to be refused there
for r in gw1 gw2 gw3 fw fhr; do
	nsx "$r" sh -c 'for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 0 >"$f"; done'
done

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix instance-id 4100 198.51.100.0/24 accept-more-specifics
 ipv4 map-server
 ipv4 map-resolver
CONF
for g in gw1 gw2 gw3; do
	# DC1's gateways register the site's two RLOCs (one locator set: no move between them)
	if [ $g = gw3 ]; then locs="  192.0.2.12 priority 1 weight 100"
	else locs=$(printf '  192.0.2.10 priority 1 weight 50\n  192.0.2.11 priority 1 weight 50'); fi
	cat >"$WORK/$g.conf" <<CONF
router lisp
 locator-set RLOC
$locs
  exit
 eid-table vrf TENANT-A instance-id 4100
  dynamic-eid VMS
   database-mapping 198.51.100.0/25 locator-set RLOC
   eid-notify authentication-key tenant-a-key
   exit
  exit
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
CONF
done
cat >"$WORK/fhr.conf" <<CONF
router lisp
 fhr-id fhr-dc1
 eid-table vrf TENANT-A instance-id 4100
  dynamic-eid VMS
   database-mapping 198.51.100.0/25
   eid-notify 198.51.100.193 key tenant-a-key
   eid-notify 192.0.2.11 key tenant-a-key
   exit
  exit
interface br0
 lisp mobility VMS
 lisp extended-subnet-mode
CONF

# the attacker's taps: what the FHR sends gw1, what gw1 and gw2 send the FHR
bg gw1 tcpdump -i s0 -U -w "$WORK/to-gw1.pcap" udp dst port 4349 and dst host 198.51.100.193 \
	2>/dev/null
bg fhr tcpdump -i eth0 -U -w "$WORK/to-fhr.pcap" udp src port 4349 2>/dev/null
sleep 1
daemons ms gw1 gw2 gw3
bg fhr "$BIN/fhr-agent" -f "$WORK/fhr.conf" -s "$WORK/fhr.sock" 2>>"$WORK/fhr.log"
retry 5 test -S "$WORK/fhr.sock"
fhr_j() {
	local q=$1
	shift
	"$BIN/fhrctl" -s "$WORK/fhr.sock" -j "$@" | jq -e "$q" >/dev/null
}
peer() { # peer GW JQ: jq on fhr-dc1's row at GW
	jctl "$1" ".eid_notify_peers[] | select(.id==\"fhr-dc1\") | $2" show lisp eid-notify
}
stat() { # stat GW FIELD: a counter of show lisp statistics
	ctl "$1" -j show lisp statistics | jq -r ".statistics.$2 // .$2"
}
no_dc2() { ! ctl ms -j show lisp site | grep -q '"192\.0\.2\.12"'; }
registered_by() { # the RLOC the Map-Server has 198.51.100.10 from
	ctl ms -j show lisp site | jq -r \
		'.sites[].prefixes[] | select(.eid_prefix=="198.51.100.10/32") | .last_registered_by'
}

nsx vm arping -q -U -c 1 -w 1 -I eth0 198.51.100.10 || true
check "the VM is registered by both DC1 gateways (from the FHR)" retry 5 bash -c \
	"$(declare -f jctl ctl); BIN=$BIN WORK=$WORK; for g in gw1 gw2; do jctl \$g '.dynamic_eids[] | select(.eid==\"198.51.100.10/32\") | .source==\"fhr\" and .registered' show lisp dynamic-eid || exit 1; done"
check "the FHR: both gateways up, the EID acknowledged by both" retry 5 fhr_j \
	'[.eid_notify_peers[] | select(.up and .eids==1)] | length==2' show lisp eid-notify
sleep 2.5 # a few keepalives both ways into the captures
ms_by=$(registered_by)
for p in to-gw1 to-fhr; do kill "$(pgrep -f "tcpdump.*$p.pcap")" 2>/dev/null || true; done
sleep 0.5
echo "captured: $(tcpdump -r "$WORK/to-gw1.pcap" 2>/dev/null | wc -l) datagrams to gw1, $(tcpdump -r "$WORK/to-fhr.pcap" 2>/dev/null | wc -l) to the FHR"

# 1. the FHR's datagrams to gw1, replayed to DC2's gateway (same tenant key): from the attacker's
#    address, and with the FHR's own address
sent=$(nsx atk $REPLAY "$WORK/to-gw1.pcap" --dport 4349 --to 192.0.2.12)
sent2=$(nsx atk $REPLAY "$WORK/to-gw1.pcap" --dport 4349 --to 192.0.2.12 --from 198.51.100.198)
echo "replayed to gw3: $sent + $sent2 datagrams"
sleep 1
check "gw3: no dynamic EID learned from the replay" jctl gw3 '.dynamic_eids | length==0' \
	show lisp dynamic-eid
check "gw3: no first-hop router taken from it" jctl gw3 '.eid_notify_peers | length==0' \
	show lisp eid-notify
check "gw3: the replays refused and counted (misdirected: sent to another gateway)" \
	test "$(stat gw3 notify_misdirected)" -ge $((sent + sent2 - 2))
check "Map-Server: the VM still registered by DC1 (not moved to DC2)" \
	test "$(registered_by)" != 192.0.2.12
check "gw3 registered nothing: the Map-Server has no DC2 locator" no_dc2

# 2. replayed to gw1 itself (the address the FHR sends to) from the attacker: refused as
#    replays, and gw1's Acks and MovedAways still go to the FHR's address, not the attacker's
before=$(ctl gw1 -j show lisp eid-notify | jq '.eid_notify_peers[] | select(.id=="fhr-dc1") | .replays')
sent=$(nsx atk $REPLAY "$WORK/to-gw1.pcap" --dport 4349 --to 198.51.100.193)
sleep 0.5
check "gw1: the replays counted ($sent sent)" peer gw1 ".replays >= $before + $sent - 2"
check "gw1: the FHR's address unchanged (198.51.100.198)" peer gw1 '.address=="198.51.100.198"'
check "gw1: the VM still registered, still one" jctl gw1 \
	'[.dynamic_eids[] | select(.registered)] | length==1' show lisp dynamic-eid

# 3. gw2's datagrams to the FHR, sent with gw1's address (the key is the same) by an attacker
#    on the tenant's side of gw1 (in the firewall's namespace: gw1 itself drops a packet with
#    its own address as the source): refused; gw1's session at the FHR is not raised (every
#    real keepalive after would be refused)
tcpdump -r "$WORK/to-fhr.pcap" -w "$WORK/gw2.pcap" src 192.0.2.11 2>/dev/null
tcpdump -r "$WORK/to-fhr.pcap" -w "$WORK/gw1.pcap" src 198.51.100.193 2>/dev/null
# (the FHR's channel port is ephemeral: take it from the capture)
fport=$(tcpdump -nr "$WORK/to-fhr.pcap" 2>/dev/null | awk '/198.51.100.198\./ { sub(/.*198\.51\.100\.198\./, ""); sub(/:.*/, ""); print; exit }')
sent=$(nsx fw $REPLAY "$WORK/gw2.pcap" --sport 4349 --dport "$fport" --to 198.51.100.198 \
	--from 198.51.100.193)
sleep 0.3
check "FHR: gw2's datagrams with gw1's address refused ($sent sent)" fhr_j \
	".eid_notify_peers[] | select(.address==\"198.51.100.193\") | .refused >= $sent - 1" \
	show lisp eid-notify
sleep 3
check "FHR: gw1 still up, its keepalives not taken for replays" fhr_j \
	'.eid_notify_peers[] | select(.address=="198.51.100.193") | .up and .replays==0' \
	show lisp eid-notify

# 4. gw1's own datagrams replayed to the FHR: replays, nothing changes
sent=$(nsx fw $REPLAY "$WORK/gw1.pcap" --sport 4349 --dport "$fport" --to 198.51.100.198 \
	--from 198.51.100.193)
sleep 0.3
check "FHR: gw1's replayed datagrams counted as replays ($sent sent)" fhr_j \
	".eid_notify_peers[] | select(.address==\"198.51.100.193\") | .replays >= $sent - 1" \
	show lisp eid-notify
check "FHR: the EID still acknowledged by both" fhr_j \
	'[.eid_notify_peers[] | select(.up and .eids==1)] | length==2' show lisp eid-notify

# 5. gw1 restarts: the FHR brings the VM back; the old capture replayed then changes nothing
pkill -f "xtr-gateway -f $WORK/gw1.conf"
sleep 0.5
rm -f "$WORK/gw1.sock"
daemons gw1
check "gw1 restarted: the VM back from the FHR" retry 6 jctl gw1 \
	'.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .registered' show lisp dynamic-eid
resyncs=$(ctl gw1 -j show lisp eid-notify | jq '[.eid_notify_peers[].resyncs] | add')
sent=$(nsx atk $REPLAY "$WORK/to-gw1.pcap" --dport 4349 --to 198.51.100.193 --from 198.51.100.198)
sleep 0.5
check "gw1 after its restart: the old capture refused ($sent: stale session)" \
	test "$(stat gw1 notify_stale_session)" -ge $((sent - 1))
check "gw1 after its restart: one FHR, one VM, no resync from the replay" jctl gw1 \
	"(.eid_notify_peers | length==1) and ([.eid_notify_peers[].resyncs] | add)==$resyncs" \
	show lisp eid-notify
check "both ends agree (digests)" retry 4 peer gw1 '.in_sync'

# 6. the FHR restarts: what gw1 said to its earlier life, replayed to it now, changes nothing
pkill -f "fhr-agent -f $WORK/fhr.conf"
sleep 0.5
bg fhr "$BIN/fhr-agent" -f "$WORK/fhr.conf" -s "$WORK/fhr.sock" 2>>"$WORK/fhr.log"
retry 5 test -S "$WORK/fhr.sock"
check "FHR restarted: both gateways up again" retry 5 fhr_j \
	'[.eid_notify_peers[] | select(.up)] | length==2' show lisp eid-notify
fport=$(nsx fhr ss -Hunp 2>/dev/null | awk '/fhr-agent/ && $4 ~ /^0\.0\.0\.0:/ { sub(/.*:/, "", $4); print $4; exit }')
sent=$(nsx fw $REPLAY "$WORK/gw1.pcap" --sport 4349 --dport "${fport:-9}" --to 198.51.100.198 \
	--from 198.51.100.193)
sleep 0.3
check "FHR after its restart: gw1's old datagrams ($sent) refused (for its earlier life)" fhr_j \
	".eid_notify_peers[] | select(.address==\"198.51.100.193\") | .refused >= $sent - 1" \
	show lisp eid-notify

# 7. anti-entropy: gw2 loses the VM behind the FHR's back (an operator's clear); the digests
#    differ, the FHR sends its table again, and the VM is back within seconds
nsx vm arping -q -U -c 1 -w 1 -I eth0 198.51.100.10 || true
check "the VM known again at gw2" retry 5 jctl gw2 \
	'.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .registered' show lisp dynamic-eid
ctl gw2 clear lisp dynamic-eid >/dev/null
t0=$EPOCHREALTIME
check "gw2: the cleared VM is back from the FHR (anti-entropy) within 5 s" retry 5 jctl gw2 \
	'.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .source=="fhr"' show lisp dynamic-eid
echo "anti-entropy: back at gw2 in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
check "FHR: one resync after a digest mismatch with gw2" fhr_j \
	'.eid_notify_peers[] | select(.address=="192.0.2.11") | .digest_resyncs==1' \
	show lisp eid-notify

# 8. the gateway's control socket: 16 connections at most, the next are closed at once
many=$(timeout 10 python3 - "$WORK/gw3.sock" <<'PY'
import select, socket, sys, time
socks = []
for _ in range(20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    socks.append(s)
time.sleep(1.0)
def closed(s):
    if not select.select([s], [], [], 0.01)[0]:
        return False
    try:
        return not s.recv(1)
    except OSError:
        return True
print(sum(closed(s) for s in socks))
PY
)
check "gw3: of 20 idle control connections, the 4 past 16 are closed at once ($many)" \
	test "$many" = 4
check "gw3: xtrctl answers once they are gone" retry 3 jctl gw3 '.statistics' show lisp statistics
check "gw3: the refused connections are logged" grep -q "connections open already" "$WORK/gw3.log"

echo "--- gw3# show lisp statistics (eid-notify)"
ctl gw3 show lisp statistics | sed -n '/eid-notify/,$p' || true
echo "--- FHR# show lisp eid-notify"
"$BIN/fhrctl" -s "$WORK/fhr.sock" show lisp eid-notify || true
finish
