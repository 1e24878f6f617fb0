/*
 * e1000: a driver for the Intel 82540EM Gigabit Ethernet controller (8086:100e),
 * written as a Linux PCI network driver against the 8254x Software Developer's
 * Manual: it touches the device only through 32-bit accesses to BAR 0 and DMA
 * to rings it allocates, so the same code drives the emulated NIC
 * (native/classes/net/e1000_model.cc), QEMU's e1000 and the real part.
 *
 *  probe:  reset, MAC address from the EEPROM (checksum verified), receive
 *          address 0, multicast table cleared, interrupt, register_netdev
 *  open:   legacy descriptor rings (receive buffers sized for the MTU),
 *          transmitter and receiver on, interrupts TXDW/RXT0/RXO/RXDMT0/LSC
 *  irq:    read ICR (clears it), handle link changes, mask everything and
 *          schedule the poll (NAPI-style)
 *  poll:   clean transmitted descriptors (free their socket buffers), pass up
 *          to POLL_BUDGET received frames to netif_rx and return their
 *          descriptors (one RDT write), then unmask, or poll again if the
 *          budget ran out
 *  xmit:   one descriptor per frame; the TDT doorbell once per batch
 *          (skb->xmit_more) or when the ring fills
 */
#include <nooks/kapi.h>
#include <nooks/netdevice.h>

#include <nooks/hw/e1000_regs.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Intel 82540EM (e1000) network driver for nooks");

#define RX_RING		128	/* descriptors: multiples of 8 */
#define TX_RING		256
#define POLL_BUDGET	64
#define E1000_MAX_MTU	(16128 - ETH_HLEN - 4)
#define IMS_ENABLE	(E1000_ICR_TXDW | E1000_ICR_LSC | E1000_ICR_RXDMT0 | E1000_ICR_RXO | E1000_ICR_RXT0)

struct e1000_adapter {
	struct net_device *netdev;
	struct pci_dev *pdev;
	void __iomem *hw;
	bool irq_attached;
	bool up;

	struct e1000_rx_desc *rx_ring;
	dma_addr_t rx_ring_dma;
	u8 *rx_bufs;
	dma_addr_t rx_bufs_dma;
	u32 rx_buf_size, rx_bufs_bytes;
	u32 rx_next;		/* the next descriptor the device fills */
	u8 *rx_frame;		/* a frame spanning several buffers, assembled */
	u32 rx_frame_len;
	bool rx_frame_bad;

	struct e1000_tx_desc *tx_ring;
	dma_addr_t tx_ring_dma;
	struct sk_buff *tx_skb[TX_RING];
	u32 tx_next_to_use, tx_next_to_clean, tx_tail;	/* tx_tail: last value written to TDT */
	spinlock_t tx_lock;

	struct work_struct poll_work;
	u64 hw_rx_good, hw_tx_good, hw_missed;
};

static struct e1000_adapter *the_adapter;	/* the last probed, for the exported test hooks */
static bool crash_in_poll;			/* test hook: the next poll dereferences NULL */
static long crash_in_xmit;			/* test hook: the n-th transmit from now dereferences NULL */

static inline u32 er32(struct e1000_adapter *a, u32 reg)
{
	return ioread32(a->hw + reg);
}

static inline void ew32(struct e1000_adapter *a, u32 reg, u32 val)
{
	iowrite32(val, a->hw + reg);
}

/* ---- the hardware -------------------------------------------------------- */

static int e1000_reset_hw(struct e1000_adapter *a)
{
	int i;

	ew32(a, E1000_IMC, 0xffffffff);
	ew32(a, E1000_RCTL, 0);
	ew32(a, E1000_TCTL, E1000_TCTL_PSP);
	ew32(a, E1000_CTRL, er32(a, E1000_CTRL) | E1000_CTRL_RST);
	for (i = 0; i < 1000; i++)
		if (!(er32(a, E1000_CTRL) & E1000_CTRL_RST))
			break;
	if (i == 1000)
		return -EIO;
	ew32(a, E1000_IMC, 0xffffffff);
	er32(a, E1000_ICR);
	return 0;
}

