// SPDX-License-Identifier: GPL-2.0
/*
 * Security and lifetime of the signal matrix (issue 8, items 4 and 5), on a segdev segment
 * shared with the kernel test peer (kmod/xseg_kpeer.c).
 *
 * Security: a peer (the "attacker", its own uid) writes a victim's pid/tid and start time
 * into every descriptor field it can reach, then user senders (the attacker itself) and
 * kernel senders (the kpeer replying to a futex and a sigio receiver) signal.  The victim,
 * another process under a third uid that blocks every signal, must find nothing pending:
 * a user sender signals with its own credentials, and the kernel signals only threads that
 * registered through their own segdev file.  A signal number written into the segment
 * cannot reach the registered thread either (segdev delivers only the registered one).
 *
 * Lifetime: xseg_local_signal_quit() with live descriptors fails; a waiter that is killed
 * leaves no registration; a waiter thread that exits leaves nothing the kernel would signal,
 * even when its tid is reused by a new process (ns_last_pid): the next kernel sender gets
 * -ESRCH and the new owner of the number receives nothing.
 * Needs root.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <uapi/xseg/segdev.h>
#include <uapi/xseg/signal_types.h>
#include <xseg/inspect.h>
#include <xseg/signal_user.h>

#include "kselftest_harness.h"
#include "kpeer_util.h"

#define XS_N		200
#define XS_SIZE		512
#define XS_WAIT_USEC	10000000
#define XS_ATTACKER_UID	2000
#define XS_VICTIM_UID	2001
#define XS_DEAD_PORT	5

struct xs_peer {
	struct xseg *x;
	struct xseg_sd *sd;
	const char *type;
	unsigned long timeouts, wait_errors, bad;
};

/* A raw view of the segment, as a misbehaving peer has it. */
struct xs_raw {
	int fd;
	uint8_t *base;
	size_t len;
};

