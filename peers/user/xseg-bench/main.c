// SPDX-License-Identifier: GPL-2.0
/*
 * xseg-bench: IPC round-trip latency and throughput between two processes, for each user
 * signal type of xseg and for baselines measured in the same run on the same machine (shared
 * memory spin ping-pong: the physical floor; raw futex, eventfd, pipe and UNIX socket
 * ping-pong), plus the wake syscalls senders really make per request at queue depth 1, 8 and
 * 64 with a busy receiver.  The two processes are pinned to different CPUs when there are two.
 *
 *   xseg-bench [--iterations N] [--runs N] [--json FILE] [--cdf FILE] [--quick]
 *              [--kernel]
 *
 * Each case runs --runs times; the tables show the median and the JSON records also min/max.
 * --cdf writes the round-trip distribution of each latency case's last run, one line per
 * point: case, cumulative fraction, nanoseconds (make bench plots it).
 *
 * --kernel (root, in the test VM) adds the cells with a kernel side, against the kernel test
 * peer (xseg_kpeer.ko, loaded with modprobe or from $XSEG_MODDIR) on a segdev segment: the
 * client is a user peer on port 0 and sends to the kpeer's waitqueue port (served by its
 * kthread) or callback port (served in its work item), which reply to port 0:
 *   user-to-kernel-waitqueue  futex client (adaptive spin) -> port 1, doorbell -> wake_up
 *   user-to-kernel-callback   futex client (adaptive spin) -> port 2, doorbell -> work item
 *   kernel-to-user-futex      futex client without spinning -> port 2, replies 100 us late:
 *                             every reply finds the client asleep in FUTEX_WAIT and kicks it
 *   kernel-to-user-futex-spin the same with a 1 ms spin: the kicks are avoided
 *   kernel-to-user-sigio      sigio client, the same: every reply is a queued RT signal
 * "ksig/req" is the kernel's signals to the user receiver per request (kpeer's counter).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xseg/compiler.h>
#include <xseg/posix.h>
#include <xseg/segdev_user.h>
#include <xseg/signal_user.h>
#include <xseg/xseg.h>

#include "../common/bench.h"

#define CLIENT_PORT	0
#define SERVER_PORT	1
#define STOP_MARK	0x53544f50ULL	/* req->priv of the last request */
#define BUSY_WORK_NS	1000		/* server work per request in the wake-count phase */

static unsigned long iterations = 5000;
static unsigned int runs = 3;
static struct bench_json json;
static FILE *cdf;
static bool last_run;		/* --cdf records this run */
static bool two_cpus;

/* Shared between the two processes of a case (MAP_SHARED | MAP_ANONYMOUS). */
struct ctl {
	__u32 a;		/* raw futex / spin: client -> server */
	__u8 pad0[60];
	__u32 b;		/* server -> client */
	__u8 pad1[60];
	__u32 work_ns;		/* server work per request */
	__u32 server_ok;
	__u64 server_syscalls;	/* wake syscalls the server made */
};

static struct ctl *ctl;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (!two_cpus)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void busy_work(__u32 ns)
{
	__u64 end;

	if (!ns)
		return;
	end = now_ns() + ns;
	while (now_ns() < end)
		xseg_cpu_relax();
}

