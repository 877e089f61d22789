/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * xseg shared segment ABI.
 *
 * Everything in this file lives inside the shared segment, which kernel peers and user peers
 * map at different addresses at the same time.  Rules:
 *
 *  - fixed-width types only, explicit padding, no implicit holes or tail padding;
 *  - every reference inside the segment is a __u64 byte offset from the segment base
 *    (0 means "none": offset 0 is the header and never a valid target);
 *  - little-endian, 64-bit atomic compare-and-swap required (x86_64, arm64...);
 *  - new fields only in reserved space or behind a feature bit; unknown feature bits are
 *    refused at join;
 *  - nothing here is trusted by the reader: every field is read once, validated and only the
 *    validated local copy is used (see sys/common/).
 *
 * Layout of a segment (each table starts on an XSEG_TABLE_ALIGN boundary):
 *
 *   header | ports[nr_ports] | requests[nr_requests] | signal descs[nr_sds] |
 *   signal desc type data[nr_sds] | type table[XSEG_MAX_TYPES] |
 *   rings[2 * nr_ports] | heap bitmap | heap (data buffers) |
 *   [XSEG_FEAT_IDC: services[XSEG_IDC_SERVICES] | buffers[XSEG_IDC_BUFFERS]]
 *
 * The offsets recorded in the header must equal the ones recomputed from the counts; join
 * refuses a segment where they differ.
 */
#ifndef _UAPI_XSEG_XSEG_H
#define _UAPI_XSEG_XSEG_H

#include <linux/types.h>

#define XSEG_MAGIC		0x31474553584d4853ULL	/* "SHMXSEG1", written last at init */
#define XSEG_VERSION		1

/*
 * Peer tags (owner fields): bits 0-31 the process id of a user peer (0 for kernel peers),
 * bits 32-62 a nonce distinguishing handles, whose lowest bit (bit 32, XSEG_TAG_ONE) is
 * always set, bit 63 set for kernel peers.  0 means "none".
 */
#define XSEG_TAG_KERNEL		(1ULL << 63)
#define XSEG_TAG_ONE		(1ULL << 32)
#define XSEG_TAG_PID(tag)	((__u32)(tag))

/*
 * Queue tickets (XSEG_FEAT_TICKETS): while a request sits in a ring, its holder field is not
 * a tag but the ticket of the ring position it was published at: bits 0-31 the ring sequence
 * number, bit 32 clear (never a tag), bits 33-62 the ring number + 1 (ring number: port * 2,
 * + 1 for the reply ring).  A consumer claims the request by swapping the ticket of the slot
 * it read for its own tag (see struct xseg_ring).  A holder value is a ticket when it is not 0
 * and has XSEG_TAG_ONE clear.
 */
#define XSEG_TICKET(ring, seq)	((((__u64)(ring) + 1) << 33) | (__u32)(seq))
#define XSEG_TICKET_RING(t)	((__u32)((t) >> 33) - 1)
#define XSEG_TICKET_SEQ(t)	((__u32)(t))

/* Feature bits (header.features).  A joiner refuses unknown bits. */
/*
 * XSEG_FEAT_IDC: the segment carries the tables of the inter-domain communication API
 * (service registry and remote buffer table, see struct xseg_service_entry), after the heap at
 * header.idc_off.  Set by every segment created since; a segment without it still joins, the
 * endpoint API then fails with -EOPNOTSUPP.
 */
#define XSEG_FEAT_IDC		(1ULL << 0)
/*
 * XSEG_FEAT_TICKETS: a queued request's holder is the ticket of its ring position, and a
 * consumer claims it through that ticket before it advances the ring (crash-safe take, see
 * struct xseg_ring).  Required: a segment without it was created by code whose peers take a
 * request off a ring before naming themselves its holder and publish it with holder 0, which
 * this protocol would take for a stale entry; such a segment is refused at join (-EPROTO).
 */
#define XSEG_FEAT_TICKETS	(1ULL << 1)
/*
 * XSEG_FEAT_REQ_CLAIM: requests are allocated by claiming them in place, not popped off a
 * free stack: a request is free when its state is FREE and its holder 0; a peer takes it by
 * CAS of holder 0 -> its tag, then of state FREE -> GOT, and gives it back by state -> FREE,
 * then holder 0.  A peer killed between the two leaves a FREE request naming it, which
 * reclaim hands back (holder -> 0).  header.reserved1 (the old stack head) and
 * xseg_request.pad0 (the old stack link) are unused.  Required: code without it pops
 * requests off the stack, which this code neither keeps nor respects (a request it frees
 * would never reach the stack, one on the stack could be claimed twice); such a segment is
 * refused at join (-EPROTO), and older code refuses this one (unknown bit).
 */
