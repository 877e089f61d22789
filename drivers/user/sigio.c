// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The "sigio" signal type: the receiver waits in sigtimedwait() for a queued real-time signal
 * (default SIGRTMIN + 1) whose si_value carries the descriptor index; a user sender queues it
 * with its own credentials, so the kernel's permission check (same uid, or CAP_KILL) is what
 * stops a peer from signalling a process it could not signal anyway, whatever it writes into
 * the segment.
 *
 * Registration: the thread that creates the descriptor is its receiver; it records its tid,
 * tgid and start time in the type data (struct xseg_sigio_data).  The start time (field 22 of
 * /proc/<tgid>/task/<tid>/stat) names one incarnation of the tid: a sender refuses to signal
 * a tid whose start time differs (the waiter died and the number was reused) with -ESRCH.
 * Its resolution is a clock tick (10 ms at USER_HZ 100): a reuse inside the same tick would
 * need the pid space to wrap within it.
 *
 * Modes ("killing threads vs processes"):
 *  - XSEG_SIGIO_THREAD (default): the signal goes to the registered thread.  Senders hold a
 *    pidfd of that thread when the kernel has PIDFD_THREAD (6.9+): pidfd_send_signal() then
 *    cannot reach a reused tid at all.  On older kernels they use rt_tgsigqueueinfo(tgid,
 *    tid), which fails with ESRCH once the thread is gone, and re-check the start time at
 *    least every XSEG_SIGIO_REVALIDATE_NS: a reuse would need the pid space (pid_max, 4M on
 *    64-bit) to wrap twice within that time.
 *  - XSEG_SIGIO_PROCESS: the signal goes to the process (pidfd_send_signal() on a pidfd of
 *    the process, reuse-proof); one master thread receives for the whole process.
 *
 * The signal is blocked in the receiving thread (so it stays queued for sigtimedwait()) and a
 * no-op handler is installed when it had the default action (terminate), so a stray one in a
 * thread that does not block it is harmless.  In process mode every thread must block it:
 * call xseg_local_signal_init() before creating threads (they inherit the mask).
 *
 * Queue overflow (EAGAIN: RLIMIT_SIGPENDING of the receiver's user) loses nothing: the
 * framework stored the descriptor's dirty word before calling us, the receiver re-checks it
 * on every return of sigtimedwait() (timeout, any signal) and its caller rescans the rings.
 * We clear pending so that the next post tries to signal again.
 *
 * A kernel sender never reads tid/tgid from here: on a segdev segment the thread creating the
 * descriptor also registers itself through the handle's own segdev file (for its signo only,
 * SEGDEV_WAITER_SIGNO), and the kernel sends to that registration with send_sig_info(), same
 * signo and payload (drivers/kernel/sig_sigio_remote.c).  A signo scribbled into the segment
 * then makes the kernel's send fail, it cannot deliver another signal to the thread.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <xseg/user_types.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD		O_EXCL	/* pidfd_open(): a thread, not a process (6.9+) */
#endif
#ifndef PIDFD_SIGNAL_THREAD
#define PIDFD_SIGNAL_THREAD	1U	/* pidfd_send_signal(): to that thread (bit 0) */
#endif

#define XSEG_SIGIO_REVALIDATE_NS	100000000ULL	/* 100 ms */

static_assert(sizeof(struct xseg_sigio_data) == XSEG_SD_DATA_SIZE, "sigio data size");

struct xseg_user_signal_stats xseg_user_stats;

/* Process-wide settings for descriptors created from now on; 0 = default. */
static int xseg_sigio_signo_cfg;
static u32 xseg_sigio_mode_cfg = XSEG_SIGIO_THREAD;

/* Threads that blocked the signal already (a syscall saved per wait). */
static __thread int xseg_sigio_blocked_signo;

int xseg_sigio_get_signo(void)
{
	int signo = xseg_load_relaxed(&xseg_sigio_signo_cfg);

	return signo ? signo : SIGRTMIN + 1;
}

