// Every addon surface: what the generator writes a table for, what the
// addon exports (test/addon-surface.test.ts) and what native() returns.
import type { AddonOf } from './describe.js';
import { bench } from './bench.js';
import { block } from './block.js';
import { bus } from './bus.js';
import { core } from './core.js';
import { driverMemory } from './driver-memory.js';
import { net } from './net.js';
import { serial } from './serial.js';
import { sound } from './sound.js';

export const addonSurfaces = [core, bench, bus, driverMemory, block, net, serial, sound];

export type NativeAddon = AddonOf<typeof core> & AddonOf<typeof bench> & AddonOf<typeof bus> & AddonOf<typeof driverMemory> & AddonOf<typeof block> &
  AddonOf<typeof net> & AddonOf<typeof serial> & AddonOf<typeof sound>;
