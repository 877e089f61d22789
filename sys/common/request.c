// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Requests: the free request stack and the request flow.
 *
 *   get -> GOT -> prep -> submit -> SUBMITTED (request ring of dst) -> accept -> SERVING
 *   SERVING -> forward -> SUBMITTED (request ring of the new dst, forwarder pushed on path)
 *   SERVING -> respond -> RESPONDED (reply ring of the port popped from path)
 *   RESPONDED -> receive -> SERVING (path not empty: a forwarder, which responds in turn)
 *                        -> CONCLUDED (path empty: the originator) -> put -> FREE
 *
 * Every transition is a CAS on state from the one expected value, so a request reached
 * through a corrupted ring entry, or handed over twice, is refused (-EIO) instead of being
 * processed by two peers.  Fields are written by the single holder before the transition
 * that hands the request over; the ring CAS (fully ordered) publishes them and the consumer's
 * load_acquire of the slot makes them visible.
 */
#include <xseg/internal.h>

#define XSEG_FREE_TOP(h)	((u32)(h))
#define XSEG_FREE_TAG(h)	((u32)((h) >> 32))
#define XSEG_FREE_HEAD(tag, top)	(((u64)(tag) << 32) | (top))

static struct xseg_ring *xseg_rq(struct xseg *xseg, u32 portno)
{
	return xseg_ring_at(xseg, portno, 0);
}

static struct xseg_ring *xseg_rp(struct xseg *xseg, u32 portno)
{
	return xseg_ring_at(xseg, portno, 1);
}

/* Converts a caller's request pointer to its index; -EINVAL if it is not one of ours. */
static int xseg_req_idx(struct xseg *xseg, struct xseg_request *req, u32 *idxp)
{
	u8 *table = xseg->base + xseg->g.requests_off;
	u64 off;

	if (!req || (u8 *)req < table)
		return -EINVAL;
	off = (u8 *)req - table;
	if (off % sizeof(*req) || off / sizeof(*req) >= xseg->g.nr_requests)
		return -EINVAL;
	*idxp = off / sizeof(*req);
	return 0;
}

int xseg_req_index(struct xseg *xseg, struct xseg_request *req)
{
	u32 idx;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	return ret ? ret : (int)idx;
}

static void xseg_free_push(struct xseg *xseg, u32 idx)
{
	u64 *head = &xseg_hdr(xseg)->free_head;
	struct xseg_request *req = xseg_req_at(xseg, idx);
	unsigned int tries;

	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		u64 h = xseg_load_relaxed(head);

		xseg_store_relaxed(&req->next, XSEG_FREE_TOP(h));
		/* fully ordered: next and state FREE are visible to whoever pops idx */
		if (xseg_cmpxchg(head, h, XSEG_FREE_HEAD(XSEG_FREE_TAG(h) + 1, idx + 1)))
			return;
	}
	/* only a peer rewriting the head in a loop gets here; the request is leaked */
	xseg_err("free request stack contended, request %u leaked", idx);
}

static int xseg_free_pop(struct xseg *xseg, u32 *idxp)
{
	u64 *head = &xseg_hdr(xseg)->free_head;
	u32 nr = xseg->g.nr_requests;
	unsigned int tries;

	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		/* pairs with the fully ordered CAS in xseg_free_push() */
		u64 h = xseg_load_acquire(head);
		u32 top = XSEG_FREE_TOP(h), next;

		if (!top)
			return -ENOBUFS;
		if (top > nr)
			return -EIO;
		next = xseg_load_relaxed(&xseg_req_at(xseg, top - 1)->next);
		/* a stale next (top was popped meanwhile) fails the CAS thanks to the tag */
		if (next > nr)
			continue;
		if (xseg_cmpxchg(head, h, XSEG_FREE_HEAD(XSEG_FREE_TAG(h) + 1, next))) {
			*idxp = top - 1;
			return 0;
		}
	}
	return -EIO;
}

void xseg_requests_init(struct xseg *xseg)
{
	u32 i, nr = xseg->g.nr_requests;

	for (i = 0; i < nr; i++) {
		struct xseg_request *req = xseg_req_at(xseg, i);

		req->index = i;
		req->state = XSEG_RS_FREE;
		req->next = i + 1 < nr ? i + 2 : 0;
	}
	xseg_hdr(xseg)->free_head = XSEG_FREE_HEAD(0, 1);
}

