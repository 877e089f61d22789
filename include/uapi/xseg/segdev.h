/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * segdev: named shared memory segments with doorbells.
 *
 * /dev/segdev is a misc character device (dynamic minor, mode 0666).  Anyone may open it;
 * access to a segment is controlled per segment by an owner uid/gid and a mode, checked
 * like a file's on ATTACH.  segdev knows nothing about what lives inside a segment.
 *
 * Life of a segment:
 *  - CREATE makes a named, zero-filled segment.  It exists until DESTROY (like a SysV or
 *    POSIX shm object); it is not tied to the creating file descriptor.
 *  - ATTACH binds one open file of /dev/segdev to one segment.  Only an attached file may
 *    mmap the segment, ring its doorbell and register waiters.  DETACH (or close) unbinds.
 *  - A mapping keeps the segment's memory alive after DETACH, close and DESTROY; the memory
 *    is freed when the last attachment, mapping and kernel user are gone.
 *  - DESTROY removes the name.  With users present it fails with EBUSY, unless
 *    SEGDEV_DESTROY_DEFERRED is given: then the name is removed at once (no new ATTACH, the
 *    name can be reused) and the memory goes with the last user.
 *
 * mmap(2) of an attached file maps its segment: MAP_SHARED only, offset 0, length up to
 * the segment size rounded up to pages (EINVAL otherwise; ENOTCONN if not attached).  The
 * pages are ordinary pages: O_DIRECT I/O and get_user_pages() work on the mapping.
 *
 * Every argument struct starts with a __u32 @size that the caller sets to sizeof(struct);
 * the kernel refuses other sizes, unknown flags and non-zero reserved fields with EINVAL.
 *
 * Errors common to all commands: EFAULT (bad pointer), EINVAL (size, flags, reserved, name
 * not NUL-terminated or empty), ENOTTY (unknown command).  Commands that need an attached
 * file fail with ENOTCONN on a file that is not attached.
 */
#ifndef _UAPI_XSEG_SEGDEV_H
#define _UAPI_XSEG_SEGDEV_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Path of the device node (udev creates it from the misc device name). */
#define SEGDEV_DEVICE_PATH	"/dev/segdev"

/* Length of a segment name buffer, including the terminating NUL. */
#define SEGDEV_NAME_LEN		64

/*
 * struct segdev_create - SEGDEV_IOC_CREATE argument.
 * @size:	sizeof(struct segdev_create).
 * @flags:	SEGDEV_CREATE_* flags.
 * @seg_size:	segment size in bytes, > 0 and <= the module's max_segment_size; the mapping
 *		size is @seg_size rounded up to whole pages.
 * @mode:	permission bits (0777 at most) checked on ATTACH, like a file's mode.
 * @uid:	owner uid (in the caller's user namespace) if SEGDEV_CREATE_OWNER, else 0.
 * @gid:	owner gid (in the caller's user namespace) if SEGDEV_CREATE_OWNER, else 0.
 * @reserved0:	must be 0.
 * @reserved:	must be 0.
 * @name:	NUL-terminated name, 1 to SEGDEV_NAME_LEN - 1 printable characters other than
 *		space and '/'.
 *
 * Without SEGDEV_CREATE_OWNER the owner is the caller's fsuid/fsgid.  Fails with EEXIST if
 * the name is in use, ENOSPC if the module's max_segments are live, ENOMEM, EPERM if
 * SEGDEV_CREATE_OWNER is given without CAP_SYS_ADMIN.
 */
struct segdev_create {
	__u32 size;
	__u32 flags;
	__u64 seg_size;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 reserved0;
	__u64 reserved[2];
	char name[SEGDEV_NAME_LEN];
};

/* Take the owner from @uid/@gid instead of the caller's credentials (CAP_SYS_ADMIN only). */
#define SEGDEV_CREATE_OWNER	(1U << 0)
#define SEGDEV_CREATE_FLAGS	(SEGDEV_CREATE_OWNER)

/*
 * struct segdev_attach - SEGDEV_IOC_ATTACH argument.
 * @size:	sizeof(struct segdev_attach).
 * @flags:	must be 0 (no flags defined yet).
 * @reserved:	must be 0.
 * @name:	name of the segment to attach this file to.
 *
 * Attaching is read-write: the file must be open O_RDWR (else EBADF) and the caller needs
 * read and write permission from the segment's mode (owner bits if the caller's fsuid is the
 * owner, group bits if the caller is in the owner group, other bits otherwise; CAP_SYS_ADMIN
 * bypasses the check), else EACCES.  ENOENT if no such segment, EBUSY if this file is already
 * attached.
 */
