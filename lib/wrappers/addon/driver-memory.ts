// Driver memory's functions (native/domain/driver_memory_napi.cc), behind
// Driver.alloc & co. (lib/kernel.ts). Addresses and lengths are checked by the
// functions themselves (EINVAL), hence 'any'.
import { fn, surface } from './describe.js';

export const driverMemory = surface({
  name: 'driver_memory',
  source: 'native/domain/driver_memory_napi.cc',
  functions: {
    memAlloc: fn<(id: number, size: number) => number>('A zeroed block of the driver\'s heap, held as its object; its address.', ['number', 'any']),
    memFree: fn<(id: number, address: number | bigint) => void>('Frees a block memAlloc made (EFAULT for anything else).', ['number', 'any']),
    memWrite: fn<(id: number, address: number | bigint, bytes: Uint8Array) => void>(
      'Writes bytes; the range must lie inside one heap or DMA block the driver holds (EFAULT).', ['number', 'any', 'any']),
    memRead: fn<(id: number, address: number | bigint, length: number) => Buffer>(
      'Reads bytes; the range must lie inside one heap or DMA block the driver holds (EFAULT).', ['number', 'any', 'any']),
  },
});
