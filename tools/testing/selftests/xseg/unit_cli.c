// SPDX-License-Identifier: GPL-2.0
/*
 * The xseg command-line tool on POSIX shm segments: create/list/show/destroy, exit statuses
 * (0 ok, 1 operational, 2 usage) and messages that name the segment and the cause.
 *
 * Runs build/<variant>/bin/xseg, else build/user/bin/xseg ($XSEG_BIN overrides the directory);
 * skips when the tool is not built.
 */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "unit_common.h"
#include "kselftest_harness.h"

#include <xseg/inspect.h>

#define CLI_OUT_MAX	65536
#define NOBODY		65534

static char cli_path[PATH_MAX];

/* Finds the tool next to this test's build tree; 0 if found. */
static int cli_find(void)
{
	static const char *const rel[] = { "/../../bin/xseg", "/../../../user/bin/xseg" };
	char exe[PATH_MAX - 64], *slash;
	const char *env = getenv("XSEG_BIN");
	ssize_t n;
	size_t i;

	if (env) {
		snprintf(cli_path, sizeof(cli_path), "%s/xseg", env);
		return access(cli_path, X_OK);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	for (i = 0; i < XSEG_ARRAY_SIZE(rel); i++) {
		snprintf(cli_path, sizeof(cli_path), "%s%s", exe, rel[i]);
		if (!access(cli_path, X_OK))
			return 0;
	}
	return -1;
}

struct cli_run {
	int status;		/* exit status, or 128 + signal */
	char out[CLI_OUT_MAX];	/* stdout and stderr together */
};

/* Runs the tool with args (NULL-terminated) as uid (-1: unchanged). */
static void cli_run_as(struct cli_run *r, int uid, const char *const *args)
{
	const char *argv[32];
	int pfd[2], st, i;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	argv[0] = "xseg";
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	r->status = -1;
	r->out[0] = '\0';
	if (pipe(pfd))
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		if (uid >= 0 && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(126);
		execv(cli_path, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while (len < sizeof(r->out) - 1 &&
	       (n = read(pfd[0], r->out + len, sizeof(r->out) - 1 - len)) > 0)
		len += n;
	r->out[len] = '\0';
	close(pfd[0]);
	if (waitpid(pid, &st, 0) != pid)
		return;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define CLI(r, ...)		cli_run_as((r), -1, (const char *const[]){ __VA_ARGS__, NULL })
#define CLI_AS(r, uid, ...)	cli_run_as((r), (uid), (const char *const[]){ __VA_ARGS__, NULL })
#define EXPECT_OUT(r, s) do {							\
	const char *__out = (r)->out;						\
	EXPECT_NE(NULL, strstr(__out, (s))) TH_LOG("output: %s", __out);	\
} while (0)
#define EXPECT_NOT_OUT(r, s) do {						\
	const char *__out = (r)->out;						\
	EXPECT_EQ(NULL, strstr(__out, (s))) TH_LOG("output: %s", __out);	\
} while (0)

FIXTURE(cli) {
	struct cli_run r;
	char name[64];
	char msg[128];		/* "segment 'NAME'" */
};

FIXTURE_SETUP(cli)
{
	if (cli_find())
		SKIP(return, "the xseg tool is not built (make user)");
	snprintf(self->name, sizeof(self->name), "xseg-cli-%d", (int)getpid());
	snprintf(self->msg, sizeof(self->msg), "segment '%s'", self->name);
	xseg_destroy(&xseg_posix_backend, self->name);
}

FIXTURE_TEARDOWN(cli)
{
	xseg_destroy(&xseg_posix_backend, self->name);
}

TEST_F(cli, help_and_version)
{
	CLI(&self->r, "--version");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, "xseg 0.");
	CLI(&self->r, "--help");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, "segment VERB");
	CLI(&self->r, "help", "segment", "create");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, "--owner USER[:GROUP]");
	CLI(&self->r, "help", "show");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, "xseg segment show NAME");
	CLI(&self->r, "segment", "list", "--help");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, "usage: xseg segment list");

	CLI(&self->r, "help", "frobnicate");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "frobnicate");
	EXPECT_EQ(2, self->r.status);
	EXPECT_OUT(&self->r, "unknown command 'frobnicate'");
	CLI(&self->r, "segment");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "explode");
	EXPECT_EQ(2, self->r.status);
	cli_run_as(&self->r, -1, (const char *const[]){ NULL });
	EXPECT_EQ(2, self->r.status);
}

