// SPDX-License-Identifier: GPL-2.0
/*
 * Corruption: a peer may write any byte of the segment at any time.  Random bytes over the
 * header, the tables, ring indices and slots, request states and offsets must make join,
 * accept, receive and the rest fail cleanly: a -errno, never a crash (ASan checks every
 * access stays inside the segment), never a hang (the harness timeout).
 *
 * XSEG_CORRUPT_SEED picks the random sequence (printed), XSEG_CORRUPT_ROUNDS its length.
 */
#include "unit_common.h"
#include "kselftest_harness.h"

static unsigned int seed_from_env(void)
{
	const char *env = getenv("XSEG_CORRUPT_SEED");

	return env ? strtoul(env, NULL, 0) : 12345;
}

static unsigned int rounds_from_env(unsigned int def)
{
	const char *env = getenv("XSEG_CORRUPT_ROUNDS");

	return env ? strtoul(env, NULL, 0) : def;
}

static bool is_clean_error(int ret)
{
	switch (ret) {
	case -EINVAL: case -EFAULT: case -EIO: case -EAGAIN: case -ENOBUFS: case -ENOSPC:
	case -ENOMEM: case -EPERM: case -EBUSY: case -ENOENT: case -E2BIG: case -EPROTO:
	case -EOPNOTSUPP: case -ETIMEDOUT:
		return true;
	}
	return false;
}

#define CHECK_RET(ret) do {							\
	int __r = (ret);							\
	if (__r < 0 && !is_clean_error(__r)) {					\
		TH_LOG("unexpected error %d at line %d", __r, __LINE__);	\
		ASSERT_TRUE(0);							\
	}									\
} while (0)

FIXTURE(seg) {
	struct xseg_config cfg;
	void *mem;
	__u64 size;
	unsigned int seed;
};

FIXTURE_SETUP(seg)
{
	setenv("XSEG_LOG", "none", 1);
	unit_small_config(&self->cfg);
	self->cfg.nr_requests = 32;
	self->mem = unit_mem_segment(&self->cfg, &self->size);
	ASSERT_NE(NULL, self->mem);
	self->seed = seed_from_env();
	TH_LOG("seed %u", self->seed);
}

FIXTURE_TEARDOWN(seg)
{
	free(self->mem);
}

static void scribble(void *base, __u64 from, __u64 to, unsigned int *seed, int nbytes)
{
	unsigned char *p = base;
	int i;

	for (i = 0; i < nbytes; i++) {
		__u64 at = from + rand_r(seed) % (to - from);
		unsigned int r = rand_r(seed);

		/* mostly random bytes, sometimes the values that hurt: 0, ~0, off by one */
		switch (r % 8) {
		case 0:
			p[at] = 0;
			break;
		case 1:
			p[at] = 0xff;
			break;
		case 2:
			p[at]++;
			break;
		case 3:
			p[at]--;
			break;
		default:
			p[at] = r >> 8;
			break;
		}
	}
}

TEST_F(seg, random_header_bytes)
{
	unsigned char *pristine = malloc(XSEG_HEADER_SIZE);
	unsigned int i, ok = 0, rounds = rounds_from_env(20000);
	struct xseg_request *req, *got;
	struct xseg *x;
	int ret;

	ASSERT_NE(NULL, pristine);
	memcpy(pristine, self->mem, XSEG_HEADER_SIZE);
	for (i = 0; i < rounds; i++) {
		memcpy(self->mem, pristine, XSEG_HEADER_SIZE);
		scribble(self->mem, 0, sizeof(struct xseg_header), &self->seed,
			 1 + rand_r(&self->seed) % 4);
		ret = xseg_join_mem(self->mem, self->size, &x);
		CHECK_RET(ret);
		if (ret)
			continue;
		/* accepted: only bytes that do not matter changed; the segment must work */
		ok++;
		ASSERT_EQ(0, xseg_bind_port(x, 0, NULL));
		ASSERT_EQ(1, xseg_bind_port(x, 1, NULL));
		ret = xseg_get_request(x, 0, 1, &req);
		CHECK_RET(ret);
		if (!ret) {
			CHECK_RET(xseg_prep_request(x, req, 4, 100));
			if (xseg_submit(x, req) == 1 && !xseg_accept(x, 1, &got) &&
			    xseg_respond(x, got) == 0 && !xseg_receive(x, 0, &got))
				req = got;
			CHECK_RET(xseg_put_request(x, req));
		}
		ASSERT_EQ(0, xseg_leave(x));
	}
	TH_LOG("%u of %u corrupted headers still joinable", ok, rounds);
	/* the important words were hit often enough to be refused */
	EXPECT_LT(ok, rounds);
	free(pristine);
}

