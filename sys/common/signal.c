// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The signal-type framework (design doc "xseg signaling") and the notification suppression
 * protocol of the descriptors (struct xseg_signal_desc in uapi/xseg/xseg.h).
 *
 * Three levels:
 *  - the registry: signal types this process (or kernel) implements, by name;
 *  - the segment's type table: name -> id, assigned on first use, the same for every peer;
 *  - per handle: which ids are resolved to ops, initialised for receiving (local) or sending
 *    (remote), and how many live descriptors this peer has of each.
 */
#include <xseg/internal.h>

#define XSEG_REGISTRY_SIZE	16
#define XSEG_TYPE_CLAIM_TRIES	256

/* Process-wide registry of loadable types; protected by xseg_dom_registry_lock(). */
static const struct xseg_signal_type *xseg_registry[XSEG_REGISTRY_SIZE];
static u32 xseg_registry_users[XSEG_REGISTRY_SIZE];

const struct xseg_signal_type *xseg_builtin_type(const char *name)
{
	const struct xseg_signal_type *const *t;

	if (!strcmp(xseg_poll_type.name, name))
		return &xseg_poll_type;
	for (t = xseg_dom_types; *t; t++)
		if (!strcmp((*t)->name, name))
			return *t;
	return NULL;
}

static int xseg_check_type_name(const char *name)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strnlen(name, XSEG_TYPE_NAME_LEN);
	return len && len < XSEG_TYPE_NAME_LEN ? 0 : -EINVAL;
}

int xseg_register_signal_type(const struct xseg_signal_type *type)
{
	int ret = -ENOSPC;
	u32 i;

	if (!type || xseg_check_type_name(type->name) || !type->wait_signal)
		return -EINVAL;
	if (xseg_builtin_type(type->name))
		return -EEXIST;
	xseg_dom_registry_lock();
	for (i = 0; i < XSEG_REGISTRY_SIZE; i++) {
		if (xseg_registry[i] && !strcmp(xseg_registry[i]->name, type->name)) {
			ret = -EEXIST;
			goto out;
		}
	}
	for (i = 0; i < XSEG_REGISTRY_SIZE; i++) {
		if (!xseg_registry[i]) {
			xseg_registry[i] = type;
			xseg_registry_users[i] = 0;
			ret = 0;
			break;
		}
	}
out:
	xseg_dom_registry_unlock();
	return ret;
}

int xseg_unregister_signal_type(const struct xseg_signal_type *type)
{
	int ret = -ENOENT;
	u32 i;

	xseg_dom_registry_lock();
	for (i = 0; i < XSEG_REGISTRY_SIZE; i++) {
		if (xseg_registry[i] != type)
			continue;
		if (xseg_registry_users[i]) {
			ret = -EBUSY;
		} else {
			xseg_registry[i] = NULL;
			ret = 0;
		}
		break;
	}
	xseg_dom_registry_unlock();
	return ret;
}

/* Looks a type up by name and pins it (a registered type cannot go while a handle uses it). */
static const struct xseg_signal_type *xseg_registry_get(const char *name)
{
	const struct xseg_signal_type *type = xseg_builtin_type(name);
	u32 i;

	if (type)
		return type;
	xseg_dom_registry_lock();
	for (i = 0; i < XSEG_REGISTRY_SIZE; i++) {
		if (xseg_registry[i] && !strcmp(xseg_registry[i]->name, name)) {
			type = xseg_registry[i];
			xseg_registry_users[i]++;
			break;
		}
	}
	xseg_dom_registry_unlock();
	return type;
}

static void xseg_registry_put(const struct xseg_signal_type *type)
{
	u32 i;

	xseg_dom_registry_lock();
	for (i = 0; i < XSEG_REGISTRY_SIZE; i++) {
		if (xseg_registry[i] == type && xseg_registry_users[i]) {
			xseg_registry_users[i]--;
			break;
		}
	}
	xseg_dom_registry_unlock();
}

/* Copies the name of type table entry idx if it is final; -EINVAL otherwise. */
static int xseg_type_entry_name(struct xseg *xseg, u32 idx, char *name)
{
	struct xseg_type_entry *e = xseg_type_at(xseg, idx);

	/* pairs with the store_release of XSEG_TYPE_READY in xseg_type_claim() */
	if (xseg_load_acquire(&e->state) != XSEG_TYPE_READY)
		return -EINVAL;
	memcpy(name, e->name, XSEG_TYPE_NAME_LEN);
	name[XSEG_TYPE_NAME_LEN - 1] = '\0';
	return 0;
}

