// SPDX-License-Identifier: GPL-2.0
/*
 * The "callback" signal type: the receiver is a kernel peer that never sleeps (a block
 * driver completing I/O).  Instead of waiting it registers a function per descriptor
 * (xseg_kcallback_set()) that the wake invokes.
 *
 * Where the function runs:
 *  - by default in a per-descriptor work item on system_highpri_wq, i.e. process context,
 *    never inside the waker's context: a kernel sender may hold locks that the callback
 *    takes (e.g. a queue lock of the peer itself), and a user doorbell arrives in the
 *    ringer's process context under RCU (segdev's doorbell handler), where the callback
 *    could not use all of the xseg API (xseg_signal() may take the handle's mutex);
 *  - with XSEG_KCB_DIRECT, a user doorbell calls it right there, in the ringer's ioctl,
 *    flagged XSEG_KCB_ATOMIC (it must not sleep).  The work item's wake and context switch
 *    per batch of replies go away: the user peer that answered pays for the completion,
 *    in its own time slice, on the CPU that has the replies in its cache.  Kernel senders
 *    still go through the work item.
 * Never twice at once for one descriptor: the work item and direct calls take the
 * descriptor's RUNNING bit; a wake that finds it taken sets AGAIN, and whoever drops
 * RUNNING queues the work item if AGAIN is set (a Dekker pair, each side a set, a full
 * barrier, a test), so a wake that arrives while the function runs, after its last look at
 * the rings, is never lost.  A direct call never loops: the ringer's time in the kernel is
 * bounded by one call.  The callback must not sleep for long (it holds up the highpri worker
 * or the ringer) and must not wait for userspace.
 *
 * Lifetime: the function is switched off before an entry is unrouted and freed;
 * xseg_kcallback_clear() and putting the descriptor (xseg_put_signal_desc(), which
 * xseg_leave() does for each before it unmaps) wait for RCU readers that may still call it
 * or queue the work (doorbell handler, kernel senders) and then for the work item.  So a
 * callback is never running once its descriptor is freed (it may use it:
 * xseg_kcallback_kick()), nor called after the peer left.
 */
#include <linux/bitops.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

#include "kseg.h"

/* Takes the descriptor's RUNNING bit, or leaves the wake to its holder.  Any context. */
static bool xseg_callback_enter(struct xseg_ksd *ksd)
{
	if (!test_and_set_bit_lock(XSEG_KSD_CB_RUNNING, &ksd->cb_state))
		return true;
	set_bit(XSEG_KSD_CB_AGAIN, &ksd->cb_state);
	/* AGAIN before the test of RUNNING; pairs with the barrier in xseg_callback_leave() */
	smp_mb__after_atomic();
	/* the holder left before it could see AGAIN: make sure the function runs again */
	if (!test_bit(XSEG_KSD_CB_RUNNING, &ksd->cb_state))
		queue_work(system_highpri_wq, &ksd->work);
	return false;
}

static void xseg_callback_leave(struct xseg_ksd *ksd)
{
	clear_bit_unlock(XSEG_KSD_CB_RUNNING, &ksd->cb_state);
	/* RUNNING cleared before the test of AGAIN; pairs with xseg_callback_enter() */
	smp_mb__after_atomic();
	if (test_and_clear_bit(XSEG_KSD_CB_AGAIN, &ksd->cb_state))
		queue_work(system_highpri_wq, &ksd->work);
}

/* Caller holds the RUNNING bit and keeps the entry alive (RCU or the work item). */
static void xseg_callback_call(struct xseg_ksd *ksd, unsigned int ctx)
{
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
	fn(ksd->priv, ctx);
}

/* Kernel senders: always the work item.  Caller keeps the entry alive; any context. */
void xseg_callback_dispatch(struct xseg_ksd *ksd)
{
	queue_work(system_highpri_wq, &ksd->work);
}

/*
 * A user's doorbell (segdev_backend.c).  Context: the ringer's ioctl under
 * rcu_read_lock(), which keeps the entry alive and lets xseg_kcallback_clear() wait for us.
 */
