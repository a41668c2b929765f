# Helpers for the network-namespace tests (sourced). Every test creates its own namespaces
# (named vmr-<test>-<pid>-<role>), uses only 192.0.2.0/24 and 2001:db8::/32 inside them, and
# removes everything on exit, also on failure.

[ "$(id -u)" -eq 0 ] || { echo "SKIP: network namespace tests need root"; exit 77; }

NS_PREFIX="vmr-$(basename "$0" .sh | cut -c1-6)-$$"
NAMESPACES=()
PIDS=()
WORK=$(mktemp -d)
FAILS=0
PASSES=0

# Runs on every exit; no step may stop it (errexit is off here).
cleanup() {
	local pid ns
	set +e
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # (exit runs cleanup)

# ns_add ROLE: creates namespace $NS_PREFIX-ROLE with lo up; prints its name.
ns_add() {
	local ns="$NS_PREFIX-$1"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	NAMESPACES+=("$ns")
}

ns() { echo "$NS_PREFIX-$1"; }

# bg ROLE CMD...: runs CMD in ROLE's namespace in the background, remembered for cleanup
# ($! is CMD itself: ip netns exec execs it).
bg() {
	local role=$1
	shift
	ip netns exec "$(ns "$role")" "$@" &
	PIDS+=($!)
}

# nsx ROLE CMD...: runs CMD in ROLE's namespace.
nsx() {
	local role=$1
	shift
	ip netns exec "$(ns "$role")" "$@"
}

# retry SECONDS CMD...: runs CMD every 0.1 s until it succeeds or SECONDS pass.
retry() {
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

check() {
	local what=$1
	shift
	if "$@"; then
		PASSES=$((PASSES + 1))
		echo "ok: $what"
	else
		FAILS=$((FAILS + 1))
		echo "FAIL: $what" >&2
	fi
}

finish() {
	[ -n "${KEEP_WORK:-}" ] && cp -r "$WORK" "$KEEP_WORK" # logs and captures, for a look
	echo "$(basename "$0"): $PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

# star ROLE=OCTET ...: the namespace "ms" with bridge br0 (192.0.2.1/24, 2001:db8::1/64) and,
# for each ROLE, a namespace on that bridge with 192.0.2.OCTET/24 and 2001:db8::OCTET/64 on
# eth0. Checksums are filled in by software so that captures show them (veth offloads them).
star() {
	local i=0 spec role a
	ns_add ms
	ip -n "$(ns ms)" link add br0 type bridge
	ip -n "$(ns ms)" addr add 192.0.2.1/24 dev br0
	ip -n "$(ns ms)" addr add 2001:db8::1/64 dev br0 nodad
	ip -n "$(ns ms)" link set br0 up
	nsx ms ethtool -K br0 tx off >/dev/null
	for spec in "$@"; do
		i=$((i + 1))
		role=${spec%=*}
		a=${spec#*=}
		ns_add "$role"
		ip link add "vmr$$-$i" netns "$(ns ms)" type veth peer name eth0 netns "$(ns "$role")"
		ip -n "$(ns ms)" link set "vmr$$-$i" master br0 up
		ip -n "$(ns "$role")" addr add "192.0.2.$a/24" dev eth0
		ip -n "$(ns "$role")" addr add "2001:db8::$a/64" dev eth0 nodad
		ip -n "$(ns "$role")" link set eth0 up
		nsx "$role" ethtool -K eth0 tx off >/dev/null
		nsx ms ethtool -K "vmr$$-$i" tx off >/dev/null
	done
}

# host GWROLE IFNAME GWADDR/LEN ROLE ADDR/LEN: namespace ROLE (created here) hangs off GWROLE
# through a veth (IFNAME on GWROLE's side, eth0 on ROLE's) and routes everything via GWADDR
# (IPv6 addresses skip duplicate address detection).
host() {
	local gw=$1 ifname=$2 gwaddr=$3 role=$4 addr=$5 nodad=
	case $addr in *:*) nodad=nodad ;; esac
	ns_add "$role"
	ip link add "$ifname" netns "$(ns "$gw")" type veth peer name eth0 netns "$(ns "$role")"
	ip -n "$(ns "$gw")" addr add "$gwaddr" dev "$ifname" $nodad
	ip -n "$(ns "$gw")" link set "$ifname" up
	ip -n "$(ns "$role")" addr add "$addr" dev eth0 $nodad
	ip -n "$(ns "$role")" link set eth0 up
	ip -n "$(ns "$role")" route add default via "${gwaddr%/*}"
}

# daemons ROLE...: an xtr-gateway in each ROLE's namespace with $WORK/ROLE.conf and control
# socket $WORK/ROLE.sock (log $WORK/ROLE.log; XTR_ARGS=-d for debug logs); returns when every
# socket is up.
daemons() {
	local r
	for r in "$@"; do
		bg "$r" "$BIN/xtr-gateway" ${XTR_ARGS:-} -f "$WORK/$r.conf" -s "$WORK/$r.sock" \
			2>"$WORK/$r.log"
	done
	for r in "$@"; do retry 5 test -S "$WORK/$r.sock"; done
}

# fhrs ROLE...: starts fhr-agent in each ROLE's namespace ($WORK/ROLE.conf, .sock, .log) and
# waits for their control sockets; fhr_j ROLE JQ ARGS...: true if jq -e JQ holds on the JSON
# answer of fhrctl ARGS.
fhrs() {
	local r
	for r in "$@"; do
		bg "$r" "$BIN/fhr-agent" -f "$WORK/$r.conf" -s "$WORK/$r.sock" 2>"$WORK/$r.log"
	done
	for r in "$@"; do retry 5 test -S "$WORK/$r.sock"; done
}
fhr_j() {
	local r=$1 q=$2
	shift 2
	"$BIN/fhrctl" -s "$WORK/$r.sock" -j "$@" | jq -e "$q" >/dev/null
}

# ctl ROLE ARGS...: xtrctl against ROLE's daemon; jctl ROLE JQ ARGS...: true if jq -e JQ holds
# on the JSON answer.
ctl() {
	local r=$1
	shift
	"$BIN/xtrctl" -s "$WORK/$r.sock" "$@"
}
jctl() {
	local r=$1 q=$2
	shift 2
	ctl "$r" -j "$@" | jq -e "$q" >/dev/null
}

# xtr_pair: two xTRs joined by one veth (the RLOC link), a host behind each, a Map-Server on the
# side; configurations in $WORK/{ms,xa,xb}.conf (start them with `daemons ms xa xb`):
#   ha (198.51.100.10) -- xa ==== r0 192.0.2.1 / .2 ==== xb -- hb (198.51.100.130)
#                          `-- ms (192.0.2.6)
xtr_pair() {
	local n own rloc other
	for n in ha xa xb hb ms; do ns_add "$n"; done
	pair_link xa r0 192.0.2.1/30 xb r0 192.0.2.2/30
	pair_link xa m0 192.0.2.5/30 ms eth0 192.0.2.6/30
	pair_link ha eth0 198.51.100.10/25 xa e0 198.51.100.1/25
	pair_link hb eth0 198.51.100.130/25 xb e0 198.51.100.129/25
	ip -n "$(ns ha)" route add default via 198.51.100.1
	ip -n "$(ns hb)" route add default via 198.51.100.129
	ip -n "$(ns ms)" route add default via 192.0.2.5
	ip -n "$(ns xb)" route add 192.0.2.4/30 via 192.0.2.1
	for n in xa xb; do
		nsx "$n" sysctl -qw net.ipv4.ip_forward=1
		# GRO on the RLOC link, as a NIC has it (veth: NAPI)
		nsx "$n" ethtool -K r0 gro on >/dev/null
	done
	cat >"$WORK/ms.conf" <<CONF
router lisp
 site PAIR
  authentication-key pair-key
  eid-prefix 198.51.100.0/24 accept-more-specifics
 ipv4 map-server
 ipv4 map-resolver
CONF
	for n in xa xb; do
		if [ "$n" = xa ]; then own=198.51.100.0/25 rloc=192.0.2.1 other=198.51.100.128/25
		else own=198.51.100.128/25 rloc=192.0.2.2 other=198.51.100.0/25; fi
		cat >"$WORK/$n.conf" <<CONF
router lisp
 database-mapping $own $rloc priority 1 weight 100
 map-cache $other map-request
 ipv4 itr
 ipv4 itr map-resolver 192.0.2.6
 ipv4 etr
 ipv4 etr map-server 192.0.2.6 key pair-key
CONF
	done
}

# fhr_lan FHR GWADDR/LEN VM VMADDR: bridge br0 in FHR's namespace (the VMs' gateway address),
# namespace VM (created here) on it through port p-VM, VMADDR/LEN on its eth0, default via GWADDR.
fhr_lan() {
	local fhr=$1 gw=$2 vm=$3 addr=$4
	ip -n "$(ns "$fhr")" link show br0 >/dev/null 2>&1 || {
		ip -n "$(ns "$fhr")" link add br0 type bridge
		ip -n "$(ns "$fhr")" addr add "$gw" dev br0
		ip -n "$(ns "$fhr")" link set br0 up
	}
	ns_add "$vm"
	ip link add "p-$vm" netns "$(ns "$fhr")" type veth peer name eth0 netns "$(ns "$vm")"
	ip -n "$(ns "$fhr")" link set "p-$vm" master br0 up
	ip -n "$(ns "$vm")" link set eth0 up
	ip -n "$(ns "$vm")" addr add "$addr/${gw#*/}" dev eth0
	ip -n "$(ns "$vm")" route add default via "${gw%/*}"
}

# pair_link NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth between two of our namespaces, addressed, up.
pair_link() {
	ip link add "$2" netns "$(ns "$1")" type veth peer name "$5" netns "$(ns "$4")"
	ip -n "$(ns "$1")" addr add "$3" dev "$2"
	ip -n "$(ns "$4")" addr add "$6" dev "$5"
	ip -n "$(ns "$1")" link set "$2" up
	ip -n "$(ns "$4")" link set "$5" up
}
