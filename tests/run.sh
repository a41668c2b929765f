#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh Debian 12 machine (as root, or with sudo):
# dependencies, format and layering checks, release build + all tests, ASan/UBSan build + all
# tests, fuzz corpus replay, and a bounded libFuzzer run of each target.
# FUZZ_SECONDS (default 30) sets the length of each libFuzzer run; 0 skips them.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
fuzz_seconds=${FUZZ_SECONDS:-30}
passed=0

step() { printf '\n=== %s\n' "$*"; }

# Adds the number of tests of a finished ctest run to the total.
count_ctest() {
	local n
	n=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$1" | tail -1)
	[ -n "$n" ] || { echo "ctest summary not found in $1" >&2; exit 1; }
	passed=$((passed + n))
}

step "dependencies"
bash packaging/deps.sh

step "format (clang-format --dry-run -Werror)"
git ls-files '*.c' '*.h' | xargs clang-format --dry-run -Werror
passed=$((passed + 1))

step "layering: lib/ knows nothing of libev, NFQUEUE or libvirt"
if grep -rnE '\bev_|\bnfq_|\bvir[A-Z]' lib/; then
	echo "lib/ must not call libev, libnetfilter_queue or libvirt" >&2
	exit 1
fi
bad=$(git ls-files '*.c' | grep -v '_nfq\.c$' | grep -v '^tests/' | xargs -r grep -lE '\bnfq_[a-z]' || true)
[ -z "$bad" ] || { echo "nfq_ outside *_nfq.c: $bad" >&2; exit 1; }
bad=$(git ls-files '*.c' | grep -v '_virt\.c$' | grep -v '^tests/' | xargs -r grep -lE '\bvir[A-Z]' || true)
[ -z "$bad" ] || { echo "libvirt calls outside *_virt.c: $bad" >&2; exit 1; }
passed=$((passed + 1))

step "release build (-Werror) and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMROAM_WERROR=ON >/dev/null
ninja -C build
(cd build && ctest --output-on-failure 2>&1 | tee ctest.log)
count_ctest build/ctest.log

step "ASan + UBSan build and tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVMROAM_SANITIZE=ON \
	-DVMROAM_WERROR=ON >/dev/null
ninja -C build-asan
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --output-on-failure -LE package 2>&1 | tee ctest.log) # (packages: built once, above)
count_ctest build-asan/ctest.log

if [ "$fuzz_seconds" -gt 0 ]; then
	step "libFuzzer: ${fuzz_seconds}s per target"
	CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DVMROAM_FUZZ=ON >/dev/null
	ninja -C build-fuzz
	for bin in build-fuzz/bin/fuzz_*; do
		t=${bin##*/fuzz_}
		work=$(mktemp -d)
		cp -r "tests/fuzz/corpus/$t/." "$work/"
		echo "--- fuzz_$t"
		rc=0
		"$top/$bin" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=4096 \
			"$work" >"$work.log" 2>&1 || rc=$?
		grep -E 'DONE|ERROR|SUMMARY|Test unit written' "$work.log" || tail -20 "$work.log"
		rm -f "$work.log"
		rm -rf "$work"
		[ "$rc" -eq 0 ] || { echo "fuzz_$t failed (exit $rc)" >&2; exit 1; }
		passed=$((passed + 1))
	done
fi

echo
echo "all checks: $passed passed, 0 failed"
