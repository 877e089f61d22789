// SPDX-License-Identifier: GPL-2.0
/*
 * xsegbd.ko: module, the /sys/bus/xsegbd control interface (<uapi/xseg/xsegbd.h>), adding
 * and removing devices, device attributes.
 *
 * One xseg handle per device (xseg_kernel_join() at add, xseg_leave() at remove), even when
 * several devices share a segment: a handle has its own peer tag, so a device's ports,
 * descriptors and requests are reclaimed by xseg_leave() alone, and one device's removal
 * or failure never touches another's state.  The mapping itself is shared (segdev hands out
 * the same pages), so the cost is a handle and a table of bound ports per device.
 *
 * Every device holds a reference on this module, so rmmod is refused while devices exist;
 * xseg.ko is held through the symbols we use and segdev.ko through the joined segment.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "xsegbd.h"
#include "xsegbd_compat.h"

/* Sets an unsigned int module parameter to val if it lies in [min, max]. */
static int xsegbd_param_set_range(const char *val, const struct kernel_param *kp,
				  unsigned int min, unsigned int max)
{
	unsigned int v;
	int ret;

	ret = kstrtouint(val, 0, &v);
	if (ret)
		return ret;
	if (v < min || v > max)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, v);
	return 0;
}

static int xsegbd_param_set_window(const char *val, const struct kernel_param *kp)
{
	return xsegbd_param_set_range(val, kp, 0, XSEGBD_MAX_SECONDS);
}

static const struct kernel_param_ops xsegbd_window_ops = {
	.set = xsegbd_param_set_window,
	.get = param_get_uint,
};

static unsigned int xsegbd_recovery_window = XSEGBD_DEFAULT_RECOVERY;
module_param_cb(recovery_window, &xsegbd_window_ops, &xsegbd_recovery_window, 0644);
MODULE_PARM_DESC(recovery_window,
		 "Seconds I/O waits for a dead server to be replaced, for new devices (0-3600, default: 30)");

bool xsegbd_defer_issue = true;
module_param_named(defer_issue, xsegbd_defer_issue, bool, 0644);
MODULE_PARM_DESC(defer_issue,
		 "Requests that arrive while replies are due are sent by the reply handler (default: Y)");

static int xsegbd_param_set_defer_min(const char *val, const struct kernel_param *kp)
{
	return xsegbd_param_set_range(val, kp, 1, XSEGBD_MAX_DEPTH);
}

static const struct kernel_param_ops xsegbd_defer_min_ops = {
	.set = xsegbd_param_set_defer_min,
	.get = param_get_uint,
};

unsigned int xsegbd_defer_min = XSEGBD_DEFER_MIN;
module_param_cb(defer_min, &xsegbd_defer_min_ops, &xsegbd_defer_min, 0644);
MODULE_PARM_DESC(defer_min,
		 "Fast requests of a queue in flight before new ones are deferred (1-1024, default: 1)");

/* protects xsegbd_devices, every device's open_count and removing, xsegbd_last_added */
DEFINE_MUTEX(xsegbd_mutex);
/* serialises adds, so that last_added names the device of the last add */
static DEFINE_MUTEX(xsegbd_add_mutex);
static LIST_HEAD(xsegbd_devices);
static DEFINE_IDA(xsegbd_ida);
static int xsegbd_last_added = -1;
static int xsegbd_major;
static struct device *xsegbd_root;
static XSEGBD_BUS_TYPE xsegbd_bus;

static struct xsegbd_dev *to_xsegbd(struct device *d)
{
	return container_of(d, struct xsegbd_dev, dev);
}

/* ---- block device operations ---- */

static int xsegbd_open(XSEGBD_OPEN_ARGS)
{
	struct xsegbd_dev *dev = XSEGBD_OPEN_DISK->private_data;
	int ret = 0;

	mutex_lock(&xsegbd_mutex);
	if (dev->removing)
		ret = -ENXIO;
	else
		dev->open_count++;
	mutex_unlock(&xsegbd_mutex);
	return ret;
}

static void xsegbd_release(XSEGBD_RELEASE_ARGS)
{
	struct xsegbd_dev *dev = disk->private_data;

	mutex_lock(&xsegbd_mutex);
	dev->open_count--;
	mutex_unlock(&xsegbd_mutex);
}

