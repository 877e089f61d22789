// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's sending side of the user "sigio" signal type (drivers/user/sigio.c): a kernel
 * peer queues the receiver's real-time signal, si_value = descriptor index, to the thread
 * that registered for the descriptor through its own segdev file.  Send-only in the kernel.
 *
 * The signal number is read once from the descriptor's type data (untrusted); segdev sends
 * only the number the receiving thread registered (SEGDEV_WAITER_SIGNO) and only RT
 * signals, so a scribbled number fails here with -EPERM or -EINVAL instead of reaching
 * anyone.  tid/tgid/start_time in the segment are never read: they are for user senders.
 *
 * Queue overflow (RLIMIT_SIGPENDING, -EAGAIN) loses nothing: xseg_signal() stored the dirty
 * word before calling us and the receiver re-checks it on every return of sigtimedwait()
 * (at the latest at its timeout); we clear pending so that the next post signals again.
 *
 * Context: as the futex kick (sig_futex_remote.c): anything that may take a spinlock with
 * interrupts saved, including atomic context and blk-mq ->queue_rq() without
 * BLK_MQ_F_BLOCKING; not NMI.
 */
#include <linux/atomic.h>

#include <xseg/signal_user.h>

#include "kseg.h"

static int xseg_ksigio_remote_init(struct xseg *xseg)
{
	return xseg_khandle_of(xseg) ? 0 : -EOPNOTSUPP;
}

static int xseg_ksigio_local_init(struct xseg *xseg)
{
	return -EOPNOTSUPP;	/* a kernel peer does not wait in sigtimedwait() */
}

static int xseg_ksigio_wait(const struct xseg_sd_ctx *ctx, __u32 usec)
{
	return -EOPNOTSUPP;
}

static int xseg_ksigio_signal(const struct xseg_sd_ctx *ctx)
{
	struct xseg_khandle *kh = xseg_khandle_of(ctx->xseg);
	struct xseg_sigio_data *data = ctx->data;
	u32 signo;
	int ret;

	if (!kh)
		return -EOPNOTSUPP;
	signo = READ_ONCE(data->signo);
	/* segdev refuses anything but a real-time signal; INT_MAX keeps the int conversion */
	ret = segdev_signal_waiter(kh->kseg->seg, ctx->index, min_t(u32, signo, INT_MAX),
				   ctx->index);
	if (ret == -EAGAIN) {
		/* the dirty word carries this wake; advisory statistics for the receiver */
		WRITE_ONCE(data->overflows, READ_ONCE(data->overflows) + 1);
		WRITE_ONCE(ctx->shared->pending, 0);
		atomic64_inc(&kh->kick_overflows);
		return 0;
	}
	if (ret) {
		atomic64_inc(&kh->kick_errors);
		return ret;
	}
	atomic64_inc(&kh->kicks);
	return 0;
}

const struct xseg_signal_type xseg_ksigio_type = {
	.name = XSEG_SIGNAL_SIGIO,
	.local_signal_init = xseg_ksigio_local_init,
	.remote_signal_init = xseg_ksigio_remote_init,
	.wait_signal = xseg_ksigio_wait,
	.signal = xseg_ksigio_signal,
};
