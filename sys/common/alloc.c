// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Data buffer allocator: a bitmap in the segment, one bit per alloc_unit of heap, 1 = used.
 *
 * Why a bitmap: it needs no lock.  Bits are claimed and released with CAS on whole words, so
 * no peer ever waits for another and a peer dying at any instruction cannot leave anything
 * locked.  Coalescing is implicit: freeing a run clears its bits and the run merges with its
 * free neighbours at once.  An allocation spanning several words is claimed word by word; if
 * a later word turns out to be taken the claimed words are rolled back and the search starts
 * again (bounded).  A peer that dies between claiming and recording a buffer in its request
 * leaks that buffer; all other failures are reported and leave the bitmap consistent.
 */
#include <xseg/internal.h>

#define XSEG_ALLOC_TRIES	16

static u64 *xseg_bitmap(struct xseg *xseg)
{
	return (u64 *)(xseg->base + xseg->g.bitmap_off);
}

void xseg_heap_init(struct xseg *xseg)
{
	u64 *bm = xseg_bitmap(xseg);
	u32 tail = xseg->g.heap_units % 64;
	u32 i;

	for (i = 0; i < xseg->g.bitmap_words; i++)
		bm[i] = 0;
	/* bits past the last unit are permanently "used" so they are never handed out */
	if (tail)
		bm[xseg->g.bitmap_words - 1] = ~0ULL << tail;
}

/* Mask of bits [bit, bit + n) within one word, n in 1..64. */
static u64 xseg_mask(u32 bit, u32 n)
{
	return (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << bit;
}

/* Finds a run of n clear bits from unit start on; returns its first unit or -ENOMEM. */
static s64 xseg_find_run(struct xseg *xseg, u32 start, u32 n)
{
	u64 *bm = xseg_bitmap(xseg);
	u32 units = xseg->g.heap_units;
	u32 i = start, run = 0;

	while (i < units) {
		u64 w = xseg_load_relaxed(&bm[i / 64]);

		if (!(i % 64) && w == ~0ULL) {
			run = 0;
			i += 64;
			continue;
		}
		if (!(i % 64) && w == 0 && i + 64 <= units) {
			run += 64;
			i += 64;
		} else if (w & (1ULL << (i % 64))) {
			run = 0;
			i++;
			continue;
		} else {
			run++;
			i++;
		}
		if (run >= n)
			return (s64)(i - run);
	}
	return -ENOMEM;
}

/* Sets (claim) or clears (release) bits [first, first + n); -EBUSY if any is not as expected. */
static int xseg_bits_update(struct xseg *xseg, u32 first, u32 n, bool claim, u32 *donep)
{
	u64 *bm = xseg_bitmap(xseg);
	u32 done = 0;

	while (done < n) {
		u32 bit = (first + done) % 64;
		u32 cnt = n - done < 64 - bit ? n - done : 64 - bit;
		u64 *word = &bm[(first + done) / 64];
		u64 mask = xseg_mask(bit, cnt);
		unsigned int tries;

		for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
			u64 old = xseg_load_relaxed(word);

			if (claim ? (old & mask) : ((old & mask) != mask)) {
				*donep = done;
				return -EBUSY;
			}
			/* fully ordered: buffer contents vs. ownership hand-over */
			if (xseg_cmpxchg(word, old, claim ? (old | mask) : (old & ~mask)))
				break;
		}
		if (tries == XSEG_CAS_TRIES) {
			*donep = done;
			return -EAGAIN;
		}
		done += cnt;
	}
	*donep = n;
	return 0;
}

/*
 * Claims n units, searching from unit start on (wrapping to 0 once); on success returns the
 * first unit.  Lost races for part of a run are rolled back and searched again (bounded).
 */
