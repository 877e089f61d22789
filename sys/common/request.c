// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Requests: their allocation and the request flow.
 *
 *   FREE -> get -> GOT -> prep -> submit -> SUBMITTED (request ring of dst) -> accept -> SERVING
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
 *
 * Who holds a request is always written in it, so that a peer killed at any instruction
 * strands nothing (XSEG_FEAT_TICKETS, see struct xseg_ring): holder is the holder's tag from
 * the claim of a get to the publishing of a hand-over, the ticket of the ring slot while
 * queued, the consumer's tag from its claim on, and 0 once put (XSEG_FEAT_REQ_CLAIM).
 * xseg_reclaim_requests() acts on the requests whose holder is dead, or whose ticket names a
 * slot that does not hold them.
 */
#include <xseg/internal.h>

/* ring numbers (queue tickets) of a port's request and reply rings */
#define XSEG_RQ(portno)		((portno) * 2)
#define XSEG_RP(portno)		((portno) * 2 + 1)

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

/*
 * Allocation (XSEG_FEAT_REQ_CLAIM): a request is free when its state is FREE and its holder
 * 0, and is taken by claiming it in place, as claim.c does for the registry entries: CAS of
 * holder 0 -> our tag, then of state FREE -> GOT.  Put sets state FREE, then holder 0.  No
 * list links the free requests, so no store of either leaves one that nobody can find: a peer
 * killed between the two leaves a FREE request naming it, which xseg_reclaim_requests()
 * hands back.
 *
 * Where to look (struct xseg_req_cursor, process-local, per source port, so peers share no
 * hot word): first the request this handle last put from the port, which is still in its
 * cache (a request at a time, or a reply put before each get, reuses one request as the
 * old stack did); then a sweep onwards from where the previous one stopped, in which the
 * requests ahead were taken about nr_requests gets ago and are mostly free again, so a sweep
 * usually succeeds at its first look even when many requests are in flight.
 */
static bool xseg_req_claim(struct xseg *xseg, u32 i)
{
	struct xseg_request *req = xseg_req_at(xseg, i);

	if (xseg_load_relaxed(&req->state) != XSEG_RS_FREE || xseg_load_relaxed(&req->holder))
		return false;
	/* fully ordered; pairs with the store_release of holder 0 in xseg_do_put() */
	if (!xseg_cmpxchg(&req->holder, 0, xseg->tag))
		return false;
	/* ours: a peer killed from here on leaves its tag on the request */
	if (!xseg_cmpxchg(&req->state, XSEG_RS_FREE, XSEG_RS_GOT)) {
		xseg_err("request %u: holder 0 but state %u; skipped", i,
			 xseg_load_relaxed(&req->state));
		xseg_cmpxchg(&req->holder, xseg->tag, 0);
		return false;
	}
	return true;
}

/*
 * Returns the index of the request claimed, now GOT and held by us, or -ENOBUFS after one
 * look at every request.
 */
static int xseg_req_claim_free(struct xseg *xseg, u32 src, u32 *idxp)
{
	struct xseg_req_cursor *cur = &xseg->req_cursor[src];
	u32 nr = xseg->g.nr_requests, i, n;

	i = xseg_load_relaxed(&cur->last_put);
	if (i) {
		xseg_store_relaxed(&cur->last_put, 0);
		if (i <= nr && xseg_req_claim(xseg, i - 1)) {
			*idxp = i - 1;
			return 0;
		}
	}
	i = xseg_load_relaxed(&cur->next);
	if (i >= nr)
		i = 0;
	for (n = 0; n < nr; n++, i = i + 1 < nr ? i + 1 : 0) {
		if (!xseg_req_claim(xseg, i))
			continue;
		xseg_store_relaxed(&cur->next, i + 1 < nr ? i + 1 : 0);
		*idxp = i;
		return 0;
	}
	return -ENOBUFS;
}

void xseg_requests_init(struct xseg *xseg)
{
	u32 i, nr = xseg->g.nr_requests;

	for (i = 0; i < nr; i++) {
		struct xseg_request *req = xseg_req_at(xseg, i);

		req->index = i;
		req->state = XSEG_RS_FREE;
		req->holder = 0;
	}
}

