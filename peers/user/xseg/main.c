// SPDX-License-Identifier: GPL-2.0
/*
 * xseg: create, destroy and inspect xseg segments.
 *
 *   xseg [--help | --version] | xseg help [VERB...] | xseg segment VERB [OPTIONS]
 *   xseg map ... | xseg unmap ... | xseg devices
 *
 * Exit status: 0 success, 1 operational error (the message names the segment and the
 * cause), 2 usage error.  See man/man1/xseg.1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xseg_cli.h"

#ifndef XSEG_RELEASE
#define XSEG_RELEASE	"0.1.0"
#endif

const char *cli_prog = "xseg";

static const char cli_help_main[] =
"usage: xseg [--help | --version]\n"
"       xseg help [segment [VERB]]\n"
"       xseg segment VERB [OPTIONS]\n"
"       xseg map --segment NAME --port P [OPTIONS] TARGET\n"
"       xseg unmap [--force] DEVICE\n"
"       xseg devices\n"
"\n"
"Create, destroy and inspect xseg shared memory segments; map block devices (xsegbd)\n"
"served by storage peers through them.\n"
"\n"
"segment verbs:\n"
"  create   create a segment (--name NAME --size SIZE ...)\n"
"  destroy  destroy a segment\n"
"  list     list the segments\n"
"  show     show a segment's geometry, ports, requests and buffer space\n"
"\n"
"block devices (xsegbd.ko):\n"
"  map      create /dev/xsegbdN for TARGET, served by the peer on a port of a segment\n"
"  unmap    remove a block device\n"
"  devices  list the block devices\n"
"\n"
"Segment types (--type): posix (POSIX shared memory, /dev/shm) and segdev (segdev.ko,\n"
"/dev/segdev: segments the kernel can join).  The default is segdev if /dev/segdev exists,\n"
"else posix.\n"
"\n"
"Exit status: 0 success, 1 operational error, 2 usage error.\n";

static const char cli_help_segment[] =
"usage: xseg segment create --name NAME --size SIZE [--type TYPE] [--ports N]\n"
"                           [--requests N] [--mode MODE] [--owner USER[:GROUP]]\n"
"       xseg segment destroy NAME [--type TYPE] [--force]\n"
"       xseg segment list [--type TYPE]\n"
"       xseg segment show NAME [--type TYPE] [--all]\n"
"\n"
"Run 'xseg help segment VERB' for the options of one verb.\n";

static const char cli_help_create[] =
"usage: xseg segment create --name NAME --size SIZE [--type TYPE] [--ports N]\n"
"                           [--requests N] [--mode MODE] [--owner USER[:GROUP]]\n"
"\n"
"Creates segment NAME of SIZE bytes in total (suffixes K, M, G, T: powers of 1024).\n"
"The tables for the ports and requests come first; the rest of SIZE is the data buffer\n"
"space (heap), in units of 4096 bytes.\n"
"\n"
"  --type posix|segdev   segment type (default: segdev if /dev/segdev exists, else posix)\n"
"  --ports N             number of ports (default 64, at most 4096); also the number of\n"
"                        signal descriptors\n"
"  --requests N          number of requests (default 1024)\n"
"  --mode MODE           octal permission bits (default 0600)\n"
"  --owner USER[:GROUP]  owner of the segment (root only); GROUP defaults to USER's\n"
"                        primary group\n";

static const char cli_help_destroy[] =
"usage: xseg segment destroy NAME [--type TYPE] [--force]\n"
"\n"
"Destroys segment NAME.  A segment with a live peer bound to one of its ports is \"in use\"\n"
"and is kept unless --force is given; a segdev segment that is attached, mapped or held by\n"
"the kernel is always \"in use\".\n";

static const char cli_help_list[] =
"usage: xseg segment list [--type TYPE]\n"
"\n"
"Lists segments with their type, size, owner and mode.  Without --type every available\n"
"type is listed.  posix: the objects in /dev/shm that start with the xseg magic and that\n"
"the caller can read; segdev: every segment of /dev/segdev.\n";

static const char cli_help_show[] =
"usage: xseg segment show NAME [--type TYPE] [--all]\n"
"\n"
"Shows the geometry of segment NAME, its buffer space (free, used, largest free run), its\n"
"requests by state and its ports: owner (pid, or kernel), bound signal type and the fill of\n"
"the request and reply rings.  Only ports that are bound or hold requests are listed,\n"
"every port with --all.  Needs read-write access to the segment.\n";

static const char cli_help_map[] =
"usage: xseg map --segment NAME --port P [--queues N] [--depth D] [--timeout SEC]\n"
"                [--recovery-window SEC] TARGET\n"
"\n"
"Creates a block device whose I/O goes as requests through segdev segment NAME to the\n"
"storage peer bound to port P (xseg-filed, xseg-memd), for its volume TARGET, and prints\n"
"its path (/dev/xsegbdN).  The peer must be running: the size comes from its answer.\n"
"\n"
"  --queues N             hardware queues, each with its own port (default 1)\n"
"  --depth D              requests in flight per queue (default 64)\n"
"  --timeout SEC          an I/O the live peer does not answer by then fails (default 30)\n"
"  --recovery-window SEC  if the peer dies, I/O waits this long for a new peer on the\n"
"                         same port, which then gets the I/O re-issued (default 30)\n"
"\n"
"Needs root and xsegbd.ko (modprobe xsegbd).\n";

static const char cli_help_unmap[] =
"usage: xseg unmap [--force] DEVICE\n"
"\n"
"Removes block device DEVICE (/dev/xsegbdN, xsegbdN or N).  A device that is open\n"
"(mounted) is refused unless --force is given; then its pending I/O fails.\n";

static const char cli_help_devices[] =
"usage: xseg devices\n"
"\n"
"Lists the xsegbd block devices: device, segment, the server's port, the device's own\n"
"ports (one per queue), target, size and state (running, recovering: the peer died and\n"
"I/O waits for a new one, failed: I/O fails, remove the device).\n";

void cli_print_help(const char *topic)
{
	if (!topic)
		fputs(cli_help_main, stdout);
	else if (!strcmp(topic, "segment"))
		fputs(cli_help_segment, stdout);
	else if (!strcmp(topic, "create"))
		fputs(cli_help_create, stdout);
	else if (!strcmp(topic, "destroy"))
		fputs(cli_help_destroy, stdout);
	else if (!strcmp(topic, "list"))
		fputs(cli_help_list, stdout);
	else if (!strcmp(topic, "show"))
		fputs(cli_help_show, stdout);
	else if (!strcmp(topic, "map"))
		fputs(cli_help_map, stdout);
	else if (!strcmp(topic, "unmap"))
		fputs(cli_help_unmap, stdout);
	else if (!strcmp(topic, "devices"))
		fputs(cli_help_devices, stdout);
}

static bool cli_help_topic_known(const char *topic)
{
	static const char *const topics[] = { "segment", "create", "destroy", "list", "show",
					      "map", "unmap", "devices" };
	size_t i;

	for (i = 0; i < CLI_ARRAY_SIZE(topics); i++)
		if (!strcmp(topic, topics[i]))
			return true;
	return false;
}

static bool cli_block_topic(const char *topic)
{
	return topic && (!strcmp(topic, "map") || !strcmp(topic, "unmap") ||
			 !strcmp(topic, "devices"));
}

/* Prints the message and a pointer to the help, then exits with the usage status. */
noreturn void cli_usage_error(const char *help_topic, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cli_block_topic(help_topic))
		fprintf(stderr, "\nTry '%s help %s'.\n", cli_prog, help_topic);
	else
		fprintf(stderr, "\nTry '%s help%s%s'.\n", cli_prog, help_topic ? " segment " : "",
			help_topic && strcmp(help_topic, "segment") ? help_topic : "");
	exit(CLI_EXIT_USAGE);
}

