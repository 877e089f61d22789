// SPDX-License-Identifier: GPL-2.0
/* xseg segment create | destroy | list | show */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xseg/inspect.h>

#include "xseg_cli.h"

#define CLI_ALLOC_UNIT	4096

/* A segment mapped and joined read-only in spirit: the tool binds nothing. */
struct cli_seg {
	const struct xseg_backend_ops *be;
	void *base;
	void *priv;
	__u64 size;
	struct xseg *xseg;
};

static void cli_fmt_size(__u64 bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	unsigned int u = 0;

	while (v >= 1024 && u < CLI_ARRAY_SIZE(units) - 1) {
		v /= 1024;
		u++;
	}
	/* truncated, not rounded: a heap just below 4 MiB must not read "4.0 MiB" */
	if (u)
		snprintf(buf, len, "%.1f %s", (double)(__u64)(v * 10) / 10, units[u]);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
}

/* Maps and joins; -EINVAL from the join means the header is not an xseg header. */
static int cli_seg_open(enum cli_type type, const char *name, struct cli_seg *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->be = cli_backend(type);
	ret = s->be->map(name, &s->base, &s->size, &s->priv);
	if (ret)
		return ret;
	ret = xseg_join_mem(s->base, s->size, &s->xseg);
	if (ret) {
		s->be->unmap(s->base, s->size, s->priv);
		return ret == -EINVAL ? -EBADMSG : ret;
	}
	return 0;
}

static void cli_seg_close(struct cli_seg *s)
{
	xseg_leave(s->xseg);
	s->be->unmap(s->base, s->size, s->priv);
}

static int cli_seg_open_error(const char *name, int err)
{
	if (err == -EBADMSG)
		return cli_error("segment '%s': not an xseg segment (bad or incompatible header)",
				 name);
	return cli_seg_error(name, err);
}

static enum cli_type cli_resolve_type(enum cli_type type)
{
	return type == CLI_TYPE_DEFAULT ? cli_default_type() : type;
}

static void cli_get_type(const char *topic, const char *arg, enum cli_type *typep)
{
	if (cli_parse_type(arg, typep))
		cli_usage_error(topic, "unknown segment type '%s' (posix or segdev)", arg);
}

/* The one positional NAME of destroy and show (also accepted as --name). */
static const char *cli_one_name(const char *topic, const char *opt_name, int argc, char **argv)
{
	if (optind < argc && opt_name)
		cli_usage_error(topic, "the name is given twice");
	if (optind < argc - 1)
		cli_usage_error(topic, "too many arguments");
	if (optind < argc)
		return argv[optind];
	if (!opt_name)
		cli_usage_error(topic, "missing segment name");
	return opt_name;
}

/* getopt_long() stopped at a bad option (opterr is 0: the message is ours). */
static void cli_bad_option(const char *topic, char **argv)
{
	if (optopt && optopt != '?')
		cli_usage_error(topic, "bad or incomplete option '-%c'", optopt);
	cli_usage_error(topic, "bad or incomplete option '%s'", argv[optind - 1]);
}

/* ---- create ------------------------------------------------------------------------ */

static int cli_parse_owner(const char *arg, uid_t *uidp, gid_t *gidp)
{
	char *user = strdup(arg), *group;
	struct passwd *pw;
	struct group *gr;
	__u32 id;
	int ret = -EINVAL;

	if (!user)
		return -ENOMEM;
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	pw = getpwnam(user);
	if (pw) {
		*uidp = pw->pw_uid;
		*gidp = pw->pw_gid;
	} else if (!cli_parse_u32(user, 0, 0xfffffffe, &id)) {
		*uidp = id;
		pw = getpwuid(id);
		*gidp = pw ? pw->pw_gid : id;
	} else {
		goto out;
	}
	if (group && *group) {
		gr = getgrnam(group);
		if (gr)
			*gidp = gr->gr_gid;
		else if (!cli_parse_u32(group, 0, 0xfffffffe, &id))
			*gidp = id;
		else
			goto out;
	}
	ret = 0;
out:
	free(user);
	return ret;
}

/*
 * Fills cfg->heap_size: the largest heap (in alloc units) with which the whole segment fits
 * in size bytes.  -ENOSPC if not even one unit fits.
 */
static int cli_fit_heap(struct xseg_config *cfg, __u64 size, __u64 *minp)
{
	__u64 unit = cfg->alloc_unit, need, heap;

	cfg->heap_size = unit;
	if (xseg_segment_size(cfg, &need))
		return -EINVAL;
	*minp = need;
	if (need > size)
		return -ENOSPC;
	heap = (size - need) / unit * unit + unit;
	if (heap > (__u64)XSEG_MAX_HEAP_UNITS * unit)
		heap = (__u64)XSEG_MAX_HEAP_UNITS * unit;
	/* the heap bitmap grows with the heap: step down until it fits */
	for (;;) {
		cfg->heap_size = heap;
		if (xseg_segment_size(cfg, &need))
			return -EINVAL;
		if (need <= size)
			return 0;
		heap -= unit;
	}
}

