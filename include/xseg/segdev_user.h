/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The segdev segment backend of libxseg (user domain only): segments that live in
 * segdev.ko (/dev/segdev) and can therefore be shared with kernel peers (xseg.ko).
 */
#ifndef _XSEG_SEGDEV_USER_H
#define _XSEG_SEGDEV_USER_H

#include <xseg/xseg.h>
#include <xseg/signal_kernel.h>

/*
 * create: SEGDEV_IOC_CREATE with the configured mode (0600 by default), owned by the caller;
 * map: a file of /dev/segdev attached to the segment (SEGDEV_IOC_ATTACH: EACCES for a caller
 * the mode does not allow) and mmap MAP_SHARED of the whole segment, at an address of the
 * kernel's choosing; the file stays open while the handle lives (doorbells, waiters);
 * destroy: SEGDEV_IOC_DESTROY with SEGDEV_DESTROY_DEFERRED (the name goes at once, the memory
 * with its last user), like shm_unlink().
 */
extern const struct xseg_backend_ops xseg_segdev_backend;

/* The /dev/segdev file of a handle joined through xseg_segdev_backend, or -EINVAL. */
int xseg_segdev_fd(struct xseg *xseg);
/* Rings doorbell number n of the handle's segment (SEGDEV_IOC_DOORBELL). */
int xseg_segdev_doorbell(struct xseg *xseg, __u32 n);
/*
 * Registers the calling thread as the waiter of number n (SEGDEV_IOC_REGISTER_WAITER), so
 * that kernel peers may send it queued RT signals; unregister undoes it.
 */
int xseg_segdev_register_waiter(struct xseg *xseg, __u32 n);
int xseg_segdev_unregister_waiter(struct xseg *xseg, __u32 n);

#endif /* _XSEG_SEGDEV_USER_H */
