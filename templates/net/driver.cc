/*
 * @NAME@: a network driver in C++ (written by `nooks new @NAME@ --class net
 * --lang c++`) for the emulated Intel 82540EM (e1000), `kernel.addDevice('e1000',
 * { peer: 'host:port' })`, whose wire is a UDP socket: each frame is one
 * datagram to the peer (registers and descriptors: <nooks/hw/e1000_regs.h>, as
 * in Intel's 8254x manual). The same driver as the C template's, written as a
 * C++ author would: a class for the adapter whose members release what they
 * hold (RAII), no exceptions.
 *
 *   npx nooks build @NAME@/@NAME@.cc -o build/@NAME@.so
 *   node --test @NAME@/@NAME@.test.mjs        # sends and receives frames
 *
 * The net class (<nooks/netdevice.h>): probe registers an interface (eth0,
 * ...) with register_netdev(). When an application opens it (openNet) the
 * kernel calls ndo_open; frames to send come to ndo_start_xmit, several per
 * crossing (skb->xmit_more: more follow, ring the doorbell later), and the
 * driver frees each with dev_kfree_skb_any() once the device has sent it.
 * Received frames go up with netif_rx(); link changes with
 * netif_carrier_on/off(). If the driver fails, its shadow keeps the interface
 * and the frames waiting to be sent, reopens it on the restarted driver and
 * replays its configuration (MAC, filters): the application's handle stays open.
 *
 * The kernel calls the driver through C function pointers: the entry points
 * are extern "C" functions named @NAME@_xmit, @NAME@_open, ... (the names
 * faults are reported in and injected into) that hand over to the class.
 * docs/drivers.md, "C++ drivers", says what C++ may use here.
 */
#include <nooks/kapi.hh>
#include <nooks/netdevice.h>

#include <nooks/hw/e1000_regs.h>

#include <atomic>
#include <memory>
#include <new>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: an e1000 network driver made with nooks new --lang c++");

extern "C" {
static void @NAME@_poll(work_struct *work);	/* the poll work's entry point (below): the adapter readies the work with it */
}

namespace {

constexpr u32 RX_RING = 128;	/* descriptors: multiples of 8 */
constexpr u32 TX_RING = 256;
constexpr u32 RX_BUF = 2048;	/* a whole frame of MTU 1500 in each receive buffer */
constexpr int POLL_BUDGET = 64;	/* frames per poll before others get a turn */
constexpr u32 IMS_ENABLE = E1000_ICR_TXDW | E1000_ICR_LSC | E1000_ICR_RXDMT0 | E1000_ICR_RXO | E1000_ICR_RXT0;

struct RxBuffer {
	u8 bytes[RX_BUF];
};

/* What the device works on while the interface is open: open makes it, stop frees it. */
struct Rings {
	explicit Rings(pci_dev *pdev) : rx(pdev, RX_RING), rx_bufs(pdev, RX_RING), tx(pdev, TX_RING) {}
	bool allocated() const { return rx.allocated() && rx_bufs.allocated() && tx.allocated(); }

	nooks::DmaBuffer<e1000_rx_desc> rx;
	nooks::DmaBuffer<RxBuffer> rx_bufs;	/* one per receive descriptor */
	u32 rx_next = 0;		/* the next descriptor the device fills */
	bool rx_dropping = false;	/* a frame longer than a buffer: dropped up to its last descriptor */

	nooks::DmaBuffer<e1000_tx_desc> tx;
	sk_buff *tx_skb[TX_RING] = {};	/* the frame of each descriptor in use */
	u32 tx_next_to_use = 0, tx_next_to_clean = 0, tx_tail = 0;	/* tx_tail: what TDT holds */
};

class Adapter;

/* The poll work and the adapter it polls: container_of's offsetof is defined for a standard-layout struct as this one, which a class such as Adapter need not stay. */
struct PollWork {
	work_struct work;
	Adapter *adapter;
};

/*
 * One NIC: its registers, the interface registered for it, and its rings
 * while the interface is open. start() brings it up; the destructor undoes
 * what start() did, whichever step it got to.
 */
class Adapter {
public:
	explicit Adapter(pci_dev *pdev) : pdev_(pdev), regs_(pdev), netdev_(new (std::nothrow) net_device()) { spin_lock_init(&tx_lock_); }
	~Adapter();
	Adapter(const Adapter &) = delete;
	Adapter &operator=(const Adapter &) = delete;

