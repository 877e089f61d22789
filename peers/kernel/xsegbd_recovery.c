// SPDX-License-Identifier: GPL-2.0
/*
 * xsegbd recovery: the server's death, its replacement, and giving up.
 *
 * A per-device watchdog (delayed work, every XSEGBD_WATCH_MS, kicked early by the timeout
 * handler and by -EPIPE replies) looks at the owner of the server port:
 *
 *  running:    owner bound, alive and the one we talked to -> nothing to do but re-send
 *              commands that waited for segment resources.  Otherwise the server died (or
 *              was replaced behind our back): -> recovering.
 *  entering recovery: xseg_reclaim() frees the dead peer's port and answers the requests it
 *              was serving with -EPIPE; then, if the port is still free, xsegbd binds it for
 *              a moment and answers every request still queued to it with -EPIPE too, so
 *              that no request submitted to the dead server can be served later by its
 *              successor (which could reorder a stale write after a newer one).  Replies
 *              with -EPIPE put their commands back to WAITING.
 *  recovering: I/O waits (blk-mq timeouts are reset).  A live owner on the port within the
 *              recovery window -> running: every unanswered command is sent again as a fresh
 *              xseg request with a new generation; xseg requests that never came back (lost
 *              inside the dead peer: popped from the ring but never marked served) are
 *              abandoned and counted ("stranded" in the stats attribute); if one ever does
 *              come back, its old generation makes it stale and it is put.  Window over ->
 *              failed: every pending and new I/O fails with -EIO.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>

#include <xseg/inspect.h>

#include "xsegbd.h"

#define XSEGBD_DRAIN_MAX	65536U	/* requests answered per drain, at most */

/* Is the server port bound to a live peer?  *ownerp: its tag.  Process context. */
bool xsegbd_server_alive(struct xsegbd_dev *dev, u64 *ownerp)
{
	struct xseg_port_info info;
	const u32 want = XSEG_PORT_INFO_BOUND | XSEG_PORT_INFO_ALIVE;

	if (xseg_get_port_info(dev->xseg, dev->server_port, &info))
		return false;
	if (ownerp)
		*ownerp = info.owner;
	return (info.flags & want) == want;
}

void xsegbd_kick_watchdog(struct xsegbd_dev *dev)
{
	unsigned long flags;

	spin_lock_irqsave(&dev->lock, flags);
	if (!dev->stopping)
		mod_delayed_work(system_wq, &dev->watchdog, 0);
	spin_unlock_irqrestore(&dev->lock, flags);
}

/* Answers every request queued to the (free) server port with -EPIPE. */
static void xsegbd_drain_server_port(struct xsegbd_dev *dev)
{
	struct xseg *xseg = dev->xseg;
	struct xseg_request *req;
	unsigned int n;
	int ret;

	if (xseg_bind_port(xseg, dev->server_port, NULL) != (int)dev->server_port)
		return;	/* a new server got there first: it serves them */
	for (n = 0; n < XSEGBD_DRAIN_MAX; n++) {
		ret = xseg_accept(xseg, dev->server_port, &req);
		if (ret == -EAGAIN)
			break;
		if (ret)
			continue;
		WRITE_ONCE(req->result, -EPIPE);
		WRITE_ONCE(req->serviced, 0);
		ret = xseg_respond(xseg, req);
		if (ret >= 0)
			xseg_signal(xseg, ret);
	}
	xseg_leave_port(xseg, dev->server_port);
}

static void xsegbd_enter_recovery(struct xsegbd_dev *dev, u64 owner)
{
	spin_lock_irq(&dev->lock);
	dev->state = XSEGBD_RECOVERING;
	dev->recover_deadline = jiffies + (unsigned long)dev->recovery_window * HZ;
	spin_unlock_irq(&dev->lock);
	pr_warn("xsegbd%d: server on port %u (peer %llx) is gone: recovering for %u s\n",
		dev->id, dev->server_port, dev->server_owner, dev->recovery_window);
	xseg_reclaim(dev->xseg);
	xsegbd_drain_server_port(dev);
}

static void xsegbd_recovered(struct xsegbd_dev *dev, u64 owner)
{
	spin_lock_irq(&dev->lock);
	dev->state = XSEGBD_RUNNING;
	dev->server_owner = owner;
	spin_unlock_irq(&dev->lock);
	pr_info("xsegbd%d: new server on port %u (peer %llx): re-sending pending I/O\n",
		dev->id, dev->server_port, owner);
	xsegbd_reissue_all(dev, true);
}

static void xsegbd_give_up(struct xsegbd_dev *dev)
{
	spin_lock_irq(&dev->lock);
	dev->state = XSEGBD_FAILED;
	spin_unlock_irq(&dev->lock);
	pr_err("xsegbd%d: no server on port %u within %u s: failing I/O\n", dev->id,
	       dev->server_port, dev->recovery_window);
	xsegbd_fail_all(dev);
}

void xsegbd_watchdog_fn(struct work_struct *work)
{
	struct xsegbd_dev *dev = container_of(to_delayed_work(work), struct xsegbd_dev,
					      watchdog);
	enum xsegbd_state state;
	unsigned long deadline;
	u64 owner = 0, known;
	bool alive;

	alive = xsegbd_server_alive(dev, &owner);
	spin_lock_irq(&dev->lock);
	state = dev->state;
	known = dev->server_owner;
	spin_unlock_irq(&dev->lock);

	if (state == XSEGBD_RUNNING) {
		if (alive && owner == known) {
			xsegbd_reissue_all(dev, false);
			goto rearm;
		}
		xsegbd_enter_recovery(dev, owner);
		state = XSEGBD_RECOVERING;
		alive = xsegbd_server_alive(dev, &owner);
	}
	if (state == XSEGBD_RECOVERING) {
		spin_lock_irq(&dev->lock);
		deadline = dev->recover_deadline;
		spin_unlock_irq(&dev->lock);
		if (alive)
			xsegbd_recovered(dev, owner);
		else if (time_after_eq(jiffies, deadline))
			xsegbd_give_up(dev);
	} else if (state == XSEGBD_FAILED) {
		xsegbd_fail_all(dev);
	}
rearm:
	spin_lock_irq(&dev->lock);
	if (!dev->stopping && dev->state != XSEGBD_FAILED)
		queue_delayed_work(system_wq, &dev->watchdog, msecs_to_jiffies(XSEGBD_WATCH_MS));
	spin_unlock_irq(&dev->lock);
}