struct segdev_attach {
	__u32 size;
	__u32 flags;
	__u64 reserved[2];
	char name[SEGDEV_NAME_LEN];
};

#define SEGDEV_ATTACH_FLAGS	0U

/*
 * struct segdev_detach - SEGDEV_IOC_DETACH argument.
 * @size:	sizeof(struct segdev_detach).
 * @flags:	must be 0.
 * @reserved:	must be 0.
 *
 * Unbinds this file from its segment and drops the waiters registered through it.
 * Existing mappings stay valid.
 */
struct segdev_detach {
	__u32 size;
	__u32 flags;
	__u64 reserved;
};

#define SEGDEV_DETACH_FLAGS	0U

/*
 * struct segdev_destroy - SEGDEV_IOC_DESTROY argument.
 * @size:	sizeof(struct segdev_destroy).
 * @flags:	SEGDEV_DESTROY_* flags.
 * @reserved:	must be 0.
 * @name:	name of the segment to destroy.
 *
 * Only the owner (fsuid) or CAP_SYS_ADMIN may destroy (else EPERM).  ENOENT if no such
 * segment.  If anything besides the name holds the segment (attached files, mappings,
 * kernel users): EBUSY, or with SEGDEV_DESTROY_DEFERRED the name is removed now and the
 * memory freed when the last user is gone.  A file need not be attached to destroy.
 */
struct segdev_destroy {
	__u32 size;
	__u32 flags;
	__u64 reserved;
	char name[SEGDEV_NAME_LEN];
};

/* Remove the name even if the segment is in use; free it with its last user. */
#define SEGDEV_DESTROY_DEFERRED	(1U << 0)
#define SEGDEV_DESTROY_FLAGS	(SEGDEV_DESTROY_DEFERRED)

/*
 * struct segdev_info - SEGDEV_IOC_INFO argument.
 * @size:	sizeof(struct segdev_info) (in).
 * @flags:	SEGDEV_INFO_BY_NAME to look the segment up by @name, else the segment this
 *		file is attached to (in).
 * @seg_size:	size given at creation, in bytes (out).
 * @map_size:	@seg_size rounded up to pages: the largest valid mmap length (out).
 * @uid:	owner uid in the caller's user namespace (out; overflow uid if unmapped).
 * @gid:	owner gid in the caller's user namespace (out; overflow gid if unmapped).
 * @mode:	permission bits (out).
 * @state:	SEGDEV_STATE_* bits (out).
 * @nr_attached: number of files attached now (out).
 * @nr_mappings: number of mappings (VMAs) of the segment now (out).
 * @nr_waiters:	number of registered waiters (out).
 * @nr_kernel_users: number of kernel references (segdev_get_by_name) now (out).
 * @doorbell_rings: doorbells rung since creation, all ports (out).
 * @doorbell_handled: rings delivered to a kernel doorbell handler (out).
 * @reserved:	must be 0 (in); 0 (out).
 * @name:	segment name (in with SEGDEV_INFO_BY_NAME; out always).
 *
 * Looking up by name needs no permission (like stat on a file).  ENOENT if no such
 * segment, ENOTCONN without SEGDEV_INFO_BY_NAME on a file that is not attached.
 */
struct segdev_info {
	__u32 size;
	__u32 flags;
	__u64 seg_size;
	__u64 map_size;
	__u32 uid;
	__u32 gid;
	__u32 mode;
	__u32 state;
	__u32 nr_attached;
	__u32 nr_mappings;
	__u32 nr_waiters;
	__u32 nr_kernel_users;
	__u64 doorbell_rings;
	__u64 doorbell_handled;
	__u64 reserved[4];
	char name[SEGDEV_NAME_LEN];
};

#define SEGDEV_INFO_BY_NAME	(1U << 0)
#define SEGDEV_INFO_FLAGS	(SEGDEV_INFO_BY_NAME)

/* The segment was destroyed with SEGDEV_DESTROY_DEFERRED and lives on for its users. */
#define SEGDEV_STATE_DESTROYED	(1U << 0)
/* A kernel doorbell handler is registered. */
#define SEGDEV_STATE_HANDLER	(1U << 1)

/*
 * struct segdev_list - SEGDEV_IOC_LIST argument.
 * @size:	sizeof(struct segdev_list) (in).
 * @flags:	must be 0 (in).
 * @count:	capacity of @names in entries (in); number of live named segments (out).
 *		If the out value exceeds the in value, only the first in-value names were
 *		written: retry with a larger buffer.
 * @reserved0:	must be 0.
 * @names:	user pointer to an array of @count char[SEGDEV_NAME_LEN] (in); may be 0 when
 *		@count is 0 to ask for the number of segments.
 * @reserved:	must be 0.
 */
