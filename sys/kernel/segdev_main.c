// SPDX-License-Identifier: GPL-2.0
/*
 * segdev: named shared memory segments with doorbells, as the misc device /dev/segdev.
 * Userspace ABI: include/uapi/xseg/segdev.h.  In-kernel API: include/xseg/segdev_kernel.h.
 *
 * This file: module parameters, module init/exit, the misc device and its file operations,
 * one handler per ioctl command.
 *
 * /dev/segdev is mode 0666: opening it grants nothing.  Each segment has an owner and a
 * mode, checked on ATTACH like a file's; mmap, doorbells and waiter registration need an
 * attached file.  Creating a segment is open to all users, bounded by max_segments and
 * max_segment_mb.
 *
 * The module cannot be unloaded while segments exist (each one holds a module reference):
 * destroy them with SEGDEV_IOC_DESTROY first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "segdev_internal.h"

unsigned int segdev_max_segments = 64;
unsigned int segdev_max_segment_mb = 1024;
unsigned int segdev_max_waiters = 1024;

static int segdev_param_set_max_segments(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 4096);
}

static int segdev_param_set_max_segment_mb(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 65536);
}

static int segdev_param_set_max_waiters(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 65536);
}

static const struct kernel_param_ops segdev_max_segments_ops = {
	.set = segdev_param_set_max_segments,
	.get = param_get_uint,
};

static const struct kernel_param_ops segdev_max_segment_mb_ops = {
	.set = segdev_param_set_max_segment_mb,
	.get = param_get_uint,
};

static const struct kernel_param_ops segdev_max_waiters_ops = {
	.set = segdev_param_set_max_waiters,
	.get = param_get_uint,
};

/* Read-only after load: LIST sizes its buffer from max_segments. */
module_param_cb(max_segments, &segdev_max_segments_ops, &segdev_max_segments, 0444);
MODULE_PARM_DESC(max_segments, "Maximum number of named segments, 1-4096 (default: 64)");
module_param_cb(max_segment_mb, &segdev_max_segment_mb_ops, &segdev_max_segment_mb, 0444);
MODULE_PARM_DESC(max_segment_mb, "Maximum segment size in MiB, 1-65536 (default: 1024)");
module_param_cb(max_waiters, &segdev_max_waiters_ops, &segdev_max_waiters, 0444);
MODULE_PARM_DESC(max_waiters, "Maximum registered waiters per segment, 1-65536 (default: 1024)");

/*
 * Copies a size-carrying argument struct of exactly @ksize bytes whose first member is its
 * __u32 size.  Newer, larger layouts will come with new command numbers.
 */
static int segdev_copy_arg(void *karg, size_t ksize, const void __user *uarg)
{
	u32 usize;

	if (copy_from_user(karg, uarg, ksize))
		return -EFAULT;
	memcpy(&usize, karg, sizeof(usize));
	if (usize != ksize)
		return -EINVAL;
	return 0;
}

static bool segdev_mem_is_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/* Caller holds sf->rwsem for read or write. */
static struct segdev_segment *segdev_file_seg(struct segdev_file *sf)
{
	lockdep_assert_held(&sf->rwsem);
	return sf->seg;
}

static int segdev_validate_create(const struct segdev_create *arg)
{
	if (arg->flags & ~SEGDEV_CREATE_FLAGS)
		return -EINVAL;
	if (arg->reserved0 || !segdev_mem_is_zero(arg->reserved, sizeof(arg->reserved)))
		return -EINVAL;
	if (!(arg->flags & SEGDEV_CREATE_OWNER) && (arg->uid || arg->gid))
		return -EINVAL;
	if (arg->mode & ~0777U)
		return -EINVAL;
	if (!arg->seg_size || arg->seg_size > (u64)segdev_max_segment_mb << 20)
		return -EINVAL;
	return segdev_check_name(arg->name);
}

static int segdev_ioctl_create(struct segdev_file *sf, void __user *argp)
{
	struct segdev_create arg;
	struct segdev_segment *seg;
	kuid_t uid = current_fsuid();
	kgid_t gid = current_fsgid();
	int ret;

	ret = segdev_copy_arg(&arg, sizeof(arg), argp);
	if (ret)
		return ret;
	ret = segdev_validate_create(&arg);
	if (ret)
		return ret;
	if (arg.flags & SEGDEV_CREATE_OWNER) {
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		uid = make_kuid(current_user_ns(), arg.uid);
		gid = make_kgid(current_user_ns(), arg.gid);
		if (!uid_valid(uid) || !gid_valid(gid))
			return -EINVAL;
	}

	seg = segdev_segment_alloc(arg.name, arg.seg_size, uid, gid, arg.mode);
	if (IS_ERR(seg))
		return PTR_ERR(seg);
	ret = segdev_segment_publish(seg);
	if (ret)
		goto err_discard;
	return 0;

err_discard:
	segdev_segment_discard(seg);
	return ret;
}

