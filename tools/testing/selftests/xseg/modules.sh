#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The modules load and unload cleanly, and /dev/segdev comes and goes with segdev.ko.
# A module that was not built is a failure, not a skip: the build must produce it.

. "$(dirname "$0")/common.sh"
xseg_need_root

for m in xseg segdev; do
	ksft_test "$m.ko was built for $XSEG_KVER" test -e "$XSEG_MODDIR/$m.ko"
done

# xseg.ko uses segdev.ko's in-kernel API (kernel peers on segdev segments): segdev first
xseg_rmmod xseg
xseg_rmmod segdev
ksft_test "insmod segdev.ko" xseg_insmod segdev
ksft_test "/dev/segdev is a character device" test -c /dev/segdev
mode=$(stat -c %a /dev/segdev 2> /dev/null)
ksft_test "/dev/segdev has mode 666 (got $mode)" test "$mode" = 666
ksft_test "/dev/segdev appears in /sys/class/misc" test -d /sys/class/misc/segdev
ksft_test "insmod xseg.ko" xseg_insmod xseg
ksft_test "xseg is listed in /proc/modules" grep -q '^xseg ' /proc/modules
ksft_test_fails "rmmod segdev is refused while xseg uses it" rmmod segdev
ksft_test "rmmod xseg" rmmod xseg
ksft_test "xseg is gone from /proc/modules" sh -c '! grep -q "^xseg " /proc/modules'
ksft_test "rmmod segdev" rmmod segdev
ksft_test "/dev/segdev is gone after rmmod" test ! -e /dev/segdev
ksft_test "modprobe xseg loads segdev first" sh -c 'modprobe xseg && grep -q "^segdev " /proc/modules'
ksft_test "modprobe -r xseg segdev" modprobe -r xseg segdev
ksft_test "modprobe finds segdev through the module index" modprobe segdev
ksft_test "modprobe -r segdev" modprobe -r segdev
ksft_finish
