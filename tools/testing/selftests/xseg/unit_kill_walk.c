// SPDX-License-Identifier: GPL-2.0
/*
 * A peer killed at any instant of a hand-over strands no request.
 *
 * A forked peer makes one core call (get, put, accept, receive, submit, respond or forward) with
 * the segment
 * write-protected in its address space: each store to shared memory faults, the SIGSEGV
 * handler lets it through under the x86 trap flag and the SIGTRAP after it counts it.  Round
 * N stops the peer just before its store number N (SIGSTOP from the handler, then SIGKILL
 * from the parent), so the rounds walk every state a kill can leave in the segment, up to a
 * round where the call completes (and the peer is killed right after it).  After each kill:
 * xseg_reclaim() and a new peer on the dead one's port, in both orders; the originator must
 * get every request back exactly once (served, or answered -EPIPE), every request must end
 * free (FREE, held by nobody) and a new peer must be able to get every one of them.
 *
 * The same walk covers the claim and release of the segment tables' entries (claim.c):
 * the service registry and the remote buffer table.
 *
 * Where the trap flag does not work (valgrind does not emulate it; not x86-64), the walk covers
 * "before the first store" and "after the call" only: the parent's reclaim and take paths
 * still run (under memcheck, in the valgrind stage).
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <ucontext.h>

#include <xseg/idc.h>
#include <xseg/internal.h>
#include <xseg/signal_user.h>

#include "unit_common.h"
#include "kselftest_harness.h"

#define CLIENT		0
#define SERVER		1
#define MID		2	/* a forwarder to SERVER (OP_FORWARD) */
#define OTHER		3	/* the port of the peer killed in get or put */
#define NREQ		3	/* requests in flight per round */
#define NR_REQUESTS	64	/* unit_small_config() */
#define MAX_ROUNDS	400	/* far above the stores of one call: a walk that never ends */
#define X86_TF		0x100UL

#ifdef __x86_64__
static void set_trap_flag(void *uctx, bool on)
{
	ucontext_t *uc = uctx;

	if (on)
		uc->uc_mcontext.gregs[REG_EFL] |= X86_TF;
	else
		uc->uc_mcontext.gregs[REG_EFL] &= ~X86_TF;
}
#else
static void set_trap_flag(void *uctx, bool on)
{
}
#endif

enum op {
	OP_GET, OP_PUT, OP_ACCEPT, OP_RECEIVE, OP_SUBMIT, OP_RESPOND, OP_FORWARD,
	/* the claim and release of the tables' entries (claim_round()) */
	OP_REG_ADD, OP_REG_DEL, OP_BUF_REG, OP_BUF_UNREG,
};

#define CL_NAME		"walk"	/* the registry name the claim walk's peer registers */
#define CL_PORT		5

/* Child side: the protected range and the store counter (process-local). */
static struct {
	char *lo;
	size_t len;
	long stop_at;		/* stop before this store (0-based) */
	long stores;
} trap;

/*
 * Whether the trap flag works here (probed by the parent, inherited by the children).  If
 * not, a child is never resumed after a fault: a SIGSEGV under valgrind resumes with only
 * the unwinding registers precise, which would corrupt the call.
 */
static bool tf_ok;

/* Shared with the children: set by one whose call completed. */
static int *completed;

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
	char *a = si->si_addr;

	if (a < trap.lo || a >= trap.lo + trap.len) {
		/* a real fault: die of it, the parent reports it */
		signal(SIGSEGV, SIG_DFL);
		return;
	}
	if (trap.stores == trap.stop_at)
		raise(SIGSTOP);		/* the parent kills us here */
	mprotect(trap.lo, trap.len, PROT_READ | PROT_WRITE);
	set_trap_flag(uctx, true);
}

static void on_trap(int sig, siginfo_t *si, void *uctx)
{
	trap.stores++;
	set_trap_flag(uctx, false);
	mprotect(trap.lo, trap.len, PROT_READ);
}

/* Probe: does a trap flag set from a signal handler give a SIGTRAP after one instruction? */
static int probe_traps;

