// SPDX-License-Identifier: GPL-2.0
/*
 * xseg.ko: the segment core (sys/common, shared with libxseg) built for the kernel domain.
 * The API is exported from exports.c; segment backends (segdev) and signal types come in
 * their own modules and register through it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include <uapi/xseg/xseg.h>

static int __init xseg_init(void)
{
	pr_info("segment core loaded (ABI version %d)\n", XSEG_VERSION);
	return 0;
}

static void __exit xseg_exit(void)
{
	pr_info("segment core unloaded\n");
}

module_init(xseg_init);
module_exit(xseg_exit);

MODULE_DESCRIPTION("xseg shared memory segment core");
MODULE_AUTHOR("xseg developers");
MODULE_LICENSE("GPL");
