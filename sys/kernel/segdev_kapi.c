// SPDX-License-Identifier: GPL-2.0
/*
 * segdev in-kernel API (include/xseg/segdev_kernel.h).  This file is segdev.ko's one export
 * list: every exported symbol is defined and exported here, and nowhere else.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/export.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "segdev_internal.h"

struct segdev_segment *segdev_get_by_name(const char *name)
{
	struct segdev_segment *seg;

	if (segdev_check_name(name))
		return ERR_PTR(-EINVAL);
	seg = segdev_segment_lookup(name);
	if (!seg)
		return ERR_PTR(-ENOENT);
	atomic_inc(&seg->nr_kernel_users);
	return seg;
}
EXPORT_SYMBOL_GPL(segdev_get_by_name);

void segdev_put(struct segdev_segment *seg)
{
	atomic_dec(&seg->nr_kernel_users);
	segdev_segment_put(seg);
}
EXPORT_SYMBOL_GPL(segdev_put);

void *segdev_vaddr(struct segdev_segment *seg)
{
	return seg->vaddr;
}
EXPORT_SYMBOL_GPL(segdev_vaddr);

size_t segdev_size(struct segdev_segment *seg)
{
	return seg->size;
}
EXPORT_SYMBOL_GPL(segdev_size);

int segdev_set_doorbell_handler(struct segdev_segment *seg, segdev_doorbell_fn fn, void *priv)
{
	struct segdev_handler *handler;
	int ret = 0;

	if (!fn)
		return -EINVAL;
	handler = kmalloc(sizeof(*handler), GFP_KERNEL);
	if (!handler)
		return -ENOMEM;
	handler->fn = fn;
	handler->priv = priv;

	mutex_lock(&seg->lock);
	if (rcu_dereference_protected(seg->handler, lockdep_is_held(&seg->lock))) {
		ret = -EBUSY;
		goto err_unlock;
	}
	/* Pairs with rcu_dereference() in segdev_ring(): @fn/@priv are visible first. */
	rcu_assign_pointer(seg->handler, handler);
	mutex_unlock(&seg->lock);
	return 0;

err_unlock:
	mutex_unlock(&seg->lock);
	kfree(handler);
	return ret;
}
EXPORT_SYMBOL_GPL(segdev_set_doorbell_handler);

void segdev_clear_doorbell_handler(struct segdev_segment *seg)
{
	struct segdev_handler *handler;

	might_sleep();
	mutex_lock(&seg->lock);
	handler = rcu_replace_pointer(seg->handler, NULL, lockdep_is_held(&seg->lock));
	mutex_unlock(&seg->lock);
	if (!handler)
		return;
	/* Waits for segdev_ring() calls that may still run the old handler. */
	synchronize_rcu();
	kfree(handler);
}
EXPORT_SYMBOL_GPL(segdev_clear_doorbell_handler);

int segdev_signal_waiter(struct segdev_segment *seg, u32 port, int sig, u32 payload)
{
	struct kernel_siginfo info;

	/* Never a job-control or fatal signal, whatever the caller computed. */
	if (sig < SIGRTMIN || sig > SIGRTMAX)
		return -EINVAL;

	clear_siginfo(&info);
	info.si_signo = sig;
	info.si_errno = 0;
	/* SI_QUEUE (< 0): RLIMIT_SIGPENDING applies, overflow gives -EAGAIN, not a drop. */
	info.si_code = SI_QUEUE;
	info.si_pid = 0;
	info.si_uid = 0;
	info.si_int = payload;
	return segdev_waiter_signal(seg, port, &info);
}
EXPORT_SYMBOL_GPL(segdev_signal_waiter);
