/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the tests that drive the kernel test peer (kmod/xseg_kpeer.c): loading the
 * modules, a segdev-backed segment, the kpeer's counters, the echo pattern.
 */
#ifndef _XSEG_KPEER_UTIL_H
#define _XSEG_KPEER_UTIL_H

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xseg/segdev_user.h>
#include <xseg/xseg.h>

#define KPEER_PARAMS	"/sys/module/xseg_kpeer/parameters/"
#define KPEER_PORT_USER	0
#define KPEER_PORT_WQ	1
#define KPEER_PORT_CB	2

/* Same as xseg_kpeer_pattern() in the module. */
static inline uint64_t kpeer_pattern(uint64_t pos)
{
	return pos * 0x9e3779b97f4a7c15ULL + 0x5bd1e995;
}

static inline double kpeer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* modprobe NAME, else insmod $XSEG_MODDIR/NAME.ko; params appended.  0 on success. */
static inline int kpeer_load(const char *name, const char *params)
{
	const char *moddir = getenv("XSEG_MODDIR");
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "modprobe %s %s 2>/dev/null", name, params);
	if (!system(cmd))
		return 0;
	if (!moddir)
		return -1;
	snprintf(cmd, sizeof(cmd), "insmod %s/%s.ko %s", moddir, name, params);
	return system(cmd) ? -1 : 0;
}

/* The kernel modules xseg_kpeer needs, in order; 0 if both are there. */
static inline int kpeer_load_deps(void)
{
	if (access("/sys/module/segdev", F_OK) && kpeer_load("segdev", ""))
		return -1;
	if (access("/sys/module/xseg", F_OK) && kpeer_load("xseg", ""))
		return -1;
	return 0;
}

static inline int kpeer_unload(void)
{
	if (access("/sys/module/xseg_kpeer", F_OK))
		return 0;
	return system("rmmod xseg_kpeer") ? -1 : 0;
}

static inline long long kpeer_param(const char *name)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), KPEER_PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* A segment for the kpeer: port 0 is the user's, 1 and 2 the kernel's. */
static inline int kpeer_segment(const char *name, struct xseg **xsegp)
{
	struct xseg_config cfg;
	int ret;

	xseg_config_default(&cfg);
	cfg.nr_ports = 8;
	cfg.nr_requests = 512;
	cfg.nr_sds = 16;
	cfg.heap_size = 4ULL << 20;
	cfg.mode = 0600;
	xseg_destroy(&xseg_segdev_backend, name);
	ret = xseg_create(&xseg_segdev_backend, name, &cfg, xsegp);
	if (ret)
		return ret;
	ret = xseg_bind_port(*xsegp, KPEER_PORT_USER, NULL);
	return ret < 0 ? ret : 0;
}

/* Checks the echo of a READ of size bytes at offset: 0 or -1. */
static inline int kpeer_check(struct xseg *xseg, struct xseg_request *req, uint64_t offset,
			      uint64_t size)
{
	uint64_t *data, i;
	__u64 len;
	void *buf;

	if (req->result || req->serviced != size)
		return -1;
	if (xseg_req_data(xseg, req, &buf, &len) || len < size)
		return -1;
	data = buf;
	for (i = 0; i < size / 8; i++)
		if (data[i] != kpeer_pattern(offset + i * 8))
			return -1;
	return 0;
}

#endif /* _XSEG_KPEER_UTIL_H */