void xseg_callback_doorbell(struct xseg_ksd *ksd)
{
	if (!READ_ONCE(ksd->direct)) {
		queue_work(system_highpri_wq, &ksd->work);
		return;
	}
	if (!xseg_callback_enter(ksd))
		return;
	xseg_callback_call(ksd, XSEG_KCB_ATOMIC);
	xseg_callback_leave(ksd);
}

void xseg_callback_work(struct work_struct *work)
{
	struct xseg_ksd *ksd = container_of(work, struct xseg_ksd, work);

	if (!xseg_callback_enter(ksd))
		return;
	xseg_callback_call(ksd, 0);
	xseg_callback_leave(ksd);
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

static struct xseg_ksd *xseg_callback_own_ctx(const struct xseg_sd_ctx *ctx)
{
	struct xseg_khandle *kh;
	struct xseg_ksd *ksd;

	kh = xseg_khandle_of(ctx->xseg);
	if (!kh || ctx->index >= XSEG_MAX_SDS)
		return NULL;
	ksd = kh->sds[ctx->index];
	if (!ksd || READ_ONCE(ksd->kind) != XSEG_KSD_CALLBACK)
		return NULL;
	return ksd;
}

static struct xseg_ksd *xseg_callback_own(struct xseg_sd *sd)
{
	return sd ? xseg_callback_own_ctx(&sd->ctx) : NULL;
}

int xseg_kcallback_set(struct xseg_sd *sd, xseg_kcallback_fn fn, void *priv,
		       unsigned int flags)
{
	struct xseg_ksd *ksd;
	struct xseg_khandle *kh;

	if (!fn || flags & ~XSEG_KCB_DIRECT)
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
	WRITE_ONCE(ksd->direct, !!(flags & XSEG_KCB_DIRECT));
	/* priv and direct before fn; pairs with smp_load_acquire() in xseg_callback_call() */
	smp_store_release(&ksd->fn, fn);
	mutex_unlock(&kh->lock);
	/* senders did not ring while the descriptor was unarmed: look at the queues once */
	queue_work(system_highpri_wq, &ksd->work);
	return 0;
}

/* Switches the callback of descriptor ctx off and waits for a running one; -EINVAL if none. */
static int xseg_callback_stop(const struct xseg_sd_ctx *ctx)
{
	struct xseg_ksd *ksd;
	struct xseg_khandle *kh;

	kh = xseg_khandle_of(ctx->xseg);
	if (!kh)
		return -EINVAL;
	might_sleep();
	mutex_lock(&kh->lock);
	ksd = xseg_callback_own_ctx(ctx);
	if (ksd) {
		WRITE_ONCE(ksd->fn, NULL);
		WRITE_ONCE(ksd->direct, false);
		WRITE_ONCE(ksd->shared->waiting, 0);
	}
	mutex_unlock(&kh->lock);
	if (!ksd)
		return -EINVAL;
	/*
	 * Doorbells call the function or queue the work under RCU: wait for them, then for
	 * the work item (which may queue itself again: cancel_work_sync() copes with that).
	 */
	synchronize_rcu();
	cancel_work_sync(&ksd->work);
	return 0;
}

int xseg_kcallback_clear(struct xseg_sd *sd)
{
	return sd ? xseg_callback_stop(&sd->ctx) : -EINVAL;
}

/*
 * The descriptor is being put (by its owner, or by xseg_leave()): the callback may be running
 * in its work item right now and use sd (xseg_kcallback_kick()), so stop it and wait before
 * sd is freed.
 */
static void xseg_callback_put_desc(const struct xseg_sd_ctx *ctx)
{
	xseg_callback_stop(ctx);
}

int xseg_kcallback_kick(struct xseg_sd *sd)
{
	struct xseg_ksd *ksd = xseg_callback_own(sd);

	if (!ksd)
		return -EINVAL;
	queue_work(system_highpri_wq, &ksd->work);
	return 0;
}

const struct xseg_signal_type xseg_callback_type = {
	.name = XSEG_SIGNAL_CALLBACK,
	.init_signal_desc = xseg_callback_init_desc,
	.put_signal_desc = xseg_callback_put_desc,
	.local_signal_init = xseg_callback_need_segdev,
	.local_signal_quit = xseg_callback_local_quit,
	.remote_signal_init = xseg_callback_need_segdev,
	.wait_signal = xseg_callback_wait,
	.signal = xseg_callback_signal,
};
