#!/usr/bin/env bash
# fhr-agent's control socket against misbehaving local clients (issue 16): no client can stall the
# agent's event loop or make it allocate what its length prefix claims.
#
#   fhr (br0, a veth toward a gateway that is not there) -- fhr-agent -- $WORK/run/fhr.sock
#
# Asserted: the socket is mode 0660, group vmroam (the group exists in a private /etc/group);
# a member of the group may show but not clear (SO_PEERCRED); a client sending one byte a second
# does not delay fhrctl, and is closed at the deadline; a 16 MiB length claim is refused at once
# without the agent's memory growing; past 16 open connections the next are closed at once; the
# agent logs each kind of refusal and answers throughout; out of file descriptors, with
# connections waiting, it pauses accepting (it spun on them before) and answers once they are back.
# usage: fhr_ctl.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

ns_add fhr
ip -n "$(ns fhr)" link add br0 type bridge
ip -n "$(ns fhr)" addr add 198.51.100.1/25 dev br0
ip -n "$(ns fhr)" link set br0 up
ip -n "$(ns fhr)" link add gw0 type veth peer name gw1
ip -n "$(ns fhr)" link set gw1 up
ip -n "$(ns fhr)" addr add 192.0.2.2/24 dev gw0
ip -n "$(ns fhr)" link set gw0 up
cat >"$WORK/fhr.conf" <<CONF
router lisp
 fhr-id fhr-ctl
 eid-table vrf TENANT-A instance-id 4100
  dynamic-eid VMS
   database-mapping 198.51.100.0/25
   eid-notify 192.0.2.1 key ctl-key
   exit
  exit
interface br0
 lisp mobility VMS
CONF

# group vmroam in a copy of /etc/group, bind-mounted over it for the agent only
GID=$(getent group vmroam | cut -d: -f3 || true)
if [ -z "$GID" ]; then
	GID=64990
	while getent group "$GID" >/dev/null; do GID=$((GID + 1)); done
	{ cat /etc/group; echo "vmroam:x:$GID:"; } >"$WORK/group"
else
	cp /etc/group "$WORK/group"
fi
mkdir -m 0711 "$WORK/run"
chmod 0711 "$WORK"
SOCK=$WORK/run/fhr.sock
# (unshare, sh and ip netns exec exec in turn: $! is the agent)
unshare -m --propagation private sh -c 'mount --bind "$1" /etc/group && shift && exec "$@"' sh \
	"$WORK/group" ip netns exec "$(ns fhr)" "$BIN/fhr-agent" -f "$WORK/fhr.conf" -s "$SOCK" \
	2>"$WORK/fhr.log" &
AGENT=$!
PIDS+=("$AGENT")
retry 5 test -S "$SOCK"

fhrctl() { "$BIN/fhrctl" -s "$SOCK" "$@"; }
answers() {
	local out
	out=$(timeout "$1" "$BIN/fhrctl" -s "$SOCK" -j show lisp eid-notify) &&
		jq -e '.eid_notify_peers | length == 1' <<<"$out" >/dev/null
}
kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$AGENT/status"; }
logged() { grep -q "$1" "$WORK/fhr.log"; }
as_member() { setpriv --reuid=65534 --regid="$GID" --clear-groups "$@"; }

cat >"$WORK/client.py" <<'PY'
import select, socket, struct, sys, time

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[2])
    return s

def closed(s, wait):
    """True if the agent closed s within wait seconds (EOF or reset; a reply before it is read)."""
    end = time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return False
        try:
            if not s.recv(65536):
                return True
        except OSError:
            return True

mode = sys.argv[1]
if mode == "slow":  # a 100-byte request, one byte a second; prints when the agent hung up
    s, t0 = conn(), time.monotonic()
    s.sendall(struct.pack(">I", 100))
    for i in range(20):
        try:
            s.send(b"\0")
        except OSError:
            break
        if closed(s, 1.0):
            break
    print("%.1f" % (time.monotonic() - t0) if time.monotonic() - t0 < 19 else "never")
elif mode == "big":  # claims 16 MiB and sends them; prints how much the agent took
    s, sent = conn(), 0
    s.settimeout(10)
    s.sendall(struct.pack(">I", 16 << 20))
    chunk = b"\xa5" * 65536
    try:
        while sent < 16 << 20:
            sent += s.send(chunk)
    except OSError:
        pass
    print(sent, "closed" if closed(s, 3.0) else "open")
