// SPDX-License-Identifier: GPL-2.0
/*
 * The "sigio" signal type: two processes exchanging requests (ping-pong, streaming, master
 * thread mode), queue overflow, lifetime (a killed waiter, tid reuse), and the security
 * property for user senders: a forged tid in the segment reaches nobody the sender could not
 * signal anyway.
 *
 * XSEG_EXCHANGE_REQUESTS sets the requests per exchange (default 100000).
 */
#include <grp.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include "unit_common.h"
#include "unit_exchange.h"
#include "kselftest_harness.h"

static unsigned long requests(void)
{
	const char *env = getenv("XSEG_EXCHANGE_REQUESTS");

	return env ? strtoul(env, NULL, 0) : 100000;
}

static void exchange(struct __test_metadata *_metadata, const char *what, unsigned long total,
		     unsigned int qd)
{
	struct xseg_user_signal_stats st;
	struct xch_side c;
	int server;

	ASSERT_EQ(0, xch_run(unit_shm_name(what), XSEG_SIGNAL_SIGIO, XSEG_SIGNAL_SIGIO, total, qd,
			     XCH_WAIT_USEC, false, &c, &server));
	xseg_user_signal_stats(&st);
	printf("# %s: %lu requests, client slept %lu times, %llu signals queued, %llu overflows\n",
	       what, c.done, c.sleeps, (unsigned long long)st.sigio_sends,
	       (unsigned long long)st.sigio_overflows);
	EXPECT_EQ(0, server);
	EXPECT_EQ(total, c.done);
	EXPECT_EQ(0, c.bad);
	EXPECT_EQ(0, c.lost);
	/*
	 * A 2 s wait of the client that timed out with its reply ring empty is the server being
	 * slow (a loaded host, ASan), not a lost wakeup: that shows as lost on either side (the
	 * server exits non-zero when its own wait times out with work queued).
	 */
	if (c.timeouts)
		TH_LOG("%lu client waits timed out with nothing queued (slow server)", c.timeouts);
	EXPECT_EQ(0, st.sigio_failures);
	EXPECT_LE(st.sigio_sends, total);
}

TEST(pingpong)
{
	exchange(_metadata, "sigio-pp", requests(), 1);
}

TEST(streaming)
{
	exchange(_metadata, "sigio-st", requests(), 32);
}

/* A helper thread that blocks the signal (inherited mask) and never waits. */
static void *idle_thread(void *arg)
{
	pause();
	return NULL;
}

/*
 * Process mode: descriptors name the process, the signal goes to the thread group and the
 * one thread in sigtimedwait() (the master) takes it, whatever other threads exist.
 */
TEST(process_mode_master_thread)
{
	struct xseg_sd *sd;
	struct xseg *x;
	struct xseg_sigio_data *d;
	void *mem;
	__u64 size;
	struct xseg_config cfg;
	pthread_t th;

	/* the exchange: both sides in process mode, the setting is inherited by the server */
	ASSERT_EQ(0, xseg_sigio_set_mode(XSEG_SIGIO_PROCESS));
	unit_small_config(&cfg);
	mem = unit_mem_segment(&cfg, &size);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, xseg_join_mem(mem, size, &x));
	ASSERT_EQ(0, xseg_local_signal_init(x, XSEG_SIGNAL_SIGIO));
	ASSERT_EQ(0, pthread_create(&th, NULL, idle_thread, NULL));
	ASSERT_EQ(0, xseg_get_signal_desc(x, XSEG_SIGNAL_SIGIO, &sd));
	d = sd->ctx.data;
	EXPECT_EQ(XSEG_SIGIO_PROCESS, d->mode);
	EXPECT_EQ(getpid(), d->tgid);
	EXPECT_EQ(getpid(), d->tid);
	xseg_put_signal_desc(sd);
	xseg_leave(x);
	free(mem);

	exchange(_metadata, "sigio-proc", requests() / 5, 1);
	pthread_cancel(th);
	pthread_join(th, NULL);
	EXPECT_EQ(-EINVAL, xseg_sigio_set_mode(0));
	ASSERT_EQ(0, xseg_sigio_set_mode(XSEG_SIGIO_THREAD));
}

/*
 * RLIMIT_SIGPENDING 0 in the receiver: every queued signal fails with EAGAIN.  The sender
 * must not fail, and the receiver must still get every request through the dirty word,
 * rescanning on each (short) timeout.
 */
