// SPDX-License-Identifier: GPL-2.0
/*
 * xseg-memd, the RAM-backed storage peer, on a POSIX segment: the block protocol (INFO,
 * random I/O verified byte for byte, FLUSH/FUA, DISCARD/WRITE_ZEROES, invalid requests),
 * --null, shutdown on SIGTERM, restart after SIGKILL on the same port, a second peer on a
 * live peer's port, the command line, and a throughput figure at QD 1 and 32.
 *
 * Runs build/<variant>/bin/xseg-memd, else build/user/bin/xseg-memd ($XSEG_BIN overrides the
 * directory); skips when it is not built.
 */
#include "unit_common.h"
#include "kselftest_harness.h"
#include "unit_peer.h"

#define MEMD_SIZE	(16ULL << 20)
#define MEMD_SIZE_ARG	"16M"
#define TGT		"vol0"

FIXTURE(memd) {
	struct pc pc;
	__u8 *shadow;
};

FIXTURE_SETUP(memd)
{
	memset(&self->pc, 0, sizeof(self->pc));
	self->pc.pid = -1;
	if (pc_find(&self->pc, "xseg-memd"))
		SKIP(return, "xseg-memd is not built (make user)");
	ASSERT_EQ(0, pc_init(&self->pc, "memd", XSEG_SIGNAL_POLL));
	self->shadow = calloc(1, MEMD_SIZE);
	ASSERT_NE(NULL, self->shadow);
}

FIXTURE_TEARDOWN(memd)
{
	pc_fini(&self->pc);
	free(self->shadow);
}

static void memd_start(struct __test_metadata *_metadata, struct pc *pc, const char *extra)
{
	const char *const args[] = { "--size", MEMD_SIZE_ARG, extra, NULL };
	pid_t pid = pc_spawn(pc, args);

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, pc_wait_bound(pc, pid, PC_PEER_PORT, 10000))
		TH_LOG("peer did not bind: %s", pc_read_log(pc));
}

TEST_F(memd, info)
{
	struct xseg_reply_info info;

	memd_start(_metadata, &self->pc, NULL);
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, pc_info(&self->pc, TGT, &info));
	EXPECT_EQ(MEMD_SIZE, info.size);
	EXPECT_EQ(512, info.block_size);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000));
}

TEST_F(memd, random_rw_qd32)
{
	memd_start(_metadata, &self->pc, NULL);
	EXPECT_EQ(0, pc_random_rw(&self->pc, TGT, self->shadow, MEMD_SIZE, 3000, 32, 0x1234));
	/* another target is another volume: zeroes, not vol0's data */
	{
		__u8 buf[4096], zero[4096] = { 0 };

		EXPECT_EQ(0, pc_read(&self->pc, "vol1", 0, buf, sizeof(buf)));
		EXPECT_EQ(0, memcmp(buf, zero, sizeof(buf)));
	}
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000));
}

TEST_F(memd, flush_fua)
{
	__u8 w[8192], r[8192];
	__u64 seed = 7;

	memd_start(_metadata, &self->pc, NULL);
	pc_fill(w, sizeof(w), &seed);
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_FLUSH, 0, TGT, 0, 0));
	EXPECT_EQ(0, pc_write(&self->pc, TGT, 4096, w, sizeof(w), XSEG_RF_FUA));
	EXPECT_EQ(0, pc_write(&self->pc, TGT, 65536, w, sizeof(w), XSEG_RF_FLUSH));
	EXPECT_EQ(0, pc_write(&self->pc, TGT, 131072, w, sizeof(w), XSEG_RF_FLUSH | XSEG_RF_FUA));
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_FLUSH, XSEG_RF_FLUSH, TGT, 0, 0));
	EXPECT_EQ(0, pc_read(&self->pc, TGT, 4096, r, sizeof(r)));
	EXPECT_EQ(0, memcmp(w, r, sizeof(r)));
	EXPECT_EQ(0, pc_read(&self->pc, TGT, 131072, r, sizeof(r)));
	EXPECT_EQ(0, memcmp(w, r, sizeof(r)));
}

