// SPDX-License-Identifier: GPL-2.0
/*
 * xseg-kv: a key-value service on the endpoint API (<xseg/idc.h>), the second example.
 *
 *   xseg-kv [OPTIONS] serve               register "kv" and serve until SIGINT/SIGTERM
 *   xseg-kv [OPTIONS] put KEY VALUE       store
 *   xseg-kv [OPTIONS] get KEY             print the value (exit 1 if absent)
 *   xseg-kv [OPTIONS] fetch KEY           same, but the service writes the value straight
 *                                         into a remote buffer the client registered
 *   xseg-kv [OPTIONS] del KEY             remove
 *
 * Options as xseg-echo (--segment, --type, --signal, --service; default service "kv").
 *
 * Protocol: one transaction per command.  Parameters: struct kv_params, then the key, then
 * the value (put).  Status: the value (get).  Error: 0, -ENOENT, -ENOSPC, -EINVAL.  fetch
 * carries a remote buffer reference; the service copies the value into it with
 * xseg_idc_send_to_remote_buffer() and completes the transaction from the transfer's
 * completion, with status the value's length.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xseg/idc.h>
#include <xseg/posix.h>
#include <xseg/segdev_user.h>

#define KV_KEY_MAX	64
#define KV_VAL_MAX	1024
#define KV_ENTRIES	256

enum { KV_PUT = 1, KV_GET, KV_DEL, KV_FETCH };

struct kv_params {
	__u32 op;
	__u16 klen;
	__u16 vlen;
	struct xseg_idc_rbuf rbuf;	/* KV_FETCH: where the value goes */
};

static int stop;		/* set by SIGINT/SIGTERM */

static void on_signal(int sig)
{
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
}

/* ---- the service ---- */

struct kv_entry {
	char key[KV_KEY_MAX];
	__u16 klen;
	__u16 vlen;
	int used;
	char val[KV_VAL_MAX];
};

static struct kv_entry table[KV_ENTRIES];
static struct xseg_idc *srv_idc;

static struct kv_entry *kv_find(const char *key, __u16 klen, int create)
{
	struct kv_entry *free_e = NULL;
	int i;

	for (i = 0; i < KV_ENTRIES; i++) {
		if (!table[i].used) {
			free_e = free_e ? free_e : &table[i];
			continue;
		}
		if (table[i].klen == klen && !memcmp(table[i].key, key, klen))
			return &table[i];
	}
	if (!create || !free_e)
		return NULL;
	memset(free_e, 0, sizeof(*free_e));
	free_e->used = 1;
	free_e->klen = klen;
	memcpy(free_e->key, key, klen);
	return free_e;
}

/* A fetch in progress: the transaction completes when the transfer does. */
struct kv_fetch {
	struct xseg_idc_xfer xfer;
	struct xseg_idc_transaction *txn;
	__u16 vlen;
};

static void kv_fetch_done(struct xseg_idc_xfer *x)
{
	struct kv_fetch *f = x->priv;
	__u32 len = f->vlen;

	if (!x->error && f->txn->status.len >= sizeof(len)) {
		memcpy(f->txn->status.addr, &len, sizeof(len));
		f->txn->status_len = sizeof(len);
	}
	xseg_idc_transaction_complete(f->txn, x->error);
	free(f);
}

static int kv_fetch(struct xseg_idc_transaction *txn, const struct kv_params *p,
		    struct kv_entry *e)
{
	struct xseg_idc_lbuf src = { e->val, e->vlen };
	struct kv_fetch *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->txn = txn;
	f->vlen = e->vlen;
	f->xfer.complete = kv_fetch_done;
	f->xfer.priv = f;
	/* the reference came from the client: validated by the buffer table, not trusted */
	return xseg_idc_send_to_remote_buffer(srv_idc, &p->rbuf, 0, &src, &f->xfer);
}

