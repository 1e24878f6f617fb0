/*
 * @NAME@: a sound (PCM) driver in C++ (written by `nooks new @NAME@ --class
 * sound --lang c++`) for the emulated PCM device, `kernel.addDevice('pcm',
 * { playback: 'out.wav', capture: 'in.wav' })`: it plays into one WAV file and
 * records from another, at the real sample rate. The same driver as the C
 * template's, written as a C++ author would: a class for the chip whose
 * members release what they hold (RAII), no exceptions.
 *
 *   npx nooks build @NAME@/@NAME@.cc -o build/@NAME@.so
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
 *
 * The kernel calls the driver through C function pointers: the entry points
 * are extern "C" functions named @NAME@_pointer, @NAME@_irq, ... (the names
 * faults are reported in and injected into) that hand over to the class.
 * docs/drivers.md, "C++ drivers", says what C++ may use here.
 */
#include <nooks/kapi.hh>
#include <nooks/sound.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: a PCM sound driver made with nooks new --lang c++");

namespace {

/* The device's registers (BAR 0, 32-bit; native/classes/sound/pcm_device.cc). One bank per stream: */
constexpr u32 bank(int stream) { return stream * 0x40; }	/* playback at 0x00, capture at 0x40 */
constexpr u32 REG_ADDR_LO = 0x00;	/* the ring's bus address */
constexpr u32 REG_ADDR_HI = 0x04;
constexpr u32 REG_SIZE = 0x08;		/* the ring's bytes */
constexpr u32 REG_PERIOD = 0x0c;	/* bytes per period: an interrupt each */
constexpr u32 REG_RATE = 0x10;
constexpr u32 REG_CHANNELS = 0x14;
constexpr u32 REG_FORMAT = 0x18;	/* 2: S16_LE */
constexpr u32 REG_CTRL = 0x1c;		/* CTRL_* */
constexpr u32 REG_HWPTR = 0x20;		/* bytes moved since prepare (read-only) */
constexpr u32 REG_APPL = 0x24;		/* how far the device may move */
constexpr u32 REG_VOLUME = 0x28;	/* 0..100, VOLUME_MUTE */
constexpr u32 REG_STATUS = 0x2c;	/* STATUS_* */
/* and for the whole device: */
constexpr u32 REG_ID = 0x80;		/* PCM_ID */
constexpr u32 REG_INTR = 0x84;		/* bit 0: playback period, 1: capture period, 2: DMA error */
constexpr u32 REG_INTR_ACK = 0x88;	/* write 1s to clear */
constexpr u32 REG_CAPS = 0x8c;		/* bit 0: playback, 1: capture */

constexpr u32 PCM_ID = 0x4e4b5043;
constexpr u32 CTRL_RUN = 1;
constexpr u32 CTRL_RESUME = 2;		/* with RUN: go on with the stream a reset cut */
constexpr u32 STATUS_ERROR = 2;
constexpr u32 VOLUME_MUTE = 1u << 31;

struct Stream {
	explicit Stream(pci_dev *pdev) : ring(pdev) {}

	nooks::DmaBuffer<u8> ring;	/* in DMA memory (the device reads or writes it): hw_params replaces it, close frees it */
	const snd_pcm_runtime *rt = nullptr;	/* the kernel's: rate, channels, period */
};

/*
 * One PCM device: its registers, the pcm registered for it, and a ring for
 * each stream while it is set up. start() brings it up; the destructor undoes
 * what start() did, whichever step it got to.
 */
class Chip {
public:
	explicit Chip(pci_dev *pdev) : pdev_(pdev), regs_(pdev), streams_{Stream(pdev), Stream(pdev)} {}
	~Chip();
	Chip(const Chip &) = delete;
	Chip &operator=(const Chip &) = delete;

	static Chip *of(snd_pcm *pcm) { return static_cast<Chip *>(pcm->private_data); }

