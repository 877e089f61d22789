// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The service registry of the endpoint API: name -> listening port, in the segment.
 *
 * An entry is claimed by CAS of owner 0 -> tag (or from the tag of a peer that is dead,
 * claim.c), written by its single claimer, and published by a release store of READY.  A reader
 * loads state with acquire, copies port, gen and name into locals, and re-checks state and
 * gen afterwards: a copy torn by a concurrent re-registration is dropped.  Nothing read here
 * is used before it is validated (port range, NUL-terminated name in a local buffer).
 */
#include <xseg/idc.h>
#include <xseg/internal.h>

int xseg_idc_name_check(const char *name)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strnlen(name, XSEG_IDC_NAME_LEN);
	if (!len || len >= XSEG_IDC_NAME_LEN)
		return -EINVAL;
	return 0;
}

/* Copies a READY entry into locals; -ENOENT if it is not READY or changed meanwhile. */
static int xseg_svc_read(struct xseg *xseg, u32 i, char *name, u32 *portp, u32 *genp,
			 u64 *ownerp)
{
	struct xseg_service_entry *e = xseg_svc_at(xseg, i);
	u32 gen, port;
	u64 owner;

	/* pairs with the store_release of READY in xseg_idc_registry_add() */
	if (xseg_load_acquire(&e->state) != XSEG_SVC_READY)
		return -ENOENT;
	gen = xseg_load_relaxed(&e->gen);
	port = xseg_load_relaxed(&e->port);
	owner = xseg_load_relaxed(&e->owner);
	memcpy(name, e->name, XSEG_IDC_NAME_LEN);
	name[XSEG_IDC_NAME_LEN - 1] = '\0';
	xseg_smp_mb();	/* the copies before the re-check of state and gen */
	if (xseg_load_relaxed(&e->state) != XSEG_SVC_READY || xseg_load_relaxed(&e->gen) != gen)
		return -ENOENT;
	if (port >= xseg->g.nr_ports || !owner)
		return -ENOENT;
	*portp = port;
	*genp = gen;
	*ownerp = owner;
	return 0;
}

/* Finds the live registration of name; its index, port, generation and owner. */
int xseg_idc_registry_find(struct xseg *xseg, const char *name, u32 *idxp, u32 *portp,
			   u32 *genp, u64 *ownerp)
{
	char local[XSEG_IDC_NAME_LEN];
	u32 i, port, gen;
	u64 owner;

	if (!(xseg->g.features & XSEG_FEAT_IDC))
		return -EOPNOTSUPP;
	for (i = 0; i < XSEG_IDC_SERVICES; i++) {
		if (xseg_svc_read(xseg, i, local, &port, &gen, &owner))
			continue;
		if (strcmp(local, name))
			continue;
		if (owner != xseg->tag && !xseg_dom_peer_alive(owner))
			continue;
		if (idxp)
			*idxp = i;
		*portp = port;
		if (genp)
			*genp = gen;
		if (ownerp)
			*ownerp = owner;
		return 0;
	}
	return -ENOENT;
}

int xseg_idc_lookup(struct xseg *xseg, const char *name, __u32 *portp)
{
	int ret = xseg_idc_name_check(name);

	if (ret)
		return ret;
	return xseg_idc_registry_find(xseg, name, NULL, portp, NULL, NULL);
}

/* Claims entry i for this peer: a free one, or one whose owner is dead. */
static int xseg_svc_claim(struct xseg *xseg, u32 i)
{
	struct xseg_service_entry *e = xseg_svc_at(xseg, i);
	u64 dead;
	int ret;

	ret = xseg_entry_claim(xseg, &e->state, &e->owner, XSEG_SVC_CLAIMING, &dead);
	if (ret < 0)
		return ret;
	if (ret == XSEG_CLAIM_TAKEOVER)
		xseg_info("service entry %u: taken over from dead peer %llx", i,
			  (unsigned long long)dead);
	return 0;
}

static void xseg_svc_release(struct xseg *xseg, u32 i)
{
	struct xseg_service_entry *e = xseg_svc_at(xseg, i);

	xseg_store_relaxed(&e->state, XSEG_SVC_CLAIMING);
	memset(e->name, 0, sizeof(e->name));
	xseg_store_relaxed(&e->state, XSEG_SVC_FREE);
	/* the owner last: a releaser killed before this leaves its tag to be taken over */
	/* pairs with the CAS of owner in xseg_entry_claim() */
	xseg_store_release(&e->owner, 0);
}

/* Registers name -> port for this peer; the entry index in *idxp. */
int xseg_idc_registry_add(struct xseg *xseg, const char *name, u32 port, u32 *idxp)
{
	struct xseg_service_entry *e;
	u32 i, other, oport;
	int ret;

	ret = xseg_idc_name_check(name);
	if (ret)
		return ret;
	if (!(xseg->g.features & XSEG_FEAT_IDC))
		return -EOPNOTSUPP;
	if (!xseg_idc_registry_find(xseg, name, NULL, &oport, NULL, NULL))
		return -EEXIST;
	for (i = 0; i < XSEG_IDC_SERVICES; i++)
		if (!xseg_svc_claim(xseg, i))
			break;
	if (i == XSEG_IDC_SERVICES)
		return -ENOSPC;
	e = xseg_svc_at(xseg, i);
	memset(e->name, 0, sizeof(e->name));
	memcpy(e->name, name, strlen(name));
	xseg_store_relaxed(&e->port, port);
	xseg_store_relaxed(&e->gen, xseg_load_relaxed(&e->gen) + 1);
	/* publish; pairs with the load_acquire of state in xseg_svc_read() */
	xseg_store_release(&e->state, XSEG_SVC_READY);

	/* two peers registering the same name at once: the lower entry wins */
	if (!xseg_idc_registry_find(xseg, name, &other, &oport, NULL, NULL) && other != i) {
		xseg_svc_release(xseg, i);
		return -EEXIST;
	}
	*idxp = i;
	return 0;
}

int xseg_idc_registry_del(struct xseg *xseg, u32 i)
{
	struct xseg_service_entry *e;

	if (i >= XSEG_IDC_SERVICES || !(xseg->g.features & XSEG_FEAT_IDC))
		return -EINVAL;
	e = xseg_svc_at(xseg, i);
	if (xseg_load_relaxed(&e->owner) != xseg->tag)
		return -EPERM;
	xseg_svc_release(xseg, i);
	return 0;
}
