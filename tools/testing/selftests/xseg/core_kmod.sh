#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The in-kernel selftest of the segment core (kmod/xseg_core_test.c: the request flow with
# data, forwarding and the poll type between two kernel peers, in xseg.ko's build of
# sys/common).  It runs at load time and refuses to load on failure.

. "$(dirname "$0")/common.sh"
xseg_need_root

ksft_test "xseg_core_test.ko was built for $XSEG_KVER" test -e "$XSEG_MODDIR/xseg_core_test.ko"
if ! xseg_module_loaded xseg; then
	modprobe xseg 2> /dev/null || { xseg_insmod segdev && xseg_insmod xseg; } ||
		ksft_skip_all "cannot load xseg"
fi
xseg_rmmod xseg_core_test
ksft_test "xseg_core_test loads (its flow passed)" xseg_insmod xseg_core_test
ksft_test "xseg_core_test logged PASS" sh -c 'dmesg | grep -q "xseg_core_test: PASS"'
ksft_test "rmmod xseg_core_test" rmmod xseg_core_test
ksft_finish
