// SPDX-License-Identifier: GPL-2.0
/*
 * Segment types for the xseg tool: the POSIX shm backend of libxseg, and a small segdev
 * backend of the tool's own that talks to /dev/segdev through the uapi ioctls.  The tool
 * needs more of segdev than a peer does: an explicit owner at creation (--owner), a destroy
 * that reports "in use" instead of deferring, the owner and mode of a segment, and the list.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uapi/xseg/segdev.h>
#include <xseg/posix.h>

#include "xseg_cli.h"

#define CLI_SHM_DIR	"/dev/shm"

enum cli_type cli_default_type(void)
{
	return access(SEGDEV_DEVICE_PATH, F_OK) ? CLI_TYPE_POSIX : CLI_TYPE_SEGDEV;
}

const char *cli_type_name(enum cli_type type)
{
	return type == CLI_TYPE_SEGDEV ? "segdev" : "posix";
}

int cli_parse_type(const char *s, enum cli_type *typep)
{
	if (!strcmp(s, "posix"))
		*typep = CLI_TYPE_POSIX;
	else if (!strcmp(s, "segdev"))
		*typep = CLI_TYPE_SEGDEV;
	else
		return -EINVAL;
	return 0;
}

/* ---- segdev ------------------------------------------------------------------------ */

struct cli_segdev_priv {
	int fd;
	__u64 map_size;
};