int xseg_sigio_set_signo(int signo)
{
	if (signo < SIGRTMIN || signo > SIGRTMAX)
		return -EINVAL;
	xseg_store_relaxed(&xseg_sigio_signo_cfg, signo);
	return 0;
}

int xseg_sigio_set_mode(__u32 mode)
{
	if (mode != XSEG_SIGIO_THREAD && mode != XSEG_SIGIO_PROCESS)
		return -EINVAL;
	xseg_store_relaxed(&xseg_sigio_mode_cfg, mode);
	return 0;
}

int xseg_user_signal_stats(struct xseg_user_signal_stats *st)
{
	if (!st)
		return -EINVAL;
	st->futex_wakes = xseg_counter_read(&xseg_user_stats.futex_wakes);
	st->futex_skipped = xseg_counter_read(&xseg_user_stats.futex_skipped);
	st->futex_sleeps = xseg_counter_read(&xseg_user_stats.futex_sleeps);
	st->sigio_sends = xseg_counter_read(&xseg_user_stats.sigio_sends);
	st->sigio_overflows = xseg_counter_read(&xseg_user_stats.sigio_overflows);
	st->sigio_failures = xseg_counter_read(&xseg_user_stats.sigio_failures);
	st->sigio_sleeps = xseg_counter_read(&xseg_user_stats.sigio_sleeps);
	return 0;
}

static bool xseg_sigio_valid_signo(u32 signo)
{
	return signo >= (u32)SIGRTMIN && signo <= (u32)SIGRTMAX;
}

/*
 * Start time of thread tid of process tgid: 0 and *startp, -ESRCH if no such thread exists,
 * -EINVAL if tid exists but is not a thread of tgid.
 */
