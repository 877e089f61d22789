// SPDX-License-Identifier: GPL-2.0
/*
 * xseg-scale: how xseg's costs grow with what it is asked to carry.  User peers on a POSIX
 * segment, one signal type (futex by default):
 *
 *   ports     one client and one server process; P client ports each paired with one of P
 *             server ports (1..256), every port bound to its process's one signal descriptor;
 *             max(64, P) requests in flight, spread over the ports
 *   peers     K client processes and K server processes on one segment, K pairs of ports,
 *             8 requests in flight per pair: the shared request pool and heap under contention
 *   size      one pair, 8 in flight, each request carrying 512 B..1 MiB that the client
 *             writes and the server reads
 *   segment   segments of 64 MiB..several GiB: create and join time, and one pair's rate
 *             (4 KiB per request) on it
 *   memory    bytes of segment per port, per request and per signal descriptor, from the
 *             layout (xseg_segment_size()), at several table sizes
 *
 *   xseg-scale [--quick] [--runs N] [--requests N] [--max-segment SIZE] [--signal TYPE]
 *              [--json FILE]
 *
 * Each figure is the median of --runs runs (min and max in the JSON records).  The last
 * column of each table is the cost per unit of work (per request, or per byte for sizes)
 * relative to the first row: growth in that column means worse than linear.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xseg/posix.h>
#include <xseg/signal_user.h>
#include <xseg/xseg.h>

#include "../common/bench.h"

#define MAX_PROCS	64	/* client + server processes of one run */
#define RUN_TIMEOUT_S	120	/* a run that takes longer has hung */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static unsigned int runs = 3;
static unsigned long nreq = 200000;
static unsigned long long max_segment = 4ULL << 30;
static const char *sigtype = XSEG_SIGNAL_FUTEX;
static bool quick;
static struct bench_json json;

/* Shared by the processes of one run (MAP_SHARED | MAP_ANONYMOUS). */
struct ctl {
	__u32 ready;		/* processes that have bound their ports */
	__u32 go;		/* clients may start */
	__u32 stop;		/* servers may leave once idle */
	__u32 pad;
	__u64 start[MAX_PROCS];	/* per client: first submit, ns */
	__u64 end[MAX_PROCS];	/* per client: last reply, ns */
	__u64 join_ns[MAX_PROCS];
	__u64 checksum[MAX_PROCS];	/* per server: sum over the data it read */
};

static struct ctl *ctl;

/* What one run asks for. */
struct job {
	const char *seg;
	__u32 pairs;		/* client/server process pairs */
	__u32 ports;		/* port pairs per process pair */
	__u32 window;		/* requests in flight per client process */
	__u64 datalen;		/* bytes per request, 0: none */
	unsigned long n;	/* requests per client process */
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void emit1(const char *cas, const char *metric, double v, const char *unit)
{
	struct bench_stat s = { { v }, 1 };

	bench_json_record(&json, cas, metric, &s, unit);
}

/* ---- the peers ---- */

struct peer {
	struct xseg *x;
	struct xseg_sd *sd;
};

/* Joins the segment and binds ports first..first+count-1 to one descriptor. */
static int peer_init(struct peer *p, const char *seg, __u32 first, __u32 count)
{
	__u32 i;
	int ret;

	ret = xseg_join(&xseg_posix_backend, seg, &p->x);
	if (ret)
		return ret;
	ret = xseg_local_signal_init(p->x, sigtype);
	if (!ret)
		ret = xseg_get_signal_desc(p->x, sigtype, &p->sd);
	/* xseg_bind_port() returns the port number */
	for (i = 0; ret >= 0 && i < count; i++)
		ret = xseg_bind_port(p->x, first + i, p->sd);
	if (ret < 0)
		fprintf(stderr, "xseg-scale: join %s, bind ports %u..%u: %s\n", seg, first,
			first + count - 1, strerror(-ret));
	return ret < 0 ? ret : 0;
}

static void peer_fini(struct peer *p)
{
	xseg_put_signal_desc(p->sd);
	xseg_local_signal_quit(p->x, sigtype);
	xseg_leave(p->x);
}

/* Port numbers: client process k owns ports [2k * P, 2k * P + P), its server the next P. */
static __u32 client_port(const struct job *j, __u32 k, __u32 i)
{
	return 2 * k * j->ports + i;
}

static __u32 server_port(const struct job *j, __u32 k, __u32 i)
{
	return 2 * k * j->ports + j->ports + i;
}

/* One sweep over the server's ports; returns the requests served or -1. */
static int serve_sweep(struct peer *p, const struct job *j, __u32 k, __u64 *sum)
{
	struct xseg_request *req;
	__u64 len, s = 0, w;
	int n = 0, to;
	void *data;
	__u32 i;

	for (i = 0; i < j->ports; i++) {
		while (!xseg_accept(p->x, server_port(j, k, i), &req)) {
			if (j->datalen) {
				if (xseg_req_data(p->x, req, &data, &len))
					return -1;
				/* read every cache line the client wrote */
				for (w = 0; w < len; w += 64)
					s += ((const __u8 *)data)[w];
			}
			req->serviced = req->size;
			to = xseg_respond(p->x, req);
			if (to < 0 || xseg_signal(p->x, to) < 0)
				return -1;
			n++;
		}
	}
	*sum += s;
	return n;
}

static int server(const struct job *j, __u32 k)
{
	struct peer p;
	__u64 sum = 0;
	int n;

	if (peer_init(&p, j->seg, server_port(j, k, 0), j->ports))
		return 1;
	__atomic_add_fetch(&ctl->ready, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		n = serve_sweep(&p, j, k, &sum);
		if (n < 0)
			return 2;
		if (n)
			continue;
		if (__atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE))
			break;
		xseg_prepare_wait(p.sd);
		n = serve_sweep(&p, j, k, &sum);
		if (!n)
			xseg_wait_signal(p.sd, 10000);
		xseg_cancel_wait(p.sd);
		if (n < 0)
			return 3;
	}
	ctl->checksum[k] = sum;
	peer_fini(&p);
	return 0;
}

