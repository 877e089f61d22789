// SPDX-License-Identifier: GPL-2.0
/*
 * The endpoint API (<xseg/idc.h>): connection lifecycle, messages, transactions, quotas,
 * stale communications and remote buffers, with peers in one process (one idc each, driven
 * alternately) and in forked processes killed with SIGKILL.
 *
 * XSEG_EP_KILL_ITERS sets the rounds of the random kill -9 test (default 100);
 * XSEG_EP_SEGTYPE=segdev runs everything on a segdev segment (idc_unit.sh in the VM).
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "unit_common.h"
#include <xseg/idc.h>
#include <xseg/segdev_user.h>
#include <xseg/signal_user.h>
#include "kselftest_harness.h"

#define SIGTYPE		XSEG_SIGNAL_FUTEX
#define SVC		"echo"

/* ---- an echo service whose handlers can be told to hold what they receive ---- */

struct counters {
	int appear, connect, disconnect, disappear, msgs, txns;
	int hold;				/* keep received transactions */
	struct xseg_idc_transaction *held[XSEG_IDC_MAX_QUOTA];
	int nheld;
	int last_len;
	char last[256];
};

static struct counters *cnt(struct xseg_endpoint *ep)
{
	return ep->priv;
}

static void on_appear(struct xseg_endpoint *ep) { cnt(ep)->appear++; }
static void on_connect(struct xseg_endpoint *ep) { cnt(ep)->connect++; }
static void on_disconnect(struct xseg_endpoint *ep) { cnt(ep)->disconnect++; }
static void on_disappear(struct xseg_endpoint *ep) { cnt(ep)->disappear++; }

static void on_message(struct xseg_endpoint *ep, struct xseg_idc_message *msg)
{
	struct counters *c = cnt(ep);

	c->msgs++;
	c->last_len = msg->body.len < sizeof(c->last) ? msg->body.len : sizeof(c->last);
	memcpy(c->last, msg->body.addr, c->last_len);
	xseg_idc_message_complete(msg);
}

static void on_txn(struct xseg_endpoint *ep, struct xseg_idc_transaction *txn)
{
	struct counters *c = cnt(ep);
	__u64 n = txn->params.len < txn->status.len ? txn->params.len : txn->status.len;

	c->txns++;
	memcpy(txn->status.addr, txn->params.addr, n);
	txn->status_len = n;
	if (c->hold) {
		c->held[c->nheld++] = txn;
		return;
	}
	xseg_idc_transaction_complete(txn, 0);
}

static const struct xseg_endpoint_ops echo_ops = {
	.appear = on_appear,
	.connect = on_connect,
	.disconnect = on_disconnect,
	.disappear = on_disappear,
	.handle_message = on_message,
	.handle_transaction = on_txn,
};

/* ---- sender-side completions ---- */

struct done {
	int n, errors, last_error;
};

static void msg_done(struct xseg_idc_message *msg)
{
	struct done *d = msg->priv;

	d->n++;
	d->last_error = msg->error;
	if (msg->error)
		d->errors++;
}

static void txn_done(struct xseg_idc_transaction *txn)
{
	struct done *d = txn->priv;

	d->n++;
	d->last_error = txn->error;
	if (txn->error)
		d->errors++;
}

/* ---- a segment shared with forked children ---- */

/*
 * $XSEG_EP_SEGTYPE=segdev: the segment is a segdev one (idc_unit.sh, in the VM: the same
 * tests over memory the kernel shares); default: anonymous shared memory.
 */
static struct xseg *seg_creator;
static char seg_name[64];

static bool use_segdev(void)
{
	const char *t = getenv("XSEG_EP_SEGTYPE");

	return t && !strcmp(t, "segdev");
}

static void *shared_segment(__u64 *sizep)
{
	struct xseg_config cfg;
	__u64 size;
	void *mem;

	xseg_config_default(&cfg);
	cfg.nr_ports = 32;
	cfg.nr_requests = 256;
	cfg.nr_sds = 32;
	cfg.heap_size = 4 << 20;
	if (use_segdev()) {
		snprintf(seg_name, sizeof(seg_name), "idc-unit-%d", (int)getpid());
		if (xseg_create(&xseg_segdev_backend, seg_name, &cfg, &seg_creator))
			return NULL;
		*sizep = seg_creator->g.size;
		return seg_creator->base;
	}
	if (xseg_segment_size(&cfg, &size))
		return NULL;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	if (xseg_init_mem(mem, size, &cfg)) {
		munmap(mem, size);
		return NULL;
	}
	*sizep = size;
	return mem;
}

static void release_segment(void *mem, __u64 size)
{
	if (seg_creator) {
		xseg_leave(seg_creator);
		xseg_destroy(&xseg_segdev_backend, seg_name);
		seg_creator = NULL;
		return;
	}
	munmap(mem, size);
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static void run_both(struct xseg_idc *a, struct xseg_idc *b)
{
	if (a)
		xseg_idc_poll(a);
	if (b)
		xseg_idc_wait(b, 1000);
}

/* Drives both sides until cond holds or ms pass; returns whether it holds. */
#define RUN_UNTIL(a, b, cond, ms) ({					\
	struct xseg_idc *__a = (a), *__b = (b);				\
	__u64 __end = now_ms() + (ms);					\
	bool __ok;							\
	for (;;) {							\
		__ok = (cond);						\
		if (__ok || now_ms() >= __end)				\
			break;						\
		run_both(__a, __b);					\
	}								\
	__ok;								\
})

FIXTURE(ep) {
	void *mem;
	__u64 size;
	struct xseg *sx, *cx;
	struct xseg_idc s, c;
	struct xseg_idc_service svc;
	struct xseg_endpoint conns[4];
	struct xseg_endpoint ep;
	struct counters sc, cc;
	__u32 free0;
};

FIXTURE_SETUP(ep)
{
	struct xseg_info info;
	int i;

	self->mem = shared_segment(&self->size);
	ASSERT_NE(NULL, self->mem);
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->sx));
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->cx));
	ASSERT_EQ(0, xseg_get_info(self->sx, &info));
	self->free0 = info.requests_free;
	ASSERT_EQ(0, xseg_idc_init(&self->s, self->sx, SIGTYPE));
	ASSERT_EQ(0, xseg_idc_init(&self->c, self->cx, SIGTYPE));
	ASSERT_EQ(0, xseg_idc_service_register(&self->svc, &self->s, SVC, &echo_ops,
					       self->conns, 4, NULL));
	for (i = 0; i < 4; i++)
		self->conns[i].priv = &self->sc;
	xseg_endpoint_create(&self->ep, &self->c, SVC, &echo_ops, NULL);
	self->ep.priv = &self->cc;
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, xseg_endpoint_connected(&self->ep), 2000));
	ASSERT_EQ(1, self->cc.appear);
	ASSERT_EQ(1, self->cc.connect);
	ASSERT_EQ(1, self->sc.connect);
}