static const struct block_device_operations xsegbd_fops = {
	.owner = THIS_MODULE,
	.open = xsegbd_open,
	.release = xsegbd_release,
};

/* ---- device attributes ---- */

static ssize_t segment_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s\n", to_xsegbd(d)->segment);
}
static DEVICE_ATTR_RO(segment);

static ssize_t port_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_xsegbd(d)->server_port);
}
static DEVICE_ATTR_RO(port);

static ssize_t ports_show(struct device *d, struct device_attribute *a, char *buf)
{
	struct xsegbd_dev *dev = to_xsegbd(d);
	int len = 0;
	u32 i;

	for (i = 0; i < dev->nr_queues; i++)
		len += sysfs_emit_at(buf, len, "%s%u", i ? " " : "", dev->queues[i].port);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}
static DEVICE_ATTR_RO(ports);

static ssize_t target_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s\n", to_xsegbd(d)->target);
}
static DEVICE_ATTR_RO(target);

static ssize_t size_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%llu\n", (unsigned long long)READ_ONCE(to_xsegbd(d)->size));
}
static DEVICE_ATTR_RO(size);

static ssize_t block_size_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_xsegbd(d)->block_size);
}
static DEVICE_ATTR_RO(block_size);

static ssize_t queues_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_xsegbd(d)->nr_queues);
}
static DEVICE_ATTR_RO(queues);

static ssize_t depth_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_xsegbd(d)->depth);
}
static DEVICE_ATTR_RO(depth);

static ssize_t timeout_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_xsegbd(d)->timeout);
}
static DEVICE_ATTR_RO(timeout);

static ssize_t recovery_window_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%u\n", to_xsegbd(d)->recovery_window);
}
static DEVICE_ATTR_RO(recovery_window);

static ssize_t state_show(struct device *d, struct device_attribute *a, char *buf)
{
	static const char * const names[] = {
		[XSEGBD_RUNNING] = XSEGBD_STATE_RUNNING,
		[XSEGBD_RECOVERING] = XSEGBD_STATE_RECOVERING,
		[XSEGBD_FAILED] = XSEGBD_STATE_FAILED,
	};
	struct xsegbd_dev *dev = to_xsegbd(d);
	enum xsegbd_state state;

	spin_lock_irq(&dev->lock);
	state = dev->state;
	spin_unlock_irq(&dev->lock);
	return sysfs_emit(buf, "%s\n", names[state]);
}
static DEVICE_ATTR_RO(state);

static ssize_t major_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%d\n", xsegbd_major);
}
static DEVICE_ATTR_RO(major);

static ssize_t minor_show(struct device *d, struct device_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%d\n", to_xsegbd(d)->id * XSEGBD_MINORS);
}
static DEVICE_ATTR_RO(minor);

static ssize_t stats_show(struct device *d, struct device_attribute *a, char *buf)
{
	struct xsegbd_dev *dev = to_xsegbd(d);
	struct xsegbd_stats *s = &dev->stats;
	s64 abandoned = atomic64_read(&s->stranded), stale = atomic64_read(&s->stale);

	return sysfs_emit(buf, "%u %lld %lld %lld %lld %lld %lld %lld %lld\n", xsegbd_inflight(dev),
			  atomic64_read(&s->completed), atomic64_read(&s->errors),
			  atomic64_read(&s->timeouts), atomic64_read(&s->reissued), stale,
			  atomic64_read(&s->bogus), abandoned > stale ? abandoned - stale : 0,
			  atomic64_read(&s->deferred));
}
static DEVICE_ATTR_RO(stats);

static ssize_t refresh_store(struct device *d, struct device_attribute *a, const char *buf,
			     size_t count)
{
	struct xsegbd_dev *dev = to_xsegbd(d);
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = xsegbd_info(dev);
	if (ret)
		return ret;
	set_capacity_and_notify(dev->disk, dev->size >> SECTOR_SHIFT);
	return count;
}
static DEVICE_ATTR_WO(refresh);

