// SPDX-License-Identifier: GPL-2.0
/*
 * The signal matrix (ARCHITECTURE.md 5): every sender domain against every receiver type,
 * on one segdev segment shared with the kernel test peer (kmod/xseg_kpeer.c).
 *
 *   sender \ receiver   futex              sigio              waitqueue        callback
 *   user                user_to_futex      user_to_sigio      (replies below)  (replies)
 *   kernel              kernel_to_futex*   kernel_to_sigio*   kernel_to_kernel kernel_to_kernel
 *
 * Each kernel -> user test is a ping-pong: the user sends READs to the kpeer's waitqueue
 * port (user -> waitqueue, served by its kthread) or callback port (user -> callback, served
 * in its work item), and the replies come back to the user's port, whose descriptor is of
 * the receiver type under test (kernel -> futex / sigio).  Queue depth 1 with no spinning,
 * so that every reply finds the receiver asleep and must wake it.  Every wait has a long
 * timeout (XM_WAIT_USEC): a timeout is a lost wakeup and fails the test.  The data of every
 * reply is checked (the callback cells have the kpeer sleep 300 us before each reply: its
 * work item is otherwise so quick that the receiver never gets to sleep).  The _atomic
 * variants have the kpeer send every signal with interrupts off; the _requester variants
 * have the kernel send requests to a user server (the xsegbd direction).  The user -> user
 * cells run here between two processes on the segdev segment.
 * Needs root (loads segdev.ko, xseg.ko and xseg_kpeer.ko).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <uapi/xseg/segdev.h>
#include <xseg/inspect.h>
#include <xseg/signal_user.h>

#include "kselftest_harness.h"
#include "kpeer_util.h"

#define XM_N		2000		/* round trips per cell (TCG is slow) */
#define XM_SIZE		512
#define XM_WAIT_USEC	10000000	/* 10 s: a wake must never take that long */
#define XM_USER_PORT	3		/* the user -> user server's port */
#define XM_U2U_DELAY_US	1000		/* the user -> user server answers this late */

struct xm_peer {
	struct xseg *x;
	struct xseg_sd *sd;
	const char *type;
	__u32 port;
	unsigned long sleeps, timeouts, bad;
	double max_wait;
};

/* A segdev segment for the kpeer; port 0 is not bound (the caller binds it). */
static int xm_segment(const char *name)
{
	struct xseg_config cfg;
	struct xseg *x;
	int ret;

	xseg_config_default(&cfg);
	cfg.nr_ports = 8;
	cfg.nr_requests = 256;
	cfg.nr_sds = 16;
	cfg.heap_size = 4ULL << 20;
	cfg.mode = 0666;
	xseg_destroy(&xseg_segdev_backend, name);
	ret = xseg_create(&xseg_segdev_backend, name, &cfg, &x);
	if (ret)
		return ret;
	return xseg_leave(x);
}

static int xm_peer_init(struct xm_peer *p, const char *name, const char *type, __u32 port)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->type = type;
	p->port = port;
	ret = xseg_join(&xseg_segdev_backend, name, &p->x);
	if (ret)
		return ret;
	ret = xseg_local_signal_init(p->x, type);
	if (ret)
		return ret;
	ret = xseg_get_signal_desc(p->x, type, &p->sd);
	if (ret)
		return ret;
	ret = xseg_bind_port(p->x, port, p->sd);
	return ret < 0 ? ret : 0;
}

static void xm_peer_fini(struct xm_peer *p)
{
	if (!p->x)
		return;
	if (p->sd)
		xseg_put_signal_desc(p->sd);
	xseg_local_signal_quit(p->x, p->type);
	xseg_leave(p->x);
	p->x = NULL;
}

/*
 * Waits for something on ring `which` of the peer's port with the suppression protocol.
 * Returns 0 when there is work, -ETIMEDOUT after XM_WAIT_USEC (a lost wakeup), -errno.
 */
static bool xm_queued(struct xm_peer *p, __u32 which)
{
	struct xseg_port_info pi;

	if (xseg_get_port_info(p->x, p->port, &pi))
		return false;
	return which ? pi.rp_count : pi.rq_count;
}

