// SPDX-License-Identifier: GPL-2.0
/*
 * xseg_idc_kpeer: the endpoint API (<xseg/idc.h>) in the kernel, driven by idc_cross.sh.
 *
 * At load it joins the xseg segment in the segdev segment "segment" and starts a kthread
 * that drives one xseg_idc (signal type "waitqueue"):
 *  - with serve=NAME it registers an echo service NAME (kernel service, user clients);
 *  - with connect=NAME it creates an endpoint to the service NAME (kernel client, user
 *    service) and runs "count" transactions through it, NR_INFLIGHT at a time, each one's
 *    8-byte parameter a sequence number the answer must echo.
 * Counters are read-only module parameters (/sys/module/xseg_idc_kpeer/parameters/).
 *
 * The segment is untrusted: the endpoint code validates everything it reads; a wrong answer
 * is counted in txn_bad, never trusted.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/string.h>

#include <xseg/idc.h>
#include <xseg/xseg_kernel.h>

#define KIDC_INFLIGHT	4
#define KIDC_CONNS	4
#define KIDC_WAIT_USEC	20000
#define KIDC_DESTROY_US	2000000

static char *segment_name;
module_param_named(segment, segment_name, charp, 0444);
MODULE_PARM_DESC(segment, "Name of the segdev segment to join (required)");

static char *serve_name;
module_param_named(serve, serve_name, charp, 0444);
MODULE_PARM_DESC(serve, "Register an echo service under this name (default: none)");

static char *connect_name;
module_param_named(connect, connect_name, charp, 0444);
MODULE_PARM_DESC(connect, "Connect to this service and run transactions (default: none)");

static ulong count = 100;
module_param(count, ulong, 0444);
MODULE_PARM_DESC(count, "Transactions the client runs (default: 100)");

/* Counters (read-only), written by the kthread only. */
static ulong served;
module_param(served, ulong, 0444);
MODULE_PARM_DESC(served, "Transactions and messages the service answered");
static ulong txn_ok;
module_param(txn_ok, ulong, 0444);
MODULE_PARM_DESC(txn_ok, "Client transactions answered correctly");
static ulong txn_bad;
module_param(txn_bad, ulong, 0444);
MODULE_PARM_DESC(txn_bad, "Client transactions answered wrongly");
static ulong txn_err;
module_param(txn_err, ulong, 0444);
MODULE_PARM_DESC(txn_err, "Client transactions completed with an error");
static ulong connects;
module_param(connects, ulong, 0444);
MODULE_PARM_DESC(connects, "Connections established (client and service side)");
static ulong disconnects;
module_param(disconnects, ulong, 0444);
MODULE_PARM_DESC(disconnects, "Connections that went down (client and service side)");

static struct xseg *kidc_xseg;
static struct xseg_idc kidc;
static struct xseg_idc_service kidc_svc;
static struct xseg_endpoint kidc_conns[KIDC_CONNS];
static struct xseg_endpoint kidc_ep;
static struct task_struct *kidc_thread;
static bool kidc_serving, kidc_client;

struct kidc_slot {
	struct xseg_idc_transaction txn;
	u64 seq;
	u64 echo;
	bool inflight;
};

static struct kidc_slot kidc_slots[KIDC_INFLIGHT];
static u64 kidc_seq;

static void kidc_inc(ulong *counter)
{
	WRITE_ONCE(*counter, READ_ONCE(*counter) + 1);
}

static void kidc_connect(struct xseg_endpoint *ep)
{
	kidc_inc(&connects);
}

static void kidc_disconnect(struct xseg_endpoint *ep)
{
	kidc_inc(&disconnects);
}

/* The service: echo.  params and status point into the segment and were range-checked. */
static void kidc_handle_txn(struct xseg_endpoint *ep, struct xseg_idc_transaction *txn)
{
	u64 n = min(txn->params.len, txn->status.len);

	memcpy(txn->status.addr, txn->params.addr, n);
	txn->status_len = n;
	xseg_idc_transaction_complete(txn, 0);
	kidc_inc(&served);
}

static void kidc_handle_msg(struct xseg_endpoint *ep, struct xseg_idc_message *msg)
{
	xseg_idc_message_complete(msg);
	kidc_inc(&served);
}

static const struct xseg_endpoint_ops kidc_ops = {
	.connect = kidc_connect,
	.disconnect = kidc_disconnect,
	.handle_message = kidc_handle_msg,
	.handle_transaction = kidc_handle_txn,
};

