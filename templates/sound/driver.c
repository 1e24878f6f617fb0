/*
 * @NAME@: a sound (PCM) driver (written by `nooks new @NAME@ --class sound`)
 * for the emulated PCM device, `kernel.addDevice('pcm', { playback: 'out.wav',
 * capture: 'in.wav' })`: it plays into one WAV file and records from another,
 * at the real sample rate. Derived from drivers/pcm/pcm.c.
 *
 *   npx nooks build @NAME@/@NAME@.c -o build/@NAME@.so
 *   node --test @NAME@/@NAME@.test.mjs        # plays a tone through it
 *
 * The sound class (<nooks/sound.h>): probe registers a struct snd_pcm
 * (pcm0, ...) with snd_pcm_register(). When an application opens a stream
 * (openPcm / openCapture) the kernel calls open -> hw_params (allocate the
 * DMA ring, hand it over with snd_pcm_set_buffer) -> prepare -> trigger(START),
 * ... trigger(STOP) -> close. The kernel copies the application's frames into
 * the ring and tells the driver how far the device may go (ack); the driver's
 * interrupt handler calls snd_pcm_period_elapsed() at each period and the
 * kernel asks pointer() where the device is. If the driver fails, its shadow
 * parks the open streams and resumes them on the restarted driver
 * (trigger(RESUME)): the application hears a short gap and nothing else.
 */
#include <nooks/kapi.h>
#include <nooks/sound.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: a PCM sound driver made with nooks new");

/* The device's registers (BAR 0, 32-bit; native/classes/sound/pcm_device.cc). One bank per stream: */
#define BANK(stream)	((stream) * 0x40)	/* playback at 0x00, capture at 0x40 */
#define REG_ADDR_LO	0x00	/* the ring's bus address */
#define REG_ADDR_HI	0x04
#define REG_SIZE	0x08	/* the ring's bytes */
#define REG_PERIOD	0x0c	/* bytes per period: an interrupt each */
#define REG_RATE	0x10
#define REG_CHANNELS	0x14
#define REG_FORMAT	0x18	/* 2: S16_LE */
#define REG_CTRL	0x1c	/* CTRL_* */
#define REG_HWPTR	0x20	/* bytes moved since prepare (read-only) */
#define REG_APPL	0x24	/* how far the device may move */
#define REG_VOLUME	0x28	/* 0..100, VOLUME_MUTE */
#define REG_STATUS	0x2c	/* STATUS_* */
/* and for the whole device: */
#define REG_ID		0x80	/* PCM_ID */
#define REG_INTR	0x84	/* bit 0: playback period, 1: capture period, 2: DMA error */
#define REG_INTR_ACK	0x88	/* write 1s to clear */
#define REG_CAPS	0x8c	/* bit 0: playback, 1: capture */

#define PCM_ID		0x4e4b5043
#define CTRL_RUN	1
#define CTRL_RESUME	2	/* with RUN: go on with the stream a reset cut */
#define STATUS_ERROR	2
#define VOLUME_MUTE	(1u << 31)

struct @NAME@_stream {
	void *area;		/* the DMA ring */
	dma_addr_t addr;
	u32 bytes;
	const struct snd_pcm_runtime *rt;	/* the kernel's: rate, channels, period */
};

struct @NAME@_chip {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct snd_pcm pcm;
	struct @NAME@_stream st[2];	/* SNDRV_PCM_STREAM_PLAYBACK, _CAPTURE */
};

static void __iomem *reg(struct @NAME@_chip *chip, int stream, u32 off)
{
	return chip->regs + BANK(stream) + off;
}

static int @NAME@_open(struct snd_pcm *pcm, int stream)
{
	struct @NAME@_chip *chip = pcm->private_data;

	return ioread32(chip->regs + REG_CAPS) & (1u << stream) ? 0 : -ENODEV;
}

static void free_ring(struct @NAME@_chip *chip, int stream)
{
	struct @NAME@_stream *s = &chip->st[stream];

	if (s->area)
		dma_free_coherent(&chip->pdev->dev, s->bytes, s->area, s->addr);
	s->area = NULL;
	s->bytes = 0;
}

static int @NAME@_close(struct snd_pcm *pcm, int stream)
{
	struct @NAME@_chip *chip = pcm->private_data;

	iowrite32(0, reg(chip, stream, REG_CTRL));
	free_ring(chip, stream);
	return 0;
}

