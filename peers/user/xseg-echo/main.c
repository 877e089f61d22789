// SPDX-License-Identifier: GPL-2.0
/*
 * xseg-echo: the example service of the endpoint API (<xseg/idc.h>).
 *
 *   xseg-echo [OPTIONS] serve             register "echo" and answer until SIGINT/SIGTERM
 *   xseg-echo [OPTIONS] send TEXT...      send each TEXT as a message and as a transaction,
 *                                         print the transaction's answer
 *
 * Options: --segment NAME (default "xseg"), --type posix|segdev (default: segdev if
 * /dev/segdev exists), --signal TYPE (default futex on posix, poll on segdev, which a kernel
 * peer can reach), --service NAME (default "echo").
 *
 * The client's channel set-up is the four statements marked "setup" below.
 * Exit status: 0 success, 1 operational error, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xseg/idc.h>
#include <xseg/posix.h>
#include <xseg/segdev_user.h>

static int stop;		/* set by SIGINT/SIGTERM */

static void on_signal(int sig)
{
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
}

/* ---- the service ---- */

static void echo_message(struct xseg_endpoint *ep, struct xseg_idc_message *msg)
{
	printf("message: %.*s\n", (int)msg->body.len, (char *)msg->body.addr);
	fflush(stdout);
	xseg_idc_message_complete(msg);
}

static void echo_transaction(struct xseg_endpoint *ep, struct xseg_idc_transaction *txn)
{
	__u64 n = txn->params.len < txn->status.len ? txn->params.len : txn->status.len;

	memcpy(txn->status.addr, txn->params.addr, n);
	txn->status_len = n;
	xseg_idc_transaction_complete(txn, n < txn->params.len ? -EOVERFLOW : 0);
}

static const struct xseg_endpoint_ops echo_ops = {
	.handle_message = echo_message,
	.handle_transaction = echo_transaction,
};

static int serve(struct xseg_idc *idc, const char *name)
{
	struct xseg_endpoint conns[16];
	struct xseg_idc_service svc;
	int ret;

	ret = xseg_idc_service_register(&svc, idc, name, &echo_ops, conns, 16, NULL);
	if (ret) {
		fprintf(stderr, "xseg-echo: register %s: %s\n", name, strerror(-ret));
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

static void msg_done(struct xseg_idc_message *msg)
{
	struct result *r = msg->priv;

	r->done = 1;
	r->error = msg->error;
}

static void txn_done(struct xseg_idc_transaction *txn)
{
	struct result *r = txn->priv;

	r->done = 1;
	r->error = txn->error;
}

static int wait_done(struct xseg_idc *idc, struct result *r)
{
	int i;

	for (i = 0; i < 50 && !r->done; i++)
		xseg_idc_wait(idc, 100000);
	return r->done ? r->error : -ETIMEDOUT;
}

static int send_one(struct xseg_idc *idc, struct xseg_endpoint *ep, const char *text)
{
	struct result mr = {}, tr = {};
	struct xseg_idc_message msg = { .complete = msg_done, .priv = &mr };
	struct xseg_idc_transaction txn = { .complete = txn_done, .priv = &tr };
	char answer[XSEG_IDC_DEF_SIZE];
	int ret;

	msg.body.addr = (void *)text;
	msg.body.len = strlen(text);
	txn.params = msg.body;
	txn.status.addr = answer;
	txn.status.len = sizeof(answer);
	ret = xseg_endpoint_submit_message(ep, &msg);
	if (!ret)
		ret = wait_done(idc, &mr);
	if (!ret)
		ret = xseg_endpoint_submit_transaction(ep, &txn);
	if (!ret)
		ret = wait_done(idc, &tr);
	if (ret) {
		fprintf(stderr, "xseg-echo: %s: %s\n", text, strerror(-ret));
		return 1;
	}
	printf("%.*s\n", (int)txn.status_len, answer);
	return 0;
}

static void print_usage(FILE *f)
{
	fprintf(f, "usage: xseg-echo [--segment NAME] [--type posix|segdev] [--signal TYPE]\n"
		"                 [--service NAME] serve | send TEXT...\n");
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
	const char *seg = "xseg", *sig = NULL, *name = "echo", *type = NULL;
	struct xseg_endpoint ep;
	struct xseg_idc idc;
	struct xseg *xseg;
	int c, i, ret = 0;

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
	if (!type)
		type = access("/dev/segdev", F_OK) ? "posix" : "segdev";
	be = !strcmp(type, "posix") ? &xseg_posix_backend : &xseg_segdev_backend;
	if (!sig)
		sig = be == &xseg_posix_backend ? "futex" : XSEG_SIGNAL_POLL;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (!strcmp(argv[optind], "serve")) {
		ret = xseg_join(be, seg, &xseg);
		if (!ret)
			ret = xseg_idc_init(&idc, xseg, sig);
		if (ret) {
			fprintf(stderr, "xseg-echo: segment %s: %s\n", seg, strerror(-ret));
			return 1;
		}
		ret = serve(&idc, name);
		xseg_idc_fini(&idc);
		xseg_leave(xseg);
		return ret;
	}
	if (strcmp(argv[optind], "send")) {
		print_usage(stderr);
		return 2;
	}

	/* setup: four statements from nothing to a working channel */
	if (xseg_join(be, seg, &xseg) || xseg_idc_init(&idc, xseg, sig))
		return 1;
	xseg_endpoint_create(&ep, &idc, name, NULL, NULL);
	for (i = 0; i < 50 && !xseg_endpoint_connected(&ep); i++)
		xseg_idc_wait(&idc, 100000);

	if (!xseg_endpoint_connected(&ep)) {
		fprintf(stderr, "xseg-echo: no %s service on %s\n", name, seg);
		ret = 1;
	}
	for (i = optind + 1; !ret && i < argc; i++)
		ret = send_one(&idc, &ep, argv[i]);
	xseg_endpoint_destroy(&ep, 2000000);
	xseg_idc_fini(&idc);
	xseg_leave(xseg);
	return ret;
}
