/*
 * pcm: the driver of the emulated PCM sound device (native/classes/sound/
 * pcm_device.cc), written as a Linux PCI + ALSA driver: probe maps BAR 0,
 * takes the interrupt and registers a struct snd_pcm with the sound class;
 * the class calls the ops below when applications open, configure, start and
 * stop streams. Exported functions let tests misbehave on purpose.
 */
#include <nooks/kapi.h>
#include <nooks/sound.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Driver of the nooks emulated PCM sound device");

/* per-stream register bank: playback at 0x00, capture at 0x40 */
#define BANK(stream)	((stream) * 0x40)
#define REG_ADDR_LO	0x00
#define REG_ADDR_HI	0x04
#define REG_SIZE	0x08
#define REG_PERIOD	0x0c
#define REG_RATE	0x10
#define REG_CHANNELS	0x14
#define REG_FORMAT	0x18
#define REG_CTRL	0x1c
#define REG_HWPTR	0x20
#define REG_APPL	0x24
#define REG_VOLUME	0x28
#define REG_STATUS	0x2c
#define REG_ID		0x80
#define REG_INTR	0x84
#define REG_INTR_ACK	0x88
#define REG_CAPS	0x8c

#define PCM_ID		0x4e4b5043
#define CTRL_RUN	1
#define CTRL_RESUME	2	/* with RUN: go on with the stream a reset cut */
#define STATUS_ERROR	2
#define VOLUME_MUTE	(1u << 31)

struct pcm_stream {
	void *area;
	dma_addr_t addr;
	u32 bytes;
	const struct snd_pcm_runtime *rt;
	bool running;
	unsigned long last_pointer;	/* what pointer() answered last */
};

struct pcm_chip {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct snd_pcm pcm;
	struct pcm_stream st[2];
	spinlock_t lock;
	bool registered;
	long irqs;
	int bad_pointer;	/* tests: pointer() lies from now on */
	bool crash;		/* tests: the next pointer() dereferences NULL */
	bool frozen;		/* tests: pointer() stops reading the hardware */
};

static struct pcm_chip *the_chip;	/* one device is enough for the tests */

static struct pcm_chip *chip_of(struct snd_pcm *pcm)
{
	return pcm->private_data;
}

static void __iomem *reg(struct pcm_chip *chip, int stream, u32 off)
{
	return chip->regs + BANK(stream) + off;
}

static int pcm_open(struct snd_pcm *pcm, int stream)
{
	struct pcm_chip *chip = chip_of(pcm);

	if (!(ioread32(chip->regs + REG_CAPS) & (1u << stream)))
		return -ENODEV;
	return 0;
}

static void free_ring(struct pcm_chip *chip, int stream)
{
	struct pcm_stream *s = &chip->st[stream];

	if (s->area)
		dma_free_coherent(&chip->pdev->dev, s->bytes, s->area, s->addr);
	s->area = NULL;
	s->bytes = 0;
}

static int pcm_close(struct snd_pcm *pcm, int stream)
{
	struct pcm_chip *chip = chip_of(pcm);

	iowrite32(0, reg(chip, stream, REG_CTRL));
	free_ring(chip, stream);
	return 0;
}

static int pcm_hw_params(struct snd_pcm *pcm, int stream, const struct snd_pcm_runtime *rt)
{
	struct pcm_chip *chip = chip_of(pcm);
	struct pcm_stream *s = &chip->st[stream];

	if (rt->format != SNDRV_PCM_FORMAT_S16_LE)
		return -EINVAL;
	free_ring(chip, stream);
	s->area = dma_alloc_coherent(&chip->pdev->dev, rt->buffer_bytes, &s->addr, GFP_KERNEL);
	if (!s->area)
		return -ENOMEM;
	s->bytes = rt->buffer_bytes;
	s->rt = rt;
	memset(s->area, 0, s->bytes);
	return snd_pcm_set_buffer(pcm, stream, s->area, s->bytes);
}

