/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What each execution domain provides to the domain-independent core (sys/common/).
 *
 * The inline shims (types, atomics, local locks, string functions) come from the header of
 * the domain being compiled; this is the only place that tests __KERNEL__.  The out-of-line
 * functions below are implemented in sys/user/domain.c and sys/kernel/domain.c.
 *
 * Ordering shim, identical semantics in both domains:
 *   xseg_load_relaxed(p) / xseg_store_relaxed(p, v): single-copy atomic, no ordering
 *   xseg_load_acquire(p) / xseg_store_release(p, v): acquire / release
 *   xseg_cmpxchg(p, old, new): bool, fully ordered (a full barrier before and after)
 *   xseg_smp_mb(): full barrier
 * Every call site names the access it pairs with.
 */
#ifndef _XSEG_DOMAIN_H
#define _XSEG_DOMAIN_H

#ifdef __KERNEL__
#include <xseg/domain_kernel.h>
#else
#include <xseg/domain_user.h>
#endif

/* log levels, ordered by severity */
#define XSEG_LOG_ERR	0
#define XSEG_LOG_WARN	1
#define XSEG_LOG_INFO	2
#define XSEG_LOG_DEBUG	3

/* The domain's own signal types (drivers/<domain>/), NULL terminated. */
struct xseg_signal_type;
extern const struct xseg_signal_type *const xseg_dom_types[];

/* Zeroed process-local memory (never in the segment); NULL on failure. */
void *xseg_dom_zalloc(size_t size);
void xseg_dom_free(void *ptr);

/* Rate-limited in the kernel; the user domain filters by $XSEG_LOG (default: warnings). */
__printf(2, 3)
void xseg_dom_log(int level, const char *fmt, ...);

/* Monotonic time in nanoseconds. */
u64 xseg_dom_now_ns(void);

/* Give up the CPU for a moment; only called where the caller may sleep. */
void xseg_dom_relax(unsigned int round);

/*
 * A tag naming this peer in the segment (port and descriptor owners).  Unique per call: two
 * handles in one process are two peers.  Never 0.
 */
u64 xseg_dom_peer_tag(void);

/* 1 if the peer behind tag is alive, 0 if it is certainly dead; when unsure: alive. */
int xseg_dom_peer_alive(u64 tag);

/* Serialises the process-wide signal type registry. */
void xseg_dom_registry_lock(void);
void xseg_dom_registry_unlock(void);

#define xseg_log(level, fmt, ...)	xseg_dom_log(level, "xseg: " fmt "\n", ##__VA_ARGS__)
#define xseg_err(fmt, ...)	xseg_log(XSEG_LOG_ERR, fmt, ##__VA_ARGS__)
#define xseg_warn(fmt, ...)	xseg_log(XSEG_LOG_WARN, fmt, ##__VA_ARGS__)
#define xseg_info(fmt, ...)	xseg_log(XSEG_LOG_INFO, fmt, ##__VA_ARGS__)
#define xseg_dbg(fmt, ...)	xseg_log(XSEG_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif /* _XSEG_DOMAIN_H */
