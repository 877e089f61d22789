#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# segdev.ko module lifetime: unloading is refused while a segment exists (named, or
# destroyed but still mapped) and works once the last one is gone; 15 (XSEG_SEGDEV_CYCLES) load / create /
# use / destroy / unload cycles leak no memory.  Segments are driven with
# "segdev_test ctl" (tools/testing/selftests/xseg/segdev_test.c).
#
# Leaks: each segment and waiter comes from a dedicated slab cache, so a leaked object
# makes kmem_cache_destroy() at rmmod report a BUG, which fails the VM run (the VM boots
# with slub_debug); /sys/module/segdev/refcnt counts live segments (each pins the
# module, as does every open file of /dev/segdev); VmallocUsed and SUnreclaim from /proc/meminfo are compared before and after.

. "$(dirname "$0")/common.sh"
xseg_need_root

ctl_bin=$XSEG_TESTS/vm/segdev_test
ctl() {
	"$ctl_bin" ctl "$@"
}

CYCLES=${XSEG_SEGDEV_CYCLES:-15}
SEGS_PER_CYCLE=4
SEG_SIZE=$((2 << 20))
# A single leaked segment (2 MiB of vmalloc) exceeds this.
VMALLOC_SLACK_KB=1024
SLAB_SLACK_KB=2048

refcnt() {
	cat /sys/module/segdev/refcnt 2> /dev/null || echo none
}

meminfo_kb() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# rmmod_refused: pass when rmmod fails saying the module is in use and it stays loaded.
rmmod_refused() {
	local out
	if out=$(rmmod segdev 2>&1); then
		echo "rmmod succeeded"
		return 1
	fi
	echo "$out"
	case "$out" in
	*"in use"* | *"Resource temporarily unavailable"* | *EBUSY*) ;;
	*) return 1 ;;
	esac
	xseg_module_loaded segdev
}

# One load/use/unload cycle (one process: process creation is slow under TCG).
cycle() {
	xseg_insmod segdev || return 1
	ctl churn "sdm-$$-$1" "$SEGS_PER_CYCLE" "$SEG_SIZE" || return 1
	[ "$(refcnt)" = 0 ] || { echo "refcnt $(refcnt) after the cycle"; return 1; }
	rmmod segdev
}

cycles() {
	local n
	for n in $(seq 1 "$CYCLES"); do
		cycle "$n" || { echo "cycle $n failed"; return 1; }
	done
}

if [ ! -x "$ctl_bin" ]; then
	ksft_fail "segdev_test is built ($ctl_bin)"
	ksft_finish
fi

xseg_rmmod segdev_kpeer
xseg_rmmod segdev
if ! ksft_test "insmod segdev" xseg_insmod segdev; then
	ksft_finish
fi

name=sdm-$$
ksft_test "create a segment" ctl create "$name" 65536 0600
ksft_test "the segment pins the module (refcnt $(refcnt))" test "$(refcnt)" = 1
ksft_test "rmmod is refused while a segment exists" rmmod_refused
ksft_test "destroy the segment" ctl destroy "$name"
ksft_test "rmmod works after DESTROY" rmmod segdev

# A mapping keeps a destroyed segment, and with it the module.
xseg_insmod segdev
held=$(mktemp)
ctl create "$name" 65536 0600
# Not through ctl(): $! must be the holder itself, not a subshell.
"$ctl_bin" ctl hold "$name" > "$held" &
holder=$!
for _ in $(seq 1 100); do
	grep -q held "$held" && break
	sleep 0.1
done
ksft_test "a process holds a mapping" grep -q held "$held"
ksft_test_fails "DESTROY is refused while mapped" ctl destroy "$name"
ksft_test "deferred DESTROY while mapped" ctl destroy "$name" deferred
ksft_test "rmmod is refused while a destroyed segment is mapped" rmmod_refused
kill "$holder"
wait "$holder" 2> /dev/null
rm -f "$held"
ksft_test "the last unmap frees the segment (refcnt $(refcnt))" test "$(refcnt)" = 0
ksft_test "rmmod works after the last unmap" rmmod segdev

# Warm up once (first-load allocations), then measure.
cycle 0 > /dev/null 2>&1 || xseg_rmmod segdev
vm_before=$(meminfo_kb VmallocUsed)
slab_before=$(meminfo_kb SUnreclaim)
ksft_test "$CYCLES insmod/create/use/destroy/rmmod cycles" cycles
sync
echo 3 > /proc/sys/vm/drop_caches
vm_after=$(meminfo_kb VmallocUsed)
slab_after=$(meminfo_kb SUnreclaim)
echo "# VmallocUsed: ${vm_before} kB -> ${vm_after} kB; SUnreclaim: ${slab_before} kB -> ${slab_after} kB"
ksft_test "VmallocUsed grew less than $VMALLOC_SLACK_KB kB" \
	test $((vm_after - vm_before)) -lt "$VMALLOC_SLACK_KB"
ksft_test "SUnreclaim grew less than $SLAB_SLACK_KB kB" \
	test $((slab_after - slab_before)) -lt "$SLAB_SLACK_KB"
ksft_finish
