// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lock-free request rings (layout and protocol: struct xseg_ring in uapi/xseg/xseg.h).
 *
 * Every slot transition is one CAS, so a peer that dies or stalls at any instruction leaves
 * each slot either untouched or completely published/consumed; prod and cons are only hints
 * that whoever comes next advances ("helping").  Nobody ever waits for another peer: every
 * loop below is bounded by XSEG_CAS_TRIES and ends in -EAGAIN (contention or a corrupted
 * hint) or -EIO (a slot that cannot be in a consistent ring).
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

/* Queues request idx; 0, -EAGAIN, -ENOSPC (full) or -EIO (inconsistent ring). */
int xseg_ring_push(struct xseg *xseg, struct xseg_ring *ring, u32 idx)
{
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
			/*
			 * Publish.  Fully ordered: the request's fields written before are
			 * visible to the consumer's load_acquire of this slot.
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

/* Dequeues into *idxp; 0, -EAGAIN (empty) or -EIO (inconsistent ring or bad index). */
int xseg_ring_pop(struct xseg *xseg, struct xseg_ring *ring, u32 *idxp)
{
	u32 size = xseg->g.ring_size, mask = size - 1;
	unsigned int tries;

	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		u32 c = xseg_load_relaxed(&ring->cons);
		u64 *slot = &ring->slots[c & mask];
		/* pairs with the producer's publishing CAS: request fields are visible */
		u64 v = xseg_load_acquire(slot);
		s32 diff = (s32)(XSEG_SLOT_SEQ(v) - c);
		u32 ent = XSEG_SLOT_ENT(v);

		if (diff == 0 && ent == 0)
			return -EAGAIN;
		if (diff == 0) {
			/*
			 * Consume and free the slot for sequence c + size in one step; pairs
			 * with the producer's load_acquire of the slot.
			 */
			if (!xseg_cmpxchg(slot, v, XSEG_SLOT(c + size, 0)))
				continue;
			xseg_cmpxchg(&ring->cons, c, c + 1);
			if (ent - 1 >= xseg->g.nr_requests)
				return -EIO;
			*idxp = ent - 1;
			return 0;
		}
		if (diff >= (s32)size) {
			/* consumed by someone who has not advanced cons yet: help */
			xseg_cmpxchg(&ring->cons, c, c + 1);
			continue;
		}
		return -EIO;
	}
	return -EAGAIN;
}

/* Requests queued (approximate: the hints may lag).  For tools and tests. */
u32 xseg_ring_count(struct xseg *xseg, struct xseg_ring *ring)
{
	u32 n = xseg_load_relaxed(&ring->prod) - xseg_load_relaxed(&ring->cons);

	return n > xseg->g.ring_size ? xseg->g.ring_size : n;
}