static void kidc_txn_done(struct xseg_idc_transaction *txn)
{
	struct kidc_slot *sl = txn->priv;

	sl->inflight = false;
	if (txn->error)
		kidc_inc(&txn_err);
	else if (txn->status_len == sizeof(sl->echo) && sl->echo == sl->seq)
		kidc_inc(&txn_ok);
	else
		kidc_inc(&txn_bad);
}

static void kidc_submit(void)
{
	int i;

	for (i = 0; i < KIDC_INFLIGHT; i++) {
		struct kidc_slot *sl = &kidc_slots[i];

		if (sl->inflight || kidc_seq >= count || !xseg_endpoint_connected(&kidc_ep))
			continue;
		sl->seq = ++kidc_seq;
		sl->echo = 0;
		memset(&sl->txn, 0, sizeof(sl->txn));
		sl->txn.params.addr = &sl->seq;
		sl->txn.params.len = sizeof(sl->seq);
		sl->txn.status.addr = &sl->echo;
		sl->txn.status.len = sizeof(sl->echo);
		sl->txn.complete = kidc_txn_done;
		sl->txn.priv = sl;
		sl->inflight = true;
		if (xseg_endpoint_submit_transaction(&kidc_ep, &sl->txn)) {
			sl->inflight = false;
			kidc_seq--;
			break;
		}
	}
}

static int kidc_thread_fn(void *arg)
{
	while (!kthread_should_stop()) {
		if (kidc_client)
			kidc_submit();
		xseg_idc_wait(&kidc, KIDC_WAIT_USEC);
		cond_resched();
	}
	return 0;
}

static int __init xseg_idc_kpeer_init(void)
{
	int ret;

	if (!segment_name || (!serve_name && !connect_name))
		return -EINVAL;
	ret = xseg_kernel_join(segment_name, &kidc_xseg);
	if (ret) {
		pr_err("cannot join segment %s: %d\n", segment_name, ret);
		return ret;
	}
	ret = xseg_idc_init(&kidc, kidc_xseg, XSEG_SIGNAL_WAITQUEUE);
	if (ret)
		goto err_leave;
	if (serve_name) {
		ret = xseg_idc_service_register(&kidc_svc, &kidc, serve_name, &kidc_ops,
						kidc_conns, KIDC_CONNS, NULL);
		if (ret)
			goto err_fini;
		kidc_serving = true;
	}
	if (connect_name) {
		/* the client's whole set-up: the endpoint is pre-allocated, creation cannot fail */
		xseg_endpoint_create(&kidc_ep, &kidc, connect_name, &kidc_ops, NULL);
		kidc_client = true;
	}
	kidc_thread = kthread_run(kidc_thread_fn, NULL, "xseg_idc_kpeer");
	if (IS_ERR(kidc_thread)) {
		ret = PTR_ERR(kidc_thread);
		goto err_stop;
	}
	pr_info("segment %s:%s%s%s%s\n", segment_name, serve_name ? " serving " : "",
		serve_name ?: "", connect_name ? " connecting to " : "", connect_name ?: "");
	return 0;

err_stop:
	if (kidc_client)
		xseg_endpoint_destroy(&kidc_ep, KIDC_DESTROY_US);
	if (kidc_serving)
		xseg_idc_service_unregister(&kidc_svc, KIDC_DESTROY_US);
err_fini:
	xseg_idc_fini(&kidc);
err_leave:
	pr_err("setting up segment %s failed: %d\n", segment_name, ret);
	xseg_leave(kidc_xseg);
	return ret;
}

static void __exit xseg_idc_kpeer_exit(void)
{
	kthread_stop(kidc_thread);
	/* bounded: a remote that does not answer costs at most the destroy timeouts */
	if (kidc_client)
		xseg_endpoint_destroy(&kidc_ep, KIDC_DESTROY_US);
	if (kidc_serving)
		xseg_idc_service_unregister(&kidc_svc, KIDC_DESTROY_US);
	xseg_idc_fini(&kidc);
	xseg_leave(kidc_xseg);
}

module_init(xseg_idc_kpeer_init);
module_exit(xseg_idc_kpeer_exit);
MODULE_DESCRIPTION("xseg endpoint API test peer (kernel echo service and client)");
MODULE_LICENSE("GPL");