u32 xseg_requests_free_count(struct xseg *xseg)
{
	u32 i, n = 0;

	for (i = 0; i < xseg->g.nr_requests; i++)
		if (xseg_load_relaxed(&xseg_req_at(xseg, i)->state) == XSEG_RS_FREE)
			n++;
	return n;
}

static void xseg_req_reset(struct xseg_request *req, u64 holder, u32 src, u32 dst)
{
	req->holder = holder;
	req->op = XSEG_OP_NONE;
	req->flags = 0;
	req->offset = 0;
	req->size = 0;
	req->serviced = 0;
	req->result = 0;
	req->next = 0;
	req->src = src;
	req->dst = dst;
	req->path_len = 0;
	req->buf_off = 0;
	req->buf_len = 0;
	req->data_off = 0;
	req->data_len = 0;
	req->target_off = 0;
	req->target_len = 0;
	req->priv = 0;
}

int xseg_get_request(struct xseg *xseg, __u32 src, __u32 dst, struct xseg_request **reqp)
{
	struct xseg_request *req;
	u32 idx;
	int ret;

	if (dst >= xseg->g.nr_ports)
		return -EINVAL;
	if (!xseg_port_is_mine(xseg, src))
		return -EPERM;
	ret = xseg_free_pop(xseg, &idx);
	if (ret)
		return ret;
	req = xseg_req_at(xseg, idx);
	if (!xseg_cmpxchg(&req->state, XSEG_RS_FREE, XSEG_RS_GOT)) {
		xseg_err("request %u on the free stack is not free; dropped", idx);
		return -EIO;
	}
	xseg_req_reset(req, xseg->tag, src, dst);
	*reqp = req;
	return 0;
}

/* Frees the request's buffer, if it has a valid one. */
static void xseg_req_release_buf(struct xseg *xseg, struct xseg_request *req)
{
	u64 off = xseg_load_relaxed(&req->buf_off);
	u64 len = xseg_load_relaxed(&req->buf_len);

	if (off && xseg_heap_free(xseg, off, len))
		xseg_err("request %u: bad buffer %llu+%llu leaked", req->index,
			 (unsigned long long)off, (unsigned long long)len);
	req->buf_off = 0;
	req->buf_len = 0;
}

int xseg_prep_request(struct xseg *xseg, struct xseg_request *req, __u32 targetlen,
		      __u64 datalen)
{
	u64 need, off, cap, dlen;
	u32 idx;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	if (ret)
		return ret;
	if (targetlen > XSEG_MAX_TARGETLEN || datalen > xseg->g.heap_size)
		return -EINVAL;
	if (xseg_load_relaxed(&req->state) != XSEG_RS_GOT)
		return -EINVAL;
	if (!xseg_port_is_mine(xseg, xseg_load_relaxed(&req->src)))
		return -EPERM;

	dlen = xseg_align(datalen, 8);
	need = dlen + targetlen;
	off = xseg_load_relaxed(&req->buf_off);
	cap = xseg_load_relaxed(&req->buf_len);
	if (!off || cap < need || xseg_check_range(xseg, off, cap)) {
		xseg_req_release_buf(xseg, req);
		off = 0;
		cap = 0;
		if (need) {
			cap = xseg_align(need, xseg->g.alloc_unit);
			ret = xseg_heap_alloc(xseg, cap, &off);
			if (ret)
				return ret;
		}
		req->buf_off = off;
		req->buf_len = cap;
	}
	req->data_off = datalen ? off : 0;
	req->data_len = datalen;
	req->target_off = targetlen ? off + dlen : 0;
	req->target_len = targetlen;
	return 0;
}

/* Queues the request to port to (request or reply ring) after the state change from -> to. */
static int xseg_req_hand_over(struct xseg *xseg, struct xseg_request *req, u32 idx,
			      struct xseg_ring *ring, u32 from, u32 to)
{
	int ret;

	/* fully ordered: the state is visible before the ring slot that hands req over */
	if (!xseg_cmpxchg(&req->state, from, to))
		return -EINVAL;
	ret = xseg_ring_push(xseg, ring, idx);
	if (ret)
		xseg_cmpxchg(&req->state, to, from);
	return ret;
}

int xseg_submit(struct xseg *xseg, struct xseg_request *req)
{
	u32 idx, src, dst;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	if (ret)
		return ret;
	src = xseg_load_relaxed(&req->src);
	dst = xseg_load_relaxed(&req->dst);
	if (dst >= xseg->g.nr_ports)
		return -EINVAL;
	if (!xseg_port_is_mine(xseg, src))
		return -EPERM;
	if (xseg_load_relaxed(&req->state) != XSEG_RS_GOT)
		return -EINVAL;
	req->path[0] = src;
	req->path_len = 1;
	req->holder = 0;
	ret = xseg_req_hand_over(xseg, req, idx, xseg_rq(xseg, dst), XSEG_RS_GOT,
				 XSEG_RS_SUBMITTED);
	if (ret) {
		req->holder = xseg->tag;
		req->path_len = 0;
		return ret;
	}
	return dst;
}