static void probe_on_trap(int sig, siginfo_t *si, void *uctx)
{
	probe_traps++;
	set_trap_flag(uctx, false);
}

static void probe_on_usr1(int sig, siginfo_t *si, void *uctx)
{
	set_trap_flag(uctx, true);
}

static bool trap_flag_works(void)
{
	struct sigaction sa = { .sa_flags = SA_SIGINFO }, old_trap, old_usr1;

	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = probe_on_trap;
	sigaction(SIGTRAP, &sa, &old_trap);
	sa.sa_sigaction = probe_on_usr1;
	sigaction(SIGUSR1, &sa, &old_usr1);
	probe_traps = 0;
	raise(SIGUSR1);
	sigaction(SIGTRAP, &old_trap, NULL);
	sigaction(SIGUSR1, &old_usr1, NULL);
	return __atomic_load_n(&probe_traps, __ATOMIC_RELAXED) > 0;
}

static void arm(void *mem, __u64 size, long stop_at)
{
	struct sigaction sa = { .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_segv;
	sigaction(SIGSEGV, &sa, NULL);
	sa.sa_sigaction = on_trap;
	sigaction(SIGTRAP, &sa, NULL);
	trap.lo = mem;
	trap.len = (size + 4095) & ~4095ULL;
	trap.stop_at = stop_at;
	trap.stores = 0;
	if (tf_ok || !stop_at)
		mprotect(trap.lo, trap.len, PROT_READ);
}

static void disarm(void)
{
	mprotect(trap.lo, trap.len, PROT_READ | PROT_WRITE);
}

/* The peer that dies: joins, sets up its side, makes the call under the trap, dies. */
static int child(enum op op, void *mem, __u64 size, long stop_at)
{
	struct xseg_idc_buffer buf;
	struct xseg_idc_lbuf lbuf;
	struct xseg_request *req;
	struct xseg_idc idc;
	struct xseg *x;
	__u32 idx;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (xseg_join_mem(mem, size, &x))
		return 10;
	switch (op) {
	case OP_GET:
		if (xseg_bind_port(x, OTHER, NULL) != OTHER)
			return 11;
		arm(mem, size, stop_at);
		if (xseg_get_request(x, OTHER, SERVER, &req))
			return 12;
		break;
	case OP_PUT:
		if (xseg_bind_port(x, OTHER, NULL) != OTHER ||
		    xseg_get_request(x, OTHER, SERVER, &req))
			return 11;
		arm(mem, size, stop_at);
		if (xseg_put_request(x, req))
			return 12;
		break;
	case OP_ACCEPT:
		if (xseg_bind_port(x, SERVER, NULL) != SERVER)
			return 11;
		arm(mem, size, stop_at);
		if (xseg_accept(x, SERVER, &req))
			return 12;
		break;
	case OP_RECEIVE:
		if (xseg_bind_port(x, CLIENT, NULL) != CLIENT)
			return 11;
		arm(mem, size, stop_at);
		if (xseg_receive(x, CLIENT, &req))
			return 12;
		break;
	case OP_SUBMIT:
		if (xseg_bind_port(x, CLIENT, NULL) != CLIENT ||
		    xseg_get_request(x, CLIENT, SERVER, &req))
			return 11;
		req->priv = NREQ;	/* the one the dead peer originates */
		arm(mem, size, stop_at);
		if (xseg_submit(x, req) != SERVER)
			return 12;
		break;
	case OP_RESPOND:
		if (xseg_bind_port(x, SERVER, NULL) != SERVER || xseg_accept(x, SERVER, &req))
			return 11;
		req->result = 0;
		arm(mem, size, stop_at);
		if (xseg_respond(x, req) != CLIENT)
			return 12;
		break;
	case OP_FORWARD:
		if (xseg_bind_port(x, MID, NULL) != MID || xseg_accept(x, MID, &req))
			return 11;
		arm(mem, size, stop_at);
		if (xseg_forward(x, req, SERVER) != SERVER)
			return 12;
		break;
	case OP_REG_ADD:
		arm(mem, size, stop_at);
		if (xseg_idc_registry_add(x, CL_NAME, CL_PORT, &idx))
			return 12;
		break;
	case OP_REG_DEL:
		if (xseg_idc_registry_add(x, CL_NAME, CL_PORT, &idx))
			return 11;
		arm(mem, size, stop_at);
		if (xseg_idc_registry_del(x, idx))
			return 12;
		break;
	case OP_BUF_REG:
	case OP_BUF_UNREG:
		if (xseg_idc_init(&idc, x, XSEG_SIGNAL_FUTEX) ||
		    xseg_idc_buffer_alloc(&idc, 4096, &lbuf))
			return 11;
		if (op == OP_BUF_UNREG &&
		    xseg_idc_register_buffer(&idc, &lbuf, XSEG_BUF_RIGHTS, &buf))
			return 11;
		arm(mem, size, stop_at);
		if (op == OP_BUF_REG ?
		    xseg_idc_register_buffer(&idc, &lbuf, XSEG_BUF_RIGHTS, &buf) :
		    xseg_idc_unregister_buffer(&buf))
			return 12;
		break;
	}
	disarm();
	__atomic_store_n(completed, 1, __ATOMIC_RELAXED);
	/* dies holding whatever the call left it (no leave: a crash, not an exit) */
	raise(SIGKILL);
	return 13;
}

/*
 * Forks the peer doing op on the segment at mem, stops it before its store number stop_at
 * and kills it.  Returns whether its call completed.
 */
static bool kill_child(struct __test_metadata *_metadata, enum op op, void *mem, __u64 size,
		       long stop_at)
{
	pid_t pid;
	int st;

	__atomic_store_n(completed, 0, __ATOMIC_RELAXED);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(child(op, mem, size, stop_at));
	ASSERT_EQ(pid, waitpid(pid, &st, WUNTRACED));
	if (WIFSTOPPED(st)) {
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
	}
	/* killed, never a crash or a failed setup */
	ASSERT_TRUE(WIFSIGNALED(st)) TH_LOG("exit %d", WEXITSTATUS(st));
	ASSERT_EQ(SIGKILL, WTERMSIG(st));
	return __atomic_load_n(completed, __ATOMIC_RELAXED);
}

struct round {
	void *mem;
	__u64 size;
	struct xseg *cl, *sv, *md, *rc;	/* originator, new server and forwarder, reclaimer */
	__u32 served[NREQ + 1];		/* by priv: times the new server got it */
	__u32 back[NREQ + 1];		/* by priv: times the originator got it back */
	__u32 epipe;
};

static int round_setup(struct round *r, __u32 dst)
{
	struct xseg_config cfg;
	struct xseg_request *req;
	__u64 i;

	memset(r, 0, sizeof(*r));
	unit_small_config(&cfg);
	if (xseg_segment_size(&cfg, &r->size))
		return -1;
	r->mem = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r->mem == MAP_FAILED || xseg_init_mem(r->mem, r->size, &cfg))
		return -1;
	if (xseg_join_mem(r->mem, r->size, &r->cl) || xseg_join_mem(r->mem, r->size, &r->sv) ||
	    xseg_join_mem(r->mem, r->size, &r->md) || xseg_join_mem(r->mem, r->size, &r->rc))
		return -1;
	if (xseg_bind_port(r->cl, CLIENT, NULL) != CLIENT)
		return -1;
	/* NREQ requests from the originator to dst, told apart by priv */
	for (i = 0; i < NREQ; i++) {
		if (xseg_get_request(r->cl, CLIENT, dst, &req))
			return -1;
		req->priv = i;
		if (xseg_submit(r->cl, req) != (int)dst)
			return -1;
	}
	return 0;
}

