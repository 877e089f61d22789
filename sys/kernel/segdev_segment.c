// SPDX-License-Identifier: GPL-2.0
/*
 * segdev segments: the registry of named segments, their lifetime, permission checks,
 * doorbells and waiter registrations.  See segdev_internal.h for the reference rules.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "segdev_internal.h"

/* Protects segdev_segments, segdev_nr_segments and each segment's @node and @destroyed. */
static DEFINE_MUTEX(segdev_lock);
static LIST_HEAD(segdev_segments);
static unsigned int segdev_nr_segments;

/*
 * Dedicated caches, so that a leaked object makes kmem_cache_destroy() at module unload
 * complain (the VM tests boot with slub_debug, which also keeps the caches unmerged).
 */
static struct kmem_cache *segdev_segment_cache;
static struct kmem_cache *segdev_waiter_cache;

int segdev_caches_init(void)
{
	segdev_segment_cache = KMEM_CACHE(segdev_segment, 0);
	if (!segdev_segment_cache)
		return -ENOMEM;
	segdev_waiter_cache = KMEM_CACHE(segdev_waiter_entry, 0);
	if (!segdev_waiter_cache)
		goto err_destroy_segment_cache;
	return 0;

err_destroy_segment_cache:
	kmem_cache_destroy(segdev_segment_cache);
	return -ENOMEM;
}

/* Waits for waiters still in call_rcu(), then destroys the caches. */
void segdev_caches_exit(void)
{
	rcu_barrier();
	kmem_cache_destroy(segdev_waiter_cache);
	kmem_cache_destroy(segdev_segment_cache);
}

/* A name is 1..SEGDEV_NAME_LEN-1 printable characters, no space, no '/', NUL-terminated. */
int segdev_check_name(const char *name)
{
	size_t len = strnlen(name, SEGDEV_NAME_LEN);
	size_t i;

	if (len == 0 || len == SEGDEV_NAME_LEN)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isgraph(name[i]) || name[i] == '/')
			return -EINVAL;
	return 0;
}

static struct segdev_segment *segdev_find_locked(const char *name)
{
	struct segdev_segment *seg;

	lockdep_assert_held(&segdev_lock);
	list_for_each_entry(seg, &segdev_segments, node)
		if (!strcmp(seg->name, name))
			return seg;
	return NULL;
}

static void segdev_memory_free(struct segdev_segment *seg)
{
	unsigned long i;

	if (seg->vaddr)
		vunmap(seg->vaddr);
	for (i = 0; i < seg->nr_pages && seg->pages[i]; i++)
		put_page(seg->pages[i]);
	kvfree(seg->pages);
	if (seg->shm)
		fput(seg->shm);
}

/*
 * The memory: pages of an unlinked shmem file, pinned (a reference each, unevictable) and
 * mapped contiguously for the kernel with vmap().  Page cache pages rather than vmalloc
 * ones because a page with a mapping is what a shared futex needs: FUTEX_WAIT and
 * FUTEX_WAKE on a user mapping of the segment key on (inode, page index), so waiters and
 * wakers in different processes meet (vmalloc pages have no mapping: EFAULT).  The pages
 * are zero-filled by shmem.
 */
static int segdev_memory_alloc(struct segdev_segment *seg)
{
	struct address_space *mapping;
	unsigned long i;

	seg->nr_pages = seg->map_size >> PAGE_SHIFT;
	seg->pages = kvcalloc(seg->nr_pages, sizeof(*seg->pages), GFP_KERNEL);
	if (!seg->pages)
		return -ENOMEM;
	seg->shm = shmem_file_setup("segdev", seg->map_size, VM_NORESERVE);
	if (IS_ERR(seg->shm)) {
		seg->shm = NULL;
		goto err_free;
	}
	mapping = seg->shm->f_mapping;
	mapping_set_unevictable(mapping);
	for (i = 0; i < seg->nr_pages; i++) {
		struct page *page = shmem_read_mapping_page_gfp(mapping, i, GFP_USER);

		if (IS_ERR(page))
			goto err_free;
		seg->pages[i] = page;
	}
	/* VM_USERMAP: segdev_mmap() maps it to users with remap_vmalloc_range() */
	seg->vaddr = vmap(seg->pages, seg->nr_pages, VM_MAP | VM_USERMAP, PAGE_KERNEL);
	if (!seg->vaddr)
		goto err_free;
	return 0;

err_free:
	segdev_memory_free(seg);
	return -ENOMEM;
}