FIXTURE_TEARDOWN(ep)
{
	struct xseg_info info;

	/* destroy without blocking: the server must run for the disconnect handshake */
	if (self->ep.idc && xseg_endpoint_destroy(&self->ep, 0) == -EINPROGRESS) {
		RUN_UNTIL(&self->s, &self->c,
			  xseg_endpoint_state(&self->ep) == XSEG_EP_DEAD, 3000);
		EXPECT_EQ(0, xseg_endpoint_destroy(&self->ep, 0));
	}
	if (self->svc.idc)
		xseg_idc_service_unregister(&self->svc, 2000000);
	EXPECT_EQ(0, xseg_idc_fini(&self->c));
	EXPECT_EQ(0, xseg_idc_fini(&self->s));
	/* every request of every test came back: nothing lost, nothing stranded */
	EXPECT_EQ(0, xseg_get_info(self->sx, &info));
	EXPECT_EQ(self->free0, info.requests_free);
	xseg_leave(self->cx);
	xseg_leave(self->sx);
	release_segment(self->mem, self->size);
}

TEST_F(ep, message_and_transaction)
{
	struct xseg_idc_message msg = { .body = { "hello", 5 }, .complete = msg_done };
	struct xseg_idc_transaction txn = { .params = { "ping!", 5 }, .complete = txn_done };
	char status[64] = "";
	struct done md = {}, td = {};

	msg.priv = &md;
	txn.priv = &td;
	txn.status.addr = status;
	txn.status.len = sizeof(status);
	ASSERT_EQ(0, xseg_endpoint_submit_message(&self->ep, &msg));
	ASSERT_EQ(0, xseg_endpoint_submit_transaction(&self->ep, &txn));
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, md.n && td.n, 2000));
	EXPECT_EQ(0, md.last_error);
	EXPECT_EQ(1, self->sc.msgs);
	EXPECT_EQ(5, self->sc.last_len);
	EXPECT_EQ(0, memcmp(self->sc.last, "hello", 5));
	EXPECT_EQ(0, xseg_idc_transaction_query_error(&txn));
	EXPECT_EQ(5, txn.status_len);
	EXPECT_EQ(0, memcmp(status, "ping!", 5));
}

/* the server can send too: both directions on one connection */
TEST_F(ep, server_to_client)
{
	struct xseg_idc_message msg = { .body = { "down", 4 }, .complete = msg_done };
	struct xseg_endpoint *sep = NULL;
	struct done md = {};
	int i;

	for (i = 0; i < 4; i++)
		if (xseg_endpoint_connected(&self->conns[i]))
			sep = &self->conns[i];
	ASSERT_NE(NULL, sep);
	msg.priv = &md;
	ASSERT_EQ(0, xseg_endpoint_submit_message(sep, &msg));
	ASSERT_TRUE(RUN_UNTIL(&self->c, &self->s, md.n, 2000));
	EXPECT_EQ(0, md.last_error);
	EXPECT_EQ(1, self->cc.msgs);
	EXPECT_EQ(0, memcmp(self->cc.last, "down", 4));
}

TEST_F(ep, quota_exhaustion_never_blocks)
{
	struct xseg_idc_message msgs[XSEG_IDC_DEF_QUOTA + 1];
	struct xseg_idc_message big = { .complete = msg_done };
	struct done md = {};
	static char huge[XSEG_IDC_DEF_SIZE + 1];
	int i;

	for (i = 0; i <= XSEG_IDC_DEF_QUOTA; i++) {
		msgs[i] = (struct xseg_idc_message){ .body = { "x", 1 }, .complete = msg_done,
						     .priv = &md };
	}
	/* the server does not run: the quota fills and the next submit is refused at once */
	for (i = 0; i < XSEG_IDC_DEF_QUOTA; i++)
		ASSERT_EQ(0, xseg_endpoint_submit_message(&self->ep, &msgs[i]));
	EXPECT_EQ(-EAGAIN, xseg_endpoint_submit_message(&self->ep, &msgs[i]));
	big.body.addr = huge;
	big.body.len = sizeof(huge);
	EXPECT_EQ(-EMSGSIZE, xseg_endpoint_submit_message(&self->ep, &big));
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, md.n == XSEG_IDC_DEF_QUOTA, 2000));
	EXPECT_EQ(0, md.errors);
	/* room again */
	EXPECT_EQ(0, xseg_endpoint_submit_message(&self->ep, &msgs[i]));
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, md.n == XSEG_IDC_DEF_QUOTA + 1, 2000));
}

TEST_F(ep, message_storm)
{
	struct xseg_idc_message msgs[XSEG_IDC_DEF_QUOTA];
	struct done md = {};
	int sent = 0, i, ret, total = 20000;
	__u64 end = now_ms() + 30000;

	for (i = 0; i < XSEG_IDC_DEF_QUOTA; i++)
		msgs[i] = (struct xseg_idc_message){ .body = { "storm", 5 },
						     .complete = msg_done, .priv = &md };
	/* every message slot is resubmitted as soon as it completes */
	while (md.n < total && now_ms() < end) {
		for (i = 0; i < XSEG_IDC_DEF_QUOTA && sent < total; i++) {
			if (msgs[i].req)
				continue;
			ret = xseg_endpoint_submit_message(&self->ep, &msgs[i]);
			if (ret == -EAGAIN)
				break;
			ASSERT_EQ(0, ret);
			sent++;
		}
		xseg_idc_poll(&self->s);
		xseg_idc_poll(&self->c);
	}
	EXPECT_EQ(total, md.n);
	EXPECT_EQ(total, self->sc.msgs);
	EXPECT_EQ(0, md.errors);
}

/* A disconnect on one side is a disconnect/connect cycle on the other side too. */
TEST_F(ep, disconnect_cycle_both_sides)
{
	struct xseg_endpoint *sep = NULL;
	int i;

	ASSERT_EQ(0, xseg_endpoint_disconnect(&self->ep));
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, self->cc.connect == 2, 3000));
	EXPECT_EQ(1, self->cc.disconnect);
	ASSERT_TRUE(RUN_UNTIL(&self->c, &self->s, self->sc.connect == 2 &&
			      self->sc.disconnect == 1, 3000));
	EXPECT_EQ(0, self->cc.disappear);

	/* and from the server side */
	for (i = 0; i < 4; i++)
		if (xseg_endpoint_connected(&self->conns[i]))
			sep = &self->conns[i];
	ASSERT_NE(NULL, sep);
	ASSERT_EQ(0, xseg_endpoint_disconnect(sep));
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, self->cc.connect == 3 &&
			      self->cc.disconnect == 2, 3000));
	ASSERT_TRUE(RUN_UNTIL(&self->c, &self->s, self->sc.connect == 3 &&
			      self->sc.disconnect == 2, 3000));
}