static long futex(__u32 *w, int op, __u32 val)
{
	return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* Wake syscalls this process made so far (all user types). */
static __u64 wake_syscalls(void)
{
	struct xseg_user_signal_stats st;

	xseg_user_signal_stats(&st);
	return st.futex_wakes + st.sigio_sends + st.sigio_overflows + st.sigio_failures;
}

/* ---- baselines: one round trip each, client and server halves ---- */

enum base { B_SPIN, B_FUTEX, B_EVENTFD, B_PIPE, B_UNIX };

struct chan {
	int c2s[2], s2c[2];	/* fds: [0] read end, [1] write end (socket: both the same) */
};

static int chan_open(enum base b, struct chan *ch)
{
	int sv[2];

	switch (b) {
	case B_EVENTFD:
		ch->c2s[0] = eventfd(0, 0);
		ch->c2s[1] = ch->c2s[0];
		ch->s2c[0] = eventfd(0, 0);
		ch->s2c[1] = ch->s2c[0];
		return ch->c2s[0] < 0 || ch->s2c[0] < 0 ? -errno : 0;
	case B_PIPE:
		return pipe(ch->c2s) || pipe(ch->s2c) ? -errno : 0;
	case B_UNIX:
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			return -errno;
		ch->c2s[1] = sv[0];	/* client side */
		ch->s2c[0] = sv[0];
		ch->c2s[0] = sv[1];	/* server side */
		ch->s2c[1] = sv[1];
		return 0;
	default:
		return 0;
	}
}

static bool base_send(enum base b, int fd, __u32 *w, __u32 v)
{
	__u64 one = 1;

	switch (b) {
	case B_SPIN:
		__atomic_store_n(w, v, __ATOMIC_RELEASE);
		return true;
	case B_FUTEX:
		__atomic_store_n(w, v, __ATOMIC_RELEASE);
		futex(w, FUTEX_WAKE, 1);
		return true;
	default:
		return write(fd, &one, sizeof(one)) == sizeof(one);
	}
}

static bool base_recv(enum base b, int fd, __u32 *w, __u32 v)
{
	__u64 buf;
	__u32 cur;

	switch (b) {
	case B_SPIN:
		while (__atomic_load_n(w, __ATOMIC_ACQUIRE) != v)
			xseg_cpu_relax();
		return true;
	case B_FUTEX:
		while ((cur = __atomic_load_n(w, __ATOMIC_ACQUIRE)) != v)
			futex(w, FUTEX_WAIT, cur);
		return true;
	default:
		return read(fd, &buf, sizeof(buf)) == sizeof(buf);
	}
}

/* Round trip i carries the value i + 1 (never 0) both ways. */
static int run_base(enum base b, unsigned long n, __u64 *rtt)
{
	struct chan ch = { { -1, -1 }, { -1, -1 } };
	unsigned long i;
	int status;
	pid_t pid;

	if (chan_open(b, &ch))
		return -1;
	ctl->a = 0;
	ctl->b = 0;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		pin(1);
		for (i = 0; i < n; i++) {
			if (!base_recv(b, ch.c2s[0], &ctl->a, i + 1) ||
			    !base_send(b, ch.s2c[1], &ctl->b, i + 1))
				_exit(1);
		}
		_exit(0);
	}
	pin(0);
	for (i = 0; i < n; i++) {
		__u64 t0 = now_ns();

		if (!base_send(b, ch.c2s[1], &ctl->a, i + 1) ||
		    !base_recv(b, ch.s2c[0], &ctl->b, i + 1))
			break;
		rtt[i] = now_ns() - t0;
	}
	waitpid(pid, &status, 0);
	close(ch.c2s[0]);
	if (ch.c2s[1] != ch.c2s[0])
		close(ch.c2s[1]);
	if (b != B_UNIX) {
		close(ch.s2c[0]);
		if (ch.s2c[1] != ch.s2c[0])
			close(ch.s2c[1]);
	}
	return i == n && WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/* ---- xseg: a server process on port 1, the client on port 0 ---- */

struct peer {
	struct xseg *x;
	struct xseg_sd *sd;
	const char *type;
};

static int peer_init(struct peer *p, const char *seg, const char *type, __u32 port)
{
	int ret;

	p->type = type;
	ret = xseg_join(&xseg_posix_backend, seg, &p->x);
	if (!ret)
		ret = xseg_local_signal_init(p->x, type);
	if (!ret)
		ret = xseg_get_signal_desc(p->x, type, &p->sd);
	if (!ret)
		ret = xseg_bind_port(p->x, port, p->sd);
	return ret < 0 ? ret : 0;
}

static void peer_fini(struct peer *p)
{
	xseg_put_signal_desc(p->sd);
	xseg_local_signal_quit(p->x, p->type);
	xseg_leave(p->x);
}

/* Serves what is queued; *stop once the stop request was answered.  Returns the count. */
static int serve(struct peer *p, bool *stop)
{
	struct xseg_request *req;
	int n = 0, to;

	while (!xseg_accept(p->x, SERVER_PORT, &req)) {
		busy_work(ctl->work_ns);
		req->serviced = req->size;
		if (req->priv == STOP_MARK)
			*stop = true;
		to = xseg_respond(p->x, req);
		if (to < 0 || xseg_signal(p->x, to) < 0)
			return -1;
		n++;
	}
	return n;
}

static int xseg_server(const char *seg, const char *type)
{
	bool stop = false;
	struct peer p;
	__u64 w0;
	int n;

	pin(1);
	if (peer_init(&p, seg, type, SERVER_PORT))
		return 1;
	w0 = wake_syscalls();
	while (!stop) {
		n = serve(&p, &stop);
		if (n < 0)
			return 2;
		if (n || stop)
			continue;
		xseg_prepare_wait(p.sd);
		n = serve(&p, &stop);
		if (!n && !stop)
			xseg_wait_signal(p.sd, 100000);
		xseg_cancel_wait(p.sd);
		if (n < 0)
			return 3;
	}
	ctl->server_syscalls = wake_syscalls() - w0;
	ctl->server_ok = 1;
	peer_fini(&p);
	return 0;
}

static int collect(struct peer *p, unsigned long *done)
{
	struct xseg_request *req;
	int n = 0;

	while (!xseg_receive(p->x, CLIENT_PORT, &req)) {
		if (xseg_put_request(p->x, req))
			return -1;
		n++;
	}
	*done += n;
	return n;
}

static int submit(struct peer *p, __u64 priv)
{
	struct xseg_request *req;
	int to;

	if (xseg_get_request(p->x, CLIENT_PORT, SERVER_PORT, &req))
		return -1;
	req->op = XSEG_OP_PING;
	req->priv = priv;
	to = xseg_submit(p->x, req);
	return to < 0 ? to : xseg_signal(p->x, to);
}

/* Waits until at least one more reply is in (the suppression protocol's waiter side). */
static int wait_reply(struct peer *p, unsigned long *done)
{
	int n;

	for (;;) {
		n = collect(p, done);
		if (n)
			return n;
		xseg_prepare_wait(p->sd);
		n = collect(p, done);
		if (!n)
			xseg_wait_signal(p->sd, 1000000);
		xseg_cancel_wait(p->sd);
		if (n)
			return n;
	}
}

struct xres {
	__u64 ns;		/* wall time of the whole run */
	double wakes_per_req;	/* wake syscalls of both sides per request */
};

/*
 * n requests at queue depth qd with the given type on both sides; rtt[] per request if qd is
 * 1.  spin_ns applies to the futex type.
 */
static int run_xseg(const char *type, __u32 spin_ns, unsigned long n, unsigned int qd,
		    __u32 work_ns, __u64 *rtt, struct xres *res)
{
	char seg[64];
	unsigned long sent = 0, done = 0, prev;
	struct xseg_config cfg;
	struct xseg *owner;
	struct peer p;
	int status, ret = -1;
	__u64 w0, t0;
	pid_t pid;

	snprintf(seg, sizeof(seg), "xseg-bench-%d", (int)getpid());
	xseg_config_default(&cfg);
	cfg.nr_ports = 4;
	cfg.nr_requests = 256;
	cfg.nr_sds = 4;
	xseg_destroy(&xseg_posix_backend, seg);
	if (xseg_create(&xseg_posix_backend, seg, &cfg, &owner))
		return -1;
	xseg_futex_set_spin_ns(spin_ns);
	ctl->work_ns = work_ns;
	ctl->server_ok = 0;
	pid = fork();
	if (pid < 0)
		goto out;
	if (!pid)
		_exit(xseg_server(seg, type));
	pin(0);
	if (peer_init(&p, seg, type, CLIENT_PORT))
		goto out_kill;
	w0 = wake_syscalls();
	t0 = now_ns();
	while (done < n) {
		while (sent - done < qd && sent < n) {
			__u64 t = now_ns();

			if (submit(&p, sent + 1 == n ? STOP_MARK : 0))
				goto out_fini;
			sent++;
			if (rtt && qd == 1) {
				prev = done;
				if (wait_reply(&p, &done) < 0)
					goto out_fini;
				rtt[prev] = now_ns() - t;
			}
		}
		if (done < sent && wait_reply(&p, &done) < 0)
			goto out_fini;
	}
	res->ns = now_ns() - t0;
	res->wakes_per_req = (double)(wake_syscalls() - w0);
	ret = 0;
out_fini:
	peer_fini(&p);
out_kill:
	if (ret)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	if (!ret && (!WIFEXITED(status) || WEXITSTATUS(status) || !ctl->server_ok))
		ret = -1;
	if (!ret)
		res->wakes_per_req = (res->wakes_per_req + ctl->server_syscalls) / n;
out:
	xseg_futex_set_spin_ns(XSEG_FUTEX_SPIN_DEFAULT_NS);
	xseg_leave(owner);
	xseg_destroy(&xseg_posix_backend, seg);
	return ret;
}

/* ---- kernel cells: the user client against the kernel test peer ---- */

#define KPEER_PARAMS	"/sys/module/xseg_kpeer/parameters/"
#define KSEG_PORTS	8

static char kseg_name[64];

static long long kpeer_param(const char *name)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), KPEER_PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int load_module(const char *name, const char *params)
{
	const char *dir = getenv("XSEG_MODDIR");
	char path[256], cmd[512];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (!params && !access(path, F_OK))
		return 0;
	snprintf(cmd, sizeof(cmd), "modprobe %s %s 2>/dev/null", name, params ? params : "");
	if (!system(cmd))
		return 0;
	if (!dir)
		return -1;
	snprintf(cmd, sizeof(cmd), "insmod %s/%s.ko %s", dir, name, params ? params : "");
	return system(cmd) ? -1 : 0;
}