static int xs_raw_map(const char *name, struct xs_raw *r)
{
	struct segdev_attach a = { .size = sizeof(a) };
	struct segdev_info info = { .size = sizeof(info) };

	r->fd = open(SEGDEV_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	snprintf(a.name, sizeof(a.name), "%s", name);
	if (ioctl(r->fd, SEGDEV_IOC_ATTACH, &a) || ioctl(r->fd, SEGDEV_IOC_INFO, &info))
		return -errno;
	r->len = info.map_size;
	r->base = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	return r->base == MAP_FAILED ? -errno : 0;
}

static void xs_raw_unmap(struct xs_raw *r)
{
	munmap(r->base, r->len);
	close(r->fd);
}

static struct xseg_signal_desc *xs_raw_sd(struct xs_raw *r, uint32_t i)
{
	struct xseg_header *h = (struct xseg_header *)r->base;

	return (struct xseg_signal_desc *)(r->base + h->sds_off) + i;
}

static void *xs_raw_sd_data(struct xs_raw *r, uint32_t i)
{
	struct xseg_header *h = (struct xseg_header *)r->base;

	return r->base + h->sd_data_off + (uint64_t)i * XSEG_SD_DATA_SIZE;
}

static uint64_t xs_start_time(pid_t pid)
{
	unsigned long long start = 0;
	char path[64], buf[512], *p;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	for (i = 2; i <= 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%llu", &start);
	return start;
}

/* The name of type id (1-based) in the segment's type table, "" if none. */
static const char *xs_raw_type_name(struct xs_raw *r, uint32_t id)
{
	struct xseg_header *h = (struct xseg_header *)r->base;
	struct xseg_type_entry *e;

	if (!id || id > h->nr_types)
		return "";
	e = (struct xseg_type_entry *)(r->base + h->types_off) + id - 1;
	return e->state == XSEG_TYPE_READY ? e->name : "";
}

/*
 * Points every descriptor at pid (its type data in the layout of its type: futex tid, or
 * sigio tid, tgid, start time and signal number), and arms it (waiting, not pending, the
 * futex waiter "sleeping"): whatever a sender reads from the segment names the victim.
 */
static void xs_scribble(struct xs_raw *r, pid_t pid, uint32_t signo)
{
	struct xseg_header *h = (struct xseg_header *)r->base;
	uint64_t start = xs_start_time(pid);
	uint32_t i;

	for (i = 0; i < h->nr_sds; i++) {
		struct xseg_signal_desc *sd = xs_raw_sd(r, i);
		const char *type = xs_raw_type_name(r, sd->type);

		sd->waiting = 1;
		sd->pending = 0;
		if (!strcmp(type, XSEG_SIGNAL_FUTEX)) {
			struct xseg_futex_data *fx = xs_raw_sd_data(r, i);

			fx->tid = pid;
			fx->flags = pid;
			fx->sleeping = 1;
		} else if (!strcmp(type, XSEG_SIGNAL_SIGIO)) {
			struct xseg_sigio_data *sg = xs_raw_sd_data(r, i);

			sg->tid = pid;
			sg->tgid = pid;
			sg->start_time = start;
			sg->signo = signo;
			sg->mode = XSEG_SIGIO_THREAD;
		}
	}
}

/*
 * The victim: blocks every signal it can, tells the parent it is ready, waits until the
 * parent closes the pipe and exits with the number of signals pending (0 = none arrived).
 */
static pid_t xs_victim(int *ready_rd, int *done_wr)
{
	int ready[2], done[2];
	sigset_t all, pend;
	pid_t pid;
	char c;
	int s, n;

	if (pipe(ready) || pipe(done))
		return -1;
	pid = fork();
	if (pid)
		goto parent;
	close(ready[0]);
	close(done[1]);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (setresgid(XS_VICTIM_UID, XS_VICTIM_UID, XS_VICTIM_UID) ||
	    setresuid(XS_VICTIM_UID, XS_VICTIM_UID, XS_VICTIM_UID))
		_exit(100);
	if (write(ready[1], "r", 1) != 1)
		_exit(101);
	while (read(done[0], &c, 1) > 0)
		;
	sigpending(&pend);
	for (n = 0, s = 1; s < 65; s++)
		n += sigismember(&pend, s) == 1;
	_exit(n);
parent:
	close(ready[1]);
	close(done[0]);
	*ready_rd = ready[0];
	*done_wr = done[1];
	if (pid > 0 && read(ready[0], &c, 1) != 1)
		return -1;
	return pid;
}

/* 0 when the victim received nothing; otherwise the number of pending signals, or 200+. */
static int xs_victim_report(pid_t pid, int ready_rd, int done_wr)
{
	int status;

	close(done_wr);
	close(ready_rd);
	if (waitpid(pid, &status, 0) != pid)
		return 200;
	if (WIFSIGNALED(status))
		return 200 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int xs_peer_init(struct xs_peer *p, const char *name, const char *type, uint32_t port)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->type = type;
	ret = xseg_join(&xseg_segdev_backend, name, &p->x);
	if (!ret)
		ret = xseg_local_signal_init(p->x, type);
	if (!ret)
		ret = xseg_get_signal_desc(p->x, type, &p->sd);
	if (!ret)
		ret = xseg_bind_port(p->x, port, p->sd);
	return ret < 0 ? ret : 0;
}

static void xs_peer_fini(struct xs_peer *p)
{
	if (!p->x)
		return;
	if (p->sd)
		xseg_put_signal_desc(p->sd);
	xseg_local_signal_quit(p->x, p->type);
	xseg_leave(p->x);
	p->x = NULL;
}

/* n READs at depth 1 from port 0 to dst; a wait that times out is counted, not fatal. */
static int xs_pingpong(struct xs_peer *p, uint32_t dst, long n, uint32_t wait_usec)
{
	struct xseg_request *req;
	long i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = xseg_get_request(p->x, KPEER_PORT_USER, dst, &req);
		if (!ret)
			ret = xseg_prep_request(p->x, req, 0, XS_SIZE);
		if (ret)
			return ret;
		req->op = XSEG_OP_READ;
		req->offset = (uint64_t)i * XS_SIZE;
		req->size = XS_SIZE;
		if (xseg_submit(p->x, req) != (int)dst)
			return -EIO;
		xseg_signal(p->x, dst);
		while ((ret = xseg_receive(p->x, KPEER_PORT_USER, &req)) == -EAGAIN) {
			xseg_prepare_wait(p->sd);
			if (xseg_receive(p->x, KPEER_PORT_USER, &req) == 0) {
				xseg_cancel_wait(p->sd);
				ret = 0;
				break;
			}
			ret = xseg_wait_signal(p->sd, wait_usec);
			xseg_cancel_wait(p->sd);
			if (ret == -ETIMEDOUT) {
				p->timeouts++;
			} else if (ret) {
				/* our own descriptor scribbled so that we cannot wait: poll */
				p->wait_errors++;
				usleep(wait_usec / 10);
			}
		}
		if (ret)
			return ret;
		if (kpeer_check(p->x, req, (uint64_t)i * XS_SIZE, XS_SIZE))
			p->bad++;
		xseg_put_request(p->x, req);
	}
	return 0;
}

/*
 * One READ to dst while port 0's descriptor is armed (waiting, not pending) for 200 ms, so
 * that the kernel's reply must try to signal us; then the reply is polled for and checked.
 */
static int xs_armed_roundtrip(struct xs_peer *p, uint32_t dst)
{
	struct xseg_request *req;
	int ret, tries;

	ret = xseg_get_request(p->x, KPEER_PORT_USER, dst, &req);
	if (!ret)
		ret = xseg_prep_request(p->x, req, 0, XS_SIZE);
	if (ret)
		return ret;
	req->op = XSEG_OP_READ;
	req->offset = 0;
	req->size = XS_SIZE;
	xseg_prepare_wait(p->sd);
	if (xseg_submit(p->x, req) != (int)dst)
		return -EIO;
	xseg_signal(p->x, dst);
	usleep(200000);
	xseg_cancel_wait(p->sd);
	for (tries = 0; (ret = xseg_receive(p->x, KPEER_PORT_USER, &req)) == -EAGAIN; tries++) {
		if (tries > 1000)
			return -ETIMEDOUT;
		usleep(10000);
	}
	if (ret)
		return ret;
	if (kpeer_check(p->x, req, 0, XS_SIZE))
		p->bad++;
	return xseg_put_request(p->x, req);
}

/* The attacker, a child under XS_ATTACKER_UID: scribbles, then signals every port. */
static int xs_attacker(const char *name, pid_t victim)
{
	struct xseg_user_signal_stats st;
	struct xs_raw r;
	struct xseg *x;
	uint32_t port;

	if (setresgid(XS_ATTACKER_UID, XS_ATTACKER_UID, XS_ATTACKER_UID) ||
	    setresuid(XS_ATTACKER_UID, XS_ATTACKER_UID, XS_ATTACKER_UID))
		return 10;
	if (xs_raw_map(name, &r))
		return 11;
	if (xseg_join(&xseg_segdev_backend, name, &x))
		return 12;
	for (port = 0; port < 8; port++) {
		xs_scribble(&r, victim, SIGRTMIN + 1);
		xseg_signal(x, port);
	}
	xseg_user_signal_stats(&st);
	xseg_leave(x);
	xs_raw_unmap(&r);
	/* the sigio sends it tried were all refused by the kernel's permission check */
	return st.sigio_sends ? 13 : 0;
}

FIXTURE(sec) {
	char name[64];
	bool loaded;
};

/* the fixture as a plain type, for the helpers below */
typedef FIXTURE_DATA(sec) xs_fixture;

FIXTURE_SETUP(sec)
{
	struct xseg_config cfg;
	struct xseg *x;
	char params[128];

	if (geteuid())
		SKIP(return, "needs root");
	if (kpeer_load_deps())
		SKIP(return, "segdev.ko / xseg.ko not available");
	snprintf(self->name, sizeof(self->name), "sigsec-%d", getpid());
	xseg_config_default(&cfg);
	cfg.nr_ports = 8;
	cfg.nr_requests = 256;
	cfg.nr_sds = 16;
	cfg.heap_size = 4ULL << 20;
	cfg.mode = 0666;	/* the attacker is another user */
	xseg_destroy(&xseg_segdev_backend, self->name);
	ASSERT_EQ(0, xseg_create(&xseg_segdev_backend, self->name, &cfg, &x));
	ASSERT_EQ(0, xseg_leave(x));
	snprintf(params, sizeof(params), "segment=%s", self->name);
	ASSERT_EQ(0, kpeer_load("xseg_kpeer", params));
	self->loaded = true;
	ASSERT_EQ(0, xseg_futex_set_spin_ns(0));
}

FIXTURE_TEARDOWN(sec)
{
	if (self->loaded)
		EXPECT_EQ(0, kpeer_unload());
	xseg_destroy(&xseg_segdev_backend, self->name);
}

/* Victim ids everywhere; user and kernel senders signal; the victim gets nothing. */
static void xs_nobody_else(struct __test_metadata *_metadata, xs_fixture *self,
			   const char *type)
{
	int ready, done, status;
	struct xs_peer p;
	struct xs_raw r;
	pid_t victim, attacker;

	ASSERT_EQ(0, xs_peer_init(&p, self->name, type, KPEER_PORT_USER));
	victim = xs_victim(&ready, &done);
	ASSERT_LT(0, victim);

	attacker = fork();
	ASSERT_LE(0, attacker);
	if (!attacker)
		_exit(xs_attacker(self->name, victim));
	ASSERT_EQ(attacker, waitpid(attacker, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* kernel senders: replies to our port, whose descriptor data now names the victim */
	ASSERT_EQ(0, xs_raw_map(self->name, &r));
	xs_scribble(&r, victim, xseg_sigio_get_signo());
	EXPECT_EQ(0, xs_pingpong(&p, KPEER_PORT_WQ, XS_N, XS_WAIT_USEC));
	xs_scribble(&r, victim, xseg_sigio_get_signo());
	EXPECT_EQ(0, xs_pingpong(&p, KPEER_PORT_CB, XS_N, XS_WAIT_USEC));
	EXPECT_EQ(0, p.bad);
	TH_LOG("%s: kernel signals %lld, errors %lld, our timeouts %lu", type,
	       kpeer_param("user_signals"), kpeer_param("user_errors"), p.timeouts);
	/* the kernel did signal: our registered thread, not the victim */
	EXPECT_LT(0, kpeer_param("user_signals"));

	EXPECT_EQ(0, xs_victim_report(victim, ready, done));
	xs_raw_unmap(&r);
	xs_peer_fini(&p);
}

TEST_F_TIMEOUT(sec, futex_victim_receives_nothing, 300)
{
	xs_nobody_else(_metadata, self, XSEG_SIGNAL_FUTEX);
}

TEST_F_TIMEOUT(sec, sigio_victim_receives_nothing, 300)
{
	xs_nobody_else(_metadata, self, XSEG_SIGNAL_SIGIO);
}

/*
 * A signal number written into our sigio descriptor: the kernel refuses to send it to our
 * registration (which accepts our signo only), SIGKILL included; we stay alive and the
 * wake is missed, which is all a scribbler can do to us.
 */
TEST_F_TIMEOUT(sec, scribbled_signo_is_refused, 300)
{
	int bad[] = { SIGRTMIN + 5, SIGKILL, 0, 1000 };
	struct xs_peer p;
	struct xs_raw r;
	unsigned int i;

	ASSERT_EQ(0, xs_peer_init(&p, self->name, XSEG_SIGNAL_SIGIO, KPEER_PORT_USER));
	ASSERT_EQ(0, xs_raw_map(self->name, &r));
	ASSERT_EQ(0, xs_pingpong(&p, KPEER_PORT_WQ, 10, XS_WAIT_USEC));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct xseg_sigio_data *d = xs_raw_sd_data(&r, xseg_signal_desc_index(p.sd));
		long long errors = kpeer_param("user_errors");

		d->signo = bad[i];
		/* armed but not waiting (our own wait refuses a bad number): the kernel tries */
		EXPECT_EQ(0, xs_armed_roundtrip(&p, KPEER_PORT_WQ));
		TH_LOG("signo %d: kernel errors %lld -> %lld", bad[i], errors,
		       kpeer_param("user_errors"));
		EXPECT_LT(errors, kpeer_param("user_errors"));
	}
	EXPECT_EQ(0, p.bad);
	xs_raw_unmap(&r);
	xs_peer_fini(&p);
}

TEST_F(sec, quit_with_live_descriptors_fails)
{
	static const char * const types[] = { XSEG_SIGNAL_FUTEX, XSEG_SIGNAL_SIGIO };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		struct xs_peer p;

		ASSERT_EQ(0, xs_peer_init(&p, self->name, types[i], KPEER_PORT_USER));
		EXPECT_EQ(-EBUSY, xseg_local_signal_quit(p.x, types[i]));
		EXPECT_EQ(0, xseg_put_signal_desc(p.sd));
		p.sd = NULL;
		EXPECT_EQ(0, xseg_local_signal_quit(p.x, types[i]));
		EXPECT_EQ(0, xseg_leave(p.x));
	}
}

static unsigned int xs_nr_waiters(const char *name)
{
	struct segdev_info info = { .size = sizeof(info), .flags = SEGDEV_INFO_BY_NAME };
	int fd = open(SEGDEV_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	snprintf(info.name, sizeof(info.name), "%s", name);
	if (fd < 0 || ioctl(fd, SEGDEV_IOC_INFO, &info))
		info.nr_waiters = ~0U;
	if (fd >= 0)
		close(fd);
	return info.nr_waiters;
}

/* A waiter killed in its sleep leaves no registration behind. */
TEST_F_TIMEOUT(sec, killed_waiter_leaves_no_registration, 120)
{
	static const char * const types[] = { XSEG_SIGNAL_FUTEX, XSEG_SIGNAL_SIGIO };
	unsigned int i, before = xs_nr_waiters(self->name);
	int status, pfd[2];
	char c;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		pid_t pid;

		ASSERT_EQ(0, pipe(pfd));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			struct xs_peer p;

			if (xs_peer_init(&p, self->name, types[i], XS_DEAD_PORT))
				_exit(1);
			xseg_prepare_wait(p.sd);
			if (write(pfd[1], "r", 1) != 1)
				_exit(2);
			xseg_wait_signal(p.sd, 60000000);
			_exit(3);
		}
		close(pfd[1]);
		ASSERT_EQ(1, read(pfd[0], &c, 1));
		close(pfd[0]);
		EXPECT_EQ(before + 1, xs_nr_waiters(self->name));
		usleep(100000);	/* let it reach its sleep */
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status));
		EXPECT_EQ(before, xs_nr_waiters(self->name));
		/* the dead peer's port: reclaimed so that the next child can bind it */
		{
			struct xseg *x;

			ASSERT_EQ(0, xseg_join(&xseg_segdev_backend, self->name, &x));
			xseg_reclaim(x);
			xseg_leave(x);
		}
	}
}

