// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel side of segdev segments: kernel peers join (or lay out) an xseg segment that
 * lives in a segdev.ko segment, shared with user peers that mapped it through /dev/segdev.
 *
 * The segment is never trusted (ARCHITECTURE.md 4.1): the core validates everything it
 * reads; the code here reads nothing from the segment except the magic word in create()
 * (used only to refuse overwriting an initialised segment).  Doorbells carry a descriptor
 * index, which is looked up in the kernel's own routing table (struct xseg_kseg.slots):
 * a user can at most cause a spurious wake of a kernel peer of this segment.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "kseg.h"

/* Live kernel-side objects (segments, handles, descriptor states): a leak shows here. */
static atomic_t xseg_kobjects = ATOMIC_INIT(0);

static int xseg_kobjects_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&xseg_kobjects));
}

static const struct kernel_param_ops xseg_kobjects_ops = {
	.get = xseg_kobjects_get,
};

module_param_cb(kernel_objects, &xseg_kobjects_ops, NULL, 0444);
MODULE_PARM_DESC(kernel_objects, "Live kernel peer objects (segments, handles, descriptors)");

/* Kernel segments joined by at least one handle. */
static LIST_HEAD(xseg_ksegs);
/* protects xseg_ksegs and the users counts */
static DEFINE_MUTEX(xseg_ksegs_lock);

struct xseg_khandle *xseg_khandle_of(struct xseg *xseg)
{
	if (!xseg || xseg->be != &xseg_segdev_kbackend)
		return NULL;
	return xseg->be_priv;
}

/* Caller holds rcu_read_lock(); the result is valid until it drops it. */
struct xseg_ksd *xseg_ksd_route(struct xseg_kseg *kseg, u32 index)
{
	if (index >= XSEG_MAX_SDS)
		return NULL;
	return rcu_dereference(kseg->slots[index]);
}

static void xseg_ksd_unroute(struct xseg_ksd *ksd)
{
	struct xseg_kseg *kseg = ksd->kh->kseg;

	spin_lock(&kseg->slots_lock);
	if (rcu_access_pointer(kseg->slots[ksd->index]) == ksd)
		RCU_INIT_POINTER(kseg->slots[ksd->index], NULL);
	spin_unlock(&kseg->slots_lock);
}

/*
 * Segdev doorbell handler.  Context (segdev_kernel.h): the ringer's process context inside
 * an RCU read-side critical section; must not sleep.  @port is untrusted: any attached
 * user may ring any number.
 */
static void xseg_kseg_doorbell(void *priv, u32 port)
{
	struct xseg_kseg *kseg = priv;
	struct xseg_ksd *ksd;

	atomic64_inc(&kseg->doorbells);
	ksd = xseg_ksd_route(kseg, port);
	switch (ksd ? READ_ONCE(ksd->kind) : XSEG_KSD_NONE) {
	case XSEG_KSD_WAITQUEUE:
		xseg_waitqueue_wake(ksd);
		break;
	case XSEG_KSD_CALLBACK:
		xseg_callback_doorbell(ksd);
		break;
	default:
		atomic64_inc(&kseg->doorbells_ignored);
		break;
	}
}

/* Finds or makes the kernel side of segdev segment name; one reference for the caller. */
static struct xseg_kseg *xseg_kseg_get(const char *name)
{
	struct segdev_segment *seg;
	struct xseg_kseg *kseg;
	int ret;

	seg = segdev_get_by_name(name);
	if (IS_ERR(seg))
		return ERR_CAST(seg);