/* Everything queued to the server port: served (result 0) by the new server. */
static int drain_server(struct round *r)
{
	struct xseg_request *req;
	int n, ret;

	if (xseg_bind_port(r->sv, SERVER, NULL) != SERVER)
		return -1;
	for (n = 0; n < 4 * NREQ && !xseg_accept(r->sv, SERVER, &req); n++) {
		if (req->priv > NREQ)
			return -1;
		r->served[req->priv]++;
		req->result = 0;
		ret = xseg_respond(r->sv, req);
		if (ret != CLIENT && ret != MID)
			return -1;
	}
	return 0;
}

/* The new forwarder: requests on to the server, replies on back. */
static int drain_mid(struct round *r)
{
	struct xseg_request *req;
	int n;

	if (xseg_bind_port(r->md, MID, NULL) != MID)
		return -1;
	for (n = 0; n < 4 * NREQ && !xseg_accept(r->md, MID, &req); n++)
		if (xseg_forward(r->md, req, SERVER) != SERVER)
			return -1;
	for (n = 0; n < 4 * NREQ && xseg_receive(r->md, MID, &req) == XSEG_RECV_FORWARDED; n++)
		if (xseg_respond(r->md, req) != CLIENT)
			return -1;
	return 0;
}

/* Every reply queued to the originator: counted and put back. */
static int drain_client(struct round *r)
{
	struct xseg_request *req;
	int n, ret;

	if (xseg_bind_port(r->cl, CLIENT, NULL) != CLIENT)
		return -1;
	for (n = 0; n < 4 * NREQ; n++) {
		ret = xseg_receive(r->cl, CLIENT, &req);
		if (ret == -EAGAIN)
			break;
		if (ret || req->priv > NREQ)
			return -1;
		r->back[req->priv]++;
		if (req->result == -EPIPE)
			r->epipe++;
		else if (req->result)
			return -1;
		if (xseg_put_request(r->cl, req))
			return -1;
	}
	return 0;
}

