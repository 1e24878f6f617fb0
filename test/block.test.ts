// The block class end to end: the emulated queue-based disk (native/classes/
// block/model.cc), its driver (drivers/blk), the class's request queue and
// the promise API (lib/classes/block.ts), and the database-like application.
// Recovery here is plain Nooks (shadow: false): requests in flight fail; the
// shadow driver is test/block-shadow.test.ts. Runs in the default isolation ('pkey' where it can run, else 'mprotect').
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDb } from '../lib/apps/db.js';
import { BlockError, defaultPolicy, Kernel, openBlock, type BlockDevice, type Driver } from '../lib/index.js';
import { pattern } from './helpers/data.js';
import { logEvents, rejectionOf, until, suiteIsolation } from './helpers/util.js';

const SIZE = 8 << 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the block class', () => {
  let kernel: Kernel;
  let drv: Driver;
  let disk: BlockDevice;
  let dir: string;
  let image: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-blk-'));
    image = join(dir, 'disk.img');
    kernel = await Kernel.boot({
      isolation: suiteIsolation,
      policy: { default: { ...defaultPolicy.default, shadow: false, maxFailures: 3, timeBudgetMs: 2_000, memLimitBytes: 16 << 20 }, drivers: new Map() },
    });
    expect(kernel.addDevice('blk', { image, size: SIZE })).toMatchObject({ name: 'blk0', kind: 'blk', driver: null });
    // a device with no driver: not ready, said clearly
    expect(() => openBlock(kernel, 'blk0')).toThrow(expect.objectContaining({ code: 'ENOTREADY', message: expect.stringContaining('blk0') }));
    expect(() => openBlock(kernel, 'blk7')).toThrow(expect.objectContaining({ code: 'ENODEV' }));
    drv = await kernel.load('blk');
    disk = openBlock(kernel, 'blk0');
  });
  // the driver's work so far, from its taps and its domain
  const domain = () => kernel.domains().find((d) => d.id === drv.id)!;
  const tap = (table: string, name: string) => drv.taps().find((t) => t.table === table && t.name === name) ?? { calls: 0, crossings: 0 };
  const counts = () => ({
    batches: tap('blk_disk_ops', 'submit').crossings,
    submitCalls: tap('blk_disk_ops', 'submit').calls,
    commits: tap('blk_disk_ops', 'commit').calls,
    ioWrites: tap('kapi', 'nooks_io_write').calls,
    spinLocks: tap('kapi', 'spin_lock').calls,
    interrupts: domain().interrupts,
    recoveries: domain().recoveries,
  });
  const submitsMade = () => Number(drv.call('submits')); // by the driver's own count
  const since = (before: ReturnType<typeof counts>) => {
    const now = counts();
    return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - before[k as keyof typeof now]])) as typeof now;
  };

  afterAll(async () => {
    await kernel?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers a disk for the device, and tracks it with the requests\' DMA memory', () => {
    expect(drv.call('bound')).toBe(1);
    expect(disk.sizeBytes).toBe(SIZE);
    const types = drv.objects().map((o) => o.type);
    expect(types).toContain('blkdev');
    expect(types.filter((t) => t === 'dma')).toHaveLength(3); // the two rings and the class's request pool
    expect(kernel.devices()[0]).toMatchObject({ name: 'blk0', driver: 'blk' });
  });

  it('reads back what was written, at several sizes (one request, many, unaligned reads)', async () => {
    const cases: [number, number][] = [[0, 512], [4096, 4096], [65536, 32768], [1 << 20, 200 * 1024], [SIZE - 1024, 1024]];
    for (const [offset, length] of cases) {
      const data = pattern(length, offset);
      await disk.write(offset, data);
      expect((await disk.read(offset, length)).equals(data)).toBe(true);
    }
    // byte-granular reads inside what was written
    const whole = pattern(4096, 4096);
    expect((await disk.read(4096 + 7, 1000)).equals(whole.subarray(7, 1007))).toBe(true);
    expect((await disk.read(4096 + 511, 2)).equals(whole.subarray(511, 513))).toBe(true);
    expect(await disk.read(100, 0)).toHaveLength(0);
  });

  it('moves one operation of more requests than the queue holds: its later requests go in as the earlier complete', async () => {
    const length = 4 << 20; // 128 requests of 32 KiB, 32 slots: an interrupt may complete requests and no operation
    const data = pattern(length, 3);
    await disk.write(0, data);
    expect((await disk.read(0, length)).equals(data)).toBe(true);
  });

  it('keeps many requests in flight: 64 concurrent writes, then 64 concurrent reads', async () => {
    const chunk = 16 * 1024;
    const base = 2 << 20;
    const datas = Array.from({ length: 64 }, (_, i) => pattern(chunk, 1000 + i));
    expect(drv.call('plug', 1)).toBe(0); // hold them all in the driver's ring first
    const writes = datas.map((d, i) => disk.write(base + i * chunk, d));
    expect(disk.inFlight).toBe(64);
    expect(drv.call('plug', 0)).toBe(0);
    await Promise.all(writes);
    const back = await Promise.all(datas.map((_, i) => disk.read(base + i * chunk, chunk)));
    expect(back.map(sha)).toEqual(datas.map(sha));
    // the same through submitAll, mixed
    const res = await disk.submitAll([
      { op: 'write', offset: 0, data: pattern(1024, 9) },
      { op: 'read', offset: base, length: chunk },
      { op: 'flush' },
    ]);
    expect(res[0]).toBeUndefined();
    expect(sha(res[1]!)).toBe(sha(datas[0]));
  });

  it('flushes to the image file (fsync): its bytes are what was written', async () => {
    const data = pattern(8192, 77);
    await disk.write(3 << 20, data);
    await disk.flush();
    const onDisk = readFileSync(image).subarray(3 << 20, (3 << 20) + 8192);
    expect(onDisk.equals(data)).toBe(true);
  });

  it('gives clear errors for bad offsets and unaligned writes', async () => {
    expect(await rejectionOf(disk.read(SIZE - 512, 1024), BlockError)).toMatchObject({ code: 'ERANGE' });
    expect(await rejectionOf(disk.write(SIZE, Buffer.alloc(512)), BlockError)).toMatchObject({ code: 'ERANGE' });
    expect(await rejectionOf(disk.read(-1, 10), BlockError)).toMatchObject({ code: 'EINVAL' });
    expect(await rejectionOf(disk.write(100, Buffer.alloc(512)), BlockError)).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('offset 100') });
  });

  it('runs the database-like application: random writes, flushes, every record verified', async () => {
    const report = await runDb(disk, { records: 2048, rounds: 6, writesPerRound: 200 });
    expect(report).toMatchObject({ ok: true, mismatches: 0, writes: 1200, flushes: 6 });
    expect(report.verified).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(report)).ok).toBe(true);
  });

  it('contains a wild DMA address: the request fails with EIO, the device reports it, the driver keeps running', async () => {
    const errors = kernel.devices()[0].errors;
    expect(drv.call('wild_dma', 0x12345678)).toBe(0);
    const e = await rejectionOf(disk.write(0, Buffer.alloc(4096, 0xee)), BlockError);
    expect(e.code).toBe('EIO');
    expect(kernel.devices()[0].errors).toBe(errors + 1);
    expect(logEvents(kernel, 'device-error')).toContainEqual({ kind: 'device-error', device: 'blk0', dma: 'read', bytes: 4096, address: '0x12345678' });
    expect(drv.state).toBe('running');
    await disk.write(0, pattern(4096, 5));
    expect((await disk.read(0, 4096)).equals(pattern(4096, 5))).toBe(true);
  });

  // blk-mq's commit_rqs: the driver's submits only write ring entries; its commit, last in the crossing, rings the doorbell
  describe('a batch of submits, then one commit', () => {

    it('rings the doorbell once per batch, and takes the driver\'s lock once for it', async () => {
      const before = counts();
      // the disk is idle: its 32 request slots are free, and the 32 submits go in one crossing
      await disk.submitAll(Array.from({ length: 32 }, (_, i) => ({ op: 'write' as const, offset: i * 4096, data: pattern(4096, i) })));
      const d = since(before);
      expect(d).toMatchObject({ batches: 1, commits: 1, recoveries: 0 });
      // the interrupt handler takes the lock once a run and writes the device twice at most (its ack, its CQ head);
      // the rest is commit's: one lock pair and one doorbell for the 32 requests, where each submit took and rang its own
      expect(d.spinLocks).toBe(d.batches + d.interrupts);
      expect(d.ioWrites - d.batches).toBeGreaterThanOrEqual(d.interrupts);
      expect(d.ioWrites - d.batches).toBeLessThanOrEqual(2 * d.interrupts);
      expect((await disk.read(0, 32 * 4096)).equals(Buffer.concat(Array.from({ length: 32 }, (_, i) => pattern(4096, i))))).toBe(true);
    });

    it('starts the requests before a refused one (-EBUSY mid-batch): it is given again after their completions, no stall', async () => {
      const data = pattern(128 * 1024, 7); // 4 requests of 32 KiB, in one batch
      expect(drv.call('fail_submit_after', 2, -16)).toBe(0); // the third submit: -EBUSY
      const [before, madeBefore] = [counts(), submitsMade()];
      await disk.write(64 * 1024, data);
      const d = { ...since(before), submitsMade: submitsMade() - madeBefore };
      expect(d).toMatchObject({ batches: 2, commits: 2, recoveries: 0 }); // the refused one, alone, after the others completed
      // the taps count the submits made: the fourth, not made after the refusal, counts once, when made again
      expect(d).toMatchObject({ submitsMade: 5, submitCalls: 5 });
      expect((await disk.read(64 * 1024, data.length)).equals(data)).toBe(true);
    });

    // Before: the submits after the refused one were made, and it went back to the head of the queue: the second
    // write to a sector landed first, the first (given again) over it.
    // 0xfffffff0: the register an int function's `return -EBUSY` leaves (mov $-16, %eax: the upper half zero), as
    // blk's own refusals do; the hook's -16 comes back sign-extended from its long field.
    it.each([['-EBUSY sign-extended', -16], ['-EBUSY as an int function leaves it', 0xfffffff0]])('lets no request overtake one refused %s: a later write to its sector lands last', async (_how, busy) => {
      expect(drv.call('fail_submit_after', 1, busy)).toBe(0); // the second submit: -EBUSY (the first in flight: its completion)
      const [before, madeBefore] = [counts(), submitsMade()];
      const writes = [pattern(4096, 0), pattern(4096, 1), pattern(4096, 2)].map((data, i) => ({ op: 'write' as const, offset: i ? 0 : 64 * 1024, data }));
      await disk.submitAll(writes);
      const d = { ...since(before), submitsMade: submitsMade() - madeBefore };
      expect(d).toMatchObject({ batches: 2, recoveries: 0 });
      expect(d.submitCalls).toBe(d.submitsMade); // not the third, which the refusal stopped before it was made
      expect((await disk.read(0, 4096)).equals(pattern(4096, 2))).toBe(true);
    });

    it('starts the requests around one the driver fails (-EIO mid-batch): the operation fails when they are done, no stall', async () => {
      expect(drv.call('fail_submit_after', 1, -5)).toBe(0); // the second submit: -EIO
      const before = counts();
      // the operation fails once all its requests finished: the first, third and fourth completed on the device
      const e = await rejectionOf(disk.write(0, pattern(128 * 1024, 8)), BlockError);
      expect(e).toMatchObject({ code: 'EIO', message: expect.stringContaining('refused the request (error -5 (EIO))') });
      expect(since(before)).toMatchObject({ batches: 1, commits: 1, recoveries: 0 });
      expect((await disk.read(96 * 1024, 32 * 1024)).equals(pattern(128 * 1024, 8).subarray(96 * 1024))).toBe(true); // the last one was written
    });
  });

  it('wakes JavaScript once per interrupt handler run, not at its first completion: the freed slots refill in one crossing', async () => {
    // 64 writes: 32 held in the driver's ring (plugged), 32 waiting in the class for a slot
    expect(drv.call('plug', 1)).toBe(0);
    const writes = Array.from({ length: 64 }, (_, i) => ({ op: 'write' as const, offset: i * 4096, data: pattern(4096, 100 + i) }));
    let finished = false;
    const done = disk.submitAll(writes).finally(() => (finished = true));
    expect(disk.inFlight).toBe(64);
    // the handler waits for the test's step before each completion after its first, and before each step the
    // event loop turns twice (its poll phase, where a wake is delivered, between): woken at a completion,
    // JS would refill the slot it freed, a crossing for each, before the next completion comes
    expect(drv.call('complete_stepped', 1)).toBe(0);
    const before = counts();
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    let steps = 0;
    expect(drv.call('plug', 0)).toBe(0);
    for (;;) {
      await until(() => finished || drv.call('step_waiting') === 1, 'the handler waiting for its step, or the writes done');
      if (finished) break;
      await turn();
      await turn();
      expect(drv.call('complete_step')).toBe(1);
      steps++;
    }
    await done;
    expect(drv.call('complete_stepped', 0)).toBe(0);
    const d = since(before);
    expect(d.recoveries).toBe(0);
    expect(steps).toBeGreaterThanOrEqual(64 - d.interrupts); // every completion but a run's first waited for its step
    // the 32 waiting requests went in after handler runs, all the slots each freed at once: no more crossings than runs
    expect(d.batches).toBeGreaterThanOrEqual(1);
    expect(d.batches).toBeLessThanOrEqual(d.interrupts);
    expect(d.interrupts).toBeLessThan(16);
    expect((await disk.read(0, 64 * 4096)).equals(Buffer.concat(writes.map((w) => w.data)))).toBe(true);
  });

  it('a refused blk device leaves no image it created behind, and one that was there as it was', async () => {
    const refused = (options: Record<string, string | number>) => {
      try {
        kernel.addDevice('blk', options);
      } catch (e) {
        return e as Error & { code: string };
      }
      throw new Error('added');
    };
    const made = join(dir, 'refused.img');
    expect(refused({ image: made })).toMatchObject({ code: 'EINVAL', message: `blk: image '${made}' is empty: give a 'size'` });
    expect(existsSync(made)).toBe(false);
    // 2^63 bytes: past what an off_t holds, on any file system
    expect(refused({ image: made, size: '9223372036854775808' })).toMatchObject({ code: 'EINVAL', message: expect.stringContaining(`blk: cannot size image '${made}'`) });
    expect(existsSync(made)).toBe(false);
    const there = join(dir, 'there.img');
    writeFileSync(there, '');
    expect(refused({ image: there })).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('is empty') });
    expect(readFileSync(there)).toHaveLength(0); // not created here: left alone
    // a symlink to a file not made yet opens it, as before O_EXCL came (then: 'cannot open image ... No such file');
    // refused for its size, the file it made is kept: a symlink's target is not known to be the device's own
    const target = join(dir, 'target.img');
    const link = join(dir, 'link.img');
    symlinkSync(target, link);
    expect(refused({ image: link })).toMatchObject({ code: 'EINVAL', message: `blk: image '${link}' is empty: give a 'size'` });
    expect(existsSync(target)).toBe(true);
  });

  it('times out an operation the device never completes, instead of hanging', async () => {
    const impatient = openBlock(kernel, 'blk0', { timeoutMs: 100 });
    expect(drv.call('plug', 1)).toBe(0); // the driver never rings the doorbell: nothing completes
    const e = await rejectionOf(impatient.write(8192, pattern(512, 3)), BlockError);
    expect(e).toMatchObject({ code: 'ETIMEDOUT', message: expect.stringMatching(/^blk0: .*\b100 ms\b/) }); // names the disk and the timeout
    expect(impatient.inFlight).toBe(0);
    expect(drv.call('plug', 0)).toBe(0); // the late completion is dropped; the disk goes on
    await disk.write(8192, pattern(512, 4));
    expect((await disk.read(8192, 512)).equals(pattern(512, 4))).toBe(true);
  });

  it('fails the requests in flight when the driver is recovered, and works again after', async () => {
    // the driver holds its requests (no doorbell) so that they are in flight when it fails
    expect(drv.call('plug', 1)).toBe(0);
    const big = 256 * 1024; // 8 requests each: 32 in the driver, the rest waiting in the class
    const ops = Array.from({ length: 32 }, (_, i) => disk.write(i * big, pattern(big, i)));
    const settled = Promise.allSettled(ops);
    expect(disk.inFlight).toBe(32);
    drv.recover(); // synchronous: teardown and restart
    const results = await settled;
    results.forEach((r, i) => {
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason as BlockError;
      expect(e).toBeInstanceOf(BlockError);
      expect(e.code).toBe('EDRIVERFAILED');
      expect(e.message).toMatch(/^blk0: .*\bblk\b/); // names the disk and its driver
      // the first 4 operations' 32 requests were in the driver; the others never reached it, and say so
      expect(e.message, `operation ${i}`).toContain(i < 4 ? 'while the request was in flight' : 'while the request waited in the class\'s queue (it never reached the driver');
    });
    expect(logEvents(kernel, 'shadow-kept')).toEqual([]); // plain Nooks: nothing kept for the restart
    expect(drv.state).toBe('running');
    expect(drv.call('bound')).toBe(1);
    // the same handle works with the restarted driver
    await disk.write(4096, pattern(8192, 42));
    expect((await disk.read(4096, 8192)).equals(pattern(8192, 42))).toBe(true);
    await disk.flush();
  });

  it('fails the requests of a driver that faults in submit (on the application\'s thread), restarted by the agent', async () => {
    expect(drv.call('crash_next_submit')).toBe(0);
    const e = await rejectionOf(disk.write(0, pattern(4096, 1)), BlockError);
    expect(e.code).toBe('EDRIVERFAILED');
    await until(() => kernel.events().some((x) => x.event === 'recovered' && x.fault?.kind === 'segv'), 'the agent\'s restart');
    expect(drv.state).toBe('running');
    await disk.write(0, pattern(4096, 2));
    expect((await disk.read(0, 4096)).equals(pattern(4096, 2))).toBe(true);
  });

  it('says so when the driver is disabled: not ready, no hang', async () => {
    for (let i = 0; i < 4 && drv.state !== 'disabled'; i++) drv.recover(); // past the policy's maxFailures (3)
    expect(drv.state).toBe('disabled');
    const e = await rejectionOf(disk.read(0, 512), BlockError);
    expect(e.code).toBe('ENOTREADY');
    expect(e.message).toContain('disabled'); // says why: the driver's state
    expect(() => openBlock(kernel, 'blk0')).toThrow(expect.objectContaining({ code: 'ENOTREADY', message: expect.stringContaining('disabled') }));
    disk.close();
    expect((await rejectionOf(disk.flush(), BlockError)).code).toBe('ECLOSED');
  });
});
