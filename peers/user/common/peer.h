/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The storage peer framework (libpeer.a): what xseg-memd, xseg-filed and future storage
 * peers share.  A peer is a backend (struct peer_backend) plus this framework, which
 *
 *  - parses the common options (--segment, --type, --port, --signal, --threads, -v, --help,
 *    --version) and hands the others to the backend;
 *  - joins the segment and binds the ports, taking over the port of a dead previous owner;
 *  - runs one serving thread per group of ports (see serve.c for why), each accepting
 *    requests in batches, validating every field against the block protocol
 *    (<uapi/xseg/blk.h>), handing the valid ones to the backend, answering and signalling;
 *  - shuts down cleanly on SIGTERM/SIGINT and prints one line of statistics with -v.
 *
 * Exit status: 0 success (also after SIGTERM/SIGINT), 1 operational error, 2 usage error.
 */
#ifndef _XSEG_PEER_H
#define _XSEG_PEER_H

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include <uapi/xseg/blk.h>
#include <xseg/compiler.h>
#include <xseg/xseg.h>

#define PEER_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit statuses. */
#define PEER_EXIT_OK		0
#define PEER_EXIT_FAIL		1
#define PEER_EXIT_USAGE		2

/*
 * The default signal type.  "futex": a user client wakes the peer with FUTEX_WAKE, a kernel
 * client (xsegbd) with a kick signal (drivers/kernel/sig_futex_remote.c); the peer spins a
 * little before it sleeps, and costs nothing while idle.  "poll" keeps a CPU busy yielding
 * and napping, which on two CPUs takes time from the clients.
 */
#define PEER_DEFAULT_SIGNAL	XSEG_SIGNAL_FUTEX

/*
 * Busy polling: after the last request it saw, a serving thread keeps polling its rings this
 * long (--spin-us) before it arms its descriptor and sleeps.  While it polls, clients post
 * without any wake (the descriptor is not armed), and the thread's CPU does not go idle:
 * waking a sleeping thread on an idle CPU is the dearest step of a request's round trip
 * (an IPI and an idle exit; under QEMU TCG on a loaded host, milliseconds).  An idle peer
 * stops burning its CPU after this long, as io_uring's SQPOLL thread does.
 */
#define PEER_SPIN_US		1000
#define PEER_SPIN_US_MAX	1000000
/* Busy polling reads the clock once per this many empty looks (serve.c). */
#define PEER_CLOCK_LOOKS	16
#define PEER_XSTR(x)		#x
#define PEER_STR(x)		PEER_XSTR(x)

/* Requests one serving thread holds at once (accepted, not yet answered). */
#define PEER_THREAD_DEPTH	128
/* Longest sleep of an idle thread, so that it notices shutdown without a wake. */
#define PEER_IDLE_WAIT_US	100000
/* After SIGTERM/SIGINT: keep answering queued requests for at most this long. */
#define PEER_DRAIN_MS		2000

enum peer_seg_type {
	PEER_SEG_SEGDEV,
	PEER_SEG_POSIX,
};

struct peer;
struct peer_thread;

/* One accepted request: validated local copies of its fields, never re-read from the segment. */
struct peer_req {
	struct xseg_request *req;
	__u32 op;
	__u32 flags;
	__u64 offset;
	__u64 size;
	void *data;		/* the data buffer (READ, WRITE, INFO), inside the heap */
	__u32 target_len;
	char target[XSEG_BLK_TARGET_MAX + 1];	/* NUL terminated copy */
	void *tgt;		/* the backend's target, set by its lookup */
	/* backend state while the request is in flight */
	int stage;
	int pending;
	int result;
	__u64 done;
	struct peer_req *next;	/* free list */
};

