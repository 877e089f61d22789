// SPDX-License-Identifier: GPL-2.0
/*
 * xseg-memd: a RAM-backed storage peer.
 *
 *   xseg-memd --segment NAME --port P[-Q] --size SIZE [--null] [common options]
 *
 * Each target name gets its own SIZE bytes of anonymous memory, created zeroed on first use
 * (MAP_NORESERVE: untouched pages cost nothing).  With --null, READ and WRITE complete
 * without touching any data: the floor the framework and the segment cost, for benchmarks.
 * FLUSH and FUA are no-ops (memory is as durable as it gets); DISCARD and WRITE_ZEROES zero
 * the range (whole pages are given back with MADV_DONTNEED).  See xseg-memd(1).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../common/peer.h"

enum {
	MEMD_OPT_SIZE = 0x200,
	MEMD_OPT_NULL,
};

struct memd_target {
	struct memd_target *next;
	__u8 *mem;		/* NULL with --null */
	__u32 len;
	char name[XSEG_BLK_TARGET_MAX + 1];
};

struct memd {
	__u64 size;
	bool null;
	long page_size;
	/* serialises target creation; lookups walk the list without it */
	pthread_mutex_t lock;
	struct memd_target *head;	/* published with a release store, never shrinks */
	unsigned int nr_targets;
};

static struct memd memd = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static const struct option memd_opts[] = {
	{ "size", required_argument, NULL, MEMD_OPT_SIZE },
	{ "null", no_argument, NULL, MEMD_OPT_NULL },
	{ NULL, 0, NULL, 0 },
};

static int memd_parse_opt(struct peer *p, int c, const char *arg)
{
	switch (c) {
	case MEMD_OPT_SIZE:
		if (peer_parse_size(arg, &memd.size) || memd.size % XSEG_BLK_SECTOR)
			return peer_usage_error(p, "--size: bad size '%s' (a multiple of %u)",
						arg, XSEG_BLK_SECTOR);
		return 0;
	case MEMD_OPT_NULL:
		memd.null = true;
		return 0;
	}
	return peer_usage_error(p, "unknown option");
}

static int memd_check_opts(struct peer *p)
{
	if (!memd.size)
		return peer_usage_error(p, "--size is required");
	memd.page_size = sysconf(_SC_PAGESIZE);
	return 0;
}

static struct memd_target *memd_find(const char *name, __u32 len)
{
	/* pairs with the store_release of head in memd_create() */
	struct memd_target *tg = __atomic_load_n(&memd.head, __ATOMIC_ACQUIRE);

	for (; tg; tg = tg->next)
		if (tg->len == len && !memcmp(tg->name, name, len))
			return tg;
	return NULL;
}

static int memd_create(struct peer *p, const char *name, __u32 len, struct memd_target **tgp)
{
	struct memd_target *tg;
	int ret = 0;

	pthread_mutex_lock(&memd.lock);
	tg = memd_find(name, len);
	if (tg)
		goto out;
	tg = calloc(1, sizeof(*tg));
	if (!tg) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(tg->name, name, len);
	tg->len = len;
	if (!memd.null) {
		tg->mem = mmap(NULL, memd.size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (tg->mem == MAP_FAILED) {
			ret = -errno;
			peer_err(p, "target '%s': %s", tg->name, strerror(-ret));
			free(tg);
			tg = NULL;
			goto out;
		}
	}
	tg->next = memd.head;
	/* pairs with the load_acquire in memd_find(): the target is complete */
	__atomic_store_n(&memd.head, tg, __ATOMIC_RELEASE);
	memd.nr_targets++;
	peer_info(p, "target '%s': created, %llu bytes", tg->name, (unsigned long long)memd.size);
out:
	pthread_mutex_unlock(&memd.lock);
	*tgp = tg;
	return ret;
}

static int memd_lookup(struct peer_thread *t, struct peer_req *io, __u64 *sizep)
{
	struct memd_target *tg = memd_find(io->target, io->target_len);
	int ret;

	if (!tg) {
		ret = memd_create(t->peer, io->target, io->target_len, &tg);
		if (ret)
			return ret;
	}
	io->tgt = tg;
	*sizep = memd.size;
	return 0;
}

/* Zeroes [off, off + len): whole pages are dropped (they read back as zeroes). */
static void memd_zero(__u8 *mem, __u64 off, __u64 len)
{
	__u64 ps = memd.page_size, a = (off + ps - 1) / ps * ps, b = (off + len) / ps * ps;

	if (a < b && !madvise(mem + a, b - a, MADV_DONTNEED)) {
		memset(mem + off, 0, a - off);
		memset(mem + b, 0, off + len - b);
		return;
	}
	memset(mem + off, 0, len);
}

static int memd_start(struct peer_thread *t, struct peer_req *io)
{
	struct memd_target *tg = io->tgt;
	struct xseg_reply_info info;

	io->result = 0;
	io->done = io->size;
	switch (io->op) {
	case XSEG_OP_READ:
		if (tg->mem)
			memcpy(io->data, tg->mem + io->offset, io->size);
		break;
	case XSEG_OP_WRITE:
		if (tg->mem)
			memcpy(tg->mem + io->offset, io->data, io->size);
		break;
	case XSEG_OP_DISCARD:
	case XSEG_OP_WRITE_ZEROES:
		if (tg->mem)
			memd_zero(tg->mem, io->offset, io->size);
		break;
	case XSEG_OP_INFO:
		memset(&info, 0, sizeof(info));
		info.size = memd.size;
		info.block_size = XSEG_BLK_SECTOR;
		memcpy(io->data, &info, sizeof(info));
		break;
	default:	/* FLUSH */
		io->done = 0;
		break;
	}
	return 1;
}

static void memd_stats(struct peer *p, FILE *f)
{
	fprintf(f, "; %u target(s)%s", memd.nr_targets, memd.null ? " (null)" : "");
}

static const struct peer_backend memd_backend = {
	.name = "xseg-memd",
	.synopsis = "--size SIZE [--null]",
	.help = "  --size SIZE              bytes per target (K, M, G, T; a multiple of 512)\n"
		"  --null                   complete reads and writes without touching data\n",
	.opts = memd_opts,
	.parse_opt = memd_parse_opt,
	.check_opts = memd_check_opts,
	.lookup = memd_lookup,
	.start = memd_start,
	.stats = memd_stats,
};

int main(int argc, char **argv)
{
	return peer_main(argc, argv, &memd_backend, &memd);
}
