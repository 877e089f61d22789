/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel domain shims for the core: smp_load_acquire/smp_store_release, cmpxchg, mutexes. */
#ifndef _XSEG_DOMAIN_KERNEL_H
#define _XSEG_DOMAIN_KERNEL_H

#ifndef _XSEG_DOMAIN_H
#error "include <xseg/domain.h>, not this file"
#endif

#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/barrier.h>

/* The ordering shim of domain.h; each barrier's partner is named at its call site. */
#define xseg_load_relaxed(p)		READ_ONCE(*(p))
#define xseg_store_relaxed(p, v)	WRITE_ONCE(*(p), (v))
/* acquire: pairs with the xseg_store_release() that published what p guards */
#define xseg_load_acquire(p)		smp_load_acquire(p)
/* release: pairs with the xseg_load_acquire() of whoever consumes v */
#define xseg_store_release(p, v)	smp_store_release((p), (v))
/* full barrier: store-to-load ordering the acquire/release pairs cannot give */
#define xseg_smp_mb()			smp_mb()
/* cmpxchg() is fully ordered when it succeeds; the failure path only re-reads */
#define xseg_cmpxchg(p, o, n) ({						\
	__auto_type __xseg_p = (p);						\
	__typeof__(*__xseg_p) __xseg_old = (o);					\
	cmpxchg(__xseg_p, __xseg_old, (n)) == __xseg_old;			\
})

/*
 * Signal types the kernel domain builds in (drivers/kernel/), listed in xseg_dom_types
 * (sys/kernel/domain.c) for the core, next to "poll".
 */
struct xseg_signal_type;
extern const struct xseg_signal_type xseg_waitqueue_type;
extern const struct xseg_signal_type xseg_callback_type;
/* send-only: kernel peers waking user receivers (drivers/kernel/sig_*_remote.c) */
extern const struct xseg_signal_type xseg_kfutex_type;
extern const struct xseg_signal_type xseg_ksigio_type;

typedef atomic64_t xseg_counter_t;
#define xseg_counter_inc(c)	atomic64_inc(c)
#define xseg_counter_read(c)	((u64)atomic64_read(c))

/*
 * Lock for process-local state.  A mutex: the core never takes it in atomic context (the
 * request fast path does not use it).
 */
struct xseg_lock {
	struct mutex mutex;	/* what it protects is documented by each embedding struct */
};

static inline void xseg_lock_init(struct xseg_lock *l)
{
	mutex_init(&l->mutex);
}

static inline void xseg_lock_destroy(struct xseg_lock *l)
{
	mutex_destroy(&l->mutex);
}

static inline void xseg_lock(struct xseg_lock *l)
{
	mutex_lock(&l->mutex);
}

static inline void xseg_unlock(struct xseg_lock *l)
{
	mutex_unlock(&l->mutex);
}

#endif /* _XSEG_DOMAIN_KERNEL_H */
