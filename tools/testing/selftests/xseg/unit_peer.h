/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A block client for the storage peer tests (unit_peer_*.c): creates a POSIX segment, starts
 * a peer program (build/user/bin/xseg-memd, xseg-filed) as a child process and talks the
 * block protocol (<uapi/xseg/blk.h>) to it from port PC_CLIENT_PORT.
 *
 * Include after kselftest_harness.h; functions taking _metadata use the harness asserts.
 *
 * $XSEG_PEER_SEGTYPE=segdev runs the same tests on a segdev segment (peers_segdev.sh, in the
 * VM); the default is posix.
 */
#ifndef _XSEG_UNIT_PEER_H
#define _XSEG_UNIT_PEER_H

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <uapi/xseg/blk.h>
#include <xseg/inspect.h>
#include <xseg/segdev_user.h>
#include <xseg/signal_user.h>

#define PC_CLIENT_PORT	0
#define PC_PEER_PORT	3
#define PC_MAX_ARGS	24
#define PC_LOG_MAX	8192

struct pc {
	char seg[64];
	char bin[PATH_MAX];
	char logpath[PATH_MAX];
	char log[PC_LOG_MAX];
	struct xseg *x;
	struct xseg_sd *sd;
	const char *sigtype;
	pid_t pid;
	int status;		/* exit status of the last peer, 128 + signal if killed */
	unsigned long replies;
};

/* The segment type under test: "posix" (default) or "segdev" ($XSEG_PEER_SEGTYPE). */
static inline const char *pc_type(void)
{
	const char *t = getenv("XSEG_PEER_SEGTYPE");

	return t && !strcmp(t, "segdev") ? "segdev" : "posix";
}

static inline const struct xseg_backend_ops *pc_backend(void)
{
	return strcmp(pc_type(), "segdev") ? &xseg_posix_backend : &xseg_segdev_backend;
}

