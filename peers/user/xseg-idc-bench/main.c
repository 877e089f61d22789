// SPDX-License-Identifier: GPL-2.0
/*
 * xseg-idc-bench: the endpoint API (<xseg/idc.h>) between two processes, the "idc" suite of
 * make bench.
 *
 *   xseg-idc-bench [--iterations N] [--runs N] [--signal TYPE] [--json FILE] [--quick]
 *
 * Cases (64-byte bodies, parameters and status; an echo service in the other process, the
 * two pinned to different CPUs when there are two):
 *   msg-stream   messages with the endpoint's quota (16) in flight: messages/s
 *   txn-rtt      one transaction at a time: round trip p50 and p99 (us)
 *   txn-stream   transactions with 16 in flight: transactions/s
 * Each case runs --runs times (default 3); the table shows the median, the JSON records
 * ({"suite":"idc", "case", "metric", "value", "unit", "runs", "min", "max"}) also min/max.
 *
 * Exit status: 0 success, 1 a case failed (an item completed with an error, or a timeout),
 * 2 usage error.
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

#include <xseg/idc.h>
#include <xseg/signal_user.h>

#include "../common/bench.h"

#define ITEM_SIZE	64
#define INFLIGHT	XSEG_IDC_DEF_QUOTA
#define CASE_TIMEOUT_S	120

static unsigned long iterations = 20000;
static unsigned int runs = 3;
static const char *sigtype = XSEG_SIGNAL_FUTEX;
static struct bench_json json;

struct shared {
	int stop;
	int ready;
};

static struct shared *sh;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* ---- the echo service (child process) ---- */

static void echo_msg(struct xseg_endpoint *ep, struct xseg_idc_message *msg)
{
	xseg_idc_message_complete(msg);
}

static void echo_txn(struct xseg_endpoint *ep, struct xseg_idc_transaction *txn)
{
	__u64 n = txn->params.len < txn->status.len ? txn->params.len : txn->status.len;

	memcpy(txn->status.addr, txn->params.addr, n);
	txn->status_len = n;
	xseg_idc_transaction_complete(txn, 0);
}

static const struct xseg_endpoint_ops echo_ops = {
	.handle_message = echo_msg,
	.handle_transaction = echo_txn,
};

static int server(void *mem, __u64 size)
{
	struct xseg_endpoint conns[2];
	struct xseg_idc_service svc;
	struct xseg_idc idc;
	struct xseg *x;

	pin(1);
	if (xseg_join_mem(mem, size, &x) || xseg_idc_init(&idc, x, sigtype))
		return 1;
	if (xseg_idc_service_register(&svc, &idc, "bench", &echo_ops, conns, 2, NULL))
		return 1;
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
		xseg_idc_wait(&idc, 10000);
	xseg_idc_service_unregister(&svc, 1000000);
	xseg_idc_fini(&idc);
	xseg_leave(x);
	return 0;
}

/* ---- the client ---- */

struct item {
	struct xseg_idc_message msg;
	struct xseg_idc_transaction txn;
	char body[ITEM_SIZE];
	char status[ITEM_SIZE];
	__u64 t0;
	bool busy;
};

static struct item items[INFLIGHT];
static unsigned long completed, failed;
static __u64 *rtt;
static unsigned long nrtt;
static bool record;		/* the depth-1 case records its round trips */

static void item_msg_done(struct xseg_idc_message *msg)
{
	struct item *it = msg->priv;

	it->busy = false;
	completed++;
	if (msg->error)
		failed++;
}

static void item_txn_done(struct xseg_idc_transaction *txn)
{
	struct item *it = txn->priv;

	it->busy = false;
	completed++;
	if (txn->error || txn->status_len != ITEM_SIZE)
		failed++;
	if (record && nrtt < iterations)
		rtt[nrtt++] = now_ns() - it->t0;
}

static int submit(struct xseg_endpoint *ep, struct item *it, bool txn)
{
	int ret;

	it->busy = true;
	it->t0 = now_ns();
	if (txn) {
		it->txn = (struct xseg_idc_transaction){
			.params = { it->body, ITEM_SIZE }, .status = { it->status, ITEM_SIZE },
			.complete = item_txn_done, .priv = it };
		ret = xseg_endpoint_submit_transaction(ep, &it->txn);
	} else {
		it->msg = (struct xseg_idc_message){ .body = { it->body, ITEM_SIZE },
						     .complete = item_msg_done, .priv = it };
		ret = xseg_endpoint_submit_message(ep, &it->msg);
	}
	if (ret)
		it->busy = false;
	return ret;
}

