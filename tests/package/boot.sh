#!/usr/bin/env bash
# The fhr-agent appliance booted as a VM: QEMU (TCG: no KVM needed) boots the appliance's disk
# image with its kernel and initramfs, systemd as PID 1, a config drive (label VMROAM) as its
# second disk; its eth0 reaches a site gateway (xtr-gateway) and a Map-Server in namespaces on this
# host, its eth1 is the tenant segment with a VM (a namespace). Commands run in the appliance
# through its QEMU guest agent (tests/package/qga.py). Checks:
# - first boot: the config drive's configuration, interfaces and host name installed;
# - fhr-agent.service runs with every hardening line of the shipped unit (as systemd reports it,
#   and as the kernel enforces it on the process: user, capabilities, no_new_privs, seccomp,
#   read-only system, private /tmp);
# - it detects the VM on its tenant interface and notifies the gateway outside the appliance,
#   which registers the VM with the Map-Server (boot-to-registered time printed);
# - `systemctl reload` applies a changed configuration (a new fhr-id, seen by the gateway), and
#   refuses a broken one, the agent running on with the old one;
# - `journalctl -p warning` has the agent's warnings and errors, not its informational lines
#   (journal priorities from the agent's <N> prefixes);
# - a reboot keeps the configuration (the first-boot unit does not run again), and the agent
#   detects the VM again.
# usage: tests/package/boot.sh APPLIANCE_DIR BUILD_BIN_DIR   (root; APPLIANCE_DIR from
#        packaging/appliance/build.sh; BUILD_BIN_DIR: the host's xtr-gateway and xtrctl)
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
APP=$(realpath "$1")
BIN=$(realpath "$2")
. "$SRC/tests/netns/lib.sh"
for f in vmlinuz initrd ext4 cmdline; do
	[ -s "$APP/fhr-appliance.$f" ] || { echo "no $APP/fhr-appliance.$f" >&2; exit 1; }
done
QGA="$SRC/tests/package/qga.py $WORK/qga.sock"
# g CMD: runs CMD in the appliance (sh -c), its output on stdout
g() { python3 $QGA -t 60 -- "$1"; }
VM=198.51.100.10

# the host side: Map-Server (ms, 192.0.2.1) and site gateway (gw, 192.0.2.2) on a bridge; the
# gateway's 203.0.113.1/24 and the appliance's eth0 on bridge "up" in the hypervisor namespace hv;
# the tenant segment: bridge "ten" in hv with the appliance's eth1 and the VM
star gw=2
ns_add hv
for b in br-up br-ten; do ip -n "$(ns hv)" link add "$b" type bridge && ip -n "$(ns hv)" link set "$b" up; done
for t in 0 1; do ip -n "$(ns hv)" tuntap add "tap$t" mode tap; done
ip -n "$(ns hv)" link set tap0 master br-up up
ip -n "$(ns hv)" link set tap1 master br-ten up
ip link add a0 netns "$(ns gw)" type veth peer name gw0 netns "$(ns hv)"
ip -n "$(ns gw)" addr add 203.0.113.1/24 dev a0
ip -n "$(ns gw)" link set a0 up
ip -n "$(ns hv)" link set gw0 master br-up up
ns_add vm
ip link add eth0 netns "$(ns vm)" type veth peer name vm0 netns "$(ns hv)"
ip -n "$(ns hv)" link set vm0 master br-ten up
ip -n "$(ns vm)" addr add "$VM/24" dev eth0
ip -n "$(ns vm)" link set eth0 up
ip -n "$(ns vm)" route add default via 198.51.100.1
ip -n "$(ns gw)" route add 198.51.100.0/24 via 203.0.113.2
nsx gw sysctl -qw net.ipv4.ip_forward=1
cat >"$WORK/ms.conf" <<CONF
router lisp
 site DC
  authentication-key dc-key
  eid-prefix 198.51.100.0/24 accept-more-specifics
  eid-prefix 2001:db8:100::/64 accept-more-specifics
 ipv4 map-server
CONF
cat >"$WORK/gw.conf" <<CONF
router lisp
 locator-set RLOC
  ipv4-interface eth0 priority 1 weight 100
  exit
 dynamic-eid VMS
  database-mapping 198.51.100.0/24 locator-set RLOC
  database-mapping 2001:db8:100::/64 locator-set RLOC
  eid-notify authentication-key tenant-key
  exit
 ipv4 etr
 ipv4 etr map-server 192.0.2.1 key dc-key
