// SPDX-License-Identifier: GPL-2.0
/*
 * xsegbd I/O: blk-mq requests -> xseg requests -> replies -> completions.
 *
 * Data copy: one memcpy per direction, between the bio pages and the xseg request's data
 * buffer in the segment heap (WRITE: bio -> buffer before submit; READ: buffer -> bio after
 * a validated reply).  The bio pages are not in the segment, and handing the server
 * pointers to kernel pages would let userspace name kernel memory; a zero-copy mode would
 * need the block layer's pages mapped into the segment (a future feature bit).
 *
 * A command (struct xsegbd_cmd, the blk-mq pdu) moves through enum xsegbd_phase under
 * dev->lock.  BUSY is held by exactly one issuer or replier, which may then sleep in the
 * xseg core and touch the request's pages; only WAITING and INFLIGHT commands can be claimed
 * for completion by the timeout handler or by a failure (xsegbd_fail_all()), so a request is
 * completed exactly once and never touched after.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/jiffies.h>

#include "xsegbd.h"

enum { XSEGBD_BUSY = XSEGBD_DONE + 1 };

static struct xsegbd_queue *xsegbd_queue_of(struct request *rq)
{
	return rq->mq_hctx->driver_data;
}

/*
 * Is the command one that may take long at the server (a FLUSH, FUA write, DISCARD or
 * WRITE_ZEROES: an fsync, a hole punch)?  Requests are not deferred behind those.
 */
static bool xsegbd_cmd_slow(const struct xsegbd_cmd *cmd)
{
	return cmd->op != XSEG_OP_READ &&
	       (cmd->op != XSEG_OP_WRITE || (cmd->xflags & XSEG_RF_FUA));
}

/* A command of q became INFLIGHT (d = 1) or stopped being so (d = -1).  Under dev->lock. */
static void xsegbd_inflight_add(struct xsegbd_queue *q, const struct xsegbd_cmd *cmd, int d)
{
	WRITE_ONCE(q->inflight, q->inflight + d);
	if (xsegbd_cmd_slow(cmd))
		WRITE_ONCE(q->slow, q->slow + d);
}

/* Claims a WAITING or INFLIGHT command for completion and takes it out of the table. */
static bool xsegbd_claim_locked(struct xsegbd_dev *dev, struct xsegbd_queue *q,
				struct request *rq)
{
	struct xsegbd_cmd *cmd = xsegbd_cmd_of(rq);

	lockdep_assert_held(&dev->lock);
	if (cmd->phase != XSEGBD_WAITING && cmd->phase != XSEGBD_INFLIGHT)
		return false;
	if (cmd->phase == XSEGBD_INFLIGHT) {
		/* the xseg request stays with the server; its reply will be stale */
		cmd->gen++;
		cmd->xreq = NULL;
		xsegbd_inflight_add(q, cmd, -1);
		atomic64_inc(&dev->stats.stranded);
	}
	cmd->phase = XSEGBD_DONE;
	q->rqs[rq->tag] = NULL;
	return true;
}

/* Completes a command that its caller owns (BUSY or claimed DONE). */
static void xsegbd_complete(struct xsegbd_dev *dev, struct request *rq, blk_status_t status)
{
	struct xsegbd_cmd *cmd = xsegbd_cmd_of(rq);

	atomic64_inc(&dev->stats.completed);
	if (status)
		atomic64_inc(&dev->stats.errors);
	cmd->status = status;
	blk_mq_complete_request(rq);
}

/* Fails a WAITING or INFLIGHT command with EIO, unless someone else claimed it first. */
static void xsegbd_fail(struct xsegbd_dev *dev, struct xsegbd_queue *q, struct request *rq)
{
	bool claimed;

	spin_lock_irq(&dev->lock);
	claimed = xsegbd_claim_locked(dev, q, rq);
	spin_unlock_irq(&dev->lock);
	if (claimed)
		xsegbd_complete(dev, rq, BLK_STS_IOERR);
}

/* The caller owns the command as BUSY: it leaves the table and completes. */
void xsegbd_finish(struct xsegbd_dev *dev, struct request *rq, blk_status_t status)
{
	struct xsegbd_cmd *cmd = xsegbd_cmd_of(rq);
	struct xsegbd_queue *q = xsegbd_queue_of(rq);

	spin_lock_irq(&dev->lock);
	cmd->phase = XSEGBD_DONE;
	q->rqs[rq->tag] = NULL;
	spin_unlock_irq(&dev->lock);
	xsegbd_complete(dev, rq, status);
}

