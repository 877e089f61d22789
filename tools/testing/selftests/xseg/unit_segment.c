// SPDX-License-Identifier: GPL-2.0
/* Segment lifecycle: create, join, leave, destroy; validation at join. */
#include <sys/stat.h>

#include "unit_common.h"
#include "kselftest_harness.h"

FIXTURE(mem) {
	struct xseg_config cfg;
	void *mem;
	__u64 size;
};

FIXTURE_SETUP(mem)
{
	unit_small_config(&self->cfg);
	self->mem = unit_mem_segment(&self->cfg, &self->size);
	ASSERT_NE(NULL, self->mem);
}

FIXTURE_TEARDOWN(mem)
{
	free(self->mem);
}

TEST_F(mem, join_and_info)
{
	struct xseg_info info;
	struct xseg *x;

	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &x));
	ASSERT_EQ(0, xseg_get_info(x, &info));
	EXPECT_EQ(self->size, info.size);
	EXPECT_EQ(8, info.nr_ports);
	EXPECT_EQ(64, info.nr_requests);
	EXPECT_EQ(64, info.requests_free);
	EXPECT_EQ(0, info.ports_bound);
	EXPECT_EQ(0, info.sds_active);
	EXPECT_EQ(self->cfg.heap_size, info.heap_free);
	EXPECT_EQ(0, info.heap_used);
	EXPECT_EQ(self->cfg.heap_size, info.heap_largest_free);
	ASSERT_EQ(0, xseg_leave(x));
}

TEST_F(mem, join_refuses_bad_header)
{
	struct xseg_header *h = self->mem;
	struct xseg *x;

	EXPECT_EQ(-EINVAL, xseg_join_mem(NULL, self->size, &x));
	EXPECT_EQ(-EINVAL, xseg_join_mem(self->mem, 100, &x));
	EXPECT_EQ(-EINVAL, xseg_join_mem(self->mem, self->size - 1, &x));

	h->magic ^= 1;
	EXPECT_EQ(-EINVAL, xseg_join_mem(self->mem, self->size, &x));
	h->magic ^= 1;

	h->version = 2;
	EXPECT_EQ(-EPROTO, xseg_join_mem(self->mem, self->size, &x));
	h->version = XSEG_VERSION;

	h->features = 1ULL << 40;
	EXPECT_EQ(-EOPNOTSUPP, xseg_join_mem(self->mem, self->size, &x));
	/* a segment whose peers take requests without tickets cannot share our rings */
	h->features = XSEG_FEAT_IDC | XSEG_FEAT_REQ_CLAIM;
	EXPECT_EQ(-EPROTO, xseg_join_mem(self->mem, self->size, &x));
	/* nor one whose peers allocate requests off the free stack */
	h->features = XSEG_FEAT_IDC | XSEG_FEAT_TICKETS;
	EXPECT_EQ(-EPROTO, xseg_join_mem(self->mem, self->size, &x));
	h->features = XSEG_FEAT_IDC | XSEG_FEAT_TICKETS | XSEG_FEAT_REQ_CLAIM;

	h->heap_off += 4096;
	EXPECT_EQ(-EINVAL, xseg_join_mem(self->mem, self->size, &x));
	h->heap_off -= 4096;

	h->nr_requests = 1U << 30;
	EXPECT_EQ(-EINVAL, xseg_join_mem(self->mem, self->size, &x));
	h->nr_requests = 64;

	/* more ports than the segment has room for: recomputed layout exceeds the size */
	h->nr_ports = 4000;
	EXPECT_EQ(-EINVAL, xseg_join_mem(self->mem, self->size, &x));
	h->nr_ports = 8;

	h->header_size = 4096;
	EXPECT_EQ(-EINVAL, xseg_join_mem(self->mem, self->size, &x));
	h->header_size = sizeof(*h);

	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &x));
	xseg_leave(x);
}

TEST(init_refuses_bad_config)
{
	struct xseg_config cfg;
	char buf[8192];

	unit_small_config(&cfg);
	EXPECT_EQ(-EINVAL, xseg_init_mem(buf, sizeof(buf), &cfg));	/* too small */
	cfg.nr_ports = 0;
	EXPECT_EQ(-EINVAL, xseg_init_mem(buf, sizeof(buf), &cfg));
}

TEST(posix_lifecycle)
{
	const char *name = unit_shm_name("seg");
	struct xseg_config cfg;
	struct xseg *a, *b;
	char path[128];
	struct stat st;
	int p;

	unit_small_config(&cfg);
	xseg_destroy(&xseg_posix_backend, name);
	ASSERT_EQ(-ENOENT, xseg_join(&xseg_posix_backend, name, &a));
	ASSERT_EQ(0, xseg_create(&xseg_posix_backend, name, &cfg, &a));
	EXPECT_EQ(-EEXIST, xseg_create(&xseg_posix_backend, name, &cfg, &b));

	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);

	ASSERT_EQ(0, xseg_join(&xseg_posix_backend, name, &b));
	/* the two handles are two peers: a port bound by one is busy for the other */
	p = xseg_bind_port(a, 3, NULL);
	EXPECT_EQ(3, p);
	EXPECT_EQ(-EBUSY, xseg_bind_port(b, 3, NULL));
	EXPECT_EQ(0, xseg_leave(a));
	EXPECT_EQ(3, xseg_bind_port(b, 3, NULL));
	EXPECT_EQ(0, xseg_leave(b));

	EXPECT_EQ(0, xseg_destroy(&xseg_posix_backend, name));
	EXPECT_EQ(-ENOENT, xseg_destroy(&xseg_posix_backend, name));
	EXPECT_EQ(-EINVAL, xseg_join(&xseg_posix_backend, "a/b", &a));
}

TEST(posix_mode_and_garbage)
{
	const char *name = unit_shm_name("mode");
	struct xseg_config cfg;
	struct xseg *a;
	char path[128];
	struct stat st;
	FILE *f;

	unit_small_config(&cfg);
	cfg.mode = 0640;
	xseg_destroy(&xseg_posix_backend, name);
	ASSERT_EQ(0, xseg_create(&xseg_posix_backend, name, &cfg, &a));
	snprintf(path, sizeof(path), "/dev/shm/%s", name);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0640, st.st_mode & 0777);
	xseg_leave(a);
	xseg_destroy(&xseg_posix_backend, name);

	/* a shm object that is not a segment */
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fputs("not a segment, just some bytes that are long enough? no.", f);
	fclose(f);
	EXPECT_EQ(-EINVAL, xseg_join(&xseg_posix_backend, name, &a));
	unlink(path);
}

TEST_HARNESS_MAIN
