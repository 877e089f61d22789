// SPDX-License-Identifier: GPL-2.0
/*
 * The serving side of the storage peers: join, bind, serve, shut down.
 *
 * Threads: one serving thread per group of ports (by default one per port), each with its
 * own signal descriptor bound to its ports.  A port is the unit the block client spreads its
 * load over (xsegbd: one port per hardware queue), so per-port threads scale like the
 * client's queues, need no lock or hand-off on the hot path (the thread that accepts a
 * request also answers it) and keep each port's requests in the order they were queued.
 * Backends that may block (xseg-filed) do their I/O asynchronously (io_uring), so one thread
 * keeps many requests in flight; a pool in front of a blocking backend is not needed.
 *
 * Batching: a thread accepts every queued request (up to PEER_THREAD_DEPTH in flight) before
 * it answers, and signals each reply port once per batch.  xseg_signal() itself costs no
 * syscall while the client is busy (notification suppression), and the thread only arms
 * its descriptor and sleeps when its rings are empty, nothing is in flight and it has polled
 * them for --spin-us since its last request (peer.h: PEER_SPIN_US), so a busy peer makes no
 * syscall per request and a client that keeps it busy never has to wake it.
 *
 * Never trust the segment: every field of an accepted request is read once into struct
 * peer_req, validated (op, flags, alignment, offset + size overflow, range, data buffer
 * through xseg_req_data(), target name copied out and checked) and only the copy is used.
 *
 * Shutdown: SIGTERM/SIGINT are taken by the main thread (sigtimedwait); the serving threads
 * keep answering what is queued for up to PEER_DRAIN_MS, finish what is in flight, leave
 * their ports and exit.  Whatever is still queued after that stays in the rings for the
 * next peer bound to the port.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xseg/inspect.h>
#include <xseg/posix.h>
#include <xseg/segdev_user.h>

#include "peer.h"

#define peer_load(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define peer_store(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)

__u64 peer_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static const struct xseg_backend_ops *peer_seg_backend(const struct peer *p)
{
	return p->seg_type == PEER_SEG_POSIX ? &xseg_posix_backend : &xseg_segdev_backend;
}

static const char *peer_seg_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such segment";
	case -EACCES:
	case -EPERM:
		return "permission denied";
	case -ENODEV:
		return "segdev is not available (is segdev.ko loaded?)";
	case -EINVAL:
		return "not a valid xseg segment";
	case -EPROTO:
		return "unsupported segment version";
	case -EOPNOTSUPP:
		return "segment uses unsupported features";
	default:
		return strerror(-err);
	}
}

/* ---- requests ------------------------------------------------------------------------ */

static bool peer_op_has_data(__u32 op)
{
	return op == XSEG_OP_READ || op == XSEG_OP_WRITE || op == XSEG_OP_INFO;
}

/* Reads the request once into io and checks it against blk.h; 0 or the -errno to answer. */
static int peer_validate(struct peer_thread *t, struct peer_req *io)
{
	struct xseg *x = t->peer->xseg;
	struct xseg_request *req = io->req;
	__u64 tsize, dlen;
	__u32 tlen;
	char *name;
	void *data;
	int ret;

	io->op = peer_load(&req->op);
	io->flags = peer_load(&req->flags);
	io->offset = peer_load(&req->offset);
	io->size = peer_load(&req->size);

	switch (io->op) {
	case XSEG_OP_READ:
	case XSEG_OP_WRITE:
	case XSEG_OP_FLUSH:
	case XSEG_OP_DISCARD:
	case XSEG_OP_WRITE_ZEROES:
	case XSEG_OP_INFO:
	case XSEG_OP_PING:
		break;
	default:
		return -EINVAL;
	}
	if (io->flags & ~XSEG_RF_ALL)
		return -EINVAL;
	if ((io->flags & XSEG_RF_FUA) && io->op != XSEG_OP_WRITE &&
	    io->op != XSEG_OP_WRITE_ZEROES)
		return -EINVAL;
	if (io->op == XSEG_OP_PING)
		return 0;

	/* the target: copied out of the segment before it is looked at */
	ret = xseg_req_target(x, req, &name, &tlen);
	if (ret || !tlen || tlen > XSEG_BLK_TARGET_MAX)
		return -EINVAL;
	memcpy(io->target, name, tlen);
	io->target[tlen] = '\0';
	io->target_len = tlen;
	if (peer_check_target(io->target, tlen))
		return -EINVAL;

	io->data = NULL;
	if (peer_op_has_data(io->op)) {
		ret = xseg_req_data(x, req, &data, &dlen);
		if (ret)
			return -EINVAL;
		if (io->op == XSEG_OP_INFO ? dlen < sizeof(struct xseg_reply_info) :
		    dlen < io->size)
			return -EINVAL;
		io->data = data;
	}
	if (io->op == XSEG_OP_INFO)
		io->size = sizeof(struct xseg_reply_info);
	else if (io->op == XSEG_OP_FLUSH && (io->size || io->offset))
		return -EINVAL;
	if (io->op != XSEG_OP_INFO) {
		if (io->offset % XSEG_BLK_SECTOR || io->size % XSEG_BLK_SECTOR)
			return -EINVAL;
		if (io->offset > ~0ULL - io->size)
			return -EINVAL;
	}

	ret = t->peer->be->lookup(t, io, &tsize);
	if (ret)
		return ret;
	if (io->op != XSEG_OP_INFO && io->op != XSEG_OP_FLUSH &&
	    (io->offset > tsize || io->size > tsize - io->offset))
		return -EINVAL;
	return 0;
}