TEST_F(cli, create_list_show_destroy)
{
	struct stat st;
	char path[128];

	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name, "--size",
	    "4M", "--ports", "8", "--requests", "64");
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	EXPECT_OUT(&self->r, "8 ports, 64 requests");
	snprintf(path, sizeof(path), "/dev/shm/%s", self->name);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(4 << 20, st.st_size);
	EXPECT_EQ(0600, st.st_mode & 0777);	/* the default mode */

	CLI(&self->r, "segment", "list", "--type", "posix");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, self->name);
	EXPECT_OUT(&self->r, "4.0 MiB");

	CLI(&self->r, "segment", "show", self->name, "--type", "posix");
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	EXPECT_OUT(&self->r, "(4194304 bytes)");
	EXPECT_OUT(&self->r, "ports:         8 (0 bound)");
	EXPECT_OUT(&self->r, "requests:      64 (64 free)");
	EXPECT_OUT(&self->r, "free 64 got 0 submitted 0");
	EXPECT_OUT(&self->r, "largest free");
	EXPECT_OUT(&self->r, "(none bound)");
	CLI(&self->r, "segment", "show", "--all", "--type", "posix", "--name", self->name);
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, "PORT");

	CLI(&self->r, "segment", "destroy", self->name, "--type", "posix");
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	EXPECT_NE(0, stat(path, &st));
	CLI(&self->r, "segment", "list", "--type", "posix");
	EXPECT_EQ(0, self->r.status);
	EXPECT_NOT_OUT(&self->r, self->name);
	CLI(&self->r, "segment", "show", self->name, "--type", "posix");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, "no such segment");
}

/* The size is the whole segment: the heap is what the tables leave. */
TEST_F(cli, size_sets_the_heap)
{
	struct xseg_info info;
	struct xseg *x;
	__u64 need;
	struct xseg_config cfg;

	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name, "--size",
	    "3m", "--ports", "4", "--requests", "16");
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	ASSERT_EQ(0, xseg_join(&xseg_posix_backend, self->name, &x));
	ASSERT_EQ(0, xseg_get_info(x, &info));
	EXPECT_EQ(3 << 20, info.size);
	EXPECT_EQ(4, info.nr_ports);
	EXPECT_EQ(16, info.nr_requests);
	EXPECT_EQ(4096, info.alloc_unit);
	EXPECT_EQ(info.heap_size, info.heap_free);
	/* one more unit would not fit */
	xseg_config_default(&cfg);
	cfg.nr_ports = 4;
	cfg.nr_sds = 4;
	cfg.nr_requests = 16;
	cfg.heap_size = info.heap_size;
	ASSERT_EQ(0, xseg_segment_size(&cfg, &need));
	EXPECT_LE(need, 3 << 20);
	cfg.heap_size += 4096;
	ASSERT_EQ(0, xseg_segment_size(&cfg, &need));
	EXPECT_GT(need, 3 << 20);
	xseg_leave(x);
}

TEST_F(cli, usage_errors_exit_2)
{
	static const char *const bad_sizes[] = { "1x", "0", "", "-4M", "4MM", "K",
						  "99999999999999999999", "20000000T" };
	size_t i;

	for (i = 0; i < XSEG_ARRAY_SIZE(bad_sizes); i++) {
		CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name,
		    "--size", bad_sizes[i]);
		EXPECT_EQ(2, self->r.status) TH_LOG("size '%s'", bad_sizes[i]);
		EXPECT_OUT(&self->r, "bad size");
	}
	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name, "--size",
	    "64K");
	EXPECT_EQ(2, self->r.status);
	EXPECT_OUT(&self->r, "too small");
	EXPECT_OUT(&self->r, self->msg);
	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name);
	EXPECT_EQ(2, self->r.status);
	EXPECT_OUT(&self->r, "missing --size");
	CLI(&self->r, "segment", "create", "--type", "posix", "--size", "4M");
	EXPECT_EQ(2, self->r.status);
	EXPECT_OUT(&self->r, "missing --name");
	CLI(&self->r, "segment", "create", "--name", self->name, "--size", "4M", "--ports", "0");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "create", "--name", self->name, "--size", "4M", "--ports",
	    "5000");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "create", "--name", self->name, "--size", "4M", "--requests",
	    "x");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "create", "--name", self->name, "--size", "4M", "--mode",
	    "0999");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "create", "--name", self->name, "--size", "4M", "--mode",
	    "01777");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "create", "--name", "a/b", "--size", "4M");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "create", "--name", self->name, "--size", "4M", "--type",
	    "sysv");
	EXPECT_EQ(2, self->r.status);
	EXPECT_OUT(&self->r, "unknown segment type 'sysv'");
	CLI(&self->r, "segment", "create", "--name", self->name, "--size", "4M", "--owner",
	    "no-such-user-xseg");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "create", "--name", self->name, "--size", "4M", "--bogus");
	EXPECT_EQ(2, self->r.status);
	EXPECT_OUT(&self->r, "--bogus");
	CLI(&self->r, "segment", "show");
	EXPECT_EQ(2, self->r.status);
	EXPECT_OUT(&self->r, "missing segment name");
	CLI(&self->r, "segment", "show", "a", "b");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "destroy");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "segment", "list", "extra");
	EXPECT_EQ(2, self->r.status);
	/* nothing was created by any of them */
	EXPECT_NE(0, access("/dev/shm/a/b", F_OK));
	CLI(&self->r, "segment", "show", self->name, "--type", "posix");
	EXPECT_EQ(1, self->r.status);
}