#define XSEG_FEAT_REQ_CLAIM	(1ULL << 2)
#define XSEG_FEATURES_SUPPORTED	(XSEG_FEAT_IDC | XSEG_FEAT_TICKETS | XSEG_FEAT_REQ_CLAIM)
#define XSEG_FEATURES_REQUIRED	(XSEG_FEAT_TICKETS | XSEG_FEAT_REQ_CLAIM)

#define XSEG_CACHELINE		64
#define XSEG_TABLE_ALIGN	4096
#define XSEG_HEADER_SIZE	4096	/* bytes reserved for the header at offset 0 */

#define XSEG_MAX_PORTS		4096	/* port numbers fit in the __u16 path entries */
#define XSEG_MAX_REQUESTS	(1U << 20)
#define XSEG_MAX_SDS		4096
#define XSEG_MAX_TYPES		16	/* entries in the signal type table */
#define XSEG_TYPE_NAME_LEN	48	/* including the terminating NUL */
#define XSEG_SD_DATA_SIZE	64	/* bytes of type-specific data per signal descriptor */
#define XSEG_PATH_MAX		8	/* ports a reply retraces (submit + 7 forwards) */
#define XSEG_MAX_TARGETLEN	4096
#define XSEG_MIN_ALLOC_UNIT	512
#define XSEG_MAX_ALLOC_UNIT	65536
#define XSEG_MAX_HEAP_UNITS	(1U << 24)
#define XSEG_IDC_SERVICES	64	/* service registry entries (XSEG_FEAT_IDC) */
#define XSEG_IDC_BUFFERS	256	/* remote buffer table entries (XSEG_FEAT_IDC) */
#define XSEG_IDC_NAME_LEN	40	/* service name, including the terminating NUL */

/*
 * Segment header, at offset 0.  The creator fills everything, then publishes magic with a
 * release store; a joiner loads magic with acquire before reading anything else.
 */
struct xseg_header {
	__u64 magic;		/* XSEG_MAGIC once initialised */
	__u32 version;		/* XSEG_VERSION */
	__u32 header_size;	/* sizeof(struct xseg_header) */
	__u64 features;		/* XSEG_FEATURES_* bitmask */
	__u64 size;		/* total segment size in bytes */
	__u32 nr_ports;
	__u32 nr_requests;
	__u32 nr_sds;		/* signal descriptors */
	__u32 nr_types;		/* type table entries, XSEG_MAX_TYPES */
	__u32 ring_size;	/* slots per ring, power of two >= nr_requests */
	__u32 alloc_unit;	/* heap allocation granularity, power of two */
	__u64 ports_off;	/* struct xseg_port[nr_ports] */
	__u64 requests_off;	/* struct xseg_request[nr_requests] */
	__u64 sds_off;		/* struct xseg_signal_desc[nr_sds] */
	__u64 sd_data_off;	/* XSEG_SD_DATA_SIZE bytes per descriptor */
	__u64 types_off;	/* struct xseg_type_entry[nr_types] */
	__u64 rings_off;	/* 2 * nr_ports rings: request ring then reply ring of each port */
	__u64 ring_bytes;	/* bytes per ring (header + slots, cache line aligned) */
	__u64 bitmap_off;	/* __u64 words, one bit per heap unit, 1 = used */
	__u64 heap_off;		/* data buffers */
	__u64 heap_size;	/* bytes, multiple of alloc_unit */
	__u64 creator;		/* peer tag of the creator (informational) */
	__u8 reserved0[48];	/* pads the read-mostly part to three cache lines */

	/* unused, 0 (the head of the free request stack before XSEG_FEAT_REQ_CLAIM) */
	__u64 reserved1;
	__u8 pad1[56];

	/*
	 * Hot: next-fit hint of the heap allocator for long-lived buffers (IDC); request
	 * buffers are placed first fit from their port's home instead.  Advisory only; taken
	 * modulo the heap.
	 */
	__u32 alloc_hint;
	__u32 pad2;
	__u8 pad3[56];

	/* XSEG_FEAT_IDC (zero without it) */
	__u64 idc_off;		/* struct xseg_service_entry[nr_services], then buffers */
	__u32 nr_services;	/* XSEG_IDC_SERVICES */
	__u32 nr_buffers;	/* XSEG_IDC_BUFFERS */

	__u8 reserved[176];	/* future fields, zero */
};