static void kv_transaction(struct xseg_endpoint *ep, struct xseg_idc_transaction *txn)
{
	struct kv_params p;
	struct kv_entry *e;
	const char *key;
	int ret = 0;

	if (txn->params.len < sizeof(p)) {
		xseg_idc_transaction_complete(txn, -EINVAL);
		return;
	}
	memcpy(&p, txn->params.addr, sizeof(p));
	key = (const char *)txn->params.addr + sizeof(p);
	if (!p.klen || p.klen > KV_KEY_MAX || p.vlen > KV_VAL_MAX ||
	    txn->params.len < sizeof(p) + p.klen + p.vlen) {
		xseg_idc_transaction_complete(txn, -EINVAL);
		return;
	}
	switch (p.op) {
	case KV_PUT:
		e = kv_find(key, p.klen, 1);
		if (!e) {
			ret = -ENOSPC;
			break;
		}
		memcpy(e->val, key + p.klen, p.vlen);
		e->vlen = p.vlen;
		break;
	case KV_GET:
		e = kv_find(key, p.klen, 0);
		if (!e) {
			ret = -ENOENT;
		} else if (e->vlen > txn->status.len) {
			ret = -EOVERFLOW;
		} else {
			memcpy(txn->status.addr, e->val, e->vlen);
			txn->status_len = e->vlen;
		}
		break;
	case KV_FETCH:
		e = kv_find(key, p.klen, 0);
		if (!e) {
			ret = -ENOENT;
			break;
		}
		ret = kv_fetch(txn, &p, e);
		if (!ret)
			return;		/* completes from kv_fetch_done() */
		break;
	case KV_DEL:
		e = kv_find(key, p.klen, 0);
		if (e)
			e->used = 0;
		else
			ret = -ENOENT;
		break;
	default:
		ret = -EINVAL;
	}
	xseg_idc_transaction_complete(txn, ret);
}

static const struct xseg_endpoint_ops kv_ops = {
	.handle_transaction = kv_transaction,
};

static int serve(struct xseg_idc *idc, const char *name)
{
	struct xseg_endpoint conns[16];
	struct xseg_idc_service svc;
	int ret;

	srv_idc = idc;
	ret = xseg_idc_service_register(&svc, idc, name, &kv_ops, conns, 16, NULL);
	if (ret) {
		fprintf(stderr, "xseg-kv: register %s: %s\n", name, strerror(-ret));
		return 1;
	}
	printf("serving %s\n", name);
	fflush(stdout);
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		xseg_idc_wait(idc, 100000);
	xseg_idc_service_unregister(&svc, 2000000);
	return 0;
}

/* ---- the client ---- */

struct result {
	int done;
	int error;
};

static void txn_done(struct xseg_idc_transaction *txn)
{
	struct result *r = txn->priv;

	r->done = 1;
	r->error = txn->error;
}

static int command(struct xseg_idc *idc, struct xseg_endpoint *ep, __u32 op, const char *key,
		   const char *val)
{
	char params[sizeof(struct kv_params) + KV_KEY_MAX + KV_VAL_MAX];
	struct kv_params p = { .op = op };
	struct result r = {};
	struct xseg_idc_transaction txn = { .complete = txn_done, .priv = &r };
	struct xseg_idc_lbuf rbuf = {};
	struct xseg_idc_buffer buf;
	char status[KV_VAL_MAX];
	int i, ret;

	p.klen = strlen(key);
	p.vlen = val ? strlen(val) : 0;
	if (!p.klen || p.klen > KV_KEY_MAX || p.vlen > KV_VAL_MAX)
		return -EINVAL;
	if (op == KV_FETCH) {
		/* a buffer in the segment, writable by the service: zero copy on its side */
		ret = xseg_idc_buffer_alloc(idc, KV_VAL_MAX, &rbuf);
		if (ret)
			return ret;
		ret = xseg_idc_register_buffer(idc, &rbuf, XSEG_BUF_WRITE, &buf);
		if (ret) {
			xseg_idc_buffer_free(idc, &rbuf);
			return ret;
		}
		p.rbuf = buf.ref;
	}
	memcpy(params, &p, sizeof(p));
	memcpy(params + sizeof(p), key, p.klen);
	if (val)
		memcpy(params + sizeof(p) + p.klen, val, p.vlen);
	txn.params.addr = params;
	txn.params.len = sizeof(p) + p.klen + p.vlen;
	txn.status.addr = status;
	txn.status.len = sizeof(status);
	ret = xseg_endpoint_submit_transaction(ep, &txn);
	for (i = 0; !ret && i < 50 && !r.done; i++)
		xseg_idc_wait(idc, 100000);
	if (!ret)
		ret = r.done ? r.error : -ETIMEDOUT;
	if (!ret && op == KV_GET)
		printf("%.*s\n", (int)txn.status_len, status);
	if (!ret && op == KV_FETCH) {
		__u32 len = 0;

		if (txn.status_len == sizeof(len))
			memcpy(&len, status, sizeof(len));
		printf("%.*s\n", (int)(len < KV_VAL_MAX ? len : KV_VAL_MAX), (char *)rbuf.addr);
	}
	if (op == KV_FETCH) {
		xseg_idc_unregister_buffer(&buf);
		xseg_idc_buffer_free(idc, &rbuf);
	}
	return ret;
}

