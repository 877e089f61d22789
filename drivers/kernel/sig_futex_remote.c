// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's sending side of the user "futex" signal type (drivers/user/futex.c): a kernel
 * peer waking a user thread that sleeps in FUTEX_WAIT on its descriptor's seq word.  The
 * kernel registers "futex" as a send-only type: a kernel peer cannot receive it.
 *
 * futex_wake() is not exported to modules, so the wake is done in two steps:
 *  1. bump seq (after dirty: xseg_signal() stored it behind a full barrier), fully ordered;
 *  2. kick the thread that registered for this descriptor through its own segdev file with
 *     XSEG_FUTEX_KICK_SIGNAL (segdev_signal_waiter(): send_sig_info() on the struct pid that
 *     segdev took at registration; segdev refuses any other signal to that registration).
 *
 * Why no wake is lost.  The waiter does: sleeping = 1; full barrier; unblock the kick;
 * loop { load seq; load dirty; FUTEX_WAIT(seq) }.  We do: (dirty = 1 in xseg_signal());
 * full barrier; load sleeping; seq++; kick.
 *  - We read sleeping == 0: the waiter's barrier comes after ours, so its load of dirty sees
 *    1 and it does not sleep (the Dekker pair of futex.c);
 *  - the waiter read seq after our bump: it sees dirty too (stored before the bump);
 *  - it read seq before our bump and calls FUTEX_WAIT after it: the futex code compares the
 *    word under its bucket lock and returns EAGAIN (a kick that arrived in between ran the
 *    no-op handler before the syscall);
 *  - it is queued in FUTEX_WAIT when the kick comes: the kick is unblocked there, so it
 *    makes the sleep return EINTR (signal_wake_up() of an interruptible sleeper).
 * In every case the waiter goes round its loop and finds dirty set.
 *
 * Nothing from the segment decides whom we signal: seq and sleeping are only words we bump
 * and read as hints (a peer scribbling them costs its own peer a spurious or a missed kick,
 * which the receiver's timeout bounds); the tid field is never read.  The target is segdev's
 * registration (descriptor index -> struct pid), made by the receiving thread itself.
 *
 * Context: any context that may take a spinlock with interrupts saved: process context, a
 * kthread, a work item (the callback type), softirq, and blk-mq ->queue_rq() without
 * BLK_MQ_F_BLOCKING; also with interrupts off.  Nothing here sleeps: segdev looks the
 * registration up under RCU and send_sig_info() takes the target's siglock with
 * interrupts saved.  Not from NMI.  (xseg_signal() itself may take the handle's mutex the
 * first time it meets a type: signal each type once from process context first.)
 * Cost: one cmpxchg and one send_sig_info() (a siginfo allocation and a wake-up), only when
 * the receiver is really asleep; a busy receiver costs nothing (xseg_signal() returns before
 * calling us) and a spinning one costs a load (sleeping == 0).
 */
#include <linux/atomic.h>

#include <xseg/signal_user.h>

#include "kseg.h"

static int xseg_kfutex_remote_init(struct xseg *xseg)
{
	return xseg_khandle_of(xseg) ? 0 : -EOPNOTSUPP;
}

static int xseg_kfutex_local_init(struct xseg *xseg)
{
	return -EOPNOTSUPP;	/* a kernel peer cannot sleep in FUTEX_WAIT */
}

static int xseg_kfutex_wait(const struct xseg_sd_ctx *ctx, __u32 usec)
{
	return -EOPNOTSUPP;
}

static int xseg_kfutex_signal(const struct xseg_sd_ctx *ctx)
{
	struct xseg_khandle *kh = xseg_khandle_of(ctx->xseg);
	/* computed by the core from its validated geometry, never read from the segment */
	struct xseg_futex_data *fd = ctx->data;
	unsigned int tries;
	u32 seq;
	int ret;

	if (!kh)
		return -EOPNOTSUPP;
	/*
	 * dirty (stored by xseg_signal()) before our load of sleeping.  Pairs with the barrier
	 * after the waiter's store of sleeping in xseg_futex_wait_signal().
	 */
	smp_mb();
	if (!READ_ONCE(fd->sleeping)) {
		atomic64_inc(&kh->kicks_skipped);
		return 0;	/* spinning or busy: it sees dirty without a kick */
	}
	/*
	 * The word changes before the kick; cmpxchg() is fully ordered, so the bump is after
	 * dirty and before the signal.  Pairs with the waiter's load_acquire of seq.  Any
	 * change will do: losing the race to another sender means the word changed.
	 */
	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		seq = READ_ONCE(fd->seq);
		if (cmpxchg(&fd->seq, seq, seq + 1) == seq)
			break;
	}
	ret = segdev_signal_waiter(kh->kseg->seg, ctx->index, XSEG_FUTEX_KICK_SIGNAL,
				   ctx->index);
	if (ret == -EAGAIN) {
		/*
		 * The receiver's signal queue is full: the seq bump alone makes a waiter that
		 * has not reached FUTEX_WAIT yet return; one already asleep there is found by
		 * its timeout.  Let the next post kick again.
		 */
		WRITE_ONCE(ctx->shared->pending, 0);
	}
	if (ret) {
		atomic64_inc(&kh->kick_errors);
		return ret;
	}
	atomic64_inc(&kh->kicks);
	return 0;
}

const struct xseg_signal_type xseg_kfutex_type = {
	.name = XSEG_SIGNAL_FUTEX,
	.local_signal_init = xseg_kfutex_local_init,
	.remote_signal_init = xseg_kfutex_remote_init,
	.wait_signal = xseg_kfutex_wait,
	.signal = xseg_kfutex_signal,
};
