// The net class's operations (native/classes/net/net_class.cc calls them).
import { a, type OpsTable } from './types.js';

const dev = a('dev', 'struct net_device *');

export const netDeviceOps: OpsTable = {
  name: 'net_device_ops', class: 'net',
  doc: 'A network driver\'s operations (struct net_device.netdev_ops).',
  ops: [
    { name: 'ndo_open', ret: 'int', params: [dev], required: true, role: 'lifecycle', doc: 'Bring the interface up: rings, interrupts. 0 or -errno.' },
    { name: 'ndo_stop', ret: 'int', params: [dev], required: true, role: 'lifecycle', doc: 'Bring it down; frames it holds are given back.' },
    {
      name: 'ndo_start_xmit', ret: 'int', params: [a('skb', 'struct sk_buff *'), dev], required: true, role: 'request',
      doc: 'Send skb: NETDEV_TX_OK (it is the driver\'s until dev_kfree_skb_any) or NETDEV_TX_BUSY (ring full: given again after a completion). Several per crossing; skb->xmit_more says more follow.',
    },
    { name: 'ndo_set_mac_address', ret: 'int', params: [dev, a('addr', 'const u8 *')], required: false, role: 'config', doc: 'Set the MAC address to addr (dev->addr_req). 0 or -errno.' },
    { name: 'ndo_change_mtu', ret: 'int', params: [dev, a('new_mtu', 'int')], required: false, role: 'config', doc: 'Set the MTU (within dev->min_mtu..max_mtu). 0 or -errno.' },
    { name: 'ndo_set_rx_mode', ret: 'void', params: [dev], required: false, role: 'config', doc: 'dev->flags or dev->mc_list changed: program the receive filter.' },
    { name: 'ndo_get_stats', ret: 'void', params: [dev], required: false, role: 'query', doc: 'Refresh dev->stats from the device\'s counters.' },
    { name: 'ndo_tx_timeout', ret: 'void', params: [dev, a('txqueue', 'unsigned int')], required: false, role: 'recovery', doc: 'No transmit progress for dev->watchdog_timeo ms: reset the transmitter.' },
  ],
};