TEST(overflow_loses_nothing)
{
	const char *name = unit_shm_name("sigio-ovf");
	unsigned long total = 2000;
	struct xseg_user_signal_stats st;
	struct xseg_config cfg;
	struct xseg *owner;
	struct xch_side c;
	int status;
	pid_t pid;

	unit_small_config(&cfg);
	cfg.nr_requests = 128;
	xseg_destroy(&xseg_posix_backend, name);
	ASSERT_EQ(0, xseg_create(&xseg_posix_backend, name, &cfg, &owner));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct rlimit rl;

		getrlimit(RLIMIT_SIGPENDING, &rl);
		rl.rlim_cur = 0;
		if (setrlimit(RLIMIT_SIGPENDING, &rl))
			_exit(20);
		_exit(xch_server(name, XSEG_SIGNAL_SIGIO, total, 1000, true));
	}
	/* the client waits with futex: only the server's queue overflows */
	ASSERT_EQ(0, xch_side_init(&c, name, XSEG_SIGNAL_FUTEX, XCH_CLIENT_PORT, XCH_WAIT_USEC));
	ASSERT_EQ(0, xch_client(&c, total, 8));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	xseg_user_signal_stats(&st);
	printf("# %lu requests, %llu signals queued, %llu overflows\n", c.done,
	       (unsigned long long)st.sigio_sends, (unsigned long long)st.sigio_overflows);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(total, c.done);
	EXPECT_EQ(0, c.bad);
	EXPECT_EQ(0, c.lost);
	EXPECT_GT(st.sigio_overflows, 0);
	EXPECT_EQ(0, st.sigio_sends);
	EXPECT_EQ(0, st.sigio_failures);
	xch_side_fini(&c);
	xseg_leave(owner);
	xseg_destroy(&xseg_posix_backend, name);
}

FIXTURE(sx) {
	const char *name;
	struct xseg *x;		/* this process as a sender */
	sigset_t set;
};

FIXTURE_SETUP(sx)
{
	struct xseg_config cfg;

	self->name = unit_shm_name("sigio-fx");
	unit_small_config(&cfg);
	xseg_destroy(&xseg_posix_backend, self->name);
	ASSERT_EQ(0, xseg_create(&xseg_posix_backend, self->name, &cfg, &self->x));
	sigemptyset(&self->set);
	sigaddset(&self->set, xseg_sigio_get_signo());
}

FIXTURE_TEARDOWN(sx)
{
	xseg_leave(self->x);
	xseg_destroy(&xseg_posix_backend, self->name);
}

/* True if a sigio signal is queued for this thread or process (consumes it). */
static bool got_signal(sigset_t *set, int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	return sigtimedwait(set, NULL, &ts) > 0;
}

/* Forks a sigio waiter on port; returns its pid once it is armed and asleep. */
static pid_t spawn_waiter(const char *name, __u32 port, int *pipefd)
{
	char c;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (!pid) {
		struct xseg_sd *sd;
		struct xseg *x;

		if (xseg_join(&xseg_posix_backend, name, &x) ||
		    xseg_local_signal_init(x, XSEG_SIGNAL_SIGIO) ||
		    xseg_get_signal_desc(x, XSEG_SIGNAL_SIGIO, &sd) ||
		    xseg_bind_port(x, port, sd) != (int)port || xseg_prepare_wait(sd))
			_exit(1);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(2);
		_exit(xseg_wait_signal(sd, 60000000) ? 3 : 0);
	}
	if (pid > 0 && read(pipefd[0], &c, 1) != 1)
		return -1;
	return pid;
}

static struct xseg_sigio_data *port_data(struct xseg *x, __u32 port)
{
	__u32 idx;

	if (xseg_sd_from_off(x, xseg_port_at(x, port)->sd_off, &idx))
		return NULL;
	return (struct xseg_sigio_data *)(x->base + x->g.sd_data_off +
					  (__u64)idx * XSEG_SD_DATA_SIZE);
}

TEST_F(sx, wakes_waiter_with_payload)
{
	struct xseg_user_signal_stats a, b;
	int p[2], status;
	pid_t pid;

	pid = spawn_waiter(self->name, 2, p);
	ASSERT_GT(pid, 0);
	usleep(20000);
	xseg_user_signal_stats(&a);
	ASSERT_EQ(0, xseg_signal(self->x, 2));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	xseg_user_signal_stats(&b);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(a.sigio_sends + 1, b.sigio_sends);
	close(p[0]);
	close(p[1]);
}