/* Claims free (or abandoned) entry idx for name; -EBUSY if someone else got it. */
static int xseg_type_claim(struct xseg *xseg, u32 idx, const char *name, u64 dead_owner)
{
	struct xseg_type_entry *e = xseg_type_at(xseg, idx);

	if (!dead_owner) {
		if (!xseg_cmpxchg(&e->state, XSEG_TYPE_FREE, XSEG_TYPE_CLAIMING))
			return -EBUSY;
		/* a claimer dying right here leaves owner 0, which counts as dead */
	}
	if (!xseg_cmpxchg(&e->owner, dead_owner, xseg->tag))
		return -EBUSY;
	memset(e->name, 0, sizeof(e->name));
	memcpy(e->name, name, strlen(name));
	/* the name is final before the state says so; pairs with xseg_type_entry_name() */
	xseg_store_release(&e->state, XSEG_TYPE_READY);
	return 0;
}

/*
 * Maps name to its type id, registering it in the segment if create is set.  Ready entries
 * never change and free entries only follow used ones, so every claimer races for the same
 * (lowest free) entry and a name cannot be registered twice.  While another live peer is
 * writing a name we cannot know it yet: retry a bounded number of times, then -EAGAIN.
 */
static int xseg_type_id(struct xseg *xseg, const char *name, bool create, u32 *idp)
{
	char buf[XSEG_TYPE_NAME_LEN];
	unsigned int tries;
	u32 i;

	for (tries = 0; tries < XSEG_TYPE_CLAIM_TRIES; tries++) {
		bool busy = false;
		int free_idx = -1;
		u64 dead = 0;

		for (i = 0; i < xseg->g.nr_types; i++) {
			struct xseg_type_entry *e = xseg_type_at(xseg, i);
			u32 state = xseg_load_acquire(&e->state);
			u64 owner;

			if (state == XSEG_TYPE_READY) {
				if (!xseg_type_entry_name(xseg, i, buf) && !strcmp(buf, name)) {
					*idp = i + 1;
					return 0;
				}
				continue;
			}
			if (state == XSEG_TYPE_FREE) {
				free_idx = i;
				break;
			}
			if (state != XSEG_TYPE_CLAIMING)
				continue;	/* corrupted entry: unusable */
			owner = xseg_load_relaxed(&e->owner);
			if (owner && xseg_dom_peer_alive(owner)) {
				busy = true;
			} else if (!busy) {
				free_idx = i;
				dead = owner;
				break;
			}
		}
		if (!create)
			return -ENOENT;
		if (!busy && free_idx < 0)
			return -ENOSPC;
		if (!busy && !xseg_type_claim(xseg, free_idx, name, dead)) {
			*idp = free_idx + 1;
			return 0;
		}
		xseg_dom_relax(tries);
	}
	return -EAGAIN;
}

/*
 * Resolves type id to this peer's ops, pinning them in the registry.  Fast path without the
 * lock: ops are published with store_release under the lock.
 */
static int xseg_type_resolve(struct xseg *xseg, u32 id, const struct xseg_signal_type **opsp)
{
	struct xseg_type_state *ts;
	const struct xseg_signal_type *ops;
	char name[XSEG_TYPE_NAME_LEN];
	int ret = 0;

	if (!id || id > xseg->g.nr_types)
		return -EINVAL;
	ts = &xseg->types[id];
	/* pairs with the store_release below */
	ops = xseg_load_acquire(&ts->ops);
	if (ops) {
		*opsp = ops;
		return 0;
	}
	ret = xseg_type_entry_name(xseg, id - 1, name);
	if (ret)
		return ret;
	xseg_lock(&xseg->lock);
	if (!ts->ops) {
		ops = xseg_registry_get(name);
		if (ops)
			xseg_store_release(&ts->ops, ops);
		else
			ret = -ENOENT;
	}
	*opsp = ts->ops;
	xseg_unlock(&xseg->lock);
	return ret;
}

int xseg_local_signal_init(struct xseg *xseg, const char *type)
{
	const struct xseg_signal_type *ops;
	struct xseg_type_state *ts;
	u32 id;
	int ret;

	ret = xseg_check_type_name(type);
	if (ret)
		return ret;
	ops = xseg_registry_get(type);
	if (!ops)
		return -ENOENT;
	ret = xseg_type_id(xseg, type, true, &id);
	if (ret)
		goto err_put;
	ts = &xseg->types[id];

	xseg_lock(&xseg->lock);
	if (ts->ops)
		xseg_registry_put(ops);	/* the handle pins the type once */
	else
		xseg_store_release(&ts->ops, ops);
	if (!ts->local_inits && ts->ops->local_signal_init) {
		ret = ts->ops->local_signal_init(xseg);
		if (ret) {
			xseg_unlock(&xseg->lock);
			return ret;
		}
	}
	ts->local_inits++;
	xseg_unlock(&xseg->lock);
	return 0;

err_put:
	xseg_registry_put(ops);
	return ret;
}