/* Runs every kind of operation against a segment that is being corrupted. */
static int churn(struct __test_metadata *_metadata, struct xseg *a, struct xseg *b,
		 struct xseg_sd *sd, unsigned int *seed)
{
	struct xseg_request *req, *got;
	struct xseg_info info;
	void *data;
	char *target;
	__u64 dlen;
	__u32 tlen;
	int k, ret;

	for (k = 0; k < 8; k++) {
		ret = xseg_get_request(a, 0, 1 + rand_r(seed) % 2, &req);
		CHECK_RET(ret);
		if (!ret) {
			CHECK_RET(xseg_prep_request(a, req, rand_r(seed) % 64,
						    rand_r(seed) % 20000));
			ret = xseg_submit(a, req);
			CHECK_RET(ret);
			if (ret < 0)
				CHECK_RET(xseg_put_request(a, req));
			else
				CHECK_RET(xseg_signal(a, ret));
		}
		ret = xseg_accept(b, 1 + rand_r(seed) % 2, &got);
		CHECK_RET(ret);
		if (!ret) {
			CHECK_RET(xseg_req_target(b, got, &target, &tlen));
			ret = xseg_req_data(b, got, &data, &dlen);
			CHECK_RET(ret);
			if (!ret && dlen)
				memset(data, 0x11, dlen);
			if (rand_r(seed) % 4 == 0)
				ret = xseg_forward(b, got, 1 + rand_r(seed) % 2);
			else
				ret = xseg_respond(b, got);
			CHECK_RET(ret);
		}
		ret = xseg_receive(b, 1 + rand_r(seed) % 2, &got);
		CHECK_RET(ret);
		if (!ret || ret == XSEG_RECV_FORWARDED)
			CHECK_RET(xseg_respond(b, got));
		ret = xseg_receive(a, 0, &got);
		CHECK_RET(ret);
		if (!ret)
			CHECK_RET(xseg_put_request(a, got));
		CHECK_RET(xseg_signal(b, rand_r(seed) % 8));
	}
	CHECK_RET(xseg_prepare_wait(sd));
	CHECK_RET(xseg_wait_signal(sd, 1));
	CHECK_RET(xseg_cancel_wait(sd));
	CHECK_RET(xseg_reclaim(a));
	CHECK_RET(xseg_get_info(a, &info));
	CHECK_RET(xseg_bind_port(a, rand_r(seed) % 8, sd));
	return 0;
}

static void corrupt_tables(struct __test_metadata *_metadata, void *mem, __u64 size,
			   unsigned int seed, unsigned int rounds, __u64 from, __u64 to,
			   int nbytes)
{
	struct xseg *a, *b;
	struct xseg_sd *sd;
	unsigned int i;

	ASSERT_EQ(0, xseg_join_mem(mem, size, &a));
	ASSERT_EQ(0, xseg_join_mem(mem, size, &b));
	ASSERT_EQ(0, xseg_local_signal_init(a, XSEG_SIGNAL_POLL));
	ASSERT_EQ(0, xseg_local_signal_init(b, XSEG_SIGNAL_POLL));
	ASSERT_EQ(0, xseg_get_signal_desc(b, XSEG_SIGNAL_POLL, &sd));
	ASSERT_EQ(0, xseg_bind_port(a, 0, NULL));
	ASSERT_EQ(1, xseg_bind_port(b, 1, sd));
	ASSERT_EQ(2, xseg_bind_port(b, 2, sd));
	for (i = 0; i < rounds; i++) {
		churn(_metadata, a, b, sd, &seed);
		scribble(mem, from, to, &seed, nbytes);
	}
	xseg_leave(a);
	xseg_leave(b);
}

