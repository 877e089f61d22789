// SPDX-License-Identifier: GPL-2.0
/*
 * xseg_kpeer: a kernel test peer on a segdev segment, driven by kpeer_test.c and
 * scribble_test.c.
 *
 * At load it joins the xseg segment in the segdev segment "segment" and binds two ports:
 *  - port_wq with a "waitqueue" descriptor, served by a kthread;
 *  - port_cb with a "callback" descriptor, served in the callback.
 * Both echo every request: result 0, serviced = size, and for XSEG_OP_READ the data buffer
 * filled with xseg_kpeer_pattern(offset + i) in each 8-byte word i.  The kthread also sends
 * "k2k" READ requests of 512 bytes from port_wq to port_cb (kernel -> callback) and gets
 * the replies back on port_wq (callback -> waitqueue), checking them.  Before that traffic
 * it sleeps KPEER_WAKE_ROUNDS times on its waitqueue descriptor with a long timeout while a
 * delayed work item signals port_wq from kernel context: "k2k_wakes" counts the rounds
 * that ended by that wake (under load the traffic itself may never let the kthread sleep).
 *
 * With k2k_dst set to another port (a user peer's, typically 0) the kthread's requests go
 * there instead: kernel requester -> user server, as xsegbd does.  Replies to user ports are
 * signalled whatever the user bound there: a "futex" or "sigio" descriptor makes them the
 * kernel -> user cells of the signal matrix; with atomic_signal=1 every signal the peer sends
 * is sent with interrupts off, the strictest context a block driver's ->queue_rq() may have.
 * "user_signals", "user_skipped", "user_overflows" and "user_errors" are the handle's kernel
 * -> user signal counters (struct xseg_kstats).
 *
 * The segment is untrusted: anything odd in it is counted in "faults", never fatal.
 * Counters are read-only module parameters (/sys/module/xseg_kpeer/parameters/).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include <xseg/xseg_kernel.h>

#define KPEER_K2K_SIZE		512
#define KPEER_K2K_DEPTH		16
#define KPEER_BUDGET		256
#define KPEER_WAIT_USEC		100000
#define KPEER_WAKE_ROUNDS	20
#define KPEER_WAKE_WAIT_USEC	5000000

static char *segment_name;
module_param_named(segment, segment_name, charp, 0444);
MODULE_PARM_DESC(segment, "Name of the segdev segment to join (required)");

static uint port_wq = 1;
module_param(port_wq, uint, 0444);
MODULE_PARM_DESC(port_wq, "Port served by the waitqueue kthread (default: 1)");

static uint port_cb = 2;
module_param(port_cb, uint, 0444);
MODULE_PARM_DESC(port_cb, "Port served by the callback (default: 2)");

static ulong k2k;
module_param(k2k, ulong, 0444);
MODULE_PARM_DESC(k2k, "Kernel-to-kernel requests to send from port_wq to port_cb (default: 0)");

static uint k2k_dst = UINT_MAX;
module_param(k2k_dst, uint, 0444);
MODULE_PARM_DESC(k2k_dst, "Port the k2k requests go to (default: port_cb)");

/* writable: xseg-bench changes it between cases (a module reload costs seconds under TCG) */
static uint reply_delay_us;
module_param(reply_delay_us, uint, 0644);
MODULE_PARM_DESC(reply_delay_us,
		 "Sleep this long before each reply, so that a ping-pong partner is asleep (default: 0, writable)");

static bool atomic_signal;
module_param(atomic_signal, bool, 0444);
MODULE_PARM_DESC(atomic_signal, "Send every signal with interrupts off (default: 0)");

static bool leave_race;
module_param(leave_race, bool, 0444);
MODULE_PARM_DESC(leave_race,
		 "At load, leave a second handle while its callback runs (default: 0)");

/* leave_race: callback calls, and calls that started after xseg_leave() returned */
static ulong race_calls;
module_param(race_calls, ulong, 0444);
static ulong race_late;
module_param(race_late, ulong, 0444);