CONF
daemons ms gw

# the config drive
mkdir "$WORK/drive"
cat >"$WORK/drive/fhr-agent.conf" <<CONF
! the appliance of tenant T1: VMs on eth1, the site gateway beyond eth0
router lisp
 fhr-id fhr-t1
 nfqueue 0
 dynamic-eid VMS
  database-mapping 198.51.100.0/24
  database-mapping 2001:db8:100::/64
  eid-notify 203.0.113.1 key tenant-key
  exit
interface eth1
 lisp mobility VMS
 lisp extended-subnet-mode
CONF
cat >"$WORK/drive/interfaces" <<CONF
auto eth0
iface eth0 inet static
 address 203.0.113.2/24
 gateway 203.0.113.1
auto eth1
iface eth1 inet static
 address 198.51.100.1/24
iface eth1 inet6 static
 address 2001:db8:100::1/64
 dad-attempts 0
CONF
echo fhr-tenant-t1 >"$WORK/drive/hostname"
mkfs.ext4 -q -L VMROAM -d "$WORK/drive" "$WORK/drive.img" 8M >/dev/null
cp --sparse=always "$APP/fhr-appliance.ext4" "$WORK/disk.img" # (the image stays as built)

# the VM pings its gateway every 0.2 s until the test ends (bounded by a count, 40 min: with a
# deadline, -w, ping stops at its first error, such as the appliance's reboot)
bg vm ping -q -i 0.2 -c 12000 198.51.100.1 >/dev/null
t0=$(date +%s.%N)
bg hv qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 512 -smp 1 -no-user-config \
	-nodefaults -display none -monitor none -serial "file:$WORK/serial.log" \
	-kernel "$APP/fhr-appliance.vmlinuz" -initrd "$APP/fhr-appliance.initrd" \
	-append "$(cat "$APP/fhr-appliance.cmdline")" \
	-drive "file=$WORK/disk.img,if=virtio,format=raw" \
	-drive "file=$WORK/drive.img,if=virtio,format=raw" \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0 \
	-netdev tap,id=n1,ifname=tap1,script=no,downscript=no -device virtio-net-pci,netdev=n1 \
	-chardev "socket,id=qga0,path=$WORK/qga.sock,server=on,wait=off" \
	-device virtio-serial -device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0 \
	>"$WORK/qemu.log" 2>&1
registered() {
	ctl ms -j show lisp site 2>/dev/null |
		jq -e --arg e "$VM/32" '[.sites[].prefixes[] | select(.eid_prefix == $e and .registered)] | length > 0' \
			>/dev/null
}
# the same boot's milestones on this host's clock (the guest's clock is not to be trusted under
# TCG): the guest agent's first answer (systemd has reached basic.target), the agent's channel up
# at the gateway, the VM registered
{ python3 $QGA -t 600 --ping && date +%s.%N >"$WORK/t_agent"; } &
PIDS+=($!)
up_at_gw() { jctl gw '[.eid_notify_peers[] | select(.up)] | length > 0' show lisp eid-notify 2>/dev/null; }
milestones() {
	[ -s "$WORK/t_up" ] || ! up_at_gw || date +%s.%N >"$WORK/t_up"
	registered
}
if retry 600 milestones; then
	t1=$(date +%s.%N)
	[ -s "$WORK/t_up" ] || echo "$t1" >"$WORK/t_up" # (up between two looks: no later than this)
	check "the VM on the appliance's tenant interface is registered with the Map-Server" true
else
	check "the VM on the appliance's tenant interface is registered with the Map-Server" false
	tail -40 "$WORK/serial.log"
fi
check "the guest agent answers" python3 $QGA -t 120 --ping
boot1=$(g 'cat /proc/sys/kernel/random/boot_id')
# diag: what the agent says, after a failed check
diag() {
	echo "--- diagnostics: the agent's journal, table and statistics; the gateway's peers" >&2
	g 'journalctl -u fhr-agent -b --no-pager | tail -30; fhrctl -s /run/vmroam/fhr-agent.sock show lisp dynamic-eid
		fhrctl -s /run/vmroam/fhr-agent.sock show lisp event-history | tail -15; nft list ruleset | head -40' >&2
	ctl gw show lisp eid-notify >&2
}
checkd() { # check, then diag if it failed
	local f=$FAILS
	check "$@"
	[ "$FAILS" -eq "$f" ] || diag
}

