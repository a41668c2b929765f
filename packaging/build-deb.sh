#!/usr/bin/env bash
# Builds the Debian packages (vmroam-xtr-gateway, vmroam-fhr-agent, vmroam-hypervisor-hooks)
# from this source tree: the tracked files are copied to a scratch directory, packaging/debian
# becomes its debian/, and dpkg-buildpackage -us -uc -b runs there.
# usage: packaging/build-deb.sh OUTDIR   (the .deb files and the build log go to OUTDIR)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

VERSION=$(sed -n '1s/^vmroam (\([^)]*\)).*/\1/p' "$SRC/packaging/debian/changelog")
mkdir "$TMP/vmroam-$VERSION"
# the tracked files as they are now (uncommitted edits included), nothing built
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) |
	tar -xf - -C "$TMP/vmroam-$VERSION"
cp -r "$SRC/packaging/debian" "$TMP/vmroam-$VERSION/debian"
(cd "$TMP/vmroam-$VERSION" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 || {
	tail -40 "$OUT/build.log" >&2
	exit 1
}
cp "$TMP"/*.deb "$TMP"/*.buildinfo "$TMP"/*.changes "$OUT"/
ls "$OUT"/*.deb
