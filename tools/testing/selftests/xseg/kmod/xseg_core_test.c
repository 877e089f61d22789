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

/* true (and the failure logged) when cond does not hold */
static bool xseg_core_failed(bool ok, int line, const char *what)
{
	if (!ok)
		pr_err("FAIL line %d: %s\n", line, what);
	return !ok;
}

#define FAILED(cond)	xseg_core_failed(!!(cond), __LINE__, #cond)

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

	if (FAILED(!xseg_local_signal_init(sv, XSEG_SIGNAL_POLL)))
		goto out;
	if (FAILED(!xseg_get_signal_desc(sv, XSEG_SIGNAL_POLL, &sd)))
		goto out;
	if (FAILED(xseg_bind_port(cl, 0, NULL) == 0))
		goto out;
	if (FAILED(xseg_bind_port(sv, 1, sd) == 1))
		goto out;
	if (FAILED(xseg_bind_port(sv, 2, sd) == 2))
		goto out;
	if (FAILED(xseg_bind_port(cl, 1, NULL) == -EBUSY))
		goto out;
	if (FAILED(xseg_local_signal_quit(sv, XSEG_SIGNAL_POLL) == -EBUSY))
		goto out;

	for (i = 0; i < iterations; i++) {
		bool fwd = !(i % 7);

		if (FAILED(!xseg_get_request(cl, 0, fwd ? 2 : 1, &req)))
			goto out;
		if (FAILED(!xseg_prep_request(cl, req, 8, 512 + (i % 8) * 1024)))
			goto out;
		if (FAILED(!xseg_req_target(cl, req, &target, &tlen) && tlen == 8))
			goto out;
		memcpy(target, "ktarget", 8);
		if (FAILED(!xseg_req_data(cl, req, &data, &dlen)))
			goto out;
		memset(data, i & 0xff, dlen);
		req->op = XSEG_OP_WRITE;
		req->offset = i;

		if (FAILED(!xseg_prepare_wait(sd)))
			goto out;
		if (FAILED(xseg_submit(cl, req) == (fwd ? 2 : 1)))
			goto out;
		if (FAILED(!xseg_signal(cl, fwd ? 2 : 1)))
			goto out;
		/* the suppression words: work posted after arming is seen without sleeping */
		if (FAILED(!xseg_wait_signal(sd, 1000000)))
			goto out;
		if (FAILED(!xseg_cancel_wait(sd)))
			goto out;

		if (FAILED(!xseg_accept(sv, fwd ? 2 : 1, &got) && got == req))
			goto out;
		if (fwd) {
			if (FAILED(xseg_forward(sv, got, 1) == 1))
				goto out;
			if (FAILED(!xseg_accept(sv, 1, &got) && got == req))
				goto out;
		}
		if (FAILED(!xseg_req_data(sv, got, &data, &dlen)))
			goto out;
		if (FAILED(((u8 *)data)[dlen - 1] == (i & 0xff)))
			goto out;
		got->serviced = dlen;
		if (fwd) {
			if (FAILED(xseg_respond(sv, got) == 2))
				goto out;
			if (FAILED(xseg_receive(sv, 2, &got) == XSEG_RECV_FORWARDED))
				goto out;
		}
		if (FAILED(xseg_respond(sv, got) == 0))
			goto out;
		if (FAILED(xseg_accept(sv, 1, &got) == -EAGAIN))
			goto out;
		if (FAILED(!xseg_receive(cl, 0, &got) && got == req))
			goto out;
		if (FAILED(got->state == XSEG_RS_CONCLUDED && got->serviced == dlen))
			goto out;
		if (FAILED(!xseg_put_request(cl, got)))
			goto out;
	}
	if (FAILED(!xseg_put_signal_desc(sd)))
		goto out;
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
	if (FAILED(!xseg_init_mem(mem, size, &cfg)))
		goto out;
	/* join validates: a wrong magic must be refused */
	((struct xseg_header *)mem)->magic ^= 1;
	if (FAILED(xseg_join_mem(mem, size, &cl) == -EINVAL))
		goto out;
	((struct xseg_header *)mem)->magic ^= 1;
	if (FAILED(!xseg_join_mem(mem, size, &cl)))
		goto out;
	if (FAILED(!xseg_join_mem(mem, size, &sv)))
		goto out;
	ret = xseg_core_test_flow(cl, sv);
	if (ret)
		goto out;
	ret = -EINVAL;
	if (FAILED(!xseg_get_info(cl, &info)))
		goto out;
	if (FAILED(info.requests_free == cfg.nr_requests && info.heap_used == 0))
		goto out;
	if (FAILED(info.ports_bound == 3))
		goto out;
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
