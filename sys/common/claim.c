// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Claiming an entry of a table in the segment that has a state word and an owner word (the
 * service registry, the remote buffer table).
 *
 * A free entry is claimed by CAS of state FREE -> CLAIMING, the entry of a dead peer by CAS of
 * owner from the dead peer's tag to ours; either CAS has one winner.  Both words are read
 * once, and only those copies are compared and used.  What a takeover leaves to undo (the dead
 * peer's references to the entry) is the caller's: it learns which of the two happened.
 */
#include <xseg/internal.h>

int xseg_entry_claim(struct xseg *xseg, u32 *state, u64 *owner, u32 st_free, u32 st_claiming,
		     u64 *deadp)
{
	u32 st = xseg_load_relaxed(state);
	u64 own = xseg_load_relaxed(owner);

	if (st == st_free) {
		/*
		 * pairs with the store_release of FREE in xseg_svc_release() and
		 * xseg_idc_unregister_buffer()
		 */
		if (!xseg_cmpxchg(state, st_free, st_claiming))
			return -EBUSY;
		xseg_store_relaxed(owner, xseg->tag);
		return XSEG_CLAIM_FRESH;
	}
	if (!own || own == xseg->tag || xseg_dom_peer_alive(own))
		return -EBUSY;
	if (!xseg_cmpxchg(owner, own, xseg->tag))
		return -EBUSY;
	xseg_store_relaxed(state, st_claiming);
	if (deadp)
		*deadp = own;
	return XSEG_CLAIM_TAKEOVER;
}