static int e1000_read_eeprom(struct e1000_adapter *a, u32 word, u16 *data)
{
	int i;
	u32 v;

	ew32(a, E1000_EERD, (word << E1000_EERD_ADDR_SHIFT) | E1000_EERD_START);
	for (i = 0; i < 10000; i++) {
		v = er32(a, E1000_EERD);
		if (v & E1000_EERD_DONE) {
			*data = (u16)(v >> E1000_EERD_DATA_SHIFT);
			return 0;
		}
	}
	return -ETIMEDOUT;
}

static int e1000_read_mac(struct e1000_adapter *a, u8 *mac)
{
	u16 w, sum = 0;
	u32 i;

	for (i = 0; i < E1000_EEPROM_WORDS; i++) {
		if (e1000_read_eeprom(a, i, &w))
			return -EIO;
		sum = (u16)(sum + w);
		if (i < 3) {
			mac[2 * i] = (u8)w;
			mac[2 * i + 1] = (u8)(w >> 8);
		}
	}
	if (sum != E1000_EEPROM_SUM) {
		pr_err("e1000: EEPROM checksum 0x%x, expected 0x%x\n", sum, E1000_EEPROM_SUM);
		return -EIO;
	}
	if (mac[0] & 1)
		return -EIO;
	return 0;
}

static void e1000_set_rar(struct e1000_adapter *a, const u8 *mac)
{
	ew32(a, E1000_RAL(0), mac[0] | (mac[1] << 8) | (mac[2] << 16) | ((u32)mac[3] << 24));
	ew32(a, E1000_RAH(0), mac[4] | (mac[5] << 8) | E1000_RAH_AV);
}

static void e1000_update_link(struct e1000_adapter *a)
{
	if (er32(a, E1000_STATUS) & E1000_STATUS_LU)
		netif_carrier_on(a->netdev);
	else
		netif_carrier_off(a->netdev);
}

/* ---- receive mode -------------------------------------------------------- */

static u32 e1000_rctl(struct e1000_adapter *a)
{
	struct net_device *dev = a->netdev;
	u32 rctl = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC;	/* MO 0, RDMTS 1/2 */

	if (a->rx_buf_size == 2048)
		rctl |= E1000_RCTL_SZ_2048;
	else
		rctl |= E1000_RCTL_SZ_16384 | E1000_RCTL_LPE;
	if (dev->flags & IFF_PROMISC)
		rctl |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	else if (dev->flags & IFF_ALLMULTI)
		rctl |= E1000_RCTL_MPE;
	return rctl;
}

static void e1000_set_rx_mode(struct net_device *dev)
{
	struct e1000_adapter *a = dev->priv;
	u32 mta[128], i;

	memset(mta, 0, sizeof(mta));
	for (i = 0; i < dev->mc_count && i < NETDEV_MC_MAX; i++) {
		const u8 *m = dev->mc_list[i];
		u32 hash = ((m[4] >> 4) | ((u32)m[5] << 4)) & 0xfff;	/* RCTL.MO = 0: bits 47:36 */

		mta[hash >> 5] |= 1u << (hash & 31);
	}
	for (i = 0; i < 128; i++)
		ew32(a, E1000_MTA + 4 * i, mta[i]);
	if (a->up)
		ew32(a, E1000_RCTL, e1000_rctl(a));
}

/* ---- rings --------------------------------------------------------------- */

static void e1000_free_rings(struct e1000_adapter *a)
{
	struct pci_dev *pdev = a->pdev;

	if (a->rx_bufs)
		dma_free_coherent(&pdev->dev, a->rx_bufs_bytes, a->rx_bufs, a->rx_bufs_dma);
	if (a->rx_ring)
		dma_free_coherent(&pdev->dev, RX_RING * sizeof(struct e1000_rx_desc), a->rx_ring, a->rx_ring_dma);
	if (a->tx_ring)
		dma_free_coherent(&pdev->dev, TX_RING * sizeof(struct e1000_tx_desc), a->tx_ring, a->tx_ring_dma);
	kfree(a->rx_frame);
	a->rx_bufs = NULL;
	a->rx_ring = NULL;
	a->tx_ring = NULL;
	a->rx_frame = NULL;
}

