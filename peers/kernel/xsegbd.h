/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xsegbd.ko internals: a blk-mq block device whose requests go through an xseg segment to a
 * storage peer (<uapi/xseg/blk.h>), controlled through /sys/bus/xsegbd
 * (<uapi/xseg/xsegbd.h>).
 *
 * Files: xsegbd_main.c (module, bus, add/remove, attributes), xsegbd_io.c (blk-mq ops,
 * issuing xseg requests, replies, timeouts), xsegbd_recovery.c (server death and recovery).
 *
 * Trust: the segment is written by userspace at will.  A blk-mq request is found from a
 * reply only through the kernel-side table queue->cmds[tag], and only if the reply's priv
 * carries the generation the command has now and the xseg request is the one the command
 * sent; everything compared against the reply (op, offset, size, buffer) is the kernel's
 * own copy in struct xsegbd_cmd, never re-read from the segment.
 */
#ifndef _XSEGBD_H
#define _XSEGBD_H

#include <linux/bitmap.h>
#include <linux/blk-mq.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <uapi/xseg/blk.h>
#include <uapi/xseg/xsegbd.h>
#include <xseg/xseg_kernel.h>

#define XSEGBD_MINORS		16	/* per device: the disk and 15 partitions */
#define XSEGBD_MAX_IO		SZ_1M		/* bytes per request, at most */
#define XSEGBD_MAX_REISSUE	8	/* -EPIPE replies (server died) before giving up */
#define XSEGBD_REPLY_BUDGET	128	/* replies handled per callback run */
#define XSEGBD_INFO_MAX_WAIT	10	/* seconds an INFO waits at most */
#define XSEGBD_WATCH_MS		200	/* watchdog period */
#define XSEGBD_DEFER_MIN	1	/* commands in flight before new ones are deferred */
#define XSEGBD_SEGNAME_MAX	64	/* SEGDEV_NAME_LEN */

/*
 * priv of an xseg request: bits 0-15 the blk-mq tag (XSEGBD_INFO_TAG for the INFO
 * request), bits 16-23 the queue, bits 32-63 the generation of the command.
 */
#define XSEGBD_INFO_TAG		0xffffU
#define XSEGBD_PRIV(gen, q, tag)	(((u64)(gen) << 32) | ((u64)(q) << 16) | (tag))
#define XSEGBD_PRIV_TAG(p)	((u32)(p) & 0xffffU)
#define XSEGBD_PRIV_QUEUE(p)	(((u32)(p) >> 16) & 0xffU)
#define XSEGBD_PRIV_GEN(p)	((u32)((p) >> 32))

enum xsegbd_state {
	XSEGBD_RUNNING,
	XSEGBD_RECOVERING,
	XSEGBD_FAILED,
};

/* Where a command is; changed under dev->lock only. */
enum xsegbd_phase {
	XSEGBD_IDLE,		/* not in the table */
	XSEGBD_WAITING,		/* in the table, no xseg request out for the current gen */
	XSEGBD_INFLIGHT,	/* xseg request xreq submitted with the current gen */
	XSEGBD_DONE,		/* claimed for completion; nobody else touches it */
};

/* The blk-mq pdu of each request: the kernel's record of what was sent. */
struct xsegbd_cmd {
	u32 gen;		/* bumped for every xseg request sent and at abandonment */
	u32 phase;		/* enum xsegbd_phase */
	u32 op;			/* XSEG_OP_* */
	u32 xflags;		/* XSEG_RF_* */
	u64 offset;		/* bytes */
	u64 size;		/* bytes */
	u64 data_len;		/* bytes of data buffer (READ/WRITE), 0 otherwise */
	struct xseg_request *xreq;	/* valid while INFLIGHT */
	void *data;		/* validated data buffer of xreq (kernel address) */
	u64 buf_off, buf_len;	/* xreq's heap buffer, restored before put */
	unsigned int reissues;	/* -EPIPE replies seen */
	blk_status_t status;	/* for xsegbd_complete_rq() */
};