TEST_F(memd, discard_write_zeroes)
{
	static __u8 w[65536 * 2], r[65536 * 2];
	__u64 seed = 99;

	memd_start(_metadata, &self->pc, NULL);
	pc_fill(w, sizeof(w), &seed);
	ASSERT_EQ(0, pc_write(&self->pc, TGT, 0, w, sizeof(w), 0));
	/* not page aligned at either end */
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_DISCARD, 0, TGT, 4608, 20480));
	memset(w + 4608, 0, 20480);
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_WRITE_ZEROES, 0, TGT, 40960 + 512, 3 * 4096));
	memset(w + 40960 + 512, 0, 3 * 4096);
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_WRITE_ZEROES, XSEG_RF_FUA, TGT, 81920, 1024));
	memset(w + 81920, 0, 1024);
	ASSERT_EQ(0, pc_read(&self->pc, TGT, 0, r, sizeof(r)));
	EXPECT_EQ(0, memcmp(w, r, sizeof(r)));
}

TEST_F(memd, bad_requests)
{
	__u8 w[4096], r[4096];
	__u64 seed = 5;
	int got = 0, idx;

	memd_start(_metadata, &self->pc, NULL);
	idx = pc_bad_requests(&self->pc, TGT, MEMD_SIZE, &got);
	EXPECT_EQ(-1, idx) TH_LOG("bad request %d answered %d", idx, got);
	/* and the peer still serves */
	pc_fill(w, sizeof(w), &seed);
	EXPECT_EQ(0, pc_write(&self->pc, TGT, MEMD_SIZE - 4096, w, sizeof(w), 0));
	EXPECT_EQ(0, pc_read(&self->pc, TGT, MEMD_SIZE - 4096, r, sizeof(r)));
	EXPECT_EQ(0, memcmp(w, r, sizeof(r)));
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000));
	pc_read_log(&self->pc);
	EXPECT_NE(NULL, strstr(self->pc.log, "invalid")) TH_LOG("log: %s", self->pc.log);
}

TEST_F(memd, null_touches_no_data)
{
	struct pc_io rd = { XSEG_OP_READ, 0, 0, 4096, 4096, TGT, ~0U, 0 };
	__u8 w[4096], r[4096], marker[4096];
	__u64 serviced = 0;
	int result = 1;

	memd_start(_metadata, &self->pc, "--null");
	memset(w, 0x5a, sizeof(w));
	memset(marker, 0xa5, sizeof(marker));
	EXPECT_EQ(0, pc_write(&self->pc, TGT, 0, w, sizeof(w), 0));
	/* the read buffer holds the marker before the request; --null must leave it */
	ASSERT_EQ(0, pc_do(&self->pc, &rd, marker, r, &result, &serviced));
	EXPECT_EQ(0, result);
	EXPECT_EQ(4096, serviced);
	EXPECT_EQ(0, memcmp(r, marker, sizeof(r)));
	/* still validated */
	EXPECT_EQ(-EINVAL, pc_simple(&self->pc, XSEG_OP_READ, 0, TGT, MEMD_SIZE, 512));
}

TEST_F(memd, data_touched_without_null)
{
	struct pc_io rd = { XSEG_OP_READ, 0, 0, 4096, 4096, TGT, ~0U, 0 };
	__u8 r[4096], marker[4096], zero[4096] = { 0 };
	int result = 1;

	/* the control of null_touches_no_data: a real read overwrites the buffer */
	memd_start(_metadata, &self->pc, NULL);
	memset(marker, 0xa5, sizeof(marker));
	ASSERT_EQ(0, pc_do(&self->pc, &rd, marker, r, &result, NULL));
	EXPECT_EQ(0, result);
	EXPECT_EQ(0, memcmp(r, zero, sizeof(r)));
}