/* Outstanding transactions complete (transport error) before the disconnect finishes. */
TEST_F(ep, disconnect_completes_outstanding)
{
	struct xseg_idc_transaction txn[4];
	struct done td = {};
	char st[4][8];
	int i;

	self->sc.hold = 1;
	for (i = 0; i < 4; i++) {
		txn[i] = (struct xseg_idc_transaction){ .params = { "abc", 3 },
			.status = { st[i], sizeof(st[i]) }, .complete = txn_done, .priv = &td };
		ASSERT_EQ(0, xseg_endpoint_submit_transaction(&self->ep, &txn[i]));
	}
	ASSERT_TRUE(RUN_UNTIL(&self->c, &self->s, self->sc.nheld == 4, 2000));
	ASSERT_EQ(0, xseg_endpoint_disconnect(&self->ep));
	/* the server still holds them: the client waits, it does not reconnect yet */
	RUN_UNTIL(&self->s, &self->c, 0, 200);
	EXPECT_EQ(0, td.n);
	EXPECT_EQ(XSEG_EP_DISCONNECTING, xseg_endpoint_state(&self->ep));
	for (i = 0; i < 4; i++)
		xseg_idc_transaction_complete(self->sc.held[i], 0);
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, td.n == 4 && self->cc.connect == 2, 3000));
	/* answered before the server processed the disconnect: success; or reset */
	for (i = 0; i < 4; i++)
		EXPECT_TRUE(txn[i].error == 0 || txn[i].error == -ECONNRESET);
}

/* A request of an old connection is answered -ESTALE and never delivered. */
TEST_F(ep, stale_epoch_not_delivered)
{
	struct xseg_request *req;
	__u64 old = self->ep.epoch;
	__u32 rport = self->ep.rport;
	int port = self->ep.port;

	ASSERT_EQ(0, xseg_endpoint_disconnect(&self->ep));
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, self->cc.connect == 2, 3000));
	ASSERT_NE(old, self->ep.epoch);
	ASSERT_EQ(port, self->ep.port);
	/* forge a message of the old connection to the old and to the new server port */
	ASSERT_EQ(0, xseg_get_request(self->cx, port, rport, &req));
	req->op = XSEG_OP_IDC_MSG;
	req->offset = old;
	ASSERT_LE(0, xseg_submit(self->cx, req));
	ASSERT_EQ(0, xseg_get_request(self->cx, port, self->ep.rport, &req));
	req->op = XSEG_OP_IDC_MSG;
	req->offset = old;
	ASSERT_LE(0, xseg_submit(self->cx, req));
	RUN_UNTIL(&self->s, &self->c, 0, 200);
	EXPECT_EQ(0, self->sc.msgs);
	EXPECT_TRUE(xseg_endpoint_connected(&self->ep));
}

static int xfers_done;

static void xfer_done(struct xseg_idc_xfer *x)
{
	xfers_done++;
}

/* Runs a transfer to completion: the callback comes from the next poll, not the call. */
static int xfer(struct xseg_idc *idc, bool send, const struct xseg_idc_rbuf *rb, __u64 off,
		const struct xseg_idc_lbuf *lb)
{
	struct xseg_idc_xfer x = { .complete = xfer_done };
	int before = xfers_done, ret;

	ret = send ? xseg_idc_send_to_remote_buffer(idc, rb, off, lb, &x) :
		     xseg_idc_receive_from_remote_buffer(idc, rb, off, lb, &x);
	if (ret)
		return ret;
	if (xfers_done != before)
		return -EDOM;		/* completed synchronously: not what the API says */
	xseg_idc_poll(idc);
	if (xfers_done != before + 1)
		return -EDOM;
	return x.error;
}

/* Remote buffers: transfer, forwarded reference, rights, unregister. */
TEST_F(ep, remote_buffers)
{
	struct xseg_idc_lbuf mem, src = { "0123456789", 10 }, dst;
	struct xseg_idc_buffer buf;
	struct xseg_idc_rbuf fwd, ro;
	struct xseg_idc_message msg = { .complete = msg_done };
	struct xseg_idc third;
	struct done md = {};
	char out[16] = "";
	struct xseg *tx;

	ASSERT_EQ(0, xseg_idc_buffer_alloc(&self->s, 8192, &mem));
	/* private memory cannot be reached by others */
	EXPECT_EQ(-EFAULT, xseg_idc_register_buffer(&self->s, &src, XSEG_BUF_RIGHTS, &buf));
	ASSERT_EQ(0, xseg_idc_register_buffer(&self->s, &mem, XSEG_BUF_RIGHTS, &buf));

	/* the reference travels in a message (plain bytes) to the client */
	msg.body.addr = &buf.ref;
	msg.body.len = sizeof(buf.ref);
	msg.priv = &md;
	{
		struct xseg_endpoint *sep = NULL;
		int i;

		for (i = 0; i < 4; i++)
			if (xseg_endpoint_connected(&self->conns[i]))
				sep = &self->conns[i];
		ASSERT_NE(NULL, sep);
		ASSERT_EQ(0, xseg_endpoint_submit_message(sep, &msg));
	}
	ASSERT_TRUE(RUN_UNTIL(&self->c, &self->s, md.n, 2000));
	ASSERT_EQ(sizeof(fwd), self->cc.last_len);
	memcpy(&fwd, self->cc.last, sizeof(fwd));

	/* the client writes into the server's buffer; completion is asynchronous */
	ASSERT_EQ(0, xfer(&self->c, true, &fwd, 100, &src));
	EXPECT_EQ(0, memcmp((char *)mem.addr + 100, "0123456789", 10));
	/* the client narrows the reference to a window and forwards it to a third peer */
	fwd.offset = 100;
	fwd.len = 10;
	dst.addr = out;
	dst.len = 10;
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &tx));
	ASSERT_EQ(0, xseg_idc_init(&third, tx, SIGTYPE));
	ASSERT_EQ(0, xfer(&third, false, &fwd, 0, &dst));
	EXPECT_EQ(0, memcmp(out, "0123456789", 10));
	EXPECT_EQ(0, xseg_idc_fini(&third));
	xseg_leave(tx);
	/* out of the window */
	dst.len = 11;
	EXPECT_EQ(-EFAULT, xfer(&self->s, false, &fwd, 0, &dst));
	/* a read-only reference cannot write */
	ro = buf.ref;
	ro.rights = XSEG_BUF_READ;
	EXPECT_EQ(-EACCES, xfer(&self->c, true, &ro, 0, &src));
	ro.rights = XSEG_BUF_READ;
	dst.len = 10;
	EXPECT_EQ(0, xfer(&self->c, false, &ro, 100, &dst));

	/* unregistered: every later transfer fails, whatever reference circulates */
	ASSERT_EQ(0, xseg_idc_unregister_buffer(&buf));
	dst.len = 10;
	EXPECT_EQ(-ESTALE, xfer(&self->c, false, &fwd, 0, &dst));
	/* a new registration of the same entry does not revive old references */
	ASSERT_EQ(0, xseg_idc_register_buffer(&self->s, &mem, XSEG_BUF_RIGHTS, &buf));
	EXPECT_EQ(-ESTALE, xfer(&self->c, false, &fwd, 0, &dst));
	ASSERT_EQ(0, xseg_idc_unregister_buffer(&buf));
	ASSERT_EQ(0, xseg_idc_buffer_free(&self->s, &mem));
}

/* ---- registry, arguments, refusals ---- */

