// SPDX-License-Identifier: GPL-2.0
/*
 * Command line of the storage peers: the common options, then the backend's own.
 * A usage error prints the message and the usage on stderr and makes the program exit 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xseg/signal_user.h>

#include "peer.h"

#ifndef XSEG_RELEASE
#define XSEG_RELEASE	"0.1.0"
#endif

/* Long-only options of the framework; backends use printable characters. */
enum {
	PEER_OPT_SEGMENT = 0x100,
	PEER_OPT_TYPE,
	PEER_OPT_PORT,
	PEER_OPT_SIGNAL,
	PEER_OPT_THREADS,
	PEER_OPT_SPIN,
	PEER_OPT_HELP,
	PEER_OPT_VERSION,
};

static const struct option peer_common_opts[] = {
	{ "segment", required_argument, NULL, PEER_OPT_SEGMENT },
	{ "type", required_argument, NULL, PEER_OPT_TYPE },
	{ "port", required_argument, NULL, PEER_OPT_PORT },
	{ "signal", required_argument, NULL, PEER_OPT_SIGNAL },
	{ "threads", required_argument, NULL, PEER_OPT_THREADS },
	{ "spin-us", required_argument, NULL, PEER_OPT_SPIN },
	{ "help", no_argument, NULL, PEER_OPT_HELP },
	{ "version", no_argument, NULL, PEER_OPT_VERSION },
};

#define PEER_MAX_OPTS	32

static const char peer_common_help[] =
"  --segment NAME           the segment to join (required)\n"
"  --type segdev|posix      segment type (default segdev: shared with the kernel)\n"
"  --port P[-Q]             the port(s) to serve (required); a port whose owner died is\n"
"                           taken over, a live owner's port is refused\n"
"  --signal futex|sigio|poll  how clients wake this peer (default " PEER_DEFAULT_SIGNAL ")\n"
"  --threads N              serving threads (default: one per port, at most the ports)\n"
"  --spin-us N              after its last request a thread keeps polling its rings\n"
"                           this long before it sleeps (default " PEER_STR(PEER_SPIN_US) ")\n"
"  -v                       log more; one line of statistics at exit\n"
"  -h, --help               this help\n"
"  -V, --version            version\n";

void peer_usage(const struct peer *p, FILE *f)
{
	fprintf(f, "usage: %s --segment NAME --port P[-Q] [--type segdev|posix]\n"
		"       %*s [--signal futex|sigio|poll] [--threads N] [--spin-us N] [-v] %s\n",
		p->be->name, (int)strlen(p->be->name), "", p->be->synopsis);
}

static void peer_help(const struct peer *p)
{
	peer_usage(p, stdout);
	printf("\nServes block requests (<uapi/xseg/blk.h>) on an xseg segment; runs in the\n"
	       "foreground until SIGTERM or SIGINT.  See %s(1).\n\n%s%s\n"
	       "Exit status: 0 success, 1 operational error, 2 usage error.\n",
	       p->be->name, peer_common_help, p->be->help);
}

int peer_usage_error(const struct peer *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", p->be->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	peer_usage(p, stderr);
	return -EINVAL;
}

void peer_err(const struct peer *p, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", p->be->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void peer_info(const struct peer *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->verbose)
		return;
	fprintf(stderr, "%s: ", p->be->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* SIZE: decimal digits and an optional K, M, G or T (powers of 1024). */
int peer_parse_size(const char *s, __u64 *sizep)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case 't': case 'T':
		shift = 40;
		break;
	}
	if (shift)
		end++;
	if (*end || !v || v > (~0ULL >> shift))
		return -EINVAL;
	*sizep = (__u64)v << shift;
	return 0;
}

int peer_parse_u32(const char *s, __u32 min, __u32 max, __u32 *valp)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*valp = v;
	return 0;
}

/* "P" or "P-Q" */
static int peer_parse_ports(struct peer *p, const char *s)
{
	size_t len = strlen(s);
	char buf[32], *dash;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len + 1);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = '\0';
	if (peer_parse_u32(buf, 0, XSEG_MAX_PORTS - 1, &p->port_first))
		return -EINVAL;
	p->port_last = p->port_first;
	if (dash && (peer_parse_u32(dash, p->port_first, XSEG_MAX_PORTS - 1, &p->port_last)))
		return -EINVAL;
	return 0;
}

