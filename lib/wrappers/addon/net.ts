// The net class's functions (native/classes/net/net_napi.cc), behind lib/classes/net.ts.
import type { NetConfig, NetErrorCode, NetInfo, NetStats, NicWire } from '../../classes/net.js';
import type { NativeFault } from '../../native.js';
import { fn, surface } from './describe.js';

/** What the kernel hands JavaScript of one interface. */
export interface NetEvent {
  iface: string;
  frames?: Buffer[];
  link?: boolean;
  /** Why the interface was reset under its handles, */
  detached?: string;
  /** and the error's code; */
  code?: NetErrorCode;
  /** the interface's reset count after this reset: handles opened at a lower count (netOpen's) are detached; */
  resets?: number;
  /** the failure of the driver that made the reset, if one did (the class says what the recovery agent decided for it). */
  fault?: NativeFault;
}

export const net = surface({
  name: 'net',
  source: 'native/classes/net/net_napi.cc',
  functions: {
    netInit: fn<(deliver: (events: NetEvent[]) => void) => void>('Sets the callback that receives frames, link changes and resets.', ['function']),
    netInfo: fn<(name: string, resets?: number) => (NetInfo & { users: number; queued: number; domain: number; flags?: number }) | null>(
      'The interface, or null if no such name; with a handle\'s reset count (netOpen\'s), refused to a handle the interface was reset under since.',
      ['string', 'number?']),
    netList: fn<() => string[]>('Names of every interface ever registered.', []),
    netOpen: fn<(name: string) => number>(
      'One more user; opens the interface (ndo_open) for the first. The interface\'s reset count, for netClose.', ['string']),
    netClose: fn<(name: string, resets: number) => void>(
      'One user less, unless the interface was reset since the open that returned `resets`; the last stops the interface (ndo_stop). Waiting frames are dropped.',
      ['string', 'number']),
    netSend: fn<(name: string, resets: number, frames: Buffer[]) => number>(
      'Queues the frames of the handle opened at reset count `resets` and starts sending; how many were queued.', ['string', 'number', 'array']),
    netConfigure: fn<(name: string, resets: number, config: NetConfig) => number>(
      'Kept for the interface (replayed after a recovery) and applied now if a driver has it. 0, or -errno: the driver refused a setting, which is not kept.',
      ['string', 'number', 'object']),
    netStats: fn<(name: string, resets: number) => NetStats>('The driver\'s statistics (refreshed by ndo_get_stats) and the class\'s counters.', ['string', 'number']),
    nicWire: fn<(device: string) => NicWire | null>('The emulated NIC\'s UDP wire and counters, or null if not a NIC.', ['string']),
    nicCable: fn<(device: string, up: boolean) => boolean>('Plugs or pulls the emulated NIC\'s cable.', ['string', 'boolean']),
    nicHangTx: fn<(device: string) => boolean>('Test hook: the emulated NIC\'s transmitter hangs.', ['string']),
    netFailAfterConfigure: fn<(name: string) => void>(
      'Test hook: the next configure of the interface fails its driver once its calls into the driver have returned.', ['string']),
    netHoldRegister: fn<(name: string) => void>(
      'Test hook: the next registration of the interface that reopens it waits, before it returns to the driver, until the reopen is over.',
      ['string']),
  },
});