/*
 * A waiter killed while registered: the next sender finds the thread gone (-ESRCH) and sends
 * nothing.  Then the registration is replayed on a live thread with the dead one's start
 * time, as a reused tid would look: refused as well.  Reclaim removes the registration.
 */
TEST_F(sx, killed_waiter_no_dangling_registration)
{
	struct xseg_user_signal_stats a, b;
	struct xseg_sigio_data *d;
	struct xseg_info info;
	int p[2], status;
	__u32 idx;
	pid_t pid;

	/* start times count clock ticks: make the waiter's differ from ours */
	usleep(30000);
	pid = spawn_waiter(self->name, 2, p);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	d = port_data(self->x, 2);
	ASSERT_NE(NULL, d);
	EXPECT_EQ(pid, d->tid);
	xseg_user_signal_stats(&a);
	EXPECT_EQ(-ESRCH, xseg_signal(self->x, 2));

	/* the same number, another incarnation: our own thread, the dead one's start time */
	ASSERT_EQ(0, pthread_sigmask(SIG_BLOCK, &self->set, NULL));
	d->tid = syscall(SYS_gettid);
	d->tgid = getpid();
	ASSERT_EQ(0, xseg_sd_from_off(self->x, xseg_port_at(self->x, 2)->sd_off, &idx));
	xseg_sd_at(self->x, idx)->pending = 0;	/* let the framework call the type again */
	EXPECT_EQ(-ESRCH, xseg_signal(self->x, 2));
	xseg_user_signal_stats(&b);
	EXPECT_EQ(a.sigio_sends, b.sigio_sends);
	EXPECT_EQ(a.sigio_failures + 2, b.sigio_failures);
	EXPECT_FALSE(got_signal(&self->set, 50));

	/* reclaim drops the dead peer's port and descriptor; its registration is wiped */
	EXPECT_GE(xseg_reclaim(self->x), 2);
	EXPECT_EQ(0, d->tid);
	EXPECT_EQ(0, d->tgid);
	ASSERT_EQ(0, xseg_get_info(self->x, &info));
	EXPECT_EQ(0, info.sds_active);
	EXPECT_EQ(0, xseg_signal(self->x, 2));	/* nobody bound */
	close(p[0]);
	close(p[1]);
}

/* Registration fields that no sender may act on, whoever wrote them. */
TEST_F(sx, forged_registration_refused)
{
	struct xseg_sigio_data *d, saved;
	struct xseg_signal_desc *s;
	int p[2], status;
	__u32 idx;
	pid_t pid;

	pid = spawn_waiter(self->name, 2, p);
	ASSERT_GT(pid, 0);
	d = port_data(self->x, 2);
	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, xseg_sd_from_off(self->x, xseg_port_at(self->x, 2)->sd_off, &idx));
	s = xseg_sd_at(self->x, idx);
	saved = *d;

	d->signo = SIGKILL;			/* not an RT signal */
	s->pending = 0;
	EXPECT_EQ(-EINVAL, xseg_signal(self->x, 2));
	*d = saved;
	d->tid = 0;				/* no thread */
	s->pending = 0;
	EXPECT_EQ(-EINVAL, xseg_signal(self->x, 2));
	*d = saved;
	d->tgid = (__u32)-1;			/* kill(-1)-like values */
	s->pending = 0;
	EXPECT_EQ(-EINVAL, xseg_signal(self->x, 2));
	*d = saved;
	d->tgid = getpid();			/* tid not in that process */
	s->pending = 0;
	EXPECT_EQ(-EINVAL, xseg_signal(self->x, 2));
	*d = saved;
	d->mode = 77;
	s->pending = 0;
	EXPECT_EQ(-EINVAL, xseg_signal(self->x, 2));
	*d = saved;

	/* the waiter is still there, unharmed, and the genuine registration works */
	s->pending = 0;
	EXPECT_EQ(0, xseg_signal(self->x, 2));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(p[0]);
	close(p[1]);
}

/*
 * Security: an unprivileged peer (uid 65534) that shares the segment with a root waiter can
 * neither signal it through its genuine descriptor nor by writing the root process's tid into
 * a descriptor of its own: the kernel refuses (EPERM) with the sender's credentials, and the
 * root process receives nothing.
 */
