// The one interface description of the operations device classes call in
// their drivers (kernel → driver), one file per class under ops/. The
// counterpart of kapi.ts (driver → kernel). `generate.ts` turns it into the C
// structs drivers fill (gen/nooks/ops/<table>.h) and, for the kernel, each
// table's host copy whose only way in is a call through a tap
// (gen/class_ops.inc; native/shadow/taps.h).
import { blkDiskOps } from './ops/block.js';
import { netDeviceOps } from './ops/net.js';
import { uartOps } from './ops/serial.js';
import { sndPcmOps } from './ops/sound.js';
import type { OpsTable } from './ops/types.js';

export type { Op, OpsTable, ShadowRole } from './ops/types.js';

export const opsTables: OpsTable[] = [blkDiskOps, uartOps, sndPcmOps, netDeviceOps];