static int segdev_ioctl_attach(struct segdev_file *sf, struct file *file, void __user *argp)
{
	struct segdev_attach arg;
	struct segdev_segment *seg;
	int ret;

	ret = segdev_copy_arg(&arg, sizeof(arg), argp);
	if (ret)
		return ret;
	if (arg.flags & ~SEGDEV_ATTACH_FLAGS ||
	    !segdev_mem_is_zero(arg.reserved, sizeof(arg.reserved)))
		return -EINVAL;
	ret = segdev_check_name(arg.name);
	if (ret)
		return ret;
	/* Attachments are read-write; a shared writable mapping needs FMODE_WRITE anyway. */
	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) != (FMODE_READ | FMODE_WRITE))
		return -EBADF;

	down_write(&sf->rwsem);
	if (segdev_file_seg(sf)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	seg = segdev_segment_attach(arg.name);
	if (IS_ERR(seg)) {
		ret = PTR_ERR(seg);
		goto out_unlock;
	}
	sf->seg = seg;
out_unlock:
	up_write(&sf->rwsem);
	return ret;
}

/* Unbinds @sf from its segment.  Caller holds sf->rwsem for write. */
static void segdev_file_detach(struct segdev_file *sf)
{
	struct segdev_segment *seg = segdev_file_seg(sf);

	lockdep_assert_held_write(&sf->rwsem);
	segdev_waiters_drop(seg, sf);
	atomic_dec(&seg->nr_attached);
	sf->seg = NULL;
	segdev_segment_put(seg);
}

static int segdev_ioctl_detach(struct segdev_file *sf, void __user *argp)
{
	struct segdev_detach arg;
	int ret;

	ret = segdev_copy_arg(&arg, sizeof(arg), argp);
	if (ret)
		return ret;
	if (arg.flags & ~SEGDEV_DETACH_FLAGS || arg.reserved)
		return -EINVAL;

	down_write(&sf->rwsem);
	if (segdev_file_seg(sf))
		segdev_file_detach(sf);
	else
		ret = -ENOTCONN;
	up_write(&sf->rwsem);
	return ret;
}

static int segdev_ioctl_destroy(struct segdev_file *sf, void __user *argp)
{
	struct segdev_destroy arg;
	int ret;

	ret = segdev_copy_arg(&arg, sizeof(arg), argp);
	if (ret)
		return ret;
	if (arg.flags & ~SEGDEV_DESTROY_FLAGS || arg.reserved)
		return -EINVAL;
	ret = segdev_check_name(arg.name);
	if (ret)
		return ret;
	return segdev_segment_destroy(arg.name, arg.flags & SEGDEV_DESTROY_DEFERRED);
}

static int segdev_ioctl_info(struct segdev_file *sf, void __user *argp)
{
	struct segdev_info arg;
	struct segdev_segment *seg;
	int ret;

	ret = segdev_copy_arg(&arg, sizeof(arg), argp);
	if (ret)
		return ret;
	if (arg.flags & ~SEGDEV_INFO_FLAGS ||
	    !segdev_mem_is_zero(arg.reserved, sizeof(arg.reserved)))
		return -EINVAL;

	if (arg.flags & SEGDEV_INFO_BY_NAME) {
		ret = segdev_check_name(arg.name);
		if (ret)
			return ret;
		seg = segdev_segment_lookup(arg.name);
		if (!seg)
			return -ENOENT;
	} else {
		down_read(&sf->rwsem);
		seg = segdev_file_seg(sf);
		if (seg)
			segdev_segment_get(seg);
		up_read(&sf->rwsem);
		if (!seg)
			return -ENOTCONN;
	}
	segdev_segment_fill_info(seg, &arg);
	segdev_segment_put(seg);

	if (copy_to_user(argp, &arg, sizeof(arg)))
		return -EFAULT;
	return 0;
}