# 1. first boot: the config drive
check "first boot: the config drive's fhr-agent.conf installed, root:vmroam 0640" \
	bash -c "g() { python3 $QGA -t 60 -- \"\$1\"; }
		cmp -s <(g 'cat /etc/vmroam/fhr-agent.conf') '$WORK/drive/fhr-agent.conf' &&
		test \"\$(g 'stat -c %U:%G:%a /etc/vmroam/fhr-agent.conf')\" = root:vmroam:640"
g 'cat /etc/network/interfaces.d/vmroam' >"$WORK/interfaces"
check "first boot: the drive's interfaces installed" cmp "$WORK/interfaces" "$WORK/drive/interfaces"
check "first boot: ... and configured (eth0 203.0.113.2/24, eth1 198.51.100.1/24)" \
	bash -c "python3 $QGA -t 60 -- 'ip -4 -br addr' | tee '$WORK/addrs' | grep -q '^eth0 .*203.0.113.2/24' &&
		grep -q '^eth1 .*198.51.100.1/24' '$WORK/addrs'"
check "first boot: the drive's host name installed and in use" \
	test "$(g 'cat /etc/hostname; hostname')" = "fhr-tenant-t1
fhr-tenant-t1"
check "first boot: remembered (/var/lib/vmroam-appliance/configured)" \
	g 'test -s /var/lib/vmroam-appliance/configured'
check "no failed unit" bash -c "test -z \"\$(python3 $QGA -t 60 -- 'systemctl --failed --no-legend')\""

# 2. the hardening of the shipped unit, as systemd reports it and as the process has it
unit=$(g 'cat /lib/systemd/system/fhr-agent.service') # (as the package installed it)
keys=$(awk -F= '/^\[Service\]/ { s = 1; next } /^\[/ { s = 0 } s && /^[A-Z][A-Za-z]*=/ { print $1 }' \
	<<<"$unit" | grep -vE '^(Type|Exec|Restart)' | sort -u)
g "systemctl show fhr-agent $(for k in $keys; do printf -- '-p %s ' "$k"; done)" >"$WORK/show"
words() { tr ' ' '\n' | tr 'A-Z' 'a-z' | grep -v '^$' | sort; }
for k in $keys; do
	want=$(awk -F= -v k="$k" '/^\[Service\]/ { s = 1; next } /^\[/ { s = 0 } s && $1 == k { sub(/^[^=]*=/, ""); print }' <<<"$unit")
	got=$(awk -v k="$k" 'index($0, k "=") == 1 { sub(/^[^=]*=/, ""); print }' "$WORK/show")
	case $k in
	SystemCallFilter) # @system-service, expanded by systemd: the service's calls, not reboot or mount
		ok() { grep -qw epoll_wait <<<"$got" && ! grep -qwE 'reboot|mount|kexec_load|init_module' <<<"$got"; } ;;
	CapabilityBoundingSet | AmbientCapabilities | RestrictAddressFamilies)
		ok() { [ "$(words <<<"$got")" = "$(words <<<"$want")" ]; } ;;
	UMask) ok() { [ "$((8#$got))" = "$((8#$want))" ]; } ;;
	*) ok() { [ "$got" = "$want" ]; } ;;
	esac
	if ok; then check "fhr-agent.service: $k=$want in effect" true
	else check "fhr-agent.service: $k=$want in effect (systemd: '$got')" false; fi
done
check "fhr-agent.service: every hardening line checked (at least 20)" test "$(wc -w <<<"$keys")" -ge 20
g 'p=$(systemctl show -p MainPID --value fhr-agent); cat /proc/$p/status; echo uid $(id -u vmroam)' >"$WORK/status"
st() { awk -v k="$1:" '$1 == k { print $2 }' "$WORK/status"; }
vuid=$(awk '$1 == "uid" { print $2 }' "$WORK/status")
check "the agent runs as vmroam (uid $vuid)" test -n "$vuid" -a "$(st Uid)" = "$vuid"
check "the agent has CAP_NET_ADMIN and CAP_NET_RAW only (effective, bounding)" \
	test "$(st CapEff) $(st CapBnd)" = "0000000000003000 0000000000003000"
