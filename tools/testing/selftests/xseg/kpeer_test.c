// SPDX-License-Identifier: GPL-2.0
/*
 * A user process and the kernel test peer (kmod/xseg_kpeer.c) on one segdev segment:
 * 100k requests each way through every kernel signal type.
 *
 *  user -> kernel waitqueue  requests to port 1, served by a kthread woken by doorbells
 *  user -> kernel callback   requests to port 2, served in the callback run by doorbells
 *  kernel -> kernel          the kpeer's kthread sends to its callback port (kernel ->
 *                            callback) and is woken by the replies (kernel -> waitqueue)
 *
 * Replies come back to port 0, which the user polls.  Also: an unprivileged user cannot
 * attach a 0600 segment nor ring its doorbell, and cannot receive kernel signal types.
 * Needs root (loads segdev.ko, xseg.ko and xseg_kpeer.ko).
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <uapi/xseg/segdev.h>

#include "kselftest_harness.h"
#include "kpeer_util.h"

#define KPEER_N		100000
#define KPEER_QD	32
#define KPEER_SIZE	64
#define KPEER_DEADLINE	500	/* seconds for one exchange */

FIXTURE(kpeer) {
	char name[64];
	struct xseg *xseg;
};

FIXTURE_SETUP(kpeer)
{
	char params[128];

	if (geteuid())
		SKIP(return, "needs root");
	if (kpeer_load_deps())
		SKIP(return, "segdev.ko / xseg.ko not available");
	snprintf(self->name, sizeof(self->name), "kpeer-test-%d", getpid());
	ASSERT_EQ(0, kpeer_segment(self->name, &self->xseg));
	snprintf(params, sizeof(params), "segment=%s", self->name);
	ASSERT_EQ(0, kpeer_load("xseg_kpeer", params));
}

FIXTURE_TEARDOWN(kpeer)
{
	if (!self->xseg)
		return;
	EXPECT_EQ(0, kpeer_unload());
	EXPECT_EQ(0, xseg_leave(self->xseg));
	EXPECT_EQ(0, xseg_destroy(&xseg_segdev_backend, self->name));
}

/*
 * A kernel peer leaves (xseg_leave()) while the callback of one of its descriptors runs and
 * is about to use that descriptor: the leave waits for it, nothing is used after its free
 * (slub_debug would poison it, the kick would oops) and the callback never runs again.
 */
TEST(leave_while_callback_runs)
{
	struct xseg *xseg;
	char name[64], params[128];

	if (geteuid())
		SKIP(return, "needs root");
	if (kpeer_load_deps())
		SKIP(return, "segdev.ko / xseg.ko not available");
	snprintf(name, sizeof(name), "kpeer-race-%d", getpid());
	ASSERT_EQ(0, kpeer_segment(name, &xseg));
	snprintf(params, sizeof(params), "segment=%s leave_race=1", name);
	ASSERT_EQ(0, kpeer_load("xseg_kpeer", params));
	EXPECT_LE(1, kpeer_param("race_calls"));
	EXPECT_EQ(0, kpeer_param("race_late"));
	EXPECT_EQ(0, kpeer_unload());
	EXPECT_EQ(0, xseg_leave(xseg));
	EXPECT_EQ(0, xseg_destroy(&xseg_segdev_backend, name));
}

/* n READs of KPEER_SIZE bytes to dst at queue depth KPEER_QD; returns the bad replies. */
static long kpeer_exchange(struct __test_metadata *_metadata, struct xseg *xseg, uint32_t dst,
			   long n)
{
	double deadline = kpeer_now() + KPEER_DEADLINE;
	long sent = 0, done = 0, bad = 0;
	struct xseg_request *req;
	int inflight = 0;

	while (done < n) {
		bool posted = false, got = false;

		while (sent < n && inflight < KPEER_QD) {
			ASSERT_EQ(0, xseg_get_request(xseg, KPEER_PORT_USER, dst, &req));
			ASSERT_EQ(0, xseg_prep_request(xseg, req, 0, KPEER_SIZE));
			req->op = XSEG_OP_READ;
			req->offset = (uint64_t)sent * KPEER_SIZE;
			req->size = KPEER_SIZE;
			req->priv = sent;
			ASSERT_EQ((int)dst, xseg_submit(xseg, req));
			sent++;
			inflight++;
			posted = true;
		}
		if (posted)
			ASSERT_LE(0, xseg_signal(xseg, dst));
		while (xseg_receive(xseg, KPEER_PORT_USER, &req) == 0) {
			if (kpeer_check(xseg, req, req->priv * KPEER_SIZE, KPEER_SIZE))
				bad++;
			ASSERT_EQ(0, xseg_put_request(xseg, req));
			done++;
			inflight--;
			got = true;
		}
		if (!got) {
			ASSERT_LT(kpeer_now(), deadline) {
				TH_LOG("timed out: %ld of %ld replies", done, n);
			}
			sched_yield();
		}
	}
	return bad;
}

TEST_F_TIMEOUT(kpeer, user_to_waitqueue, 600)
{
	struct xseg_stats st;
	double t0 = kpeer_now();

	EXPECT_EQ(0, kpeer_exchange(_metadata, self->xseg, KPEER_PORT_WQ, KPEER_N));
	TH_LOG("%d requests in %.1f s", KPEER_N, kpeer_now() - t0);
	EXPECT_EQ(KPEER_N, kpeer_param("served_wq"));
	EXPECT_EQ(0, kpeer_param("served_cb"));
	EXPECT_EQ(0, kpeer_param("faults_wq"));
	/* the kthread slept and was woken through the doorbell at least sometimes */
	ASSERT_EQ(0, xseg_get_stats(self->xseg, &st));
	EXPECT_LT(0, st.wakes);
	EXPECT_LT(0, kpeer_param("wakeups"));
}

