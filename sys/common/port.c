// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ports: binding, leaving, reclaiming the ports of dead peers.
 *
 * port.owner is claimed by CAS from 0 (or from a dead owner's tag) to the binder's tag, so
 * exactly one peer owns a port; the kernel never waits for the word.  A port holds one
 * reference on the signal descriptor it points at.  Requests queued in a port's rings stay
 * there across owners: a restarted peer that binds the port finds them.
 */
#include <xseg/internal.h>

/* Swaps the port's descriptor for new_off, dropping the reference the old one held. */
static void xseg_port_set_sd(struct xseg *xseg, struct xseg_port *port, u64 new_off)
{
	unsigned int tries;
	u64 old = 0;
	u32 idx;

	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		old = xseg_load_relaxed(&port->sd_off);
		/* fully ordered; pairs with the load_acquire of sd_off in xseg_signal() */
		if (xseg_cmpxchg(&port->sd_off, old, new_off))
			break;
	}
	if (tries == XSEG_CAS_TRIES) {
		xseg_err("port %u: descriptor word contended", port->index);
		return;
	}
	if (old && !xseg_sd_from_off(xseg, old, &idx))
		xseg_sd_put_ref(xseg, idx);
}

/* Claims port portno for this peer, taking it over from a dead owner. */
static int xseg_port_claim(struct xseg *xseg, u32 portno, bool takeover)
{
	struct xseg_port *port = xseg_port_at(xseg, portno);
	u64 owner = xseg_load_relaxed(&port->owner);

	if (owner == xseg->tag)
		return 0;
	if (owner) {
		if (!takeover || xseg_dom_peer_alive(owner))
			return -EBUSY;
		xseg_info("port %u: taking over from dead peer %llx", portno,
			  (unsigned long long)owner);
	}
	/* fully ordered; pairs with the store_release of owner in xseg_leave_port() */
	if (!xseg_cmpxchg(&port->owner, owner, xseg->tag))
		return -EBUSY;
	if (owner)
		xseg_port_set_sd(xseg, port, 0);
	return 0;
}

static int xseg_bind_one(struct xseg *xseg, u32 portno, struct xseg_sd *sd, bool takeover)
{
	struct xseg_port *port = xseg_port_at(xseg, portno);
	bool was_mine = xseg->bound[portno];
	u64 sd_off = 0;
	int ret;

	ret = xseg_port_claim(xseg, portno, takeover);
	if (ret)
		return ret;
	if (sd) {
		ret = xseg_sd_get_ref(xseg, sd->ctx.index);
		if (ret)
			goto err_unclaim;
		sd_off = xseg->g.sds_off + (u64)sd->ctx.index * sizeof(struct xseg_signal_desc);
	}
	xseg_port_set_sd(xseg, port, sd_off);
	xseg_store_relaxed(&xseg->bound[portno], 1);
	return portno;

err_unclaim:
	if (!was_mine)
		xseg_store_release(&port->owner, 0);
	return ret;
}

int xseg_bind_port(struct xseg *xseg, int portno, struct xseg_sd *sd)
{
	int ret = -EBUSY;
	u32 i;

	if (sd && sd->ctx.xseg != xseg)
		return -EINVAL;
	if (portno != XSEG_PORT_ANY && (portno < 0 || (u32)portno >= xseg->g.nr_ports))
		return -EINVAL;

	xseg_lock(&xseg->lock);
	if (portno != XSEG_PORT_ANY) {
		ret = xseg_bind_one(xseg, portno, sd, true);
	} else {
		for (i = 0; i < xseg->g.nr_ports; i++) {
			if (xseg->bound[i] || xseg_load_relaxed(&xseg_port_at(xseg, i)->owner))
				continue;
			ret = xseg_bind_one(xseg, i, sd, false);
			if (ret != -EBUSY)
				break;
		}
	}
	xseg_unlock(&xseg->lock);
	return ret;
}

int xseg_leave_port(struct xseg *xseg, __u32 portno)
{
	struct xseg_port *port;

	if (portno >= xseg->g.nr_ports)
		return -EINVAL;
	xseg_lock(&xseg->lock);
	if (!xseg->bound[portno]) {
		xseg_unlock(&xseg->lock);
		return -EPERM;
	}
	port = xseg_port_at(xseg, portno);
	xseg_store_relaxed(&xseg->bound[portno], 0);
	xseg_port_set_sd(xseg, port, 0);
	/* a reclaimer may have taken the port meanwhile; release only if still ours */
	if (xseg_load_relaxed(&port->owner) == xseg->tag)
		/* pairs with the CAS claiming the port in xseg_port_claim() */
		xseg_store_release(&port->owner, 0);
	xseg_unlock(&xseg->lock);
	return 0;
}

void xseg_leave_all_ports(struct xseg *xseg)
{
	u32 i;

	for (i = 0; i < xseg->g.nr_ports; i++)
		if (xseg->bound[i])
			xseg_leave_port(xseg, i);
}

int xseg_reclaim_ports(struct xseg *xseg)
{
	int n = 0;
	u32 i;

	for (i = 0; i < xseg->g.nr_ports; i++) {
		struct xseg_port *port = xseg_port_at(xseg, i);
		u64 owner = xseg_load_relaxed(&port->owner);

		if (!owner || owner == xseg->tag || xseg_dom_peer_alive(owner))
			continue;
		/* take it, so that concurrent reclaimers drop the reference only once */
		if (!xseg_cmpxchg(&port->owner, owner, xseg->tag))
			continue;
		xseg_port_set_sd(xseg, port, 0);
		xseg_store_release(&port->owner, 0);
		n++;
	}
	return n;
}
