// SPDX-License-Identifier: GPL-2.0
/* The data buffer allocator: exhaustion, fragmentation, coalescing, bad frees. */
#include "unit_common.h"
#include "kselftest_harness.h"

#define UNIT	4096
#define UNITS	100	/* not a multiple of 64: exercises the tail bits */

FIXTURE(heap) {
	void *mem;
	__u64 size;
	struct xseg *x;
};

FIXTURE_SETUP(heap)
{
	struct xseg_config cfg;

	unit_small_config(&cfg);
	cfg.alloc_unit = UNIT;
	cfg.heap_size = UNITS * UNIT;
	self->mem = unit_mem_segment(&cfg, &self->size);
	ASSERT_NE(NULL, self->mem);
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->x));
}

FIXTURE_TEARDOWN(heap)
{
	xseg_leave(self->x);
	free(self->mem);
}

static void stats(struct xseg *x, __u64 *f, __u64 *u, __u64 *l)
{
	xseg_heap_stats(x, f, u, l);
}

TEST_F(heap, exhaustion)
{
	__u64 offs[UNITS], off, f, u, l;
	int i;

	for (i = 0; i < UNITS; i++) {
		ASSERT_EQ(0, xseg_heap_alloc(self->x, 1, &offs[i]));
		ASSERT_EQ(0, (offs[i] - self->x->g.heap_off) % UNIT);
		ASSERT_EQ(0, xseg_check_range(self->x, offs[i], UNIT));
	}
	EXPECT_EQ(-ENOMEM, xseg_heap_alloc(self->x, 1, &off));
	stats(self->x, &f, &u, &l);
	EXPECT_EQ(0, f);
	EXPECT_EQ(UNITS * UNIT, u);
	/* all distinct */
	for (i = 1; i < UNITS; i++)
		EXPECT_NE(offs[i - 1], offs[i]);
	for (i = 0; i < UNITS; i++)
		ASSERT_EQ(0, xseg_heap_free(self->x, offs[i], 1));
	stats(self->x, &f, &u, &l);
	EXPECT_EQ(UNITS * UNIT, f);
	EXPECT_EQ(UNITS * UNIT, l);
}

TEST_F(heap, fragmentation_and_coalescing)
{
	__u64 offs[UNITS / 2], off, f, u, l;
	int i;

	for (i = 0; i < UNITS / 2; i++)
		ASSERT_EQ(0, xseg_heap_alloc(self->x, 2 * UNIT, &offs[i]));
	/* free every other 2-unit block: half the heap free, no run longer than 2 units */
	for (i = 0; i < UNITS / 2; i += 2)
		ASSERT_EQ(0, xseg_heap_free(self->x, offs[i], 2 * UNIT));
	stats(self->x, &f, &u, &l);
	EXPECT_EQ(UNITS / 2 * UNIT, f);
	EXPECT_EQ(2 * UNIT, l);
	EXPECT_EQ(-ENOMEM, xseg_heap_alloc(self->x, 3 * UNIT, &off));
	ASSERT_EQ(0, xseg_heap_alloc(self->x, 2 * UNIT, &off));
	ASSERT_EQ(0, xseg_heap_free(self->x, off, 2 * UNIT));
	/* freeing the rest coalesces everything into one run */
	for (i = 1; i < UNITS / 2; i += 2)
		ASSERT_EQ(0, xseg_heap_free(self->x, offs[i], 2 * UNIT));
	stats(self->x, &f, &u, &l);
	EXPECT_EQ(UNITS * UNIT, l);
	ASSERT_EQ(0, xseg_heap_alloc(self->x, UNITS * UNIT, &off));
	EXPECT_EQ(self->x->g.heap_off, off);
	EXPECT_EQ(-ENOMEM, xseg_heap_alloc(self->x, 1, &off));
	ASSERT_EQ(0, xseg_heap_free(self->x, self->x->g.heap_off, UNITS * UNIT));
}

TEST_F(heap, runs_across_words)
{
	__u64 a, b, c, f, u, l;

	ASSERT_EQ(0, xseg_heap_alloc(self->x, 60 * UNIT, &a));
	ASSERT_EQ(0, xseg_heap_alloc(self->x, 10 * UNIT, &b));	/* spans bits 60..69 */
	ASSERT_EQ(0, xseg_heap_alloc(self->x, 30 * UNIT, &c));
	EXPECT_EQ(a + 60 * UNIT, b);
	EXPECT_EQ(b + 10 * UNIT, c);
	ASSERT_EQ(0, xseg_heap_free(self->x, b, 10 * UNIT));
	stats(self->x, &f, &u, &l);
	EXPECT_EQ(10 * UNIT, l);
	ASSERT_EQ(0, xseg_heap_free(self->x, a, 60 * UNIT));
	stats(self->x, &f, &u, &l);
	EXPECT_EQ(70 * UNIT, l);
	ASSERT_EQ(0, xseg_heap_free(self->x, c, 30 * UNIT));
}

