#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The endpoint API's lifecycle tests (unit_endpoint: remote killed mid-transaction, restart
# and reconnect, quota exhaustion, stale epochs, unregistered and forwarded buffers, message
# storm, kill -9 of a random side at random points) on a segdev segment, under this kernel.
# XSEG_EP_KILL_ITERS sets the random kill rounds (default 100, as natively).

. "$(dirname "$0")/common.sh"
xseg_need_root
xseg_need_module segdev

bin=$XSEG_TESTS/unit/unit_endpoint
[ -x "$bin" ] || ksft_skip_all "unit_endpoint is not built"

loaded_here=0
if ! xseg_module_loaded segdev; then
	modprobe segdev 2> /dev/null || xseg_insmod segdev || ksft_skip_all "cannot load segdev"
	loaded_here=1
fi
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -e /dev/segdev ] && break
	sleep 0.2
done
[ -e /dev/segdev ] || ksft_skip_all "no /dev/segdev after loading segdev"

export XSEG_EP_SEGTYPE=segdev
ksft_test "unit_endpoint on a segdev segment" "$bin"
if [ $loaded_here = 1 ]; then
	ksft_test "segdev unloads after the test (no segment left)" rmmod segdev
fi
ksft_finish