static struct attribute *xsegbd_dev_attrs[] = {
	&dev_attr_segment.attr,
	&dev_attr_port.attr,
	&dev_attr_ports.attr,
	&dev_attr_target.attr,
	&dev_attr_size.attr,
	&dev_attr_block_size.attr,
	&dev_attr_queues.attr,
	&dev_attr_depth.attr,
	&dev_attr_timeout.attr,
	&dev_attr_recovery_window.attr,
	&dev_attr_state.attr,
	&dev_attr_major.attr,
	&dev_attr_minor.attr,
	&dev_attr_stats.attr,
	&dev_attr_refresh.attr,
	NULL,
};
ATTRIBUTE_GROUPS(xsegbd_dev);

static void xsegbd_dev_release(struct device *d)
{
	kfree(to_xsegbd(d));
}

/* ---- add ---- */

enum {
	XSEGBD_KEY_SEGMENT,
	XSEGBD_KEY_PORT,
	XSEGBD_KEY_TARGET,
	XSEGBD_KEY_QUEUES,
	XSEGBD_KEY_DEPTH,
	XSEGBD_KEY_TIMEOUT,
	XSEGBD_KEY_WINDOW,
	XSEGBD_NR_KEYS,
};

static const char * const xsegbd_keys[XSEGBD_NR_KEYS] = {
	[XSEGBD_KEY_SEGMENT] = "segment",
	[XSEGBD_KEY_PORT] = "port",
	[XSEGBD_KEY_TARGET] = "target",
	[XSEGBD_KEY_QUEUES] = "queues",
	[XSEGBD_KEY_DEPTH] = "depth",
	[XSEGBD_KEY_TIMEOUT] = "timeout",
	[XSEGBD_KEY_WINDOW] = "recovery_window",
};

