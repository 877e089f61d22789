// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel never trusts the segment (ARCHITECTURE.md 4.1): while the kernel test peer
 * (kmod/xseg_kpeer.c) serves requests, this process writes random bytes over every part of
 * the live segment (header, ports, requests, signal descriptors and their data, the type
 * table, rings, heap bitmap, heap) and rings random doorbells, for $XSEG_SCRIBBLE_SECS
 * seconds (default 60 with CI=true, else 10).  Afterwards the kernel peer must still be
 * running (its counters show it noticed the damage or kept serving) and rmmod must work.
 * The VM runner fails the run on any kernel warning or oops.  Needs root.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>

#include <xseg/internal.h>

#include "kselftest_harness.h"
#include "kpeer_util.h"

struct scribble_region {
	const char *name;
	__u64 off;
	__u64 len;
};

FIXTURE(scribble) {
	char name[64];
	struct xseg *xseg;
	atomic_int stop;
	atomic_long replies;
	atomic_long errors;
};

FIXTURE_SETUP(scribble)
{
	char params[128];

	/* the user-side core complains about every bad value it meets; we make them */
	setenv("XSEG_LOG", "none", 1);
	if (geteuid())
		SKIP(return, "needs root");
	if (kpeer_load_deps())
		SKIP(return, "segdev.ko / xseg.ko not available");
	snprintf(self->name, sizeof(self->name), "scribble-test-%d", getpid());
	ASSERT_EQ(0, kpeer_segment(self->name, &self->xseg));
	snprintf(params, sizeof(params), "segment=%s", self->name);
	ASSERT_EQ(0, kpeer_load("xseg_kpeer", params));
}

FIXTURE_TEARDOWN(scribble)
{
	if (!self->xseg)
		return;
	kpeer_unload();
	xseg_leave(self->xseg);
	xseg_destroy(&xseg_segdev_backend, self->name);
}

static int scribble_submit(struct xseg *xseg, struct xseg_request *req)
{
	int ret = xseg_prep_request(xseg, req, 0, 64);

	if (ret)
		return ret;
	req->op = XSEG_OP_READ;
	req->size = 64;
	ret = xseg_submit(xseg, req);
	return ret < 0 ? ret : 0;
}

/* Keeps requests flowing to both kernel ports; every error is expected and counted. */
static void *scribble_traffic(void *arg)
{
	FIXTURE_DATA(scribble) * self = arg;
	struct xseg *xseg = self->xseg;
	struct xseg_request *req;
	unsigned long i;

	for (i = 0; !atomic_load(&self->stop); i++) {
		__u32 dst = i & 1 ? KPEER_PORT_CB : KPEER_PORT_WQ;

		if (!xseg_get_request(xseg, KPEER_PORT_USER, dst, &req)) {
			if (scribble_submit(xseg, req)) {
				xseg_put_request(xseg, req);
				atomic_fetch_add(&self->errors, 1);
			} else {
				xseg_signal(xseg, dst);
			}
		} else if (i % 64 == 0) {
			/* requests lost to the scribbling: take back what we can */
			xseg_reclaim(xseg);
		}
		while (xseg_receive(xseg, KPEER_PORT_USER, &req) >= 0) {
			atomic_fetch_add(&self->replies, 1);
			xseg_put_request(xseg, req);
		}
		sched_yield();
	}
	return NULL;
}

static bool scribble_kthread_alive(void)
{
	struct dirent *de;
	bool found = false;
	char path[300], comm[32];
	DIR *d = opendir("/proc");
	FILE *f;

	while (d && !found && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		found = fgets(comm, sizeof(comm), f) && !strcmp(comm, "xseg_kpeer\n");
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

TEST_F_TIMEOUT(scribble, random_bytes_everywhere, 600)
{
	const struct xseg_geom *g = &self->xseg->g;
	struct scribble_region r[] = {
		{ "header", 0, XSEG_HEADER_SIZE },
		{ "ports", g->ports_off, (__u64)g->nr_ports * sizeof(struct xseg_port) },
		{ "requests", g->requests_off,
		  (__u64)g->nr_requests * sizeof(struct xseg_request) },
		{ "descriptors", g->sds_off, (__u64)g->nr_sds * sizeof(struct xseg_signal_desc) },
		{ "descriptor data", g->sd_data_off, (__u64)g->nr_sds * XSEG_SD_DATA_SIZE },
		{ "type table", g->types_off, (__u64)g->nr_types * sizeof(struct xseg_type_entry) },
		{ "rings", g->rings_off, 2ULL * g->nr_ports * g->ring_bytes },
		{ "heap bitmap", g->bitmap_off, (__u64)g->bitmap_words * 8 },
		{ "heap", g->heap_off, g->heap_size },
	};
	const char *env = getenv("XSEG_SCRIBBLE_SECS"), *ci = getenv("CI");
	double secs = env ? atof(env) : (ci && !strcmp(ci, "true") ? 60 : 10);
	unsigned long writes[ARRAY_SIZE(r)] = { 0 }, n = 0;
	__u8 *base = self->xseg->base;
	double t0 = kpeer_now();
	long long faults, served;
	unsigned int seed = getpid();
	pthread_t thr;
	size_t i;

	/* warm up: the peer serves an intact segment */
	ASSERT_EQ(0, pthread_create(&thr, NULL, scribble_traffic, self));
	while (atomic_load(&self->replies) < 1000 && kpeer_now() - t0 < 60)
		usleep(1000);
	ASSERT_LE(1000, atomic_load(&self->replies));

	while (kpeer_now() - t0 < secs) {
		for (i = 0; i < 256; i++, n++) {
			size_t k = rand_r(&seed) % ARRAY_SIZE(r);
			__u64 off = r[k].off + (__u64)rand_r(&seed) % r[k].len;

			/* a byte, or a whole aligned word: both kinds of damage */
			if (n & 1)
				base[off] = rand_r(&seed);
			else
				*(__u64 *)(base + (off & ~7ULL)) =
					(__u64)rand_r(&seed) << 33 ^ rand_r(&seed);
			writes[k]++;
		}
		xseg_segdev_doorbell(self->xseg, rand_r(&seed) % 32);
		usleep(200);
	}
	atomic_store(&self->stop, 1);
	pthread_join(thr, NULL);

	for (i = 0; i < ARRAY_SIZE(r); i++) {
		EXPECT_LT(0, writes[i]);
		TH_LOG("%-16s %lu writes", r[i].name, writes[i]);
	}
	faults = kpeer_param("faults_wq") + kpeer_param("faults_cb");
	served = kpeer_param("served_wq") + kpeer_param("served_cb");
	TH_LOG("%.0f s: %lu writes, %ld replies, %ld user errors; kernel: %lld served, %lld faults",
	       kpeer_now() - t0, n, atomic_load(&self->replies), atomic_load(&self->errors),
	       served, faults);
	/* the kernel peer is still there and still running its thread */
	EXPECT_TRUE(scribble_kthread_alive());
	EXPECT_LT(0, served);
	/* and leaves cleanly */
	EXPECT_EQ(0, kpeer_unload());
	EXPECT_NE(0, access("/sys/module/xseg_kpeer", F_OK));
}

TEST_HARNESS_MAIN
