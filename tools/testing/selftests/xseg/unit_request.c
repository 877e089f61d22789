// SPDX-License-Identifier: GPL-2.0
/* Request flow: get/prep/submit/accept/respond/receive/put, forward paths, ring wrap-around. */
#include <sys/wait.h>

#include <sys/mman.h>

#include "unit_common.h"
#include "kselftest_harness.h"

/* The tag a peer in a child process had: that process has exited and been reaped. */
static __u64 unit_dead_tag(void)
{
	__u64 *tag = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	__u64 t;
	pid_t pid;

	if (tag == MAP_FAILED)
		return 0;
	*tag = 0;
	pid = fork();
	if (!pid) {
		*tag = xseg_dom_peer_tag();
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	t = *tag;
	munmap(tag, 4096);
	return t;
}

FIXTURE(flow) {
	void *mem;
	__u64 size;
	struct xseg *cl, *sv, *mid;	/* three peers on one segment */
};

FIXTURE_SETUP(flow)
{
	struct xseg_config cfg;

	unit_small_config(&cfg);
	cfg.nr_requests = 16;	/* ring of 16 slots: wrap-around comes quickly */
	self->mem = unit_mem_segment(&cfg, &self->size);
	ASSERT_NE(NULL, self->mem);
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->cl));
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->sv));
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->mid));
	ASSERT_EQ(0, xseg_bind_port(self->cl, 0, NULL));
	ASSERT_EQ(1, xseg_bind_port(self->sv, 1, NULL));
	ASSERT_EQ(2, xseg_bind_port(self->mid, 2, NULL));
}

FIXTURE_TEARDOWN(flow)
{
	xseg_leave(self->cl);
	xseg_leave(self->sv);
	xseg_leave(self->mid);
	free(self->mem);
}

TEST_F(flow, round_trip_with_data)
{
	struct xseg_request *req, *got;
	struct xseg_info info;
	char *target;
	void *data;
	__u64 dlen;
	__u32 tlen;

	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &req));
	EXPECT_EQ(XSEG_RS_GOT, req->state);
	ASSERT_EQ(0, xseg_prep_request(self->cl, req, 6, 10000));
	ASSERT_EQ(0, xseg_req_target(self->cl, req, &target, &tlen));
	ASSERT_EQ(6, tlen);
	memcpy(target, "volume", 6);
	ASSERT_EQ(0, xseg_req_data(self->cl, req, &data, &dlen));
	ASSERT_EQ(10000, dlen);
	EXPECT_EQ(0, ((char *)data - (char *)self->mem) % 4096);	/* direct-I/O friendly */
	memset(data, 0xab, dlen);
	req->op = XSEG_OP_WRITE;
	req->flags = XSEG_RF_FUA;
	req->offset = 4096;
	req->size = dlen;

	EXPECT_EQ(-EAGAIN, xseg_accept(self->sv, 1, &got));
	ASSERT_EQ(1, xseg_submit(self->cl, req));
	EXPECT_EQ(XSEG_RS_SUBMITTED, req->state);
	EXPECT_EQ(-EPERM, xseg_accept(self->cl, 1, &got));	/* not cl's port */
	ASSERT_EQ(0, xseg_accept(self->sv, 1, &got));
	ASSERT_EQ(req, got);
	EXPECT_EQ(XSEG_RS_SERVING, got->state);
	EXPECT_EQ(XSEG_OP_WRITE, got->op);
	ASSERT_EQ(0, xseg_req_target(self->sv, got, &target, &tlen));
	EXPECT_EQ(0, memcmp(target, "volume", 6));
	ASSERT_EQ(0, xseg_req_data(self->sv, got, &data, &dlen));
	EXPECT_EQ(0xab, ((unsigned char *)data)[9999]);
	got->serviced = dlen;
	EXPECT_EQ(-EPERM, xseg_respond(self->cl, got));	/* only the server responds */
	ASSERT_EQ(0, xseg_respond(self->sv, got));
	EXPECT_EQ(XSEG_RS_RESPONDED, req->state);
	EXPECT_EQ(-EAGAIN, xseg_accept(self->sv, 1, &got));
	ASSERT_EQ(0, xseg_receive(self->cl, 0, &got));
	ASSERT_EQ(req, got);
	EXPECT_EQ(XSEG_RS_CONCLUDED, req->state);
	EXPECT_EQ(10000, req->serviced);
	EXPECT_EQ(-EPERM, xseg_put_request(self->sv, req));
	ASSERT_EQ(0, xseg_put_request(self->cl, req));
	EXPECT_EQ(XSEG_RS_FREE, req->state);
	EXPECT_EQ(-EINVAL, xseg_put_request(self->cl, req));	/* twice */

	ASSERT_EQ(0, xseg_get_info(self->cl, &info));
	EXPECT_EQ(16, info.requests_free);
	EXPECT_EQ(0, info.heap_used);
}

