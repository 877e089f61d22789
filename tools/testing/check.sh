#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test, with one summary line at the end.
#
#   1. prerequisites (tools/deps.sh), the build (user, ASan/UBSan, modules for 6.1 + 6.12)
#   2. native unit tests, then the same tests built with ASan/UBSan and under valgrind, the
#      bench report generator, house style (checkpatch), line coverage of the core
#   3. for each target kernel: one VM boot running every kselftest (run_vm.sh)
#
# Environment: KERNELS="v1 v2" restricts the kernels (not allowed with CI=true);
# NATIVE=0 / VM=0 leave out a part (not allowed with CI=true).
# The last line is "N passed, N failed, N skipped".  Exit status is non-zero on any
# failure, and, when CI=true, on any skipped VM test or a missing target kernel.

set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src" || exit 1

pass=0 fail=0 skip=0
ci=${CI:-}
problems=()

note_problem() {
	problems+=("$1")
	echo "# FAIL: $1"
}

add_counts() {	# add_counts LABEL LOGFILE: take the runner's summary line
	local line
	# the label is literal (kernel versions hold '+' and '.')
	line=$(grep -F "# $1: " "$2" | grep -E "^# [^ ]+: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped" |
		grep -F "# $1: " | tail -n 1)
	if [ -z "$line" ]; then
		return 1
	fi
	read -r p f s <<< "$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped/\1 \2 \3/')"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	LAST_SKIP=$s
	return 0
}

finish() {
	echo "#"
	for p in "${problems[@]}"; do
		echo "# problem: $p"
	done
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ] && [ ${#problems[@]} = 0 ] && exit 0
	exit 1
}

if [ "$ci" = true ]; then
	if [ -n "${KERNELS:-}" ] || [ "${NATIVE:-1}" = 0 ] || [ "${VM:-1}" = 0 ]; then
		echo "# KERNELS/NATIVE/VM restrictions are ignored under CI=true"
	fi
	unset KERNELS NATIVE VM
fi

echo "# == prerequisites"
if ! tools/deps.sh; then
	note_problem "prerequisites missing (tools/deps.sh)"
	fail=$((fail + 1))
	finish
fi

kernels=${KERNELS:-$(ls -1 /lib/modules 2> /dev/null | grep -E '^6\.(1|12)\..*-amd64$' | sort -V)}
if [ "$ci" = true ]; then
	echo "$kernels" | grep -q '^6\.1\.' || note_problem "no 6.1 target kernel installed"
	echo "$kernels" | grep -q '^6\.12\.' || note_problem "no 6.12 target kernel installed"
fi

echo "# == build"
jobs=$(nproc)
if ! make -s -j"$jobs" user; then
	note_problem "userspace build failed"
	fail=$((fail + 1))
	finish
fi
asan_ok=1
if [ "${NATIVE:-1}" != 0 ] && ! make -s -j"$jobs" asan; then
	note_problem "ASan/UBSan build failed"
	fail=$((fail + 1))
	asan_ok=0
fi
built_kernels=()
for k in $kernels; do
	if make -s -j"$jobs" modules KVER="$k"; then
		built_kernels+=("$k")
	else
		note_problem "module build failed for $k"
		fail=$((fail + 1))
	fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ "${NATIVE:-1}" != 0 ]; then
	echo "# == native unit tests"
	units=(build/user/tests/unit/*)
	[ -e "${units[0]}" ] || units=()
	tools/testing/runner --label native "${units[@]}" | tee "$log"
	add_counts native "$log" || { note_problem "native runner gave no summary"; fail=$((fail + 1)); }

	if [ "$asan_ok" = 1 ]; then
		echo "# == unit tests under ASan/UBSan"
		units=(build/asan/tests/unit/*)
		[ -e "${units[0]}" ] || units=()
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			tools/testing/runner --label asan "${units[@]}" | tee "$log"
		add_counts asan "$log" || { note_problem "ASan runner gave no summary"; fail=$((fail + 1)); }
	fi

	echo "# == the core's unit tests under valgrind"
	tools/testing/runner --label valgrind tools/testing/valgrind.sh | tee "$log"
	add_counts valgrind "$log" || { note_problem "valgrind runner gave no summary"; fail=$((fail + 1)); }

	echo "# == the benchmark report generator (bench/selftest.sh, no VM)"
	tools/testing/runner --label bench bench/selftest.sh | tee "$log"
	add_counts bench "$log" || { note_problem "bench runner gave no summary"; fail=$((fail + 1)); }

	echo "# == house style (checkpatch --strict)"
	tools/testing/runner --label style tools/testing/style.sh | tee "$log"
	add_counts style "$log" || { note_problem "style runner gave no summary"; fail=$((fail + 1)); }

	echo "# == line coverage of the core by the unit tests (gcov, >= 85%)"
	tools/testing/runner --label coverage tools/testing/coverage.sh | tee "$log"
	add_counts coverage "$log" || { note_problem "coverage runner gave no summary"; fail=$((fail + 1)); }
fi

if [ "${VM:-1}" != 0 ]; then
	echo "# == the test rig (VM runner, module build)"
	tools/testing/runner --label rig --no-skip tools/testing/rig_test.sh | tee "$log"
	add_counts rig "$log" || { note_problem "rig runner gave no summary"; fail=$((fail + 1)); }

	for k in "${built_kernels[@]}"; do
		echo "# == kselftests in a VM: $k"
		tools/testing/vm/run --kernel "$k" --timeout "${VM_TIMEOUT:-2700}" -- \
			tools/testing/selftests/xseg/run_vm.sh 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		LAST_SKIP=0
		if ! add_counts "vm-$k" "$log"; then
			# the runner names each test before it runs: the last one named never ended
			hung=$(grep -E '^# running ' "$log" | tail -n 1 | sed 's/^# running //')
			note_problem "the VM run on $k produced no summary (exit $rc; last test started: ${hung:-none})"
			fail=$((fail + 1))
		elif [ "$rc" -ge 124 ]; then
			note_problem "the VM run on $k failed (exit $rc: timeout or kernel problem)"
			fail=$((fail + 1))
		fi
		if [ "$ci" = true ] && [ "$LAST_SKIP" != 0 ]; then
			note_problem "$LAST_SKIP VM tests skipped on $k under CI"
		fi
	done
fi

finish
