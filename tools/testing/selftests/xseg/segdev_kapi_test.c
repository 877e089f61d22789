// SPDX-License-Identifier: GPL-2.0
/*
 * segdev in-kernel API, driven through the segdev_kpeer test module
 * (tools/testing/selftests/xseg/kmod/segdev_kpeer.c): a user doorbell reaches the kernel
 * handler, the kernel signals only the thread registered through its fd, the kernel
 * reference blocks DESTROY, and unloading the peer clears the handler.
 *
 * Needs root; loads segdev.ko if needed and segdev_kpeer.ko (modprobe, or insmod from
 * $XSEG_MODDIR).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <uapi/xseg/segdev.h>

#include "kselftest_harness.h"

#define KPEER_SIGNO	40	/* kernel numbering: SIGRTMIN (32) + 8 */
#define KPEER_XOR	0xa5a5U

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
	return open(SEGDEV_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

static int sd_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
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

static int sd_info(int fd, struct segdev_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return sd_ioctl(fd, SEGDEV_IOC_INFO, info);
}

static int sd_destroy(int fd, const char *name, unsigned int flags)
{
	struct segdev_destroy d = { .size = sizeof(d), .flags = flags };

	snprintf(d.name, sizeof(d.name), "%s", name);
	return sd_ioctl(fd, SEGDEV_IOC_DESTROY, &d);
}

static int kpeer_last_ret(void)
{
	FILE *f = fopen("/sys/module/segdev_kpeer/parameters/last_ret", "r");
	int v = 12345;

	if (!f)
		return 12346;
	if (fscanf(f, "%d", &v) != 1)
		v = 12347;
	fclose(f);
	return v;
}

static int kpeer_load(const char *name)
{
	const char *moddir = getenv("XSEG_MODDIR");
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "modprobe segdev_kpeer segment=%s signo=%d 2>/dev/null",
		 name, KPEER_SIGNO);
	if (system(cmd) == 0)
		return 0;
	if (!moddir)
		return -1;
	snprintf(cmd, sizeof(cmd), "insmod %s/segdev_kpeer.ko segment=%s signo=%d", moddir,
		 name, KPEER_SIGNO);
	return system(cmd) == 0 ? 0 : -1;
}

static int kpeer_unload(void)
{
	return system("rmmod segdev_kpeer") == 0 ? 0 : -1;
}

/* Waits up to @ms for the blocked KPEER_SIGNO; returns its siginfo's si_code or -errno. */
static int wait_kpeer_signal(siginfo_t *si, int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, KPEER_SIGNO);
	if (sigtimedwait(&set, si, &ts) < 0)
		return -errno;
	return si->si_code;
}

FIXTURE(kapi) {
	int fd;
	int loaded;
	char name[SEGDEV_NAME_LEN];
	uint32_t *map;
};

FIXTURE_SETUP(kapi)
{
	struct segdev_create c = { .size = sizeof(c), .seg_size = 4096, .mode = 0600 };
	struct segdev_attach a = { .size = sizeof(a) };
	sigset_t set;

	self->loaded = 0;
	self->map = MAP_FAILED;
	self->fd = sd_open_load();
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, SEGDEV_DEVICE_PATH " missing (segdev.ko not loaded)");
	ASSERT_LE(0, self->fd);
	if (geteuid() != 0)
		SKIP(return, "needs root to load segdev_kpeer");

	/* Every thread inherits the mask: the signal stays pending for sigtimedwait(). */
	sigemptyset(&set);
	sigaddset(&set, KPEER_SIGNO);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));

	snprintf(self->name, sizeof(self->name), "sdk-%d", getpid());
	snprintf(c.name, sizeof(c.name), "%s", self->name);
	ASSERT_EQ(0, sd_ioctl(self->fd, SEGDEV_IOC_CREATE, &c));
	snprintf(a.name, sizeof(a.name), "%s", self->name);
	ASSERT_EQ(0, sd_ioctl(self->fd, SEGDEV_IOC_ATTACH, &a));
	self->map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	if (kpeer_load(self->name))
		SKIP(return, "cannot load segdev_kpeer.ko");
	self->loaded = 1;
}

FIXTURE_TEARDOWN(kapi)
{
	if (self->loaded)
		kpeer_unload();
	if (self->map != MAP_FAILED)
		munmap(self->map, 4096);
	if (self->fd >= 0) {
		sd_destroy(self->fd, self->name, SEGDEV_DESTROY_DEFERRED);
		close(self->fd);
	}
}

TEST_F(kapi, doorbell_reaches_handler)
{
	struct segdev_info info;

	ASSERT_EQ(0, sd_info(self->fd, &info));
	EXPECT_EQ(1, info.nr_kernel_users);
	EXPECT_EQ(SEGDEV_STATE_HANDLER, info.state & SEGDEV_STATE_HANDLER);

	ASSERT_EQ(0, sd_ring(self->fd, 77));
	EXPECT_EQ(77, self->map[0]);
	EXPECT_EQ(-ESRCH, kpeer_last_ret());	/* nobody waits on port 77 */
	ASSERT_EQ(0, sd_ring(self->fd, 78));
	EXPECT_EQ(78, self->map[0]);

	ASSERT_EQ(0, sd_info(self->fd, &info));
	EXPECT_EQ(2, info.doorbell_rings);
	EXPECT_EQ(2, info.doorbell_handled);
}

