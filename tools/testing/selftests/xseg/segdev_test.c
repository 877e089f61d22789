// SPDX-License-Identifier: GPL-2.0
/*
 * segdev.ko userspace ABI tests: segments, mmap, permissions, lifetime, doorbells, waiters.
 *
 * Needs /dev/segdev (loads segdev.ko with modprobe, or insmod from $XSEG_MODDIR, if it is
 * missing) and root for the permission tests, which drop to uid/gid 65534 in a child.
 *
 * "segdev_test ctl ..." is a small control tool for the shell tests (segdev_module.sh);
 * see ctl_usage().
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/loop.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uapi/xseg/segdev.h>

#include "kselftest_harness.h"

#define NOBODY		65534
#define MAX_NAMES	16

static_assert(sizeof(struct segdev_create) == 112, "segdev_create layout");
static_assert(sizeof(struct segdev_info) == 168, "segdev_info layout");
static_assert(sizeof(struct segdev_list) == 40, "segdev_list layout");
static_assert(sizeof(struct segdev_waiter) == 16, "segdev_waiter layout");

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int sd_open(void)
{
	return open(SEGDEV_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

/* Opens /dev/segdev, loading segdev.ko first if the node is missing. */
static int sd_open_load(void)
{
	const char *moddir = getenv("XSEG_MODDIR");
	char cmd[512];

	if (access(SEGDEV_DEVICE_PATH, F_OK) && geteuid() == 0) {
		if (system("modprobe segdev 2>/dev/null") != 0 && moddir) {
			snprintf(cmd, sizeof(cmd), "insmod %s/segdev.ko", moddir);
			if (system(cmd) != 0)
				fprintf(stderr, "cannot load segdev.ko\n");
		}
	}
	return sd_open();
}

/* Each helper returns 0 or -errno. */
static int sd_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int sd_create(int fd, const char *name, uint64_t size, unsigned int mode)
{
	struct segdev_create c = { .size = sizeof(c), .seg_size = size, .mode = mode };

	snprintf(c.name, sizeof(c.name), "%s", name);
	return sd_ioctl(fd, SEGDEV_IOC_CREATE, &c);
}

static int sd_create_owned(int fd, const char *name, uint64_t size, unsigned int mode,
			   uid_t uid, gid_t gid)
{
	struct segdev_create c = {
		.size = sizeof(c), .flags = SEGDEV_CREATE_OWNER, .seg_size = size,
		.mode = mode, .uid = uid, .gid = gid,
	};

	snprintf(c.name, sizeof(c.name), "%s", name);
	return sd_ioctl(fd, SEGDEV_IOC_CREATE, &c);
}

static int sd_attach(int fd, const char *name)
{
	struct segdev_attach a = { .size = sizeof(a) };

	snprintf(a.name, sizeof(a.name), "%s", name);
	return sd_ioctl(fd, SEGDEV_IOC_ATTACH, &a);
}

static int sd_detach(int fd)
{
	struct segdev_detach d = { .size = sizeof(d) };

	return sd_ioctl(fd, SEGDEV_IOC_DETACH, &d);
}

static int sd_destroy(int fd, const char *name, unsigned int flags)
{
	struct segdev_destroy d = { .size = sizeof(d), .flags = flags };

	snprintf(d.name, sizeof(d.name), "%s", name);
	return sd_ioctl(fd, SEGDEV_IOC_DESTROY, &d);
}

static int sd_info_name(int fd, const char *name, struct segdev_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->flags = SEGDEV_INFO_BY_NAME;
	snprintf(info->name, sizeof(info->name), "%s", name);
	return sd_ioctl(fd, SEGDEV_IOC_INFO, info);
}

static int sd_info_fd(int fd, struct segdev_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return sd_ioctl(fd, SEGDEV_IOC_INFO, info);
}

static int sd_ring(int fd, uint32_t port)
{
	struct segdev_doorbell d = { .size = sizeof(d), .port = port };

	return sd_ioctl(fd, SEGDEV_IOC_DOORBELL, &d);
}

static int sd_waiter(int fd, uint32_t port, int reg)
{
	struct segdev_waiter w = { .size = sizeof(w), .port = port };

	return sd_ioctl(fd, reg ? SEGDEV_IOC_REGISTER_WAITER : SEGDEV_IOC_UNREGISTER_WAITER, &w);
}

static void *sd_map(int fd, size_t len, int flags, off_t off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, off);
}

/* Runs @fn in a child with uid/gid 65534 and no supplementary groups; returns its status. */
static int run_as_nobody(int (*fn)(const char *name), const char *name)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1000;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(200);
		_exit(fn(name));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1001;
	return WEXITSTATUS(status);
}

/* Names a test created; destroyed (deferred) at teardown. */
struct name_table {
	int n;
	char names[MAX_NAMES][SEGDEV_NAME_LEN];
};

FIXTURE(segdev) {
	int fd;
	struct name_table tab;
};

/* A name unique to this test process, recorded in @t. */
static const char *test_name(struct name_table *t, const char *suffix)
{
	char *name = t->names[t->n];

	if (t->n == MAX_NAMES - 1)
		return "name-table-full";
	snprintf(name, SEGDEV_NAME_LEN, "sdt-%d-%s", getpid(), suffix);
	t->n++;
	return name;
}