TEST_F(ep, registry_names)
{
	struct xseg_idc_service other;
	struct xseg_endpoint oc[1];
	__u32 port;
	char long_name[XSEG_IDC_NAME_LEN + 1];

	ASSERT_EQ(0, xseg_idc_lookup(self->cx, SVC, &port));
	EXPECT_EQ(self->svc.port, port);
	EXPECT_EQ(-ENOENT, xseg_idc_lookup(self->cx, "nobody", &port));
	/* a name has one live owner */
	EXPECT_EQ(-EEXIST, xseg_idc_service_register(&other, &self->c, SVC, &echo_ops, oc, 1,
						     NULL));
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	EXPECT_EQ(-EINVAL, xseg_idc_service_register(&other, &self->c, long_name, &echo_ops,
						     oc, 1, NULL));
	EXPECT_EQ(-EINVAL, xseg_idc_service_register(&other, &self->c, "", &echo_ops, oc, 1,
						     NULL));
	EXPECT_EQ(-EINVAL, xseg_idc_lookup(self->cx, "", &port));
	/* a second name works, and goes away with its service */
	ASSERT_EQ(0, xseg_idc_service_register(&other, &self->c, "second", &echo_ops, oc, 1,
					       NULL));
	ASSERT_EQ(0, xseg_idc_lookup(self->sx, "second", &port));
	EXPECT_EQ(other.port, port);
	EXPECT_EQ(0, xseg_idc_service_unregister(&other, 100000));
	EXPECT_EQ(-ENOENT, xseg_idc_lookup(self->sx, "second", &port));
}

TEST_F(ep, registry_full)
{
	static struct xseg_idc_service svcs[XSEG_IDC_SERVICES];
	static struct xseg_endpoint conns[XSEG_IDC_SERVICES];
	char name[16];
	int i, n = 0, ret = 0;

	/* one entry is taken by the fixture's service; ports may run out first */
	for (i = 0; i < XSEG_IDC_SERVICES; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		ret = xseg_idc_service_register(&svcs[i], &self->c, name, &echo_ops, &conns[i],
						1, NULL);
		if (ret)
			break;
		n++;
	}
	EXPECT_TRUE(ret == -ENOSPC || ret == -EBUSY);
	EXPECT_LT(n, XSEG_IDC_SERVICES);
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, xseg_idc_service_unregister(&svcs[i], 100000));
}

TEST_F(ep, bad_arguments)
{
	struct xseg_idc_message msg = { .body = { NULL, 3 } };
	struct xseg_idc_transaction txn = { .params = { NULL, 3 } };
	struct xseg_endpoint lonely;

	EXPECT_EQ(-EINVAL, xseg_endpoint_submit_message(&self->ep, &msg));
	EXPECT_EQ(-EINVAL, xseg_endpoint_submit_transaction(&self->ep, &txn));
	EXPECT_EQ(-EINVAL, xseg_idc_message_complete(&msg));
	EXPECT_EQ(-EINVAL, xseg_idc_transaction_complete(&txn, 0));
	/* an endpoint to nobody never connects, and says so */
	xseg_endpoint_create(&lonely, &self->c, "nobody", NULL, NULL);
	msg.body.addr = "abc";
	EXPECT_EQ(-ENOTCONN, xseg_endpoint_submit_message(&lonely, &msg));
	EXPECT_EQ(-ENOTCONN, xseg_endpoint_disconnect(&lonely));
	RUN_UNTIL(&self->s, &self->c, 0, 100);
	EXPECT_EQ(XSEG_EP_IDLE, xseg_endpoint_state(&lonely));
	EXPECT_EQ(0, xseg_endpoint_destroy(&lonely, 100000));
	EXPECT_EQ(-EBUSY, xseg_idc_fini(&self->s));	/* a service is still registered */
}

/* A segment made without XSEG_FEAT_IDC: the endpoint API refuses it cleanly. */
TEST(no_idc_feature)
{
	struct xseg_config cfg;
	struct xseg_header *h;
	struct xseg_idc idc;
	struct xseg *x;
	__u64 size;
	__u32 port;
	void *mem;

	unit_small_config(&cfg);
	mem = unit_mem_segment(&cfg, &size);
	ASSERT_NE(NULL, mem);
	h = mem;
	h->features = XSEG_FEAT_TICKETS | XSEG_FEAT_REQ_CLAIM;
	h->idc_off = 0;
	h->size = h->heap_off + h->heap_size;
	ASSERT_EQ(0, xseg_join_mem(mem, h->size, &x));
	EXPECT_EQ(-EOPNOTSUPP, xseg_idc_init(&idc, x, SIGTYPE));
	EXPECT_EQ(-EOPNOTSUPP, xseg_idc_lookup(x, "echo", &port));
	xseg_leave(x);
	free(mem);
}

/* A service with one connection slot refuses a second client until the first leaves. */
TEST_F(ep, service_full_then_free)
{
	struct xseg_idc_service one;
	struct xseg_endpoint oc[1], a, b;
	struct counters ac = {}, bc = {};

	ASSERT_EQ(0, xseg_idc_service_register(&one, &self->s, "one", &echo_ops, oc, 1, NULL));
	oc[0].priv = &self->sc;
	xseg_endpoint_create(&a, &self->c, "one", &echo_ops, NULL);
	a.priv = &ac;
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, xseg_endpoint_connected(&a), 2000));
	xseg_endpoint_create(&b, &self->c, "one", &echo_ops, NULL);
	b.priv = &bc;
	RUN_UNTIL(&self->s, &self->c, 0, 200);
	EXPECT_EQ(1, bc.appear);
	EXPECT_FALSE(xseg_endpoint_connected(&b));
	ASSERT_EQ(-EINPROGRESS, xseg_endpoint_destroy(&a, 0));
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, xseg_endpoint_connected(&b), 3000));
	EXPECT_EQ(0, xseg_endpoint_destroy(&a, 0));
	EXPECT_EQ(-EINPROGRESS, xseg_endpoint_destroy(&b, 0));
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, xseg_endpoint_state(&b) == XSEG_EP_DEAD, 3000));
	EXPECT_EQ(0, xseg_endpoint_destroy(&b, 0));
	EXPECT_EQ(0, xseg_idc_service_unregister(&one, 100000));
}

/* The service goes away: the client disconnects, then reports disappear; and back. */
TEST_F(ep, service_unregistered_disappears)
{
	struct xseg_idc_service again;
	struct xseg_endpoint conns[2];
	int r = -EINPROGRESS;

	ASSERT_EQ(-EINPROGRESS, xseg_idc_service_unregister(&self->svc, 0));
	ASSERT_TRUE(RUN_UNTIL(&self->c, &self->s, self->cc.disappear == 1, 3000));
	EXPECT_EQ(1, self->cc.disconnect);
	EXPECT_EQ(XSEG_EP_IDLE, xseg_endpoint_state(&self->ep));
	/* once 0, the call is not made again (a second unregister is refused) */
	ASSERT_TRUE(RUN_UNTIL(&self->c, &self->s,
			      !(r = r ? xseg_idc_service_unregister(&self->svc, 0) : 0), 3000));
	EXPECT_EQ(-EINVAL, xseg_idc_service_unregister(&self->svc, 0));
	EXPECT_EQ(1, self->sc.disconnect);
	/* registered again: appear, connect */
	ASSERT_EQ(0, xseg_idc_service_register(&again, &self->s, SVC, &echo_ops, conns, 2,
					       NULL));
	conns[0].priv = &self->sc;
	conns[1].priv = &self->sc;
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, xseg_endpoint_connected(&self->ep), 3000));
	EXPECT_EQ(2, self->cc.appear);
	EXPECT_EQ(2, self->cc.connect);
	ASSERT_EQ(0, xseg_endpoint_destroy(&self->ep, 0) == -EINPROGRESS ?
		  !RUN_UNTIL(&self->s, &self->c, xseg_endpoint_state(&self->ep) == XSEG_EP_DEAD,
			     3000) || xseg_endpoint_destroy(&self->ep, 0) : 0);
	EXPECT_EQ(0, xseg_idc_service_unregister(&again, 100000));
}