TEST_F(sx, unprivileged_peer_cannot_signal_root)
{
	struct xseg_sigio_data *victim;
	struct xseg_sd *sd;
	int status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to drop to uid 65534");
	/* the victim: this (root) process, a genuine sigio waiter on port 4 */
	ASSERT_EQ(0, xseg_local_signal_init(self->x, XSEG_SIGNAL_SIGIO));
	ASSERT_EQ(0, xseg_get_signal_desc(self->x, XSEG_SIGNAL_SIGIO, &sd));
	ASSERT_EQ(4, xseg_bind_port(self->x, 4, sd));
	ASSERT_EQ(0, xseg_prepare_wait(sd));
	victim = sd->ctx.data;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct xseg_sigio_data *d;
		struct xseg_sd *mine;
		struct xseg *x;
		int ret, fails = 0;

		if (xseg_join(&xseg_posix_backend, self->name, &x))
			_exit(30);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(31);
		/* through the victim's own descriptor */
		ret = xseg_signal(x, 4);
		if (ret != -EPERM)
			fails |= 1;
		/* through a descriptor of ours carrying the victim's registration */
		if (xseg_local_signal_init(x, XSEG_SIGNAL_SIGIO) ||
		    xseg_get_signal_desc(x, XSEG_SIGNAL_SIGIO, &mine) ||
		    xseg_bind_port(x, 5, mine) != 5)
			_exit(32);
		d = mine->ctx.data;
		*d = *victim;
		mine->ctx.shared->waiting = 1;
		mine->ctx.shared->pending = 0;
		ret = xseg_signal(x, 5);
		if (ret != -EPERM)
			fails |= 2;
		_exit(fails);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* (its dirty word may be set: shared memory is writable, a spurious rescan is all) */
	EXPECT_FALSE(got_signal(&self->set, 100));
	ASSERT_EQ(0, xseg_cancel_wait(sd));
	ASSERT_EQ(0, xseg_put_signal_desc(sd));
}

TEST_F(sx, quit_with_live_descriptors_fails)
{
	struct xseg_sd *sd;

	ASSERT_EQ(0, xseg_local_signal_init(self->x, XSEG_SIGNAL_SIGIO));
	ASSERT_EQ(0, xseg_get_signal_desc(self->x, XSEG_SIGNAL_SIGIO, &sd));
	EXPECT_EQ(-EBUSY, xseg_local_signal_quit(self->x, XSEG_SIGNAL_SIGIO));
	ASSERT_EQ(0, xseg_put_signal_desc(sd));
	EXPECT_EQ(0, xseg_local_signal_quit(self->x, XSEG_SIGNAL_SIGIO));
	EXPECT_EQ(-EINVAL, xseg_local_signal_quit(self->x, XSEG_SIGNAL_SIGIO));
}

TEST_F(sx, signo_configurable)
{
	struct xseg_sigio_data *d;
	struct xseg_sd *sd;

	EXPECT_EQ(-EINVAL, xseg_sigio_set_signo(SIGUSR1));
	EXPECT_EQ(-EINVAL, xseg_sigio_set_signo(SIGRTMAX + 1));
	ASSERT_EQ(0, xseg_sigio_set_signo(SIGRTMIN + 3));
	ASSERT_EQ(0, xseg_local_signal_init(self->x, XSEG_SIGNAL_SIGIO));
	ASSERT_EQ(0, xseg_get_signal_desc(self->x, XSEG_SIGNAL_SIGIO, &sd));
	d = sd->ctx.data;
	EXPECT_EQ(SIGRTMIN + 3, d->signo);
	EXPECT_EQ(XSEG_SIGIO_THREAD, d->mode);
	EXPECT_EQ(syscall(SYS_gettid), d->tid);
	/* a signal to ourselves arrives with the descriptor index as payload */
	ASSERT_EQ(3, xseg_bind_port(self->x, 3, sd));
	ASSERT_EQ(0, xseg_prepare_wait(sd));
	ASSERT_EQ(0, xseg_signal(self->x, 3));
	EXPECT_EQ(0, xseg_wait_signal(sd, 1000000));
	{
		struct timespec ts = { 1, 0 };
		siginfo_t info;
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGRTMIN + 3);
		/* dirty was set: wait returned before consuming the signal */
		EXPECT_EQ(SIGRTMIN + 3, sigtimedwait(&set, &info, &ts));
		EXPECT_EQ(SI_QUEUE, info.si_code);
		EXPECT_EQ(xseg_signal_desc_index(sd), info.si_value.sival_int);
		EXPECT_EQ(getpid(), info.si_pid);
	}
	ASSERT_EQ(0, xseg_cancel_wait(sd));
	ASSERT_EQ(0, xseg_put_signal_desc(sd));
	ASSERT_EQ(0, xseg_sigio_set_signo(SIGRTMIN + 1));
}

TEST_HARNESS_MAIN
