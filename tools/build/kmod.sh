#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel modules for one kernel, out of the source tree.
#
#   kmod.sh SRCTREE OUTDIR KDIR [WERROR=0|1] [V=1] [C=1|2]
#
# Kbuild (before 6.13) writes objects next to the sources of M=, so M= is a tree of
# symlinks, OUTDIR/obj, mirroring the directories that hold kernel code; the .ko files
# land in OUTDIR.  Each kernel has its own OUTDIR, so builds never overwrite each other.

set -eu -o pipefail
src=$1 out=$2 kdir=$3
shift 3
werror=1 verbose=0 check=""
for a in "$@"; do
	case "$a" in
	WERROR=*) werror=${a#*=} ;;
	V=*) verbose=${a#*=} ;;
	C=*) check=${a#*=} ;;
	esac
done

if [ ! -e "$kdir/Makefile" ]; then
	echo "kmod: no kernel build tree at $kdir (install the linux-headers package)" >&2
	exit 1
fi

obj=$out/obj
mkdir -p "$obj"
# Refresh the mirror: new files get links, removed files lose theirs.
for d in include sys drivers peers tools/testing/selftests/xseg/kmod; do
	[ -d "$src/$d" ] || continue
	mkdir -p "$obj/$(dirname "$d")"
	cp -rsf "$src/$d" "$obj/$(dirname "$d")/"
done
ln -sf "$src/Kbuild" "$obj/Kbuild"
find "$obj" -xtype l -delete

args=(-C "$kdir" M="$obj" XSEG_WERROR="$werror")
[ "$verbose" = 1 ] && args+=(V=1)
[ -n "$check" ] && args+=(C="$check")
if [ "$verbose" != 1 ]; then
	args+=(--no-print-directory)
fi
# BTF needs the kernel's vmlinux, which Debian's headers do not ship: drop that notice.
make "${args[@]}" modules 2>&1 | { grep -v 'Skipping BTF generation' || true; }

rm -f "$out"/*.ko
find "$obj" -name '*.ko' -exec cp {} "$out/" \;
ls "$out"/*.ko > /dev/null 2>&1 || { echo "kmod: no module was built" >&2; exit 1; }
