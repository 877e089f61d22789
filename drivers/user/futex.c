// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The "futex" signal type: a waiter sleeps in FUTEX_WAIT on a word of the descriptor's type
 * data (struct xseg_futex_data.seq), a user sender bumps the word and calls FUTEX_WAKE.  The
 * segment is a MAP_SHARED mapping seen by several processes, so the futex operations are the
 * shared ones (no FUTEX_PRIVATE_FLAG): the kernel keys them by the backing page, not by mm.
 *
 * Costs, from cheapest:
 *  - receiver busy (not armed): the framework (xseg_signal()) returns before calling us: no
 *    syscall, only the dirty store;
 *  - receiver armed but still spinning (sleeping == 0): we see that and skip the syscall;
 *    the spinning waiter sees the dirty word;
 *  - receiver asleep: one FUTEX_WAKE per arming (the framework's pending word makes other
 *    senders skip it).
 *
 * Lost wakeups are excluded by two Dekker pairs, each a store, a full barrier, a load:
 *   sender (xseg_signal)         : dirty = 1;    mb; load waiting  (framework)
 *   sender (xseg_futex_signal)   :               mb; load sleeping; seq++; FUTEX_WAKE
 *   receiver (xseg_prepare_wait) : waiting = 1;  mb; re-check rings (framework)
 *   receiver (wait_signal)       : sleeping = 1; mb; load seq; load dirty; FUTEX_WAIT(seq)
 * Either the sender sees sleeping == 1 and bumps seq after the receiver loaded it (then
 * FUTEX_WAIT returns at once with EAGAIN, or sleeps and is woken: the kernel orders the
 * value check and the queueing under the futex bucket lock), or the receiver sees dirty == 1
 * and does not sleep.
 *
 * Kernel senders (segdev segments only) cannot call futex_wake(): they bump seq the same way
 * and then kick the thread registered through segdev with XSEG_FUTEX_KICK_SIGNAL, which
 * makes FUTEX_WAIT return EINTR (drivers/kernel/sig_futex_remote.c; uapi/xseg/signal_types.h).
 * On a segdev segment:
 *  - the thread that creates a descriptor registers itself through the handle's own segdev
 *    file as the receiver of that descriptor's kicks, for the kick signal only; it is the
 *    thread kernel senders can wake (another thread waiting on the descriptor is woken by
 *    user senders only, and by kernel senders at its timeout);
 *  - a no-op handler is installed for the kick signal (its default action would kill), and
 *    the signal is blocked in the thread except between "sleeping = 1" and the end of the
 *    FUTEX_WAIT loop, so a kick can never interrupt another system call of the thread (a
 *    read() or io_uring_enter() returning EINTR); a kick that arrives while it is blocked
 *    stays queued and runs the no-op handler at the next unblock, harmlessly.
 * POSIX segments have no kernel senders and pay none of this.
 */
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <xseg/compiler.h>
#include <xseg/user_types.h>

static_assert(sizeof(struct xseg_futex_data) == XSEG_SD_DATA_SIZE, "futex data size");
static_assert(offsetof(struct xseg_futex_data, seq) == 0, "futex word offset");

/* Process-wide spin bound in ns; UINT_MAX until read from $XSEG_FUTEX_SPIN_NS. */
static u32 xseg_futex_spin_max = UINT_MAX;

/*
 * Adaptive budget of the calling thread (a thread waits on one descriptor at a time): it
 * doubles when spinning caught the wake or would have with a longer spin (the wake came within
 * the bound), and halves when the wait outlasted the bound, so an idle receiver stops burning
 * CPU while a ping-pong partner keeps the fast path.  UINT_MAX: not initialised.
 */
static __thread u32 xseg_futex_budget = UINT_MAX;

static u32 xseg_futex_spin_bound(void)
{
	u32 v = xseg_load_relaxed(&xseg_futex_spin_max);
	unsigned long env_ns;
	const char *env;
	char *end;

	if (v != UINT_MAX)
		return v;
	v = XSEG_FUTEX_SPIN_DEFAULT_NS;
	env = getenv("XSEG_FUTEX_SPIN_NS");
	if (env && *env) {
		env_ns = strtoul(env, &end, 0);
		if (!*end)
			v = env_ns > XSEG_FUTEX_SPIN_MAX_NS ? XSEG_FUTEX_SPIN_MAX_NS : env_ns;
		else
			xseg_warn("XSEG_FUTEX_SPIN_NS=%s ignored", env);
	}
	/* a concurrent setter wins */
	xseg_cmpxchg(&xseg_futex_spin_max, UINT_MAX, v);
	return xseg_load_relaxed(&xseg_futex_spin_max);
}

