// The block class's functions (native/classes/block/block_napi.cc), behind lib/classes/block.ts.
import { fn, surface } from './describe.js';

/** A disk as the kernel has it (registered, or parked while its driver restarts). */
export interface NativeDisk {
  name: string;
  capacity: number;
  queueDepth: number;
  maxSectors: number;
  domain: number;
  /** Parked: its driver is restarting under the shadow. */
  restarting: boolean;
  /** Requests waiting in the kernel for a slot. */
  queued: number;
  /** Requests the shadow parked and submitted again, since boot. */
  resubmitted: number;
}
/** A finished operation: its data (a read) or its error. */
export interface Completion {
  id: number;
  data?: Buffer;
  code?: string;
  message?: string;
}

export const block = surface({
  name: 'block',
  source: 'native/classes/block/block_napi.cc',
  functions: {
    blockInit: fn<(deliver: (done: Completion[]) => void) => void>('Sets the callback that receives finished operations.', ['function']),
    blockDisk: fn<(name: string) => NativeDisk | null>('The registered (or parked: restarting) disk of that name, or null.', ['string']),
    blockEnded: fn<(name: string) => string | null>('Why the shadow ended the disk of that name, until a driver registers it again; or null.', ['string']),
    blockSubmit: fn<(name: string, ops: [kind: number, sector: number, dataOrSectors?: Buffer | number][]) => number[]>(
      'Queues operations [kind, sector, write data or sectors to read] (all or none) and hands the driver what it can; their ids.',
      ['string', 'array']),
  },
});
