/*
 * @NAME@: a block driver (written by `nooks new @NAME@ --class block`) for
 * the emulated queue-based disk, `kernel.addDevice('blk', { image, size })`
 * (its registers: <nooks/hw/blkdev_regs.h>). Derived from drivers/blk/blk.c.
 *
 *   npx nooks build @NAME@/@NAME@.c -o build/@NAME@.so
 *   node --test @NAME@/@NAME@.test.mjs        # writes and reads the disk
 *
 * The block class (<nooks/blkdev.h>): probe registers a disk with
 * blk_register_disk(); applications read and write it (openBlock(kernel,
 * 'blk0')); the kernel queues their requests and hands them to submit(),
 * several per crossing, then calls commit() once; the driver programs the
 * device (submit writes entries, commit rings the doorbell) and, when the device
 * says a request is done, calls blk_complete() once for it. remove undoes
 * probe. If the driver fails, it is torn down (what it held is released) and
 * restarted; its shadow keeps the disk and the requests in flight, and gives
 * them to the restarted driver, so applications see nothing but a delay.
 */
#include <nooks/kapi.h>

#include <nooks/blkdev.h>
#include <nooks/hw/blkdev_regs.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: a block driver made with nooks new");

#define QSIZE		64	/* entries in each ring: they fit in a page */
#define QUEUE_DEPTH	32	/* requests in flight at most (< QSIZE: the ring never fills) */
#define MAX_SECTORS	64	/* 32 KiB per request: the kernel splits larger ones */

struct @NAME@_disk {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct blkdev_sqe *sq;		/* submission ring: the driver writes, the device reads */
	struct blkdev_cqe *cq;		/* completion ring: the device writes, the driver reads */
	dma_addr_t sq_dma, cq_dma;
	u32 sq_tail;			/* submit and commit only: the kernel calls them from one thread */
	u32 sq_head;			/* the interrupt's (from completion entries); submit reads it atomically */
	u32 cq_head;
	u16 phase;			/* the phase of completion entries not consumed yet */
	struct blk_request *rqs[QSIZE];	/* in flight, by tag */
	struct blk_disk disk;
};

/*
 * The kernel calls this with requests to start: 0, or -EBUSY to be given it
 * again later. It writes the request's entry; the device sees it at commit.
 * No lock: the kernel submits from one thread, and the interrupt touches
 * neither sq_tail nor a tag the kernel gives (it is free).
 */
static int @NAME@_submit(struct blk_disk *disk, struct blk_request *rq)
{
	struct @NAME@_disk *d = disk->private_data;
	struct blkdev_sqe *e;
	u32 tail;

	if (rq->tag >= QSIZE)
		return -EINVAL;
	tail = (d->sq_tail + 1) % QSIZE;
	if (tail == __atomic_load_n(&d->sq_head, __ATOMIC_RELAXED) || d->rqs[rq->tag])
		return -EBUSY;
	e = &d->sq[d->sq_tail];
	memset(e, 0, sizeof(*e));
	e->opcode = rq->op == BLK_OP_WRITE ? BLKDEV_OP_WRITE : rq->op == BLK_OP_FLUSH ? BLKDEV_OP_FLUSH : BLKDEV_OP_READ;
	e->tag = rq->tag;
	e->sector = rq->sector;
	e->count = rq->count;
	e->buffer = rq->dma;		/* the device reads or writes the request's buffer itself */
	d->rqs[rq->tag] = rq;
	d->sq_tail = tail;
	return 0;
}

/* After each batch of submits, whatever they returned: one doorbell starts all they wrote. */
static void @NAME@_commit(struct blk_disk *disk)
{
	struct @NAME@_disk *d = disk->private_data;

	iowrite32(d->sq_tail, d->regs + BLKDEV_REG_SQ_TAIL);	/* the doorbell */
}

static const struct blk_disk_ops @NAME@_ops = {
	.submit = @NAME@_submit,
	.commit = @NAME@_commit,
};

/* The device completed requests: reap the completion ring, then complete them (one interrupt thread: no lock). */
static irqreturn_t @NAME@_irq(int irq, void *data)
{
	struct @NAME@_disk *d = data;
	struct blk_request *done[QSIZE];
	int status[QSIZE];
	int n = 0, i;

	iowrite32(BLKDEV_INTR_CQ, d->regs + BLKDEV_REG_INTR_ACK);
	for (;;) {
		volatile struct blkdev_cqe *c = &d->cq[d->cq_head];
		u32 tag;

		if (c->phase != d->phase)
			break;		/* not written by the device yet */
		__asm__ __volatile__("" ::: "memory");	/* the device writes the phase last */
		tag = c->tag;
		__atomic_store_n(&d->sq_head, c->sq_head % QSIZE, __ATOMIC_RELAXED);
		if (tag < QSIZE && d->rqs[tag]) {
			done[n] = d->rqs[tag];
			status[n++] = c->status == BLKDEV_CS_OK ? 0 : -EIO;
			d->rqs[tag] = NULL;
		}
		if (++d->cq_head == QSIZE) {
			d->cq_head = 0;
			d->phase ^= 1;
		}
	}
	if (n)
		iowrite32(d->cq_head, d->regs + BLKDEV_REG_CQ_HEAD);
	for (i = 0; i < n; i++)
		blk_complete(done[i], status[i]);
	return n ? IRQ_HANDLED : IRQ_NONE;
}

