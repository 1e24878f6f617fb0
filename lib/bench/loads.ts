// The loads of the device-class benchmarks, each on a device the caller has
// opened: the class benches (classes.ts) run them on the built-in drivers, and
// a user's bench module (the `nooks new --class` templates' bench.mjs, under
// `nooks bench driver`) on its own driver, through the public API. Each runs
// on its own, gives the event loop back between batches, and counts in done()
// what completed; stop() ends it and closes what it was given.
//
// Data goes through the classes' batched APIs, never a frame or a block per
// crossing into JavaScript: net send() takes 256 frames a call, block
// submitAll() 32 operations, sound and serial write() 100 ms and 4 KiB.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlockDevice, BlockOp } from '../classes/block.js';
import { nicWire, type NetInterface } from '../classes/net.js';
import type { SerialPort } from '../classes/serial.js';
import type { PcmPlayback } from '../classes/sound.js';

/** A load running on a booted kernel. */
export interface Load {
  /** Units completed so far (frames, operations, bytes). */
  done(): number;
  /** Stops the load and lets what is in flight settle (the kernel is still up); throws if the load failed. */
  stop(): Promise<void>;
}

/**
 * Runs `step` again and again until stop(). stop(interrupt) ends the step in
 * progress (by closing what it waits on) and waits for it; a failure before
 * stop() is thrown there, the interrupted step's own error is expected.
 */
export function repeat(step: () => Promise<unknown>): { stop(interrupt?: () => void): Promise<void> } {
  let running = true;
  let failure: { error: unknown } | undefined;
  const loop = (async () => {
    try {
      while (running) await step();
    } catch (error) {
      if (running) failure = { error };
    }
  })();
  return {
    async stop(interrupt) {
      running = false;
      interrupt?.();
      await loop;
      if (failure) throw failure.error;
    },
  };
}

// ---- net ---------------------------------------------------------------------

export const FRAME_BYTES = 64;
export const SEND_BATCH = 256;
export const NET_WAITING = 4096; // frames kept waiting in the kernel (its queue holds 8192)

/** A ${FRAME_BYTES}-byte frame from `src` to `dst` (MAC addresses), of a local experimental EtherType. */
export function frame(dst: string, src: string): Buffer {
  const f = Buffer.alloc(FRAME_BYTES, 0x5a);
  Buffer.from(`${dst}:${src}`.split(':').map((b) => parseInt(b, 16))).copy(f);
  f.writeUInt16BE(0x88b5, 12);
  return f;
}

/**
 * Frames sent through `eth` (open, link up) to `dst` (default: broadcast),
 * ${SEND_BATCH} per send() (send() copies: one buffer serves every slot), at
 * most a queue's worth per millisecond: where the driver drains frames as fast
 * as they come (in another process under 'process'), an unbounded top-up would
 * never give the event loop back. On an emulated NIC, about ${NET_WAITING} are
 * kept waiting, from the NIC's own count of frames gone to the wire (no
 * crossing): the driver never runs dry and no frame is refused for a full
 * queue; on a real one, batches until the kernel's queue takes no more.
 * done(): the frames the driver reports transmitted. stop() closes `eth`.
 */
export function netSendLoad(eth: NetInterface, dst = 'ff:ff:ff:ff:ff:ff'): Load {
  const info = eth.info();
  const batch = new Array<Buffer>(SEND_BATCH).fill(frame(dst, info.mac ?? '52:54:00:12:34:56'));
  const emulated = nicWire(info.device) !== null;
  const waiting = () => {
    const w = nicWire(info.device)!;
    return accepted - (w.framesSent + w.framesDropped);
  };
  let accepted = 0;
  const sender = repeat(async () => {
    for (let k = 0; k < NET_WAITING / SEND_BATCH && (!emulated || waiting() < NET_WAITING); k++) {
      const n = eth.send(batch);
      accepted += n;
      if (n < batch.length) break;
    }
    await sleep(1);
  });
  return {
    done: () => eth.stats().driver?.txPackets ?? 0,
    async stop() {
      try {
        await sender.stop();
      } finally {
        eth.close();
      }
    },
  };
}

