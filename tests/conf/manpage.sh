#!/usr/bin/env bash
# vmroam.conf(5) documents every keyword: each command of xtr-gateway's and fhr-agent's parser
# tables ({ MODE_..., "words", ...}) appears in the rendered manual page, and so does the
# default of each setting that has one in xtr.h.
# usage: tests/conf/manpage.sh
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
page=$(MANWIDTH=200 man -l "$SRC/packaging/man/vmroam.conf.5" 2>/dev/null | col -b | tr -s ' ')
[ -n "$page" ] || { echo "FAIL: vmroam.conf.5 does not render" >&2; exit 1; }
fail=0 n=0
tables=("$SRC/xtr-gateway/conf/parse.c" "$SRC/fhr-agent/parse.c")
for t in "${tables[@]}"; do # a parser that moved must not silently drop out of the check
	grep -qE '\{ MODE_[A-Z_]+, "' "$t" || { echo "FAIL: no command table in $t" >&2; exit 1; }
done
while read -r kw; do
	[ "$kw" = "*" ] && continue # (an address line in locator-set mode)
	n=$((n + 1))
	grep -qF -- "$kw" <<<"$page" || { echo "FAIL: vmroam.conf(5) does not mention '$kw'" >&2; fail=1; }
done < <(grep -ohE '\{ MODE_[A-Z_]+, "[^"]+"' "${tables[@]}" |
	sed -E 's/.*"([^"]+)"/\1/' | sort -u)
for d in "default 1500" "default 100000" "default lisp0" "default 4350" "default one per online CPU" \
	"default 300" "default 4096" "default 256" "default 64" "default 1024" "(default 100)" \
	"(default 10000)"; do
	n=$((n + 1))
	grep -qF -- "$d" <<<"$page" || { echo "FAIL: vmroam.conf(5) lacks '($d)'" >&2; fail=1; }
done
[ "$fail" -eq 0 ] && echo "vmroam.conf(5): $n keywords and defaults documented"
exit "$fail"
