/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the native unit tests of the segment core. */
#ifndef _XSEG_UNIT_COMMON_H
#define _XSEG_UNIT_COMMON_H

/*
 * Included before kselftest_harness.h: the harness compares values of mixed signedness and
 * passes parameters some tests do not use and uses setjmp, which -Wextra -Werror would refuse.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wclobbered"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xseg/internal.h>
#include <xseg/posix.h>

/* A segment in private memory, as the kernel selftest builds it in vmalloc memory. */
static inline void *unit_mem_segment(const struct xseg_config *cfg, __u64 *sizep)
{
	__u64 size;
	void *mem;

	if (xseg_segment_size(cfg, &size))
		return NULL;
	mem = aligned_alloc(4096, (size + 4095) & ~4095ULL);
	if (!mem)
		return NULL;
	if (xseg_init_mem(mem, size, cfg)) {
		free(mem);
		return NULL;
	}
	*sizep = size;
	return mem;
}

static inline void unit_small_config(struct xseg_config *cfg)
{
	xseg_config_default(cfg);
	cfg->nr_ports = 8;
	cfg->nr_requests = 64;
	cfg->nr_sds = 8;
	cfg->alloc_unit = 4096;
	cfg->heap_size = 64 * 4096;
}

/* A name unique to this process for POSIX shm segments. */
static inline const char *unit_shm_name(const char *what)
{
	static char name[64];

	snprintf(name, sizeof(name), "xseg-unit-%s-%d", what, (int)getpid());
	return name;
}

#endif /* _XSEG_UNIT_COMMON_H */
