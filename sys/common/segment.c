// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Segment lifecycle: layout, init, join, leave, create and destroy through a backend.
 *
 * The layout is a pure function of the counts in the header.  Join recomputes it and refuses
 * a segment whose recorded offsets differ, so after join every table offset the core uses is
 * the locally computed, known-good one; the header is never consulted again.
 */
#include <xseg/internal.h>
#include <xseg/layout_check.h>

void xseg_config_default(struct xseg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_ports = 64;
	cfg->nr_requests = 1024;
	cfg->nr_sds = 64;
	cfg->alloc_unit = 4096;
	cfg->heap_size = 16ULL << 20;
	cfg->mode = 0600;
}

static bool xseg_is_pow2(u64 x)
{
	return x && !(x & (x - 1));
}

static u32 xseg_roundup_pow2(u32 x)
{
	u32 r = 1;

	while (r < x)
		r <<= 1;
	return r;
}

/* Computes the layout of a segment with these counts; -EINVAL if any is out of range. */
int xseg_compute_layout(u32 nr_ports, u32 nr_requests, u32 nr_sds, u32 alloc_unit,
			u64 heap_size, struct xseg_geom *g)
{
	u64 off;

	if (!nr_ports || nr_ports > XSEG_MAX_PORTS)
		return -EINVAL;
	if (!nr_requests || nr_requests > XSEG_MAX_REQUESTS)
		return -EINVAL;
	if (!nr_sds || nr_sds > XSEG_MAX_SDS)
		return -EINVAL;
	if (!xseg_is_pow2(alloc_unit) || alloc_unit < XSEG_MIN_ALLOC_UNIT ||
	    alloc_unit > XSEG_MAX_ALLOC_UNIT)
		return -EINVAL;
	if (!heap_size || heap_size % alloc_unit || heap_size / alloc_unit > XSEG_MAX_HEAP_UNITS)
		return -EINVAL;

	memset(g, 0, sizeof(*g));
	g->nr_ports = nr_ports;
	g->nr_requests = nr_requests;
	g->nr_sds = nr_sds;
	g->nr_types = XSEG_MAX_TYPES;
	/* a ring holds every request at once, so a push never finds it full */
	g->ring_size = xseg_roundup_pow2(nr_requests < 2 ? 2 : nr_requests);
	g->alloc_unit = alloc_unit;
	g->heap_size = heap_size;
	g->heap_units = heap_size / alloc_unit;
	g->bitmap_words = xseg_div_round_up(g->heap_units, 64);

	off = XSEG_HEADER_SIZE;
	g->ports_off = off;
	off = xseg_align(off + (u64)nr_ports * sizeof(struct xseg_port), XSEG_TABLE_ALIGN);
	g->requests_off = off;
	off = xseg_align(off + (u64)nr_requests * sizeof(struct xseg_request), XSEG_TABLE_ALIGN);
	g->sds_off = off;
	off = xseg_align(off + (u64)nr_sds * sizeof(struct xseg_signal_desc), XSEG_TABLE_ALIGN);
	g->sd_data_off = off;
	off = xseg_align(off + (u64)nr_sds * XSEG_SD_DATA_SIZE, XSEG_TABLE_ALIGN);
	g->types_off = off;
	off = xseg_align(off + (u64)g->nr_types * sizeof(struct xseg_type_entry),
			 XSEG_TABLE_ALIGN);
	g->rings_off = off;
	g->ring_bytes = xseg_align(sizeof(struct xseg_ring) + (u64)g->ring_size * sizeof(u64),
				   XSEG_CACHELINE);
	off = xseg_align(off + 2ULL * nr_ports * g->ring_bytes, XSEG_TABLE_ALIGN);
	g->bitmap_off = off;
	off += (u64)g->bitmap_words * sizeof(u64);
	/* data buffers aligned to the unit (and at least a page) for direct I/O */
	off = xseg_align(off, alloc_unit > XSEG_TABLE_ALIGN ? alloc_unit : XSEG_TABLE_ALIGN);
	g->heap_off = off;
	off += heap_size;
	/* the endpoint tables come last, so a segment without them has the same layout */
	g->features = XSEG_FEAT_IDC | XSEG_FEAT_TICKETS | XSEG_FEAT_REQ_CLAIM;
	g->idc_off = xseg_align(off, XSEG_TABLE_ALIGN);
	g->bufs_off = g->idc_off + XSEG_IDC_SERVICES * sizeof(struct xseg_service_entry);
	g->size = g->bufs_off + XSEG_IDC_BUFFERS * sizeof(struct xseg_buffer_entry);
	return 0;
}