static const char *cli_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such segment";
	case -EACCES:
	case -EPERM:
		return "permission denied";
	case -EBUSY:
		return "in use";
	case -EEXIST:
		return "already exists";
	case -ENODEV:
		return "segdev is not available (is segdev.ko loaded?)";
	case -EPROTO:
		return "unsupported segment version";
	case -EOPNOTSUPP:
		return "segment uses unsupported features";
	case -ENOSPC:
		return "no space left (segment limit or size)";
	default:
		return strerror(-err);
	}
}

/* "xseg: segment 'NAME': CAUSE"; returns the operational exit status. */
int cli_seg_error(const char *name, int err)
{
	fprintf(stderr, "%s: segment '%s': %s\n", cli_prog, name, cli_strerror(err));
	return CLI_EXIT_FAIL;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_FAIL;
}

/* SIZE: decimal digits, then an optional K, M, G or T (powers of 1024), optionally "iB"/"B". */
int cli_parse_size(const char *s, __u64 *sizep)
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
	if (shift) {
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end || !v || v > (~0ULL >> shift))
		return -EINVAL;
	*sizep = (__u64)v << shift;
	return 0;
}

int cli_parse_u32(const char *s, __u32 min, __u32 max, __u32 *valp)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*valp = v;
	return 0;
}

static int cli_help(int argc, char **argv)
{
	const char *topic = NULL;

	if (argc > 3)
		cli_usage_error(NULL, "help: too many arguments");
	if (argc == 3) {
		if (strcmp(argv[1], "segment") || cli_block_topic(argv[2]))
			cli_usage_error(NULL, "help: unknown topic '%s %s'", argv[1], argv[2]);
		topic = argv[2];
	} else if (argc == 2) {
		topic = argv[1];
	}
	if (topic && !cli_help_topic_known(topic))
		cli_usage_error(NULL, "help: unknown topic '%s'", topic);
	cli_print_help(topic);
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		cli_usage_error(NULL, "missing command");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_print_help(NULL);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("xseg %s (segment ABI version %d)\n", XSEG_RELEASE, XSEG_VERSION);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return cli_help(argc - 1, argv + 1);
	if (!strcmp(argv[1], "segment"))
		return cli_segment(argc - 1, argv + 1);
	opterr = 0;	/* the messages about bad options are ours */
	if (!strcmp(argv[1], "map"))
		return cli_map(argc - 1, argv + 1);
	if (!strcmp(argv[1], "unmap"))
		return cli_unmap(argc - 1, argv + 1);
	if (!strcmp(argv[1], "devices"))
		return cli_devices(argc - 1, argv + 1);
	cli_usage_error(NULL, "unknown command '%s'", argv[1]);
}