static int cli_segment_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "ports", required_argument, NULL, 'p' },
		{ "requests", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "owner", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *size_arg = NULL, *owner_arg = NULL;
	enum cli_type type = CLI_TYPE_DEFAULT;
	struct xseg_config cfg;
	__u64 size = 0, min = 0;
	char hbuf[32], sbuf[32];
	uid_t uid = 0;
	gid_t gid = 0;
	struct cli_seg s;
	int c, ret;

	xseg_config_default(&cfg);
	cfg.alloc_unit = CLI_ALLOC_UNIT;
	while ((c = getopt_long(argc, argv, "n:s:t:p:r:m:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 's':
			size_arg = optarg;
			if (cli_parse_size(optarg, &size))
				cli_usage_error("create", "bad size '%s'", optarg);
			break;
		case 't':
			cli_get_type("create", optarg, &type);
			break;
		case 'p':
			if (cli_parse_u32(optarg, 1, XSEG_MAX_PORTS, &cfg.nr_ports))
				cli_usage_error("create", "bad number of ports '%s' (1..%d)",
						optarg, XSEG_MAX_PORTS);
			break;
		case 'r':
			if (cli_parse_u32(optarg, 1, XSEG_MAX_REQUESTS, &cfg.nr_requests))
				cli_usage_error("create", "bad number of requests '%s' (1..%u)",
						optarg, XSEG_MAX_REQUESTS);
			break;
		case 'm':
			if (!*optarg || strspn(optarg, "01234567") != strlen(optarg) ||
			    strlen(optarg) > 4 || strtoul(optarg, NULL, 8) > 0777)
				cli_usage_error("create", "bad mode '%s' (octal, at most 0777)",
						optarg);
			cfg.mode = strtoul(optarg, NULL, 8);
			break;
		case 'o':
			owner_arg = optarg;
			break;
		case 'h':
			cli_print_help("create");
			return CLI_EXIT_OK;
		default:
			cli_bad_option("create", argv);
		}
	}
	if (!name && optind < argc)
		name = argv[optind++];
	if (optind < argc)
		cli_usage_error("create", "too many arguments");
	if (!name || !*name)
		cli_usage_error("create", "missing --name");
	if (!size_arg)
		cli_usage_error("create", "missing --size");
	if (strchr(name, '/') || strlen(name) >= 64)
		cli_usage_error("create", "bad segment name '%s' (no '/', at most 63 characters)",
				name);
	if (owner_arg && cli_parse_owner(owner_arg, &uid, &gid))
		cli_usage_error("create", "unknown user or group in '%s'", owner_arg);
	cfg.nr_sds = cfg.nr_ports;
	ret = cli_fit_heap(&cfg, size, &min);
	if (ret) {
		fprintf(stderr,
			"%s: segment '%s': size %llu too small for %u ports and %u requests (at least %llu bytes)\n",
			cli_prog, name, (unsigned long long)size, cfg.nr_ports,
			cfg.nr_requests, (unsigned long long)min);
		return CLI_EXIT_USAGE;
	}
	type = cli_resolve_type(type);
	if (owner_arg && geteuid() != 0)
		return cli_error("segment '%s': permission denied (--owner needs root)", name);

	ret = cli_create_region(type, name, size, cfg.mode, owner_arg, uid, gid);
	if (ret)
		return cli_seg_error(name, ret);
	s.be = cli_backend(type);
	ret = s.be->map(name, &s.base, &s.size, &s.priv);
	if (ret)
		goto err_destroy;
	ret = xseg_init_mem(s.base, s.size, &cfg);
	s.be->unmap(s.base, s.size, s.priv);
	if (ret)
		goto err_destroy;
	cli_fmt_size(size, sbuf, sizeof(sbuf));
	cli_fmt_size(cfg.heap_size, hbuf, sizeof(hbuf));
	printf("created %s segment '%s': %s, %u ports, %u requests, %s of buffer space\n",
	       cli_type_name(type), name, sbuf, cfg.nr_ports, cfg.nr_requests, hbuf);
	return CLI_EXIT_OK;

err_destroy:
	cli_destroy_region(type, name);
	return cli_seg_error(name, ret);
}

/* ---- destroy ----------------------------------------------------------------------- */

/* Number of ports bound by live peers, or -errno if the segment cannot be looked at. */
static int cli_live_ports(enum cli_type type, const char *name)
{
	struct xseg_port_info pi;
	struct xseg_info info;
	struct cli_seg s;
	int ret, n = 0;
	__u32 p;

	ret = cli_seg_open(type, name, &s);
	if (ret)
		return ret;
	xseg_get_info(s.xseg, &info);
	for (p = 0; p < info.nr_ports; p++)
		if (!xseg_get_port_info(s.xseg, p, &pi) && (pi.flags & XSEG_PORT_INFO_ALIVE))
			n++;
	cli_seg_close(&s);
	return n;
}

static int cli_segment_destroy(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "type", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum cli_type type = CLI_TYPE_DEFAULT;
	const char *name = NULL;
	struct cli_seg_attr attr;
	bool force = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "n:t:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 't':
			cli_get_type("destroy", optarg, &type);
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			cli_print_help("destroy");
			return CLI_EXIT_OK;
		default:
			cli_bad_option("destroy", argv);
		}
	}
	name = cli_one_name("destroy", name, argc, argv);
	type = cli_resolve_type(type);

	ret = cli_seg_attr(type, name, &attr);
	if (ret)
		return cli_seg_error(name, ret);
	/* unreadable ones are left to the permission check of the destroy itself */
	if (type == CLI_TYPE_POSIX && !cli_is_xseg_posix(name))
		return cli_error("segment '%s': not an xseg segment", name);
	if (!force) {
		ret = cli_live_ports(type, name);
		if (ret > 0)
			return cli_error("segment '%s': in use (%d bound port%s; see --force)",
					 name, ret, ret == 1 ? "" : "s");
	}
	ret = cli_destroy_region(type, name);
	if (ret)
		return cli_seg_error(name, ret);
	printf("destroyed %s segment '%s'\n", cli_type_name(type), name);
	return CLI_EXIT_OK;
}