struct xsegbd_dev;

/* A hardware queue: its own port, descriptor and table of commands by tag. */
struct xsegbd_queue {
	struct xsegbd_dev *dev;
	u32 index;
	u32 port;		/* own port (bound to ANY free one) */
	struct xseg_sd *sd;	/* callback descriptor of port */
	struct request **rqs;	/* [depth], under dev->lock: request by tag, NULL = free */
	/*
	 * Deferred issue (xsegbd_io.c): tags of WAITING commands that the next reply callback
	 * sends; inflight counts the queue's INFLIGHT commands, slow those of them that may take
	 * long (xsegbd_cmd_slow()); both under dev->lock, inflight also read locklessly.
	 */
	unsigned long *pending;	/* [depth] bits */
	u32 inflight, slow;
};

struct xsegbd_stats {
	atomic64_t completed, errors, timeouts, reissued, stale, bogus, stranded, deferred;
};

struct xsegbd_dev {
	int id;
	struct device dev;		/* /sys/bus/xsegbd/devices/N */
	struct list_head node;		/* xsegbd_devices, under xsegbd_mutex */

	/* configuration, fixed at add */
	char segment[XSEGBD_SEGNAME_MAX];
	char target[XSEG_BLK_TARGET_MAX + 1];
	u32 target_len;
	u32 server_port;
	u32 nr_queues, depth;
	u32 timeout, recovery_window;	/* seconds */
	u64 max_io;			/* bytes, from the heap size */

	struct xseg *xseg;		/* own handle: own tag, ports, descriptors */
	struct xsegbd_queue *queues;
	struct blk_mq_tag_set tag_set;
	struct gendisk *disk;
	bool disk_added;

	/*
	 * lock protects state, server_owner, recover_deadline, every queue's rqs[] and every
	 * command's gen/phase/xreq/data, and the INFO fields below.  Never held across a call
	 * into the xseg core (those may sleep: BLK_MQ_F_BLOCKING).
	 */
	spinlock_t lock;
	enum xsegbd_state state;
	u64 server_owner;		/* tag of the server we talk to */
	unsigned long recover_deadline;	/* jiffies */

	/* INFO (add and refresh, serialised by info_mutex) */
	struct mutex info_mutex;
	struct xseg_request *info_req;
	u32 info_gen;
	int info_result;
	struct xseg_reply_info info;
	struct completion info_done;

	u64 size;			/* bytes */
	u32 block_size;

	struct delayed_work watchdog;
	bool stopping;			/* watchdog must not re-arm (under lock) */
	int open_count;			/* under xsegbd_mutex */
	bool removing;			/* under xsegbd_mutex: refuse opens */

	struct xsegbd_stats stats;
};

/* xsegbd_main.c */
extern struct mutex xsegbd_mutex;
extern bool xsegbd_defer_issue;
extern unsigned int xsegbd_defer_min;

/* xsegbd_io.c */
extern const struct blk_mq_ops xsegbd_mq_ops;
void xsegbd_reply_callback(void *priv, unsigned int ctx);
int xsegbd_info(struct xsegbd_dev *dev);
int xsegbd_issue(struct xsegbd_dev *dev, struct xsegbd_queue *q, struct request *rq, bool kick);
void xsegbd_finish(struct xsegbd_dev *dev, struct request *rq, blk_status_t status);
void xsegbd_fail_all(struct xsegbd_dev *dev);
void xsegbd_reissue_all(struct xsegbd_dev *dev, bool abandon);
u32 xsegbd_inflight(struct xsegbd_dev *dev);

/* xsegbd_recovery.c */
void xsegbd_watchdog_fn(struct work_struct *work);
bool xsegbd_server_alive(struct xsegbd_dev *dev, u64 *ownerp);
void xsegbd_kick_watchdog(struct xsegbd_dev *dev);

static inline struct xsegbd_cmd *xsegbd_cmd_of(struct request *rq)
{
	return blk_mq_rq_to_pdu(rq);
}

#endif /* _XSEGBD_H */
