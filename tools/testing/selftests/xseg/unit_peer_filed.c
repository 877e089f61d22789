// SPDX-License-Identifier: GPL-2.0
/*
 * xseg-filed, the file-backed storage peer (io_uring), on a POSIX segment: INFO of created
 * and existing files, random I/O verified through the peer and in the backing file, FLUSH
 * and FUA, DISCARD/WRITE_ZEROES, unknown targets, invalid requests, O_DIRECT, shutdown on
 * SIGTERM, restart after SIGKILL (the data survives), a second peer on a live port, the
 * command line.
 *
 * Runs build/<variant>/bin/xseg-filed, else build/user/bin/xseg-filed ($XSEG_BIN overrides
 * the directory); skips when it is not built.  Files go to a fresh directory under
 * $TMPDIR (default /tmp).
 */
#include "unit_common.h"
#include "kselftest_harness.h"
#include "unit_peer.h"

#include <dirent.h>

#define FILED_SIZE	(16ULL << 20)
#define FILED_SIZE_ARG	"16M"
#define TGT		"vol0"

FIXTURE(filed) {
	struct pc pc;
	char dir[256];
	__u8 *shadow;
};

FIXTURE_SETUP(filed)
{
	const char *tmp = getenv("TMPDIR");

	memset(&self->pc, 0, sizeof(self->pc));
	self->pc.pid = -1;
	if (pc_find(&self->pc, "xseg-filed"))
		SKIP(return, "xseg-filed is not built (make user)");
	snprintf(self->dir, sizeof(self->dir), "%s/xseg-filed-XXXXXX", tmp ? tmp : "/tmp");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, pc_init(&self->pc, "filed", XSEG_SIGNAL_POLL));
	self->shadow = calloc(1, FILED_SIZE);
	ASSERT_NE(NULL, self->shadow);
}

FIXTURE_TEARDOWN(filed)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;

	pc_fini(&self->pc);
	free(self->shadow);
	d = opendir(self->dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", self->dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(self->dir);
}

/* Starts xseg-filed --dir DIR with up to three more arguments. */
static void filed_start(struct __test_metadata *_metadata, struct pc *pc, const char *dir,
			const char *a1, const char *a2, const char *a3)
{
	const char *const args[] = { "--dir", dir, a1, a2, a3, NULL };
	pid_t pid = pc_spawn(pc, args);

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, pc_wait_bound(pc, pid, PC_PEER_PORT, 10000))
		TH_LOG("peer did not bind: %s", pc_read_log(pc));
}

static int file_pread(const char *dir, const char *name, void *buf, __u64 len, __u64 off)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static __u64 file_size(const char *dir, const char *name, __u64 *allocated)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st))
		return 0;
	if (allocated)
		*allocated = (__u64)st.st_blocks * 512;
	return st.st_size;
}

TEST_F(filed, info_created_sparse)
{
	struct xseg_reply_info info;
	__u64 alloc = ~0ULL;

	filed_start(_metadata, &self->pc, self->dir, "--size", FILED_SIZE_ARG, NULL);
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, pc_info(&self->pc, TGT, &info));
	EXPECT_EQ(FILED_SIZE, info.size);
	EXPECT_EQ(512, info.block_size);
	EXPECT_EQ(FILED_SIZE, file_size(self->dir, TGT, &alloc));
	EXPECT_GT(FILED_SIZE / 2, alloc);	/* sparse */
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000));
}

TEST_F(filed, existing_file_and_unknown_target)
{
	struct xseg_reply_info info;
	char path[PATH_MAX];
	__u8 buf[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/disk", self->dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 3 << 20));
	close(fd);
	/* without --size a target must exist */
	filed_start(_metadata, &self->pc, self->dir, NULL, NULL, NULL);
	ASSERT_EQ(0, pc_info(&self->pc, "disk", &info));
	EXPECT_EQ(3 << 20, info.size);
	EXPECT_EQ(-ENOENT, pc_info(&self->pc, "nothere", &info));
	EXPECT_EQ(-ENOENT, pc_read(&self->pc, "nothere", 0, buf, sizeof(buf)));
	EXPECT_EQ(0, file_size(self->dir, "nothere", NULL));
	EXPECT_EQ(-EINVAL, pc_read(&self->pc, "disk", 3 << 20, buf, sizeof(buf)));
	EXPECT_EQ(0, pc_read(&self->pc, "disk", (3 << 20) - 4096, buf, sizeof(buf)));
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000));
}

