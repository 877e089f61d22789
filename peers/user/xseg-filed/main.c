// SPDX-License-Identifier: GPL-2.0
/*
 * xseg-filed: a file-backed storage peer doing its I/O with io_uring (liburing).
 *
 *   xseg-filed --segment NAME --port P[-Q] --dir DIR [--size SIZE] [--direct] [common options]
 *
 * Target T is the file DIR/T.  With --size a missing file is created sparse with that size;
 * without it the file must exist and its size is the target's.  Names with '/' and "." or
 * ".." are refused by the framework before they get here.
 *
 * I/O: each serving thread has its own io_uring.  A batch of accepted requests becomes a
 * batch of SQEs submitted with one io_uring_enter.  The segment's data buffer space (heap)
 * is registered with io_uring_register_buffers() when the kernel allows it (anonymous or
 * shmem memory: POSIX segments; segdev's mapping may be refused), and reads and writes whose
 * buffer lies in one registered chunk use the _fixed variants; otherwise plain ones.
 *
 * Durability (blk.h): FUA writes carry RWF_DSYNC; FUA write-zeroes are followed by an
 * fdatasync of the file; FLUSH (the op or the flag) fdatasyncs every file written since the
 * last flush, never more, and nothing is synced per ordinary write.  DISCARD punches a hole,
 * WRITE_ZEROES zeroes the range with fallocate; when the file system cannot, both write
 * zeroes.  See xseg-filed(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* the heap's address and size, to register it with io_uring; no public accessor yet */
#include <xseg/internal.h>

#include "../common/peer.h"

enum {
	FILED_OPT_DIR = 0x200,
	FILED_OPT_SIZE,
	FILED_OPT_DIRECT,
};

#define FILED_RING_ENTRIES	(2 * PEER_THREAD_DEPTH)
#define FILED_BUF_CHUNK		(1024ULL * 1024 * 1024)	/* io_uring's limit per registered buffer */
#define FILED_MAX_BUFS		64
#define FILED_ZERO_BUF		(1024U * 1024)

/* Request stages (struct peer_req.stage). */
enum {
	FILED_ST_PREFLUSH,	/* the flush of XSEG_RF_FLUSH (or of XSEG_OP_FLUSH itself) */
	FILED_ST_MAIN,		/* the operation */
	FILED_ST_POSTSYNC,	/* FUA write-zeroes: fdatasync after */
	FILED_ST_DONE,
};

struct filed_target {
	struct filed_target *next;
	int fd;
	__u64 size;
	int dirty;		/* written since its last fdatasync (atomic) */
	__u32 len;
	char name[XSEG_BLK_TARGET_MAX + 1];
};

struct filed {
	const char *dir;
	int dirfd;
	__u64 size;		/* --size, 0: targets must exist */
	bool direct;
	void *zeroes;		/* FILED_ZERO_BUF zero bytes, aligned for O_DIRECT */
	/* serialises target creation; lookups walk the list without it */
	pthread_mutex_t lock;
	struct filed_target *head;	/* published with a release store, never shrinks */
	unsigned int nr_targets;
	/* statistics (atomic) */
	unsigned int fixed_threads;
	__u64 fixed_ios;
	__u64 plain_ios;
	__u64 fdatasyncs;
	__u64 zero_fallbacks;
};

struct filed_thread {
	struct io_uring ring;
	bool fixed;		/* the heap is registered */
	__u8 *heap;
	__u64 heap_size;
	__u64 fixed_ios;
	__u64 plain_ios;
};

