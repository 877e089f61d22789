/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * xsegbd: block devices /dev/xsegbdN whose I/O is served by a storage peer through an xseg
 * segment living in a segdev segment (the block protocol is <uapi/xseg/blk.h>).
 *
 * Control interface: a sysfs bus, as rbd does.  Everything is text, one line per write.
 *
 *  /sys/bus/xsegbd/add  (write-only, root)
 *	One line of space-separated key=value words, in any order, each key at most once:
 *
 *	  segment=NAME          segdev segment holding the xseg segment (required)
 *	  port=P                the server's port, decimal (required)
 *	  target=TARGET         the volume name sent with every request (required; 1 to
 *	                        XSEG_BLK_TARGET_MAX bytes, no '/', not "." or "..")
 *	  queues=N              hardware queues, one own port each (1..XSEGBD_MAX_QUEUES,
 *	                        default: 1)
 *	  depth=D               requests in flight per queue (1..XSEGBD_MAX_DEPTH, default 64)
 *	  timeout=SEC           I/O timeout while the server is alive (1..3600, default 30):
 *	                        an I/O not answered by then fails with -EIO (ETIMEDOUT)
 *	  recovery_window=SEC   how long I/O waits for a dead server to be replaced
 *	                        (0..3600, default: the module parameter recovery_window, 30)
 *
 *	An unknown key, a malformed value, a value out of range or a key given twice fails the
 *	write with -EINVAL.  -ENOENT: no such segdev segment (or no xseg segment in it);
 *	-ENXIO: the server port is out of range or not bound; -ETIMEDOUT: the server did not
 *	answer the INFO request within timeout (or 10 s, whichever is smaller); -EIO: bad INFO
 *	reply; -EINTR: the writer was interrupted; -ENOSPC: XSEGBD_MAX_DEVICES exist.
 *	When the write returns (successfully) the device exists: /dev/xsegbdN is registered
 *	(udev may still be creating the node) and /sys/bus/xsegbd/devices/N/ is populated.
 *
 *	Which N: the writer reads /sys/bus/xsegbd/last_added right after a successful write.
 *	It holds the number of the device created by the most recent successful add; adds are
 *	serialised, so a writer that does not race another adder reads its own device.  A
 *	race-free alternative: list the entries of /sys/bus/xsegbd/devices/ and match
 *	segment, port and target.  Numbers are the lowest free ones (a removed number is
 *	reused).
 *
 *  /sys/bus/xsegbd/last_added  (read-only)
 *	"N\n", or "-1\n" before the first successful add.
 *
 *  /sys/bus/xsegbd/remove  (write-only, root)
 *	"N" or "N force".  Without force, -EBUSY while /dev/xsegbdN is open (mounted, or held
 *	by any opener).  With force, the disk is removed anyway: pending and new I/O fail with
 *	-EIO, openers see a dead device.  -ENOENT: no device N.  -EINVAL: anything else.
 *
 *  /sys/bus/xsegbd/devices/N/  (attributes, read-only unless noted; one value + "\n")
 *	segment    segdev segment name
 *	port       the server's port
 *	ports      xsegbd's own ports, one per hardware queue, space-separated, queue order
 *	target     the target name
 *	size       device size in bytes (from the last INFO)
 *	block_size logical block size in bytes (from INFO)
 *	queues     hardware queues
 *	depth      queue depth
 *	timeout    I/O timeout in seconds
 *	recovery_window  seconds
 *	state      "running", "recovering" (the server died: I/O waits for a new server on
 *	           the same port) or "failed" (no server came back in time: I/O fails with -EIO;
 *	           the device can only be removed)
 *	major, minor   of /dev/xsegbdN
 *	stats      "inflight completed errors timeouts reissued stale bogus stranded" counters:
 *	           I/O in flight now, I/O completed, of which with an error, timed out, xseg
 *	           requests re-issued after a server death, stale replies dropped (generation
 *	           mismatch), replies refused as bogus, xseg requests left with a dead server
 *	           and never returned
 *	refresh    (write-only, root) any write re-reads the size with an INFO request and
 *	           resizes the disk; fails like add does (-ETIMEDOUT, -EIO) and then keeps
 *	           the old size
 *
 * Module parameters of xsegbd.ko (/sys/module/xsegbd/parameters/):
 *	recovery_window   default recovery window in seconds for new devices (default 30)
 *
 * Block device properties: logical block size from INFO (512..4096, a power of two),
 * physical block size 4096, max I/O size bounded by the segment's heap (at most 1 MiB),
 * REQ_OP_FLUSH -> XSEG_OP_FLUSH, REQ_FUA -> XSEG_RF_FUA, REQ_OP_DISCARD -> XSEG_OP_DISCARD,
 * REQ_OP_WRITE_ZEROES -> XSEG_OP_WRITE_ZEROES.  Device names are xsegbdN (partitions
 * xsegbdNpM).
 */
#ifndef _UAPI_XSEG_XSEGBD_H
#define _UAPI_XSEG_XSEGBD_H

#define XSEGBD_SYSFS_BUS	"/sys/bus/xsegbd"
#define XSEGBD_DEV_PREFIX	"/dev/xsegbd"

#define XSEGBD_MAX_DEVICES	256
#define XSEGBD_MAX_QUEUES	64
#define XSEGBD_MAX_DEPTH	1024
#define XSEGBD_DEFAULT_QUEUES	1
#define XSEGBD_DEFAULT_DEPTH	64
#define XSEGBD_DEFAULT_TIMEOUT	30	/* seconds */
#define XSEGBD_DEFAULT_RECOVERY	30	/* seconds */
#define XSEGBD_MAX_SECONDS	3600

/* Values of the state attribute. */
#define XSEGBD_STATE_RUNNING	"running"
#define XSEGBD_STATE_RECOVERING	"recovering"
#define XSEGBD_STATE_FAILED	"failed"

#endif /* _UAPI_XSEG_XSEGBD_H */