struct peer_backend {
	const char *name;	/* program name */
	const char *synopsis;	/* backend options for the usage line */
	const char *help;	/* backend options, one per line, for --help */
	const struct option *opts;	/* backend long options ({ NULL } terminated) */
	/* one backend option; 0 or -EINVAL (usage error, message printed by the backend) */
	int (*parse_opt)(struct peer *p, int c, const char *arg);
	/* after parsing: required options present?  -EINVAL for a usage error */
	int (*check_opts)(struct peer *p);
	/* after join and bind, before the threads; -errno (message printed) to fail */
	int (*open)(struct peer *p);
	void (*close)(struct peer *p);
	int (*thread_init)(struct peer_thread *t);
	void (*thread_fini)(struct peer_thread *t);
	/*
	 * Finds (or creates) the target io->target and sets io->tgt; *sizep is its size in
	 * bytes.  -ENOENT for an unknown target, other -errno for backend errors.
	 */
	int (*lookup)(struct peer_thread *t, struct peer_req *io, __u64 *sizep);
	/*
	 * Starts a validated request.  Returns 1 when it is complete (io->result and io->done
	 * set) or 0 when it completes later through peer_complete() called from reap.
	 */
	int (*start)(struct peer_thread *t, struct peer_req *io);
	/*
	 * Completes what finished (peer_complete()).  wait_us > 0: may sleep up to that long
	 * for a completion.  Returns the number completed or -errno.  NULL: start is synchronous.
	 */
	int (*reap)(struct peer_thread *t, unsigned int wait_us);
	/* appended to the -v statistics line (may be NULL) */
	void (*stats)(struct peer *p, FILE *f);
};

struct peer_stats {
	__u64 requests;
	__u64 reads;
	__u64 writes;
	__u64 flushes;
	__u64 discards;
	__u64 zeroes;
	__u64 infos;
	__u64 bytes_read;
	__u64 bytes_written;
	__u64 errors;		/* answered with result < 0 */
	__u64 bad;		/* of which refused by validation */
	__u64 sleeps;		/* waits for a signal */
	__u64 batches;		/* accept rounds that found work */
	__u64 polls;		/* empty looks at the rings while busy polling */
};

struct peer_thread {
	struct peer *peer;
	pthread_t tid;
	unsigned int id;
	struct xseg_sd *sd;
	__u32 *ports;		/* the ports this thread serves */
	unsigned int nr_ports;
	unsigned int next_port;	/* round robin start */
	struct peer_req *reqs;
	struct peer_req *free_list;
	unsigned int inflight;
	__u64 busy_ns;		/* when the thread last found work */
	__u32 sig_ports[16];	/* reply ports to signal at the end of the batch */
	unsigned int nr_sig;
	struct peer_stats st;
	void *be_priv;
	int ret;		/* thread exit: 0 or -errno */
};

struct peer {
	const struct peer_backend *be;
	/* options */
	const char *segment;
	enum peer_seg_type seg_type;
	__u32 port_first;
	__u32 port_last;
	const char *signal;
	unsigned int nr_threads;
	unsigned int spin_us;	/* busy polling after the last request (PEER_SPIN_US) */
	int verbose;
	/* state */
	struct xseg *xseg;
	struct peer_thread *threads;
	int stop;		/* set by the signal waiter (atomic) */
	__u64 drain_deadline_ns;
	void *be_priv;
};

/* peer_main: the whole program; returns the exit status. */
int peer_main(int argc, char **argv, const struct peer_backend *be, void *be_priv);

/* For backends. */
void peer_complete(struct peer_thread *t, struct peer_req *io);
__printf(2, 3)
void peer_err(const struct peer *p, const char *fmt, ...);
__printf(2, 3)
void peer_info(const struct peer *p, const char *fmt, ...);
/* prints "NAME: message" and the usage on stderr; returns -EINVAL (exit status 2) */
__printf(2, 3)
int peer_usage_error(const struct peer *p, const char *fmt, ...);
int peer_parse_size(const char *s, __u64 *sizep);
int peer_parse_u32(const char *s, __u32 min, __u32 max, __u32 *valp);
__u64 peer_now_ns(void);
/* 0 if name is an acceptable target name (blk.h): 1..255 bytes, no '/', not "." or "..". */
int peer_check_target(const char *name, __u32 len);

/* internal to the framework */
int peer_parse_args(struct peer *p, int argc, char **argv);
void peer_usage(const struct peer *p, FILE *f);

#endif /* _XSEG_PEER_H */
