// The one interface description of the kernel API that drivers import, one
// file per area under kapi/ (and the POSIX personality's calls, posix.ts).
// `generate.ts` turns it into: the C prototypes drivers compile against
// (gen/nooks/kapi_calls.h, gen/nooks/posix_calls.h), the entry stubs the
// loader binds driver imports to, the checking wrappers and the dispatch
// tables (gen/kapi_wrappers.inc). The body of each call is hand-written C++
// in native/, named kapi_<name>.
import { block } from './kapi/block.js';
import { core } from './kapi/core.js';
import { net } from './kapi/net.js';
import { pci } from './kapi/pci.js';
import { serial } from './kapi/serial.js';
import { sound } from './kapi/sound.js';
import type { KapiCall } from './kapi/types.js';
import { posix } from './posix.js';

export type { Check, KapiCall, ObjectType, Param } from './kapi/types.js';

/** The kernel API of <nooks/kapi.h>. */
export const kapi: KapiCall[] = [...core, ...pci, ...block, ...serial, ...sound, ...net];

/** Every call a driver may import, in dispatch order (the kernel API, then the POSIX personality's calls, posix.ts). */
export const kernelCalls: KapiCall[] = [...kapi, ...posix];