/* Takes the next entry of a ring and moves its request from one state to the next. */
static int xseg_req_take(struct xseg *xseg, struct xseg_ring *ring, u32 portno,
			 struct xseg_request **reqp, u32 *idxp)
{
	struct xseg_request *req;
	u32 idx;
	int ret;

	ret = xseg_ring_pop(xseg, ring, &idx);
	if (ret)
		return ret;
	req = xseg_req_at(xseg, idx);
	if (xseg_load_relaxed(&req->dst) != portno) {
		xseg_err("port %u: request %u queued for port %u; dropped", portno, idx,
			 xseg_load_relaxed(&req->dst));
		return -EIO;
	}
	*reqp = req;
	*idxp = idx;
	return 0;
}

int xseg_accept(struct xseg *xseg, __u32 portno, struct xseg_request **reqp)
{
	struct xseg_request *req;
	u32 idx;
	int ret;

	if (!xseg_port_is_mine(xseg, portno))
		return -EPERM;
	ret = xseg_req_take(xseg, xseg_rq(xseg, portno), portno, &req, &idx);
	if (ret)
		return ret;
	/*
	 * holder first: a peer killed between the two stores leaves a SERVING request that
	 * names it, which xseg_reclaim() answers.  (Killed between the ring take and this
	 * store, the request stays SUBMITTED out of any ring: its client's timeout re-issues
	 * it.)  The cmpxchg orders the store before the state change.
	 */
	req->holder = xseg->tag;
	if (!xseg_cmpxchg(&req->state, XSEG_RS_SUBMITTED, XSEG_RS_SERVING)) {
		xseg_err("port %u: request %u in the request ring is not submitted", portno, idx);
		return -EIO;
	}
	*reqp = req;
	return 0;
}

/* Respond without the ownership check (also used by reclaim); returns the port to signal. */
static int xseg_do_respond(struct xseg *xseg, struct xseg_request *req, u32 idx)
{
	u32 n, to, cur;
	int ret;

	n = xseg_load_relaxed(&req->path_len);
	if (!n || n > XSEG_PATH_MAX)
		return -EIO;
	to = xseg_load_relaxed(&req->path[n - 1]);
	if (to >= xseg->g.nr_ports)
		return -EIO;
	cur = xseg_load_relaxed(&req->dst);
	req->path_len = n - 1;
	req->dst = to;
	req->holder = 0;
	ret = xseg_req_hand_over(xseg, req, idx, xseg_rp(xseg, to), XSEG_RS_SERVING,
				 XSEG_RS_RESPONDED);
	if (ret) {
		req->path_len = n;
		req->dst = cur;
		req->holder = xseg->tag;
		return ret;
	}
	return to;
}

int xseg_respond(struct xseg *xseg, struct xseg_request *req)
{
	u32 idx;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	if (ret)
		return ret;
	if (xseg_load_relaxed(&req->state) != XSEG_RS_SERVING)
		return -EINVAL;
	if (!xseg_port_is_mine(xseg, xseg_load_relaxed(&req->dst)))
		return -EPERM;
	return xseg_do_respond(xseg, req, idx);
}

int xseg_receive(struct xseg *xseg, __u32 portno, struct xseg_request **reqp)
{
	struct xseg_request *req;
	u32 idx, n, state;
	int ret;

	if (!xseg_port_is_mine(xseg, portno))
		return -EPERM;
	ret = xseg_req_take(xseg, xseg_rp(xseg, portno), portno, &req, &idx);
	if (ret)
		return ret;
	n = xseg_load_relaxed(&req->path_len);
	if (n >= XSEG_PATH_MAX)
		return -EIO;
	state = n ? XSEG_RS_SERVING : XSEG_RS_CONCLUDED;
	if (!xseg_cmpxchg(&req->state, XSEG_RS_RESPONDED, state)) {
		xseg_err("port %u: request %u in the reply ring is not responded", portno, idx);
		return -EIO;
	}
	req->holder = xseg->tag;
	*reqp = req;
	return n ? XSEG_RECV_FORWARDED : 0;
}