TEST_F(cli, duplicate_and_missing)
{
	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name, "--size",
	    "2M", "--ports", "4", "--requests", "16");
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name, "--size",
	    "2M", "--ports", "4", "--requests", "16");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, self->msg);
	EXPECT_OUT(&self->r, "already exists");
	/* the first segment is untouched */
	CLI(&self->r, "segment", "show", self->name, "--type", "posix");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, "(2097152 bytes)");

	CLI(&self->r, "segment", "destroy", self->name, "--type", "posix");
	EXPECT_EQ(0, self->r.status);
	CLI(&self->r, "segment", "destroy", self->name, "--type", "posix");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, self->msg);
	EXPECT_OUT(&self->r, "no such segment");
}

TEST_F(cli, not_an_xseg_segment)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/%s", self->name);
	fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 1 << 20));
	close(fd);
	CLI(&self->r, "segment", "show", self->name, "--type", "posix");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, "not an xseg segment");
	CLI(&self->r, "segment", "list", "--type", "posix");
	EXPECT_NOT_OUT(&self->r, self->name);
	CLI(&self->r, "segment", "destroy", self->name, "--type", "posix");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, "not an xseg segment");
	EXPECT_EQ(0, access(path, F_OK));
}

/* show reports a live peer's port, its signal type and queue fill; destroy says in use. */
TEST_F(cli, show_live_peer_and_in_use)
{
	struct xseg_request *req;
	struct xseg *x;
	struct xseg_sd *sd;
	char pid[32];

	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name, "--size",
	    "2M", "--ports", "8", "--requests", "32");
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	ASSERT_EQ(0, xseg_join(&xseg_posix_backend, self->name, &x));
	ASSERT_EQ(0, xseg_local_signal_init(x, XSEG_SIGNAL_POLL));
	ASSERT_EQ(0, xseg_get_signal_desc(x, XSEG_SIGNAL_POLL, &sd));
	ASSERT_EQ(3, xseg_bind_port(x, 3, sd));
	ASSERT_EQ(5, xseg_bind_port(x, 5, NULL));
	ASSERT_EQ(0, xseg_get_request(x, 3, 5, &req));
	ASSERT_EQ(0, xseg_prep_request(x, req, 4, 8192));
	ASSERT_EQ(5, xseg_submit(x, req));

	CLI(&self->r, "segment", "show", self->name, "--type", "posix");
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	EXPECT_OUT(&self->r, pid);
	EXPECT_OUT(&self->r, "poll");
	EXPECT_OUT(&self->r, "ports:         8 (2 bound)");
	EXPECT_OUT(&self->r, "submitted 1");
	EXPECT_OUT(&self->r, "used 12.0 KiB");	/* 8192 + 4 rounded up to units */
	EXPECT_OUT(&self->r, "1 signal types registered");

	CLI(&self->r, "segment", "destroy", self->name, "--type", "posix");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, self->msg);
	EXPECT_OUT(&self->r, "in use");
	EXPECT_EQ(0, xseg_leave_port(x, 5));
	EXPECT_EQ(0, xseg_leave_port(x, 3));
	EXPECT_EQ(0, xseg_put_signal_desc(sd));
	EXPECT_EQ(0, xseg_local_signal_quit(x, XSEG_SIGNAL_POLL));
	xseg_leave(x);
	CLI(&self->r, "segment", "destroy", self->name, "--type", "posix");
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
}

