#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# House rule 1 as a test: checkpatch.pl --strict over every tracked C source and header
# (tools/build/checkpatch.sh): one TAP result for the tree, each finding as a diagnostic.

src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src" || exit 1
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "TAP version 13"
echo "1..1"
tools/build/checkpatch.sh > "$out" 2>&1
rc=$?
bad=$(grep -E '^[^ :]+:[0-9]+: (ERROR|WARNING|CHECK):' "$out" | cut -d: -f1 | sort -u)
nfiles=$(git ls-files '*.c' '*.h' | wc -l)
if [ $rc = 0 ] && [ -z "$bad" ]; then
	echo "ok 1 checkpatch --strict: $nfiles files clean"
	echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0"
	exit 0
fi
grep -E '^[^ :]+:[0-9]+: ' "$out" | sed 's/^/# /'
[ -n "$bad" ] || tail -n 5 "$out" | sed 's/^/# /'	# checkpatch itself failed
echo "not ok 1 checkpatch --strict: findings in $(echo "$bad" | grep -c .) of $nfiles files"
echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
exit 1