/* Garbage sent to a server endpoint or a listening port is refused, never delivered. */
TEST_F(ep, forged_requests_refused)
{
	struct xseg_request *req;
	struct xseg_idc_hello *h;
	void *data;
	__u64 len;
	int before = self->sc.msgs + self->sc.txns;

	/* unknown op on the connection (right epoch, right source) */
	ASSERT_EQ(0, xseg_get_request(self->cx, self->ep.port, self->ep.rport, &req));
	req->op = XSEG_OP_READ;
	req->offset = self->ep.epoch;
	ASSERT_LE(0, xseg_submit(self->cx, req));
	/* a message whose size exceeds its buffer */
	ASSERT_EQ(0, xseg_get_request(self->cx, self->ep.port, self->ep.rport, &req));
	ASSERT_EQ(0, xseg_prep_request(self->cx, req, 0, 8));
	req->op = XSEG_OP_IDC_MSG;
	req->offset = self->ep.epoch;
	req->size = 1 << 20;
	ASSERT_LE(0, xseg_submit(self->cx, req));
	/* a transaction whose status room exceeds the quota */
	ASSERT_EQ(0, xseg_get_request(self->cx, self->ep.port, self->ep.rport, &req));
	ASSERT_EQ(0, xseg_prep_request(self->cx, req, 0, 2 * XSEG_IDC_DEF_SIZE));
	req->op = XSEG_OP_IDC_TXN;
	req->offset = self->ep.epoch;
	req->size = 8;
	ASSERT_LE(0, xseg_submit(self->cx, req));
	/* CONNECTs with a bad hello, and a non-CONNECT, to the listening port */
	ASSERT_EQ(0, xseg_get_request(self->cx, self->ep.port, self->svc.port, &req));
	req->op = XSEG_OP_IDC_CONNECT;
	ASSERT_LE(0, xseg_submit(self->cx, req));
	ASSERT_EQ(0, xseg_get_request(self->cx, self->ep.port, self->svc.port, &req));
	ASSERT_EQ(0, xseg_prep_request(self->cx, req, 0, sizeof(*h)));
	ASSERT_EQ(0, xseg_req_data(self->cx, req, &data, &len));
	h = data;
	memset(h, 0, sizeof(*h));
	h->epoch = 1;
	h->quota = 1000;
	h->max_size = 1;
	req->op = XSEG_OP_IDC_CONNECT;
	ASSERT_LE(0, xseg_submit(self->cx, req));
	ASSERT_EQ(0, xseg_get_request(self->cx, self->ep.port, self->svc.port, &req));
	req->op = XSEG_OP_IDC_MSG;
	ASSERT_LE(0, xseg_submit(self->cx, req));
	RUN_UNTIL(&self->s, &self->c, 0, 200);
	EXPECT_EQ(before, self->sc.msgs + self->sc.txns);
	EXPECT_EQ(1, self->sc.connect);
	/* the connection is unharmed */
	EXPECT_TRUE(xseg_endpoint_connected(&self->ep));
}

/* A transaction to a service without a handler fails cleanly. */
TEST_F(ep, no_handler)
{
	static const struct xseg_endpoint_ops bare;
	struct xseg_idc_service quiet;
	struct xseg_endpoint qc[1], q;
	struct xseg_idc_transaction txn = { .params = { "x", 1 }, .complete = txn_done };
	struct xseg_idc_message msg = { .body = { "x", 1 }, .complete = msg_done };
	struct done td = {}, md = {};

	ASSERT_EQ(0, xseg_idc_service_register(&quiet, &self->s, "quiet", &bare, qc, 1, NULL));
	xseg_endpoint_create(&q, &self->c, "quiet", NULL, NULL);
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, xseg_endpoint_connected(&q), 2000));
	txn.priv = &td;
	msg.priv = &md;
	ASSERT_EQ(0, xseg_endpoint_submit_transaction(&q, &txn));
	ASSERT_EQ(0, xseg_endpoint_submit_message(&q, &msg));
	ASSERT_TRUE(RUN_UNTIL(&self->s, &self->c, td.n && md.n, 2000));
	EXPECT_EQ(-EOPNOTSUPP, txn.error);
	EXPECT_EQ(0, msg.error);
	EXPECT_EQ(0, xseg_endpoint_destroy(&q, 0) == -EINPROGRESS ?
		  !RUN_UNTIL(&self->s, &self->c, xseg_endpoint_state(&q) == XSEG_EP_DEAD, 2000) ||
		  xseg_endpoint_destroy(&q, 0) : 0);
	EXPECT_EQ(0, xseg_idc_service_unregister(&quiet, 100000));
}

/* Buffer table misuse. */
TEST_F(ep, buffer_misuse)
{
	struct xseg_idc_lbuf mem;
	struct xseg_idc_buffer buf, copy;
	struct xseg_idc_rbuf bad;
	struct xseg_idc_lbuf l = { "abc", 3 };

	ASSERT_EQ(0, xseg_idc_buffer_alloc(&self->s, 100, &mem));
	EXPECT_EQ(-EINVAL, xseg_idc_register_buffer(&self->s, &mem, 0, &buf));
	EXPECT_EQ(-EINVAL, xseg_idc_register_buffer(&self->s, &mem, 0x80, &buf));
	ASSERT_EQ(0, xseg_idc_register_buffer(&self->s, &mem, XSEG_BUF_READ, &buf));
	/* no right to write */
	EXPECT_EQ(-EACCES, xfer(&self->c, true, &buf.ref, 0, &l));
	/* a forged index */
	bad = buf.ref;
	bad.index = XSEG_IDC_BUFFERS;
	EXPECT_EQ(-EINVAL, xfer(&self->c, false, &bad, 0, &l));
	/* an offset past the window */
	EXPECT_EQ(-EFAULT, xfer(&self->c, false, &buf.ref, 99, &l));
	/* only the owner unregisters, once */
	copy = buf;
	copy.idc = &self->c;
	EXPECT_EQ(-ESTALE, xseg_idc_unregister_buffer(&copy));
	EXPECT_EQ(0, xseg_idc_unregister_buffer(&buf));
	buf.idc = &self->s;
	EXPECT_EQ(-ESTALE, xseg_idc_unregister_buffer(&buf));
	EXPECT_EQ(0, xseg_idc_buffer_free(&self->s, &mem));
	EXPECT_EQ(-EFAULT, xseg_idc_buffer_free(&self->s, &l));
}

