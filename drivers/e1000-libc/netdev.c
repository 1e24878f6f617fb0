/*
 * The net-class adapter of the libc-style e1000 driver (the e1000-libc-net
 * target): the only file of the driver that includes nooks' headers. It opens
 * the NIC with the library (e1000l.h) and registers it as a net_device, so that
 * eth0, the net applications and the shadow driver run over it.
 *
 *  init:   the NIC at getenv("NIC") (the load option env), or else the first
 *          device of the load option devices; its pci_dev from pci_get_held;
 *          e1000l_open; register_netdev. Without a device it stays idle, as
 *          a PCI driver that no device matched
 *  open:   carrier from e1000l_link_up; the poll timer starts
 *  xmit:   frames gathered until the batch ends (skb->xmit_more), then one
 *          e1000l_tx_batch (one doorbell); a frame's skb is freed once the
 *          library took it, one its ring had no room for waits for the poll
 *  poll:   every jiffy (a polled driver: no interrupts): the waiting frames
 *          again, then e1000l_rx_batch until the ring is empty (a budget per
 *          tick), each frame passed up with netif_rx; carrier changes
 *  stop:   the timer stops; waiting frames are dropped
 *  exit:   unregister_netdev, e1000l_close
 *
 * With module_init it recovers as a kapi driver does: restarted by running
 * init again, and the net class replays eth0's configuration.
 */
#include <stdlib.h>

#include "e1000l.h"

#include <nooks/kapi.h>
#include <nooks/netdevice.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("net-class adapter of the libc-style 82540EM driver (e1000l)");

#define BATCH		32	/* frames per e1000l_tx_batch / e1000l_rx_batch call */
#define POLL_BUDGET	(8 * BATCH)	/* frames received per tick at most */

struct adapter {
	struct e1000l *nic;
	char address[16];	/* the NIC's, in driver memory: the library writes it to files */
	struct net_device *netdev;
	struct timer_list poll_timer;
	spinlock_t lock;	/* the library is not thread-safe: xmit (JS thread) and poll (timer thread) */
	bool up, carrier;

	unsigned tx_count;	/* frames gathered for the next e1000l_tx_batch, with their skbs */
	struct e1000l_frame tx[BATCH];
	struct sk_buff *tx_skb[BATCH];
	struct e1000l_frame rx[BATCH];
};

static struct adapter *the_adapter;

/* With the lock held: hands the gathered frames to the library; frees the skbs it took. */
static void flush_tx(struct adapter *a)
{
	struct net_device *dev = a->netdev;
	unsigned sent, i;

	if (!a->tx_count)
		return;
	sent = e1000l_tx_batch(a->nic, a->tx, a->tx_count);
	for (i = 0; i < sent; i++) {
		dev->stats.tx_packets++;
		dev->stats.tx_bytes += a->tx[i].len;
		dev_kfree_skb_any(a->tx_skb[i]);	/* copied into the library's ring: a completion */
	}
	a->tx_count -= sent;
	memmove(a->tx, a->tx + sent, a->tx_count * sizeof(a->tx[0]));
	memmove(a->tx_skb, a->tx_skb + sent, a->tx_count * sizeof(a->tx_skb[0]));
}

/* With the lock held: gives back the frames still waiting (the interface goes down). */
static void drop_tx(struct adapter *a)
{
	unsigned i;

	for (i = 0; i < a->tx_count; i++) {
		a->netdev->stats.tx_dropped++;
		dev_kfree_skb_any(a->tx_skb[i]);
	}
	a->tx_count = 0;
}

static void set_carrier(struct adapter *a, bool link)
{
	a->carrier = link;
	if (link)
		netif_carrier_on(a->netdev);
	else
		netif_carrier_off(a->netdev);
}

static void poll(struct timer_list *t)
{
	struct adapter *a = container_of(t, struct adapter, poll_timer);
	struct net_device *dev = a->netdev;
	unsigned got, done = 0, i;
	bool link;

	do {
		spin_lock(&a->lock);
		flush_tx(a);
		got = e1000l_rx_batch(a->nic, a->rx, BATCH);
		spin_unlock(&a->lock);
		/* only this thread writes a->rx: passed up without the lock */
		for (i = 0; i < got; i++) {
			if (netif_rx(dev, a->rx[i].data, a->rx[i].len) == 0) {
				dev->stats.rx_packets++;
				dev->stats.rx_bytes += a->rx[i].len;
				if (a->rx[i].data[0] & 1)
					dev->stats.multicast++;
			} else {
				dev->stats.rx_dropped++;
			}
		}
		done += got;
	} while (got == BATCH && done < POLL_BUDGET);
	spin_lock(&a->lock);
	link = e1000l_link_up(a->nic);	/* one STATUS read a tick, not one a batch */
	if (a->up)	/* read under the lock: adapter_stop's del_timer then finds it armed, or never armed */
		mod_timer(&a->poll_timer, jiffies + 1);
	spin_unlock(&a->lock);
	if (link != a->carrier)
		set_carrier(a, link);
}

