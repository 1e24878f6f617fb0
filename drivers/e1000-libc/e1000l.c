/*
 * e1000l: a userspace, polled driver for the Intel 82540EM (see e1000l.h),
 * from the PCI/PCI-X Family of Gigabit Ethernet Controllers Software
 * Developer's Manual (SDM; section numbers below are its). It reaches the
 * device the way userspace drivers do on Linux:
 *
 *   /sys/bus/pci/devices/<addr>/config     the command register: memory space, bus master
 *   /sys/bus/pci/devices/<addr>/driver/unbind   the kernel's driver let go (if any)
 *   /sys/bus/pci/devices/<addr>/resource0  BAR 0, the registers, mmap'd
 *   /mnt/huge (hugetlbfs)                  2 MiB of physically contiguous DMA memory
 *   /proc/self/pagemap                     its physical (bus) address
 *
 * or, for a device bound to vfio-pci, through VFIO (vfio.c): BAR 0 and the
 * config space from the device's file, the hugepage mapped into the IOMMU.
 *
 * One 2 MiB hugepage holds everything the device reads and writes: the
 * legacy receive and transmit descriptor rings and a 2 KiB buffer for each
 * descriptor. Nothing but the C library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "e1000l.h"
#include "e1000l_private.h"

/* ---- the 82540EM (SDM chapter 13, table 13-2: register offsets in BAR 0) ---- */

#define CTRL	0x0000
#define STATUS	0x0008
#define EERD	0x0014
#define ICR	0x00c0
#define IMC	0x00d8
#define RCTL	0x0100
#define TCTL	0x0400
#define TIPG	0x0410
#define RDBAL	0x2800
#define RDBAH	0x2804
#define RDLEN	0x2808
#define RDH	0x2810
#define RDT	0x2818
#define TDBAL	0x3800
#define TDBAH	0x3804
#define TDLEN	0x3808
#define TDH	0x3810
#define TDT	0x3818
#define MPC	0x4010
#define GPRC	0x4074
#define GPTC	0x4080
#define GORCL	0x4088	/* 64-bit counters: reading the high half clears both */
#define GORCH	0x408c
#define GOTCL	0x4090
#define GOTCH	0x4094
#define STATS_FIRST 0x4000
#define STATS_LAST  0x40fc
#define MTA	0x5200	/* 128 words */
#define RAL0	0x5400
#define RAH0	0x5404

#define CTRL_ASDE	(1u << 5)	/* auto-speed detection */
#define CTRL_SLU	(1u << 6)	/* set link up */
#define CTRL_ILOS	(1u << 7)
#define CTRL_RST	(1u << 26)	/* device reset, self-clearing */
#define CTRL_VME	(1u << 30)
#define CTRL_PHY_RST	(1u << 31)
#define STATUS_LU	(1u << 1)
#define EERD_START	(1u << 0)
#define EERD_DONE	(1u << 4)	/* 8254x (but not 8254xEI/GI): DONE is bit 4, address bits 15:8 */
#define RAH_AV		(1u << 31)	/* address valid */
#define RCTL_EN		(1u << 1)
#define RCTL_BAM	(1u << 15)	/* accept broadcast */
#define RCTL_SECRC	(1u << 26)	/* strip the FCS */
/* RCTL.BSIZE 00b with BSEX 0: 2048-byte buffers; RDMTS 00b: threshold at half the ring */
#define TCTL_EN		(1u << 1)
#define TCTL_PSP	(1u << 3)	/* pad short packets */
#define TCTL_CT(n)	((n) << 4)	/* collision threshold */
#define TCTL_COLD(n)	((n) << 12)	/* collision distance */
#define TIPG_IEEE	(10u | (8u << 10) | (6u << 20))	/* IPGT 10, IPGR1 8, IPGR2 6 (14.5, copper) */

/* Legacy receive descriptor (3.2.3) and transmit descriptor (3.3.3): 16 bytes each. */
struct rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};
struct tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};
#define RXD_DD		(1u << 0)	/* descriptor done */
#define RXD_EOP		(1u << 1)	/* end of packet */
#define TXD_EOP		(1u << 0)
#define TXD_IFCS	(1u << 1)	/* insert the FCS */
#define TXD_RS		(1u << 3)	/* report status: write DD back */
#define TXD_DD		(1u << 0)

/* ---- this driver ------------------------------------------------------------ */