static void xsegbd_copy_to_buf(struct request *rq, void *buf, u64 len)
{
	struct req_iterator iter;
	struct bio_vec bv;
	u64 off = 0;

	rq_for_each_segment(bv, rq, iter) {
		if (bv.bv_len > len - off)
			break;
		memcpy_from_page(buf + off, bv.bv_page, bv.bv_offset, bv.bv_len);
		off += bv.bv_len;
	}
}

static void xsegbd_copy_from_buf(struct request *rq, const void *buf, u64 len)
{
	struct req_iterator iter;
	struct bio_vec bv;
	u64 off = 0;

	rq_for_each_segment(bv, rq, iter) {
		if (bv.bv_len > len - off)
			break;
		memcpy_to_page(bv.bv_page, bv.bv_offset, buf + off, bv.bv_len);
		off += bv.bv_len;
	}
}

/* Fills the command from the block request: what the kernel will check replies against. */
static blk_status_t xsegbd_cmd_init(struct xsegbd_dev *dev, struct request *rq,
				    struct xsegbd_cmd *cmd)
{
	cmd->xflags = 0;
	cmd->offset = (u64)blk_rq_pos(rq) << SECTOR_SHIFT;
	cmd->size = blk_rq_bytes(rq);
	cmd->data_len = 0;
	switch (req_op(rq)) {
	case REQ_OP_READ:
		cmd->op = XSEG_OP_READ;
		cmd->data_len = cmd->size;
		break;
	case REQ_OP_WRITE:
		cmd->op = XSEG_OP_WRITE;
		cmd->data_len = cmd->size;
		break;
	case REQ_OP_FLUSH:
		cmd->op = XSEG_OP_FLUSH;
		cmd->offset = 0;
		cmd->size = 0;
		break;
	case REQ_OP_DISCARD:
		cmd->op = XSEG_OP_DISCARD;
		break;
	case REQ_OP_WRITE_ZEROES:
		cmd->op = XSEG_OP_WRITE_ZEROES;
		break;
	default:
		return BLK_STS_NOTSUPP;
	}
	if (rq->cmd_flags & REQ_FUA)
		cmd->xflags |= XSEG_RF_FUA;
	if (cmd->data_len > dev->max_io)
		return BLK_STS_IOERR;
	cmd->reissues = 0;
	cmd->xreq = NULL;
	cmd->data = NULL;
	return BLK_STS_OK;
}

/*
 * Sends a fresh xseg request for a command its caller made BUSY (from WAITING, first issue
 * or re-issue) and, with kick, signals the server (blk-mq's bd->last: one signal per
 * batch).  Returns 0
 * when sent, when the command is no longer ours to send, or when the server died meanwhile
 * (the command is WAITING for the recovery); -EAGAIN when the segment has no
 * free request or buffer (the command is WAITING again); another -errno when the request
 * cannot be built (the command is WAITING again; the caller fails it).
 */
