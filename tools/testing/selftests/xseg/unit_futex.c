// SPDX-License-Identifier: GPL-2.0
/*
 * The "futex" signal type: two processes exchanging requests (ping-pong and streaming), the
 * suppression protocol seen from the syscalls actually made, spinning, timeouts, lifetime.
 *
 * XSEG_EXCHANGE_REQUESTS sets the requests per exchange (default 100000).
 */
#include <sys/mman.h>
#include <time.h>

#include "unit_common.h"
#include "unit_exchange.h"
#include "kselftest_harness.h"

static unsigned long requests(void)
{
	const char *env = getenv("XSEG_EXCHANGE_REQUESTS");

	return env ? strtoul(env, NULL, 0) : 100000;
}

static void exchange(struct __test_metadata *_metadata, const char *what, unsigned int qd,
		     __u32 spin_ns)
{
	unsigned long total = requests();
	struct xseg_user_signal_stats st;
	struct xch_side c;
	int server;

	ASSERT_EQ(0, xseg_futex_set_spin_ns(spin_ns));	/* inherited by the server */
	ASSERT_EQ(0, xch_run(unit_shm_name(what), XSEG_SIGNAL_FUTEX, XSEG_SIGNAL_FUTEX, total, qd,
			     XCH_WAIT_USEC, false, &c, &server));
	ASSERT_EQ(0, xseg_futex_set_spin_ns(XSEG_FUTEX_SPIN_DEFAULT_NS));
	xseg_user_signal_stats(&st);
	printf("# %s: %lu requests, client slept %lu times, %llu FUTEX_WAKE, %llu skipped\n",
	       what, c.done, c.sleeps, (unsigned long long)st.futex_wakes,
	       (unsigned long long)st.futex_skipped);
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
	/* one wake per request at most: the client signals once per submit */
	EXPECT_LE(st.futex_wakes, total);
}

TEST(pingpong)
{
	exchange(_metadata, "futex-pp", 1, XSEG_FUTEX_SPIN_DEFAULT_NS);
}

/* without spinning every wait goes through FUTEX_WAIT: the lost-wakeup window is widest */
TEST(pingpong_no_spin)
{
	exchange(_metadata, "futex-pp0", 1, 0);
}

TEST(streaming)
{
	exchange(_metadata, "futex-st", 32, XSEG_FUTEX_SPIN_DEFAULT_NS);
}

TEST(streaming_no_spin)
{
	exchange(_metadata, "futex-st0", 32, 0);
}

FIXTURE(fx) {
	void *mem;
	__u64 size;
	struct xseg *rx, *tx;
	struct xseg_sd *sd;
	struct xseg_futex_data *data;
};

FIXTURE_SETUP(fx)
{
	struct xseg_config cfg;

	unit_small_config(&cfg);
	self->mem = unit_mem_segment(&cfg, &self->size);
	ASSERT_NE(NULL, self->mem);
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->rx));
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->tx));
	ASSERT_EQ(0, xseg_local_signal_init(self->rx, XSEG_SIGNAL_FUTEX));
	ASSERT_EQ(0, xseg_get_signal_desc(self->rx, XSEG_SIGNAL_FUTEX, &self->sd));
	ASSERT_EQ(1, xseg_bind_port(self->rx, 1, self->sd));
	self->data = self->sd->ctx.data;
	ASSERT_EQ(0, xseg_futex_set_spin_ns(XSEG_FUTEX_SPIN_DEFAULT_NS));
}

FIXTURE_TEARDOWN(fx)
{
	if (self->sd)
		xseg_put_signal_desc(self->sd);
	xseg_leave(self->rx);
	xseg_leave(self->tx);
	free(self->mem);
}

TEST_F(fx, busy_receiver_costs_no_syscall)
{
	struct xseg_user_signal_stats a, b;
	int i;

	xseg_user_signal_stats(&a);
	/* not armed: the framework does not even call the type */
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, xseg_signal(self->tx, 1));
	/* armed but not asleep (spinning): the type skips the syscall */
	ASSERT_EQ(0, xseg_prepare_wait(self->sd));
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, xseg_signal(self->tx, 1));
	xseg_user_signal_stats(&b);
	EXPECT_EQ(a.futex_wakes, b.futex_wakes);
	EXPECT_EQ(a.futex_skipped + 1, b.futex_skipped);
	EXPECT_EQ(0, xseg_wait_signal(self->sd, 0));	/* dirty: no sleep */
	ASSERT_EQ(0, xseg_cancel_wait(self->sd));
}

struct sleeper {
	struct xseg_sd *sd;
	int ret;
	__u64 ns;
};

static void *sleeper_fn(void *arg)
{
	struct sleeper *s = arg;
	__u64 t0 = xseg_dom_now_ns();

	s->ret = xseg_wait_signal(s->sd, 5000000);
	s->ns = xseg_dom_now_ns() - t0;
	return NULL;
}

