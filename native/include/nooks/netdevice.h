/*
 * The net class as drivers and the kernel share it: the interface a network
 * driver registers, its operations, and the frames the kernel hands it.
 * C, included by net drivers (after <nooks/kapi.h>) and by the kernel side
 * (native/classes/net/net_class.cc).
 *
 *   the kernel                                the driver
 *   register_netdev(dev)             <-----   probe: an interface for its pci_dev
 *   ops->ndo_open / ndo_stop         ----->   an application opens / closes it
 *   ops->ndo_start_xmit(skb, dev)    ----->   frames to send: several per crossing;
 *                                             skb->xmit_more: the doorbell can wait
 *   dev_kfree_skb_any(skb)           <-----   the device sent it (tx clean-up)
 *   netif_rx(dev, data, len)         <-----   a received frame (NAPI-style poll)
 *   netif_carrier_on/off(dev)        <-----   link state changed
 *   ops->ndo_set_rx_mode, ndo_change_mtu, ndo_set_mac_address, ndo_get_stats,
 *   ndo_tx_timeout                   ----->   configuration, statistics, watchdog
 *   unregister_netdev(dev)           <-----   remove
 *
 * struct net_device lives in driver memory (kzalloc): the driver fills pdev,
 * netdev_ops, dev_addr, mtu and its limits before registering; the kernel sets
 * name, and writes flags, mc_list/mc_count and addr_req before it calls the
 * matching operation. Socket buffers (struct sk_buff) and their data belong to
 * the kernel but live in the driver's DMA memory (as dma_map_single would map
 * them): skb->dma is the data's bus address for the device. The driver frees
 * each skb it accepted exactly once, with dev_kfree_skb_any.
 */
#ifndef NOOKS_NETDEVICE_H
#define NOOKS_NETDEVICE_H

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_ZLEN 60		/* shortest frame without FCS */
#define ETH_DATA_LEN 1500
#define ETH_FRAME_MAX 16128	/* longest frame the class carries (jumbo MTU 16110) */
#define IFNAMSIZ 16
#define NETDEV_MC_MAX 32	/* multicast addresses the kernel passes at most */
#define NETDEV_TX_SKBS 256	/* socket buffers per interface */

#define NETDEV_TX_OK 0x00
#define NETDEV_TX_BUSY 0x10	/* ring full: the kernel gives the skb again after a completion */

#define IFF_PROMISC 0x100
#define IFF_ALLMULTI 0x200

struct sk_buff {
	void *data;		/* the frame: len bytes (kernel memory, in the driver's DMA window) */
	dma_addr_t dma;		/* its bus address */
	u32 len;
	u32 xmit_more;		/* more frames follow in this batch: the doorbell can wait */
	void *driver_data;	/* the driver's, untouched by the kernel */
};

struct net_device_stats {
	u64 rx_packets, tx_packets, rx_bytes, tx_bytes;
	u64 rx_errors, tx_errors, rx_dropped, tx_dropped;
	u64 multicast, collisions, rx_missed_errors, tx_timeouts;
	u64 hw_rx_good, hw_tx_good;	/* the device's own counters, if it has them */
};

struct net_device;
#include <nooks/ops/net_device_ops.h>	/* the operations: lib/wrappers/ops/net.ts */

struct net_device {
	char name[IFNAMSIZ];		/* set by register_netdev: eth0, eth1... */
	struct pci_dev *pdev;
	const struct net_device_ops *netdev_ops;
	u8 dev_addr[ETH_ALEN];		/* the current MAC address */
	u8 perm_addr[ETH_ALEN];		/* the device's own (EEPROM) */
	u8 addr_req[ETH_ALEN];		/* the address ndo_set_mac_address is asked to set */
	u8 pad[2];
	u32 mtu, min_mtu, max_mtu;
	u32 flags;			/* IFF_PROMISC, IFF_ALLMULTI */
	u32 mc_count;
	u8 mc_list[NETDEV_MC_MAX][ETH_ALEN];
	u32 watchdog_timeo;		/* ms without tx progress before ndo_tx_timeout (0: 5000) */
	struct net_device_stats stats;
	void *priv;			/* the driver's */
};

#define NET_DEVICE_SIZE 392	/* lib/wrappers/kapi/net.ts's size of struct net_device */
#ifdef __cplusplus
static_assert(sizeof(struct net_device) == NET_DEVICE_SIZE, "NET_DEVICE_SIZE");
#else
_Static_assert(sizeof(struct net_device) == NET_DEVICE_SIZE, "NET_DEVICE_SIZE");
#endif

#endif