static int xsegbd_issue_busy(struct xsegbd_dev *dev, struct xsegbd_queue *q, struct request *rq,
			     bool kick)
{
	struct xsegbd_cmd *cmd = xsegbd_cmd_of(rq);
	struct xseg *xseg = dev->xseg;
	struct xseg_request *req;
	char *target;
	void *data = NULL;
	u64 dlen = 0;
	u32 tlen;
	int ret;

	ret = xseg_get_request(xseg, q->port, dev->server_port, &req);
	if (ret)
		goto err_waiting;
	ret = xseg_prep_request(xseg, req, dev->target_len, cmd->data_len);
	if (ret)
		goto err_put;
	ret = xseg_req_target(xseg, req, &target, &tlen);
	if (ret || tlen != dev->target_len) {
		ret = ret ?: -EIO;
		goto err_put;
	}
	memcpy(target, dev->target, tlen);
	if (cmd->data_len) {
		ret = xseg_req_data(xseg, req, &data, &dlen);
		if (ret || dlen < cmd->data_len) {
			ret = ret ?: -EIO;
			goto err_put;
		}
		if (cmd->op == XSEG_OP_WRITE)
			xsegbd_copy_to_buf(rq, data, cmd->data_len);
	}
	/* we hold the request (GOT): nobody else may legitimately write it now */
	cmd->buf_off = READ_ONCE(req->buf_off);
	cmd->buf_len = READ_ONCE(req->buf_len);
	req->op = cmd->op;
	req->flags = cmd->xflags;
	req->offset = cmd->offset;
	req->size = cmd->size;

	spin_lock_irq(&dev->lock);
	if (dev->state == XSEGBD_FAILED) {
		spin_unlock_irq(&dev->lock);
		xseg_put_request(xseg, req);
		xsegbd_finish(dev, rq, BLK_STS_IOERR);
		return 0;
	}
	if (dev->state == XSEGBD_RECOVERING) {
		/* the server died meanwhile: the recovery sends it to the next one */
		cmd->phase = XSEGBD_WAITING;
		spin_unlock_irq(&dev->lock);
		xseg_put_request(xseg, req);
		return 0;
	}
	cmd->gen++;
	req->priv = XSEGBD_PRIV(cmd->gen, q->index, rq->tag);
	cmd->xreq = req;
	cmd->data = data;
	cmd->phase = XSEGBD_INFLIGHT;
	xsegbd_inflight_add(q, cmd, 1);
	spin_unlock_irq(&dev->lock);

	ret = xseg_submit(xseg, req);
	if (ret < 0) {
		spin_lock_irq(&dev->lock);
		if (cmd->xreq == req && cmd->phase == XSEGBD_INFLIGHT) {
			cmd->xreq = NULL;
			cmd->phase = XSEGBD_BUSY;
			xsegbd_inflight_add(q, cmd, -1);
			spin_unlock_irq(&dev->lock);
			goto err_put;
		}
		/* claimed meanwhile (timeout, failure): the request was never sent */
		spin_unlock_irq(&dev->lock);
		xseg_put_request(xseg, req);
		return 0;
	}
	if (kick)
		xseg_signal(xseg, dev->server_port);
	return 0;

err_put:
	xseg_put_request(xseg, req);
err_waiting:
	if (ret == -ENOBUFS || ret == -ENOSPC || ret == -ENOMEM)
		ret = -EAGAIN;
	spin_lock_irq(&dev->lock);
	cmd->phase = XSEGBD_WAITING;
	spin_unlock_irq(&dev->lock);
	return ret;
}

/* Takes a WAITING command that is still ours (BUSY) and sends it: xsegbd_issue_busy(). */
int xsegbd_issue(struct xsegbd_dev *dev, struct xsegbd_queue *q, struct request *rq, bool kick)
{
	struct xsegbd_cmd *cmd = xsegbd_cmd_of(rq);

	spin_lock_irq(&dev->lock);
	if (q->rqs[rq->tag] != rq || cmd->phase != XSEGBD_WAITING) {
		spin_unlock_irq(&dev->lock);
		return 0;
	}
	cmd->phase = XSEGBD_BUSY;
	spin_unlock_irq(&dev->lock);
	return xsegbd_issue_busy(dev, q, rq, kick);
}

/*
 * Deferred issue.  At queue depth > 1 most requests arrive while others are in flight; the
 * server's doorbell for their replies runs the reply callback on the server's CPU
 * anyway, so ->queue_rq() leaves such a command WAITING with its tag in q->pending, and
 * the callback, after the replies, builds and sends the xseg requests: the submitter's
 * CPU pays only for a bit, the server's CPU (which polls for work) for the rest, and the
 * batch goes out with one signal.  ->queue_rq() sends at once when fewer than defer_min
 * (module parameter, default XSEGBD_DEFER_MIN: 1) commands are in flight (no reply is
 * coming to carry it), when a command that may take long (a FLUSH, a FUA write, a DISCARD:
 * xsegbd_cmd_slow()) is in flight, as its reply could be long in coming, and when the
 * defer_issue module parameter is off.  A deferred command waits for the first of at least
 * defer_min fast replies: one round trip of the server at most, which for a server in
 * memory is less than what it saves (bench/ab.sh, 6.12 under TCG, QD32 against null_blk:
 * 0.90 with 1, 0.82 with 2, 4 rounds each in one boot); a server whose replies take
 * milliseconds (a disk) is better served with defer_issue off or a larger defer_min.
 *
 * No command is left behind: ->queue_rq() sets the bit, then reads q->inflight; every
 * callback run decrements it for its replies (under dev->lock), then, after a full
 * barrier, takes the bits.  Either the callback that handles the last reply sees the bit,
 * or ->queue_rq() sees no command in flight and sends the pending ones itself.  A command
 * stays WAITING in the table until sent, so the timeout handler, the watchdog (which sends
 * WAITING commands every XSEGBD_WATCH_MS) and the recovery see it as before; a bit whose
 * command was sent or completed meanwhile is skipped.
 *
 * Context: any (the callback may run in the server's doorbell, atomic): the xseg
 * requests are built without sleeping, and only with kick is the server signalled (in the
 * doorbell the server is the ringer, awake, and looks at its rings when it returns).
 */
