/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel peers of xseg.ko: segments shared with userspace through segdev.ko, and the
 * kernel signal types "waitqueue" and "callback" (include/xseg/signal_kernel.h).  Kernel
 * only.  Everything else is the common API of <xseg/xseg.h>.
 */
#ifndef _XSEG_XSEG_KERNEL_H
#define _XSEG_XSEG_KERNEL_H

#include <xseg/xseg.h>
#include <xseg/signal_kernel.h>

/*
 * The segdev segment backend for kernel peers: map() takes a segdev reference on the named
 * segment (it must exist: segments are created by userspace through /dev/segdev, or by
 * SEGDEV_IOC_CREATE from a helper), create() checks that the named segdev segment exists
 * and is large enough so that xseg_create() can lay an xseg segment out in it, destroy()
 * is refused (-EOPNOTSUPP: the segment's owner destroys it through /dev/segdev).
 */
extern const struct xseg_backend_ops xseg_segdev_kbackend;

/* xseg_join() / xseg_create() on xseg_segdev_kbackend.  Process context. */
int xseg_kernel_join(const char *segname, struct xseg **xsegp);
int xseg_kernel_create(const char *segname, const struct xseg_config *cfg,
		       struct xseg **xsegp);

/*
 * A callback peer's function.  Runs for every wake of the descriptor (and spuriously: a
 * user may ring any doorbell), never concurrently with itself for one descriptor.  Before
 * each call the descriptor is re-armed (dirty = pending = 0, waiting = 1), so work posted
 * while it runs causes another call.  It must not block for long nor wait for userspace.
 *
 * Where it runs, told by @ctx:
 *  - 0: a work item on system_highpri_wq (process context, may sleep briefly).  Wakes from
 *    kernel senders always come this way (they may hold locks the callback takes), and so
 *    do all wakes without XSEG_KCB_DIRECT;
 *  - XSEG_KCB_ATOMIC: with XSEG_KCB_DIRECT, a user's doorbell calls it right in the
 *    ringer's ioctl (process context of the user peer, inside an RCU read-side critical
 *    section): it must not sleep, so it must not call xseg_signal() (which may take the
 *    handle's mutex for a type id it meets for the first time, and a user can write any
 *    id) nor anything else that may sleep; what it cannot do there it leaves for a
 *    process-context run (xseg_kcallback_kick()).  This saves the work item's wake and
 *    context switch per batch of replies (the way ublk completes in its server's context).
 */
#define XSEG_KCB_ATOMIC		0x1U	/* @ctx: called in atomic context */
typedef void (*xseg_kcallback_fn)(void *priv, unsigned int ctx);

/* xseg_kcallback_set() @flags: fn may be called from a user's doorbell (XSEG_KCB_ATOMIC) */
#define XSEG_KCB_DIRECT		0x1U

/*
 * Sets the function of a "callback" descriptor; from now on wakes of sd call fn(priv, ctx).
 * Process context.  -EINVAL if sd is not a callback descriptor of a segdev-backed handle or
 * flags has unknown bits.
 */
int xseg_kcallback_set(struct xseg_sd *sd, xseg_kcallback_fn fn, void *priv,
		       unsigned int flags);
/*
 * Stops the callbacks of sd and waits for a running one to finish.  After return fn is
 * never called again for sd.  Process context; not from the callback itself.  xseg_leave()
 * does this for every descriptor of the handle.
 */
int xseg_kcallback_clear(struct xseg_sd *sd);
/*
 * Schedules a process-context run of sd's callback (the work item), without reading the
 * segment.  Any context, the callback itself included.  -EINVAL if sd is not a callback
 * descriptor of a segdev-backed handle.
 */
int xseg_kcallback_kick(struct xseg_sd *sd);

/* Wakes that reached the kernel signal types of a handle (for tests and statistics). */
struct xseg_kstats {
	__u64 doorbells;	/* doorbells rung on the segment (all handles) */
	__u64 doorbells_ignored;	/* doorbell numbers that named no kernel descriptor */
	__u64 callbacks;	/* callback invocations (this handle) */
	/* signals this handle sent to user receivers ("futex" kicks, "sigio" signals) */
	__u64 user_signals;
	__u64 user_skipped;	/* futex receiver was spinning: no signal needed */
	__u64 user_overflows;	/* receiver's signal queue full (the dirty word carries it) */
	__u64 user_errors;	/* no live registration, a refused signal number */
};

int xseg_kernel_stats(struct xseg *xseg, struct xseg_kstats *st);

#endif /* _XSEG_XSEG_KERNEL_H */