TEST_F(fx, sleeping_receiver_is_woken_once)
{
	struct xseg_user_signal_stats a, b;
	struct sleeper s = { .sd = self->sd };
	pthread_t th;
	int i;

	ASSERT_EQ(0, xseg_futex_set_spin_ns(0));
	ASSERT_EQ(0, xseg_prepare_wait(self->sd));
	ASSERT_EQ(0, pthread_create(&th, NULL, sleeper_fn, &s));
	/* until it is in FUTEX_WAIT (the flag is set right before) */
	for (i = 0; i < 5000 && !__atomic_load_n(&self->data->sleeping, __ATOMIC_ACQUIRE); i++)
		usleep(100);
	ASSERT_EQ(1, self->data->sleeping);
	usleep(20000);
	xseg_user_signal_stats(&a);
	ASSERT_EQ(0, xseg_signal(self->tx, 1));
	ASSERT_EQ(0, xseg_signal(self->tx, 1));	/* pending: no second wake */
	ASSERT_EQ(0, pthread_join(th, NULL));
	xseg_user_signal_stats(&b);
	EXPECT_EQ(0, s.ret);
	EXPECT_LT(s.ns, 1000000000ULL);		/* woken, not timed out */
	EXPECT_EQ(a.futex_wakes + 1, b.futex_wakes);
	EXPECT_EQ(0, self->data->sleeping);
	ASSERT_EQ(0, xseg_cancel_wait(self->sd));
}

TEST_F(fx, timeout)
{
	__u64 t0;

	ASSERT_EQ(0, xseg_prepare_wait(self->sd));
	t0 = xseg_dom_now_ns();
	EXPECT_EQ(-ETIMEDOUT, xseg_wait_signal(self->sd, 20000));
	EXPECT_GE(xseg_dom_now_ns() - t0, 20000000ULL);
	EXPECT_EQ(0, self->data->sleeping);
	ASSERT_EQ(0, xseg_cancel_wait(self->sd));
}

TEST_F(fx, spin_tunable)
{
	EXPECT_EQ(-EINVAL, xseg_futex_set_spin_ns(XSEG_FUTEX_SPIN_MAX_NS + 1));
	EXPECT_EQ(0, xseg_futex_set_spin_ns(XSEG_FUTEX_SPIN_MAX_NS));
	EXPECT_EQ(XSEG_FUTEX_SPIN_MAX_NS, xseg_futex_get_spin_ns());
	EXPECT_EQ(0, xseg_futex_set_spin_ns(0));
	EXPECT_EQ(0, xseg_futex_get_spin_ns());
}

TEST_F(fx, quit_with_live_descriptors_fails)
{
	EXPECT_EQ(-EBUSY, xseg_local_signal_quit(self->rx, XSEG_SIGNAL_FUTEX));
	ASSERT_EQ(0, xseg_put_signal_desc(self->sd));
	self->sd = NULL;
	EXPECT_EQ(0, xseg_local_signal_quit(self->rx, XSEG_SIGNAL_FUTEX));
	EXPECT_EQ(-EINVAL, xseg_local_signal_quit(self->rx, XSEG_SIGNAL_FUTEX));
}

/*
 * A waiter killed in FUTEX_WAIT: the futex registration dies with it (the kernel drops the
 * waiter), the descriptor is reclaimed, and a sender meanwhile wakes nobody.
 */
TEST(killed_waiter_leaves_nothing)
{
	const char *name = unit_shm_name("futex-kill");
	struct xseg_config cfg;
	struct xseg_info info;
	struct xseg *x;
	int p[2], status;
	char c;
	pid_t pid;

	unit_small_config(&cfg);
	xseg_destroy(&xseg_posix_backend, name);
	ASSERT_EQ(0, xseg_create(&xseg_posix_backend, name, &cfg, &x));
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct xseg_sd *sd;
		struct xseg *cx;

		xseg_futex_set_spin_ns(0);
		if (xseg_join(&xseg_posix_backend, name, &cx) ||
		    xseg_local_signal_init(cx, XSEG_SIGNAL_FUTEX) ||
		    xseg_get_signal_desc(cx, XSEG_SIGNAL_FUTEX, &sd) ||
		    xseg_bind_port(cx, 3, sd) != 3 || xseg_prepare_wait(sd))
			_exit(1);
		if (write(p[1], "r", 1) != 1)
			_exit(2);
		xseg_wait_signal(sd, 60000000);
		_exit(3);
	}
	ASSERT_EQ(1, read(p[0], &c, 1));
	usleep(20000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	/* the dead peer's descriptor: a wake to nobody, harmless */
	EXPECT_EQ(0, xseg_signal(x, 3));
	ASSERT_EQ(0, xseg_get_info(x, &info));
	EXPECT_EQ(1, info.sds_active);
	EXPECT_GE(xseg_reclaim(x), 2);	/* its port and its descriptor */
	ASSERT_EQ(0, xseg_get_info(x, &info));
	EXPECT_EQ(0, info.sds_active);
	EXPECT_EQ(0, info.ports_bound);
	EXPECT_EQ(0, xseg_signal(x, 3));	/* nobody bound: nothing to do */
	close(p[0]);
	close(p[1]);
	xseg_leave(x);
	xseg_destroy(&xseg_posix_backend, name);
}

TEST_HARNESS_MAIN
