// SPDX-License-Identifier: GPL-2.0
/*
 * The signal-type framework: type table, registry, descriptor refcounts, local/remote init,
 * quit with live descriptors, and the suppression words.
 */
#include <sys/wait.h>
#include <time.h>

#include "unit_common.h"
#include "kselftest_harness.h"

/* A type that counts how the framework calls it. */
static struct {
	int init_sd, quit_sd, local_init, local_quit, remote_init, remote_quit;
	int prepare, cancel, wait, signal;
} calls;

static int c_init_sd(const struct xseg_sd_ctx *ctx)
{
	calls.init_sd++;
	memcpy(ctx->data, "counting", 8);	/* type data lives in the segment */
	return 0;
}

static void c_quit_sd(const struct xseg_sd_ctx *ctx) { calls.quit_sd++; }
static int c_local_init(struct xseg *x) { calls.local_init++; return 0; }
static void c_local_quit(struct xseg *x) { calls.local_quit++; }
static int c_remote_init(struct xseg *x) { calls.remote_init++; return 0; }
static void c_remote_quit(struct xseg *x) { calls.remote_quit++; }
static int c_prepare(const struct xseg_sd_ctx *ctx) { calls.prepare++; return 0; }
static int c_cancel(const struct xseg_sd_ctx *ctx) { calls.cancel++; return 0; }
static int c_wait(const struct xseg_sd_ctx *ctx, __u32 usec) { calls.wait++; return -ETIMEDOUT; }
static int c_signal(const struct xseg_sd_ctx *ctx) { calls.signal++; return 0; }

static const struct xseg_signal_type counting = {
	.name = "counting",
	.init_signal_desc = c_init_sd,
	.quit_signal_desc = c_quit_sd,
	.local_signal_init = c_local_init,
	.local_signal_quit = c_local_quit,
	.remote_signal_init = c_remote_init,
	.remote_signal_quit = c_remote_quit,
	.prepare_wait = c_prepare,
	.cancel_wait = c_cancel,
	.wait_signal = c_wait,
	.signal = c_signal,
};

FIXTURE(sig) {
	void *mem;
	__u64 size;
	struct xseg *rx, *tx;
};

FIXTURE_SETUP(sig)
{
	struct xseg_config cfg;

	memset(&calls, 0, sizeof(calls));
	unit_small_config(&cfg);
	self->mem = unit_mem_segment(&cfg, &self->size);
	ASSERT_NE(NULL, self->mem);
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->rx));
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->tx));
	ASSERT_EQ(0, xseg_register_signal_type(&counting));
}

FIXTURE_TEARDOWN(sig)
{
	if (self->rx)
		xseg_leave(self->rx);
	if (self->tx)
		xseg_leave(self->tx);
	xseg_unregister_signal_type(&counting);
	free(self->mem);
}

TEST_F(sig, registry)
{
	EXPECT_EQ(-EEXIST, xseg_register_signal_type(&counting));
	EXPECT_EQ(-EEXIST, xseg_register_signal_type(&xseg_poll_type));
	EXPECT_EQ(-ENOENT, xseg_local_signal_init(self->rx, "no-such-type"));
	EXPECT_EQ(-EINVAL, xseg_local_signal_init(self->rx, ""));
	EXPECT_EQ(-EINVAL, xseg_local_signal_init(self->rx, NULL));
	ASSERT_EQ(0, xseg_local_signal_init(self->rx, "counting"));
	/* a type in use cannot be unregistered */
	EXPECT_EQ(-EBUSY, xseg_unregister_signal_type(&counting));
	ASSERT_EQ(0, xseg_leave(self->rx));
	self->rx = NULL;
	EXPECT_EQ(1, calls.local_quit);
	EXPECT_EQ(0, xseg_unregister_signal_type(&counting));
	EXPECT_EQ(-ENOENT, xseg_unregister_signal_type(&counting));
	ASSERT_EQ(0, xseg_register_signal_type(&counting));
}

TEST_F(sig, type_ids_agree_across_peers)
{
	struct xseg_sd *a, *b;
	struct xseg_info info;

	ASSERT_EQ(0, xseg_local_signal_init(self->rx, "counting"));
	ASSERT_EQ(0, xseg_local_signal_init(self->rx, XSEG_SIGNAL_POLL));
	/* the other peer initialises them in the opposite order and still agrees */
	ASSERT_EQ(0, xseg_local_signal_init(self->tx, XSEG_SIGNAL_POLL));
	ASSERT_EQ(0, xseg_local_signal_init(self->tx, "counting"));
	ASSERT_EQ(0, xseg_get_signal_desc(self->rx, XSEG_SIGNAL_POLL, &a));
	ASSERT_EQ(0, xseg_get_signal_desc(self->tx, XSEG_SIGNAL_POLL, &b));
	EXPECT_EQ(2, xseg_sd_at(self->rx, xseg_signal_desc_index(a))->type);
	EXPECT_EQ(2, xseg_sd_at(self->rx, xseg_signal_desc_index(b))->type);
	EXPECT_NE(xseg_signal_desc_index(a), xseg_signal_desc_index(b));
	EXPECT_EQ(0, strcmp(xseg_type_at(self->rx, 0)->name, "counting"));
	EXPECT_EQ(0, strcmp(xseg_type_at(self->rx, 1)->name, "poll"));
	ASSERT_EQ(0, xseg_get_info(self->rx, &info));
	EXPECT_EQ(2, info.types_registered);
	EXPECT_EQ(2, info.sds_active);
	ASSERT_EQ(0, xseg_put_signal_desc(a));
	ASSERT_EQ(0, xseg_put_signal_desc(b));
}