/* A segdev segment with the kpeer serving ports 1 (waitqueue) and 2 (callback). */
static unsigned int kpeer_delay_us = UINT_MAX;

/* Sets a loaded kpeer's reply delay (a writable parameter); 0 or -1. */
static int kpeer_set_delay(unsigned int delay_us)
{
	FILE *f = fopen(KPEER_PARAMS "reply_delay_us", "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%u\n", delay_us) < 0;
	ret |= fclose(f) != 0;
	return ret ? -1 : 0;
}

/*
 * Has the kpeer serve the segment with this reply delay: loads it, or sets the delay of the
 * loaded one (a reload costs seconds under TCG), or reloads a kpeer whose delay is read-only.
 */
static int kpeer_start(unsigned int delay_us)
{
	char params[160];

	if (kpeer_delay_us == delay_us)
		return 0;
	if (kpeer_delay_us != UINT_MAX && !kpeer_set_delay(delay_us)) {
		kpeer_delay_us = delay_us;
		return 0;
	}
	system("rmmod xseg_kpeer 2>/dev/null");
	snprintf(params, sizeof(params), "segment=%s reply_delay_us=%u", kseg_name, delay_us);
	if (load_module("xseg_kpeer", params))
		return -1;
	kpeer_delay_us = delay_us;
	return 0;
}

