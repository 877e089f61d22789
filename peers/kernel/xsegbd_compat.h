/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel API differences xsegbd meets between 6.1 and 6.12, in one place:
 *  - queue limits: set on the queue after allocation (6.1) or passed to
 *    blk_mq_alloc_disk() with features (6.9+);
 *  - block_device_operations open/release take a block_device + fmode_t (6.1) or the
 *    gendisk + blk_mode_t (6.5+);
 *  - bus attribute callbacks take a const struct bus_type (6.4+).
 */
#ifndef _XSEGBD_COMPAT_H
#define _XSEGBD_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/version.h>

/* What xsegbd sets on its queue, whatever the kernel's way of setting it. */
struct xsegbd_limits {
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int max_hw_sectors;
	unsigned int max_discard_sectors;
	unsigned int max_write_zeroes_sectors;
};

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
static inline struct gendisk *xsegbd_alloc_disk(struct blk_mq_tag_set *set,
						const struct xsegbd_limits *l, void *data)
{
	struct queue_limits lim = {
		.logical_block_size = l->logical_block_size,
		.physical_block_size = l->physical_block_size,
		.max_hw_sectors = l->max_hw_sectors,
		.max_hw_discard_sectors = l->max_discard_sectors,
		.discard_granularity = l->logical_block_size,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
		.features = BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA,
	};

	return blk_mq_alloc_disk(set, &lim, data);
}
#else
static inline struct gendisk *xsegbd_alloc_disk(struct blk_mq_tag_set *set,
						const struct xsegbd_limits *l, void *data)
{
	struct gendisk *disk = blk_mq_alloc_disk(set, data);
	struct request_queue *q;

	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, l->logical_block_size);
	blk_queue_physical_block_size(q, l->physical_block_size);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_discard_sectors(q, l->max_discard_sectors);
	q->limits.discard_granularity = l->logical_block_size;
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
	blk_queue_write_cache(q, true, true);
	return disk;
}
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define XSEGBD_OPEN_ARGS	struct gendisk *disk, blk_mode_t mode
#define XSEGBD_OPEN_DISK	disk
#define XSEGBD_RELEASE_ARGS	struct gendisk *disk
#else
#define XSEGBD_OPEN_ARGS	struct block_device *bdev, fmode_t mode
#define XSEGBD_OPEN_DISK	(bdev->bd_disk)
#define XSEGBD_RELEASE_ARGS	struct gendisk *disk, fmode_t mode
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define XSEGBD_BUS_TYPE		const struct bus_type
#else
#define XSEGBD_BUS_TYPE		struct bus_type
#endif

#endif /* _XSEGBD_COMPAT_H */
