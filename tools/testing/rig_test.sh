#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the test rig itself, run on the host by make check: the VM runner relays exit
# statuses, reports a guest kernel crash and a task hung in D state promptly, kills a hung
# guest at its timeout, and the module build turns a warning into an error.  Each check can
# fail if the rig breaks.

. "$(dirname "$0")/selftests/xseg/common.sh"
src=$XSEG_SRCTREE
run=$src/tools/testing/vm/run
kver=$(ls -1 /lib/modules 2> /dev/null | grep -E '^6\.12\..*-amd64$' | sort -V | tail -n 1)
[ -n "$kver" ] || kver=$(ls -1 /lib/modules | grep -E '^6\.1\..*-amd64$' | sort -V | tail -n 1)
[ -n "$kver" ] || ksft_skip_all "no target kernel installed"

out=$("$run" --kernel "$kver" --timeout 120 -- sh -c 'uname -r; exit 3' 2> /dev/null)
rc=$?
ksft_test "vm/run --kernel $kver -- uname -r prints $kver (got '$out')" test "$out" = "$kver"
ksft_test "vm/run relays the command's exit status (3, got $rc)" test "$rc" = 3

# show_msg: what vm/run printed (without the boot banner), when a check of it failed
show_msg() { grep -v ' \[ *0\.0' <<< "$msg" | tail -n 40 | sed 's/^/# /'; }

start=$SECONDS
msg=$("$run" --kernel "$kver" --timeout 300 -- sh -c 'echo c > /proc/sysrq-trigger; sleep 600' 2>&1)
rc=$?
took=$((SECONDS - start))
ksft_test "a guest kernel crash fails the run with 125 (got $rc)" test "$rc" = 125 || show_msg
ksft_test "the crash is reported before the timeout (${took}s < 200s)" test "$took" -lt 200
ksft_test "the report names the panic" grep -q 'Kernel panic' <<< "$msg"

# A task stuck in D state: a write to a frozen ext4 (fsfreeze) on a RAM disk, with the
# hung-task check at 10 s: the guest panics with the task's stack.  About 35 s here; the
# limits leave room for a host several times slower (150 s timed out with 60% CPU steal).
start=$SECONDS
msg=$(XSEG_HUNG_TASK_SECS=10 "$run" --kernel "$kver" --timeout 600 -- sh -c \
	'modprobe brd rd_nr=1 rd_size=32768 && sleep 1 && mkfs.ext4 -q -F /dev/ram0 &&
	 mkdir -p /tmp/m && mount /dev/ram0 /tmp/m && fsfreeze -f /tmp/m && touch /tmp/m/x;
	 sleep 300' 2>&1)
rc=$?
took=$((SECONDS - start))
ksft_test "a task hung in D state fails the run with 125 (got $rc)" test "$rc" = 125 || show_msg
ksft_test "the hung task is reported before the timeout (${took}s < 400s)" test "$took" -lt 400
ksft_test "the report names the hung task" grep -q 'INFO: task touch:[0-9]* blocked' <<< "$msg"

start=$SECONDS
msg=$("$run" --kernel "$kver" --timeout 40 -- sleep 600 2>&1)
rc=$?
took=$((SECONDS - start))
ksft_test "a hung guest is killed at the timeout with 124 (got $rc)" test "$rc" = 124 || show_msg
ksft_test "the timeout is honoured (${took}s < 70s)" test "$took" -lt 70

# A module with a warning must not build (WERROR defaults to 1).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/sys/kernel"
cat > "$tmp/src/Kbuild" << 'KB'
ifneq ($(XSEG_WERROR),0)
ccflags-y += -Werror
endif
obj-m := warn.o
warn-objs := sys/kernel/warn.o
KB
cat > "$tmp/src/sys/kernel/warn.c" << 'C'
#include <linux/module.h>
static int __init warn_init(void) { int unused; return 0; }
module_init(warn_init);
MODULE_LICENSE("GPL");
C
"$src/tools/build/kmod.sh" "$tmp/src" "$tmp/out" "/lib/modules/$kver/build" > "$tmp/log" 2>&1
rc=$?
ksft_test "a module warning breaks the build (exit $rc)" test "$rc" != 0
ksft_test "the failure is the warning, as an error" grep -q 'unused variable' "$tmp/log"
"$src/tools/build/kmod.sh" "$tmp/src" "$tmp/out2" "/lib/modules/$kver/build" WERROR=0 > "$tmp/log" 2>&1
rc=$?
ksft_test "the same module builds with WERROR=0 (exit $rc)" test "$rc" = 0
ksft_finish