	static Adapter *of(net_device *dev) { return static_cast<Adapter *>(dev->priv); }
	static Adapter *of(work_struct *work) { return container_of(work, PollWork, work)->adapter; }

	int start(irq_handler_t irq, const net_device_ops *ops);
	irqreturn_t interrupt();
	void poll();
	int open();
	int stop();
	int xmit(sk_buff *skb);
	int set_mac(const u8 *addr);
	void set_rx_mode();
	void tx_timeout();

private:
	u32 read(u32 reg) const { return regs_.read32(reg); }
	void write(u32 reg, u32 value) { regs_.write32(reg, value); }
	int reset_hw();
	int read_mac(u8 *mac);
	void set_rar(const u8 *mac);
	void update_link();
	u32 rctl() const;
	int configure_rings();
	void ring_tx_doorbell(Rings &r);
	void clean_tx();
	int clean_rx(int budget);

	pci_dev *pdev_;
	nooks::Mmio regs_;			/* BAR 0, unmapped with the adapter */
	std::unique_ptr<net_device> netdev_;	/* the driver's memory: the kernel reads and writes it */
	std::atomic<bool> up_{false};		/* open: the interrupt and the poll read it */
	std::unique_ptr<Rings> rings_;		/* while open */
	spinlock_t tx_lock_;			/* the transmit ring: xmit and the poll race */
	PollWork poll_ = {};			/* NAPI-style: the interrupt schedules, the poll works */
	bool irq_requested_ = false;
	bool registered_ = false;
};

/* ---- the hardware -------------------------------------------------------- */

int Adapter::reset_hw()
{
	write(E1000_IMC, 0xffffffff);		/* no interrupts */
	write(E1000_RCTL, 0);
	write(E1000_TCTL, E1000_TCTL_PSP);
	write(E1000_CTRL, read(E1000_CTRL) | E1000_CTRL_RST);
	int i = 0;
	while (i < 1000 && (read(E1000_CTRL) & E1000_CTRL_RST))
		i++;
	if (i == 1000)
		return -EIO;
	write(E1000_IMC, 0xffffffff);
	read(E1000_ICR);			/* reading clears the causes */
	return 0;
}

/* The MAC address: EEPROM words 0-2; all 64 words add up to E1000_EEPROM_SUM. */
int Adapter::read_mac(u8 *mac)
{
	u16 sum = 0;

	for (u32 w = 0; w < E1000_EEPROM_WORDS; w++) {
		write(E1000_EERD, (w << E1000_EERD_ADDR_SHIFT) | E1000_EERD_START);
		u32 v = 0;
		for (int i = 0; i < 10000 && !((v = read(E1000_EERD)) & E1000_EERD_DONE); i++)
			;
		if (!(v & E1000_EERD_DONE))
			return -ETIMEDOUT;
		sum = (u16)(sum + (v >> E1000_EERD_DATA_SHIFT));
		if (w < 3) {
			mac[2 * w] = (u8)(v >> E1000_EERD_DATA_SHIFT);
			mac[2 * w + 1] = (u8)(v >> (E1000_EERD_DATA_SHIFT + 8));
		}
	}
	return sum == E1000_EEPROM_SUM && !(mac[0] & 1) ? 0 : -EIO;
}

/* Receive address 0: frames to it are accepted. */
void Adapter::set_rar(const u8 *mac)
{
	write(E1000_RAL(0), mac[0] | (mac[1] << 8) | (mac[2] << 16) | ((u32)mac[3] << 24));
	write(E1000_RAH(0), mac[4] | (mac[5] << 8) | E1000_RAH_AV);
}

void Adapter::update_link()
{
	if (read(E1000_STATUS) & E1000_STATUS_LU)
		netif_carrier_on(netdev_.get());
	else
		netif_carrier_off(netdev_.get());
}

/* Receive control: on, broadcast, CRC stripped, 2048-byte buffers; filters from the interface's flags. */
u32 Adapter::rctl() const
{
	u32 r = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | E1000_RCTL_SZ_2048;

	if (netdev_->flags & IFF_PROMISC)
		r |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	else if ((netdev_->flags & IFF_ALLMULTI) || netdev_->mc_count)
		r |= E1000_RCTL_MPE;	/* simpler than the multicast hash table: every multicast frame */
	return r;
}

void Adapter::set_rx_mode()
{
	if (up_)
		write(E1000_RCTL, rctl());
}

/* Resets the NIC, reads its MAC address, brings the link up and registers the interface: 0, or -errno (the destructor cleans up). */
int Adapter::start(irq_handler_t irq, const net_device_ops *ops)
{
	if (!netdev_ || !regs_.mapped())
		return -ENOMEM;
	poll_.adapter = this;
	INIT_WORK(&poll_.work, @NAME@_poll);
	if (int err = reset_hw())
		return err;
	net_device *dev = netdev_.get();
	if (int err = read_mac(dev->perm_addr))
		return err;
	memcpy(dev->dev_addr, dev->perm_addr, ETH_ALEN);
	set_rar(dev->dev_addr);
	for (u32 i = 1; i < 16; i++) {		/* the other receive addresses: off */
		write(E1000_RAL(i), 0);
		write(E1000_RAH(i), 0);
	}
	write(E1000_CTRL, read(E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE);	/* link up */

	dev->pdev = pdev_;
	dev->netdev_ops = ops;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = 68;
	dev->max_mtu = ETH_DATA_LEN;	/* no ndo_change_mtu: 1500 it stays */
	dev->watchdog_timeo = 5000;
	dev->priv = this;
	if (int err = request_irq(pdev_->irq, irq, IRQF_SHARED, "@NAME@", this))
		return err;
	irq_requested_ = true;
	if (int err = register_netdev(dev))	/* the kernel names it: dev->name */
		return err;
	registered_ = true;
	pr_info("@NAME@: %s: %02x:%02x:%02x:%02x:%02x:%02x\n", dev->name, dev->dev_addr[0], dev->dev_addr[1],
		dev->dev_addr[2], dev->dev_addr[3], dev->dev_addr[4], dev->dev_addr[5]);
	return 0;
}

/* The interface goes (stopped first if it is open) and the NIC is reset before its interrupt is freed; the members free the rest. */
Adapter::~Adapter()
{
	if (registered_) {
		unregister_netdev(netdev_.get());
		reset_hw();
	}
	if (irq_requested_)
		free_irq(pdev_->irq, this);
}

/* ---- rings --------------------------------------------------------------- */

/* Allocates the rings and programs the device with them: transmitter and receiver on. */
int Adapter::configure_rings()
{
	rings_.reset(new (std::nothrow) Rings(pdev_));
	if (!rings_ || !rings_->allocated()) {
		rings_.reset();
		return -ENOMEM;
	}
	Rings &r = *rings_;
	r.tx.clear();
	write(E1000_TDBAL, (u32)r.tx.bus());
	write(E1000_TDBAH, (u32)(r.tx.bus() >> 32));
	write(E1000_TDLEN, r.tx.bytes());
	write(E1000_TDH, 0);
	write(E1000_TDT, 0);
	write(E1000_TIPG, 10 | (8 << 10) | (6 << 20));	/* IEEE 802.3 inter-packet gap for copper */
	write(E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | (0x0f << E1000_TCTL_CT_SHIFT) | (0x40 << E1000_TCTL_COLD_SHIFT));

	for (u32 i = 0; i < RX_RING; i++) {
		r.rx[i].buffer_addr = r.rx_bufs.bus(i);
		r.rx[i].status = 0;
	}
	write(E1000_RDBAL, (u32)r.rx.bus());
	write(E1000_RDBAH, (u32)(r.rx.bus() >> 32));
	write(E1000_RDLEN, r.rx.bytes());
	write(E1000_RDH, 0);
	write(E1000_RDT, RX_RING - 1);	/* one descriptor held back: head == tail means empty */
	write(E1000_RDTR, 0);
	write(E1000_RCTL, rctl());
	return 0;
}

/* The doorbell: the device sends what was queued up to here. */
void Adapter::ring_tx_doorbell(Rings &r)
{
	r.tx_tail = r.tx_next_to_use;
	write(E1000_TDT, r.tx_tail);
}

/* ---- interrupt and poll -------------------------------------------------- */

irqreturn_t Adapter::interrupt()
{
	u32 icr = read(E1000_ICR);	/* reading clears the causes */

	if (!icr)
		return IRQ_NONE;	/* a shared line: another device's */
	if (icr & E1000_ICR_LSC)
		update_link();
	if (icr & E1000_ICR_RXO)
		netdev_->stats.rx_errors++;
	if (up_) {
		write(E1000_IMC, 0xffffffff);	/* masked until the poll has caught up */
		schedule_work(&poll_.work);
	}
	return IRQ_HANDLED;
}

/* Frees the frames the device has sent (it set DD in their descriptors). */
void Adapter::clean_tx()
{
	nooks::SpinGuard held(tx_lock_);
	Rings &r = *rings_;
	while (r.tx_next_to_clean != r.tx_next_to_use) {
		u32 i = r.tx_next_to_clean;
		const e1000_tx_desc &d = r.tx[i];

		if (!(d.status & E1000_TXD_STAT_DD))
			break;
		netdev_->stats.tx_packets++;
		netdev_->stats.tx_bytes += d.length;
		dev_kfree_skb_any(r.tx_skb[i]);
		r.tx_skb[i] = nullptr;
		r.tx_next_to_clean = (i + 1) % TX_RING;
	}
}

/* Passes up to `budget` received frames to the kernel; how many. */
int Adapter::clean_rx(int budget)
{
	net_device *dev = netdev_.get();
	Rings &r = *rings_;
	u32 last = RX_RING;
	int done = 0;

	while (done < budget) {
		u32 i = r.rx_next;
		e1000_rx_desc &d = r.rx[i];
		bool eop = d.status & E1000_RXD_STAT_EOP;

		if (!(d.status & E1000_RXD_STAT_DD))
			break;
		if (!eop || r.rx_dropping || d.errors || d.length < ETH_HLEN)
			dev->stats.rx_errors += eop;	/* counted once, at its last descriptor */
		else if (netif_rx(dev, r.rx_bufs[i].bytes, d.length) == 0) {	/* the kernel copies it */
			dev->stats.rx_packets++;
			dev->stats.rx_bytes += d.length;
		} else
			dev->stats.rx_dropped++;
		r.rx_dropping = !eop;
		done += eop;
		d.status = 0;
		last = i;
		r.rx_next = (i + 1) % RX_RING;
	}
	if (last != RX_RING)
		write(E1000_RDT, last);	/* the cleaned descriptors are the device's again */
	return done;
}

void Adapter::poll()
{
	if (!up_)
		return;
	clean_tx();
	if (clean_rx(POLL_BUDGET) < POLL_BUDGET)
		write(E1000_IMS, IMS_ENABLE);	/* caught up: interrupts again */
	else
		schedule_work(&poll_.work);	/* more waiting: poll again */
}

/* ---- net_device operations ----------------------------------------------- */

int Adapter::open()
{
	if (up_)
		return 0;
	if (int err = configure_rings())
		return err;
	up_ = true;
	read(E1000_ICR);
	write(E1000_IMS, IMS_ENABLE);
	update_link();
	return 0;
}

/* Stops the device, then frees what it held: frames not sent are dropped. */
int Adapter::stop()
{
	if (!up_)
		return 0;
	up_ = false;
	write(E1000_IMC, 0xffffffff);
	write(E1000_RCTL, 0);
	write(E1000_TCTL, E1000_TCTL_PSP);
	cancel_work_sync(&poll_.work);
	INIT_WORK(&poll_.work, @NAME@_poll);	/* cancel_work_sync retires the item: ready it for the next open */
	clean_tx();
	for (sk_buff *&skb : rings_->tx_skb)
		if (skb) {
			netdev_->stats.tx_dropped++;
			dev_kfree_skb_any(skb);
			skb = nullptr;
		}
	rings_.reset();
	netif_carrier_off(netdev_.get());
	return 0;
}

int Adapter::xmit(sk_buff *skb)
{
	nooks::SpinGuard held(tx_lock_);
	if (!up_)
		return NETDEV_TX_BUSY;
	Rings &r = *rings_;
	if ((r.tx_next_to_use + 1) % TX_RING == r.tx_next_to_clean) {
		if (r.tx_tail != r.tx_next_to_use)
			ring_tx_doorbell(r);	/* what this batch queued so far */
		return NETDEV_TX_BUSY;	/* the kernel gives it again after a completion */
	}
	u32 i = r.tx_next_to_use;
	e1000_tx_desc &d = r.tx[i];
	d = e1000_tx_desc{};
	d.buffer_addr = skb->dma;	/* the device reads the frame itself */
	d.length = (u16)skb->len;
	d.cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;	/* whole frame, add the FCS, report DD */
	r.tx_skb[i] = skb;
	r.tx_next_to_use = (i + 1) % TX_RING;
	if (!skb->xmit_more)
		ring_tx_doorbell(r);	/* once per batch */
	return NETDEV_TX_OK;
}

int Adapter::set_mac(const u8 *addr)
{
	if (addr[0] & 1)
		return -EINVAL;	/* a multicast address */
	memcpy(netdev_->dev_addr, addr, ETH_ALEN);
	set_rar(netdev_->dev_addr);
	return 0;
}

/* No transmit progress for watchdog_timeo ms: start the rings again. */
void Adapter::tx_timeout()
{
	netdev_->stats.tx_timeouts++;
	pr_warn("@NAME@: %s: transmit timed out, resetting\n", netdev_->name);
	if (up_) {
		stop();
		open();
	}
}

}  // namespace

/* The entry points the kernel calls, with C linkage: they hand over to the adapter. */
extern "C" {

static irqreturn_t @NAME@_intr(int irq, void *data)
{
	return static_cast<Adapter *>(data)->interrupt();
}

static void @NAME@_poll(work_struct *work)
{
	Adapter::of(work)->poll();
}

static int @NAME@_open(net_device *dev)
{
	return Adapter::of(dev)->open();
}

static int @NAME@_stop(net_device *dev)
{
	return Adapter::of(dev)->stop();
}

static int @NAME@_xmit(sk_buff *skb, net_device *dev)
{
	return Adapter::of(dev)->xmit(skb);
}

static int @NAME@_set_mac(net_device *dev, const u8 *addr)
{
	return Adapter::of(dev)->set_mac(addr);
}

static void @NAME@_set_rx_mode(net_device *dev)
{
	Adapter::of(dev)->set_rx_mode();
}

static void @NAME@_tx_timeout(net_device *dev, unsigned int txqueue)
{
	Adapter::of(dev)->tx_timeout();
}

static const net_device_ops @NAME@_netdev_ops = {
	.ndo_open = @NAME@_open,
	.ndo_stop = @NAME@_stop,
	.ndo_start_xmit = @NAME@_xmit,
	.ndo_set_mac_address = @NAME@_set_mac,
	.ndo_change_mtu = nullptr,	/* none: 1500 it stays (C++ warns of a member left out: -Wmissing-field-initializers) */
	.ndo_set_rx_mode = @NAME@_set_rx_mode,
	.ndo_get_stats = nullptr,	/* none: the driver counts in dev->stats as it goes */
	.ndo_tx_timeout = @NAME@_tx_timeout,
};

/* A NIC matched the id table: bring up an adapter for it (kept as the device's drvdata; a failed start is undone). */
static int @NAME@_probe(pci_dev *pdev, const pci_device_id *id)
{
	if (pci_enable_device(pdev) || pci_resource_len(pdev, 0) < E1000_BAR0_SIZE)
		return -ENODEV;
	pci_set_master(pdev);
	return nooks::probe_device<Adapter>(pdev, @NAME@_intr, &@NAME@_netdev_ops);
}

/* The adapter's destructor undoes what start did. */
static void @NAME@_remove(pci_dev *pdev)
{
	nooks::remove_device<Adapter>(pdev);
}

static const pci_device_id @NAME@_ids[] = {
	PCI_DEVICE(E1000_VENDOR_INTEL, E1000_DEV_82540EM),
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