static int e1000_alloc_rings(struct e1000_adapter *a)
{
	struct pci_dev *pdev = a->pdev;

	a->rx_buf_size = a->netdev->mtu <= ETH_DATA_LEN ? 2048 : 16384;
	a->rx_bufs_bytes = RX_RING * a->rx_buf_size;
	a->rx_ring = dma_alloc_coherent(&pdev->dev, RX_RING * sizeof(struct e1000_rx_desc), &a->rx_ring_dma, GFP_KERNEL);
	a->tx_ring = dma_alloc_coherent(&pdev->dev, TX_RING * sizeof(struct e1000_tx_desc), &a->tx_ring_dma, GFP_KERNEL);
	a->rx_bufs = dma_alloc_coherent(&pdev->dev, a->rx_bufs_bytes, &a->rx_bufs_dma, GFP_KERNEL);
	a->rx_frame = kmalloc(ETH_FRAME_MAX, GFP_KERNEL);
	if (!a->rx_ring || !a->tx_ring || !a->rx_bufs || !a->rx_frame) {
		e1000_free_rings(a);
		return -ENOMEM;
	}
	return 0;
}

static void e1000_configure_tx(struct e1000_adapter *a)
{
	memset(a->tx_ring, 0, TX_RING * sizeof(struct e1000_tx_desc));
	memset(a->tx_skb, 0, sizeof(a->tx_skb));
	a->tx_next_to_use = a->tx_next_to_clean = a->tx_tail = 0;
	ew32(a, E1000_TDBAL, (u32)a->tx_ring_dma);
	ew32(a, E1000_TDBAH, (u32)(a->tx_ring_dma >> 32));
	ew32(a, E1000_TDLEN, TX_RING * sizeof(struct e1000_tx_desc));
	ew32(a, E1000_TDH, 0);
	ew32(a, E1000_TDT, 0);
	ew32(a, E1000_TIPG, 10 | (8 << 10) | (6 << 20));	/* IEEE 802.3 IPG for copper */
	ew32(a, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | (0x0f << E1000_TCTL_CT_SHIFT) | (0x40 << E1000_TCTL_COLD_SHIFT));
}

static void e1000_configure_rx(struct e1000_adapter *a)
{
	u32 i;

	for (i = 0; i < RX_RING; i++) {
		a->rx_ring[i].buffer_addr = a->rx_bufs_dma + (u64)i * a->rx_buf_size;
		a->rx_ring[i].status = 0;
	}
	a->rx_next = 0;
	a->rx_frame_len = 0;
	a->rx_frame_bad = false;
	ew32(a, E1000_RDBAL, (u32)a->rx_ring_dma);
	ew32(a, E1000_RDBAH, (u32)(a->rx_ring_dma >> 32));
	ew32(a, E1000_RDLEN, RX_RING * sizeof(struct e1000_rx_desc));
	ew32(a, E1000_RDH, 0);
	ew32(a, E1000_RDT, RX_RING - 1);	/* one descriptor held back: head == tail means empty */
	ew32(a, E1000_RDTR, 0);
	ew32(a, E1000_RCTL, e1000_rctl(a));
}

/* Frees every socket buffer still on the transmit ring (the device is stopped). */
static void e1000_drop_tx(struct e1000_adapter *a)
{
	u32 i;

	for (i = 0; i < TX_RING; i++)
		if (a->tx_skb[i]) {
			a->netdev->stats.tx_dropped++;
			dev_kfree_skb_any(a->tx_skb[i]);
			a->tx_skb[i] = NULL;
		}
}

/* ---- interrupt and poll -------------------------------------------------- */

static irqreturn_t e1000_intr(int irq, void *data)
{
	struct e1000_adapter *a = data;
	u32 icr = er32(a, E1000_ICR);	/* reading clears the causes */

	(void)irq;
	if (!icr)
		return IRQ_NONE;
	if (icr & E1000_ICR_LSC)
		e1000_update_link(a);
	if (icr & E1000_ICR_RXO)
		a->netdev->stats.rx_errors++;
	if (a->up) {
		ew32(a, E1000_IMC, 0xffffffff);	/* NAPI: masked until the poll has caught up */
		schedule_work(&a->poll_work);
	}
	return IRQ_HANDLED;
}