TEST_F(cli, force_destroys_a_segment_in_use)
{
	struct xseg *x;

	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name, "--size",
	    "2M", "--ports", "4", "--requests", "16");
	ASSERT_EQ(0, self->r.status);
	ASSERT_EQ(0, xseg_join(&xseg_posix_backend, self->name, &x));
	ASSERT_EQ(1, xseg_bind_port(x, 1, NULL));
	CLI(&self->r, "segment", "destroy", self->name, "--type", "posix", "--force");
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	xseg_leave(x);
}

TEST_F(cli, permission_denied)
{
	if (geteuid() != 0)
		SKIP(return, "needs root to drop to uid %d", NOBODY);
	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name, "--size",
	    "2M", "--ports", "4", "--requests", "16", "--mode", "0600");
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	CLI_AS(&self->r, NOBODY, "segment", "show", self->name, "--type", "posix");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, self->msg);
	EXPECT_OUT(&self->r, "permission denied");
	CLI_AS(&self->r, NOBODY, "segment", "destroy", self->name, "--type", "posix", "--force");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, "permission denied");
	/* --owner is for root only */
	CLI_AS(&self->r, NOBODY, "segment", "create", "--type", "posix", "--name", "xseg-cli-o",
	       "--size", "2M", "--owner", "root");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, "permission denied");
	EXPECT_NE(0, access("/dev/shm/xseg-cli-o", F_OK));
	CLI(&self->r, "segment", "show", self->name, "--type", "posix");
	EXPECT_EQ(0, self->r.status);
}