/*
 * A port: where a peer receives requests (request ring) and replies (reply ring).
 * owner is claimed with compare-and-swap 0 -> tag; a port whose owner is dead can be taken
 * over (see xseg_bind_port()).
 */
struct xseg_port {
	__u64 owner;		/* peer tag of the bound peer, 0 = free */
	__u64 sd_off;		/* offset of the bound struct xseg_signal_desc, 0 = none */
	__u64 rq_off;		/* offset of the request ring (informational: readers recompute) */
	__u64 rp_off;		/* offset of the reply ring (informational) */
	__u32 index;		/* own port number */
	__u32 flags;		/* reserved, 0 */
	__u8 reserved[24];
};

/* Request states.  Distinct values: a state read from the segment is validated by range. */
enum xseg_req_state {
	XSEG_RS_FREE = 1,	/* free: taken by whoever claims it (holder 0 -> tag) */
	XSEG_RS_GOT,		/* owned by its source peer, being prepared */
	XSEG_RS_SUBMITTED,	/* queued in the request ring of dst */
	XSEG_RS_SERVING,	/* accepted by dst (or a reply came back to a forwarder) */
	XSEG_RS_RESPONDED,	/* queued in the reply ring of dst */
	XSEG_RS_CONCLUDED,	/* reply received by the originator */
	XSEG_RS_MAX = XSEG_RS_CONCLUDED,
};

/* Request operations (xseg_request.op). */
enum xseg_req_op {
	XSEG_OP_NONE = 0,
	XSEG_OP_READ,
	XSEG_OP_WRITE,
	XSEG_OP_FLUSH,
	XSEG_OP_DISCARD,
	XSEG_OP_WRITE_ZEROES,
	XSEG_OP_INFO,		/* reply data: struct xseg_reply_info */
	XSEG_OP_DELETE,
	XSEG_OP_PING,
	/* endpoint protocol (XSEG_FEAT_IDC); offset carries the connection epoch */
	XSEG_OP_IDC_CONNECT,	/* data: struct xseg_idc_hello, both ways */
	XSEG_OP_IDC_DISCONNECT,	/* no data */
	XSEG_OP_IDC_MSG,	/* data: body (size bytes) */
	XSEG_OP_IDC_TXN,	/* data: params (size bytes), status room; serviced: status */
	XSEG_OP_MAX = XSEG_OP_IDC_TXN,
};

/*
 * Route flags (xseg_request.route_flags, XSEG_FEAT_TICKETS).  src, dst, path_len and
 * route_flags form one 64-bit word, the route, always written with a single store.  A holder
 * handing a SERVING request on writes the new route with the flag of the hand-over before it
 * changes the state, so that reclaim, finding the holder dead with the route already
 * changed, completes the hand-over instead of answering along the wrong path.  The next
 * holder clears the flag before it moves the request into SERVING again.
 */
#define XSEG_ROUTE_RESPONDING	(1U << 0)	/* respond: dst and path_len popped */
#define XSEG_ROUTE_FORWARDING	(1U << 1)	/* forward: dst and path_len pushed */
#define XSEG_ROUTE(src, dst, len, fl)	((__u64)(__u16)(src) | (__u64)(__u16)(dst) << 16 | \
					 (__u64)(__u16)(len) << 32 | (__u64)(__u16)(fl) << 48)
#define XSEG_ROUTE_SRC(r)	((__u16)(r))
#define XSEG_ROUTE_DST(r)	((__u16)((r) >> 16))
#define XSEG_ROUTE_LEN(r)	((__u16)((r) >> 32))
#define XSEG_ROUTE_FLAGS(r)	((__u16)((r) >> 48))

/* Request flags (xseg_request.flags). */
#define XSEG_RF_FUA		(1U << 0)	/* write through to stable storage */
#define XSEG_RF_FLUSH		(1U << 1)	/* flush before this request */
#define XSEG_RF_ALL		(XSEG_RF_FUA | XSEG_RF_FLUSH)

/*
 * A request.  src is the originator, dst the port currently responsible for it.  path[] is a
 * stack of the ports a reply must retrace: submit pushes src, forward pushes the forwarder,
 * respond pops the port the reply goes to.
 *
 * The buffer [buf_off, buf_off + buf_len) is one heap allocation holding the data (at its
 * start, so it is alloc_unit aligned) followed by the target name.
 */