/* The layout of a segment created before XSEG_FEAT_IDC: no endpoint tables. */
static void xseg_layout_without_idc(struct xseg_geom *g)
{
	g->features &= ~XSEG_FEAT_IDC;
	g->idc_off = 0;
	g->bufs_off = 0;
	g->size = g->heap_off + g->heap_size;
}

int xseg_segment_size(const struct xseg_config *cfg, __u64 *sizep)
{
	struct xseg_geom g;
	int ret;

	ret = xseg_compute_layout(cfg->nr_ports, cfg->nr_requests, cfg->nr_sds,
				  cfg->alloc_unit, cfg->heap_size, &g);
	if (ret)
		return ret;
	*sizep = g.size;
	return 0;
}

/* 0 if [off, off + len) lies inside the heap. */
int xseg_check_range(struct xseg *xseg, u64 off, u64 len)
{
	const struct xseg_geom *g = &xseg->g;

	if (off < g->heap_off || len > g->heap_size || off - g->heap_off > g->heap_size - len)
		return -EFAULT;
	return 0;
}

static struct xseg *xseg_handle_alloc(void *base, const struct xseg_geom *g)
{
	struct xseg *xseg;
	u32 i;

	xseg = xseg_dom_zalloc(sizeof(*xseg));
	if (!xseg)
		return NULL;
	xseg->bound = xseg_dom_zalloc(g->nr_ports);
	if (!xseg->bound)
		goto err_handle;
	xseg->req_cursor = xseg_dom_zalloc(g->nr_ports * sizeof(*xseg->req_cursor));
	if (!xseg->req_cursor)
		goto err_bound;
	/* each port starts its scan of the request table in its own part of it */
	for (i = 0; i < g->nr_ports; i++)
		xseg->req_cursor[i].next = (u64)i * g->nr_requests / g->nr_ports;
	xseg->base = base;
	xseg->g = *g;
	xseg->tag = xseg_dom_peer_tag();
	xseg_lock_init(&xseg->lock);
	return xseg;

err_bound:
	xseg_dom_free(xseg->bound);
err_handle:
	xseg_dom_free(xseg);
	return NULL;
}

static void xseg_handle_free(struct xseg *xseg)
{
	xseg_lock_destroy(&xseg->lock);
	xseg_dom_free(xseg->req_cursor);
	xseg_dom_free(xseg->bound);
	xseg_dom_free(xseg);
}

static void xseg_tables_init(struct xseg *xseg)
{
	const struct xseg_geom *g = &xseg->g;
	u32 i;

	for (i = 0; i < g->nr_ports; i++) {
		struct xseg_port *port = xseg_port_at(xseg, i);

		port->index = i;
		port->rq_off = (u8 *)xseg_ring_at(xseg, i, 0) - xseg->base;
		port->rp_off = (u8 *)xseg_ring_at(xseg, i, 1) - xseg->base;
		xseg_ring_init(xseg_ring_at(xseg, i, 0), g->ring_size);
		xseg_ring_init(xseg_ring_at(xseg, i, 1), g->ring_size);
	}
	for (i = 0; i < g->nr_sds; i++) {
		struct xseg_signal_desc *sd = xseg_sd_at(xseg, i);

		sd->index = i;
		sd->data_off = g->sd_data_off + (u64)i * XSEG_SD_DATA_SIZE;
	}
	xseg_requests_init(xseg);
	xseg_heap_init(xseg);
	memset(xseg->base + g->idc_off, 0, g->size - g->idc_off);
}