FIXTURE_SETUP(segdev)
{
	self->tab.n = 0;
	self->fd = sd_open_load();
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, SEGDEV_DEVICE_PATH " missing (segdev.ko not loaded)");
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(segdev)
{
	int i;

	for (i = 0; i < self->tab.n; i++)
		sd_destroy(self->fd, self->tab.names[i], SEGDEV_DESTROY_DEFERRED);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(segdev, create_attach_mmap_shared)
{
	const char *name = test_name(&self->tab, "share");
	size_t size = 3 * page_size() + 100, map_size = 4 * page_size(), i;
	struct segdev_info info;
	unsigned char *a, *b;
	int fd2;

	ASSERT_EQ(0, sd_create(self->fd, name, size, 0600));
	ASSERT_EQ(0, sd_attach(self->fd, name));
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(size, info.seg_size);
	EXPECT_EQ(map_size, info.map_size);
	EXPECT_EQ(getuid(), info.uid);
	EXPECT_EQ(getgid(), info.gid);
	EXPECT_EQ(0600, info.mode);
	EXPECT_EQ(1, info.nr_attached);
	EXPECT_EQ(0, info.state);
	EXPECT_STREQ(name, info.name);

	a = sd_map(self->fd, map_size, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, a);
	for (i = 0; i < map_size; i++)
		ASSERT_EQ(0, a[i]);	/* zero-filled at creation */
	for (i = 0; i < map_size; i++)
		a[i] = (unsigned char)(i * 7 + 3);

	fd2 = sd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, sd_attach(fd2, name));
	b = sd_map(fd2, map_size, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_NE(a, b);
	ASSERT_EQ(0, memcmp(a, b, map_size));
	b[map_size - 1] = 0x5a;
	ASSERT_EQ(0x5a, a[map_size - 1]);

	ASSERT_EQ(0, sd_info_name(self->fd, name, &info));
	EXPECT_EQ(2, info.nr_attached);
	EXPECT_EQ(2, info.nr_mappings);
	ASSERT_EQ(0, munmap(a, map_size));
	ASSERT_EQ(0, munmap(b, map_size));
	close(fd2);
	ASSERT_EQ(0, sd_info_name(self->fd, name, &info));
	EXPECT_EQ(1, info.nr_attached);
	EXPECT_EQ(0, info.nr_mappings);
}

TEST_F(segdev, mmap_checks)
{
	const char *name = test_name(&self->tab, "mmapchk");
	size_t map_size = 2 * page_size();
	void *p;

	ASSERT_EQ(0, sd_create(self->fd, name, map_size, 0600));
	/* Not attached. */
	p = sd_map(self->fd, map_size, MAP_SHARED, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(ENOTCONN, errno);

	ASSERT_EQ(0, sd_attach(self->fd, name));
	p = sd_map(self->fd, map_size, MAP_PRIVATE, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = sd_map(self->fd, page_size(), MAP_SHARED, page_size());
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = sd_map(self->fd, map_size + page_size(), MAP_SHARED, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);

	/* A shorter shared mapping at offset 0 is fine. */
	p = sd_map(self->fd, page_size(), MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p, page_size()));

	/* The mapping cannot grow past its VMA (VM_DONTEXPAND). */
	p = sd_map(self->fd, page_size(), MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(MAP_FAILED, mremap(p, page_size(), map_size, MREMAP_MAYMOVE));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, munmap(p, page_size()));
}

TEST_F(segdev, attach_state_errors)
{
	const char *name = test_name(&self->tab, "state");
	struct segdev_info info;
	int rdonly;

	ASSERT_EQ(-ENOTCONN, sd_detach(self->fd));
	ASSERT_EQ(-ENOTCONN, sd_info_fd(self->fd, &info));
	ASSERT_EQ(-ENOTCONN, sd_ring(self->fd, 0));
	ASSERT_EQ(-ENOTCONN, sd_waiter(self->fd, 0, 1));
	ASSERT_EQ(-ENOENT, sd_attach(self->fd, name));
	ASSERT_EQ(-ENOENT, sd_info_name(self->fd, name, &info));
	ASSERT_EQ(-ENOENT, sd_destroy(self->fd, name, 0));

	ASSERT_EQ(0, sd_create(self->fd, name, 4096, 0600));
	ASSERT_EQ(0, sd_attach(self->fd, name));
	ASSERT_EQ(-EBUSY, sd_attach(self->fd, name));
	ASSERT_EQ(0, sd_detach(self->fd));
	ASSERT_EQ(-ENOTCONN, sd_detach(self->fd));
	ASSERT_EQ(0, sd_attach(self->fd, name));

	rdonly = open(SEGDEV_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rdonly);
	ASSERT_EQ(-EBADF, sd_attach(rdonly, name));
	close(rdonly);
}

TEST_F(segdev, invalid_arguments)
{
	const char *name = test_name(&self->tab, "inval");
	struct segdev_create c = { .size = sizeof(c), .seg_size = 4096, .mode = 0600 };
	struct segdev_attach a = { .size = sizeof(a) };
	struct segdev_destroy d = { .size = sizeof(d) };
	struct segdev_detach dt = { .size = sizeof(dt) };
	struct segdev_info info;
	struct segdev_list l = { .size = sizeof(l) };
	struct segdev_doorbell db = { .size = sizeof(db) };
	struct segdev_waiter w = { .size = sizeof(w) };

	snprintf(c.name, sizeof(c.name), "%s", name);
	c.flags = 1U << 31;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	c.flags = 0;
	c.reserved[1] = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	c.reserved[1] = 0;
	c.reserved0 = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	c.reserved0 = 0;
	c.size = sizeof(c) - 8;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	c.size = sizeof(c);
	c.uid = 5;	/* uid without SEGDEV_CREATE_OWNER */
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	c.uid = 0;
	c.mode = 01777;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	c.mode = 0600;
	c.seg_size = 0;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	c.seg_size = 1ULL << 50;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	c.seg_size = 4096;
	/* Nothing was created by the refused calls. */
	ASSERT_EQ(-ENOENT, sd_info_name(self->fd, name, &info));
	ASSERT_EQ(0, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));

	snprintf(a.name, sizeof(a.name), "%s", name);
	a.flags = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_ATTACH, &a));
	a.flags = 0;
	a.reserved[0] = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_ATTACH, &a));
	a.reserved[0] = 0;
	ASSERT_EQ(0, sd_ioctl(self->fd, SEGDEV_IOC_ATTACH, &a));

	db.flags = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_DOORBELL, &db));
	db.flags = 0;
	db.reserved = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_DOORBELL, &db));
	w.flags = 2;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_REGISTER_WAITER, &w));
	w.flags = 0;
	w.signo = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_UNREGISTER_WAITER, &w));
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_REGISTER_WAITER, &w));
	w.flags = SEGDEV_WAITER_SIGNO;
	w.signo = 9;	/* SIGKILL: only real-time signals */
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_REGISTER_WAITER, &w));
	w.flags = 0;
	w.signo = 0;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = 1U << 7;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_INFO, &info));
	info.flags = 0;
	info.reserved[3] = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_INFO, &info));

	l.flags = 4;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_LIST, &l));
	l.flags = 0;
	l.reserved0 = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_LIST, &l));
	l.reserved0 = 0;
	l.count = 1;	/* no buffer */
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_LIST, &l));

	dt.reserved = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_DETACH, &dt));

	snprintf(d.name, sizeof(d.name), "%s", name);
	d.flags = 2;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_DESTROY, &d));
	d.flags = 0;
	d.reserved = 1;
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_DESTROY, &d));

	/* Still attached: none of the refused calls changed anything. */
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(0, info.doorbell_rings);
	EXPECT_EQ(0, info.nr_waiters);
	ASSERT_EQ(-ENOTTY, sd_ioctl(self->fd, _IO(SEGDEV_IOC_MAGIC, 0x7f), NULL));
}

