// SPDX-License-Identifier: GPL-2.0
/*
 * xseg map | unmap | devices: xsegbd block devices, through the sysfs bus of xsegbd.ko
 * (<uapi/xseg/xsegbd.h>).  The bus directory can be moved with XSEG_XSEGBD_SYSFS (tests).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <uapi/xseg/blk.h>
#include <uapi/xseg/xsegbd.h>

#include "xseg_cli.h"

#define CLI_DEV_WAIT_MS		5000	/* for udev/devtmpfs to create /dev/xsegbdN */

static const char *cli_bus(void)
{
	const char *s = getenv("XSEG_XSEGBD_SYSFS");

	return s && *s ? s : XSEGBD_SYSFS_BUS;
}

static const char *cli_devdir(void)
{
	const char *s = getenv("XSEG_XSEGBD_DEV");

	return s && *s ? s : "/dev";
}

static void cli_bad_opt(const char *topic, char **argv)
{
	if (optopt && optopt != '?')
		cli_usage_error(topic, "bad or incomplete option '-%c'", optopt);
	cli_usage_error(topic, "bad or incomplete option '%s'", argv[optind - 1]);
}

/* Writes s to bus/file in one write(); returns 0 or -errno (the kernel's answer). */
static int cli_bus_write(const char *file, const char *s)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", cli_bus(), file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(s))
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* Reads the first line of path into buf, without the newline. */
static int cli_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		ret = ferror(f) ? -EIO : -ENODATA;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return ret;
}

static int cli_dev_attr(unsigned int n, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/devices/%u/%s", cli_bus(), n, attr);
	return cli_read_line(path, buf, len);
}

static int cli_need_bus(void)
{
	struct stat st;

	if (stat(cli_bus(), &st) || !S_ISDIR(st.st_mode)) {
		cli_error("xsegbd is not loaded (%s missing; try 'modprobe xsegbd')", cli_bus());
		return -ENODEV;
	}
	return 0;
}

/* "/dev/xsegbdN", "xsegbdN" or "N" -> N */
static int cli_parse_dev(const char *s, unsigned int *np)
{
	const char *p = s;
	__u32 n;

	if (!strncmp(p, "/dev/", 5))
		p += 5;
	if (!strncmp(p, "xsegbd", 6))
		p += 6;
	if (cli_parse_u32(p, 0, XSEGBD_MAX_DEVICES - 1, &n) || (p[0] == '0' && p[1]))
		return -EINVAL;
	*np = n;
	return 0;
}

/*
 * DEVICE of unmap: a block device node (any path, symlinks followed) is looked up by its
 * device number; otherwise "xsegbdN" or "N" (with or without a directory).
 */
static int cli_find_dev(const char *arg, unsigned int *np)
{
	const char *base = strrchr(arg, '/');
	char path[PATH_MAX], buf[32];
	struct dirent *e;
	struct stat st;
	int ret = -ENOENT;
	DIR *d;

	if (!base || stat(arg, &st) || !S_ISBLK(st.st_mode))
		return cli_parse_dev(base ? base + 1 : arg, np);
	snprintf(path, sizeof(path), "%s/devices", cli_bus());
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while (ret && (e = readdir(d))) {
		__u32 ma, mi;

		if (cli_parse_dev(e->d_name, np) ||
		    cli_dev_attr(*np, "major", buf, sizeof(buf)) ||
		    cli_parse_u32(buf, 0, ~0U, &ma) ||
		    cli_dev_attr(*np, "minor", buf, sizeof(buf)) ||
		    cli_parse_u32(buf, 0, ~0U, &mi))
			continue;
		if (ma == major(st.st_rdev) && mi == minor(st.st_rdev))
			ret = 0;
	}
	closedir(d);
	return ret;
}

static bool cli_target_ok(const char *t)
{
	size_t len = strlen(t);

	return len && len <= XSEG_BLK_TARGET_MAX && !strchr(t, '/') && strcmp(t, ".") &&
	       strcmp(t, "..") && !strpbrk(t, " \t\n=");
}

static bool cli_dev_matches(unsigned int n, const char *seg, __u32 port, const char *target)
{
	char buf[512];
	__u32 p;

	if (cli_dev_attr(n, "segment", buf, sizeof(buf)) || strcmp(buf, seg))
		return false;
	if (cli_dev_attr(n, "port", buf, sizeof(buf)) || cli_parse_u32(buf, 0, ~0U, &p) ||
	    p != port)
		return false;
	return !cli_dev_attr(n, "target", buf, sizeof(buf)) && !strcmp(buf, target);
}

static void cli_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Waits for the device node of xsegbdN; without udev or devtmpfs, makes it from the
 * major/minor attributes.  Returns 0 when path is a block device.
 */
