#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The core's unit tests under valgrind (memcheck): invalid reads/writes, uses of
# uninitialised values and definite leaks are failures, in every process (the stress test
# forks its peers).  One TAP line per unit test; part of make check.
. "$(dirname "$0")/selftests/xseg/common.sh"

tests=${VALGRIND_TESTS:-"unit_layout unit_segment unit_alloc unit_port unit_request unit_signal unit_corrupt unit_stress unit_endpoint unit_kill_walk"}
if ! command -v valgrind > /dev/null; then
	ksft_fail "valgrind is installed (tools/deps.sh installs it)"
	ksft_finish
fi
for t in $tests; do
	bin=$XSEG_TESTS/unit/$t
	if [ ! -x "$bin" ]; then
		ksft_fail "$t under valgrind: not built"
		continue
	fi
	# valgrind runs the stress test ~30x slower: 200k requests fit its harness timeout
	# and the endpoint test's random kill -9 rounds 10x slower: 10 rounds (natively 100)
	XSEG_STRESS_REQUESTS=${XSEG_STRESS_REQUESTS:-200000} \
		XSEG_EP_KILL_ITERS=${XSEG_EP_KILL_ITERS:-10} \
		ksft_test "$t under valgrind" valgrind -q --error-exitcode=99 --trace-children=yes \
		--leak-check=full --errors-for-leak-kinds=definite --track-origins=no "$bin"
done
ksft_finish
