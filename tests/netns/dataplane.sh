#!/usr/bin/env bash
# The data plane's offloads end to end: two xTRs joined by one veth, a host behind each
# (lib.sh's xtr_pair, the topology of bench/bench_tunnel.sh).
#
#   ha (198.51.100.10) -- xa ==== 192.0.2.1 / .2 ==== xb -- hb (198.51.100.130)
#                          `-- ms (Map-Server)
#
# Asserted: the sender of a packet delivered to an EID here is resolved at its first packet;
# 32 MiB over TCP arrive intact (SHA-256) through TSO segments cut at xa, UDP GSO
# sends, UDP GRO at xb and TUN writes gathered into TSO segments (each counter moved); the
# pipeline's counters match the I/O counters exactly after TCP and UDP load; the stateless MTU
# rules (RFC 9300 §7, spec §1.5): a DF packet larger than S = 1500 - 36 is answered with
# "fragmentation needed, MTU 1464", a DF=0 one is fragmented and arrives, one of exactly S passes.
# Both xTRs run four data-plane workers (more than this machine's CPUs, on purpose): flows
# spread over them on both sides (TUN queues, SO_REUSEPORT), and the totals are the sums.
# usage: dataplane.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

xtr_pair
for n in xa xb; do echo " dataplane workers 4" >>"$WORK/$n.conf"; done
echo " metrics listen 127.0.0.1 port 9470" >>"$WORK/xa.conf" # Prometheus, checked in 5.
daemons ms xa xb
pingq() { nsx ha ping -q "$@" >/dev/null; }

io() { # io ROLE NAME: an I/O counter of the data plane
	ctl "$1" -j show lisp dataplane | jq --arg k "$2" '[.dataplane.io[] | select(.name==$k) | .packets][0]'
}
pipe() { # pipe ROLE NAME: a pipeline counter (packets)
	ctl "$1" -j show lisp dataplane | jq --arg k "$2" '[.dataplane.pipeline[] | select(.name==$k) | .packets][0]'
}
# the first packet xb delivers to hb comes from ha, which xb has no mapping for: asked for then,
# not when hb's answer finds none (a VM that moved in answers all that was held for it at once).
# hb answers nothing yet (else its answer, read by another worker, may ask first)
nsx hb sysctl -qw net.ipv4.icmp_echo_ignore_all=1
ahead() { # (until the sites are registered, ha's pings go nowhere)
	nsx ha ping -q -c 1 -W 1 198.51.100.130 >/dev/null
	[ "$(io xb "sources of packets for our EIDs resolved ahead of the answer")" -ge 1 ]
}
check "xb: ha's mapping asked for at ha's first packet, ahead of any answer" retry 15 ahead
nsx hb sysctl -qw net.ipv4.icmp_echo_ignore_all=0
check "ha reaches hb through the LISP data plane" retry 10 pingq -c 1 -W 1 198.51.100.130
snap() { # snap: the counters the consistency checks compare, as shell variables
	a_in=$(io xa "EID side received") a_enc=$(pipe xa encapsulated)
	b_in=$(io xb "RLOC side received") b_dec=$(pipe xb decapsulated) b_out=$(io xb "EID side sent")
}

