/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Endpoints, messages, transactions and remote buffers: the high-level inter-domain
 * communication (IDC) API of libxseg and xseg.ko, after the design sketched on xen-devel in
 * 2005 ("Interdomain comms").  Built on ports and requests of a segment with XSEG_FEAT_IDC.
 *
 * A client sets up a channel in four statements (see README, "Endpoints"):
 *
 *	xseg_join(&xseg_posix_backend, "seg", &xseg);
 *	xseg_idc_init(&idc, xseg, "futex");
 *	xseg_endpoint_create(&ep, &idc, "echo", &ops, NULL);
 *	while (!xseg_endpoint_connected(&ep))
 *		xseg_idc_wait(&idc, 100000);
 *
 * Threading: an xseg_idc and everything attached to it (endpoints, services, buffers) is
 * driven by one thread at a time; every callback runs from xseg_idc_poll()/xseg_idc_wait() or
 * from a call on the same idc.  Callbacks may submit, complete and disconnect, but must not
 * destroy an endpoint or finalise the idc.
 *
 * Every structure is allocated by the caller (process-local memory, never the segment), so
 * creating an endpoint cannot fail for lack of resources.  Fields under "private" belong to
 * the implementation.
 */
#ifndef _XSEG_IDC_H
#define _XSEG_IDC_H

#include <xseg/xseg.h>

#define XSEG_IDC_MAX_QUOTA	32	/* in-flight items per direction per endpoint */
#define XSEG_IDC_DEF_QUOTA	16
#define XSEG_IDC_DEF_SIZE	4096	/* default max message body / params / status */
#define XSEG_IDC_MAX_SIZE	(1024U * 1024U)	/* 1 MiB */

struct xseg_endpoint;
struct xseg_idc_service;

/* A local buffer reference: memory of this peer (anywhere) or, for zero copy, of the heap. */
struct xseg_idc_lbuf {
	void *addr;
	__u64 len;
};

/*
 * A one-way message.
 *
 * Sender: body is copied into the segment at submit; complete(msg) runs when the receiver is
 *	done with it (error 0) or the transport failed (error < 0: -ECONNRESET the connection
 *	went down, -EPIPE the remote died, -ETIMEDOUT no answer, -EAGAIN the remote was full).
 * Receiver: handle_message(ep, msg) gets body pointing into the segment (zero copy), valid
 *	until xseg_idc_message_complete(msg).
 */
struct xseg_idc_message {
	struct xseg_idc_lbuf body;
	int error;
	void (*complete)(struct xseg_idc_message *msg);
	void *priv;			/* the caller's */
	/* private */
	struct xseg_endpoint *ep;
	struct xseg_request *req;
	__u64 epoch;
};

/*
 * A request-response transaction.
 *
 * Sender: params are copied in at submit; status.len is the room for the answer; on
 *	complete(txn), status_len bytes of status were copied to status.addr and
 *	xseg_idc_transaction_query_error(txn) tells the remote's error or a transport error.
 * Receiver: handle_transaction(ep, txn) gets params and status both pointing into the segment
 *	(status.len is the room the sender gave); it writes status, sets status_len and calls
 *	xseg_idc_transaction_complete(txn, error) when done, now or later.
 */
struct xseg_idc_transaction {
	struct xseg_idc_lbuf params;
	struct xseg_idc_lbuf status;
	__u64 status_len;
	int error;
	void (*complete)(struct xseg_idc_transaction *txn);
	void *priv;
	/* private */
	struct xseg_endpoint *ep;
	struct xseg_request *req;
	__u64 epoch;
};

/*
 * Endpoint callbacks; any may be NULL.
 *
 * appear: the service was found in the registry.  connect: the connection is up; messages
 * and transactions may be submitted.  disconnect: the connection is going down; the endpoint
 * then completes every outstanding message and transaction (answered, or with a transport
 * error) and waits for the client to complete those it received, and only then finishes the
 * disconnect (and reconnects, unless destroyed).  Nothing received before a disconnect is
 * delivered after it.  disappear: the service left the registry (or its owner died).
 */
