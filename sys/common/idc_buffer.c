// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Remote buffers of the endpoint API: a table in the segment of heap ranges that other peers
 * may copy to or from, named by (index, generation) references.
 *
 * Registering claims an entry (CAS of owner 0 -> tag, or from a dead peer's tag: claim.c),
 * writes it and makes gen odd with a release store of ACTIVE.  Unregistering makes gen even
 * first, so every transfer that starts afterwards fails with -ESTALE whatever reference it
 * holds, then waits (bounded) for the transfers already running to drop their users count.
 *
 * A transfer increments users, then (full barrier, paired with the one in unregister)
 * validates state, gen, rights and the window against locals it read once; only then it
 * copies.  Either unregister sees users > 0 and waits, or the transfer sees the new gen.
 * Transfers are memcpy inside the segment: a buffer living in the heap is reached without any
 * intermediate copy, and the callback runs from the next xseg_idc_poll() (asynchronous
 * completion, as the API promises, so the caller never runs it from inside its own call).
 */
#include <xseg/idc.h>
#include <xseg/internal.h>

#define XSEG_BUF_DRAIN_ROUNDS	2000	/* unregister's bound on waiting for transfers */

int xseg_idc_buffer_alloc(struct xseg_idc *idc, __u64 len, struct xseg_idc_lbuf *lbuf)
{
	struct xseg *xseg = idc->xseg;
	u64 off;
	int ret;

	if (!len || len > xseg->g.heap_size)
		return -EINVAL;
	ret = xseg_heap_alloc(xseg, xseg_align(len, xseg->g.alloc_unit), &off);
	if (ret)
		return ret;
	lbuf->addr = xseg->base + off;
	lbuf->len = len;
	return 0;
}

static int xseg_idc_heap_off(struct xseg *xseg, const struct xseg_idc_lbuf *lbuf, u64 *offp)
{
	u8 *p = lbuf->addr;

	if (!p || p < xseg->base || p >= xseg->base + xseg->g.size)
		return -EFAULT;
	if (xseg_check_range(xseg, p - xseg->base, lbuf->len))
		return -EFAULT;
	*offp = p - xseg->base;
	return 0;
}

int xseg_idc_buffer_free(struct xseg_idc *idc, struct xseg_idc_lbuf *lbuf)
{
	struct xseg *xseg = idc->xseg;
	u64 off;
	int ret;

	ret = xseg_idc_heap_off(xseg, lbuf, &off);
	if (ret)
		return ret;
	ret = xseg_heap_free(xseg, off, xseg_align(lbuf->len, xseg->g.alloc_unit));
	if (!ret) {
		lbuf->addr = NULL;
		lbuf->len = 0;
	}
	return ret;
}

/* Claims table entry i: a free one, or one a dead peer left behind. */
static int xseg_buf_claim(struct xseg *xseg, u32 i)
{
	struct xseg_buffer_entry *e = xseg_buf_at(xseg, i);
	int ret;

	ret = xseg_entry_claim(xseg, &e->state, &e->owner, XSEG_BUF_CLAIMING, NULL);
	if (ret < 0)
		return ret;
	/* the dead owner's references must fail from now on: gen even */
	if (ret == XSEG_CLAIM_TAKEOVER)
		xseg_store_relaxed(&e->gen, (xseg_load_relaxed(&e->gen) | 1) + 1);
	return 0;
}

int xseg_idc_register_buffer(struct xseg_idc *idc, struct xseg_idc_lbuf *lbuf, __u32 rights,
			     struct xseg_idc_buffer *buf)
{
	struct xseg *xseg = idc->xseg;
	struct xseg_buffer_entry *e;
	u64 off;
	u32 i, gen;
	int ret;

	if (!lbuf || !buf || !lbuf->len || !rights || (rights & ~XSEG_BUF_RIGHTS))
		return -EINVAL;
	if (!(xseg->g.features & XSEG_FEAT_IDC))
		return -EOPNOTSUPP;
	/* others reach only what lies in the segment (zero copy) */
	ret = xseg_idc_heap_off(xseg, lbuf, &off);
	if (ret)
		return ret;
	for (i = 0; i < XSEG_IDC_BUFFERS; i++)
		if (!xseg_buf_claim(xseg, i))
			break;
	if (i == XSEG_IDC_BUFFERS)
		return -ENOSPC;
	e = xseg_buf_at(xseg, i);
	xseg_store_relaxed(&e->off, off);
	xseg_store_relaxed(&e->len, lbuf->len);
	xseg_store_relaxed(&e->rights, rights);
	gen = (xseg_load_relaxed(&e->gen) | 1) + 2;	/* odd, never a previous value */
	xseg_store_relaxed(&e->gen, gen);
	/* publish; pairs with the load_acquire of state in xseg_idc_transfer() */
	xseg_store_release(&e->state, XSEG_BUF_ACTIVE);

	memset(buf, 0, sizeof(*buf));
	buf->idc = idc;
	buf->off = off;
	buf->len = lbuf->len;
	buf->ref.index = i;
	buf->ref.gen = gen;
	buf->ref.offset = 0;
	buf->ref.len = lbuf->len;
	buf->ref.rights = rights;
	return 0;
}

int xseg_idc_unregister_buffer(struct xseg_idc_buffer *buf)
{
	struct xseg *xseg;
	struct xseg_buffer_entry *e;
	unsigned int round;
	int ret = 0;

	if (!buf || !buf->idc || buf->ref.index >= XSEG_IDC_BUFFERS)
		return -EINVAL;
	xseg = buf->idc->xseg;
	e = xseg_buf_at(xseg, buf->ref.index);
	if (xseg_load_relaxed(&e->owner) != xseg->tag ||
	    !xseg_cmpxchg(&e->gen, buf->ref.gen, buf->ref.gen + 1))
		return -ESTALE;
	xseg_store_relaxed(&e->state, XSEG_BUF_CLAIMING);
	/* gen before reading users; pairs with the barrier in xseg_idc_transfer() */
	xseg_smp_mb();
	for (round = 0; xseg_load_relaxed(&e->users); round++) {
		if (round == XSEG_BUF_DRAIN_ROUNDS) {
			/* a transferring peer died mid-copy (or is stopped): give up on it */
			xseg_warn("buffer %u: transfers did not drain", buf->ref.index);
			ret = -EBUSY;
			break;
		}
		xseg_dom_relax(round);
	}
	xseg_store_relaxed(&e->users, 0);
	xseg_store_relaxed(&e->state, XSEG_BUF_FREE);
	/* the owner last: an unregisterer killed before this leaves its tag to be taken over */
	/* pairs with the CAS of owner in xseg_entry_claim() */
	xseg_store_release(&e->owner, 0);
	buf->idc = NULL;
	return ret;
}

static void xseg_buf_users_add(u32 *users, int d)
{
	unsigned int tries;

	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		u32 u = xseg_load_relaxed(users);

		if (d < 0 && !u)
			return;
		if (xseg_cmpxchg(users, u, u + d))
			return;
	}
}

