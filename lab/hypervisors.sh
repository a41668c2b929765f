# shellcheck shell=bash
# The lab's hypervisors (sourced by vmroam-lab with --guest qemu): a libvirtd (qemu driver,
# TCG) in each DC's hypervisor namespace hv1/hv2, as tests/netns/libvirt.sh runs them: a private
# mount namespace with libvirt's compiled-in directories bind-mounted from $WORK, a passwd with
# libvirt-qemu, a host_uuid per daemon, the migration address on the hypervisors' own link.
# /run and /var are replaced whole in that namespace (by $WORK/hvN/run and var, holding
# libvirt's directories), so that no mount point is made on the host: another test's libvirtd
# that creates /run/libvirt and removes it at its end would unmount ours (seen: this lab's
# libvirtd then wrote its state into the host's /run/libvirt). Each
# has the vmroam qemu hook in hooks/qemu.d and vmroam-virtwatch, both telling tenant A's FHR of
# that DC (over the management link, topology.sh) through hypervisor.conf; `virsh event` logs
# every event of each daemon (the moves' suspend and resume times).
#
# Tenant A's VM is the real guest (lab/guest.sh): started on hv1, live-migrated with
# `virsh migrate --live --p2p`.

GUEST_DOM=vm-a
GUEST_MAC=52:54:00:0a:00:10
hv_mig_addr() { echo "192.0.2.24$1"; }      # hvN's address on the migration link
hv_fhr_addr() { echo "192.0.2.$((244 + 4 * ($1 - 1) + 2))"; } # fhr-aN's on hvN's management link
hv_uri() { echo "qemu+unix:///system?socket=$WORK/hv$1/sock/libvirt-sock"; }
vsh() {
	local n=$1
	shift
	timeout 120 virsh -q -c "$(hv_uri "$n")" "$@"
}

# hv_setup: both libvirtd with the hook, their watchers and event logs
hv_setup() {
	local n B
	# libvirtd's configuration directory is compiled in: /etc/libvirt (libvirt-daemon's) is
	# the one mount point on the host, created if missing (removed by vmroam-lab's teardown)
	[ -d /etc/libvirt ] || { mkdir -p /etc/libvirt && echo /etc/libvirt >>"$WORK/created-dirs"; }
	cp /etc/passwd "$WORK/passwd"
	cp /etc/group "$WORK/group"
	grep -q '^libvirt-qemu:' "$WORK/passwd" ||
		echo "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin" >>"$WORK/passwd"
	grep -q '^libvirt-qemu:' "$WORK/group" || echo "libvirt-qemu:x:64055:" >>"$WORK/group"
	for n in 1 2; do
		B=$WORK/hv$n
		# the QEMU capabilities cache is kept across runs (libvirtd probes QEMU for 4-5 s
		# without it)
		mkdir -p "$B/etc/hooks/qemu.d" "$B/run/libvirt" "$B/run/lock" "$B/var/lib/libvirt" \
			"$B/var/log/libvirt" "$B/var/cache/libvirt" "$B/var/tmp" "$B/sock" \
			"$GUEST_CACHE/libvirt-hv$n"
		ln -sfn /run "$B/var/run"
		ln -sfn /run/lock "$B/var/lock"
		cat >"$B/etc/libvirtd.conf" <<-CONF
			unix_sock_dir = "$B/sock"
			unix_sock_group = "root"
			unix_sock_ro_perms = "0777"
			unix_sock_rw_perms = "0770"
			auth_unix_ro = "none"
			auth_unix_rw = "none"
			host_uuid = "0000000$n-1111-2222-3333-444444444444"
			log_outputs = "3:file:$B/libvirtd.log"
		CONF
		cat >"$B/etc/qemu.conf" <<-CONF
			user = "root"
			group = "root"
			dynamic_ownership = 0
			remember_owner = 0
			security_driver = "none"
			cgroup_controllers = [ ]
			namespaces = [ ]
			stdio_handler = "file"
			migration_address = "$(hv_mig_addr "$n")"
			migration_port_min = 492${n}0
			migration_port_max = 492${n}9
		CONF
		cat >"$WORK/hv$n.conf" <<-CONF
			hypervisor
			 host-id dc$n-host
			 tenant TENANT-A
			  instance-id 100
			  key tenant-a-hv-key
			  fhr $(hv_fhr_addr "$n")
		CONF
		# the hook as an operator installs it, with this host's configuration and a log
		cat >"$B/etc/hooks/qemu.d/vmroam" <<-HOOK
			#!/bin/sh
			exec "$BIN/vmroam-qemu-hook" -c "$WORK/hv$n.conf" -L "$WORK/hook$n.log" "\$@"
		HOOK
		chmod 755 "$B/etc/hooks/qemu.d/vmroam"
		inns "hv$n" unshare -m --propagation private bash -c "
			mount --bind $WORK/passwd /etc/passwd && mount --bind $WORK/group /etc/group &&
			mount --bind $B/etc /etc/libvirt &&
			mount --bind $GUEST_CACHE/libvirt-hv$n $B/var/cache/libvirt &&
			mount --rbind $B/var /var && mount --bind $B/run /run &&
			exec libvirtd --pid-file $B/libvirtd.pid --config $B/etc/libvirtd.conf" \
			>"$B/libvirtd.out" 2>&1 &
	done
	for n in 1 2; do
		retry 60 vsh "$n" version >/dev/null 2>&1 || {
			echo "vmroam-lab: hv$n's libvirtd does not answer:" >&2
			tail -5 "$WORK/hv$n/libvirtd.out" "$WORK/hv$n/libvirtd.log" >&2 2>/dev/null
			exit 1
		}
	done
	for n in 1 2; do
		inns "hv$n" "$BIN/vmroam-virtwatch" -c "$(hv_uri "$n")" -f "$WORK/hv$n.conf" \
			>/dev/null 2>>"$WORK/watch$n.log" &
		inns "hv$n" timeout 86400 virsh -q -c "$(hv_uri "$n")" event --all --loop --timestamp \
			>"$WORK/events$n.log" 2>&1 &
	done
	for n in 1 2; do
		retry 10 grep -q 'connected to' "$WORK/watch$n.log" || {
			echo "vmroam-lab: hv$n's vmroam-virtwatch did not connect:" >&2
			tail -5 "$WORK/watch$n.log" >&2
			exit 1
		}
	done
}

