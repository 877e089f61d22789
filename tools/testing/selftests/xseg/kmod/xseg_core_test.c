// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel selftest of the segment core: builds a segment in vmalloc memory, joins it as
 * two kernel peers, and runs the request flow (with data buffers, forwarding and the poll
 * signal type) many times.  Prints "xseg_core_test: PASS" or "xseg_core_test: FAIL ..." and
 * refuses to load on failure.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include <xseg/xseg.h>

static unsigned int iterations = 10000;
module_param(iterations, uint, 0444);
MODULE_PARM_DESC(iterations, "request round trips to run (default 10000)");

#define CHECK(cond) do {							\
	if (!(cond)) {								\
		pr_err("FAIL line %d: %s\n", __LINE__, #cond);			\
		goto out;							\
	}									\
} while (0)

static int xseg_core_test_flow(struct xseg *cl, struct xseg *sv)
{
	struct xseg_request *req, *got;
	struct xseg_sd *sd;
	unsigned int i;
	void *data;
	char *target;
	u64 dlen;
	u32 tlen;
	int ret = -EINVAL;

	CHECK(!xseg_local_signal_init(sv, XSEG_SIGNAL_POLL));
	CHECK(!xseg_get_signal_desc(sv, XSEG_SIGNAL_POLL, &sd));
	CHECK(xseg_bind_port(cl, 0, NULL) == 0);
	CHECK(xseg_bind_port(sv, 1, sd) == 1);
	CHECK(xseg_bind_port(sv, 2, sd) == 2);
	CHECK(xseg_bind_port(cl, 1, NULL) == -EBUSY);
	CHECK(xseg_local_signal_quit(sv, XSEG_SIGNAL_POLL) == -EBUSY);

	for (i = 0; i < iterations; i++) {
		bool fwd = !(i % 7);

		CHECK(!xseg_get_request(cl, 0, fwd ? 2 : 1, &req));
		CHECK(!xseg_prep_request(cl, req, 8, 512 + (i % 8) * 1024));
		CHECK(!xseg_req_target(cl, req, &target, &tlen) && tlen == 8);
		memcpy(target, "ktarget", 8);
		CHECK(!xseg_req_data(cl, req, &data, &dlen));
		memset(data, i & 0xff, dlen);
		req->op = XSEG_OP_WRITE;
		req->offset = i;

		CHECK(!xseg_prepare_wait(sd));
		CHECK(xseg_submit(cl, req) == (fwd ? 2 : 1));
		CHECK(!xseg_signal(cl, fwd ? 2 : 1));
		/* the suppression words: work posted after arming is seen without sleeping */
		CHECK(!xseg_wait_signal(sd, 1000000));
		CHECK(!xseg_cancel_wait(sd));

		CHECK(!xseg_accept(sv, fwd ? 2 : 1, &got) && got == req);
		if (fwd) {
			CHECK(xseg_forward(sv, got, 1) == 1);
			CHECK(!xseg_accept(sv, 1, &got) && got == req);
		}
		CHECK(!xseg_req_data(sv, got, &data, &dlen));
		CHECK(((u8 *)data)[dlen - 1] == (i & 0xff));
		got->serviced = dlen;
		if (fwd) {
			CHECK(xseg_respond(sv, got) == 2);
			CHECK(xseg_receive(sv, 2, &got) == XSEG_RECV_FORWARDED);
		}
		CHECK(xseg_respond(sv, got) == 0);
		CHECK(xseg_accept(sv, 1, &got) == -EAGAIN);
		CHECK(!xseg_receive(cl, 0, &got) && got == req);
		CHECK(got->state == XSEG_RS_CONCLUDED && got->serviced == dlen);
		CHECK(!xseg_put_request(cl, got));
	}
	CHECK(!xseg_put_signal_desc(sd));
	ret = 0;
out:
	return ret;
}

static int __init xseg_core_test_init(void)
{
	struct xseg_config cfg;
	struct xseg_info info;
	struct xseg *cl = NULL, *sv = NULL;
	void *mem;
	u64 size;
	int ret = -EINVAL;

	xseg_config_default(&cfg);
	cfg.nr_ports = 8;
	cfg.nr_requests = 64;
	cfg.heap_size = 1 << 20;
	if (xseg_segment_size(&cfg, &size))
		goto fail;
	mem = vmalloc(size);
	if (!mem) {
		ret = -ENOMEM;
		goto fail;
	}
	CHECK(!xseg_init_mem(mem, size, &cfg));
	/* join validates: a wrong magic must be refused */
	((struct xseg_header *)mem)->magic ^= 1;
	CHECK(xseg_join_mem(mem, size, &cl) == -EINVAL);
	((struct xseg_header *)mem)->magic ^= 1;
	CHECK(!xseg_join_mem(mem, size, &cl));
	CHECK(!xseg_join_mem(mem, size, &sv));
	ret = xseg_core_test_flow(cl, sv);
	if (ret)
		goto out;
	ret = -EINVAL;
	CHECK(!xseg_get_info(cl, &info));
	CHECK(info.requests_free == cfg.nr_requests && info.heap_used == 0);
	CHECK(info.ports_bound == 3);
	ret = 0;
out:
	if (sv)
		xseg_leave(sv);
	if (cl)
		xseg_leave(cl);
	vfree(mem);
	if (!ret) {
		pr_info("PASS (%u round trips)\n", iterations);
		return 0;
	}
fail:
	pr_err("FAIL (%d)\n", ret);
	return ret ? ret : -EINVAL;
}

static void __exit xseg_core_test_exit(void)
{
}

module_init(xseg_core_test_init);
module_exit(xseg_core_test_exit);

MODULE_DESCRIPTION("xseg segment core selftest");
MODULE_LICENSE("GPL");