TEST_F(flow, state_checks)
{
	struct xseg_request *req, *got;

	EXPECT_EQ(-EPERM, xseg_get_request(self->cl, 1, 1, &req));	/* src not ours */
	EXPECT_EQ(-EINVAL, xseg_get_request(self->cl, 0, 99, &req));
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &req));
	EXPECT_EQ(-EINVAL, xseg_respond(self->sv, req));	/* not served yet */
	EXPECT_EQ(-EINVAL, xseg_forward(self->sv, req, 2));
	EXPECT_EQ(-EINVAL, xseg_prep_request(self->cl, req, XSEG_MAX_TARGETLEN + 1, 0));
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &got));
	ASSERT_EQ(0, xseg_prep_request(self->cl, got, 0, 4096));
	EXPECT_EQ(-ENOMEM, xseg_prep_request(self->cl, req, 0, 64 * 4096));
	ASSERT_EQ(0, xseg_put_request(self->cl, got));
	ASSERT_EQ(0, xseg_prep_request(self->cl, req, 0, 0));	/* a PING needs no buffer */
	req->op = XSEG_OP_PING;
	ASSERT_EQ(1, xseg_submit(self->cl, req));
	EXPECT_EQ(-EINVAL, xseg_submit(self->cl, req));	/* already submitted */
	EXPECT_EQ(-EINVAL, xseg_put_request(self->cl, req));	/* in flight */
	EXPECT_EQ(-EINVAL, xseg_prep_request(self->cl, req, 1, 1));
	ASSERT_EQ(0, xseg_accept(self->sv, 1, &got));
	ASSERT_EQ(0, xseg_respond(self->sv, got));
	EXPECT_EQ(-EINVAL, xseg_respond(self->sv, got));
	ASSERT_EQ(0, xseg_receive(self->cl, 0, &got));
	EXPECT_EQ(-EAGAIN, xseg_receive(self->cl, 0, &got));
	ASSERT_EQ(0, xseg_put_request(self->cl, got));

	/* pointers that are not requests */
	EXPECT_EQ(-EINVAL, xseg_submit(self->cl, (struct xseg_request *)((char *)req + 8)));
	EXPECT_EQ(-EINVAL, xseg_put_request(self->cl, (struct xseg_request *)self->mem));
	EXPECT_EQ(-EINVAL, xseg_req_index(self->cl, NULL));
}

TEST_F(flow, exhaustion_and_reuse)
{
	struct xseg_request *reqs[16], *extra;
	int i;

	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &reqs[i]));
		ASSERT_EQ(0, xseg_prep_request(self->cl, reqs[i], 8, 4096));
	}
	EXPECT_EQ(-ENOBUFS, xseg_get_request(self->cl, 0, 1, &extra));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, xseg_put_request(self->cl, reqs[i]));
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &extra));
	/* a buffer is reused when it is big enough, reallocated when not */
	ASSERT_EQ(0, xseg_prep_request(self->cl, extra, 8, 100));
	ASSERT_EQ(0, xseg_prep_request(self->cl, extra, 8, 3 * 4096));
	EXPECT_EQ(4 * 4096, extra->buf_len);
	ASSERT_EQ(0, xseg_put_request(self->cl, extra));
}

/*
 * The allocator (XSEG_FEAT_REQ_CLAIM): a get right after a put takes the request just put;
 * otherwise it sweeps on from where the port's last sweep stopped; two ports allocate from
 * their own parts of the table; the handle's cursor words are only hints; a free request
 * still naming a dead peer (killed in get or put) is handed back by reclaim and only then
 * taken again.
 */