TEST_F(segdev, names)
{
	struct segdev_create c = { .size = sizeof(c), .seg_size = 4096, .mode = 0600 };
	char longest[SEGDEV_NAME_LEN];
	const char *name = test_name(&self->tab, "dup");

	/* SEGDEV_NAME_LEN characters: no room for the NUL. */
	memset(c.name, 'x', sizeof(c.name));
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	memset(c.name, 0, sizeof(c.name));
	ASSERT_EQ(-EINVAL, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	ASSERT_EQ(-EINVAL, sd_create(self->fd, "a/b", 4096, 0600));
	ASSERT_EQ(-EINVAL, sd_create(self->fd, "a b", 4096, 0600));
	ASSERT_EQ(-EINVAL, sd_create(self->fd, "a\nb", 4096, 0600));

	/* SEGDEV_NAME_LEN - 1 characters is the longest name. */
	snprintf(longest, sizeof(longest), "sdt-%d-", getpid());
	memset(longest + strlen(longest), 'L', sizeof(longest) - 1 - strlen(longest));
	longest[sizeof(longest) - 1] = '\0';
	ASSERT_EQ(0, sd_create(self->fd, longest, 4096, 0600));
	ASSERT_EQ(0, sd_destroy(self->fd, longest, 0));

	ASSERT_EQ(0, sd_create(self->fd, name, 4096, 0600));
	ASSERT_EQ(-EEXIST, sd_create(self->fd, name, 8192, 0644));
}

TEST_F(segdev, destroy_busy_and_deferred)
{
	const char *name = test_name(&self->tab, "busy");
	size_t len = page_size();
	struct segdev_info info;
	unsigned char *p;
	int fd2;

	ASSERT_EQ(0, sd_create(self->fd, name, len, 0600));
	fd2 = sd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, sd_attach(fd2, name));
	ASSERT_EQ(-EBUSY, sd_destroy(self->fd, name, 0));
	p = sd_map(fd2, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, sd_detach(fd2));
	/* Only the mapping holds it now: still busy. */
	ASSERT_EQ(-EBUSY, sd_destroy(self->fd, name, 0));
	memset(p, 0xab, len);

	ASSERT_EQ(0, sd_destroy(self->fd, name, SEGDEV_DESTROY_DEFERRED));
	ASSERT_EQ(-ENOENT, sd_info_name(self->fd, name, &info));
	ASSERT_EQ(-ENOENT, sd_attach(fd2, name));
	/* The old memory lives on for the mapping; the name is free for a new segment. */
	ASSERT_EQ(0xab, p[len - 1]);
	p[0] = 0xcd;
	ASSERT_EQ(0, sd_create(self->fd, name, len, 0600));
	ASSERT_EQ(0, sd_attach(fd2, name));
	ASSERT_EQ(0, sd_info_fd(fd2, &info));
	EXPECT_EQ(1, info.nr_attached);
	EXPECT_EQ(0, info.nr_mappings);
	EXPECT_EQ(0, info.state & SEGDEV_STATE_DESTROYED);
	ASSERT_EQ(0, munmap(p, len));
	close(fd2);
	ASSERT_EQ(0, sd_destroy(self->fd, name, 0));
}

