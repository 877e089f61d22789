/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The POSIX shared memory backend of libxseg (user domain only). */
#ifndef _XSEG_POSIX_H
#define _XSEG_POSIX_H

#include <xseg/xseg.h>

/*
 * Segments are shm_open() objects named "/<name>", created O_EXCL with the configured mode
 * (0600 by default) and mapped MAP_SHARED at an address of the kernel's choosing.
 */
extern const struct xseg_backend_ops xseg_posix_backend;

#endif /* _XSEG_POSIX_H */
