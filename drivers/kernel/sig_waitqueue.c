// SPDX-License-Identifier: GPL-2.0
/*
 * The "waitqueue" signal type: the receiver is a kernel thread that sleeps, interruptibly
 * and with a timeout, on a wait queue in kernel memory (struct xseg_ksd, never in the
 * segment).  Kernel senders wake it directly; user senders ring the segment's segdev
 * doorbell with the descriptor index and the doorbell handler wakes it
 * (segdev_backend.c).  Only handles of segdev segments (xseg_segdev_kbackend) can use it,
 * because that is where the doorbell comes from.
 */
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>

#include "kseg.h"

/* Any context, under rcu_read_lock() or with a reference on the entry. */
void xseg_waitqueue_wake(struct xseg_ksd *ksd)
{
	atomic_set(&ksd->woken, 1);
	/* wake_up() orders the store above before its check of the queue (it takes the lock) */
	wake_up_interruptible(&ksd->wq);
}

static int xseg_waitqueue_need_segdev(struct xseg *xseg)
{
	return xseg_khandle_of(xseg) ? 0 : -EOPNOTSUPP;
}

static int xseg_waitqueue_init_desc(const struct xseg_sd_ctx *ctx)
{
	struct xseg_khandle *kh = xseg_khandle_of(ctx->xseg);
	struct xseg_ksd *ksd;

	if (!kh)
		return -EOPNOTSUPP;
	ksd = xseg_ksd_install(kh, ctx, XSEG_KSD_WAITQUEUE);
	return PTR_ERR_OR_ZERO(ksd);
}

static void xseg_waitqueue_local_quit(struct xseg *xseg)
{
	struct xseg_khandle *kh = xseg_khandle_of(xseg);

	if (kh)
		xseg_ksd_disable(kh, XSEG_KSD_WAITQUEUE);
}

/* The waiter's own entry: found through its handle, never through the segment. */
static struct xseg_ksd *xseg_waitqueue_own(const struct xseg_sd_ctx *ctx)
{
	struct xseg_khandle *kh = xseg_khandle_of(ctx->xseg);
	struct xseg_ksd *ksd;

	if (!kh || ctx->index >= XSEG_MAX_SDS)
		return NULL;
	ksd = READ_ONCE(kh->sds[ctx->index]);
	if (!ksd || READ_ONCE(ksd->kind) != XSEG_KSD_WAITQUEUE)
		return NULL;
	return ksd;
}

static int xseg_waitqueue_prepare_wait(const struct xseg_sd_ctx *ctx)
{
	struct xseg_ksd *ksd = xseg_waitqueue_own(ctx);

	if (!ksd)
		return -EINVAL;
	/* a wake from now on is recorded; the core armed the descriptor already */
	atomic_set(&ksd->woken, 0);
	return 0;
}

static bool xseg_waitqueue_done(struct xseg_ksd *ksd)
{
	/* dirty is only a hint here: a user setting it for ever makes its own peer spin */
	if (atomic_xchg(&ksd->woken, 0) || READ_ONCE(ksd->shared->dirty))
		return true;
	if (READ_ONCE(ksd->kind) != XSEG_KSD_WAITQUEUE)
		return true;
	return (current->flags & PF_KTHREAD) && kthread_should_stop();
}

/* Process context; sleeps at most usec microseconds (rounded up to a jiffy). */
static int xseg_waitqueue_wait(const struct xseg_sd_ctx *ctx, __u32 usec)
{
	struct xseg_ksd *ksd = xseg_waitqueue_own(ctx);
	unsigned long timeout;
	long ret;

	if (!ksd)
		return -EINVAL;
	might_sleep();
	timeout = usecs_to_jiffies(usec) ?: 1;
	ret = wait_event_interruptible_timeout(ksd->wq, xseg_waitqueue_done(ksd), timeout);
	if (ret < 0)
		return -EINTR;
	return ret ? 0 : -ETIMEDOUT;
}

/* Kernel sender.  Any context that may take a spinlock. */
static int xseg_waitqueue_signal(const struct xseg_sd_ctx *ctx)
{
	struct xseg_khandle *kh = xseg_khandle_of(ctx->xseg);
	struct xseg_ksd *ksd;

	if (!kh)
		return -EOPNOTSUPP;
	rcu_read_lock();
	ksd = xseg_ksd_route(kh->kseg, ctx->index);
	if (ksd && READ_ONCE(ksd->kind) == XSEG_KSD_WAITQUEUE)
		xseg_waitqueue_wake(ksd);
	rcu_read_unlock();
	return 0;
}

const struct xseg_signal_type xseg_waitqueue_type = {
	.name = XSEG_SIGNAL_WAITQUEUE,
	.init_signal_desc = xseg_waitqueue_init_desc,
	.local_signal_init = xseg_waitqueue_need_segdev,
	.local_signal_quit = xseg_waitqueue_local_quit,
	.remote_signal_init = xseg_waitqueue_need_segdev,
	.prepare_wait = xseg_waitqueue_prepare_wait,
	.wait_signal = xseg_waitqueue_wait,
	.signal = xseg_waitqueue_signal,
};