/* The stream's format is set: allocate its ring in DMA memory and give it to the kernel. */
static int @NAME@_hw_params(struct snd_pcm *pcm, int stream, const struct snd_pcm_runtime *rt)
{
	struct @NAME@_chip *chip = pcm->private_data;
	struct @NAME@_stream *s = &chip->st[stream];

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

/* Program the engine for the ring; its pointer starts again at 0. */
static int @NAME@_prepare(struct snd_pcm *pcm, int stream)
{
	struct @NAME@_chip *chip = pcm->private_data;
	struct @NAME@_stream *s = &chip->st[stream];

	iowrite32(0, reg(chip, stream, REG_CTRL));
	iowrite32((u32)s->addr, reg(chip, stream, REG_ADDR_LO));
	iowrite32((u32)(s->addr >> 32), reg(chip, stream, REG_ADDR_HI));
	iowrite32(s->bytes, reg(chip, stream, REG_SIZE));
	iowrite32(s->rt->period_bytes, reg(chip, stream, REG_PERIOD));
	iowrite32(s->rt->rate, reg(chip, stream, REG_RATE));
	iowrite32(s->rt->channels, reg(chip, stream, REG_CHANNELS));
	iowrite32(SNDRV_PCM_FORMAT_S16_LE, reg(chip, stream, REG_FORMAT));
	iowrite32(0, reg(chip, stream, REG_APPL));
	return 0;
}

/* START, STOP, or RESUME: after a restart the shadow resumes the stream where the device stopped. */
static int @NAME@_trigger(struct snd_pcm *pcm, int stream, int cmd)
{
	struct @NAME@_chip *chip = pcm->private_data;

	switch (cmd) {
	case SNDRV_PCM_TRIGGER_START:
	case SNDRV_PCM_TRIGGER_RESUME:
		iowrite32(cmd == SNDRV_PCM_TRIGGER_RESUME ? CTRL_RUN | CTRL_RESUME : CTRL_RUN, reg(chip, stream, REG_CTRL));
		return ioread32(reg(chip, stream, REG_STATUS)) & STATUS_ERROR ? -EIO : 0;
	case SNDRV_PCM_TRIGGER_STOP:
		iowrite32(0, reg(chip, stream, REG_CTRL));
		return 0;
	}
	return -EINVAL;
}

/* Where the device is in the ring, in frames. */
static unsigned long @NAME@_pointer(struct snd_pcm *pcm, int stream)
{
	struct @NAME@_chip *chip = pcm->private_data;
	struct @NAME@_stream *s = &chip->st[stream];

	return (ioread32(reg(chip, stream, REG_HWPTR)) % s->bytes) / s->rt->frame_bytes;
}

/* The kernel filled (playback) or emptied (capture) the ring up to `limit` bytes since prepare. */
static int @NAME@_ack(struct snd_pcm *pcm, int stream, u32 limit)
{
	iowrite32(limit, reg(pcm->private_data, stream, REG_APPL));
	return 0;
}

static int @NAME@_mixer(struct snd_pcm *pcm, int stream, unsigned int volume, int mute)
{
	if (volume > 100)
		return -EINVAL;
	iowrite32(volume | (mute ? VOLUME_MUTE : 0), reg(pcm->private_data, stream, REG_VOLUME));
	return 0;
}

static const struct snd_pcm_ops @NAME@_ops = {
	.open = @NAME@_open,
	.close = @NAME@_close,
	.hw_params = @NAME@_hw_params,
	.prepare = @NAME@_prepare,
	.trigger = @NAME@_trigger,
	.pointer = @NAME@_pointer,
	.ack = @NAME@_ack,
	.mixer = @NAME@_mixer,
};

static irqreturn_t @NAME@_irq(int irq, void *data)
{
	struct @NAME@_chip *chip = data;
	u32 status = ioread32(chip->regs + REG_INTR);

	if (!status)
		return IRQ_NONE;
	iowrite32(status, chip->regs + REG_INTR_ACK);
	if (status & 1)
		snd_pcm_period_elapsed(&chip->pcm, SNDRV_PCM_STREAM_PLAYBACK);
	if (status & 2)
		snd_pcm_period_elapsed(&chip->pcm, SNDRV_PCM_STREAM_CAPTURE);
	if (status & 4)
		pr_err("@NAME@: the device reported a DMA error\n");
	return IRQ_HANDLED;
}

static int @NAME@_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct @NAME@_chip *chip;
	int err;

	if (pci_enable_device(pdev))
		return -ENODEV;
	pci_set_master(pdev);
	chip = kzalloc(sizeof(*chip), GFP_KERNEL);
	if (!chip)
		return -ENOMEM;
	chip->pdev = pdev;
	chip->regs = pci_iomap(pdev, 0, 0);
	if (!chip->regs || ioread32(chip->regs + REG_ID) != PCM_ID) {
		err = -ENODEV;
		goto fail;
	}
	err = request_irq(pdev->irq, @NAME@_irq, 0, "@NAME@", chip);
	if (err)
		goto fail;
	chip->pcm.pdev = pdev;		/* the pcm takes the device's name: pcm0, ... */
	chip->pcm.ops = &@NAME@_ops;
	chip->pcm.streams = ioread32(chip->regs + REG_CAPS) & (SND_PCM_PLAYBACK_BIT | SND_PCM_CAPTURE_BIT);
	chip->pcm.max_buffer_bytes = 1 << 20;
	chip->pcm.private_data = chip;
	err = snd_pcm_register(&chip->pcm);
	if (err) {
		free_irq(pdev->irq, chip);
		goto fail;
	}
	pci_set_drvdata(pdev, chip);
	pr_info("@NAME@: %s, irq %u\n", pdev->dev.name, pdev->irq);
	return 0;
fail:
	if (chip->regs)
		pci_iounmap(pdev, chip->regs);
	kfree(chip);
	return err;
}

static void @NAME@_remove(struct pci_dev *pdev)
{
	struct @NAME@_chip *chip = pci_get_drvdata(pdev);

	snd_pcm_unregister(&chip->pcm);
	/* quiet the device, and let an interrupt already raised run its handler before free_irq */
	iowrite32(0, reg(chip, SNDRV_PCM_STREAM_PLAYBACK, REG_CTRL));
	iowrite32(0, reg(chip, SNDRV_PCM_STREAM_CAPTURE, REG_CTRL));
	iowrite32(ioread32(chip->regs + REG_INTR), chip->regs + REG_INTR_ACK);
	msleep(5);
	free_irq(pdev->irq, chip);
	free_ring(chip, SNDRV_PCM_STREAM_PLAYBACK);
	free_ring(chip, SNDRV_PCM_STREAM_CAPTURE);
	pci_iounmap(pdev, chip->regs);
	kfree(chip);
}

static const struct pci_device_id @NAME@_ids[] = {
	PCI_DEVICE(0x4e4b, 0x5043),
	{ 0, 0 },
};

static struct pci_driver @NAME@_driver = {
	.name = "@NAME@",
	.id_table = @NAME@_ids,
	.probe = @NAME@_probe,
	.remove = @NAME@_remove,
};

module_pci_driver(@NAME@_driver);