int xseg_local_signal_quit(struct xseg *xseg, const char *type)
{
	struct xseg_type_state *ts;
	u32 id;
	int ret;

	ret = xseg_check_type_name(type);
	if (ret)
		return ret;
	ret = xseg_type_id(xseg, type, false, &id);
	if (ret)
		return ret;
	ts = &xseg->types[id];
	xseg_lock(&xseg->lock);
	if (!ts->local_inits)
		ret = -EINVAL;
	else if (ts->live_sds)
		ret = -EBUSY;
	else if (!--ts->local_inits && ts->ops->local_signal_quit)
		ts->ops->local_signal_quit(xseg);
	xseg_unlock(&xseg->lock);
	return ret;
}

int xseg_sd_from_off(struct xseg *xseg, u64 off, u32 *idxp)
{
	u64 rel;

	if (off < xseg->g.sds_off)
		return -EFAULT;
	rel = off - xseg->g.sds_off;
	if (rel % sizeof(struct xseg_signal_desc) ||
	    rel / sizeof(struct xseg_signal_desc) >= xseg->g.nr_sds)
		return -EFAULT;
	*idxp = rel / sizeof(struct xseg_signal_desc);
	return 0;
}

static void xseg_sd_ctx_init(struct xseg *xseg, u32 idx, struct xseg_sd_ctx *ctx)
{
	ctx->xseg = xseg;
	ctx->index = idx;
	ctx->shared = xseg_sd_at(xseg, idx);
	/* computed, never read from the descriptor */
	ctx->data = xseg->base + xseg->g.sd_data_off + (u64)idx * XSEG_SD_DATA_SIZE;
}

int xseg_sd_get_ref(struct xseg *xseg, u32 idx)
{
	struct xseg_signal_desc *sd = xseg_sd_at(xseg, idx);
	unsigned int tries;

	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		u32 ref = xseg_load_relaxed(&sd->refcount);

		if (xseg_load_relaxed(&sd->state) != XSEG_SD_ACTIVE || !ref || ref >= 1U << 30)
			return -EINVAL;
		if (xseg_cmpxchg(&sd->refcount, ref, ref + 1))
			return 0;
	}
	return -EAGAIN;
}

/* Drops a reference; the last one runs the type's quit_signal_desc and frees the slot. */
int xseg_sd_put_ref(struct xseg *xseg, u32 idx)
{
	struct xseg_signal_desc *sd = xseg_sd_at(xseg, idx);
	const struct xseg_signal_type *ops;
	struct xseg_sd_ctx ctx;
	unsigned int tries;
	u32 ref = 0;

	for (tries = 0; tries < XSEG_CAS_TRIES; tries++) {
		ref = xseg_load_relaxed(&sd->refcount);
		if (!ref || ref >= 1U << 30)
			return -EINVAL;
		if (xseg_cmpxchg(&sd->refcount, ref, ref - 1))
			break;
	}
	if (tries == XSEG_CAS_TRIES)
		return -EAGAIN;
	if (ref > 1)
		return 0;

	xseg_sd_ctx_init(xseg, idx, &ctx);
	if (!xseg_type_resolve(xseg, xseg_load_relaxed(&sd->type), &ops) &&
	    ops->quit_signal_desc)
		ops->quit_signal_desc(&ctx);
	sd->type = 0;
	sd->owner = 0;
	sd->owner_ref = 0;
	/* pairs with the CAS FREE -> ACTIVE in xseg_sd_claim() */
	xseg_store_release(&sd->state, XSEG_SD_FREE);
	return 0;
}

