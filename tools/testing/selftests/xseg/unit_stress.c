// SPDX-License-Identifier: GPL-2.0
/*
 * Two processes exchange requests through a POSIX shm segment with the "poll" signal type and
 * the suppression words, with random delays on both sides so that each side is sometimes busy
 * (signals must be free) and sometimes asleep (signals must wake it).
 *
 * A lost wakeup shows as a wait that times out while work is queued for the waiter; the
 * waits use a timeout far longer than any delay, so any such timeout fails the test.
 *
 * XSEG_STRESS_REQUESTS sets the number of requests (default 2000000, 500000 under ASan).
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "unit_common.h"
#include "kselftest_harness.h"

#define INFLIGHT	48
#define WAIT_USEC	2000000		/* 2 s: far beyond any injected delay */
#define CLIENT_PORT	0
#define SERVER_PORT	1

#ifdef __SANITIZE_ADDRESS__
#define DEFAULT_REQUESTS	500000
#else
#define DEFAULT_REQUESTS	2000000
#endif

struct side {
	struct xseg *x;
	struct xseg_sd *sd;
	__u32 port;
	unsigned int seed;
	unsigned long lost;	/* timeouts with work queued */
	unsigned long sleeps;	/* waits that really waited */
};

static void maybe_delay(struct side *s)
{
	unsigned int r = rand_r(&s->seed);
	struct timespec ts = { 0, 0 };

	if (r % 512 == 0) {
		ts.tv_nsec = (r >> 9) % 200000;	/* up to 200 us */
		nanosleep(&ts, NULL);
	} else if (r % 64 == 0) {
		sched_yield();
	}
}

static int side_init(struct side *s, const char *name, __u32 port, unsigned int seed)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->port = port;
	s->seed = seed;
	ret = xseg_join(&xseg_posix_backend, name, &s->x);
	if (ret)
		return ret;
	ret = xseg_local_signal_init(s->x, XSEG_SIGNAL_POLL);
	if (ret)
		return ret;
	ret = xseg_get_signal_desc(s->x, XSEG_SIGNAL_POLL, &s->sd);
	if (ret)
		return ret;
	ret = xseg_bind_port(s->x, port, s->sd);
	return ret < 0 ? ret : 0;
}

/*
 * The suppression protocol from the waiter's side: arm, re-check, sleep, disarm.  check()
 * returns how much work it found (< 0 on error).
 */
static int side_wait(struct side *s, struct xseg_ring *ring, int (*check)(struct side *, void *),
		     void *arg)
{
	int ret, n;

	ret = xseg_prepare_wait(s->sd);
	if (ret)
		return ret;
	n = check(s, arg);
	if (n) {
		xseg_cancel_wait(s->sd);
		return n < 0 ? n : 0;
	}
	s->sleeps++;
	ret = xseg_wait_signal(s->sd, WAIT_USEC);
	xseg_cancel_wait(s->sd);
	if (ret == -ETIMEDOUT && xseg_ring_count(s->x, ring))
		s->lost++;
	return ret == -ETIMEDOUT ? 0 : ret;
}

struct server_state {
	unsigned long served, total;
};

static int server_check(struct side *s, void *arg)
{
	struct server_state *st = arg;
	struct xseg_request *req;
	int n = 0, to, ret;

	while ((ret = xseg_accept(s->x, s->port, &req)) == 0) {
		maybe_delay(s);
		req->serviced = req->offset ^ 0x5a5a5a5aULL;
		req->result = 0;
		to = xseg_respond(s->x, req);
		if (to < 0)
			return to;
		ret = xseg_signal(s->x, to);
		if (ret)
			return ret;
		st->served++;
		n++;
	}
	return ret == -EAGAIN ? n : ret;
}