static int segdev_ioctl_list(struct segdev_file *sf, void __user *argp)
{
	char *names = NULL;
	struct segdev_list arg;
	u32 capacity, total, n;
	int ret;

	ret = segdev_copy_arg(&arg, sizeof(arg), argp);
	if (ret)
		return ret;
	if (arg.flags & ~SEGDEV_LIST_FLAGS || arg.reserved0 ||
	    !segdev_mem_is_zero(arg.reserved, sizeof(arg.reserved)))
		return -EINVAL;
	if (arg.count && !arg.names)
		return -EINVAL;

	/* There are never more than max_segments names (read-only parameter). */
	capacity = min(arg.count, segdev_max_segments);
	if (capacity) {
		names = kvcalloc(capacity, SEGDEV_NAME_LEN, GFP_KERNEL);
		if (!names)
			return -ENOMEM;
	}
	ret = segdev_segment_list(names, capacity, &total);
	if (ret)
		goto out_free;
	n = min(capacity, total);
	if (n && copy_to_user(u64_to_user_ptr(arg.names), names, (size_t)n * SEGDEV_NAME_LEN)) {
		ret = -EFAULT;
		goto out_free;
	}
	arg.count = total;
	if (copy_to_user(argp, &arg, sizeof(arg)))
		ret = -EFAULT;
out_free:
	kvfree(names);
	return ret;
}

static int segdev_ioctl_doorbell(struct segdev_file *sf, void __user *argp)
{
	struct segdev_doorbell arg;
	struct segdev_segment *seg;
	int ret;

	ret = segdev_copy_arg(&arg, sizeof(arg), argp);
	if (ret)
		return ret;
	if (arg.flags & ~SEGDEV_DOORBELL_FLAGS || arg.reserved)
		return -EINVAL;

	down_read(&sf->rwsem);
	seg = segdev_file_seg(sf);
	if (seg)
		segdev_ring(seg, arg.port);
	else
		ret = -ENOTCONN;
	up_read(&sf->rwsem);
	return ret;
}

static int segdev_ioctl_waiter(struct segdev_file *sf, void __user *argp, bool reg)
{
	struct segdev_waiter arg;
	struct segdev_segment *seg;
	int ret;

	ret = segdev_copy_arg(&arg, sizeof(arg), argp);
	if (ret)
		return ret;
	if (arg.flags & ~(reg ? SEGDEV_WAITER_FLAGS : 0))
		return -EINVAL;
	if (arg.flags & SEGDEV_WAITER_SIGNO ?
	    arg.signo < SIGRTMIN || arg.signo > SIGRTMAX : arg.signo)
		return -EINVAL;

	down_read(&sf->rwsem);
	seg = segdev_file_seg(sf);
	if (!seg)
		ret = -ENOTCONN;
	else if (reg)
		ret = segdev_waiter_register(seg, sf, arg.port, arg.signo);
	else
		ret = segdev_waiter_unregister(seg, sf, arg.port);
	up_read(&sf->rwsem);
	return ret;
}

static long segdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct segdev_file *sf = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case SEGDEV_IOC_CREATE:
		return segdev_ioctl_create(sf, argp);
	case SEGDEV_IOC_ATTACH:
		return segdev_ioctl_attach(sf, file, argp);
	case SEGDEV_IOC_DETACH:
		return segdev_ioctl_detach(sf, argp);
	case SEGDEV_IOC_DESTROY:
		return segdev_ioctl_destroy(sf, argp);
	case SEGDEV_IOC_INFO:
		return segdev_ioctl_info(sf, argp);
	case SEGDEV_IOC_LIST:
		return segdev_ioctl_list(sf, argp);
	case SEGDEV_IOC_DOORBELL:
		return segdev_ioctl_doorbell(sf, argp);
	case SEGDEV_IOC_REGISTER_WAITER:
		return segdev_ioctl_waiter(sf, argp, true);
	case SEGDEV_IOC_UNREGISTER_WAITER:
		return segdev_ioctl_waiter(sf, argp, false);
	default:
		return -ENOTTY;
	}
}

/* Rings at most this many ports per write() call; the caller writes the rest again. */
#define SEGDEV_WRITE_MAX_PORTS	64

/* write(2): an array of __u32 port numbers, each rung in turn. */
static ssize_t segdev_write(struct file *file, const char __user *buf, size_t count,
			    loff_t *ppos)
{
	struct segdev_file *sf = file->private_data;
	const u32 __user *ports = (const u32 __user *)buf;
	struct segdev_segment *seg;
	size_t i, n = min_t(size_t, count / sizeof(u32), SEGDEV_WRITE_MAX_PORTS);
	ssize_t ret = 0;
	u32 port;

	if (!n)
		return -EINVAL;

	down_read(&sf->rwsem);
	seg = segdev_file_seg(sf);
	if (!seg) {
		ret = -ENOTCONN;
		goto out_unlock;
	}
	for (i = 0; i < n; i++) {
		if (get_user(port, &ports[i])) {
			if (!i)
				ret = -EFAULT;
			break;
		}
		segdev_ring(seg, port);
		ret += sizeof(u32);
	}
out_unlock:
	up_read(&sf->rwsem);
	return ret;
}

static void segdev_vm_open(struct vm_area_struct *vma)
{
	struct segdev_segment *seg = vma->vm_private_data;

	segdev_segment_get(seg);
	atomic_inc(&seg->nr_mappings);
}