/* Validates the reference against the entry and copies; 0 or -errno. */
static int xseg_idc_copy(struct xseg *xseg, const struct xseg_idc_rbuf *rb, u64 offset,
			 const struct xseg_idc_lbuf *lbuf, bool to_remote)
{
	struct xseg_buffer_entry *e = xseg_buf_at(xseg, rb->index);
	u32 need = to_remote ? XSEG_BUF_WRITE : XSEG_BUF_READ;
	u64 off, len, abs;
	u32 gen, rights;
	u8 *p;
	int ret;

	xseg_buf_users_add(&e->users, 1);
	/* users before reading gen; pairs with the barrier in xseg_idc_unregister_buffer() */
	xseg_smp_mb();
	ret = -ESTALE;
	if (xseg_load_acquire(&e->state) != XSEG_BUF_ACTIVE)
		goto out;
	gen = xseg_load_relaxed(&e->gen);
	off = xseg_load_relaxed(&e->off);
	len = xseg_load_relaxed(&e->len);
	rights = xseg_load_relaxed(&e->rights);
	if (gen != rb->gen || !(gen & 1))
		goto out;
	ret = -EACCES;
	if ((rb->rights & ~rights) || !(rb->rights & need))
		goto out;
	ret = -EFAULT;
	if (rb->offset > len || rb->len > len - rb->offset || offset > rb->len ||
	    lbuf->len > rb->len - offset)
		goto out;
	abs = off + rb->offset + offset;
	if (xseg_check_range(xseg, abs, lbuf->len))
		goto out;
	p = xseg->base + abs;
	if (p != lbuf->addr && lbuf->len) {
		if (to_remote)
			memcpy(p, lbuf->addr, lbuf->len);
		else
			memcpy(lbuf->addr, p, lbuf->len);
	}
	ret = 0;
out:
	xseg_buf_users_add(&e->users, -1);
	return ret;
}

static int xseg_idc_transfer(struct xseg_idc *idc, const struct xseg_idc_rbuf *rbuf,
			     u64 offset, const struct xseg_idc_lbuf *lbuf,
			     struct xseg_idc_xfer *xfer, bool to_remote)
{
	struct xseg_idc_rbuf rb;

	if (!idc || !rbuf || !lbuf || !xfer || (lbuf->len && !lbuf->addr))
		return -EINVAL;
	/* the reference may itself sit in the segment: one copy, used from here on */
	memcpy(&rb, rbuf, sizeof(rb));
	if (!(idc->xseg->g.features & XSEG_FEAT_IDC))
		xfer->error = -EOPNOTSUPP;
	else if (rb.index >= XSEG_IDC_BUFFERS)
		xfer->error = -EINVAL;
	else
		xfer->error = xseg_idc_copy(idc->xseg, &rb, offset, lbuf, to_remote);
	xfer->next = NULL;
	*idc->done_tail = xfer;
	idc->done_tail = &xfer->next;
	return 0;
}

int xseg_idc_send_to_remote_buffer(struct xseg_idc *idc, const struct xseg_idc_rbuf *rbuf,
				   __u64 offset, const struct xseg_idc_lbuf *lbuf,
				   struct xseg_idc_xfer *xfer)
{
	return xseg_idc_transfer(idc, rbuf, offset, lbuf, xfer, true);
}

int xseg_idc_receive_from_remote_buffer(struct xseg_idc *idc, const struct xseg_idc_rbuf *rbuf,
					__u64 offset, const struct xseg_idc_lbuf *lbuf,
					struct xseg_idc_xfer *xfer)
{
	return xseg_idc_transfer(idc, rbuf, offset, lbuf, xfer, false);
}

/* Runs the callbacks of finished transfers (from xseg_idc_poll()). */
void xseg_idc_run_transfers(struct xseg_idc *idc)
{
	struct xseg_idc_xfer *x = idc->done;

	idc->done = NULL;
	idc->done_tail = &idc->done;
	while (x) {
		struct xseg_idc_xfer *next = x->next;

		if (x->complete)
			x->complete(x);
		x = next;
	}
}