static int xseg_sd_claim(struct xseg *xseg, u32 id, u32 *idxp)
{
	u32 i;

	for (i = 0; i < xseg->g.nr_sds; i++) {
		struct xseg_signal_desc *sd = xseg_sd_at(xseg, i);

		if (xseg_load_relaxed(&sd->state) != XSEG_SD_FREE)
			continue;
		if (!xseg_cmpxchg(&sd->state, XSEG_SD_FREE, XSEG_SD_ACTIVE))
			continue;
		sd->type = id;
		sd->owner = xseg->tag;
		sd->owner_ref = 1;
		sd->waiting = 0;
		sd->pending = 0;
		sd->dirty = 0;
		memset(xseg->base + xseg->g.sd_data_off + (u64)i * XSEG_SD_DATA_SIZE, 0,
		       XSEG_SD_DATA_SIZE);
		/* the descriptor is complete before a port can reference it */
		xseg_store_release(&sd->refcount, 1);
		*idxp = i;
		return 0;
	}
	return -ENOSPC;
}

static struct xseg_sd **xseg_sd_list(struct xseg *xseg)
{
	return &xseg->sds;
}

int xseg_get_signal_desc(struct xseg *xseg, const char *type, struct xseg_sd **sdp)
{
	struct xseg_type_state *ts;
	struct xseg_sd *node;
	u32 id, idx;
	int ret;

	ret = xseg_check_type_name(type);
	if (ret)
		return ret;
	ret = xseg_type_id(xseg, type, false, &id);
	if (ret)
		return ret;
	ts = &xseg->types[id];
	node = xseg_dom_zalloc(sizeof(*node));
	if (!node)
		return -ENOMEM;

	xseg_lock(&xseg->lock);
	if (!ts->local_inits) {
		ret = -EINVAL;	/* xseg_local_signal_init() first */
		goto err_unlock;
	}
	ret = xseg_sd_claim(xseg, id, &idx);
	if (ret)
		goto err_unlock;
	xseg_sd_ctx_init(xseg, idx, &node->ctx);
	node->type = id;
	node->ops = ts->ops;
	if (ts->ops->init_signal_desc) {
		ret = ts->ops->init_signal_desc(&node->ctx);
		if (ret)
			goto err_release;
	}
	ts->live_sds++;
	node->next = *xseg_sd_list(xseg);
	*xseg_sd_list(xseg) = node;
	xseg_unlock(&xseg->lock);
	*sdp = node;
	return 0;

err_release:
	node->ctx.shared->owner_ref = 0;
	node->ctx.shared->type = 0;
	node->ctx.shared->owner = 0;
	node->ctx.shared->refcount = 0;
	xseg_store_release(&node->ctx.shared->state, XSEG_SD_FREE);
err_unlock:
	xseg_unlock(&xseg->lock);
	xseg_dom_free(node);
	return ret;
}

int xseg_put_signal_desc(struct xseg_sd *sd)
{
	const struct xseg_signal_type *ops;
	struct xseg_sd **pp;
	struct xseg *xseg;
	int ret = 0;

	if (!sd)
		return -EINVAL;
	xseg = sd->ctx.xseg;
	xseg_lock(&xseg->lock);
	for (pp = xseg_sd_list(xseg); *pp && *pp != sd; pp = &(*pp)->next)
		;
	if (!*pp) {
		xseg_unlock(&xseg->lock);
		return -EINVAL;
	}
	*pp = sd->next;
	xseg->types[sd->type].live_sds--;
	ops = xseg->types[sd->type].ops;
	xseg_unlock(&xseg->lock);
	if (ops && ops->put_signal_desc)
		ops->put_signal_desc(&sd->ctx);

	/* exactly once, against xseg_reclaim_sds() of another peer */
	if (xseg_cmpxchg(&sd->ctx.shared->owner_ref, 1, 0))
		ret = xseg_sd_put_ref(xseg, sd->ctx.index);
	xseg_dom_free(sd);
	return ret;
}

int xseg_signal_desc_index(struct xseg_sd *sd)
{
	return sd ? (int)sd->ctx.index : -EINVAL;
}

int xseg_reclaim_sds(struct xseg *xseg)
{
	int n = 0;
	u32 i;

	for (i = 0; i < xseg->g.nr_sds; i++) {
		struct xseg_signal_desc *sd = xseg_sd_at(xseg, i);
		u64 owner = xseg_load_relaxed(&sd->owner);

		if (xseg_load_relaxed(&sd->state) != XSEG_SD_ACTIVE || !owner ||
		    owner == xseg->tag || xseg_dom_peer_alive(owner))
			continue;
		if (xseg_cmpxchg(&sd->owner_ref, 1, 0) && !xseg_sd_put_ref(xseg, i))
			n++;
	}
	return n;
}