struct xs_thread_arg {
	const char *name;
	pid_t tid;
	int ret;
	struct xs_peer p;
};

/* Registers (creates the descriptor), arms it and exits without putting anything. */
static void *xs_waiter_thread(void *a)
{
	struct xs_thread_arg *arg = a;

	arg->tid = syscall(SYS_gettid);
	arg->ret = xs_peer_init(&arg->p, arg->name, XSEG_SIGNAL_SIGIO, XS_DEAD_PORT);
	if (!arg->ret)
		arg->ret = xseg_prepare_wait(arg->p.sd);
	return NULL;
}

/*
 * A waiter thread exits; its number goes to a new process (ns_last_pid); a kernel sender
 * then signals the exited waiter's descriptor: -ESRCH, and the new process gets nothing.
 */
TEST_F_TIMEOUT(sec, exited_waiter_tid_reuse, 120)
{
	struct xs_thread_arg arg = { .name = self->name };
	long long errors, signals;
	int ready, done, fd, len, tries;
	char params[160], buf[32];
	pthread_t t;
	pid_t victim;
	double t0;

	ASSERT_EQ(0, pthread_create(&t, NULL, xs_waiter_thread, &arg));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, arg.ret);

	/*
	 * The next pid the kernel hands out is the dead thread's number; retried because a
	 * kernel thread starting in between may take it first.
	 */
	for (tries = 0; tries < 20; tries++) {
		fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
		ASSERT_LE(0, fd);
		len = snprintf(buf, sizeof(buf), "%d", arg.tid - 1);
		ASSERT_EQ(len, write(fd, buf, len));
		close(fd);
		victim = xs_victim(&ready, &done);
		ASSERT_LT(0, victim);
		if (victim == arg.tid)
			break;
		xs_victim_report(victim, ready, done);
	}
	TH_LOG("dead waiter tid %d, new process %d (try %d)", arg.tid, victim, tries);
	ASSERT_EQ(arg.tid, victim);

	/* a kernel sender: the kpeer's kthread sends one request to the dead waiter's port */
	ASSERT_EQ(0, kpeer_unload());
	self->loaded = false;
	snprintf(params, sizeof(params), "segment=%s k2k=1 k2k_dst=%d", self->name, XS_DEAD_PORT);
	ASSERT_EQ(0, kpeer_load("xseg_kpeer", params));
	self->loaded = true;
	t0 = kpeer_now();
	while (kpeer_param("user_errors") < 1 && kpeer_now() - t0 < 30)
		usleep(10000);
	errors = kpeer_param("user_errors");
	signals = kpeer_param("user_signals");
	TH_LOG("kernel signals %lld, errors %lld", signals, errors);
	EXPECT_EQ(1, errors);
	EXPECT_EQ(0, signals);
	EXPECT_EQ(0, xs_victim_report(victim, ready, done));
	xs_peer_fini(&arg.p);
}

TEST_HARNESS_MAIN