TEST_F(sig, quit_with_live_descriptors_fails)
{
	struct xseg_sd *sd;

	EXPECT_EQ(-ENOENT, xseg_get_signal_desc(self->rx, "counting", &sd));
	ASSERT_EQ(0, xseg_local_signal_init(self->tx, "counting"));
	/* registered in the segment now, but rx has not initialised it for itself */
	EXPECT_EQ(-EINVAL, xseg_get_signal_desc(self->rx, "counting", &sd));
	ASSERT_EQ(0, xseg_local_signal_init(self->rx, "counting"));
	ASSERT_EQ(0, xseg_get_signal_desc(self->rx, "counting", &sd));
	EXPECT_EQ(1, calls.init_sd);
	EXPECT_EQ(0, memcmp(sd->ctx.data, "counting", 8));
	EXPECT_EQ(-EBUSY, xseg_local_signal_quit(self->rx, "counting"));
	ASSERT_EQ(0, xseg_put_signal_desc(sd));
	EXPECT_EQ(1, calls.quit_sd);
	ASSERT_EQ(0, xseg_local_signal_quit(self->rx, "counting"));
	EXPECT_EQ(-EINVAL, xseg_local_signal_quit(self->rx, "counting"));
	EXPECT_EQ(2, calls.local_init);	/* rx and tx */
	EXPECT_EQ(1, calls.local_quit);
}

TEST_F(sig, refcount_port_keeps_descriptor)
{
	struct xseg_sd *sd;
	struct xseg_info info;
	__u32 idx;

	ASSERT_EQ(0, xseg_local_signal_init(self->rx, "counting"));
	ASSERT_EQ(0, xseg_get_signal_desc(self->rx, "counting", &sd));
	idx = xseg_signal_desc_index(sd);
	ASSERT_EQ(1, xseg_bind_port(self->rx, 1, sd));
	ASSERT_EQ(2, xseg_bind_port(self->rx, 2, sd));
	EXPECT_EQ(3, xseg_sd_at(self->rx, idx)->refcount);
	ASSERT_EQ(0, xseg_put_signal_desc(sd));
	/* the ports still reference it */
	ASSERT_EQ(0, xseg_get_info(self->rx, &info));
	EXPECT_EQ(1, info.sds_active);
	EXPECT_EQ(0, calls.quit_sd);
	ASSERT_EQ(0, xseg_leave_port(self->rx, 1));
	EXPECT_EQ(1, xseg_sd_at(self->rx, idx)->refcount);
	/* rebinding to no descriptor drops the last reference */
	ASSERT_EQ(2, xseg_bind_port(self->rx, 2, NULL));
	EXPECT_EQ(1, calls.quit_sd);
	ASSERT_EQ(0, xseg_get_info(self->rx, &info));
	EXPECT_EQ(0, info.sds_active);
}

TEST_F(sig, suppression_words)
{
	struct xseg_stats st;
	struct xseg_sd *sd;

	EXPECT_EQ(-EINVAL, xseg_signal(self->tx, 99));
	EXPECT_EQ(0, xseg_signal(self->tx, 1));	/* nobody bound: nothing to do */
	ASSERT_EQ(0, xseg_local_signal_init(self->rx, "counting"));
	ASSERT_EQ(0, xseg_get_signal_desc(self->rx, "counting", &sd));
	ASSERT_EQ(1, xseg_bind_port(self->rx, 1, sd));

	/* receiver busy (not armed): signals are free */
	ASSERT_EQ(0, xseg_signal(self->tx, 1));
	ASSERT_EQ(0, xseg_signal(self->tx, 1));
	EXPECT_EQ(0, calls.signal);
	EXPECT_EQ(1, calls.remote_init);
	EXPECT_EQ(1, sd->ctx.shared->dirty);

	/* armed: exactly one wake however many senders */
	ASSERT_EQ(0, xseg_prepare_wait(sd));
	EXPECT_EQ(1, calls.prepare);
	EXPECT_EQ(0, sd->ctx.shared->dirty);
	ASSERT_EQ(0, xseg_signal(self->tx, 1));
	ASSERT_EQ(0, xseg_signal(self->tx, 1));
	ASSERT_EQ(0, xseg_signal(self->rx, 1));
	EXPECT_EQ(1, calls.signal);
	/* work was posted since arming: no sleep at all */
	EXPECT_EQ(0, xseg_wait_signal(sd, 1000000));
	EXPECT_EQ(0, calls.wait);
	ASSERT_EQ(0, xseg_cancel_wait(sd));
	EXPECT_EQ(1, calls.cancel);
	EXPECT_EQ(0, sd->ctx.shared->waiting);

	/* re-armed and nothing posted: the type's wait runs */
	ASSERT_EQ(0, xseg_prepare_wait(sd));
	EXPECT_EQ(-ETIMEDOUT, xseg_wait_signal(sd, 10));
	EXPECT_EQ(1, calls.wait);
	ASSERT_EQ(0, xseg_signal(self->tx, 1));
	EXPECT_EQ(2, calls.signal);
	ASSERT_EQ(0, xseg_cancel_wait(sd));

	ASSERT_EQ(0, xseg_get_stats(self->tx, &st));
	EXPECT_EQ(5, st.signals);
	EXPECT_EQ(2, st.wakes);
	ASSERT_EQ(0, xseg_leave(self->tx));
	self->tx = NULL;
	EXPECT_EQ(1, calls.remote_quit);
}

