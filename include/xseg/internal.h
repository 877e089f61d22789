/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internal interfaces of the core (sys/common/), shared by its files and by the unit tests
 * that link libxseg.a.  Not installed, not exported.
 */
#ifndef _XSEG_INTERNAL_H
#define _XSEG_INTERNAL_H

#include <xseg/domain.h>
#include <xseg/xseg.h>

#define XSEG_CAS_TRIES		1024	/* bound of every compare-and-swap retry loop */

/* a: a power of two */
static inline u64 xseg_align(u64 x, u64 a)
{
	return (x + a - 1) & ~(a - 1);
}

static inline u64 xseg_div_round_up(u64 n, u64 d)
{
	return (n + d - 1) / d;
}

#define XSEG_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Validated geometry: a local copy of the header, the only one the core ever uses. */
struct xseg_geom {
	u64 size;
	u32 nr_ports;
	u32 nr_requests;
	u32 nr_sds;
	u32 nr_types;
	u32 ring_size;
	u32 alloc_unit;
	u64 ports_off;
	u64 requests_off;
	u64 sds_off;
	u64 sd_data_off;
	u64 types_off;
	u64 rings_off;
	u64 ring_bytes;
	u64 bitmap_off;
	u64 heap_off;
	u64 heap_size;
	u32 heap_units;
	u32 bitmap_words;
	u64 features;		/* XSEG_FEAT_* of the segment */
	u64 idc_off;		/* XSEG_FEAT_IDC: service registry, 0 = absent */
	u64 bufs_off;		/* XSEG_FEAT_IDC: remote buffer table, 0 = absent */
};

/* Per handle, per type id state.  Protected by xseg->lock. */
struct xseg_type_state {
	const struct xseg_signal_type *ops;	/* resolved from the registry, NULL = not yet */
	u32 local_inits;	/* xseg_local_signal_init() minus quit */
	u32 live_sds;		/* descriptors this peer created and has not put */
	bool remote_ready;	/* remote_signal_init() done */
};

/*
 * Where xseg_get_request() from one source port looks for a free request (request.c):
 * first the one this handle last put from that port, then onwards from where its previous
 * scan stopped.  Process-local and advisory: loaded and stored relaxed by whichever thread
 * gets or puts, any value is harmless (the claim CAS decides).
 */
struct xseg_req_cursor {
	u32 last_put;			/* index + 1 of the request last put, 0 = none */
	u32 next;			/* where the next scan starts */
};

struct xseg {
	u8 *base;
	struct xseg_geom g;
	u64 tag;			/* this peer's owner tag */
	const struct xseg_backend_ops *be;	/* NULL for xseg_join_mem() */
	void *be_priv;
	/* protects bound[] writes, sds, types[] and the registry references they hold */
	struct xseg_lock lock;
	u8 *bound;			/* nr_ports flags: this handle bound the port */
	struct xseg_req_cursor *req_cursor;	/* nr_ports, see below */
	struct xseg_sd *sds;		/* this peer's descriptor handles */
	struct xseg_type_state types[XSEG_MAX_TYPES + 1];	/* by type id */
	xseg_counter_t nr_signals;
	xseg_counter_t nr_wakes;
};

/* A signal descriptor handle (process-local). */
struct xseg_sd {
	struct xseg_sd_ctx ctx;
	u32 type;			/* type id, validated at creation */
	const struct xseg_signal_type *ops;
	struct xseg_sd *next;		/* in xseg->sds, protected by xseg->lock */
};

/* segment.c */
int xseg_compute_layout(u32 nr_ports, u32 nr_requests, u32 nr_sds, u32 alloc_unit,
			u64 heap_size, struct xseg_geom *g);
int xseg_check_range(struct xseg *xseg, u64 off, u64 len);

static inline struct xseg_header *xseg_hdr(struct xseg *xseg)
{
	return (struct xseg_header *)xseg->base;
}

static inline struct xseg_port *xseg_port_at(struct xseg *xseg, u32 portno)
{
	return (struct xseg_port *)(xseg->base + xseg->g.ports_off) + portno;
}

static inline struct xseg_request *xseg_req_at(struct xseg *xseg, u32 idx)
{
	return (struct xseg_request *)(xseg->base + xseg->g.requests_off) + idx;
}

static inline struct xseg_signal_desc *xseg_sd_at(struct xseg *xseg, u32 idx)
{
	return (struct xseg_signal_desc *)(xseg->base + xseg->g.sds_off) + idx;
}

static inline struct xseg_service_entry *xseg_svc_at(struct xseg *xseg, u32 idx)
{
	return (struct xseg_service_entry *)(xseg->base + xseg->g.idc_off) + idx;
}