static int xm_wait(struct xm_peer *p, __u32 which)
{
	double t0;
	int ret;

	ret = xseg_prepare_wait(p->sd);
	if (ret)
		return ret;
	if (xm_queued(p, which)) {
		xseg_cancel_wait(p->sd);
		return 0;
	}
	p->sleeps++;
	t0 = kpeer_now();
	ret = xseg_wait_signal(p->sd, XM_WAIT_USEC);
	xseg_cancel_wait(p->sd);
	if (kpeer_now() - t0 > p->max_wait)
		p->max_wait = kpeer_now() - t0;
	if (ret == -ETIMEDOUT)
		p->timeouts++;
	return ret;
}

/* n READs at queue depth 1 from the peer's port to dst, each reply checked. */
static int xm_pingpong(struct xm_peer *p, __u32 dst, long n)
{
	struct xseg_request *req;
	long i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = xseg_get_request(p->x, p->port, dst, &req);
		if (ret)
			return ret;
		ret = xseg_prep_request(p->x, req, 0, XM_SIZE);
		if (ret)
			return ret;
		req->op = XSEG_OP_READ;
		req->offset = (uint64_t)i * XM_SIZE;
		req->size = XM_SIZE;
		ret = xseg_submit(p->x, req);
		if (ret != (int)dst)
			return ret < 0 ? ret : -EIO;
		ret = xseg_signal(p->x, dst);
		if (ret)
			return ret;
		while ((ret = xseg_receive(p->x, p->port, &req)) == -EAGAIN) {
			ret = xm_wait(p, 1);
			if (ret)
				return ret;
		}
		if (ret)
			return ret;
		if (kpeer_check(p->x, req, (uint64_t)i * XM_SIZE, XM_SIZE))
			p->bad++;
		ret = xseg_put_request(p->x, req);
		if (ret)
			return ret;
	}
	return 0;
}

/* Serves n READs arriving on the peer's port (echo pattern), sleeping when idle. */
/* Serves n requests; each is answered delay_us after it was accepted. */
static int xm_serve(struct xm_peer *p, long n, unsigned int delay_us)
{
	struct xseg_request *req;
	long done = 0;
	int ret, to;

	while (done < n) {
		ret = xseg_accept(p->x, p->port, &req);
		if (ret == -EAGAIN) {
			ret = xm_wait(p, 0);
			if (ret)
				return ret;
			continue;
		}
		if (ret)
			return ret;
		{
			uint64_t off = req->offset, size = req->size, *data, i;
			__u64 len;
			void *buf;

			if (xseg_req_data(p->x, req, &buf, &len) || len < size)
				return -EIO;
			data = buf;
			for (i = 0; i < size / 8; i++)
				data[i] = kpeer_pattern(off + i * 8);
			req->serviced = size;
			req->result = 0;
		}
		if (delay_us)
			usleep(delay_us);
		to = xseg_respond(p->x, req);
		if (to < 0)
			return to;
		ret = xseg_signal(p->x, to);
		if (ret)
			return ret;
		done++;
	}
	return 0;
}

FIXTURE(km) {
	char name[64];
	struct xm_peer u;
	bool loaded;
};

/* the fixture as a plain type, for the helpers below */
typedef FIXTURE_DATA(km) xm_fixture;

FIXTURE_SETUP(km)
{
	if (geteuid())
		SKIP(return, "needs root");
	if (kpeer_load_deps())
		SKIP(return, "segdev.ko / xseg.ko not available");
	snprintf(self->name, sizeof(self->name), "sigmatrix-%d", getpid());
	ASSERT_EQ(0, xm_segment(self->name));
	/* every reply must wake a sleeping receiver */
	ASSERT_EQ(0, xseg_futex_set_spin_ns(0));
}

FIXTURE_TEARDOWN(km)
{
	if (self->loaded)
		EXPECT_EQ(0, kpeer_unload());
	xm_peer_fini(&self->u);
	xseg_destroy(&xseg_segdev_backend, self->name);
}

/* Binds the user's port 0 with a descriptor of type, then loads the kpeer with extra. */
static void xm_start(struct __test_metadata *_metadata, xm_fixture *self,
		     const char *type, const char *extra)
{
	char params[256];

	ASSERT_EQ(0, xm_peer_init(&self->u, self->name, type, KPEER_PORT_USER));
	snprintf(params, sizeof(params), "segment=%s %s", self->name, extra);
	ASSERT_EQ(0, kpeer_load("xseg_kpeer", params));
	self->loaded = true;
}