static int run_server(const char *name, unsigned long total)
{
	struct server_state st = { 0, total };
	struct xseg_stats stats;
	struct side s;
	int ret;

	ret = side_init(&s, name, SERVER_PORT, 0xbeef);
	if (ret)
		return 10;
	while (st.served < total) {
		ret = server_check(&s, &st);
		if (ret < 0)
			return 11;
		if (!ret && side_wait(&s, xseg_ring_at(s.x, SERVER_PORT, 0), server_check, &st))
			return 12;
	}
	xseg_get_stats(s.x, &stats);
	printf("# server: %lu served, %lu sleeps, %llu signals, %llu wakes, %lu lost\n",
	       st.served, s.sleeps, (unsigned long long)stats.signals,
	       (unsigned long long)stats.wakes, s.lost);
	if (s.lost)
		return 13;
	xseg_put_signal_desc(s.sd);
	xseg_leave(s.x);
	return 0;
}

struct client_state {
	unsigned long sent, received, inflight, bad;
};

static int client_check(struct side *s, void *arg)
{
	struct client_state *st = arg;
	struct xseg_request *req;
	int n = 0, ret;

	while ((ret = xseg_receive(s->x, s->port, &req)) == 0) {
		if (req->serviced != (req->offset ^ 0x5a5a5a5aULL) || req->result)
			st->bad++;
		if (xseg_put_request(s->x, req))
			return -EIO;
		st->received++;
		st->inflight--;
		n++;
		maybe_delay(s);
	}
	return ret == -EAGAIN ? n : ret;
}

TEST(two_processes_no_lost_wakeup)
{
	const char *name = unit_shm_name("stress");
	unsigned long total = DEFAULT_REQUESTS;
	struct client_state st = { 0 };
	struct xseg_config cfg;
	struct xseg_stats stats;
	struct xseg_request *req;
	struct xseg *owner;
	struct side s;
	const char *env;
	int status, ret, to;
	pid_t pid;

	env = getenv("XSEG_STRESS_REQUESTS");
	if (env)
		total = strtoul(env, NULL, 0);
	unit_small_config(&cfg);
	cfg.nr_requests = 128;
	xseg_destroy(&xseg_posix_backend, name);
	ASSERT_EQ(0, xseg_create(&xseg_posix_backend, name, &cfg, &owner));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(run_server(name, total));

	ASSERT_EQ(0, side_init(&s, name, CLIENT_PORT, 0xcafe));
	while (st.received < total) {
		while (st.inflight < INFLIGHT && st.sent < total) {
			ASSERT_EQ(0, xseg_get_request(s.x, CLIENT_PORT, SERVER_PORT, &req));
			req->op = XSEG_OP_READ;
			req->offset = st.sent++;
			to = xseg_submit(s.x, req);
			ASSERT_EQ(SERVER_PORT, to);
			ASSERT_EQ(0, xseg_signal(s.x, to));
			st.inflight++;
			maybe_delay(&s);
		}
		ret = client_check(&s, &st);
		ASSERT_GE(ret, 0);
		if (!ret)
			ASSERT_EQ(0, side_wait(&s, xseg_ring_at(s.x, CLIENT_PORT, 1), client_check,
					       &st));
		if (s.lost)
			break;
	}
	if (s.lost || st.received < total)
		kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	xseg_get_stats(s.x, &stats);
	printf("# client: %lu requests, %lu sleeps, %llu signals, %llu wakes, %lu lost\n",
	       st.received, s.sleeps, (unsigned long long)stats.signals,
	       (unsigned long long)stats.wakes, s.lost);
	EXPECT_EQ(0, s.lost);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(total, st.received);
	EXPECT_EQ(0, st.bad);
	/* suppression: a wake is only paid when the receiver actually slept */
	EXPECT_LT(stats.wakes, stats.signals);
	EXPECT_LE(stats.wakes, s.sleeps + 1 + stats.signals / 2);

	xseg_put_signal_desc(s.sd);
	xseg_leave(s.x);
	xseg_leave(owner);
	xseg_destroy(&xseg_posix_backend, name);
}

TEST_HARNESS_MAIN
