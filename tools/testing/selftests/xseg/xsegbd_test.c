// SPDX-License-Identifier: GPL-2.0
/*
 * xsegbd tests and their storage server.
 *
 * "xsegbd_test serve ..." is a small block server for the xsegbd shell tests (xsegbd_*.sh):
 * it joins (or creates) an xseg segment in a segdev segment, binds one port with the "poll"
 * signal type (taking it over from a dead owner) and serves the block protocol of
 * <uapi/xseg/blk.h> from files under --store (one file per target, mmap'ed, so the data
 * survives the server being SIGKILLed and restarted).  Modes for the crash and trust tests:
 *
 *   --die-after N          SIGKILL itself when the Nth READ/WRITE arrives (before answering)
 *   --bogus KIND --bogus-offset OFF
 *                          answer every READ/WRITE whose range covers byte OFF wrongly:
 *                          serviced (short count), result (positive result), offset
 *                          (offset changed), buf (buffer offset changed), priv (priv
 *                          changed: the reply cannot be matched, the I/O times out), eio
 *                          (a legitimate -EIO)
 *   --create               create the segment (segdev) first, destroy it on exit
 *
 * Without "serve", the kselftest harness runs the tests below (they need a running
 * xsegbd setup and are driven by xsegbd_basic.sh through the environment).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uapi/xseg/blk.h>
#include <xseg/segdev_user.h>
#include <xseg/xseg.h>

#include "kselftest_harness.h"

#define SRV_MAX_TARGETS	16
#define SRV_BATCH	256

enum srv_bogus {
	SRV_BOGUS_NONE,
	SRV_BOGUS_SERVICED,
	SRV_BOGUS_RESULT,
	SRV_BOGUS_OFFSET,
	SRV_BOGUS_BUF,
	SRV_BOGUS_PRIV,
	SRV_BOGUS_EIO,
};

static const char * const srv_bogus_names[] = {
	"none", "serviced", "result", "offset", "buf", "priv", "eio",
};

struct srv_target {
	char name[XSEG_BLK_TARGET_MAX + 1];
	uint8_t *data;
	uint64_t size;
};

struct srv {
	const char *segment, *store;
	uint32_t port, bs;
	uint64_t size;
	unsigned long die_after, served_rw;
	enum srv_bogus bogus;
	uint64_t bogus_offset;
	bool create;
	struct xseg *xseg;
	struct srv_target targets[SRV_MAX_TARGETS];
	unsigned int nr_targets;
};

static volatile sig_atomic_t srv_stop;

static void srv_on_signal(int sig)
{
	srv_stop = 1;
}

/* Finds or opens the store file of a target; NULL on a bad name or error. */
static struct srv_target *srv_target(struct srv *s, const char *name, uint32_t len)
{
	char path[PATH_MAX];
	struct srv_target *t;
	unsigned int i;
	void *p;
	int fd;

	if (!len || len > XSEG_BLK_TARGET_MAX || memchr(name, '/', len) || memchr(name, 0, len))
		return NULL;
	for (i = 0; i < s->nr_targets; i++)
		if (strlen(s->targets[i].name) == len && !memcmp(s->targets[i].name, name, len))
			return &s->targets[i];
	if (s->nr_targets == SRV_MAX_TARGETS)
		return NULL;
	t = &s->targets[s->nr_targets];
	memcpy(t->name, name, len);
	t->name[len] = 0;
	if (!strcmp(t->name, ".") || !strcmp(t->name, ".."))
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", s->store, t->name);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, s->size)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	t->data = p;
	t->size = s->size;
	s->nr_targets++;
	return t;
}