// ---- block -------------------------------------------------------------------

export const BLOCK_BYTES = 4096;
export const BLOCK_BATCH = 32; // operations per submitAll()
export const BLOCK_LANES = 4; // submitAll() batches in flight at once: 128 operations

/**
 * Random ${BLOCK_BYTES}-byte reads and writes (half each) at aligned offsets of
 * the first `bytes` of `disk`, ${BLOCK_LANES} submitAll() batches of
 * ${BLOCK_BATCH} in flight: while one completes and is replaced, the others
 * keep the driver busy. done(): the requests completed. stop() closes `disk`.
 */
export function blockLoad(disk: BlockDevice, bytes: number): Load {
  const data = Buffer.alloc(BLOCK_BYTES, 0x5a);
  const offset = () => Math.floor(Math.random() * Math.floor(bytes / BLOCK_BYTES)) * BLOCK_BYTES;
  let completed = 0;
  const lanes = Array.from({ length: BLOCK_LANES }, () =>
    repeat(async () => {
      const ops = Array.from({ length: BLOCK_BATCH }, (_, i): BlockOp =>
        i % 2 ? { op: 'read', offset: offset(), length: BLOCK_BYTES } : { op: 'write', offset: offset(), data });
      await disk.submitAll(ops);
      completed += ops.length;
    }));
  return {
    done: () => completed,
    async stop() {
      try {
        await Promise.all(lanes.map((l) => l.stop()));
      } finally {
        disk.close();
      }
    },
  };
}

// ---- sound -------------------------------------------------------------------

/**
 * Silence played through `pcm`, 100 ms per write(), which waits for room in
 * the kernel's queue: paced by the device, in real time. done(): the frames
 * the device consumed. stop() closes `pcm`.
 */
export function pcmPlaybackLoad(pcm: PcmPlayback): Load {
  const chunk = Buffer.alloc((pcm.rate / 10) * pcm.frameBytes); // the samples do not matter
  const writer = repeat(() => pcm.write(chunk));
  return {
    done: () => pcm.status().framesDone,
    stop: () => writer.stop(() => pcm.close()), // close() ends the write waiting for room
  };
}

// ---- serial ------------------------------------------------------------------

export const SERIAL_CHUNK = 4096;
export const FAR_READ_MS = 10;

/**
 * Bytes written to `port`, ${SERIAL_CHUNK / 1024} KiB per write() (which
 * waits for room in the kernel's 4 KiB buffer), whose line is end `a` of the
 * pty pair `line`; end `b` is read every ${FAR_READ_MS} ms from a non-blocking
 * fd (the pty is raw). A reader woken per arrival (the serialport package, a
 * tty stream) runs about once per character at 115200 baud and costs more CPU
 * than the driver's whole data path. done(): the bytes that crossed the pty.
 * stop() closes `port` and the pair.
 */
export function serialSendLoad(port: SerialPort, line: { b: string; close(): void }): Load {
  const far = openSync(line.b, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(64 * 1024);
  let received = 0;
  const drain = (): number => {
    for (;;) {
      try {
        const n = readSync(far, buf);
        if (n <= 0) return received;
        received += n;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return received;
        throw e;
      }
    }
  };
  const reader = repeat(async () => {
    drain();
    await sleep(FAR_READ_MS);
  });
  const chunk = Buffer.alloc(SERIAL_CHUNK, 0x55);
  const writer = repeat(() => port.write(chunk));
  return {
    done: drain,
    async stop() {
      try {
        await writer.stop(() => port.closeNow()); // closeNow() ends the write waiting for room
        await reader.stop();
      } finally {
        closeSync(far);
        line.close(); // before the kernel's shutdown: the UART model takes a hung-up line for a far end gone
      }
    },
  };
}
