// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * segdev segment backend (segments in segdev.ko, shared with kernel peers) and the
 * sender-only user stubs of the kernel signal types "waitqueue" and "callback".
 *
 * A user peer wakes a kernel receiver by ringing the segment's doorbell through its own
 * attached /dev/segdev file; the doorbell number is the receiver's signal descriptor index
 * (include/xseg/signal_kernel.h).  segdev checks the caller's right to the segment at
 * attach; the kernel routes the number through its own table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <uapi/xseg/segdev.h>
#include <xseg/internal.h>
#include <xseg/segdev_user.h>

/* Per handle: the attached file. */
struct xseg_segdev_priv {
	int fd;
};

static int xseg_segdev_name(const char *name, char *buf)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strnlen(name, SEGDEV_NAME_LEN);
	if (!len || len >= SEGDEV_NAME_LEN)
		return -EINVAL;
	memset(buf, 0, SEGDEV_NAME_LEN);
	memcpy(buf, name, len);
	return 0;
}

static int xseg_segdev_open(void)
{
	int fd = open(SEGDEV_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int xseg_segdev_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int xseg_segdev_create(const char *name, __u64 size, __u32 mode)
{
	struct segdev_create c;
	int fd, ret;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.seg_size = size;
	c.mode = mode & 0777;
	ret = xseg_segdev_name(name, c.name);
	if (ret)
		return ret;
	fd = xseg_segdev_open();
	if (fd < 0)
		return fd;
	ret = xseg_segdev_ioctl(fd, SEGDEV_IOC_CREATE, &c);
	close(fd);
	return ret;
}

static int xseg_segdev_destroy(const char *name)
{
	struct segdev_destroy d;
	int fd, ret;

	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.flags = SEGDEV_DESTROY_DEFERRED;
	ret = xseg_segdev_name(name, d.name);
	if (ret)
		return ret;
	fd = xseg_segdev_open();
	if (fd < 0)
		return fd;
	ret = xseg_segdev_ioctl(fd, SEGDEV_IOC_DESTROY, &d);
	close(fd);
	return ret;
}

static int xseg_segdev_map(const char *name, void **basep, __u64 *sizep, void **privp)
{
	struct xseg_segdev_priv *priv;
	struct segdev_attach a;
	struct segdev_info info;
	void *base;
	int fd, ret;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	ret = xseg_segdev_name(name, a.name);
	if (ret)
		return ret;
	priv = calloc(1, sizeof(*priv));
	if (!priv)
		return -ENOMEM;
	fd = xseg_segdev_open();
	if (fd < 0) {
		ret = fd;
		goto err_free;
	}
	ret = xseg_segdev_ioctl(fd, SEGDEV_IOC_ATTACH, &a);
	if (ret)
		goto err_close;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	ret = xseg_segdev_ioctl(fd, SEGDEV_IOC_INFO, &info);
	if (ret)
		goto err_close;
	if (!info.seg_size || info.seg_size > info.map_size) {
		ret = -EINVAL;
		goto err_close;
	}
	base = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	priv->fd = fd;
	*basep = base;
	*sizep = info.seg_size;
	*privp = priv;
	return 0;

err_close:
	close(fd);
err_free:
	free(priv);
	return ret;
}

static void xseg_segdev_unmap(void *base, __u64 size, void *priv)
{
	struct xseg_segdev_priv *p = priv;
	long page = sysconf(_SC_PAGESIZE);

	munmap(base, (size + page - 1) & ~(__u64)(page - 1));
	close(p->fd);
	free(p);
}

const struct xseg_backend_ops xseg_segdev_backend = {
	.name = "segdev",
	.create = xseg_segdev_create,
	.destroy = xseg_segdev_destroy,
	.map = xseg_segdev_map,
	.unmap = xseg_segdev_unmap,
};

int xseg_segdev_fd(struct xseg *xseg)
{
	struct xseg_segdev_priv *p;

	if (!xseg || xseg->be != &xseg_segdev_backend)
		return -EINVAL;
	p = xseg->be_priv;
	return p->fd;
}

int xseg_segdev_doorbell(struct xseg *xseg, __u32 n)
{
	struct segdev_doorbell d;
	int fd = xseg_segdev_fd(xseg);

	if (fd < 0)
		return fd;
	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.port = n;
	return xseg_segdev_ioctl(fd, SEGDEV_IOC_DOORBELL, &d);
}

static int xseg_segdev_waiter(struct xseg *xseg, __u32 n, unsigned long cmd, int signo)
{
	struct segdev_waiter w;
	int fd = xseg_segdev_fd(xseg);

	if (fd < 0)
		return fd;
	memset(&w, 0, sizeof(w));
	w.size = sizeof(w);
	w.port = n;
	if (signo) {
		w.flags = SEGDEV_WAITER_SIGNO;
		w.signo = signo;
	}
	return xseg_segdev_ioctl(fd, cmd, &w);
}

int xseg_segdev_register_waiter(struct xseg *xseg, __u32 n)
{
	return xseg_segdev_waiter(xseg, n, SEGDEV_IOC_REGISTER_WAITER, 0);
}

int xseg_segdev_register_signal(struct xseg *xseg, __u32 n, int signo)
{
	return xseg_segdev_waiter(xseg, n, SEGDEV_IOC_REGISTER_WAITER, signo);
}

int xseg_segdev_unregister_waiter(struct xseg *xseg, __u32 n)
{
	return xseg_segdev_waiter(xseg, n, SEGDEV_IOC_UNREGISTER_WAITER, 0);
}

/* Kernel receivers are only reachable through segdev's doorbell. */
static int xseg_kstub_remote_init(struct xseg *xseg)
{
	return xseg->be == &xseg_segdev_backend ? 0 : -EOPNOTSUPP;
}

/* A user peer cannot receive kernel signal types. */
static int xseg_kstub_local_init(struct xseg *xseg)
{
	return -EOPNOTSUPP;
}

static int xseg_kstub_wait(const struct xseg_sd_ctx *ctx, __u32 usec)
{
	return -EOPNOTSUPP;
}

/* The wake: doorbell number = descriptor index; the kernel side routes it. */
static int xseg_kstub_signal(const struct xseg_sd_ctx *ctx)
{
	return xseg_segdev_doorbell(ctx->xseg, ctx->index);
}

const struct xseg_signal_type xseg_user_waitqueue_type = {
	.name = XSEG_SIGNAL_WAITQUEUE,
	.local_signal_init = xseg_kstub_local_init,
	.remote_signal_init = xseg_kstub_remote_init,
	.wait_signal = xseg_kstub_wait,
	.signal = xseg_kstub_signal,
};

const struct xseg_signal_type xseg_user_callback_type = {
	.name = XSEG_SIGNAL_CALLBACK,
	.local_signal_init = xseg_kstub_local_init,
	.remote_signal_init = xseg_kstub_remote_init,
	.wait_signal = xseg_kstub_wait,
	.signal = xseg_kstub_signal,
};
