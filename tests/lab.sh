#!/usr/bin/env bash
# The main job, as far as it is built: vmroam's site gateways, branch xTR and Map-Server in
# network namespaces, a VM that moves from DC1 to DC2 while a branch client pings it at 1 kpps
# (extended-subnet, then across-subnet mode), the proxy xTR, and the benchmark figures. The VMs
# sit directly behind their gateways here; the multi-hop lab with tenant containers, fhr-agent,
# two tenants and an HTTP download arrives with the lab issue (lab/vmroam-lab).
# Needs root (network namespaces); everything it creates is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
rc=0
for mode in esm asm; do
	echo
	echo "=== a VM moves DC1 -> DC2 under 1 kpps of pings ($mode: $([ $mode = esm ] && echo extended subnet || echo across subnets))"
	bash tests/netns/move.sh build/bin "$mode" || rc=1
done
echo
echo "=== branch <-> non-LISP site through the proxy xTR"
bash tests/netns/proxy.sh build/bin || rc=1
echo
echo "=== fhr-agent: detection latency and footprint (multi-hop, namespaces)"
bash bench/bench_detect.sh build/bin || rc=1
for b in build/bin/bench_*; do
	echo
	echo "=== ${b##*/}"
	"$b"
done
exit $rc