TEST_F(memd, sigterm_answers_in_flight)
{
	struct xseg_request *req;
	unsigned int i, ok = 0, n = 400;
	__u64 t0;

	memd_start(_metadata, &self->pc, NULL);
	ASSERT_EQ(0, pc_submit_writes(&self->pc, TGT, 0, n));
	t0 = pc_now_ns();
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000)) TH_LOG("%s", pc_read_log(&self->pc));
	EXPECT_GT(3000000000ULL, pc_now_ns() - t0);
	for (i = 0; i < n; i++) {
		if (pc_receive(&self->pc, &req, 2000))
			break;
		if (!req->result && req->serviced == 4096)
			ok++;
		xseg_put_request(self->pc.x, req);
	}
	EXPECT_EQ(n, ok);
	/* the port was left */
	{
		struct xseg_port_info info;

		ASSERT_EQ(0, xseg_get_port_info(self->pc.x, PC_PEER_PORT, &info));
		EXPECT_EQ(0, info.owner);
	}
}

TEST_F(memd, sigkill_restart_same_port)
{
	const char *const args[] = { "--size", MEMD_SIZE_ARG, NULL };

	/* memory dies with the peer: only what the new peer wrote can be read back */
	pc_restart_test(_metadata, &self->pc, TGT, args, false);
}

TEST_F(memd, dead_peer_held_requests)
{
	pc_dead_holder_test(_metadata, &self->pc, TGT,
			    (const char *const[]){ "--size", MEMD_SIZE_ARG, NULL });
}

TEST_F(memd, live_port_refused)
{
	struct pc other = self->pc;
	pid_t first;
	int st;

	memd_start(_metadata, &self->pc, NULL);
	first = self->pc.pid;
	snprintf(other.logpath, sizeof(other.logpath), "/tmp/%s.2.log", self->pc.seg);
	unlink(other.logpath);
	other.pid = pc_spawn(&other, (const char *const[]){ "--size", "1M", NULL });
	ASSERT_LT(0, other.pid);
	ASSERT_EQ(other.pid, waitpid(other.pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(1, WEXITSTATUS(st));
	pc_read_log(&other);
	unlink(other.logpath);
	EXPECT_NE(NULL, strstr(other.log, "port 3 is in use by live peer")) TH_LOG("%s", other.log);
	/* the first one still owns and serves the port */
	EXPECT_EQ(0, pc_wait_bound(&self->pc, first, PC_PEER_PORT, 1000));
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_FLUSH, 0, TGT, 0, 0));
}

TEST_F(memd, command_line)
{
	struct pc *pc = &self->pc;

	EXPECT_EQ(0, PC_RUN(pc, "--help"));
	EXPECT_NE(NULL, strstr(pc->log, "usage: xseg-memd"));
	EXPECT_NE(NULL, strstr(pc->log, "--null"));
	EXPECT_EQ(0, PC_RUN(pc, "--version"));
	EXPECT_EQ(2, PC_RUN(pc, "--bogus"));
	EXPECT_NE(NULL, strstr(pc->log, "usage:"));
	EXPECT_EQ(2, PC_RUN(pc, "--segment", "x", "--port", "1"));
	EXPECT_NE(NULL, strstr(pc->log, "--size is required"));
	EXPECT_EQ(2, PC_RUN(pc, "--segment", "x", "--port", "1", "--size", "1000"));
	EXPECT_EQ(2, PC_RUN(pc, "--segment", "x", "--port", "z", "--size", "1M"));
	EXPECT_EQ(2, PC_RUN(pc, "--segment", "x", "--port", "1",
			    "--size", "1M", "--signal", "smoke"));
	EXPECT_EQ(2, PC_RUN(pc, "--segment", "x", "--port", "1", "--size", "1M", "--type", "nfs"));
	EXPECT_EQ(2, PC_RUN(pc, "--segment", "x", "--port", "1", "--size", "1M", "--threads", "2"));
	EXPECT_EQ(2, PC_RUN(pc, "--segment", "x", "--port", "1", "--size", "1M", "extra"));
	EXPECT_EQ(1, PC_RUN(pc, "--type", pc_type(), "--segment", "xseg-unit-no-such-seg",
			    "--port", "1", "--size", "1M"));
	EXPECT_NE(NULL, strstr(pc->log, "no such segment")) TH_LOG("%s", pc->log);
	EXPECT_EQ(1, PC_RUN(pc, "--type", pc_type(), "--segment",
			    pc->seg, "--port", "100", "--size", "1M"));
	EXPECT_NE(NULL, strstr(pc->log, "no port 100")) TH_LOG("%s", pc->log);
}