TEST_F(heap, bad_requests_refused)
{
	__u64 off;

	EXPECT_EQ(-EINVAL, xseg_heap_alloc(self->x, 0, &off));
	EXPECT_EQ(-EINVAL, xseg_heap_alloc(self->x, UNITS * UNIT + 1, &off));
	ASSERT_EQ(0, xseg_heap_alloc(self->x, UNIT, &off));
	EXPECT_EQ(-EINVAL, xseg_heap_free(self->x, off + 1, UNIT));	/* misaligned */
	EXPECT_EQ(-EINVAL, xseg_heap_free(self->x, 0, UNIT));		/* outside */
	EXPECT_EQ(-EINVAL, xseg_heap_free(self->x, off, 2 * UNIT));	/* partly unallocated */
	EXPECT_EQ(-EINVAL, xseg_heap_free(self->x, self->x->g.heap_off + (UNITS - 1) * UNIT,
					  2 * UNIT));			/* runs off the end */
	ASSERT_EQ(0, xseg_heap_free(self->x, off, UNIT));
	EXPECT_EQ(-EINVAL, xseg_heap_free(self->x, off, UNIT));		/* double free */
}

TEST_F(heap, random_churn_keeps_accounting)
{
	__u64 offs[32] = { 0 }, lens[32] = { 0 }, f, u, l, used = 0;
	int i, k, ret;

	srand(1);
	for (i = 0; i < 20000; i++) {
		k = rand() % 32;
		if (offs[k]) {
			ASSERT_EQ(0, xseg_heap_free(self->x, offs[k], lens[k]));
			used -= (lens[k] + UNIT - 1) / UNIT * UNIT;
			offs[k] = 0;
			continue;
		}
		lens[k] = 1 + rand() % (8 * UNIT);
		ret = xseg_heap_alloc(self->x, lens[k], &offs[k]);
		if (ret) {
			ASSERT_EQ(-ENOMEM, ret);
			offs[k] = 0;
			continue;
		}
		used += (lens[k] + UNIT - 1) / UNIT * UNIT;
	}
	stats(self->x, &f, &u, &l);
	EXPECT_EQ(used, u);
	for (k = 0; k < 32; k++)
		if (offs[k])
			ASSERT_EQ(0, xseg_heap_free(self->x, offs[k], lens[k]));
	stats(self->x, &f, &u, &l);
	EXPECT_EQ(0, u);
	EXPECT_EQ(UNITS * UNIT, l);
}

/* A port's request buffers: first fit from its home, reused at once, spilling over when full. */
TEST_F(heap, port_buffers_stay_home)
{
	__u32 ports = self->x->g.nr_ports, units = self->x->g.heap_units;
	__u64 base = self->x->g.heap_off, a, b, c, again, offs[UNITS], off;
	__u32 hi = ports - 1, home_hi = (__u32)((__u64)hi * units / ports) & ~63U;
	int i, n;

	ASSERT_GE(ports, 2);
	/* port 0's home is unit 0: consecutive buffers are neighbours, a freed one is reused */
	ASSERT_EQ(0, xseg_heap_alloc_port(self->x, 2 * UNIT, 0, &a));
	ASSERT_EQ(0, xseg_heap_alloc_port(self->x, 2 * UNIT, 0, &b));
	EXPECT_EQ(base, a);
	EXPECT_EQ(a + 2 * UNIT, b);
	ASSERT_EQ(0, xseg_heap_free(self->x, a, 2 * UNIT));
	ASSERT_EQ(0, xseg_heap_alloc_port(self->x, 2 * UNIT, 0, &again));
	EXPECT_EQ(a, again);
	/* the shared next-fit hint is neither used nor moved */
	EXPECT_EQ(0, xseg_hdr(self->x)->alloc_hint);
	/* the last port starts at its own home (a word boundary), clear of port 0's buffers */
	ASSERT_EQ(0, xseg_heap_alloc_port(self->x, UNIT, hi, &c));
	EXPECT_EQ(base + (__u64)home_hi * UNIT, c);
	ASSERT_EQ(0, xseg_heap_free(self->x, c, UNIT));
	/* a full home spills over and wraps; a full heap is -ENOMEM; bad sizes -EINVAL */
	n = 0;
	while (n < UNITS && !xseg_heap_alloc_port(self->x, UNIT, hi, &offs[n]))
		n++;
	EXPECT_EQ(UNITS - 4, n);
	EXPECT_EQ(-ENOMEM, xseg_heap_alloc_port(self->x, UNIT, 0, &off));
	EXPECT_EQ(-EINVAL, xseg_heap_alloc_port(self->x, 0, 0, &off));
	EXPECT_EQ(-EINVAL, xseg_heap_alloc_port(self->x, UNITS * UNIT + 1, 0, &off));
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, xseg_heap_free(self->x, offs[i], UNIT));
	ASSERT_EQ(0, xseg_heap_free(self->x, again, 2 * UNIT));
	ASSERT_EQ(0, xseg_heap_free(self->x, b, 2 * UNIT));
}

TEST_HARNESS_MAIN
