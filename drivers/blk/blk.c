/*
 * blk: the driver of the emulated queue-based disk (native/classes/block/
 * model.cc, registers in <nooks/hw/blkdev_regs.h>), written as a Linux PCI block driver:
 * probe maps BAR 0, puts a submission and a completion ring in DMA memory,
 * takes the interrupt and registers a disk with the block class
 * (<nooks/blkdev.h>). submit() turns a request into a
 * submission entry; commit(), once after each batch of submits, rings the
 * doorbell for all of them; the interrupt handler reaps completion entries
 * and completes their requests.
 */
#include <nooks/kapi.h>

#include <nooks/blkdev.h>
#include <nooks/hw/blkdev_regs.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Driver of the nooks emulated queue-based disk");

#define QSIZE		64	/* ring entries */
#define QUEUE_DEPTH	32	/* requests in flight (< QSIZE) */
#define MAX_SECTORS	64	/* 32 KiB per request */

struct blk {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct blkdev_sqe *sq;
	struct blkdev_cqe *cq;
	dma_addr_t sq_dma, cq_dma;
	spinlock_t lock;	/* the completion side (the interrupt's); the doorbell and plugged (commit, plug) */
	u32 sq_tail;		/* submit and commit only: the kernel calls them from one thread */
	u32 sq_head;		/* the interrupt's (from completion entries); submit reads it atomically */
	u32 cq_head;
	u16 phase;
	bool irq_attached, registered;
	bool plugged;		/* tests: queue requests without ringing the doorbell */
	bool refusing;		/* tests: answer every submit -EBUSY (a driver that lost track of its ring) */
	long accept_before_error, error;	/* tests: after that many more submits, one returns error */
	bool stepped;		/* tests: the interrupt handler waits for the host's step before each completion after its first */
	unsigned long steps_wanted, steps_given;	/* tests: the handler's waits for a step so far; the host's steps so far */
	bool crash;		/* tests: after accept_before_crash more submits, one dereferences NULL */
	long accept_before_crash;
	unsigned long submits;	/* tests: the submits the kernel made */
	u64 wild;		/* tests: the next request's buffer bus address, if not 0 */
	struct blk_request *rqs[QSIZE];
	struct blk_disk disk;
};

static struct blk *the_dev;	/* one disk is enough for the tests */

/*
 * Writes rq's submission entry; the device sees it at commit. No lock: the
 * kernel submits from one thread, and the interrupt handler touches neither
 * sq_tail nor a tag the kernel gives (it is free: completed, or never used).
 */
static int blk_submit(struct blk_disk *disk, struct blk_request *rq)
{
	struct blk *b = disk->private_data;
	struct blkdev_sqe *e;
	u32 tail;

	b->submits++;
	if (rq->tag >= QSIZE)
		return -EINVAL;
	if (b->crash && !b->accept_before_crash--)
		return *(volatile int *)NULL;	/* a test's driver bug */
	if (b->refusing)
		return -EBUSY;
	if (b->error && !b->accept_before_error--) {
		int err = (int)b->error;

		b->error = 0;
		return err;
	}
	tail = (b->sq_tail + 1) % QSIZE;
	if (tail == __atomic_load_n(&b->sq_head, __ATOMIC_RELAXED) || b->rqs[rq->tag])
		return -EBUSY;	/* (an older sq_head only makes the ring look fuller) */
	e = &b->sq[b->sq_tail];
	memset(e, 0, sizeof(*e));
	e->opcode = rq->op == BLK_OP_WRITE ? BLKDEV_OP_WRITE : rq->op == BLK_OP_FLUSH ? BLKDEV_OP_FLUSH : BLKDEV_OP_READ;
	e->tag = rq->tag;
	e->sector = rq->sector;
	e->count = rq->count;
	e->buffer = rq->dma;
	if (b->wild) {
		e->buffer = b->wild;
		b->wild = 0;
	}
	b->rqs[rq->tag] = rq;
	b->sq_tail = tail;
	return 0;
}

/* After a batch of submits: one doorbell starts every entry they wrote. */
static void blk_commit(struct blk_disk *disk)
{
	struct blk *b = disk->private_data;

	spin_lock(&b->lock);
	if (!b->plugged)
		iowrite32(b->sq_tail, b->regs + BLKDEV_REG_SQ_TAIL);
	spin_unlock(&b->lock);
}

static const struct blk_disk_ops blk_ops = {
	.submit = blk_submit,
	.commit = blk_commit,
};

/* For the tests, while stepped: waits until the host gives the next step
 * (complete_step), so that the host sees what the completions so far woke
 * before the next one comes. A nap in a kernel call between looks lets the
 * host's call into the driver meanwhile. */
