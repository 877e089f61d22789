// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The "poll" signal type: needs nothing from the OS.  The wake is the descriptor's dirty
 * word itself, which the sender sets before deciding whether to wake; the waiter polls it,
 * giving up the CPU between looks, until it is set or the timeout passes.  Useful for tests
 * and as the fallback of every other type.  Only for waiters that may sleep.
 */
#include <xseg/internal.h>

static int xseg_poll_wait_signal(const struct xseg_sd_ctx *ctx, __u32 usec)
{
	u64 deadline = xseg_dom_now_ns() + (u64)usec * 1000;
	unsigned int round;

	/* bounded by the deadline: now_ns is monotonic */
	for (round = 0; ; round++) {
		/* pairs with the store of dirty in xseg_signal() (after its full barrier) */
		if (xseg_load_acquire(&ctx->shared->dirty))
			return 0;
		if (xseg_dom_now_ns() >= deadline)
			return -ETIMEDOUT;
		xseg_dom_relax(round);
	}
}

const struct xseg_signal_type xseg_poll_type = {
	.name = XSEG_SIGNAL_POLL,
	.wait_signal = xseg_poll_wait_signal,
};
