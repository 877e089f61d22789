/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The user signal types of libxseg: "futex" and "sigio" (drivers/user/).  Both are registered
 * when libxseg is loaded; use them by name with xseg_local_signal_init() and
 * xseg_get_signal_desc().  See xseg_signal_types(7).
 */
#ifndef _XSEG_SIGNAL_USER_H
#define _XSEG_SIGNAL_USER_H

#include <xseg/xseg.h>
#include <uapi/xseg/signal_types.h>

#define XSEG_SIGNAL_FUTEX	"futex"
#define XSEG_SIGNAL_SIGIO	"sigio"

/*
 * futex: before sleeping in FUTEX_WAIT a waiter spins on the descriptor's dirty word for up to
 * this many nanoseconds (adaptively less when spinning does not pay).  Default 20000 or
 * $XSEG_FUTEX_SPIN_NS, at most XSEG_FUTEX_SPIN_MAX_NS; 0 never spins.  Process-wide.
 */
#define XSEG_FUTEX_SPIN_DEFAULT_NS	20000
#define XSEG_FUTEX_SPIN_MAX_NS		1000000
int xseg_futex_set_spin_ns(__u32 ns);
__u32 xseg_futex_get_spin_ns(void);

/*
 * sigio: the RT signal (default SIGRTMIN + 1) and the mode (XSEG_SIGIO_THREAD, default, or
 * XSEG_SIGIO_PROCESS) recorded in descriptors created from now on.  Process-wide.
 */
int xseg_sigio_set_signo(int signo);
int xseg_sigio_get_signo(void);
int xseg_sigio_set_mode(__u32 mode);

/* Process-wide counters of the syscalls the user types really made (or avoided). */
struct xseg_user_signal_stats {
	__u64 futex_wakes;	/* FUTEX_WAKE syscalls */
	__u64 futex_skipped;	/* wakes the framework asked for, receiver was spinning */
	__u64 futex_sleeps;	/* waits that entered FUTEX_WAIT */
	__u64 sigio_sends;	/* successful rt_tgsigqueueinfo / pidfd_send_signal calls */
	__u64 sigio_overflows;	/* EAGAIN: queue full, the dirty word carries the wake */
	__u64 sigio_failures;	/* other send errors (-ESRCH, -EPERM, -EINVAL) */
	__u64 sigio_sleeps;	/* waits that entered sigtimedwait */
};

int xseg_user_signal_stats(struct xseg_user_signal_stats *st);

#endif /* _XSEG_SIGNAL_USER_H */