/* Two ports, two threads, each port's requests answered. */
TEST_F(memd, two_ports_two_threads)
{
	struct pc *pc = &self->pc;
	const char *const args[] = { "--type", pc_type(), "--segment", pc->seg, "--port", "3-4",
				     "--size", "1M", "--threads", "2", NULL };
	const char *argv[16];
	struct xseg_request *req;
	unsigned int i, j;
	pid_t pid;

	argv[0] = pc->bin;
	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		execv(pc->bin, (char *const *)argv);
		_exit(127);
	}
	pc->pid = pid;
	ASSERT_EQ(0, pc_wait_bound(pc, pid, 3, 10000));
	ASSERT_EQ(0, pc_wait_bound(pc, pid, 4, 10000));
	for (j = 3; j <= 4; j++) {
		for (i = 0; i < 50; i++) {
			struct xseg_request *r;
			int to;

			ASSERT_EQ(0, xseg_get_request(pc->x, PC_CLIENT_PORT, j, &r));
			ASSERT_EQ(0, xseg_prep_request(pc->x, r, 3, 0));
			{
				char *t;
				__u32 l;

				xseg_req_target(pc->x, r, &t, &l);
				memcpy(t, TGT, 3);
			}
			r->op = XSEG_OP_FLUSH;
			to = xseg_submit(pc->x, r);
			ASSERT_EQ(j, to);
			xseg_signal(pc->x, to);
		}
	}
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, pc_receive(pc, &req, 10000));
		EXPECT_EQ(0, req->result);
		xseg_put_request(pc->x, req);
	}
	EXPECT_EQ(0, pc_stop(pc, SIGINT, 5000));
}

/* Requests per second through xseg-memd --null, 4 KiB reads, futex signals both ways. */
static double bench(struct __test_metadata *_metadata, struct pc *pc, unsigned int qd,
		    unsigned int n)
{
	struct pc_io io = { XSEG_OP_READ, 0, 0, 4096, 4096, TGT, ~0U, 0 };
	unsigned int sent = 0, done = 0;
	struct xseg_request *req;
	__u64 t0 = pc_now_ns();

	while (done < n) {
		while (sent - done < qd && sent < n) {
			io.offset = (__u64)(sent % 256) * 4096;
			if (pc_submit(pc, &io, NULL, &req))
				return 0;
			sent++;
		}
		if (pc_receive(pc, &req, 10000))
			return 0;
		if (req->result)
			return 0;
		xseg_put_request(pc->x, req);
		done++;
	}
	return 1e9 * n / (double)(pc_now_ns() - t0);
}

TEST(memd_null_throughput)
{
	static const char *const bench_args[] = { "--size", "1G", "--null", "--signal", "futex",
						  NULL };
	struct pc pc;
	double qd1, qd32;
	pid_t pid;

	memset(&pc, 0, sizeof(pc));
	pc.pid = -1;
	if (pc_find(&pc, "xseg-memd"))
		SKIP(return, "xseg-memd is not built (make user)");
	if (strcmp(pc_type(), "posix"))
		SKIP(return, "a native figure: posix segments only");
	ASSERT_EQ(0, pc_init(&pc, "bench", XSEG_SIGNAL_FUTEX));
	pid = pc_spawn(&pc, bench_args);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, pc_wait_bound(&pc, pid, PC_PEER_PORT, 10000));
	bench(_metadata, &pc, 1, 2000);	/* warm up */
	qd1 = bench(_metadata, &pc, 1, 20000);
	qd32 = bench(_metadata, &pc, 32, 100000);
	EXPECT_LT(0, qd1);
	EXPECT_LT(0, qd32);
	ksft_print_msg("xseg-memd --null, 4 KiB reads, futex: QD1 %.0f req/s, QD32 %.0f req/s\n",
		       qd1, qd32);
	EXPECT_EQ(0, pc_stop(&pc, SIGTERM, 5000));
	pc_read_log(&pc);
	ksft_print_msg("%s", pc.log);
	pc_fini(&pc);
}

TEST_HARNESS_MAIN
