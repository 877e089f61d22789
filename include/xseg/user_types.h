/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internal to libxseg: the user signal types (drivers/user/), registered by sys/user/. */
#ifndef _XSEG_USER_TYPES_H
#define _XSEG_USER_TYPES_H

#include <xseg/internal.h>
#include <xseg/signal_user.h>

extern const struct xseg_signal_type xseg_futex_type;
extern const struct xseg_signal_type xseg_sigio_type;

/*
 * drivers/user/segdev.c: registers the calling thread through the handle's segdev file as
 * the receiver of descriptor n's kernel signals, for signal signo only.  -EINVAL if the
 * handle is not a segdev one.
 */
int xseg_segdev_register_signal(struct xseg *xseg, __u32 n, int signo);
int xseg_segdev_unregister_waiter(struct xseg *xseg, __u32 n);
extern const struct xseg_backend_ops xseg_segdev_backend;

/* process-wide counters, one per field of struct xseg_user_signal_stats */
extern struct xseg_user_signal_stats xseg_user_stats;
#define xseg_user_stat_inc(field)	xseg_counter_inc(&xseg_user_stats.field)

#endif /* _XSEG_USER_TYPES_H */
