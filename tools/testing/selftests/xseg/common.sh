#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for xseg's shell selftests.  Source it, then:
#
#   ksft_test "description" COMMAND...   run COMMAND, record pass/fail
#   ksft_pass|ksft_fail|ksft_skip "description"
#   xseg_insmod NAME [PARAMS...]         load build/kernel/$(uname -r)/NAME.ko
#   xseg_rmmod NAME                      unload it if loaded
#   xseg_need_root / xseg_need_module NAME   skip the whole test (exit 4) if missing
#   ksft_finish                          print the kselftest totals line and exit
#
# Exit status follows kselftest: 0 pass, 1 fail, 4 skip.

XSEG_SRCTREE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
XSEG_KVER=$(uname -r)
XSEG_MODDIR=${XSEG_MODDIR:-$XSEG_SRCTREE/build/kernel/$XSEG_KVER}
XSEG_BIN=$XSEG_SRCTREE/build/user/bin
XSEG_TESTS=$XSEG_SRCTREE/build/user/tests

KSFT_PASS=0
KSFT_FAIL=0
KSFT_SKIP=0
KSFT_NUM=0

ksft_pass() {
	KSFT_NUM=$((KSFT_NUM + 1)) KSFT_PASS=$((KSFT_PASS + 1))
	echo "ok $KSFT_NUM $1"
}

ksft_fail() {
	KSFT_NUM=$((KSFT_NUM + 1)) KSFT_FAIL=$((KSFT_FAIL + 1))
	echo "not ok $KSFT_NUM $1"
}

ksft_skip() {
	KSFT_NUM=$((KSFT_NUM + 1)) KSFT_SKIP=$((KSFT_SKIP + 1))
	echo "ok $KSFT_NUM $1 # SKIP"
}

# ksft_took START: a comment with the time since START ($EPOCHREALTIME) when it is a
# second or more, so that a slow run shows where its time went.
ksft_took() {
	local us=$((${EPOCHREALTIME/./} - ${1/./}))
	[ "$us" -ge 1000000 ] && printf '# took %d.%01d s\n' $((us / 1000000)) $((us % 1000000 / 100000))
	return 0
}

# ksft_run COMMAND...: runs COMMAND, its output kept as comments, then how long it took;
# returns its status.
ksft_run() {
	local out rc t0=$EPOCHREALTIME
	out=$("$@" 2>&1)
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
	ksft_took "$t0"
	return $rc
}

# ksft_test DESCRIPTION COMMAND...: pass when COMMAND succeeds; its output is kept as
# comments.
ksft_test() {
	local desc=$1 rc
	shift
	ksft_run "$@"
	rc=$?
	if [ $rc = 0 ]; then
		ksft_pass "$desc"
	else
		ksft_fail "$desc (exit $rc)"
	fi
	return $rc
}

# ksft_test_fails DESCRIPTION COMMAND...: pass when COMMAND fails.
ksft_test_fails() {
	local desc=$1 rc
	shift
	ksft_run "$@"
	rc=$?
	if [ $rc != 0 ]; then
		ksft_pass "$desc"
	else
		ksft_fail "$desc (unexpectedly succeeded)"
	fi
}

ksft_finish() {
	echo "# Totals: pass:$KSFT_PASS fail:$KSFT_FAIL xfail:0 xpass:0 skip:$KSFT_SKIP error:0"
	[ "$KSFT_FAIL" = 0 ] || exit 1
	[ "$KSFT_PASS" = 0 ] && [ "$KSFT_SKIP" != 0 ] && exit 4
	exit 0
}

# Skip everything (exit 4) with a reason.
ksft_skip_all() {
	echo "# SKIP: $1"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
}

xseg_need_root() {
	[ "$(id -u)" = 0 ] || ksft_skip_all "needs root"
}

xseg_need_module() {
	[ -e "$XSEG_MODDIR/$1.ko" ] || ksft_skip_all "module $1.ko not built for $XSEG_KVER"
}

xseg_module_loaded() {
	[ -d "/sys/module/$1" ]
}

xseg_insmod() {
	local name=$1
	shift
	xseg_module_loaded "$name" && return 0
	insmod "$XSEG_MODDIR/$name.ko" "$@"
}

xseg_rmmod() {
	xseg_module_loaded "$1" || return 0
	rmmod "$1"
}
