// The block class for applications: a disk that a block driver registered
// (native/classes/block), read and written at byte offsets with promises.
// Requests are queued in the kernel (C++), handed to the driver in batches
// and completed to JavaScript in batches: data never crosses into JavaScript
// one block at a time.
//
//   kernel.addDevice('blk', { image: '/tmp/disk.img', size: 1 << 20 });
//   await kernel.load('blk');
//   const disk = openBlock(kernel, 'blk0');
//   await disk.write(4096, Buffer.alloc(512, 1));
//   const data = await disk.read(4096, 512);
//   await disk.flush();          // the image file is fsync'ed
import { onKernelShutdown, type Kernel } from '../kernel.js';
import { native, type NativeAddon } from '../native.js';
import { ArgCheck } from './args.js';

export const SECTOR_SIZE = 512;

/** Why a block operation failed. */
export type BlockErrorCode =
  /** no such device on the bus, or the shadow ended the disk ("device gone": its driver runs without it), until a driver registers it again */
  | 'ENODEV'
  /** no driver has registered the disk (none bound, or its driver is failed or disabled) */
  | 'ENOTREADY'
  /**
   * the driver failed (recovery without a shadow: not resubmitted; the message says whether the request was in
   * flight in the driver or waited in the class's queue, never reaching it), or for good (a shadow's give-up)
   */
  | 'EDRIVERFAILED'
  /** the driver is failed, recovering or disabled */
  | 'EUNAVAILABLE'
  /** the device or the driver reported an I/O error (a bad DMA address, the image file) */
  | 'EIO'
  /** offset or length outside the disk, or not sector-aligned where it must be */
  | 'ERANGE'
  | 'EINVAL'
  /** no completion within the handle's timeout (the device or its driver is stuck) */
  | 'ETIMEDOUT'
  /** the handle was closed */
  | 'ECLOSED';

export class BlockError extends Error {
  constructor(readonly code: BlockErrorCode, message: string) {
    super(message);
    this.name = 'BlockError';
  }
}

/** One operation of BlockDevice.submitAll. */
export type BlockOp =
  | { op: 'read'; offset: number; length: number }
  | { op: 'write'; offset: number; data: Buffer }
  | { op: 'flush' };

export interface BlockDevice {
  readonly name: string;
  readonly sizeBytes: number;
  /** Reads `length` bytes at `offset` (any alignment). */
  read(offset: number, length: number): Promise<Buffer>;
  /** Writes `data` at `offset`: both multiples of 512 bytes. */
  write(offset: number, data: Buffer): Promise<void>;
  /** Resolves once everything written before is on stable storage (the device fsyncs its image). */
  flush(): Promise<void>;
  /** Many operations in flight at once; settles when all have, rejects with the first error. */
  submitAll(ops: BlockOp[]): Promise<(Buffer | undefined)[]>;
  /** Operations in flight. */
  readonly inFlight: number;
  /** Refuses new operations; those in flight still complete. */
  close(): void;
}

/** One operation as the kernel takes it. */
interface Request {
  kind: number;
  sector: number;
  /** Write: the data; read: how many sectors. */
  arg?: Buffer | number;
}
const OP_READ = 0;
const OP_WRITE = 1;
const OP_FLUSH = 2;

interface Waiter {
  name: string;
  resolve: (data: Buffer | undefined) => void;
  reject: (e: Error) => void;
}
const waiting = new Map<number, Waiter>();
/** The driver (domain id) that last had each disk, for error messages. */
const lastDomains = new Map<string, number>();
let initialised = false;
/** The open handles' failure setters. */
const openDisks = new Set<(why: string) => void>();
onKernelShutdown((why) => {
  for (const fail of openDisks) fail(why);
  openDisks.clear();
  for (const w of waiting.values()) w.reject(new BlockError('ENODEV', `${w.name}: ${why}`));
  waiting.clear();
});

function addon(): NativeAddon {
  const n = native();
  if (!initialised) {
    n.blockInit((done) => {
      for (const c of done) {
        const w = waiting.get(c.id);
        if (!w) continue;
        waiting.delete(c.id);
        if (c.code) w.reject(new BlockError(c.code as BlockErrorCode, c.message ?? c.code));
        else w.resolve(c.data);
      }
    });
    initialised = true;
  }
  return n;
}

/** Why `name` has no registered disk, as a BlockError. */
function notReady(kernel: Kernel, name: string, lastDomain?: number): BlockError {
  const dev = kernel.devices().find((d) => d.name === name);
  if (!dev) return new BlockError('ENODEV', `${name}: no such device (devices: ${kernel.devices().map((d) => d.name).join(', ') || 'none'})`);
  // a failed or disabled driver loses its devices: name the one that had the disk
  const last = kernel.domains().find((d) => d.id === lastDomain);
  if (dev.driver === null && last && last.state !== 'running')
    return new BlockError('ENOTREADY', `${name}: not ready: its driver ${last.name} is ${last.state}`);
  if (dev.driver === null) return new BlockError('ENOTREADY', `${name}: not ready: no driver is bound to it`);
  const dom = kernel.domains().find((d) => d.name === dev.driver);
  const state = dom ? dom.state : 'unknown';
  if (state !== 'running') return new BlockError('ENOTREADY', `${name}: not ready: its driver ${dev.driver} is ${state}`);
  return new BlockError('ENOTREADY', `${name}: not ready: its driver ${dev.driver} has not registered a disk`);
}

export interface OpenOptions {
  /**
   * An operation not finished after this long rejects with ETIMEDOUT
   * (its requests stay with the driver until it completes or fails them): an integer 1..2^31-1 ms. Default 30 s.
   */
  timeoutMs?: number;
}