static int kernel_setup(void)
{
	struct xseg_config cfg;
	struct xseg *x;

	if (load_module("segdev", NULL) || load_module("xseg", NULL))
		return -1;
	snprintf(kseg_name, sizeof(kseg_name), "xseg-bench-k-%d", (int)getpid());
	xseg_config_default(&cfg);
	cfg.nr_ports = KSEG_PORTS;
	cfg.nr_requests = 256;
	cfg.nr_sds = 8;
	xseg_destroy(&xseg_segdev_backend, kseg_name);
	if (xseg_create(&xseg_segdev_backend, kseg_name, &cfg, &x) || xseg_leave(x))
		return -1;
	return kpeer_start(0);
}

static void kernel_teardown(void)
{
	system("rmmod xseg_kpeer 2>/dev/null");
	xseg_destroy(&xseg_segdev_backend, kseg_name);
}

/* n PINGs at depth 1 from port 0 (type) to dst; rtt[] per request, *ksig kernel signals. */
static int run_kernel(const char *type, __u32 spin_ns, __u32 dst, unsigned long n, __u64 *rtt,
		      double *ksig_per_req)
{
	struct xseg_request *req;
	unsigned long i, done = 0;
	long long k0;
	struct peer p;
	int ret = -1;

	p.type = type;
	xseg_futex_set_spin_ns(spin_ns);
	if (xseg_join(&xseg_segdev_backend, kseg_name, &p.x))
		return -1;
	if (xseg_local_signal_init(p.x, type) || xseg_get_signal_desc(p.x, type, &p.sd))
		goto out_leave;
	if (xseg_bind_port(p.x, CLIENT_PORT, p.sd) < 0)
		goto out_fini;
	k0 = kpeer_param("user_signals");
	for (i = 0; i < n; i++) {
		__u64 t = now_ns();

		if (xseg_get_request(p.x, CLIENT_PORT, dst, &req))
			goto out_fini;
		req->op = XSEG_OP_PING;
		if (xseg_submit(p.x, req) != (int)dst || xseg_signal(p.x, dst) < 0)
			goto out_fini;
		if (wait_reply(&p, &done) < 0)
			goto out_fini;
		rtt[i] = now_ns() - t;
	}
	*ksig_per_req = (double)(kpeer_param("user_signals") - k0) / n;
	ret = 0;
out_fini:
	peer_fini(&p);
	p.x = NULL;
out_leave:
	if (p.x)
		xseg_leave(p.x);
	xseg_futex_set_spin_ns(XSEG_FUTEX_SPIN_DEFAULT_NS);
	return ret;
}