struct xseg_request {
	__u32 state;		/* enum xseg_req_state */
	__u32 index;		/* own index in the request table */
	__u64 holder;		/* tag of the peer holding it, or its queue ticket; 0 = free */
	__u32 op;		/* enum xseg_req_op */
	__u32 flags;		/* XSEG_RF_* */
	__u64 offset;		/* byte offset of the I/O in the target */
	__u64 size;		/* bytes requested */
	__u64 serviced;		/* bytes done, set by the server */
	__s32 result;		/* 0 or -errno, set by the server */
	__u32 pad0;		/* unused, 0 (the free stack link before XSEG_FEAT_REQ_CLAIM) */
	union {
		struct {
			__u16 src;		/* originator port */
			__u16 dst;		/* current port */
			__u16 path_len;		/* entries used in path[] */
			__u16 route_flags;	/* XSEG_ROUTE_*, in state SERVING only */
		};
		__u64 route;	/* the four above as one word (XSEG_ROUTE_*) */
	};
	__u16 path[XSEG_PATH_MAX];
	__u64 buf_off;		/* heap allocation, 0 = none */
	__u64 buf_len;
	__u64 data_off;
	__u64 data_len;
	__u64 target_off;
	__u32 target_len;
	__u32 pad1;
	__u64 priv;		/* free for the originator (e.g. a block layer tag) */
	__u8 reserved[56];
};

/*
 * A ring: lock-free multi-producer multi-consumer queue of request indices.
 *
 * Each slot is one __u64: bits 32-63 the sequence number it belongs to, bits 0-31 the request
 * index + 1 (0 = empty).  Slot i starts as (seq i, empty).  A producer publishes sequence p by
 * a single CAS of slot p % size from (p, empty) to (p, index + 1); a consumer takes sequence c
 * by a single CAS of slot c % size from (c, index + 1) to (c + size, empty).  Claim and
 * publish are one atomic step, so there is no reserved-but-unwritten slot a dead or stalled
 * peer could leave behind.  prod and cons are hints that anyone may advance by CAS once the
 * slot of the current value has been published/consumed.
 *
 * Crash-safe hand-over (XSEG_FEAT_TICKETS).  Before its publishing CAS the producer swaps the
 * request's holder from its own tag (or its previous ticket) to the ticket (ring, p) of the
 * slot it is about to fill.  A consumer reading (c, index + 1) claims the request by swapping
 * holder from ticket (ring, c) to its own tag, and only then consumes the slot.  A request
 * whose holder is not the ticket of the slot naming it is a stale entry (claimed by a peer
 * that died before consuming the slot, or taken over by reclaim): it is consumed and skipped.
 * So a peer killed at any instruction leaves each request either queued under its ticket or
 * held by its tag, which reclaim recognises once the peer is dead.
 *
 * Wrap rule: indices and sequence numbers are free-running __u32 and compared only through
 * their signed 32-bit difference, valid while fewer than 2^31 operations are outstanding;
 * size is a power of two, so the slot of sequence s is s & (size - 1) across the wrap.
 * Tickets compare sequence numbers for equality: a stale entry could be mistaken for a live
 * one only if its ring wrapped 2^32 sequence numbers while the entry stayed at its head.
 */
struct xseg_ring {
	__u32 prod;		/* next sequence to publish; own cache line (producers) */
	__u8 pad0[60];
	__u32 cons;		/* next sequence to consume; own cache line (consumers) */
	__u8 pad1[60];
	__u64 slots[];		/* header.ring_size entries */
};

/* Signal descriptor states. */
#define XSEG_SD_FREE		0
#define XSEG_SD_ACTIVE		1

/*
 * A signal descriptor: how to wake the peer bound to a port.
 *
 * Notification suppression words (one cache line, written by both sides):
 *
 *  waiting: the receiver armed itself (xseg_prepare_wait()) and may go to sleep;
 *  pending: a sender performed (or is performing) the expensive wake since the receiver last
 *           armed; other senders skip the wake;
 *  dirty:   work was posted since the receiver last armed.
 *
 * Sender (xseg_signal(), after publishing to a ring): full barrier; dirty = 1; full barrier;
 * if waiting and CAS(pending, 0 -> 1): wake.  Receiver: dirty = 0; pending = 0; waiting = 1;
 * full barrier; re-check the rings; sleep only while dirty == 0; waiting = 0 when done.
 * Either the sender sees waiting == 1, or the receiver's re-check sees the posted work: the
 * two full barriers forbid both reading the old value.  A busy receiver (waiting == 0) costs
 * the sender no wake at all.
 */
