#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the main job of xseg, end to end, in a VM on the newest target kernel.
#
# On the host: install what is missing (tools/deps.sh), build libxseg, the tools, the
# storage peers and the modules for the demo kernel, then boot the kernel under QEMU and run
# tools/demo/guest.sh inside.  The guest part loads the modules, creates a segment, serves a
# block device from xseg-filed (a userspace peer, files on tmpfs), puts ext4 on it, writes,
# remounts, verifies and tears everything down, then prints a report.
#
# Environment: KVER (default: the newest installed target kernel), DEMO_TIMEOUT (seconds,
# default 300), DEMO_MB (megabytes of files written, default 32).
set -eo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"

say() { printf '\033[1m== %s\033[0m\n' "$*"; }

t0=$(date +%s)
say "prerequisites (tools/deps.sh)"
tools/deps.sh

kver=${KVER:-}
if [ -z "$kver" ]; then
	for v in $(ls /lib/modules 2> /dev/null | sort -V); do
		case "$v" in
		6.12*-amd64 | 6.1.*-amd64) [ -e "/boot/vmlinuz-$v" ] && kver=$v ;;
		esac
	done
fi
if [ -z "$kver" ] || [ ! -e "/boot/vmlinuz-$kver" ]; then
	echo "demo: no target kernel installed (run tools/deps.sh as root)" >&2
	exit 1
fi

say "build (user space and modules for $kver)"
make -s -j"$(nproc)" user
make -s -j"$(nproc)" modules KVER="$kver"

say "boot $kver under QEMU (TCG) and run the demo inside"
rc=0
tools/testing/vm/run --kernel "$kver" --timeout "${DEMO_TIMEOUT:-300}" --mem 2048 -- \
	env DEMO_MB="${DEMO_MB:-32}" tools/demo/guest.sh || rc=$?
say "demo finished in $(($(date +%s) - t0)) s (exit $rc)"
exit $rc
