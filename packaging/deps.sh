#!/usr/bin/env bash
# Install every Debian 12 package vmroam needs to build, test, fuzz, benchmark and run the lab.
# Idempotent: installs only what is missing. Needs root (or sudo).
set -euo pipefail

PKGS=(
	# build
	build-essential cmake ninja-build pkg-config clang clang-format bison flex
	# libraries
	libev-dev libprotobuf-c-dev protobuf-c-compiler libnetfilter-queue-dev libvirt-dev
	libcmocka-dev libssl-dev libxml2-dev libmnl-dev libnftnl-dev
	# tests and lab
	tshark jq iproute2 iptables iputils-ping iputils-arping tcpdump ethtool iperf3
	# the lab: an HTTP server in the VMs, a client at the branch
	python3 curl
	# hypervisor-hooks' end-to-end test: two libvirtd (qemu TCG) and a live migration
	libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 nftables
	# the Debian packages and the appliance (ctest -L package)
	debhelper dpkg-dev fakeroot lintian mmdebstrap e2fsprogs systemd man-db bsdextrautils
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | $SUDO debconf-set-selections
$SUDO apt-get update -o DPkg::Lock::Timeout=300 -qq
$SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"