int xseg_futex_set_spin_ns(__u32 ns)
{
	if (ns > XSEG_FUTEX_SPIN_MAX_NS)
		return -EINVAL;
	xseg_store_relaxed(&xseg_futex_spin_max, ns);
	return 0;
}

__u32 xseg_futex_get_spin_ns(void)
{
	return xseg_futex_spin_bound();
}

static long xseg_futex(u32 *uaddr, int op, u32 val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void xseg_futex_adapt(u32 bound, u64 waited_ns)
{
	u32 b = xseg_futex_budget;

	if (b > bound)
		b = bound;
	if (waited_ns <= bound)
		b = b > bound / 2 ? bound : 2 * b + 500;
	else
		b /= 2;
	xseg_futex_budget = b > bound ? bound : b;
}

/* Spins on dirty until spin_end; true if it was set. */
static bool xseg_futex_spin(u32 *dirty, u64 spin_end)
{
	unsigned int i;

	for (i = 0; ; i++) {
		/* pairs with the store of dirty in xseg_signal() (after its full barrier) */
		if (xseg_load_acquire(dirty))
			return true;
		/* the clock is a vDSO read; look at it every 32 rounds only */
		if (!(i & 31) && xseg_dom_now_ns() >= spin_end)
			return false;
		xseg_cpu_relax();
	}
}

static bool xseg_futex_kernel_senders(const struct xseg *xseg)
{
	return xseg->be == &xseg_segdev_backend;
}

/* how: SIG_BLOCK or SIG_UNBLOCK the kick signal in the calling thread; 0 or -errno */
static int xseg_futex_kick_mask(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, XSEG_FUTEX_KICK_SIGNAL);
	return -pthread_sigmask(how, &set, NULL);
}

static void xseg_futex_kick_handler(int sig, siginfo_t *info, void *uc)
{
}

/*
 * Makes the kick harmless process-wide: a no-op handler, without SA_RESTART so that the
 * interrupted FUTEX_WAIT returns EINTR.  A handler of the application's own is refused.
 */
static int xseg_futex_kick_install(void)
{
	struct sigaction sa, old;

	if (sigaction(XSEG_FUTEX_KICK_SIGNAL, NULL, &old))
		return -errno;
	if (old.sa_flags & SA_SIGINFO) {
		if (old.sa_sigaction == xseg_futex_kick_handler)
			return 0;
	} else if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN) {
		xseg_err("futex: signal %d has a handler of the application",
			 XSEG_FUTEX_KICK_SIGNAL);
		return -EBUSY;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = xseg_futex_kick_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(XSEG_FUTEX_KICK_SIGNAL, &sa, NULL) ? -errno : 0;
}