static int xsegbd_parse_u32(const char *val, u32 min, u32 max, u32 *out)
{
	u32 v;

	if (kstrtou32(val, 10, &v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A name without '/', spaces or control characters, not "." or "..". */
static int xsegbd_parse_name(const char *val, size_t max, char *out)
{
	size_t len = strlen(val), i;

	if (!len || len > max || !strcmp(val, ".") || !strcmp(val, ".."))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (val[i] == '/' || !isgraph(val[i]))
			return -EINVAL;
	memcpy(out, val, len + 1);
	return 0;
}

static int xsegbd_parse_word(struct xsegbd_dev *dev, char *word, unsigned long *seen)
{
	char *val = strchr(word, '=');
	int key;

	if (!val)
		return -EINVAL;
	*val++ = '\0';
	key = match_string(xsegbd_keys, XSEGBD_NR_KEYS, word);
	if (key < 0 || test_and_set_bit(key, seen))
		return -EINVAL;
	switch (key) {
	case XSEGBD_KEY_SEGMENT:
		return xsegbd_parse_name(val, XSEGBD_SEGNAME_MAX - 1, dev->segment);
	case XSEGBD_KEY_PORT:
		return xsegbd_parse_u32(val, 0, XSEG_MAX_PORTS - 1, &dev->server_port);
	case XSEGBD_KEY_TARGET:
		return xsegbd_parse_name(val, XSEG_BLK_TARGET_MAX, dev->target);
	case XSEGBD_KEY_QUEUES:
		return xsegbd_parse_u32(val, 1, XSEGBD_MAX_QUEUES, &dev->nr_queues);
	case XSEGBD_KEY_DEPTH:
		return xsegbd_parse_u32(val, 1, XSEGBD_MAX_DEPTH, &dev->depth);
	case XSEGBD_KEY_TIMEOUT:
		return xsegbd_parse_u32(val, 1, XSEGBD_MAX_SECONDS, &dev->timeout);
	case XSEGBD_KEY_WINDOW:
		return xsegbd_parse_u32(val, 0, XSEGBD_MAX_SECONDS, &dev->recovery_window);
	}
	return -EINVAL;
}

static int xsegbd_parse(struct xsegbd_dev *dev, const char *buf, size_t count)
{
	DECLARE_BITMAP(seen, XSEGBD_NR_KEYS) = { 0 };
	char *copy, *s, *word;
	int ret = 0;

	copy = kstrndup(buf, count, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	dev->nr_queues = XSEGBD_DEFAULT_QUEUES;
	dev->depth = XSEGBD_DEFAULT_DEPTH;
	dev->timeout = XSEGBD_DEFAULT_TIMEOUT;
	dev->recovery_window = READ_ONCE(xsegbd_recovery_window);
	s = strim(copy);
	while (!ret && (word = strsep(&s, " \t\n")) != NULL) {
		if (*word)
			ret = xsegbd_parse_word(dev, word, seen);
	}
	if (!ret && (!test_bit(XSEGBD_KEY_SEGMENT, seen) || !test_bit(XSEGBD_KEY_PORT, seen) ||
		     !test_bit(XSEGBD_KEY_TARGET, seen)))
		ret = -EINVAL;
	dev->target_len = strlen(dev->target);
	kfree(copy);
	return ret;
}

/* Joins the segment and checks it against the configuration. */
static int xsegbd_join(struct xsegbd_dev *dev)
{
	struct xseg_info info;
	u64 owner;
	int ret;

	ret = xseg_kernel_join(dev->segment, &dev->xseg);
	if (ret)
		return ret;
	ret = xseg_get_info(dev->xseg, &info);
	if (ret)
		goto err_leave;
	ret = -ENXIO;
	if (dev->server_port >= info.nr_ports || !xsegbd_server_alive(dev, &owner))
		goto err_leave;
	dev->server_owner = owner;
	/* a request's data must fit the heap many times over: at most a quarter of it */
	dev->max_io = min_t(u64, XSEGBD_MAX_IO, rounddown_pow_of_two(info.heap_size / 4));
	ret = -ENOSPC;
	if (dev->max_io < PAGE_SIZE)
		goto err_leave;
	return 0;

err_leave:
	xseg_leave(dev->xseg);
	dev->xseg = NULL;
	return ret;
}

/* One own port per hardware queue, each with a callback descriptor. */
static int xsegbd_setup_queues(struct xsegbd_dev *dev)
{
	u32 i;
	int ret;

	ret = xseg_local_signal_init(dev->xseg, XSEG_SIGNAL_CALLBACK);
	if (ret)
		return ret;
	dev->queues = kcalloc(dev->nr_queues, sizeof(*dev->queues), GFP_KERNEL);
	if (!dev->queues)
		return -ENOMEM;
	for (i = 0; i < dev->nr_queues; i++) {
		struct xsegbd_queue *q = &dev->queues[i];

		q->dev = dev;
		q->index = i;
		q->rqs = kcalloc(dev->depth, sizeof(*q->rqs), GFP_KERNEL);
		q->pending = bitmap_zalloc(dev->depth, GFP_KERNEL);
		if (!q->rqs || !q->pending)
			return -ENOMEM;
		ret = xseg_get_signal_desc(dev->xseg, XSEG_SIGNAL_CALLBACK, &q->sd);
		if (ret)
			return ret;
		ret = xseg_bind_port(dev->xseg, XSEG_PORT_ANY, q->sd);
		if (ret < 0)
			return ret == -EBUSY ? -ENOSPC : ret;
		q->port = ret;
		/* replies complete in the server's doorbell, without a work item's hop */
		ret = xseg_kcallback_set(q->sd, xsegbd_reply_callback, q, XSEG_KCB_DIRECT);
		if (ret)
			return ret;
	}
	return 0;
}

static void xsegbd_free_queues(struct xsegbd_dev *dev)
{
	u32 i;

	if (!dev->queues)
		return;
	for (i = 0; i < dev->nr_queues; i++) {
		kfree(dev->queues[i].rqs);
		bitmap_free(dev->queues[i].pending);
	}
	kfree(dev->queues);
	dev->queues = NULL;
}

static int xsegbd_setup_disk(struct xsegbd_dev *dev)
{
	struct blk_mq_tag_set *set = &dev->tag_set;
	struct xsegbd_limits lim = {
		.logical_block_size = dev->block_size,
		.physical_block_size = max_t(u32, 4096, dev->block_size),
		.max_hw_sectors = dev->max_io >> SECTOR_SHIFT,
		.max_discard_sectors = (1U << 30) >> SECTOR_SHIFT,
		.max_write_zeroes_sectors = (1U << 30) >> SECTOR_SHIFT,
	};
	struct gendisk *disk;
	int ret;

	set->ops = &xsegbd_mq_ops;
	set->nr_hw_queues = dev->nr_queues;
	set->queue_depth = dev->depth;
	set->numa_node = NUMA_NO_NODE;
	set->cmd_size = sizeof(struct xsegbd_cmd);
	/* BLOCKING: issuing calls into the core and xseg_signal(), whose types may sleep */
	set->flags = BLK_MQ_F_SHOULD_MERGE | BLK_MQ_F_BLOCKING;
	set->driver_data = dev;
	set->timeout = dev->timeout * HZ;
	ret = blk_mq_alloc_tag_set(set);
	if (ret)
		return ret;
	disk = xsegbd_alloc_disk(set, &lim, dev);
	if (IS_ERR(disk)) {
		blk_mq_free_tag_set(set);
		return PTR_ERR(disk);
	}
	disk->major = xsegbd_major;
	disk->first_minor = dev->id * XSEGBD_MINORS;
	disk->minors = XSEGBD_MINORS;
	disk->fops = &xsegbd_fops;
	disk->private_data = dev;
	snprintf(disk->disk_name, sizeof(disk->disk_name), "xsegbd%d", dev->id);
	set_capacity(disk, dev->size >> SECTOR_SHIFT);
	dev->disk = disk;
	return 0;
}

/* Undoes whatever of xsegbd_create() was done; the caller then puts dev->dev. */
static void xsegbd_teardown(struct xsegbd_dev *dev)
{
	if (dev->disk_added)
		del_gendisk(dev->disk);
	if (device_is_registered(&dev->dev))
		device_del(&dev->dev);	/* waits for attribute writers (refresh) */
	spin_lock_irq(&dev->lock);
	dev->stopping = true;
	spin_unlock_irq(&dev->lock);
	cancel_delayed_work_sync(&dev->watchdog);
	if (dev->xseg)
		xseg_leave(dev->xseg);	/* stops the callbacks, leaves the ports */
	dev->xseg = NULL;
	if (dev->disk) {
		put_disk(dev->disk);
		blk_mq_free_tag_set(&dev->tag_set);
	}
	xsegbd_free_queues(dev);
	if (dev->id >= 0)
		ida_free(&xsegbd_ida, dev->id);
}

static int xsegbd_create(struct xsegbd_dev *dev)
{
	int ret;

	ret = ida_alloc_max(&xsegbd_ida, XSEGBD_MAX_DEVICES - 1, GFP_KERNEL);
	if (ret < 0)
		return ret;
	dev->id = ret;
	ret = xsegbd_join(dev);
	if (ret)
		return ret;
	ret = xsegbd_setup_queues(dev);
	if (ret)
		return ret;
	ret = xsegbd_info(dev);
	if (ret)
		return ret == -EAGAIN ? -ENOSPC : ret;
	ret = xsegbd_setup_disk(dev);
	if (ret)
		return ret;
	dev_set_name(&dev->dev, "%d", dev->id);
	ret = device_add(&dev->dev);
	if (ret)
		return ret;
	queue_delayed_work(system_wq, &dev->watchdog, msecs_to_jiffies(XSEGBD_WATCH_MS));
	ret = device_add_disk(&dev->dev, dev->disk, NULL);
	if (ret)
		return ret;
	dev->disk_added = true;
	return 0;
}

static ssize_t add_store(XSEGBD_BUS_TYPE *bus, const char *buf, size_t count)
{
	struct xsegbd_dev *dev;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->id = -1;
	spin_lock_init(&dev->lock);
	mutex_init(&dev->info_mutex);
	init_completion(&dev->info_done);
	INIT_DELAYED_WORK(&dev->watchdog, xsegbd_watchdog_fn);
	device_initialize(&dev->dev);
	dev->dev.bus = &xsegbd_bus;
	dev->dev.parent = xsegbd_root;
	dev->dev.groups = xsegbd_dev_groups;
	dev->dev.release = xsegbd_dev_release;

	ret = xsegbd_parse(dev, buf, count);
	if (ret)
		goto err_put;
	mutex_lock(&xsegbd_add_mutex);
	ret = xsegbd_create(dev);
	if (ret) {
		mutex_unlock(&xsegbd_add_mutex);
		xsegbd_teardown(dev);
		goto err_put;
	}
	__module_get(THIS_MODULE);
	mutex_lock(&xsegbd_mutex);
	list_add_tail(&dev->node, &xsegbd_devices);
	xsegbd_last_added = dev->id;
	mutex_unlock(&xsegbd_mutex);
	mutex_unlock(&xsegbd_add_mutex);
	pr_info("xsegbd%d: %s port %u target %s, %llu bytes, %u queues x %u\n", dev->id,
		dev->segment, dev->server_port, dev->target, dev->size, dev->nr_queues,
		dev->depth);
	return count;

err_put:
	put_device(&dev->dev);
	return ret;
}
static BUS_ATTR_WO(add);

/* ---- remove ---- */

static void xsegbd_destroy(struct xsegbd_dev *dev, bool force)
{
	if (force) {
		spin_lock_irq(&dev->lock);
		dev->state = XSEGBD_FAILED;
		spin_unlock_irq(&dev->lock);
		xsegbd_fail_all(dev);
	}
	pr_info("xsegbd%d: removed%s\n", dev->id, force ? " (forced)" : "");
	xsegbd_teardown(dev);
	put_device(&dev->dev);
	module_put(THIS_MODULE);
}

static ssize_t remove_store(XSEGBD_BUS_TYPE *bus, const char *buf, size_t count)
{
	struct xsegbd_dev *dev = NULL, *it;
	char word[8] = "";
	bool force = false;
	int id, n;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	n = sscanf(buf, "%d %7s", &id, word);
	if (n < 1 || id < 0)
		return -EINVAL;
	if (n == 2) {
		if (strcmp(word, "force"))
			return -EINVAL;
		force = true;
	}
	mutex_lock(&xsegbd_mutex);
	list_for_each_entry(it, &xsegbd_devices, node) {
		if (it->id == id) {
			dev = it;
			break;
		}
	}
	if (!dev) {
		mutex_unlock(&xsegbd_mutex);
		return -ENOENT;
	}
	if (dev->open_count && !force) {
		mutex_unlock(&xsegbd_mutex);
		return -EBUSY;
	}
	dev->removing = true;
	list_del(&dev->node);
	mutex_unlock(&xsegbd_mutex);
	xsegbd_destroy(dev, force);
	return count;
}
static BUS_ATTR_WO(remove);

static ssize_t last_added_show(XSEGBD_BUS_TYPE *bus, char *buf)
{
	int id;

	mutex_lock(&xsegbd_mutex);
	id = xsegbd_last_added;
	mutex_unlock(&xsegbd_mutex);
	return sysfs_emit(buf, "%d\n", id);
}
static BUS_ATTR_RO(last_added);

static struct attribute *xsegbd_bus_attrs[] = {
	&bus_attr_add.attr,
	&bus_attr_remove.attr,
	&bus_attr_last_added.attr,
	NULL,
};
ATTRIBUTE_GROUPS(xsegbd_bus);

static XSEGBD_BUS_TYPE xsegbd_bus = {
	.name = "xsegbd",
	.bus_groups = xsegbd_bus_groups,
};

static int __init xsegbd_init(void)
{
	int ret;

	ret = register_blkdev(0, "xsegbd");
	if (ret < 0)
		return ret;
	xsegbd_major = ret;
	xsegbd_root = root_device_register("xsegbd");
	if (IS_ERR(xsegbd_root)) {
		ret = PTR_ERR(xsegbd_root);
		goto err_blkdev;
	}
	ret = bus_register(&xsegbd_bus);
	if (ret)
		goto err_root;
	pr_info("loaded (major %d)\n", xsegbd_major);
	return 0;

err_root:
	root_device_unregister(xsegbd_root);
err_blkdev:
	unregister_blkdev(xsegbd_major, "xsegbd");
	return ret;
}

static void __exit xsegbd_exit(void)
{
	/* devices hold module references: none is left here */
	WARN_ON(!list_empty(&xsegbd_devices));
	bus_unregister(&xsegbd_bus);
	root_device_unregister(xsegbd_root);
	unregister_blkdev(xsegbd_major, "xsegbd");
	ida_destroy(&xsegbd_ida);
}

module_init(xsegbd_init);
module_exit(xsegbd_exit);

MODULE_DESCRIPTION("xsegbd: block devices served by xseg storage peers");
MODULE_LICENSE("GPL");