# 1. 32 MiB over TCP, checked end to end
cat >"$WORK/srv.py" <<'PY'
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.130", 5001)); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(30); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest())
PY
cat >"$WORK/cli.py" <<'PY'
import hashlib, socket
blk = bytes((i * 7 + i // 251) & 0xff for i in range(1 << 20)); h = hashlib.sha256()
c = socket.create_connection(("198.51.100.130", 5001), timeout=30)
for i in range(32):
    b = blk[i:] + blk[:i]; c.sendall(b); h.update(b)
c.close(); print(32 << 20, h.hexdigest())
PY
snap
nsx hb timeout 60 python3 "$WORK/srv.py" >"$WORK/srv.out" &
PIDS+=($!)
srv=$!
sleep 0.5
nsx ha timeout 60 python3 "$WORK/cli.py" >"$WORK/cli.out"
wait "$srv" || true
check "32 MiB arrived intact (sent: $(cat "$WORK/cli.out"), received: $(cat "$WORK/srv.out"))" \
	cmp -s "$WORK/cli.out" "$WORK/srv.out"
check "xa: TSO segments read from the TUN and cut" test "$(io xa "EID side TSO segments read, cut by the data plane")" -gt 0
check "xa: runs of the flow sent by UDP GSO" test "$(io xa "RLOC side UDP GSO sends (a run of one flow each)")" -gt 0
check "xb: datagrams coalesced by UDP GRO" test "$(io xb "RLOC side datagrams coalesced by the kernel (UDP GRO)")" -gt 0
check "xb: TUN writes gathered into TSO segments" test "$(io xb "EID side writes gathered into one TSO segment")" -gt 0
check "xb: fewer TUN writes than packets" test "$(io xb "EID side writes (TUN)")" -lt "$(io xb "EID side sent")"
p_in=$a_in p_enc=$a_enc p_bin=$b_in p_dec=$b_dec p_out=$b_out
snap
check "xa: every packet read was encapsulated, counted once ($((a_in - p_in)) = $((a_enc - p_enc)))" \
	test $((a_in - p_in)) -eq $((a_enc - p_enc))
check "xb: every datagram received was decapsulated and written ($((b_in - p_bin)) = $((b_dec - p_dec)) = $((b_out - p_out)))" \
	bash -c "[ $((b_in - p_bin)) -eq $((b_dec - p_dec)) ] && [ $((b_dec - p_dec)) -eq $((b_out - p_out)) ]"

# 2. 20000 small UDP datagrams: the counters stay exact
p_in=$a_in p_enc=$a_enc p_bin=$b_in p_dec=$b_dec p_out=$b_out
nsx ha python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000):
    s.sendto(b"x" * 64, ("198.51.100.130", 9))
'
sleep 0.5
snap
check "UDP load: xa read = encapsulated ($((a_in - p_in)) = $((a_enc - p_enc)), 20000 sent)" \
	bash -c "[ $((a_in - p_in)) -eq $((a_enc - p_enc)) ] && [ $((a_in - p_in)) -ge 20000 ]"
check "UDP load: xb received = decapsulated = written ($((b_in - p_bin)) = $((b_dec - p_dec)) = $((b_out - p_out)))" \
	bash -c "[ $((b_in - p_bin)) -eq $((b_dec - p_dec)) ] && [ $((b_dec - p_dec)) -eq $((b_out - p_out)) ]"

# 2b. 64 flows (source ports): spread over the workers, both ways of the tunnel
wk() { # wk ROLE FIELD: how many workers moved FIELD, then the sum of FIELD over them
	ctl "$1" -j show lisp dataplane | jq -r --arg f "$2" '[.dataplane.workers[][$f]] | "\([.[] | select(. > 0)] | length) \(add)"'
}
check "xa and xb: four workers each" \
	test "$(ctl xa -j show lisp dataplane | jq '.dataplane.workers | length')$(ctl xb -j show lisp dataplane | jq '.dataplane.workers | length')" = 44
check "xa: four queues on the TUN (multi-queue)" \
	test "$(nsx xa ls /sys/class/net/lisp0/queues | grep -c '^tx-')" -eq 4
p_in=$(io xa "EID side received") p_bout=$(io xb "EID side sent")
nsx ha python3 -c '
import socket
ss = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(64)]
for i in range(6400):
    ss[i % 64].sendto(b"y" * 64, ("198.51.100.130", 9))
'
sleep 0.5
read -r a_wk a_sum <<<"$(wk xa eid_received)"
read -r b_wk b_sum <<<"$(wk xb rloc_received)"
check "xa: 64 flows read by more than one worker ($a_wk of 4)" test "$a_wk" -ge 2
check "xb: 64 flows received by more than one worker ($b_wk of 4)" test "$b_wk" -ge 2
check "xa: the workers' sum is the total ($a_sum = $(io xa "EID side received"))" \
	test "$a_sum" -eq "$(io xa "EID side received")"
check "xb: the workers' sum is the total ($b_sum = $(io xb "RLOC side received"))" \
	test "$b_sum" -eq "$(io xb "RLOC side received")"
