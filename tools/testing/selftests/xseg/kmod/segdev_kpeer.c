// SPDX-License-Identifier: GPL-2.0
/*
 * segdev_kpeer: test module for segdev's in-kernel API (include/xseg/segdev_kernel.h),
 * driven by tools/testing/selftests/xseg/segdev_kapi_test.c.
 *
 * At load it checks the API's error cases, joins the segment named by the "segment"
 * parameter and registers a doorbell handler.  For each ring of port P the handler stores
 * P in the segment's first word and sends signal "signo" with payload P ^ 0xa5a5 to the
 * waiter registered for P; the result is readable in the "last_ret" parameter.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/signal.h>

#include <xseg/segdev_kernel.h>

#define SEGDEV_KPEER_PAYLOAD_XOR	0xa5a5U

static char *segment_name;
module_param_named(segment, segment_name, charp, 0444);
MODULE_PARM_DESC(segment, "Name of the segdev segment to join (required)");

static int signo = 40;
module_param(signo, int, 0444);
MODULE_PARM_DESC(signo, "Signal sent to the waiter of a rung port (default: 40)");

/* Result of the last segdev_signal_waiter() call from the handler; 1 before any ring. */
static int last_ret = 1;
module_param(last_ret, int, 0444);
MODULE_PARM_DESC(last_ret, "Result of the last signal sent (read-only)");

static struct segdev_segment *kpeer_seg;

/* Doorbell context: the ringer's ioctl/write, under RCU; must not sleep. */
static void segdev_kpeer_doorbell(void *priv, u32 port)
{
	struct segdev_segment *seg = priv;
	u32 *word = segdev_vaddr(seg);

	WRITE_ONCE(*word, port);
	WRITE_ONCE(last_ret, segdev_signal_waiter(seg, port, signo,
						  port ^ SEGDEV_KPEER_PAYLOAD_XOR));
}

/* The API's refusals, checked once at load. */
static int segdev_kpeer_check_errors(struct segdev_segment *seg)
{
	struct segdev_segment *other;
	int ret;

	other = segdev_get_by_name("segdev-kpeer-no-such-segment");
	if (PTR_ERR_OR_ZERO(other) != -ENOENT)
		goto err_put_other;
	other = segdev_get_by_name("bad/name");
	if (PTR_ERR_OR_ZERO(other) != -EINVAL)
		goto err_put_other;
	ret = segdev_signal_waiter(seg, 0, SIGKILL, 0);
	if (ret != -EINVAL) {
		pr_err("SIGKILL accepted: %d\n", ret);
		return -EPROTO;
	}
	ret = segdev_set_doorbell_handler(seg, segdev_kpeer_doorbell, seg);
	if (ret != -EBUSY) {
		pr_err("second handler accepted: %d\n", ret);
		return -EPROTO;
	}
	return 0;

err_put_other:
	pr_err("segdev_get_by_name() error case returned %d\n", PTR_ERR_OR_ZERO(other));
	if (!IS_ERR(other))
		segdev_put(other);
	return -EPROTO;
}

static int __init segdev_kpeer_init(void)
{
	int ret;

	if (!segment_name)
		return -EINVAL;
	kpeer_seg = segdev_get_by_name(segment_name);
	if (IS_ERR(kpeer_seg))
		return PTR_ERR(kpeer_seg);
	if (segdev_size(kpeer_seg) < sizeof(u32)) {
		ret = -EINVAL;
		goto err_put;
	}
	ret = segdev_set_doorbell_handler(kpeer_seg, segdev_kpeer_doorbell, kpeer_seg);
	if (ret)
		goto err_put;
	ret = segdev_kpeer_check_errors(kpeer_seg);
	if (ret)
		goto err_clear_handler;
	return 0;

err_clear_handler:
	segdev_clear_doorbell_handler(kpeer_seg);
err_put:
	segdev_put(kpeer_seg);
	return ret;
}

static void __exit segdev_kpeer_exit(void)
{
	segdev_clear_doorbell_handler(kpeer_seg);
	segdev_put(kpeer_seg);
}

module_init(segdev_kpeer_init);
module_exit(segdev_kpeer_exit);

MODULE_DESCRIPTION("Test peer for segdev's in-kernel API");
MODULE_LICENSE("GPL");
