#!/usr/bin/env bash
# The Debian packages and the fhr-agent appliance, end to end (ctest -L package; root, network
# to a Debian mirror):
# 1. packaging/build-deb.sh builds vmroam-xtr-gateway, vmroam-fhr-agent and
#    vmroam-hypervisor-hooks; lintian finds no error or warning; each has its files;
# 2. the three are installed into a fresh Debian 12 root (mmdebstrap) with their dependencies:
#    the system user exists, the conffiles are root:vmroam 0640, the hook is where libvirt
#    looks, each daemon's -n accepts the shipped configuration inside the root, and
#    systemd-analyze verify accepts the units (hardening settings checked too);
# 3. packaging/appliance/build.sh builds the appliance's root file system from the
#    vmroam-fhr-agent package: its contents, the units enabled, and the first-boot script run in
#    it (chroot) against a config drive's files: the tenant's configuration installed and valid,
#    a broken one refused with nothing changed;
# 4. the appliance booted as a VM (tests/package/boot.sh: QEMU, TCG, systemd, its config drive, a
#    VM on its tenant interface, the packaged xtr-gateway and a Map-Server in namespaces here).
# usage: tests/package/run.sh   (MIRROR=... to use another Debian mirror)
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
. "$SRC/tests/netns/lib.sh" # check, finish, $WORK and its cleanup (no namespaces here)
# the mirror this machine's apt uses (deb822 or one-line sources), else deb.debian.org
host_mirror() {
	{
		awk '/^URIs:/ { print $2 }' /etc/apt/sources.list.d/*.sources 2>/dev/null
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; break } }' \
			/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | grep -v -e security -e '^$' | head -1
}
MIRROR=${MIRROR:-$(host_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
echo "mirror: $MIRROR"
DEBS=$WORK/debs
V=$(sed -n '1s/^vmroam (\([^)]*\)).*/\1/p' "$SRC/packaging/debian/changelog")
PKGS=(vmroam-xtr-gateway vmroam-fhr-agent vmroam-hypervisor-hooks)

# 1. build, lint, contents
check "the three packages build (dpkg-buildpackage -us -uc -b)" \
	bash -c "'$SRC/packaging/build-deb.sh' '$DEBS' >/dev/null"
debs=()
for p in "${PKGS[@]}"; do debs+=("$DEBS/${p}_${V}_amd64.deb"); done
check "lintian: no error, no warning" bash -c "lintian --fail-on error,warning ${debs[*]} 2>&1 | grep -v 'running with root' | tee '$WORK/lintian.out'; exit \${PIPESTATUS[0]}"
has() { dpkg-deb -c "$1" | awk '{ print $6 }' | grep -qx "./$2"; }
for f in usr/sbin/xtr-gateway usr/bin/xtrctl lib/systemd/system/xtr-gateway.service \
	etc/vmroam/xtr-gateway.conf usr/share/man/man8/xtr-gateway.8.gz usr/share/man/man8/xtrctl.8.gz \
	usr/share/man/man5/vmroam.conf.5.gz; do
	check "vmroam-xtr-gateway has /$f" has "${debs[0]}" "$f"
done
for f in usr/sbin/fhr-agent usr/bin/fhrctl lib/systemd/system/fhr-agent.service \
	lib/systemd/system/fhr-agent@.service etc/vmroam/fhr-agent.conf \
	usr/share/man/man8/fhr-agent.8.gz usr/share/man/man8/fhrctl.8.gz; do
	check "vmroam-fhr-agent has /$f" has "${debs[1]}" "$f"
done
for f in usr/sbin/vmroam-virtwatch usr/libexec/vmroam/vmroam-qemu-hook \
	lib/systemd/system/vmroam-virtwatch.service etc/vmroam/hypervisor.conf \
	etc/libvirt/hooks/qemu.d/vmroam usr/share/man/man8/vmroam-virtwatch.8.gz; do
	check "vmroam-hypervisor-hooks has /$f" has "${debs[2]}" "$f"
done

# 2. a fresh root with the three installed
ROOT=$WORK/root
check "a fresh Debian 12 root with the three packages (mmdebstrap)" \
	mmdebstrap --variant=apt --mode=root --format=directory \
	--customize-hook="mkdir -p \"\$1/tmp/vmroam\" && cp ${debs[*]} \"\$1/tmp/vmroam/\"" \
	--customize-hook='chroot "$1" sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/vmroam/*.deb"' \
	--customize-hook='rm -rf "$1/tmp/vmroam"' \
	bookworm "$ROOT" "$MIRROR" >"$WORK/root.log" 2>&1
for p in "${PKGS[@]}"; do
	check "$p installed" bash -c "chroot '$ROOT' dpkg-query -W -f='\${Status}' $p | grep -q 'install ok installed'"
done
check "the system user vmroam exists" chroot "$ROOT" getent passwd vmroam
for f in xtr-gateway fhr-agent hypervisor; do
	check "/etc/vmroam/$f.conf is root:vmroam 0640 (it holds keys)" \
		test "$(chroot "$ROOT" stat -c '%U:%G %a' "/etc/vmroam/$f.conf")" = "root:vmroam 640"
done
check "the libvirt hook is in /etc/libvirt/hooks/qemu.d and executable" \
	chroot "$ROOT" test -x /etc/libvirt/hooks/qemu.d/vmroam
check "xtr-gateway -n accepts /etc/vmroam/xtr-gateway.conf (in the root)" \
	chroot "$ROOT" xtr-gateway -n -f /etc/vmroam/xtr-gateway.conf
check "fhr-agent -n accepts /etc/vmroam/fhr-agent.conf (in the root)" \
	chroot "$ROOT" fhr-agent -n -f /etc/vmroam/fhr-agent.conf
check "vmroam-virtwatch -n accepts /etc/vmroam/hypervisor.conf (in the root)" \
	chroot "$ROOT" vmroam-virtwatch -n -f /etc/vmroam/hypervisor.conf
for u in xtr-gateway.service fhr-agent.service fhr-agent@tenant-a.service vmroam-virtwatch.service; do
	check "systemd-analyze verify $u" systemd-analyze verify --man=no --root="$ROOT" "$u"
done
unit() { cat "$ROOT/lib/systemd/system/$1"; }
for u in xtr-gateway.service fhr-agent.service fhr-agent@.service vmroam-virtwatch.service; do
	check "$u: a system user, ProtectSystem=strict, no new privileges, reload is SIGHUP" \
		bash -c "u=\$(cat '$ROOT/lib/systemd/system/$u'); grep -qx 'User=vmroam' <<<\"\$u\" &&
			grep -qx 'ProtectSystem=strict' <<<\"\$u\" && grep -qx 'NoNewPrivileges=yes' <<<\"\$u\" &&
			grep -q '^ExecReload=/bin/kill -HUP \\\$MAINPID' <<<\"\$u\""
done
for u in xtr-gateway.service fhr-agent.service fhr-agent@.service; do
	check "$u: capabilities NET_ADMIN and NET_RAW only, RuntimeDirectory=vmroam" \
		bash -c "u=\$(cat '$ROOT/lib/systemd/system/$u'); grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW' <<<\"\$u\" &&
			grep -qx 'RuntimeDirectory=vmroam' <<<\"\$u\""
done
check "vmroam-virtwatch.service: no capabilities" \
	grep -qx 'CapabilityBoundingSet=' "$ROOT/lib/systemd/system/vmroam-virtwatch.service"

# 3. the appliance
APP=$WORK/appliance
check "the appliance's root file system builds (packaging/appliance/build.sh)" \
	bash -c "'$SRC/packaging/appliance/build.sh' '${debs[1]}' '$APP' '$MIRROR' >/dev/null"
AR=$WORK/approot
mkdir -p "$AR"
tar -C "$AR" -xf "$APP/fhr-appliance.tar" 2>/dev/null
check "appliance: vmroam-fhr-agent installed, not xtr-gateway" \
	bash -c "chroot '$AR' dpkg-query -W -f='\${Status}' vmroam-fhr-agent | grep -q 'install ok installed' &&
		! chroot '$AR' dpkg-query -W vmroam-xtr-gateway >/dev/null 2>&1"
check "appliance: systemd is init" test -L "$AR/sbin/init"
check "appliance: fhr-agent.service enabled" test -L "$AR/etc/systemd/system/multi-user.target.wants/fhr-agent.service"
check "appliance: the first-boot config-drive unit enabled before fhr-agent" \
	bash -c "test -L '$AR/etc/systemd/system/multi-user.target.wants/vmroam-config-drive.service' &&
		grep -q '^Before=.*fhr-agent.service' '$AR/lib/systemd/system/vmroam-config-drive.service'"
check "appliance: systemd-analyze verify the units" \
	systemd-analyze verify --man=no --root="$AR" vmroam-config-drive.service fhr-agent.service
check "appliance: a disk image of it (ext4)" test -s "$APP/fhr-appliance.ext4"
check "appliance: not configured before first boot" test ! -e "$AR/var/lib/vmroam-appliance/configured"
# a config drive's files (what the first boot finds on the drive labelled VMROAM)
mkdir -p "$AR/mnt/drive"
sed 's/^ fhr-id .*/ fhr-id fhr-tenant-c-dc1/' "$SRC/packaging/examples/fhr-agent.conf" >"$AR/mnt/drive/fhr-agent.conf"
printf 'auto eth0\niface eth0 inet static\n address 192.0.2.50/24\n' >"$AR/mnt/drive/interfaces"
echo fhr-tenant-c >"$AR/mnt/drive/hostname"
cp "$AR/etc/vmroam/fhr-agent.conf" "$WORK/before.conf"
printf 'router lisp\n fhr-id x\n nfqueue 70000\n' >"$WORK/bad.conf"
mkdir -p "$AR/mnt/bad" && cp "$WORK/bad.conf" "$AR/mnt/bad/fhr-agent.conf"
check "first boot: a broken fhr-agent.conf on the drive is refused" \
	bash -c "! chroot '$AR' /usr/lib/vmroam-appliance/config-drive /mnt/bad 2>'$WORK/bad.err'"
check "first boot: ... with the reason, file:line" grep -q 'fhr-agent.conf:3' "$WORK/bad.err"
check "first boot: ... and nothing changed" cmp -s "$WORK/before.conf" "$AR/etc/vmroam/fhr-agent.conf"
check "first boot: the drive's configuration is taken" \
	chroot "$AR" /usr/lib/vmroam-appliance/config-drive /mnt/drive
check "first boot: /etc/vmroam/fhr-agent.conf is the tenant's, root:vmroam 0640" \
	bash -c "grep -q 'fhr-id fhr-tenant-c-dc1' '$AR/etc/vmroam/fhr-agent.conf' &&
		test \"\$(chroot '$AR' stat -c '%U:%G %a' /etc/vmroam/fhr-agent.conf)\" = 'root:vmroam 640'"
check "first boot: fhr-agent -n accepts it inside the appliance" \
	chroot "$AR" fhr-agent -n -f /etc/vmroam/fhr-agent.conf
check "first boot: interfaces and hostname from the drive" \
	bash -c "grep -q 192.0.2.50 '$AR/etc/network/interfaces.d/vmroam' && test \"\$(cat '$AR/etc/hostname')\" = fhr-tenant-c"
check "first boot: remembered (the unit's condition stops it next time)" \
	test -s "$AR/var/lib/vmroam-appliance/configured"

# 4. the appliance booted, against the packaged gateway (this host's libraries)
dpkg-deb -x "${debs[0]}" "$WORK/xtr"
mkdir "$WORK/xtrbin" && ln -s "$WORK/xtr/usr/sbin/xtr-gateway" "$WORK/xtr/usr/bin/xtrctl" "$WORK/xtrbin/"
check "the appliance boots as a VM and works (tests/package/boot.sh: every check above passed)" \
	bash "$SRC/tests/package/boot.sh" "$APP" "$WORK/xtrbin"
finish