check "the agent runs with no_new_privs and a seccomp filter" \
	test "$(st NoNewPrivs) $(st Seccomp)" = "1 2"
check "the agent's /usr and /etc are read-only, /run/vmroam writable, /tmp private" \
	g 'p=$(systemctl show -p MainPID --value fhr-agent); touch /tmp/host-tmp
		nsenter -t $p -m sh -c "! touch /usr/x 2>/dev/null && ! touch /etc/vmroam/x 2>/dev/null &&
			touch /run/vmroam/x && rm /run/vmroam/x && test ! -e /tmp/host-tmp"'
check "the agent's nftables table and NFQUEUE are in place (made under the hardened unit)" \
	g 'nft list tables | grep -q . && grep -q . /proc/net/netfilter/nfnetlink_queue'

# 3. detection and notification
check "the gateway outside learned the VM from fhr-t1" \
	jctl gw '.eid_notify_peers[] | select(.id == "fhr-t1") | .up' show lisp eid-notify
check "the agent has the VM, with its MAC, on eth1" \
	g "fhrctl -s /run/vmroam/fhr-agent.sock -j show lisp dynamic-eid | grep -q '\"$VM/32\"'"
if [ -n "${t1:-}" ]; then # (figures, not checks: bench/bench_appliance.sh)
	g 'systemd-analyze time | head -1; systemctl show -p ActiveEnterTimestampMonotonic --value fhr-agent' \
		>"$WORK/analyze"
	since() { printf '%.1f' "$(echo "$(cat "$1" 2>/dev/null || echo "$t0") - $t0" | bc)"; }
	echo "boot: QEMU started -> the VM registered at the Map-Server: $(since <(echo "$t1")) s" \
		"(TCG, this host's clock); the same boot's baselines: the guest agent answering" \
		"(basic.target) $(since "$WORK/t_agent") s, the agent's channel up at the gateway" \
		"$(since "$WORK/t_up") s; the guest's own clock: $(head -1 "$WORK/analyze" |
			sed 's/^Startup finished in //'), fhr-agent started at $(awk 'NR == 2 { printf "%.1f", $1 / 1e6 }' "$WORK/analyze") s"
fi

# 3b. the footprint inside the appliance: 1000 EIDs (IPv6: the VM's 1000 addresses, each
# sending one ping through the agent's queue), then VmRSS while idle
N=1000
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "addr add 2001:db8:100::%x/64 dev eth0 nodad\n", 4096 + i }' \
	>"$WORK/v6addrs"
ip -n "$(ns vm)" -batch "$WORK/v6addrs"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "2001:db8:100::%x\n", 4096 + i }' |
	nsx vm xargs -P 8 -I @ ping -6 -q -c 1 -W 2 -I @ 2001:db8:100::1 >/dev/null 2>&1
check "footprint: the gateway has the $N IPv6 EIDs from the appliance" \
	retry 120 jctl gw "[.dynamic_eids[] | select(.eid | startswith(\"2001:db8:100::\"))] | length == $N" \
	show lisp dynamic-eid
sleep 12 # (the first round of liveness probes, 10 s after the arrivals, and their answers)
g 'p=$(systemctl show -p MainPID --value fhr-agent); a=$(awk "/^voluntary_ctxt_switches/ { print \$2 }" /proc/$p/status)
	sleep 5; awk "/^voluntary_ctxt_switches/ { print \$2 - $a } /^VmRSS/ { print \$2 }" /proc/$p/status' >"$WORK/fp"
rss=$(sed -n 1p "$WORK/fp")
echo "footprint: in the appliance, fhr-agent with $((N + 1)) EIDs: VmRSS $rss kB;" \
	"$(sed -n 2p "$WORK/fp") wake-ups in 5 s (its 2 Keepalives a second, sent and received; the VM's ping and neighbour checks; the probes of 1001 EIDs)"
check "footprint: fhr-agent's VmRSS $rss kB <= 4096 kB with $((N + 1)) EIDs (in the appliance)" \
	test "${rss:-99999}" -le 4096

