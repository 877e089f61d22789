#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# xsegbd basics: add/remove through /sys/bus/xsegbd, the device attributes, fio with
# crc32c verification at QD 1 and 32 on several queues, flush/discard/write-zeroes,
# ext4 mkfs + mount + files + fsck, -EBUSY while mounted, several devices on one segment,
# the add interface's errors (xsegbd_test), rmmod refused while devices exist.

. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/xsegbd_lib.sh"
xsegbd_setup

ksft_test "server on port 1 starts" xsegbd_server_start 1 || ksft_finish
ksft_test "server on port 2 starts" xsegbd_server_start 2 || ksft_finish
# for xfs (mkfs.xfs wants 300 MiB at least); started before the devices take their ports
xfs_size=$((320 << 20))
ksft_test "server on port 3 (320 MiB targets) starts" xsegbd_server_start 3 --size "$xfs_size"

n=$(xsegbd_add "segment=$XSEGBD_SEG port=1 target=vol0 queues=2 depth=32 timeout=20")
ksft_test "add a device (2 queues)" test -n "$n" || ksft_finish
dev=/dev/xsegbd$n
ksft_test "$dev is a block device" test -b "$dev"
ksft_test "attribute size = $XSEGBD_SIZE" test "$(xsegbd_attr "$n" size)" = "$XSEGBD_SIZE"
ksft_test "blockdev size matches" test "$(blockdev --getsize64 "$dev")" = "$XSEGBD_SIZE"
ksft_test "attributes segment/port/target/queues/depth/state" test \
	"$(xsegbd_attr "$n" segment) $(xsegbd_attr "$n" port) $(xsegbd_attr "$n" target) $(xsegbd_attr "$n" queues) $(xsegbd_attr "$n" depth) $(xsegbd_attr "$n" state)" \
	= "$XSEGBD_SEG 1 vol0 2 32 running"
ports=$(xsegbd_attr "$n" ports)
ksft_test "two own ports ($ports)" test "$(wc -w <<< "$ports")" = 2
ksft_test "logical block 512, physical 4096" test \
	"$(blockdev --getss "$dev") $(blockdev --getpbsz "$dev")" = "512 4096"
ksft_test "write cache + FUA advertised" grep -q "write back" \
	"/sys/block/xsegbd$n/queue/write_cache"

ksft_test "fio randwrite+verify QD1" xsegbd_fio "$dev" qd1 --iodepth=1 --size=2M
deferred() { awk '{print $9}' "$XSEGBD_BUS/devices/$n/stats"; }
d0=$(deferred)
ksft_test "fio randwrite+verify QD32, 2 jobs" xsegbd_fio "$dev" qd32 --iodepth=32 \
	--numjobs=2 --offset_increment=24M --size=6M
d1=$(deferred)
ksft_test "QD32: requests deferred to the reply handler ($d0 -> $d1)" test "$d1" -gt "$d0"
# the same with deferred issue off: everything sent by the submitter, nothing deferred
defer_param=/sys/module/xsegbd/parameters/defer_issue
echo N > "$defer_param"
ksft_test "defer_issue=N: fio randwrite+verify QD32, 2 jobs" xsegbd_fio "$dev" qd32n \
	--iodepth=32 --numjobs=2 --offset_increment=24M --size=6M
ksft_test "defer_issue=N: nothing deferred" test "$(deferred)" = "$d1"
echo Y > "$defer_param"
# defer_min: range-checked; a larger value still verifies and still defers at QD32
defer_min=/sys/module/xsegbd/parameters/defer_min
ksft_test "defer_min defaults to 1" test "$(cat "$defer_min")" = 1
ksft_test "defer_min=0 is refused" sh -c "! echo 0 > $defer_min"
ksft_test "defer_min=1025 is refused" sh -c "! echo 1025 > $defer_min"
ksft_test "defer_min=abc is refused" sh -c "! echo abc > $defer_min"
ksft_test "defer_min still 1 after refused writes" test "$(cat "$defer_min")" = 1
echo 4 > "$defer_min"
d2=$(deferred)
ksft_test "defer_min=4: fio randwrite+verify QD32, 2 jobs" xsegbd_fio "$dev" qd32m \
	--iodepth=32 --numjobs=2 --offset_increment=24M --size=6M
d3=$(deferred)
ksft_test "defer_min=4: requests deferred ($d2 -> $d3)" test "$d3" -gt "$d2"
# above the queue depth (32) no queue ever has that many in flight: nothing is deferred
echo 1024 > "$defer_min"
ksft_test "defer_min=1024: fio randwrite+verify QD32, 2 jobs" xsegbd_fio "$dev" qd32m \
	--iodepth=32 --numjobs=2 --offset_increment=24M --size=6M
