// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * POSIX shared memory segment backend: shm_open("/<name>"), ftruncate, mmap MAP_SHARED at an
 * address the kernel chooses (never MAP_FIXED: every reference in the segment is an offset).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xseg/posix.h>

static int xseg_posix_path(const char *name, char *path, size_t len)
{
	int n;

	if (!name || !*name || strchr(name, '/'))
		return -EINVAL;
	n = snprintf(path, len, "/%s", name);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int xseg_posix_create(const char *name, __u64 size, __u32 mode)
{
	char path[NAME_MAX];
	int fd, ret;

	ret = xseg_posix_path(name, path, sizeof(path));
	if (ret)
		return ret;
	if (size > (__u64)LLONG_MAX)
		return -EINVAL;
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777);
	if (fd < 0)
		return -errno;
	/* shm_open() applies the umask; the segment gets exactly the requested mode */
	if (fchmod(fd, mode & 0777) || ftruncate(fd, size)) {
		ret = -errno;
		goto err_unlink;
	}
	close(fd);
	return 0;

err_unlink:
	close(fd);
	shm_unlink(path);
	return ret;
}

static int xseg_posix_destroy(const char *name)
{
	char path[NAME_MAX];
	int ret;

	ret = xseg_posix_path(name, path, sizeof(path));
	if (ret)
		return ret;
	return shm_unlink(path) ? -errno : 0;
}

static int xseg_posix_map(const char *name, void **basep, __u64 *sizep, void **privp)
{
	char path[NAME_MAX];
	struct stat st;
	void *base;
	int fd, ret;

	ret = xseg_posix_path(name, path, sizeof(path));
	if (ret)
		return ret;
	fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out_close;
	}
	if (st.st_size <= 0) {
		ret = -EINVAL;
		goto out_close;
	}
	base = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	*basep = base;
	*sizep = st.st_size;
	*privp = NULL;
	ret = 0;
out_close:
	close(fd);
	return ret;
}

static void xseg_posix_unmap(void *base, __u64 size, void *priv)
{
	(void)priv;
	munmap(base, size);
}

const struct xseg_backend_ops xseg_posix_backend = {
	.name = "posix",
	.create = xseg_posix_create,
	.destroy = xseg_posix_destroy,
	.map = xseg_posix_map,
	.unmap = xseg_posix_unmap,
};