static void e1000_clean_tx(struct e1000_adapter *a)
{
	struct net_device *dev = a->netdev;

	spin_lock(&a->tx_lock);
	while (a->tx_next_to_clean != a->tx_next_to_use) {
		u32 i = a->tx_next_to_clean;
		struct e1000_tx_desc *d = &a->tx_ring[i];

		if (!(d->status & E1000_TXD_STAT_DD))
			break;
		if (a->tx_skb[i]) {
			dev->stats.tx_packets++;
			dev->stats.tx_bytes += d->length;
			dev_kfree_skb_any(a->tx_skb[i]);
			a->tx_skb[i] = NULL;
		}
		d->status = 0;
		a->tx_next_to_clean = (i + 1) % TX_RING;
	}
	spin_unlock(&a->tx_lock);
}

static int e1000_clean_rx(struct e1000_adapter *a, int budget)
{
	struct net_device *dev = a->netdev;
	int done = 0;
	u32 last = RX_RING;

	while (done < budget) {
		u32 i = a->rx_next;
		struct e1000_rx_desc *d = &a->rx_ring[i];
		const u8 *buf = a->rx_bufs + (u64)i * a->rx_buf_size;
		u32 len;

		if (!(d->status & E1000_RXD_STAT_DD))
			break;
		len = d->length;
		if (d->errors || a->rx_frame_len + len > ETH_FRAME_MAX)
			a->rx_frame_bad = true;
		else {
			memcpy(a->rx_frame + a->rx_frame_len, buf, len);
			a->rx_frame_len += len;
		}
		if (d->status & E1000_RXD_STAT_EOP) {
			if (a->rx_frame_bad || a->rx_frame_len < ETH_HLEN) {
				dev->stats.rx_errors++;
			} else if (netif_rx(dev, a->rx_frame, a->rx_frame_len) == 0) {
				dev->stats.rx_packets++;
				dev->stats.rx_bytes += a->rx_frame_len;
				if (a->rx_frame[0] & 1)
					dev->stats.multicast++;
			} else {
				dev->stats.rx_dropped++;
			}
			a->rx_frame_len = 0;
			a->rx_frame_bad = false;
			done++;
		}
		d->status = 0;
		last = i;
		a->rx_next = (i + 1) % RX_RING;
	}
	if (last != RX_RING)
		ew32(a, E1000_RDT, last);	/* give the cleaned descriptors back */
	return done;
}

static void e1000_poll_work(struct work_struct *work)
{
	struct e1000_adapter *a = container_of(work, struct e1000_adapter, poll_work);
	int done;

	if (!a->up)
		return;
	if (crash_in_poll) {
		u32 *volatile p = NULL;

		*p = 1;
	}
	e1000_clean_tx(a);
	done = e1000_clean_rx(a, POLL_BUDGET);
	if (done < POLL_BUDGET)
		ew32(a, E1000_IMS, IMS_ENABLE);	/* caught up: interrupts again */
	else
		schedule_work(&a->poll_work);	/* more waiting: poll again */
}

/* ---- net_device operations ----------------------------------------------- */

static int e1000_up(struct e1000_adapter *a)
{
	int err = e1000_alloc_rings(a);

	if (err)
		return err;
	a->up = true;
	e1000_configure_tx(a);
	e1000_configure_rx(a);
	er32(a, E1000_ICR);
	ew32(a, E1000_IMS, IMS_ENABLE);
	e1000_update_link(a);
	return 0;
}

static void e1000_down(struct e1000_adapter *a)
{
	a->up = false;
	ew32(a, E1000_IMC, 0xffffffff);
	ew32(a, E1000_RCTL, 0);
	ew32(a, E1000_TCTL, E1000_TCTL_PSP);
	cancel_work_sync(&a->poll_work);
	INIT_WORK(&a->poll_work, e1000_poll_work);
	e1000_clean_tx(a);
	e1000_drop_tx(a);
	e1000_free_rings(a);
	netif_carrier_off(a->netdev);
}

static int e1000_open(struct net_device *dev)
{
	struct e1000_adapter *a = dev->priv;

	if (a->up)
		return 0;
	return e1000_up(a);
}

static int e1000_stop(struct net_device *dev)
{
	struct e1000_adapter *a = dev->priv;

	if (a->up)
		e1000_down(a);
	return 0;
}