/* ---- the cases ---- */

struct lat_case {
	const char *name;
	bool is_xseg;
	enum base base;
	const char *type;
	__u32 spin_ns;
	unsigned long max_iter;	/* 0: --iterations; else at most this many */
	struct bench_stat p50, p99, ops;
};

static struct lat_case lat_cases[] = {
	{ "shm-spin", false, B_SPIN },
	{ "raw-futex", false, B_FUTEX },
	{ "eventfd", false, B_EVENTFD },
	{ "pipe", false, B_PIPE },
	{ "unix-socket", false, B_UNIX },
	{ "xseg-futex", true, 0, XSEG_SIGNAL_FUTEX, XSEG_FUTEX_SPIN_DEFAULT_NS },
	{ "xseg-futex-nospin", true, 0, XSEG_SIGNAL_FUTEX, 0 },
	{ "xseg-sigio", true, 0, XSEG_SIGNAL_SIGIO, 0 },
	/*
	 * "xseg-spin" (issue 6's name) is the poll type: the waiter spins on the dirty word,
	 * yielding, then napping 50 us, and no one makes a wake syscall.  Slow on a loaded
	 * machine, so fewer rounds.
	 */
	{ "xseg-spin", true, 0, XSEG_SIGNAL_POLL, 0, 500 },
};

struct tput_case {
	const char *name;
	const char *type;
	__u32 spin_ns;
	unsigned int qd;
	struct bench_stat ops, wakes;
};

struct kcase {
	const char *name;
	const char *type;
	__u32 spin_ns;
	__u32 dst;
	unsigned int delay_us;	/* the kpeer sleeps this long before each reply */
	struct bench_stat p50, p99, ops, ksig;
};

/*
 * The kernel-to-user cells have the kpeer sleep KCASE_DELAY_US before each reply, so that
 * the client is surely waiting when the reply comes (its callback is otherwise faster than
 * the client's way to sleep): kernel-to-user-futex sleeps in FUTEX_WAIT and is kicked every
 * time, kernel-to-user-futex-spin spins up to 1 ms and catches the reply without a kick;
 * their difference is the price of the kick, and ksig/req shows how many kicks the spin
 * avoids.
 */