/* Allocates an unlisted segment holding one reference (the name's).  Arguments are valid. */
struct segdev_segment *segdev_segment_alloc(const char *name, size_t size, kuid_t uid,
					    kgid_t gid, umode_t mode)
{
	struct segdev_segment *seg;

	seg = kmem_cache_zalloc(segdev_segment_cache, GFP_KERNEL);
	if (!seg)
		return ERR_PTR(-ENOMEM);
	seg->map_size = PAGE_ALIGN(size);
	if (segdev_memory_alloc(seg))
		goto err_free_seg;

	kref_init(&seg->kref);
	INIT_LIST_HEAD(&seg->node);
	strscpy(seg->name, name, sizeof(seg->name));
	seg->size = size;
	seg->uid = uid;
	seg->gid = gid;
	seg->mode = mode;
	atomic_set(&seg->nr_attached, 0);
	atomic_set(&seg->nr_mappings, 0);
	atomic_set(&seg->nr_kernel_users, 0);
	atomic64_set(&seg->doorbell_rings, 0);
	atomic64_set(&seg->doorbell_handled, 0);
	mutex_init(&seg->lock);
	xa_init(&seg->waiters);
	RCU_INIT_POINTER(seg->handler, NULL);
	return seg;

err_free_seg:
	kmem_cache_free(segdev_segment_cache, seg);
	return ERR_PTR(-ENOMEM);
}

static void segdev_segment_free_memory(struct segdev_segment *seg)
{
	mutex_destroy(&seg->lock);
	xa_destroy(&seg->waiters);
	segdev_memory_free(seg);
	kmem_cache_free(segdev_segment_cache, seg);
}

/* Frees a segment that segdev_segment_publish() refused. */
void segdev_segment_discard(struct segdev_segment *seg)
{
	segdev_segment_free_memory(seg);
}

/*
 * Lists the segment under its name; from now on it pins the module.  The caller runs in a
 * file operation of this module, which already pins it, so __module_get() is safe.
 */