/* Counters (read-only).  Each has one writer: the kthread (_wq, k2k_*) or the callback. */
static ulong served_wq;
module_param(served_wq, ulong, 0444);
MODULE_PARM_DESC(served_wq, "Requests echoed on port_wq");
static ulong served_cb;
module_param(served_cb, ulong, 0444);
MODULE_PARM_DESC(served_cb, "Requests echoed on port_cb");
static ulong k2k_done;
module_param(k2k_done, ulong, 0444);
MODULE_PARM_DESC(k2k_done, "Kernel-to-kernel replies received and correct");
static ulong k2k_bad;
module_param(k2k_bad, ulong, 0444);
MODULE_PARM_DESC(k2k_bad, "Kernel-to-kernel replies received and wrong");
static ulong faults_wq;
module_param(faults_wq, ulong, 0444);
MODULE_PARM_DESC(faults_wq, "Errors seen by the kthread (bad segment contents)");
static ulong faults_cb;
module_param(faults_cb, ulong, 0444);
MODULE_PARM_DESC(faults_cb, "Errors seen by the callback (bad segment contents)");
static ulong wakeups;
module_param(wakeups, ulong, 0444);
MODULE_PARM_DESC(wakeups, "Times the kthread returned from xseg_wait_signal() early");
static ulong k2k_wakes;
module_param(k2k_wakes, ulong, 0444);
MODULE_PARM_DESC(k2k_wakes, "Sleeps ended by a kernel sender's signal (of KPEER_WAKE_ROUNDS)");
static ulong callbacks;
module_param(callbacks, ulong, 0444);
MODULE_PARM_DESC(callbacks, "Callback invocations");

static struct xseg *kpeer_xseg;
static struct xseg_sd *kpeer_sd_wq, *kpeer_sd_cb;
static struct task_struct *kpeer_thread;

/* The handle's counters of signals to user receivers, read when the file is read. */
static int kpeer_kstat_get(char *buf, const struct kernel_param *kp)
{
	struct xseg_kstats st;
	u64 v;

	if (!kpeer_xseg || xseg_kernel_stats(kpeer_xseg, &st))
		return sysfs_emit(buf, "-1\n");
	switch ((unsigned long)kp->arg) {
	case 0:
		v = st.user_signals;
		break;
	case 1:
		v = st.user_skipped;
		break;
	case 2:
		v = st.user_overflows;
		break;
	default:
		v = st.user_errors;
		break;
	}
	return sysfs_emit(buf, "%llu\n", v);
}

static const struct kernel_param_ops kpeer_kstat_ops = {
	.get = kpeer_kstat_get,
};

module_param_cb(user_signals, &kpeer_kstat_ops, (void *)0UL, 0444);
MODULE_PARM_DESC(user_signals, "Signals sent to user receivers (futex kicks, sigio)");
module_param_cb(user_skipped, &kpeer_kstat_ops, (void *)1UL, 0444);
MODULE_PARM_DESC(user_skipped, "Futex receivers found spinning: no kick needed");
module_param_cb(user_overflows, &kpeer_kstat_ops, (void *)2UL, 0444);
MODULE_PARM_DESC(user_overflows, "User receivers' signal queue overflows");
module_param_cb(user_errors, &kpeer_kstat_ops, (void *)3UL, 0444);
MODULE_PARM_DESC(user_errors, "Signals to user receivers that failed (no registration...)");

/*
 * xseg_signal(), with interrupts off if atomic_signal is set (any context must do).  The
 * first signal to each port is sent with interrupts on: xseg_signal() may take the handle's
 * mutex the first time it meets a signal type (it resolves the type and sets it up for
 * sending).  Callers run in process context (the kthread, the callback's work item).
 */
static int kpeer_signal(u32 port)
{
	static unsigned long seen[BITS_TO_LONGS(64)];
	unsigned long flags;
	int ret;

	if (!atomic_signal || port >= 64 || !test_bit(port, seen)) {
		ret = xseg_signal(kpeer_xseg, port);
		if (port < 64 && ret != -EINVAL)
			set_bit(port, seen);
		return ret;
	}
	local_irq_save(flags);
	ret = xseg_signal(kpeer_xseg, port);
	local_irq_restore(flags);
	return ret;
}

