/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * The block protocol: how a block client (xsegbd.ko, or any peer) asks a storage peer
 * (xseg-memd, xseg-filed) for block I/O through an xseg segment.  Only the request fields
 * of <uapi/xseg/xseg.h> are used; this header names the conventions.
 *
 * Every request carries the TARGET name (the volume: a file name under xseg-filed's --dir,
 * any name for xseg-memd) as its target (xseg_prep_request() targetlen, no NUL, at most
 * XSEG_BLK_TARGET_MAX bytes, no '/' and not "." or "..").  offset and size are bytes.
 *
 *  op                    data buffer            server does                     reply
 *  XSEG_OP_READ          >= size bytes          fills data[0, size)            serviced = size
 *  XSEG_OP_WRITE         >= size bytes payload  writes data[0, size)           serviced = size
 *  XSEG_OP_FLUSH         none (size 0)          makes every write it has
 *                                               completed so far durable       serviced = 0
 *  XSEG_OP_DISCARD       none                   may drop [offset, offset+size) serviced = size
 *  XSEG_OP_WRITE_ZEROES  none                   zeroes [offset, offset+size)   serviced = size
 *  XSEG_OP_INFO          sizeof(struct          fills xseg_reply_info: size
 *                        xseg_reply_info)       in bytes, logical block size   serviced = len
 *
 * Flags: XSEG_RF_FUA on a WRITE (or WRITE_ZEROES) means durable before the reply (fdatasync
 * semantics for that range); XSEG_RF_FLUSH means "flush before doing this request".
 * Writes without either flag need not be durable until a later FLUSH.
 *
 * result is 0 on success or -errno: -EINVAL for a bad request (bad op, range not multiple
 * of XSEG_BLK_SECTOR, data buffer smaller than size), -ENOSPC / -EIO from the backing store,
 * -ENOENT for an unknown target, and a range beyond the target's size is -EINVAL (reads and
 * writes are never silently truncated).  A server never trusts any field: it checks op,
 * flags, offset + size (overflow), the data buffer (xseg_req_data()) and the target.
 *
 * The client never trusts the reply either: a reply whose state, index, serviced, result or
 * buffer does not match what was sent fails that I/O (-EIO) and nothing else.
 *
 * Requests are idempotent: a client may re-issue any request that was in flight when its
 * server died (READ/WRITE of the same data at the same offset, FLUSH, ...).  priv is the
 * client's (e.g. a tag and generation number) and a server leaves it untouched.
 */
#ifndef _UAPI_XSEG_BLK_H
#define _UAPI_XSEG_BLK_H

#define XSEG_BLK_SECTOR		512U	/* every offset and size is a multiple of this */
#define XSEG_BLK_TARGET_MAX	255U	/* bytes of a target name */

#endif /* _UAPI_XSEG_BLK_H */
