/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Compile-time checks of the shared segment layout.  Included by sys/common/segment.c, so the
 * same assertions are built into libxseg and into xseg.ko; a compiler or ABI that lays the
 * structs out differently fails the build instead of corrupting a segment.
 */
#ifndef _XSEG_LAYOUT_CHECK_H
#define _XSEG_LAYOUT_CHECK_H

#include <uapi/xseg/xseg.h>

#define XSEG_OFF(type, field)	__builtin_offsetof(struct type, field)

#define XSEG_ASSERT_SIZE(type, size) \
	static_assert(sizeof(struct type) == (size), "sizeof(struct " #type ") changed")
#define XSEG_ASSERT_OFF(type, field, off) \
	static_assert(XSEG_OFF(type, field) == (off), #type "." #field " moved")

XSEG_ASSERT_SIZE(xseg_header, 512);
XSEG_ASSERT_OFF(xseg_header, magic, 0);
XSEG_ASSERT_OFF(xseg_header, version, 8);
XSEG_ASSERT_OFF(xseg_header, features, 16);
XSEG_ASSERT_OFF(xseg_header, size, 24);
XSEG_ASSERT_OFF(xseg_header, nr_ports, 32);
XSEG_ASSERT_OFF(xseg_header, alloc_unit, 52);
XSEG_ASSERT_OFF(xseg_header, ports_off, 56);
XSEG_ASSERT_OFF(xseg_header, heap_size, 128);
XSEG_ASSERT_OFF(xseg_header, creator, 136);
/* the old free stack head stays reserved; the hot allocator hint owns a cache line */
XSEG_ASSERT_OFF(xseg_header, reserved1, 192);
XSEG_ASSERT_OFF(xseg_header, alloc_hint, 256);
static_assert(sizeof(struct xseg_header) <= XSEG_HEADER_SIZE, "header does not fit");

XSEG_ASSERT_OFF(xseg_header, idc_off, 320);
XSEG_ASSERT_OFF(xseg_header, nr_services, 328);
XSEG_ASSERT_OFF(xseg_header, nr_buffers, 332);
XSEG_ASSERT_OFF(xseg_header, reserved, 336);

XSEG_ASSERT_SIZE(xseg_port, 64);
XSEG_ASSERT_OFF(xseg_port, owner, 0);
XSEG_ASSERT_OFF(xseg_port, sd_off, 8);
XSEG_ASSERT_OFF(xseg_port, index, 32);

XSEG_ASSERT_SIZE(xseg_request, 192);
XSEG_ASSERT_OFF(xseg_request, state, 0);
XSEG_ASSERT_OFF(xseg_request, holder, 8);
XSEG_ASSERT_OFF(xseg_request, op, 16);
XSEG_ASSERT_OFF(xseg_request, offset, 24);
XSEG_ASSERT_OFF(xseg_request, result, 48);
XSEG_ASSERT_OFF(xseg_request, src, 56);
/* the route (src, dst, path_len, route_flags): one aligned 64-bit word */
XSEG_ASSERT_OFF(xseg_request, dst, 58);
XSEG_ASSERT_OFF(xseg_request, path_len, 60);
XSEG_ASSERT_OFF(xseg_request, route_flags, 62);
XSEG_ASSERT_OFF(xseg_request, route, 56);
XSEG_ASSERT_OFF(xseg_request, path, 64);
XSEG_ASSERT_OFF(xseg_request, buf_off, 80);
XSEG_ASSERT_OFF(xseg_request, target_len, 120);
XSEG_ASSERT_OFF(xseg_request, priv, 128);

/* producer and consumer hints on separate cache lines, slots after both */
XSEG_ASSERT_SIZE(xseg_ring, 128);
XSEG_ASSERT_OFF(xseg_ring, prod, 0);
XSEG_ASSERT_OFF(xseg_ring, cons, 64);
XSEG_ASSERT_OFF(xseg_ring, slots, 128);

XSEG_ASSERT_SIZE(xseg_signal_desc, 128);
XSEG_ASSERT_OFF(xseg_signal_desc, type, 4);
XSEG_ASSERT_OFF(xseg_signal_desc, refcount, 8);
XSEG_ASSERT_OFF(xseg_signal_desc, owner, 16);
XSEG_ASSERT_OFF(xseg_signal_desc, data_off, 24);
/* suppression words on their own cache line */
XSEG_ASSERT_OFF(xseg_signal_desc, waiting, 64);
XSEG_ASSERT_OFF(xseg_signal_desc, pending, 68);
XSEG_ASSERT_OFF(xseg_signal_desc, dirty, 72);

XSEG_ASSERT_SIZE(xseg_type_entry, 64);
XSEG_ASSERT_OFF(xseg_type_entry, name, 16);

XSEG_ASSERT_SIZE(xseg_reply_info, 16);

XSEG_ASSERT_SIZE(xseg_service_entry, 64);
XSEG_ASSERT_OFF(xseg_service_entry, state, 8);
XSEG_ASSERT_OFF(xseg_service_entry, port, 12);
XSEG_ASSERT_OFF(xseg_service_entry, gen, 16);
XSEG_ASSERT_OFF(xseg_service_entry, name, 24);
XSEG_ASSERT_SIZE(xseg_buffer_entry, 64);
XSEG_ASSERT_OFF(xseg_buffer_entry, gen, 12);
XSEG_ASSERT_OFF(xseg_buffer_entry, off, 16);
XSEG_ASSERT_OFF(xseg_buffer_entry, users, 36);
XSEG_ASSERT_SIZE(xseg_idc_rbuf, 32);
XSEG_ASSERT_OFF(xseg_idc_rbuf, offset, 8);
XSEG_ASSERT_SIZE(xseg_idc_hello, 24);

static_assert(XSEG_MAX_PORTS <= 65536, "port numbers must fit the __u16 path entries");
static_assert((XSEG_TABLE_ALIGN & (XSEG_TABLE_ALIGN - 1)) == 0, "table alignment");

#endif /* _XSEG_LAYOUT_CHECK_H */