/* Puts this peer's descriptors and quits the types it initialised (from xseg_leave()). */
void xseg_signal_leave(struct xseg *xseg)
{
	struct xseg_type_state *ts;
	u32 id;

	while (*xseg_sd_list(xseg))
		xseg_put_signal_desc(*xseg_sd_list(xseg));
	for (id = 1; id <= xseg->g.nr_types; id++) {
		ts = &xseg->types[id];
		if (!ts->ops)
			continue;
		if (ts->local_inits && ts->ops->local_signal_quit)
			ts->ops->local_signal_quit(xseg);
		if (ts->remote_ready && ts->ops->remote_signal_quit)
			ts->ops->remote_signal_quit(xseg);
		xseg_registry_put(ts->ops);
		ts->ops = NULL;
		ts->local_inits = 0;
		ts->remote_ready = false;
	}
}

/* Makes sure this peer can send signals of type id (remote_signal_init once). */
static int xseg_remote_ready(struct xseg *xseg, u32 id, const struct xseg_signal_type **opsp)
{
	struct xseg_type_state *ts;
	int ret;

	ret = xseg_type_resolve(xseg, id, opsp);
	if (ret)
		return ret;
	ts = &xseg->types[id];
	/* pairs with the store_release below */
	if (xseg_load_acquire(&ts->remote_ready))
		return 0;
	xseg_lock(&xseg->lock);
	if (!ts->remote_ready && ts->ops->remote_signal_init)
		ret = ts->ops->remote_signal_init(xseg);
	if (!ret)
		xseg_store_release(&ts->remote_ready, true);
	xseg_unlock(&xseg->lock);
	return ret;
}

int xseg_prepare_wait(struct xseg_sd *sd)
{
	struct xseg_signal_desc *s;

	if (!sd)
		return -EINVAL;
	s = sd->ctx.shared;
	xseg_store_relaxed(&s->dirty, 0);
	xseg_store_relaxed(&s->pending, 0);
	xseg_store_relaxed(&s->waiting, 1);
	/*
	 * Arming before the caller re-checks its rings.  Pairs with the second barrier in
	 * xseg_signal(): either the sender sees waiting == 1, or our re-check sees its work.
	 */
	xseg_smp_mb();
	return sd->ops->prepare_wait ? sd->ops->prepare_wait(&sd->ctx) : 0;
}

int xseg_cancel_wait(struct xseg_sd *sd)
{
	if (!sd)
		return -EINVAL;
	xseg_store_relaxed(&sd->ctx.shared->waiting, 0);
	return sd->ops->cancel_wait ? sd->ops->cancel_wait(&sd->ctx) : 0;
}

int xseg_wait_signal(struct xseg_sd *sd, __u32 usec)
{
	if (!sd)
		return -EINVAL;
	/* work posted since prepare_wait: pairs with the store of dirty in xseg_signal() */
	if (xseg_load_acquire(&sd->ctx.shared->dirty))
		return 0;
	return sd->ops->wait_signal(&sd->ctx, usec);
}

int xseg_signal(struct xseg *xseg, __u32 portno)
{
	const struct xseg_signal_type *ops;
	struct xseg_signal_desc *s;
	struct xseg_sd_ctx ctx;
	u64 off;
	u32 idx;
	int ret;

	if (portno >= xseg->g.nr_ports)
		return -EINVAL;
	/* pairs with the fully ordered CAS of sd_off in xseg_port_set_sd() */
	off = xseg_load_acquire(&xseg_port_at(xseg, portno)->sd_off);
	if (!off)
		return 0;	/* nobody to wake: the port's owner polls */
	ret = xseg_sd_from_off(xseg, off, &idx);
	if (ret)
		return ret;
	s = xseg_sd_at(xseg, idx);
	ret = xseg_remote_ready(xseg, xseg_load_relaxed(&s->type), &ops);
	if (ret)
		return ret;
	xseg_counter_inc(&xseg->nr_signals);

	/* the caller's ring publish before dirty; pairs with the receiver's load of dirty */
	xseg_smp_mb();
	xseg_store_relaxed(&s->dirty, 1);
	/* dirty (and the publish) before reading waiting; pairs with xseg_prepare_wait() */
	xseg_smp_mb();
	if (!xseg_load_relaxed(&s->waiting))
		return 0;	/* receiver busy: it re-checks its rings before sleeping */
	if (!xseg_cmpxchg(&s->pending, 0, 1))
		return 0;	/* a wake is already on its way */
	xseg_counter_inc(&xseg->nr_wakes);
	xseg_sd_ctx_init(xseg, idx, &ctx);
	return ops->signal ? ops->signal(&ctx) : 0;
}