static void segdev_vm_close(struct vm_area_struct *vma)
{
	struct segdev_segment *seg = vma->vm_private_data;

	atomic_dec(&seg->nr_mappings);
	segdev_segment_put(seg);
}

/* Each VMA holds a segment reference, so a mapping outlives DETACH, close and DESTROY. */
static const struct vm_operations_struct segdev_vm_ops = {
	.open = segdev_vm_open,
	.close = segdev_vm_close,
};

static int segdev_validate_mmap(const struct segdev_segment *seg,
				const struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff)
		return -EINVAL;
	if (vma->vm_end - vma->vm_start > seg->map_size)
		return -EINVAL;
	return 0;
}

/*
 * The segment's pages (shmem pages in a VM_USERMAP vmap area, segdev_segment.c) are inserted
 * as normal pages (remap_vmalloc_range(): vm_insert_page, VM_DONTEXPAND, no VM_PFNMAP/VM_IO),
 * so get_user_pages(), O_DIRECT and shared futexes work on the mapping.
 */
static int segdev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct segdev_file *sf = file->private_data;
	struct segdev_segment *seg;
	int ret;

	down_read(&sf->rwsem);
	seg = segdev_file_seg(sf);
	if (!seg) {
		ret = -ENOTCONN;
		goto out_unlock;
	}
	ret = segdev_validate_mmap(seg, vma);
	if (ret)
		goto out_unlock;
	ret = remap_vmalloc_range(vma, seg->vaddr, 0);
	if (ret)
		goto out_unlock;
	vma->vm_private_data = seg;
	vma->vm_ops = &segdev_vm_ops;
	segdev_vm_open(vma);
out_unlock:
	up_read(&sf->rwsem);
	return ret;
}

static int segdev_open(struct inode *inode, struct file *file)
{
	struct segdev_file *sf;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL);
	if (!sf)
		return -ENOMEM;
	init_rwsem(&sf->rwsem);
	file->private_data = sf;
	return 0;
}

static int segdev_release(struct inode *inode, struct file *file)
{
	struct segdev_file *sf = file->private_data;

	down_write(&sf->rwsem);
	if (segdev_file_seg(sf))
		segdev_file_detach(sf);
	up_write(&sf->rwsem);
	kfree(sf);
	return 0;
}

static const struct file_operations segdev_fops = {
	.owner = THIS_MODULE,
	.open = segdev_open,
	.release = segdev_release,
	.unlocked_ioctl = segdev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.write = segdev_write,
	.mmap = segdev_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice segdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "segdev",
	.fops = &segdev_fops,
	/* Access control is per segment (owner/mode on ATTACH), not on the node. */
	.mode = 0666,
};

/* The uapi layouts are fixed: no holes, same size for 32- and 64-bit callers. */
static void segdev_check_layouts(void)
{
	BUILD_BUG_ON(sizeof(struct segdev_create) != 112);
	BUILD_BUG_ON(offsetof(struct segdev_create, name) != 48);
	BUILD_BUG_ON(sizeof(struct segdev_attach) != 88);
	BUILD_BUG_ON(sizeof(struct segdev_detach) != 16);
	BUILD_BUG_ON(sizeof(struct segdev_destroy) != 80);
	BUILD_BUG_ON(sizeof(struct segdev_info) != 168);
	BUILD_BUG_ON(offsetof(struct segdev_info, doorbell_rings) != 56);
	BUILD_BUG_ON(offsetof(struct segdev_info, name) != 104);
	BUILD_BUG_ON(sizeof(struct segdev_list) != 40);
	BUILD_BUG_ON(offsetof(struct segdev_list, names) != 16);
	BUILD_BUG_ON(sizeof(struct segdev_doorbell) != 16);
	BUILD_BUG_ON(sizeof(struct segdev_waiter) != 16);
}

static int __init segdev_init(void)
{
	int ret;

	segdev_check_layouts();
	ret = segdev_caches_init();
	if (ret)
		return ret;
	ret = misc_register(&segdev_misc);
	if (ret) {
		pr_err("cannot register /dev/segdev: %d\n", ret);
		goto err_caches_exit;
	}
	return 0;

err_caches_exit:
	segdev_caches_exit();
	return ret;
}

static void __exit segdev_exit(void)
{
	misc_deregister(&segdev_misc);
	/* Segments pin the module, so none is left. */
	WARN_ON_ONCE(!segdev_segments_empty());
	segdev_caches_exit();
}

module_init(segdev_init);
module_exit(segdev_exit);

MODULE_DESCRIPTION("Named shared memory segments with doorbells (/dev/segdev)");
MODULE_LICENSE("GPL");
