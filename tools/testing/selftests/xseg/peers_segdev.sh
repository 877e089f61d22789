#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The storage peers (xseg-memd, xseg-filed) on segdev segments, the kind a kernel block
# client shares: the native peer tests (unit_peer_memd, unit_peer_filed) run again with
# XSEG_PEER_SEGTYPE=segdev, files in the guest's tmpfs.  With -v the peers report whether
# io_uring accepted the segdev mapping as registered buffers.

. "$(dirname "$0")/common.sh"
xseg_need_root
xseg_need_module segdev

for t in unit_peer_memd unit_peer_filed; do
	[ -x "$XSEG_TESTS/unit/$t" ] || ksft_skip_all "$t is not built"
done
[ -x "$XSEG_BIN/xseg-memd" ] && [ -x "$XSEG_BIN/xseg-filed" ] ||
	ksft_skip_all "the peers are not built"

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

export XSEG_PEER_SEGTYPE=segdev TMPDIR=/tmp
ksft_test "xseg-memd on a segdev segment" "$XSEG_TESTS/unit/unit_peer_memd"
ksft_test "xseg-filed on a segdev segment" "$XSEG_TESTS/unit/unit_peer_filed"

if [ $loaded_here = 1 ]; then
	ksft_test "segdev unloads after the peers left" rmmod segdev
fi
ksft_finish