int segdev_segment_publish(struct segdev_segment *seg)
{
	int ret = 0;

	mutex_lock(&segdev_lock);
	if (segdev_find_locked(seg->name)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	if (segdev_nr_segments >= segdev_max_segments) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	__module_get(THIS_MODULE);
	list_add_tail(&seg->node, &segdev_segments);
	segdev_nr_segments++;
out_unlock:
	mutex_unlock(&segdev_lock);
	return ret;
}

/*
 * Last reference gone: the segment is unlisted, no file is attached (so no waiters), no
 * mapping and no kernel user remain.  The module reference is dropped last; every caller
 * of segdev_segment_put() runs while something else still pins the module (an open file,
 * a VMA's file, or a module linked against segdev's exports), so the code does not vanish
 * under the returning function.
 */
static void segdev_segment_release(struct kref *kref)
{
	struct segdev_segment *seg = container_of(kref, struct segdev_segment, kref);
	struct segdev_handler *handler;

	/*
	 * A kernel user that forgot segdev_clear_doorbell_handler().  Nobody rings now: a ring
	 * needs an attached file, and an attached file holds a reference.
	 */
	handler = rcu_dereference_protected(seg->handler, true);
	if (WARN_ON_ONCE(handler))
		kfree(handler);
	WARN_ON_ONCE(!xa_empty(&seg->waiters));
	segdev_segment_free_memory(seg);
	module_put(THIS_MODULE);
}

void segdev_segment_get(struct segdev_segment *seg)
{
	kref_get(&seg->kref);
}

void segdev_segment_put(struct segdev_segment *seg)
{
	kref_put(&seg->kref, segdev_segment_release);
}

/* Only the owner or CAP_SYS_ADMIN may destroy.  Caller holds segdev_lock. */
static int segdev_may_destroy(const struct segdev_segment *seg)
{
	lockdep_assert_held(&segdev_lock);
	if (uid_eq(current_fsuid(), seg->uid) || capable(CAP_SYS_ADMIN))
		return 0;
	return -EPERM;
}

int segdev_segment_destroy(const char *name, bool deferred)
{
	struct segdev_segment *seg;
	int ret;

	mutex_lock(&segdev_lock);
	seg = segdev_find_locked(name);
	if (!seg) {
		ret = -ENOENT;
		goto out_unlock;
	}
	ret = segdev_may_destroy(seg);
	if (ret)
		goto out_unlock;
	/* Exact under segdev_lock, see segdev_internal.h. */
	if (kref_read(&seg->kref) > 1 && !deferred) {
		ret = -EBUSY;
		goto out_unlock;
	}
	list_del_init(&seg->node);
	seg->destroyed = true;
	segdev_nr_segments--;
	mutex_unlock(&segdev_lock);

	segdev_segment_put(seg);
	return 0;

out_unlock:
	mutex_unlock(&segdev_lock);
	return ret;
}

/* Returns a referenced segment by name, or NULL.  No permission check. */
struct segdev_segment *segdev_segment_lookup(const char *name)
{
	struct segdev_segment *seg;

	mutex_lock(&segdev_lock);
	seg = segdev_find_locked(name);
	if (seg)
		segdev_segment_get(seg);
	mutex_unlock(&segdev_lock);
	return seg;
}

/*
 * File-like permission check for a read-write attach: owner bits if the caller's fsuid owns
 * the segment, group bits if the caller is in the owner group, other bits otherwise.
 * CAP_SYS_ADMIN is asked only when the mode refuses, like generic_permission().
 */
static int segdev_may_attach(const struct segdev_segment *seg)
{
	umode_t mode = seg->mode;

	if (uid_eq(current_fsuid(), seg->uid))
		mode >>= 6;
	else if (in_group_p(seg->gid))
		mode >>= 3;
	if ((mode & 06) == 06)
		return 0;
	if (capable(CAP_SYS_ADMIN))
		return 0;
	return -EACCES;
}

/* Returns a referenced segment for a new attachment, or an ERR_PTR. */
struct segdev_segment *segdev_segment_attach(const char *name)
{
	struct segdev_segment *seg;
	int ret;

	mutex_lock(&segdev_lock);
	seg = segdev_find_locked(name);
	if (!seg) {
		ret = -ENOENT;
		goto out_unlock;
	}
	ret = segdev_may_attach(seg);
	if (ret)
		goto out_unlock;
	segdev_segment_get(seg);
	atomic_inc(&seg->nr_attached);
	mutex_unlock(&segdev_lock);
	return seg;

out_unlock:
	mutex_unlock(&segdev_lock);
	return ERR_PTR(ret);
}

bool segdev_segments_empty(void)
{
	bool empty;

	mutex_lock(&segdev_lock);
	empty = list_empty(&segdev_segments);
	mutex_unlock(&segdev_lock);
	return empty;
}

/*
 * Copies up to @capacity names of SEGDEV_NAME_LEN bytes each into @names (kernel memory: no
 * user access under the lock) and the number of named segments into @total.
 */
int segdev_segment_list(char *names, u32 capacity, u32 *total)
{
	struct segdev_segment *seg;
	u32 n = 0;

	mutex_lock(&segdev_lock);
	list_for_each_entry(seg, &segdev_segments, node) {
		if (n < capacity)
			memcpy(names + (size_t)n * SEGDEV_NAME_LEN, seg->name, SEGDEV_NAME_LEN);
		n++;
	}
	mutex_unlock(&segdev_lock);
	*total = n;
	return 0;
}

void segdev_segment_fill_info(struct segdev_segment *seg, struct segdev_info *info)
{
	struct user_namespace *ns = current_user_ns();

	info->seg_size = seg->size;
	info->map_size = seg->map_size;
	info->uid = from_kuid_munged(ns, seg->uid);
	info->gid = from_kgid_munged(ns, seg->gid);
	info->mode = seg->mode;
	info->state = 0;
	mutex_lock(&segdev_lock);
	if (seg->destroyed)
		info->state |= SEGDEV_STATE_DESTROYED;
	mutex_unlock(&segdev_lock);
	if (rcu_access_pointer(seg->handler))
		info->state |= SEGDEV_STATE_HANDLER;
	info->nr_attached = atomic_read(&seg->nr_attached);
	info->nr_mappings = atomic_read(&seg->nr_mappings);
	info->nr_waiters = READ_ONCE(seg->nr_waiters);
	info->nr_kernel_users = atomic_read(&seg->nr_kernel_users);
	info->doorbell_rings = atomic64_read(&seg->doorbell_rings);
	info->doorbell_handled = atomic64_read(&seg->doorbell_handled);
	memcpy(info->name, seg->name, SEGDEV_NAME_LEN);
}

/*
 * Rings @port: counts, then calls the kernel handler if one is registered.  Context: the
 * ringer's process context (ioctl/write); the handler runs under rcu_read_lock() and must
 * not sleep (segdev_kernel.h).  segdev_clear_doorbell_handler() waits for it with
 * synchronize_rcu().
 */
void segdev_ring(struct segdev_segment *seg, u32 port)
{
	struct segdev_handler *handler;

	atomic64_inc(&seg->doorbell_rings);
	rcu_read_lock();
	handler = rcu_dereference(seg->handler);
	if (handler) {
		handler->fn(handler->priv, port);
		atomic64_inc(&seg->doorbell_handled);
	}
	rcu_read_unlock();
}

static void segdev_waiter_free_rcu(struct rcu_head *rcu)
{
	struct segdev_waiter_entry *w = container_of(rcu, struct segdev_waiter_entry, rcu);

	put_pid(w->pid);
	kmem_cache_free(segdev_waiter_cache, w);
}

/*
 * Removes @w from @port.  Freed after a grace period because segdev_signal_waiter() reads
 * waiters under RCU only.  Caller holds seg->lock.
 */
static void segdev_waiter_remove(struct segdev_segment *seg, unsigned long port,
				 struct segdev_waiter_entry *w)
{
	lockdep_assert_held(&seg->lock);
	xa_erase(&seg->waiters, port);
	seg->nr_waiters--;
	call_rcu(&w->rcu, segdev_waiter_free_rcu);
}

/*
 * The task behind a waiter's pid, or NULL once the thread has exited (or is exiting).
 * Caller holds rcu_read_lock().
 */
static struct task_struct *segdev_waiter_task(const struct segdev_waiter_entry *w)
{
	struct task_struct *task = pid_task(w->pid, PIDTYPE_PID);

	if (task && (task->flags & PF_EXITING))
		return NULL;
	return task;
}

static bool segdev_waiter_alive(const struct segdev_waiter_entry *w)
{
	bool alive;

	rcu_read_lock();
	alive = segdev_waiter_task(w);
	rcu_read_unlock();
	return alive;
}

/* Records the calling thread as waiter of @port through @sf. */
int segdev_waiter_register(struct segdev_segment *seg, const struct segdev_file *sf, u32 port,
			   int signo)
{
	struct segdev_waiter_entry *old, *w;
	int ret;

	mutex_lock(&seg->lock);
	old = xa_load(&seg->waiters, port);
	if (old && old->owner == sf && old->pid == task_pid(current)) {
		/* already registered: only the signal changes; readers see old or new */
		WRITE_ONCE(old->signo, signo);
		ret = 0;
		goto out_unlock;
	}
	if (old && segdev_waiter_alive(old)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (!old && seg->nr_waiters >= segdev_max_waiters) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	w = kmem_cache_zalloc(segdev_waiter_cache, GFP_KERNEL);
	if (!w) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	w->pid = get_pid(task_pid(current));
	w->owner = sf;
	w->signo = signo;
	ret = xa_err(xa_store(&seg->waiters, port, w, GFP_KERNEL));
	if (ret)
		goto err_free_waiter;
	if (old)	/* its thread has exited: replaced, @nr_waiters unchanged */
		call_rcu(&old->rcu, segdev_waiter_free_rcu);
	else
		seg->nr_waiters++;
	mutex_unlock(&seg->lock);
	return 0;

err_free_waiter:
	put_pid(w->pid);
	kmem_cache_free(segdev_waiter_cache, w);
out_unlock:
	mutex_unlock(&seg->lock);
	return ret;
}

int segdev_waiter_unregister(struct segdev_segment *seg, const struct segdev_file *sf,
			     u32 port)
{
	struct segdev_waiter_entry *w;
	int ret = 0;

	mutex_lock(&seg->lock);
	w = xa_load(&seg->waiters, port);
	if (!w || w->owner != sf) {
		ret = -ENOENT;
		goto out_unlock;
	}
	segdev_waiter_remove(seg, port, w);
out_unlock:
	mutex_unlock(&seg->lock);
	return ret;
}

/* Drops every registration made through @sf (detach, close). */
void segdev_waiters_drop(struct segdev_segment *seg, const struct segdev_file *sf)
{
	struct segdev_waiter_entry *w;
	unsigned long port;

	mutex_lock(&seg->lock);
	xa_for_each(&seg->waiters, port, w)
		if (w->owner == sf)
			segdev_waiter_remove(seg, port, w);
	mutex_unlock(&seg->lock);
}

/*
 * Sends @info to the live thread registered for @port, or returns -ESRCH.  Context: any;
 * only RCU is taken here.
 */
int segdev_waiter_signal(struct segdev_segment *seg, u32 port, struct kernel_siginfo *info)
{
	struct segdev_waiter_entry *w;
	struct task_struct *task;
	int ret = -ESRCH, signo;

	rcu_read_lock();
	w = xa_load(&seg->waiters, port);
	task = w ? segdev_waiter_task(w) : NULL;
	if (task) {
		signo = READ_ONCE(w->signo);
		if (signo && signo != info->si_signo)
			ret = -EPERM;	/* the thread did not ask for this one */
		else
			ret = send_sig_info(info->si_signo, info, task);
	}
	rcu_read_unlock();
	return ret;
}
