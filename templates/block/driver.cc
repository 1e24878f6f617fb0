/*
 * @NAME@: a block driver in C++ (written by `nooks new @NAME@ --class block
 * --lang c++`) for the emulated queue-based disk, `kernel.addDevice('blk',
 * { image, size })` (its registers: <nooks/hw/blkdev_regs.h>). The same
 * driver as the C template's, written as a C++ author would: a class for the
 * device whose members release what they hold (RAII), no exceptions.
 *
 *   npx nooks build @NAME@/@NAME@.cc -o build/@NAME@.so
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
 *
 * The kernel calls the driver through C function pointers: the entry points
 * are extern "C" functions named @NAME@_submit, @NAME@_irq, ... (the names
 * faults are reported in and injected into) that hand over to the class.
 * docs/drivers.md, "C++ drivers", says what C++ may use here.
 */
#include <nooks/kapi.hh>

#include <nooks/blkdev.h>
#include <nooks/hw/blkdev_regs.h>

#include <atomic>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: a block driver made with nooks new --lang c++");

namespace {

constexpr u32 QSIZE = 64;	/* entries in each ring */
constexpr u32 QUEUE_DEPTH = 32;	/* requests in flight at most (< QSIZE: the ring never fills) */
constexpr u32 MAX_SECTORS = 64;	/* 32 KiB per request: the kernel splits larger ones */

/*
 * One disk: the device, its rings, the requests it has in flight, and the
 * disk registered for it. start() brings it up; the destructor undoes what
 * start() did, whichever step it got to.
 */
class Disk {
public:
	explicit Disk(pci_dev *pdev) : pdev_(pdev), regs_(pdev), sq_(pdev, QSIZE), cq_(pdev, QSIZE) {}
	~Disk();
	Disk(const Disk &) = delete;
	Disk &operator=(const Disk &) = delete;

	static Disk *of(blk_disk *disk) { return static_cast<Disk *>(disk->private_data); }

