#!/usr/bin/env bash
# hypervisor-hooks end to end: two real libvirtd (qemu driver, TCG), one per data center, each in
# its own network and mount namespace with the vmroam qemu hook and vmroam-virtwatch in place and
# the tenant's fhr-agent beside them; a tiny guest (no disk, no boot ROM: it never sends a frame)
# is live-migrated with `virsh migrate --live --p2p`.
#
#   ms (MS/MR 192.0.2.1) == gw1 (192.0.2.10) -- dc1 (libvirtd, FHR, br0) ==migration net== dc2 -- gw2
#                        == gw2 (192.0.2.11) ---------------------------------------------------'
#
# Asserted: at start the VM (silent) is registered through dc1 from libvirt's events alone; after
# the migration the Map-Server has it at gw2 no later than 20 ms after libvirt's RESUMED/MIGRATED
# event at the destination (virsh event's own timestamp), dc2's FHR learned it from the
# hypervisor (watcher or hook binding + QEMU's RARP), dc1's FHR forgot it when libvirt said it
# left; the hook answered within its 2 s, the migration did not fail; the watcher reconnects
# after its libvirtd restarts. The measured gap is printed.
# usage: libvirt.sh BUILD_BIN_DIR
set -eu
BIN=$(realpath "$1")
. "$(dirname "$0")/lib.sh"

for t in libvirtd virsh qemu-system-x86_64 nft; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (packaging/deps.sh)"; exit 77; }
done

# libvirtd's state directories are compiled in: each daemon gets them bind-mounted from $WORK in
# a private mount namespace (platform notes §2c). Mount points we create are removed at exit.
CREATED_DIRS=()
for dir in /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt; do
	[ -d "$dir" ] || { mkdir -p "$dir"; CREATED_DIRS+=("$dir"); }
done
lv_cleanup() {
	local d n p
	set +e
	for n in 1 2; do # a guest's qemu outlives a killed libvirtd
		for p in $(ip netns pids "$(ns "dc$n")" 2>/dev/null); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = qemu-system-x86 ] && kill -9 "$p"
		done
	done
	cleanup
	for d in "${CREATED_DIRS[@]}"; do rmdir "$d" 2>/dev/null; done
}
trap lv_cleanup EXIT
cp /etc/passwd "$WORK/passwd"
cp /etc/group "$WORK/group"
grep -q '^libvirt-qemu:' "$WORK/passwd" ||
	echo "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin" >>"$WORK/passwd"
grep -q '^libvirt-qemu:' "$WORK/group" || echo "libvirt-qemu:x:64055:" >>"$WORK/group"

star gw1=10 gw2=11
for n in 1 2; do
	host "gw$n" s0 198.51.100.193/30 "dc$n" 198.51.100.194/30
	ip -n "$(ns "dc$n")" link add br0 type bridge
	ip -n "$(ns "dc$n")" addr add 198.51.100.1/25 dev br0
	ip -n "$(ns "dc$n")" link set br0 up
	nsx "dc$n" sysctl -qw net.bridge.bridge-nf-call-iptables=0 2>/dev/null || true
	ip -n "$(ns "gw$n")" route add 198.51.100.0/25 via 198.51.100.194
done
# the hypervisors' migration network
ip link add "lvm$$" netns "$(ns dc1)" type veth peer name mig0 netns "$(ns dc2)"
ip -n "$(ns dc1)" link set "lvm$$" name mig0
for n in 1 2; do
	ip -n "$(ns "dc$n")" addr add "203.0.113.$n/24" dev mig0
	ip -n "$(ns "dc$n")" link set mig0 up
done

cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix instance-id 4100 198.51.100.0/24 accept-more-specifics
 ipv4 map-server
 ipv4 map-resolver
CONF
for n in 1 2; do
	cat >"$WORK/gw$n.conf" <<CONF
router lisp
 locator-set RLOC
  ipv4-interface eth0 priority 1 weight 100
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
	cat >"$WORK/fhr$n.conf" <<CONF
router lisp
 fhr-id fhr-dc$n
 eid-table vrf TENANT-A instance-id 4100
  dynamic-eid VMS
   database-mapping 198.51.100.0/25
   eid-notify 198.51.100.193 key tenant-a-key
   hypervisor-events key tenant-a-hv-key
   exit
  exit
interface br0
 lisp mobility VMS
 lisp extended-subnet-mode
CONF
	cat >"$WORK/hv$n.conf" <<CONF
hypervisor
 host-id dc$n-host
 tenant TENANT-A
  instance-id 4100
  key tenant-a-hv-key