TEST_F(seg, random_table_bytes)
{
	struct xseg_geom g;

	ASSERT_EQ(0, xseg_compute_layout(self->cfg.nr_ports, self->cfg.nr_requests,
					 self->cfg.nr_sds, self->cfg.alloc_unit,
					 self->cfg.heap_size, &g));
	/* everything but the header: ports, requests, descriptors, types, rings, bitmap */
	corrupt_tables(_metadata, self->mem, self->size, self->seed, rounds_from_env(3000),
		       g.ports_off, g.heap_off, 16);
}

TEST_F(seg, random_ring_and_request_bytes)
{
	struct xseg_geom g;

	ASSERT_EQ(0, xseg_compute_layout(self->cfg.nr_ports, self->cfg.nr_requests,
					 self->cfg.nr_sds, self->cfg.alloc_unit,
					 self->cfg.heap_size, &g));
	/* the hot part: request table up to the end of the rings of ports 0-2 */
	corrupt_tables(_metadata, self->mem, self->size, self->seed + 1, rounds_from_env(3000),
		       g.requests_off, g.rings_off + 6 * g.ring_bytes, 4);
}

TEST_F(seg, targeted)
{
	struct xseg_request *req, *got, *reqs[32];
	struct xseg_ring *rq;
	struct xseg_port *port;
	struct xseg *a, *b;
	struct xseg_sd *sd;
	void *data;
	__u64 dlen;
	__u32 i;

	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &a));
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &b));
	ASSERT_EQ(0, xseg_bind_port(a, 0, NULL));
	ASSERT_EQ(1, xseg_bind_port(b, 1, NULL));
	rq = xseg_ring_at(b, 1, 0);

	/* a slot naming a request that does not exist */
	rq->slots[rq->cons & (b->g.ring_size - 1)] = ((__u64)rq->cons << 32) | 0xffff;
	EXPECT_EQ(-EIO, xseg_accept(b, 1, &got));
	EXPECT_EQ(-EAGAIN, xseg_accept(b, 1, &got));	/* and it was consumed */

	/*
	 * A slot naming a request that does not carry the slot's ticket (here a free one): what
	 * a peer killed between claiming a request and consuming its slot leaves behind.  It is
	 * skipped, consumed, and the request is left alone.
	 */
	rq->slots[rq->cons & (b->g.ring_size - 1)] = ((__u64)rq->cons << 32) | 3;
	EXPECT_EQ(-EAGAIN, xseg_accept(b, 1, &got));
	EXPECT_EQ(2, rq->cons);
	EXPECT_EQ(XSEG_RS_FREE, xseg_req_at(b, 2)->state);
	EXPECT_EQ(0, xseg_req_at(b, 2)->holder);

	/* a slot carrying the sequence number of no lap */
	rq->slots[rq->cons & (b->g.ring_size - 1)] = ((__u64)(rq->cons + 7) << 32) | 1;
	EXPECT_EQ(-EIO, xseg_accept(b, 1, &got));
	rq->slots[rq->cons & (b->g.ring_size - 1)] = (__u64)rq->cons << 32;

	/* a consumer index set back: the consumed slots say so and it heals */
	rq->cons -= 2;
	EXPECT_EQ(-EAGAIN, xseg_accept(b, 1, &got));
	EXPECT_EQ(2, rq->cons);

	/* a request whose state changes while queued */
	ASSERT_EQ(0, xseg_get_request(a, 0, 1, &req));
	ASSERT_EQ(1, xseg_submit(a, req));
	req->state = XSEG_RS_CONCLUDED;
	EXPECT_EQ(-EIO, xseg_accept(b, 1, &got));
	req->state = XSEG_RS_GOT;
	ASSERT_EQ(0, xseg_put_request(a, req));

	/* a path that points nowhere */
	ASSERT_EQ(0, xseg_get_request(a, 0, 1, &req));
	ASSERT_EQ(1, xseg_submit(a, req));
	ASSERT_EQ(0, xseg_accept(b, 1, &got));
	got->path_len = 200;
	EXPECT_EQ(-EIO, xseg_respond(b, got));
	got->path_len = 1;
	got->path[0] = 9999;
	EXPECT_EQ(-EIO, xseg_respond(b, got));
	got->path[0] = 0;
	/* buffers outside the heap */
	got->data_off = 8;
	got->data_len = 100;
	EXPECT_EQ(-EFAULT, xseg_req_data(b, got, &data, &dlen));
	got->data_off = self->size - 10;
	EXPECT_EQ(-EFAULT, xseg_req_data(b, got, &data, &dlen));
	got->data_len = 0;
	ASSERT_EQ(0, xseg_respond(b, got));
	ASSERT_EQ(0, xseg_receive(a, 0, &got));
	got->buf_off = self->size - 4096;	/* put must not free what is not a buffer */
	got->buf_len = 1 << 30;
	EXPECT_EQ(0, xseg_put_request(a, got));

	/*
	 * The allocator's words: holders scribbled over (here ticket-like values, which no claim
	 * tag can be), states out of range.  Every get looks at each request once and fails;
	 * once the words are back, the table is whole again.
	 */
	for (i = 0; i < self->cfg.nr_requests; i++)
		xseg_req_at(a, i)->holder = XSEG_TICKET(0, i);
	EXPECT_EQ(-ENOBUFS, xseg_get_request(a, 0, 1, &req));
	EXPECT_EQ(0, xseg_reclaim(a));	/* tickets of free requests: none of reclaim's */
	for (i = 0; i < self->cfg.nr_requests; i++) {
		xseg_req_at(a, i)->holder = 0;
		xseg_req_at(a, i)->state = 77;
	}
	EXPECT_EQ(-ENOBUFS, xseg_get_request(a, 0, 1, &req));
	for (i = 0; i < self->cfg.nr_requests; i++)
		xseg_req_at(a, i)->state = XSEG_RS_FREE;
	for (i = 0; i < self->cfg.nr_requests; i++)
		ASSERT_EQ(0, xseg_get_request(a, 0, 1, &reqs[i]));
	EXPECT_EQ(-ENOBUFS, xseg_get_request(a, 0, 1, &req));
	for (i = 0; i < self->cfg.nr_requests; i++)
		ASSERT_EQ(0, xseg_put_request(a, reqs[i]));

	/* descriptor offsets and types */
	ASSERT_EQ(0, xseg_local_signal_init(b, XSEG_SIGNAL_POLL));
	ASSERT_EQ(0, xseg_get_signal_desc(b, XSEG_SIGNAL_POLL, &sd));
	ASSERT_EQ(1, xseg_bind_port(b, 1, sd));
	port = xseg_port_at(a, 1);
	port->sd_off += 1;
	EXPECT_EQ(-EFAULT, xseg_signal(a, 1));
	port->sd_off = self->size + 4096;
	EXPECT_EQ(-EFAULT, xseg_signal(a, 1));
	port->sd_off = b->g.sds_off + 128 * (__u64)sd->ctx.index;
	sd->ctx.shared->type = 77;
	EXPECT_EQ(-EINVAL, xseg_signal(a, 1));
	sd->ctx.shared->type = 5;	/* in range, but no such entry */
	EXPECT_EQ(-EINVAL, xseg_signal(a, 1));
	sd->ctx.shared->type = 1;
	EXPECT_EQ(0, xseg_signal(a, 1));
	sd->ctx.shared->refcount = 0;
	EXPECT_EQ(-EINVAL, xseg_bind_port(b, 2, sd));

	xseg_leave(a);
	xseg_leave(b);
}

TEST_HARNESS_MAIN
