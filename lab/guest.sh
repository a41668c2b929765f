# shellcheck shell=bash
# The lab's real guest (sourced by vmroam-lab): Debian's cloud kernel and an initramfs of
# busybox-static, the virtio-net modules, lab/guest/init and lab/guest/pacedhttpd, built from the
# Debian packages (downloaded, unpacked in a temporary directory, never installed) and cached
# in $GUEST_CACHE, keyed by the packages' versions and the sources here. At each lab start a
# second archive, the files the guest serves, is appended (the kernel unpacks concatenated
# archives).
#
#   guest_build           sets GUEST_DIR (vmlinuz, initrd.gz, versions) and GUEST_BUSYBOX
#   guest_initrd DIR OUT  OUT = the cached initramfs + DIR's files in the guest's /srv

GUEST_CACHE=${GUEST_CACHE:-/var/cache/vmroam-lab}
GUEST_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# guest_versions: one line per package "NAME VERSION" (the candidates apt would take)
guest_versions() {
	local kpkg
	kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -1)
	[ -n "$kpkg" ] || return 1
	local p v
	for p in "$kpkg" busybox-static; do
		v=$(apt-cache policy "$p" | sed -n 's/^ *Candidate: //p')
		[ -n "$v" ] && [ "$v" != "(none)" ] || return 1
		echo "$p $v"
	done
}

guest_build() {
	local versions key
	if ! versions=$(guest_versions); then
		timeout 300 apt-get update -qq -o DPkg::Lock::Timeout=120 >/dev/null 2>&1 || true
		versions=$(guest_versions) || {
			echo "guest: linux-image-cloud-amd64 or busybox-static unknown to apt" >&2
			guest_older
			return
		}
	fi
	key=$({
		echo "$versions"
		cat "$GUEST_SRC/guest.sh" "$GUEST_SRC/guest/init" "$GUEST_SRC/guest/pacedhttpd.c"
	} | sha256sum | cut -c1-16)
	GUEST_DIR=$GUEST_CACHE/guest-$key
	GUEST_BUSYBOX=$GUEST_DIR/busybox
	[ -s "$GUEST_DIR/initrd.gz" ] && return 0
	mkdir -p "$GUEST_CACHE"
	guest_make "$versions" 9>"$GUEST_CACHE/.lock" || guest_older
}

# guest_older: without the packages (no mirror), an older build in the cache will do
guest_older() {
	local old
	old=$(find "$GUEST_CACHE" -maxdepth 2 -path "$GUEST_CACHE/guest-*/initrd.gz" -size +0 2>/dev/null |
		head -1)
	[ -n "$old" ] || return 1
	GUEST_DIR=${old%/initrd.gz}
	GUEST_BUSYBOX=$GUEST_DIR/busybox
	echo "guest: using the cached build $GUEST_DIR ($(tr '\n' ' ' <"$GUEST_DIR/versions"))" >&2
}

