#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Entry point inside the test VM (tools/testing/vm/run -- THIS): runs every VM selftest
# (the built programs in build/user/tests/vm/ and the shell tests *.sh here) through the
# TAP runner.  Arguments, if any, restrict the run to tests whose names match them.
# XSEG_REPEAT=N runs the selected tests N times over in this boot, each round after the
# previous one (the crash/recovery tests' "10 times in a row": XSEG_REPEAT=10 ... recovery).

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../../.." && pwd)
tests=()
for t in "$src"/build/user/tests/vm/* "$here"/*.sh; do
	[ -x "$t" ] || continue
	case "${t##*/}" in
	common.sh | run_*.sh) continue ;;
	# driven by the xsegbd_*.sh tests, which set up the device it checks
	xsegbd_test) continue ;;
	# the longest block device tests (1.5 to 5 minutes each under TCG): in every run
	# (make check); XSEG_EXTENDED=0 leaves them out of a run that names no test
	xsegbd_addremove.sh | xsegbd_bogus.sh | xsegbd_recovery.sh)
		[ "${XSEG_EXTENDED:-1}" = 1 ] || [ $# -gt 0 ] || continue ;;
	esac
	if [ $# -gt 0 ]; then
		keep=0
		for pat in "$@"; do
			case "${t##*/}" in *$pat*) keep=1 ;; esac
		done
		[ $keep = 1 ] || continue
	fi
	tests+=("$t")
done
reps=${XSEG_REPEAT:-1}
case "$reps" in
'' | *[!0-9]* | 0) echo "run_vm.sh: XSEG_REPEAT='$reps' is not a positive number" >&2; exit 2 ;;
esac
once=("${tests[@]}")
for ((i = 1; i < reps; i++)); do
	tests+=("${once[@]}")
done
# the block device tests move real data through TCG: up to 15 minutes each
export XSEG_TEST_TIMEOUT=${XSEG_TEST_TIMEOUT:-900}
exec "$src/tools/testing/runner" --label "vm-$(uname -r)" --no-skip "${tests[@]}"