static s64 xseg_heap_claim(struct xseg *xseg, u32 n, u32 start)
{
	u32 attempt, done, undone;
	s64 first;
	int ret;

	for (attempt = 0; attempt < XSEG_ALLOC_TRIES; attempt++) {
		first = xseg_find_run(xseg, start, n);
		if (first < 0 && start) {
			start = 0;
			first = xseg_find_run(xseg, 0, n);
		}
		if (first < 0)
			return -ENOMEM;
		ret = xseg_bits_update(xseg, first, n, true, &done);
		if (!ret)
			return first;
		/* lost a race for part of the run: give back what we took, search again */
		if (done && xseg_bits_update(xseg, first, done, false, &undone))
			xseg_err("heap bitmap changed under a claim at unit %lld",
				 (long long)first);
		start = first;
	}
	return -EAGAIN;
}

int xseg_heap_alloc(struct xseg *xseg, u64 size, u64 *offp)
{
	u32 unit = xseg->g.alloc_unit, units = xseg->g.heap_units;
	s64 first;
	u32 n;

	if (!size || size > xseg->g.heap_size)
		return -EINVAL;
	n = xseg_div_round_up(size, unit);
	/* next fit from the hint spreads long-lived buffers over the heap */
	first = xseg_heap_claim(xseg, n,
				xseg_load_relaxed(&xseg_hdr(xseg)->alloc_hint) % units);
	if (first < 0)
		return (int)first;
	xseg_store_relaxed(&xseg_hdr(xseg)->alloc_hint, (u32)((first + n) % units));
	*offp = xseg->g.heap_off + (u64)first * unit;
	return 0;
}

/*
 * The request buffers of one source port: first fit from the port's home, the start of its
 * 1/nr_ports share of the heap (a word boundary), without the shared hint.  A port's buffers
 * live for one request each and are reused at once, so first fit keeps them within a few
 * pages per request in flight: the pages its peers touch stay in their TLBs and caches (next
 * fit walked the whole heap, a new page for every request, and wrote the shared hint at
 * every allocation), and each port's allocations stay in bitmap words of their own.
 */
int xseg_heap_alloc_port(struct xseg *xseg, u64 size, u32 portno, u64 *offp)
{
	u32 unit = xseg->g.alloc_unit, units = xseg->g.heap_units;
	u32 home = 0;
	s64 first;

	if (!size || size > xseg->g.heap_size)
		return -EINVAL;
	if (portno < xseg->g.nr_ports && xseg->g.nr_ports)
		home = (u32)((u64)portno * units / xseg->g.nr_ports) & ~63U;
	first = xseg_heap_claim(xseg, xseg_div_round_up(size, unit), home);
	if (first < 0)
		return (int)first;
	*offp = xseg->g.heap_off + (u64)first * unit;
	return 0;
}

int xseg_heap_free(struct xseg *xseg, u64 off, u64 size)
{
	u32 unit = xseg->g.alloc_unit;
	u32 first, n, done;
	int ret;

	if (!size || xseg_check_range(xseg, off, size) || (off - xseg->g.heap_off) % unit)
		return -EINVAL;
	first = (off - xseg->g.heap_off) / unit;
	n = xseg_div_round_up(size, unit);
	if (n > xseg->g.heap_units - first)
		return -EINVAL;
	ret = xseg_bits_update(xseg, first, n, false, &done);
	if (ret == -EBUSY) {
		xseg_err("freeing unallocated heap units %u+%u", first + done, n - done);
		return -EINVAL;
	}
	return ret;
}

void xseg_heap_stats(struct xseg *xseg, u64 *freep, u64 *usedp, u64 *largestp)
{
	u64 *bm = xseg_bitmap(xseg);
	u32 i, run = 0, best = 0, nfree = 0;

	for (i = 0; i < xseg->g.heap_units; i++) {
		if (xseg_load_relaxed(&bm[i / 64]) & (1ULL << (i % 64))) {
			run = 0;
			continue;
		}
		nfree++;
		if (++run > best)
			best = run;
	}
	*freep = (u64)nfree * xseg->g.alloc_unit;
	*usedp = xseg->g.heap_size - *freep;
	*largestp = (u64)best * xseg->g.alloc_unit;
}