static void peer_count(struct peer_stats *st, const struct peer_req *io)
{
	st->requests++;
	if (io->result < 0) {
		st->errors++;
		return;
	}
	switch (io->op) {
	case XSEG_OP_READ:
		st->reads++;
		st->bytes_read += io->done;
		break;
	case XSEG_OP_WRITE:
		st->writes++;
		st->bytes_written += io->done;
		break;
	case XSEG_OP_FLUSH:
		st->flushes++;
		break;
	case XSEG_OP_DISCARD:
		st->discards++;
		break;
	case XSEG_OP_WRITE_ZEROES:
		st->zeroes++;
		break;
	case XSEG_OP_INFO:
		st->infos++;
		break;
	}
}

static void peer_flush_signals(struct peer_thread *t)
{
	unsigned int i;

	for (i = 0; i < t->nr_sig; i++)
		xseg_signal(t->peer->xseg, t->sig_ports[i]);
	t->nr_sig = 0;
}

/* Answers io's request and returns io to the free list. */
void peer_complete(struct peer_thread *t, struct peer_req *io)
{
	struct xseg_request *req = io->req;
	unsigned int i;
	int to;

	peer_count(&t->st, io);
	req->serviced = io->result < 0 ? 0 : io->done;
	req->result = io->result;
	to = xseg_respond(t->peer->xseg, req);
	if (to < 0) {
		peer_err(t->peer, "request %d: cannot answer: %s",
			 xseg_req_index(t->peer->xseg, req), strerror(-to));
	} else {
		for (i = 0; i < t->nr_sig && t->sig_ports[i] != (__u32)to; i++)
			;
		if (i == t->nr_sig) {
			if (t->nr_sig == PEER_ARRAY_SIZE(t->sig_ports))
				peer_flush_signals(t);
			t->sig_ports[t->nr_sig++] = to;
		}
	}
	io->req = NULL;
	io->next = t->free_list;
	t->free_list = io;
	t->inflight--;
}

static void peer_handle(struct peer_thread *t, struct xseg_request *req)
{
	struct peer_req *io = t->free_list;
	int ret;

	t->free_list = io->next;
	t->inflight++;
	io->req = req;
	io->stage = 0;
	io->pending = 0;
	io->done = 0;
	io->result = 0;
	io->tgt = NULL;
	ret = peer_validate(t, io);
	if (ret) {
		if (ret == -EINVAL)
			t->st.bad++;
		io->result = ret;
		peer_complete(t, io);
		return;
	}
	if (io->op == XSEG_OP_PING || t->peer->be->start(t, io))
		peer_complete(t, io);
}

/* Accepts and starts what is queued on the thread's ports; returns how many. */
static int peer_accept_batch(struct peer_thread *t)
{
	struct xseg *x = t->peer->xseg;
	struct xseg_request *req;
	unsigned int k, n = 0;
	__u32 port;
	int ret;

	for (k = 0; k < t->nr_ports && t->free_list; k++) {
		port = t->ports[(t->next_port + k) % t->nr_ports];
		while (t->free_list) {
			ret = xseg_accept(x, port, &req);
			if (ret == -EAGAIN)
				break;
			if (ret == -EIO)	/* a corrupted entry, logged and dropped */
				continue;
			if (ret) {
				peer_err(t->peer, "port %u: accept: %s", port, strerror(-ret));
				break;
			}
			peer_handle(t, req);
			n++;
		}
	}
	t->next_port++;
	return n;
}