/* New peers on every port take what is queued, until it is all back with the originator. */
static int settle(struct round *r)
{
	int i;

	for (i = 0; i < 3; i++)
		if (drain_mid(r) || drain_server(r))
			return -1;
	return drain_client(r);
}

static void round_teardown(struct round *r)
{
	if (r->rc)
		xseg_leave(r->rc);
	if (r->md)
		xseg_leave(r->md);
	if (r->sv)
		xseg_leave(r->sv);
	if (r->cl)
		xseg_leave(r->cl);
	if (r->mem && r->mem != MAP_FAILED)
		munmap(r->mem, r->size);
}

/*
 * One round: the peer doing op is stopped before its store number stop_at and killed.
 * Returns whether its call completed (the walk is over).
 */
static bool kill_round(struct __test_metadata *_metadata, enum op op, long stop_at,
		       bool consumer_first)
{
	struct xseg_request *reqs[NR_REQUESTS];
	struct xseg_info info;
	__u32 i, back = 0;
	struct round r;
	char what[64];
	bool done;

	snprintf(what, sizeof(what), "op %d, killed before store %ld, %s first", op, stop_at,
		 consumer_first ? "consumer" : "reclaim");

	ASSERT_EQ(0, round_setup(&r, op == OP_FORWARD ? MID : SERVER));
	if (op == OP_RECEIVE) {
		/* the replies wait in the originator's reply ring; the originator goes away */
		ASSERT_EQ(0, drain_server(&r));
		ASSERT_EQ(0, xseg_leave_port(r.cl, CLIENT));
	}
	if (op == OP_SUBMIT)
		/* its port is the dead peer's: the original client leaves it */
		ASSERT_EQ(0, xseg_leave_port(r.cl, CLIENT));

	done = kill_child(_metadata, op, r.mem, r.size, stop_at);

	/* a new consumer may find the dead peer's leftovers before or after reclaim */
	if (consumer_first)
		ASSERT_EQ(0, settle(&r));
	xseg_reclaim(r.rc);
	ASSERT_EQ(0, settle(&r));

	/* exactly once: served at most once, back to the originator exactly once */
	for (i = 0; i < NREQ; i++) {
		EXPECT_GE(1, r.served[i]) TH_LOG("%s: request %u served %u times", what, i,
						 r.served[i]);
		back += r.back[i];
		/* a dead receiver may have taken it (receive) */
		EXPECT_EQ(1, op == OP_RECEIVE ? 1 : r.back[i])
			TH_LOG("%s: request %u back %u times", what, i, r.back[i]);
		EXPECT_GE(1, r.back[i]) TH_LOG("%s: request %u back %u times", what, i,
					       r.back[i]);
	}
	/*
	 * The dead receiver was the originator: the reply it had claimed and marked as being
	 * received (its stores: claim, slot, cons, route flag cleared, state) is freed, not
	 * received by the port's next owner; one it had not claimed yet, or not marked yet, is
	 * received by that owner.
	 */
	if (op == OP_RECEIVE)
		EXPECT_EQ(done || stop_at >= 4 ? NREQ - 1 : NREQ, back)
			TH_LOG("%s: %u replies back", what, back);
	/* the dead originator's own request: if served, its reply reached its port's heir */
	EXPECT_GE(1, r.served[NREQ]);
	EXPECT_EQ(r.served[NREQ], r.back[NREQ]);
	EXPECT_EQ(op == OP_SUBMIT && done ? 1 : r.served[NREQ], r.served[NREQ]);
	EXPECT_GE(1, r.epipe);
	/*
	 * A respond writes the new route first (a forward after the path entry above
	 * path_len): killed before it, the request is answered -EPIPE; killed after, the
	 * hand-over is finished and the server's result stands.
	 */
	if (op == OP_RESPOND || op == OP_FORWARD)
		EXPECT_EQ(!done && stop_at <= (op == OP_FORWARD), r.epipe)
			TH_LOG("%s: %u answered -EPIPE", what, r.epipe);
	/* nothing stranded or leaked: every request free and a get finds each one */
	ASSERT_EQ(0, xseg_get_info(r.rc, &info));
	EXPECT_EQ(NR_REQUESTS, info.requests_free) TH_LOG("%s: %u free", what,
							  info.requests_free);
	EXPECT_EQ(0, info.heap_used);
	for (i = 0; i < NR_REQUESTS; i++)
		if (xseg_get_request(r.cl, CLIENT, SERVER, &reqs[i]))
			break;
	EXPECT_EQ(NR_REQUESTS, i) TH_LOG("%s: %u requests to get", what, i);
	round_teardown(&r);
	return done;
}