static inline u64 xseg_kpeer_pattern(u64 pos)
{
	return pos * 0x9e3779b97f4a7c15ULL + 0x5bd1e995;
}

static void kpeer_inc(ulong *counter)
{
	WRITE_ONCE(*counter, READ_ONCE(*counter) + 1);
}

/* Fills a READ's buffer; every value from the segment is read once into a local. */
static int kpeer_fill(struct xseg_request *req, u64 offset, u64 size)
{
	u64 *data, len, i;
	void *buf;
	int ret;

	ret = xseg_req_data(kpeer_xseg, req, &buf, &len);
	if (ret)
		return ret;
	/* xseg_req_data() validated [buf, buf + len) inside the heap */
	len = min(len, size) / sizeof(u64);
	data = buf;
	for (i = 0; i < len; i++)
		data[i] = xseg_kpeer_pattern(offset + i * sizeof(u64));
	return 0;
}

/* Echoes up to budget requests of port; returns how many it took off the ring. */
static unsigned int kpeer_serve(u32 port, ulong *served, ulong *faults)
{
	struct xseg_request *req;
	unsigned int n;
	uint delay;
	int ret;

	for (n = 0; n < KPEER_BUDGET; n++) {
		u64 offset, size;
		u32 op;

		ret = xseg_accept(kpeer_xseg, port, &req);
		if (ret == -EAGAIN)
			break;
		delay = READ_ONCE(reply_delay_us);
		if (delay)
			usleep_range(delay, delay + delay / 4 + 1);
		if (ret) {
			kpeer_inc(faults);
			continue;
		}
		op = READ_ONCE(req->op);
		offset = READ_ONCE(req->offset);
		size = READ_ONCE(req->size);
		ret = 0;
		if (op == XSEG_OP_READ)
			ret = kpeer_fill(req, offset, size);
		WRITE_ONCE(req->result, ret);
		WRITE_ONCE(req->serviced, ret ? 0 : size);
		ret = xseg_respond(kpeer_xseg, req);
		if (ret < 0) {
			kpeer_inc(faults);
			continue;
		}
		kpeer_signal(ret);
		kpeer_inc(served);
	}
	return n;
}

/* The callback of port_cb: work item context, see <xseg/xseg_kernel.h>. */
static void kpeer_callback(void *priv, unsigned int ctx)
{
	kpeer_inc(&callbacks);
	if (kpeer_serve(port_cb, &served_cb, &faults_cb) == KPEER_BUDGET)
		/* more left: come back through our own signal instead of looping here */
		kpeer_signal(port_cb);
}

static bool kpeer_check_reply(struct xseg_request *req)
{
	u64 offset = READ_ONCE(req->offset), *data, len;
	void *buf;

	if (READ_ONCE(req->result) || READ_ONCE(req->serviced) != KPEER_K2K_SIZE)
		return false;
	if (xseg_req_data(kpeer_xseg, req, &buf, &len) || len < KPEER_K2K_SIZE)
		return false;
	data = buf;
	return READ_ONCE(data[0]) == xseg_kpeer_pattern(offset) &&
	       READ_ONCE(data[KPEER_K2K_SIZE / 8 - 1]) ==
	       xseg_kpeer_pattern(offset + KPEER_K2K_SIZE - 8);
}