TEST_F(kapi, kernel_user_blocks_destroy)
{
	struct segdev_info info;

	ASSERT_EQ(-EBUSY, sd_destroy(self->fd, self->name, 0));
	ASSERT_EQ(0, kpeer_unload());
	self->loaded = 0;
	ASSERT_EQ(0, sd_info(self->fd, &info));
	EXPECT_EQ(0, info.nr_kernel_users);
	EXPECT_EQ(0, info.state & SEGDEV_STATE_HANDLER);
	/* No handler any more: counted, not handled. */
	self->map[0] = 0;
	ASSERT_EQ(0, sd_ring(self->fd, 5));
	EXPECT_EQ(0, self->map[0]);
	ASSERT_EQ(0, sd_info(self->fd, &info));
	EXPECT_EQ(1, info.doorbell_rings);
	EXPECT_EQ(0, info.doorbell_handled);
}

TEST_F(kapi, signal_to_registered_thread)
{
	siginfo_t si;

	ASSERT_EQ(0, sd_waiter(self->fd, 9, 1));
	ASSERT_EQ(0, sd_ring(self->fd, 9));
	ASSERT_EQ(0, kpeer_last_ret());
	ASSERT_EQ(SI_QUEUE, wait_kpeer_signal(&si, 2000));
	EXPECT_EQ(KPEER_SIGNO, si.si_signo);
	EXPECT_EQ(9 ^ KPEER_XOR, (unsigned int)si.si_value.sival_int);
	EXPECT_EQ(0, si.si_pid);
	/* Queued, not merged: three rings, three signals. */
	ASSERT_EQ(0, sd_ring(self->fd, 9));
	ASSERT_EQ(0, sd_ring(self->fd, 9));
	ASSERT_EQ(0, sd_ring(self->fd, 9));
	EXPECT_EQ(SI_QUEUE, wait_kpeer_signal(&si, 2000));
	EXPECT_EQ(SI_QUEUE, wait_kpeer_signal(&si, 2000));
	EXPECT_EQ(SI_QUEUE, wait_kpeer_signal(&si, 2000));
	EXPECT_EQ(-EAGAIN, wait_kpeer_signal(&si, 100));

	/* Unregistered: no signal, -ESRCH. */
	ASSERT_EQ(0, sd_waiter(self->fd, 9, 0));
	ASSERT_EQ(0, sd_ring(self->fd, 9));
	EXPECT_EQ(-ESRCH, kpeer_last_ret());
	EXPECT_EQ(-EAGAIN, wait_kpeer_signal(&si, 100));
}

struct ringer {
	int fd;
	uint32_t port;
	int ret;
	int got;	/* whether the ringing thread itself received the signal */
};

static void *ring_from_thread(void *arg)
{
	struct ringer *r = arg;
	siginfo_t si;

	r->ret = sd_ring(r->fd, r->port);
	r->got = wait_kpeer_signal(&si, 200) == SI_QUEUE;
	return NULL;
}

TEST_F(kapi, signal_is_thread_directed)
{
	struct ringer r = { .fd = self->fd, .port = 11 };
	pthread_t thread;
	siginfo_t si;

	ASSERT_EQ(0, sd_waiter(self->fd, 11, 1));
	/* Another thread rings: the signal goes to the registered (this) thread only. */
	ASSERT_EQ(0, pthread_create(&thread, NULL, ring_from_thread, &r));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(0, r.ret);
	EXPECT_EQ(0, r.got);
	ASSERT_EQ(SI_QUEUE, wait_kpeer_signal(&si, 2000));
	EXPECT_EQ(11 ^ KPEER_XOR, (unsigned int)si.si_value.sival_int);
}

static void *register_and_exit(void *arg)
{
	return (void *)(intptr_t)sd_waiter(*(int *)arg, 13, 1);
}

TEST_F(kapi, exited_waiter_not_signalled)
{
	pthread_t thread;
	void *ret;
	siginfo_t si;

	ASSERT_EQ(0, pthread_create(&thread, NULL, register_and_exit, &self->fd));
	ASSERT_EQ(0, pthread_join(thread, &ret));
	ASSERT_EQ(0, (intptr_t)ret);
	ASSERT_EQ(0, sd_ring(self->fd, 13));
	EXPECT_EQ(-ESRCH, kpeer_last_ret());
	EXPECT_EQ(-EAGAIN, wait_kpeer_signal(&si, 100));
}

TEST_F(kapi, closed_fd_drops_waiter)
{
	struct segdev_attach a = { .size = sizeof(a) };
	int fd2;

	fd2 = open(SEGDEV_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	snprintf(a.name, sizeof(a.name), "%s", self->name);
	ASSERT_EQ(0, sd_ioctl(fd2, SEGDEV_IOC_ATTACH, &a));
	ASSERT_EQ(0, sd_waiter(fd2, 15, 1));
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, sd_ring(self->fd, 15));
	EXPECT_EQ(-ESRCH, kpeer_last_ret());
}

TEST_HARNESS_MAIN
