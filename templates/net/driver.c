/*
 * @NAME@: a network driver (written by `nooks new @NAME@ --class net`) for the
 * emulated Intel 82540EM (e1000), `kernel.addDevice('e1000', { peer: 'host:port' })`,
 * whose wire is a UDP socket: each frame is one datagram to the peer
 * (registers and descriptors: <nooks/hw/e1000_regs.h>, as in Intel's 8254x
 * manual). Derived from drivers/e1000/e1000.c, without jumbo frames.
 *
 *   npx nooks build @NAME@/@NAME@.c -o build/@NAME@.so
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
 */
#include <nooks/kapi.h>
#include <nooks/netdevice.h>

#include <nooks/hw/e1000_regs.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: an e1000 network driver made with nooks new");

#define RX_RING		128	/* descriptors: multiples of 8 */
#define TX_RING		256
#define RX_BUF		2048	/* a whole frame of MTU 1500 in each receive buffer */
#define POLL_BUDGET	64	/* frames per poll before others get a turn */
#define IMS_ENABLE	(E1000_ICR_TXDW | E1000_ICR_LSC | E1000_ICR_RXDMT0 | E1000_ICR_RXO | E1000_ICR_RXT0)

struct @NAME@_adapter {
	struct net_device *netdev;	/* kzalloc'ed: the kernel reads and writes it */
	struct pci_dev *pdev;
	void __iomem *hw;
	bool up;

	struct e1000_rx_desc *rx_ring;
	dma_addr_t rx_ring_dma;
	u8 *rx_bufs;			/* RX_RING buffers of RX_BUF bytes */
	dma_addr_t rx_bufs_dma;
	u32 rx_next;			/* the next descriptor the device fills */
	bool rx_dropping;		/* a frame longer than a buffer: dropped up to its last descriptor */

	struct e1000_tx_desc *tx_ring;
	dma_addr_t tx_ring_dma;
	struct sk_buff *tx_skb[TX_RING];	/* the frame of each descriptor in use */
	u32 tx_next_to_use, tx_next_to_clean, tx_tail;	/* tx_tail: what TDT holds */
	spinlock_t tx_lock;		/* the transmit ring: xmit and the poll race */

	struct work_struct poll_work;	/* NAPI-style: the interrupt schedules, the poll works */
};

static u32 er32(struct @NAME@_adapter *a, u32 reg)
{
	return ioread32(a->hw + reg);
}

static void ew32(struct @NAME@_adapter *a, u32 reg, u32 val)
{
	iowrite32(val, a->hw + reg);
}

/* ---- the hardware -------------------------------------------------------- */

static int reset_hw(struct @NAME@_adapter *a)
{
	int i;

	ew32(a, E1000_IMC, 0xffffffff);		/* no interrupts */
	ew32(a, E1000_RCTL, 0);
	ew32(a, E1000_TCTL, E1000_TCTL_PSP);
	ew32(a, E1000_CTRL, er32(a, E1000_CTRL) | E1000_CTRL_RST);
	for (i = 0; i < 1000 && (er32(a, E1000_CTRL) & E1000_CTRL_RST); i++)
		;
	if (i == 1000)
		return -EIO;
	ew32(a, E1000_IMC, 0xffffffff);
	er32(a, E1000_ICR);			/* reading clears the causes */
	return 0;
}