static int e1000_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct e1000_adapter *a = dev->priv;
	struct e1000_tx_desc *d;
	u32 i;

	if (crash_in_xmit && --crash_in_xmit == 0) {
		u32 *volatile p = NULL;

		*p = 1;
	}
	spin_lock(&a->tx_lock);
	if (!a->up || (a->tx_next_to_use + 1) % TX_RING == a->tx_next_to_clean) {
		if (a->up && a->tx_tail != a->tx_next_to_use) {	/* ring what the batch queued so far */
			a->tx_tail = a->tx_next_to_use;
			ew32(a, E1000_TDT, a->tx_tail);
		}
		spin_unlock(&a->tx_lock);
		return NETDEV_TX_BUSY;
	}
	i = a->tx_next_to_use;
	d = &a->tx_ring[i];
	d->buffer_addr = skb->dma;
	d->length = (u16)skb->len;
	d->cso = 0;
	d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	d->status = 0;
	d->css = 0;
	d->special = 0;
	a->tx_skb[i] = skb;
	a->tx_next_to_use = (i + 1) % TX_RING;
	if (!skb->xmit_more) {
		a->tx_tail = a->tx_next_to_use;
		ew32(a, E1000_TDT, a->tx_tail);	/* the doorbell: once per batch */
	}
	spin_unlock(&a->tx_lock);
	return NETDEV_TX_OK;
}

static int e1000_set_mac(struct net_device *dev, const u8 *addr)
{
	struct e1000_adapter *a = dev->priv;

	if (addr[0] & 1)
		return -EINVAL;
	memcpy(dev->dev_addr, addr, ETH_ALEN);
	e1000_set_rar(a, dev->dev_addr);
	return 0;
}

static int e1000_change_mtu(struct net_device *dev, int new_mtu)
{
	struct e1000_adapter *a = dev->priv;
	bool was_up = a->up;

	if (new_mtu < 68 || new_mtu > E1000_MAX_MTU)
		return -EINVAL;
	if (was_up)
		e1000_down(a);
	dev->mtu = (u32)new_mtu;
	return was_up ? e1000_up(a) : 0;
}

static void e1000_get_stats(struct net_device *dev)
{
	struct e1000_adapter *a = dev->priv;

	/* the statistics registers clear on read: accumulate them */
	a->hw_rx_good += er32(a, E1000_GPRC);
	a->hw_tx_good += er32(a, E1000_GPTC);
	a->hw_missed += er32(a, E1000_MPC);
	dev->stats.hw_rx_good = a->hw_rx_good;
	dev->stats.hw_tx_good = a->hw_tx_good;
	dev->stats.rx_missed_errors = a->hw_missed;
}

static void e1000_tx_timeout(struct net_device *dev, unsigned int txqueue)
{
	struct e1000_adapter *a = dev->priv;

	(void)txqueue;
	dev->stats.tx_timeouts++;
	pr_warn("e1000: %s: transmit timed out, resetting\n", dev->name);
	if (a->up) {
		e1000_down(a);
		e1000_up(a);
	}
}

static const struct net_device_ops e1000_netdev_ops = {
	.ndo_open = e1000_open,
	.ndo_stop = e1000_stop,
	.ndo_start_xmit = e1000_xmit,
	.ndo_set_mac_address = e1000_set_mac,
	.ndo_change_mtu = e1000_change_mtu,
	.ndo_set_rx_mode = e1000_set_rx_mode,
	.ndo_get_stats = e1000_get_stats,
	.ndo_tx_timeout = e1000_tx_timeout,
};

/* ---- PCI ------------------------------------------------------------------ */