int xseg_init_mem(void *base, __u64 size, const struct xseg_config *cfg)
{
	struct xseg_header *hdr = base;
	struct xseg_geom g;
	struct xseg *xseg;
	int ret;

	ret = xseg_compute_layout(cfg->nr_ports, cfg->nr_requests, cfg->nr_sds,
				  cfg->alloc_unit, cfg->heap_size, &g);
	if (ret)
		return ret;
	if (!base || size < g.size)
		return -EINVAL;
	g.size = size;

	xseg = xseg_handle_alloc(base, &g);
	if (!xseg)
		return -ENOMEM;

	/* magic first: a concurrent joiner must not see a half-built segment as valid */
	xseg_store_relaxed(&hdr->magic, 0);
	memset(xseg->base + sizeof(hdr->magic), 0, g.heap_off - sizeof(hdr->magic));
	hdr->version = XSEG_VERSION;
	hdr->header_size = sizeof(*hdr);
	hdr->features = g.features;
	hdr->size = size;
	hdr->nr_ports = g.nr_ports;
	hdr->nr_requests = g.nr_requests;
	hdr->nr_sds = g.nr_sds;
	hdr->nr_types = g.nr_types;
	hdr->ring_size = g.ring_size;
	hdr->alloc_unit = g.alloc_unit;
	hdr->ports_off = g.ports_off;
	hdr->requests_off = g.requests_off;
	hdr->sds_off = g.sds_off;
	hdr->sd_data_off = g.sd_data_off;
	hdr->types_off = g.types_off;
	hdr->rings_off = g.rings_off;
	hdr->ring_bytes = g.ring_bytes;
	hdr->bitmap_off = g.bitmap_off;
	hdr->heap_off = g.heap_off;
	hdr->heap_size = g.heap_size;
	hdr->creator = xseg->tag;
	hdr->idc_off = g.idc_off;
	hdr->nr_services = XSEG_IDC_SERVICES;
	hdr->nr_buffers = XSEG_IDC_BUFFERS;
	xseg_tables_init(xseg);

	/* publish; pairs with the load_acquire of magic in xseg_join_mem() */
	xseg_store_release(&hdr->magic, XSEG_MAGIC);
	xseg_handle_free(xseg);
	return 0;
}

/* Validates the header against the mapping of size bytes and fills the geometry. */
static int xseg_validate_header(struct xseg_header *hdr, u64 size, struct xseg_geom *g)
{
	u64 features, hsize;
	int ret;

	if (size < XSEG_HEADER_SIZE)
		return -EINVAL;
	/* pairs with the store_release of magic in xseg_init_mem() */
	if (xseg_load_acquire(&hdr->magic) != XSEG_MAGIC)
		return -EINVAL;
	if (xseg_load_relaxed(&hdr->version) != XSEG_VERSION)
		return -EPROTO;
	if (xseg_load_relaxed(&hdr->header_size) != sizeof(*hdr))
		return -EINVAL;
	features = xseg_load_relaxed(&hdr->features);
	if (features & ~XSEG_FEATURES_SUPPORTED)
		return -EOPNOTSUPP;
	/* its peers queue or allocate requests in a way ours cannot share a segment with */
	if ((features & XSEG_FEATURES_REQUIRED) != XSEG_FEATURES_REQUIRED)
		return -EPROTO;
	hsize = xseg_load_relaxed(&hdr->size);
	if (hsize > size)
		return -EINVAL;

	ret = xseg_compute_layout(xseg_load_relaxed(&hdr->nr_ports),
				  xseg_load_relaxed(&hdr->nr_requests),
				  xseg_load_relaxed(&hdr->nr_sds),
				  xseg_load_relaxed(&hdr->alloc_unit),
				  xseg_load_relaxed(&hdr->heap_size), g);
	if (ret)
		return ret;
	if (features & XSEG_FEAT_IDC) {
		if (xseg_load_relaxed(&hdr->idc_off) != g->idc_off ||
		    xseg_load_relaxed(&hdr->nr_services) != XSEG_IDC_SERVICES ||
		    xseg_load_relaxed(&hdr->nr_buffers) != XSEG_IDC_BUFFERS)
			return -EINVAL;
	} else {
		xseg_layout_without_idc(g);
	}
	if (g->size > hsize)
		return -EINVAL;
	g->size = hsize;

	if (xseg_load_relaxed(&hdr->nr_types) != g->nr_types ||
	    xseg_load_relaxed(&hdr->ring_size) != g->ring_size ||
	    xseg_load_relaxed(&hdr->ports_off) != g->ports_off ||
	    xseg_load_relaxed(&hdr->requests_off) != g->requests_off ||
	    xseg_load_relaxed(&hdr->sds_off) != g->sds_off ||
	    xseg_load_relaxed(&hdr->sd_data_off) != g->sd_data_off ||
	    xseg_load_relaxed(&hdr->types_off) != g->types_off ||
	    xseg_load_relaxed(&hdr->rings_off) != g->rings_off ||
	    xseg_load_relaxed(&hdr->ring_bytes) != g->ring_bytes ||
	    xseg_load_relaxed(&hdr->bitmap_off) != g->bitmap_off ||
	    xseg_load_relaxed(&hdr->heap_off) != g->heap_off)
		return -EINVAL;
	return 0;
}