#define RING		256	/* descriptors in each ring (RDLEN/TDLEN: multiples of 128 bytes) */
#define BUF_SIZE	2048
#define HUGEPAGE	(2u << 20)
#define BAR0_SIZE	0x20000

/* Offsets in the hugepage */
#define RX_RING_AT	0
#define TX_RING_AT	(RING * sizeof(struct rx_desc))
#define RX_BUFS_AT	(2 * 4096)
#define TX_BUFS_AT	(RX_BUFS_AT + RING * BUF_SIZE)

_Static_assert(TX_BUFS_AT + RING * BUF_SIZE <= HUGEPAGE, "the rings and buffers fit in one hugepage");
_Static_assert(TX_RING_AT + RING * sizeof(struct tx_desc) <= RX_BUFS_AT, "the rings come before the buffers");

struct e1000l {
	char addr[32];
	volatile uint8_t *regs;		/* BAR 0 */
	uint8_t *dma;			/* the hugepage */
	uint64_t dma_bus;		/* its bus address */
	struct rx_desc *rx_ring;
	struct tx_desc *tx_ring;
	unsigned rx_next;		/* the next receive descriptor the NIC writes back */
	unsigned tx_tail;		/* the next free transmit descriptor (our TDT) */
	unsigned tx_clean;		/* the oldest transmit descriptor not yet seen done */
	struct e1000l_stats totals;
	int via_vfio;
	struct vfio_dev vfio;
};

void e1000l_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "e1000l: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static uint32_t rd32(struct e1000l *nic, uint32_t reg)
{
	return *(volatile uint32_t *)(nic->regs + reg);
}