static int xseg_sigio_start_time(u32 tgid, u32 tid, u64 *startp)
{
	char path[64], buf[512], *p;
	unsigned long long start;
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%u/task/%u/stat", tgid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		snprintf(path, sizeof(path), "/proc/%u", tid);
		return access(path, F_OK) ? -ESRCH : -EINVAL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;	/* the task went away between open and read */
	buf[n] = '\0';
	/* comm may hold anything, even ") "; the fields after the last ')' start at 3 */
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -EIO;
	/* field 3, the state: a zombie's number is not reused yet, but nobody listens there */
	if (p[2] == 'Z' || p[2] == 'X')
		return -ESRCH;
	for (i = 3; i <= 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -EIO;
	*startp = start;
	return 0;
}

static long xseg_pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

static long xseg_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

/*
 * A sender's validated view of one descriptor's registration, process-local.  The pidfd pins
 * the incarnation (struct pid) that was alive when the start time matched.
 */
struct xseg_sigio_target {
	pthread_mutex_t lock;	/* protects every field below */
	u32 tid, tgid, signo, mode;
	u64 start_time;
	u64 checked_ns;		/* when the start time last matched */
	int pidfd;		/* -1: none (rt_tgsigqueueinfo path) */
	pid_t self_pid;		/* si_pid / si_uid (informational), taken at load */
	uid_t self_uid;
	bool valid;
};

/* The sending side of one handle: a cache entry per descriptor of the segment. */
struct xseg_sigio_sender {
	struct xseg *xseg;
	u32 nr;
	struct xseg_sigio_target *t;
	struct xseg_sigio_sender *next;
};

/* Protects xseg_sigio_senders (the list, not the entries' targets). */
static pthread_mutex_t xseg_sigio_senders_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xseg_sigio_sender *xseg_sigio_senders;

static void xseg_sigio_target_drop(struct xseg_sigio_target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	t->valid = false;
}

static int xseg_sigio_remote_signal_init(struct xseg *xseg)
{
	struct xseg_sigio_sender *s;
	u32 i;

	s = xseg_dom_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->nr = xseg->g.nr_sds;
	s->t = xseg_dom_zalloc(sizeof(*s->t) * s->nr);
	if (!s->t) {
		xseg_dom_free(s);
		return -ENOMEM;
	}
	for (i = 0; i < s->nr; i++) {
		pthread_mutex_init(&s->t[i].lock, NULL);
		s->t[i].pidfd = -1;
	}
	s->xseg = xseg;
	pthread_mutex_lock(&xseg_sigio_senders_lock);
	s->next = xseg_sigio_senders;
	xseg_sigio_senders = s;
	pthread_mutex_unlock(&xseg_sigio_senders_lock);
	return 0;
}

static void xseg_sigio_remote_signal_quit(struct xseg *xseg)
{
	struct xseg_sigio_sender **pp, *s;
	u32 i;

	pthread_mutex_lock(&xseg_sigio_senders_lock);
	for (pp = &xseg_sigio_senders; *pp && (*pp)->xseg != xseg; pp = &(*pp)->next)
		;
	s = *pp;
	if (s)
		*pp = s->next;
	pthread_mutex_unlock(&xseg_sigio_senders_lock);
	if (!s)
		return;
	for (i = 0; i < s->nr; i++) {
		xseg_sigio_target_drop(&s->t[i]);
		pthread_mutex_destroy(&s->t[i].lock);
	}
	xseg_dom_free(s->t);
	xseg_dom_free(s);
}

static struct xseg_sigio_target *xseg_sigio_target_of(const struct xseg_sd_ctx *ctx)
{
	struct xseg_sigio_sender *s;

	pthread_mutex_lock(&xseg_sigio_senders_lock);
	for (s = xseg_sigio_senders; s && s->xseg != ctx->xseg; s = s->next)
		;
	pthread_mutex_unlock(&xseg_sigio_senders_lock);
	/* the framework calls remote_signal_init before any signal, and quit only at leave */
	return s && ctx->index < s->nr ? &s->t[ctx->index] : NULL;
}

/* Reads the registration once into t (caller holds t->lock); validates it; opens a pidfd. */
static int xseg_sigio_target_load(struct xseg_sigio_target *t, const struct xseg_sigio_data *reg,
				  u64 now)
{
	u32 who;
	u64 start;
	int ret, fd;

	if (!reg->tgid || reg->tgid > INT_MAX || !reg->tid || reg->tid > INT_MAX ||
	    !xseg_sigio_valid_signo(reg->signo) ||
	    (reg->mode != XSEG_SIGIO_THREAD && reg->mode != XSEG_SIGIO_PROCESS) ||
	    (reg->mode == XSEG_SIGIO_PROCESS && reg->tid != reg->tgid))
		return -EINVAL;
	ret = xseg_sigio_start_time(reg->tgid, reg->tid, &start);
	if (ret)
		return ret;
	if (start != reg->start_time)
		return -ESRCH;	/* another incarnation of the number */

	who = reg->mode == XSEG_SIGIO_THREAD ? reg->tid : reg->tgid;
	fd = xseg_pidfd_open(who, reg->mode == XSEG_SIGIO_THREAD ? PIDFD_THREAD : 0);
	if (fd >= 0) {
		/* the pidfd names the incarnation alive now: check it is still the right one */
		ret = xseg_sigio_start_time(reg->tgid, reg->tid, &start);
		if (ret || start != reg->start_time) {
			close(fd);
			return ret ? ret : -ESRCH;
		}
	}
	t->tid = reg->tid;
	t->tgid = reg->tgid;
	t->signo = reg->signo;
	t->mode = reg->mode;
	t->start_time = reg->start_time;
	t->checked_ns = now;
	t->pidfd = fd >= 0 ? fd : -1;
	t->self_pid = getpid();
	t->self_uid = getuid();
	t->valid = true;
	return 0;
}

static bool xseg_sigio_target_matches(const struct xseg_sigio_target *t,
				      const struct xseg_sigio_data *reg, u64 now)
{
	if (!t->valid || t->tid != reg->tid || t->tgid != reg->tgid ||
	    t->signo != reg->signo || t->mode != reg->mode || t->start_time != reg->start_time)
		return false;
	/* a pidfd is reuse-proof; a bare number is re-checked now and then */
	return t->pidfd >= 0 || now - t->checked_ns < XSEG_SIGIO_REVALIDATE_NS;
}

static long xseg_sigio_send(struct xseg_sigio_target *t, siginfo_t *info)
{
	if (t->pidfd >= 0)
		return xseg_pidfd_send_signal(t->pidfd, t->signo, info,
					      t->mode == XSEG_SIGIO_THREAD ?
					      PIDFD_SIGNAL_THREAD : 0);
	if (t->mode == XSEG_SIGIO_THREAD)
		return syscall(SYS_rt_tgsigqueueinfo, t->tgid, t->tid, t->signo, info);
	return syscall(SYS_rt_sigqueueinfo, t->tgid, t->signo, info);
}

static int xseg_sigio_signal(const struct xseg_sd_ctx *ctx)
{
	struct xseg_sigio_data *data = ctx->data;
	struct xseg_sigio_target *t = xseg_sigio_target_of(ctx);
	struct xseg_sigio_data reg;
	u64 now = xseg_dom_now_ns();
	siginfo_t info;
	int ret = 0;

	if (!t)
		return -EINVAL;
	/* each field read once; only these copies are used */
	reg.tid = xseg_load_relaxed(&data->tid);
	reg.tgid = xseg_load_relaxed(&data->tgid);
	reg.start_time = xseg_load_relaxed(&data->start_time);
	reg.signo = xseg_load_relaxed(&data->signo);
	reg.mode = xseg_load_relaxed(&data->mode);

	pthread_mutex_lock(&t->lock);
	if (!xseg_sigio_target_matches(t, &reg, now)) {
		xseg_sigio_target_drop(t);
		ret = xseg_sigio_target_load(t, &reg, now);
		if (ret)
			goto out_fail;
	}
	memset(&info, 0, sizeof(info));
	info.si_signo = reg.signo;
	info.si_code = SI_QUEUE;	/* < 0: the only kind a user may queue to another process */
	info.si_pid = t->self_pid;
	info.si_uid = t->self_uid;
	info.si_value.sival_int = ctx->index;
	if (xseg_sigio_send(t, &info) < 0) {
		ret = -errno;
		if (ret == -EAGAIN) {
			/* the dirty word carries this wake; let the next post try again */
			xseg_user_stat_inc(sigio_overflows);
			xseg_store_relaxed(&data->overflows,
					   xseg_load_relaxed(&data->overflows) + 1);
			xseg_store_relaxed(&ctx->shared->pending, 0);
			ret = 0;
			goto out;
		}
		if (ret == -ESRCH)
			xseg_sigio_target_drop(t);
		goto out_fail;
	}
	xseg_user_stat_inc(sigio_sends);
	goto out;

out_fail:
	xseg_user_stat_inc(sigio_failures);
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static void xseg_sigio_noop_handler(int sig, siginfo_t *info, void *uc)
{
}

/* Blocks signo in the calling thread (once per thread and signal). */
static int xseg_sigio_block(int signo)
{
	sigset_t set;
	int ret;

	if (xseg_sigio_blocked_signo == signo)
		return 0;
	sigemptyset(&set);
	sigaddset(&set, signo);
	ret = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (ret)
		return -ret;
	xseg_sigio_blocked_signo = signo;
	return 0;
}

static int xseg_sigio_local_signal_init(struct xseg *xseg)
{
	int signo = xseg_sigio_get_signo();
	struct sigaction sa, old;

	if (sigaction(signo, NULL, &old))
		return -errno;
	if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = xseg_sigio_noop_handler;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		if (sigaction(signo, &sa, NULL))
			return -errno;
	}
	return xseg_sigio_block(signo);
}

/* Drops what is still queued for this thread, so a later user of signo starts clean. */
static void xseg_sigio_local_signal_quit(struct xseg *xseg)
{
	struct timespec zero = { 0, 0 };
	int signo = xseg_sigio_get_signo();
	unsigned int i;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, signo);
	for (i = 0; i < 4096 && sigtimedwait(&set, NULL, &zero) == signo; i++)
		;
}