/*
 * ---- the claim step of the segment tables (claim.c) ----
 *
 * The parent fills every entry of the service registry (or of the remote buffer table) but
 * one; the child registers in that last entry, or deregisters from it, and is killed before
 * each of its stores.  Then the parent must be able to register one more: the entry the
 * dead peer was writing is never left claimed by nobody.
 *
 * One round of the claim walk; returns whether the child's call completed.
 */
static bool claim_round(struct __test_metadata *_metadata, enum op op, long stop_at)
{
	struct xseg_idc_buffer bufs[XSEG_IDC_BUFFERS];
	struct xseg_idc_lbuf lbuf;
	struct xseg_config cfg;
	struct xseg_idc idc;
	struct xseg *x;
	char name[XSEG_IDC_NAME_LEN];
	bool buffers = op == OP_BUF_REG || op == OP_BUF_UNREG;
	__u32 i, idx, nr = buffers ? XSEG_IDC_BUFFERS : XSEG_IDC_SERVICES;
	__u64 size;
	void *mem;
	bool done;

	unit_small_config(&cfg);
	ASSERT_EQ(0, xseg_segment_size(&cfg, &size));
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, xseg_init_mem(mem, size, &cfg));
	ASSERT_EQ(0, xseg_join_mem(mem, size, &x));
	ASSERT_EQ(0, xseg_idc_init(&idc, x, XSEG_SIGNAL_FUTEX));
	ASSERT_EQ(0, xseg_idc_buffer_alloc(&idc, 4096, &lbuf));
	/* every entry but one taken by a live peer */
	for (i = 0; i < nr - 1; i++) {
		snprintf(name, sizeof(name), "fill%u", i);
		ASSERT_EQ(0, buffers ?
			  xseg_idc_register_buffer(&idc, &lbuf, XSEG_BUF_RIGHTS, &bufs[i]) :
			  xseg_idc_registry_add(x, name, CL_PORT, &idx));
	}
	done = kill_child(_metadata, op, mem, size, stop_at);

	/* the last entry is this peer's to take, wherever the dead one stopped */
	EXPECT_EQ(0, buffers ?
		  xseg_idc_register_buffer(&idc, &lbuf, XSEG_BUF_RIGHTS, &bufs[nr - 1]) :
		  xseg_idc_registry_add(x, CL_NAME, CL_PORT, &idx))
		TH_LOG("op %d, killed before store %ld: the last entry is lost", op, stop_at);
	if (!buffers)
		EXPECT_EQ(0, xseg_idc_lookup(x, CL_NAME, &i));
	xseg_idc_fini(&idc);
	xseg_leave(x);
	munmap(mem, size);
	return done;
}