static int peer_reap(struct peer_thread *t, unsigned int wait_us)
{
	const struct peer_backend *be = t->peer->be;

	return be->reap && t->inflight ? be->reap(t, wait_us) : 0;
}

static void peer_serve_loop(struct peer_thread *t)
{
	struct peer *p = t->peer;
	__u64 spin_ns = (__u64)p->spin_us * 1000;
	bool accepting = true;
	unsigned int looks = 0;
	int n, r;

	t->busy_ns = peer_now_ns();
	for (;;) {
		bool stopping = __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE);

		if (stopping && accepting && peer_now_ns() > p->drain_deadline_ns)
			accepting = false;
		n = accepting ? peer_accept_batch(t) : 0;
		r = peer_reap(t, 0);
		peer_flush_signals(t);
		if (n > 0 || r > 0) {
			t->st.batches++;
			t->busy_ns = 0;
			continue;
		}
		if (stopping && !t->inflight)
			break;
		if (t->inflight) {
			/* I/O in flight: wait for it a little, then look at the rings again */
			peer_reap(t, 200);
			peer_flush_signals(t);
			continue;
		}
		/*
		 * Busy polling.  The clock is read at the first empty look and then once per
		 * PEER_CLOCK_LOOKS looks: where the clock source is not the TSC (an HPET, or a
		 * VM whose TSC the kernel marked unstable) every read is a system call and a
		 * device register read, and reading it per look cost more than the look itself
		 * (bench/ab.sh profile: a third of the peer's time in read_hpet).  Each look
		 * yields: a client that shares our CPU (its thread placed there, or fewer CPUs
		 * than threads) runs at once instead of after our time slice.  (Yielding only
		 * every 8th look and pausing in between was slower under TCG, where a pause
		 * leaves the emulated CPU's loop: 44k against 52k IOPS at QD32, same boot.)
		 */
		if (!t->busy_ns) {
			t->busy_ns = peer_now_ns();
			looks = 0;
		}
		if (!stopping && spin_ns &&
		    (++looks % PEER_CLOCK_LOOKS || peer_now_ns() - t->busy_ns < spin_ns)) {
			t->st.polls++;
			sched_yield();
			continue;
		}
		xseg_prepare_wait(t->sd);
		/* the re-check after arming closes the lost-wakeup window */
		n = peer_accept_batch(t);
		/* woken: poll again after the work; timed out: an idle peer does not poll */
		if (n || !xseg_wait_signal(t->sd, PEER_IDLE_WAIT_US))
			t->busy_ns = 0;
		if (!n)
			t->st.sleeps++;
		xseg_cancel_wait(t->sd);
		peer_flush_signals(t);
	}
}

static void *peer_thread_main(void *arg)
{
	struct peer_thread *t = arg;
	struct peer *p = t->peer;
	unsigned int i;
	int ret;

	ret = p->be->thread_init ? p->be->thread_init(t) : 0;
	if (ret)
		goto out;
	/* the descriptor belongs to the thread that waits on it (sigio: thread mode) */
	ret = xseg_get_signal_desc(p->xseg, p->signal, &t->sd);
	if (ret) {
		peer_err(p, "signal descriptor (%s): %s", p->signal, strerror(-ret));
		goto out_fini;
	}
	for (i = 0; i < t->nr_ports; i++) {
		ret = xseg_bind_port(p->xseg, t->ports[i], t->sd);
		if (ret < 0) {
			peer_err(p, "port %u: bind: %s", t->ports[i], strerror(-ret));
			goto out_leave;
		}
	}
	ret = 0;
	peer_serve_loop(t);
out_leave:
	for (i = 0; i < t->nr_ports; i++)
		xseg_leave_port(p->xseg, t->ports[i]);
	xseg_put_signal_desc(t->sd);
out_fini:
	if (p->be->thread_fini)
		p->be->thread_fini(t);
out:
	t->ret = ret;
	if (ret) {
		/* one thread failing stops the peer */
		__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
		kill(getpid(), SIGTERM);
	}
	return NULL;
}