/* Collects the replies on every client port; returns how many or -1. */
static int collect(struct peer *p, const struct job *j, __u32 k)
{
	struct xseg_request *req;
	int n = 0;
	__u32 i;

	for (i = 0; i < j->ports; i++) {
		while (!xseg_receive(p->x, client_port(j, k, i), &req)) {
			if (req->result || req->serviced != req->size)
				return -1;
			if (xseg_put_request(p->x, req))
				return -1;
			n++;
		}
	}
	return n;
}

static int submit(struct peer *p, const struct job *j, __u32 k, unsigned long seq)
{
	__u32 i = seq % j->ports;
	struct xseg_request *req;
	void *data;
	__u64 len;
	int to;

	int ret = xseg_get_request(p->x, client_port(j, k, i), server_port(j, k, i), &req);

	if (ret) {
		fprintf(stderr, "xseg-scale: get request: %s\n", strerror(-ret));
		return -1;
	}
	req->op = XSEG_OP_PING;
	req->size = j->datalen;
	if (j->datalen) {
		if (xseg_prep_request(p->x, req, 0, j->datalen) ||
		    xseg_req_data(p->x, req, &data, &len)) {
			xseg_put_request(p->x, req);
			return -1;
		}
		memset(data, (int)seq, len);
	}
	to = xseg_submit(p->x, req);
	return to < 0 ? to : xseg_signal(p->x, to);
}

static int client(const struct job *j, __u32 k)
{
	unsigned long sent = 0, done = 0;
	struct peer p;
	__u64 t0;
	int n;

	t0 = now_ns();
	if (peer_init(&p, j->seg, client_port(j, k, 0), j->ports))
		return 1;
	ctl->join_ns[k] = now_ns() - t0;
	__atomic_add_fetch(&ctl->ready, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&ctl->go, __ATOMIC_ACQUIRE))
		sched_yield();
	ctl->start[k] = now_ns();
	while (done < j->n) {
		while (sent - done < j->window && sent < j->n) {
			if (submit(&p, j, k, sent))
				return 2;
			sent++;
		}
		n = collect(&p, j, k);
		if (n < 0)
			return 3;
		if (!n) {
			xseg_prepare_wait(p.sd);
			n = collect(&p, j, k);
			if (!n)
				xseg_wait_signal(p.sd, 100000);
			xseg_cancel_wait(p.sd);
			if (n < 0)
				return 3;
		}
		done += n;
	}
	ctl->end[k] = now_ns();
	peer_fini(&p);
	return 0;
}

/* ---- one run: fork the servers, then the clients; requests per second overall ---- */

static pid_t spawn(int (*fn)(const struct job *, __u32), const struct job *j, __u32 k)
{
	pid_t pid = fork();

	if (!pid) {
		alarm(RUN_TIMEOUT_S);
		_exit(fn(j, k));
	}
	return pid;
}