	mutex_lock(&xseg_ksegs_lock);
	list_for_each_entry(kseg, &xseg_ksegs, node) {
		if (kseg->seg == seg) {
			refcount_inc(&kseg->users);
			mutex_unlock(&xseg_ksegs_lock);
			segdev_put(seg);	/* kseg holds one already */
			return kseg;
		}
	}
	kseg = kvzalloc(sizeof(*kseg), GFP_KERNEL);
	if (!kseg) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	kseg->seg = seg;
	strscpy(kseg->name, name, sizeof(kseg->name));
	refcount_set(&kseg->users, 1);
	spin_lock_init(&kseg->slots_lock);
	ret = segdev_set_doorbell_handler(seg, xseg_kseg_doorbell, kseg);
	if (ret)
		goto err_free;
	list_add(&kseg->node, &xseg_ksegs);
	atomic_inc(&xseg_kobjects);
	mutex_unlock(&xseg_ksegs_lock);
	return kseg;

err_free:
	kvfree(kseg);
err_unlock:
	mutex_unlock(&xseg_ksegs_lock);
	segdev_put(seg);
	return ERR_PTR(ret);
}

static void xseg_kseg_put(struct xseg_kseg *kseg)
{
	mutex_lock(&xseg_ksegs_lock);
	if (!refcount_dec_and_test(&kseg->users)) {
		mutex_unlock(&xseg_ksegs_lock);
		return;
	}
	list_del(&kseg->node);
	mutex_unlock(&xseg_ksegs_lock);
	/* waits for running handlers: nothing routes through kseg after this */
	segdev_clear_doorbell_handler(kseg->seg);
	segdev_put(kseg->seg);
	kvfree(kseg);
	atomic_dec(&xseg_kobjects);
}

/*
 * Gives descriptor ctx->index of this handle its kernel state of the given kind and routes
 * the descriptor's doorbells to it.  An entry of an earlier descriptor with the same index
 * is reused (not freed: a stale work item may still be queued for it); its callback is
 * switched off first.
 */
struct xseg_ksd *xseg_ksd_install(struct xseg_khandle *kh, const struct xseg_sd_ctx *ctx,
				  enum xseg_ksd_kind kind)
{
	struct xseg_kseg *kseg = kh->kseg;
	struct xseg_ksd *ksd;
	u32 idx = ctx->index;

	if (idx >= XSEG_MAX_SDS)
		return ERR_PTR(-EINVAL);
	mutex_lock(&kh->lock);
	ksd = kh->sds[idx];
	if (!ksd) {
		ksd = kzalloc(sizeof(*ksd), GFP_KERNEL);
		if (!ksd) {
			mutex_unlock(&kh->lock);
			return ERR_PTR(-ENOMEM);
		}
		ksd->kh = kh;
		ksd->index = idx;
		init_waitqueue_head(&ksd->wq);
		INIT_WORK(&ksd->work, xseg_callback_work);
		kh->sds[idx] = ksd;
		atomic_inc(&xseg_kobjects);
	}
	WRITE_ONCE(ksd->fn, NULL);
	WRITE_ONCE(ksd->direct, false);
	ksd->priv = NULL;
	ksd->shared = ctx->shared;
	atomic_set(&ksd->woken, 0);
	WRITE_ONCE(ksd->kind, kind);
	mutex_unlock(&kh->lock);

	spin_lock(&kseg->slots_lock);
	/* the entry is complete before a doorbell can find it; pairs with rcu_dereference() */
	rcu_assign_pointer(kseg->slots[idx], ksd);
	spin_unlock(&kseg->slots_lock);
	return ksd;
}

/* Stops routing to this handle's entries of one kind and switches their callbacks off. */
void xseg_ksd_disable(struct xseg_khandle *kh, enum xseg_ksd_kind kind)
{
	u32 i;

	mutex_lock(&kh->lock);
	for (i = 0; i < XSEG_MAX_SDS; i++) {
		struct xseg_ksd *ksd = kh->sds[i];

		if (!ksd || READ_ONCE(ksd->kind) != kind)
			continue;
		xseg_ksd_unroute(ksd);
		WRITE_ONCE(ksd->fn, NULL);
		WRITE_ONCE(ksd->kind, XSEG_KSD_NONE);
		/* a thread still sleeping on it (misuse) wakes up and finds it gone */
		wake_up_all(&ksd->wq);
	}
	mutex_unlock(&kh->lock);
}

/*
 * Frees every entry of a leaving handle.  Unrouted and switched off first; then no doorbell
 * handler or kernel sender still looks at them (synchronize_rcu) and no work item runs
 * (cancel_work_sync): callbacks are never called after this.
 */