static int cli_wait_node(unsigned int n, char *path, size_t len)
{
	char maj[32], min[32];
	struct stat st;
	unsigned int waited;
	__u32 ma, mi;

	snprintf(path, len, "%s/xsegbd%u", cli_devdir(), n);
	for (waited = 0; waited < CLI_DEV_WAIT_MS; waited += 20) {
		if (!stat(path, &st) && S_ISBLK(st.st_mode))
			return 0;
		cli_sleep_ms(20);
	}
	if (cli_dev_attr(n, "major", maj, sizeof(maj)) ||
	    cli_dev_attr(n, "minor", min, sizeof(min)) ||
	    cli_parse_u32(maj, 0, ~0U, &ma) || cli_parse_u32(min, 0, ~0U, &mi))
		return -ENODEV;
	if (mknod(path, S_IFBLK | 0600, makedev(ma, mi)) && errno != EEXIST)
		return -errno;
	return 0;
}

static const char *cli_map_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such segment (or no xseg segment in it)";
	case -ENXIO:
		return "no server bound to that port (start the storage peer first)";
	case -ETIMEDOUT:
		return "the server did not answer (timed out)";
	case -EIO:
		return "the server answered with a bad INFO reply";
	case -ENOSPC:
		return "too many devices";
	case -EACCES:
	case -EPERM:
		return "permission denied (root only)";
	case -EINVAL:
		return "invalid argument (refused by xsegbd)";
	default:
		return strerror(-err);
	}
}

int cli_map(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "segment", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "queues", required_argument, NULL, 'q' },
		{ "depth", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "recovery-window", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	__u32 port = 0, queues = 0, depth = 0, timeout = 0, window = 0;
	bool has_port = false, has_window = false;
	const char *seg = NULL, *target;
	char line[1024], buf[64], path[PATH_MAX];
	unsigned int n;
	int c, ret, len;
	DIR *d;

	while ((c = getopt_long(argc, argv, "s:p:q:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seg = optarg;
			break;
		case 'p':
			if (cli_parse_u32(optarg, 0, XSEG_MAX_PORTS - 1, &port))
				cli_usage_error("map", "bad port '%s'", optarg);
			has_port = true;
			break;
		case 'q':
			if (cli_parse_u32(optarg, 1, XSEGBD_MAX_QUEUES, &queues))
				cli_usage_error("map", "bad number of queues '%s' (1..%d)", optarg,
						XSEGBD_MAX_QUEUES);
			break;
		case 'd':
			if (cli_parse_u32(optarg, 1, XSEGBD_MAX_DEPTH, &depth))
				cli_usage_error("map", "bad queue depth '%s' (1..%d)", optarg,
						XSEGBD_MAX_DEPTH);
			break;
		case 'T':
			if (cli_parse_u32(optarg, 1, XSEGBD_MAX_SECONDS, &timeout))
				cli_usage_error("map", "bad timeout '%s' (1..%d seconds)", optarg,
						XSEGBD_MAX_SECONDS);
			break;
		case 'R':
			if (cli_parse_u32(optarg, 0, XSEGBD_MAX_SECONDS, &window))
				cli_usage_error("map", "bad recovery window '%s' (0..%d seconds)",
						optarg, XSEGBD_MAX_SECONDS);
			has_window = true;
			break;
		case 'h':
			cli_print_help("map");
			return CLI_EXIT_OK;
		default:
			cli_bad_opt("map", argv);
		}
	}
	if (!seg)
		cli_usage_error("map", "missing --segment NAME");
	if (!*seg || strpbrk(seg, " \t\n="))
		cli_usage_error("map", "bad segment name '%s'", seg);
	if (!has_port)
		cli_usage_error("map", "missing --port P");
	if (optind != argc - 1)
		cli_usage_error("map", optind == argc ? "missing TARGET" : "too many arguments");
	target = argv[optind];
	if (!cli_target_ok(target))
		cli_usage_error("map",
				"bad target '%s' (1 to %u bytes; no '/', blank or '='; not . or ..)",
				target, XSEG_BLK_TARGET_MAX);
	if (cli_need_bus())
		return CLI_EXIT_FAIL;

	len = snprintf(line, sizeof(line), "segment=%s port=%u target=%s", seg, port, target);
	if (queues)
		len += snprintf(line + len, sizeof(line) - len, " queues=%u", queues);
	if (depth)
		len += snprintf(line + len, sizeof(line) - len, " depth=%u", depth);
	if (timeout)
		len += snprintf(line + len, sizeof(line) - len, " timeout=%u", timeout);
	if (has_window)
		snprintf(line + len, sizeof(line) - len, " recovery_window=%u", window);
	ret = cli_bus_write("add", line);
	if (ret)
		return cli_error("map %s:%u %s: %s", seg, port, target, cli_map_strerror(ret));

	/* last_added is ours unless another adder raced us: then search by attributes */
	ret = -ENOENT;
	snprintf(path, sizeof(path), "%s/last_added", cli_bus());
	if (!cli_read_line(path, buf, sizeof(buf)) && !cli_parse_dev(buf, &n) &&
	    cli_dev_matches(n, seg, port, target))
		ret = 0;
	snprintf(path, sizeof(path), "%s/devices", cli_bus());
	d = ret ? opendir(path) : NULL;
	while (d) {
		struct dirent *e = readdir(d);

		if (!e)
			break;
		if (!cli_parse_dev(e->d_name, &n) && cli_dev_matches(n, seg, port, target)) {
			ret = 0;
			break;
		}
	}
	if (d)
		closedir(d);
	if (ret)
		return cli_error("map %s:%u %s: the device was added but cannot be found in %s",
				 seg, port, target, path);
	ret = cli_wait_node(n, path, sizeof(path));
	if (ret)
		return cli_error("xsegbd%u: no device node %s: %s", n, path, strerror(-ret));
	printf("%s\n", path);
	return CLI_EXIT_OK;
}

int cli_unmap(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	char line[32], buf[16];
	unsigned int n;
	int c, ret;

	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			cli_print_help("unmap");
			return CLI_EXIT_OK;
		default:
			cli_bad_opt("unmap", argv);
		}
	}
	if (optind != argc - 1)
		cli_usage_error("unmap", optind == argc ? "missing DEVICE" : "too many arguments");
	if (cli_need_bus())
		return CLI_EXIT_FAIL;
	ret = cli_find_dev(argv[optind], &n);
	if (ret == -ENOENT)
		return cli_error("%s: not an xsegbd device", argv[optind]);
	if (ret)
		cli_usage_error("unmap", "bad device '%s' (expected /dev/xsegbdN, xsegbdN or N)",
				argv[optind]);
	if (cli_dev_attr(n, "segment", buf, sizeof(buf)) == -ENOENT)
		return cli_error("xsegbd%u: no such device", n);
	snprintf(line, sizeof(line), force ? "%u force" : "%u", n);
	ret = cli_bus_write("remove", line);
	if (ret == -EBUSY)
		return cli_error("xsegbd%u: in use (mounted or open); unmount it or use --force",
				 n);
	if (ret == -ENOENT)
		return cli_error("xsegbd%u: no such device", n);
	if (ret)
		return cli_error("xsegbd%u: %s", n, strerror(-ret));
	printf("unmapped %s/xsegbd%u\n", cli_devdir(), n);
	return CLI_EXIT_OK;
}