/* The MAC address: EEPROM words 0-2; all 64 words add up to E1000_EEPROM_SUM. */
static int read_mac(struct @NAME@_adapter *a, u8 *mac)
{
	u16 sum = 0;
	u32 w, v = 0;
	int i;

	for (w = 0; w < E1000_EEPROM_WORDS; w++) {
		ew32(a, E1000_EERD, (w << E1000_EERD_ADDR_SHIFT) | E1000_EERD_START);
		for (i = 0; i < 10000 && !((v = er32(a, E1000_EERD)) & E1000_EERD_DONE); i++)
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
static void set_rar(struct @NAME@_adapter *a, const u8 *mac)
{
	ew32(a, E1000_RAL(0), mac[0] | (mac[1] << 8) | (mac[2] << 16) | ((u32)mac[3] << 24));
	ew32(a, E1000_RAH(0), mac[4] | (mac[5] << 8) | E1000_RAH_AV);
}

static void update_link(struct @NAME@_adapter *a)
{
	if (er32(a, E1000_STATUS) & E1000_STATUS_LU)
		netif_carrier_on(a->netdev);
	else
		netif_carrier_off(a->netdev);
}

/* Receive control: on, broadcast, CRC stripped, 2048-byte buffers; filters from dev->flags. */
static u32 rctl(struct @NAME@_adapter *a)
{
	struct net_device *dev = a->netdev;
	u32 r = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | E1000_RCTL_SZ_2048;

	if (dev->flags & IFF_PROMISC)
		r |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	else if ((dev->flags & IFF_ALLMULTI) || dev->mc_count)
		r |= E1000_RCTL_MPE;	/* simpler than the multicast hash table: every multicast frame */
	return r;
}

static void @NAME@_set_rx_mode(struct net_device *dev)
{
	struct @NAME@_adapter *a = dev->priv;

	if (a->up)
		ew32(a, E1000_RCTL, rctl(a));
}

/* ---- rings --------------------------------------------------------------- */

static void free_rings(struct @NAME@_adapter *a)
{
	struct pci_dev *pdev = a->pdev;

	if (a->rx_bufs)
		dma_free_coherent(&pdev->dev, RX_RING * RX_BUF, a->rx_bufs, a->rx_bufs_dma);
	if (a->rx_ring)
		dma_free_coherent(&pdev->dev, RX_RING * sizeof(struct e1000_rx_desc), a->rx_ring, a->rx_ring_dma);
	if (a->tx_ring)
		dma_free_coherent(&pdev->dev, TX_RING * sizeof(struct e1000_tx_desc), a->tx_ring, a->tx_ring_dma);
	a->rx_bufs = NULL;
	a->rx_ring = NULL;
	a->tx_ring = NULL;
}

/* Allocates the rings and programs the device with them: transmitter and receiver on. */
static int configure_rings(struct @NAME@_adapter *a)
{
	struct pci_dev *pdev = a->pdev;
	u32 i;

	a->rx_ring = dma_alloc_coherent(&pdev->dev, RX_RING * sizeof(struct e1000_rx_desc), &a->rx_ring_dma, GFP_KERNEL);
	a->tx_ring = dma_alloc_coherent(&pdev->dev, TX_RING * sizeof(struct e1000_tx_desc), &a->tx_ring_dma, GFP_KERNEL);
	a->rx_bufs = dma_alloc_coherent(&pdev->dev, RX_RING * RX_BUF, &a->rx_bufs_dma, GFP_KERNEL);
	if (!a->rx_ring || !a->tx_ring || !a->rx_bufs) {
		free_rings(a);
		return -ENOMEM;
	}
	memset(a->tx_ring, 0, TX_RING * sizeof(struct e1000_tx_desc));
	memset(a->tx_skb, 0, sizeof(a->tx_skb));
	a->tx_next_to_use = a->tx_next_to_clean = a->tx_tail = 0;
	ew32(a, E1000_TDBAL, (u32)a->tx_ring_dma);
	ew32(a, E1000_TDBAH, (u32)(a->tx_ring_dma >> 32));
	ew32(a, E1000_TDLEN, TX_RING * sizeof(struct e1000_tx_desc));
	ew32(a, E1000_TDH, 0);
	ew32(a, E1000_TDT, 0);
	ew32(a, E1000_TIPG, 10 | (8 << 10) | (6 << 20));	/* IEEE 802.3 inter-packet gap for copper */
	ew32(a, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | (0x0f << E1000_TCTL_CT_SHIFT) | (0x40 << E1000_TCTL_COLD_SHIFT));

	for (i = 0; i < RX_RING; i++) {
		a->rx_ring[i].buffer_addr = a->rx_bufs_dma + (u64)i * RX_BUF;
		a->rx_ring[i].status = 0;
	}
	a->rx_next = 0;
	a->rx_dropping = false;
	ew32(a, E1000_RDBAL, (u32)a->rx_ring_dma);
	ew32(a, E1000_RDBAH, (u32)(a->rx_ring_dma >> 32));
	ew32(a, E1000_RDLEN, RX_RING * sizeof(struct e1000_rx_desc));
	ew32(a, E1000_RDH, 0);
	ew32(a, E1000_RDT, RX_RING - 1);	/* one descriptor held back: head == tail means empty */
	ew32(a, E1000_RDTR, 0);
	ew32(a, E1000_RCTL, rctl(a));
	return 0;
}

/* ---- interrupt and poll -------------------------------------------------- */

static irqreturn_t @NAME@_intr(int irq, void *data)
{
	struct @NAME@_adapter *a = data;
	u32 icr = er32(a, E1000_ICR);	/* reading clears the causes */

	if (!icr)
		return IRQ_NONE;	/* a shared line: another device's */
	if (icr & E1000_ICR_LSC)
		update_link(a);
	if (icr & E1000_ICR_RXO)
		a->netdev->stats.rx_errors++;
	if (a->up) {
		ew32(a, E1000_IMC, 0xffffffff);	/* masked until the poll has caught up */
		schedule_work(&a->poll_work);
	}
	return IRQ_HANDLED;
}

/* Frees the frames the device has sent (it set DD in their descriptors). */
static void clean_tx(struct @NAME@_adapter *a)
{
	spin_lock(&a->tx_lock);
	while (a->tx_next_to_clean != a->tx_next_to_use) {
		u32 i = a->tx_next_to_clean;
		struct e1000_tx_desc *d = &a->tx_ring[i];

		if (!(d->status & E1000_TXD_STAT_DD))
			break;
		a->netdev->stats.tx_packets++;
		a->netdev->stats.tx_bytes += d->length;
		dev_kfree_skb_any(a->tx_skb[i]);
		a->tx_skb[i] = NULL;
		a->tx_next_to_clean = (i + 1) % TX_RING;
	}
	spin_unlock(&a->tx_lock);
}

/* Passes up to `budget` received frames to the kernel; how many. */
static int clean_rx(struct @NAME@_adapter *a, int budget)
{
	struct net_device *dev = a->netdev;
	u32 last = RX_RING;
	int done = 0;

	while (done < budget) {
		u32 i = a->rx_next;
		struct e1000_rx_desc *d = &a->rx_ring[i];
		bool eop = d->status & E1000_RXD_STAT_EOP;

		if (!(d->status & E1000_RXD_STAT_DD))
			break;
		if (!eop || a->rx_dropping || d->errors || d->length < ETH_HLEN)
			dev->stats.rx_errors += eop;	/* counted once, at its last descriptor */
		else if (netif_rx(dev, a->rx_bufs + (u64)i * RX_BUF, d->length) == 0) {	/* the kernel copies it */
			dev->stats.rx_packets++;
			dev->stats.rx_bytes += d->length;
		} else
			dev->stats.rx_dropped++;
		a->rx_dropping = !eop;
		done += eop;
		d->status = 0;
		last = i;
		a->rx_next = (i + 1) % RX_RING;
	}
	if (last != RX_RING)
		ew32(a, E1000_RDT, last);	/* the cleaned descriptors are the device's again */
	return done;
}

static void @NAME@_poll(struct work_struct *work)
{
	struct @NAME@_adapter *a = container_of(work, struct @NAME@_adapter, poll_work);

	if (!a->up)
		return;
	clean_tx(a);
	if (clean_rx(a, POLL_BUDGET) < POLL_BUDGET)
		ew32(a, E1000_IMS, IMS_ENABLE);	/* caught up: interrupts again */
	else
		schedule_work(&a->poll_work);	/* more waiting: poll again */
}

/* ---- net_device operations ----------------------------------------------- */

static int @NAME@_open(struct net_device *dev)
{
	struct @NAME@_adapter *a = dev->priv;
	int err;

	if (a->up)
		return 0;
	err = configure_rings(a);
	if (err)
		return err;
	a->up = true;
	er32(a, E1000_ICR);
	ew32(a, E1000_IMS, IMS_ENABLE);
	update_link(a);
	return 0;
}

/* Stops the device, then frees what it held: frames not sent are dropped. */
static int @NAME@_stop(struct net_device *dev)
{
	struct @NAME@_adapter *a = dev->priv;
	u32 i;

	if (!a->up)
		return 0;
	a->up = false;
	ew32(a, E1000_IMC, 0xffffffff);
	ew32(a, E1000_RCTL, 0);
	ew32(a, E1000_TCTL, E1000_TCTL_PSP);
	cancel_work_sync(&a->poll_work);
	INIT_WORK(&a->poll_work, @NAME@_poll);	/* cancel_work_sync retires the item: ready it for the next open */
	clean_tx(a);
	for (i = 0; i < TX_RING; i++)
		if (a->tx_skb[i]) {
			dev->stats.tx_dropped++;
			dev_kfree_skb_any(a->tx_skb[i]);
			a->tx_skb[i] = NULL;
		}
	free_rings(a);
	netif_carrier_off(dev);
	return 0;
}

static int @NAME@_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct @NAME@_adapter *a = dev->priv;
	struct e1000_tx_desc *d;
	u32 i;

	spin_lock(&a->tx_lock);
	if (!a->up || (a->tx_next_to_use + 1) % TX_RING == a->tx_next_to_clean) {
		if (a->up && a->tx_tail != a->tx_next_to_use) {	/* ring what this batch queued so far */
			a->tx_tail = a->tx_next_to_use;
			ew32(a, E1000_TDT, a->tx_tail);
		}
		spin_unlock(&a->tx_lock);
		return NETDEV_TX_BUSY;	/* the kernel gives it again after a completion */
	}
	i = a->tx_next_to_use;
	d = &a->tx_ring[i];
	memset(d, 0, sizeof(*d));
	d->buffer_addr = skb->dma;	/* the device reads the frame itself */
	d->length = (u16)skb->len;
	d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;	/* whole frame, add the FCS, report DD */
	a->tx_skb[i] = skb;
	a->tx_next_to_use = (i + 1) % TX_RING;
	if (!skb->xmit_more) {
		a->tx_tail = a->tx_next_to_use;
		ew32(a, E1000_TDT, a->tx_tail);	/* the doorbell: once per batch */
	}
	spin_unlock(&a->tx_lock);
	return NETDEV_TX_OK;
}

static int @NAME@_set_mac(struct net_device *dev, const u8 *addr)
{
	if (addr[0] & 1)
		return -EINVAL;	/* a multicast address */
	memcpy(dev->dev_addr, addr, ETH_ALEN);
	set_rar(dev->priv, dev->dev_addr);
	return 0;
}

/* No transmit progress for dev->watchdog_timeo ms: start the rings again. */
static void @NAME@_tx_timeout(struct net_device *dev, unsigned int txqueue)
{
	dev->stats.tx_timeouts++;
	pr_warn("@NAME@: %s: transmit timed out, resetting\n", dev->name);
	if (((struct @NAME@_adapter *)dev->priv)->up) {
		@NAME@_stop(dev);
		@NAME@_open(dev);
	}
}

static const struct net_device_ops @NAME@_netdev_ops = {
	.ndo_open = @NAME@_open,
	.ndo_stop = @NAME@_stop,
	.ndo_start_xmit = @NAME@_xmit,
	.ndo_set_mac_address = @NAME@_set_mac,
	.ndo_set_rx_mode = @NAME@_set_rx_mode,
	.ndo_tx_timeout = @NAME@_tx_timeout,
};

/* ---- PCI ------------------------------------------------------------------ */

static int @NAME@_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct @NAME@_adapter *a;
	struct net_device *dev;
	int err, i;

	if (pci_enable_device(pdev) || pci_resource_len(pdev, 0) < E1000_BAR0_SIZE)
		return -ENODEV;
	pci_set_master(pdev);
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!a || !dev) {
		err = -ENOMEM;
		goto fail;
	}
	a->pdev = pdev;
	a->netdev = dev;
	spin_lock_init(&a->tx_lock);
	INIT_WORK(&a->poll_work, @NAME@_poll);
	a->hw = pci_iomap(pdev, 0, 0);
	err = a->hw ? reset_hw(a) : -ENOMEM;
	if (!err)
		err = read_mac(a, dev->perm_addr);
	if (err)
		goto fail;
	memcpy(dev->dev_addr, dev->perm_addr, ETH_ALEN);
	set_rar(a, dev->dev_addr);
	for (i = 1; i < 16; i++) {		/* the other receive addresses: off */
		ew32(a, E1000_RAL(i), 0);
		ew32(a, E1000_RAH(i), 0);
	}
	ew32(a, E1000_CTRL, er32(a, E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE);	/* link up */

	dev->pdev = pdev;
	dev->netdev_ops = &@NAME@_netdev_ops;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = 68;
	dev->max_mtu = ETH_DATA_LEN;	/* no ndo_change_mtu: 1500 it stays */
	dev->watchdog_timeo = 5000;
	dev->priv = a;
	err = request_irq(pdev->irq, @NAME@_intr, IRQF_SHARED, "@NAME@", a);
	if (err)
		goto fail;
	err = register_netdev(dev);	/* the kernel names it: dev->name */
	if (err) {
		free_irq(pdev->irq, a);
		goto fail;
	}
	pci_set_drvdata(pdev, a);
	pr_info("@NAME@: %s: %02x:%02x:%02x:%02x:%02x:%02x\n", dev->name, dev->dev_addr[0], dev->dev_addr[1],
		dev->dev_addr[2], dev->dev_addr[3], dev->dev_addr[4], dev->dev_addr[5]);
	return 0;
fail:
	if (a && a->hw)
		pci_iounmap(pdev, a->hw);
	kfree(dev);
	kfree(a);
	return err;
}

static void @NAME@_remove(struct pci_dev *pdev)
{
	struct @NAME@_adapter *a = pci_get_drvdata(pdev);

	unregister_netdev(a->netdev);	/* stops it first if it is open */
	reset_hw(a);
	free_irq(pdev->irq, a);
	pci_iounmap(pdev, a->hw);
	kfree(a->netdev);
	kfree(a);
}

static const struct pci_device_id @NAME@_ids[] = {
	PCI_DEVICE(E1000_VENDOR_INTEL, E1000_DEV_82540EM),
	{ 0, 0 },
};

static struct pci_driver @NAME@_driver = {
	.name = "@NAME@",
	.id_table = @NAME@_ids,
	.probe = @NAME@_probe,
	.remove = @NAME@_remove,
};

module_pci_driver(@NAME@_driver);
