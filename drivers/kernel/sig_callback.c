// SPDX-License-Identifier: GPL-2.0
/*
 * The "callback" signal type: the receiver is a kernel peer that never sleeps (a block
 * driver completing I/O).  Instead of waiting it registers a function per descriptor
 * (xseg_kcallback_set()) that the wake invokes.
 *
 * Where the function runs: always in a per-descriptor work item on system_highpri_wq, i.e.
 * process context, never twice at once for one descriptor (a work item is not reentrant),
 * and never inside the waker's context:
 *  - a user doorbell arrives in the ringer's process context under RCU (segdev's doorbell
 *    handler), where the callback could not use the xseg API: xseg_signal() may take the
 *    handle's mutex (first use of a type, or a type id the kernel does not know, which a
 *    user can write into the segment at will);
 *  - a kernel sender may hold locks that the callback takes (e.g. a queue lock of the peer
 *    itself), so calling it synchronously could deadlock.
 * The callback must not sleep for long (it holds up the highpri worker) and must not wait
 * for userspace.  Wakes that arrive while it runs queue it once more.
 *
 * Lifetime: the function is switched off before an entry is unrouted and freed; leaving
 * (xseg_leave() -> backend unmap) and xseg_kcallback_clear() wait for RCU readers that may
 * still queue the work (doorbell handler, kernel senders) and then for the work item, so a
 * callback is never called after the peer left.
 */
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

#include "kseg.h"

/* Caller holds rcu_read_lock() (or otherwise keeps the entry alive); any context. */
void xseg_callback_dispatch(struct xseg_ksd *ksd)
{
	queue_work(system_highpri_wq, &ksd->work);
}

void xseg_callback_work(struct work_struct *work)
{
	struct xseg_ksd *ksd = container_of(work, struct xseg_ksd, work);
	struct xseg_signal_desc *s = ksd->shared;
	xseg_kcallback_fn fn;

	/* pairs with smp_store_release() in xseg_kcallback_set(): priv is visible with fn */
	fn = smp_load_acquire(&ksd->fn);
	if (!fn)
		return;
	/*
	 * Re-arm like xseg_prepare_wait(): work posted from now on makes its sender ring again.
	 * Pairs with the second barrier in xseg_signal(): either the sender sees pending == 0
	 * and waiting == 1, or the callback below sees its work.
	 */
	WRITE_ONCE(s->dirty, 0);
	WRITE_ONCE(s->pending, 0);
	WRITE_ONCE(s->waiting, 1);
	/* arming before the callback looks at its rings; pairs with xseg_signal() */
	smp_mb();
	atomic64_inc(&ksd->kh->callbacks);
	fn(ksd->priv);
}

static int xseg_callback_need_segdev(struct xseg *xseg)
{
	return xseg_khandle_of(xseg) ? 0 : -EOPNOTSUPP;
}

static int xseg_callback_init_desc(const struct xseg_sd_ctx *ctx)
{
	struct xseg_khandle *kh = xseg_khandle_of(ctx->xseg);
	struct xseg_ksd *ksd;

	if (!kh)
		return -EOPNOTSUPP;
	ksd = xseg_ksd_install(kh, ctx, XSEG_KSD_CALLBACK);
	return PTR_ERR_OR_ZERO(ksd);
}

static void xseg_callback_local_quit(struct xseg *xseg)
{
	struct xseg_khandle *kh = xseg_khandle_of(xseg);

	if (kh)
		xseg_ksd_disable(kh, XSEG_KSD_CALLBACK);
}

/* A callback peer does not wait. */
static int xseg_callback_wait(const struct xseg_sd_ctx *ctx, __u32 usec)
{
	return -EOPNOTSUPP;
}

/* Kernel sender: deferred to the work item (see the top of the file).  Any context. */
static int xseg_callback_signal(const struct xseg_sd_ctx *ctx)
{
	struct xseg_khandle *kh = xseg_khandle_of(ctx->xseg);
	struct xseg_ksd *ksd;

	if (!kh)
		return -EOPNOTSUPP;
	rcu_read_lock();
	ksd = xseg_ksd_route(kh->kseg, ctx->index);
	if (ksd && READ_ONCE(ksd->kind) == XSEG_KSD_CALLBACK)
		xseg_callback_dispatch(ksd);
	rcu_read_unlock();
	return 0;
}

const struct xseg_signal_type xseg_callback_type = {
	.name = XSEG_SIGNAL_CALLBACK,
	.init_signal_desc = xseg_callback_init_desc,
	.local_signal_init = xseg_callback_need_segdev,
	.local_signal_quit = xseg_callback_local_quit,
	.remote_signal_init = xseg_callback_need_segdev,
	.wait_signal = xseg_callback_wait,
	.signal = xseg_callback_signal,
};

static struct xseg_ksd *xseg_callback_own(struct xseg_sd *sd)
{
	struct xseg_khandle *kh;
	struct xseg_ksd *ksd;

	if (!sd)
		return NULL;
	kh = xseg_khandle_of(sd->ctx.xseg);
	if (!kh || sd->ctx.index >= XSEG_MAX_SDS)
		return NULL;
	ksd = kh->sds[sd->ctx.index];
	if (!ksd || READ_ONCE(ksd->kind) != XSEG_KSD_CALLBACK)
		return NULL;
	return ksd;
}

int xseg_kcallback_set(struct xseg_sd *sd, xseg_kcallback_fn fn, void *priv)
{
	struct xseg_ksd *ksd;
	struct xseg_khandle *kh;

	if (!fn)
		return -EINVAL;
	kh = sd ? xseg_khandle_of(sd->ctx.xseg) : NULL;
	if (!kh)
		return -EINVAL;
	mutex_lock(&kh->lock);
	ksd = xseg_callback_own(sd);
	if (!ksd) {
		mutex_unlock(&kh->lock);
		return -EINVAL;
	}
	ksd->priv = priv;
	/* priv before fn; pairs with smp_load_acquire() in xseg_callback_call() */
	smp_store_release(&ksd->fn, fn);
	mutex_unlock(&kh->lock);
	/* senders did not ring while the descriptor was unarmed: look at the queues once */
	queue_work(system_highpri_wq, &ksd->work);
	return 0;
}

int xseg_kcallback_clear(struct xseg_sd *sd)
{
	struct xseg_ksd *ksd;
	struct xseg_khandle *kh;

	kh = sd ? xseg_khandle_of(sd->ctx.xseg) : NULL;
	if (!kh)
		return -EINVAL;
	might_sleep();
	mutex_lock(&kh->lock);
	ksd = xseg_callback_own(sd);
	if (ksd) {
		WRITE_ONCE(ksd->fn, NULL);
		WRITE_ONCE(ksd->shared->waiting, 0);
	}
	mutex_unlock(&kh->lock);
	if (!ksd)
		return -EINVAL;
	/* wakers queue the work under RCU: wait for them, then for the work item */
	synchronize_rcu();
	cancel_work_sync(&ksd->work);
	return 0;
}
