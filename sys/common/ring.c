// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lock-free request rings (layout and protocol: struct xseg_ring in uapi/xseg/xseg.h).
 *
 * Every slot transition is one CAS, so a peer that dies or stalls at any instruction leaves
 * each slot either untouched or completely published/consumed; prod and cons are only hints
 * that whoever comes next advances ("helping").  Nobody ever waits for another peer: every
 * loop below is bounded by XSEG_CAS_TRIES and ends in -EAGAIN (contention or a corrupted
 * hint) or -EIO (a slot that cannot be in a consistent ring).
 *
 * Requests change hands through their holder word (XSEG_FEAT_TICKETS): the producer swaps
 * its tag for the ticket of the slot before publishing it, the consumer swaps that ticket for
 * its own tag before consuming the slot.  The ring position itself is never what makes a
 * request someone's, so a peer killed between "claimed" and "slot consumed" (or between
 * "ticket written" and "slot published") leaves a state that the next consumer or
 * xseg_reclaim() resolves: see xseg_ring_take() and xseg_reclaim_requests().
 */
#include <xseg/internal.h>

#define XSEG_SLOT(seq, ent)	(((u64)(seq) << 32) | (ent))
#define XSEG_SLOT_SEQ(v)	((u32)((v) >> 32))
#define XSEG_SLOT_ENT(v)	((u32)(v))

void xseg_ring_init(struct xseg_ring *ring, u32 size)
{
	u32 i;

	ring->prod = 0;
	ring->cons = 0;
	for (i = 0; i < size; i++)
		ring->slots[i] = XSEG_SLOT(i, 0);
}

/*
 * Queues request idx on ring rn.  The caller holds the request: *heldp is its holder value
 * (the caller's tag).  Before each publishing attempt the holder is swapped, by CAS, for the
 * ticket of the slot; *heldp follows it.  Returns 0 (published), -EALREADY (the holder
 * changed under us: a reclaimer took the push over and queues the request itself), or
 * -EAGAIN, -ENOSPC (full), -EIO (inconsistent ring) with the request not queued and its
 * holder *heldp.
 */
int xseg_ring_push(struct xseg *xseg, u32 rn, u32 idx, u64 *heldp)
{
	struct xseg_ring *ring = xseg_ring_nr(xseg, rn);
	u64 *holder = &xseg_req_at(xseg, idx)->holder;
	u32 size = xseg->g.ring_size, mask = size - 1;
	unsigned int tries;

	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		/* hint only: the slot's sequence decides; relaxed is enough */
		u32 p = xseg_load_relaxed(&ring->prod);
		u64 *slot = &ring->slots[p & mask];
		/* pairs with the consumer's CAS that emptied this slot */
		u64 v = xseg_load_acquire(slot);
		s32 diff = (s32)(XSEG_SLOT_SEQ(v) - p);

		if (diff == 0 && XSEG_SLOT_ENT(v) == 0) {
			u64 ticket = XSEG_TICKET(rn, p);

			/*
			 * The ticket first: whoever sees the slot published sees it too.  A CAS,
			 * not a store, so that a reclaimer that took over a push it found
			 * unpublished (xseg_reclaim_requests()) is never overwritten.
			 */
			if (*heldp != ticket) {
				if (!xseg_cmpxchg(holder, *heldp, ticket))
					return -EALREADY;
				*heldp = ticket;
			}
			/*
			 * Publish.  Fully ordered: the request's fields and its ticket, written
			 * before, are visible to the consumer's load_acquire of this slot.
			 */
			if (xseg_cmpxchg(slot, v, XSEG_SLOT(p, idx + 1))) {
				/* may fail: someone already helped */
				xseg_cmpxchg(&ring->prod, p, p + 1);
				return 0;
			}
			continue;
		}
		if (diff == 0) {
			/* published by a producer that has not advanced prod yet: help it */
			xseg_cmpxchg(&ring->prod, p, p + 1);
			continue;
		}
		if (diff == -(s32)size && XSEG_SLOT_ENT(v) != 0)
			return -ENOSPC;	/* the consumer has not taken sequence p - size */
		if (diff > 0) {
			/*
			 * Sequence p was published (and maybe consumed) already: either our
			 * prod was stale, and this CAS fails, or its producer died before
			 * advancing prod, and we help.
			 */
			xseg_cmpxchg(&ring->prod, p, p + 1);
			continue;
		}
		return -EIO;
	}
	return -EAGAIN;
}