static bool wait_ready(__u32 want)
{
	__u64 deadline = now_ns() + RUN_TIMEOUT_S * 1000000000ULL;

	while (__atomic_load_n(&ctl->ready, __ATOMIC_ACQUIRE) < want) {
		if (now_ns() > deadline)
			return false;
		usleep(1000);
	}
	return true;
}

static bool reap(pid_t *pids, __u32 n)
{
	bool ok = true;
	int status;
	__u32 i;

	for (i = 0; i < n; i++) {
		if (pids[i] <= 0) {
			ok = false;
			continue;
		}
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ok = false;
	}
	return ok;
}

/* Runs the job on an existing segment; *ops_s is the aggregate request rate. */
static int run_job(const struct job *j, double *ops_s, double *join_ms)
{
	pid_t servers[MAX_PROCS / 2], clients[MAX_PROCS / 2];
	__u64 t0 = ~0ULL, t1 = 0;
	bool ok;
	__u32 k;

	memset(ctl, 0, sizeof(*ctl));
	for (k = 0; k < j->pairs; k++)
		servers[k] = spawn(server, j, k);
	ok = wait_ready(j->pairs);
	for (k = 0; k < j->pairs; k++)
		clients[k] = ok ? spawn(client, j, k) : -1;
	ok = ok && wait_ready(2 * j->pairs);
	__atomic_store_n(&ctl->go, 1, __ATOMIC_RELEASE);
	if (!ok)
		for (k = 0; k < j->pairs; k++) {
			if (clients[k] > 0)
				kill(clients[k], SIGKILL);
		}
	ok = reap(clients, j->pairs) && ok;
	__atomic_store_n(&ctl->stop, 1, __ATOMIC_RELEASE);
	ok = reap(servers, j->pairs) && ok;
	if (!ok)
		return -1;
	for (k = 0; k < j->pairs; k++) {
		if (ctl->start[k] < t0)
			t0 = ctl->start[k];
		if (ctl->end[k] > t1)
			t1 = ctl->end[k];
	}
	*ops_s = 1e9 * j->n * j->pairs / (double)(t1 - t0);
	if (join_ms)
		*join_ms = ctl->join_ns[0] / 1e6;
	return 0;
}

/* Creates a segment for the job (heap: at least heap bytes), runs it, destroys it. */
static int run_on_new_segment(struct job *j, __u64 heap, double *ops_s, double *create_ms,
			      double *join_ms)
{
	struct xseg_config cfg;
	struct xseg *owner;
	char seg[64];
	__u64 t0;
	int ret;

	snprintf(seg, sizeof(seg), "xseg-scale-%d", (int)getpid());
	j->seg = seg;
	xseg_config_default(&cfg);
	cfg.nr_ports = 2 * j->pairs * j->ports;
	cfg.nr_requests = j->pairs * j->window + 16;
	cfg.nr_sds = 2 * j->pairs + 2;
	cfg.alloc_unit = 4096;
	cfg.heap_size = (heap + cfg.alloc_unit - 1) & ~(__u64)(cfg.alloc_unit - 1);
	xseg_destroy(&xseg_posix_backend, seg);
	t0 = now_ns();
	ret = xseg_create(&xseg_posix_backend, seg, &cfg, &owner);
	if (ret) {
		fprintf(stderr, "xseg-scale: create %s (heap %llu): %s\n", seg,
			(unsigned long long)cfg.heap_size, strerror(-ret));
		return ret;
	}
	if (create_ms)
		*create_ms = (now_ns() - t0) / 1e6;
	ret = run_job(j, ops_s, join_ms);
	xseg_leave(owner);
	xseg_destroy(&xseg_posix_backend, seg);
	return ret;
}

/* ---- the axes ---- */

/* cost of one unit of work relative to the first row of the table */
static double rel(double cost, double *first)
{
	if (*first == 0)
		*first = cost;
	return cost / *first;
}

static int axis_ports(void)
{
	static const __u32 pts[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256 };
	double first = 0;
	unsigned int i, r;

	printf("\n# ports: one client and one server process, P port pairs, ");
	printf("max(64, P) in flight\n");
	printf("%8s %12s %10s\n", "ports", "ops/s", "cost/req");
	for (i = 0; i < ARRAY_SIZE(pts); i++) {
		struct job j = { .pairs = 1, .ports = pts[i], .window = pts[i] > 64 ? pts[i] : 64,
				 .n = nreq };
		struct bench_stat s = { .n = 0 };
		char cas[32];
		double v;

		if (quick && pts[i] != 1 && pts[i] != 16 && pts[i] != 256)
			continue;
		for (r = 0; r < runs; r++) {
			if (run_on_new_segment(&j, 1 << 20, &v, NULL, NULL))
				return -1;
			s.v[s.n++] = v;
		}
		snprintf(cas, sizeof(cas), "ports-%u", pts[i]);
		bench_json_record(&json, cas, "ops-per-s", &s, "ops/s");
		printf("%8u %12.0f %10.2f\n", pts[i], bench_median(&s),
		       rel(1 / bench_median(&s), &first));
	}
	return 0;
}

