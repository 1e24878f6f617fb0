/*
 * The block class as drivers and the kernel share it: the disk a block
 * driver registers and the requests the kernel gives it. C, included by block
 * drivers (after <nooks/kapi.h>) and by the kernel side (native/classes/block).
 *
 *   the kernel                           the driver
 *   blk_register_disk(disk)     <-----   probe: a disk for its pci_dev
 *   disk->ops->submit(disk, rq) ----->   program the device (a crossing; the
 *                                        kernel queues several per crossing)
 *   disk->ops->commit(disk)     ----->   optional, last in the same crossing,
 *                                        whatever the submits returned: start
 *                                        what they queued (one doorbell)
 *   blk_complete(rq, status)    <-----   the completion interrupt
 *   blk_unregister_disk(disk)   <-----   remove
 *
 * Requests and their data buffers belong to the kernel but live in the
 * driver's DMA memory (as dma_map_single would map them): the kernel
 * allocates queue_depth of them, each with max_sectors of buffer, when the
 * disk is registered; rq->dma is the buffer's bus address for the device.
 * The driver reads a request and its buffer, never frees them, and completes
 * each request it was given exactly once. The kernel calls a disk's submit
 * and commit from one thread, one batch at a time.
 */
#ifndef NOOKS_BLKDEV_H
#define NOOKS_BLKDEV_H

#define BLK_SECTOR_SIZE 512
#define BLK_MAX_QUEUE_DEPTH 256
#define BLK_MAX_SECTORS 256	/* 128 KiB per request at most */

enum blk_op { BLK_OP_READ = 0, BLK_OP_WRITE = 1, BLK_OP_FLUSH = 2 };

struct blk_request {
	u32 op;			/* enum blk_op */
	u32 tag;		/* the kernel's slot number: unique among requests in flight */
	u64 sector;		/* first sector (read, write) */
	u32 count;		/* sectors (read, write); 0 for flush */
	u32 reserved;
	void *buffer;		/* count * 512 bytes: data to write, or room for data read */
	dma_addr_t dma;		/* the buffer's bus address */
	void *driver_data;	/* the driver's, untouched by the kernel */
};

#include <nooks/ops/blk_disk_ops.h>	/* the operations: lib/wrappers/ops/block.ts */

struct blk_disk {
	struct pci_dev *pdev;		/* the device (the disk takes its name) */
	u64 capacity;			/* in 512-byte sectors */
	u32 queue_depth;		/* requests in flight at most (1..BLK_MAX_QUEUE_DEPTH) */
	u32 max_sectors;		/* sectors per request at most (1..BLK_MAX_SECTORS) */
	const struct blk_disk_ops *ops;	/* the driver's operations */
	void *private_data;		/* the driver's */
};

#endif
