/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to drivers/kernel/: the kernel side of segdev segments and the state the kernel
 * signal types keep for each descriptor.  None of it lives in the segment.
 *
 * Objects:
 *  - struct xseg_kseg: one per segdev segment joined by at least one kernel handle; holds
 *    the segdev reference, the doorbell handler and the routing table doorbell number
 *    (descriptor index) -> kernel descriptor state.  Refcounted by the handles.
 *  - struct xseg_khandle: the backend's private data of one kernel handle (xseg->be_priv);
 *    owns the struct xseg_ksd of the descriptors this handle created, indexed by descriptor.
 *  - struct xseg_ksd: kernel state of one descriptor of a kernel signal type.  Owned by its
 *    handle and freed only when the handle leaves, never because of anything in the segment:
 *    a scribbled refcount or state cannot free what a sleeping thread or a callback uses.
 */
#ifndef _XSEG_DRIVERS_KERNEL_KSEG_H
#define _XSEG_DRIVERS_KERNEL_KSEG_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <xseg/internal.h>
#include <xseg/segdev_kernel.h>
#include <xseg/xseg_kernel.h>

enum xseg_ksd_kind {
	XSEG_KSD_NONE = 0,
	XSEG_KSD_WAITQUEUE,
	XSEG_KSD_CALLBACK,
};

struct xseg_ksd {
	struct xseg_khandle *kh;
	u32 index;
	u32 kind;			/* enum xseg_ksd_kind; written under kh->lock */
	/* the descriptor in the segment, computed from the handle's validated geometry */
	struct xseg_signal_desc *shared;
	/* waitqueue */
	wait_queue_head_t wq;
	atomic_t woken;			/* a wake arrived since the waiter last looked */
	/* callback */
	xseg_kcallback_fn fn;		/* NULL: callbacks off; read under RCU */
	void *priv;
	bool direct;			/* XSEG_KCB_DIRECT: doorbells call fn themselves */
	unsigned long cb_state;		/* XSEG_KSD_CB_* bits (sig_callback.c) */
	struct work_struct work;	/* runs the callback (system_highpri_wq) */
};

/* cb_state bits: fn is running (the work item or a doorbell); a wake came meanwhile */
#define XSEG_KSD_CB_RUNNING	0
#define XSEG_KSD_CB_AGAIN	1

struct xseg_kseg {
	struct list_head node;		/* in xseg_ksegs, under xseg_ksegs_lock */
	refcount_t users;		/* handles using it; under xseg_ksegs_lock */
	struct segdev_segment *seg;
	char name[64];
	/* doorbell routing: descriptor index -> ksd; written under slots_lock, read under RCU */
	struct xseg_ksd __rcu *slots[XSEG_MAX_SDS];
	spinlock_t slots_lock;		/* serialises writers of slots[] */
	atomic64_t doorbells;
	atomic64_t doorbells_ignored;
};

struct xseg_khandle {
	struct xseg_kseg *kseg;
	/* protects sds[] and the kind/fn/priv of their entries */
	struct mutex lock;
	struct xseg_ksd *sds[XSEG_MAX_SDS];
	atomic64_t callbacks;
	/* signals this handle sent to user threads (sig_futex_remote.c, sig_sigio_remote.c) */
	atomic64_t kicks;
	atomic64_t kicks_skipped;	/* futex receiver spinning: no signal needed */
	atomic64_t kick_overflows;	/* receiver's queue full: the dirty word carries it */
	atomic64_t kick_errors;		/* no registration, wrong signal number... */
};

/* segdev_backend.c */
struct xseg_khandle *xseg_khandle_of(struct xseg *xseg);
struct xseg_ksd *xseg_ksd_install(struct xseg_khandle *kh, const struct xseg_sd_ctx *ctx,
				  enum xseg_ksd_kind kind);
void xseg_ksd_disable(struct xseg_khandle *kh, enum xseg_ksd_kind kind);
struct xseg_ksd *xseg_ksd_route(struct xseg_kseg *kseg, u32 index);

/* sig_waitqueue.c */
extern const struct xseg_signal_type xseg_waitqueue_type;
void xseg_waitqueue_wake(struct xseg_ksd *ksd);

/* sig_futex_remote.c, sig_sigio_remote.c: sending to the user types */
extern const struct xseg_signal_type xseg_kfutex_type;
extern const struct xseg_signal_type xseg_ksigio_type;

/* sig_callback.c */
extern const struct xseg_signal_type xseg_callback_type;
void xseg_callback_dispatch(struct xseg_ksd *ksd);
void xseg_callback_doorbell(struct xseg_ksd *ksd);
void xseg_callback_work(struct work_struct *work);

#endif /* _XSEG_DRIVERS_KERNEL_KSEG_H */