static int pcm_prepare(struct snd_pcm *pcm, int stream)
{
	struct pcm_chip *chip = chip_of(pcm);
	struct pcm_stream *s = &chip->st[stream];

	iowrite32(0, reg(chip, stream, REG_CTRL));
	iowrite32((u32)s->addr, reg(chip, stream, REG_ADDR_LO));
	iowrite32((u32)(s->addr >> 32), reg(chip, stream, REG_ADDR_HI));
	iowrite32(s->bytes, reg(chip, stream, REG_SIZE));
	iowrite32(s->rt->period_bytes, reg(chip, stream, REG_PERIOD));
	iowrite32(s->rt->rate, reg(chip, stream, REG_RATE));
	iowrite32(s->rt->channels, reg(chip, stream, REG_CHANNELS));
	iowrite32(2, reg(chip, stream, REG_FORMAT));
	iowrite32(0, reg(chip, stream, REG_APPL));
	return 0;
}

static int pcm_trigger(struct snd_pcm *pcm, int stream, int cmd)
{
	struct pcm_chip *chip = chip_of(pcm);

	switch (cmd) {
	case SNDRV_PCM_TRIGGER_START:
	case SNDRV_PCM_TRIGGER_RESUME:
		iowrite32(cmd == SNDRV_PCM_TRIGGER_RESUME ? CTRL_RUN | CTRL_RESUME : CTRL_RUN, reg(chip, stream, REG_CTRL));
		if (ioread32(reg(chip, stream, REG_STATUS)) & STATUS_ERROR) {
			pr_err("pcm: the device refused to start the %s engine\n", stream ? "capture" : "playback");
			return -EIO;
		}
		chip->st[stream].running = true;
		return 0;
	case SNDRV_PCM_TRIGGER_STOP:
		iowrite32(0, reg(chip, stream, REG_CTRL));
		chip->st[stream].running = false;
		return 0;
	}
	return -EINVAL;
}

static unsigned long pcm_pointer(struct snd_pcm *pcm, int stream)
{
	struct pcm_chip *chip = chip_of(pcm);
	struct pcm_stream *s = &chip->st[stream];
	u32 hw;

	if (chip->crash)
		return *(volatile unsigned long *)NULL;	/* a test's driver bug */
	if (chip->frozen)
		return s->last_pointer;
	hw = ioread32(reg(chip, stream, REG_HWPTR));
	if (chip->bad_pointer)
		return 0x7fffffff;
	s->last_pointer = (hw % s->bytes) / s->rt->frame_bytes;
	return s->last_pointer;
}

static int pcm_ack(struct snd_pcm *pcm, int stream, u32 limit)
{
	iowrite32(limit, reg(chip_of(pcm), stream, REG_APPL));
	return 0;
}

static int pcm_mixer(struct snd_pcm *pcm, int stream, unsigned int volume, int mute)
{
	if (volume > 100)
		return -EINVAL;
	iowrite32(volume | (mute ? VOLUME_MUTE : 0), reg(chip_of(pcm), stream, REG_VOLUME));
	return 0;
}

static const struct snd_pcm_ops pcm_ops = {
	.open = pcm_open,
	.close = pcm_close,
	.hw_params = pcm_hw_params,
	.prepare = pcm_prepare,
	.trigger = pcm_trigger,
	.pointer = pcm_pointer,
	.ack = pcm_ack,
	.mixer = pcm_mixer,
};

static irqreturn_t pcm_irq(int irq, void *data)
{
	struct pcm_chip *chip = data;
	u32 status = ioread32(chip->regs + REG_INTR);

	(void)irq;
	if (!status)
		return IRQ_NONE;
	iowrite32(status, chip->regs + REG_INTR_ACK);
	spin_lock(&chip->lock);
	chip->irqs++;
	spin_unlock(&chip->lock);
	if (status & 1)
		snd_pcm_period_elapsed(&chip->pcm, SNDRV_PCM_STREAM_PLAYBACK);
	if (status & 2)
		snd_pcm_period_elapsed(&chip->pcm, SNDRV_PCM_STREAM_CAPTURE);
	if (status & 4)
		pr_err("pcm: the device reported a DMA error\n");
	return IRQ_HANDLED;
}