/* Requests a get can take now: FREE and held by nobody. */
u32 xseg_requests_free_count(struct xseg *xseg)
{
	u32 i, n = 0;

	for (i = 0; i < xseg->g.nr_requests; i++)
		if (xseg_load_relaxed(&xseg_req_at(xseg, i)->state) == XSEG_RS_FREE &&
		    !xseg_load_relaxed(&xseg_req_at(xseg, i)->holder))
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
	req->pad0 = 0;
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
	ret = xseg_req_claim_free(xseg, src, &idx);
	if (ret)
		return ret;
	req = xseg_req_at(xseg, idx);
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
			ret = xseg_heap_alloc_port(xseg, cap, xseg_load_relaxed(&req->src),
						   &off);
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

/*
 * Only the holder of a request hands it on or writes its fields; checked before the first
 * write.  A live holder's word changes only by that holder, so the check stays true.
 */
static bool xseg_req_held(struct xseg *xseg, struct xseg_request *req)
{
	return xseg_load_relaxed(&req->holder) == xseg->tag;
}

/*
 * Queues the request on ring rn after the state change from -> to.  The request stays held
 * by our tag until xseg_ring_push() swaps it for the slot's ticket just before publishing, so
 * a peer killed in here leaves it held by its tag (reclaim queues it again) or queued.
 * Returns 0 when queued, by us or by a reclaimer that took the push over; else -errno with
 * the request back in state from and held by us.
 */
static int xseg_req_hand_over(struct xseg *xseg, struct xseg_request *req, u32 idx, u32 rn,
			      u32 from, u32 to)
{
	u64 held = xseg->tag;
	int ret;

	/* fully ordered: the fields written before are visible with the state */
	if (!xseg_cmpxchg(&req->state, from, to))
		return -EINVAL;
	ret = xseg_ring_push(xseg, rn, idx, &held);
	if (ret == -EALREADY)
		return 0;
	/* not queued: take the ticket back, unless a reclaimer took the push over */
	if (ret && held != xseg->tag && !xseg_cmpxchg(&req->holder, held, xseg->tag))
		return 0;
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
	if (!xseg_req_held(xseg, req))
		return -EPERM;
	req->path[0] = src;
	xseg_store_relaxed(&req->route, XSEG_ROUTE(src, dst, 1, 0));
	ret = xseg_req_hand_over(xseg, req, idx, XSEG_RQ(dst), XSEG_RS_GOT, XSEG_RS_SUBMITTED);
	if (ret) {
		xseg_store_relaxed(&req->route, XSEG_ROUTE(src, dst, 0, 0));
		return ret;
	}
	return dst;
}

/*
 * Takes the next request of ring which (0: request, 1: reply) of portno: on return it is held
 * by us (holder: our tag), still in the state it was queued in, *routep its route with the
 * flag of the hand-over that queued it cleared (before the caller's state change, so that
 * the flag is never seen in SERVING but during a hand-over).
 */
static int xseg_req_take(struct xseg *xseg, u32 portno, u32 which, struct xseg_request **reqp,
			 u32 *idxp, u64 *routep)
{
	struct xseg_request *req;
	u64 route;
	u32 idx;
	int ret;

	ret = xseg_ring_take(xseg, portno * 2 + which, &idx);
	if (ret)
		return ret;
	req = xseg_req_at(xseg, idx);
	route = xseg_load_relaxed(&req->route);
	if (XSEG_ROUTE_DST(route) != portno) {
		xseg_err("port %u: request %u queued for port %u; dropped", portno, idx,
			 XSEG_ROUTE_DST(route));
		return -EIO;
	}
	if (XSEG_ROUTE_FLAGS(route)) {
		route = XSEG_ROUTE(XSEG_ROUTE_SRC(route), portno, XSEG_ROUTE_LEN(route), 0);
		xseg_store_relaxed(&req->route, route);
	}
	*reqp = req;
	*idxp = idx;
	*routep = route;
	return 0;
}

int xseg_accept(struct xseg *xseg, __u32 portno, struct xseg_request **reqp)
{
	struct xseg_request *req;
	u64 route;
	u32 idx;
	int ret;

	if (!xseg_port_is_mine(xseg, portno))
		return -EPERM;
	ret = xseg_req_take(xseg, portno, 0, &req, &idx, &route);
	if (ret)
		return ret;
	/*
	 * The take claimed the request (holder: our tag) before it consumed the ring slot.  A
	 * peer killed before the claim left it queued for the port's next consumer; killed
	 * after, it leaves a request that names it, which xseg_reclaim() queues again (still
	 * SUBMITTED) or answers with -EPIPE (SERVING).  The stale slot it may leave behind is
	 * skipped by the next consumer (xseg_ring_take()).
	 */
	if (!xseg_cmpxchg(&req->state, XSEG_RS_SUBMITTED, XSEG_RS_SERVING)) {
		xseg_err("port %u: request %u in the request ring is not submitted", portno, idx);
		return -EIO;
	}
	*reqp = req;
	return 0;
}

/* Respond without the port check (also used by reclaim); returns the port to signal. */
static int xseg_do_respond(struct xseg *xseg, struct xseg_request *req, u32 idx)
{
	u64 route = xseg_load_relaxed(&req->route);
	u32 n = XSEG_ROUTE_LEN(route), to;
	int ret;

	if (!n || n > XSEG_PATH_MAX)
		return -EIO;
	to = xseg_load_relaxed(&req->path[n - 1]);
	if (to >= xseg->g.nr_ports)
		return -EIO;
	/* popped, flagged: a holder killed before the state change leaves it to be finished */
	xseg_store_relaxed(&req->route, XSEG_ROUTE(XSEG_ROUTE_SRC(route), to, n - 1,
						   XSEG_ROUTE_RESPONDING));
	ret = xseg_req_hand_over(xseg, req, idx, XSEG_RP(to), XSEG_RS_SERVING,
				 XSEG_RS_RESPONDED);
	if (ret) {
		xseg_store_relaxed(&req->route, route);
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
	if (!xseg_port_is_mine(xseg, xseg_load_relaxed(&req->dst)) || !xseg_req_held(xseg, req))
		return -EPERM;
	return xseg_do_respond(xseg, req, idx);
}

int xseg_receive(struct xseg *xseg, __u32 portno, struct xseg_request **reqp)
{
	struct xseg_request *req;
	u32 idx, n, state;
	u64 route;
	int ret;

	if (!xseg_port_is_mine(xseg, portno))
		return -EPERM;
	/* claimed as in xseg_accept(): a receiver killed from here on is named the holder */
	ret = xseg_req_take(xseg, portno, 1, &req, &idx, &route);
	if (ret)
		return ret;
	n = XSEG_ROUTE_LEN(route);
	if (n >= XSEG_PATH_MAX)
		return -EIO;
	state = n ? XSEG_RS_SERVING : XSEG_RS_CONCLUDED;
	if (!xseg_cmpxchg(&req->state, XSEG_RS_RESPONDED, state)) {
		xseg_err("port %u: request %u in the reply ring is not responded", portno, idx);
		return -EIO;
	}
	*reqp = req;
	return n ? XSEG_RECV_FORWARDED : 0;
}

int xseg_forward(struct xseg *xseg, struct xseg_request *req, __u32 new_dst)
{
	u32 idx, n, cur;
	u64 route;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	if (ret)
		return ret;
	if (new_dst >= xseg->g.nr_ports)
		return -EINVAL;
	if (xseg_load_relaxed(&req->state) != XSEG_RS_SERVING)
		return -EINVAL;
	route = xseg_load_relaxed(&req->route);
	cur = XSEG_ROUTE_DST(route);
	if (!xseg_port_is_mine(xseg, cur) || !xseg_req_held(xseg, req))
		return -EPERM;
	n = XSEG_ROUTE_LEN(route);
	if (!n || n > XSEG_PATH_MAX)
		return -EIO;
	if (n == XSEG_PATH_MAX)
		return -E2BIG;
	/* above path_len until the route says otherwise: harmless if we die here */
	req->path[n] = cur;
	/* pushed, flagged: a holder killed before the state change leaves it to be finished */
	xseg_store_relaxed(&req->route, XSEG_ROUTE(XSEG_ROUTE_SRC(route), new_dst, n + 1,
						   XSEG_ROUTE_FORWARDING));
	ret = xseg_req_hand_over(xseg, req, idx, XSEG_RQ(new_dst), XSEG_RS_SERVING,
				 XSEG_RS_SUBMITTED);
	if (ret) {
		xseg_store_relaxed(&req->route, route);
		return ret;
	}
	return new_dst;
}

/* Frees a request in state from, which we hold; the caller checked ownership. */
static int xseg_do_put(struct xseg *xseg, struct xseg_request *req, u32 idx, u32 from)
{
	/*
	 * Still named its holder until FREE, and after: a peer killed before the state change
	 * leaves it to reclaim to put, one killed after it leaves FREE + its tag to hand back.
	 */
	xseg_req_release_buf(xseg, req);
	xseg_req_reset(req, xseg_load_relaxed(&req->holder), 0, 0);
	if (!xseg_cmpxchg(&req->state, from, XSEG_RS_FREE))
		return -EINVAL;
	/* last; pairs with the holder CAS in xseg_req_claim_free(): it sees the reset fields */
	xseg_store_release(&req->holder, 0);
	return 0;
}

int xseg_put_request(struct xseg *xseg, struct xseg_request *req)
{
	u32 idx, state, src;
	int ret;

	ret = xseg_req_idx(xseg, req, &idx);
	if (ret)
		return ret;
	state = xseg_load_relaxed(&req->state);
	if (state != XSEG_RS_GOT && state != XSEG_RS_CONCLUDED)
		return -EINVAL;
	src = xseg_load_relaxed(&req->src);
	if (!xseg_port_is_mine(xseg, src))
		return -EPERM;
	ret = xseg_do_put(xseg, req, idx, state);
	if (!ret)
		xseg_store_relaxed(&xseg->req_cursor[src].last_put, idx + 1);
	return ret;
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
 * Queues a request taken over from a dead holder (or from a push that never published its
 * ticket) again on the ring it was handed over to: the request ring of dst when SUBMITTED,
 * the reply ring of dst when RESPONDED.  We hold it; 0 or -errno with *heldp our holder value.
 */
static int xseg_req_requeue(struct xseg *xseg, u32 idx, u32 state, u64 *heldp)
{
	u32 dst = xseg_load_relaxed(&xseg_req_at(xseg, idx)->dst);
	int ret;

	if (dst >= xseg->g.nr_ports)
		return -EIO;
	ret = xseg_ring_push(xseg, state == XSEG_RS_SUBMITTED ? XSEG_RQ(dst) : XSEG_RP(dst),
			     idx, heldp);
	/* -EALREADY: another reclaimer took it over from us and queues it */
	if (ret && ret != -EALREADY)
		return ret;
	xseg_signal(xseg, dst);
	return 0;
}

/*
 * A reply whose receiver was killed after its claim (it had cleared the route flag, so it was
 * not the responder): at the originator, which is dead, it is freed; at a
 * forwarder, it goes on along the path answered -EPIPE.
 */
static int xseg_req_reclaim_reply(struct xseg *xseg, struct xseg_request *req, u32 idx)
{
	int to;

	if (!XSEG_ROUTE_LEN(xseg_load_relaxed(&req->route)))
		return xseg_do_put(xseg, req, idx, XSEG_RS_RESPONDED);
	if (!xseg_cmpxchg(&req->state, XSEG_RS_RESPONDED, XSEG_RS_SERVING))
		return -EIO;
	req->result = -EPIPE;
	to = xseg_do_respond(xseg, req, idx);
	if (to < 0) {
		xseg_cmpxchg(&req->state, XSEG_RS_SERVING, XSEG_RS_RESPONDED);
		return to;
	}
	xseg_signal(xseg, to);
	return 0;
}

/* Acts for the dead holder of a request we took over: 0 when done, else -errno. */
static int xseg_req_reclaim_one(struct xseg *xseg, struct xseg_request *req, u32 idx,
				u64 *heldp)
{
	/* stable: only a request's holder changes its state and route, and that is us now */
	u32 state = xseg_load_relaxed(&req->state), next;
	u16 flags = XSEG_ROUTE_FLAGS(xseg_load_relaxed(&req->route));
	int to;

	switch (state) {
	case XSEG_RS_GOT:
	case XSEG_RS_CONCLUDED:
		return xseg_do_put(xseg, req, idx, state);
	case XSEG_RS_SERVING:
		if (flags & (XSEG_ROUTE_RESPONDING | XSEG_ROUTE_FORWARDING)) {
			/*
			 * Killed in respond or forward after it rewrote the route: the work was
			 * done and the route leads on, so finish that hand-over.
			 */
			next = flags & XSEG_ROUTE_RESPONDING ? XSEG_RS_RESPONDED :
							       XSEG_RS_SUBMITTED;
			if (!xseg_cmpxchg(&req->state, state, next))
				return -EIO;
			to = xseg_req_requeue(xseg, idx, next, heldp);
			if (to)
				xseg_cmpxchg(&req->state, next, state);
			return to;
		}
		/* the server died serving it: answer it, whatever it had done */
		req->result = -EPIPE;
		to = xseg_do_respond(xseg, req, idx);
		if (to < 0)
			return to;
		xseg_signal(xseg, to);
		return 0;
	case XSEG_RS_SUBMITTED:
	case XSEG_RS_RESPONDED:
		/* a receiver clears the RESPONDING flag right after its claim */
		if (state == XSEG_RS_RESPONDED && !(flags & XSEG_ROUTE_RESPONDING))
			return xseg_req_reclaim_reply(xseg, req, idx);
		/*
		 * Claimed by a consumer killed before it changed the state (nobody served or
		 * received it yet), or handed over by a producer killed before it published:
		 * either way it belongs in the ring it was handed over to.  The slot a dead
		 * consumer left behind is stale now and gets skipped.
		 */
		return xseg_req_requeue(xseg, idx, state, heldp);
	default:
		return -EIO;
	}
}

/*
 * Requests held by dead peers: free ones (a get killed after its claim, a put after its
 * state change) are handed back; those being prepared or already concluded are freed; those
 * a dead server was serving are answered with -EPIPE so that their originator gets them
 * back; those a dead peer had claimed off a ring but not yet served, or was handing over, are
 * queued again; replies a dead receiver had claimed are freed (it was their originator) or
 * passed on with -EPIPE (it was a forwarder).  Requests whose
 * ticket names a slot that does not hold them are queued again too: their producer (dead, or
 * alive and then told so by its failing holder CAS) had not published them.  The holder CAS
 * makes concurrent reclaimers, and a producer still alive, agree on one; a failed action
 * gives the request back to its dead holder, for the next reclaim to retry.
 */
int xseg_reclaim_requests(struct xseg *xseg)
{
	u32 i, n = 0;

	for (i = 0; i < xseg->g.nr_requests; i++) {
		struct xseg_request *req = xseg_req_at(xseg, i);
		u64 holder = xseg_load_relaxed(&req->holder);
		u32 state = xseg_load_relaxed(&req->state);
		u64 held = xseg->tag;

		if (!holder || holder == xseg->tag)
			continue;
		if (xseg_holder_is_ticket(holder)) {
			if (state != XSEG_RS_SUBMITTED && state != XSEG_RS_RESPONDED)
				continue;
			if (xseg_ring_holds(xseg, holder, i))
				continue;	/* queued: its consumer takes it */
		} else if (xseg_dom_peer_alive(holder)) {
			continue;
		} else if (state == XSEG_RS_FREE) {
			/*
			 * Nothing else to undo: the get had not written the request yet, the put
			 * was done with it.  The CAS succeeds only while the dead tag is still
			 * there, and then the state is still FREE: only a request's holder
			 * changes it, and a reclaimer that takes a dead tag over and gives it
			 * back has put the state back too.
			 */
			if (xseg_cmpxchg(&req->holder, holder, 0))
				n++;
			continue;
		}
		if (!xseg_cmpxchg(&req->holder, holder, xseg->tag))
			continue;
		if (xseg_req_reclaim_one(xseg, req, i, &held)) {
			xseg_cmpxchg(&req->holder, held, holder);
			continue;
		}
		n++;
	}
	return n;
}
