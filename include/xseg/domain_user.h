/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* User domain shims for the core: C11 __atomic builtins, pthread mutexes, libc strings. */
#ifndef _XSEG_DOMAIN_USER_H
#define _XSEG_DOMAIN_USER_H

#ifndef _XSEG_DOMAIN_H
#error "include <xseg/domain.h>, not this file"
#endif

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include <xseg/compiler.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;

/*
 * Signal types the user domain builds in (drivers/user/), listed in xseg_dom_types
 * (sys/user/domain.c) for the core, next to "poll": available in every program, also when
 * linked statically (that reference pulls them in).
 */
struct xseg_signal_type;
extern const struct xseg_signal_type xseg_futex_type;
extern const struct xseg_signal_type xseg_sigio_type;
/* sender-only stubs of the kernel types (drivers/user/segdev.c) */
extern const struct xseg_signal_type xseg_user_waitqueue_type;
extern const struct xseg_signal_type xseg_user_callback_type;

#define xseg_load_relaxed(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define xseg_store_relaxed(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define xseg_load_acquire(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define xseg_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define xseg_smp_mb()			__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xseg_cmpxchg(p, o, n) ({						\
	__auto_type __xseg_p = (p);						\
	__typeof__(*__xseg_p) __xseg_old = (o);					\
	__atomic_compare_exchange_n(__xseg_p, &__xseg_old, (n), false,		\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);	\
})

/* process-local statistics counter */
typedef u64 xseg_counter_t;
#define xseg_counter_inc(c)	__atomic_fetch_add((c), 1, __ATOMIC_RELAXED)
#define xseg_counter_read(c)	__atomic_load_n((c), __ATOMIC_RELAXED)

/* lock for process-local state; may be held across blocking calls */
struct xseg_lock {
	pthread_mutex_t mutex;
};

static inline void xseg_lock_init(struct xseg_lock *l)
{
	pthread_mutex_init(&l->mutex, NULL);
}

static inline void xseg_lock_destroy(struct xseg_lock *l)
{
	pthread_mutex_destroy(&l->mutex);
}

static inline void xseg_lock(struct xseg_lock *l)
{
	pthread_mutex_lock(&l->mutex);
}

static inline void xseg_unlock(struct xseg_lock *l)
{
	pthread_mutex_unlock(&l->mutex);
}

#endif /* _XSEG_DOMAIN_USER_H */