static int adapter_open(struct net_device *dev)
{
	struct adapter *a = dev->priv;

	if (a->up)
		return 0;
	a->up = true;
	set_carrier(a, e1000l_link_up(a->nic));
	mod_timer(&a->poll_timer, jiffies + 1);
	return 0;
}

static int adapter_stop(struct net_device *dev)
{
	struct adapter *a = dev->priv;

	if (!a->up)
		return 0;
	spin_lock(&a->lock);
	a->up = false;
	spin_unlock(&a->lock);
	del_timer(&a->poll_timer);	/* waits for a poll running on the timer thread */
	spin_lock(&a->lock);
	drop_tx(a);
	spin_unlock(&a->lock);
	set_carrier(a, false);
	return 0;
}

static int adapter_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct adapter *a = dev->priv;

	spin_lock(&a->lock);
	if (a->up && a->tx_count == BATCH)
		flush_tx(a);
	if (!a->up || a->tx_count == BATCH) {	/* the library's ring is full: the poll frees some */
		spin_unlock(&a->lock);
		return NETDEV_TX_BUSY;
	}
	/* the kernel holds frames to the MTU (max_mtu 1500): the bound only guards the copy */
	a->tx[a->tx_count].len = (uint16_t)(skb->len < E1000L_FRAME_MAX ? skb->len : E1000L_FRAME_MAX);
	memcpy(a->tx[a->tx_count].data, skb->data, a->tx[a->tx_count].len);
	a->tx_skb[a->tx_count++] = skb;
	if (!skb->xmit_more || a->tx_count == BATCH)
		flush_tx(a);	/* the batch ends: one doorbell */
	spin_unlock(&a->lock);
	return NETDEV_TX_OK;
}

static void adapter_get_stats(struct net_device *dev)
{
	struct adapter *a = dev->priv;
	struct e1000l_stats st;

	spin_lock(&a->lock);
	e1000l_stats(a->nic, &st);
	spin_unlock(&a->lock);
	dev->stats.hw_rx_good = st.rx_frames;
	dev->stats.hw_tx_good = st.tx_frames;
	dev->stats.rx_missed_errors = st.rx_missed;
}

static const struct net_device_ops adapter_ops = {
	.ndo_open = adapter_open,
	.ndo_stop = adapter_stop,
	.ndo_start_xmit = adapter_xmit,
	.ndo_get_stats = adapter_get_stats,
};

static int adapter_init(void)
{
	const char *address = getenv("NIC");
	struct pci_dev *pdev = pci_get_held(address);	/* NULL: the first device held */
	struct adapter *a;
	struct net_device *dev;
	int err;

	if (!pdev && !address) {
		pr_info("e1000l-net: no device held (load option devices): nothing to drive\n");
		return 0;
	}
	if (!pdev) {
		pr_err("e1000l-net: NIC %s is not a device the driver holds (load option devices)\n", address);
		return -ENODEV;
	}
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!a || !dev) {
		kfree(dev);
		kfree(a);
		return -ENOMEM;
	}
	memcpy(a->address, pdev->address, sizeof(a->address));
	a->nic = e1000l_open(a->address);	/* a setup error is fatal: exit(1), a contained failure */
	a->netdev = dev;
	spin_lock_init(&a->lock);
	timer_setup(&a->poll_timer, poll, 0);
	e1000l_mac(a->nic, dev->perm_addr);
	memcpy(dev->dev_addr, dev->perm_addr, ETH_ALEN);
	dev->pdev = pdev;
	dev->netdev_ops = &adapter_ops;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = 68;
	dev->max_mtu = ETH_DATA_LEN;	/* the library's 2 KiB buffers: no jumbo frames */
	dev->priv = a;
	err = register_netdev(dev);
	if (err) {
		e1000l_close(a->nic);
		kfree(dev);
		kfree(a);
		return err;
	}
	the_adapter = a;
	return 0;
}

static void adapter_exit(void)
{
	struct adapter *a = the_adapter;

	if (!a)
		return;
	unregister_netdev(a->netdev);	/* stops it first if it is open */
	e1000l_close(a->nic);
	kfree(a->netdev);
	kfree(a);
	the_adapter = NULL;
}

module_init(adapter_init);
module_exit(adapter_exit);