/* ---- entries that dead peers left in the registry and the buffer table ---- */

/* The tag a peer that has died had: a child that exits at once, reaped. */
static __u64 dead_tag(void)
{
	pid_t pid = fork();

	if (!pid)
		_exit(0);
	waitpid(pid, NULL, 0);
	return (0x5eadULL << 32) | (__u32)pid;
}

static int buf_claim(struct xseg *x, struct xseg_buffer_entry *e, __u64 *deadp)
{
	return xseg_entry_claim(x, &e->state, &e->owner, XSEG_BUF_CLAIMING, deadp);
}

/* The claim step shared by both tables: a free entry, a live owner's, a dead owner's. */
TEST_F(ep, entry_claim)
{
	struct xseg_buffer_entry *e = xseg_buf_at(self->sx, XSEG_IDC_BUFFERS - 1);
	__u64 dead = dead_tag(), got = 1;

	ASSERT_EQ(XSEG_BUF_FREE, e->state);
	EXPECT_EQ(XSEG_CLAIM_FRESH, buf_claim(self->sx, e, &got));
	EXPECT_EQ(XSEG_BUF_CLAIMING, e->state);
	EXPECT_EQ(self->sx->tag, e->owner);
	EXPECT_EQ(0, got);
	/* a live owner keeps it, in any state: this peer, another one */
	EXPECT_EQ(-EBUSY, buf_claim(self->sx, e, &got));
	EXPECT_EQ(-EBUSY, buf_claim(self->cx, e, &got));
	e->state = XSEG_BUF_FREE;	/* a live claimer between its two stores */
	EXPECT_EQ(-EBUSY, buf_claim(self->cx, e, &got));
	EXPECT_EQ(self->sx->tag, e->owner);
	/* owner 0 is free whatever the state says (a torn or forged state word) */
	e->owner = 0;
	e->state = XSEG_BUF_ACTIVE;
	EXPECT_EQ(XSEG_CLAIM_FRESH, buf_claim(self->cx, e, &got));
	EXPECT_EQ(self->cx->tag, e->owner);
	EXPECT_EQ(XSEG_BUF_CLAIMING, e->state);
	/* a dead owner loses it, whatever the state */
	e->owner = dead;
	e->state = XSEG_BUF_ACTIVE;
	EXPECT_EQ(XSEG_CLAIM_TAKEOVER, buf_claim(self->cx, e, &got));
	EXPECT_EQ(dead, got);
	EXPECT_EQ(XSEG_BUF_CLAIMING, e->state);
	EXPECT_EQ(self->cx->tag, e->owner);
	/*
	 * a claimer killed after its owner CAS, before its state store, and a releaser killed
	 * after its state store, before clearing the owner, both leave (FREE, dead tag):
	 * taken over, never stuck
	 */
	e->owner = dead;
	e->state = XSEG_BUF_FREE;
	got = 0;
	EXPECT_EQ(XSEG_CLAIM_TAKEOVER, buf_claim(self->sx, e, &got));
	EXPECT_EQ(dead, got);
	EXPECT_EQ(self->sx->tag, e->owner);
	EXPECT_EQ(XSEG_BUF_CLAIMING, e->state);
	e->owner = 0;
	e->state = XSEG_BUF_FREE;
}

/* A dead peer's buffer entry is taken over, and the references to it stay dead. */
TEST_F(ep, buffer_of_dead_peer_taken_over)
{
	struct xseg_buffer_entry *e = xseg_buf_at(self->sx, 0);
	struct xseg_idc_rbuf old = { .index = 0, .gen = 5, .len = 16, .rights = XSEG_BUF_READ };
	struct xseg_idc_lbuf mem, dst;
	struct xseg_idc_buffer buf;
	char out[16];

	ASSERT_EQ(0, xseg_idc_buffer_alloc(&self->s, 100, &mem));
	/* entry 0 as a dead peer left it: active, gen 5, over the same memory */
	ASSERT_EQ(XSEG_BUF_FREE, e->state);
	e->owner = dead_tag();
	e->off = (__u8 *)mem.addr - self->sx->base;
	e->len = mem.len;
	e->rights = XSEG_BUF_RIGHTS;
	e->gen = 5;
	e->state = XSEG_BUF_ACTIVE;
	dst.addr = out;
	dst.len = sizeof(out);
	ASSERT_EQ(0, xfer(&self->c, false, &old, 0, &dst));

	ASSERT_EQ(0, xseg_idc_register_buffer(&self->s, &mem, XSEG_BUF_READ, &buf));
	EXPECT_EQ(0, buf.ref.index);
	EXPECT_EQ(self->sx->tag, e->owner);
	/* the takeover made gen even (6), registering odd again (9; 7 without the takeover) */
	EXPECT_EQ(9, buf.ref.gen);
	EXPECT_EQ(-ESTALE, xfer(&self->c, false, &old, 0, &dst));
	EXPECT_EQ(0, xfer(&self->c, false, &buf.ref, 0, &dst));
	EXPECT_EQ(0, xseg_idc_unregister_buffer(&buf));
	EXPECT_EQ(0, xseg_idc_buffer_free(&self->s, &mem));
}

/* A dead peer's registry entry goes to the next registration. */
TEST_F(ep, service_of_dead_peer_taken_over)
{
	struct xseg_service_entry *e;
	__u32 echo, ghost, idx, port;

	ASSERT_EQ(0, xseg_idc_registry_find(self->sx, SVC, &echo, &port, NULL, NULL));
	ghost = echo ? 0 : 1;		/* below every free entry */
	e = xseg_svc_at(self->sx, ghost);
	ASSERT_EQ(XSEG_SVC_FREE, e->state);
	memcpy(e->name, "ghost", sizeof("ghost"));
	e->port = 1;
	e->owner = dead_tag();
	e->state = XSEG_SVC_READY;
	EXPECT_EQ(-ENOENT, xseg_idc_lookup(self->cx, "ghost", &port));

	ASSERT_EQ(0, xseg_idc_registry_add(self->sx, "heir", 2, &idx));
	EXPECT_EQ(ghost, idx);
	EXPECT_EQ(self->sx->tag, e->owner);
	EXPECT_EQ(0, strcmp(e->name, "heir"));
	ASSERT_EQ(0, xseg_idc_lookup(self->cx, "heir", &port));
	EXPECT_EQ(2, port);
	EXPECT_EQ(0, xseg_idc_registry_del(self->sx, idx));
	EXPECT_EQ(-ENOENT, xseg_idc_lookup(self->cx, "heir", &port));
}

/* ---- peers in child processes, killed with SIGKILL ---- */

/* Shared with the children (MAP_SHARED): orders and what they saw. */
struct ctl {
	int stop_client, stop_server;
	int client_connects, client_disconnects;
	int server_ready, server_connects, server_disconnects, server_held;
	long submitted, ok, errors, bad, lost;
};

#define NSLOT	4

struct cslot {
	struct xseg_idc_transaction txn;
	__u64 seq, echo;
	int inflight;
};

