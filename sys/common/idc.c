// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Endpoints, messages and transactions (the high-level API of <xseg/idc.h>).
 *
 * One endpoint per connection, one port per endpoint.  A client endpoint looks its service up
 * in the registry, sends XSEG_OP_IDC_CONNECT to the service's listening port with a fresh
 * connection epoch, and the service answers with the port of one of its (caller-allocated)
 * server endpoints.  From then on every request of the connection carries the epoch in
 * request.offset, and both sides answer a request whose epoch, source port or state does not
 * match with -ESTALE without delivering it: nothing from before a disconnect reaches the
 * client after the reconnect.
 *
 * Sent items wait in out[] for their reply; a reply that matches no slot (its item was
 * already completed with a transport error, or it is forged) is put back without a callback,
 * so every item completes exactly once.  A connection goes down when the remote sends
 * XSEG_OP_IDC_DISCONNECT, answers -ESTALE, or its port changes owner or the owner dies
 * (checked every XSEG_IDC_CHECK_NS); the side that disconnects on purpose tells the other, and
 * a service that sees a second CONNECT from a port disconnects the older connection, so a
 * disconnect/connect cycle on one side is one on the other side too.  When the remote died,
 * its port is drained (bound, every queued request answered -EPIPE, every reply put back) so
 * that no request of ours stays stranded in a dead peer's rings.
 *
 * Everything read from the segment is validated: request indices by the core, lengths
 * against the request's buffer and the connection quota, ports against the table size,
 * result codes against the errno range.
 */
#include <xseg/idc.h>
#include <xseg/internal.h>

#define XSEG_IDC_MS		(1000ULL * 1000)
#define XSEG_IDC_CONNECT_NS	(1000 * XSEG_IDC_MS)	/* answer to a CONNECT */
#define XSEG_IDC_DRAIN_NS	(5000 * XSEG_IDC_MS)	/* replies while disconnecting */
#define XSEG_IDC_CHECK_NS	(10 * XSEG_IDC_MS)	/* liveness check of the remote */
#define XSEG_IDC_RETRY_NS	(20 * XSEG_IDC_MS)	/* between CONNECT attempts */
#define XSEG_IDC_WAIT_US	20000			/* longest sleep: timers need polls */
#define U32_MAX_ENTRY		0xffffffffU		/* xseg_idc_service.entry: none */

enum xseg_idc_kind {
	XSEG_IDC_K_MSG = 1,
	XSEG_IDC_K_TXN,
	XSEG_IDC_K_CONNECT,
	XSEG_IDC_K_DISCONNECT,
};

/* out[] slots: 0..XSEG_IDC_MAX_QUOTA-1 for items, then one each for the protocol requests */
#define XSEG_IDC_SLOT_CONNECT		XSEG_IDC_MAX_QUOTA
#define XSEG_IDC_SLOT_DISCONNECT	(XSEG_IDC_MAX_QUOTA + 1)

static u64 xseg_idc_now(void)
{
	return xseg_dom_now_ns();
}

/* A result code read from the segment: 0 or a plausible -errno, anything else is -EIO. */
static int xseg_idc_result(struct xseg_request *req)
{
	s32 r = xseg_load_relaxed(&req->result);

	return (r <= 0 && r > -4096) ? r : -EIO;
}

static void xseg_idc_respond(struct xseg_idc *idc, struct xseg_request *req, int result)
{
	int to;

	req->result = result;
	to = xseg_respond(idc->xseg, req);
	if (to >= 0)
		xseg_signal(idc->xseg, to);
	else
		xseg_warn("idc: respond failed: %d", to);
}

static void xseg_quota_clamp(struct xseg_idc_quota *q, const struct xseg_idc_quota *want)
{
	q->inflight = XSEG_IDC_DEF_QUOTA;
	q->max_size = XSEG_IDC_DEF_SIZE;
	if (want && want->inflight)
		q->inflight = want->inflight < XSEG_IDC_MAX_QUOTA ? want->inflight :
			      XSEG_IDC_MAX_QUOTA;
	if (want && want->max_size)
		q->max_size = want->max_size < XSEG_IDC_MAX_SIZE ? want->max_size :
			      XSEG_IDC_MAX_SIZE;
}

static u32 xseg_min32(u32 a, u32 b)
{
	return a < b ? a : b;
}

static u64 xseg_port_owner(struct xseg *xseg, u32 portno)
{
	return xseg_load_relaxed(&xseg_port_at(xseg, portno)->owner);
}

/* ---------------------------------------------------------------------------------------- */
/* Driver */

int xseg_idc_init(struct xseg_idc *idc, struct xseg *xseg, const char *sigtype)
{
	int ret;

	if (!idc || !xseg || !sigtype)
		return -EINVAL;
	if (!(xseg->g.features & XSEG_FEAT_IDC))
		return -EOPNOTSUPP;
	memset(idc, 0, sizeof(*idc));
	idc->xseg = xseg;
	idc->sigtype = sigtype;
	idc->done_tail = &idc->done;
	ret = xseg_local_signal_init(xseg, sigtype);
	if (ret)
		return ret;
	ret = xseg_get_signal_desc(xseg, sigtype, &idc->sd);
	if (ret)
		goto err_quit;
	return 0;

err_quit:
	xseg_local_signal_quit(xseg, sigtype);
	return ret;
}

int xseg_idc_fini(struct xseg_idc *idc)
{
	if (idc->eps || idc->svcs)
		return -EBUSY;
	/* transfers whose callbacks are still due: run them now */
	xseg_idc_poll(idc);
	xseg_put_signal_desc(idc->sd);
	xseg_local_signal_quit(idc->xseg, idc->sigtype);
	idc->sd = NULL;
	return 0;
}

