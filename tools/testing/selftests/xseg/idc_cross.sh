#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The endpoint API across domains, on a segdev segment:
#   - a kernel client (xseg_idc_kpeer connect=) runs transactions against a user echo
#     service (xseg-echo serve);
#   - the user service is killed with SIGKILL mid-traffic: the kernel client's outstanding
#     transactions fail, it disconnects, and reconnects to the restarted service;
#   - a user client (xseg-echo send) talks to a kernel echo service (xseg_idc_kpeer serve=);
#   - a user client killed with SIGKILL mid-traffic: the kernel service's connection goes
#     down by itself and the service takes new clients;
#   - every module unloads (bounded), and no request is left behind in the segment.

. "$(dirname "$0")/common.sh"
xseg_need_root
xseg_need_module xseg_idc_kpeer

SEG=idc-$$
ECHO=$XSEG_BIN/xseg-echo
ECHO_ARGS=(--type segdev --segment "$SEG")
N=${XSEG_IDC_TXNS:-200}
# ksft_test runs its command in a subshell: the service's pid lives in a file
PIDFILE=/tmp/idc-svc.pid.$$

param() {
	cat "/sys/module/xseg_idc_kpeer/parameters/$1" 2> /dev/null || echo -1
}

# wait_param NAME VALUE SECONDS: until the counter reaches VALUE (>=)
wait_param() {
	local i
	for i in $(seq $((${3} * 10))); do
		[ "$(param "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "$1 = $(param "$1"), wanted $2"
	return 1
}

start_service() {
	"$ECHO" "${ECHO_ARGS[@]}" --service uecho serve > /tmp/idc-svc.$$ 2>&1 &
	echo $! > "$PIDFILE"
	local i
	for i in $(seq 100); do
		grep -q serving /tmp/idc-svc.$$ && return 0
		sleep 0.1
	done
	cat /tmp/idc-svc.$$
	return 1
}

load_deps() {
	modprobe segdev 2> /dev/null || xseg_insmod segdev || return 1
	modprobe xseg 2> /dev/null || xseg_insmod xseg || return 1
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -e /dev/segdev ] && return 0
		sleep 0.2
	done
	return 1
}

kernel_client() {
	xseg_insmod xseg_idc_kpeer segment="$SEG" connect=uecho count="$N" || return 1
	wait_param txn_ok "$N" 300 || return 1
	[ "$(param txn_bad)" = 0 ] && [ "$(param txn_err)" = 0 ] && [ "$(param connects)" = 1 ]
}

kernel_client_loaded() {
	xseg_insmod xseg_idc_kpeer segment="$SEG" connect=uecho count=100000000 || return 1
	wait_param txn_ok 50 120
}

kernel_client_continues() {
	local ok
	wait_param connects 2 120 || return 1
	ok=$(param txn_ok)
	wait_param txn_ok $((ok + 50)) 120 || return 1
	[ "$(param txn_bad)" = 0 ] || { echo "txn_bad $(param txn_bad)"; return 1; }
	echo "transport errors at the kill: $(param txn_err)"
}

# Kills the service (SIGKILL) and reaps it here: a dead peer is seen as dead once reaped.
kill_service() {
	local pid
	pid=$(cat "$PIDFILE") || return 1
	kill -9 "$pid" && wait "$pid" 2> /dev/null
	return 0
}

stop_service() {
	local pid i
	pid=$(cat "$PIDFILE" 2> /dev/null) || return 0
	kill "$pid" 2> /dev/null
	for i in $(seq 100); do
		kill -0 "$pid" 2> /dev/null || { wait "$pid"; return; }
		sleep 0.1
	done
	kill -9 "$pid"
	wait "$pid"
	return 1
}

user_client() {
	local out
	xseg_insmod xseg_idc_kpeer segment="$SEG" serve=kecho || return 1
	out=$("$ECHO" "${ECHO_ARGS[@]}" --service kecho send alpha beta) || return 1
	[ "$out" = "$(printf 'alpha\nbeta')" ] || { echo "got: $out"; return 1; }
	wait_param served 4 10
}

kernel_service_survives_client_kill() {
	local pid d out
	d=$(param disconnects)
	"$ECHO" "${ECHO_ARGS[@]}" --service kecho send $(seq 1 100000) > /dev/null 2>&1 &
	pid=$!
	wait_param served 100 120 || { kill -9 $pid; return 1; }
	kill -9 $pid
	wait $pid 2> /dev/null
	wait_param disconnects $((d + 1)) 60 || return 1
	out=$("$ECHO" "${ECHO_ARGS[@]}" --service kecho send again) || return 1
	[ "$out" = again ]
}

no_request_left() {
	"$XSEG_BIN/xseg" segment show --type segdev "$SEG" | grep -E "requests:|ports:" |
		head -2 > /tmp/idc-show.$$
	cat /tmp/idc-show.$$
	grep -q "1024 free" /tmp/idc-show.$$ && grep -q "(0 bound)" /tmp/idc-show.$$
}

[ -x "$ECHO" ] || ksft_skip_all "xseg-echo not built"
xseg_rmmod xseg_idc_kpeer
ksft_test "segdev.ko and xseg.ko loaded" load_deps || ksft_finish
ksft_test "segdev segment created" \
	"$XSEG_BIN/xseg" segment create --type segdev --name "$SEG" --size 8M || ksft_finish
# the service runs as a child of this shell (not of ksft_test's subshell) so that its
# death can be reaped here
if start_service; then
	ksft_pass "user echo service registered"
else
	ksft_fail "user echo service registered"
fi
ksft_test "kernel client: $N transactions to the user service" kernel_client
ksft_test "kernel client unloads" timeout 30 rmmod xseg_idc_kpeer
ksft_test "kernel client: transactions flowing again" kernel_client_loaded
kill_service
ksft_test "kernel client: user service killed -9, client disconnects" wait_param disconnects 1 60
if start_service; then
	ksft_pass "user echo service restarted"
else
	ksft_fail "user echo service restarted"
fi
ksft_test "kernel client: reconnects to the restarted service and goes on" \
	kernel_client_continues
ksft_test "kernel client unloads after the kill" timeout 30 rmmod xseg_idc_kpeer
if stop_service; then
	ksft_pass "user echo service stops on SIGTERM"
else
	ksft_fail "user echo service stops on SIGTERM"
fi
ksft_test "user client: messages and transactions to the kernel service" user_client
ksft_test "kernel service: user client killed -9, connection drops, new client served" \
	kernel_service_survives_client_kill
ksft_test "kernel service unloads" timeout 30 rmmod xseg_idc_kpeer
ksft_test "no request or port left in the segment" no_request_left
ksft_test "segment destroyed" "$XSEG_BIN/xseg" segment destroy --type segdev "$SEG"
rm -f /tmp/idc-svc.$$ /tmp/idc-show.$$ "$PIDFILE"
ksft_finish