static struct ctl *g_ctl;

static void ctl_inc(int *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

static void c_connect(struct xseg_endpoint *ep)
{
	ctl_inc(&g_ctl->client_connects);
}

static void c_disconnect(struct xseg_endpoint *ep)
{
	ctl_inc(&g_ctl->client_disconnects);
}

static void c_done(struct xseg_idc_transaction *txn)
{
	struct cslot *sl = txn->priv;

	if (!sl->inflight)
		__atomic_add_fetch(&g_ctl->bad, 1, __ATOMIC_SEQ_CST);	/* second completion */
	sl->inflight = 0;
	if (txn->error) {
		__atomic_add_fetch(&g_ctl->errors, 1, __ATOMIC_SEQ_CST);
		return;
	}
	if (txn->status_len != sizeof(sl->echo) || sl->echo != sl->seq)
		__atomic_add_fetch(&g_ctl->bad, 1, __ATOMIC_SEQ_CST);	/* not our answer */
	__atomic_add_fetch(&g_ctl->ok, 1, __ATOMIC_SEQ_CST);
}

static const struct xseg_endpoint_ops client_ops = {
	.connect = c_connect,
	.disconnect = c_disconnect,
};

/* A client keeping NSLOT transactions in flight until told to stop; exits 0 if none lost. */
static int run_client(void *mem, __u64 size)
{
	struct cslot slots[NSLOT] = {};
	struct xseg_endpoint ep;
	struct xseg_idc idc;
	struct xseg *x;
	__u64 seq = 0;
	long sub = 0, done;
	int i;

	if (xseg_join_mem(mem, size, &x) || xseg_idc_init(&idc, x, SIGTYPE))
		return 10;
	xseg_endpoint_create(&ep, &idc, SVC, &client_ops, NULL);
	while (!__atomic_load_n(&g_ctl->stop_client, __ATOMIC_SEQ_CST)) {
		for (i = 0; i < NSLOT && xseg_endpoint_connected(&ep); i++) {
			struct cslot *sl = &slots[i];

			if (sl->inflight)
				continue;
			sl->seq = ++seq;
			sl->echo = 0;
			sl->txn = (struct xseg_idc_transaction){
				.params = { &sl->seq, sizeof(sl->seq) },
				.status = { &sl->echo, sizeof(sl->echo) },
				.complete = c_done, .priv = sl };
			sl->inflight = 1;
			if (xseg_endpoint_submit_transaction(&ep, &sl->txn)) {
				sl->inflight = 0;
				break;
			}
			sub++;
			__atomic_add_fetch(&g_ctl->submitted, 1, __ATOMIC_SEQ_CST);
		}
		xseg_idc_wait(&idc, 1000);
	}
	/* destroy completes everything still outstanding */
	xseg_endpoint_destroy(&ep, 3000000);
	for (i = 0; i < NSLOT; i++)
		if (slots[i].inflight)
			return 1;
	done = __atomic_load_n(&g_ctl->ok, __ATOMIC_SEQ_CST) +
	       __atomic_load_n(&g_ctl->errors, __ATOMIC_SEQ_CST);
	g_ctl->lost = sub - done;
	xseg_idc_fini(&idc);
	xseg_leave(x);
	return g_ctl->lost || g_ctl->bad ? 2 : 0;
}

/* The server: echoes transactions after holding them 0-2 ms (kills land mid-transaction). */
struct held {
	struct xseg_idc_transaction *txn;
	__u64 due;
};

static struct held s_held[4 * XSEG_IDC_MAX_QUOTA];
static int s_nheld;

static void s_connect(struct xseg_endpoint *ep)
{
	ctl_inc(&g_ctl->server_connects);
}

static void s_disconnect(struct xseg_endpoint *ep)
{
	ctl_inc(&g_ctl->server_disconnects);
}

static void s_txn(struct xseg_endpoint *ep, struct xseg_idc_transaction *txn)
{
	__u64 n = txn->params.len < txn->status.len ? txn->params.len : txn->status.len;

	memcpy(txn->status.addr, txn->params.addr, n);
	txn->status_len = n;
	s_held[s_nheld].txn = txn;
	s_held[s_nheld].due = now_ms() + rand() % 3;
	s_nheld++;
	__atomic_store_n(&g_ctl->server_held, s_nheld, __ATOMIC_SEQ_CST);
}

static const struct xseg_endpoint_ops server_ops = {
	.connect = s_connect,
	.disconnect = s_disconnect,
	.handle_transaction = s_txn,
};

static int run_server(void *mem, __u64 size)
{
	struct xseg_endpoint conns[4];
	struct xseg_idc_service svc;
	struct xseg_idc idc;
	struct xseg *x;
	__u64 end = now_ms() + 5000;
	int i;

	srand(getpid());
	if (xseg_join_mem(mem, size, &x) || xseg_idc_init(&idc, x, SIGTYPE))
		return 10;
	/* the name of a killed predecessor is free once its death is seen */
	while (xseg_idc_service_register(&svc, &idc, SVC, &server_ops, conns, 4, NULL)) {
		if (now_ms() > end)
			return 11;
		usleep(1000);
	}
	__atomic_store_n(&g_ctl->server_ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&g_ctl->stop_server, __ATOMIC_SEQ_CST)) {
		xseg_idc_wait(&idc, 1000);
		for (i = 0; i < s_nheld; i++) {
			if (s_held[i].due > now_ms())
				continue;
			xseg_idc_transaction_complete(s_held[i].txn, 0);
			s_held[i--] = s_held[--s_nheld];
		}
	}
	while (s_nheld)
		xseg_idc_transaction_complete(s_held[--s_nheld].txn, 0);
	xseg_idc_service_unregister(&svc, 2000000);
	xseg_idc_fini(&idc);
	xseg_leave(x);
	return 0;
}

static pid_t spawn(int (*fn)(void *, __u64), void *mem, __u64 size)
{
	pid_t pid = fork();

	if (!pid) {
		/* a failed assertion ends the test process: its peers must not outlive it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(fn(mem, size));
	}
	return pid;
}

static int reap(pid_t pid, int ms)
{
	__u64 end = now_ms() + ms;
	int st;

	while (now_ms() < end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;	/* hung */
}

static void kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#define WAIT_FOR(cond, ms) ({						\
	__u64 __end = now_ms() + (ms);					\
	bool __ok;							\
	for (;;) {							\
		__ok = (cond);						\
		if (__ok || now_ms() >= __end)				\
			break;						\
		usleep(500);						\
	}								\
	__ok;								\
})

static void dump_requests(struct xseg *x)
{
	__u32 i;

	for (i = 0; i < x->g.nr_requests; i++) {
		struct xseg_request *r = xseg_req_at(x, i);

		if (r->state == XSEG_RS_FREE)
			continue;
		printf("# request %u: state %u op %u src %u dst %u path_len %u holder %llx "
		       "result %d\n", i, r->state, r->op, r->src, r->dst, r->path_len,
		       (unsigned long long)r->holder, r->result);
	}
}