struct xseg_endpoint_ops {
	void (*appear)(struct xseg_endpoint *ep);
	void (*connect)(struct xseg_endpoint *ep);
	void (*disconnect)(struct xseg_endpoint *ep);
	void (*disappear)(struct xseg_endpoint *ep);
	void (*handle_message)(struct xseg_endpoint *ep, struct xseg_idc_message *msg);
	void (*handle_transaction)(struct xseg_endpoint *ep, struct xseg_idc_transaction *txn);
};

/* Finite sizes of an endpoint; the connection uses the smaller of the two sides'. */
struct xseg_idc_quota {
	__u32 inflight;		/* messages + transactions outstanding, 1..XSEG_IDC_MAX_QUOTA */
	__u32 max_size;		/* bytes of body / params / status, 1..XSEG_IDC_MAX_SIZE */
};

/* The process-local driver of a set of endpoints and services on one segment. */
struct xseg_idc {
	struct xseg *xseg;
	struct xseg_sd *sd;
	const char *sigtype;
	/* private */
	struct xseg_endpoint *eps;	/* every endpoint, client and server side */
	struct xseg_idc_service *svcs;
	struct xseg_idc_xfer *done;	/* finished buffer transfers, callbacks due */
	struct xseg_idc_xfer **done_tail;
	__u64 epoch_seq;
	int polling;
};

/* Endpoint states, in the order of a connection's life. */
enum xseg_endpoint_state {
	XSEG_EP_IDLE = 0,	/* looking the service up */
	XSEG_EP_APPEARED,	/* found; a CONNECT is due */
	XSEG_EP_CONNECTING,
	XSEG_EP_CONNECTED,
	XSEG_EP_DISCONNECTING,	/* draining outstanding and received items */
	XSEG_EP_DEAD,		/* destroyed, or a server slot that is free */
};

/* Slot of an item this endpoint sent and whose reply it waits for. */
struct xseg_idc_out {
	struct xseg_request *req;	/* NULL = free slot */
	void *obj;			/* message or transaction, NULL for protocol requests */
	__u64 epoch;
	__u64 deadline_ns;
	__u32 kind;
	__u32 abandoned;		/* completed locally; the request is still out there */
};

struct xseg_endpoint {
	void *priv;			/* the caller's */
	/* private */
	struct xseg_idc *idc;
	const struct xseg_endpoint_ops *ops;
	struct xseg_idc_service *svc;	/* server side: the service it belongs to */
	struct xseg_endpoint *next;	/* in idc->eps */
	char name[XSEG_IDC_NAME_LEN];
	struct xseg_idc_quota want;	/* this side's quota */
	struct xseg_idc_quota q;	/* the connection's */
	enum xseg_endpoint_state state;
	int port;			/* own port, -1 = none yet */
	__u32 rport;			/* remote port while connecting/connected */
	__u64 rowner;			/* tag that owned rport when the connection was made */
	__u32 svc_gen;			/* registry generation the connection was made to */
	__u32 lport;			/* the service's listening port */
	__u64 epoch;			/* current connection epoch, 0 = none */
	__u64 deadline_ns;		/* connect / disconnect deadline */
	__u64 next_check_ns;		/* next liveness check of the remote */
	__u64 retry_ns;			/* no new CONNECT before */
	int remote_dead;
	int destroying;
	int local_disconnect;
	__u32 nr_out;			/* live (not abandoned) slots of out[] */
	__u32 nr_in;			/* received items not yet completed */
	struct xseg_idc_out out[XSEG_IDC_MAX_QUOTA + 2];	/* + CONNECT and DISCONNECT */
	struct xseg_idc_message rx_msg[XSEG_IDC_MAX_QUOTA];
	struct xseg_idc_transaction rx_txn[XSEG_IDC_MAX_QUOTA];
};

/* A registered service: a listening port and caller-provided server endpoints. */
struct xseg_idc_service {
	/* private */
	struct xseg_idc *idc;
	const struct xseg_endpoint_ops *ops;
	struct xseg_idc_service *next;
	struct xseg_endpoint *conns;
	__u32 nr_conns;
	__u32 entry;			/* registry index */
	int port;			/* listening port */
	struct xseg_idc_quota want;
	char name[XSEG_IDC_NAME_LEN];
};

