#!/usr/bin/env bash
# Starts the lab N times in a row (lab/vmroam-lab --setup-only: two data centres, two tenants,
# VMs booted, registered and serving; both ends of each eid-notify channel agreeing), each torn
# down before the next. A setup that fails once in N is a bug: this is how it is found.
# usage: lab/repeat.sh [N] [LAB-ARGS...]        (N: default 30; needs root and a build)
set -uo pipefail
N=${1:-30}
shift || true
HERE=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "lab/repeat.sh: needs root" >&2; exit 77; }
export VMROAM_BIN=${VMROAM_BIN:-$(dirname "$HERE")/build/bin}
export VMROAM_LAB=${VMROAM_LAB:-vmrrep$$} # (its own namespaces: another lab may be running)
fails=0
times=()
for i in $(seq 1 "$N"); do
	out=$("$HERE/vmroam-lab" --setup-only --json "$@" 2>"/tmp/vmroam-repeat-$$.err")
	rc=$?
	t=$(jq -r '.setup_s // empty' <<<"$out" 2>/dev/null)
	if [ $rc -eq 0 ] && [ -n "$t" ]; then
		times+=("$t")
		echo "run $i/$N: ready in $t s"
	else
		fails=$((fails + 1))
		echo "run $i/$N: FAILED (exit $rc)"
		tail -40 "/tmp/vmroam-repeat-$$.err"
	fi
done
rm -f "/tmp/vmroam-repeat-$$.err"
if [ ${#times[@]} -gt 0 ]; then
	printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END {
		printf "setup time over %d runs: min %.2f s, median %.2f s, max %.2f s\n",
			NR, v[1], v[int((NR + 1) / 2)], v[NR] }'
fi
echo "lab/repeat.sh: $((N - fails)) passed, $fails failed"
[ $fails -eq 0 ]
