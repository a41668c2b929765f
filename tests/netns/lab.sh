#!/usr/bin/env bash
# The lab (lab/vmroam-lab) as a test: a short run of a scenario, judged on its JSON results and
# on what is left afterwards. Fails on any failed check of the lab itself (no ping lost after
# the old site knew, downloads complete with the right checksum, the final state of every show
# command), on a move that did not converge, and on namespaces or processes left after teardown.
# With --guest qemu (a real guest, live-migrated): also on any ping lost by any sender across a
# migration, on libvirt's figures missing, on a libvirt mount point left behind; skipped without
# QEMU/libvirt.
# usage: lab.sh BUILD_BIN_DIR LAB-ARGS...
set -u
[ "$(id -u)" -eq 0 ] || { echo "SKIP: the lab needs root"; exit 77; }
BIN=$(realpath "$1")
shift
LAB=vmrct$$
GUEST=netns
case " $* " in *" --guest qemu "*) GUEST=qemu ;; esac
if [ $GUEST = qemu ]; then
	for t in libvirtd virsh qemu-system-x86_64; do
		command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (packaging/deps.sh)"; exit 77; }
	done
fi
mounts_before=$(ls -d /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt 2>/dev/null)
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
FAILS=0
check() {
	local what=$1
	shift
	if "$@" >/dev/null; then echo "ok: $what"; else echo "FAIL: $what" >&2; FAILS=$((FAILS + 1)); fi
}

VMROAM_BIN=$BIN VMROAM_LAB=$LAB "$(dirname "$0")/../../lab/vmroam-lab" --json "$@" >"$OUT"
rc=$?
check "the lab ran and passed its own checks (exit $rc)" test $rc -eq 0
check "JSON results: every check passed" jq -e '.checks.failed == 0 and .checks.passed > 0' "$OUT"
check "every move: the download complete, SHA-256 right" \
	jq -e '(.moves | length) > 0 and all(.moves[]; .download_ok)' "$OUT"
check "every move: no ping lost after the old site knew, none before the move" \
	jq -e 'all(.moves[]; .pings_lost_after_converged == 0)' "$OUT"
check "every move: tenant B (same addresses, other instance-id) lost nothing" \
	jq -e 'all(.moves[]; .tenant_b_pings_lost == 0)' "$OUT"
check "every move: the non-LISP site (through the proxy xTR) lost no ping sent after the old site knew" \
	jq -e 'all(.moves[]; .proxy_pings_lost_after_converged == 0)' "$OUT"
check "every move: the Map-Server registered the new site and the branch followed" \
	jq -e 'all(.moves[]; .registered_ms != null and
		([.steps[] | select(.key == "branch_updated") | .ms] | first) != null)' "$OUT"
check "every move: the idle proxy-ITR (no traffic) followed: a publication" \
	jq -e 'all(.moves[]; .idle_after_registered_ms != null)' "$OUT"
if jq -e '.failover != null' "$OUT" >/dev/null; then
	check "failover: traffic flows through the other gateway (nothing lost in the last second)" \
		jq -e '.failover.lost_in_last_second == 0 and .failover.pings_sent > 3000' "$OUT"
	jq -r '.failover | "failover: \(.failed) failed, \(.took_over) took over: \(.pings_lost) pings lost, an outage of \(.outage_ms) ms"' "$OUT"
fi
check "every fault run converged" jq -e 'all(.faults[]; .converged)' "$OUT"
if [ $GUEST = qemu ]; then
	check "the lab ran real guests" jq -e '.guest == "qemu"' "$OUT"
	check "every migration: libvirt's total time, downtime, suspend and resume reported" \
		jq -e 'all(.moves[]; .migration.ok and .migration.total_ms != null and
			.migration.downtime_ms != null and .migration.suspended != null and .migration.resumed != null)' "$OUT"
	check "every migration: no ping lost by the branch, a server, the non-LISP site or tenant B" \
		jq -e 'all(.moves[]; .pings_lost == 0 and .proxy_pings_lost == 0 and
			.tenant_b_pings_lost == 0 and all(.same_subnet[]; .to_vm_lost == 0))' "$OUT"
	jq -r '.moves[] | "migration \(.move): DC\(.from) -> DC\(.to): libvirt \(.migration.total_ms) ms, downtime \(.migration.downtime_ms) ms, paused \(.migration.paused_ms) ms; pings lost \(.pings_lost) (non-LISP site \(.proxy_pings_lost), servers \([.same_subnet[].to_vm_lost] | join("/"))), download stall \(.download_max_stall_ms) ms"' "$OUT" 2>/dev/null
fi
check "no libvirt mount point left" test "$mounts_before" = \
	"$(ls -d /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt 2>/dev/null)"
check "no namespace left" bash -c "! ip netns list | grep -q '^$LAB-'"
no_process() { ! pgrep -f "/tmp/$LAB/"; }
check "no process left" no_process
check "no work directory left" test ! -e "/tmp/$LAB"
jq -r '.summary[] | "\(.announce): registered p50 \(.registered_ms.p50) ms, redirect p50 \(.redirect_ms.p50) ms, stall max \(.download_max_stall_ms.max) ms"' "$OUT" 2>/dev/null
echo "lab.sh: $FAILS failed"
[ "$FAILS" -eq 0 ]
