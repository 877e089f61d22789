#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extract from Debian's linux-source tarball the few files the build uses but does not
# vendor: the kselftest harness headers and checkpatch.
#
#   extract-ksrc.sh OUTDIR    -> OUTDIR/include/kselftest{,_harness}.h, OUTDIR/scripts/*

set -eu
out=$1
tarball=$(ls -1 /usr/src/linux-source-*.tar.xz 2> /dev/null | sort -V | tail -n 1)
if [ -z "$tarball" ]; then
	echo "extract-ksrc: no /usr/src/linux-source-*.tar.xz (install linux-source-6.12: tools/deps.sh)" >&2
	exit 1
fi
top=$(basename "$tarball" .tar.xz)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$tarball" -C "$tmp" \
	"$top/tools/testing/selftests/kselftest_harness.h" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/scripts/checkpatch.pl" \
	"$top/scripts/spelling.txt" \
	"$top/scripts/const_structs.checkpatch"
mkdir -p "$out/include" "$out/scripts"
cp "$tmp/$top/scripts/checkpatch.pl" "$tmp/$top/scripts/spelling.txt" \
	"$tmp/$top/scripts/const_structs.checkpatch" "$out/scripts/"
cp "$tmp/$top/tools/testing/selftests/kselftest.h" "$out/include/"
# Last: its presence is what make checks.
cp "$tmp/$top/tools/testing/selftests/kselftest_harness.h" "$out/include/"
echo "$tarball" > "$out/source"