static int xseg_sigio_init_signal_desc(const struct xseg_sd_ctx *ctx)
{
	struct xseg_sigio_data *data = ctx->data;
	u32 mode = xseg_load_relaxed(&xseg_sigio_mode_cfg);
	int signo = xseg_sigio_get_signo();
	u32 tgid = getpid();
	u32 tid = mode == XSEG_SIGIO_THREAD ? (u32)syscall(SYS_gettid) : tgid;
	u64 start;
	int ret;

	ret = xseg_sigio_block(signo);
	if (ret)
		return ret;
	ret = xseg_sigio_start_time(tgid, tid, &start);
	if (ret)
		return ret;
	data->tid = tid;
	data->tgid = tgid;
	data->start_time = start;
	data->signo = signo;
	data->mode = mode;
	data->overflows = 0;
	if (ctx->xseg->be != &xseg_segdev_backend)
		return 0;
	return xseg_segdev_register_signal(ctx->xseg, ctx->index, signo);
}

/* The last reference went (maybe dropped by another peer): nobody may signal it any more. */
static void xseg_sigio_quit_signal_desc(const struct xseg_sd_ctx *ctx)
{
	struct xseg_sigio_data *data = ctx->data;

	xseg_store_relaxed(&data->tid, 0);
	xseg_store_relaxed(&data->tgid, 0);
	xseg_store_relaxed(&data->start_time, 0);
	/* and no kernel sender either (ENOENT if the registration was not ours) */
	if (ctx->xseg->be == &xseg_segdev_backend)
		xseg_segdev_unregister_waiter(ctx->xseg, ctx->index);
}