/* A registered buffer (the local handle of a remote buffer table entry). */
struct xseg_idc_buffer {
	struct xseg_idc_rbuf ref;	/* the whole buffer; pass (a window of) it to others */
	/* private */
	struct xseg_idc *idc;
	__u64 off;
	__u64 len;
	int heap;			/* allocated by xseg_idc_buffer_alloc() */
};

/* An asynchronous transfer to or from a remote buffer. */
struct xseg_idc_xfer {
	int error;			/* 0 or -errno, valid in complete() */
	void (*complete)(struct xseg_idc_xfer *xfer);
	void *priv;
	/* private */
	struct xseg_idc_xfer *next;
};

/* Driver (sys/common/idc.c) */
int xseg_idc_init(struct xseg_idc *idc, struct xseg *xseg, const char *sigtype);
int xseg_idc_fini(struct xseg_idc *idc);
int xseg_idc_poll(struct xseg_idc *idc);
int xseg_idc_wait(struct xseg_idc *idc, __u32 usec);

/* Services */
int xseg_idc_service_register(struct xseg_idc_service *svc, struct xseg_idc *idc,
			      const char *name, const struct xseg_endpoint_ops *ops,
			      struct xseg_endpoint *conns, __u32 nr_conns,
			      const struct xseg_idc_quota *quota);
int xseg_idc_service_unregister(struct xseg_idc_service *svc, __u32 usec);
int xseg_idc_lookup(struct xseg *xseg, const char *name, __u32 *portp);

/* Endpoints */
void xseg_endpoint_create(struct xseg_endpoint *ep, struct xseg_idc *idc, const char *service,
			  const struct xseg_endpoint_ops *ops, const struct xseg_idc_quota *quota);
/*
 * destroy / unregister: go through the disconnect (bounded by usec, then forced) and free the
 * port(s).  usec 0: do not block; -EINPROGRESS until the disconnect finished (keep polling
 * the idc and call again).  Not from a callback.
 */
int xseg_endpoint_destroy(struct xseg_endpoint *ep, __u32 usec);
int xseg_endpoint_disconnect(struct xseg_endpoint *ep);
int xseg_endpoint_connected(struct xseg_endpoint *ep);
enum xseg_endpoint_state xseg_endpoint_state(struct xseg_endpoint *ep);
int xseg_endpoint_submit_message(struct xseg_endpoint *ep, struct xseg_idc_message *msg);
int xseg_endpoint_submit_transaction(struct xseg_endpoint *ep,
				     struct xseg_idc_transaction *txn);
int xseg_idc_message_complete(struct xseg_idc_message *msg);
int xseg_idc_transaction_complete(struct xseg_idc_transaction *txn, int error);
int xseg_idc_transaction_query_error(struct xseg_idc_transaction *txn);

/* Buffers (sys/common/idc_buffer.c) */
int xseg_idc_buffer_alloc(struct xseg_idc *idc, __u64 len, struct xseg_idc_lbuf *lbuf);
int xseg_idc_buffer_free(struct xseg_idc *idc, struct xseg_idc_lbuf *lbuf);
int xseg_idc_register_buffer(struct xseg_idc *idc, struct xseg_idc_lbuf *lbuf, __u32 rights,
			     struct xseg_idc_buffer *buf);
int xseg_idc_unregister_buffer(struct xseg_idc_buffer *buf);
int xseg_idc_send_to_remote_buffer(struct xseg_idc *idc, const struct xseg_idc_rbuf *rbuf,
				   __u64 offset, const struct xseg_idc_lbuf *lbuf,
				   struct xseg_idc_xfer *xfer);
int xseg_idc_receive_from_remote_buffer(struct xseg_idc *idc, const struct xseg_idc_rbuf *rbuf,
					__u64 offset, const struct xseg_idc_lbuf *lbuf,
					struct xseg_idc_xfer *xfer);

#endif /* _XSEG_IDC_H */