/* ---- list -------------------------------------------------------------------------- */

struct cli_list_ctx {
	enum cli_type type;
	unsigned int n;
};

static void cli_fmt_owner(uid_t uid, gid_t gid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);
	char u[32], g[32];

	if (pw)
		snprintf(u, sizeof(u), "%s", pw->pw_name);
	else
		snprintf(u, sizeof(u), "%u", (unsigned int)uid);
	if (gr)
		snprintf(g, sizeof(g), "%s", gr->gr_name);
	else
		snprintf(g, sizeof(g), "%u", (unsigned int)gid);
	snprintf(buf, len, "%s:%s", u, g);
}

static int cli_list_one(const char *name, void *arg)
{
	struct cli_list_ctx *ctx = arg;
	struct cli_seg_attr attr;
	char sbuf[32], obuf[80];

	/* a segment destroyed while we list it is simply not listed */
	if (cli_seg_attr(ctx->type, name, &attr))
		return 0;
	cli_fmt_size(attr.size, sbuf, sizeof(sbuf));
	cli_fmt_owner(attr.uid, attr.gid, obuf, sizeof(obuf));
	if (!ctx->n++)
		printf("%-32s %-7s %10s  %-20s %s\n", "NAME", "TYPE", "SIZE", "OWNER", "MODE");
	printf("%-32s %-7s %10s  %-20s %04o\n", name, cli_type_name(ctx->type), sbuf, obuf,
	       attr.mode);
	return 0;
}

static int cli_segment_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum cli_type type = CLI_TYPE_DEFAULT;
	struct cli_list_ctx ctx = { 0 };
	int c, ret, status = CLI_EXIT_OK;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			cli_get_type("list", optarg, &type);
			break;
		case 'h':
			cli_print_help("list");
			return CLI_EXIT_OK;
		default:
			cli_bad_option("list", argv);
		}
	}
	if (optind < argc)
		cli_usage_error("list", "too many arguments");

	if (type == CLI_TYPE_DEFAULT || type == CLI_TYPE_POSIX) {
		ctx.type = CLI_TYPE_POSIX;
		ret = cli_list_names(CLI_TYPE_POSIX, cli_list_one, &ctx);
		if (ret)
			status = cli_error("posix segments: %s", strerror(-ret));
	}
	if (type == CLI_TYPE_SEGDEV ||
	    (type == CLI_TYPE_DEFAULT && cli_default_type() == CLI_TYPE_SEGDEV)) {
		ctx.type = CLI_TYPE_SEGDEV;
		ret = cli_list_names(CLI_TYPE_SEGDEV, cli_list_one, &ctx);
		if (ret)
			status = cli_error("segdev segments: %s", ret == -ENODEV ?
					   "segdev is not available (is segdev.ko loaded?)" :
					   strerror(-ret));
	}
	return status;
}

/* ---- show -------------------------------------------------------------------------- */