TEST_F_TIMEOUT(kpeer, user_to_callback, 600)
{
	struct xseg_stats st;
	double t0 = kpeer_now();

	EXPECT_EQ(0, kpeer_exchange(_metadata, self->xseg, KPEER_PORT_CB, KPEER_N));
	TH_LOG("%d requests in %.1f s", KPEER_N, kpeer_now() - t0);
	EXPECT_EQ(KPEER_N, kpeer_param("served_cb"));
	EXPECT_EQ(0, kpeer_param("served_wq"));
	EXPECT_EQ(0, kpeer_param("faults_cb"));
	ASSERT_EQ(0, xseg_get_stats(self->xseg, &st));
	EXPECT_LT(0, st.wakes);
	EXPECT_LT(0, kpeer_param("callbacks"));
}

/* Doorbells that name no kernel descriptor are ignored; the peer keeps serving. */
TEST_F(kpeer, stray_doorbells)
{
	uint32_t n[] = { 0, 3, 15, 16, 4095, 4096, 0xffffffffU };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(n); i++)
		EXPECT_EQ(0, xseg_segdev_doorbell(self->xseg, n[i]));
	EXPECT_EQ(0, kpeer_exchange(_metadata, self->xseg, KPEER_PORT_CB, 100));
	EXPECT_EQ(0, kpeer_exchange(_metadata, self->xseg, KPEER_PORT_WQ, 100));
}

TEST_F_TIMEOUT(kpeer, kernel_to_kernel, 600)
{
	double deadline = kpeer_now() + KPEER_DEADLINE, t0 = kpeer_now();
	char params[160];

	/* reload with kernel-to-kernel traffic */
	ASSERT_EQ(0, kpeer_unload());
	snprintf(params, sizeof(params), "segment=%s k2k=%d", self->name, KPEER_N);
	ASSERT_EQ(0, kpeer_load("xseg_kpeer", params));
	while (kpeer_param("k2k_done") + kpeer_param("k2k_bad") < KPEER_N) {
		ASSERT_LT(kpeer_now(), deadline) {
			TH_LOG("timed out: %lld of %d", kpeer_param("k2k_done"), KPEER_N);
		}
		usleep(100000);
	}
	TH_LOG("%d kernel-to-kernel requests in %.1f s", KPEER_N, kpeer_now() - t0);
	EXPECT_EQ(KPEER_N, kpeer_param("k2k_done"));
	EXPECT_EQ(0, kpeer_param("k2k_bad"));
	/* kernel -> callback: every request was served in the callback */
	EXPECT_EQ(KPEER_N, kpeer_param("served_cb"));
	/* kernel sender -> sleeping waitqueue receiver: every round ended by the wake */
	EXPECT_EQ(20, kpeer_param("k2k_wakes"));
	TH_LOG("kthread woken %lld times during the traffic", kpeer_param("wakeups"));
	EXPECT_EQ(0, kpeer_param("faults_wq"));
	EXPECT_EQ(0, kpeer_param("faults_cb"));
}

/* A user peer can send to the kernel types but not receive them. */
TEST_F(kpeer, user_cannot_receive_kernel_types)
{
	EXPECT_EQ(-EOPNOTSUPP, xseg_local_signal_init(self->xseg, XSEG_SIGNAL_WAITQUEUE));
	EXPECT_EQ(-EOPNOTSUPP, xseg_local_signal_init(self->xseg, XSEG_SIGNAL_CALLBACK));
}

/* Runs in a child dropped to nobody: 0 when every refusal happened. */
static int kpeer_as_nobody(const char *name)
{
	struct segdev_doorbell d = { .size = sizeof(d), .port = 0 };
	struct segdev_attach a = { .size = sizeof(a) };
	struct xseg *xseg;
	int fd;

	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return 10;
	if (xseg_join(&xseg_segdev_backend, name, &xseg) != -EACCES)
		return 11;
	fd = open(SEGDEV_DEVICE_PATH, O_RDWR);
	if (fd < 0)
		return 12;
	snprintf(a.name, sizeof(a.name), "%s", name);
	if (ioctl(fd, SEGDEV_IOC_ATTACH, &a) != -1 || errno != EACCES)
		return 13;
	/* no attachment, no doorbell */
	if (ioctl(fd, SEGDEV_IOC_DOORBELL, &d) != -1 || errno != ENOTCONN)
		return 14;
	if (xseg_destroy(&xseg_segdev_backend, name) != -EPERM)
		return 15;
	close(fd);
	return 0;
}

TEST_F(kpeer, nobody_cannot_attach_or_ring)
{
	long long rings = kpeer_param("callbacks");
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(kpeer_as_nobody(self->name));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* and the kernel peer saw nothing of it */
	EXPECT_EQ(rings, kpeer_param("callbacks"));
	EXPECT_EQ(0, kpeer_exchange(_metadata, self->xseg, KPEER_PORT_WQ, 100));
}

/*
 * "kpeer_test ctl create|destroy NAME": a kpeer segment for the shell tests
 * (kpeer_cycles.sh); otherwise the tests above.
 */
int main(int argc, char **argv)
{
	struct xseg *xseg;

	if (argc == 4 && !strcmp(argv[1], "ctl") && !strcmp(argv[2], "create")) {
		if (kpeer_load_deps() || kpeer_segment(argv[3], &xseg))
			return 1;
		/* the segment stays; port 0 is released with the handle */
		return xseg_leave(xseg) ? 1 : 0;
	}
	if (argc == 4 && !strcmp(argv[1], "ctl") && !strcmp(argv[2], "destroy"))
		return xseg_destroy(&xseg_segdev_backend, argv[3]) ? 1 : 0;
	return test_harness_run(argc, argv);
}
