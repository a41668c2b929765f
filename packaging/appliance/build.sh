#!/usr/bin/env bash
# Builds the per-tenant fhr-agent appliance's root file system from Debian packages: a minimal
# Debian 12 (mmdebstrap, variant minbase) with systemd, iproute2, nftables and ifupdown, the
# vmroam-fhr-agent package installed and enabled, and the first-boot unit that reads the tenant's
# configuration from a config drive (label VMROAM: fhr-agent.conf, optionally interfaces and
# hostname). Output: OUTDIR/fhr-appliance.tar (the root file system) and, where mkfs.ext4 can
# populate one, OUTDIR/fhr-appliance.ext4 (a 512 MiB disk image of it).
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
	--customize-hook="mkdir -p \"\$1/tmp/vmroam\" && cp '$DEB' \"\$1/tmp/vmroam/\"" \
	--customize-hook='chroot "$1" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/vmroam/*.deb"' \
	--customize-hook='rm -rf "$1/tmp/vmroam"' \
	--customize-hook="install -D -m 0755 '$HERE/config-drive' \"\$1/usr/lib/vmroam-appliance/config-drive\"" \
	--customize-hook="install -D -m 0644 '$HERE/vmroam-config-drive.service' \"\$1/lib/systemd/system/vmroam-config-drive.service\"" \
	--customize-hook='chroot "$1" systemctl enable vmroam-config-drive.service fhr-agent.service' \
	--customize-hook='echo vmroam-fhr > "$1/etc/hostname"' \
	--customize-hook='mkdir -p "$1/etc/network/interfaces.d"' \
	bookworm "$ROOT" "$MIRROR" >"$OUT/build.log" 2>&1 || {
	tail -30 "$OUT/build.log" >&2
	exit 1
}
tar -C "$ROOT" --numeric-owner -cf "$OUT/fhr-appliance.tar" .
rm -f "$OUT/fhr-appliance.ext4"
if mkfs.ext4 -q -L vmroam-root -d "$ROOT" "$OUT/fhr-appliance.ext4" 512M 2>>"$OUT/build.log"; then
	echo "$OUT/fhr-appliance.ext4"
fi
echo "$OUT/fhr-appliance.tar"
