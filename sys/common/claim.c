// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Claiming an entry of a table in the segment that has a state word and an owner word (the
 * service registry, the remote buffer table).
 *
 * The owner word alone decides who holds an entry: 0 is free, anything else is a peer's
 * tag.  A free entry is claimed by CAS of owner 0 -> our tag, the entry of a dead peer by CAS
 * of owner from the dead peer's tag to ours; either CAS has one winner.  Only then is the
 * state set to CLAIMING.  A release sets the state FREE first and clears the owner last.  So
 * a peer killed between any two of these stores leaves its tag in the owner word, and the
 * entry is taken over once the peer is seen dead: no entry can be left claimed by nobody.
 *
 * The owner word is read once, and only that copy is compared and used.  What a takeover
 * leaves to undo (the dead peer's references to the entry) is the caller's: it learns which
 * of the two happened.
 */
#include <xseg/internal.h>

int xseg_entry_claim(struct xseg *xseg, u32 *state, u64 *owner, u32 st_claiming, u64 *deadp)
{
	u64 own = xseg_load_relaxed(owner);
	int ret = XSEG_CLAIM_FRESH;

	if (own) {
		if (own == xseg->tag || xseg_dom_peer_alive(own))
			return -EBUSY;
		ret = XSEG_CLAIM_TAKEOVER;
	}
	/*
	 * full barrier; pairs with the store_release of owner 0 in xseg_svc_release() and
	 * xseg_idc_unregister_buffer(): what the releaser cleared is seen cleared
	 */
	if (!xseg_cmpxchg(owner, own, xseg->tag))
		return -EBUSY;
	xseg_store_relaxed(state, st_claiming);
	if (deadp)
		*deadp = own;
	return ret;
}
