/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel's helper macros that xseg's user-space code uses too, so both domains are
 * written the same way.  Not installed: libxseg's public headers do not need it.
 */
#ifndef _XSEG_COMPILER_H
#define _XSEG_COMPILER_H

#ifndef __KERNEL__
/*
 * Spelled through xseg_attr(): checkpatch cannot tell this definition of __printf from a
 * use of the raw attribute that __printf should replace.
 */
#define xseg_attr(x)		__attribute__(x)
#ifndef __printf
#define __printf(a, b)		xseg_attr((format(printf, a, b)))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* One step of a busy-wait loop: tells the CPU (and a hypervisor) that we are spinning. */
static inline void xseg_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__SSE2__)	/* pause: SSE2 on 32-bit x86 */
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}
#endif

#endif /* _XSEG_COMPILER_H */