static int cli_segdev_open(void)
{
	int fd = open(SEGDEV_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	/* no device node: the module is not loaded */
	return errno == ENOENT || errno == ENXIO ? -ENODEV : -errno;
}

static int cli_segdev_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int cli_segdev_name(const char *name, char *buf)
{
	size_t len = strlen(name);

	if (!len || len >= SEGDEV_NAME_LEN || strchr(name, '/'))
		return -EINVAL;
	memcpy(buf, name, len + 1);
	return 0;
}

static int cli_segdev_create(const char *name, __u64 size, __u32 mode, bool set_owner,
			     uid_t uid, gid_t gid)
{
	struct segdev_create c;
	int fd, ret;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.seg_size = size;
	c.mode = mode;
	if (set_owner) {
		c.flags = SEGDEV_CREATE_OWNER;
		c.uid = uid;
		c.gid = gid;
	}
	ret = cli_segdev_name(name, c.name);
	if (ret)
		return ret;
	fd = cli_segdev_open();
	if (fd < 0)
		return fd;
	ret = cli_segdev_ioctl(fd, SEGDEV_IOC_CREATE, &c);
	close(fd);
	return ret;
}

static int cli_segdev_create_op(const char *name, __u64 size, __u32 mode)
{
	return cli_segdev_create(name, size, mode, false, 0, 0);
}

/* Not deferred: a segment with users is reported as in use (-EBUSY). */
static int cli_segdev_destroy(const char *name)
{
	struct segdev_destroy d;
	int fd, ret;

	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	ret = cli_segdev_name(name, d.name);
	if (ret)
		return ret;
	fd = cli_segdev_open();
	if (fd < 0)
		return fd;
	ret = cli_segdev_ioctl(fd, SEGDEV_IOC_DESTROY, &d);
	close(fd);
	return ret;
}

static int cli_segdev_info(int fd, const char *name, struct segdev_info *info)
{
	int ret;

	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (name) {
		info->flags = SEGDEV_INFO_BY_NAME;
		ret = cli_segdev_name(name, info->name);
		if (ret)
			return ret;
	}
	return cli_segdev_ioctl(fd, SEGDEV_IOC_INFO, info);
}

static int cli_segdev_map(const char *name, void **basep, __u64 *sizep, void **privp)
{
	struct cli_segdev_priv *priv;
	struct segdev_attach a;
	struct segdev_info info;
	void *base;
	int fd, ret;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	ret = cli_segdev_name(name, a.name);
	if (ret)
		return ret;
	priv = calloc(1, sizeof(*priv));
	if (!priv)
		return -ENOMEM;
	fd = cli_segdev_open();
	if (fd < 0) {
		ret = fd;
		goto err_free;
	}
	ret = cli_segdev_ioctl(fd, SEGDEV_IOC_ATTACH, &a);
	if (ret)
		goto err_close;
	ret = cli_segdev_info(fd, NULL, &info);
	if (ret)
		goto err_close;
	if (!info.seg_size || info.seg_size > info.map_size) {
		ret = -EIO;
		goto err_close;
	}
	base = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		goto err_close;
	}
	priv->fd = fd;
	priv->map_size = info.map_size;
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

static void cli_segdev_unmap(void *base, __u64 size, void *priv)
{
	struct cli_segdev_priv *p = priv;

	munmap(base, p->map_size);
	close(p->fd);
	free(p);
}

static const struct xseg_backend_ops cli_segdev_backend = {
	.name = "segdev",
	.create = cli_segdev_create_op,
	.destroy = cli_segdev_destroy,
	.map = cli_segdev_map,
	.unmap = cli_segdev_unmap,
};

static int cli_segdev_list(int (*fn)(const char *name, void *arg), void *arg)
{
	struct segdev_list l;
	char (*names)[SEGDEV_NAME_LEN] = NULL;
	__u32 i, cap = 0;
	int fd, ret;

	fd = cli_segdev_open();
	if (fd < 0)
		return fd;
	for (;;) {
		memset(&l, 0, sizeof(l));
		l.size = sizeof(l);
		l.count = cap;
		l.names = (__u64)(unsigned long)names;
		ret = cli_segdev_ioctl(fd, SEGDEV_IOC_LIST, &l);
		if (ret || l.count <= cap)
			break;
		/* segments appeared since the last call: grow and retry */
		cap = l.count + 8;
		free(names);
		names = calloc(cap, SEGDEV_NAME_LEN);
		if (!names) {
			ret = -ENOMEM;
			break;
		}
	}
	for (i = 0; !ret && i < l.count; i++) {
		names[i][SEGDEV_NAME_LEN - 1] = '\0';
		ret = fn(names[i], arg);
	}
	free(names);
	close(fd);
	return ret;
}

/* ---- posix ------------------------------------------------------------------------- */

static int cli_shm_path(const char *name, char *path, size_t len)
{
	int n;

	if (!*name || strchr(name, '/'))
		return -EINVAL;
	n = snprintf(path, len, "%s/%s", CLI_SHM_DIR, name);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* 1 if /dev/shm/name starts with the xseg magic, 0 if not, -errno if it cannot be read. */
int cli_is_xseg_posix(const char *name)
{
	char path[PATH_MAX];
	__u64 magic = 0;
	ssize_t n;
	int fd, ret;

	ret = cli_shm_path(name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = pread(fd, &magic, sizeof(magic), 0);
	close(fd);
	return n == sizeof(magic) && magic == XSEG_MAGIC;
}

static int cli_posix_list(int (*fn)(const char *name, void *arg), void *arg)
{
	struct dirent *de;
	int ret = 0;
	DIR *dir;

	dir = opendir(CLI_SHM_DIR);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || cli_is_xseg_posix(de->d_name) != 1)
			continue;
		ret = fn(de->d_name, arg);
	}
	closedir(dir);
	return ret;
}

/* ---- both -------------------------------------------------------------------------- */

const struct xseg_backend_ops *cli_backend(enum cli_type type)
{
	return type == CLI_TYPE_SEGDEV ? &cli_segdev_backend : &xseg_posix_backend;
}

int cli_create_region(enum cli_type type, const char *name, __u64 size, __u32 mode,
		      bool set_owner, uid_t uid, gid_t gid)
{
	char path[PATH_MAX];
	int ret;

	if (type == CLI_TYPE_SEGDEV)
		return cli_segdev_create(name, size, mode, set_owner, uid, gid);
	ret = cli_shm_path(name, path, sizeof(path));
	if (ret)
		return ret;
	ret = xseg_posix_backend.create(name, size, mode);
	if (ret || !set_owner)
		return ret;
	if (chown(path, uid, gid)) {
		ret = -errno;
		xseg_posix_backend.destroy(name);
	}
	return ret;
}

int cli_destroy_region(enum cli_type type, const char *name)
{
	return cli_backend(type)->destroy(name);
}

int cli_seg_attr(enum cli_type type, const char *name, struct cli_seg_attr *attr)
{
	struct segdev_info info;
	char path[PATH_MAX];
	struct stat st;
	int fd, ret;

	memset(attr, 0, sizeof(*attr));
	if (type == CLI_TYPE_SEGDEV) {
		fd = cli_segdev_open();
		if (fd < 0)
			return fd;
		ret = cli_segdev_info(fd, name, &info);
		close(fd);
		if (ret)
			return ret;
		attr->size = info.seg_size;
		attr->uid = info.uid;
		attr->gid = info.gid;
		attr->mode = info.mode;
		attr->users = info.nr_attached + info.nr_mappings + info.nr_kernel_users;
		attr->has_users = true;
		return 0;
	}
	ret = cli_shm_path(name, path, sizeof(path));
	if (ret)
		return ret;
	if (lstat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	attr->size = st.st_size;
	attr->uid = st.st_uid;
	attr->gid = st.st_gid;
	attr->mode = st.st_mode & 07777;
	return 0;
}

int cli_list_names(enum cli_type type, int (*fn)(const char *name, void *arg), void *arg)
{
	if (type == CLI_TYPE_SEGDEV)
		return cli_segdev_list(fn, arg);
	return cli_posix_list(fn, arg);
}
