/*
 * testdev: the driver of the bus test device (native/dev/testdev.cc), written
 * as a Linux PCI driver: probe maps BAR 0, allocates a DMA buffer, takes the
 * interrupt. Exported functions drive the device for the tests.
 */
#include <nooks/kapi.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Driver of the nooks bus test device");

#define REG_ID		0x00
#define REG_SCRATCH	0x04
#define REG_DMA_LO	0x08
#define REG_DMA_HI	0x0c
#define REG_DMA_LEN	0x10
#define REG_PATTERN	0x14
#define REG_CTRL	0x18
#define REG_STATUS	0x1c
#define REG_RESULT	0x20
#define REG_IRQ_ACK	0x24
#define REG_IRQ_RAISE	0x28
#define REG_UNDEFINED	0x40

#define CTRL_FILL	1
#define CTRL_SUM	2
#define STATUS_DONE	1
#define STATUS_ERROR	2

#define BUF_SIZE	4096

struct testdev {
	struct pci_dev *pdev;
	void __iomem *regs;
	u8 *buf;
	dma_addr_t buf_dma;
	spinlock_t lock;
	long irqs;
	bool irq_attached;
};

static struct testdev *the_dev;	/* one device is enough for the tests */

static irqreturn_t testdev_irq(int irq, void *data)
{
	struct testdev *td = data;

	(void)irq;
	spin_lock(&td->lock);
	td->irqs++;
	spin_unlock(&td->lock);
	return IRQ_HANDLED;
}

static int testdev_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct testdev *td;
	int err;

	(void)id;
	if (pci_enable_device(pdev))
		return -ENODEV;
	pci_set_master(pdev);
	td = kzalloc(sizeof(*td), GFP_KERNEL);
	if (!td)
		return -ENOMEM;
	td->pdev = pdev;
	spin_lock_init(&td->lock);
	td->regs = pci_iomap(pdev, 0, 0);
	td->buf = dma_alloc_coherent(&pdev->dev, BUF_SIZE, &td->buf_dma, GFP_KERNEL);
	if (!td->regs || !td->buf) {
		err = -ENOMEM;
		goto fail;
	}
	if (ioread32(td->regs + REG_ID) != 0x4e4b0001) {
		err = -ENODEV;
		goto fail;
	}
	err = request_irq(pdev->irq, testdev_irq, 0, "testdev", td);
	if (err)
		goto fail;
	td->irq_attached = true;
	pci_set_drvdata(pdev, td);
	the_dev = td;
	pr_info("testdev: probed, irq %u\n", pdev->irq);
	return 0;
fail:
	if (td->buf)
		dma_free_coherent(&pdev->dev, BUF_SIZE, td->buf, td->buf_dma);
	if (td->regs)
		pci_iounmap(pdev, td->regs);
	kfree(td);
	return err;
}

static void testdev_remove(struct pci_dev *pdev)
{
	struct testdev *td = pci_get_drvdata(pdev);

	if (td->irq_attached)
		free_irq(pdev->irq, td);
	dma_free_coherent(&pdev->dev, BUF_SIZE, td->buf, td->buf_dma);
	pci_iounmap(pdev, td->regs);
	kfree(td);
	the_dev = NULL;
}

static const struct pci_device_id testdev_ids[] = {
	PCI_DEVICE(0x4e4b, 0x0001),
	{ 0, 0 },
};

static struct pci_driver testdev_driver = {
	.name = "testdev",
	.id_table = testdev_ids,
	.probe = testdev_probe,
	.remove = testdev_remove,
};

NOOKS_EXPORT long bound(void)
{
	return the_dev != NULL;
}

NOOKS_EXPORT long scratch(long v)
{
	iowrite32((u32)v, the_dev->regs + REG_SCRATCH);
	return ioread32(the_dev->regs + REG_SCRATCH);
}

/* Register access through the kernel (ioread32/iowrite32 on the pci_iomap cookie). */
NOOKS_EXPORT long reg_read(long off)
{
	return ioread32(the_dev->regs + off);
}

NOOKS_EXPORT long reg_write(long off, long v)
{
	iowrite32((u32)v, the_dev->regs + off);
	return 0;
}

/* The benchmark's loop (nooks bench xpc): n register reads through the kernel. */
NOOKS_EXPORT long io_read_loop(long n)
{
	u32 sum = 0;

	while (n-- > 0)
		sum += ioread32(the_dev->regs + REG_SCRATCH);
	return sum;
}

NOOKS_EXPORT long irqs(void)
{
	return the_dev->irqs;
}

/* Runs one DMA operation on bus address `addr`; returns the status register. */
static long run_dma(dma_addr_t addr, long len, long pattern, u32 op)
{
	void __iomem *r = the_dev->regs;
	u32 status;

	iowrite32((u32)addr, r + REG_DMA_LO);
	iowrite32((u32)(addr >> 32), r + REG_DMA_HI);
	iowrite32((u32)len, r + REG_DMA_LEN);
	iowrite32((u32)pattern, r + REG_PATTERN);
	iowrite32(op, r + REG_CTRL);
	status = ioread32(r + REG_STATUS);
	iowrite32(status, r + REG_IRQ_ACK);
	return status;
}

/* The device fills the buffer with `pattern`; returns the sum of the buffer's bytes, or -EIO. */
NOOKS_EXPORT long dma_fill(long len, long pattern)
{
	long sum = 0, i;

	if (len < 0 || len > BUF_SIZE)
		return -EINVAL;
	memset(the_dev->buf, 0, BUF_SIZE);
	if (run_dma(the_dev->buf_dma, len, pattern, CTRL_FILL) & STATUS_ERROR)
		return -EIO;
	for (i = 0; i < BUF_SIZE; i++)
		sum += the_dev->buf[i];
	return sum;
}

/* The device sums the buffer after the driver wrote `value` into it; returns the device's sum. */
NOOKS_EXPORT long dma_sum(long len, long value)
{
	if (len < 0 || len > BUF_SIZE)
		return -EINVAL;
	memset(the_dev->buf, (int)value, (size_t)len);
	if (run_dma(the_dev->buf_dma, len, 0, CTRL_SUM) & STATUS_ERROR)
		return -EIO;
	return ioread32(the_dev->regs + REG_RESULT);
}

/* A driver bug: DMA programmed with a bus address that is not its memory. */
NOOKS_EXPORT long dma_wild(long addr)
{
	return run_dma((dma_addr_t)addr, 64, 0xab, CTRL_FILL);
}

/* A driver bug: a register the device does not have. */
NOOKS_EXPORT long undefined_register(void)
{
	iowrite32(1, the_dev->regs + REG_UNDEFINED);
	return ioread32(the_dev->regs + REG_UNDEFINED);
}

/* A driver bug: registering the same driver again. */
NOOKS_EXPORT long register_twice(void)
{
	return pci_register_driver(&testdev_driver);
}

/* The device interrupts after the driver let go of its line. */
NOOKS_EXPORT long raise_unhandled(void)
{
	free_irq(the_dev->pdev->irq, the_dev);
	the_dev->irq_attached = false;
	iowrite32(1, the_dev->regs + REG_IRQ_RAISE);
	return 0;
}

/* A driver bug: freeing its interrupt with the wrong dev_id. */
NOOKS_EXPORT long free_irq_wrong_dev(void)
{
	free_irq(the_dev->pdev->irq, the_dev + 1);
	return 0;
}

/* The bus address of the driver's DMA buffer (tests aim other drivers' DMA at it). */
NOOKS_EXPORT long buffer_bus_address(void)
{
	return (long)the_dev->buf_dma;
}

module_pci_driver(testdev_driver);