int xseg_join_mem(void *base, __u64 size, struct xseg **xsegp)
{
	struct xseg_geom g;
	struct xseg *xseg;
	int ret;

	if (!base)
		return -EINVAL;
	ret = xseg_validate_header(base, size, &g);
	if (ret)
		return ret;
	xseg = xseg_handle_alloc(base, &g);
	if (!xseg)
		return -ENOMEM;
	*xsegp = xseg;
	return 0;
}

int xseg_create(const struct xseg_backend_ops *be, const char *name,
		const struct xseg_config *cfg, struct xseg **xsegp)
{
	struct xseg *xseg;
	void *base, *priv;
	u64 size, msize;
	int ret;

	ret = xseg_segment_size(cfg, &size);
	if (ret)
		return ret;
	ret = be->create(name, size, cfg->mode ? cfg->mode : 0600);
	if (ret)
		return ret;
	ret = be->map(name, &base, &msize, &priv);
	if (ret)
		goto err_destroy;
	ret = xseg_init_mem(base, msize, cfg);
	if (ret)
		goto err_unmap;
	ret = xseg_join_mem(base, msize, &xseg);
	if (ret)
		goto err_unmap;
	xseg->be = be;
	xseg->be_priv = priv;
	*xsegp = xseg;
	return 0;

err_unmap:
	be->unmap(base, msize, priv);
err_destroy:
	be->destroy(name);
	return ret;
}

int xseg_join(const struct xseg_backend_ops *be, const char *name, struct xseg **xsegp)
{
	struct xseg *xseg;
	void *base, *priv;
	u64 msize;
	int ret;

	ret = be->map(name, &base, &msize, &priv);
	if (ret)
		return ret;
	ret = xseg_join_mem(base, msize, &xseg);
	if (ret)
		goto err_unmap;
	xseg->be = be;
	xseg->be_priv = priv;
	*xsegp = xseg;
	return 0;

err_unmap:
	be->unmap(base, msize, priv);
	return ret;
}

/* Releases everything this peer holds in the segment and the handle itself. */
int xseg_leave(struct xseg *xseg)
{
	if (!xseg)
		return -EINVAL;
	xseg_leave_all_ports(xseg);
	xseg_signal_leave(xseg);
	if (xseg->be)
		xseg->be->unmap(xseg->base, xseg->g.size, xseg->be_priv);
	xseg_handle_free(xseg);
	return 0;
}

int xseg_destroy(const struct xseg_backend_ops *be, const char *name)
{
	return be->destroy(name);
}

int xseg_get_info(struct xseg *xseg, struct xseg_info *info)
{
	const struct xseg_geom *g = &xseg->g;
	u32 i;

	memset(info, 0, sizeof(*info));
	info->size = g->size;
	info->nr_ports = g->nr_ports;
	info->nr_requests = g->nr_requests;
	info->nr_sds = g->nr_sds;
	info->alloc_unit = g->alloc_unit;
	info->heap_size = g->heap_size;
	xseg_heap_stats(xseg, &info->heap_free, &info->heap_used, &info->heap_largest_free);
	for (i = 0; i < g->nr_ports; i++)
		if (xseg_load_relaxed(&xseg_port_at(xseg, i)->owner))
			info->ports_bound++;
	info->requests_free = xseg_requests_free_count(xseg);
	for (i = 0; i < g->nr_sds; i++)
		if (xseg_load_relaxed(&xseg_sd_at(xseg, i)->state) == XSEG_SD_ACTIVE)
			info->sds_active++;
	for (i = 0; i < g->nr_types; i++)
		if (xseg_load_relaxed(&xseg_type_at(xseg, i)->state) == XSEG_TYPE_READY)
			info->types_registered++;
	return 0;
}

int xseg_get_stats(struct xseg *xseg, struct xseg_stats *stats)
{
	stats->signals = xseg_counter_read(&xseg->nr_signals);
	stats->wakes = xseg_counter_read(&xseg->nr_wakes);
	return 0;
}

/*
 * Takes back what dead peers held: their ports (and the descriptor references the ports
 * held), their descriptors, and their requests.  Returns the number of objects reclaimed.
 */
int xseg_reclaim(struct xseg *xseg)
{
	int n = 0;

	n += xseg_reclaim_ports(xseg);
	n += xseg_reclaim_sds(xseg);
	n += xseg_reclaim_requests(xseg);
	return n;
}
