/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Names of the kernel signal types (drivers/kernel/), known to both domains.
 *
 *  waitqueue: the receiver is a kernel thread that sleeps in xseg_wait_signal() on a wait
 *             queue kept in kernel memory (never in the segment);
 *  callback:  the receiver is a kernel peer that never sleeps; a function it registered
 *             with xseg_kcallback_set() runs instead of a wait.
 *
 * A user peer can only send to them (libxseg registers sender-only stubs): the segment must
 * be attached through segdev (xseg_segdev_backend) and the wake is a segdev doorbell whose
 * number is the receiver's signal descriptor index.  The kernel looks the index up in its
 * own table of descriptors, so a doorbell can only wake a kernel peer, never anything else.
 */
#ifndef _XSEG_SIGNAL_KERNEL_H
#define _XSEG_SIGNAL_KERNEL_H

#define XSEG_SIGNAL_WAITQUEUE	"waitqueue"
#define XSEG_SIGNAL_CALLBACK	"callback"

#endif /* _XSEG_SIGNAL_KERNEL_H */