/* The checks every kernel -> user cell ends with. */
static void xm_check_k2u(struct __test_metadata *_metadata, xm_fixture *self,
			 const char *what)
{
	struct xseg_user_signal_stats us;

	ASSERT_EQ(0, xseg_user_signal_stats(&us));
	TH_LOG("%s: %lu sleeps, longest wait %.3f s, "
	       "kernel signals %lld (skipped %lld, errors %lld)",
	       what, self->u.sleeps, self->u.max_wait, kpeer_param("user_signals"),
	       kpeer_param("user_skipped"), kpeer_param("user_errors"));
	EXPECT_EQ(0, self->u.timeouts);
	EXPECT_EQ(0, self->u.bad);
	/* the receiver really slept and the kernel really woke it */
	EXPECT_LT(XM_N / 2, self->u.sleeps);
	EXPECT_LT(XM_N / 2, kpeer_param("user_signals"));
	EXPECT_EQ(0, kpeer_param("user_errors"));
	EXPECT_EQ(0, kpeer_param("faults_wq"));
	EXPECT_EQ(0, kpeer_param("faults_cb"));
}

static void xm_k2u(struct __test_metadata *_metadata, xm_fixture *self,
		   const char *type, const char *extra, __u32 dst)
{
	double t0;

	xm_start(_metadata, self, type, extra);
	t0 = kpeer_now();
	EXPECT_EQ(0, xm_pingpong(&self->u, dst, XM_N));
	TH_LOG("%d round trips %s -> port %u in %.2f s", XM_N, type, dst, kpeer_now() - t0);
	xm_check_k2u(_metadata, self, type);
}

/* user -> waitqueue (doorbell), kernel (kthread) -> futex */
TEST_F_TIMEOUT(km, kernel_to_futex_from_kthread, 600)
{
	xm_k2u(_metadata, self, XSEG_SIGNAL_FUTEX, "", KPEER_PORT_WQ);
	EXPECT_EQ(XM_N, kpeer_param("served_wq"));
}

/* user -> callback (doorbell), kernel (work item) -> futex */
TEST_F_TIMEOUT(km, kernel_to_futex_from_callback, 600)
{
	xm_k2u(_metadata, self, XSEG_SIGNAL_FUTEX, "reply_delay_us=300", KPEER_PORT_CB);
	EXPECT_EQ(XM_N, kpeer_param("served_cb"));
}

/* the kernel sends with interrupts off */
TEST_F_TIMEOUT(km, kernel_to_futex_atomic, 600)
{
	xm_k2u(_metadata, self, XSEG_SIGNAL_FUTEX, "atomic_signal=1 reply_delay_us=300",
	       KPEER_PORT_CB);
	EXPECT_EQ(XM_N, kpeer_param("served_cb"));
}

TEST_F_TIMEOUT(km, kernel_to_sigio_from_kthread, 600)
{
	xm_k2u(_metadata, self, XSEG_SIGNAL_SIGIO, "", KPEER_PORT_WQ);
	EXPECT_EQ(XM_N, kpeer_param("served_wq"));
}

TEST_F_TIMEOUT(km, kernel_to_sigio_from_callback, 600)
{
	xm_k2u(_metadata, self, XSEG_SIGNAL_SIGIO, "reply_delay_us=300", KPEER_PORT_CB);
	EXPECT_EQ(XM_N, kpeer_param("served_cb"));
}

TEST_F_TIMEOUT(km, kernel_to_sigio_atomic, 600)
{
	xm_k2u(_metadata, self, XSEG_SIGNAL_SIGIO, "atomic_signal=1", KPEER_PORT_WQ);
	EXPECT_EQ(XM_N, kpeer_param("served_wq"));
}

/* The kernel is the requester (as xsegbd): kernel -> user server, user -> waitqueue. */
static void xm_requester(struct __test_metadata *_metadata, xm_fixture *self,
			 const char *type, const char *extra)
{
	char params[128];
	double t0 = kpeer_now();

	snprintf(params, sizeof(params), "k2k=%d k2k_dst=%d %s", XM_N, KPEER_PORT_USER, extra);
	xm_start(_metadata, self, type, params);
	ASSERT_EQ(0, xm_serve(&self->u, XM_N, 0));
	while (kpeer_param("k2k_done") + kpeer_param("k2k_bad") < XM_N) {
		ASSERT_LT(kpeer_now() - t0, 300);
		usleep(10000);
	}
	TH_LOG("%d kernel requests served by a %s peer in %.2f s", XM_N, type,
	       kpeer_now() - t0);
	EXPECT_EQ(XM_N, kpeer_param("k2k_done"));
	EXPECT_EQ(0, kpeer_param("k2k_bad"));
	EXPECT_EQ(0, self->u.timeouts);
	EXPECT_LT(0, self->u.sleeps);
	EXPECT_LT(0, kpeer_param("user_signals"));
	EXPECT_EQ(0, kpeer_param("user_errors"));
}

