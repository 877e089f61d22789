/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Read-only inspection of a joined segment, for tools (the xseg command) and tests.
 *
 * Nothing here changes the segment.  Every shared value is read once and validated; a
 * corrupted field shows up as "unknown" (a zero or XSEG_INSPECT_* marker) rather than as an
 * error, so that a damaged segment can still be looked at.  The figures are snapshots:
 * other peers keep working while they are taken.
 */
#ifndef _XSEG_INSPECT_H
#define _XSEG_INSPECT_H

#include <xseg/xseg.h>

/* xseg_port_info.flags */
#define XSEG_PORT_INFO_BOUND	0x1U		/* owner != 0 */
#define XSEG_PORT_INFO_ALIVE	0x2U		/* the owner is (believed) alive */
#define XSEG_PORT_INFO_SD	0x4U		/* a valid signal descriptor is bound */
#define XSEG_PORT_INFO_BAD_SD	0x8U		/* sd_off is set but does not name a descriptor */

struct xseg_port_info {
	__u64 owner;		/* peer tag of the owner, 0 = free (see XSEG_TAG_*) */
	__u32 portno;
	__u32 flags;		/* XSEG_PORT_INFO_* */
	__u32 rq_count;		/* requests queued in the request ring */
	__u32 rp_count;		/* replies queued in the reply ring */
	__u32 sd_index;		/* bound descriptor, valid with XSEG_PORT_INFO_SD */
	__u32 sd_type;		/* its type id (0 = none or invalid) */
	char sd_type_name[XSEG_TYPE_NAME_LEN];	/* "" when unknown */
};

/* Fills *info for port portno; -EINVAL if portno is out of range. */
int xseg_get_port_info(struct xseg *xseg, __u32 portno, struct xseg_port_info *info);

/*
 * Counts the requests by state: counts[s] for each enum xseg_req_state s, counts[0] for
 * requests whose state is out of range.  Returns the number of requests counted.
 */
int xseg_count_requests(struct xseg *xseg, __u32 counts[XSEG_RS_MAX + 1]);

/* The name of enum xseg_req_state s ("free", "got", ...), "invalid" when out of range. */
const char *xseg_req_state_name(__u32 state);

#endif /* _XSEG_INSPECT_H */