check "the 6400 datagrams went through ($(($(io xa "EID side received") - p_in)) read at xa, $(($(io xb "EID side sent") - p_bout)) written at xb)" \
	bash -c "[ $(($(io xa "EID side received") - p_in)) -ge 6400 ] && [ $(($(io xb "EID side sent") - p_bout)) -ge 6400 ]"

# 3. MTU (stateless): S = 1500 - 36 = 1464 on the TUN
check "xa: the TUN's MTU is S = 1500 - 36" test "$(ctl xa -j show lisp dataplane | jq '.dataplane.interfaces[0].mtu')" -eq 1464
out=$(nsx ha ping -c 1 -W 2 -M do -s 1472 198.51.100.130 2>&1 || true)
# (answered by xa's ICMP "fragmentation needed", or refused at ha once it learned that path MTU)
check "DF and larger than S: fragmentation needed, mtu 1464 ($(grep -Eo 'mtu ?= ?[0-9]+' <<<"$out" | head -1))" \
	grep -Eq 'mtu ?= ?1464' <<<"$out"
check "DF and exactly S (1436 + 28): passes" pingq -c 1 -W 2 -M do -s 1436 198.51.100.130
check "DF=0 and 3000 bytes: fragmented before the TUN, reassembled at hb" \
	pingq -c 1 -W 2 -M dont -s 3000 198.51.100.130
check "no LISP packet larger than 1500 left xa" test "$(pipe xa "too big for the MTU")" -eq 0

# 4. a datagram to port 4341 larger than any packet buffer: counted and dropped, nothing else
nsx ms python3 -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"\x88" + b"\0" * 9999, ("192.0.2.5", 4341))'
check "xa: a 10000-byte datagram on 4341 counted as oversize and dropped" retry 2 \
	test "$(io xa "RLOC side datagrams larger than 9216 bytes, dropped")" -eq 1
check "xa: still forwarding" pingq -c 1 -W 2 198.51.100.130

# 5. the Prometheus listener: the same counters as the control socket, errors for the rest
http() { nsx xa curl -s -o "$WORK/http.out" -w '%{http_code}' "$@"; }
prom() { awk -v k="$1 " 'index($0, k) == 1 { print $NF }' "$WORK/metrics"; } # (label values have spaces)
check "metrics: GET /metrics answers 200" test "$(http http://127.0.0.1:9470/metrics)" = 200
cp "$WORK/http.out" "$WORK/metrics"
check "metrics: encapsulated packets as show lisp dataplane says ($(prom 'vmroam_xtr_dataplane_packets_total{verdict="encapsulated"}'))" \
	test "$(prom 'vmroam_xtr_dataplane_packets_total{verdict="encapsulated"}')" = "$(pipe xa encapsulated)"
check "metrics: the oversize datagram counted" \
	test "$(prom 'vmroam_xtr_dataplane_io_total{counter="RLOC side datagrams larger than 9216 bytes, dropped"}')" = 1
check "metrics: map-cache entries as show lisp statistics says" \
	test "$(prom vmroam_xtr_map_cache_entries)" = "$(ctl xa -j show lisp statistics | jq '.statistics.map_cache_entries // 0')"
check "metrics: four workers' packets" test "$(grep -c '^vmroam_xtr_dataplane_worker_packets_total{worker=".*",side="eid",direction="in"}' "$WORK/metrics")" -eq 4
check "metrics: every sample line parses (name{labels} integer)" \
	bash -c "! grep -v '^#' '$WORK/metrics' | grep -Evq '^vmroam_xtr_[a-z_]+(\{[^}]*\})? [0-9]+\$'"
check "metrics: another path is 404" test "$(http http://127.0.0.1:9470/other)" = 404
check "metrics: POST is 405" test "$(http -X POST http://127.0.0.1:9470/metrics)" = 405
check "metrics: a malformed request is 400" \
	bash -c "printf 'GET\r\n\r\n' | ip netns exec $(ns xa) timeout 3 python3 -c 'import socket,sys; s=socket.create_connection((\"127.0.0.1\",9470)); s.sendall(sys.stdin.buffer.read()); print(s.recv(100).decode().split()[1])' | grep -qx 400"
check "metrics: still answering" test "$(http http://127.0.0.1:9470/metrics)" = 200
finish
