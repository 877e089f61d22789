#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.pl --strict over xseg's C sources and headers (house rule 1).
#
#   tools/build/checkpatch.sh [FILE...]    default: every tracked .c/.h file
#
# checkpatch comes from Debian's linux-source package (extracted into build/ksft).

src=$(cd "$(dirname "$0")/../.." && pwd)
cp=$src/build/ksft/scripts/checkpatch.pl
if [ ! -e "$cp" ]; then
	"$src/tools/build/extract-ksrc.sh" "$src/build/ksft" || exit 1
fi
cd "$src" || exit 1
if [ $# -eq 0 ]; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	files=("$@")
fi
# Ignored: SPDX placement rules meant for the kernel tree, and the user-space use of
# C99 types/printf forms that checkpatch only knows for the kernel.
perl "$cp" --strict --no-tree --terse --show-types --max-line-length=100 \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,NEW_TYPEDEFS,PREFER_KERNEL_TYPES,SPLIT_STRING \
	-f "${files[@]}"
