/* SPDX-License-Identifier: GPL-2.0 */
/*
 * segdev.ko internals shared by sys/kernel/segdev_*.c.
 *
 * Lifetime of a segment (kref @kref), one reference each for:
 *  - the name: taken at CREATE, dropped at DESTROY (the segment is then unlisted);
 *  - every attached file (struct segdev_file::seg);
 *  - every mapping (VMA; taken in mmap and vm_ops->open, dropped in vm_ops->close);
 *  - every kernel user (segdev_get_by_name() .. segdev_put()).
 * New references come only from the list under segdev_lock (attach, get_by_name) or from
 * an existing reference (mmap through an attached file, VMA copies).  So under segdev_lock
 * a listed segment whose count is 1 has no user and none can appear: that makes the EBUSY
 * check of DESTROY exact.  Each segment also pins the module (see segdev_segment_free()).
 */
#ifndef _SEGDEV_INTERNAL_H
#define _SEGDEV_INTERNAL_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

#include <uapi/xseg/segdev.h>
#include <xseg/segdev_kernel.h>

/* The kernel doorbell handler; replaced as a whole and freed after a grace period. */
struct segdev_handler {
	segdev_doorbell_fn fn;
	void *priv;
};

struct kernel_siginfo;
struct segdev_file;

/* A thread registered through @owner for one port; freed after an RCU grace period. */
struct segdev_waiter_entry {
	struct pid *pid;		/* reference held until the waiter is freed */
	const struct segdev_file *owner;	/* identity only, never dereferenced */
	int signo;			/* the only signal kernel users may send; 0: any RT */
	struct rcu_head rcu;
};

struct segdev_segment {
	struct kref kref;
	/* In segdev_segments while named; empty once destroyed.  Under segdev_lock. */
	struct list_head node;
	/* Under segdev_lock. */
	bool destroyed;
	/* Immutable after creation: */
	char name[SEGDEV_NAME_LEN];
	void *vaddr;			/* vmap() of @pages, @map_size bytes */
	struct file *shm;		/* unlinked shmem file the pages belong to */
	struct page **pages;		/* @nr_pages pinned pages of @shm, in order */
	unsigned long nr_pages;
	size_t size;			/* bytes asked for at CREATE */
	size_t map_size;		/* @size rounded up to pages */
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	/* Statistics for INFO only; never used for lifetime decisions. */
	atomic_t nr_attached;
	atomic_t nr_mappings;
	atomic_t nr_kernel_users;
	atomic64_t doorbell_rings;
	atomic64_t doorbell_handled;
	/*
	 * Serialises changes of @waiters, @nr_waiters and @handler.  Readers of @waiters and
	 * @handler (doorbell, signal) use RCU and never take it.
	 */
	struct mutex lock;
	struct xarray waiters;		/* port -> struct segdev_waiter_entry */
	unsigned int nr_waiters;
	struct segdev_handler __rcu *handler;
};

/* Per open file of /dev/segdev. */
struct segdev_file {
	/*
	 * Protects @seg: written (attach/detach) under the write lock; users of the attached
	 * segment (ioctls, mmap, write) hold the read lock for as long as they use it.
	 */
	struct rw_semaphore rwsem;
	struct segdev_segment *seg;
};

/* Limits, module parameters (read-only after load). */
extern unsigned int segdev_max_segments;
extern unsigned int segdev_max_segment_mb;
extern unsigned int segdev_max_waiters;

/* segdev_segment.c: registry, lifetime, permissions, doorbell, waiters. */
int segdev_caches_init(void);
void segdev_caches_exit(void);
int segdev_check_name(const char *name);
struct segdev_segment *segdev_segment_alloc(const char *name, size_t size, kuid_t uid,
					    kgid_t gid, umode_t mode);
void segdev_segment_discard(struct segdev_segment *seg);
int segdev_segment_publish(struct segdev_segment *seg);
int segdev_segment_destroy(const char *name, bool deferred);
struct segdev_segment *segdev_segment_lookup(const char *name);
struct segdev_segment *segdev_segment_attach(const char *name);
void segdev_segment_get(struct segdev_segment *seg);
void segdev_segment_put(struct segdev_segment *seg);
int segdev_segment_list(char *names, u32 capacity, u32 *total);
void segdev_segment_fill_info(struct segdev_segment *seg, struct segdev_info *info);
void segdev_ring(struct segdev_segment *seg, u32 port);
int segdev_waiter_register(struct segdev_segment *seg, const struct segdev_file *sf, u32 port,
			   int signo);
int segdev_waiter_unregister(struct segdev_segment *seg, const struct segdev_file *sf,
			     u32 port);
void segdev_waiters_drop(struct segdev_segment *seg, const struct segdev_file *sf);
int segdev_waiter_signal(struct segdev_segment *seg, u32 port, struct kernel_siginfo *info);
bool segdev_segments_empty(void);

#endif /* _SEGDEV_INTERNAL_H */