	int start(irq_handler_t irq, const snd_pcm_ops *ops);
	irqreturn_t interrupt();
	int open(int stream) const;
	int close(int stream);
	int hw_params(int stream, const snd_pcm_runtime *rt);
	int prepare(int stream);
	int trigger(int stream, int cmd);
	unsigned long pointer(int stream) const;
	void ack(int stream, u32 limit) { regs_.write32(bank(stream) + REG_APPL, limit); }
	int mixer(int stream, unsigned int volume, bool mute);

private:
	pci_dev *pdev_;
	nooks::Mmio regs_;	/* BAR 0, unmapped with the chip */
	snd_pcm pcm_ = {};
	Stream streams_[2];	/* SNDRV_PCM_STREAM_PLAYBACK, _CAPTURE */
	bool irq_requested_ = false;
	bool registered_ = false;
};

/* Checks it is the PCM device, takes its interrupt and registers the pcm: 0, or -errno (the destructor cleans up). */
int Chip::start(irq_handler_t irq, const snd_pcm_ops *ops)
{
	if (!regs_.mapped() || regs_.read32(REG_ID) != PCM_ID)
		return -ENODEV;
	if (int err = request_irq(pdev_->irq, irq, 0, "@NAME@", this))
		return err;
	irq_requested_ = true;
	pcm_.pdev = pdev_;		/* the pcm takes the device's name: pcm0, ... */
	pcm_.ops = ops;
	pcm_.streams = regs_.read32(REG_CAPS) & (SND_PCM_PLAYBACK_BIT | SND_PCM_CAPTURE_BIT);
	pcm_.max_buffer_bytes = 1 << 20;
	pcm_.private_data = this;
	if (int err = snd_pcm_register(&pcm_))
		return err;
	registered_ = true;
	pr_info("@NAME@: %s, irq %u\n", pdev_->dev.name, pdev_->irq);
	return 0;
}

/* The pcm goes and the device is quiet before its interrupt is freed; the members free the rings and unmap the registers. */
Chip::~Chip()
{
	if (registered_) {
		snd_pcm_unregister(&pcm_);
		/* quiet the device, and let an interrupt already raised run its handler before free_irq */
		regs_.write32(bank(SNDRV_PCM_STREAM_PLAYBACK) + REG_CTRL, 0);
		regs_.write32(bank(SNDRV_PCM_STREAM_CAPTURE) + REG_CTRL, 0);
		regs_.write32(REG_INTR_ACK, regs_.read32(REG_INTR));
		msleep(5);
	}
	if (irq_requested_)
		free_irq(pdev_->irq, this);
}

int Chip::open(int stream) const
{
	return regs_.read32(REG_CAPS) & (1u << stream) ? 0 : -ENODEV;
}

int Chip::close(int stream)
{
	regs_.write32(bank(stream) + REG_CTRL, 0);
	streams_[stream].ring.release();
	return 0;
}

/* The stream's format is set: allocate its ring in DMA memory and give it to the kernel. */
int Chip::hw_params(int stream, const snd_pcm_runtime *rt)
{
	Stream &s = streams_[stream];

	if (rt->format != SNDRV_PCM_FORMAT_S16_LE)
		return -EINVAL;
	if (!s.ring.allocate(rt->buffer_bytes))	/* the ring there was is freed */
		return -ENOMEM;
	s.ring.clear();
	s.rt = rt;
	return snd_pcm_set_buffer(&pcm_, stream, s.ring.data(), s.ring.bytes());
}

/* Program the engine for the ring; its pointer starts again at 0. */
int Chip::prepare(int stream)
{
	const Stream &s = streams_[stream];
	const u32 at = bank(stream);

	regs_.write32(at + REG_CTRL, 0);
	regs_.write32(at + REG_ADDR_LO, (u32)s.ring.bus());
	regs_.write32(at + REG_ADDR_HI, (u32)(s.ring.bus() >> 32));
	regs_.write32(at + REG_SIZE, s.ring.bytes());
	regs_.write32(at + REG_PERIOD, s.rt->period_bytes);
	regs_.write32(at + REG_RATE, s.rt->rate);
	regs_.write32(at + REG_CHANNELS, s.rt->channels);
	regs_.write32(at + REG_FORMAT, SNDRV_PCM_FORMAT_S16_LE);
	regs_.write32(at + REG_APPL, 0);
	return 0;
}

/* START, STOP, or RESUME: after a restart the shadow resumes the stream where the device stopped. */
int Chip::trigger(int stream, int cmd)
{
	switch (cmd) {
	case SNDRV_PCM_TRIGGER_START:
	case SNDRV_PCM_TRIGGER_RESUME:
		regs_.write32(bank(stream) + REG_CTRL, cmd == SNDRV_PCM_TRIGGER_RESUME ? CTRL_RUN | CTRL_RESUME : CTRL_RUN);
		return regs_.read32(bank(stream) + REG_STATUS) & STATUS_ERROR ? -EIO : 0;
	case SNDRV_PCM_TRIGGER_STOP:
		regs_.write32(bank(stream) + REG_CTRL, 0);
		return 0;
	}
	return -EINVAL;
}

/* Where the device is in the ring, in frames. */
unsigned long Chip::pointer(int stream) const
{
	const Stream &s = streams_[stream];

	return (regs_.read32(bank(stream) + REG_HWPTR) % s.ring.bytes()) / s.rt->frame_bytes;
}

int Chip::mixer(int stream, unsigned int volume, bool mute)
{
	if (volume > 100)
		return -EINVAL;
	regs_.write32(bank(stream) + REG_VOLUME, volume | (mute ? VOLUME_MUTE : 0));
	return 0;
}

irqreturn_t Chip::interrupt()
{
	u32 status = regs_.read32(REG_INTR);

	if (!status)
		return IRQ_NONE;
	regs_.write32(REG_INTR_ACK, status);
	if (status & 1)
		snd_pcm_period_elapsed(&pcm_, SNDRV_PCM_STREAM_PLAYBACK);
	if (status & 2)
		snd_pcm_period_elapsed(&pcm_, SNDRV_PCM_STREAM_CAPTURE);
	if (status & 4)
		pr_err("@NAME@: the device reported a DMA error\n");
	return IRQ_HANDLED;
}

}  // namespace