elif mode == "hold":  # opens N connections (as many as it gets) and holds them for S seconds
    socks = []
    for _ in range(int(sys.argv[3])):
        try:
            socks.append(conn())
        except OSError:
            break
    time.sleep(float(sys.argv[4]))
    print(len(socks))
elif mode == "many":  # opens N connections at once; prints how many the agent closed at once
    n = int(sys.argv[3])
    socks = [conn() for _ in range(n)]
    time.sleep(1.0)
    print(sum(closed(s, 0.01) for s in socks))
PY

check "socket mode 0660" test "$(stat -c %a "$SOCK")" = 660
check "socket group vmroam" test "$(stat -c %g "$SOCK")" = "$GID"
check "fhrctl answers" answers 2
check "a member of group vmroam may show" as_member "$BIN/fhrctl" -s "$SOCK" show lisp dynamic-eid
rc=0
as_member "$BIN/fhrctl" -s "$SOCK" clear lisp dynamic-eid 2>/dev/null || rc=$?
check "a member of group vmroam may not clear (exit 3, needs root)" test "$rc" = 3
check "root may clear" fhrctl clear lisp dynamic-eid

# 1. a client sending a byte a second
python3 "$WORK/client.py" slow "$SOCK" >"$WORK/slow.out" &
SLOW=$!
sleep 1.5
t0=$EPOCHREALTIME
check "fhrctl answers within 2 s while a slow client is connected" answers 2
echo "fhr_ctl: fhrctl answered in $(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.0f", (a - b) * 1000 }') ms beside the slow client"
wait "$SLOW" || true
echo "fhr_ctl: the slow client was closed after $(cat "$WORK/slow.out") s"
check "the slow client is closed at the deadline (4-8 s)" \
	awk '$1 != "never" && $1 >= 4 && $1 <= 8 { ok = 1 } END { exit !ok }' "$WORK/slow.out"
check "the deadline is logged" logged "deadline"

# 2. a 16 MiB length claim
answers 2 || true
rss0=$(kib VmRSS) hwm0=$(kib VmHWM)
timeout 20 python3 "$WORK/client.py" big "$SOCK" >"$WORK/big.out" || true
rss1=$(kib VmRSS) hwm1=$(kib VmHWM)
echo "fhr_ctl: 16 MiB claim: sent, agent: $(cat "$WORK/big.out"); VmRSS ${rss0} -> ${rss1} kB, VmHWM ${hwm0} -> ${hwm1} kB"
check "the 16 MiB claim is refused: connection closed before 1 MiB was taken" \
	awk '$1 < 1048576 && $2 == "closed" { ok = 1 } END { exit !ok }' "$WORK/big.out"
check "the agent's peak memory did not grow by 8 MiB" test $((hwm1 - hwm0)) -lt 8192
check "the agent's memory did not grow by 8 MiB" test $((rss1 - rss0)) -lt 8192
check "the oversized request is logged" logged "request of 16777216 bytes"
check "fhrctl answers after the oversized request" answers 2

# 3. more connections than the agent serves at once
n=$(timeout 10 python3 "$WORK/client.py" many "$SOCK" 20 || echo error)
echo "fhr_ctl: of 20 idle connections, $n were closed at once"
check "past 16 connections, the next 4 are closed at once" test "$n" = 4
check "the refused connections are logged" logged "connections open"
check "fhrctl answers once they are gone" retry 2 answers 1

# 4. out of file descriptors: connections wait in the backlog; the agent must not spin on them
cpu() { awk '{ print $14 + $15 }' "/proc/$AGENT/stat"; } # user + system, clock ticks
nfd=$(ls "/proc/$AGENT/fd" | wc -l)
prlimit --pid "$AGENT" --nofile=$((nfd + 1)):
python3 "$WORK/client.py" hold "$SOCK" 6 3 >"$WORK/hold.out" &
HOLD=$!
sleep 0.5
c0=$(cpu)
sleep 2
c1=$(cpu)
echo "fhr_ctl: out of descriptors: the agent used $((c1 - c0)) ticks of CPU in 2 s"
check "out of descriptors: the agent does not spin (under 0.5 s of CPU in 2 s)" \
	test $((c1 - c0)) -lt $(($(getconf CLK_TCK) / 2))
check "out of descriptors: logged" logged "accept: Too many open files: paused"
wait "$HOLD" || true
prlimit --pid "$AGENT" --nofile=1024:
check "fhrctl answers once descriptors are back" retry 4 answers 1
check "the agent is still running" kill -0 "$AGENT"
finish
