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
#endif

#endif /* _XSEG_COMPILER_H */