static void @NAME@_free(struct @NAME@_disk *d)
{
	if (d->sq)
		dma_free_coherent(&d->pdev->dev, 4096, d->sq, d->sq_dma);
	if (d->cq)
		dma_free_coherent(&d->pdev->dev, 4096, d->cq, d->cq_dma);
	if (d->regs)
		pci_iounmap(d->pdev, d->regs);
	kfree(d);
}

/* A device matched the id table: map it, give it its rings, start it, register the disk. */
static int @NAME@_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct @NAME@_disk *d;
	int err;

	if (pci_enable_device(pdev))
		return -ENODEV;
	pci_set_master(pdev);
	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->pdev = pdev;
	d->regs = pci_iomap(pdev, 0, 0);
	d->sq = dma_alloc_coherent(&pdev->dev, 4096, &d->sq_dma, GFP_KERNEL);
	d->cq = dma_alloc_coherent(&pdev->dev, 4096, &d->cq_dma, GFP_KERNEL);
	if (!d->regs || !d->sq || !d->cq) {
		err = -ENOMEM;
		goto fail;
	}
	if (ioread32(d->regs + BLKDEV_REG_ID) != BLKDEV_ID) {
		err = -ENODEV;	/* another device with the same PCI ids */
		goto fail;
	}
	memset(d->cq, 0, 4096);		/* phase 0 everywhere: nothing completed yet */
	d->phase = 1;
	iowrite32(0, d->regs + BLKDEV_REG_CTRL);	/* stopped while its rings are set */
	iowrite32((u32)d->sq_dma, d->regs + BLKDEV_REG_SQ_LO);
	iowrite32((u32)(d->sq_dma >> 32), d->regs + BLKDEV_REG_SQ_HI);
	iowrite32((u32)d->cq_dma, d->regs + BLKDEV_REG_CQ_LO);
	iowrite32((u32)(d->cq_dma >> 32), d->regs + BLKDEV_REG_CQ_HI);
	iowrite32(QSIZE, d->regs + BLKDEV_REG_QSIZE);
	err = request_irq(pdev->irq, @NAME@_irq, 0, "@NAME@", d);
	if (err)
		goto fail;
	iowrite32(BLKDEV_CTRL_ENABLE, d->regs + BLKDEV_REG_CTRL);
	if (!(ioread32(d->regs + BLKDEV_REG_STATUS) & BLKDEV_STATUS_READY)) {
		err = -EIO;
		goto fail_irq;
	}
	d->disk.pdev = pdev;		/* the disk takes the device's name: blk0, ... */
	d->disk.capacity = ioread32(d->regs + BLKDEV_REG_CAP_LO) | (u64)ioread32(d->regs + BLKDEV_REG_CAP_HI) << 32;
	d->disk.queue_depth = QUEUE_DEPTH;
	d->disk.max_sectors = MAX_SECTORS;
	d->disk.ops = &@NAME@_ops;
	d->disk.private_data = d;
	err = blk_register_disk(&d->disk);
	if (err)
		goto fail_irq;
	pci_set_drvdata(pdev, d);
	pr_info("@NAME@: %s: %llu sectors\n", pdev->dev.name, (unsigned long long)d->disk.capacity);
	return 0;
fail_irq:
	iowrite32(0, d->regs + BLKDEV_REG_CTRL);
	free_irq(pdev->irq, d);
fail:
	@NAME@_free(d);
	return err;
}

static void @NAME@_remove(struct pci_dev *pdev)
{
	struct @NAME@_disk *d = pci_get_drvdata(pdev);

	iowrite32(0, d->regs + BLKDEV_REG_CTRL);	/* the device stops and forgets its rings */
	free_irq(pdev->irq, d);
	blk_unregister_disk(&d->disk);		/* the kernel fails what was in flight */
	@NAME@_free(d);
}

static const struct pci_device_id @NAME@_ids[] = {
	PCI_DEVICE(BLKDEV_VENDOR, BLKDEV_DEVICE),
	{ 0, 0 },
};

static struct pci_driver @NAME@_driver = {
	.name = "@NAME@",
	.id_table = @NAME@_ids,
	.probe = @NAME@_probe,
	.remove = @NAME@_remove,
};

/* Load (and every restart): register with the PCI bus; devices already there are probed now. */
module_pci_driver(@NAME@_driver);