ksft_test "defer_min=1024: nothing deferred" test "$(deferred)" = "$d3"
echo 1 > "$defer_min"
ksft_test "fio 128k sequential write+verify QD8" xsegbd_fio "$dev" seq --rw=write --bs=128k \
	--iodepth=8 --size=8M
ksft_test "data reached the store" cmp -n 1048576 "$dev" "$XSEGBD_STORE/vol0"

ksft_test "blkdiscard" blkdiscard -o 0 -l 1048576 "$dev"
ksft_test "blkdiscard -z (write zeroes)" blkdiscard -z -o 1048576 -l 1048576 "$dev"
ksft_test "zeroed range reads zero" cmp -n 1048576 -i 1048576:0 "$dev" /dev/zero
ksft_test "sync (flush)" sh -c "dd if=/dev/zero of=$dev bs=4k count=1 oflag=direct,sync 2>&1 && blockdev --flushbufs $dev"

mnt=$XSEGBD_STORE/mnt
mkdir -p "$mnt"
ksft_test "mkfs.ext4" mkfs.ext4 -q -F "$dev"
ksft_test "mount" mount "$dev" "$mnt"
ksft_test "write files" sh -c "for i in \$(seq 20); do head -c 200000 /dev/urandom > $mnt/f\$i; done; sha256sum $mnt/f* > $XSEGBD_STORE/sums; sync"
ksft_test_fails "remove refused while mounted (EBUSY)" xsegbd_remove "$n"
ksft_test "umount" umount "$mnt"
ksft_test "remount and checksums" sh -c "mount $dev $mnt && sha256sum -c --quiet $XSEGBD_STORE/sums && umount $mnt"
ksft_test "fsck -n" fsck.ext4 -n -f "$dev"

# several devices on one segment: another target on the same server, one on port 2
n2=$(xsegbd_add "segment=$XSEGBD_SEG port=1 target=vol1")
n3=$(xsegbd_add "segment=$XSEGBD_SEG port=2 target=vol2 queues=3 depth=8")
ksft_test "two more devices" test -n "$n2" -a -n "$n3" -a "$n2" != "$n3"
three_at_once() {
	local a b c
	xsegbd_fio "$dev" m0 --iodepth=16 --size=2M &
	a=$!
	xsegbd_fio "/dev/xsegbd$n2" m1 --iodepth=16 --size=2M &
	b=$!
	xsegbd_fio "/dev/xsegbd$n3" m2 --iodepth=4 --size=2M &
	c=$!
	wait $a && wait $b && wait $c
}
ksft_test "fio on three devices at once" three_at_once
ksft_test "devices are independent (vol1 != vol2 data)" sh -c "! cmp -s -n 2097152 $XSEGBD_STORE/vol1 $XSEGBD_STORE/vol2"

# xfs: a 320 MiB target from the server on port 3
nx=$(xsegbd_add "segment=$XSEGBD_SEG port=3 target=xfsvol queues=2")
ksft_test "add a 320 MiB device" test -n "$nx" -a "$(xsegbd_attr "$nx" size)" = "$xfs_size"
devx=/dev/xsegbd$nx
ksft_test "mkfs.xfs" mkfs.xfs -q -f "$devx"
ksft_test "mount xfs" mount -t xfs "$devx" "$mnt"
ksft_test "write files on xfs" sh -c "for i in \$(seq 20); do head -c 300000 /dev/urandom > $mnt/x\$i; done; sha256sum $mnt/x* > $XSEGBD_STORE/sums-xfs; sync"
ksft_test "umount xfs" umount "$mnt"
ksft_test "remount xfs and checksums" sh -c "mount -t xfs $devx $mnt && sha256sum -c --quiet $XSEGBD_STORE/sums-xfs && umount $mnt"
ksft_test "xfs_repair -n" xfs_repair -n "$devx"
ksft_test "remove the xfs device" xsegbd_remove "$nx"

XSEGBD_SEGMENT=$XSEGBD_SEG XSEGBD_PORT=1 ksft_test "add interface errors (xsegbd_test)" \
	"$XSEG_TESTS/vm/xsegbd_test"

ksft_test_fails "rmmod xsegbd refused while devices exist" rmmod xsegbd
ksft_test "stats: no errors, nothing bogus" sh -c "set -- \$(cat $XSEGBD_BUS/devices/$n/stats); [ \$3 = 0 ] && [ \$7 = 0 ]"
ksft_test "remove $n" xsegbd_remove "$n"
ksft_test "remove $n2 and $n3" sh -c "echo $n2 > $XSEGBD_BUS/remove && echo $n3 > $XSEGBD_BUS/remove"
ksft_test "$dev is gone" test ! -e "$dev"
ksft_test "rmmod xsegbd" rmmod xsegbd
ksft_finish