static void wr32(struct e1000l *nic, uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(nic->regs + reg) = val;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void sysfs_path(char *out, size_t size, const char *addr, const char *file)
{
	snprintf(out, size, "/sys/bus/pci/devices/%s/%s", addr, file);
}

/* ---- the PCI device --------------------------------------------------------- */

/* Checks the IDs and turns on memory decoding and bus mastering (PCI command register, offset 4). */
static void enable_device(const char *addr)
{
	char path[128];
	uint16_t id[2], cmd;
	int fd;

	sysfs_path(path, sizeof path, addr, "config");
	fd = open(path, O_RDWR);
	if (fd < 0)
		e1000l_die("cannot open %s: %s", path, strerror(errno));
	if (pread(fd, id, sizeof id, 0) != sizeof id)
		e1000l_die("cannot read %s: %s", path, strerror(errno));
	if (id[0] != 0x8086 || id[1] != 0x100e)
		e1000l_die("%s is %04x:%04x, not an 82540EM (8086:100e)", addr, id[0], id[1]);
	if (pread(fd, &cmd, sizeof cmd, 4) != sizeof cmd)
		e1000l_die("cannot read the command register of %s: %s", addr, strerror(errno));
	cmd |= (1u << 1) | (1u << 2);	/* memory space, bus master */
	if (pwrite(fd, &cmd, sizeof cmd, 4) != sizeof cmd)
		e1000l_die("cannot enable bus mastering on %s: %s", addr, strerror(errno));
	close(fd);
}

/* Lets the kernel's driver go, if one holds the device (failure is fine: there may be none). */
static void unbind_kernel_driver(const char *addr)
{
	char path[128];
	int fd;

	sysfs_path(path, sizeof path, addr, "driver/unbind");
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return;
	if (write(fd, addr, strlen(addr)) < 0)
		fprintf(stderr, "e1000l: %s: %s (going on)\n", path, strerror(errno));
	close(fd);
}

static volatile uint8_t *map_bar0(const char *addr)
{
	char path[128];
	struct stat st;
	void *p;
	int fd;

	sysfs_path(path, sizeof path, addr, "resource0");
	fd = open(path, O_RDWR);
	if (fd < 0)
		e1000l_die("cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		e1000l_die("cannot stat %s: %s", path, strerror(errno));
	if (st.st_size != 0 && st.st_size < BAR0_SIZE)
		e1000l_die("%s is %lld bytes, the 82540EM has %d", path, (long long)st.st_size, BAR0_SIZE);
	p = mmap(NULL, BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		e1000l_die("cannot map %s: %s", path, strerror(errno));
	close(fd);
	return p;
}

/* ---- DMA memory ------------------------------------------------------------- */

/* The physical address behind `virt`, from /proc/self/pagemap (bits 0-54: the frame number, 63: present). */
static uint64_t bus_address(const void *virt)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t entry;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		e1000l_die("cannot open /proc/self/pagemap: %s", strerror(errno));
	if (pread(fd, &entry, sizeof entry, (off_t)((uintptr_t)virt / page * sizeof entry)) != sizeof entry)
		e1000l_die("cannot read /proc/self/pagemap: %s", strerror(errno));
	close(fd);
	if (!(entry & (1ull << 63)) || !(entry & ((1ull << 55) - 1)))
		e1000l_die("/proc/self/pagemap gives no frame for %p (not root?)", virt);
	return (entry & ((1ull << 55) - 1)) * page + (uintptr_t)virt % page;
}

/* One locked 2 MiB hugepage: physically contiguous, so one bus address covers it. */
static uint8_t *alloc_hugepage(const char *addr)
{
	char path[128];
	void *p;
	int fd;

	snprintf(path, sizeof path, "/mnt/huge/e1000l-%d-%s", (int)getpid(), addr);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	if (fd < 0)
		e1000l_die("cannot create %s (is hugetlbfs mounted on /mnt/huge?): %s", path, strerror(errno));
	if (ftruncate(fd, HUGEPAGE) < 0)
		e1000l_die("cannot size %s: %s", path, strerror(errno));
	p = mmap(NULL, HUGEPAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_HUGETLB, fd, 0);
	if (p == MAP_FAILED)
		e1000l_die("cannot map a hugepage from %s (reserved in /proc/sys/vm/nr_hugepages?): %s", path, strerror(errno));
	if (mlock(p, HUGEPAGE) < 0)
		e1000l_die("cannot lock the DMA memory: %s", strerror(errno));
	close(fd);
	unlink(path);	/* the mapping keeps the page */
	memset(p, 0, HUGEPAGE);
	return p;
}

/* ---- the NIC ------------------------------------------------------------------ */

/* Device reset (14.3 and CTRL.RST in 13): registers to their defaults, RAL0/RAH0 reloaded from the EEPROM. */
static void reset(struct e1000l *nic)
{
	int i;

	wr32(nic, IMC, 0xffffffff);	/* no interrupts: this driver polls */
	wr32(nic, CTRL, rd32(nic, CTRL) | CTRL_RST);
	sleep_us(1000);			/* the SDM asks for 1 us before the next access; be generous */
	for (i = 0; i < 100 && (rd32(nic, CTRL) & CTRL_RST); i++)
		sleep_us(1000);
	if (rd32(nic, CTRL) & CTRL_RST)
		e1000l_die("%s: the reset did not complete", nic->addr);
	wr32(nic, IMC, 0xffffffff);	/* and after it, before anything can raise a cause */
	rd32(nic, ICR);			/* reading clears the causes */
}

/* One EEPROM word through EERD (SDM chapter 13), for an adapter whose RAH0 the reset left invalid. */
static uint16_t eeprom_word(struct e1000l *nic, unsigned word)
{
	uint32_t v = 0;
	int i;

	wr32(nic, EERD, (word << 8) | EERD_START);
	for (i = 0; i < 1000 && !((v = rd32(nic, EERD)) & EERD_DONE); i++)
		sleep_us(10);
	if (!(v & EERD_DONE))
		e1000l_die("%s: EEPROM read of word %u did not complete", nic->addr, word);
	return v >> 16;
}

/* The station address: RAL0/RAH0 as loaded from the EEPROM at reset (or the EEPROM's words 0-2 themselves). */
static void read_mac(struct e1000l *nic, uint8_t mac[6])
{
	uint32_t ral = rd32(nic, RAL0), rah = rd32(nic, RAH0);
	int i;

	if (!(rah & RAH_AV)) {
		uint16_t w[3] = { eeprom_word(nic, 0), eeprom_word(nic, 1), eeprom_word(nic, 2) };

		ral = w[0] | ((uint32_t)w[1] << 16);
		rah = w[2];
	}
	for (i = 0; i < 4; i++)
		mac[i] = ral >> (8 * i);
	mac[4] = rah;
	mac[5] = rah >> 8;
}

/* General configuration (14.3): link up with auto-speed detection, no VLANs, an empty multicast table, counters zeroed. */
static void configure(struct e1000l *nic)
{
	uint8_t mac[6];
	uint32_t reg;

	wr32(nic, CTRL, (rd32(nic, CTRL) | CTRL_SLU | CTRL_ASDE) & ~(CTRL_ILOS | CTRL_VME | CTRL_PHY_RST));
	for (reg = MTA; reg < MTA + 128 * 4; reg += 4)
		wr32(nic, reg, 0);
	for (reg = STATS_FIRST; reg <= STATS_LAST; reg += 4)
		rd32(nic, reg);	/* statistics clear on read */
	/* receive address 0: our own, valid (the filter takes frames to it) */
	read_mac(nic, mac);
	wr32(nic, RAL0, mac[0] | (mac[1] << 8) | (mac[2] << 16) | ((uint32_t)mac[3] << 24));
	wr32(nic, RAH0, mac[4] | (mac[5] << 8) | RAH_AV);
}

/* Receive initialization (14.4): a ring of RING descriptors, each with its buffer, all but one given to the NIC. */
static void init_rx(struct e1000l *nic)
{
	uint64_t ring = nic->dma_bus + RX_RING_AT;
	int i;

	for (i = 0; i < RING; i++) {
		nic->rx_ring[i].addr = nic->dma_bus + RX_BUFS_AT + (uint64_t)i * BUF_SIZE;
		nic->rx_ring[i].status = 0;
	}
	wr32(nic, RDBAL, (uint32_t)ring);
	wr32(nic, RDBAH, (uint32_t)(ring >> 32));
	wr32(nic, RDLEN, RING * sizeof(struct rx_desc));
	wr32(nic, RDH, 0);
	wr32(nic, RDT, RING - 1);	/* the NIC owns RDH..RDT-1: a full ring would read as empty */
	nic->rx_next = 0;
	wr32(nic, RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
}

/* Transmit initialization (14.5): an empty ring, the transmitter on for full duplex. */
static void init_tx(struct e1000l *nic)
{
	uint64_t ring = nic->dma_bus + TX_RING_AT;
	int i;

	for (i = 0; i < RING; i++) {
		nic->tx_ring[i].addr = nic->dma_bus + TX_BUFS_AT + (uint64_t)i * BUF_SIZE;
		nic->tx_ring[i].status = TXD_DD;	/* free */
	}
	wr32(nic, TDBAL, (uint32_t)ring);
	wr32(nic, TDBAH, (uint32_t)(ring >> 32));
	wr32(nic, TDLEN, RING * sizeof(struct tx_desc));
	wr32(nic, TDH, 0);
	wr32(nic, TDT, 0);
	nic->tx_tail = nic->tx_clean = 0;
	wr32(nic, TIPG, TIPG_IEEE);
	wr32(nic, TCTL, TCTL_EN | TCTL_PSP | TCTL_CT(0x0f) | TCTL_COLD(0x40));
}

struct e1000l *e1000l_open(const char *pci_addr)
{
	struct e1000l *nic = calloc(1, sizeof *nic);
	uint8_t mac[6];
	int i;

	if (!nic)
		e1000l_die("out of memory");
	if (strlen(pci_addr) >= sizeof nic->addr)
		e1000l_die("'%s' is not a PCI address (DDDD:BB:DD.F)", pci_addr);
	strcpy(nic->addr, pci_addr);
	nic->via_vfio = vfio_bound(pci_addr);
	if (nic->via_vfio) {
		nic->regs = vfio_open_device(pci_addr, &nic->vfio, BAR0_SIZE);
		nic->dma = alloc_hugepage(pci_addr);
		nic->dma_bus = vfio_map_dma(&nic->vfio, nic->dma, HUGEPAGE);
	} else {
		unbind_kernel_driver(pci_addr);
		enable_device(pci_addr);
		nic->regs = map_bar0(pci_addr);
		nic->dma = alloc_hugepage(pci_addr);
		nic->dma_bus = bus_address(nic->dma);
	}
	nic->rx_ring = (struct rx_desc *)(nic->dma + RX_RING_AT);
	nic->tx_ring = (struct tx_desc *)(nic->dma + TX_RING_AT);

	reset(nic);
	configure(nic);
	init_rx(nic);
	init_tx(nic);
	/* auto-negotiation takes a while on a real PHY (QEMU's: 500 ms after its own PHY reset) */
	for (i = 0; i < 3000 && !e1000l_link_up(nic); i++)
		sleep_us(1000);
	e1000l_mac(nic, mac);
	printf("e1000l: %s: %02x:%02x:%02x:%02x:%02x:%02x, link %s, %s\n", pci_addr, mac[0], mac[1], mac[2], mac[3], mac[4],
	       mac[5], e1000l_link_up(nic) ? "up" : "down", nic->via_vfio ? "vfio" : "sysfs");
	return nic;
}

/* Descriptors the NIC is done with (DD written back) become free again. */
static void reclaim_tx(struct e1000l *nic)
{
	while (nic->tx_clean != nic->tx_tail && (__atomic_load_n(&nic->tx_ring[nic->tx_clean].status, __ATOMIC_ACQUIRE) & TXD_DD))
		nic->tx_clean = (nic->tx_clean + 1) % RING;
}

unsigned e1000l_tx_batch(struct e1000l *nic, const struct e1000l_frame *frames, unsigned n)
{
	unsigned sent = 0;

	reclaim_tx(nic);
	for (; sent < n; sent++) {
		unsigned next = (nic->tx_tail + 1) % RING;
		struct tx_desc *d = &nic->tx_ring[nic->tx_tail];
		uint16_t len = frames[sent].len;

		if (next == nic->tx_clean)	/* full: TDT must not catch up with TDH */
			break;
		if (len > E1000L_FRAME_MAX)
			len = E1000L_FRAME_MAX;
		memcpy(nic->dma + TX_BUFS_AT + (size_t)nic->tx_tail * BUF_SIZE, frames[sent].data, len);
		d->length = len;
		d->cso = d->css = 0;
		d->special = 0;
		d->status = 0;
		d->cmd = TXD_EOP | TXD_IFCS | TXD_RS;
		nic->tx_tail = next;
	}
	if (sent) {
		__atomic_thread_fence(__ATOMIC_RELEASE);	/* descriptors in memory before the doorbell */
		wr32(nic, TDT, nic->tx_tail);			/* one doorbell per batch */
	}
	return sent;
}

unsigned e1000l_rx_batch(struct e1000l *nic, struct e1000l_frame *frames, unsigned max)
{
	unsigned got = 0, last = RING;

	while (got < max) {
		struct rx_desc *d = &nic->rx_ring[nic->rx_next];

		if (!(__atomic_load_n(&d->status, __ATOMIC_ACQUIRE) & RXD_DD))
			break;
		/* 2 KiB buffers and no long-packet reception: every frame fits one, with EOP */
		if ((d->status & RXD_EOP) && !d->errors && d->length <= E1000L_FRAME_MAX) {
			frames[got].len = d->length;
			memcpy(frames[got].data, nic->dma + RX_BUFS_AT + (size_t)nic->rx_next * BUF_SIZE, d->length);
			got++;
		}
		d->status = 0;
		last = nic->rx_next;
		nic->rx_next = (nic->rx_next + 1) % RING;
	}
	if (last != RING) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		wr32(nic, RDT, last);	/* the descriptors up to `last` go back to the NIC */
	}
	return got;
}

void e1000l_stats(struct e1000l *nic, struct e1000l_stats *out)
{
	struct e1000l_stats *t = &nic->totals;

	t->rx_frames += rd32(nic, GPRC);
	t->tx_frames += rd32(nic, GPTC);
	t->rx_missed += rd32(nic, MPC);
	t->rx_bytes += rd32(nic, GORCL);	/* low half first: the high half's read clears both */
	t->rx_bytes += (uint64_t)rd32(nic, GORCH) << 32;
	t->tx_bytes += rd32(nic, GOTCL);
	t->tx_bytes += (uint64_t)rd32(nic, GOTCH) << 32;
	*out = *t;
}

int e1000l_link_up(struct e1000l *nic)
{
	return (rd32(nic, STATUS) & STATUS_LU) != 0;
}

void e1000l_mac(struct e1000l *nic, uint8_t mac[6])
{
	read_mac(nic, mac);
}

void e1000l_close(struct e1000l *nic)
{
	reset(nic);	/* the NIC stops using the rings before their memory goes */
	munmap(nic->dma, HUGEPAGE);
	munmap((void *)nic->regs, BAR0_SIZE);
	if (nic->via_vfio)
		vfio_close_device(&nic->vfio);
	free(nic);
}