struct segdev_list {
	__u32 size;
	__u32 flags;
	__u32 count;
	__u32 reserved0;
	__u64 names;
	__u64 reserved[2];
};

#define SEGDEV_LIST_FLAGS	0U

/*
 * struct segdev_doorbell - SEGDEV_IOC_DOORBELL argument.
 * @size:	sizeof(struct segdev_doorbell).
 * @flags:	must be 0.
 * @port:	port number to ring; its meaning is up to the segment's users.
 * @reserved:	must be 0.
 *
 * Counts the ring and calls the segment's kernel doorbell handler, if one is registered,
 * with @port.  Needs an attached file.  write(2) of an array of __u32 port numbers on an
 * attached file rings each of them in turn and returns the number of bytes consumed
 * (a multiple of 4; EINVAL if fewer than 4 bytes are given).
 */
struct segdev_doorbell {
	__u32 size;
	__u32 flags;
	__u32 port;
	__u32 reserved;
};

#define SEGDEV_DOORBELL_FLAGS	0U

/*
 * struct segdev_waiter - SEGDEV_IOC_REGISTER_WAITER / SEGDEV_IOC_UNREGISTER_WAITER argument.
 * @size:	sizeof(struct segdev_waiter).
 * @flags:	SEGDEV_WAITER_SIGNO or 0 (REGISTER); 0 (UNREGISTER).
 * @port:	port number the calling thread waits on.
 * @signo:	with SEGDEV_WAITER_SIGNO: the one real-time signal (SIGRTMIN..SIGRTMAX) kernel
 *		users may send to this registration; must be 0 otherwise.
 *
 * REGISTER records the calling thread (not its process) as the waiter of @port for the
 * segment this file is attached to; kernel users of the segment may then send it queued
 * real-time signals (si_code SI_QUEUE, si_pid 0, si_int a payload) and no other thread.
 * With SEGDEV_WAITER_SIGNO only @signo is delivered (any other fails with EPERM in the
 * kernel user), so a signal number that a kernel user took from shared memory cannot reach
 * the thread unless the thread itself asked for it.  Registering again from the same thread
 * through the same file replaces @signo.
 * One waiter per port: EBUSY if another live thread holds @port (a registration whose
 * thread has exited is replaced), ENOSPC if the segment has max_waiters.
 * UNREGISTER removes the registration of @port made through this file (ENOENT if none).
 * Registrations also end on DETACH and when the file is closed.
 */
struct segdev_waiter {
	__u32 size;
	__u32 flags;
	__u32 port;
	__u32 signo;
};

/* Restrict kernel signals to this registration to @signo. */
#define SEGDEV_WAITER_SIGNO	(1U << 0)
#define SEGDEV_WAITER_FLAGS	(SEGDEV_WAITER_SIGNO)

/* ioctl magic; 0xB9 is not listed in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define SEGDEV_IOC_MAGIC	0xB9

#define SEGDEV_IOC_CREATE		_IOW(SEGDEV_IOC_MAGIC, 0x00, struct segdev_create)
#define SEGDEV_IOC_ATTACH		_IOW(SEGDEV_IOC_MAGIC, 0x01, struct segdev_attach)
#define SEGDEV_IOC_DETACH		_IOW(SEGDEV_IOC_MAGIC, 0x02, struct segdev_detach)
#define SEGDEV_IOC_DESTROY		_IOW(SEGDEV_IOC_MAGIC, 0x03, struct segdev_destroy)
#define SEGDEV_IOC_INFO			_IOWR(SEGDEV_IOC_MAGIC, 0x04, struct segdev_info)
#define SEGDEV_IOC_LIST			_IOWR(SEGDEV_IOC_MAGIC, 0x05, struct segdev_list)
#define SEGDEV_IOC_DOORBELL		_IOW(SEGDEV_IOC_MAGIC, 0x06, struct segdev_doorbell)
#define SEGDEV_IOC_REGISTER_WAITER	_IOW(SEGDEV_IOC_MAGIC, 0x07, struct segdev_waiter)
#define SEGDEV_IOC_UNREGISTER_WAITER	_IOW(SEGDEV_IOC_MAGIC, 0x08, struct segdev_waiter)

#endif /* _UAPI_XSEG_SEGDEV_H */
