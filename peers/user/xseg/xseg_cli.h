/* SPDX-License-Identifier: GPL-2.0 */
/* The xseg command-line tool: shared declarations of its files. */
#ifndef _XSEG_CLI_H
#define _XSEG_CLI_H

#include <stdbool.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <sys/types.h>

#include <xseg/compiler.h>
#include <xseg/xseg.h>

#define CLI_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit statuses. */
#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1	/* operational error: the command could not be done */
#define CLI_EXIT_USAGE	2	/* bad command line */

/* Segment types (backends). */
enum cli_type {
	CLI_TYPE_DEFAULT = 0,	/* segdev if /dev/segdev exists, else posix */
	CLI_TYPE_POSIX,
	CLI_TYPE_SEGDEV,
};

/* Who owns a segment and how it may be accessed (from the backend, not the segment). */
struct cli_seg_attr {
	__u64 size;
	uid_t uid;
	gid_t gid;
	__u32 mode;
	__u32 users;		/* segdev: attached files + mappings + kernel users */
	bool has_users;
};

/* main.c */
extern const char *cli_prog;
__printf(2, 3)
noreturn void cli_usage_error(const char *help_topic, const char *fmt, ...);
int cli_seg_error(const char *name, int err);
__printf(1, 2)
int cli_error(const char *fmt, ...);
int cli_parse_size(const char *s, __u64 *sizep);
int cli_parse_u32(const char *s, __u32 min, __u32 max, __u32 *valp);
void cli_print_help(const char *topic);

/* segment.c */
int cli_segment(int argc, char **argv);

/* blockdev.c */
int cli_map(int argc, char **argv);
int cli_unmap(int argc, char **argv);
int cli_devices(int argc, char **argv);

/* backend.c */
enum cli_type cli_default_type(void);
const char *cli_type_name(enum cli_type type);
int cli_parse_type(const char *s, enum cli_type *typep);
const struct xseg_backend_ops *cli_backend(enum cli_type type);
int cli_create_region(enum cli_type type, const char *name, __u64 size, __u32 mode,
		      bool set_owner, uid_t uid, gid_t gid);
int cli_destroy_region(enum cli_type type, const char *name);
int cli_seg_attr(enum cli_type type, const char *name, struct cli_seg_attr *attr);
/* calls fn for every segment of the type; returns 0 or -errno */
int cli_list_names(enum cli_type type, int (*fn)(const char *name, void *arg), void *arg);
int cli_is_xseg_posix(const char *name);

#endif /* _XSEG_CLI_H */