static int axis_peers(void)
{
	static const __u32 pts[] = { 1, 2, 4, 8, 16, 32 };
	double first = 0;
	unsigned int i, r;

	printf("\n# peers: K client and K server processes, one port pair each, ");
	printf("8 in flight each\n");
	printf("%8s %12s %10s\n", "pairs", "ops/s", "cost/req");
	for (i = 0; i < ARRAY_SIZE(pts); i++) {
		struct job j = { .pairs = pts[i], .ports = 1, .window = 8, .n = nreq / pts[i] };
		struct bench_stat s = { .n = 0 };
		char cas[32];
		double v;

		if (quick && pts[i] > 8)
			continue;
		for (r = 0; r < runs; r++) {
			if (run_on_new_segment(&j, 1 << 20, &v, NULL, NULL))
				return -1;
			s.v[s.n++] = v;
		}
		snprintf(cas, sizeof(cas), "peers-%u", pts[i]);
		bench_json_record(&json, cas, "ops-per-s", &s, "ops/s");
		printf("%8u %12.0f %10.2f\n", pts[i], bench_median(&s),
		       rel(1 / bench_median(&s), &first));
	}
	return 0;
}

static int axis_size(void)
{
	static const __u64 full[] = { 512, 2048, 8192, 32768, 131072, 524288, 1048576 };
	static const __u64 fast[] = { 512, 8192, 131072, 1048576 };
	const __u64 *sizes = quick ? fast : full;
	unsigned int i, r, nsizes = quick ? 4 : 7;
	double first = 0;

	printf("\n# data size: one pair, 8 in flight, the client writes and the server reads\n");
	printf("%8s %12s %10s %10s\n", "bytes", "ops/s", "MiB/s", "cost/byte");
	for (i = 0; i < nsizes; i++) {
		/* about the same bytes moved at every size, enough requests at small ones */
		unsigned long n = (quick ? 1ULL << 30 : 4ULL << 30) / sizes[i];
		struct job j = { .pairs = 1, .ports = 1, .window = 8,
				 .n = n > nreq ? nreq : n < 1000 ? 1000 : n, .datalen = sizes[i] };
		struct bench_stat s = { .n = 0 }, bw = { .n = 0 };
		char cas[32];
		double v;

		for (r = 0; r < runs; r++) {
			if (run_on_new_segment(&j, 16 * sizes[i] + (1 << 20), &v, NULL, NULL))
				return -1;
			s.v[s.n++] = v;
			bw.v[bw.n++] = v * sizes[i] / (1 << 20);
		}
		snprintf(cas, sizeof(cas), "size-%llu", (unsigned long long)sizes[i]);
		bench_json_record(&json, cas, "ops-per-s", &s, "ops/s");
		bench_json_record(&json, cas, "mib-per-s", &bw, "MiB/s");
		printf("%8llu %12.0f %10.1f %10.2f\n", (unsigned long long)sizes[i],
		       bench_median(&s), bench_median(&bw), rel(1 / bench_median(&bw), &first));
	}
	return 0;
}

static int axis_segment(void)
{
	double first = 0;
	unsigned long long size;
	unsigned int r;

	printf("\n# segment size: create, join, one pair (4 KiB per request, 8 in flight)\n");
	printf("%10s %10s %10s %12s %10s\n", "MiB", "create ms", "join ms", "ops/s", "cost/req");
	for (size = 64ULL << 20; size <= max_segment; size *= quick ? 16 : 4) {
		struct job j = { .pairs = 1, .ports = 1, .window = 8, .n = nreq / 4,
				 .datalen = 4096 };
		struct bench_stat s = { .n = 0 }, c = { .n = 0 }, jn = { .n = 0 };
		char cas[32];
		double v, cm, jm;

		for (r = 0; r < runs; r++) {
			if (run_on_new_segment(&j, size - (1 << 20), &v, &cm, &jm))
				return -1;
			s.v[s.n++] = v;
			c.v[c.n++] = cm;
			jn.v[jn.n++] = jm;
		}
		snprintf(cas, sizeof(cas), "segment-%llum", size >> 20);
		bench_json_record(&json, cas, "ops-per-s", &s, "ops/s");
		bench_json_record(&json, cas, "create-ms", &c, "ms");
		bench_json_record(&json, cas, "join-ms", &jn, "ms");
		printf("%10llu %10.2f %10.2f %12.0f %10.2f\n", size >> 20, bench_median(&c),
		       bench_median(&jn), bench_median(&s), rel(1 / bench_median(&s), &first));
	}
	return 0;
}

