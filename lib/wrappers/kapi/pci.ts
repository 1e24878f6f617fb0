// The PCI bus, as drivers see it: register a driver with an id table, get
// probe(pdev) for each matching device (emulated, UIO or VFIO alike), map its
// BARs, keep per-device data. struct pci_dev is a kernel object the driver
// reads but never writes (the host-object heap).
import { p, type KapiCall } from './types.js';

// A device the driver was probed for (the tracker holds it as a pci_dev object).
const pdev = p('pdev', 'struct pci_dev *', { kind: 'object', type: 'pci_dev' });

export const pci: KapiCall[] = [
  {
    name: 'pci_register_driver', ret: 'int', params: [p('drv', 'struct pci_driver *', { kind: 'writable', size: 'sizeof(struct pci_driver)' })],
    doc: 'Register a PCI driver: probe() runs now (a nested crossing) for every device on the bus that matches its id_table and no driver holds, and later for devices that appear. 0, or -EBUSY if registered already.',
  },
  {
    name: 'pci_unregister_driver', ret: 'void', params: [p('drv', 'struct pci_driver *', { kind: 'object', type: 'pci_driver' })],
    doc: 'Unregister a PCI driver: remove() runs for each device it holds, and the devices are reset.',
  },
  {
    name: 'pci_enable_device', ret: 'int', params: [pdev],
    doc: 'Enable a device the driver was probed for. 0 or -ENODEV.',
  },
  {
    name: 'pci_set_master', ret: 'void', params: [pdev],
    doc: 'Let the device master the bus (DMA).',
  },
  {
    name: 'pci_resource_len', ret: 'unsigned long', params: [pdev, p('bar', 'int')],
    doc: 'Size in bytes of BAR `bar` (0 if absent).',
  },
  {
    name: 'pci_iomap', ret: 'void __iomem *', params: [pdev, p('bar', 'int'), p('maxlen', 'unsigned long')],
    doc: 'Map BAR `bar` for ioread/iowrite (at most maxlen bytes; 0 for all). NULL if the BAR is absent, the device is not the driver\'s, or (an emulated device) the driver holds 16 MiB of such windows already, each whole pages and a guard page (logged once, a host-limit event: docs/devices.md).',
  },
  {
    name: 'pci_iounmap', ret: 'void', params: [pdev, p('addr', 'void __iomem *', { kind: 'object', type: 'iomap' })],
    doc: 'Undo pci_iomap.',
  },
  {
    name: 'pci_set_drvdata', ret: 'void', params: [pdev, p('data', 'void *')],
    doc: 'Keep a pointer for the driver with the device.',
  },
  {
    name: 'pci_get_drvdata', ret: 'void *', params: [pdev],
    doc: 'The pointer pci_set_drvdata kept.',
  },
  {
    name: 'pci_get_held', ret: 'struct pci_dev *', params: [p('address', 'const char *', { kind: 'string', max: 64, nullable: true })],
    doc: 'The pci_dev of a device the driver holds by the load option `devices` (no probe): the one at `address` (DDDD:BB:DD.F), or with NULL the first the option names. NULL if it holds none there. From then on a pci_dev object of the driver, as a probe\'s; the same pointer on every call.',
  },
];
