#!/usr/bin/env bash
# The Map-Server across a restart, and a slow /metrics reader. Its state file (-S) is written
# while it runs (by a writer thread, every 10 s when something changed) and at exit; a restart,
# even after SIGKILL, takes back the registrations and the last Map-Register nonce of each xTR,
# so a Map-Register captured before the restart is refused after it (strict-nonce, the default),
# while a site configured `no strict-nonce` takes repeated nonces. A /metrics answer larger than
# what the socket buffers hold reaches a client that reads late, whole (Content-Length).
# usage: ms_restart.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

star dc1=10 dc2=30 itr=20

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DATA_CENTER
  authentication-key dc-key
  eid-prefix instance-id 4100 10.1.1.0/24 accept-more-specifics
 site THIRD_PARTY
  authentication-key tp-key
  eid-prefix 10.5.0.0/16 accept-more-specifics
  no strict-nonce
 ipv4 map-server
 ipv4 map-resolver
 metrics listen 192.0.2.1 port 9470
CONF
SOCK=$WORK/xtr.sock
XTRCTL="$BIN/xtrctl -s $SOCK"
LISPC=$BIN/lispc
STATE=$WORK/ms.state
# small TCP send buffers on the Map-Server's side: its /metrics answer does not fit at once
nsx ms sysctl -qw net.ipv4.tcp_wmem="4096 4096 4096"

start_ms() {
	rm -f "$SOCK"
	bg ms "$BIN/xtr-gateway" -f "$WORK/ms.conf" -s "$SOCK" -S "$STATE" 2>>"$WORK/xtr.log"
	XPID=${PIDS[-1]}
	retry 5 test -S "$SOCK"
}
jqs() { $XTRCTL -j show lisp site >"$WORK/site.json" 2>/dev/null && jq -e "$1" "$WORK/site.json" >/dev/null; }
site() { echo ".sites[] | select(.name==\"$1\")"; }
# the same Map-Register (same nonce, same key: the same bytes) as an attacker would replay it
dc1_reg() { nsx dc1 $LISPC register -m 192.0.2.1 -k dc-key -e 10.1.1.10/32 -i 4100 -r 192.0.2.10 -M -w 1 "$@" || true; }
start_ms

out=$(dc1_reg -n 100)
check "DC1 registers with nonce 100" grep -q "^map-notify from=192.0.2.1 .*mac=ok eid=10.1.1.10/32" <<<"$out"
out=$(dc1_reg -n 100)
check "the same Map-Register again: refused (strict-nonce is the default)" grep -q timeout <<<"$out"
check "counted as a replay" jqs "$(site DATA_CENTER) | .strict_nonce and .counters.nonce_replays==1"
for i in 1 2; do
	out=$(nsx dc2 $LISPC register -m 192.0.2.1 -k tp-key -e 10.5.1.1/32 -r 192.0.2.30 -M -w 1 -n 7 || true)
	check "no strict-nonce: nonce 7 taken ($i)" grep -q "mac=ok eid=10.5.1.1/32" <<<"$out"
done
check "no strict-nonce: no replay counted" jqs "$(site THIRD_PARTY) | (.strict_nonce | not) and .counters.nonce_replays==0 and .counters.registrations==2"

# the writer thread writes the state while the daemon runs: a SIGKILL loses nothing written
check "state file written while running: DC1's nonce (0x64) and registration" retry 15 bash -c \
	"grep -qs '^N DATA_CENTER [0-9a-f]\{16\} - 192.0.2.10 0000000000000064$' '$STATE' && grep -q '^R 4100 10.1.1.10/32 DATA_CENTER ' '$STATE'"
check "no nonce kept for the no-strict-nonce site" bash -c "! grep -q '^N THIRD_PARTY' '$STATE'"
check "no temporary file left" test ! -e "$STATE.tmp"
kill -KILL "$XPID"
wait "$XPID" 2>/dev/null || true
start_ms
check "after the restart: DC1's registration is back" retry 3 jqs \
	"$(site DATA_CENTER) | .prefixes[] | select(.eid_prefix==\"10.1.1.10/32\") | .registered and .last_registered_by==\"192.0.2.10\""
out=$(dc1_reg -n 100)
check "after the restart: the captured Map-Register is still refused" grep -q timeout <<<"$out"
check "after the restart: counted as a replay" jqs "$(site DATA_CENTER) | .counters.nonce_replays==1 and .counters.registrations==0"
out=$(dc1_reg)
check "DC1 with its next nonce (lispc: from the clock) is taken" grep -q "mac=ok eid=10.1.1.10/32" <<<"$out"

# a slow reader of a large /metrics answer: it asks, waits, then reads through a small window
cat >"$WORK/slow.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.connect(("192.0.2.1", 9470))
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
time.sleep(1.5)
data = b""
while True:
    b = s.recv(1024)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
length = [l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
print(len(body), int(length[0]) if length else -1)
sys.stdout.flush()
open(sys.argv[1], "wb").write(body)
PY
nsx itr python3 "$WORK/slow.py" "$WORK/metrics.txt" >"$WORK/slow.out"
check "/metrics, read late through a small window: all of it ($(cat "$WORK/slow.out"), Content-Length)" \
	awk '{ exit !($1 == $2 && $1 > 4096) }' "$WORK/slow.out"
check "/metrics: the last metric is there" \
	grep -q '^vmroam_xtr_metrics_requests_total{outcome="unfinished"} 0$' "$WORK/metrics.txt"

# SIGTERM: the last state is written at exit (DC1's clock nonce replaces 0x64)
kill -TERM "$XPID"
wait "$XPID" 2>/dev/null || true
check "at exit: the newest nonce written" bash -c \
	"grep '^N DATA_CENTER .* 192.0.2.10 ' '$STATE' | grep -qv ' 0000000000000064$'"

finish