int xseg_forward(struct xseg *xseg, struct xseg_request *req, __u32 new_dst)
{
	u32 idx, n, cur;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	if (ret)
		return ret;
	if (new_dst >= xseg->g.nr_ports)
		return -EINVAL;
	if (xseg_load_relaxed(&req->state) != XSEG_RS_SERVING)
		return -EINVAL;
	cur = xseg_load_relaxed(&req->dst);
	if (!xseg_port_is_mine(xseg, cur))
		return -EPERM;
	n = xseg_load_relaxed(&req->path_len);
	if (!n || n > XSEG_PATH_MAX)
		return -EIO;
	if (n == XSEG_PATH_MAX)
		return -E2BIG;
	req->path[n] = cur;
	req->path_len = n + 1;
	req->dst = new_dst;
	req->holder = 0;
	ret = xseg_req_hand_over(xseg, req, idx, xseg_rq(xseg, new_dst), XSEG_RS_SERVING,
				 XSEG_RS_SUBMITTED);
	if (ret) {
		req->path_len = n;
		req->dst = cur;
		req->holder = xseg->tag;
		return ret;
	}
	return new_dst;
}

/* Returns a request in state from to the free stack; caller checked ownership. */
static int xseg_do_put(struct xseg *xseg, struct xseg_request *req, u32 idx, u32 from)
{
	xseg_req_release_buf(xseg, req);
	xseg_req_reset(req, 0, 0, 0);
	if (!xseg_cmpxchg(&req->state, from, XSEG_RS_FREE))
		return -EINVAL;
	xseg_free_push(xseg, idx);
	return 0;
}

int xseg_put_request(struct xseg *xseg, struct xseg_request *req)
{
	u32 idx, state;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	if (ret)
		return ret;
	state = xseg_load_relaxed(&req->state);
	if (state != XSEG_RS_GOT && state != XSEG_RS_CONCLUDED)
		return -EINVAL;
	if (!xseg_port_is_mine(xseg, xseg_load_relaxed(&req->src)))
		return -EPERM;
	return xseg_do_put(xseg, req, idx, state);
}

int xseg_req_target(struct xseg *xseg, struct xseg_request *req, char **targetp,
		    __u32 *lenp)
{
	u64 off;
	u32 idx, len;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	if (ret)
		return ret;
	off = xseg_load_relaxed(&req->target_off);
	len = xseg_load_relaxed(&req->target_len);
	if (len > XSEG_MAX_TARGETLEN)
		return -EFAULT;
	if (!len) {
		*targetp = NULL;
		*lenp = 0;
		return 0;
	}
	if (xseg_check_range(xseg, off, len))
		return -EFAULT;
	*targetp = (char *)xseg->base + off;
	*lenp = len;
	return 0;
}

int xseg_req_data(struct xseg *xseg, struct xseg_request *req, void **datap, __u64 *lenp)
{
	u64 off, len;
	u32 idx;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	if (ret)
		return ret;
	off = xseg_load_relaxed(&req->data_off);
	len = xseg_load_relaxed(&req->data_len);
	if (!len) {
		*datap = NULL;
		*lenp = 0;
		return 0;
	}
	if (xseg_check_range(xseg, off, len))
		return -EFAULT;
	*datap = xseg->base + off;
	*lenp = len;
	return 0;
}

/*
 * Requests held by dead peers: those being prepared or already concluded go back to the
 * free stack; those a dead server was serving are answered with -EPIPE so that their
 * originator gets them back.  The holder CAS makes concurrent reclaimers agree on one.
 */
int xseg_reclaim_requests(struct xseg *xseg)
{
	u32 i, n = 0;

	for (i = 0; i < xseg->g.nr_requests; i++) {
		struct xseg_request *req = xseg_req_at(xseg, i);
		u64 holder = xseg_load_relaxed(&req->holder);
		u32 state = xseg_load_relaxed(&req->state);

		if (!holder || holder == xseg->tag || xseg_dom_peer_alive(holder))
			continue;
		if (state != XSEG_RS_GOT && state != XSEG_RS_CONCLUDED &&
		    state != XSEG_RS_SERVING)
			continue;
		if (!xseg_cmpxchg(&req->holder, holder, xseg->tag))
			continue;
		if (state == XSEG_RS_SERVING) {
			int to;

			req->result = -EPIPE;
			to = xseg_do_respond(xseg, req, i);
			if (to < 0)
				continue;
			xseg_signal(xseg, to);
		} else if (xseg_do_put(xseg, req, i, state)) {
			continue;
		}
		n++;
	}
	return n;
}