TEST_F(flow, claim_allocator)
{
	struct xseg_request *a, *b, *c, *reqs[16];
	struct xseg_request *r0;
	int i, n;

	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &a));
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &b));
	EXPECT_EQ(self->cl->tag, a->holder);
	EXPECT_NE(a, b);
	ASSERT_EQ(0, xseg_put_request(self->cl, a));
	EXPECT_EQ(0, a->holder);
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &c));
	EXPECT_EQ(a, c);		/* the one just put, still in the cache */
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &a));
	EXPECT_EQ(b + 1, a);		/* the sweep goes on after b */
	ASSERT_EQ(0, xseg_put_request(self->cl, a));
	ASSERT_EQ(0, xseg_put_request(self->cl, b));
	ASSERT_EQ(0, xseg_put_request(self->cl, c));

	/* another port starts in its own part of the table: 16 requests over 8 ports */
	ASSERT_EQ(0, xseg_get_request(self->sv, 1, 0, &a));
	EXPECT_EQ(2, xseg_req_index(self->sv, a));
	ASSERT_EQ(0, xseg_put_request(self->sv, a));

	/* hints out of range or naming a taken request cost a look, nothing else */
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &a));
	self->cl->req_cursor[0].last_put = xseg_req_index(self->cl, a) + 1;
	self->cl->req_cursor[0].next = 1000;
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &b));
	EXPECT_NE(a, b);
	self->cl->req_cursor[0].last_put = 1000;
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &c));
	EXPECT_NE(a, c);
	EXPECT_NE(b, c);
	ASSERT_EQ(0, xseg_put_request(self->cl, a));
	ASSERT_EQ(0, xseg_put_request(self->cl, b));
	ASSERT_EQ(0, xseg_put_request(self->cl, c));

	/*
	 * What a peer killed in get (after its claim) or in put (after the state change)
	 * leaves: FREE and its tag.  Not taken by a get, counted as not free, handed back by
	 * reclaim.  A tag of a process that is gone: the child's.
	 */
	r0 = xseg_req_at(self->cl, 5);
	ASSERT_EQ(XSEG_RS_FREE, r0->state);
	r0->holder = unit_dead_tag();
	for (n = 0; n < 16 && !xseg_get_request(self->cl, 0, 1, &reqs[n]); n++)
		EXPECT_NE(r0, reqs[n]);
	EXPECT_EQ(15, n);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, xseg_put_request(self->cl, reqs[i]));
	EXPECT_EQ(15, xseg_requests_free_count(self->cl));
	EXPECT_EQ(1, xseg_reclaim(self->cl));
	EXPECT_EQ(0, r0->holder);
	EXPECT_EQ(16, xseg_requests_free_count(self->cl));
	for (n = 0; n < 16 && !xseg_get_request(self->cl, 0, 1, &reqs[n]); n++)
		;
	EXPECT_EQ(16, n);
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, xseg_put_request(self->cl, reqs[i]));
}

TEST_F(flow, forward_retraces_path)
{
	struct xseg_request *req, *got;

	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 2, &req));
	ASSERT_EQ(2, xseg_submit(self->cl, req));
	ASSERT_EQ(0, xseg_accept(self->mid, 2, &got));
	EXPECT_EQ(-EPERM, xseg_forward(self->sv, got, 1));
	EXPECT_EQ(-EINVAL, xseg_forward(self->mid, got, 77));
	ASSERT_EQ(1, xseg_forward(self->mid, got, 1));
	EXPECT_EQ(2, req->path_len);
	EXPECT_EQ(0, req->path[0]);
	EXPECT_EQ(2, req->path[1]);
	ASSERT_EQ(0, xseg_accept(self->sv, 1, &got));
	got->result = -5;
	/* the reply goes back to the forwarder, not straight to the originator */
	ASSERT_EQ(2, xseg_respond(self->sv, got));
	EXPECT_EQ(-EAGAIN, xseg_receive(self->cl, 0, &got));
	ASSERT_EQ(XSEG_RECV_FORWARDED, xseg_receive(self->mid, 2, &got));
	EXPECT_EQ(XSEG_RS_SERVING, got->state);
	EXPECT_EQ(-5, got->result);
	ASSERT_EQ(0, xseg_respond(self->mid, got));
	ASSERT_EQ(0, xseg_receive(self->cl, 0, &got));
	EXPECT_EQ(XSEG_RS_CONCLUDED, got->state);
	EXPECT_EQ(0, got->path_len);
	ASSERT_EQ(0, xseg_put_request(self->cl, got));
}