TEST_F(segdev, mmap_survives_close)
{
	const char *name = test_name(&self->tab, "survive");
	size_t len = 2 * page_size();
	struct segdev_info info;
	unsigned char *p, *q;
	int fd2;

	fd2 = sd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, sd_create(fd2, name, len, 0600));
	ASSERT_EQ(0, sd_attach(fd2, name));
	p = sd_map(fd2, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, close(fd2));
	memset(p, 0x11, len);

	ASSERT_EQ(0, sd_info_name(self->fd, name, &info));
	EXPECT_EQ(1, info.nr_mappings);
	ASSERT_EQ(-EBUSY, sd_destroy(self->fd, name, 0));

	ASSERT_EQ(0, sd_attach(self->fd, name));
	q = sd_map(self->fd, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0x11, q[len - 1]);
	ASSERT_EQ(0, munmap(q, len));
	ASSERT_EQ(0, sd_detach(self->fd));

	/* Splitting the VMA takes a reference per piece (vm_ops->open). */
	ASSERT_EQ(0, munmap(p, page_size()));
	ASSERT_EQ(0, sd_info_name(self->fd, name, &info));
	EXPECT_EQ(1, info.nr_mappings);
	EXPECT_EQ(0x11, p[len - 1]);
	ASSERT_EQ(0, munmap(p + page_size(), page_size()));
	ASSERT_EQ(0, sd_info_name(self->fd, name, &info));
	EXPECT_EQ(0, info.nr_mappings);
	EXPECT_EQ(0, info.nr_attached);
	ASSERT_EQ(0, sd_destroy(self->fd, name, 0));
}

