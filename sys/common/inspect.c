// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Read-only inspection of a segment (include/xseg/inspect.h).
 *
 * Like the rest of the core this never trusts the segment: each shared field is loaded once
 * into a local, validated, and only the local is used.  Nothing is written to the segment,
 * so a tool may inspect a segment that live peers are using.
 */
#include <xseg/internal.h>
#include <xseg/inspect.h>

static const char *const xseg_req_state_names[XSEG_RS_MAX + 1] = {
	[0] = "invalid",
	[XSEG_RS_FREE] = "free",
	[XSEG_RS_GOT] = "got",
	[XSEG_RS_SUBMITTED] = "submitted",
	[XSEG_RS_SERVING] = "serving",
	[XSEG_RS_RESPONDED] = "responded",
	[XSEG_RS_CONCLUDED] = "concluded",
};

const char *xseg_req_state_name(__u32 state)
{
	if (state < XSEG_RS_FREE || state > XSEG_RS_MAX)
		return xseg_req_state_names[0];
	return xseg_req_state_names[state];
}

/* Copies the name of type id (index + 1) if its entry is final; "" otherwise. */
static void xseg_inspect_type_name(struct xseg *xseg, u32 id, char *name)
{
	struct xseg_type_entry *e;

	name[0] = '\0';
	if (!id || id > xseg->g.nr_types)
		return;
	e = xseg_type_at(xseg, id - 1);
	/* pairs with the store_release of XSEG_TYPE_READY in xseg_type_claim() */
	if (xseg_load_acquire(&e->state) != XSEG_TYPE_READY)
		return;
	memcpy(name, e->name, XSEG_TYPE_NAME_LEN);
	name[XSEG_TYPE_NAME_LEN - 1] = '\0';
}

/* Fills the descriptor part of *info from the port's sd_off (already loaded once). */
static void xseg_inspect_sd(struct xseg *xseg, u64 sd_off, struct xseg_port_info *info)
{
	struct xseg_signal_desc *sd;
	u32 idx, type;

	if (!sd_off)
		return;
	if (xseg_sd_from_off(xseg, sd_off, &idx)) {
		info->flags |= XSEG_PORT_INFO_BAD_SD;
		return;
	}
	info->flags |= XSEG_PORT_INFO_SD;
	info->sd_index = idx;
	sd = xseg_sd_at(xseg, idx);
	if (xseg_load_relaxed(&sd->state) != XSEG_SD_ACTIVE)
		return;
	/* type is written before the claimer's store_release of refcount; pairs with it */
	if (!xseg_load_acquire(&sd->refcount))
		return;
	type = xseg_load_relaxed(&sd->type);
	if (!type || type > xseg->g.nr_types)
		return;
	info->sd_type = type;
	xseg_inspect_type_name(xseg, type, info->sd_type_name);
}

int xseg_get_port_info(struct xseg *xseg, __u32 portno, struct xseg_port_info *info)
{
	struct xseg_port *port;
	u64 owner;

	if (!xseg || !info || portno >= xseg->g.nr_ports)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->portno = portno;
	port = xseg_port_at(xseg, portno);
	owner = xseg_load_relaxed(&port->owner);
	info->owner = owner;
	if (owner) {
		info->flags |= XSEG_PORT_INFO_BOUND;
		if (xseg_dom_peer_alive(owner))
			info->flags |= XSEG_PORT_INFO_ALIVE;
	}
	/* the rings are found from the validated geometry, never from rq_off/rp_off */
	info->rq_count = xseg_ring_count(xseg, xseg_ring_at(xseg, portno, 0));
	info->rp_count = xseg_ring_count(xseg, xseg_ring_at(xseg, portno, 1));
	/* pairs with the fully ordered cmpxchg of sd_off in xseg_port_set_sd() */
	xseg_inspect_sd(xseg, xseg_load_acquire(&port->sd_off), info);
	return 0;
}

int xseg_count_requests(struct xseg *xseg, __u32 counts[XSEG_RS_MAX + 1])
{
	u32 i;

	if (!xseg || !counts)
		return -EINVAL;
	memset(counts, 0, sizeof(counts[0]) * (XSEG_RS_MAX + 1));
	for (i = 0; i < xseg->g.nr_requests; i++) {
		u32 state = xseg_load_relaxed(&xseg_req_at(xseg, i)->state);

		if (state < XSEG_RS_FREE || state > XSEG_RS_MAX)
			state = 0;
		counts[state]++;
	}
	return xseg->g.nr_requests;
}