/* ---- setup and teardown --------------------------------------------------------------- */

/* Claims the ports (without a descriptor: the threads bind theirs). */
#define PEER_KERNEL_BIND_TRIES	40
#define PEER_KERNEL_BIND_USEC	50000

static int peer_bind_ports(struct peer *p, bool *took_over)
{
	struct xseg_port_info info;
	unsigned int tries;
	__u32 port;
	int ret;

	*took_over = false;
	for (port = p->port_first; port <= p->port_last; port++) {
		if (!xseg_get_port_info(p->xseg, port, &info) &&
		    (info.flags & XSEG_PORT_INFO_BOUND) && !(info.flags & XSEG_PORT_INFO_ALIVE)) {
			peer_info(p, "port %u: taking over from dead peer %u", port,
				  XSEG_TAG_PID(info.owner));
			*took_over = true;
		}
		ret = xseg_bind_port(p->xseg, port, NULL);
		/*
		 * xsegbd holds a dead server's port for a moment while it sends the queued
		 * requests back (its recovery): a kernel owner gets up to 2 s to let go.
		 */
		for (tries = 0; ret == -EBUSY && tries < PEER_KERNEL_BIND_TRIES; tries++) {
			if (xseg_get_port_info(p->xseg, port, &info) ||
			    !(info.owner & XSEG_TAG_KERNEL))
				break;
			usleep(PEER_KERNEL_BIND_USEC);
			ret = xseg_bind_port(p->xseg, port, NULL);
		}
		if (ret == -EBUSY) {
			if (!xseg_get_port_info(p->xseg, port, &info) &&
			    (info.owner & XSEG_TAG_KERNEL))
				peer_err(p, "segment '%s': port %u is in use by a kernel peer",
					 p->segment, port);
			else
				peer_err(p, "segment '%s': port %u is in use by live peer %u",
					 p->segment, port, XSEG_TAG_PID(info.owner));
			return ret;
		}
		if (ret == -EINVAL) {
			struct xseg_info si;

			xseg_get_info(p->xseg, &si);
			peer_err(p, "segment '%s': no port %u (the segment has %u ports)",
				 p->segment, port, si.nr_ports);
			return ret;
		}
		if (ret < 0) {
			peer_err(p, "segment '%s': port %u: %s", p->segment, port, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int peer_threads_alloc(struct peer *p)
{
	unsigned int nports = p->port_last - p->port_first + 1, i, j;

	p->threads = calloc(p->nr_threads, sizeof(*p->threads));
	if (!p->threads)
		return -ENOMEM;
	for (i = 0; i < p->nr_threads; i++) {
		struct peer_thread *t = &p->threads[i];

		t->peer = p;
		t->id = i;
		t->ports = calloc(nports / p->nr_threads + 1, sizeof(*t->ports));
		t->reqs = calloc(PEER_THREAD_DEPTH, sizeof(*t->reqs));
		if (!t->ports || !t->reqs)
			return -ENOMEM;
		/* thread i serves ports first + i, first + i + nr_threads, ... */
		for (j = i; j < nports; j += p->nr_threads)
			t->ports[t->nr_ports++] = p->port_first + j;
		for (j = 0; j < PEER_THREAD_DEPTH; j++) {
			t->reqs[j].next = t->free_list;
			t->free_list = &t->reqs[j];
		}
	}
	return 0;
}

static void peer_threads_free(struct peer *p)
{
	unsigned int i;

	if (!p->threads)
		return;
	for (i = 0; i < p->nr_threads; i++) {
		free(p->threads[i].ports);
		free(p->threads[i].reqs);
	}
	free(p->threads);
	p->threads = NULL;
}

static void peer_print_stats(struct peer *p)
{
	struct peer_stats s;
	unsigned int i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < p->nr_threads; i++) {
		const struct peer_stats *t = &p->threads[i].st;

		s.requests += t->requests;
		s.reads += t->reads;
		s.writes += t->writes;
		s.flushes += t->flushes;
		s.discards += t->discards;
		s.zeroes += t->zeroes;
		s.infos += t->infos;
		s.bytes_read += t->bytes_read;
		s.bytes_written += t->bytes_written;
		s.errors += t->errors;
		s.bad += t->bad;
		s.sleeps += t->sleeps;
		s.batches += t->batches;
		s.polls += t->polls;
	}
	fprintf(stderr, "%s: %llu requests: %llu read (%llu bytes), %llu write (%llu bytes), "
		"%llu flush, %llu discard, %llu write-zeroes, %llu info, %llu failed "
		"(%llu invalid); %llu batches, %llu sleeps, %llu polls",
		p->be->name, (unsigned long long)s.requests, (unsigned long long)s.reads,
		(unsigned long long)s.bytes_read, (unsigned long long)s.writes,
		(unsigned long long)s.bytes_written, (unsigned long long)s.flushes,
		(unsigned long long)s.discards, (unsigned long long)s.zeroes,
		(unsigned long long)s.infos, (unsigned long long)s.errors,
		(unsigned long long)s.bad, (unsigned long long)s.batches,
		(unsigned long long)s.sleeps, (unsigned long long)s.polls);
	if (p->be->stats)
		p->be->stats(p, stderr);
	fputc('\n', stderr);
}

/* Runs the threads until SIGTERM/SIGINT or a thread fails; 0 or -errno. */
static int peer_run_threads(struct peer *p)
{
	struct timespec tick = { .tv_sec = 0, .tv_nsec = 100000000 };
	unsigned int i, started = 0;
	siginfo_t si;
	sigset_t set;
	int ret = 0, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* the threads inherit the mask: only this thread takes the signals */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < p->nr_threads; i++) {
		ret = -pthread_create(&p->threads[i].tid, NULL, peer_thread_main, &p->threads[i]);
		if (ret) {
			peer_err(p, "thread: %s", strerror(-ret));
			break;
		}
		started++;
	}
	if (started == p->nr_threads) {
		peer_info(p, "serving ports %u-%u of segment '%s' with %u thread(s), signal %s",
			  p->port_first, p->port_last, p->segment, p->nr_threads, p->signal);
		do {
			sig = sigtimedwait(&set, &si, &tick);
		} while (sig < 0 && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE));
		if (sig > 0)
			peer_info(p, "%s: finishing", strsignal(sig));
	}
	p->drain_deadline_ns = peer_now_ns() + PEER_DRAIN_MS * 1000000ULL;
	/* pairs with the load_acquire of stop in the serving loop (publishes the deadline) */
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < started; i++) {
		pthread_join(p->threads[i].tid, NULL);
		if (p->threads[i].ret && !ret)
			ret = p->threads[i].ret;
	}
	return ret;
}