TEST_F(flow, path_overflow)
{
	struct xseg_request *req, *got;
	int i;

	/* mid forwards to itself until the path is full */
	ASSERT_EQ(0, xseg_get_request(self->cl, 0, 2, &req));
	ASSERT_EQ(2, xseg_submit(self->cl, req));
	ASSERT_EQ(0, xseg_accept(self->mid, 2, &got));
	for (i = 1; i < XSEG_PATH_MAX; i++) {
		ASSERT_EQ(2, xseg_forward(self->mid, got, 2));
		ASSERT_EQ(0, xseg_accept(self->mid, 2, &got));
	}
	EXPECT_EQ(-E2BIG, xseg_forward(self->mid, got, 2));
	for (i = 1; i < XSEG_PATH_MAX; i++) {
		ASSERT_EQ(2, xseg_respond(self->mid, got));
		ASSERT_EQ(XSEG_RECV_FORWARDED, xseg_receive(self->mid, 2, &got));
	}
	ASSERT_EQ(0, xseg_respond(self->mid, got));
	ASSERT_EQ(0, xseg_receive(self->cl, 0, &got));
	ASSERT_EQ(0, xseg_put_request(self->cl, got));
}

TEST_F(flow, ring_wraparound_keeps_order)
{
	struct xseg_request *req, *got;
	struct xseg_ring *rq = xseg_ring_at(self->sv, 1, 0);
	__u32 batch, i, round;
	__u64 seq = 0, want = 0;

	/* prod/cons start near the 32-bit wrap, so the free-running indices overflow here */
	rq->prod = 0xfffffff0U;
	rq->cons = 0xfffffff0U;
	for (i = 0; i < 16; i++)
		rq->slots[(0xfffffff0U + i) & 15] = ((__u64)(0xfffffff0U + i) << 32);

	for (round = 0; round < 500; round++) {
		batch = 1 + round % 16;
		for (i = 0; i < batch; i++) {
			ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &req));
			req->priv = seq++;
			ASSERT_EQ(1, xseg_submit(self->cl, req));
		}
		EXPECT_EQ(batch, xseg_ring_count(self->sv, rq));
		for (i = 0; i < batch; i++) {
			ASSERT_EQ(0, xseg_accept(self->sv, 1, &got));
			ASSERT_EQ(want++, got->priv);	/* FIFO across the wrap */
			ASSERT_EQ(0, xseg_respond(self->sv, got));
		}
		for (i = 0; i < batch; i++) {
			ASSERT_EQ(0, xseg_receive(self->cl, 0, &got));
			ASSERT_EQ(0, xseg_put_request(self->cl, got));
		}
	}
	EXPECT_LT(rq->prod, 0x2000);	/* it did wrap */
	EXPECT_EQ(rq->prod, rq->cons);
}

TEST_F(flow, requests_of_dead_peer_reclaimed)
{
	struct xseg_config cfg;
	const char *name = unit_shm_name("reqreclaim");
	struct xseg *a, *b;
	struct xseg_request *req, *got;
	struct xseg_info info;
	pid_t pid;
	int status;

	unit_small_config(&cfg);
	xseg_destroy(&xseg_posix_backend, name);
	ASSERT_EQ(0, xseg_create(&xseg_posix_backend, name, &cfg, &a));
	ASSERT_EQ(0, xseg_bind_port(a, 0, NULL));
	/* a submits to port 1, whose server accepts it and dies serving it */
	ASSERT_EQ(0, xseg_get_request(a, 0, 1, &req));
	ASSERT_EQ(1, xseg_submit(a, req));
	pid = fork();
	if (!pid) {
		struct xseg_request *r;

		if (xseg_join(&xseg_posix_backend, name, &b) || xseg_bind_port(b, 1, NULL) != 1)
			_exit(1);
		if (xseg_accept(b, 1, &r))
			_exit(2);
		/* and a request it got for itself, with a buffer */
		if (xseg_get_request(b, 1, 0, &r) || xseg_prep_request(b, r, 4, 8192))
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, xseg_get_info(a, &info));
	EXPECT_EQ(cfg.nr_requests - 2, info.requests_free);
	/* port 1 + the served request (answered -EPIPE) + the got request */
	EXPECT_EQ(3, xseg_reclaim(a));
	ASSERT_EQ(0, xseg_receive(a, 0, &got));
	EXPECT_EQ(req, got);
	EXPECT_EQ(-EPIPE, got->result);
	ASSERT_EQ(0, xseg_put_request(a, got));
	ASSERT_EQ(0, xseg_get_info(a, &info));
	EXPECT_EQ(cfg.nr_requests, info.requests_free);
	EXPECT_EQ(0, info.heap_used);
	xseg_leave(a);
	xseg_destroy(&xseg_posix_backend, name);
}

TEST_HARNESS_MAIN