/*
 * Takes the request at the head of ring rn for this peer: 0 with *idxp, -EAGAIN (empty, or
 * contention) or -EIO (a slot naming no request; consumed).
 *
 * Claim, then consume.  The request named by slot (c, idx + 1) is ours once its holder CAS
 * from ticket (rn, c) to our tag succeeds; then the slot is consumed and cons advanced, by us
 * or by anyone who comes by.  A peer killed between the two leaves the slot in place with the
 * request held by its tag: the next consumer finds a holder that is not the slot's ticket and
 * skips the entry, however far the request has moved on since (answered by reclaim, freed,
 * reused, queued again: a later queueing carries a later ticket).  Skipping consumes the slot
 * only by a CAS from the exact value read, so a slot refilled meanwhile is left alone.
 */
int xseg_ring_take(struct xseg *xseg, u32 rn, u32 *idxp)
{
	struct xseg_ring *ring = xseg_ring_nr(xseg, rn);
	u32 size = xseg->g.ring_size, mask = size - 1;
	unsigned int tries;

	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		u32 c = xseg_load_relaxed(&ring->cons);
		u64 *slot = &ring->slots[c & mask];
		/* pairs with the producer's publishing CAS: request fields and ticket visible */
		u64 v = xseg_load_acquire(slot);
		s32 diff = (s32)(XSEG_SLOT_SEQ(v) - c);
		u32 ent = XSEG_SLOT_ENT(v);
		bool claimed = false;

		if (diff == 0 && ent == 0)
			return -EAGAIN;
		if (diff >= (s32)size) {
			/* consumed by someone who has not advanced cons yet: help */
			xseg_cmpxchg(&ring->cons, c, c + 1);
			continue;
		}
		if (diff != 0)
			return -EIO;
		if (ent - 1 < xseg->g.nr_requests) {
			u64 *holder = &xseg_req_at(xseg, ent - 1)->holder;
			u64 ticket = XSEG_TICKET(rn, c);

			/* read after the slot's load_acquire: the ticket or a later value */
			if (xseg_load_relaxed(holder) == ticket) {
				/* fully ordered: the request's fields are read after the claim */
				if (!xseg_cmpxchg(holder, ticket, xseg->tag))
					continue;	/* claimed or taken over meanwhile */
				claimed = true;
			}
		}
		/*
		 * Consume and free the slot for sequence c + size in one step; pairs with the
		 * producer's load_acquire of the slot.  Fails when someone else consumed it
		 * (a peer skipping it after our claim): the slot is gone either way.
		 */
		xseg_cmpxchg(slot, v, XSEG_SLOT(c + size, 0));
		xseg_cmpxchg(&ring->cons, c, c + 1);
		if (ent - 1 >= xseg->g.nr_requests)
			return -EIO;
		if (!claimed) {
			xseg_dbg("ring %u: stale entry %u for request %u skipped", rn, c, ent - 1);
			continue;
		}
		*idxp = ent - 1;
		return 0;
	}
	return -EAGAIN;
}

/* Whether ticket names a slot that holds request idx (published and not consumed). */
bool xseg_ring_holds(struct xseg *xseg, u64 ticket, u32 idx)
{
	u32 rn = XSEG_TICKET_RING(ticket), seq = XSEG_TICKET_SEQ(ticket);
	struct xseg_ring *ring;

	if (rn >= 2 * xseg->g.nr_ports)
		return false;
	ring = xseg_ring_nr(xseg, rn);
	/* pairs with the producer's publishing CAS */
	return xseg_load_acquire(&ring->slots[seq & (xseg->g.ring_size - 1)]) ==
	       XSEG_SLOT(seq, idx + 1);
}

/* Requests queued (approximate: the hints may lag, stale entries count).  For tools, tests. */
u32 xseg_ring_count(struct xseg *xseg, struct xseg_ring *ring)
{
	u32 n = xseg_load_relaxed(&ring->prod) - xseg_load_relaxed(&ring->cons);

	return n > xseg->g.ring_size ? xseg->g.ring_size : n;
}