# guest_make VERSIONS (fd 9: the cache's lock): the build, into $GUEST_DIR
guest_make() {
	local versions=$1
	(
		local tmp kpkg kver
		# one build at a time; another lab may have finished it meanwhile
		flock -w 600 9 || { echo "guest: $GUEST_CACHE/.lock held for 10 minutes" >&2; exit 1; }
		[ -s "$GUEST_DIR/initrd.gz" ] && exit 0
		tmp=$(mktemp -d "$GUEST_CACHE/.build.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		kpkg=$(echo "$versions" | awk 'NR == 1 { print $1 }')
		kver=${kpkg#linux-image-}
		(cd "$tmp" && chown _apt "$tmp" 2>/dev/null
			timeout 600 apt-get download -q "$kpkg" busybox-static) >"$tmp/download.log" 2>&1 || {
			echo "guest: apt-get download $kpkg busybox-static failed:" >&2
			tail -5 "$tmp/download.log" >&2
			exit 1
		}
		# (each step checked: errexit does not apply where guest_build's caller tests it)
		# shellcheck disable=SC2015 # (any step failing fails the build)
		dpkg-deb -x "$tmp"/linux-image-*.deb "$tmp/kernel" &&
			dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/busybox" &&
			mkdir -p "$tmp/root/bin" "$tmp/root/lib/modules" "$tmp/root/srv" "$tmp/out" &&
			cp "$tmp/busybox/bin/busybox" "$tmp/root/bin/busybox" &&
			ln -s busybox "$tmp/root/bin/sh" && # (/init's interpreter; init installs the rest)
			cp "$GUEST_SRC/guest/init" "$tmp/root/init" &&
			chmod 755 "$tmp/root/init" &&
			gcc -static -O2 -Wall -Wextra -o "$tmp/root/bin/pacedhttpd" \
				"$GUEST_SRC/guest/pacedhttpd.c" &&
			strip "$tmp/root/bin/pacedhttpd" &&
			guest_modules "$tmp/kernel/lib/modules/$kver" "$tmp/root/lib/modules" \
				virtio_net virtio_pci &&
			(cd "$tmp/root" && find . | sort | "$tmp/busybox/bin/busybox" cpio -o -H newc -R 0:0) \
				>"$tmp/out/initrd" &&
			gzip -9 "$tmp/out/initrd" &&
			cp "$tmp/kernel/boot/vmlinuz-$kver" "$tmp/out/vmlinuz" &&
			cp "$tmp/busybox/bin/busybox" "$tmp/out/busybox" &&
			echo "$versions" >"$tmp/out/versions" || {
			echo "guest: building the image from $kpkg and busybox-static failed" >&2
			exit 1
		}
		rm -rf "$GUEST_DIR"
		mv "$tmp/out" "$GUEST_DIR" || exit 1
		# older builds (other versions or sources) go
		find "$GUEST_CACHE" -maxdepth 1 -name 'guest-*' ! -path "$GUEST_DIR" -exec rm -rf {} +
	)
}

# guest_modules KMODDIR OUTDIR MODULE...: the modules and what they depend on (their .modinfo
# "depends="), copied flat into OUTDIR, with OUTDIR/order listing them dependencies first.
# Modules built into the kernel (modules.builtin) are skipped.
guest_modules() {
	local kdir=$1 out=$2 m
	shift 2
	local -A done_=()
	: >"$out/order"
	add_module() {
		local name=$1 f deps d
		[ -n "${done_[$name]:-}" ] && return 0
		done_[$name]=1
		f=$(find "$kdir/kernel" \( -name "$name.ko" -o -name "${name//_/-}.ko" \) | head -1)
		if [ -z "$f" ]; then
			grep -q "/$name.ko$" "$kdir/modules.builtin" && return 0
			case $(find "$kdir/kernel" -name "$name.ko.*" | head -1) in
			"") echo "guest: module $name not found in $kdir" >&2 ;;
			*) echo "guest: module $name is compressed (not handled)" >&2 ;;
			esac
			return 1
		fi
		objcopy -O binary --only-section=.modinfo "$f" "$out/.modinfo"
		deps=$(tr '\0' '\n' <"$out/.modinfo" | sed -n 's/^depends=//p' | tr ',' ' ')
		rm -f "$out/.modinfo"
		for d in $deps; do add_module "$d" || return 1; done
		cp "$f" "$out/$name.ko"
		echo "$name" >>"$out/order"
	}
	for m in "$@"; do add_module "$m" || return 1; done
}

# guest_initrd DIR OUT: the cached initramfs with DIR's files appended as the guest's /srv
guest_initrd() {
	local dir=$1 out=$2
	local size
	cp "$GUEST_DIR/initrd.gz" "$out"
	# the kernel takes an uncompressed archive only at a 4-byte boundary (zeros are skipped)
	size=$(stat -c %s "$out")
	head -c $(((4 - size % 4) % 4)) /dev/zero >>"$out"
	# the archive's names are srv/...: a staging tree of hard links
	rm -rf "$out.d"
	mkdir -p "$out.d/srv"
	cp -l "$dir"/* "$out.d/srv/" 2>/dev/null || cp "$dir"/* "$out.d/srv/"
	(cd "$out.d" && find srv | sort | "$GUEST_BUSYBOX" cpio -o -H newc -R 0:0) >>"$out"
	rm -rf "$out.d"
}