static inline __u64 pc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Finds build/<variant>/bin/NAME next to this test's build tree ($XSEG_BIN overrides). */
static inline int pc_find(struct pc *pc, const char *name)
{
	static const char *const rel[] = { "/../../bin/", "/../../../user/bin/" };
	const char *env = getenv("XSEG_BIN");
	char exe[PATH_MAX - 64], *slash;
	ssize_t n;
	size_t i;

	if (env) {
		snprintf(pc->bin, sizeof(pc->bin), "%s/%s", env, name);
		return access(pc->bin, X_OK);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (i = 0; i < XSEG_ARRAY_SIZE(rel); i++) {
		snprintf(pc->bin, sizeof(pc->bin), "%s%s%s", exe, rel[i], name);
		if (!access(pc->bin, X_OK))
			return 0;
	}
	return -1;
}

/* Creates the segment and binds the client port with signal type sigtype. */
static inline int pc_init(struct pc *pc, const char *what, const char *sigtype)
{
	struct xseg_config cfg;
	int ret;

	snprintf(pc->seg, sizeof(pc->seg), "xseg-unit-peer-%s-%d", what, (int)getpid());
	snprintf(pc->logpath, sizeof(pc->logpath), "/tmp/%s.log", pc->seg);
	pc->sigtype = sigtype;
	pc->pid = -1;
	xseg_config_default(&cfg);
	cfg.nr_ports = 8;
	cfg.nr_requests = 512;
	cfg.nr_sds = 8;
	cfg.heap_size = 32ULL << 20;
	xseg_destroy(pc_backend(), pc->seg);
	ret = xseg_create(pc_backend(), pc->seg, &cfg, &pc->x);
	if (ret)
		return ret;
	ret = xseg_local_signal_init(pc->x, sigtype);
	if (!ret)
		ret = xseg_get_signal_desc(pc->x, sigtype, &pc->sd);
	if (!ret)
		ret = xseg_bind_port(pc->x, PC_CLIENT_PORT, pc->sd);
	return ret < 0 ? ret : 0;
}

/* Reads the peer's output (stdout + stderr) into pc->log. */
static inline const char *pc_read_log(struct pc *pc)
{
	int fd = open(pc->logpath, O_RDONLY);
	ssize_t n = 0;

	pc->log[0] = '\0';
	if (fd < 0)
		return pc->log;
	n = read(fd, pc->log, sizeof(pc->log) - 1);
	pc->log[n > 0 ? n : 0] = '\0';
	close(fd);
	return pc->log;
}

/* Starts the peer with its program's args (NULL terminated); the common ones are added. */
static inline pid_t pc_spawn(struct pc *pc, const char *const *args)
{
	const char *argv[PC_MAX_ARGS + 12];
	char port[16];
	int i = 0, j, fd;
	pid_t pid;

	snprintf(port, sizeof(port), "%d", PC_PEER_PORT);
	argv[i++] = pc->bin;
	argv[i++] = "--type";
	argv[i++] = pc_type();
	argv[i++] = "--segment";
	argv[i++] = pc->seg;
	argv[i++] = "--port";
	argv[i++] = port;
	argv[i++] = "-v";
	for (j = 0; args && args[j] && j < PC_MAX_ARGS; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	pid = fork();
	if (pid < 0)
		return pid;
	if (!pid) {
		fd = open(pc->logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(pc->bin, (char *const *)argv);
		_exit(127);
	}
	pc->pid = pid;
	return pid;
}

/* Runs the program with exactly these args (no common ones); exit status, output in log. */
static inline int pc_run_raw(struct pc *pc, const char *const *args)
{
	const char *argv[PC_MAX_ARGS + 2];
	int i, fd, st;
	pid_t pid;

	argv[0] = pc->bin;
	for (i = 0; args[i] && i < PC_MAX_ARGS; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	unlink(pc->logpath);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open(pc->logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(pc->bin, (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	pc_read_log(pc);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* pc_run_raw() with the arguments listed */
#define PC_RUN(pc, ...)	pc_run_raw((pc), (const char *const[]){ __VA_ARGS__, NULL })

/* Waits until the peer process pid owns port; 0, or -1 after timeout_ms or if it died. */
static inline int pc_wait_bound(struct pc *pc, pid_t pid, __u32 port, unsigned int timeout_ms)
{
	__u64 end = pc_now_ns() + timeout_ms * 1000000ULL;
	struct xseg_port_info info;
	int st;

	while (pc_now_ns() < end) {
		if (!xseg_get_port_info(pc->x, port, &info) &&
		    (info.flags & XSEG_PORT_INFO_SD) && XSEG_TAG_PID(info.owner) == (__u32)pid)
			return 0;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pc->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			pc->pid = -1;
			return -1;
		}
		usleep(2000);
	}
	return -1;
}

/* Sends sig to the peer and reaps it within timeout_ms (then SIGKILL); its exit status. */
static inline int pc_stop(struct pc *pc, int sig, unsigned int timeout_ms)
{
	__u64 end = pc_now_ns() + timeout_ms * 1000000ULL;
	int st;

	if (pc->pid <= 0)
		return -1;
	kill(pc->pid, sig);
	for (;;) {
		if (waitpid(pc->pid, &st, WNOHANG) == pc->pid)
			break;
		if (pc_now_ns() > end) {
			kill(pc->pid, SIGKILL);
			waitpid(pc->pid, &st, 0);
			pc->pid = -1;
			pc->status = 1000;	/* "did not stop in time" */
			return pc->status;
		}
		usleep(1000);
	}
	pc->pid = -1;
	pc->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return pc->status;
}

static inline void pc_fini(struct pc *pc)
{
	if (pc->pid > 0)
		pc_stop(pc, SIGKILL, 5000);
	if (pc->x) {
		if (pc->sd)
			xseg_put_signal_desc(pc->sd);
		xseg_local_signal_quit(pc->x, pc->sigtype);
		xseg_leave(pc->x);
		pc->x = NULL;
	}
	xseg_destroy(pc_backend(), pc->seg);
	unlink(pc->logpath);
}

/* A request as the test builds it. */
struct pc_io {
	__u32 op;
	__u32 flags;
	__u64 offset;
	__u64 size;
	__u64 datalen;		/* data buffer to allocate */
	const char *target;
	__u32 targetlen;	/* of target, ~0U: strlen(target) */
	__u64 priv;
};

/* Gets, fills and submits a request; 0 or -errno.  *reqp is the request. */
static inline int pc_submit(struct pc *pc, const struct pc_io *io, const void *wdata,
			    struct xseg_request **reqp)
{
	__u32 tlen = io->targetlen == ~0U ? strlen(io->target) : io->targetlen;
	struct xseg_request *req;
	char *tgt;
	void *data;
	__u64 dlen;
	__u32 l;
	int ret, to;

	ret = xseg_get_request(pc->x, PC_CLIENT_PORT, PC_PEER_PORT, &req);
	if (ret)
		return ret;
	ret = xseg_prep_request(pc->x, req, tlen, io->datalen);
	if (ret)
		goto err_put;
	if (tlen) {
		xseg_req_target(pc->x, req, &tgt, &l);
		memcpy(tgt, io->target, tlen);
	}
	if (wdata && io->datalen) {
		xseg_req_data(pc->x, req, &data, &dlen);
		memcpy(data, wdata, io->datalen);
	}
	req->op = io->op;
	req->flags = io->flags;
	req->offset = io->offset;
	req->size = io->size;
	req->priv = io->priv;
	to = xseg_submit(pc->x, req);
	if (to < 0) {
		ret = to;
		goto err_put;
	}
	xseg_signal(pc->x, to);
	*reqp = req;
	return 0;
err_put:
	xseg_put_request(pc->x, req);
	return ret;
}

/* Takes one reply, waiting up to timeout_ms; 0, or -ETIMEDOUT. */
static inline int pc_receive(struct pc *pc, struct xseg_request **reqp, unsigned int timeout_ms)
{
	__u64 end = pc_now_ns() + timeout_ms * 1000000ULL;
	int ret;

	for (;;) {
		ret = xseg_receive(pc->x, PC_CLIENT_PORT, reqp);
		if (ret == 0) {
			pc->replies++;
			return 0;
		}
		if (pc_now_ns() > end)
			return -ETIMEDOUT;
		xseg_prepare_wait(pc->sd);
		ret = xseg_receive(pc->x, PC_CLIENT_PORT, reqp);
		if (ret == 0) {
			xseg_cancel_wait(pc->sd);
			pc->replies++;
			return 0;
		}
		xseg_wait_signal(pc->sd, 20000);
		xseg_cancel_wait(pc->sd);
	}
}

/*
 * One request, waited for: *resultp and *servicedp from the reply, data copied to rdata
 * (if not NULL, io->datalen bytes).  0, or -errno if no reply came.
 */
static inline int pc_do(struct pc *pc, const struct pc_io *io, const void *wdata, void *rdata,
			int *resultp, __u64 *servicedp)
{
	struct xseg_request *req, *rep;
	void *data;
	__u64 dlen;
	int ret;

	ret = pc_submit(pc, io, wdata, &req);
	if (ret)
		return ret;
	ret = pc_receive(pc, &rep, 10000);
	if (ret)
		return ret;
	if (rep != req) {
		xseg_put_request(pc->x, rep);
		return -EPROTO;
	}
	*resultp = rep->result;
	if (servicedp)
		*servicedp = rep->serviced;
	if (rdata && io->datalen) {
		xseg_req_data(pc->x, rep, &data, &dlen);
		memcpy(rdata, data, io->datalen);
	}
	xseg_put_request(pc->x, rep);
	return 0;
}

/* Result of a request without data, or a large positive value if no reply came. */
static inline int pc_simple(struct pc *pc, __u32 op, __u32 flags, const char *target,
			    __u64 offset, __u64 size)
{
	struct pc_io io = { op, flags, offset, size, 0, target, ~0U, 0 };
	int result;

	if (pc_do(pc, &io, NULL, NULL, &result, NULL))
		return 10000;
	return result;
}

static inline int pc_write(struct pc *pc, const char *target, __u64 offset, const void *buf,
			   __u64 size, __u32 flags)
{
	struct pc_io io = { XSEG_OP_WRITE, flags, offset, size, size, target, ~0U, 0 };
	int result;

	if (pc_do(pc, &io, buf, NULL, &result, NULL))
		return 10000;
	return result;
}

static inline int pc_read(struct pc *pc, const char *target, __u64 offset, void *buf,
			  __u64 size)
{
	struct pc_io io = { XSEG_OP_READ, 0, offset, size, size, target, ~0U, 0 };
	int result;

	if (pc_do(pc, &io, NULL, buf, &result, NULL))
		return 10000;
	return result;
}

static inline int pc_info(struct pc *pc, const char *target, struct xseg_reply_info *info)
{
	struct pc_io io = { XSEG_OP_INFO, 0, 0, 0, sizeof(*info), target, ~0U, 0 };
	int result;

	if (pc_do(pc, &io, NULL, info, &result, NULL))
		return 10000;
	return result;
}

/* xorshift64*: reproducible random data */
static inline __u64 pc_rand(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static inline void pc_fill(void *buf, __u64 len, __u64 *seed)
{
	__u8 *b = buf;
	__u64 i, v = 0;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			v = pc_rand(seed);
		b[i] = v >> ((i & 7) * 8);
	}
}

/*
 * Random writes (QD up to qd, each in its own 64 KiB slot so that writes in flight never
 * overlap) mirrored in shadow, then the whole target read back at QD qd and compared with
 * shadow byte for byte.  Returns 0 or a negative step number for the test to report.
 */
#define PC_SLOT		65536U

static inline int pc_random_rw(struct pc *pc, const char *target, __u8 *shadow, __u64 size,
			       unsigned int nr_writes, unsigned int qd, __u64 seed)
{
	unsigned int nslots = size / PC_SLOT, sent = 0, done = 0, inflight = 0;
	__u8 *busy = calloc(nslots, 1), *buf = malloc(PC_SLOT);
	struct xseg_request *req;
	int ret = 0;

	if (!busy || !buf) {
		ret = -1;
		goto out;
	}
	while (done < nr_writes) {
		while (inflight < qd && sent < nr_writes) {
			unsigned int slot = pc_rand(&seed) % nslots;
			__u64 len = (1 + pc_rand(&seed) % (PC_SLOT / XSEG_BLK_SECTOR)) *
				    XSEG_BLK_SECTOR;
			__u64 off = (pc_rand(&seed) % ((PC_SLOT - len) / XSEG_BLK_SECTOR + 1)) *
				    XSEG_BLK_SECTOR;
			struct pc_io io = { XSEG_OP_WRITE, 0, 0, len, len, target, ~0U, slot };

			if (busy[slot])
				continue;
			io.offset = (__u64)slot * PC_SLOT + off;
			pc_fill(buf, len, &seed);
			memcpy(shadow + io.offset, buf, len);
			if (pc_submit(pc, &io, buf, &req)) {
				ret = -2;
				goto out;
			}
			busy[slot] = 1;
			sent++;
			inflight++;
		}
		if (pc_receive(pc, &req, 10000)) {
			ret = -3;
			goto out;
		}
		if (req->result || req->serviced != req->size) {
			ret = -4;
			goto out;
		}
		busy[req->priv] = 0;
		xseg_put_request(pc->x, req);
		inflight--;
		done++;
	}
	/* read everything back, qd slots at a time */
	sent = 0;
	done = 0;
	inflight = 0;
	while (done < nslots) {
		while (inflight < qd && sent < nslots) {
			struct pc_io io = { XSEG_OP_READ, 0, (__u64)sent * PC_SLOT, PC_SLOT,
					    PC_SLOT, target, ~0U, sent };

			if (pc_submit(pc, &io, NULL, &req)) {
				ret = -5;
				goto out;
			}
			sent++;
			inflight++;
		}
		if (pc_receive(pc, &req, 10000)) {
			ret = -6;
			goto out;
		}
		{
			void *data;
			__u64 dlen;

			if (req->result || req->serviced != PC_SLOT ||
			    xseg_req_data(pc->x, req, &data, &dlen) ||
			    memcmp(data, shadow + req->priv * PC_SLOT, PC_SLOT)) {
				ret = -7;
				goto out;
			}
		}
		xseg_put_request(pc->x, req);
		inflight--;
		done++;
	}
out:
	free(busy);
	free(buf);
	return ret;
}

/* A target name of 265 bytes: longer than XSEG_BLK_TARGET_MAX. */
static inline const char *pc_long_name(void)
{
	static char name[XSEG_BLK_TARGET_MAX + 11];

	memset(name, 'a', sizeof(name) - 1);
	return name;
}

/*
 * Invalid requests and the answers blk.h asks for; each followed by nothing else, then a
 * valid request must still succeed.  Returns the index of the first case that got another
 * answer, or -1 when all did.  *gotp is what that case got.
 */
static inline int pc_bad_requests(struct pc *pc, const char *target, __u64 size, int *gotp)
{
	const char *long_name = pc_long_name();
	const struct pc_io cases[] = {
		{ 99, 0, 0, 512, 512, target, ~0U, 0 },			/* unknown op */
		{ XSEG_OP_NONE, 0, 0, 0, 0, target, ~0U, 0 },		/* op NONE */
		{ XSEG_OP_DELETE, 0, 0, 0, 0, target, ~0U, 0 },		/* not a block op */
		{ XSEG_OP_READ, 1U << 7, 0, 512, 512, target, ~0U, 0 },	/* unknown flag */
		{ XSEG_OP_READ, XSEG_RF_FUA, 0, 512, 512, target, ~0U, 0 },	/* FUA on a read */
		{ XSEG_OP_READ, 0, ~0ULL - 511, 1024, 1024, target, ~0U, 0 },	/* overflow */
		{ XSEG_OP_WRITE, 0, (~0ULL) & ~511ULL, 1024, 1024, target, ~0U, 0 },
		{ XSEG_OP_READ, 0, size, 512, 512, target, ~0U, 0 },	/* beyond the end */
		{ XSEG_OP_WRITE, 0, size - 512, 1024, 1024, target, ~0U, 0 },	/* across it */
		{ XSEG_OP_DISCARD, 0, size, 4096, 0, target, ~0U, 0 },
		{ XSEG_OP_READ, 0, 100, 512, 512, target, ~0U, 0 },	/* unaligned offset */
		{ XSEG_OP_READ, 0, 0, 100, 512, target, ~0U, 0 },	/* unaligned size */
		{ XSEG_OP_READ, 0, 0, 8192, 4096, target, ~0U, 0 },	/* buffer too small */
		{ XSEG_OP_WRITE, 0, 0, 4096, 0, target, ~0U, 0 },	/* no buffer */
		{ XSEG_OP_INFO, 0, 0, 0, 8, target, ~0U, 0 },		/* small info buffer */
		{ XSEG_OP_FLUSH, 0, 0, 512, 0, target, ~0U, 0 },	/* flush with a size */
		{ XSEG_OP_READ, 0, 0, 512, 512, "../x", ~0U, 0 },	/* path */
		{ XSEG_OP_READ, 0, 0, 512, 512, "a/b", ~0U, 0 },
		{ XSEG_OP_READ, 0, 0, 512, 512, ".", ~0U, 0 },
		{ XSEG_OP_READ, 0, 0, 512, 512, "..", ~0U, 0 },
		{ XSEG_OP_READ, 0, 0, 512, 512, "", 0, 0 },		/* empty target */
		{ XSEG_OP_READ, 0, 0, 512, 512, "a\0b", 3, 0 },		/* NUL inside */
		{ XSEG_OP_READ, 0, 0, 512, 512, long_name, ~0U, 0 },	/* > 255 bytes */
	};
	unsigned int i;
	int result;

	for (i = 0; i < XSEG_ARRAY_SIZE(cases); i++) {
		if (pc_do(pc, &cases[i], NULL, NULL, &result, NULL))
			result = 10000;
		if (result != -EINVAL) {
			*gotp = result;
			return i;
		}
	}
	return -1;
}

/* Submits n 4 KiB writes of block i at offset i * 4096, data from seed i. */
static inline int pc_submit_writes(struct pc *pc, const char *tgt, unsigned int first,
				   unsigned int n)
{
	struct xseg_request *req;
	__u8 buf[4096];
	unsigned int i;

	for (i = first; i < first + n; i++) {
		struct pc_io io = { XSEG_OP_WRITE, 0, (__u64)i * 4096, 4096, 4096, tgt, ~0U, i };
		__u64 seed = i + 1;

		pc_fill(buf, sizeof(buf), &seed);
		if (pc_submit(pc, &io, buf, &req))
			return -1;
	}
	return 0;
}

/* Reads back the blocks i < n with want[i] set (all if want is NULL); 0 or 1 + bad block. */
static inline int pc_verify_writes(struct pc *pc, const char *tgt, unsigned int n,
				   const __u8 *want)
{
	__u8 buf[4096], r[4096];
	unsigned int i;

	for (i = 0; i < n; i++) {
		__u64 seed = i + 1;

		if (want && !want[i])
			continue;
		pc_fill(buf, sizeof(buf), &seed);
		if (pc_read(pc, tgt, (__u64)i * 4096, r, sizeof(r)) || memcmp(buf, r, sizeof(r)))
			return i + 1;
	}
	return 0;
}

/*
 * SIGKILL mid-stream, then a new peer on the same port: n writes, half before the kill and
 * half queued while no peer is alive.  The new peer takes the port over, answers (-EPIPE,
 * through reclaim) what the dead one had accepted, which the client re-issues, and serves
 * the rest.  verify_all: the data of every write survives (a file); else only the writes
 * the new peer answered are read back (memory).
 */
static inline void pc_restart_test(struct __test_metadata *_metadata, struct pc *pc,
				   const char *tgt, const char *const *args, bool verify_all)
{
	unsigned int n = 480, done = 0, reissued = 0, before = 0;
	struct xseg_request *req;
	__u8 *by_new = calloc(n, 1);
	__u64 end;
	pid_t pid;

	ASSERT_NE(NULL, by_new);
	pid = pc_spawn(pc, args);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, pc_wait_bound(pc, pid, PC_PEER_PORT, 10000)) TH_LOG("%s", pc_read_log(pc));
	ASSERT_EQ(0, pc_submit_writes(pc, tgt, 0, n / 2));
	EXPECT_EQ(128 + SIGKILL, pc_stop(pc, SIGKILL, 5000));
	ASSERT_EQ(0, pc_submit_writes(pc, tgt, n / 2, n / 2));
	/* what the dead peer answered before it died */
	while (!xseg_receive(pc->x, PC_CLIENT_PORT, &req)) {
		EXPECT_EQ(0, req->result);
		xseg_put_request(pc->x, req);
		done++;
		before++;
	}

	pid = pc_spawn(pc, args);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, pc_wait_bound(pc, pid, PC_PEER_PORT, 10000))
		TH_LOG("restarted peer did not bind: %s", pc_read_log(pc));
	end = pc_now_ns() + 20000000000ULL;
	while (done < n && pc_now_ns() < end) {
		__u64 i;

		if (pc_receive(pc, &req, 1000))
			continue;
		i = req->priv;
		if (req->result == -EPIPE) {
			/* accepted by the dead peer: re-issue it (requests are idempotent) */
			xseg_put_request(pc->x, req);
			ASSERT_EQ(0, pc_submit_writes(pc, tgt, i, 1));
			reissued++;
			continue;
		}
		EXPECT_EQ(0, req->result);
		if (i < n)
			by_new[i] = 1;
		xseg_put_request(pc->x, req);
		done++;
	}
	ASSERT_EQ(n, done) TH_LOG("%u re-issued; peer: %s", reissued, pc_read_log(pc));
	TH_LOG("%u answered before the kill, %u re-issued after it", before, reissued);
	EXPECT_EQ(0, pc_verify_writes(pc, tgt, n, verify_all ? NULL : by_new));
	EXPECT_EQ(0, pc_stop(pc, SIGTERM, 5000));
	free(by_new);
}

/*
 * A peer that dies holding requests it accepted: a child process binds the port, accepts
 * held of the writes, and is SIGKILLed.  The real peer started after it must take the port
 * over, answer the held requests with -EPIPE (the client re-issues them) and serve the rest.
 */
static inline void pc_dead_holder_test(struct __test_metadata *_metadata, struct pc *pc,
				       const char *tgt, const char *const *args)
{
	unsigned int n = 40, held = 10, done = 0, epipe = 0;
	struct xseg_request *req;
	int pfd[2], st;
	__u64 end;
	pid_t child, pid;
	char c;

	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(0, pc_submit_writes(pc, tgt, 0, n));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		struct xseg *x;
		unsigned int k = 0;

		if (xseg_join(pc_backend(), pc->seg, &x) ||
		    xseg_bind_port(x, PC_PEER_PORT, NULL) != PC_PEER_PORT)
			_exit(1);
		while (k < held)
			if (!xseg_accept(x, PC_PEER_PORT, &req))
				k++;
		if (write(pfd[1], "h", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &st, 0));

	pid = pc_spawn(pc, args);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, pc_wait_bound(pc, pid, PC_PEER_PORT, 10000)) TH_LOG("%s", pc_read_log(pc));
	end = pc_now_ns() + 20000000000ULL;
	while (done < n && pc_now_ns() < end) {
		__u64 i;

		if (pc_receive(pc, &req, 1000))
			continue;
		i = req->priv;
		if (req->result == -EPIPE) {
			xseg_put_request(pc->x, req);
			ASSERT_EQ(0, pc_submit_writes(pc, tgt, i, 1));
			epipe++;
			continue;
		}
		EXPECT_EQ(0, req->result);
		xseg_put_request(pc->x, req);
		done++;
	}
	EXPECT_EQ(n, done) TH_LOG("peer: %s", pc_read_log(pc));
	EXPECT_EQ(held, epipe);
	EXPECT_EQ(0, pc_verify_writes(pc, tgt, n, NULL));
	EXPECT_EQ(0, pc_stop(pc, SIGTERM, 5000));
}

#endif /* _XSEG_UNIT_PEER_H */