static struct filed filed = {
	.dirfd = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static const struct option filed_opts[] = {
	{ "dir", required_argument, NULL, FILED_OPT_DIR },
	{ "size", required_argument, NULL, FILED_OPT_SIZE },
	{ "direct", no_argument, NULL, FILED_OPT_DIRECT },
	{ NULL, 0, NULL, 0 },
};

#define filed_add(p, v)		__atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

static int filed_parse_opt(struct peer *p, int c, const char *arg)
{
	switch (c) {
	case FILED_OPT_DIR:
		if (!*arg)
			return peer_usage_error(p, "--dir: empty path");
		filed.dir = arg;
		return 0;
	case FILED_OPT_SIZE:
		if (peer_parse_size(arg, &filed.size) || filed.size % XSEG_BLK_SECTOR)
			return peer_usage_error(p, "--size: bad size '%s' (a multiple of %u)",
						arg, XSEG_BLK_SECTOR);
		return 0;
	case FILED_OPT_DIRECT:
		filed.direct = true;
		return 0;
	}
	return peer_usage_error(p, "unknown option");
}

static int filed_check_opts(struct peer *p)
{
	if (!filed.dir)
		return peer_usage_error(p, "--dir is required");
	return 0;
}

static int filed_open(struct peer *p)
{
	filed.dirfd = open(filed.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (filed.dirfd < 0) {
		peer_err(p, "directory '%s': %s", filed.dir, strerror(errno));
		return -errno;
	}
	filed.zeroes = aligned_alloc(4096, FILED_ZERO_BUF);
	if (!filed.zeroes) {
		close(filed.dirfd);
		return -ENOMEM;
	}
	memset(filed.zeroes, 0, FILED_ZERO_BUF);
	return 0;
}

static void filed_close(struct peer *p)
{
	struct filed_target *tg, *next;

	for (tg = filed.head; tg; tg = next) {
		next = tg->next;
		/* what was written is made durable on a clean exit */
		if (tg->dirty)
			fdatasync(tg->fd);
		close(tg->fd);
		free(tg);
	}
	filed.head = NULL;
	close(filed.dirfd);
	free(filed.zeroes);
}

/* ---- threads: one io_uring each --------------------------------------------------------- */

static int filed_register_heap(struct peer_thread *t, struct filed_thread *ft)
{
	struct xseg *x = t->peer->xseg;
	struct iovec iov[FILED_MAX_BUFS];
	unsigned int n = 0;
	__u64 off;
	int ret;

	ft->heap = x->base + x->g.heap_off;
	ft->heap_size = x->g.heap_size;
	for (off = 0; off < ft->heap_size && n < FILED_MAX_BUFS; off += FILED_BUF_CHUNK, n++) {
		iov[n].iov_base = ft->heap + off;
		iov[n].iov_len = ft->heap_size - off < FILED_BUF_CHUNK ? ft->heap_size - off :
				 FILED_BUF_CHUNK;
	}
	ret = io_uring_register_buffers(&ft->ring, iov, n);
	if (ret) {
		peer_info(t->peer, "thread %u: registered buffers refused (%s): plain buffers",
			  t->id, strerror(-ret));
		return ret;
	}
	ft->fixed = true;
	filed_add(&filed.fixed_threads, 1);
	peer_info(t->peer, "thread %u: %llu bytes of segment heap registered in %u buffer(s)",
		  t->id, (unsigned long long)ft->heap_size, n);
	return 0;
}

static int filed_thread_init(struct peer_thread *t)
{
	struct filed_thread *ft = calloc(1, sizeof(*ft));
	int ret;

	if (!ft)
		return -ENOMEM;
	ret = io_uring_queue_init(FILED_RING_ENTRIES, &ft->ring, 0);
	if (ret) {
		peer_err(t->peer, "io_uring: %s", strerror(-ret));
		free(ft);
		return ret;
	}
	filed_register_heap(t, ft);
	t->be_priv = ft;
	return 0;
}

static void filed_thread_fini(struct peer_thread *t)
{
	struct filed_thread *ft = t->be_priv;

	if (!ft)
		return;
	filed_add(&filed.fixed_ios, ft->fixed_ios);
	filed_add(&filed.plain_ios, ft->plain_ios);
	io_uring_queue_exit(&ft->ring);
	free(ft);
	t->be_priv = NULL;
}

/* ---- targets ---------------------------------------------------------------------------- */

static struct filed_target *filed_find(const char *name, __u32 len)
{
	/* pairs with the store_release of head in filed_create() */
	struct filed_target *tg = __atomic_load_n(&filed.head, __ATOMIC_ACQUIRE);

	for (; tg; tg = tg->next)
		if (tg->len == len && !memcmp(tg->name, name, len))
			return tg;
	return NULL;
}

/* Opens DIR/name, creating it sparse with --size; the fd or -errno. */
static int filed_open_file(struct peer *p, const char *name, bool *created)
{
	int flags = O_RDWR | O_CLOEXEC | (filed.direct ? O_DIRECT : 0);
	int fd;

	*created = false;
	if (filed.size) {
		fd = openat(filed.dirfd, name, flags | O_CREAT | O_EXCL, 0600);
		if (fd >= 0) {
			*created = true;
			if (ftruncate(fd, filed.size)) {
				int err = -errno;

				close(fd);
				unlinkat(filed.dirfd, name, 0);
				return err;
			}
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
	}
	fd = openat(filed.dirfd, name, flags);
	return fd < 0 ? -errno : fd;
}

static int filed_create(struct peer *p, const char *name, __u32 len, struct filed_target **tgp)
{
	struct filed_target *tg;
	bool created;
	off_t end;
	int ret = 0, fd;

	pthread_mutex_lock(&filed.lock);
	tg = filed_find(name, len);
	if (tg)
		goto out;
	fd = filed_open_file(p, name, &created);
	if (fd < 0) {
		ret = fd;
		if (ret != -ENOENT)
			peer_err(p, "target '%s/%s': %s", filed.dir, name, strerror(-ret));
		goto out;
	}
	end = lseek(fd, 0, SEEK_END);
	tg = calloc(1, sizeof(*tg));
	if (end < 0 || !tg) {
		ret = end < 0 ? -errno : -ENOMEM;
		close(fd);
		free(tg);
		tg = NULL;
		goto out;
	}
	tg->fd = fd;
	tg->size = (__u64)end / XSEG_BLK_SECTOR * XSEG_BLK_SECTOR;
	memcpy(tg->name, name, len);
	tg->len = len;
	tg->next = filed.head;
	/* pairs with the load_acquire in filed_find(): the target is complete */
	__atomic_store_n(&filed.head, tg, __ATOMIC_RELEASE);
	filed.nr_targets++;
	peer_info(p, "target '%s': %s %s/%s, %llu bytes%s", tg->name,
		  created ? "created" : "opened", filed.dir, tg->name,
		  (unsigned long long)tg->size, filed.direct ? ", O_DIRECT" : "");
out:
	pthread_mutex_unlock(&filed.lock);
	*tgp = tg;
	return ret;
}

static int filed_lookup(struct peer_thread *t, struct peer_req *io, __u64 *sizep)
{
	struct filed_target *tg = filed_find(io->target, io->target_len);
	int ret;

	if (!tg) {
		ret = filed_create(t->peer, io->target, io->target_len, &tg);
		if (ret)
			return ret;
	}
	io->tgt = tg;
	*sizep = tg->size;
	return 0;
}

/* ---- I/O ------------------------------------------------------------------------------ */

static struct io_uring_sqe *filed_sqe(struct filed_thread *ft)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ft->ring);

	if (!sqe) {
		/* the SQ is full: hand it to the kernel and take a fresh entry */
		io_uring_submit(&ft->ring);
		sqe = io_uring_get_sqe(&ft->ring);
	}
	return sqe;
}

/* One fdatasync a flush waits for (user_data tagged with the low bit). */
struct filed_sync {
	struct peer_req *io;
	struct filed_target *tg;
};

/* Queues an fdatasync of every file written since the last flush; returns how many. */
static int filed_queue_flush(struct filed_thread *ft, struct peer_req *io)
{
	struct filed_target *tg = __atomic_load_n(&filed.head, __ATOMIC_ACQUIRE);
	struct io_uring_sqe *sqe;
	struct filed_sync *fs;
	int n = 0;

	for (; tg; tg = tg->next) {
		/* a write completing after this sets it again: the next flush covers it */
		if (!__atomic_exchange_n(&tg->dirty, 0, __ATOMIC_ACQ_REL))
			continue;
		fs = malloc(sizeof(*fs));
		sqe = fs ? filed_sqe(ft) : NULL;
		if (!sqe) {
			free(fs);
			__atomic_store_n(&tg->dirty, 1, __ATOMIC_RELEASE);
			io->result = -ENOMEM;
			break;
		}
		fs->io = io;
		fs->tg = tg;
		io_uring_prep_fsync(sqe, tg->fd, IORING_FSYNC_DATASYNC);
		io_uring_sqe_set_data(sqe, (void *)((unsigned long)fs | 1));
		n++;
		filed_add(&filed.fdatasyncs, 1);
	}
	return n;
}

/* A CQE of one fdatasync of a flush; true when the flush has all it waited for. */
static bool filed_sync_done(struct filed_sync *fs, int res)
{
	struct peer_req *io = fs->io;

	if (res < 0) {
		/* not durable: the next flush tries again */
		__atomic_store_n(&fs->tg->dirty, 1, __ATOMIC_RELEASE);
		if (!io->result)
			io->result = res;
	}
	free(fs);
	return --io->pending == 0;
}

/* Writes zeroes when fallocate cannot; synchronous (rare: file systems without it). */
static int filed_write_zeroes(struct filed_target *tg, __u64 off, __u64 len, bool sync)
{
	ssize_t n;

	filed_add(&filed.zero_fallbacks, 1);
	while (len) {
		n = pwrite(tg->fd, filed.zeroes, len < FILED_ZERO_BUF ? len : FILED_ZERO_BUF, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += n;
		len -= n;
	}
	if (sync && fdatasync(tg->fd))
		return -errno;
	return 0;
}

/* Queues the operation itself (or the rest of a short read/write); 0 or -errno. */
static int filed_queue_main(struct peer_thread *t, struct filed_thread *ft, struct peer_req *io)
{
	struct filed_target *tg = io->tgt;
	struct io_uring_sqe *sqe = filed_sqe(ft);
	__u8 *buf = (__u8 *)io->data + io->done;
	__u64 len = io->size - io->done, off = io->offset + io->done;
	__u64 hoff;
	int mode;

	if (!sqe)
		return -EBUSY;
	switch (io->op) {
	case XSEG_OP_READ:
	case XSEG_OP_WRITE:
		hoff = buf - ft->heap;
		if (ft->fixed && hoff / FILED_BUF_CHUNK == (hoff + len - 1) / FILED_BUF_CHUNK) {
			if (io->op == XSEG_OP_READ)
				io_uring_prep_read_fixed(sqe, tg->fd, buf, len, off,
							 hoff / FILED_BUF_CHUNK);
			else
				io_uring_prep_write_fixed(sqe, tg->fd, buf, len, off,
							  hoff / FILED_BUF_CHUNK);
			ft->fixed_ios++;
		} else {
			if (io->op == XSEG_OP_READ)
				io_uring_prep_read(sqe, tg->fd, buf, len, off);
			else
				io_uring_prep_write(sqe, tg->fd, buf, len, off);
			ft->plain_ios++;
		}
		if (io->op == XSEG_OP_WRITE && (io->flags & XSEG_RF_FUA))
			sqe->rw_flags = RWF_DSYNC;
		break;
	case XSEG_OP_DISCARD:
	case XSEG_OP_WRITE_ZEROES:
		mode = io->op == XSEG_OP_DISCARD ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
		       FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		io_uring_prep_fallocate(sqe, tg->fd, mode, off, len);
		break;
	default:
		return -EINVAL;
	}
	io_uring_sqe_set_data(sqe, io);
	io->pending = 1;
	return 0;
}

static void filed_fill_info(struct peer_req *io)
{
	struct filed_target *tg = io->tgt;
	struct xseg_reply_info info;

	memset(&info, 0, sizeof(info));
	info.size = tg->size;
	info.block_size = XSEG_BLK_SECTOR;
	memcpy(io->data, &info, sizeof(info));
	io->done = sizeof(info);
}

/*
 * Moves io on to its next stage and queues what that needs.  Returns 1 when io is complete
 * (io->result set), 0 when it waits for queued SQEs.
 */
static int filed_advance(struct peer_thread *t, struct peer_req *io)
{
	struct filed_thread *ft = t->be_priv;
	struct filed_target *tg = io->tgt;
	int ret;

	while (!io->result) {
		switch (io->stage) {
		case FILED_ST_PREFLUSH:
			io->stage = FILED_ST_MAIN;
			if (io->op == XSEG_OP_FLUSH || (io->flags & XSEG_RF_FLUSH)) {
				io->pending = filed_queue_flush(ft, io);
				if (io->pending)
					return 0;
			}
			break;
		case FILED_ST_MAIN:
			if (io->op == XSEG_OP_FLUSH) {
				io->stage = FILED_ST_DONE;
				break;
			}
			if (io->op == XSEG_OP_INFO) {
				filed_fill_info(io);
				io->stage = FILED_ST_DONE;
				break;
			}
			if (io->done >= io->size) {
				io->stage = io->op == XSEG_OP_WRITE_ZEROES &&
					    (io->flags & XSEG_RF_FUA) ? FILED_ST_POSTSYNC :
					    FILED_ST_DONE;
				break;
			}
			ret = filed_queue_main(t, ft, io);
			if (ret) {
				io->result = ret;
				break;
			}
			return 0;
		case FILED_ST_POSTSYNC:
			io->stage = FILED_ST_DONE;
			if (fdatasync(tg->fd))
				io->result = -errno;
			filed_add(&filed.fdatasyncs, 1);
			break;
		default:
			return 1;
		}
	}
	return 1;
}

static int filed_start(struct peer_thread *t, struct peer_req *io)
{
	io->stage = FILED_ST_PREFLUSH;
	return filed_advance(t, io);
}

/* A CQE of io's main operation. */
static void filed_main_done(struct peer_req *io, int res)
{
	struct filed_target *tg = io->tgt;
	__u64 len = io->size - io->done;
	int ret;

	io->pending = 0;
	if (res == -EAGAIN || res == -EINTR)
		return;		/* queued again by filed_advance() */
	if (io->op == XSEG_OP_DISCARD || io->op == XSEG_OP_WRITE_ZEROES) {
		if (res == -EOPNOTSUPP || res == -EINVAL) {
			ret = filed_write_zeroes(tg, io->offset, io->size,
						 io->flags & XSEG_RF_FUA);
			if (ret) {
				io->result = ret;
				return;
			}
			res = 0;
		}
		if (res < 0) {
			io->result = res;
			return;
		}
		__atomic_store_n(&tg->dirty, 1, __ATOMIC_RELEASE);
		io->done = io->size;
		return;
	}
	if (res < 0) {
		io->result = res;
		return;
	}
	if (!res) {
		/* the file shrank under us */
		io->result = -EIO;
		return;
	}
	if ((__u64)res > len)
		res = len;
	io->done += res;
	if (io->op == XSEG_OP_WRITE && !(io->flags & XSEG_RF_FUA))
		__atomic_store_n(&tg->dirty, 1, __ATOMIC_RELEASE);
}

static int filed_reap(struct peer_thread *t, unsigned int wait_us)
{
	struct filed_thread *ft = t->be_priv;
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = (long)wait_us * 1000 };
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0, done = 0;
	struct peer_req *io;
	unsigned long data;

	if (wait_us)
		io_uring_wait_cqe_timeout(&ft->ring, &cqe, &ts);
	else
		io_uring_submit(&ft->ring);

	io_uring_for_each_cqe(&ft->ring, head, cqe) {
		n++;
		data = (unsigned long)io_uring_cqe_get_data(cqe);
		if (data & 1) {
			struct filed_sync *fs = (struct filed_sync *)(data & ~1UL);

			io = fs->io;
			if (!filed_sync_done(fs, cqe->res))
				continue;
		} else {
			io = (struct peer_req *)data;
			filed_main_done(io, cqe->res);
		}
		if (filed_advance(t, io)) {
			peer_complete(t, io);
			done++;
		}
	}
	io_uring_cq_advance(&ft->ring, n);
	io_uring_submit(&ft->ring);
	return done;
}

static void filed_stats(struct peer *p, FILE *f)
{
	fprintf(f, "; %u target(s), %u/%u thread(s) with registered buffers, %llu fixed and %llu "
		"plain reads/writes, %llu fdatasyncs, %llu zero-write fallbacks",
		filed.nr_targets, filed.fixed_threads, p->nr_threads,
		(unsigned long long)filed.fixed_ios, (unsigned long long)filed.plain_ios,
		(unsigned long long)filed.fdatasyncs, (unsigned long long)filed.zero_fallbacks);
}

static const struct peer_backend filed_backend = {
	.name = "xseg-filed",
	.synopsis = "--dir DIR [--size SIZE] [--direct]",
	.help = "  --dir DIR                target T is the file DIR/T (required)\n"
		"  --size SIZE              create missing targets sparse with SIZE bytes (K, M, G,\n"
		"                           T); without it a target's file must exist\n"
		"  --direct                 open the files O_DIRECT\n",
	.opts = filed_opts,
	.parse_opt = filed_parse_opt,
	.check_opts = filed_check_opts,
	.open = filed_open,
	.close = filed_close,
	.thread_init = filed_thread_init,
	.thread_fini = filed_thread_fini,
	.lookup = filed_lookup,
	.start = filed_start,
	.reap = filed_reap,
	.stats = filed_stats,
};

int main(int argc, char **argv)
{
	return peer_main(argc, argv, &filed_backend, &filed);
}
