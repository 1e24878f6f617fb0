/*
 * The emulated disk's programming interface (native/classes/block/model.cc),
 * shared with its driver (drivers/blk/blk.c). A queue-based controller:
 * submission and completion rings in the driver's DMA memory, doorbells, one
 * interrupt for completions.
 */
#ifndef NOOKS_BLKDEV_REGS_H
#define NOOKS_BLKDEV_REGS_H

#define BLKDEV_VENDOR	0x4e4b
#define BLKDEV_DEVICE	0x0002
#define BLKDEV_ID	0x4e4b0002u

/* BAR 0, 32-bit registers */
#define BLKDEV_REG_ID		0x00	/* ro: BLKDEV_ID */
#define BLKDEV_REG_CAP_LO	0x04	/* ro: capacity in 512-byte sectors */
#define BLKDEV_REG_CAP_HI	0x08
#define BLKDEV_REG_SQ_LO	0x0c	/* submission ring bus address */
#define BLKDEV_REG_SQ_HI	0x10
#define BLKDEV_REG_CQ_LO	0x14	/* completion ring bus address */
#define BLKDEV_REG_CQ_HI	0x18
#define BLKDEV_REG_QSIZE	0x1c	/* entries in each ring (2..1024) */
#define BLKDEV_REG_CTRL		0x20	/* write BLKDEV_CTRL_ENABLE to start, 0 to stop (and forget the rings) */
#define BLKDEV_REG_STATUS	0x24	/* ro: BLKDEV_STATUS_* */
#define BLKDEV_REG_SQ_TAIL	0x28	/* doorbell: the driver's next submission slot */
#define BLKDEV_REG_CQ_HEAD	0x2c	/* doorbell: the driver's next completion slot to consume */
#define BLKDEV_REG_INTR		0x30	/* ro: pending interrupt causes */
#define BLKDEV_REG_INTR_ACK	0x34	/* write 1s to clear causes */

#define BLKDEV_CTRL_ENABLE	1
#define BLKDEV_STATUS_READY	1
#define BLKDEV_STATUS_ERROR	2	/* a ring could not be read or written */
#define BLKDEV_INTR_CQ		1

/* a 32-byte submission entry */
struct blkdev_sqe {
	u8 opcode;		/* BLKDEV_OP_* */
	u8 reserved[3];
	u32 tag;
	u64 sector;
	u32 count;		/* sectors */
	u32 reserved2;
	u64 buffer;		/* bus address of count * 512 bytes */
};
#define BLKDEV_OP_READ	0
#define BLKDEV_OP_WRITE	1
#define BLKDEV_OP_FLUSH	2

/* a 16-byte completion entry; phase flips each time the ring wraps (starts 1) */
struct blkdev_cqe {
	u32 tag;
	s32 status;		/* BLKDEV_CS_* */
	u16 sq_head;		/* submission entries the device has consumed */
	u16 phase;
	u32 reserved;
};
#define BLKDEV_CS_OK		0
#define BLKDEV_CS_DMA_ERROR	1	/* the buffer was not the driver's DMA memory */
#define BLKDEV_CS_IO_ERROR	2	/* the image file failed */
#define BLKDEV_CS_BAD_REQUEST	3	/* bad opcode, past the capacity */

#endif