static int pcm_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pcm_chip *chip;
	u32 caps;
	int err;

	(void)id;
	if (pci_enable_device(pdev))
		return -ENODEV;
	pci_set_master(pdev);
	chip = kzalloc(sizeof(*chip), GFP_KERNEL);
	if (!chip)
		return -ENOMEM;
	chip->pdev = pdev;
	spin_lock_init(&chip->lock);
	chip->regs = pci_iomap(pdev, 0, 0);
	if (!chip->regs) {
		err = -ENOMEM;
		goto fail;
	}
	if (ioread32(chip->regs + REG_ID) != PCM_ID) {
		err = -ENODEV;
		goto fail;
	}
	caps = ioread32(chip->regs + REG_CAPS) & 3;
	err = request_irq(pdev->irq, pcm_irq, 0, "pcm", chip);
	if (err)
		goto fail;
	chip->pcm.pdev = pdev;
	chip->pcm.ops = &pcm_ops;
	chip->pcm.streams = caps;
	chip->pcm.max_buffer_bytes = 1 << 20;
	chip->pcm.private_data = chip;
	err = snd_pcm_register(&chip->pcm);
	if (err) {
		free_irq(pdev->irq, chip);
		goto fail;
	}
	chip->registered = true;
	pci_set_drvdata(pdev, chip);
	the_chip = chip;
	pr_info("pcm: probed %s, irq %u\n", pdev->dev.name, pdev->irq);
	return 0;
fail:
	if (chip->regs)
		pci_iounmap(pdev, chip->regs);
	kfree(chip);
	return err;
}

static void pcm_remove(struct pci_dev *pdev)
{
	struct pcm_chip *chip = pci_get_drvdata(pdev);

	if (chip->registered)
		snd_pcm_unregister(&chip->pcm);
	/* quiesce: no new interrupts, and let one already raised run its handler before free_irq */
	iowrite32(0, reg(chip, 0, REG_CTRL));
	iowrite32(0, reg(chip, 1, REG_CTRL));
	iowrite32(ioread32(chip->regs + REG_INTR), chip->regs + REG_INTR_ACK);
	msleep(5);
	free_irq(pdev->irq, chip);
	free_ring(chip, 0);
	free_ring(chip, 1);
	pci_iounmap(pdev, chip->regs);
	kfree(chip);
	the_chip = NULL;
}

static const struct pci_device_id pcm_ids[] = {
	PCI_DEVICE(0x4e4b, 0x5043),
	{ 0, 0 },
};

static struct pci_driver pcm_driver = {
	.name = "pcm",
	.id_table = pcm_ids,
	.probe = pcm_probe,
	.remove = pcm_remove,
};

NOOKS_EXPORT long bound(void)
{
	return the_chip != NULL;
}

NOOKS_EXPORT long irqs(void)
{
	return the_chip ? the_chip->irqs : -ENODEV;
}

/* A driver bug that is no fault: pointer() keeps answering the position it answered last. */
NOOKS_EXPORT long freeze_pointer(void)
{
	if (!the_chip)
		return -ENODEV;
	the_chip->frozen = true;
	return 0;
}

/*
 * A driver bug for the tests: the next pointer() faults (a NULL dereference).
 * The class calls it at every period of a running stream, and when it
 * restores a stream on the restarted driver.
 */
NOOKS_EXPORT long crash_next_pointer(void)
{
	if (!the_chip)
		return -ENODEV;
	the_chip->crash = true;
	return 0;
}

/* Driver code that runs a while, with no kernel call: `loops` turns of an empty loop (another thread inside the driver). */
NOOKS_EXPORT long busy(long loops)
{
	for (volatile long i = 0; i < loops; i++)
		;
	return 0;
}

/* A driver bug: pointer() returns a position outside the ring from now on. */
NOOKS_EXPORT long lie_about_pointer(void)
{
	the_chip->bad_pointer = 1;
	return 0;
}

module_pci_driver(pcm_driver);
