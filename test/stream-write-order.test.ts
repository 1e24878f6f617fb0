// Writes on one stream go out whole, in the order they were called, as a Node
// stream's do: a write that does not fit in the kernel's queue waits for room,
// and a write made meanwhile waits behind it. The later write is made once the
// device has moved some of the earlier one (progress), before the room the
// earlier one waits for is there. Before, each write looped on its own ("write
// what fits, wait for an event") and the later one took the room first: pcm
// played [1000, 24000], [2000, 960], [1000, 12000], serial sent [A, 4096],
// [B, 80], [A, 1904], [B, 120].
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { WritesInOrder } from '../lib/classes/common.js';
import { Kernel, openPcm, openSerial } from '../lib/index.js';
import { readWav } from '../lib/apps/wav.js';
import { ptyPair } from '../lib/testing.js';
import { Far } from './helpers/far-end.js';
import { suiteIsolation, until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-write-order-'));
let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  kernel = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `values` as runs of equal values: [value, how many]. */
function runs<T>(values: Iterable<T>): [T, number][] {
  const out: [T, number][] = [];
  for (const v of values) {
    const last = out[out.length - 1];
    if (last && last[0] === v) last[1]++;
    else out.push([v, 1]);
  }
  return out;
}

it('pcm: a write made while an earlier one waits for room in the queue is played after it, whole', async () => {
  kernel = await Kernel.boot({ isolation: suiteIsolation });
  const played = join(dir, 'played.wav');
  kernel.addDevice('pcm', { playback: played });
  await kernel.load('pcm');
  const pcm = openPcm(kernel, 'pcm0', { rate: 48000, channels: 1 });
  // mono frames of one sample value: the first 0.75 s (the kernel's queue holds 0.5 s), the second 20 ms
  const frames = (n: number, value: number) => Buffer.from(new Int16Array(n).fill(value).buffer);
  const first = pcm.write(frames(36_000, 1000));
  await until(() => pcm.status().framesDone > 0, 'the first frames played'); // room in the queue, not yet the half the first waits for
  const second = pcm.write(frames(960, 2000));
  await Promise.all([first, second]);
  await pcm.drain();
  pcm.close();
  const data = readWav(played).data;
  expect(runs(new Int16Array(data.buffer, data.byteOffset, data.length / 2))).toEqual([[1000, 36_000], [2000, 960]]);
});

it('serial: a write made while an earlier one waits for room in the kernel is sent after it, whole', async () => {
  kernel = await Kernel.boot({ isolation: suiteIsolation });
  const pty = ptyPair();
  let far: Far | undefined;
  try {
    kernel.addDevice('uart16550', { tty: pty.a });
    await kernel.load('uart16550');
    far = await Far.open(pty.b);
    const port = openSerial(kernel, 'ttyS0', { baudRate: 115200 });
    const first = port.write(Buffer.alloc(6000, 'A')); // the kernel takes 4 KiB; the rest waits until half is sent
    await until(() => far!.received.length > 0, 'the first bytes at the far end'); // room, not yet the half
    const second = port.write(Buffer.alloc(200, 'B'));
    await Promise.all([first, second]);
    expect(runs((await far.take(6200)).toString())).toEqual([['A', 6000], ['B', 200]]);
    await port.close();
  } finally {
    await far?.close();
    pty.close();
  }
});

// Before: a write that threw at once threw from run(), and the queue stayed in flight for ever: the next write never ran.
it('WritesInOrder: a write that throws at once rejects its promise, and the next write runs', async () => {
  const writes = new WritesInOrder();
  const refused = writes.run(() => {
    throw new Error('refused at once');
  });
  await expect(refused).rejects.toThrow('refused at once');
  await expect(writes.run(async () => 'the next write')).resolves.toBe('the next write');
});
