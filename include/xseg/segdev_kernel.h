/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel API of segdev.ko, for other kernel modules (xseg.ko).  Kernel only.
 *
 * A kernel user looks a segment up by name and holds a reference until segdev_put().
 * The reference keeps the memory alive (even after DESTROY with SEGDEV_DESTROY_DEFERRED),
 * and makes a plain DESTROY fail with EBUSY.  segdev.ko cannot be unloaded while a module
 * linked against these symbols is loaded, nor while any segment exists.
 *
 * Everything in the segment may be written by userspace at any time: read each value once,
 * validate it, use the local copy (ARCHITECTURE.md 4.1).
 */
#ifndef _XSEG_SEGDEV_KERNEL_H
#define _XSEG_SEGDEV_KERNEL_H

#include <linux/types.h>

struct segdev_segment;

/*
 * Doorbell handler: called with the ringing port each time a user rings the segment's
 * doorbell.  Context: the ringer's process context, inside an RCU read-side critical
 * section; the handler MUST NOT sleep, and must not take locks that its own callers hold
 * around segdev calls.  A handler that needs to sleep defers to a workqueue or wakes a
 * thread.  Several CPUs may run the handler at once.
 */
typedef void (*segdev_doorbell_fn)(void *priv, u32 port);

/* Process context.  Returns a referenced segment or an ERR_PTR (-ENOENT, -EINVAL). */
struct segdev_segment *segdev_get_by_name(const char *name);
/* Drops a reference from segdev_get_by_name().  Process context (may free memory). */
void segdev_put(struct segdev_segment *seg);
/* Kernel address of the segment (vmalloc memory, @segdev_size bytes, page aligned). */
void *segdev_vaddr(struct segdev_segment *seg);
/* Size in bytes given at creation. */
size_t segdev_size(struct segdev_segment *seg);
/*
 * Registers the segment's one doorbell handler.  Process context.  -EBUSY if a handler is
 * registered already.  The caller must hold a reference and clear the handler before
 * dropping it.
 */
int segdev_set_doorbell_handler(struct segdev_segment *seg, segdev_doorbell_fn fn, void *priv);
/*
 * Removes the handler and waits until no CPU runs it any more; after return it is never
 * called again.  Process context, may sleep; must not be called from the handler.
 */
void segdev_clear_doorbell_handler(struct segdev_segment *seg);
/*
 * Sends the real-time signal @sig (SIGRTMIN..SIGRTMAX, else -EINVAL) with si_code SI_QUEUE
 * and si_int @payload to the thread registered as waiter of @port through a file attached
 * to @seg.  Never signals anything else.  Any context (takes no sleeping lock).
 * Returns 0, -ESRCH if no live thread is registered for @port, -EPERM if the thread
 * registered for another signal only (SEGDEV_WAITER_SIGNO), -EAGAIN if the receiver's
 * RLIMIT_SIGPENDING queue is full (the signal is lost: the caller must have recorded the
 * event elsewhere, e.g. in the segment, for the receiver to rescan).
 */
int segdev_signal_waiter(struct segdev_segment *seg, u32 port, int sig, u32 payload);

#endif /* _XSEG_SEGDEV_KERNEL_H */