static void xsegbd_send_pending(struct xsegbd_dev *dev, struct xsegbd_queue *q, bool kick)
{
	unsigned int tag, sent = 0;

	/* the replies' inflight decrements before the look at the bits */
	smp_mb();
	for_each_set_bit(tag, q->pending, dev->depth) {
		struct request *rq;
		bool mine = false;
		int ret;

		if (!test_and_clear_bit(tag, q->pending))
			continue;
		spin_lock_irq(&dev->lock);
		rq = q->rqs[tag];
		if (rq && xsegbd_cmd_of(rq)->phase == XSEGBD_WAITING &&
		    dev->state == XSEGBD_RUNNING) {
			xsegbd_cmd_of(rq)->phase = XSEGBD_BUSY;
			mine = true;
		}
		spin_unlock_irq(&dev->lock);
		if (!mine)
			continue;
		ret = xsegbd_issue_busy(dev, q, rq, false);
		if (!ret)
			sent++;
		else if (ret == -EAGAIN)
			/* no free xseg request or buffer: the next run or the watchdog retries */
			set_bit(tag, q->pending);
		else
			xsegbd_fail(dev, q, rq);
	}
	if (sent && kick)
		xseg_signal(dev->xseg, dev->server_port);
}

static blk_status_t xsegbd_queue_rq(struct blk_mq_hw_ctx *hctx,
				    const struct blk_mq_queue_data *bd)
{
	struct xsegbd_queue *q = hctx->driver_data;
	struct xsegbd_dev *dev = q->dev;
	struct request *rq = bd->rq;
	struct xsegbd_cmd *cmd = xsegbd_cmd_of(rq);
	blk_status_t st;
	bool running, defer;
	int ret;

	st = xsegbd_cmd_init(dev, rq, cmd);
	if (st)
		return st;
	if (WARN_ON_ONCE(rq->tag < 0 || rq->tag >= dev->depth))
		return BLK_STS_IOERR;
	blk_mq_start_request(rq);

	spin_lock_irq(&dev->lock);
	if (dev->state == XSEGBD_FAILED) {
		spin_unlock_irq(&dev->lock);
		return BLK_STS_IOERR;
	}
	q->rqs[rq->tag] = rq;
	running = dev->state == XSEGBD_RUNNING;
	/* defer behind enough fast replies only (see xsegbd_send_pending()) */
	defer = running && READ_ONCE(xsegbd_defer_issue) &&
		q->inflight >= READ_ONCE(xsegbd_defer_min) && !q->slow;
	/* running: ours to send at once (one lock round trip less per request) */
	cmd->phase = running && !defer ? XSEGBD_BUSY : XSEGBD_WAITING;
	spin_unlock_irq(&dev->lock);
	/* while recovering the command waits in the table; recovery sends it */
	if (!running)
		return BLK_STS_OK;
	if (defer) {
		/*
		 * Replies are due: the reply callback that handles them sends it (see
		 * xsegbd_send_pending()).
		 */
		atomic64_inc(&dev->stats.deferred);
		set_bit(rq->tag, q->pending);
		/* the tag before the count; pairs with the barrier in xsegbd_send_pending() */
		smp_mb__after_atomic();
		if (!READ_ONCE(q->inflight))
			/* the last reply was handled meanwhile: nobody else will send it */
			xsegbd_send_pending(dev, q, false);
		if (bd->last)
			xseg_signal(dev->xseg, dev->server_port);
		return BLK_STS_OK;
	}

	/* the last of a batch signals the server for all; else ->commit_rqs() does */
	ret = xsegbd_issue_busy(dev, q, rq, bd->last);
	if (!ret)
		return BLK_STS_OK;
	spin_lock_irq(&dev->lock);
	if (cmd->phase != XSEGBD_WAITING || q->rqs[rq->tag] != rq) {
		/* the watchdog took it over meanwhile */
		spin_unlock_irq(&dev->lock);
		return BLK_STS_OK;
	}
	cmd->phase = XSEGBD_IDLE;
	q->rqs[rq->tag] = NULL;
	spin_unlock_irq(&dev->lock);
	return ret == -EAGAIN ? BLK_STS_RESOURCE : BLK_STS_IOERR;
}