CONF
	B=$WORK/lvd$n
	mkdir -p "$B/etc/hooks/qemu.d" "$B/run" "$B/lib" "$B/log" "$B/cache" "$B/sock"
	cat >"$B/etc/libvirtd.conf" <<CONF
unix_sock_dir = "$B/sock"
unix_sock_group = "root"
unix_sock_ro_perms = "0777"
unix_sock_rw_perms = "0770"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "0000000$n-1111-2222-3333-444444444444"
log_outputs = "3:file:$B/libvirtd.log"
CONF
	cat >"$B/etc/qemu.conf" <<CONF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
migration_address = "203.0.113.$n"
migration_port_min = 492${n}0
migration_port_max = 492${n}9
CONF
	# the hook as an operator installs it, with this test's configuration and a log
	cat >"$B/etc/hooks/qemu.d/vmroam" <<HOOK
#!/bin/sh
exec "$BIN/vmroam-qemu-hook" -c "$WORK/hv$n.conf" -L "$WORK/hook$n.log" "\$@"
HOOK
	chmod 755 "$B/etc/hooks/qemu.d/vmroam"
done

daemons ms gw1 gw2
# libvirtd N: in dcN's netns, in a private mount namespace
libvirtd_start() {
	local n=$1 B=$WORK/lvd$1
	bg "dc$n" unshare -m --propagation private bash -c "
		mount --bind $WORK/passwd /etc/passwd && mount --bind $WORK/group /etc/group &&
		mount --bind $B/etc /etc/libvirt && mount --bind $B/run /run/libvirt &&
		mount --bind $B/lib /var/lib/libvirt && mount --bind $B/log /var/log/libvirt &&
		mount --bind $B/cache /var/cache/libvirt &&
		exec libvirtd --pid-file $B/libvirtd.pid --config $B/etc/libvirtd.conf"
}
uri() { echo "qemu+unix:///system?socket=$WORK/lvd$1/sock/libvirt-sock"; }
vsh() {
	local n=$1
	shift
	timeout 60 virsh -q -c "$(uri "$n")" "$@"
}
for n in 1 2; do libvirtd_start "$n"; done
for n in 1 2; do retry 60 vsh "$n" version >/dev/null 2>&1; done
check "both libvirtd answer" vsh 2 version

for n in 1 2; do
	bg "dc$n" "$BIN/fhr-agent" -f "$WORK/fhr$n.conf" -s "$WORK/fhr$n.sock" 2>>"$WORK/fhr$n.log"
	bg "dc$n" "$BIN/vmroam-virtwatch" -c "$(uri "$n")" -f "$WORK/hv$n.conf" 2>>"$WORK/watch$n.log"
done
for n in 1 2; do
	retry 5 test -S "$WORK/fhr$n.sock"
	check "dc$n: the watcher is connected to its libvirtd" retry 10 grep -q 'connected to' "$WORK/watch$n.log"
done
fhr_j() {
	local n=$1 q=$2
	shift 2
	"$BIN/fhrctl" -s "$WORK/fhr$n.sock" -j "$@" | jq -e "$q" >/dev/null
}
check "dc1: the FHR's gateway is up" retry 10 fhr_j 1 '.eid_notify_peers[0].up' show lisp eid-notify
check "dc2: the FHR's gateway is up" retry 10 fhr_j 2 '.eid_notify_peers[0].up' show lisp eid-notify

# The guest: 64 MiB, no disk, its NIC without a boot ROM: SeaBIOS finds nothing to boot and the
# guest sends no frame. Its addresses are in the vmroam metadata (as an orchestrator puts them).
cat >"$WORK/vm1.xml" <<XML
<domain type='qemu'>
  <name>vm1</name>
  <uuid>6d1c4b0e-0000-4000-8000-0000000000a1</uuid>
  <metadata>
    <vmroam:vm xmlns:vmroam="urn:vmroam:libvirt:1">
      <vmroam:tenant>TENANT-A</vmroam:tenant>
      <vmroam:instance-id>4100</vmroam:instance-id>
      <vmroam:fhr>198.51.100.1</vmroam:fhr>
      <vmroam:address>198.51.100.10</vmroam:address>
    </vmroam:vm>
  </metadata>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/></features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='bridge'>
      <source bridge='br0'/>
      <mac address='52:54:00:aa:bb:10'/>
      <model type='e1000'/>
      <rom bar='off'/>
    </interface>
    <memballoon model='none'/>
  </devices>
</domain>
XML