static int e1000_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct e1000_adapter *a;
	struct net_device *dev;
	int err, i;

	(void)id;
	if (pci_enable_device(pdev))
		return -ENODEV;
	pci_set_master(pdev);
	if (pci_resource_len(pdev, 0) < E1000_BAR0_SIZE)
		return -ENODEV;
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!a || !dev) {
		err = -ENOMEM;
		goto fail;
	}
	a->pdev = pdev;
	a->netdev = dev;
	spin_lock_init(&a->tx_lock);
	INIT_WORK(&a->poll_work, e1000_poll_work);
	a->hw = pci_iomap(pdev, 0, 0);
	if (!a->hw) {
		err = -ENOMEM;
		goto fail;
	}
	err = e1000_reset_hw(a);
	if (err)
		goto fail;
	err = e1000_read_mac(a, dev->perm_addr);
	if (err)
		goto fail;
	memcpy(dev->dev_addr, dev->perm_addr, ETH_ALEN);
	e1000_set_rar(a, dev->dev_addr);
	for (i = 1; i < 16; i++) {
		ew32(a, E1000_RAL(i), 0);
		ew32(a, E1000_RAH(i), 0);
	}
	for (i = 0; i < 128; i++)
		ew32(a, E1000_MTA + 4 * i, 0);
	ew32(a, E1000_CTRL, er32(a, E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE);

	dev->pdev = pdev;
	dev->netdev_ops = &e1000_netdev_ops;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = 68;
	dev->max_mtu = E1000_MAX_MTU;
	dev->watchdog_timeo = 5000;
	dev->priv = a;

	err = request_irq(pdev->irq, e1000_intr, IRQF_SHARED, "e1000", a);
	if (err)
		goto fail;
	a->irq_attached = true;
	err = register_netdev(dev);
	if (err)
		goto fail;
	pci_set_drvdata(pdev, a);
	the_adapter = a;
	pr_info("e1000: %s: %02x:%02x:%02x:%02x:%02x:%02x, irq %u\n", dev->name, dev->dev_addr[0], dev->dev_addr[1],
		dev->dev_addr[2], dev->dev_addr[3], dev->dev_addr[4], dev->dev_addr[5], pdev->irq);
	return 0;
fail:
	if (a && a->irq_attached)
		free_irq(pdev->irq, a);
	if (a && a->hw)
		pci_iounmap(pdev, a->hw);
	kfree(dev);
	kfree(a);
	return err;
}

static void e1000_remove(struct pci_dev *pdev)
{
	struct e1000_adapter *a = pci_get_drvdata(pdev);

	unregister_netdev(a->netdev);	/* stops it first if it is open */
	e1000_reset_hw(a);
	free_irq(pdev->irq, a);
	pci_iounmap(pdev, a->hw);
	kfree(a->netdev);
	if (the_adapter == a)
		the_adapter = NULL;
	kfree(a);
}

static const struct pci_device_id e1000_ids[] = {
	PCI_DEVICE(E1000_VENDOR_INTEL, E1000_DEV_82540EM),
	{ 0, 0 },
};

static struct pci_driver e1000_driver = {
	.name = "e1000",
	.id_table = e1000_ids,
	.probe = e1000_probe,
	.remove = e1000_remove,
};

/* ---- test hooks ----------------------------------------------------------- */

NOOKS_EXPORT long bound(void)
{
	return the_adapter != NULL;
}

/* A driver bug: a transmit descriptor pointing outside the driver's DMA memory. */
NOOKS_EXPORT long wild_tx(long addr)
{
	struct e1000_adapter *a = the_adapter;
	struct e1000_tx_desc *d;
	u32 i;

	if (!a || !a->up)
		return -ENODEV;
	spin_lock(&a->tx_lock);
	if ((a->tx_next_to_use + 1) % TX_RING == a->tx_next_to_clean) {
		spin_unlock(&a->tx_lock);
		return -EBUSY;
	}
	i = a->tx_next_to_use;
	d = &a->tx_ring[i];
	d->buffer_addr = (u64)addr;
	d->length = 64;
	d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
	d->status = 0;
	a->tx_skb[i] = NULL;
	a->tx_next_to_use = (i + 1) % TX_RING;
	a->tx_tail = a->tx_next_to_use;
	ew32(a, E1000_TDT, a->tx_tail);
	spin_unlock(&a->tx_lock);
	return 0;
}

/* A driver bug: a NULL dereference (in the poll's context, called from the host). */
NOOKS_EXPORT long crash(void)
{
	u32 *volatile p = NULL;

	return *p;
}

/* A driver bug on the data path: the next poll (on the kernel's worker thread) faults. */
NOOKS_EXPORT long crash_poll(void)
{
	crash_in_poll = true;
	return 0;
}

/* A driver bug on the transmit path: the n-th frame handed to it from now on faults (mid-batch for n > 1). */
NOOKS_EXPORT long crash_xmit(long n)
{
	crash_in_xmit = n;
	return 0;
}

/* The driver takes its interface away itself while it runs (as before registering it again, reconfigured). */
NOOKS_EXPORT long unregister_own_netdev(void)
{
	if (!the_adapter)
		return -ENODEV;
	unregister_netdev(the_adapter->netdev);
	return 0;
}

module_pci_driver(e1000_driver);