TEST_F_TIMEOUT(km, kernel_requester_to_futex, 600)
{
	xm_requester(_metadata, self, XSEG_SIGNAL_FUTEX, "");
}

TEST_F_TIMEOUT(km, kernel_requester_to_sigio, 600)
{
	xm_requester(_metadata, self, XSEG_SIGNAL_SIGIO, "atomic_signal=1");
}

/* kernel -> waitqueue and kernel -> callback: the kpeer's kthread and its callback. */
TEST_F_TIMEOUT(km, kernel_to_waitqueue_and_callback, 600)
{
	char params[64];
	double t0 = kpeer_now();

	snprintf(params, sizeof(params), "k2k=%d", XM_N * 5);
	xm_start(_metadata, self, XSEG_SIGNAL_FUTEX, params);
	while (kpeer_param("k2k_done") + kpeer_param("k2k_bad") < XM_N * 5) {
		ASSERT_LT(kpeer_now() - t0, 300);
		usleep(10000);
	}
	EXPECT_EQ(XM_N * 5, kpeer_param("k2k_done"));
	EXPECT_EQ(0, kpeer_param("k2k_bad"));
	EXPECT_EQ(XM_N * 5, kpeer_param("served_cb"));
	/* every sleep of the kthread with a 5 s timeout ended by the kernel sender's wake */
	EXPECT_EQ(20, kpeer_param("k2k_wakes"));
	EXPECT_LT(0, kpeer_param("callbacks"));
}

/*
 * user -> user on the segdev segment: a forked server on port 3 with the same type.  It
 * answers each request XM_U2U_DELAY_US late, so that the client is asleep when the reply
 * comes and the wake path is what brings it back.
 */
static void xm_u2u(struct __test_metadata *_metadata, xm_fixture *self,
		   const char *type)
{
	double t0 = kpeer_now();
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct xm_peer s;
		int ret = xm_peer_init(&s, self->name, type, XM_USER_PORT);

		if (!ret)
			ret = xm_serve(&s, XM_N, XM_U2U_DELAY_US);
		if (!ret && s.timeouts)
			ret = -ETIMEDOUT;
		_exit(ret ? 1 : 0);
	}
	ASSERT_EQ(0, xm_peer_init(&self->u, self->name, type, KPEER_PORT_USER));
	/* the server binds its port when it is ready */
	for (;;) {
		struct xseg_port_info pi;

		ASSERT_EQ(0, xseg_get_port_info(self->u.x, XM_USER_PORT, &pi));
		if (pi.flags & XSEG_PORT_INFO_SD)
			break;
		ASSERT_LT(kpeer_now() - t0, 30);
		usleep(1000);
	}
	EXPECT_EQ(0, xm_pingpong(&self->u, XM_USER_PORT, XM_N));
	if (self->u.timeouts)
		kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	TH_LOG("%d user -> user %s round trips in %.2f s, %lu sleeps, longest %.3f s", XM_N,
	       type, kpeer_now() - t0, self->u.sleeps, self->u.max_wait);
	EXPECT_EQ(0, self->u.timeouts);
	EXPECT_EQ(0, self->u.bad);
	/*
	 * The wake path was really taken: with the late answers, most round trips sleep (a
	 * client preempted for longer than the delay before it arms its wait skips a sleep;
	 * without the delay, 680 of 2000 slept with sigio on 6.1 under TCG).
	 */
	EXPECT_LT(XM_N / 2, self->u.sleeps);
}

TEST_F_TIMEOUT(km, user_to_futex, 600)
{
	xm_u2u(_metadata, self, XSEG_SIGNAL_FUTEX);
}

TEST_F_TIMEOUT(km, user_to_sigio, 600)
{
	xm_u2u(_metadata, self, XSEG_SIGNAL_SIGIO);
}

TEST_HARNESS_MAIN