TEST_F(filed, random_rw_qd32)
{
	filed_start(_metadata, &self->pc, self->dir, "--size", FILED_SIZE_ARG, NULL);
	EXPECT_EQ(0, pc_random_rw(&self->pc, TGT, self->shadow, FILED_SIZE, 3000, 32, 0x4321));
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000)) TH_LOG("%s", pc_read_log(&self->pc));
	/* the file holds what the peer said it wrote */
	{
		__u8 *f = malloc(FILED_SIZE);

		ASSERT_NE(NULL, f);
		EXPECT_EQ(0, file_pread(self->dir, TGT, f, FILED_SIZE, 0));
		EXPECT_EQ(0, memcmp(f, self->shadow, FILED_SIZE));
		free(f);
	}
	/* which buffers io_uring got: registered over the segment heap, or plain */
	{
		const char *s = strstr(pc_read_log(&self->pc), "target(s), ");

		TH_LOG("%s segment: %.60s", pc_type(), s ? s + 11 : "?");
	}
}

TEST_F(filed, direct_io)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/probe", self->dir);
	fd = open(path, O_CREAT | O_RDWR | O_DIRECT, 0600);
	if (fd < 0)
		SKIP(return, "no O_DIRECT in the test directory");
	close(fd);
	filed_start(_metadata, &self->pc, self->dir, "--size", FILED_SIZE_ARG, "--direct");
	EXPECT_EQ(0, pc_random_rw(&self->pc, TGT, self->shadow, FILED_SIZE, 1000, 32, 0x77));
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000));
	pc_read_log(&self->pc);
	EXPECT_NE(NULL, strstr(self->pc.log, "O_DIRECT")) TH_LOG("%s", self->pc.log);
}

TEST_F(filed, flush_fua_reach_the_file)
{
	__u8 w[8192], f[8192];
	__u64 seed = 11;

	filed_start(_metadata, &self->pc, self->dir, "--size", FILED_SIZE_ARG, NULL);
	pc_fill(w, sizeof(w), &seed);
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_FLUSH, 0, TGT, 0, 0));
	EXPECT_EQ(0, pc_write(&self->pc, TGT, 8192, w, sizeof(w), XSEG_RF_FUA));
	EXPECT_EQ(0, file_pread(self->dir, TGT, f, sizeof(f), 8192));
	EXPECT_EQ(0, memcmp(w, f, sizeof(f)));
	pc_fill(w, sizeof(w), &seed);
	EXPECT_EQ(0, pc_write(&self->pc, TGT, 65536, w, sizeof(w), 0));
	EXPECT_EQ(0, pc_write(&self->pc, "vol1", 0, w, sizeof(w), 0));
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_FLUSH, 0, TGT, 0, 0));
	EXPECT_EQ(0, file_pread(self->dir, TGT, f, sizeof(f), 65536));
	EXPECT_EQ(0, memcmp(w, f, sizeof(f)));
	EXPECT_EQ(0, file_pread(self->dir, "vol1", f, sizeof(f), 0));
	EXPECT_EQ(0, memcmp(w, f, sizeof(f)));
	EXPECT_EQ(0, pc_write(&self->pc, TGT, 0, w, sizeof(w), XSEG_RF_FLUSH | XSEG_RF_FUA));
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_WRITE_ZEROES, XSEG_RF_FUA | XSEG_RF_FLUSH, TGT,
			       0, 4096));
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000));
	pc_read_log(&self->pc);
	/*
	 * fdatasyncs: the second FLUSH syncs the two files written since the first (which had
	 * nothing to sync), the FUA write carries RWF_DSYNC, the FUA write-zeroes syncs once:
	 * 3, not one per write.
	 */
	EXPECT_NE(NULL, strstr(self->pc.log, " 3 fdatasyncs")) TH_LOG("%s", self->pc.log);
}

TEST_F(filed, discard_write_zeroes)
{
	static __u8 w[65536 * 2], r[65536 * 2];
	__u64 seed = 98, alloc0 = 0, alloc1 = 0;

	filed_start(_metadata, &self->pc, self->dir, "--size", FILED_SIZE_ARG, NULL);
	pc_fill(w, sizeof(w), &seed);
	ASSERT_EQ(0, pc_write(&self->pc, TGT, 0, w, sizeof(w), 0));
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_FLUSH, 0, TGT, 0, 0));
	file_size(self->dir, TGT, &alloc0);
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_DISCARD, 0, TGT, 4608, 20480));
	memset(w + 4608, 0, 20480);
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_DISCARD, 0, TGT, 65536, 65536));
	memset(w + 65536, 0, 65536);
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_WRITE_ZEROES, 0, TGT, 40960 + 512, 3 * 4096));
	memset(w + 40960 + 512, 0, 3 * 4096);
	ASSERT_EQ(0, pc_read(&self->pc, TGT, 0, r, sizeof(r)));
	EXPECT_EQ(0, memcmp(w, r, sizeof(r)));
	EXPECT_EQ(0, file_pread(self->dir, TGT, r, sizeof(r), 0));
	EXPECT_EQ(0, memcmp(w, r, sizeof(r)));
	file_size(self->dir, TGT, &alloc1);
	/* the whole 64 KiB discard punched a hole */
	EXPECT_GT(alloc0, alloc1) TH_LOG("allocated %llu -> %llu", alloc0, alloc1);
	EXPECT_EQ(FILED_SIZE, file_size(self->dir, TGT, NULL));
}

