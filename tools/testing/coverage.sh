#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Line coverage of the core (sys/common/*.c) by the native unit tests.
#
#   tools/testing/coverage.sh [MIN_PERCENT]     default minimum: 85
#
# Builds libxseg and the unit tests with --coverage into build/cov (the same invocation as
# `make asan`, other flags), runs every unit test, then gcov over the core's objects.
# Prints TAP: one line per unit test, one per core file (a comment with its coverage), one
# for the total against the minimum, and a kselftest "# Totals:" line for
# tools/testing/runner.  Exit status 1 if a test failed or the total is below the minimum.
#
# The kselftest harness ends every test child with _exit(), which skips gcov's exit hook:
# the coverage build force-includes a header that makes _exit() dump the counters first.

set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src" || exit 1
min=${1:-85}
out=$src/build/cov
pass=0 fail=0 n=0

ok() {
	n=$((n + 1)) pass=$((pass + 1))
	echo "ok $n $1"
}

not_ok() {
	n=$((n + 1)) fail=$((fail + 1))
	echo "not ok $n $1"
}

totals() {
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
	[ "$fail" = 0 ]
	exit $?
}

command -v gcov > /dev/null || { echo "# gcov not found"; not_ok "gcov available"; totals; }

mkdir -p "$out"
cat > "$out/gcov_exit.h" << 'HDR'
/* Coverage builds only: flush the gcov counters before _exit(). */
#include <unistd.h>
void __gcov_dump(void);
#define _exit(c) (__gcov_dump(), _exit(c))
HDR

# Same base flags as the top-level Makefile; -O0 so that lines map to code.
cflags="-std=gnu11 -D_GNU_SOURCE= -I$src/include -Wall -Wextra -Wno-unused-parameter"
cflags+=" -Wno-missing-field-initializers -g -O0 -pthread -Werror"
cflags+=" --coverage -include $out/gcov_exit.h"

echo "TAP version 13"
make -s --no-print-directory ksft-headers > /dev/null || { not_ok "ksft headers"; totals; }
if ! make -s --no-print-directory -j"$(nproc)" -f tools/build/user.mk SRCTREE="$src" \
	O="$out" CFLAGS_COMMON="$cflags" LDFLAGS_EXTRA=--coverage unit-tests > "$out/build.log" 2>&1; then
	sed 's/^/# /' "$out/build.log"
	not_ok "coverage build"
	totals
fi

# Fresh counters: only this run counts.
find "$out/obj" -name '*.gcda' -delete

for t in "$out"/tests/unit/*; do
	[ -x "$t" ] || continue
	if XSEG_BIN=$src/build/user/bin timeout -k 10 600 "$t" > "$out/${t##*/}.log" 2>&1; then
		ok "unit ${t##*/}"
	else
		sed 's/^/# /' "$out/${t##*/}.log" | tail -n 40
		not_ok "unit ${t##*/}"
	fi
done

# gcov writes its .gcov files into the current directory: use a scratch one.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
total_lines=0 total_hit=0
for f in sys/common/*.c; do
	obj=$out/obj/${f%.c}.o
	if [ ! -e "${obj%.o}.gcda" ]; then
		lines=$( (cd "$work" && gcov -n -o "$(dirname "$obj")" "$src/$f") 2> /dev/null |
			sed -nE "s/^Lines executed:[0-9.]+% of ([0-9]+)$/\1/p" | head -n 1)
		echo "# $f: no coverage data (never executed)"
		total_lines=$((total_lines + ${lines:-0}))
		continue
	fi
	line=$( (cd "$work" && gcov -n -o "$(dirname "$obj")" "$src/$f") 2> /dev/null |
		grep -A1 "^File '$src/$f'" | sed -nE 's/^Lines executed:([0-9.]+)% of ([0-9]+)$/\1 \2/p')
	read -r pct lines <<< "$line"
	[ -n "${lines:-}" ] || { echo "# $f: gcov gave no figure"; continue; }
	hit=$(awk -v p="$pct" -v l="$lines" 'BEGIN { printf "%d", p * l / 100 + 0.5 }')
	total_lines=$((total_lines + lines)) total_hit=$((total_hit + hit))
	printf '# %-28s %6s%% of %4d lines\n' "$f" "$pct" "$lines"
done
if [ "$total_lines" = 0 ]; then
	not_ok "core line coverage (no data)"
	totals
fi
total=$(awk -v h="$total_hit" -v l="$total_lines" 'BEGIN { printf "%.1f", 100 * h / l }')
printf '# %-28s %6s%% of %4d lines\n' "total" "$total" "$total_lines"
if awk -v t="$total" -v m="$min" 'BEGIN { exit !(t >= m) }'; then
	ok "core line coverage $total% >= $min%"
else
	not_ok "core line coverage $total% < $min%"
fi
totals
