// SPDX-License-Identifier: GPL-2.0
/* Kernel domain support for the core: kvmalloc, rate-limited printk, ktime, pid liveness. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include <uapi/xseg/xseg.h>
#include <xseg/domain.h>

void *xseg_dom_zalloc(size_t size)
{
	return kvzalloc(size, GFP_KERNEL);
}

void xseg_dom_free(void *ptr)
{
	kvfree(ptr);
}

/* Userspace controls what the core sees, so every message it can trigger is rate limited. */
void xseg_dom_log(int level, const char *fmt, ...)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST);
	struct va_format vaf;
	va_list args;

	if (level >= XSEG_LOG_DEBUG || !__ratelimit(&rs))
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	switch (level) {
	case XSEG_LOG_ERR:
		pr_err("%pV", &vaf);
		break;
	case XSEG_LOG_WARN:
		pr_warn("%pV", &vaf);
		break;
	default:
		pr_info("%pV", &vaf);
		break;
	}
	va_end(args);
}

u64 xseg_dom_now_ns(void)
{
	return ktime_get_ns();
}

void xseg_dom_relax(unsigned int round)
{
	if (round < 64)
		cond_resched();
	else
		usleep_range(50, 100);
}

u64 xseg_dom_peer_tag(void)
{
	u32 nonce = (get_random_u32() & 0x7fffffffU) | 1;

	return XSEG_TAG_KERNEL | ((u64)nonce << 32);
}

/*
 * Kernel peers leave explicitly (module exit, device removal), so a kernel tag is alive.
 * A user tag names a thread group in the caller's pid namespace.
 */
int xseg_dom_peer_alive(u64 tag)
{
	pid_t nr = XSEG_TAG_PID(tag);
	bool alive;

	if (tag & XSEG_TAG_KERNEL)
		return 1;
	if (nr <= 0)
		return 0;
	rcu_read_lock();
	alive = !!pid_task(find_vpid(nr), PIDTYPE_TGID);
	rcu_read_unlock();
	return alive;
}

static DEFINE_MUTEX(xseg_registry_mutex);

void xseg_dom_registry_lock(void)
{
	mutex_lock(&xseg_registry_mutex);
}

void xseg_dom_registry_unlock(void)
{
	mutex_unlock(&xseg_registry_mutex);
}

const struct xseg_signal_type *const xseg_dom_types[] = {
	&xseg_waitqueue_type,
	&xseg_callback_type,
	&xseg_kfutex_type,
	&xseg_ksigio_type,
	NULL
};