/*
 * blk-mq stopped a batch before its last request (an error, no budget...): the requests
 * queued so far were not signalled yet.  A signal with nothing new is harmless.
 */
static void xsegbd_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct xsegbd_queue *q = hctx->driver_data;

	xseg_signal(q->dev->xseg, q->dev->server_port);
}

static void xsegbd_complete_rq(struct request *rq)
{
	blk_mq_end_request(rq, xsegbd_cmd_of(rq)->status);
}

static enum blk_eh_timer_return xsegbd_timeout(struct request *rq)
{
	struct xsegbd_queue *q = xsegbd_queue_of(rq);
	struct xsegbd_dev *dev = q->dev;
	bool alive = xsegbd_server_alive(dev, NULL);
	enum xsegbd_state state;

	spin_lock_irq(&dev->lock);
	state = dev->state;
	if (xsegbd_cmd_of(rq)->phase == XSEGBD_BUSY || state == XSEGBD_RECOVERING ||
	    (state == XSEGBD_RUNNING && !alive)) {
		/* a dead server is the watchdog's business: I/O waits for the recovery */
		spin_unlock_irq(&dev->lock);
		if (state == XSEGBD_RUNNING)
			xsegbd_kick_watchdog(dev);
		return BLK_EH_RESET_TIMER;
	}
	if (!xsegbd_claim_locked(dev, q, rq)) {
		spin_unlock_irq(&dev->lock);
		return BLK_EH_DONE;
	}
	spin_unlock_irq(&dev->lock);
	if (state == XSEGBD_RUNNING) {
		atomic64_inc(&dev->stats.timeouts);
		pr_warn_ratelimited("xsegbd%d: I/O timed out (server alive, no reply)\n", dev->id);
	}
	xsegbd_complete(dev, rq, state == XSEGBD_RUNNING ? BLK_STS_TIMEOUT : BLK_STS_IOERR);
	return BLK_EH_DONE;
}

static int xsegbd_init_hctx(struct blk_mq_hw_ctx *hctx, void *data, unsigned int idx)
{
	struct xsegbd_dev *dev = data;

	if (idx >= dev->nr_queues)
		return -EINVAL;
	hctx->driver_data = &dev->queues[idx];
	return 0;
}

const struct blk_mq_ops xsegbd_mq_ops = {
	.queue_rq = xsegbd_queue_rq,
	.commit_rqs = xsegbd_commit_rqs,
	.complete = xsegbd_complete_rq,
	.timeout = xsegbd_timeout,
	.init_hctx = xsegbd_init_hctx,
};

/*
 * Checks a reply against the command's own record; 0 or the blk_status to fail with.
 * *bogusp: the reply breaks the protocol (as opposed to a legitimate -errno result).
 */
static blk_status_t xsegbd_check_reply(struct xsegbd_dev *dev, struct xseg_request *req,
				       const struct xsegbd_cmd *cmd, int *resultp, bool *bogusp)
{
	u64 serviced = READ_ONCE(req->serviced);
	s32 result = READ_ONCE(req->result);
	u64 want = cmd->op == XSEG_OP_FLUSH ? 0 : cmd->size;

	*resultp = result;
	*bogusp = true;
	if (result > 0 || result < -MAX_ERRNO)
		return BLK_STS_IOERR;
	if (READ_ONCE(req->op) != cmd->op || READ_ONCE(req->offset) != cmd->offset ||
	    READ_ONCE(req->size) != cmd->size || READ_ONCE(req->buf_off) != cmd->buf_off ||
	    READ_ONCE(req->buf_len) != cmd->buf_len ||
	    READ_ONCE(req->index) != (u32)xseg_req_index(dev->xseg, req))
		return BLK_STS_IOERR;
	*bogusp = false;
	if (result)
		return result == -ENOSPC ? BLK_STS_NOSPC : BLK_STS_IOERR;
	if (serviced != want) {
		*bogusp = true;
		return BLK_STS_IOERR;
	}
	return BLK_STS_OK;
}