/* Serves one request: fills result and serviced; returns false to skip the reply. */
static void srv_serve(struct srv *s, struct xseg_request *req)
{
	uint32_t op = req->op;
	__u32 tlen;
	uint64_t off = req->offset, size = req->size;
	__u64 dlen;
	struct srv_target *t;
	char *target;
	void *data;
	int result = 0;

	if (xseg_req_target(s->xseg, req, &target, &tlen) ||
	    xseg_req_data(s->xseg, req, &data, &dlen)) {
		result = -EINVAL;
		goto out;
	}
	t = srv_target(s, target, tlen);
	if (!t) {
		result = -ENOENT;
		goto out;
	}
	if (op == XSEG_OP_INFO) {
		struct xseg_reply_info info = { .size = t->size, .block_size = s->bs };

		if (dlen < sizeof(info)) {
			result = -EINVAL;
			goto out;
		}
		memcpy(data, &info, sizeof(info));
		req->serviced = sizeof(info);
		goto out;
	}
	if (op == XSEG_OP_FLUSH) {
		req->serviced = 0;
		goto out;
	}
	if (op != XSEG_OP_READ && op != XSEG_OP_WRITE && op != XSEG_OP_DISCARD &&
	    op != XSEG_OP_WRITE_ZEROES) {
		result = -EINVAL;
		goto out;
	}
	if (off % XSEG_BLK_SECTOR || size % XSEG_BLK_SECTOR || off > t->size ||
	    size > t->size - off) {
		result = -EINVAL;
		goto out;
	}
	if ((op == XSEG_OP_READ || op == XSEG_OP_WRITE) && dlen < size) {
		result = -EINVAL;
		goto out;
	}
	if (op == XSEG_OP_READ || op == XSEG_OP_WRITE) {
		s->served_rw++;
		if (s->die_after && s->served_rw >= s->die_after)
			kill(getpid(), SIGKILL);
	}
	switch (op) {
	case XSEG_OP_READ:
		memcpy(data, t->data + off, size);
		break;
	case XSEG_OP_WRITE:
		memcpy(t->data + off, data, size);
		break;
	default:
		memset(t->data + off, 0, size);
		break;
	}
	req->serviced = size;
	if (s->bogus && (op == XSEG_OP_READ || op == XSEG_OP_WRITE) &&
	    s->bogus_offset >= off && s->bogus_offset < off + size) {
		switch (s->bogus) {
		case SRV_BOGUS_SERVICED:
			req->serviced = size - XSEG_BLK_SECTOR;
			break;
		case SRV_BOGUS_RESULT:
			result = 4242;
			break;
		case SRV_BOGUS_OFFSET:
			req->offset = off + 4096;
			break;
		case SRV_BOGUS_BUF:
			req->buf_off += 4096;
			break;
		case SRV_BOGUS_PRIV:
			req->priv ^= 1ULL << 40;
			break;
		case SRV_BOGUS_EIO:
			result = -EIO;
			req->serviced = 0;
			break;
		default:
			break;
		}
	}
out:
	req->result = result;
	if (result)
		req->serviced = op == XSEG_OP_INFO ? 0 : req->serviced;
}

static int srv_bind(struct srv *s, struct xseg_sd *sd)
{
	int ret = -EBUSY, i;

	/* the port may be held for a moment by a client draining it after a crash */
	for (i = 0; i < 100; i++) {
		ret = xseg_bind_port(s->xseg, s->port, sd);
		if (ret != -EBUSY)
			break;
		usleep(50000);
	}
	return ret < 0 ? ret : 0;
}

static int srv_run(struct srv *s)
{
	struct xseg_config cfg;
	struct xseg_request *req;
	struct xseg_sd *sd;
	int ret, n, to;

	if (s->create) {
		xseg_config_default(&cfg);
		cfg.nr_ports = 64;
		cfg.nr_requests = 4096;
		cfg.nr_sds = 128;
		cfg.heap_size = 64ULL << 20;
		ret = xseg_create(&xseg_segdev_backend, s->segment, &cfg, &s->xseg);
	} else {
		ret = xseg_join(&xseg_segdev_backend, s->segment, &s->xseg);
	}
	if (ret) {
		fprintf(stderr, "serve: segment %s: %s\n", s->segment, strerror(-ret));
		return 1;
	}
	/* what a dead predecessor held (its port, its requests) goes back */
	xseg_reclaim(s->xseg);
	ret = xseg_local_signal_init(s->xseg, XSEG_SIGNAL_POLL);
	if (!ret)
		ret = xseg_get_signal_desc(s->xseg, XSEG_SIGNAL_POLL, &sd);
	if (!ret)
		ret = srv_bind(s, sd);
	if (ret) {
		fprintf(stderr, "serve: port %u: %s\n", s->port, strerror(-ret));
		xseg_leave(s->xseg);
		return 1;
	}
	printf("serving %s port %u\n", s->segment, s->port);
	fflush(stdout);
	while (!srv_stop) {
		xseg_prepare_wait(sd);
		for (n = 0; n < SRV_BATCH; n++) {
			ret = xseg_accept(s->xseg, s->port, &req);
			if (ret == -EAGAIN)
				break;
			if (ret)
				continue;
			srv_serve(s, req);
			to = xseg_respond(s->xseg, req);
			if (to >= 0)
				xseg_signal(s->xseg, to);
		}
		if (!n)
			xseg_wait_signal(sd, 100000);
		xseg_cancel_wait(sd);
	}
	xseg_leave_port(s->xseg, s->port);
	xseg_put_signal_desc(sd);
	xseg_leave(s->xseg);
	if (s->create)
		xseg_destroy(&xseg_segdev_backend, s->segment);
	return 0;
}