#define KCASE_DELAY_US	100

static struct kcase kcases[] = {
	{ "user-to-kernel-waitqueue", XSEG_SIGNAL_FUTEX, XSEG_FUTEX_SPIN_DEFAULT_NS, 1, 0 },
	{ "user-to-kernel-callback", XSEG_SIGNAL_FUTEX, XSEG_FUTEX_SPIN_DEFAULT_NS, 2, 0 },
	{ "kernel-to-user-futex", XSEG_SIGNAL_FUTEX, 0, 2, KCASE_DELAY_US },
	{ "kernel-to-user-futex-spin", XSEG_SIGNAL_FUTEX, XSEG_FUTEX_SPIN_MAX_NS, 2,
	  KCASE_DELAY_US },
	{ "kernel-to-user-sigio", XSEG_SIGNAL_SIGIO, 0, 2, KCASE_DELAY_US },
};

#define N_KERNEL	(sizeof(kcases) / sizeof(*kcases))

#define CDF_POINTS	200

/* The sorted round trips of one run as CDF_POINTS + 1 points (the last one is the maximum). */
static void write_cdf(const char *name, const __u64 *rtt, unsigned long n)
{
	unsigned long i;

	if (!cdf || !last_run)
		return;
	fprintf(cdf, "# %s\n", name);
	for (i = 1; i <= CDF_POINTS; i++)
		fprintf(cdf, "%s %.4f %llu\n", name, (double)i / CDF_POINTS,
			(unsigned long long)rtt[(n - 1) * i / CDF_POINTS]);
}

static int run_kcase(struct kcase *k, __u64 *rtt)
{
	unsigned long i;
	__u64 sum = 0;
	double ksig;

	if (kpeer_start(k->delay_us) ||
	    run_kernel(k->type, k->spin_ns, k->dst, iterations, rtt, &ksig))
		return -1;
	for (i = 0; i < iterations; i++)
		sum += rtt[i];
	/* ping-pong rate at depth 1, the kpeer's reply delay included */
	k->ops.v[k->ops.n++] = 1e9 * iterations / (double)sum;
	bench_sort_u64(rtt, iterations);
	write_cdf(k->name, rtt, iterations);
	k->p50.v[k->p50.n++] = bench_pct(rtt, iterations, 50);
	k->p99.v[k->p99.n++] = bench_pct(rtt, iterations, 99);
	k->ksig.v[k->ksig.n++] = ksig;
	return 0;
}

static struct tput_case tput_cases[] = {
	{ "xseg-futex", XSEG_SIGNAL_FUTEX, XSEG_FUTEX_SPIN_DEFAULT_NS, 1 },
	{ "xseg-futex", XSEG_SIGNAL_FUTEX, XSEG_FUTEX_SPIN_DEFAULT_NS, 8 },
	{ "xseg-futex", XSEG_SIGNAL_FUTEX, XSEG_FUTEX_SPIN_DEFAULT_NS, 64 },
	{ "xseg-futex-nospin", XSEG_SIGNAL_FUTEX, 0, 1 },
	{ "xseg-futex-nospin", XSEG_SIGNAL_FUTEX, 0, 8 },
	{ "xseg-futex-nospin", XSEG_SIGNAL_FUTEX, 0, 64 },
	{ "xseg-sigio", XSEG_SIGNAL_SIGIO, 0, 1 },
	{ "xseg-sigio", XSEG_SIGNAL_SIGIO, 0, 8 },
	{ "xseg-sigio", XSEG_SIGNAL_SIGIO, 0, 64 },
};

#define N_LAT	ARRAY_SIZE(lat_cases)
#define N_TPUT	ARRAY_SIZE(tput_cases)

