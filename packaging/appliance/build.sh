#!/usr/bin/env bash
# Builds the per-tenant fhr-agent appliance from Debian packages: a minimal Debian 12
# (mmdebstrap, variant minbase) with systemd, iproute2, nftables and ifupdown, Debian's cloud
# kernel (linux-image-cloud-amd64, its initramfs from initramfs-tools), the QEMU guest agent (the
# hypervisor's shutdown, freeze and exec), the vmroam-fhr-agent package installed and enabled, and
# the first-boot unit that reads the tenant's configuration from a config drive (label VMROAM:
# fhr-agent.conf, optionally interfaces and hostname).
# Output in OUTDIR:
#   fhr-appliance.tar      the root file system
#   fhr-appliance.ext4     a 1 GiB disk image of it (file system label vmroam-root)
#   fhr-appliance.vmlinuz  the kernel and its initramfs, for a direct kernel boot (QEMU -kernel,
#   fhr-appliance.initrd   libvirt <kernel>/<initrd>) with the command line in
#   fhr-appliance.cmdline  (root by label, serial console, interfaces named eth0, eth1, ...)
# usage: packaging/appliance/build.sh VMROAM_FHR_AGENT_DEB OUTDIR [MIRROR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DEB=$(realpath "$1")
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
MIRROR=${3:-http://deb.debian.org/debian}
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT

mmdebstrap --variant=minbase --mode=root --format=directory \
	--include=systemd-sysv,iproute2,nftables,ifupdown,procps,adduser,util-linux,mount \
	--include=linux-image-cloud-amd64,initramfs-tools,qemu-guest-agent,e2fsprogs \
	--customize-hook="mkdir -p \"\$1/tmp/vmroam\" && cp '$DEB' \"\$1/tmp/vmroam/\"" \
	--customize-hook='chroot "$1" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/vmroam/*.deb"' \
	--customize-hook='rm -rf "$1/tmp/vmroam"' \
	--customize-hook="install -D -m 0755 '$HERE/config-drive' \"\$1/usr/lib/vmroam-appliance/config-drive\"" \
	--customize-hook="install -D -m 0644 '$HERE/vmroam-config-drive.service' \"\$1/lib/systemd/system/vmroam-config-drive.service\"" \
	--customize-hook='chroot "$1" systemctl enable vmroam-config-drive.service fhr-agent.service' \
	--customize-hook='echo vmroam-fhr > "$1/etc/hostname"' \
	--customize-hook='mkdir -p "$1/etc/network/interfaces.d"' \
	--customize-hook='printf "LABEL=vmroam-root / ext4 defaults,errors=remount-ro 0 1\n" >"$1/etc/fstab"' \
	--customize-hook='test -f "$1/etc/network/interfaces" || printf "source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n" >"$1/etc/network/interfaces"' \
	--customize-hook="cp \"\$1\"/boot/vmlinuz-* '$OUT/fhr-appliance.vmlinuz' && cp \"\$1\"/boot/initrd.img-* '$OUT/fhr-appliance.initrd'" \
	bookworm "$ROOT" "$MIRROR" >"$OUT/build.log" 2>&1 || {
	tail -30 "$OUT/build.log" >&2
	exit 1
}
tar -C "$ROOT" --numeric-owner -cf "$OUT/fhr-appliance.tar" .
rm -f "$OUT/fhr-appliance.ext4"
mkfs.ext4 -q -L vmroam-root -d "$ROOT" "$OUT/fhr-appliance.ext4" 1G >>"$OUT/build.log" 2>&1
echo "root=LABEL=vmroam-root ro console=ttyS0 net.ifnames=0 panic=-1" >"$OUT/fhr-appliance.cmdline"
ls "$OUT"/fhr-appliance.*