static int serve_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "segment", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 'S' },
		{ "bs", required_argument, NULL, 'b' },
		{ "store", required_argument, NULL, 'd' },
		{ "die-after", required_argument, NULL, 'k' },
		{ "bogus", required_argument, NULL, 'B' },
		{ "bogus-offset", required_argument, NULL, 'o' },
		{ "create", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct srv s = { .bs = 512, .size = 64ULL << 20 };
	struct sigaction sa = { .sa_handler = srv_on_signal };
	unsigned int i;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			s.segment = optarg;
			break;
		case 'p':
			s.port = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			s.size = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			s.bs = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			s.store = optarg;
			break;
		case 'k':
			s.die_after = strtoul(optarg, NULL, 0);
			break;
		case 'B':
			for (i = 0; i < sizeof(srv_bogus_names) / sizeof(srv_bogus_names[0]); i++)
				if (!strcmp(optarg, srv_bogus_names[i]))
					s.bogus = i;
			if (!s.bogus) {
				fprintf(stderr, "serve: unknown --bogus %s\n", optarg);
				return 2;
			}
			break;
		case 'o':
			s.bogus_offset = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			s.create = true;
			break;
		default:
			return 2;
		}
	}
	if (!s.segment || !s.store || !s.size || s.size % 4096) {
		fprintf(stderr, "usage: xsegbd_test serve --segment NAME --store DIR [--port P] "
			"[--size BYTES] [--bs N] [--create] [--die-after N] "
			"[--bogus KIND --bogus-offset OFF]\n");
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return srv_run(&s);
}

/*
 * Harness tests: the add interface refuses what it must, with the documented errors.
 * They need xsegbd.ko loaded and XSEGBD_SEGMENT / XSEGBD_PORT naming a served port
 * (xsegbd_basic.sh sets them); otherwise they skip.
 */
static int sysfs_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE(add) {
	char seg[128];
	char port[32];
};

FIXTURE_SETUP(add)
{
	const char *seg = getenv("XSEGBD_SEGMENT"), *port = getenv("XSEGBD_PORT");

	if (!seg || !port || access("/sys/bus/xsegbd/add", W_OK))
		SKIP(return, "no xsegbd setup (run through xsegbd_basic.sh)");
	snprintf(self->seg, sizeof(self->seg), "%s", seg);
	snprintf(self->port, sizeof(self->port), "%s", port);
}

FIXTURE_TEARDOWN(add)
{
}

TEST_F(add, refuses_bad_lines)
{
	static const char * const bad[] = {
		" ",						/* no keys at all */
		"segment=%s port=%s",				/* no target */
		"segment=%s port=%s target=t bogus=1",		/* unknown key */
		"segment=%s port=%s target=t target=u",		/* duplicate */
		"segment=%s port=%s target=t queues=0",		/* out of range */
		"segment=%s port=%s target=t queues=65",
		"segment=%s port=%s target=t depth=0",
		"segment=%s port=%s target=t depth=x",
		"segment=%s port=%s target=a/b",		/* bad target */
		"segment=%s port=%s target=..",
		"segment=%s port=%s target=t timeout=0",
		"segment=%s port=%s target=t recovery_window=3601",
		"segment=%s port=%s target",
	};
	char line[512];
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), bad[i], self->seg, self->port);
		EXPECT_EQ(-EINVAL, sysfs_write("/sys/bus/xsegbd/add", line)) {
			TH_LOG("line \"%s\"", line);
		}
	}
}

TEST_F(add, refuses_missing_segment_and_port)
{
	char line[512];

	snprintf(line, sizeof(line), "segment=no-such-segment-%d port=%s target=t", getpid(),
		 self->port);
	EXPECT_EQ(-ENOENT, sysfs_write("/sys/bus/xsegbd/add", line));
	/* a port nobody serves */
	snprintf(line, sizeof(line), "segment=%s port=63 target=t", self->seg);
	EXPECT_EQ(-ENXIO, sysfs_write("/sys/bus/xsegbd/add", line));
	snprintf(line, sizeof(line), "segment=%s port=4095 target=t", self->seg);
	EXPECT_EQ(-ENXIO, sysfs_write("/sys/bus/xsegbd/add", line));
}

TEST(remove_refuses_bad_lines)
{
	if (access("/sys/bus/xsegbd/remove", W_OK))
		SKIP(return, "xsegbd.ko not loaded");
	EXPECT_EQ(-EINVAL, sysfs_write("/sys/bus/xsegbd/remove", "x"));
	EXPECT_EQ(-EINVAL, sysfs_write("/sys/bus/xsegbd/remove", "0 gently"));
	EXPECT_EQ(-ENOENT, sysfs_write("/sys/bus/xsegbd/remove", "255"));
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "serve"))
		return serve_main(argc - 1, argv + 1);
	return test_harness_run(argc, argv);
}