# shellcheck disable=SC2153 # (GUEST_DIR: lab/guest.sh's guest_build)
# hv_guest_start N SRVDIR RATE: tenant A's VM boots on hvN serving SRVDIR's files; returns once
# its /init says it serves (60 s at most: else its console's tail)
hv_guest_start() {
	local n=$1 srv=$2 rate=$3
	guest_initrd "$srv" "$WORK/$GUEST_DOM.initrd"
	# (the cache is under /var, which the hypervisors do not see)
	ln -f "$GUEST_DIR/vmlinuz" "$WORK/$GUEST_DOM.vmlinuz" 2>/dev/null ||
		cp "$GUEST_DIR/vmlinuz" "$WORK/$GUEST_DOM.vmlinuz"
	: >"$WORK/$GUEST_DOM.console"
	cat >"$WORK/$GUEST_DOM.xml" <<-XML
		<domain type='qemu'>
		  <name>$GUEST_DOM</name>
		  <uuid>6d1c4b0e-0000-4000-8000-00000000a010</uuid>
		  <metadata>
		    <vmroam:vm xmlns:vmroam="urn:vmroam:libvirt:1">
		      <vmroam:tenant>TENANT-A</vmroam:tenant>
		      <vmroam:instance-id>100</vmroam:instance-id>
		      <vmroam:address>$EID</vmroam:address>
		    </vmroam:vm>
		  </metadata>
		  <memory unit='MiB'>128</memory>
		  <vcpu>1</vcpu>
		  <os>
		    <type arch='x86_64' machine='pc'>hvm</type>
		    <kernel>$WORK/$GUEST_DOM.vmlinuz</kernel>
		    <initrd>$WORK/$GUEST_DOM.initrd</initrd>
		    <cmdline>console=ttyS0 quiet panic=-1 vmroam.ip=$EID/25 vmroam.gw=198.51.100.1 vmroam.port=8080 vmroam.rate=$rate</cmdline>
		  </os>
		  <features><acpi/></features>
		  <on_poweroff>destroy</on_poweroff>
		  <on_crash>destroy</on_crash>
		  <devices>
		    <emulator>$(command -v qemu-system-x86_64)</emulator>
		    <interface type='bridge'>
		      <source bridge='br-a'/>
		      <mac address='$GUEST_MAC'/>
		      <model type='virtio'/>
		    </interface>
		    <serial type='file'>
		      <source path='$WORK/$GUEST_DOM.console' append='on'/>
		      <target port='0'/>
		    </serial>
		    <memballoon model='none'/>
		  </devices>
		</domain>
	XML
	# persistent (defined): after a migration the source keeps its inactive copy, whose
	# completed job libvirt reports (domjobinfo --completed); hv_migrate undefines it then
	{ vsh "$n" define "$WORK/$GUEST_DOM.xml" && vsh "$n" start "$GUEST_DOM"; } >/dev/null || {
		echo "vmroam-lab: the guest did not start on hv$n:" >&2
		tail -5 "$WORK/hv$n/libvirtd.log" "$WORK/hv$n/var/log/libvirt/qemu/$GUEST_DOM.log" >&2 2>/dev/null
		exit 1
	}
	retry 60 grep -q 'vmroam-guest: serving' "$WORK/$GUEST_DOM.console" || {
		echo "vmroam-lab: the guest did not boot within 60 s; its console's tail:" >&2
		tail -20 "$WORK/$GUEST_DOM.console" >&2
		exit 1
	}
}

