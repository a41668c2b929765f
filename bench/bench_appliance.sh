#!/usr/bin/env bash
# The fhr-agent appliance's boot-to-registered time: the packages and the appliance are built
# from this tree, then tests/package/boot.sh boots it under QEMU (TCG) with a VM on its tenant
# interface and prints, from the same boot, the time from QEMU's start until the VM is registered
# at the Map-Server beside its baselines: the guest's own boot to multi-user.target
# (systemd-analyze) and to fhr-agent started (the rest is the agent's detection and the
# gateway's registration). RUNS boots (default 3), each a fresh copy of the image.
# usage: bench/bench_appliance.sh BUILD_BIN_DIR   (root; a Debian mirror: MIRROR=...)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(realpath "$1")
MIRROR=${MIRROR:-http://deb.debian.org/debian}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
bash "$SRC/packaging/build-deb.sh" "$OUT/debs" >/dev/null
bash "$SRC/packaging/appliance/build.sh" "$OUT"/debs/vmroam-fhr-agent_*_amd64.deb "$OUT/app" \
	"$MIRROR" >/dev/null
rc=0
for i in $(seq "${RUNS:-3}"); do
	echo "--- boot $i"
	bash "$SRC/tests/package/boot.sh" "$OUT/app" "$BIN" >"$OUT/boot.log" 2>&1 || rc=1
	grep -E '^(boot|FAIL|boot\.sh):' "$OUT/boot.log" || true
done
exit $rc