static inline struct xseg_buffer_entry *xseg_buf_at(struct xseg *xseg, u32 idx)
{
	return (struct xseg_buffer_entry *)(xseg->base + xseg->g.bufs_off) + idx;
}

static inline struct xseg_type_entry *xseg_type_at(struct xseg *xseg, u32 idx)
{
	return (struct xseg_type_entry *)(xseg->base + xseg->g.types_off) + idx;
}

/* Ring number rn: portno * 2 + which (the number in a queue ticket); rn < 2 * nr_ports. */
static inline struct xseg_ring *xseg_ring_nr(struct xseg *xseg, u32 rn)
{
	return (struct xseg_ring *)(xseg->base + xseg->g.rings_off +
				    (u64)rn * xseg->g.ring_bytes);
}

/* which: 0 = request ring, 1 = reply ring */
static inline struct xseg_ring *xseg_ring_at(struct xseg *xseg, u32 portno, u32 which)
{
	return xseg_ring_nr(xseg, portno * 2 + which);
}

/* A holder word is a queue ticket (XSEG_TICKET()), not a peer tag and not 0. */
static inline bool xseg_holder_is_ticket(u64 holder)
{
	return holder && !(holder & XSEG_TAG_ONE);
}

static inline bool xseg_port_is_mine(struct xseg *xseg, u32 portno)
{
	return portno < xseg->g.nr_ports && xseg_load_relaxed(&xseg->bound[portno]);
}

/* alloc.c: heap of data buffers; offsets are from the segment base */
int xseg_heap_alloc(struct xseg *xseg, u64 size, u64 *offp);
int xseg_heap_alloc_port(struct xseg *xseg, u64 size, u32 portno, u64 *offp);
int xseg_heap_free(struct xseg *xseg, u64 off, u64 size);
void xseg_heap_stats(struct xseg *xseg, u64 *freep, u64 *usedp, u64 *largestp);
void xseg_heap_init(struct xseg *xseg);

/* ring.c */
void xseg_ring_init(struct xseg_ring *ring, u32 size);
int xseg_ring_push(struct xseg *xseg, u32 rn, u32 idx, u64 *heldp);
int xseg_ring_take(struct xseg *xseg, u32 rn, u32 *idxp);
bool xseg_ring_holds(struct xseg *xseg, u64 ticket, u32 idx);
u32 xseg_ring_count(struct xseg *xseg, struct xseg_ring *ring);

/* request.c */
void xseg_requests_init(struct xseg *xseg);
int xseg_reclaim_requests(struct xseg *xseg);
u32 xseg_requests_free_count(struct xseg *xseg);

/* port.c */
int xseg_reclaim_ports(struct xseg *xseg);
void xseg_leave_all_ports(struct xseg *xseg);

/* signal.c */
int xseg_sd_from_off(struct xseg *xseg, u64 off, u32 *idxp);
int xseg_sd_get_ref(struct xseg *xseg, u32 idx);
int xseg_sd_put_ref(struct xseg *xseg, u32 idx);
int xseg_reclaim_sds(struct xseg *xseg);
void xseg_signal_leave(struct xseg *xseg);
const struct xseg_signal_type *xseg_builtin_type(const char *name);

/* claim.c: claiming an entry of a segment table with a state and an owner word */
enum xseg_claim {
	XSEG_CLAIM_FRESH,	/* the entry was free (owner 0); *deadp is 0 */
	XSEG_CLAIM_TAKEOVER,	/* the entry was a dead peer's: its tag in *deadp */
};

/*
 * XSEG_CLAIM_* (owner is then this peer, state st_claiming) or -EBUSY; deadp may be NULL.
 * A release stores the free state first, then owner 0 with release semantics.
 */
int xseg_entry_claim(struct xseg *xseg, u32 *state, u64 *owner, u32 st_claiming, u64 *deadp);

/* idc_registry.c */
int xseg_idc_name_check(const char *name);
int xseg_idc_registry_find(struct xseg *xseg, const char *name, u32 *idxp, u32 *portp,
			   u32 *genp, u64 *ownerp);
int xseg_idc_registry_add(struct xseg *xseg, const char *name, u32 port, u32 *idxp);
int xseg_idc_registry_del(struct xseg *xseg, u32 idx);

/* idc_buffer.c */
struct xseg_idc;
void xseg_idc_run_transfers(struct xseg_idc *idc);

/* signal_poll.c */
extern const struct xseg_signal_type xseg_poll_type;

#endif /* _XSEG_INTERNAL_H */