static void xseg_khandle_teardown(struct xseg_khandle *kh)
{
	u32 i;

	mutex_lock(&kh->lock);
	for (i = 0; i < XSEG_MAX_SDS; i++) {
		if (!kh->sds[i])
			continue;
		xseg_ksd_unroute(kh->sds[i]);
		WRITE_ONCE(kh->sds[i]->fn, NULL);
	}
	mutex_unlock(&kh->lock);
	synchronize_rcu();
	for (i = 0; i < XSEG_MAX_SDS; i++) {
		if (!kh->sds[i])
			continue;
		cancel_work_sync(&kh->sds[i]->work);
		kfree(kh->sds[i]);
		kh->sds[i] = NULL;
		atomic_dec(&xseg_kobjects);
	}
}

static int xseg_segdev_kcreate(const char *name, __u64 size, __u32 mode)
{
	struct segdev_segment *seg;
	struct xseg_header *hdr;
	int ret = 0;

	seg = segdev_get_by_name(name);
	if (IS_ERR(seg))
		return PTR_ERR(seg);
	hdr = segdev_vaddr(seg);
	if (segdev_size(seg) < size)
		ret = -ENOSPC;
	else if (READ_ONCE(hdr->magic) == XSEG_MAGIC)
		ret = -EEXIST;
	segdev_put(seg);
	return ret;
}

static int xseg_segdev_kdestroy(const char *name)
{
	return -EOPNOTSUPP;
}

static int xseg_segdev_kmap(const char *name, void **basep, __u64 *sizep, void **privp)
{
	struct xseg_khandle *kh;
	struct xseg_kseg *kseg;

	kh = kvzalloc(sizeof(*kh), GFP_KERNEL);
	if (!kh)
		return -ENOMEM;
	kseg = xseg_kseg_get(name);
	if (IS_ERR(kseg)) {
		kvfree(kh);
		return PTR_ERR(kseg);
	}
	kh->kseg = kseg;
	mutex_init(&kh->lock);
	*basep = segdev_vaddr(kseg->seg);
	*sizep = segdev_size(kseg->seg);
	*privp = kh;
	atomic_inc(&xseg_kobjects);
	return 0;
}

static void xseg_segdev_kunmap(void *base, __u64 size, void *priv)
{
	struct xseg_khandle *kh = priv;

	xseg_khandle_teardown(kh);
	xseg_kseg_put(kh->kseg);
	mutex_destroy(&kh->lock);
	kvfree(kh);
	atomic_dec(&xseg_kobjects);
}

const struct xseg_backend_ops xseg_segdev_kbackend = {
	.name = "segdev",
	.create = xseg_segdev_kcreate,
	.destroy = xseg_segdev_kdestroy,
	.map = xseg_segdev_kmap,
	.unmap = xseg_segdev_kunmap,
};

int xseg_kernel_join(const char *segname, struct xseg **xsegp)
{
	return xseg_join(&xseg_segdev_kbackend, segname, xsegp);
}

int xseg_kernel_create(const char *segname, const struct xseg_config *cfg,
		       struct xseg **xsegp)
{
	return xseg_create(&xseg_segdev_kbackend, segname, cfg, xsegp);
}

int xseg_kernel_stats(struct xseg *xseg, struct xseg_kstats *st)
{
	struct xseg_khandle *kh = xseg_khandle_of(xseg);

	if (!kh)
		return -EINVAL;
	st->doorbells = atomic64_read(&kh->kseg->doorbells);
	st->doorbells_ignored = atomic64_read(&kh->kseg->doorbells_ignored);
	st->callbacks = atomic64_read(&kh->callbacks);
	st->user_signals = atomic64_read(&kh->kicks);
	st->user_skipped = atomic64_read(&kh->kicks_skipped);
	st->user_overflows = atomic64_read(&kh->kick_overflows);
	st->user_errors = atomic64_read(&kh->kick_errors);
	return 0;
}