/* Sends and collects kernel-to-kernel requests; returns the work done. */
static unsigned int kpeer_k2k(ulong *sent, unsigned int *inflight)
{
	struct xseg_request *req;
	unsigned int n = 0;
	int ret;

	while (*inflight && n < KPEER_BUDGET) {
		ret = xseg_receive(kpeer_xseg, port_wq, &req);
		if (ret == -EAGAIN)
			break;
		n++;
		if (ret) {
			kpeer_inc(&faults_wq);
			continue;
		}
		(*inflight)--;
		kpeer_inc(kpeer_check_reply(req) ? &k2k_done : &k2k_bad);
		if (xseg_put_request(kpeer_xseg, req))
			kpeer_inc(&faults_wq);
	}
	while (*sent < k2k && *inflight < KPEER_K2K_DEPTH) {
		if (xseg_get_request(kpeer_xseg, port_wq, k2k_dst, &req))
			break;
		if (xseg_prep_request(kpeer_xseg, req, 0, KPEER_K2K_SIZE)) {
			xseg_put_request(kpeer_xseg, req);
			kpeer_inc(&faults_wq);
			break;
		}
		req->op = XSEG_OP_READ;
		req->offset = (u64)*sent * KPEER_K2K_SIZE;
		req->size = KPEER_K2K_SIZE;
		if (xseg_submit(kpeer_xseg, req) < 0) {
			xseg_put_request(kpeer_xseg, req);
			kpeer_inc(&faults_wq);
			break;
		}
		kpeer_signal(k2k_dst);
		(*sent)++;
		(*inflight)++;
		n++;
	}
	return n;
}

/* Process context (system_wq): a kernel sender signalling the kthread's port. */
static void kpeer_wake_fn(struct work_struct *work)
{
	xseg_signal(kpeer_xseg, port_wq);
}

static DECLARE_DELAYED_WORK(kpeer_wake_work, kpeer_wake_fn);

/*
 * Kernel sender -> waitqueue receiver, with the receiver surely asleep: arm, have the work
 * item signal in 5 ms, sleep for at most 5 s.  Arming before scheduling the work means the
 * signal cannot be suppressed; a wake that comes before the sleep is recorded by the type.
 */
static void kpeer_wake_rounds(void)
{
	unsigned int i;

	for (i = 0; i < KPEER_WAKE_ROUNDS && !kthread_should_stop(); i++) {
		xseg_prepare_wait(kpeer_sd_wq);
		schedule_delayed_work(&kpeer_wake_work, msecs_to_jiffies(5));
		if (!xseg_wait_signal(kpeer_sd_wq, KPEER_WAKE_WAIT_USEC))
			kpeer_inc(&k2k_wakes);
		xseg_cancel_wait(kpeer_sd_wq);
		flush_delayed_work(&kpeer_wake_work);
	}
}

static int kpeer_thread_fn(void *unused)
{
	unsigned int inflight = 0;
	ulong sent = 0;

	if (k2k)
		kpeer_wake_rounds();

	while (!kthread_should_stop()) {
		unsigned int n;

		xseg_prepare_wait(kpeer_sd_wq);
		n = kpeer_serve(port_wq, &served_wq, &faults_wq);
		n += kpeer_k2k(&sent, &inflight);
		if (!n && !xseg_wait_signal(kpeer_sd_wq, KPEER_WAIT_USEC))
			kpeer_inc(&wakeups);
		xseg_cancel_wait(kpeer_sd_wq);
		cond_resched();
	}
	return 0;
}

/*
 * leave_race: a callback that sleeps, then uses its descriptor (xseg_kcallback_kick(), as
 * xsegbd's reply callback does at its budget) and so runs again and again.  The handle is
 * left while it sleeps: xseg_leave() must wait for it before it frees the descriptor (else
 * the kick reads freed memory: slub_debug's poison, an oops), and it must never run after.
 */
static struct xseg_sd *race_sd;
static bool race_left;

static void kpeer_race_callback(void *priv, unsigned int ctx)
{
	WRITE_ONCE(race_calls, race_calls + 1);
	if (READ_ONCE(race_left))
		WRITE_ONCE(race_late, race_late + 1);
	msleep(100);
	xseg_kcallback_kick(race_sd);
}

