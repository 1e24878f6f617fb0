// The net class: how a network driver registers its interface and moves frames.
// The driver-facing header is native/include/nooks/netdevice.h
// (struct net_device, struct sk_buff, the operations); kapi.h cannot name the
// class's structs, so the prototypes take void *. Bodies: native/classes/net/net_class.cc.
import { p, type KapiCall } from './types.js';

// sizeof(struct net_device): NET_DEVICE_SIZE in netdevice.h (asserted there).
const kNetDeviceSize = 392;
const dev = p('dev', 'void *', { kind: 'object', type: 'netdev' });

export const net: KapiCall[] = [
  {
    name: 'register_netdev', ret: 'int', params: [p('dev', 'void *', { kind: 'lasting', size: `${kNetDeviceSize}` })],
    doc: 'Register a network interface (a struct net_device * in driver memory, for a pci_dev the driver holds, with its ops table): it gets its name (eth0...) and the kernel allocates its socket buffers in the driver\'s DMA memory. 0, -EINVAL (bad ops or MTU), -EBUSY (registered already), -ENOMEM.',
  },
  {
    name: 'unregister_netdev', ret: 'void', params: [dev],
    doc: 'Unregister an interface: ndo_stop runs first if it was open; socket buffers still with the driver are forgotten.',
  },
  {
    name: 'netif_rx', ret: 'int',
    params: [dev, p('data', 'const void *', { kind: 'readable', size: 'len' }), p('len', 'size_t', { kind: 'size', max: 16128 })],
    doc: 'A frame received (from the driver\'s poll): copied and queued for the applications, delivered to them in batches. 0, or -ENOSPC when dropped (interface not open, receive queue full).',
  },
  {
    name: 'dev_kfree_skb_any', ret: 'void', params: [p('skb', 'void *')],
    doc: 'The driver is done with a socket buffer the kernel gave it (ndo_start_xmit accepted it): the frame was sent (or dropped). Freeing one the driver does not hold is a driver fault.',
  },
  {
    name: 'netif_carrier_on', ret: 'void', params: [dev],
    doc: 'The link is up.',
  },
  {
    name: 'netif_carrier_off', ret: 'void', params: [dev],
    doc: 'The link is down.',
  },
];
