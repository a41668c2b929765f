#!/usr/bin/env bash
# Every benchmark, each printing its figure beside a baseline of the same run: the lab's
# convergence benchmark (100 moves between the data centers, p50/p99 of each step; then 20 live
# migrations of a real guest, with libvirt's downtime, pings lost and download stalls), the
# multi-hop detection latency and fhr-agent's footprint, 1000 tenants' FHRs against one gateway,
# a 10,000-VM data-center failover, the data plane against the kernel's
# tunnel, then the micro-benchmarks (prefix
# table, Map-Register verification, Map-Server, data-plane pipeline).
# Needs root (network namespaces); everything it creates is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
rc=0
echo "=== the lab: 100 moves DC1 <-> DC2 (odd ones announced by RARP and GARP, even ones silent)"
VMROAM_BIN=build/bin lab/vmroam-lab --guest netns --moves "${MOVES:-100}" | sed -n '/^== summary/,$p' || rc=1
echo
echo "=== the lab with a real guest: 20 live migrations DC1 <-> DC2 (QEMU, TCG)"
VMROAM_BIN=build/bin lab/vmroam-lab --guest qemu --moves "${MIGRATIONS:-20}" | sed -n '/^== summary/,$p' || rc=1
echo
echo "=== fhr-agent: detection latency and footprint (multi-hop, namespaces)"
bash bench/bench_detect.sh build/bin || rc=1
echo
echo "=== the fhr-agent appliance booted under QEMU (TCG): boot to registered (needs a Debian mirror)"
bash bench/bench_appliance.sh build/bin || rc=1
echo
echo "=== 1000 tenants' fhr-agents against one site gateway (namespaces, real processes)"
bash bench/bench_tenants.sh build/bin || rc=1
echo
echo "=== data-center failover: 10,000 VMs move DC1 -> DC2 (namespaces, real daemons)"
bash bench/bench_failover.sh build/bin || rc=1
echo
echo "=== the data plane against the kernel's VXLAN and plain routing (iperf3, namespaces)"
bash bench/bench_tunnel.sh build/bin || rc=1
for b in build/bin/bench_*; do
	echo
	echo "=== ${b##*/}"
	"$b"
done
exit $rc
