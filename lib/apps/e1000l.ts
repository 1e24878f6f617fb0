// The libc-style e1000 driver (drivers/e1000-libc) called from JavaScript as
// the library it is (drivers/e1000-libc/e1000l.h): its handle, frames in and
// out as arrays of struct e1000l_frame, the NIC's counters. Made again after
// a recovery: a library-style driver is back to its freshly loaded state.
import type { Driver } from '../kernel.js';
import { ETHERTYPE } from './net-proto.js';

export const E1000L_FRAME = 1516; // struct e1000l_frame: uint16_t len, uint8_t data[1514]
const STATS = 5 * 8; // struct e1000l_stats: five uint64_t

export interface E1000lStats {
  rxFrames: number;
  rxBytes: number;
  txFrames: number;
  txBytes: number;
  rxMissed: number;
}

/** Frame `seq` from `src` to `dst`: a local experimental ethertype, its number, a pattern; `len` bytes. */
export function numberedFrame(src: Buffer, dst: Buffer, seq: number, len = 60 + (seq % 40) * 30): Buffer {
  const f = Buffer.alloc(len);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(ETHERTYPE, 12);
  f.writeUInt32BE(seq, 14);
  for (let i = 18; i < len; i++) f[i] = (seq * 31 + i * 7) & 0xff;
  return f;
}

/** An array of struct e1000l_frame. */
export function e1000lFrames(frames: readonly Buffer[]): Buffer {
  const b = Buffer.alloc(E1000L_FRAME * frames.length);
  frames.forEach((f, i) => {
    b.writeUInt16LE(f.length, E1000L_FRAME * i);
    f.copy(b, E1000L_FRAME * i + 2);
  });
  return b;
}

/** The NIC at `address`, opened by the driver (e1000l_open), with buffers for `batch` frames each way. */
export class E1000l {
  readonly handle: bigint;
  private readonly tx: number;
  private readonly rx: number;

  constructor(readonly drv: Driver, address: string, readonly batch = 32) {
    this.handle = BigInt(drv.call('e1000l_open', drv.cstring(address)));
    this.tx = drv.alloc(E1000L_FRAME * batch);
    this.rx = drv.alloc(E1000L_FRAME * batch);
  }

  /** Queues up to `batch` frames; returns how many the driver took. */
  send(frames: readonly Buffer[]): number {
    this.drv.write(this.tx, e1000lFrames(frames.slice(0, this.batch)));
    return Number(this.drv.call('e1000l_tx_batch', this.handle, this.tx, Math.min(frames.length, this.batch)));
  }

  /** The frames received since the last call, up to `batch`. */
  receive(): Buffer[] {
    const n = Number(this.drv.call('e1000l_rx_batch', this.handle, this.rx, this.batch));
    const b = this.drv.read(this.rx, E1000L_FRAME * n);
    return Array.from({ length: n }, (_, i) => b.subarray(E1000L_FRAME * i + 2, E1000L_FRAME * i + 2 + b.readUInt16LE(E1000L_FRAME * i)));
  }

  /** The NIC's counters, summed since open. */
  stats(): E1000lStats {
    const st = this.drv.alloc(STATS);
    try {
      this.drv.call('e1000l_stats', this.handle, st);
      const b = this.drv.read(st, STATS);
      const [rxFrames, rxBytes, txFrames, txBytes, rxMissed] = [0, 1, 2, 3, 4].map((i) => Number(b.readBigUInt64LE(8 * i)));
      return { rxFrames, rxBytes, txFrames, txBytes, rxMissed };
    } finally {
      this.drv.free(st);
    }
  }

  /** The station address (RAL0/RAH0). */
  mac(): Buffer {
    const out = this.drv.alloc(6);
    try {
      this.drv.call('e1000l_mac', this.handle, out);
      return this.drv.read(out, 6);
    } finally {
      this.drv.free(out);
    }
  }

  linkUp(): boolean {
    return Number(this.drv.call('e1000l_link_up', this.handle)) === 1;
  }
}