/* Walks every store of op; returns the number of stores the call makes. */
static long walk(struct __test_metadata *_metadata, enum op op)
{
	long n;

	for (n = 0; n < MAX_ROUNDS; n++) {
		bool done;

		if (op >= OP_REG_ADD) {
			done = claim_round(_metadata, op, n);
		} else {
			done = kill_round(_metadata, op, n, false);
			EXPECT_EQ(done, kill_round(_metadata, op, n, true));
		}
		if (done)
			break;
	}
	EXPECT_LT(n, MAX_ROUNDS);
	return n;
}

FIXTURE(walk) {
	void *page;
};

FIXTURE_SETUP(walk)
{
	self->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
	completed = self->page;
	tf_ok = trap_flag_works();
}

FIXTURE_TEARDOWN(walk)
{
	munmap(self->page, 4096);
}

static void check_stores(struct __test_metadata *_metadata, long stores, long min)
{
	TH_LOG("a kill before each of %ld stores to the segment, and after the call", stores);
	if (!tf_ok) {
		TH_LOG("no trap flag here (valgrind?): only before the first store and after");
		return;
	}
	/* the walk reached the middle of the hand-over, or it proves nothing */
	EXPECT_GE(stores, min);
}

TEST_F(walk, originator_killed_in_get_request)
{
	/* claim, state change (then the fields) */
	check_stores(_metadata, walk(_metadata, OP_GET), 2);
}

TEST_F(walk, originator_killed_in_put_request)
{
	/* the fields, state change, holder released */
	check_stores(_metadata, walk(_metadata, OP_PUT), 3);
}

TEST_F(walk, server_killed_in_accept)
{
	/* claim, slot consumed, cons advanced, state change */
	check_stores(_metadata, walk(_metadata, OP_ACCEPT), 4);
}

TEST_F(walk, client_killed_in_receive)
{
	check_stores(_metadata, walk(_metadata, OP_RECEIVE), 5);
}

TEST_F(walk, client_killed_in_submit)
{
	/* state change, ticket, slot published, prod advanced */
	check_stores(_metadata, walk(_metadata, OP_SUBMIT), 4);
}

TEST_F(walk, server_killed_in_respond)
{
	check_stores(_metadata, walk(_metadata, OP_RESPOND), 4);
}

TEST_F(walk, forwarder_killed_in_forward)
{
	/* route, state change, ticket, slot published, prod advanced */
	check_stores(_metadata, walk(_metadata, OP_FORWARD), 5);
}

TEST_F(walk, claimer_killed_in_registry_add)
{
	/* owner, state, name, port, gen, state */
	check_stores(_metadata, walk(_metadata, OP_REG_ADD), 4);
}

TEST_F(walk, releaser_killed_in_registry_del)
{
	check_stores(_metadata, walk(_metadata, OP_REG_DEL), 3);
}

TEST_F(walk, claimer_killed_in_register_buffer)
{
	check_stores(_metadata, walk(_metadata, OP_BUF_REG), 4);
}

TEST_F(walk, releaser_killed_in_unregister_buffer)
{
	check_stores(_metadata, walk(_metadata, OP_BUF_UNREG), 4);
}

TEST_HARNESS_MAIN
