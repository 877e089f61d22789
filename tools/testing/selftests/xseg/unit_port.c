// SPDX-License-Identifier: GPL-2.0
/* Ports: bind specific/any, busy, leave, takeover and reclaim from dead peers. */
#include <sys/wait.h>

#include "unit_common.h"
#include "kselftest_harness.h"

FIXTURE(ports) {
	struct xseg_config cfg;
	const char *name;
	struct xseg *a, *b;
};

FIXTURE_SETUP(ports)
{
	unit_small_config(&self->cfg);
	self->cfg.nr_ports = 4;
	self->name = unit_shm_name("port");
	xseg_destroy(&xseg_posix_backend, self->name);
	ASSERT_EQ(0, xseg_create(&xseg_posix_backend, self->name, &self->cfg, &self->a));
	ASSERT_EQ(0, xseg_join(&xseg_posix_backend, self->name, &self->b));
}

FIXTURE_TEARDOWN(ports)
{
	xseg_leave(self->a);
	xseg_leave(self->b);
	xseg_destroy(&xseg_posix_backend, self->name);
}

TEST_F(ports, bind_specific_and_any)
{
	struct xseg_info info;

	EXPECT_EQ(-EINVAL, xseg_bind_port(self->a, 4, NULL));
	EXPECT_EQ(-EINVAL, xseg_bind_port(self->a, -2, NULL));
	ASSERT_EQ(2, xseg_bind_port(self->a, 2, NULL));
	ASSERT_EQ(2, xseg_bind_port(self->a, 2, NULL));	/* rebinding our own port is fine */
	EXPECT_EQ(-EBUSY, xseg_bind_port(self->b, 2, NULL));
	ASSERT_EQ(0, xseg_bind_port(self->b, XSEG_PORT_ANY, NULL));
	ASSERT_EQ(1, xseg_bind_port(self->a, XSEG_PORT_ANY, NULL));
	ASSERT_EQ(3, xseg_bind_port(self->b, XSEG_PORT_ANY, NULL));
	EXPECT_EQ(-EBUSY, xseg_bind_port(self->a, XSEG_PORT_ANY, NULL));
	ASSERT_EQ(0, xseg_get_info(self->a, &info));
	EXPECT_EQ(4, info.ports_bound);

	EXPECT_EQ(-EPERM, xseg_leave_port(self->a, 0));	/* b's port */
	EXPECT_EQ(-EINVAL, xseg_leave_port(self->a, 9));
	ASSERT_EQ(0, xseg_leave_port(self->b, 0));
	EXPECT_EQ(-EPERM, xseg_leave_port(self->b, 0));
	ASSERT_EQ(0, xseg_bind_port(self->a, XSEG_PORT_ANY, NULL));
	/* leaving the handle releases its ports */
	ASSERT_EQ(0, xseg_leave(self->b));
	self->b = NULL;
	ASSERT_EQ(0, xseg_get_info(self->a, &info));
	EXPECT_EQ(3, info.ports_bound);
	EXPECT_EQ(3, xseg_bind_port(self->a, 3, NULL));
	ASSERT_EQ(0, xseg_join(&xseg_posix_backend, self->name, &self->b));
}

/* A child binds ports and dies without leaving; returns after it is reaped. */
static void dead_peer(const char *name, int port1, int port2)
{
	pid_t pid = fork();

	if (!pid) {
		struct xseg *c;

		if (xseg_join(&xseg_posix_backend, name, &c))
			_exit(1);
		if (xseg_bind_port(c, port1, NULL) != port1 ||
		    xseg_bind_port(c, port2, NULL) != port2)
			_exit(2);
		_exit(0);	/* no xseg_leave(): a crash */
	}
	waitpid(pid, NULL, 0);
}

TEST_F(ports, takeover_from_dead_owner)
{
	struct xseg_info info;

	dead_peer(self->name, 1, 2);
	ASSERT_EQ(0, xseg_get_info(self->a, &info));
	EXPECT_EQ(2, info.ports_bound);
	/* ANY skips owned ports, dead or alive */
	ASSERT_EQ(0, xseg_bind_port(self->a, XSEG_PORT_ANY, NULL));
	/* binding a specific port of a dead peer takes it over */
	ASSERT_EQ(1, xseg_bind_port(self->b, 1, NULL));
	/* and the port now has a live owner again */
	EXPECT_EQ(-EBUSY, xseg_bind_port(self->a, 1, NULL));
}

TEST_F(ports, reclaim_dead_ports)
{
	struct xseg_info info;

	ASSERT_EQ(0, xseg_bind_port(self->a, 0, NULL));
	dead_peer(self->name, 1, 3);
	EXPECT_EQ(2, xseg_reclaim(self->b));
	ASSERT_EQ(0, xseg_get_info(self->b, &info));
	EXPECT_EQ(1, info.ports_bound);	/* a's live port survives */
	EXPECT_EQ(0, xseg_reclaim(self->b));
	EXPECT_EQ(3, xseg_bind_port(self->b, 3, NULL));
}

TEST_HARNESS_MAIN
