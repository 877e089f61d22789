#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xsegbd add/remove under I/O: a forced remove while fio runs ends the I/O with errors and
# leaves nothing behind; a plain remove is refused (EBUSY) while fio holds the device and
# works once it is done; add/remove cycles leave no port, request or module reference
# behind; rmmod works at the end.

. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xsegbd_lib.sh"
xsegbd_setup

ksft_test "server on port 1 starts" xsegbd_server_start 1 || ksft_finish

# wait_io N: until device N has completed I/O (fio starts slowly under TCG; removing the
# device before it opens it would let fio create a regular file of that name)
wait_io() {
	local i
	for i in $(seq 600); do
		[ "$(awk '{print $2}' "$XSEGBD_BUS/devices/$1/stats")" -gt 16 ] && return 0
		sleep 0.1
	done
	echo "no I/O on device $1"
	return 1
}

# force_under_io I: add, run fio, remove with force while it runs
force_under_io() {
	local n fio_pid
	n=$(xsegbd_add "segment=$XSEGBD_SEG port=1 target=ar$1 queues=2 depth=16") || return 1
	timeout -s KILL 120 fio --name=ar --filename="/dev/xsegbd$n" --direct=1 \
		--ioengine=libaio --rw=randrw --bs=4k --iodepth=16 --size=8M --time_based \
		--runtime=30 --allow_file_create=0 > /dev/null 2>&1 &
	fio_pid=$!
	wait_io "$n" || { wait "$fio_pid"; return 1; }
	xsegbd_remove "$n" force || { wait "$fio_pid"; return 1; }
	wait "$fio_pid" && { echo "fio did not see the device go"; return 1; }
	[ ! -e "/dev/xsegbd$n" ] && [ ! -e "$XSEGBD_BUS/devices/$n" ]
}

for i in 1 2 3; do
	ksft_test "forced remove under fio, round $i" force_under_io "$i"
done

busy_then_remove() {
	local n
	n=$(xsegbd_add "segment=$XSEGBD_SEG port=1 target=busy") || return 1
	exec 3< "/dev/xsegbd$n"
	if xsegbd_remove "$n" 2> /dev/null; then
		exec 3<&-
		echo "remove succeeded while the device was open"
		return 1
	fi
	exec 3<&-
	xsegbd_remove "$n"
}
ksft_test "plain remove refused while open, works after" busy_then_remove

cycles() {
	local i n
	for i in $(seq 10); do
		n=$(xsegbd_add "segment=$XSEGBD_SEG port=1 target=cyc queues=$((i % 3 + 1))") ||
			return 1
		dd if=/dev/urandom of="/dev/xsegbd$n" bs=64k count=1 oflag=direct status=none ||
			return 1
		xsegbd_remove "$n" || return 1
	done
}
ksft_test "10 add/write/remove cycles" cycles
ksft_test "no xsegbd device left" sh -c "! ls $XSEGBD_BUS/devices/ | grep -q ."
ksft_test "no port left owned by the kernel" sh -c \
	"! '$XSEG_BIN/xseg' segment show --type segdev '$XSEGBD_SEG' | grep -E '^ +[0-9]+ +kernel'"
ksft_test "no task in D state" sh -c "! ps -eo stat,comm | grep -E '^D.*fio'"
ksft_test "rmmod xsegbd" rmmod xsegbd
ksft_finish