	int start(irq_handler_t irq, const blk_disk_ops *ops);
	int submit(blk_request *rq);
	void commit() { regs_.write32(BLKDEV_REG_SQ_TAIL, sq_tail_); }	/* the doorbell: one starts all submit wrote */
	irqreturn_t interrupt();

private:
	pci_dev *pdev_;
	nooks::Mmio regs_;			/* BAR 0, unmapped with the disk */
	nooks::DmaBuffer<blkdev_sqe> sq_;	/* submission ring: the driver writes, the device reads */
	nooks::DmaBuffer<blkdev_cqe> cq_;	/* completion ring: the device writes, the driver reads */
	u32 sq_tail_ = 0;		/* submit and commit only: the kernel calls them from one thread */
	std::atomic<u32> sq_head_{0};	/* the interrupt's (from completion entries); submit reads it */
	u32 cq_head_ = 0;
	u16 phase_ = 1;			/* the phase of completion entries not consumed yet */
	blk_request *rqs_[QSIZE] = {};	/* in flight, by tag */
	bool programmed_ = false;	/* its registers written: another device's (a wrong ID) never are */
	bool irq_requested_ = false;
	bool registered_ = false;
	blk_disk disk_ = {};
};

/* Maps the device, gives it its rings, starts it and registers the disk: 0, or -errno (the destructor cleans up). */
int Disk::start(irq_handler_t irq, const blk_disk_ops *ops)
{
	if (!regs_.mapped() || !sq_.allocated() || !cq_.allocated())
		return -ENOMEM;
	if (regs_.read32(BLKDEV_REG_ID) != BLKDEV_ID)
		return -ENODEV;	/* another device with the same PCI ids */
	cq_.clear();		/* phase 0 everywhere: nothing completed yet */
	programmed_ = true;
	regs_.write32(BLKDEV_REG_CTRL, 0);	/* stopped while its rings are set */
	regs_.write32(BLKDEV_REG_SQ_LO, (u32)sq_.bus());
	regs_.write32(BLKDEV_REG_SQ_HI, (u32)(sq_.bus() >> 32));
	regs_.write32(BLKDEV_REG_CQ_LO, (u32)cq_.bus());
	regs_.write32(BLKDEV_REG_CQ_HI, (u32)(cq_.bus() >> 32));
	regs_.write32(BLKDEV_REG_QSIZE, QSIZE);
	if (int err = request_irq(pdev_->irq, irq, 0, "@NAME@", this))
		return err;
	irq_requested_ = true;
	regs_.write32(BLKDEV_REG_CTRL, BLKDEV_CTRL_ENABLE);
	if (!(regs_.read32(BLKDEV_REG_STATUS) & BLKDEV_STATUS_READY))
		return -EIO;
	disk_.pdev = pdev_;		/* the disk takes the device's name: blk0, ... */
	disk_.capacity = regs_.read32(BLKDEV_REG_CAP_LO) | (u64)regs_.read32(BLKDEV_REG_CAP_HI) << 32;
	disk_.queue_depth = QUEUE_DEPTH;
	disk_.max_sectors = MAX_SECTORS;
	disk_.ops = ops;
	disk_.private_data = this;
	if (int err = blk_register_disk(&disk_))
		return err;
	registered_ = true;
	pr_info("@NAME@: %s: %llu sectors\n", pdev_->dev.name, (unsigned long long)disk_.capacity);
	return 0;
}

/* The device stops and forgets its rings before they are freed (the members, after this). */
Disk::~Disk()
{
	if (programmed_)
		regs_.write32(BLKDEV_REG_CTRL, 0);
	if (irq_requested_)
		free_irq(pdev_->irq, this);
	if (registered_)
		blk_unregister_disk(&disk_);	/* the kernel fails what was in flight */
}

/*
 * Writes the request's entry (the device sees it at commit): 0, or -EBUSY to
 * be given it again later. No lock: the kernel submits from one thread, and
 * the interrupt touches neither sq_tail_ nor a tag the kernel gives (it is free).
 */
int Disk::submit(blk_request *rq)
{
	if (rq->tag >= QSIZE)
		return -EINVAL;
	u32 tail = (sq_tail_ + 1) % QSIZE;
	if (tail == sq_head_.load(std::memory_order_relaxed) || rqs_[rq->tag])
		return -EBUSY;
	blkdev_sqe &e = sq_[sq_tail_];
	e = blkdev_sqe{};
	e.opcode = rq->op == BLK_OP_WRITE ? BLKDEV_OP_WRITE : rq->op == BLK_OP_FLUSH ? BLKDEV_OP_FLUSH : BLKDEV_OP_READ;
	e.tag = rq->tag;
	e.sector = rq->sector;
	e.count = rq->count;
	e.buffer = rq->dma;		/* the device reads or writes the request's buffer itself */
	rqs_[rq->tag] = rq;
	sq_tail_ = tail;
	return 0;
}

/* The device completed requests: reap the completion ring, then complete them (one interrupt thread: no lock). */
irqreturn_t Disk::interrupt()
{
	blk_request *done[QSIZE];
	int status[QSIZE];
	u32 n = 0;

	regs_.write32(BLKDEV_REG_INTR_ACK, BLKDEV_INTR_CQ);
	for (;;) {
		volatile blkdev_cqe &c = cq_[cq_head_];	/* read as the device writes it */
		if (c.phase != phase_)
			break;		/* not written by the device yet */
		std::atomic_signal_fence(std::memory_order_acquire);	/* the device writes the phase last */
		u32 tag = c.tag;
		sq_head_.store(c.sq_head % QSIZE, std::memory_order_relaxed);
		if (tag < QSIZE && rqs_[tag]) {
			done[n] = rqs_[tag];
			status[n++] = c.status == BLKDEV_CS_OK ? 0 : -EIO;
			rqs_[tag] = nullptr;
		}
		if (++cq_head_ == QSIZE) {
			cq_head_ = 0;
			phase_ ^= 1;
		}
	}
	if (n)
		regs_.write32(BLKDEV_REG_CQ_HEAD, cq_head_);
	for (u32 i = 0; i < n; i++)
		blk_complete(done[i], status[i]);
	return n ? IRQ_HANDLED : IRQ_NONE;
}

}  // namespace

/* The entry points the kernel calls, with C linkage: they hand over to the disk. */
extern "C" {

static int @NAME@_submit(blk_disk *disk, blk_request *rq)
{
	return Disk::of(disk)->submit(rq);
}

/* After each batch of submits, whatever they returned. */
static void @NAME@_commit(blk_disk *disk)
{
	Disk::of(disk)->commit();
}

static irqreturn_t @NAME@_irq(int irq, void *data)
{
	return static_cast<Disk *>(data)->interrupt();
}

static const blk_disk_ops @NAME@_ops = {
	.submit = @NAME@_submit,
	.commit = @NAME@_commit,
};

/* A device matched the id table: bring up a disk for it (kept as the device's drvdata; a failed start is undone). */
static int @NAME@_probe(pci_dev *pdev, const pci_device_id *id)
{
	if (pci_enable_device(pdev))
		return -ENODEV;
	pci_set_master(pdev);
	return nooks::probe_device<Disk>(pdev, @NAME@_irq, &@NAME@_ops);
}

/* The disk's destructor undoes what start did. */
static void @NAME@_remove(pci_dev *pdev)
{
	nooks::remove_device<Disk>(pdev);
}

static const pci_device_id @NAME@_ids[] = {
	PCI_DEVICE(BLKDEV_VENDOR, BLKDEV_DEVICE),
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
