// SPDX-License-Identifier: GPL-2.0
/* Prints the shared layout and checks it: sizes, offsets, alignment, no overlapping tables. */
#include <stddef.h>

#include "unit_common.h"
#include "kselftest_harness.h"

#define SHOW(type) printf("# %-28s %4zu bytes\n", "struct " #type, sizeof(struct type))
#define SHOWOFF(type, f) \
	printf("#   %-26s @ %4zu\n", #f, offsetof(struct type, f))

TEST(abi_sizes_and_offsets)
{
	SHOW(xseg_header);
	SHOWOFF(xseg_header, magic);
	SHOWOFF(xseg_header, features);
	SHOWOFF(xseg_header, ports_off);
	SHOWOFF(xseg_header, reserved1);
	SHOWOFF(xseg_header, alloc_hint);
	SHOW(xseg_port);
	SHOW(xseg_request);
	SHOWOFF(xseg_request, path);
	SHOWOFF(xseg_request, buf_off);
	SHOWOFF(xseg_request, priv);
	SHOW(xseg_ring);
	SHOWOFF(xseg_ring, prod);
	SHOWOFF(xseg_ring, cons);
	SHOWOFF(xseg_ring, slots);
	SHOW(xseg_signal_desc);
	SHOWOFF(xseg_signal_desc, waiting);
	SHOW(xseg_type_entry);

	ASSERT_EQ(512, sizeof(struct xseg_header));
	ASSERT_EQ(64, sizeof(struct xseg_port));
	ASSERT_EQ(192, sizeof(struct xseg_request));
	ASSERT_EQ(128, sizeof(struct xseg_signal_desc));
	ASSERT_EQ(64, sizeof(struct xseg_type_entry));
	/* the hot word alone on its cache line, the old free stack head kept as reserved */
	ASSERT_EQ(192, offsetof(struct xseg_header, reserved1));
	ASSERT_EQ(0, offsetof(struct xseg_header, alloc_hint) % 64);
	ASSERT_EQ(64, offsetof(struct xseg_header, alloc_hint) -
		      offsetof(struct xseg_header, reserved1));
	ASSERT_EQ(64, offsetof(struct xseg_ring, cons) - offsetof(struct xseg_ring, prod));
	ASSERT_EQ(64, offsetof(struct xseg_signal_desc, waiting));
	/* every shared struct is a whole number of 8-byte words: no tail padding games */
	ASSERT_EQ(0, sizeof(struct xseg_request) % 64);
	ASSERT_EQ(0, sizeof(struct xseg_signal_desc) % 64);
}

TEST(layout_tables_ordered_aligned)
{
	struct xseg_geom g;
	__u64 ends[11], starts[11];
	int i;

	ASSERT_EQ(0, xseg_compute_layout(100, 1000, 10, 8192, 1 << 20, &g));
	printf("# ports %#llx requests %#llx sds %#llx sd_data %#llx types %#llx\n",
	       (unsigned long long)g.ports_off, (unsigned long long)g.requests_off,
	       (unsigned long long)g.sds_off, (unsigned long long)g.sd_data_off,
	       (unsigned long long)g.types_off);
	printf("# rings %#llx (%llu bytes each, %u slots) bitmap %#llx heap %#llx size %#llx\n",
	       (unsigned long long)g.rings_off, (unsigned long long)g.ring_bytes, g.ring_size,
	       (unsigned long long)g.bitmap_off, (unsigned long long)g.heap_off,
	       (unsigned long long)g.size);
	ASSERT_EQ(1024, g.ring_size);
	starts[0] = 0;                ends[0] = XSEG_HEADER_SIZE;
	starts[1] = g.ports_off;      ends[1] = g.ports_off + 100 * 64;
	starts[2] = g.requests_off;   ends[2] = g.requests_off + 1000 * 192;
	starts[3] = g.sds_off;        ends[3] = g.sds_off + 10 * 128;
	starts[4] = g.sd_data_off;    ends[4] = g.sd_data_off + 10 * XSEG_SD_DATA_SIZE;
	starts[5] = g.types_off;      ends[5] = g.types_off + XSEG_MAX_TYPES * 64;
	starts[6] = g.rings_off;      ends[6] = g.rings_off + 200 * g.ring_bytes;
	starts[7] = g.bitmap_off;     ends[7] = g.bitmap_off + g.bitmap_words * 8;
	starts[8] = g.heap_off;       ends[8] = g.heap_off + g.heap_size;
	starts[9] = g.idc_off;        ends[9] = g.idc_off + XSEG_IDC_SERVICES * 64;
	starts[10] = g.bufs_off;      ends[10] = g.bufs_off + XSEG_IDC_BUFFERS * 64;
	for (i = 1; i < 11; i++) {
		ASSERT_LE(ends[i - 1], starts[i]);
		ASSERT_EQ(0, starts[i] % 64);
	}
	ASSERT_EQ(0, g.heap_off % 8192);
	ASSERT_EQ(XSEG_FEAT_IDC | XSEG_FEAT_TICKETS | XSEG_FEAT_REQ_CLAIM, g.features);
	ASSERT_EQ(g.size, ends[10]);
	ASSERT_GE(g.ring_bytes, sizeof(struct xseg_ring) + g.ring_size * 8);
	ASSERT_EQ(0, g.ring_bytes % 64);
}

TEST(layout_rejects_bad_counts)
{
	struct xseg_geom g;

	EXPECT_EQ(-EINVAL, xseg_compute_layout(0, 10, 10, 4096, 4096, &g));
	EXPECT_EQ(-EINVAL, xseg_compute_layout(XSEG_MAX_PORTS + 1, 10, 10, 4096, 4096, &g));
	EXPECT_EQ(-EINVAL, xseg_compute_layout(1, 0, 10, 4096, 4096, &g));
	EXPECT_EQ(-EINVAL, xseg_compute_layout(1, 10, 0, 4096, 4096, &g));
	EXPECT_EQ(-EINVAL, xseg_compute_layout(1, 10, 10, 3000, 4096, &g));
	EXPECT_EQ(-EINVAL, xseg_compute_layout(1, 10, 10, 256, 4096, &g));
	EXPECT_EQ(-EINVAL, xseg_compute_layout(1, 10, 10, 4096, 4097, &g));
	EXPECT_EQ(-EINVAL, xseg_compute_layout(1, 10, 10, 4096, 0, &g));
	EXPECT_EQ(0, xseg_compute_layout(1, 1, 1, 512, 512, &g));
}

TEST(header_matches_geometry)
{
	struct xseg_config cfg;
	struct xseg_header *h;
	struct xseg_geom g;
	__u64 size;
	void *mem;

	unit_small_config(&cfg);
	mem = unit_mem_segment(&cfg, &size);
	ASSERT_NE(NULL, mem);
	h = mem;
	ASSERT_EQ(0, xseg_compute_layout(cfg.nr_ports, cfg.nr_requests, cfg.nr_sds,
					 cfg.alloc_unit, cfg.heap_size, &g));
	EXPECT_EQ(XSEG_MAGIC, h->magic);
	EXPECT_EQ(XSEG_VERSION, h->version);
	EXPECT_EQ(XSEG_FEAT_IDC | XSEG_FEAT_TICKETS | XSEG_FEAT_REQ_CLAIM, h->features);
	EXPECT_EQ(g.idc_off, h->idc_off);
	EXPECT_EQ(XSEG_IDC_SERVICES, h->nr_services);
	EXPECT_EQ(XSEG_IDC_BUFFERS, h->nr_buffers);
	EXPECT_EQ(size, h->size);
	EXPECT_EQ(g.ports_off, h->ports_off);
	EXPECT_EQ(g.rings_off, h->rings_off);
	EXPECT_EQ(g.heap_off, h->heap_off);
	EXPECT_EQ(g.ring_size, h->ring_size);
	free(mem);
}

/* A segment made before XSEG_FEAT_IDC (no endpoint tables after the heap) still joins. */
TEST(join_segment_without_idc)
{
	struct xseg_config cfg;
	struct xseg_header *h;
	struct xseg *x;
	__u64 size;
	void *mem;

	unit_small_config(&cfg);
	mem = unit_mem_segment(&cfg, &size);
	ASSERT_NE(NULL, mem);
	h = mem;
	/* bad table offset with the feature: refused */
	h->idc_off += 4096;
	EXPECT_EQ(-EINVAL, xseg_join_mem(mem, size, &x));
	h->idc_off -= 4096;
	/* the old layout: no IDC feature, no tables, the segment ends with the heap */
	h->features = XSEG_FEAT_TICKETS | XSEG_FEAT_REQ_CLAIM;
	h->idc_off = 0;
	h->nr_services = 0;
	h->nr_buffers = 0;
	h->size = h->heap_off + h->heap_size;
	ASSERT_EQ(0, xseg_join_mem(mem, h->size, &x));
	EXPECT_EQ(0, x->g.idc_off);
	EXPECT_EQ(0, x->g.features & XSEG_FEAT_IDC);
	xseg_leave(x);
	/* without a required bit (made by older code): refused */
	h->features = 0;
	EXPECT_EQ(-EPROTO, xseg_join_mem(mem, h->size, &x));
	h->features = XSEG_FEAT_TICKETS;
	EXPECT_EQ(-EPROTO, xseg_join_mem(mem, h->size, &x));
	/* unknown feature bits: refused */
	h->features = 1ULL << 40;
	EXPECT_EQ(-EOPNOTSUPP, xseg_join_mem(mem, size, &x));
	free(mem);
}

TEST_HARNESS_MAIN
