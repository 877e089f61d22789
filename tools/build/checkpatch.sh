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
# Ignored: SPDX placement rules meant for the kernel tree; the user-space use of C99
# types/printf forms that checkpatch only knows for the kernel; EXPORT_SYMBOL next to its
# function, because the exported core (sys/common) is built into libxseg too, so xseg.ko
# keeps one export list (sys/kernel/exports.c, house rule 4).
perl "$cp" --strict --no-tree --terse --show-types --max-line-length=100 \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES,NEW_TYPEDEFS,PREFER_KERNEL_TYPES,SPLIT_STRING,EXPORT_SYMBOL \
	-f "${files[@]}"
