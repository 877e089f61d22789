/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libxseg / xseg.ko public API.
 *
 * All functions return 0 or a positive value on success and -errno on failure.  Functions
 * that hand out a request or descriptor do so through an out parameter.  The segment is never
 * trusted: a corrupted field makes the call fail with -EINVAL, -EFAULT or -EIO.
 */
#ifndef _XSEG_XSEG_H
#define _XSEG_XSEG_H

#include <linux/types.h>
#include <uapi/xseg/xseg.h>

struct xseg;		/* a peer's handle on a joined segment (process-local) */
struct xseg_sd;		/* a peer's handle on a signal descriptor (process-local) */

/* Geometry of a new segment; xseg_config_default() fills sensible values. */
struct xseg_config {
	__u32 nr_ports;		/* 1..XSEG_MAX_PORTS */
	__u32 nr_requests;	/* 1..XSEG_MAX_REQUESTS */
	__u32 nr_sds;		/* signal descriptors, 1..XSEG_MAX_SDS */
	__u32 alloc_unit;	/* heap granularity ("page size"), power of two */
	__u64 heap_size;	/* bytes of data buffer space */
	__u32 mode;		/* backend permission bits, 0 = 0600 */
	__u32 reserved;
};

/* A segment backend: where the memory comes from (POSIX shm, segdev, ...). */
struct xseg_backend_ops {
	const char *name;
	/* create the named region of size bytes (fails with -EEXIST if it exists) */
	int (*create)(const char *name, __u64 size, __u32 mode);
	/* remove the name; existing mappings stay valid */
	int (*destroy)(const char *name);
	/* map the named region; *sizep is its size */
	int (*map)(const char *name, void **basep, __u64 *sizep, void **privp);
	void (*unmap)(void *base, __u64 size, void *priv);
};

/* Snapshot of a segment, for tools and tests. */
struct xseg_info {
	__u64 size;
	__u32 nr_ports;
	__u32 nr_requests;
	__u32 nr_sds;
	__u32 alloc_unit;
	__u64 heap_size;
	__u64 heap_free;	/* bytes */
	__u64 heap_used;	/* bytes */
	__u64 heap_largest_free;	/* largest contiguous free run, bytes */
	__u32 ports_bound;
	__u32 requests_free;	/* requests a get can take: FREE, no holder */
	__u32 sds_active;
	__u32 types_registered;
};

/* Process-local counters of one handle. */
struct xseg_stats {
	__u64 signals;		/* xseg_signal() calls that found a descriptor */
	__u64 wakes;		/* of which performed the type's (expensive) wake */
};

/* Segment lifecycle (sys/common/segment.c) */
void xseg_config_default(struct xseg_config *cfg);
int xseg_segment_size(const struct xseg_config *cfg, __u64 *sizep);
int xseg_init_mem(void *base, __u64 size, const struct xseg_config *cfg);
int xseg_join_mem(void *base, __u64 size, struct xseg **xsegp);
int xseg_create(const struct xseg_backend_ops *be, const char *name,
		const struct xseg_config *cfg, struct xseg **xsegp);
int xseg_join(const struct xseg_backend_ops *be, const char *name, struct xseg **xsegp);
int xseg_leave(struct xseg *xseg);
int xseg_destroy(const struct xseg_backend_ops *be, const char *name);
int xseg_get_info(struct xseg *xseg, struct xseg_info *info);
int xseg_get_stats(struct xseg *xseg, struct xseg_stats *stats);
int xseg_reclaim(struct xseg *xseg);

/* Ports (sys/common/port.c) */
#define XSEG_PORT_ANY	(-1)
int xseg_bind_port(struct xseg *xseg, int portno, struct xseg_sd *sd);
int xseg_leave_port(struct xseg *xseg, __u32 portno);