static int xseg_sigio_wait_signal(const struct xseg_sd_ctx *ctx, __u32 usec)
{
	const struct xseg_sigio_data *data = ctx->data;
	u64 deadline = xseg_dom_now_ns() + (u64)usec * 1000;
	u32 *dirty = &ctx->shared->dirty;
	u32 signo = xseg_load_relaxed(&data->signo);
	struct timespec ts;
	siginfo_t info;
	sigset_t set;
	u64 now, left;
	int ret;

	if (!xseg_sigio_valid_signo(signo))
		return -EINVAL;
	ret = xseg_sigio_block(signo);
	if (ret)
		return ret;
	sigemptyset(&set);
	sigaddset(&set, signo);
	xseg_user_stat_inc(sigio_sleeps);
	for (;;) {
		/*
		 * Every return of sigtimedwait() re-checks dirty: a wake for this descriptor, a
		 * stale one from an earlier arming, one for another descriptor of this thread
		 * (whose own dirty word keeps it), or none at all because the queue overflowed.
		 * Pairs with the store of dirty in xseg_signal() (before the signal is queued).
		 */
		if (xseg_load_acquire(dirty))
			return 0;
		now = xseg_dom_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		left = deadline - now;
		ts.tv_sec = left / 1000000000ULL;
		ts.tv_nsec = left % 1000000000ULL;
		ret = sigtimedwait(&set, &info, &ts);
		if (ret < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

const struct xseg_signal_type xseg_sigio_type = {
	.name = XSEG_SIGNAL_SIGIO,
	.init_signal_desc = xseg_sigio_init_signal_desc,
	.quit_signal_desc = xseg_sigio_quit_signal_desc,
	.local_signal_init = xseg_sigio_local_signal_init,
	.local_signal_quit = xseg_sigio_local_signal_quit,
	.remote_signal_init = xseg_sigio_remote_signal_init,
	.remote_signal_quit = xseg_sigio_remote_signal_quit,
	.wait_signal = xseg_sigio_wait_signal,
	.signal = xseg_sigio_signal,
};