/* Puts a request we hold after a reply, with the buffer fields the kernel recorded. */
static void xsegbd_put(struct xsegbd_dev *dev, struct xseg_request *req, u64 buf_off,
		       u64 buf_len)
{
	WRITE_ONCE(req->buf_off, buf_off);
	WRITE_ONCE(req->buf_len, buf_len);
	if (xseg_put_request(dev->xseg, req))
		atomic64_inc(&dev->stats.bogus);
}

static void xsegbd_info_reply(struct xsegbd_dev *dev, struct xseg_request *req, u32 gen)
{
	struct xseg_reply_info info;
	void *data;
	u64 len;
	bool mine;
	int ret;

	spin_lock_irq(&dev->lock);
	mine = dev->info_req == req && dev->info_gen == gen;
	if (mine) {
		dev->info_req = NULL;
		ret = xseg_req_data(dev->xseg, req, &data, &len);
		if (!ret && (len < sizeof(info) || READ_ONCE(req->op) != XSEG_OP_INFO))
			ret = -EIO;
		if (!ret) {
			memcpy(&info, data, sizeof(info));
			ret = READ_ONCE(req->result);
			if (ret > 0 || ret < -MAX_ERRNO)
				ret = -EIO;
			else if (!ret && READ_ONCE(req->serviced) != sizeof(info))
				ret = -EIO;
		}
		dev->info = info;
		dev->info_result = ret;
	}
	spin_unlock_irq(&dev->lock);
	if (!mine)
		atomic64_inc(&dev->stats.stale);
	if (xseg_put_request(dev->xseg, req))
		atomic64_inc(&dev->stats.bogus);
	if (mine)
		complete(&dev->info_done);
}

/* A reply for no live command (late, abandoned, or not ours at all). */
static void xsegbd_stale_reply(struct xsegbd_dev *dev, struct xseg_request *req)
{
	atomic64_inc(&dev->stats.stale);
	if (xseg_put_request(dev->xseg, req))
		atomic64_inc(&dev->stats.bogus);
}

static void xsegbd_handle_reply(struct xsegbd_dev *dev, struct xsegbd_queue *q,
				struct xseg_request *req, bool atomic)
{
	u64 priv = READ_ONCE(req->priv);
	u32 tag = XSEGBD_PRIV_TAG(priv), gen = XSEGBD_PRIV_GEN(priv);
	struct xsegbd_cmd *cmd;
	struct request *rq;
	blk_status_t st;
	bool bogus;
	int result;

	if (tag == XSEGBD_INFO_TAG) {
		xsegbd_info_reply(dev, req, gen);
		return;
	}
	if (XSEGBD_PRIV_QUEUE(priv) != q->index || tag >= dev->depth) {
		xsegbd_stale_reply(dev, req);
		return;
	}
	spin_lock_irq(&dev->lock);
	rq = q->rqs[tag];
	cmd = rq ? xsegbd_cmd_of(rq) : NULL;
	if (!cmd || cmd->phase != XSEGBD_INFLIGHT || cmd->gen != gen || cmd->xreq != req) {
		spin_unlock_irq(&dev->lock);
		xsegbd_stale_reply(dev, req);
		return;
	}
	cmd->phase = XSEGBD_BUSY;
	cmd->xreq = NULL;
	xsegbd_inflight_add(q, cmd, -1);
	spin_unlock_irq(&dev->lock);

	st = xsegbd_check_reply(dev, req, cmd, &result, &bogus);
	if (bogus) {
		atomic64_inc(&dev->stats.bogus);
		pr_warn_ratelimited("xsegbd%d: bogus reply (op %u offset %llu): I/O failed\n",
				    dev->id, cmd->op, cmd->offset);
	}
	if (!st && cmd->op == XSEG_OP_READ)
		xsegbd_copy_from_buf(rq, cmd->data, cmd->data_len);
	xsegbd_put(dev, req, cmd->buf_off, cmd->buf_len);