static void wait_for_step(struct blk *b)
{
	unsigned long mine;

	if (!__atomic_load_n(&b->stepped, __ATOMIC_ACQUIRE))
		return;
	mine = __atomic_add_fetch(&b->steps_wanted, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&b->stepped, __ATOMIC_ACQUIRE) && __atomic_load_n(&b->steps_given, __ATOMIC_ACQUIRE) < mine)
		msleep(1);
}

static irqreturn_t blk_irq(int irq, void *data)
{
	struct blk *b = data;
	struct blk_request *done[QSIZE];
	int status[QSIZE];
	int n = 0, i;

	(void)irq;
	spin_lock(&b->lock);
	iowrite32(BLKDEV_INTR_CQ, b->regs + BLKDEV_REG_INTR_ACK);
	for (;;) {
		volatile struct blkdev_cqe *c = &b->cq[b->cq_head];
		u32 tag;

		if (c->phase != b->phase)
			break;
		__asm__ __volatile__("" ::: "memory");	/* the device writes the phase last */
		tag = c->tag;
		__atomic_store_n(&b->sq_head, c->sq_head % QSIZE, __ATOMIC_RELAXED);
		if (tag < QSIZE && b->rqs[tag] && n < QSIZE) {
			done[n] = b->rqs[tag];
			status[n++] = c->status == BLKDEV_CS_OK ? 0 : -EIO;
			b->rqs[tag] = NULL;
		} else {
			pr_err("blk: completion for unknown tag %u\n", tag);
		}
		if (++b->cq_head == QSIZE) {
			b->cq_head = 0;
			b->phase ^= 1;
		}
	}
	if (n)
		iowrite32(b->cq_head, b->regs + BLKDEV_REG_CQ_HEAD);
	spin_unlock(&b->lock);
	for (i = 0; i < n; i++) {
		if (i)
			wait_for_step(b);
		blk_complete(done[i], status[i]);
	}
	return n ? IRQ_HANDLED : IRQ_NONE;
}

static void blk_free(struct blk *b)
{
	if (b->sq)
		dma_free_coherent(&b->pdev->dev, 4096, b->sq, b->sq_dma);
	if (b->cq)
		dma_free_coherent(&b->pdev->dev, 4096, b->cq, b->cq_dma);
	if (b->regs)
		pci_iounmap(b->pdev, b->regs);
	kfree(b);
}

static int blk_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct blk *b;
	int err;

	(void)id;
	if (pci_enable_device(pdev))
		return -ENODEV;
	pci_set_master(pdev);
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->pdev = pdev;
	spin_lock_init(&b->lock);
	b->regs = pci_iomap(pdev, 0, 0);
	b->sq = dma_alloc_coherent(&pdev->dev, 4096, &b->sq_dma, GFP_KERNEL);
	b->cq = dma_alloc_coherent(&pdev->dev, 4096, &b->cq_dma, GFP_KERNEL);
	if (!b->regs || !b->sq || !b->cq) {
		err = -ENOMEM;
		goto fail;
	}
	if (ioread32(b->regs + BLKDEV_REG_ID) != BLKDEV_ID) {
		err = -ENODEV;
		goto fail;
	}
	memset(b->cq, 0, 4096);	/* phase 0 everywhere: nothing completed yet */
	b->phase = 1;
	iowrite32(BLKDEV_CTRL_ENABLE - 1, b->regs + BLKDEV_REG_CTRL);
	iowrite32((u32)b->sq_dma, b->regs + BLKDEV_REG_SQ_LO);
	iowrite32((u32)(b->sq_dma >> 32), b->regs + BLKDEV_REG_SQ_HI);
	iowrite32((u32)b->cq_dma, b->regs + BLKDEV_REG_CQ_LO);
	iowrite32((u32)(b->cq_dma >> 32), b->regs + BLKDEV_REG_CQ_HI);
	iowrite32(QSIZE, b->regs + BLKDEV_REG_QSIZE);
	err = request_irq(pdev->irq, blk_irq, 0, "blk", b);
	if (err)
		goto fail;
	b->irq_attached = true;
	iowrite32(BLKDEV_CTRL_ENABLE, b->regs + BLKDEV_REG_CTRL);
	if (!(ioread32(b->regs + BLKDEV_REG_STATUS) & BLKDEV_STATUS_READY)) {
		err = -EIO;
		goto fail;
	}
	b->disk.pdev = pdev;
	b->disk.capacity = ioread32(b->regs + BLKDEV_REG_CAP_LO) | (u64)ioread32(b->regs + BLKDEV_REG_CAP_HI) << 32;
	b->disk.queue_depth = QUEUE_DEPTH;
	b->disk.max_sectors = MAX_SECTORS;
	b->disk.ops = &blk_ops;
	b->disk.private_data = b;
	err = blk_register_disk(&b->disk);
	if (err)
		goto fail;
	b->registered = true;
	pci_set_drvdata(pdev, b);
	the_dev = b;
	pr_info("blk: %s: %llu sectors\n", pdev->dev.name, (unsigned long long)b->disk.capacity);
	return 0;