/* n items, depth at a time; returns the elapsed ns, 0 on failure */
static __u64 run_case(struct xseg_idc *idc, struct xseg_endpoint *ep, bool txn,
		      unsigned int depth, unsigned long n)
{
	__u64 start, deadline;
	unsigned long sent = 0;
	unsigned int i;

	completed = 0;
	failed = 0;
	start = now_ns();
	deadline = start + CASE_TIMEOUT_S * 1000000000ULL;
	while (completed < n) {
		for (i = 0; i < depth && sent < n; i++) {
			if (items[i].busy)
				continue;
			if (submit(ep, &items[i], txn))
				break;
			sent++;
		}
		if (!xseg_idc_poll(idc))
			xseg_idc_wait(idc, 1000);
		if (now_ns() > deadline || !xseg_endpoint_connected(ep))
			return 0;
	}
	return failed ? 0 : now_ns() - start;
}

static void emit(const char *cas, const char *metric, struct bench_stat *s, const char *unit)
{
	printf("  %-12s %-14s %12.2f %s\n", cas, metric, bench_median(s), unit);
	bench_json_record(&json, cas, metric, s, unit);
}

static int client(void *mem, __u64 size)
{
	struct bench_stat msgs = {}, txns = {}, p50 = {}, p99 = {};
	struct xseg_endpoint ep;
	struct xseg_idc idc;
	struct xseg *x;
	unsigned int r;
	__u64 ns;
	int i;

	pin(0);
	if (xseg_join_mem(mem, size, &x) || xseg_idc_init(&idc, x, sigtype))
		return 1;
	xseg_endpoint_create(&ep, &idc, "bench", NULL, NULL);
	for (i = 0; i < 500 && !xseg_endpoint_connected(&ep); i++)
		xseg_idc_wait(&idc, 10000);
	if (!xseg_endpoint_connected(&ep)) {
		fprintf(stderr, "xseg-idc-bench: no connection\n");
		return 1;
	}
	rtt = calloc(iterations, sizeof(*rtt));
	if (!rtt)
		return 1;
	/* warm-up */
	if (!run_case(&idc, &ep, true, INFLIGHT, iterations / 10 + 1))
		return 1;
	for (r = 0; r < runs; r++) {
		ns = run_case(&idc, &ep, false, INFLIGHT, iterations);
		if (!ns)
			return 1;
		msgs.v[msgs.n++] = iterations * 1e9 / ns;
		ns = run_case(&idc, &ep, true, INFLIGHT, iterations);
		if (!ns)
			return 1;
		txns.v[txns.n++] = iterations * 1e9 / ns;
		nrtt = 0;
		record = true;
		ns = run_case(&idc, &ep, true, 1, iterations);
		record = false;
		if (!ns || !nrtt)
			return 1;
		bench_sort_u64(rtt, nrtt);
		p50.v[p50.n++] = bench_pct(rtt, nrtt, 50) / 1000.0;
		p99.v[p99.n++] = bench_pct(rtt, nrtt, 99) / 1000.0;
	}
	printf("endpoint API, %s signal, %lu items of %d bytes per run, %u runs (median):\n",
	       sigtype, iterations, ITEM_SIZE, runs);
	emit("msg-stream", "msgs-per-s", &msgs, "1/s");
	emit("txn-stream", "txns-per-s", &txns, "1/s");
	emit("txn-rtt", "p50", &p50, "us");
	emit("txn-rtt", "p99", &p99, "us");
	xseg_endpoint_destroy(&ep, 1000000);
	xseg_idc_fini(&idc);
	xseg_leave(x);
	return 0;
}

static void print_usage(FILE *f)
{
	fprintf(f, "usage: xseg-idc-bench [--iterations N] [--runs N] [--signal TYPE] "
		"[--json FILE] [--quick]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'i' },
		{ "runs", required_argument, NULL, 'r' },
		{ "signal", required_argument, NULL, 's' },
		{ "json", required_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xseg_config cfg;
	__u64 size;
	void *mem;
	pid_t pid;
	int c, ret, st;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			iterations = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			runs = strtoul(optarg, NULL, 0);
			break;
		case 's':
			sigtype = optarg;
			break;
		case 'j':
			if (bench_json_open(&json, optarg, "idc")) {
				perror(optarg);
				return 1;
			}
			break;
		case 'q':
			iterations = 2000;
			runs = 1;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (!iterations || !runs || runs > BENCH_MAX_RUNS) {
		print_usage(stderr);
		return 2;
	}
	xseg_config_default(&cfg);
	cfg.nr_ports = 16;
	cfg.nr_requests = 256;
	cfg.nr_sds = 16;
	cfg.heap_size = 4 << 20;
	if (xseg_segment_size(&cfg, &size))
		return 1;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || sh == MAP_FAILED || xseg_init_mem(mem, size, &cfg))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid)
		_exit(server(mem, size));
	while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE))
		usleep(1000);
	ret = client(mem, size);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	waitpid(pid, &st, 0);
	bench_json_close(&json, !ret);
	if (ret || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "xseg-idc-bench: failed\n");
		return 1;
	}
	return 0;
}