ms_at() { # ms_at RLOC: the Map-Server has 198.51.100.10/32 from that gateway
	jctl ms ".sites[].prefixes[] | select(.eid_prefix==\"198.51.100.10/32\" and .instance_id==4100) | .registered and .last_registered_by==\"$1\"" show lisp site
}

# 1. started in dc1: registered from libvirt alone (the guest is silent)
check "dc1: vm1 defined and started" vsh 1 create "$WORK/vm1.xml"
check "dc1: the hook told the FHR (started)" retry 5 grep -q 'vm1 hook started begin: arriving told to FHR 198.51.100.1' "$WORK/hook1.log"
check "dc1: the FHR has 198.51.100.10 from the hypervisor" retry 5 fhr_j 1 \
	'.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .source=="hypervisor"' show lisp dynamic-eid
check "Map-Server: 198.51.100.10/32 registered by gw1" retry 5 ms_at 192.0.2.10

# 2. live migrations there and back, watched at each end by libvirt's own client (virsh event)
for n in 1 2; do
	timeout 200 virsh -q -c "$(uri "$n")" event --all --loop --timestamp >"$WORK/events$n.log" 2>&1 &
	PIDS+=($!)
done
sleep 0.5
fhr_has() { # fhr_has N: FHR N has 198.51.100.10 (its source printed)
	"$BIN/fhrctl" -s "$WORK/fhr$1.sock" -j show lisp dynamic-eid |
		jq -er '.dynamic_eids[] | select(.eid=="198.51.100.10/32") | .source'
}
fhr_gone() { ! fhr_has "$1" >/dev/null 2>&1; }
migrate() { # migrate FROM TO GW_RLOC_OF_TO [SOURCE]: the FHR's source must be SOURCE
	local from=$1 to=$2 rloc=$3 want=${4:-} t0 t1 resumed t_res t_reg t_live gap wgap how hook
	t0=$EPOCHREALTIME
	check "virsh migrate --live --p2p dc$from -> dc$to" vsh "$from" migrate --live --p2p vm1 \
		"$(uri "$to")" --migrateuri "tcp://203.0.113.$to"
	t1=$EPOCHREALTIME
	check "dc$to: vm1 runs there" retry 5 bash -c "virsh -q -c '$(uri "$to")' domstate vm1 | grep -q running"
	check "Map-Server: 198.51.100.10/32 registered by gw$to" retry 5 ms_at "$rloc"
	how=$(fhr_has "$to" || echo none)
	check "dc$to: the FHR learned it from the hypervisor, not from the guest (source: $how)" \
		bash -c "[ '$how' = '${want:-hypervisor}' ] || [ -z '$want' -a '$how' = rarp ]"
	check "dc$to: libvirt reported Resumed Migrated" retry 5 grep -q "lifecycle.*vm1.*Resumed Migrated" "$WORK/events$to.log"
	check "dc$to: the hook saw the incoming migration" retry 2 grep -q 'vm1 hook migrate begin: arriving told' "$WORK/hook$to.log"
	check "dc$from: the hook saw the VM stop" retry 10 grep -q 'vm1 hook stopped end: left told' "$WORK/hook$from.log"
	check "dc$from: the FHR forgot it" retry 10 fhr_gone "$from"
	# the gap: libvirt's RESUMED/MIGRATED at the destination (virsh's timestamp) -> registered
	# at the Map-Server through the destination's gateway
	resumed=$(sed -n 's/^\([0-9-]* [0-9:.]*\)+0000: event .lifecycle. for domain .vm1.: Resumed Migrated.*/\1/p' "$WORK/events$to.log" | tail -1)
	t_res=$(date -u -d "$resumed" +%s.%N)
	t_reg=$(ctl ms -j show lisp event-history | jq --argjson t "$t0" '[.events[] | select(.event=="registered" and .eid=="198.51.100.10/32" and .instance_id==4100 and .peer=="'"$rloc"'" and .time > $t) | .time] | min')
	t_live=$("$BIN/fhrctl" -s "$WORK/fhr$to.sock" -j show lisp event-history | jq --argjson t "$t0" '[.events[] | select(.event=="hv-live" and .time > $t) | .time] | min')
	gap=$(awk -v a="$t_res" -v b="$t_reg" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	wgap=$(awk -v a="$t_res" -v b="$t_live" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
	hook=$(sed -n 's/.*vm1 hook migrate begin: .*acknowledged in \([0-9.]*\) ms/\1/p' "$WORK/hook$to.log" | tail -1)
	echo "libvirt: dc$from -> dc$to: migrate took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s; RESUMED/MIGRATED -> registered at the Map-Server: $gap ms (FHR learned it from: $how); the watcher's live event at the FHR: $wgap ms; the hook's migrate call acknowledged in $hook ms"
	check "dc$to: registered at most 20 ms after RESUMED/MIGRATED (measured $gap ms)" \
		awk -v g="$gap" 'BEGIN { exit !(g <= 20) }'
}
migrate 1 2 192.0.2.11
migrate 2 1 192.0.2.10
migrate 1 2 192.0.2.11
# once more with QEMU's RARPs dropped on dc1's bridge: only libvirt's RESUMED/MIGRATED, through
# the watcher, tells dc1's FHR
nsx dc1 nft -f - <<NFT
table bridge vmroam_test {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ether type 0x8035 counter drop
	}
}
NFT
migrate 2 1 192.0.2.10 hypervisor
check "dc1: QEMU's RARPs were dropped before the FHR could see them" bash -c \
	"ip netns exec $(ns dc1) nft list table bridge vmroam_test | grep -qE 'counter packets [1-9]'"
nsx dc1 nft delete table bridge vmroam_test
migrate 1 2 192.0.2.11
check "the hooks answered within 2 s, never failed a step" bash -c \
	"! grep -qE 'no acknowledgement|refused|not configured' '$WORK/hook1.log' '$WORK/hook2.log'"

# what the operator sees on dc2's FHR
"$BIN/fhrctl" -s "$WORK/fhr2.sock" show lisp hypervisor
check "fhrctl show lisp hypervisor: vm1's MAC live with its address, from dc2-host" fhr_j 2 \
	'.hypervisor.bindings[] | select(.mac=="52:54:00:aa:bb:10") | .state=="live" and .host=="dc2-host" and .addresses==["198.51.100.10"]' \
	show lisp hypervisor
check "fhrctl show lisp hypervisor: nothing refused so far" fhr_j 2 \
	'.hypervisor.port==4350 and .hypervisor.auth_failures==0 and .hypervisor.stale==0 and .hypervisor.accepted > 0' \
	show lisp hypervisor

# the hook never holds libvirt up: with a wrong key (refused, unanswered) and with no FHR
# listening, it gives up within its 2 s and exits 0
sed 's/key tenant-a-hv-key/key not-the-key/' "$WORK/hv2.conf" >"$WORK/hv-wrong.conf"
sed 's/<vmroam:fhr>198.51.100.1</<vmroam:fhr>198.51.100.3</' "$WORK/vm1.xml" >"$WORK/vm1-nofhr.xml"
for c in "hv-wrong.conf vm1.xml" "hv2.conf vm1-nofhr.xml"; do
	set -- $c
	t0=$EPOCHREALTIME
	nsx dc2 "$BIN/vmroam-qemu-hook" -c "$WORK/$1" -L "$WORK/hook-bad.log" vm1 started begin - <"$WORK/$2"
	rc=$?
	t1=$EPOCHREALTIME
	check "hook with $1 and $2: exit 0 within 2 s ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s)" \
		awk -v a="$t0" -v b="$t1" -v rc="$rc" 'BEGIN { exit !(rc == 0 && b - a < 2.0) }'
done
check "the hook logged that nobody acknowledged" bash -c "[ \$(grep -c 'no acknowledgement in 1.4 s' '$WORK/hook-bad.log') -eq 2 ]"
check "dc2's FHR refused the wrong key's three tries, nothing else changed" fhr_j 2 \
	'.hypervisor.auth_failures==3 and ([.hypervisor.bindings[] | select(.state=="live")] | length)==1' \
	show lisp hypervisor

# 3. the watcher reconnects when its libvirtd restarts
kill "$(cat "$WORK/lvd2/libvirtd.pid")"
retry 10 bash -c "! kill -0 $(cat "$WORK/lvd2/libvirtd.pid") 2>/dev/null"
libvirtd_start 2
retry 60 vsh 2 version >/dev/null 2>&1
check "dc2: the watcher reconnected after libvirtd restarted" retry 15 bash -c \
	"[ \$(grep -c 'connected to' '$WORK/watch2.log') -ge 2 ]"
check "dc2: vm1 still registered through gw2" ms_at 192.0.2.11

vsh 2 destroy vm1 >/dev/null 2>&1 || true
check "dc2: destroyed: the FHR withdrew it" retry 10 fhr_gone 2
for n in 1 2; do
	[ -f "$WORK/lvd$n/libvirtd.pid" ] && kill "$(cat "$WORK/lvd$n/libvirtd.pid")" 2>/dev/null
done
finish