	if (!bogus && result == -EPIPE && cmd->reissues < XSEGBD_MAX_REISSUE) {
		/* the server died with it (reclaimed by someone): send it again */
		bool running;

		cmd->reissues++;
		spin_lock_irq(&dev->lock);
		cmd->phase = XSEGBD_WAITING;
		running = dev->state == XSEGBD_RUNNING;
		spin_unlock_irq(&dev->lock);
		atomic64_inc(&dev->stats.reissued);
		/*
		 * Not running: the recovery re-sends it; -EAGAIN: the watchdog retries.  In
		 * atomic context (a direct call from the server's doorbell) we may not signal
		 * the server: the watchdog, kicked now, re-sends it from process context.
		 */
		if (running && atomic) {
			xsegbd_kick_watchdog(dev);
		} else if (running) {
			int ret = xsegbd_issue(dev, q, rq, true);
			bool claimed = false;

			if (ret && ret != -EAGAIN) {
				spin_lock_irq(&dev->lock);
				claimed = xsegbd_claim_locked(dev, q, rq);
				spin_unlock_irq(&dev->lock);
			}
			if (claimed)
				xsegbd_complete(dev, rq, BLK_STS_IOERR);
		}
		return;
	}
	xsegbd_finish(dev, rq, st);
}

/*
 * The callback of a queue's descriptor, never concurrent per queue: a work item, or
 * (XSEG_KCB_ATOMIC) the server's own doorbell ioctl, where nothing may sleep: no
 * xseg_signal(), no issuing.
 */
void xsegbd_reply_callback(void *priv, unsigned int ctx)
{
	struct xsegbd_queue *q = priv;
	struct xsegbd_dev *dev = q->dev;
	struct xseg_request *req;
	unsigned int n;
	int ret;

	for (n = 0; n < XSEGBD_REPLY_BUDGET; n++) {
		ret = xseg_receive(dev->xseg, q->port, &req);
		/* -EPERM: the port is no longer ours, the device is going away */
		if (ret == -EAGAIN || ret == -EPERM)
			break;
		if (ret) {
			/* refused by the core, or a request with a path left: not our reply */
			atomic64_inc(&dev->stats.bogus);
			continue;
		}
		xsegbd_handle_reply(dev, q, req, ctx & XSEG_KCB_ATOMIC);
	}
	if (ret != -EPERM)
		xsegbd_send_pending(dev, q, !(ctx & XSEG_KCB_ATOMIC));
	if (n == XSEGBD_REPLY_BUDGET)
		/* more may be queued: come back in the work item (the segment is not read) */
		xseg_kcallback_kick(q->sd);
}

/*
 * Sends an INFO request and waits (interruptibly, bounded) for the reply; fills dev->size
 * and dev->block_size.  Process context.
 */