struct xseg_signal_desc {
	__u32 state;		/* XSEG_SD_FREE / XSEG_SD_ACTIVE */
	__u32 type;		/* type id: type table index + 1 */
	__u32 refcount;		/* creator's reference + one per bound port */
	__u32 owner_ref;	/* 1 while the creator still holds its reference */
	__u64 owner;		/* peer tag of the creator */
	__u64 data_off;		/* offset of the XSEG_SD_DATA_SIZE bytes of type data */
	__u32 index;		/* own index */
	__u32 pad0;
	__u8 reserved0[24];

	__u32 waiting;
	__u32 pending;
	__u32 dirty;
	__u32 pad1;
	__u8 reserved1[48];
};

/* Type table entry states. */
#define XSEG_TYPE_FREE		0
#define XSEG_TYPE_CLAIMING	1	/* owner is writing the name */
#define XSEG_TYPE_READY		2	/* name final, entry never changes again */

/*
 * Signal type table: name -> id (index + 1), assigned on first use by any peer and fixed for
 * the life of the segment, so every peer in every domain maps names to ids the same way.
 */
struct xseg_type_entry {
	__u64 owner;		/* tag of the peer that claimed the entry */
	__u32 state;		/* XSEG_TYPE_* */
	__u32 pad0;
	char name[XSEG_TYPE_NAME_LEN];	/* NUL terminated */
};

/* Reply data of XSEG_OP_INFO. */
struct xseg_reply_info {
	__u64 size;		/* target size in bytes */
	__u32 block_size;	/* logical block size */
	__u32 flags;		/* reserved, 0 */
};

/* Service registry entry states (XSEG_FEAT_IDC). */
#define XSEG_SVC_FREE		0
#define XSEG_SVC_CLAIMING	1	/* owner is writing name and port */
#define XSEG_SVC_READY		2

/*
 * A service registry entry: name -> listening port.  Claimed by CAS of owner 0 -> tag (or
 * from a dead owner's tag) then state CLAIMING, published by a release store of READY;
 * released by state FREE, then owner 0.
 * gen is bumped at each registration so that a client sees a restarted service as new.
 */
struct xseg_service_entry {
	__u64 owner;		/* tag of the registering peer, 0 = none */
	__u32 state;		/* XSEG_SVC_* */
	__u32 port;		/* listening port */
	__u32 gen;		/* registration generation */
	__u32 pad0;
	char name[XSEG_IDC_NAME_LEN];	/* NUL terminated */
};

/* Remote buffer entry states. */
#define XSEG_BUF_FREE		0
#define XSEG_BUF_CLAIMING	1
#define XSEG_BUF_ACTIVE		2

/* Rights of a remote buffer (xseg_buffer_entry.rights, xseg_idc_rbuf.rights). */
#define XSEG_BUF_READ		(1U << 0)	/* others may receive_from_remote_buffer */
#define XSEG_BUF_WRITE		(1U << 1)	/* others may send_to_remote_buffer */
#define XSEG_BUF_RIGHTS		(XSEG_BUF_READ | XSEG_BUF_WRITE)

/*
 * A registered buffer: a heap range others may copy to or from through a remote buffer
 * reference.  Unregistering bumps gen (odd = active, even = not), so every reference made
 * before fails from then on.  users counts transfers in progress; unregister waits (bounded)
 * for them to drain before the owner may reuse the memory.
 */
struct xseg_buffer_entry {
	__u64 owner;		/* tag of the registering peer */
	__u32 state;		/* XSEG_BUF_* */
	__u32 gen;		/* odd while active */
	__u64 off;		/* heap offset of the buffer */
	__u64 len;
	__u32 rights;		/* XSEG_BUF_* rights */
	__u32 users;		/* transfers in progress */
	__u8 reserved[24];
};

/*
 * A remote buffer reference, as passed inside messages and transactions (plain bytes: it may
 * be copied, forwarded to a third peer, or forged; every use validates it against the table).
 */
struct xseg_idc_rbuf {
	__u32 index;		/* buffer table entry */
	__u32 gen;		/* entry generation at registration */
	__u64 offset;		/* window inside the buffer */
	__u64 len;
	__u32 rights;		/* subset of the entry's rights */
	__u32 pad;
};

/* Data of XSEG_OP_IDC_CONNECT, request and reply. */
struct xseg_idc_hello {
	__u64 epoch;		/* connection epoch chosen by the client, never 0 */
	__u32 quota;		/* in-flight messages + transactions per direction */
	__u32 max_size;		/* bytes of a message body / transaction params or status */
	__u32 port;		/* reply: the server endpoint's port */
	__u32 pad;
};

#endif /* _UAPI_XSEG_XSEG_H */
