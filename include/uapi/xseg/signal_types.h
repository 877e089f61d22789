/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * Type-specific data of the user signal types, the XSEG_SD_DATA_SIZE bytes that every signal
 * descriptor carries (struct xseg_signal_desc.data_off).  Lives in the segment: fixed-width
 * types, explicit padding, every field read once and validated by its reader, never trusted.
 *
 * Both layouts are designed so that a kernel sender can reach these receivers later through
 * segdev without trusting anything written here:
 *
 *  futex:  the kernel cannot call futex_wake() (not exported).  It bumps seq (after the dirty
 *          word, as every sender does) and then kicks the thread that registered through its
 *          own segdev fd with a dedicated RT signal that interrupts FUTEX_WAIT (-EINTR).  The
 *          kick is race-free because the word changes before it: a waiter that has not yet
 *          entered FUTEX_WAIT sees the new seq (or dirty) and does not sleep; one that has is
 *          interrupted.  tid below is informational only; the kernel uses its struct pid.
 *  sigio:  the kernel uses send_sig_info() on the struct pid registered through segdev, with
 *          the same signo and payload (si_value = descriptor index); tid/tgid/start_time below
 *          are only used by user senders, whose own credentials the kernel checks.
 */
#ifndef _UAPI_XSEG_SIGNAL_TYPES_H
#define _UAPI_XSEG_SIGNAL_TYPES_H

#include <linux/types.h>

/*
 * The real-time signal a kernel sender kicks a futex waiter with (SIGRTMAX - 1 on Linux,
 * kernel numbering, as in signal(7)).  Fixed, not taken from the segment: segdev delivers
 * only this signal to a futex waiter's registration (SEGDEV_WAITER_SIGNO).  libxseg installs
 * a no-op handler for it and keeps it blocked except while a waiter is in FUTEX_WAIT.
 */
#define XSEG_FUTEX_KICK_SIGNAL	63

/* "futex" type data. */
struct xseg_futex_data {
	__u32 seq;		/* the futex word: bumped by every wake, before FUTEX_WAKE */
	__u32 sleeping;		/* 1 while the receiver is in (or entering) FUTEX_WAIT */
	__u32 tid;		/* receiving thread at creation (informational) */
	__u32 flags;		/* reserved, 0 */
	__u8 reserved[48];
};

/* Delivery modes of the "sigio" type (xseg_sigio_data.mode). */
#define XSEG_SIGIO_THREAD	1	/* signal the registered thread (rt_tgsigqueueinfo) */
#define XSEG_SIGIO_PROCESS	2	/* signal the process; one master thread receives */

/* "sigio" type data: where user senders queue the RT signal. */
struct xseg_sigio_data {
	__u32 tid;		/* receiving thread (process mode: the thread group leader) */
	__u32 tgid;		/* its process */
	__u64 start_time;	/* tid's start time, clock ticks since boot (/proc stat field 22) */
	__u32 signo;		/* the RT signal the receiver waits on, SIGRTMIN..SIGRTMAX */
	__u32 mode;		/* XSEG_SIGIO_THREAD or XSEG_SIGIO_PROCESS */
	__u32 overflows;	/* queue overflows seen by senders (advisory, statistics) */
	__u32 pad0;
	__u8 reserved[32];
};

#endif /* _UAPI_XSEG_SIGNAL_TYPES_H */
