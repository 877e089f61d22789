#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xsegbd never trusts the server: replies with a short serviced count, a positive result,
# a changed offset, a changed buffer, an unmatchable priv (-> timeout) and a legitimate
# -EIO fail exactly the I/O they answer, with EIO; I/O elsewhere on the same device keeps
# its data, another device on the same segment is untouched, and no kernel warning fires
# (the VM runs with panic_on_warn).

. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xsegbd_lib.sh"
xsegbd_setup

BAD=$((1 << 20))	# byte offset the bogus server answers wrongly
ksft_test "good server on port 2" xsegbd_server_start 2 || ksft_finish
good=$(xsegbd_add "segment=$XSEGBD_SEG port=2 target=good")
ksft_test "good device $good" test -n "$good" || ksft_finish
ksft_test "fill the good device" dd if=/dev/urandom of="/dev/xsegbd$good" bs=64k count=64 \
	oflag=direct status=none
cp "$XSEGBD_STORE/good" "$XSEGBD_STORE/good.ref"

for kind in serviced result offset buf priv eio; do
	xsegbd_server_start 1 --bogus "$kind" --bogus-offset "$BAD" || {
		ksft_fail "$kind: server starts"
		continue
	}
	n=$(xsegbd_add "segment=$XSEGBD_SEG port=1 target=bog-$kind timeout=3")
	if [ -z "$n" ]; then
		ksft_fail "$kind: add"
		xsegbd_server_kill 1
		continue
	fi
	d=/dev/xsegbd$n
	ksft_test "$kind: write elsewhere" dd if=/dev/urandom of="$d" bs=4k count=8 seek=16 \
		oflag=direct status=none
	ksft_test "$kind: read back elsewhere matches the store" cmp -n 32768 -i 65536:65536 \
		"$d" "$XSEGBD_STORE/bog-$kind"
	ksft_test_fails "$kind: read at the bad offset fails" dd if="$d" of=/dev/null bs=4k \
		count=1 skip=$((BAD / 4096)) iflag=direct status=none
	ksft_test_fails "$kind: write at the bad offset fails" dd if=/dev/zero of="$d" bs=4k \
		count=1 seek=$((BAD / 4096)) oflag=direct status=none
	ksft_test "$kind: the next I/O works" dd if="$d" of=/dev/null bs=4k count=1 \
		skip=$((BAD / 4096 + 1)) iflag=direct status=none
	set -- $(xsegbd_attr "$n" stats)
	if [ "$kind" = eio ]; then
		ksft_test "$kind: errors counted, not bogus ($*)" test "$3" -ge 2 -a "$7" = 0
	elif [ "$kind" = priv ]; then
		ksft_test "$kind: timeouts counted ($*)" test "$4" -ge 2
	else
		ksft_test "$kind: bogus replies counted ($*)" test "$7" -ge 2
	fi
	ksft_test "$kind: remove" xsegbd_remove "$n"
	xsegbd_server_kill 1 TERM
done
ksft_test "good device data intact" cmp -n $((4 << 20)) "/dev/xsegbd$good" \
	"$XSEGBD_STORE/good.ref"
ksft_test "remove good device" xsegbd_remove "$good"
ksft_test "rmmod xsegbd" rmmod xsegbd
ksft_finish