static int run_lat(struct lat_case *c, __u64 *rtt)
{
	unsigned long i, n = iterations;
	struct xres res;
	__u64 sum = 0;
	int ret;

	if (c->max_iter && c->max_iter < n)
		n = c->max_iter;
	if (c->is_xseg)
		ret = run_xseg(c->type, c->spin_ns, n, 1, 0, rtt, &res);
	else
		ret = run_base(c->base, n, rtt);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		sum += rtt[i];
	bench_sort_u64(rtt, n);
	write_cdf(c->name, rtt, n);
	c->p50.v[c->p50.n++] = bench_pct(rtt, n, 50);
	c->p99.v[c->p99.n++] = bench_pct(rtt, n, 99);
	c->ops.v[c->ops.n++] = 1e9 * n / (double)sum;
	return 0;
}

/* Wall time of each case on stderr: under TCG the cases' costs differ by orders of magnitude. */
static void took(const char *name, unsigned int qd, __u64 t0)
{
	fprintf(stderr, "# xseg-bench: %s qd %u: %.2f s\n", name, qd, (now_ns() - t0) / 1e9);
}

static struct lat_case *lat_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_LAT; i++)
		if (!strcmp(lat_cases[i].name, name))
			return &lat_cases[i];
	return NULL;
}

static void print_usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--iterations N] [--runs N] [--json FILE] [--cdf FILE] "
		"[--quick] [--kernel]\n", argv0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'i' },
		{ "runs", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ "cdf", required_argument, NULL, 'c' },
		{ "quick", no_argument, NULL, 'q' },
		{ "kernel", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lat_case *rf, *us, *xf, *xn;
	bool kernel = false;
	double rf50, us50;
	unsigned int r, i;
	__u64 *rtt;
	int c;

	while ((c = getopt_long(argc, argv, "i:r:j:c:qkh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			kernel = true;
			break;
		case 'i':
			iterations = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 0);
			break;
		case 'j':
			if (bench_json_open(&json, optarg, "ipc")) {
				perror(optarg);
				return 1;
			}
			break;
		case 'c':
			cdf = fopen(optarg, "w");
			if (!cdf) {
				perror(optarg);
				return 1;
			}
			break;
		case 'q':
			iterations = 2000;
			runs = 1;
			break;
		default:
			print_usage(argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (iterations < 100 || !runs || runs > BENCH_MAX_RUNS) {
		print_usage(argv[0]);
		return 2;
	}
	two_cpus = sysconf(_SC_NPROCESSORS_ONLN) >= 2;
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	rtt = calloc(iterations, sizeof(*rtt));
	if (ctl == MAP_FAILED || !rtt)
		return 1;
	if (kernel && kernel_setup()) {
		fprintf(stderr, "--kernel: cannot set up the kernel test peer (root, modules?)\n");
		return 1;
	}

	for (r = 0; r < runs; r++) {
		last_run = r + 1 == runs;
		for (i = 0; i < N_LAT; i++) {
			__u64 t0 = now_ns();

			if (run_lat(&lat_cases[i], rtt)) {
				fprintf(stderr, "%s: run failed\n", lat_cases[i].name);
				return 1;
			}
			took(lat_cases[i].name, 1, t0);
		}
		for (i = 0; i < N_TPUT; i++) {
			struct tput_case *t = &tput_cases[i];
			__u64 t0 = now_ns();
			struct xres res;

			if (run_xseg(t->type, t->spin_ns, iterations, t->qd, BUSY_WORK_NS, NULL,
				     &res)) {
				fprintf(stderr, "%s qd %u: run failed\n", t->name, t->qd);
				return 1;
			}
			t->ops.v[t->ops.n++] = 1e9 * iterations / (double)res.ns;
			t->wakes.v[t->wakes.n++] = res.wakes_per_req;
			took(t->name, t->qd, t0);
		}
		for (i = 0; kernel && i < N_KERNEL; i++) {
			__u64 t0 = now_ns();

			if (run_kcase(&kcases[i], rtt)) {
				fprintf(stderr, "%s: run failed\n", kcases[i].name);
				kernel_teardown();
				return 1;
			}
			took(kcases[i].name, 1, t0);
		}
	}
	if (kernel)
		kernel_teardown();

	rf = lat_find("raw-futex");
	us = lat_find("unix-socket");
	xf = lat_find("xseg-futex");
	xn = lat_find("xseg-futex-nospin");
	rf50 = bench_median(&rf->p50);
	us50 = bench_median(&us->p50);
	printf("# xseg-bench: %lu round trips x %u runs (median), %s\n", iterations, runs,
	       two_cpus ? "client on CPU 0, server on CPU 1" : "one CPU");
	printf("%-18s %10s %10s %12s %10s %10s\n", "case", "p50 ns", "p99 ns", "ops/s",
	       "/raw-futex", "/unix-sock");
	for (i = 0; i < N_LAT; i++) {
		struct lat_case *l = &lat_cases[i];
		double p50 = bench_median(&l->p50);

		printf("%-18s %10.0f %10.0f %12.0f %10.2f %10.2f\n", l->name, p50,
		       bench_median(&l->p99), bench_median(&l->ops), p50 / rf50, p50 / us50);
		bench_json_record(&json, l->name, "rtt_p50", &l->p50, "ns");
		bench_json_record(&json, l->name, "rtt_p99", &l->p99, "ns");
		bench_json_record(&json, l->name, "pingpong_ops", &l->ops, "ops/s");
	}
	printf("\n# streaming, server busy %u ns per request; wake syscalls of both sides\n",
	       BUSY_WORK_NS);
	printf("%-18s %4s %12s %12s\n", "case", "QD", "ops/s", "wakes/req");
	for (i = 0; i < N_TPUT; i++) {
		struct tput_case *t = &tput_cases[i];
		char name[64], metric[32];

		printf("%-18s %4u %12.0f %12.4f\n", t->name, t->qd, bench_median(&t->ops),
		       bench_median(&t->wakes));
		snprintf(name, sizeof(name), "%s", t->name);
		snprintf(metric, sizeof(metric), "ops_qd%u", t->qd);
		bench_json_record(&json, name, metric, &t->ops, "ops/s");
		snprintf(metric, sizeof(metric), "wakes_per_req_qd%u", t->qd);
		bench_json_record(&json, name, metric, &t->wakes, "syscalls/request");
	}
	if (kernel) {
		printf("\n# with a kernel side (xseg_kpeer), QD 1; %s\n",
		       "ratios to the user-to-user cells");
		printf("%-26s %10s %10s %9s %12s %10s\n", "case", "p50 ns", "p99 ns", "ksig/req",
		       "/xseg-futex", "/raw-futex");
		printf("# kernel-to-user-*: the kpeer sleeps %d us before each reply\n",
		       KCASE_DELAY_US);
		for (i = 0; i < N_KERNEL; i++) {
			struct kcase *k = &kcases[i];
			double p50 = bench_median(&k->p50);

			printf("%-26s %10.0f %10.0f %9.3f %12.2f %10.2f\n", k->name, p50,
			       bench_median(&k->p99), bench_median(&k->ksig),
			       p50 / bench_median(&xf->p50), p50 / rf50);
			bench_json_record(&json, k->name, "rtt_p50", &k->p50, "ns");
			bench_json_record(&json, k->name, "rtt_p99", &k->p99, "ns");
			bench_json_record(&json, k->name, "pingpong_ops", &k->ops, "ops/s");
			bench_json_record(&json, k->name, "kernel_signals_per_req", &k->ksig,
					  "signals/request");
		}
	}
	printf("\n# targets: xseg-futex/raw-futex %.2f (<= 1.3; without spinning %.2f), "
	       "xseg-futex/unix-socket %.2f (<= 0.5), wakes/req at QD64 busy %.4f (< 0.05)\n",
	       bench_median(&xf->p50) / rf50, bench_median(&xn->p50) / rf50,
	       bench_median(&xf->p50) / us50, bench_median(&tput_cases[2].wakes));
	bench_json_close(&json, true);
	if (cdf)
		fclose(cdf);
	free(rtt);
	return 0;
}