# hv_event_time N SINCE WHAT: the epoch time of hvN's first lifecycle event WHAT of the guest
# ("Suspended Migrated", "Resumed Migrated") after SINCE (virsh event's own timestamp, UTC)
hv_event_time() {
	local n=$1 since=$2 what=$3 line t
	while read -r line; do
		t=$(date -u -d "${line%%+0000:*}" +%s.%N) || continue
		awk -v a="$t" -v b="$since" 'BEGIN { exit !(a > b) }' && { echo "$t"; return 0; }
	done < <(grep -a "event 'lifecycle' for domain '$GUEST_DOM': $what" "$WORK/events$n.log")
	return 1
}

# hv_migrate K FROM TO: the guest live-migrates hvFROM -> hvTO; writes $WORK/migrate.K (JSON:
# moved = the source's SUSPENDED/MIGRATED, resumed = the destination's RESUMED/MIGRATED, libvirt's
# total time and downtime, QEMU's downtime limit, the migrate command's wall time); 0 if the
# guest runs at TO
hv_migrate() {
	local k=$1 from=$2 to=$3 t0 t1 rc=0 susp res info total down limit
	# QEMU switches over once what is left to copy fits in its downtime limit (300 ms unless
	# --max-downtime)
	if [ -n "${MAX_DOWNTIME:-}" ]; then
		vsh "$from" migrate-setmaxdowntime "$GUEST_DOM" "$MAX_DOWNTIME" >/dev/null || return 1
	fi
	limit=$(vsh "$from" migrate-getmaxdowntime "$GUEST_DOM" 2>/dev/null | awk 'NF { print $1 + 0; exit }')
	t0=$EPOCHREALTIME
	vsh "$from" migrate --live --p2p --persistent "$GUEST_DOM" "$(hv_uri "$to")" \
		--migrateuri "tcp://$(hv_mig_addr "$to")" >"$WORK/virsh-migrate.$k" 2>&1 || rc=$?
	t1=$EPOCHREALTIME
	info=$(vsh "$from" domjobinfo --completed "$GUEST_DOM" 2>&1 || true)
	echo "$info" >"$WORK/domjobinfo.$k"
	total=$(echo "$info" | awk -F: '/^Time elapsed:/ { print $2 + 0; exit }')
	down=$(echo "$info" | awk -F: '/^Total downtime:/ { print $2 + 0; exit }')
	retry 5 hv_event_time "$from" "$t0" "Suspended Migrated" >/dev/null || true
	retry 5 hv_event_time "$to" "$t0" "Resumed Migrated" >/dev/null || true
	susp=$(hv_event_time "$from" "$t0" "Suspended Migrated" || echo null)
	res=$(hv_event_time "$to" "$t0" "Resumed Migrated" || echo null)
	jq -n --argjson susp "$susp" --argjson res "$res" --argjson total "${total:-null}" \
		--argjson down "${down:-null}" --argjson limit "${limit:-null}" --argjson t0 "$t0" --argjson t1 "$t1" --argjson rc "$rc" \
		'{moved: $susp, suspended: $susp, resumed: $res, total_ms: $total, downtime_ms: $down,
		  downtime_limit_ms: $limit,
		  command_s: (($t1 - $t0) * 100 | round / 100), ok: ($rc == 0)}' >"$WORK/migrate.$k"
	[ $rc = 0 ] || {
		echo "vmroam-lab: virsh migrate hv$from -> hv$to failed:" >&2
		cat "$WORK/virsh-migrate.$k" >&2
		return 1
	}
	# the source's inactive copy goes once its job's figures are read (--persistent: the
	# destination's is the definition now)
	vsh "$from" undefine "$GUEST_DOM" >/dev/null 2>&1 || true
}

# hv_fdb: the ports where the guest's MAC is learned on the hypervisors' and fab's bridges
hv_fdb() {
	local r b
	for r in hv1:br-a hv2:br-a fab:br-a1 fab:br-a2; do
		b=${r#*:}
		echo "${r%%:*} $b: $(bridge -n "$(n "${r%%:*}")" fdb show br "$b" 2>/dev/null |
			awk -v m="$GUEST_MAC" '$1 == m { printf "%s ", $3 }')"
	done
}