static int seg_size(__u32 ports, __u32 reqs, __u32 sds, __u64 *size)
{
	struct xseg_config cfg;

	xseg_config_default(&cfg);
	cfg.nr_ports = ports;
	cfg.nr_requests = reqs;
	cfg.nr_sds = sds;
	cfg.heap_size = cfg.alloc_unit;
	return xseg_segment_size(&cfg, size);
}

/*
 * Bytes per port, request and descriptor: the size difference between two layouts that
 * differ by many of them (table alignment is amortised), at several sizes of the other tables.
 */
static int axis_memory(void)
{
	static const __u32 reqs[] = { 256, 4096, 65536 };
	static const __u32 ports[] = { 16, 256, 4096 };
	char metric[48];
	__u64 a, b;
	unsigned int i;

	printf("\n# memory of the segment (layout, excluding the data heap)\n");
	for (i = 0; i < 3; i++) {
		if (seg_size(1, reqs[i], 16, &a) || seg_size(4097 - 1, reqs[i], 16, &b))
			return -1;
		snprintf(metric, sizeof(metric), "bytes-per-port-r%u", reqs[i]);
		emit1("memory", metric, (double)(b - a) / 4095, "bytes");
		printf("per port with %6u requests: %10.0f bytes\n", reqs[i],
		       (double)(b - a) / 4095);
	}
	for (i = 0; i < 3; i++) {
		if (seg_size(ports[i], 1024, 16, &a) || seg_size(ports[i], 65536, 16, &b))
			return -1;
		snprintf(metric, sizeof(metric), "bytes-per-request-p%u", ports[i]);
		emit1("memory", metric, (double)(b - a) / (65536 - 1024), "bytes");
		printf("per request with %4u ports: %10.0f bytes\n", ports[i],
		       (double)(b - a) / (65536 - 1024));
	}
	if (seg_size(16, 1024, 1, &a) || seg_size(16, 1024, 4096, &b))
		return -1;
	emit1("memory", "bytes-per-sd", (double)(b - a) / 4095, "bytes");
	printf("per signal descriptor:          %10.0f bytes\n", (double)(b - a) / 4095);
	return 0;
}

static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': case 'g':
		return v << 30;
	case 'M': case 'm':
		return v << 20;
	case 'K': case 'k':
		return v << 10;
	default:
		return v;
	}
}

static void print_usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--runs N] [--requests N] [--max-segment SIZE] ",
		argv0);
	fprintf(stderr, "[--signal TYPE] [--json FILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "runs", required_argument, NULL, 'r' },
		{ "requests", required_argument, NULL, 'n' },
		{ "max-segment", required_argument, NULL, 's' },
		{ "signal", required_argument, NULL, 't' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool runs_set = false, n_set = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "qr:n:s:t:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quick = true;
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 0);
			runs_set = true;
			break;
		case 'n':
			nreq = strtoul(optarg, NULL, 0);
			n_set = true;
			break;
		case 's':
			max_segment = parse_size(optarg);
			break;
		case 't':
			sigtype = optarg;
			break;
		case 'j':
			if (bench_json_open(&json, optarg, "scale")) {
				perror(optarg);
				return 1;
			}
			break;
		default:
			print_usage(argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (quick) {
		if (!runs_set)
			runs = 1;
		if (!n_set)
			nreq = 50000;
	}
	if (!runs || runs > BENCH_MAX_RUNS || nreq < 100 || max_segment < (64ULL << 20)) {
		print_usage(argv[0]);
		return 2;
	}
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED)
		return 1;
	printf("# xseg-scale: signal type %s, %lu requests per point, ", sigtype, nreq);
	printf("median of %u runs, %ld CPUs\n", runs, sysconf(_SC_NPROCESSORS_ONLN));
	ret = axis_memory();
	if (!ret)
		ret = axis_ports();
	if (!ret)
		ret = axis_peers();
	if (!ret)
		ret = axis_size();
	if (!ret)
		ret = axis_segment();
	bench_json_close(&json, true);
	if (ret)
		fprintf(stderr, "xseg-scale: a run failed\n");
	return ret ? 1 : 0;
}