/* Requests (sys/common/request.c) */
int xseg_get_request(struct xseg *xseg, __u32 src, __u32 dst, struct xseg_request **reqp);
int xseg_prep_request(struct xseg *xseg, struct xseg_request *req, __u32 targetlen,
		      __u64 datalen);
int xseg_submit(struct xseg *xseg, struct xseg_request *req);
int xseg_accept(struct xseg *xseg, __u32 portno, struct xseg_request **reqp);
int xseg_respond(struct xseg *xseg, struct xseg_request *req);
#define XSEG_RECV_FORWARDED	1	/* xseg_receive(): reply to a request we forwarded */
int xseg_receive(struct xseg *xseg, __u32 portno, struct xseg_request **reqp);
int xseg_forward(struct xseg *xseg, struct xseg_request *req, __u32 new_dst);
int xseg_put_request(struct xseg *xseg, struct xseg_request *req);
int xseg_req_target(struct xseg *xseg, struct xseg_request *req, char **targetp,
		    __u32 *lenp);
int xseg_req_data(struct xseg *xseg, struct xseg_request *req, void **datap, __u64 *lenp);
int xseg_req_index(struct xseg *xseg, struct xseg_request *req);

/*
 * Signal types (sys/common/signal.c).  Ops receive this context; data points at the
 * descriptor's XSEG_SD_DATA_SIZE bytes of type data, shared is the descriptor itself.
 */
struct xseg_sd_ctx {
	struct xseg *xseg;
	struct xseg_signal_desc *shared;
	void *data;
	__u32 index;
};

struct xseg_signal_type {
	const char *name;	/* unique, < XSEG_TYPE_NAME_LEN bytes */
	/* a descriptor of this type is created / destroyed (last reference) */
	int (*init_signal_desc)(const struct xseg_sd_ctx *ctx);
	void (*quit_signal_desc)(const struct xseg_sd_ctx *ctx);
	/*
	 * this peer's handle on a descriptor is about to be freed (xseg_put_signal_desc(),
	 * xseg_leave()): nothing of the type may still use it (a running callback) on return
	 */
	void (*put_signal_desc)(const struct xseg_sd_ctx *ctx);
	/* this peer becomes / stops being able to receive signals of this type */
	int (*local_signal_init)(struct xseg *xseg);
	void (*local_signal_quit)(struct xseg *xseg);
	/* this peer becomes / stops being able to send signals of this type */
	int (*remote_signal_init)(struct xseg *xseg);
	void (*remote_signal_quit)(struct xseg *xseg);
	int (*prepare_wait)(const struct xseg_sd_ctx *ctx);
	int (*cancel_wait)(const struct xseg_sd_ctx *ctx);
	/* sleep until woken, the descriptor's dirty word is set, or usec pass (-ETIMEDOUT) */
	int (*wait_signal)(const struct xseg_sd_ctx *ctx, __u32 usec);
	/* the expensive wake; only called when the receiver is armed and no wake is pending */
	int (*signal)(const struct xseg_sd_ctx *ctx);
};

int xseg_register_signal_type(const struct xseg_signal_type *type);
int xseg_unregister_signal_type(const struct xseg_signal_type *type);
int xseg_local_signal_init(struct xseg *xseg, const char *type);
int xseg_local_signal_quit(struct xseg *xseg, const char *type);
int xseg_get_signal_desc(struct xseg *xseg, const char *type, struct xseg_sd **sdp);
int xseg_put_signal_desc(struct xseg_sd *sd);
int xseg_prepare_wait(struct xseg_sd *sd);
int xseg_cancel_wait(struct xseg_sd *sd);
int xseg_wait_signal(struct xseg_sd *sd, __u32 usec);
int xseg_signal(struct xseg *xseg, __u32 portno);
int xseg_signal_desc_index(struct xseg_sd *sd);

/* The built-in signal type that needs no OS support: waiters poll the dirty word. */
#define XSEG_SIGNAL_POLL	"poll"

#endif /* _XSEG_XSEG_H */