TEST_F(sig, poll_type_waits_and_times_out)
{
	struct timespec t0, t1;
	struct xseg_sd *sd;
	long ms;

	ASSERT_EQ(0, xseg_local_signal_init(self->rx, XSEG_SIGNAL_POLL));
	ASSERT_EQ(0, xseg_get_signal_desc(self->rx, XSEG_SIGNAL_POLL, &sd));
	ASSERT_EQ(3, xseg_bind_port(self->rx, 3, sd));
	ASSERT_EQ(0, xseg_prepare_wait(sd));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(-ETIMEDOUT, xseg_wait_signal(sd, 30000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	EXPECT_GE(ms, 30);
	EXPECT_LT(ms, 2000);
	ASSERT_EQ(0, xseg_signal(self->tx, 3));
	EXPECT_EQ(0, xseg_wait_signal(sd, 5000000));
	ASSERT_EQ(0, xseg_cancel_wait(sd));
}

TEST_F(sig, type_table_full)
{
	static struct xseg_signal_type dummies[XSEG_MAX_TYPES];
	static char names[XSEG_MAX_TYPES][16];
	int i;

	/* the registry has room for XSEG_MAX_TYPES loadable types */
	ASSERT_EQ(0, xseg_unregister_signal_type(&counting));
	ASSERT_EQ(0, xseg_local_signal_init(self->rx, XSEG_SIGNAL_POLL));
	for (i = 0; i < XSEG_MAX_TYPES; i++) {
		snprintf(names[i], sizeof(names[i]), "dummy%d", i);
		dummies[i] = xseg_poll_type;
		dummies[i].name = names[i];
		ASSERT_EQ(0, xseg_register_signal_type(&dummies[i]));
	}
	for (i = 0; i < XSEG_MAX_TYPES - 1; i++)
		ASSERT_EQ(0, xseg_local_signal_init(self->rx, names[i]));
	EXPECT_EQ(-ENOSPC, xseg_local_signal_init(self->rx, names[i]));
	ASSERT_EQ(0, xseg_leave(self->rx));
	self->rx = NULL;
	EXPECT_EQ(-ENOSPC, xseg_register_signal_type(&counting));
	for (i = 0; i < XSEG_MAX_TYPES; i++)
		ASSERT_EQ(0, xseg_unregister_signal_type(&dummies[i]));
	ASSERT_EQ(0, xseg_register_signal_type(&counting));
}

TEST(dead_peer_descriptor_reclaimed)
{
	const char *name = unit_shm_name("sdreclaim");
	struct xseg_config cfg;
	struct xseg_info info;
	struct xseg *a;
	pid_t pid;
	int status;

	unit_small_config(&cfg);
	xseg_destroy(&xseg_posix_backend, name);
	ASSERT_EQ(0, xseg_create(&xseg_posix_backend, name, &cfg, &a));
	pid = fork();
	if (!pid) {
		struct xseg_sd *sd;
		struct xseg *c;

		if (xseg_join(&xseg_posix_backend, name, &c) ||
		    xseg_local_signal_init(c, XSEG_SIGNAL_POLL) ||
		    xseg_get_signal_desc(c, XSEG_SIGNAL_POLL, &sd) ||
		    xseg_bind_port(c, 5, sd) != 5)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, xseg_get_info(a, &info));
	EXPECT_EQ(1, info.sds_active);
	EXPECT_EQ(2, xseg_reclaim(a));	/* the port, then the descriptor */
	ASSERT_EQ(0, xseg_get_info(a, &info));
	EXPECT_EQ(0, info.sds_active);
	EXPECT_EQ(0, info.ports_bound);
	xseg_leave(a);
	xseg_destroy(&xseg_posix_backend, name);
}

TEST_HARNESS_MAIN