TEST_F(filed, bad_requests)
{
	__u8 w[4096], r[4096];
	__u64 seed = 3;
	int got = 0, idx;

	filed_start(_metadata, &self->pc, self->dir, "--size", FILED_SIZE_ARG, NULL);
	idx = pc_bad_requests(&self->pc, TGT, FILED_SIZE, &got);
	EXPECT_EQ(-1, idx) TH_LOG("bad request %d answered %d", idx, got);
	/* no file was made for a refused name */
	EXPECT_EQ(0, file_size(self->dir, "..", NULL) == FILED_SIZE);
	EXPECT_EQ(0, file_size("/tmp", "x", NULL) == FILED_SIZE);
	pc_fill(w, sizeof(w), &seed);
	EXPECT_EQ(0, pc_write(&self->pc, TGT, FILED_SIZE - 4096, w, sizeof(w), 0));
	EXPECT_EQ(0, pc_read(&self->pc, TGT, FILED_SIZE - 4096, r, sizeof(r)));
	EXPECT_EQ(0, memcmp(w, r, sizeof(r)));
	EXPECT_EQ(0, pc_stop(&self->pc, SIGTERM, 5000));
}

TEST_F(filed, sigterm_answers_in_flight)
{
	struct xseg_request *req;
	unsigned int i, ok = 0, n = 400;
	__u64 t0;

	filed_start(_metadata, &self->pc, self->dir, "--size", FILED_SIZE_ARG, NULL);
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
	/* everything answered is in the file (written back at exit) */
	{
		__u8 buf[4096], f[4096];

		for (i = 0; i < n; i++) {
			__u64 seed = i + 1;

			pc_fill(buf, sizeof(buf), &seed);
			ASSERT_EQ(0, file_pread(self->dir, TGT, f, sizeof(f), (__u64)i * 4096));
			ASSERT_EQ(0, memcmp(buf, f, sizeof(f))) TH_LOG("block %u", i);
		}
	}
}

TEST_F(filed, sigkill_restart_same_port)
{
	const char *const args[] = { "--dir", self->dir, "--size", FILED_SIZE_ARG, NULL };

	pc_restart_test(_metadata, &self->pc, TGT, args, true);
}

TEST_F(filed, dead_peer_held_requests)
{
	const char *const args[] = { "--dir", self->dir, "--size", FILED_SIZE_ARG, NULL };

	pc_dead_holder_test(_metadata, &self->pc, TGT, args);
}

TEST_F(filed, live_port_refused)
{
	struct pc other = self->pc;
	int st;

	filed_start(_metadata, &self->pc, self->dir, "--size", FILED_SIZE_ARG, NULL);
	snprintf(other.logpath, sizeof(other.logpath), "/tmp/%s.2.log", self->pc.seg);
	unlink(other.logpath);
	other.pid = pc_spawn(&other, (const char *const[]){ "--dir", self->dir, NULL });
	ASSERT_LT(0, other.pid);
	ASSERT_EQ(other.pid, waitpid(other.pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(1, WEXITSTATUS(st));
	pc_read_log(&other);
	unlink(other.logpath);
	EXPECT_NE(NULL, strstr(other.log, "port 3 is in use by live peer")) TH_LOG("%s", other.log);
	EXPECT_EQ(0, pc_simple(&self->pc, XSEG_OP_FLUSH, 0, TGT, 0, 0));
}

TEST_F(filed, command_line)
{
	struct pc *pc = &self->pc;

	EXPECT_EQ(0, PC_RUN(pc, "--help"));
	EXPECT_NE(NULL, strstr(pc->log, "usage: xseg-filed"));
	EXPECT_NE(NULL, strstr(pc->log, "--direct"));
	EXPECT_EQ(2, PC_RUN(pc, "-x"));
	EXPECT_NE(NULL, strstr(pc->log, "usage:"));
	EXPECT_EQ(2, PC_RUN(pc, "--segment", "x", "--port", "1"));
	EXPECT_NE(NULL, strstr(pc->log, "--dir is required"));
	EXPECT_EQ(2, PC_RUN(pc, "--segment", "x", "--port", "1",
			    "--dir", self->dir, "--size", "12x"));
	EXPECT_EQ(1, PC_RUN(pc, "--type", pc_type(), "--segment", pc->seg, "--port", "5", "--dir",
			    "/nonexistent/dir"));
	EXPECT_NE(NULL, strstr(pc->log, "/nonexistent/dir")) TH_LOG("%s", pc->log);
}

TEST_HARNESS_MAIN