TEST_F(segdev, mapping_split_and_fork)
{
	const char *name = test_name(&self->tab, "split");
	size_t len = 4 * page_size();
	struct segdev_info info;
	int status, pipefd[2];
	unsigned char *p;
	pid_t pid;
	char c;

	ASSERT_EQ(0, sd_create(self->fd, name, len, 0600));
	ASSERT_EQ(0, sd_attach(self->fd, name));
	p = sd_map(self->fd, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* Punch a hole: two VMAs. */
	ASSERT_EQ(0, munmap(p + page_size(), page_size()));
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(2, info.nr_mappings);

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pipefd[1]);
		p[0] = 0x42;	/* shared: the parent sees it */
		if (read(pipefd[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(pipefd[0]);
	while (p[0] != 0x42)
		usleep(1000);
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(4, info.nr_mappings);	/* the child's copies */
	EXPECT_EQ(1, info.nr_attached);	/* an fd shared by fork is one attachment */
	ASSERT_EQ(1, write(pipefd[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	close(pipefd[1]);
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(2, info.nr_mappings);
	ASSERT_EQ(0, munmap(p, page_size()));
	ASSERT_EQ(0, munmap(p + 2 * page_size(), 2 * page_size()));
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(0, info.nr_mappings);
}

TEST_F(segdev, several_segments)
{
	enum { NSEG = 8 };
	unsigned char *maps[NSEG];
	const char *names[NSEG];
	int fds[NSEG], i, j;
	size_t len = page_size();
	char suffix[16];

	for (i = 0; i < NSEG; i++) {
		snprintf(suffix, sizeof(suffix), "multi%d", i);
		names[i] = test_name(&self->tab, suffix);
		ASSERT_EQ(0, sd_create(self->fd, names[i], len * (i + 1), 0600));
		fds[i] = sd_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, sd_attach(fds[i], names[i]));
		maps[i] = sd_map(fds[i], len * (i + 1), MAP_SHARED, 0);
		ASSERT_NE(MAP_FAILED, maps[i]);
		memset(maps[i], i + 1, len * (i + 1));
	}
	for (i = 0; i < NSEG; i++) {
		struct segdev_info info;

		ASSERT_EQ(0, sd_info_fd(fds[i], &info));
		EXPECT_EQ(len * (i + 1), info.seg_size);
		EXPECT_STREQ(names[i], info.name);
		for (j = 0; j < (int)(len * (i + 1)); j++)
			ASSERT_EQ(i + 1, maps[i][j]);
		ASSERT_EQ(0, munmap(maps[i], len * (i + 1)));
		close(fds[i]);
		ASSERT_EQ(0, sd_destroy(self->fd, names[i], 0));
	}
}

TEST_F(segdev, list)
{
	char (*names)[SEGDEV_NAME_LEN];
	struct segdev_list l = { .size = sizeof(l) };
	const char *mine[3];
	uint32_t total, i, k;
	int found;

	mine[0] = test_name(&self->tab, "list0");
	mine[1] = test_name(&self->tab, "list1");
	mine[2] = test_name(&self->tab, "list2");
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, sd_create(self->fd, mine[i], 4096, 0600));

	ASSERT_EQ(0, sd_ioctl(self->fd, SEGDEV_IOC_LIST, &l));
	total = l.count;
	ASSERT_LE(3, total);

	names = calloc(total + 2, SEGDEV_NAME_LEN);
	ASSERT_NE(NULL, names);
	/* Too small a buffer: one name written, the total reported. */
	memset(names, '#', (total + 2) * SEGDEV_NAME_LEN);
	l.count = 1;
	l.names = (uintptr_t)names;
	ASSERT_EQ(0, sd_ioctl(self->fd, SEGDEV_IOC_LIST, &l));
	EXPECT_EQ(total, l.count);
	EXPECT_NE('#', names[0][0]);
	EXPECT_EQ('#', names[1][0]);

	l.count = total + 2;
	ASSERT_EQ(0, sd_ioctl(self->fd, SEGDEV_IOC_LIST, &l));
	ASSERT_EQ(total, l.count);
	EXPECT_EQ('#', names[total][0]);
	for (k = 0; k < 3; k++) {
		found = 0;
		for (i = 0; i < total; i++)
			found += !strcmp(names[i], mine[k]);
		EXPECT_EQ(1, found);
	}

	ASSERT_EQ(0, sd_destroy(self->fd, mine[1], 0));
	l.count = total + 2;
	ASSERT_EQ(0, sd_ioctl(self->fd, SEGDEV_IOC_LIST, &l));
	ASSERT_EQ(total - 1, l.count);
	for (i = 0; i < l.count; i++)
		EXPECT_NE(0, strcmp(names[i], mine[1]));
	free(names);
}

TEST_F(segdev, doorbell_counters)
{
	const char *name = test_name(&self->tab, "bell");
	uint32_t ports[3] = { 1, 2, 0xffffffff };
	struct segdev_info info;
	void *bad;

	ASSERT_EQ(0, sd_create(self->fd, name, 4096, 0600));
	ASSERT_EQ(-1, write(self->fd, ports, sizeof(ports)));
	ASSERT_EQ(ENOTCONN, errno);
	ASSERT_EQ(0, sd_attach(self->fd, name));
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(0, sd_ring(self->fd, i));
	ASSERT_EQ(sizeof(ports), write(self->fd, ports, sizeof(ports)));
	/* A trailing partial port is not consumed; less than one port is refused. */
	ASSERT_EQ(4, write(self->fd, ports, 6));
	ASSERT_EQ(-1, write(self->fd, ports, 3));
	ASSERT_EQ(EINVAL, errno);
	bad = mmap(NULL, page_size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(-1, write(self->fd, bad, 4));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, munmap(bad, page_size()));

	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(9, info.doorbell_rings);
	EXPECT_EQ(0, info.doorbell_handled);	/* no kernel handler */
	EXPECT_EQ(0, info.state & SEGDEV_STATE_HANDLER);
}

static void *register_and_exit(void *arg)
{
	int fd = *(int *)arg;

	return (void *)(intptr_t)sd_waiter(fd, 7, 1);
}

TEST_F(segdev, waiters)
{
	const char *name = test_name(&self->tab, "wait");
	struct segdev_info info;
	pthread_t thread;
	void *ret;
	int fd2;

	ASSERT_EQ(0, sd_create(self->fd, name, 4096, 0600));
	ASSERT_EQ(0, sd_attach(self->fd, name));
	fd2 = sd_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, sd_attach(fd2, name));

	ASSERT_EQ(0, sd_waiter(self->fd, 3, 1));
	ASSERT_EQ(0, sd_waiter(self->fd, 3, 1));	/* same thread, same fd: no-op */
	ASSERT_EQ(0, sd_waiter(self->fd, 4, 1));
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(2, info.nr_waiters);
	/* Port 3 is held by a live thread through another fd. */
	ASSERT_EQ(-EBUSY, sd_waiter(fd2, 3, 1));
	ASSERT_EQ(-ENOENT, sd_waiter(fd2, 3, 0));
	ASSERT_EQ(0, sd_waiter(self->fd, 3, 0));
	ASSERT_EQ(-ENOENT, sd_waiter(self->fd, 3, 0));
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(1, info.nr_waiters);

	/* A registration whose thread has exited is replaced. */
	ASSERT_EQ(0, pthread_create(&thread, NULL, register_and_exit, &fd2));
	ASSERT_EQ(0, pthread_join(thread, &ret));
	ASSERT_EQ(0, (intptr_t)ret);
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(2, info.nr_waiters);
	ASSERT_EQ(0, sd_waiter(self->fd, 7, 1));
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(2, info.nr_waiters);
	/* ... and belongs to the new fd now. */
	ASSERT_EQ(-ENOENT, sd_waiter(fd2, 7, 0));

	/* Close drops the fd's registrations, detach too. */
	ASSERT_EQ(0, sd_waiter(fd2, 9, 1));
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(3, info.nr_waiters);
	close(fd2);
	ASSERT_EQ(0, sd_info_fd(self->fd, &info));
	EXPECT_EQ(2, info.nr_waiters);
	EXPECT_EQ(1, info.nr_attached);
	ASSERT_EQ(0, sd_detach(self->fd));
	ASSERT_EQ(0, sd_info_name(self->fd, name, &info));
	EXPECT_EQ(0, info.nr_waiters);
}

TEST_F(segdev, gup_process_vm)
{
	const char *name = test_name(&self->tab, "gup");
	size_t len = 4 * page_size(), i;
	unsigned char *p, *buf;
	struct iovec local, remote;

	ASSERT_EQ(0, sd_create(self->fd, name, len, 0600));
	ASSERT_EQ(0, sd_attach(self->fd, name));
	p = sd_map(self->fd, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i ^ 0x5c);

	/* process_vm_writev pins the segment pages (remote side) with GUP. */
	local.iov_base = buf;
	local.iov_len = len;
	remote.iov_base = p;
	remote.iov_len = len;
	ASSERT_EQ(len, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_EQ(0, memcmp(p, buf, len));
	memset(buf, 0, len);
	ASSERT_EQ(len, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	ASSERT_EQ(0, memcmp(p, buf, len));
	free(buf);
	ASSERT_EQ(0, munmap(p, len));
}

/* Sets up a loop device over a 1 MiB file in /tmp; returns its O_DIRECT fd or -errno. */
static int loop_setup(char *backing, size_t blen, int *loopfd_ctl)
{
	struct loop_config cfg = { 0 };
	char dev[64];
	int ctl, nr, bfd, lfd;

	snprintf(backing, blen, "/tmp/segdev_test.%d", getpid());
	bfd = open(backing, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (bfd < 0)
		return -errno;
	if (ftruncate(bfd, 1 << 20))
		return -errno;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		close(bfd);
		return -ENODEV;
	}
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -ENODEV;
	snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
	*loopfd_ctl = open(dev, O_RDWR | O_CLOEXEC);
	if (*loopfd_ctl < 0)
		return -ENODEV;
	cfg.fd = bfd;
	cfg.block_size = 4096;
	if (ioctl(*loopfd_ctl, LOOP_CONFIGURE, &cfg))
		return -errno;
	close(bfd);
	lfd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	return lfd < 0 ? -errno : lfd;
}

TEST_F(segdev, gup_odirect_loop)
{
	const char *name = test_name(&self->tab, "odirect");
	size_t len = 8 * page_size(), half = len / 2, i;
	int lfd, ctlfd = -1;
	char backing[64];
	unsigned char *p;

	if (access("/dev/loop-control", F_OK) && system("modprobe loop 2>/dev/null") != 0)
		SKIP(return, "no loop device support");
	lfd = loop_setup(backing, sizeof(backing), &ctlfd);
	if (lfd == -ENODEV)
		SKIP(return, "no free loop device");
	ASSERT_LE(0, lfd);

	ASSERT_EQ(0, sd_create(self->fd, name, len, 0600));
	ASSERT_EQ(0, sd_attach(self->fd, name));
	p = sd_map(self->fd, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < half; i++)
		p[i] = (unsigned char)(i * 13 + 1);

	/* O_DIRECT write from and read into the segment: the block layer pins its pages. */
	ASSERT_EQ(half, pwrite(lfd, p, half, 0));
	ASSERT_EQ(half, pread(lfd, p + half, half, 0));
	ASSERT_EQ(0, memcmp(p, p + half, half));

	ASSERT_EQ(0, munmap(p, len));
	close(lfd);
	ioctl(ctlfd, LOOP_CLR_FD, 0);
	close(ctlfd);
	unlink(backing);
}

static int nobody_attach(const char *name)
{
	int fd = sd_open();

	if (fd < 0)
		return 100;
	return -sd_attach(fd, name);
}

/* Attaching must fail; ringing, registering and mapping then fail too. */
static int nobody_use_unattached(const char *name)
{
	int fd = sd_open();
	uint32_t port = 1;

	if (fd < 0)
		return 100;
	if (sd_attach(fd, name) != -EACCES)
		return 101;
	if (sd_ring(fd, 1) != -ENOTCONN)
		return 102;
	if (write(fd, &port, sizeof(port)) != -1 || errno != ENOTCONN)
		return 103;
	if (sd_waiter(fd, 1, 1) != -ENOTCONN)
		return 104;
	if (sd_map(fd, 4096, MAP_SHARED, 0) != MAP_FAILED)
		return 105;
	return 0;
}

static int nobody_attach_ring(const char *name)
{
	int fd = sd_open();
	int ret;

	if (fd < 0)
		return 100;
	ret = sd_attach(fd, name);
	if (ret)
		return -ret;
	return -sd_ring(fd, 5);
}

static int nobody_destroy(const char *name)
{
	int fd = sd_open();

	if (fd < 0)
		return 100;
	return -sd_destroy(fd, name, SEGDEV_DESTROY_DEFERRED);
}

/* An unprivileged user may create; the owner is its fsuid; it may not pick an owner. */
static int nobody_create(const char *name)
{
	struct segdev_info info;
	int fd = sd_open();
	int ret;

	if (fd < 0)
		return 100;
	if (sd_create_owned(fd, name, 4096, 0600, 0, 0) != -EPERM)
		return 101;
	ret = sd_create(fd, name, 4096, 0600);
	if (ret)
		return -ret;
	if (sd_info_name(fd, name, &info) || info.uid != NOBODY || info.gid != NOBODY)
		return 102;
	return -sd_attach(fd, name);
}

FIXTURE(segdev_perm) {
	int fd;
	char name[SEGDEV_NAME_LEN];
};

FIXTURE_SETUP(segdev_perm)
{
	self->fd = sd_open_load();
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, SEGDEV_DEVICE_PATH " missing (segdev.ko not loaded)");
	ASSERT_LE(0, self->fd);
	if (geteuid() != 0)
		SKIP(return, "permission tests need root");
	snprintf(self->name, sizeof(self->name), "sdt-%d-perm", getpid());
}

FIXTURE_TEARDOWN(segdev_perm)
{
	if (self->fd >= 0) {
		sd_destroy(self->fd, self->name, SEGDEV_DESTROY_DEFERRED);
		close(self->fd);
	}
}

TEST_F(segdev_perm, other_bits)
{
	struct segdev_info info;

	ASSERT_EQ(0, sd_create(self->fd, self->name, 4096, 0600));
	ASSERT_EQ(EACCES, run_as_nobody(nobody_attach, self->name));
	ASSERT_EQ(0, run_as_nobody(nobody_use_unattached, self->name));
	ASSERT_EQ(EPERM, run_as_nobody(nobody_destroy, self->name));
	ASSERT_EQ(0, sd_info_name(self->fd, self->name, &info));
	EXPECT_EQ(0, info.doorbell_rings);
	ASSERT_EQ(0, sd_destroy(self->fd, self->name, 0));

	/* Read-only for others is not enough: attaching is read-write. */
	ASSERT_EQ(0, sd_create(self->fd, self->name, 4096, 0644));
	ASSERT_EQ(EACCES, run_as_nobody(nobody_attach, self->name));
	ASSERT_EQ(0, sd_destroy(self->fd, self->name, 0));

	ASSERT_EQ(0, sd_create(self->fd, self->name, 4096, 0666));
	ASSERT_EQ(0, run_as_nobody(nobody_attach_ring, self->name));
	ASSERT_EQ(0, sd_info_name(self->fd, self->name, &info));
	EXPECT_EQ(1, info.doorbell_rings);
	EXPECT_EQ(0, info.nr_attached);	/* the child's fd is gone */
}

TEST_F(segdev_perm, group_bits)
{
	ASSERT_EQ(0, sd_create_owned(self->fd, self->name, 4096, 0060, 0, NOBODY));
	ASSERT_EQ(0, run_as_nobody(nobody_attach_ring, self->name));
	ASSERT_EQ(0, sd_destroy(self->fd, self->name, 0));
	ASSERT_EQ(0, sd_create_owned(self->fd, self->name, 4096, 0606, 0, NOBODY));
	/* In the owner group: the group bits decide, not the other bits. */
	ASSERT_EQ(EACCES, run_as_nobody(nobody_attach, self->name));
}

TEST_F(segdev_perm, owner_bits)
{
	struct segdev_info info;

	ASSERT_EQ(0, sd_create_owned(self->fd, self->name, 4096, 0600, NOBODY, NOBODY));
	ASSERT_EQ(0, sd_info_name(self->fd, self->name, &info));
	EXPECT_EQ(NOBODY, info.uid);
	EXPECT_EQ(NOBODY, info.gid);
	ASSERT_EQ(0, run_as_nobody(nobody_attach_ring, self->name));
	/* The owner may destroy. */
	ASSERT_EQ(0, run_as_nobody(nobody_destroy, self->name));
	ASSERT_EQ(-ENOENT, sd_info_name(self->fd, self->name, &info));

	ASSERT_EQ(0, sd_create_owned(self->fd, self->name, 4096, 0066, NOBODY, NOBODY));
	/* The owner bits decide for the owner, even when others may. */
	ASSERT_EQ(EACCES, run_as_nobody(nobody_attach, self->name));
	/* CAP_SYS_ADMIN bypasses the mode. */
	ASSERT_EQ(0, sd_attach(self->fd, self->name));
	ASSERT_EQ(0, sd_detach(self->fd));
}

TEST_F(segdev_perm, unprivileged_create)
{
	struct segdev_info info;

	ASSERT_EQ(0, run_as_nobody(nobody_create, self->name));
	ASSERT_EQ(0, sd_info_name(self->fd, self->name, &info));
	EXPECT_EQ(NOBODY, info.uid);
	EXPECT_EQ(0600, info.mode);
}

static int ctl_usage(void)
{
	fprintf(stderr,
		"usage: segdev_test ctl create NAME SIZE MODE\n"
		"       segdev_test ctl destroy NAME [deferred]\n"
		"       segdev_test ctl touch NAME    attach, map, write every page, register a\n"
		"                                     waiter and ring, then exit\n"
		"       segdev_test ctl hold NAME     attach, map, close the fd, print \"held\",\n"
		"                                     then keep the mapping until killed\n"
		"       segdev_test ctl churn PREFIX COUNT SIZE\n"
		"                                     create COUNT segments, touch each, check\n"
		"                                     that each pins the module, destroy them\n");
	return 2;
}

static int ctl_fail(const char *what, const char *name, int err)
{
	fprintf(stderr, "segdev_test ctl: %s %s: %s\n", what, name, strerror(-err));
	return 1;
}

/* Attaches @fd to @name and maps the whole segment. */
static unsigned char *ctl_map(int fd, const char *name, size_t *len)
{
	struct segdev_info info;
	unsigned char *p;
	int ret;

	ret = sd_attach(fd, name);
	if (!ret)
		ret = sd_info_fd(fd, &info);
	if (ret) {
		ctl_fail("attach", name, ret);
		return NULL;
	}
	p = sd_map(fd, info.map_size, MAP_SHARED, 0);
	if (p == MAP_FAILED) {
		ctl_fail("mmap", name, -errno);
		return NULL;
	}
	*len = info.map_size;
	return p;
}

static int module_refcnt(void)
{
	FILE *f = fopen("/sys/module/segdev/refcnt", "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Attaches @fd to @name, writes every page, registers a waiter, rings, detaches. */
static int ctl_touch(int fd, const char *name)
{
	unsigned char *p;
	size_t len, i;
	int ret;

	p = ctl_map(fd, name, &len);
	if (!p)
		return 1;
	for (i = 0; i < len; i += page_size())
		p[i] = (unsigned char)i;
	ret = sd_waiter(fd, 1, 1);
	if (!ret)
		ret = sd_ring(fd, 1);
	munmap(p, len);
	if (!ret)
		ret = sd_detach(fd);
	return ret ? ctl_fail("waiter/ring/detach", name, ret) : 0;
}

/* One load cycle's worth of segments, in one process (process creation is slow in TCG). */
static int ctl_churn(int fd, const char *prefix, int count, uint64_t size)
{
	char name[SEGDEV_NAME_LEN];
	int i, ret, base = module_refcnt();

	for (i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "%s-%d", prefix, i);
		ret = sd_create(fd, name, size, 0600);
		if (ret)
			return ctl_fail("create", name, ret);
		if (ctl_touch(fd, name))
			return 1;
	}
	/* Each segment holds one module reference (besides this open file's). */
	if (module_refcnt() != base + count) {
		fprintf(stderr, "segdev refcnt %d, expected %d\n", module_refcnt(), base + count);
		return 1;
	}
	for (i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "%s-%d", prefix, i);
		ret = sd_destroy(fd, name, 0);
		if (ret)
			return ctl_fail("destroy", name, ret);
	}
	if (module_refcnt() != base) {
		fprintf(stderr, "segdev refcnt %d after destroy, expected %d\n", module_refcnt(),
			base);
		return 1;
	}
	return 0;
}

static int ctl_main(int argc, char **argv)
{
	unsigned char *p;
	size_t len;
	int fd, ret;

	if (argc < 2)
		return ctl_usage();
	fd = sd_open();
	if (fd < 0)
		return ctl_fail("open", SEGDEV_DEVICE_PATH, -errno);
	if (!strcmp(argv[0], "create") && argc == 4) {
		ret = sd_create(fd, argv[1], strtoull(argv[2], NULL, 0), strtoul(argv[3], NULL, 8));
		return ret ? ctl_fail("create", argv[1], ret) : 0;
	}
	if (!strcmp(argv[0], "destroy") && (argc == 2 || argc == 3)) {
		if (argc == 3 && strcmp(argv[2], "deferred"))
			return ctl_usage();
		ret = sd_destroy(fd, argv[1], argc == 3 ? SEGDEV_DESTROY_DEFERRED : 0);
		return ret ? ctl_fail("destroy", argv[1], ret) : 0;
	}
	if (!strcmp(argv[0], "touch") && argc == 2)
		return ctl_touch(fd, argv[1]);
	if (!strcmp(argv[0], "churn") && argc == 4)
		return ctl_churn(fd, argv[1], atoi(argv[2]), strtoull(argv[3], NULL, 0));
	if (!strcmp(argv[0], "hold") && argc == 2) {
		p = ctl_map(fd, argv[1], &len);
		if (!p)
			return 1;
		close(fd);
		memset(p, 0x3c, len);
		printf("held\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	return ctl_usage();
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc - 2, argv + 2);
	return test_harness_run(argc, argv);
}
