// SPDX-License-Identifier: GPL-2.0
/* Read-only inspection (xseg/inspect.h): port info, ring fill, requests by state. */
#include <sys/wait.h>

#include "unit_common.h"
#include "kselftest_harness.h"

#include <xseg/inspect.h>

FIXTURE(inspect) {
	void *mem;
	__u64 size;
	struct xseg *cl, *sv;
};

FIXTURE_SETUP(inspect)
{
	struct xseg_config cfg;

	unit_small_config(&cfg);
	cfg.nr_ports = 4;
	cfg.nr_requests = 16;
	self->mem = unit_mem_segment(&cfg, &self->size);
	ASSERT_NE(NULL, self->mem);
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->cl));
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->sv));
}

FIXTURE_TEARDOWN(inspect)
{
	xseg_leave(self->cl);
	xseg_leave(self->sv);
	free(self->mem);
}

static int state_total(const __u32 *counts)
{
	int i, n = 0;

	for (i = 0; i <= XSEG_RS_MAX; i++)
		n += counts[i];
	return n;
}

TEST_F(inspect, fresh_segment)
{
	struct xseg_port_info pi;
	__u32 counts[XSEG_RS_MAX + 1];
	__u32 p;

	for (p = 0; p < 4; p++) {
		ASSERT_EQ(0, xseg_get_port_info(self->cl, p, &pi));
		EXPECT_EQ(p, pi.portno);
		EXPECT_EQ(0, pi.owner);
		EXPECT_EQ(0, pi.flags);
		EXPECT_EQ(0, pi.rq_count);
		EXPECT_EQ(0, pi.rp_count);
		EXPECT_STREQ("", pi.sd_type_name);
	}
	EXPECT_EQ(-EINVAL, xseg_get_port_info(self->cl, 4, &pi));
	EXPECT_EQ(-EINVAL, xseg_get_port_info(self->cl, 0, NULL));
	EXPECT_EQ(-EINVAL, xseg_get_port_info(NULL, 0, &pi));
	ASSERT_EQ(16, xseg_count_requests(self->cl, counts));
	EXPECT_EQ(16, counts[XSEG_RS_FREE]);
	EXPECT_EQ(0, counts[0]);
	EXPECT_EQ(16, state_total(counts));
	EXPECT_EQ(-EINVAL, xseg_count_requests(self->cl, NULL));
	EXPECT_EQ(-EINVAL, xseg_count_requests(NULL, counts));
}

TEST_F(inspect, state_names)
{
	EXPECT_STREQ("free", xseg_req_state_name(XSEG_RS_FREE));
	EXPECT_STREQ("got", xseg_req_state_name(XSEG_RS_GOT));
	EXPECT_STREQ("submitted", xseg_req_state_name(XSEG_RS_SUBMITTED));
	EXPECT_STREQ("serving", xseg_req_state_name(XSEG_RS_SERVING));
	EXPECT_STREQ("responded", xseg_req_state_name(XSEG_RS_RESPONDED));
	EXPECT_STREQ("concluded", xseg_req_state_name(XSEG_RS_CONCLUDED));
	EXPECT_STREQ("invalid", xseg_req_state_name(0));
	EXPECT_STREQ("invalid", xseg_req_state_name(XSEG_RS_MAX + 1));
	EXPECT_STREQ("invalid", xseg_req_state_name(0xffffffff));
}

TEST_F(inspect, bound_port_with_descriptor)
{
	struct xseg_port_info pi;
	struct xseg_sd *sd;

	ASSERT_EQ(0, xseg_local_signal_init(self->sv, XSEG_SIGNAL_POLL));
	ASSERT_EQ(0, xseg_get_signal_desc(self->sv, XSEG_SIGNAL_POLL, &sd));
	ASSERT_EQ(2, xseg_bind_port(self->sv, 2, sd));
	ASSERT_EQ(1, xseg_bind_port(self->cl, 1, NULL));

	ASSERT_EQ(0, xseg_get_port_info(self->cl, 2, &pi));
	EXPECT_NE(0, pi.owner);
	EXPECT_EQ(getpid(), XSEG_TAG_PID(pi.owner));
	EXPECT_EQ(XSEG_PORT_INFO_BOUND | XSEG_PORT_INFO_ALIVE | XSEG_PORT_INFO_SD, pi.flags);
	EXPECT_EQ(xseg_signal_desc_index(sd), pi.sd_index);
	EXPECT_NE(0, pi.sd_type);
	EXPECT_STREQ(XSEG_SIGNAL_POLL, pi.sd_type_name);

	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(XSEG_PORT_INFO_BOUND | XSEG_PORT_INFO_ALIVE, pi.flags);
	EXPECT_STREQ("", pi.sd_type_name);

	ASSERT_EQ(0, xseg_leave_port(self->sv, 2));
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 2, &pi));
	EXPECT_EQ(0, pi.flags);
	ASSERT_EQ(0, xseg_put_signal_desc(sd));
	ASSERT_EQ(0, xseg_local_signal_quit(self->sv, XSEG_SIGNAL_POLL));
}