static void print_usage(FILE *f)
{
	fprintf(f, "usage: xseg-kv [--segment NAME] [--type posix|segdev] [--signal TYPE]\n"
		"               [--service NAME] serve | put KEY VALUE | get KEY | fetch KEY |"
		" del KEY\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "segment", required_argument, NULL, 'g' },
		{ "type", required_argument, NULL, 't' },
		{ "signal", required_argument, NULL, 's' },
		{ "service", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct xseg_backend_ops *be;
	const char *seg = "xseg", *sig = NULL, *name = "kv", *type = NULL, *cmd;
	struct xseg_endpoint ep;
	struct xseg_idc idc;
	struct xseg *xseg;
	__u32 op;
	int c, i, ret, nargs;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			seg = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 's':
			sig = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		print_usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	nargs = argc - optind - 1;
	if (!strcmp(cmd, "put"))
		op = KV_PUT;
	else if (!strcmp(cmd, "get"))
		op = KV_GET;
	else if (!strcmp(cmd, "fetch"))
		op = KV_FETCH;
	else if (!strcmp(cmd, "del"))
		op = KV_DEL;
	else if (!strcmp(cmd, "serve"))
		op = 0;
	else
		op = UINT32_MAX;
	if (op == UINT32_MAX) {
		print_usage(stderr);
		return 2;
	}
	if (nargs != (op == KV_PUT ? 2 : op ? 1 : 0)) {
		print_usage(stderr);
		return 2;
	}
	if (!type)
		type = access("/dev/segdev", F_OK) ? "posix" : "segdev";
	be = !strcmp(type, "posix") ? &xseg_posix_backend : &xseg_segdev_backend;
	if (!sig)
		sig = be == &xseg_posix_backend ? "futex" : XSEG_SIGNAL_POLL;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	ret = xseg_join(be, seg, &xseg);
	if (!ret)
		ret = xseg_idc_init(&idc, xseg, sig);
	if (ret) {
		fprintf(stderr, "xseg-kv: segment %s: %s\n", seg, strerror(-ret));
		return 1;
	}
	if (!op) {
		ret = serve(&idc, name);
		goto out;
	}
	xseg_endpoint_create(&ep, &idc, name, NULL, NULL);
	for (i = 0; i < 50 && !xseg_endpoint_connected(&ep); i++)
		xseg_idc_wait(&idc, 100000);
	ret = xseg_endpoint_connected(&ep) ? command(&idc, &ep, op, argv[optind + 1],
						     op == KV_PUT ? argv[optind + 2] : NULL)
					   : -ENOTCONN;
	if (ret)
		fprintf(stderr, "xseg-kv: %s %s: %s\n", cmd, argv[optind + 1], strerror(-ret));
	xseg_endpoint_destroy(&ep, 2000000);
	ret = ret ? 1 : 0;
out:
	xseg_idc_fini(&idc);
	xseg_leave(xseg);
	return ret;
}