TEST_F(cli, owner_and_mode)
{
	struct stat st;
	char path[128];

	if (geteuid() != 0)
		SKIP(return, "--owner needs root");
	CLI(&self->r, "segment", "create", "--type", "posix", "--name", self->name, "--size",
	    "2M", "--ports", "4", "--requests", "16", "--mode", "0640", "--owner", "65534:0");
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	snprintf(path, sizeof(path), "/dev/shm/%s", self->name);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(NOBODY, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
	EXPECT_EQ(0640, st.st_mode & 0777);
	/* the owner may look at it and destroy it */
	CLI_AS(&self->r, NOBODY, "segment", "show", self->name, "--type", "posix");
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	EXPECT_OUT(&self->r, "mode 0640");
	CLI_AS(&self->r, NOBODY, "segment", "list", "--type", "posix");
	EXPECT_OUT(&self->r, self->name);
	CLI_AS(&self->r, NOBODY, "segment", "destroy", self->name, "--type", "posix");
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
}

/* ---- map / unmap / devices against a fake xsegbd sysfs bus (regular files) ---------- */

static void cli_put(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

static void cli_get(const char *dir, const char *file, char *buf, size_t len)
{
	char path[PATH_MAX];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* bus/devices/3: segment s1, server port 3, own ports 4 5, target vol0, 2 GiB */
static int cli_fake_bus(char *bus, size_t len, char *devdir, size_t dlen)
{
	char d3[PATH_MAX];

	snprintf(bus, len, "/tmp/xseg-cli-bus-%d", (int)getpid());
	snprintf(devdir, dlen, "%s/dev", bus);
	snprintf(d3, sizeof(d3), "%s/devices/3", bus);
	if (mkdir(bus, 0700) || mkdir(devdir, 0700))
		return -1;
	snprintf(d3, sizeof(d3), "%s/devices", bus);
	if (mkdir(d3, 0700))
		return -1;
	strcat(d3, "/3");
	if (mkdir(d3, 0700))
		return -1;
	cli_put(bus, "add", "");
	cli_put(bus, "remove", "");
	cli_put(bus, "last_added", "3\n");
	cli_put(d3, "segment", "s1\n");
	cli_put(d3, "port", "3\n");
	cli_put(d3, "ports", "4 5\n");
	cli_put(d3, "target", "vol0\n");
	cli_put(d3, "size", "2147483648\n");
	cli_put(d3, "state", "running\n");
	cli_put(d3, "major", "7\n");
	cli_put(d3, "minor", "250\n");
	setenv("XSEG_XSEGBD_SYSFS", bus, 1);
	setenv("XSEG_XSEGBD_DEV", devdir, 1);
	return 0;
}

static void cli_rm_bus(const char *bus)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bus);
	if (system(cmd))
		return;
	unsetenv("XSEG_XSEGBD_SYSFS");
	unsetenv("XSEG_XSEGBD_DEV");
}

TEST_F(cli, blockdev_verbs)
{
	char bus[PATH_MAX - 64], devdir[PATH_MAX - 32], node[PATH_MAX], buf[256];

	ASSERT_EQ(0, cli_fake_bus(bus, sizeof(bus), devdir, sizeof(devdir)));
	snprintf(node, sizeof(node), "%s/xsegbd3", devdir);
	if (mknod(node, S_IFBLK | 0600, makedev(7, 250))) {
		cli_rm_bus(bus);
		SKIP(return, "cannot mknod a block device node here");
	}

	/* map writes one add line and prints the node of the matching device */
	CLI(&self->r, "map", "--segment", "s1", "--port", "3", "--queues", "2", "--depth", "8",
	    "--recovery-window", "0", "vol0");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, node);
	cli_get(bus, "add", buf, sizeof(buf));
	EXPECT_STREQ("segment=s1 port=3 target=vol0 queues=2 depth=8 recovery_window=0", buf);

	/* last_added names another device: found by its attributes instead */
	cli_put(bus, "last_added", "7\n");
	cli_put(bus, "add", "");
	CLI(&self->r, "map", "--segment", "s1", "--port", "3", "vol0");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, node);
	cli_get(bus, "add", buf, sizeof(buf));
	EXPECT_STREQ("segment=s1 port=3 target=vol0", buf);

	/* added, but no device matches: an error, not a wrong device */
	CLI(&self->r, "map", "--segment", "s1", "--port", "4", "vol0");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, "cannot be found");

	CLI(&self->r, "devices");
	EXPECT_EQ(0, self->r.status);
	EXPECT_OUT(&self->r, "DEVICE");
	EXPECT_OUT(&self->r, node);
	EXPECT_OUT(&self->r, " s1 ");
	EXPECT_OUT(&self->r, "4,5");
	EXPECT_OUT(&self->r, "vol0");
	EXPECT_OUT(&self->r, "2G");
	EXPECT_OUT(&self->r, "running");

	CLI(&self->r, "unmap", node);
	EXPECT_EQ(0, self->r.status);
	cli_get(bus, "remove", buf, sizeof(buf));
	EXPECT_STREQ("3", buf);
	cli_put(bus, "remove", "");
	CLI(&self->r, "unmap", "--force", "xsegbd3");
	EXPECT_EQ(0, self->r.status);
	cli_get(bus, "remove", buf, sizeof(buf));
	EXPECT_STREQ("3 force", buf);
	CLI(&self->r, "unmap", "9");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, "xsegbd9: no such device");

	/* usage errors: exit 2, nothing written */
	cli_put(bus, "add", "");
	CLI(&self->r, "map", "--segment", "s1", "vol0");
	EXPECT_EQ(2, self->r.status);
	EXPECT_OUT(&self->r, "missing --port");
	CLI(&self->r, "map", "--segment", "s1", "--port", "3", "a/b");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "map", "--segment", "s1", "--port", "3", "--queues", "0", "v");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "map", "--segment", "s 1", "--port", "3", "v");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "map", "--port", "3", "v");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "unmap", "sda");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "unmap", "/dev/null");	/* not a block device: by name */
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "unmap");
	EXPECT_EQ(2, self->r.status);
	CLI(&self->r, "devices", "extra");
	EXPECT_EQ(2, self->r.status);
	cli_get(bus, "add", buf, sizeof(buf));
	EXPECT_STREQ("", buf);

	/* xsegbd not loaded */
	cli_rm_bus(bus);
	setenv("XSEG_XSEGBD_SYSFS", bus, 1);
	CLI(&self->r, "devices");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, "xsegbd is not loaded");
	CLI(&self->r, "map", "--segment", "s1", "--port", "3", "vol0");
	EXPECT_EQ(1, self->r.status);
	EXPECT_OUT(&self->r, "xsegbd is not loaded");
	unsetenv("XSEG_XSEGBD_SYSFS");
}

TEST_HARNESS_MAIN