static int xseg_futex_wait_signal(const struct xseg_sd_ctx *ctx, __u32 usec)
{
	bool kicks = xseg_futex_kernel_senders(ctx->xseg);
	struct xseg_futex_data *fd = ctx->data;
	u32 *dirty = &ctx->shared->dirty;
	u64 start = xseg_dom_now_ns();
	u64 deadline = start + (u64)usec * 1000;
	u32 bound = xseg_futex_spin_bound();
	struct timespec ts;
	u64 now, left;
	int ret = 0;
	u32 seq;

	if (xseg_futex_budget > bound)
		xseg_futex_budget = bound;
	if (xseg_futex_budget &&
	    xseg_futex_spin(dirty, start + xseg_futex_budget < deadline ?
				   start + xseg_futex_budget : deadline)) {
		xseg_futex_adapt(bound, 0);
		return 0;
	}

	xseg_store_relaxed(&fd->sleeping, 1);
	/*
	 * sleeping before dirty and seq are read.  Pairs with the xseg_smp_mb() in
	 * xseg_futex_signal(), between the sender's store of dirty and its load of sleeping.
	 */
	xseg_smp_mb();
	xseg_user_stat_inc(futex_sleeps);
	/*
	 * Kernel senders kick instead of FUTEX_WAKE.  Race-free because each kernel sender
	 * bumps seq before it kicks (drivers/kernel/sig_futex_remote.c): a kick that lands
	 * before FUTEX_WAIT runs the no-op handler right away, and the seq we read before it
	 * no longer matches, so FUTEX_WAIT returns EAGAIN; one that lands during FUTEX_WAIT
	 * interrupts it (EINTR).  Either way we loop and find dirty set.
	 */
	if (kicks)
		xseg_futex_kick_mask(SIG_UNBLOCK);
	for (;;) {
		/* pairs with the fully ordered bump of seq in xseg_futex_signal() */
		seq = xseg_load_acquire(&fd->seq);
		/* a sender that bumped the seq we just read stored dirty before: we see it */
		if (xseg_load_acquire(dirty))
			break;
		now = xseg_dom_now_ns();
		if (now >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		left = deadline - now;
		ts.tv_sec = left / 1000000000ULL;
		ts.tv_nsec = left % 1000000000ULL;
		if (!xseg_futex(&fd->seq, FUTEX_WAIT, seq, &ts))
			continue;	/* woken (or spuriously): dirty says which */
		if (errno == EAGAIN || errno == EINTR || errno == ETIMEDOUT)
			continue;	/* seq moved, a kick, or time: all re-checked above */
		ret = -errno;
		break;
	}
	if (kicks)
		xseg_futex_kick_mask(SIG_BLOCK);
	/* only read by senders as a hint: a stale 1 costs one useless FUTEX_WAKE at most */
	xseg_store_relaxed(&fd->sleeping, 0);
	xseg_futex_adapt(bound, xseg_dom_now_ns() - start);
	return ret;
}

static int xseg_futex_signal(const struct xseg_sd_ctx *ctx)
{
	struct xseg_futex_data *fd = ctx->data;
	unsigned int tries;
	u32 seq;

	/*
	 * The caller's store of dirty before our load of sleeping.  Pairs with the xseg_smp_mb()
	 * after the store of sleeping in xseg_futex_wait_signal().
	 */
	xseg_smp_mb();
	if (!xseg_load_relaxed(&fd->sleeping)) {
		/* spinning (or busy again): it sees dirty without a syscall */
		xseg_user_stat_inc(futex_skipped);
		return 0;
	}
	/*
	 * The word changes before the wake, fully ordered after dirty; pairs with the
	 * load_acquire of seq in xseg_futex_wait_signal().  Any change will do, so a CAS that
	 * keeps losing to other senders can stop: they changed it.
	 */
	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		seq = xseg_load_relaxed(&fd->seq);
		if (xseg_cmpxchg(&fd->seq, seq, seq + 1))
			break;
	}
	xseg_user_stat_inc(futex_wakes);
	if (xseg_futex(&fd->seq, FUTEX_WAKE, INT_MAX, NULL) < 0)
		return -errno;
	return 0;
}

static int xseg_futex_init_signal_desc(const struct xseg_sd_ctx *ctx)
{
	struct xseg_futex_data *fd = ctx->data;
	int ret;

	/* the framework zeroed the data; tid is informational (see signal_types.h) */
	xseg_store_relaxed(&fd->tid, (u32)syscall(SYS_gettid));
	if (!xseg_futex_kernel_senders(ctx->xseg))
		return 0;
	ret = xseg_futex_kick_mask(SIG_BLOCK);
	if (ret)
		return ret;
	/* through our own file, for the kick only: the kernel never trusts tid above */
	return xseg_segdev_register_signal(ctx->xseg, ctx->index, XSEG_FUTEX_KICK_SIGNAL);
}

/* The descriptor is gone: no kernel sender may kick for it any more (ENOENT: not ours). */
static void xseg_futex_quit_signal_desc(const struct xseg_sd_ctx *ctx)
{
	if (xseg_futex_kernel_senders(ctx->xseg))
		xseg_segdev_unregister_waiter(ctx->xseg, ctx->index);
}

static int xseg_futex_local_signal_init(struct xseg *xseg)
{
	int ret;

	xseg_futex_spin_bound();	/* read the environment once, outside any wait */
	if (!xseg_futex_kernel_senders(xseg))
		return 0;
	ret = xseg_futex_kick_install();
	return ret ? ret : xseg_futex_kick_mask(SIG_BLOCK);
}

const struct xseg_signal_type xseg_futex_type = {
	.name = XSEG_SIGNAL_FUTEX,
	.init_signal_desc = xseg_futex_init_signal_desc,
	.quit_signal_desc = xseg_futex_quit_signal_desc,
	.local_signal_init = xseg_futex_local_signal_init,
	.wait_signal = xseg_futex_wait_signal,
	.signal = xseg_futex_signal,
};
