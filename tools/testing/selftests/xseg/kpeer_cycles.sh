#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 15 (XSEG_KPEER_CYCLES) cycles of: create a segdev segment, insmod xseg_kpeer on it, kernel-to-kernel traffic,
# rmmod, destroy.  Nothing may leak: xseg.ko's count of kernel peer objects returns to 0,
# segdev has no segment left, and unreclaimable slab does not grow by more than noise.

. "$(dirname "$0")/common.sh"
xseg_need_root
xseg_need_module xseg_kpeer

CYCLES=${XSEG_KPEER_CYCLES:-15}
K2K=200
ctl_bin=$XSEG_TESTS/vm/kpeer_test

param() {
	cat "/sys/module/xseg_kpeer/parameters/$1" 2> /dev/null || echo -1
}

sunreclaim_kb() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
	awk '/^SUnreclaim:/ { print $2 }' /proc/meminfo
}

# one cycle; $1 = cycle number
cycle() {
	local name="kcyc-$$-$1" i
	"$ctl_bin" ctl create "$name" || return 1
	xseg_insmod xseg_kpeer segment="$name" k2k=$K2K || return 1
	for i in $(seq 300); do
		[ "$(param k2k_done)" = $K2K ] && break
		sleep 0.1
	done
	[ "$(param k2k_done)" = $K2K ] || { echo "cycle $1: k2k_done $(param k2k_done)"; return 1; }
	rmmod xseg_kpeer || return 1
	"$ctl_bin" ctl destroy "$name" || return 1
}

cycles() {
	local i
	for i in $(seq "$CYCLES"); do
		cycle "$i" || return 1
	done
}

load_deps() {
	modprobe segdev 2> /dev/null || xseg_insmod segdev || return 1
	modprobe xseg 2> /dev/null || xseg_insmod xseg
}

# caches and workqueues reach their steady size before the measurement
warm_up() {
	local CYCLES=3
	cycles
}

[ -x "$ctl_bin" ] || ksft_skip_all "kpeer_test not built"
xseg_rmmod xseg_kpeer
ksft_test "segdev.ko and xseg.ko loaded" load_deps
ksft_test "warm-up cycles" warm_up
before=$(sunreclaim_kb)
ksft_test "$CYCLES insmod/traffic/rmmod cycles with segments created and destroyed" cycles
after=$(sunreclaim_kb)
objs=$(cat /sys/module/xseg/parameters/kernel_objects)
ksft_test "no kernel peer object left in xseg.ko (got $objs)" test "$objs" = 0
echo "# SUnreclaim: $before kB before, $after kB after"
ksft_test "unreclaimable slab grew by less than 2 MB ($before -> $after kB)" \
	test $((after - before)) -lt 2048
ksft_test "rmmod xseg" rmmod xseg
ksft_test "rmmod segdev (no segment left behind)" rmmod segdev
ksft_finish