int xsegbd_info(struct xsegbd_dev *dev)
{
	struct xsegbd_queue *q = &dev->queues[0];
	struct xseg *xseg = dev->xseg;
	struct xseg_request *req;
	unsigned long wait;
	char *target;
	long left;
	u32 tlen, gen;
	int ret;

	mutex_lock(&dev->info_mutex);
	ret = xseg_get_request(xseg, q->port, dev->server_port, &req);
	if (ret)
		goto out;
	ret = xseg_prep_request(xseg, req, dev->target_len, sizeof(struct xseg_reply_info));
	if (ret)
		goto err_put;
	ret = xseg_req_target(xseg, req, &target, &tlen);
	if (ret || tlen != dev->target_len) {
		ret = ret ?: -EIO;
		goto err_put;
	}
	memcpy(target, dev->target, tlen);
	req->op = XSEG_OP_INFO;
	req->size = sizeof(struct xseg_reply_info);

	spin_lock_irq(&dev->lock);
	gen = ++dev->info_gen;
	dev->info_req = req;
	reinit_completion(&dev->info_done);
	spin_unlock_irq(&dev->lock);
	req->priv = XSEGBD_PRIV(gen, 0, XSEGBD_INFO_TAG);
	ret = xseg_submit(xseg, req);
	if (ret < 0) {
		spin_lock_irq(&dev->lock);
		dev->info_req = NULL;
		spin_unlock_irq(&dev->lock);
		goto err_put;
	}
	xseg_signal(xseg, dev->server_port);

	wait = min_t(u32, dev->timeout, XSEGBD_INFO_MAX_WAIT) * HZ;
	left = wait_for_completion_interruptible_timeout(&dev->info_done, wait);
	spin_lock_irq(&dev->lock);
	if (dev->info_req == req) {
		/* no reply: abandon it; a late reply is stale */
		dev->info_req = NULL;
		dev->info_gen++;
		atomic64_inc(&dev->stats.stranded);
		ret = left < 0 ? -EINTR : -ETIMEDOUT;
	} else {
		ret = dev->info_result;
	}
	if (!ret) {
		u64 size = dev->info.size;
		u32 bs = dev->info.block_size;

		if (bs < 512 || bs > 4096 || !is_power_of_2(bs) || !size || size % bs) {
			ret = -EIO;
		} else if (dev->disk && dev->block_size && bs != dev->block_size) {
			ret = -EIO;	/* the logical block size of a live disk cannot change */
		} else {
			dev->size = size;
			dev->block_size = bs;
		}
	}
	spin_unlock_irq(&dev->lock);
	goto out;

err_put:
	xseg_put_request(xseg, req);
out:
	mutex_unlock(&dev->info_mutex);
	if (ret == -ENOBUFS || ret == -ENOSPC)
		ret = -EAGAIN;
	return ret;
}

/* Fails every command not owned by an issuer or replier (who check the state themselves). */
void xsegbd_fail_all(struct xsegbd_dev *dev)
{
	u32 qi, tag;

	for (qi = 0; qi < dev->nr_queues; qi++) {
		struct xsegbd_queue *q = &dev->queues[qi];

		for (tag = 0; tag < dev->depth; tag++) {
			struct request *rq;
			bool claimed;

			spin_lock_irq(&dev->lock);
			rq = q->rqs[tag];
			claimed = rq && xsegbd_claim_locked(dev, q, rq);
			spin_unlock_irq(&dev->lock);
			if (claimed)
				xsegbd_complete(dev, rq, BLK_STS_IOERR);
		}
	}
}

/*
 * Sends every unanswered command again as a fresh xseg request.  With abandon, INFLIGHT
 * commands are re-sent too (their old xseg request stays with the dead server: its reply,
 * if any ever comes, carries the old generation and is dropped).  Commands that cannot be
 * sent for lack of segment resources stay WAITING for the next watchdog run; commands that
 * cannot be built fail.
 */
void xsegbd_reissue_all(struct xsegbd_dev *dev, bool abandon)
{
	u32 qi, tag;

	for (qi = 0; qi < dev->nr_queues; qi++) {
		struct xsegbd_queue *q = &dev->queues[qi];

		for (tag = 0; tag < dev->depth; tag++) {
			struct xsegbd_cmd *cmd;
			struct request *rq;
			bool send = false;
			int ret;

			spin_lock_irq(&dev->lock);
			rq = q->rqs[tag];
			cmd = rq ? xsegbd_cmd_of(rq) : NULL;
			if (cmd && abandon && cmd->phase == XSEGBD_INFLIGHT) {
				cmd->gen++;
				cmd->xreq = NULL;
				xsegbd_inflight_add(q, cmd, -1);
				cmd->phase = XSEGBD_WAITING;
				atomic64_inc(&dev->stats.stranded);
			}
			if (cmd && cmd->phase == XSEGBD_WAITING)
				send = true;
			spin_unlock_irq(&dev->lock);
			if (!send)
				continue;
			if (abandon)
				atomic64_inc(&dev->stats.reissued);
			ret = xsegbd_issue(dev, q, rq, true);
			if (ret && ret != -EAGAIN)
				xsegbd_fail(dev, q, rq);
		}
	}
}

u32 xsegbd_inflight(struct xsegbd_dev *dev)
{
	u32 qi, tag, n = 0;

	spin_lock_irq(&dev->lock);
	for (qi = 0; qi < dev->nr_queues; qi++)
		for (tag = 0; tag < dev->depth; tag++)
			if (dev->queues[qi].rqs[tag])
				n++;
	spin_unlock_irq(&dev->lock);
	return n;
}