static void cli_human(unsigned long long v, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	unsigned int u = 0;

	while (v >= 1024 && !(v % 1024) && u < sizeof(units) - 2) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu%c", v, units[u]);
}

static int cli_cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

int cli_devices(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int devs[XSEGBD_MAX_DEVICES], nr = 0, i;
	char path[PATH_MAX];
	struct dirent *e;
	int c;
	DIR *d;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			cli_print_help("devices");
			return CLI_EXIT_OK;
		}
		cli_bad_opt("devices", argv);
	}
	if (optind != argc)
		cli_usage_error("devices", "too many arguments");
	if (cli_need_bus())
		return CLI_EXIT_FAIL;
	snprintf(path, sizeof(path), "%s/devices", cli_bus());
	d = opendir(path);
	if (!d)
		return cli_error("%s: %s", path, strerror(errno));
	while ((e = readdir(d)) && nr < XSEGBD_MAX_DEVICES) {
		unsigned int n;

		if (!cli_parse_dev(e->d_name, &n))
			devs[nr++] = n;
	}
	closedir(d);
	qsort(devs, nr, sizeof(devs[0]), cli_cmp_uint);
	printf("%-14s %-16s %5s %-12s %-20s %7s %s\n", "DEVICE", "SEGMENT", "PORT", "PORTS",
	       "TARGET", "SIZE", "STATE");
	for (i = 0; i < nr; i++) {
		char seg[256] = "?", port[16] = "?", ports[512] = "?", target[512] = "?";
		char size[32] = "?", state[32] = "?", hsize[32], dev[64];
		unsigned long long sz;

		if (cli_dev_attr(devs[i], "segment", seg, sizeof(seg)) == -ENOENT)
			continue;	/* removed meanwhile */
		cli_dev_attr(devs[i], "port", port, sizeof(port));
		cli_dev_attr(devs[i], "ports", ports, sizeof(ports));
		cli_dev_attr(devs[i], "target", target, sizeof(target));
		cli_dev_attr(devs[i], "state", state, sizeof(state));
		if (!cli_dev_attr(devs[i], "size", size, sizeof(size)) &&
		    sscanf(size, "%llu", &sz) == 1)
			cli_human(sz, hsize, sizeof(hsize));
		else
			snprintf(hsize, sizeof(hsize), "?");
		for (c = 0; ports[c]; c++)
			if (ports[c] == ' ')
				ports[c] = ',';
		snprintf(dev, sizeof(dev), "%s/xsegbd%u", cli_devdir(), devs[i]);
		printf("%-14s %-16s %5s %-12s %-20s %7s %s\n", dev, seg, port, ports, target,
		       hsize, state);
	}
	return CLI_EXIT_OK;
}
