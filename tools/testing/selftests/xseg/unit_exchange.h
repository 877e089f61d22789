/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two processes exchanging requests over a POSIX shm segment with a given signal type: the
 * client (the test process) on port 0, the server (a forked child) on port 1.  Queue depth 1
 * is ping-pong, more is streaming.  A wait that times out while work is queued for the waiter
 * is a lost wakeup, unless the caller expects timeouts (queue overflow tests).
 */
#ifndef _XSEG_UNIT_EXCHANGE_H
#define _XSEG_UNIT_EXCHANGE_H

#include <signal.h>
#include <sys/wait.h>

#include <xseg/signal_user.h>

#define XCH_CLIENT_PORT	0
#define XCH_SERVER_PORT	1
#define XCH_WAIT_USEC	2000000		/* 2 s: no wake may take that long */

struct xch_side {
	struct xseg *x;
	struct xseg_sd *sd;
	const char *type;
	__u32 port;
	__u32 wait_usec;
	unsigned long sleeps, timeouts, lost, bad, done;
};

static inline int xch_side_init(struct xch_side *s, const char *name, const char *type,
				__u32 port, __u32 wait_usec)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->type = type;
	s->port = port;
	s->wait_usec = wait_usec;
	ret = xseg_join(&xseg_posix_backend, name, &s->x);
	if (ret)
		return ret;
	ret = xseg_local_signal_init(s->x, type);
	if (ret)
		return ret;
	ret = xseg_get_signal_desc(s->x, type, &s->sd);
	if (ret)
		return ret;
	ret = xseg_bind_port(s->x, port, s->sd);
	return ret < 0 ? ret : 0;
}

static inline void xch_side_fini(struct xch_side *s)
{
	xseg_put_signal_desc(s->sd);
	xseg_local_signal_quit(s->x, s->type);
	xseg_leave(s->x);
}

/* Serves every request queued on the server port; returns how many, or -errno. */
static inline int xch_serve_some(struct xch_side *s)
{
	struct xseg_request *req;
	int n = 0, to, ret;

	while ((ret = xseg_accept(s->x, s->port, &req)) == 0) {
		req->serviced = req->offset ^ 0x5a5a5a5aULL;
		req->result = 0;
		to = xseg_respond(s->x, req);
		if (to < 0)
			return to;
		ret = xseg_signal(s->x, to);
		if (ret)
			return ret;
		n++;
	}
	return ret == -EAGAIN ? n : ret;
}

/* Collects the replies on the client port; returns how many, or -errno. */
static inline int xch_collect_some(struct xch_side *s)
{
	struct xseg_request *req;
	int n = 0, ret;

	while ((ret = xseg_receive(s->x, s->port, &req)) == 0) {
		if (req->serviced != (req->offset ^ 0x5a5a5a5aULL) || req->result)
			s->bad++;
		ret = xseg_put_request(s->x, req);
		if (ret)
			return ret;
		n++;
	}
	return ret == -EAGAIN ? n : ret;
}

/* The suppression protocol from the waiter's side: arm, re-check, sleep, disarm. */
static inline int xch_wait(struct xch_side *s, int (*check)(struct xch_side *), __u32 which)
{
	int ret, n;

	ret = xseg_prepare_wait(s->sd);
	if (ret)
		return ret;
	n = check(s);
	if (n) {
		xseg_cancel_wait(s->sd);
		return n;
	}
	s->sleeps++;
	ret = xseg_wait_signal(s->sd, s->wait_usec);
	xseg_cancel_wait(s->sd);
	if (ret == -ETIMEDOUT) {
		s->timeouts++;
		if (xseg_ring_count(s->x, xseg_ring_at(s->x, s->port, which)))
			s->lost++;
		return 0;
	}
	return ret;
}

/* The server child: serves total requests, exit status 0 on success. */
static inline int xch_server(const char *name, const char *type, unsigned long total,
			     __u32 wait_usec, bool timeouts_ok)
{
	struct xch_side s;
	int ret;

	if (xch_side_init(&s, name, type, XCH_SERVER_PORT, wait_usec))
		return 10;
	while (s.done < total) {
		ret = xch_serve_some(&s);
		if (ret < 0)
			return 11;
		s.done += ret;
		if (ret)
			continue;
		/* xch_wait() serves what its re-check finds */
		ret = xch_wait(&s, xch_serve_some, 0);
		if (ret < 0)
			return 12;
		s.done += ret;
	}
	if (s.lost && !timeouts_ok)
		return 14;
	xch_side_fini(&s);
	return 0;
}

/* The client: total requests at queue depth qd; fills *s with what happened. */
static inline int xch_client(struct xch_side *s, unsigned long total, unsigned int qd)
{
	unsigned long sent = 0, inflight = 0;
	struct xseg_request *req;
	int ret, to;

	while (s->done < total) {
		while (inflight < qd && sent < total) {
			ret = xseg_get_request(s->x, XCH_CLIENT_PORT, XCH_SERVER_PORT, &req);
			if (ret)
				return ret;
			req->op = XSEG_OP_READ;
			req->offset = sent++;
			to = xseg_submit(s->x, req);
			if (to != XCH_SERVER_PORT)
				return to < 0 ? to : -EIO;
			ret = xseg_signal(s->x, to);
			if (ret)
				return ret;
			inflight++;
		}
		ret = xch_collect_some(s);
		if (!ret)
			ret = xch_wait(s, xch_collect_some, 1);
		if (ret < 0)
			return ret;
		s->done += ret;
		inflight -= ret;
	}
	return 0;
}

/*
 * One whole exchange: creates the segment, forks the server, runs the client.  Returns the
 * server's exit status (0 ok) in *server_status and the client's result.
 */
static inline int xch_run(const char *name, const char *ctype, const char *stype,
			  unsigned long total, unsigned int qd, __u32 server_wait_usec,
			  bool timeouts_ok, struct xch_side *c, int *server_status)
{
	struct xseg_config cfg;
	struct xseg *owner;
	int ret, status;
	pid_t pid;

	unit_small_config(&cfg);
	cfg.nr_requests = 128;
	xseg_destroy(&xseg_posix_backend, name);
	ret = xseg_create(&xseg_posix_backend, name, &cfg, &owner);
	if (ret)
		return ret;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(xch_server(name, stype, total, server_wait_usec, timeouts_ok));
	ret = xch_side_init(c, name, ctype, XCH_CLIENT_PORT, XCH_WAIT_USEC);
	if (!ret)
		ret = xch_client(c, total, qd);
	if (ret || c->done < total)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	*server_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (c->x)
		xch_side_fini(c);
	xseg_leave(owner);
	xseg_destroy(&xseg_posix_backend, name);
	return ret;
}

#endif /* _XSEG_UNIT_EXCHANGE_H */