/* Requests in flight states that no ring holds under their ticket: stranded. */
static __u32 stranded_requests(struct xseg *x)
{
	__u32 i, n = 0;

	for (i = 0; i < x->g.nr_requests; i++) {
		struct xseg_request *r = xseg_req_at(x, i);

		if ((r->state == XSEG_RS_SUBMITTED || r->state == XSEG_RS_RESPONDED) &&
		    !(xseg_holder_is_ticket(r->holder) && xseg_ring_holds(x, r->holder, i)))
			n++;
	}
	return n;
}

FIXTURE(kill) {
	void *mem;
	__u64 size;
	struct ctl *ctl;
	struct xseg *x;
	__u32 free0;
};

FIXTURE_SETUP(kill)
{
	struct xseg_info info;

	self->mem = shared_segment(&self->size);
	ASSERT_NE(NULL, self->mem);
	self->ctl = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ctl);
	g_ctl = self->ctl;
	ASSERT_EQ(0, xseg_join_mem(self->mem, self->size, &self->x));
	ASSERT_EQ(0, xseg_get_info(self->x, &info));
	self->free0 = info.requests_free;
}

FIXTURE_TEARDOWN(kill)
{
	struct xseg_info info;

	__u32 stranded;

	/*
	 * Every peer is gone: whatever dead ones held is free again, wherever
	 * they were killed (a request in flight is either queued under its ticket or names its
	 * holder, see struct xseg_ring).  One still queued in a ring is ours to answer and put
	 * back: a failure too.
	 */
	xseg_reclaim(self->x);
	EXPECT_EQ(0, xseg_get_info(self->x, &info));
	stranded = stranded_requests(self->x);
	EXPECT_EQ(0, stranded);
	EXPECT_EQ(self->free0, info.requests_free);
	if (self->free0 != info.requests_free)
		dump_requests(self->x);
	EXPECT_EQ(0, info.ports_bound);
	xseg_leave(self->x);
	munmap(self->ctl, 4096);
	release_segment(self->mem, self->size);
}

static void reset_client(struct ctl *c)
{
	c->stop_client = 0;
	c->client_connects = 0;
	c->client_disconnects = 0;
	c->submitted = 0;
	c->ok = 0;
	c->errors = 0;
	c->bad = 0;
	c->lost = 0;
}

/* Runs a fresh client until it has n answers, stops it: it must exit 0 (nothing lost). */
static int check_client(struct ctl *c, void *mem, __u64 size, long n)
{
	pid_t cl;

	reset_client(c);
	cl = spawn(run_client, mem, size);
	if (!WAIT_FOR(__atomic_load_n(&c->ok, __ATOMIC_SEQ_CST) >= n, 5000)) {
		kill_reap(cl);
		return -ETIMEDOUT;
	}
	c->stop_client = 1;
	return reap(cl, 5000);
}

TEST_F_TIMEOUT(kill, server_killed_mid_transaction_then_restarted, 120)
{
	struct ctl *c = self->ctl;
	pid_t sv, cl;
	long ok;

	sv = spawn(run_server, self->mem, self->size);
	ASSERT_TRUE(WAIT_FOR(c->server_ready, 5000));
	reset_client(c);
	cl = spawn(run_client, self->mem, self->size);
	ASSERT_TRUE(WAIT_FOR(c->ok >= 50 && c->server_held > 0, 5000));
	kill_reap(sv);
	/* the outstanding transactions complete with a transport error, then a disconnect */
	ASSERT_TRUE(WAIT_FOR(c->client_disconnects >= 1 && c->errors > 0, 10000));
	c->server_ready = 0;
	sv = spawn(run_server, self->mem, self->size);
	ASSERT_TRUE(WAIT_FOR(c->server_ready, 5000));
	ok = c->ok;
	/* reconnected by itself, working again */
	ASSERT_TRUE(WAIT_FOR(c->client_connects >= 2 && c->ok > ok + 50, 20000));
	c->stop_client = 1;
	EXPECT_EQ(0, reap(cl, 5000));
	EXPECT_EQ(0, c->lost);
	EXPECT_EQ(0, c->bad);
	c->stop_server = 1;
	EXPECT_EQ(0, reap(sv, 5000));
}

TEST_F_TIMEOUT(kill, client_killed_mid_transaction, 120)
{
	struct ctl *c = self->ctl;
	pid_t sv, cl;

	sv = spawn(run_server, self->mem, self->size);
	ASSERT_TRUE(WAIT_FOR(c->server_ready, 5000));
	reset_client(c);
	cl = spawn(run_client, self->mem, self->size);
	ASSERT_TRUE(WAIT_FOR(c->ok >= 50 && c->server_held > 0, 5000));
	kill_reap(cl);
	/* the server's connection goes down by itself */
	ASSERT_TRUE(WAIT_FOR(c->server_disconnects == 1, 10000));
	/* and the service takes new clients */
	EXPECT_EQ(0, check_client(c, self->mem, self->size, 20));
	EXPECT_EQ(2, c->server_connects);
	c->stop_server = 1;
	EXPECT_EQ(0, reap(sv, 5000));
}

/*
 * kill -9 of either side at a random point, XSEG_EP_KILL_ITERS times (default 100: about 5 s
 * natively; the timeout leaves room for ASan and valgrind on a loaded machine).
 */
TEST_F_TIMEOUT(kill, random_kills, 600)
{
	const char *env = getenv("XSEG_EP_KILL_ITERS");
	int iters = env ? atoi(env) : 100;
	struct ctl *c = self->ctl;
	int i, srv_kills = 0, cl_kills = 0;
	pid_t sv = 0, cl;

	srand(time(NULL));
	for (i = 0; i < iters; i++) {
		if (!sv) {
			c->server_ready = 0;
			sv = spawn(run_server, self->mem, self->size);
			ASSERT_TRUE(WAIT_FOR(c->server_ready, 5000));
		}
		reset_client(c);
		cl = spawn(run_client, self->mem, self->size);
		usleep(rand() % 30000);
		if (rand() % 2) {
			kill_reap(sv);
			sv = 0;
			srv_kills++;
			c->server_ready = 0;
			sv = spawn(run_server, self->mem, self->size);
			ASSERT_TRUE(WAIT_FOR(c->server_ready, 5000));
			/* the surviving client reconnects, completes more, loses nothing */
			{
				long ok = c->ok;

				ASSERT_TRUE(WAIT_FOR(c->ok > ok + 5, 5000)) {
					TH_LOG("round %d: client did not recover", i);
				}
			}
			c->stop_client = 1;
			ASSERT_EQ(0, reap(cl, 5000)) {
				TH_LOG("round %d: client lost %ld, bad %ld", i, c->lost, c->bad);
			}
		} else {
			kill_reap(cl);
			cl_kills++;
			/* a new client gets served, loses nothing */
			ASSERT_EQ(0, check_client(c, self->mem, self->size, 5)) {
				TH_LOG("round %d: new client failed", i);
			}
		}
	}
	c->stop_server = 1;
	EXPECT_EQ(0, reap(sv, 5000));
	printf("# %d rounds: %d server kills, %d client kills\n", iters, srv_kills, cl_kills);
}

TEST_HARNESS_MAIN
