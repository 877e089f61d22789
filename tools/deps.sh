#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything xseg's build, tests, demo and benchmarks need from Debian's archive.
# Idempotent and non-interactive: when every package is present it only says so.
# Needs root to install; otherwise it lists what is missing and fails.
#
#   tools/deps.sh [--check]     --check: report only, never install

set -u

pkgs=(
	# build
	build-essential make gcc pkg-config xz-utils cpio kmod
	# target kernels and their headers; the kernel source (kselftest harness, checkpatch)
	linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 linux-headers-6.12-amd64
	linux-source-6.12
	# the VM rig
	qemu-system-x86 busybox-static
	# userspace peers and tests
	liburing-dev fio e2fsprogs xfsprogs util-linux valgrind sparse
	# benchmarks (make bench): plots, the nbd baseline, the report generator
	gnuplot-nox nbdkit nbd-client python3
)

missing=()
for p in "${pkgs[@]}"; do
	case "$p" in '#'*) continue ;; esac
	st=$(dpkg-query -W -f='${Status}' "$p" 2> /dev/null)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} prerequisites are installed"
	exit 0
fi

echo "deps: missing: ${missing[*]}"
if [ "${1:-}" = "--check" ]; then
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: run as root to install them: sudo $0  (or: apt-get install ${missing[*]})" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update"
apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
echo "deps: apt-get install ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
	{ echo "deps: apt-get install failed" >&2; exit 1; }
echo "deps: installed ${#missing[@]} packages"