static int kpeer_leave_race(void)
{
	struct xseg *x;
	int i, ret;

	ret = xseg_kernel_join(segment_name, &x);
	if (ret)
		return ret;
	ret = xseg_local_signal_init(x, XSEG_SIGNAL_CALLBACK);
	if (!ret)
		ret = xseg_get_signal_desc(x, XSEG_SIGNAL_CALLBACK, &race_sd);
	if (!ret)	/* queues the first call */
		ret = xseg_kcallback_set(race_sd, kpeer_race_callback, NULL, 0);
	/* leave while the callback sleeps */
	for (i = 0; !ret && !READ_ONCE(race_calls) && i < 500; i++)
		usleep_range(10000, 20000);
	xseg_leave(x);
	WRITE_ONCE(race_left, true);
	msleep(300);
	pr_info("leave_race: %lu callback calls, %lu after leaving\n", race_calls, race_late);
	return ret;
}

static int __init xseg_kpeer_init(void)
{
	int ret;

	if (!segment_name)
		return -EINVAL;
	if (leave_race) {
		ret = kpeer_leave_race();
		if (ret)
			return ret;
	}
	if (k2k_dst == UINT_MAX)
		k2k_dst = port_cb;
	ret = xseg_kernel_join(segment_name, &kpeer_xseg);
	if (ret) {
		pr_err("cannot join segment %s: %d\n", segment_name, ret);
		return ret;
	}
	ret = xseg_local_signal_init(kpeer_xseg, XSEG_SIGNAL_WAITQUEUE);
	if (ret)
		goto err_leave;
	ret = xseg_local_signal_init(kpeer_xseg, XSEG_SIGNAL_CALLBACK);
	if (ret)
		goto err_leave;
	ret = xseg_get_signal_desc(kpeer_xseg, XSEG_SIGNAL_WAITQUEUE, &kpeer_sd_wq);
	if (ret)
		goto err_leave;
	ret = xseg_get_signal_desc(kpeer_xseg, XSEG_SIGNAL_CALLBACK, &kpeer_sd_cb);
	if (ret)
		goto err_leave;
	ret = xseg_bind_port(kpeer_xseg, port_wq, kpeer_sd_wq);
	if (ret < 0)
		goto err_leave;
	ret = xseg_bind_port(kpeer_xseg, port_cb, kpeer_sd_cb);
	if (ret < 0)
		goto err_leave;
	/* sets both types up for sending now, so the callback never does it (may sleep) */
	xseg_signal(kpeer_xseg, port_wq);
	xseg_signal(kpeer_xseg, port_cb);
	ret = xseg_kcallback_set(kpeer_sd_cb, kpeer_callback, NULL, 0);
	if (ret)
		goto err_leave;
	kpeer_thread = kthread_run(kpeer_thread_fn, NULL, "xseg_kpeer");
	if (IS_ERR(kpeer_thread)) {
		ret = PTR_ERR(kpeer_thread);
		goto err_clear;
	}
	pr_info("serving segment %s: port %u (waitqueue), port %u (callback)\n", segment_name,
		port_wq, port_cb);
	return 0;

err_clear:
	xseg_kcallback_clear(kpeer_sd_cb);
err_leave:
	pr_err("setting up segment %s failed: %d\n", segment_name, ret);
	/* puts the descriptors, leaves the ports, quits the types */
	xseg_leave(kpeer_xseg);
	return ret;
}

static void __exit xseg_kpeer_exit(void)
{
	kthread_stop(kpeer_thread);
	cancel_delayed_work_sync(&kpeer_wake_work);
	xseg_kcallback_clear(kpeer_sd_cb);
	xseg_leave(kpeer_xseg);
	pr_info("left segment %s: served %lu + %lu, k2k %lu ok %lu bad, faults %lu + %lu\n",
		segment_name, served_wq, served_cb, k2k_done, k2k_bad, faults_wq, faults_cb);
}

module_init(xseg_kpeer_init);
module_exit(xseg_kpeer_exit);

MODULE_DESCRIPTION("xseg kernel test peer (waitqueue and callback signal types)");
MODULE_AUTHOR("xseg developers");
MODULE_LICENSE("GPL");