static int peer_run(struct peer *p)
{
	bool took_over;
	int ret, n;

	ret = xseg_join(peer_seg_backend(p), p->segment, &p->xseg);
	if (ret) {
		peer_err(p, "segment '%s': %s", p->segment, peer_seg_strerror(ret));
		return ret;
	}
	/* before any thread exists: sigio blocks its signal in the threads created later */
	ret = xseg_local_signal_init(p->xseg, p->signal);
	if (ret) {
		peer_err(p, "signal type %s: %s", p->signal, strerror(-ret));
		goto err_leave;
	}
	ret = peer_bind_ports(p, &took_over);
	if (ret)
		goto err_quit;
	/* answer (-EPIPE) what a dead previous owner had accepted, so clients re-issue it */
	n = xseg_reclaim(p->xseg);
	if (n > 0 || took_over)
		peer_info(p, "reclaimed %d object(s) of dead peers", n);
	ret = peer_threads_alloc(p);
	if (ret) {
		peer_err(p, "%s", strerror(-ret));
		goto err_free;
	}
	ret = p->be->open ? p->be->open(p) : 0;
	if (ret)
		goto err_free;
	ret = peer_run_threads(p);
	if (p->be->close)
		p->be->close(p);
	if (p->verbose)
		peer_print_stats(p);
err_free:
	peer_threads_free(p);
err_quit:
	xseg_local_signal_quit(p->xseg, p->signal);
err_leave:
	xseg_leave(p->xseg);
	p->xseg = NULL;
	return ret;
}

int peer_main(int argc, char **argv, const struct peer_backend *be, void *be_priv)
{
	struct peer p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.be = be;
	p.be_priv = be_priv;
	ret = peer_parse_args(&p, argc, argv);
	if (ret)
		return ret > 0 ? PEER_EXIT_OK : PEER_EXIT_USAGE;
	signal(SIGPIPE, SIG_IGN);
	return peer_run(&p) ? PEER_EXIT_FAIL : PEER_EXIT_OK;
}