/* The entry points the kernel calls, with C linkage: they hand over to the chip. */
extern "C" {

static int @NAME@_open(snd_pcm *pcm, int stream)
{
	return Chip::of(pcm)->open(stream);
}

static int @NAME@_close(snd_pcm *pcm, int stream)
{
	return Chip::of(pcm)->close(stream);
}

static int @NAME@_hw_params(snd_pcm *pcm, int stream, const snd_pcm_runtime *rt)
{
	return Chip::of(pcm)->hw_params(stream, rt);
}

static int @NAME@_prepare(snd_pcm *pcm, int stream)
{
	return Chip::of(pcm)->prepare(stream);
}

static int @NAME@_trigger(snd_pcm *pcm, int stream, int cmd)
{
	return Chip::of(pcm)->trigger(stream, cmd);
}

static unsigned long @NAME@_pointer(snd_pcm *pcm, int stream)
{
	return Chip::of(pcm)->pointer(stream);
}

/* The kernel filled (playback) or emptied (capture) the ring up to `limit` bytes since prepare. */
static int @NAME@_ack(snd_pcm *pcm, int stream, u32 limit)
{
	Chip::of(pcm)->ack(stream, limit);
	return 0;
}

static int @NAME@_mixer(snd_pcm *pcm, int stream, unsigned int volume, int mute)
{
	return Chip::of(pcm)->mixer(stream, volume, mute);
}

static const snd_pcm_ops @NAME@_ops = {
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
	return static_cast<Chip *>(data)->interrupt();
}

/* A device matched the id table: bring up a chip for it (kept as the device's drvdata; a failed start is undone). */
static int @NAME@_probe(pci_dev *pdev, const pci_device_id *id)
{
	if (pci_enable_device(pdev))
		return -ENODEV;
	pci_set_master(pdev);
	return nooks::probe_device<Chip>(pdev, @NAME@_irq, &@NAME@_ops);
}

/* The chip's destructor undoes what start did. */
static void @NAME@_remove(pci_dev *pdev)
{
	nooks::remove_device<Chip>(pdev);
}

static const pci_device_id @NAME@_ids[] = {
	PCI_DEVICE(0x4e4b, 0x5043),
	{ 0, 0 },
};

static pci_driver @NAME@_driver = {
	.name = "@NAME@",
	.id_table = @NAME@_ids,
	.probe = @NAME@_probe,
	.remove = @NAME@_remove,
};

}  // extern "C"

/* Load (and every restart): register with the PCI bus; devices already there are probed now. */
module_pci_driver(@NAME@_driver);