TEST_F(inspect, queue_fill_and_states_follow_the_flow)
{
	struct xseg_request *req[3], *got;
	__u32 counts[XSEG_RS_MAX + 1];
	struct xseg_port_info pi;
	int i;

	ASSERT_EQ(0, xseg_bind_port(self->cl, 0, NULL));
	ASSERT_EQ(1, xseg_bind_port(self->sv, 1, NULL));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, xseg_get_request(self->cl, 0, 1, &req[i]));
		ASSERT_EQ(0, xseg_prep_request(self->cl, req[i], 0, 4096));
	}
	ASSERT_EQ(16, xseg_count_requests(self->cl, counts));
	EXPECT_EQ(13, counts[XSEG_RS_FREE]);
	EXPECT_EQ(3, counts[XSEG_RS_GOT]);

	ASSERT_EQ(1, xseg_submit(self->cl, req[0]));
	ASSERT_EQ(1, xseg_submit(self->cl, req[1]));
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(2, pi.rq_count);
	EXPECT_EQ(0, pi.rp_count);
	ASSERT_EQ(16, xseg_count_requests(self->cl, counts));
	EXPECT_EQ(2, counts[XSEG_RS_SUBMITTED]);
	EXPECT_EQ(1, counts[XSEG_RS_GOT]);

	ASSERT_EQ(0, xseg_accept(self->sv, 1, &got));
	ASSERT_EQ(0, xseg_respond(self->sv, got));
	ASSERT_EQ(0, xseg_accept(self->sv, 1, &got));
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(0, pi.rq_count);
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 0, &pi));
	EXPECT_EQ(0, pi.rq_count);
	EXPECT_EQ(1, pi.rp_count);	/* replies come back to the source port */
	ASSERT_EQ(16, xseg_count_requests(self->cl, counts));
	EXPECT_EQ(1, counts[XSEG_RS_RESPONDED]);
	EXPECT_EQ(1, counts[XSEG_RS_SERVING]);

	ASSERT_EQ(0, xseg_receive(self->cl, 0, &got));
	ASSERT_EQ(16, xseg_count_requests(self->cl, counts));
	EXPECT_EQ(1, counts[XSEG_RS_CONCLUDED]);
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 0, &pi));
	EXPECT_EQ(0, pi.rp_count);
	EXPECT_EQ(16, state_total(counts));
	ASSERT_EQ(0, xseg_put_request(self->cl, got));
	ASSERT_EQ(0, xseg_put_request(self->cl, req[2]));
	ASSERT_EQ(16, xseg_count_requests(self->cl, counts));
	EXPECT_EQ(15, counts[XSEG_RS_FREE]);
}

TEST_F(inspect, dead_owner_is_not_alive)
{
	struct xseg_port *port = xseg_port_at(self->cl, 3);
	struct xseg_port_info pi;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	port->owner = (1ULL << 32) | (__u32)pid;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 3, &pi));
	EXPECT_EQ(XSEG_PORT_INFO_BOUND, pi.flags);
	EXPECT_EQ(pid, XSEG_TAG_PID(pi.owner));
	port->owner = XSEG_TAG_KERNEL | 5;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 3, &pi));
	EXPECT_EQ(XSEG_PORT_INFO_BOUND | XSEG_PORT_INFO_ALIVE, pi.flags);
	port->owner = 0;
}

/* Scribbled fields show up as "unknown", never as a crash or an out-of-range read. */
TEST_F(inspect, corrupted_fields)
{
	struct xseg_port *port = xseg_port_at(self->cl, 1);
	struct xseg_header *hdr = self->mem;
	__u32 counts[XSEG_RS_MAX + 1];
	struct xseg_signal_desc *sd;
	struct xseg_port_info pi;
	struct xseg_ring *ring;
	struct xseg_sd *h;
	__u64 good;

	xseg_req_at(self->cl, 0)->state = 0;
	xseg_req_at(self->cl, 1)->state = XSEG_RS_MAX + 1;
	xseg_req_at(self->cl, 2)->state = 0xdeadbeef;
	ASSERT_EQ(16, xseg_count_requests(self->cl, counts));
	EXPECT_EQ(3, counts[0]);
	EXPECT_EQ(13, counts[XSEG_RS_FREE]);

	/* sd_off pointing outside the table, inside but misaligned, at the header */
	port->sd_off = self->size * 2;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(XSEG_PORT_INFO_BAD_SD, pi.flags);
	port->sd_off = hdr->sds_off + 3;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(XSEG_PORT_INFO_BAD_SD, pi.flags);
	port->sd_off = 8;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(XSEG_PORT_INFO_BAD_SD, pi.flags);

	/* a valid descriptor whose state, refcount or type is scribbled */
	ASSERT_EQ(0, xseg_local_signal_init(self->sv, XSEG_SIGNAL_POLL));
	ASSERT_EQ(0, xseg_get_signal_desc(self->sv, XSEG_SIGNAL_POLL, &h));
	sd = xseg_sd_at(self->cl, xseg_signal_desc_index(h));
	good = hdr->sds_off + (__u64)xseg_signal_desc_index(h) * sizeof(*sd);
	port->sd_off = good;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_STREQ(XSEG_SIGNAL_POLL, pi.sd_type_name);
	sd->type = 0;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(XSEG_PORT_INFO_SD, pi.flags);
	EXPECT_EQ(0, pi.sd_type);
	EXPECT_STREQ("", pi.sd_type_name);
	sd->type = XSEG_MAX_TYPES + 1;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(0, pi.sd_type);
	sd->type = XSEG_MAX_TYPES;	/* in range, entry never registered */
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(XSEG_MAX_TYPES, pi.sd_type);
	EXPECT_STREQ("", pi.sd_type_name);
	sd->refcount = 0;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(0, pi.sd_type);
	sd->state = 77;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(0, pi.sd_type);
	port->sd_off = 0;

	/* ring indices that claim more than the ring holds are clamped */
	ring = xseg_ring_at(self->cl, 1, 0);
	ring->prod = ring->cons + 100000;
	ASSERT_EQ(0, xseg_get_port_info(self->cl, 1, &pi));
	EXPECT_EQ(self->cl->g.ring_size, pi.rq_count);
	ring->prod = ring->cons;
	/* the corrupted descriptor is not put back: the segment is thrown away */
}

TEST_HARNESS_MAIN