/** Checks of the arguments of a call about disk `name`: EINVAL naming it and the argument. */
const blockArgs = (name: string) => new ArgCheck(name, (message) => new BlockError('EINVAL', message));

/** Opens the disk of device `name` (e.g. 'blk0'): its driver must have registered it (ENOTREADY; ENODEV with the reason once the shadow ended it, until a driver registers it again). */
export function openBlock(kernel: Kernel, name: string, options: OpenOptions = {}): BlockDevice {
  const arg = blockArgs(blockArgs('openBlock').string(name, 'the device name'));
  const given = arg.settings(options, 'option', ['timeoutMs']);
  const timeoutMs = given.timeoutMs === undefined ? 30_000 : arg.timeout(given.timeoutMs, 'timeoutMs');
  const n = addon();
  const disk = n.blockDisk(name);
  const ended = disk ? null : n.blockEnded(name);
  if (ended) throw new BlockError('ENODEV', ended); // as every class's open of a device the shadow ended
  if (!disk) throw notReady(kernel, name, lastDomains.get(name));
  lastDomains.set(name, disk.domain);
  const sizeBytes = disk.capacity * SECTOR_SIZE;
  let closed = false;
  let failure: BlockError | undefined; // the kernel was shut down
  const fail = (why: string) => (failure = new BlockError('ENODEV', `${name}: ${why}`));
  openDisks.add(fail);
  let inFlight = 0;

  const check = (offset: number, length: number, aligned: boolean): void => {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
      throw new BlockError('EINVAL', `${name}: offset and length must be non-negative integers (got ${offset}, ${length})`);
    if (offset + length > sizeBytes)
      throw new BlockError('ERANGE', `${name}: bytes ${offset}..${offset + length} are past the end of the disk (${sizeBytes} bytes)`);
    if (aligned && (offset % SECTOR_SIZE || length % SECTOR_SIZE))
      throw new BlockError('EINVAL', `${name}: writes must start and end on ${SECTOR_SIZE}-byte sector boundaries (offset ${offset}, length ${length})`);
  };

  /** Hands `reqs` to the kernel in one call (one batch into the driver); a promise per request. */
  const submit = (reqs: Request[]): Promise<Buffer | undefined>[] => {
    if (failure) throw failure;
    if (closed) throw new BlockError('ECLOSED', `${name}: closed`);
    if (reqs.length === 0) return [];
    let ids: number[];
    try {
      ids = n.blockSubmit(name, reqs.map((r) => [r.kind, r.sector, r.arg]));
    } catch (e) {
      const err = e as Error & { code?: string };
      throw err.code === 'ENOTREADY' ? notReady(kernel, name, lastDomains.get(name)) : new BlockError((err.code ?? 'EIO') as BlockErrorCode, err.message);
    }
    inFlight += ids.length;
    return ids.map((id) => new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        inFlight--;
      };
      const timer = setTimeout(() => {
        if (!waiting.delete(id)) return;
        done();
        reject(new BlockError('ETIMEDOUT', `${name}: no completion within ${timeoutMs} ms: the device or its driver is stuck`));
      }, timeoutMs).unref();
      waiting.set(id, { name, resolve: (d) => (done(), resolve(d)), reject: (e) => (done(), reject(e)) });
    }));
  };

  // Each operation as a request (or nothing to do), and what its result becomes.
  const plan = (o: BlockOp, i: number): { req?: Request; result: (data: Buffer | undefined) => Buffer | undefined } => {
    if (typeof o !== 'object' || o === null) throw arg.refuse(`operation ${i}`, 'an object { op, ... }', o);
    if (!['read', 'write', 'flush'].includes(o.op)) throw arg.refuse(`the op of operation ${i}`, "'read', 'write' or 'flush'", o.op);
    if (o.op === 'flush') return { req: { kind: OP_FLUSH, sector: 0 }, result: () => undefined };
    if (o.op === 'write') {
      if (!Buffer.isBuffer(o.data)) throw new BlockError('EINVAL', `${name}: write data must be a Buffer`);
      check(o.offset, o.data.length, true);
      return { req: o.data.length ? { kind: OP_WRITE, sector: o.offset / SECTOR_SIZE, arg: o.data } : undefined, result: () => undefined };
    }
    check(o.offset, o.length, false);
    const first = Math.floor(o.offset / SECTOR_SIZE);
    const end = Math.ceil((o.offset + o.length) / SECTOR_SIZE);
    const skip = o.offset - first * SECTOR_SIZE;
    return {
      req: end > first ? { kind: OP_READ, sector: first, arg: end - first } : undefined,
      result: (data) => (!data ? Buffer.alloc(0) : skip === 0 && data.length === o.length ? data : data.subarray(skip, skip + o.length)),
    };
  };

  /** Many operations, one submission; settles when all have, rejects with the first error. */
  const submitAll = async (ops: BlockOp[]): Promise<(Buffer | undefined)[]> => {
    const plans = arg.array(ops, 'submitAll(ops)').map((o, i) => plan(o as BlockOp, i));
    const reqs = plans.flatMap((p) => (p.req ? [p.req] : []));
    const pending = submit(reqs);
    let next = 0;
    return Promise.all(plans.map((p) => (p.req ? pending[next++] : Promise.resolve(undefined)).then(p.result)));
  };

  const one = async (o: BlockOp) => (await submitAll([o]))[0];
  return {
    name,
    sizeBytes,
    read: async (offset, length) => (await one({ op: 'read', offset, length }))!,
    write: async (offset, data) => void (await one({ op: 'write', offset, data })),
    flush: async () => void (await one({ op: 'flush' })),
    submitAll,
    get inFlight() {
      return inFlight;
    },
    close() {
      closed = true;
      openDisks.delete(fail);
    },
  };
}