static void cli_show_ports(struct xseg *xseg, __u32 nr_ports, bool all)
{
	struct xseg_port_info pi;
	char owner[48];
	unsigned int shown = 0;
	__u32 p;

	printf("ports:\n");
	for (p = 0; p < nr_ports; p++) {
		if (xseg_get_port_info(xseg, p, &pi))
			continue;
		if (!all && !(pi.flags & XSEG_PORT_INFO_BOUND) && !pi.rq_count && !pi.rp_count)
			continue;
		if (!shown++)
			printf("  %5s  %-22s %-12s %8s %8s\n", "PORT", "OWNER", "SIGNAL",
			       "REQUESTS", "REPLIES");
		if (!pi.owner)
			snprintf(owner, sizeof(owner), "-");
		else if (pi.owner & XSEG_TAG_KERNEL)
			snprintf(owner, sizeof(owner), "kernel");
		else
			snprintf(owner, sizeof(owner), "pid %u%s", XSEG_TAG_PID(pi.owner),
				 pi.flags & XSEG_PORT_INFO_ALIVE ? "" : " (dead)");
		printf("  %5u  %-22s %-12s %8u %8u\n", pi.portno, owner,
		       pi.flags & XSEG_PORT_INFO_BAD_SD ? "(corrupt)" :
		       pi.sd_type_name[0] ? pi.sd_type_name :
		       pi.flags & XSEG_PORT_INFO_SD ? "(unknown)" : "-",
		       pi.rq_count, pi.rp_count);
	}
	if (!shown)
		printf("  (none bound)\n");
}

static int cli_segment_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "type", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum cli_type type = CLI_TYPE_DEFAULT;
	__u32 counts[XSEG_RS_MAX + 1];
	char b1[32], b2[32], b3[32], b4[32], obuf[80];
	const char *name = NULL;
	struct cli_seg_attr attr;
	struct xseg_info info;
	struct cli_seg s;
	bool all = false;
	int c, ret;
	__u32 st;

	while ((c = getopt_long(argc, argv, "n:t:ah", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 't':
			cli_get_type("show", optarg, &type);
			break;
		case 'a':
			all = true;
			break;
		case 'h':
			cli_print_help("show");
			return CLI_EXIT_OK;
		default:
			cli_bad_option("show", argv);
		}
	}
	name = cli_one_name("show", name, argc, argv);
	type = cli_resolve_type(type);

	ret = cli_seg_attr(type, name, &attr);
	if (ret)
		return cli_seg_error(name, ret);
	ret = cli_seg_open(type, name, &s);
	if (ret)
		return cli_seg_open_error(name, ret);
	xseg_get_info(s.xseg, &info);

	cli_fmt_size(info.size, b1, sizeof(b1));
	cli_fmt_owner(attr.uid, attr.gid, obuf, sizeof(obuf));
	printf("segment '%s' (%s)\n", name, cli_type_name(type));
	printf("  size:          %s (%llu bytes)\n", b1, (unsigned long long)info.size);
	printf("  owner:         %s, mode %04o", obuf, attr.mode);
	if (attr.has_users)
		printf(", %u users", attr.users);
	printf("\n  ports:         %u (%u bound)\n", info.nr_ports, info.ports_bound);
	printf("  requests:      %u (%u free)\n", info.nr_requests, info.requests_free);
	printf("  signal descs:  %u (%u active), %u signal types registered\n", info.nr_sds,
	       info.sds_active, info.types_registered);

	cli_fmt_size(info.heap_size, b1, sizeof(b1));
	cli_fmt_size(info.heap_used, b2, sizeof(b2));
	cli_fmt_size(info.heap_free, b3, sizeof(b3));
	cli_fmt_size(info.heap_largest_free, b4, sizeof(b4));
	printf("buffer space:\n");
	printf("  total %s, used %s, free %s, largest free %s (unit %u bytes)\n", b1, b2, b3,
	       b4, info.alloc_unit);

	printf("requests by state:\n ");
	if (xseg_count_requests(s.xseg, counts) >= 0) {
		for (st = XSEG_RS_FREE; st <= XSEG_RS_MAX; st++)
			printf(" %s %u", xseg_req_state_name(st), counts[st]);
		if (counts[0])
			printf(" invalid %u", counts[0]);
	}
	printf("\n");
	cli_show_ports(s.xseg, info.nr_ports, all);
	cli_seg_close(&s);
	return CLI_EXIT_OK;
}

int cli_segment(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (!verb)
		cli_usage_error("segment", "segment: missing verb (create, destroy, list, show)");
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		cli_print_help("segment");
		return CLI_EXIT_OK;
	}
	/* getopt_long starts at argv[1]: the verb is argv[0] of the verb's parser */
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	if (!strcmp(verb, "create"))
		return cli_segment_create(argc, argv);
	if (!strcmp(verb, "destroy"))
		return cli_segment_destroy(argc, argv);
	if (!strcmp(verb, "list"))
		return cli_segment_list(argc, argv);
	if (!strcmp(verb, "show"))
		return cli_segment_show(argc, argv);
	cli_usage_error("segment", "segment: unknown verb '%s'", verb);
}