static int peer_common_opt(struct peer *p, int c, const char *arg)
{
	__u32 n;

	switch (c) {
	case PEER_OPT_SEGMENT:
		if (!*arg)
			return peer_usage_error(p, "--segment: empty name");
		p->segment = arg;
		return 0;
	case PEER_OPT_TYPE:
		if (!strcmp(arg, "segdev"))
			p->seg_type = PEER_SEG_SEGDEV;
		else if (!strcmp(arg, "posix"))
			p->seg_type = PEER_SEG_POSIX;
		else
			return peer_usage_error(p, "--type: '%s' is not segdev or posix", arg);
		return 0;
	case PEER_OPT_PORT:
		if (peer_parse_ports(p, arg))
			return peer_usage_error(p, "--port: bad port '%s'", arg);
		return 0;
	case PEER_OPT_SIGNAL:
		if (strcmp(arg, XSEG_SIGNAL_FUTEX) && strcmp(arg, XSEG_SIGNAL_SIGIO) &&
		    strcmp(arg, XSEG_SIGNAL_POLL))
			return peer_usage_error(p, "--signal: '%s' is not futex, sigio or poll",
						arg);
		p->signal = arg;
		return 0;
	case PEER_OPT_THREADS:
		if (peer_parse_u32(arg, 1, XSEG_MAX_PORTS, &n))
			return peer_usage_error(p, "--threads: bad count '%s'", arg);
		p->nr_threads = n;
		return 0;
	case PEER_OPT_SPIN:
		if (peer_parse_u32(arg, 0, PEER_SPIN_US_MAX, &n))
			return peer_usage_error(p, "--spin-us: bad time '%s' (0-%u)", arg,
						PEER_SPIN_US_MAX);
		p->spin_us = n;
		return 0;
	}
	return peer_usage_error(p, "unknown option");
}

/*
 * Parses the command line into p.  Returns 0 to run, 1 when the program is done (--help,
 * --version printed), -EINVAL for a usage error (already reported).
 */
int peer_parse_args(struct peer *p, int argc, char **argv)
{
	struct option opts[PEER_MAX_OPTS + 1];
	char shorts[2 * PEER_MAX_OPTS + 8] = "+vhV";
	size_t n = 0, i, sl = strlen(shorts);
	bool port_set = false;
	int c, ret;

	for (i = 0; i < PEER_ARRAY_SIZE(peer_common_opts); i++)
		opts[n++] = peer_common_opts[i];
	for (i = 0; p->be->opts && p->be->opts[i].name && n < PEER_MAX_OPTS; i++) {
		opts[n++] = p->be->opts[i];
		if (p->be->opts[i].val < 0x100) {
			shorts[sl++] = p->be->opts[i].val;
			if (p->be->opts[i].has_arg == required_argument)
				shorts[sl++] = ':';
		}
	}
	shorts[sl] = '\0';
	memset(&opts[n], 0, sizeof(opts[n]));

	p->seg_type = PEER_SEG_SEGDEV;
	p->signal = PEER_DEFAULT_SIGNAL;
	p->spin_us = PEER_SPIN_US;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			p->verbose++;
			break;
		case 'h':
		case PEER_OPT_HELP:
			peer_help(p);
			return 1;
		case 'V':
		case PEER_OPT_VERSION:
			printf("%s %s (segment ABI version %d)\n", p->be->name, XSEG_RELEASE,
			       XSEG_VERSION);
			return 1;
		case '?':
		case ':':
			if (optopt && optopt < 0x100)
				return peer_usage_error(p, "bad option or missing argument: '-%c'",
							optopt);
			return peer_usage_error(p, "bad option or missing argument: '%s'",
						argv[optind - 1]);
		default:
			if (c == PEER_OPT_PORT)
				port_set = true;
			if (c >= PEER_OPT_SEGMENT && c <= PEER_OPT_VERSION)
				ret = peer_common_opt(p, c, optarg);
			else
				ret = p->be->parse_opt(p, c, optarg);
			if (ret)
				return -EINVAL;
		}
	}
	if (optind < argc)
		return peer_usage_error(p, "unexpected argument '%s'", argv[optind]);
	if (!p->segment)
		return peer_usage_error(p, "--segment is required");
	if (!port_set)
		return peer_usage_error(p, "--port is required");
	if (!p->nr_threads)
		p->nr_threads = p->port_last - p->port_first + 1;
	if (p->nr_threads > p->port_last - p->port_first + 1)
		return peer_usage_error(p, "--threads %u: more threads than ports (%u)",
					p->nr_threads, p->port_last - p->port_first + 1);
	if (p->be->check_opts && p->be->check_opts(p))
		return -EINVAL;
	return 0;
}

int peer_check_target(const char *name, __u32 len)
{
	if (!len || len > XSEG_BLK_TARGET_MAX)
		return -EINVAL;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	return 0;
}
