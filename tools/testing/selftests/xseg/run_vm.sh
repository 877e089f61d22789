#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Entry point inside the test VM (tools/testing/vm/run -- THIS): runs every VM selftest
# (the built programs in build/user/tests/vm/ and the shell tests *.sh here) through the
# TAP runner.  Arguments, if any, restrict the run to tests whose names match them.

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../../.." && pwd)
tests=()
for t in "$src"/build/user/tests/vm/* "$here"/*.sh; do
	[ -x "$t" ] || continue
	case "${t##*/}" in
	common.sh | run_*.sh) continue ;;
	# driven by the xsegbd_*.sh tests, which set up the device it checks
	xsegbd_test) continue ;;
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
exec "$src/tools/testing/runner" --label "vm-$(uname -r)" --no-skip "${tests[@]}"