fail:
	if (b->regs)
		iowrite32(0, b->regs + BLKDEV_REG_CTRL);
	if (b->irq_attached)
		free_irq(pdev->irq, b);
	blk_free(b);
	return err;
}

static void blk_remove(struct pci_dev *pdev)
{
	struct blk *b = pci_get_drvdata(pdev);

	iowrite32(0, b->regs + BLKDEV_REG_CTRL);	/* the device forgets its rings */
	free_irq(pdev->irq, b);
	blk_unregister_disk(&b->disk);		/* what was in flight fails */
	blk_free(b);
	the_dev = NULL;
}

static const struct pci_device_id blk_ids[] = {
	PCI_DEVICE(BLKDEV_VENDOR, BLKDEV_DEVICE),
	{ 0, 0 },
};

static struct pci_driver blk_driver = {
	.name = "blk",
	.id_table = blk_ids,
	.probe = blk_probe,
	.remove = blk_remove,
};

NOOKS_EXPORT long bound(void)
{
	return the_dev != NULL;
}

/* A driver bug for the tests: the next request's data is at bus address `addr`, not its buffer. */
NOOKS_EXPORT long wild_dma(long addr)
{
	if (!the_dev)
		return -ENODEV;
	the_dev->wild = (u64)addr;
	return 0;
}

/* A driver bug for the tests: after `accepted` more submits, the next faults (a NULL dereference). */
NOOKS_EXPORT long crash_submit_after(long accepted)
{
	if (!the_dev)
		return -ENODEV;
	the_dev->accept_before_crash = accepted;
	the_dev->crash = true;
	return 0;
}

NOOKS_EXPORT long crash_next_submit(void)
{
	return crash_submit_after(0);
}

/* For the tests: the submits the kernel made to this disk, refused ones included. */
NOOKS_EXPORT long submits(void)
{
	if (!the_dev)
		return -ENODEV;
	return (long)the_dev->submits;
}

/* A driver bug for the tests: every submit is refused as if the ring were full (1), or not (0). */
NOOKS_EXPORT long refuse(long on)
{
	if (!the_dev)
		return -ENODEV;
	the_dev->refusing = on != 0;
	return 0;
}

/* A driver's refusal for the tests: after `accepted` more submits, the next returns `error` (-EBUSY, -EIO, ...). */
NOOKS_EXPORT long fail_submit_after(long accepted, long error)
{
	if (!the_dev)
		return -ENODEV;
	the_dev->accept_before_error = accepted;
	the_dev->error = error;
	return 0;
}

/* For the tests: stepped (1), the interrupt handler waits for complete_step before each completion after its first; 0: it does not. */
NOOKS_EXPORT long complete_stepped(long on)
{
	if (!the_dev)
		return -ENODEV;
	__atomic_store_n(&the_dev->stepped, on != 0, __ATOMIC_RELEASE);
	return 0;
}

/* For the tests: 1 while the interrupt handler waits for a step, else 0. */
NOOKS_EXPORT long step_waiting(void)
{
	if (!the_dev)
		return -ENODEV;
	return __atomic_load_n(&the_dev->steps_wanted, __ATOMIC_ACQUIRE) > __atomic_load_n(&the_dev->steps_given, __ATOMIC_ACQUIRE);
}

/* For the tests: gives the waiting interrupt handler its step (1), or 0 if none waits. */
NOOKS_EXPORT long complete_step(void)
{
	if (!the_dev)
		return -ENODEV;
	if (step_waiting() != 1)
		return 0;
	__atomic_add_fetch(&the_dev->steps_given, 1, __ATOMIC_ACQ_REL);
	return 1;
}

/* For the tests: plug (1) keeps requests in the submission ring, unplug (0) rings the doorbell. */
NOOKS_EXPORT long plug(long on)
{
	if (!the_dev)
		return -ENODEV;
	spin_lock(&the_dev->lock);
	the_dev->plugged = on != 0;
	if (!on)
		iowrite32(the_dev->sq_tail, the_dev->regs + BLKDEV_REG_SQ_TAIL);
	spin_unlock(&the_dev->lock);
	return 0;
}

module_pci_driver(blk_driver);
