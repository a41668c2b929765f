#!/usr/bin/env bash
# Golden configuration tests: each DIR/NAME.conf prints (DAEMON -nv) exactly NAME.ok, and that
# output parses again to itself; each DIR/bad/NAME.conf is refused (exit 1) with exactly the
# message in bad/NAME.err; the shipped examples packaging/examples/DAEMON*.conf parse.
# usage: run.sh DAEMON_BINARY [DIR]     (DIR: tests/conf for xtr-gateway, tests/conf/fhr ...)
set -u
bin=$(realpath "$1")
dir=$(cd "${2:-$(dirname "$0")}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }

for conf in "$dir"/*.conf; do
	name=$(basename "$conf" .conf)
	if ! "$bin" -nv -f "$conf" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
		bad "$name: refused: $(cat "$tmp/$name.err")"
		continue
	fi
	diff -u "$dir/$name.ok" "$tmp/$name.out" >&2 && ok || bad "$name: -nv differs from $name.ok"
	"$bin" -nv -f "$tmp/$name.out" >"$tmp/$name.again" 2>&1 &&
		cmp -s "$tmp/$name.out" "$tmp/$name.again" && ok ||
		bad "$name: printed configuration does not parse back to itself"
done
for conf in "$dir"/bad/*.conf; do
	name=$(basename "$conf" .conf)
	(cd "$dir/bad" && "$bin" -n -f "$name.conf") >/dev/null 2>"$tmp/$name.err"
	rc=$?
	[ "$rc" -eq 1 ] && ok || bad "bad/$name: exit $rc, want 1"
	diff -u "$dir/bad/$name.err" "$tmp/$name.err" >&2 && ok || bad "bad/$name: message differs"
done
for conf in "$top"/packaging/examples/"$(basename "$bin")"*.conf; do
	[ -e "$conf" ] || continue
	"$bin" -n -f "$conf" 2>"$tmp/example.err" && ok || bad "example $conf: $(cat "$tmp/example.err")"
done
echo "conf: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