static u64 xseg_idc_new_epoch(struct xseg_idc *idc)
{
	u64 e;

	do {
		e = xseg_idc_now() ^ (idc->xseg->tag * 0x9e3779b97f4a7c15ULL);
		e += ++idc->epoch_seq << 40;
	} while (!e);
	return e;
}

static void xseg_idc_link(struct xseg_endpoint *ep)
{
	ep->next = ep->idc->eps;
	ep->idc->eps = ep;
}

static void xseg_idc_unlink(struct xseg_endpoint *ep)
{
	struct xseg_endpoint **pp;

	for (pp = &ep->idc->eps; *pp; pp = &(*pp)->next) {
		if (*pp == ep) {
			*pp = ep->next;
			break;
		}
	}
	ep->next = NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Dead ports */

/*
 * Answers everything stranded in the rings of a port whose owner died: requests queued to it
 * go back to their senders with -EPIPE, replies queued for it are put back.  The port is
 * bound for the time of the drain; if someone else binds it first, they own the leftovers.
 */
static void xseg_idc_drain_port(struct xseg_idc *idc, u32 portno)
{
	struct xseg *xseg = idc->xseg;
	struct xseg_request *req;
	unsigned int n;
	u64 owner;
	int ret;

	if (portno >= xseg->g.nr_ports || xseg_port_is_mine(xseg, portno))
		return;
	/* frees the dead peer's port and answers what it was serving */
	xseg_reclaim(xseg);
	owner = xseg_port_owner(xseg, portno);
	if (owner && owner != xseg->tag)
		return;
	if (xseg_bind_port(xseg, portno, NULL) < 0)
		return;
	for (n = 0; n < xseg->g.nr_requests; n++) {
		if (xseg_accept(xseg, portno, &req))
			break;
		xseg_idc_respond(idc, req, -EPIPE);
	}
	for (n = 0; n < xseg->g.nr_requests; n++) {
		ret = xseg_receive(xseg, portno, &req);
		if (ret < 0)
			break;
		if (ret == XSEG_RECV_FORWARDED)
			xseg_idc_respond(idc, req, xseg_idc_result(req));
		else
			xseg_put_request(xseg, req);
	}
	xseg_leave_port(xseg, portno);
}

/* ---------------------------------------------------------------------------------------- */
/* Outstanding items */

static void xseg_idc_out_clear(struct xseg_endpoint *ep, u32 slot)
{
	if (slot < XSEG_IDC_MAX_QUOTA && ep->out[slot].req)
		ep->nr_out--;
	memset(&ep->out[slot], 0, sizeof(ep->out[slot]));
}

/* Completes an item with error, status_len bytes of status at status (txn only). */
static void xseg_idc_finish(u32 kind, void *obj, int error, const void *status, u64 status_len)
{
	if (kind == XSEG_IDC_K_MSG) {
		struct xseg_idc_message *msg = obj;

		msg->error = error;
		msg->req = NULL;
		if (msg->complete)
			msg->complete(msg);
	} else if (kind == XSEG_IDC_K_TXN) {
		struct xseg_idc_transaction *txn = obj;

		txn->error = error;
		txn->status_len = 0;
		if (!error && status_len) {
			memcpy(txn->status.addr, status, status_len);
			txn->status_len = status_len;
		}
		txn->req = NULL;
		if (txn->complete)
			txn->complete(txn);
	}
}

/*
 * Completes every outstanding item with a transport error; their requests stay out there and
 * are put back, without a callback, if they ever return.
 */
static void xseg_idc_fail_all(struct xseg_endpoint *ep, int error)
{
	u32 i;

	for (i = 0; i < XSEG_IDC_MAX_QUOTA; i++) {
		struct xseg_idc_out o = ep->out[i];

		if (!o.req)
			continue;
		xseg_idc_out_clear(ep, i);
		xseg_idc_finish(o.kind, o.obj, error, NULL, 0);
	}
}

static int xseg_idc_out_alloc(struct xseg_endpoint *ep, u32 *slotp)
{
	u32 i;

	if (ep->nr_out >= ep->q.inflight)
		return -EAGAIN;
	for (i = 0; i < XSEG_IDC_MAX_QUOTA; i++) {
		if (!ep->out[i].req) {
			*slotp = i;
			return 0;
		}
	}
	return -EAGAIN;
}

/* Gets, fills and submits one request of the connection; the slot records it. */
static int xseg_idc_send(struct xseg_endpoint *ep, u32 slot, u32 kind, void *obj, u32 op,
			 u32 dst, const void *data, u64 len, u64 room, u64 size)
{
	struct xseg_idc *idc = ep->idc;
	struct xseg *xseg = idc->xseg;
	struct xseg_request *req;
	void *buf;
	u64 blen;
	int ret;

	ret = xseg_get_request(xseg, ep->port, dst, &req);
	if (ret)
		return ret == -ENOBUFS ? -EAGAIN : ret;
	ret = xseg_prep_request(xseg, req, 0, xseg_align(len, 8) + room);
	if (ret)
		goto err_put;
	ret = xseg_req_data(xseg, req, &buf, &blen);
	if (ret)
		goto err_put;
	if (len)
		memcpy(buf, data, len);
	req->op = op;
	req->offset = ep->epoch;
	req->size = size;
	ep->out[slot].req = req;
	ep->out[slot].obj = obj;
	ep->out[slot].kind = kind;
	ep->out[slot].epoch = ep->epoch;
	if (slot < XSEG_IDC_MAX_QUOTA)
		ep->nr_out++;
	ret = xseg_submit(xseg, req);
	if (ret < 0) {
		xseg_idc_out_clear(ep, slot);
		goto err_put;
	}
	xseg_signal(xseg, dst);
	return 0;

err_put:
	xseg_put_request(xseg, req);
	return ret == -ENOBUFS || ret == -ENOSPC ? -EAGAIN : ret;
}

/* ---------------------------------------------------------------------------------------- */
/* Connection state */

static void xseg_idc_connected(struct xseg_endpoint *ep, u32 rport, u64 rowner,
			       const struct xseg_idc_hello *h)
{
	ep->state = XSEG_EP_CONNECTED;
	ep->rport = rport;
	ep->rowner = rowner;
	ep->remote_dead = 0;
	ep->local_disconnect = 0;
	ep->q.inflight = xseg_min32(ep->want.inflight, h->quota);
	ep->q.max_size = xseg_min32(ep->want.max_size, h->max_size);
	ep->next_check_ns = xseg_idc_now() + XSEG_IDC_CHECK_NS;
	if (ep->ops->connect)
		ep->ops->connect(ep);
}

static int xseg_idc_process_replies(struct xseg_endpoint *ep);

/*
 * A CONNECT got no answer in time (or the endpoint is being destroyed).  A CONNECT left in
 * a dead service's listening port is drained back to us and put; an answer that arrives
 * meanwhile still counts (the connection is then up, and goes down normally if destroyed).
 */
static void xseg_idc_abandon_connect(struct xseg_endpoint *ep)
{
	xseg_idc_drain_port(ep->idc, ep->lport);
	xseg_idc_process_replies(ep);
	if (ep->state != XSEG_EP_CONNECTING)
		return;
	xseg_idc_out_clear(ep, XSEG_IDC_SLOT_CONNECT);
	ep->epoch = 0;
	ep->state = XSEG_EP_APPEARED;
	ep->retry_ns = xseg_idc_now() + XSEG_IDC_RETRY_NS;
}

/* The connection goes down; tell the remote unless it is gone or told us. */
static void xseg_idc_disconnect_start(struct xseg_endpoint *ep, bool tell)
{
	if (ep->state != XSEG_EP_CONNECTED)
		return;
	ep->state = XSEG_EP_DISCONNECTING;
	ep->deadline_ns = xseg_idc_now() + XSEG_IDC_DRAIN_NS;
	if (ep->remote_dead)
		xseg_idc_fail_all(ep, -EPIPE);
	else if (tell)
		xseg_idc_send(ep, XSEG_IDC_SLOT_DISCONNECT, XSEG_IDC_K_DISCONNECT, NULL,
			      XSEG_OP_IDC_DISCONNECT, ep->rport, NULL, 0, 0, 0);
	if (ep->ops->disconnect)
		ep->ops->disconnect(ep);
}

/* Answers -ESTALE to whatever is queued to this endpoint's port (it is going away). */
static void xseg_idc_flush_requests(struct xseg_endpoint *ep)
{
	struct xseg_request *req;
	unsigned int n;

	for (n = 0; n < ep->idc->xseg->g.nr_requests; n++) {
		if (xseg_accept(ep->idc->xseg, ep->port, &req))
			break;
		xseg_idc_respond(ep->idc, req, -ESTALE);
	}
}

/* Puts back whatever reply is queued to this endpoint's port (completed items' requests). */
static void xseg_idc_flush_replies(struct xseg_endpoint *ep)
{
	struct xseg *xseg = ep->idc->xseg;
	struct xseg_request *req;
	unsigned int n;
	int ret;

	for (n = 0; n < xseg->g.nr_requests; n++) {
		ret = xseg_receive(xseg, ep->port, &req);
		if (ret == -EIO)
			continue;
		if (ret < 0)
			break;
		if (ret == XSEG_RECV_FORWARDED)
			xseg_idc_respond(ep->idc, req, xseg_idc_result(req));
		else
			xseg_put_request(xseg, req);
	}
}

static void xseg_idc_release_port(struct xseg_endpoint *ep)
{
	if (ep->port < 0)
		return;
	xseg_idc_flush_requests(ep);
	xseg_idc_flush_replies(ep);
	xseg_leave_port(ep->idc->xseg, ep->port);
	ep->port = -1;
}

static void xseg_idc_disconnect_finish(struct xseg_endpoint *ep)
{
	u32 i, port, gen;

	if (ep->remote_dead) {
		xseg_idc_drain_port(ep->idc, ep->rport);
		/* CONNECTs abandoned in a dead service's listening port */
		if (!ep->svc)
			xseg_idc_drain_port(ep->idc, ep->lport);
		/* what the drain answered came back to us: put it back now */
		xseg_idc_process_replies(ep);
	}
	for (i = XSEG_IDC_SLOT_CONNECT; i <= XSEG_IDC_SLOT_DISCONNECT; i++)
		xseg_idc_out_clear(ep, i);
	ep->epoch = 0;
	ep->remote_dead = 0;
	if (ep->svc || ep->destroying) {
		/* a server endpoint serves one connection; the slot is free again */
		xseg_idc_release_port(ep);
		ep->state = XSEG_EP_DEAD;
		return;
	}
	/* reconnect, or tell the client the service is gone */
	ep->retry_ns = xseg_idc_now() + XSEG_IDC_RETRY_NS;
	if (!xseg_idc_registry_find(ep->idc->xseg, ep->name, NULL, &port, &gen, NULL)) {
		ep->lport = port;
		ep->svc_gen = gen;
		ep->state = XSEG_EP_APPEARED;
		return;
	}
	ep->state = XSEG_EP_IDLE;
	if (ep->ops->disappear)
		ep->ops->disappear(ep);
}

/* 1 if the remote's port is no longer held by the peer we connected to. */
static int xseg_idc_remote_gone(struct xseg_endpoint *ep)
{
	u64 owner = xseg_port_owner(ep->idc->xseg, ep->rport);

	if (owner == ep->rowner && xseg_dom_peer_alive(owner))
		return 0;
	/* owner died (or was reclaimed after dying): nobody will answer what it holds */
	if (!owner || !xseg_dom_peer_alive(ep->rowner))
		ep->remote_dead = 1;
	return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Replies to what we sent */

static void xseg_idc_connect_reply(struct xseg_endpoint *ep, struct xseg_request *req,
				   int result, u64 epoch)
{
	struct xseg_idc_hello h;
	void *data;
	u64 len;
	u64 owner;

	if (ep->state != XSEG_EP_CONNECTING || epoch != ep->epoch)
		return;
	if (!result && (xseg_req_data(ep->idc->xseg, req, &data, &len) || len < sizeof(h)))
		result = -EPROTO;
	if (!result) {
		memcpy(&h, data, sizeof(h));
		if (h.epoch != ep->epoch || h.port >= ep->idc->xseg->g.nr_ports || !h.quota ||
		    h.quota > XSEG_IDC_MAX_QUOTA || !h.max_size || h.max_size > XSEG_IDC_MAX_SIZE)
			result = -EPROTO;
	}
	owner = result ? 0 : xseg_port_owner(ep->idc->xseg, h.port);
	if (result || !owner) {
		xseg_dbg("idc %s: connect refused: %d", ep->name, result);
		ep->epoch = 0;
		ep->state = XSEG_EP_APPEARED;
		ep->retry_ns = xseg_idc_now() + XSEG_IDC_RETRY_NS;
		return;
	}
	xseg_idc_connected(ep, h.port, owner, &h);
}

static void xseg_idc_reply(struct xseg_endpoint *ep, struct xseg_request *req)
{
	struct xseg *xseg = ep->idc->xseg;
	struct xseg_idc_out o;
	u64 epoch = xseg_load_relaxed(&req->offset);
	int result = xseg_idc_result(req);
	void *data = NULL;
	u64 dlen = 0, sl = 0, poff;
	u32 i;

	for (i = 0; i < XSEG_ARRAY_SIZE(ep->out); i++)
		if (ep->out[i].req == req)
			break;
	if (i == XSEG_ARRAY_SIZE(ep->out)) {
		/* completed already (transport error) or not ours: no second completion */
		xseg_put_request(xseg, req);
		return;
	}
	o = ep->out[i];
	if (epoch != o.epoch && !result)
		result = -EPROTO;
	if (o.kind == XSEG_IDC_K_CONNECT) {
		xseg_idc_connect_reply(ep, req, result, o.epoch);
		xseg_idc_out_clear(ep, i);
		xseg_put_request(xseg, req);
		return;
	}
	xseg_idc_out_clear(ep, i);
	if (o.kind == XSEG_IDC_K_DISCONNECT) {
		xseg_put_request(xseg, req);
		return;
	}
	if (result == -ESTALE) {
		/* the remote no longer knows this connection: it went through a disconnect */
		result = -ECONNRESET;
		if (ep->state == XSEG_EP_CONNECTED && o.epoch == ep->epoch)
			xseg_idc_disconnect_start(ep, false);
	}
	if (o.kind == XSEG_IDC_K_TXN && !result) {
		struct xseg_idc_transaction *txn = o.obj;

		poff = xseg_align(txn->params.len, 8);
		sl = xseg_load_relaxed(&req->serviced);
		if (xseg_req_data(xseg, req, &data, &dlen) || dlen < poff ||
		    sl > dlen - poff || sl > txn->status.len)
			result = -EPROTO;
		else
			data = (u8 *)data + poff;
	}
	xseg_idc_finish(o.kind, o.obj, result, data, result ? 0 : sl);
	xseg_put_request(xseg, req);
}

static int xseg_idc_process_replies(struct xseg_endpoint *ep)
{
	struct xseg *xseg = ep->idc->xseg;
	struct xseg_request *req;
	u32 i;
	int ret, n = 0;

	/* bounded: a peer refilling the ring cannot keep us here */
	for (i = 0; ep->port >= 0 && i < xseg->g.nr_requests; i++) {
		ret = xseg_receive(xseg, ep->port, &req);
		if (ret == -EIO)
			continue;	/* a corrupted entry, dropped by the core */
		if (ret < 0)
			break;
		n++;
		if (ret == XSEG_RECV_FORWARDED) {
			xseg_idc_respond(ep->idc, req, xseg_idc_result(req));
			continue;
		}
		xseg_idc_reply(ep, req);
	}
	return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Requests from the remote */

static void xseg_idc_deliver_msg(struct xseg_endpoint *ep, struct xseg_request *req,
				 void *data, u64 dlen)
{
	struct xseg_idc_message *msg = NULL;
	u64 size = xseg_load_relaxed(&req->size);
	u32 i;

	if (size > dlen || size > ep->q.max_size) {
		xseg_idc_respond(ep->idc, req, -EMSGSIZE);
		return;
	}
	for (i = 0; i < ep->q.inflight; i++) {
		if (!ep->rx_msg[i].req) {
			msg = &ep->rx_msg[i];
			break;
		}
	}
	if (!msg) {
		xseg_idc_respond(ep->idc, req, -EAGAIN);
		return;
	}
	memset(msg, 0, sizeof(*msg));
	msg->body.addr = data;
	msg->body.len = size;
	msg->ep = ep;
	msg->req = req;
	msg->epoch = ep->epoch;
	ep->nr_in++;
	if (ep->ops->handle_message)
		ep->ops->handle_message(ep, msg);
	else
		xseg_idc_message_complete(msg);
}

static void xseg_idc_deliver_txn(struct xseg_endpoint *ep, struct xseg_request *req,
				 void *data, u64 dlen)
{
	struct xseg_idc_transaction *txn = NULL;
	u64 size = xseg_load_relaxed(&req->size);
	u64 poff = xseg_align(size, 8);
	u32 i;

	if (size > ep->q.max_size || poff > dlen || dlen - poff > ep->q.max_size) {
		xseg_idc_respond(ep->idc, req, -EMSGSIZE);
		return;
	}
	for (i = 0; i < ep->q.inflight; i++) {
		if (!ep->rx_txn[i].req) {
			txn = &ep->rx_txn[i];
			break;
		}
	}
	if (!txn) {
		xseg_idc_respond(ep->idc, req, -EAGAIN);
		return;
	}
	memset(txn, 0, sizeof(*txn));
	txn->params.addr = size ? data : NULL;
	txn->params.len = size;
	txn->status.addr = dlen > poff ? (u8 *)data + poff : NULL;
	txn->status.len = dlen - poff;
	txn->ep = ep;
	txn->req = req;
	txn->epoch = ep->epoch;
	ep->nr_in++;
	if (ep->ops->handle_transaction)
		ep->ops->handle_transaction(ep, txn);
	else
		xseg_idc_transaction_complete(txn, -EOPNOTSUPP);
}

static void xseg_idc_serve(struct xseg_endpoint *ep, struct xseg_request *req)
{
	struct xseg *xseg = ep->idc->xseg;
	u32 op = xseg_load_relaxed(&req->op);
	u64 epoch = xseg_load_relaxed(&req->offset);
	u32 src = xseg_load_relaxed(&req->src);
	void *data;
	u64 dlen;

	/* a message may overtake the CONNECT reply that was queued before it */
	if (ep->state == XSEG_EP_CONNECTING && epoch == ep->epoch)
		xseg_idc_process_replies(ep);
	if (ep->state != XSEG_EP_CONNECTED || !epoch || epoch != ep->epoch || src != ep->rport) {
		xseg_idc_respond(ep->idc, req, -ESTALE);
		return;
	}
	if (xseg_req_data(xseg, req, &data, &dlen)) {
		xseg_idc_respond(ep->idc, req, -EFAULT);
		return;
	}
	switch (op) {
	case XSEG_OP_IDC_DISCONNECT:
		xseg_idc_respond(ep->idc, req, 0);
		xseg_idc_disconnect_start(ep, false);
		break;
	case XSEG_OP_IDC_MSG:
		xseg_idc_deliver_msg(ep, req, data, dlen);
		break;
	case XSEG_OP_IDC_TXN:
		xseg_idc_deliver_txn(ep, req, data, dlen);
		break;
	default:
		xseg_idc_respond(ep->idc, req, -EINVAL);
		break;
	}
}

static int xseg_idc_process_requests(struct xseg_endpoint *ep)
{
	struct xseg *xseg = ep->idc->xseg;
	struct xseg_request *req;
	u32 i;
	int ret, n = 0;

	for (i = 0; ep->port >= 0 && i < xseg->g.nr_requests; i++) {
		ret = xseg_accept(xseg, ep->port, &req);
		if (ret == -EIO)
			continue;
		if (ret < 0)
			break;
		n++;
		xseg_idc_serve(ep, req);
	}
	return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Client side: discovery and connection */

static void xseg_idc_lookup_ep(struct xseg_endpoint *ep)
{
	u32 port, gen;
	bool found;

	found = !xseg_idc_registry_find(ep->idc->xseg, ep->name, NULL, &port, &gen, NULL);
	if (found && ep->state == XSEG_EP_IDLE) {
		ep->lport = port;
		ep->svc_gen = gen;
		ep->state = XSEG_EP_APPEARED;
		if (ep->ops->appear)
			ep->ops->appear(ep);
	} else if (ep->state == XSEG_EP_APPEARED &&
		   (!found || gen != ep->svc_gen || port != ep->lport)) {
		ep->state = XSEG_EP_IDLE;
		if (ep->ops->disappear)
			ep->ops->disappear(ep);
	}
}

static void xseg_idc_connect_send(struct xseg_endpoint *ep)
{
	struct xseg_idc_hello h;
	int ret;

	memset(&h, 0, sizeof(h));
	ep->epoch = xseg_idc_new_epoch(ep->idc);
	h.epoch = ep->epoch;
	h.quota = ep->want.inflight;
	h.max_size = ep->want.max_size;
	xseg_idc_out_clear(ep, XSEG_IDC_SLOT_CONNECT);
	ret = xseg_idc_send(ep, XSEG_IDC_SLOT_CONNECT, XSEG_IDC_K_CONNECT, NULL,
			    XSEG_OP_IDC_CONNECT, ep->lport, &h, sizeof(h), 0, sizeof(h));
	if (ret) {
		ep->epoch = 0;
		ep->retry_ns = xseg_idc_now() + XSEG_IDC_RETRY_NS;
		return;
	}
	ep->state = XSEG_EP_CONNECTING;
	ep->deadline_ns = xseg_idc_now() + XSEG_IDC_CONNECT_NS;
}

/* Timers and transitions of one endpoint; returns 1 if anything happened. */
static int xseg_idc_step(struct xseg_endpoint *ep)
{
	struct xseg_idc *idc = ep->idc;
	u64 now = xseg_idc_now();
	enum xseg_endpoint_state old = ep->state;
	int ret;

	switch (ep->state) {
	case XSEG_EP_IDLE:
	case XSEG_EP_APPEARED:
		if (ep->destroying) {
			xseg_idc_disconnect_finish(ep);
			break;
		}
		if (now < ep->retry_ns)
			break;
		ep->retry_ns = now + XSEG_IDC_RETRY_NS;
		if (ep->port < 0) {
			ret = xseg_bind_port(idc->xseg, XSEG_PORT_ANY, idc->sd);
			if (ret < 0)
				break;
			ep->port = ret;
		}
		xseg_idc_lookup_ep(ep);
		if (ep->state == XSEG_EP_APPEARED)
			xseg_idc_connect_send(ep);
		break;
	case XSEG_EP_CONNECTING:
		if (now >= ep->deadline_ns || ep->destroying)
			xseg_idc_abandon_connect(ep);
		break;
	case XSEG_EP_CONNECTED:
		if (ep->destroying || ep->local_disconnect) {
			xseg_idc_disconnect_start(ep, true);
			break;
		}
		if (now < ep->next_check_ns)
			break;
		ep->next_check_ns = now + XSEG_IDC_CHECK_NS;
		if (xseg_idc_remote_gone(ep)) {
			xseg_idc_disconnect_start(ep, false);
			break;
		}
		if (!ep->svc) {
			u32 port, gen;

			/* the service re-registered (restarted): this connection is stale */
			if (!xseg_idc_registry_find(idc->xseg, ep->name, NULL, &port, &gen, NULL) &&
			    (gen != ep->svc_gen || port != ep->lport))
				xseg_idc_disconnect_start(ep, true);
		}
		break;
	case XSEG_EP_DISCONNECTING:
		if (!ep->remote_dead && now >= ep->next_check_ns) {
			ep->next_check_ns = now + XSEG_IDC_CHECK_NS;
			if (xseg_idc_remote_gone(ep) && ep->remote_dead)
				xseg_idc_fail_all(ep, -EPIPE);
		}
		if (now >= ep->deadline_ns) {
			xseg_idc_fail_all(ep, -ETIMEDOUT);
			xseg_idc_out_clear(ep, XSEG_IDC_SLOT_DISCONNECT);
		}
		if (ep->remote_dead)
			xseg_idc_out_clear(ep, XSEG_IDC_SLOT_DISCONNECT);
		/* the DISCONNECT answered too: nothing of the remote's is still on its way */
		if (!ep->nr_out && !ep->nr_in && !ep->out[XSEG_IDC_SLOT_DISCONNECT].req)
			xseg_idc_disconnect_finish(ep);
		break;
	case XSEG_EP_DEAD:
		break;
	}
	return ep->state != old;
}

/* ---------------------------------------------------------------------------------------- */
/* Service side */

static void xseg_idc_accept_connect(struct xseg_idc_service *svc, struct xseg_request *req)
{
	struct xseg_idc *idc = svc->idc;
	struct xseg *xseg = idc->xseg;
	struct xseg_endpoint *ep = NULL;
	struct xseg_idc_hello h;
	u32 src = xseg_load_relaxed(&req->src);
	u64 rowner;
	void *data;
	u64 len;
	u32 i;
	int ret;

	if (xseg_load_relaxed(&req->op) != XSEG_OP_IDC_CONNECT ||
	    xseg_req_data(xseg, req, &data, &len) || len < sizeof(h) || src >= xseg->g.nr_ports) {
		xseg_idc_respond(idc, req, -EPROTO);
		return;
	}
	memcpy(&h, data, sizeof(h));
	rowner = xseg_port_owner(xseg, src);
	if (!h.epoch || !h.quota || h.quota > XSEG_IDC_MAX_QUOTA || !h.max_size ||
	    h.max_size > XSEG_IDC_MAX_SIZE || !rowner) {
		xseg_idc_respond(idc, req, -EPROTO);
		return;
	}
	/* a client that connects again went through a disconnect: so does its old connection */
	for (i = 0; i < svc->nr_conns; i++) {
		struct xseg_endpoint *c = &svc->conns[i];

		if (c->state == XSEG_EP_CONNECTED && c->rport == src)
			xseg_idc_disconnect_start(c, true);
		if (!ep && c->state == XSEG_EP_DEAD)
			ep = c;
	}
	if (!ep) {
		xseg_idc_respond(idc, req, -EBUSY);
		return;
	}
	ret = xseg_bind_port(xseg, XSEG_PORT_ANY, idc->sd);
	if (ret < 0) {
		xseg_idc_respond(idc, req, -EBUSY);
		return;
	}
	ep->port = ret;
	ep->epoch = h.epoch;
	h.port = ep->port;
	h.quota = xseg_min32(h.quota, ep->want.inflight);
	h.max_size = xseg_min32(h.max_size, ep->want.max_size);
	memcpy(data, &h, sizeof(h));
	xseg_idc_respond(idc, req, 0);
	if (ep->ops->appear)
		ep->ops->appear(ep);
	xseg_idc_connected(ep, src, rowner, &h);
}

static int xseg_idc_service_poll(struct xseg_idc_service *svc)
{
	struct xseg *xseg = svc->idc->xseg;
	struct xseg_request *req;
	int ret, n = 0;
	u32 i;

	for (i = 0; i < xseg->g.nr_requests; i++) {
		ret = xseg_accept(xseg, svc->port, &req);
		if (ret == -EIO)
			continue;
		if (ret < 0)
			break;
		n++;
		xseg_idc_accept_connect(svc, req);
	}
	/* we never send from the listening port: anything in its reply ring is stray */
	for (i = 0; i < xseg->g.nr_requests; i++) {
		ret = xseg_receive(xseg, svc->port, &req);
		if (ret == -EIO)
			continue;
		if (ret < 0)
			break;
		if (ret == XSEG_RECV_FORWARDED)
			xseg_idc_respond(svc->idc, req, xseg_idc_result(req));
		else
			xseg_put_request(xseg, req);
	}
	return n;
}

int xseg_idc_service_register(struct xseg_idc_service *svc, struct xseg_idc *idc,
			      const char *name, const struct xseg_endpoint_ops *ops,
			      struct xseg_endpoint *conns, __u32 nr_conns,
			      const struct xseg_idc_quota *quota)
{
	u32 i;
	int ret;

	if (!svc || !idc || !ops || !conns || !nr_conns)
		return -EINVAL;
	ret = xseg_idc_name_check(name);
	if (ret)
		return ret;
	memset(svc, 0, sizeof(*svc));
	svc->idc = idc;
	svc->ops = ops;
	svc->conns = conns;
	svc->nr_conns = nr_conns;
	xseg_quota_clamp(&svc->want, quota);
	memcpy(svc->name, name, strlen(name) + 1);

	ret = xseg_bind_port(idc->xseg, XSEG_PORT_ANY, idc->sd);
	if (ret < 0)
		return ret;
	svc->port = ret;
	ret = xseg_idc_registry_add(idc->xseg, name, svc->port, &svc->entry);
	if (ret)
		goto err_leave;
	for (i = 0; i < nr_conns; i++) {
		struct xseg_endpoint *ep = &conns[i];

		memset(ep, 0, sizeof(*ep));
		ep->idc = idc;
		ep->ops = ops;
		ep->svc = svc;
		ep->port = -1;
		ep->state = XSEG_EP_DEAD;
		ep->want = svc->want;
		memcpy(ep->name, svc->name, sizeof(ep->name));
		xseg_idc_link(ep);
	}
	svc->next = idc->svcs;
	idc->svcs = svc;
	return 0;

err_leave:
	xseg_leave_port(idc->xseg, svc->port);
	return ret;
}

/* Waits (polling) until cond is false or usec passed; -ETIMEDOUT then. */
static int xseg_idc_run_until(struct xseg_idc *idc, bool (*busy)(void *), void *arg, u32 usec)
{
	u64 end = xseg_idc_now() + (u64)usec * 1000;

	while (busy(arg)) {
		if (xseg_idc_now() >= end)
			return -ETIMEDOUT;
		xseg_idc_wait(idc, 1000);
	}
	return 0;
}

static bool xseg_idc_svc_busy(void *arg)
{
	struct xseg_idc_service *svc = arg;
	u32 i;

	for (i = 0; i < svc->nr_conns; i++)
		if (svc->conns[i].state != XSEG_EP_DEAD)
			return true;
	return false;
}

/* Force-ends an endpoint that did not finish in time: its items fail, its port goes. */
static void xseg_idc_force_dead(struct xseg_endpoint *ep)
{
	u32 i;

	xseg_idc_fail_all(ep, -ETIMEDOUT);
	for (i = 0; i < ep->q.inflight && i < XSEG_IDC_MAX_QUOTA; i++) {
		if (ep->rx_msg[i].req)
			xseg_idc_message_complete(&ep->rx_msg[i]);
		if (ep->rx_txn[i].req)
			xseg_idc_transaction_complete(&ep->rx_txn[i], -ECONNRESET);
	}
	for (i = XSEG_IDC_SLOT_CONNECT; i <= XSEG_IDC_SLOT_DISCONNECT; i++)
		xseg_idc_out_clear(ep, i);
	xseg_idc_release_port(ep);
	ep->state = XSEG_EP_DEAD;
}

int xseg_idc_service_unregister(struct xseg_idc_service *svc, __u32 usec)
{
	struct xseg_idc *idc = svc->idc;
	struct xseg_idc_service **pp;
	struct xseg_request *req;
	u32 i;

	if (!idc)
		return -EINVAL;
	if (svc->entry != U32_MAX_ENTRY) {
		/* no new connection from now on; the existing ones go down */
		xseg_idc_registry_del(idc->xseg, svc->entry);
		svc->entry = U32_MAX_ENTRY;
		for (i = 0; i < svc->nr_conns; i++) {
			svc->conns[i].destroying = 1;
			xseg_idc_disconnect_start(&svc->conns[i], true);
		}
	}
	if (!usec && xseg_idc_svc_busy(svc))
		return -EINPROGRESS;	/* the caller polls, then calls again */
	if (xseg_idc_run_until(idc, xseg_idc_svc_busy, svc, usec))
		for (i = 0; i < svc->nr_conns; i++)
			if (svc->conns[i].state != XSEG_EP_DEAD)
				xseg_idc_force_dead(&svc->conns[i]);
	for (i = 0; i < idc->xseg->g.nr_requests; i++) {
		if (xseg_accept(idc->xseg, svc->port, &req))
			break;
		xseg_idc_respond(idc, req, -ECONNREFUSED);
	}
	xseg_leave_port(idc->xseg, svc->port);
	for (i = 0; i < svc->nr_conns; i++)
		xseg_idc_unlink(&svc->conns[i]);
	for (pp = &idc->svcs; *pp; pp = &(*pp)->next) {
		if (*pp == svc) {
			*pp = svc->next;
			break;
		}
	}
	svc->idc = NULL;
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Endpoints */

void xseg_endpoint_create(struct xseg_endpoint *ep, struct xseg_idc *idc, const char *service,
			  const struct xseg_endpoint_ops *ops, const struct xseg_idc_quota *quota)
{
	static const struct xseg_endpoint_ops none;
	size_t len = 0;

	memset(ep, 0, sizeof(*ep));
	ep->idc = idc;
	ep->ops = ops ? ops : &none;
	ep->port = -1;
	ep->state = XSEG_EP_IDLE;
	xseg_quota_clamp(&ep->want, quota);
	/* a bad name never matches a registration: the endpoint simply never appears */
	if (service) {
		len = strnlen(service, XSEG_IDC_NAME_LEN - 1);
		memcpy(ep->name, service, len);
	}
	xseg_idc_link(ep);
}

static bool xseg_idc_ep_busy(void *arg)
{
	return ((struct xseg_endpoint *)arg)->state != XSEG_EP_DEAD;
}

int xseg_endpoint_destroy(struct xseg_endpoint *ep, __u32 usec)
{
	int ret;

	if (!ep || !ep->idc || ep->svc)
		return -EINVAL;
	ep->destroying = 1;
	xseg_idc_step(ep);
	if (!usec && ep->state != XSEG_EP_DEAD)
		return -EINPROGRESS;	/* the caller polls, then calls again */
	ret = xseg_idc_run_until(ep->idc, xseg_idc_ep_busy, ep, usec);
	if (ret)
		xseg_idc_force_dead(ep);
	xseg_idc_release_port(ep);
	xseg_idc_unlink(ep);
	ep->idc = NULL;
	return ret;
}

int xseg_endpoint_disconnect(struct xseg_endpoint *ep)
{
	if (ep->state != XSEG_EP_CONNECTED)
		return -ENOTCONN;
	ep->local_disconnect = 1;
	xseg_idc_disconnect_start(ep, true);
	return 0;
}

int xseg_endpoint_connected(struct xseg_endpoint *ep)
{
	return ep->state == XSEG_EP_CONNECTED;
}

enum xseg_endpoint_state xseg_endpoint_state(struct xseg_endpoint *ep)
{
	return ep->state;
}

int xseg_endpoint_submit_message(struct xseg_endpoint *ep, struct xseg_idc_message *msg)
{
	u32 slot;
	int ret;

	if (!msg || (msg->body.len && !msg->body.addr))
		return -EINVAL;
	if (ep->state != XSEG_EP_CONNECTED)
		return -ENOTCONN;
	if (msg->body.len > ep->q.max_size)
		return -EMSGSIZE;
	ret = xseg_idc_out_alloc(ep, &slot);
	if (ret)
		return ret;
	msg->ep = ep;
	msg->error = 0;
	msg->epoch = ep->epoch;
	ret = xseg_idc_send(ep, slot, XSEG_IDC_K_MSG, msg, XSEG_OP_IDC_MSG, ep->rport,
			    msg->body.addr, msg->body.len, 0, msg->body.len);
	if (!ret)
		msg->req = ep->out[slot].req;
	return ret;
}

int xseg_endpoint_submit_transaction(struct xseg_endpoint *ep,
				     struct xseg_idc_transaction *txn)
{
	u32 slot;
	int ret;

	if (!txn || (txn->params.len && !txn->params.addr) ||
	    (txn->status.len && !txn->status.addr))
		return -EINVAL;
	if (ep->state != XSEG_EP_CONNECTED)
		return -ENOTCONN;
	if (txn->params.len > ep->q.max_size || txn->status.len > ep->q.max_size)
		return -EMSGSIZE;
	ret = xseg_idc_out_alloc(ep, &slot);
	if (ret)
		return ret;
	txn->ep = ep;
	txn->error = 0;
	txn->status_len = 0;
	txn->epoch = ep->epoch;
	ret = xseg_idc_send(ep, slot, XSEG_IDC_K_TXN, txn, XSEG_OP_IDC_TXN, ep->rport,
			    txn->params.addr, txn->params.len, txn->status.len, txn->params.len);
	if (!ret)
		txn->req = ep->out[slot].req;
	return ret;
}

/* A received item is done: its request goes back, whatever became of the connection. */
static void xseg_idc_received_done(struct xseg_endpoint *ep, struct xseg_request *req,
				   int result)
{
	xseg_idc_respond(ep->idc, req, result);
	ep->nr_in--;
}

int xseg_idc_message_complete(struct xseg_idc_message *msg)
{
	struct xseg_endpoint *ep = msg->ep;

	if (!ep || !msg->req || msg < ep->rx_msg || msg >= ep->rx_msg + XSEG_IDC_MAX_QUOTA)
		return -EINVAL;
	xseg_idc_received_done(ep, msg->req, msg->epoch == ep->epoch ? 0 : -ECONNRESET);
	msg->req = NULL;
	return 0;
}

int xseg_idc_transaction_complete(struct xseg_idc_transaction *txn, int error)
{
	struct xseg_endpoint *ep = txn->ep;

	if (!ep || !txn->req || txn < ep->rx_txn || txn >= ep->rx_txn + XSEG_IDC_MAX_QUOTA)
		return -EINVAL;
	if (error > 0 || error <= -4096)
		error = -EINVAL;
	if (txn->status_len > txn->status.len)
		txn->status_len = txn->status.len;
	txn->req->serviced = txn->status_len;
	xseg_idc_received_done(ep, txn->req, error);
	txn->req = NULL;
	return 0;
}

int xseg_idc_transaction_query_error(struct xseg_idc_transaction *txn)
{
	return txn->error;
}

/* ---------------------------------------------------------------------------------------- */
/* Driving */

int xseg_idc_poll(struct xseg_idc *idc)
{
	struct xseg_endpoint *ep, *next;
	struct xseg_idc_service *svc;
	int n = 0;

	if (idc->polling)
		return 0;	/* called from a callback: the outer poll goes on */
	idc->polling = 1;
	xseg_idc_run_transfers(idc);
	for (svc = idc->svcs; svc; svc = svc->next)
		n += xseg_idc_service_poll(svc);
	for (ep = idc->eps; ep; ep = next) {
		next = ep->next;
		if (ep->state == XSEG_EP_DEAD && ep->port < 0)
			continue;
		n += xseg_idc_process_replies(ep);
		n += xseg_idc_process_requests(ep);
		n += xseg_idc_step(ep);
	}
	idc->polling = 0;
	return n;
}

int xseg_idc_wait(struct xseg_idc *idc, __u32 usec)
{
	int n, ret;

	n = xseg_idc_poll(idc);
	if (n || !usec)
		return n;
	ret = xseg_prepare_wait(idc->sd);
	if (ret)
		return ret;
	/* re-check after arming: work posted before the arm is seen here */
	n = xseg_idc_poll(idc);
	if (!n)
		xseg_wait_signal(idc->sd, usec < XSEG_IDC_WAIT_US ? usec : XSEG_IDC_WAIT_US);
	xseg_cancel_wait(idc->sd);
	return n + xseg_idc_poll(idc);
}
