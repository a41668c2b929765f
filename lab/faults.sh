# The lab's fault runs (sourced by vmroam-lab --faults): a move while something fails; each
# reports how long the deployment took to converge (the Map-Server, the branch and both
# gateways agree on the VM's new site, and the client reaches it), bounded.

# converged TO FROM: the whole deployment agrees the VM is at DC TO, and it answers
converged() {
	local to=$1 from=$2
	jctl core ".sites[].prefixes[] | select(.eid_prefix==\"$EID/32\" and .instance_id==100) | (.registrants | length)==1 and .registrants[0].address==\"$(rloc "$to")\"" \
		show lisp site 2>/dev/null &&
		jctl "gw$from" "[.dynamic_eids[] | select(.eid==\"$EID/32\" and .instance_id==100)] | length==0" \
			show lisp dynamic-eid 2>/dev/null &&
		inns cl-a ping -n -q -c 1 -W 0.2 $EID >/dev/null 2>&1 &&
		jctl branch ".map_cache[] | select(.eid_prefix==\"$EID/32\" and .instance_id==100) | .locators[0].address==\"$(rloc "$to")\"" \
			show ip lisp map-cache instance-id 100 2>/dev/null
}

# fault_move NAME LIMIT-S BEFORE AFTER: a move announced as QEMU and the guest do, with the
# shell commands BEFORE run just before it and AFTER just after; the time to convergence.
fault_move() {
	local name=$1 limit=$2 before=$3 after=$4 from=$at to=$((3 - at)) t0 t1 ms ok=false
	eval "$before"
	"$BIN/migrate" "$(n fab)" vm-a "br-a$to" "$(n vm-a)" eth0 rarp garp $EID >"$WORK/fault-$name.mig"
	at=$to
	t0=$(jq .moved "$WORK/fault-$name.mig")
	eval "$after"
	if retry "$limit" converged "$to" "$from"; then
		ok=true
		t1=$EPOCHREALTIME
		ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
	fi
	say
	say "== fault: $name (DC$from -> DC$to)"
	if [ $ok = true ]; then say "   converged in $ms ms"; else say "   NOT converged within $limit s"; fi
	jq -nc --arg f "$name" --argjson ok $ok --argjson ms "${ms:-null}" --argjson from "$from" \
		--argjson to "$to" '{fault: $f, from: $from, to: $to, converged: $ok, converge_ms: $ms}' \
		>>"$FAULT_RESULTS"
	check "fault $name: converged within $limit s" test $ok = true
}

restart_xtr() {
	local r=$1
	kill "${PID[$r]}"
	wait "${PID[$r]}" 2>/dev/null || true
	start_xtr "$r"
	retry 10 test -S "$WORK/$r.sock"
}

run_faults() {
	local to
	# 1. the destination's site gateway restarts as the VM arrives: its FHR keeps the news and
	#    sends its whole table to the new gateway session
	to=$((3 - at))
	fault_move "gateway DC$to restarted during the move" 20 \
		"kill \${PID[gw$to]}; wait \${PID[gw$to]} 2>/dev/null || true" \
		"sleep 0.3; start_xtr gw$to"
	# 2. the Map-Server restarts during the move: it writes its registrations at exit (-S) and
	#    takes them back at start, so the new site's Map-Register, retried until it is back, is
	#    seen as the move it is and the old site is told
	fault_move "Map-Server restarted during the move" 20 \
		"kill \${PID[core]}; wait \${PID[core]} 2>/dev/null || true" \
		"sleep 0.5; start_xtr core"
	# 3. the same without its state file: the Map-Server starts empty; the old site's
	#    registration comes back with its refresh (within a minute), the Map-Server takes it for
	#    a move, the new site's FHR probes the VM (told it moved away), finds it and re-asserts
	#    it, and the old site is told: converged within one registration interval
	fault_move "Map-Server restarted empty (no state file) during the move" 90 \
		"kill \${PID[core]}; wait \${PID[core]} 2>/dev/null || true; rm -f $WORK/core.state" \
		"sleep 0.5; start_xtr core"
	# 4. one packet in ten lost between each FHR and its gateway (both ways, data too)
	local i
	for i in 1 2; do
		inns "fw-a$i" iptables -I FORWARD -m statistic --mode random --probability 0.1 -j DROP
	done
	for i in 1 2 3; do
		fault_move "10% loss FHR-gateway, move $i" 20 "" ""
	done
	for i in 1 2; do
		inns "fw-a$i" iptables -D FORWARD -m statistic --mode random --probability 0.1 -j DROP
	done
}
