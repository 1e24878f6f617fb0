// The bus's functions (native/dev/bus_napi.cc): emulated devices added, real
// PCI devices attached, the devices listed, an interrupt line raised.
import type { DeviceInfo } from '../../native.js';
import { fn, surface } from './describe.js';

export const bus = surface({
  name: 'bus',
  source: 'native/dev/bus_napi.cc',
  functions: {
    mapBar: fn<(id: number, index: number, bar: number) => number>(
      'Test hook: BAR `bar` of device `index` mapped for driver `id` (bound to it), as its mmap of resource<bar>; the address.',
      ['number', 'number', 'number']),
    raiseIrq: fn<(line: number) => boolean>('Raises an interrupt line; whether a handler took it.', ['number']),
    countIrqAcks: fn<(line: number, on: boolean) => number>(
      'Test hook: the line\'s ends of interrupt (a real device\'s unmask) counted afresh (on), or no more (off); the count so far.',
      ['number', 'boolean']),
    addDevice: fn<(kind: string, options?: Record<string, string | number | boolean>) => DeviceInfo>(
      'A new emulated device on the bus (drivers registered for it probe it now).', ['string', 'object?']),
    devices: fn<() => DeviceInfo[]>('The devices on the bus.', []),
    attachPci: fn<(address: string, via: 'uio' | 'vfio') => DeviceInfo>(
      'A real PCI device of the machine on the bus, named by its address.', ['string', 'string']),
  },
});