# 4. reload: a new fhr-id, then a broken configuration
g "sed -i 's/^ fhr-id fhr-t1\$/ fhr-id fhr-t1-b/' /etc/vmroam/fhr-agent.conf"
check "systemctl reload fhr-agent (a new fhr-id)" g 'systemctl reload fhr-agent'
check "reload: the gateway sees the agent under its new fhr-id" \
	retry 60 jctl gw '.eid_notify_peers[] | select(.id == "fhr-t1-b") | .up' show lisp eid-notify
checkd "reload: the agent has the VM again, the gateway hears it from fhr-t1-b" \
	retry 60 bash -c "jctl() { '$BIN/xtrctl' -s '$WORK/gw.sock' -j show lisp eid-notify | jq -e \"\$1\" >/dev/null; }
		jctl '.eid_notify_peers[] | select(.id == \"fhr-t1-b\") | .up and .eids >= 1' &&
		python3 $QGA -t 20 -- 'fhrctl -s /run/vmroam/fhr-agent.sock -j show lisp dynamic-eid' |
			jq -e '[.dynamic_eids[] | select(.eid == \"$VM/32\")] | length == 1' >/dev/null"
check "reload: the VM is still registered" registered
g 'cp /etc/vmroam/fhr-agent.conf /root/good.conf && echo " nfqueue 70000" >>/etc/vmroam/fhr-agent.conf'
pid1=$(g 'systemctl show -p MainPID --value fhr-agent')
check "systemctl reload refuses a broken configuration" g '! systemctl reload fhr-agent 2>/dev/null'
check "... and the agent runs on (same process, old configuration)" \
	bash -c "sleep 1; [ \"\$(python3 $QGA -t 60 -- 'systemctl is-active fhr-agent; systemctl show -p MainPID --value fhr-agent')\" = \"active
$pid1\" ]"
g 'cp /root/good.conf /etc/vmroam/fhr-agent.conf'

# 5. the journal's priorities
g 'journalctl -u fhr-agent -o json --no-pager' | jq -r '"\(.PRIORITY) \(.MESSAGE)"' >"$WORK/journal"
g 'journalctl -u fhr-agent -p warning -o cat --no-pager' >"$WORK/warnings"
check "journal: the broken configuration's error at priority err (3), with file:line" \
	grep -qE '^3 .*fhr-agent.conf:[0-9]+' "$WORK/journal"
check "journal: informational lines at priority info (6)" grep -qE '^6 .*listening' "$WORK/journal"
check "journalctl -p warning: the error, no informational line" \
	bash -c "grep -q 'fhr-agent.conf:[0-9]' '$WORK/warnings' && ! grep -q 'listening' '$WORK/warnings'"

# 6. a reboot keeps the configuration
g 'systemctl reboot' >/dev/null 2>&1
sleep 2
rebooted() { b=$(python3 $QGA -t 5 -- 'cat /proc/sys/kernel/random/boot_id' 2>/dev/null) && [ -n "$b" ] && [ "$b" != "$boot1" ]; }
check "the appliance reboots" retry 600 rebooted
check "after the reboot: the first-boot unit did not run again" \
	bash -c "[ \"\$(python3 $QGA -t 60 -- 'systemctl show -p ConditionResult --value vmroam-config-drive')\" = no ]"
check "after the reboot: the reloaded configuration kept (fhr-id fhr-t1-b), the host name too" \
	bash -c "python3 $QGA -t 60 -- 'cat /etc/vmroam/fhr-agent.conf' | grep -qx ' fhr-id fhr-t1-b' &&
		[ \"\$(python3 $QGA -t 60 -- hostname)\" = fhr-tenant-t1 ]"
checkd "after the reboot: fhr-agent runs and detects the VM again" \
	retry 120 g "fhrctl -s /run/vmroam/fhr-agent.sock -j show lisp dynamic-eid 2>/dev/null | grep -q '\"$VM/32\"'"
check "after the reboot: the gateway hears fhr-t1-b" \
	retry 60 jctl gw '.eid_notify_peers[] | select(.id == "fhr-t1-b") | .up' show lisp eid-notify
g 'systemctl poweroff' >/dev/null 2>&1
finish
