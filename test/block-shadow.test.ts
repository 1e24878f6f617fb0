// The block class's shadow driver (native/shadow, native/classes/block): a
// shadowed blk driver fails and is restarted under applications that keep
// their handles and lose no request: what was in flight is resubmitted to the
// restarted driver, what arrives meanwhile queues. A deterministic bug (one
// that is back after every restart) ends with the policy giving up, and the
// shadow failing what it kept with the reason.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDb } from '../lib/apps/db.js';
import { BlockError, defaultPolicy, Kernel, openBlock, type BlockDevice, type BlockOp, type Driver } from '../lib/index.js';
import { driverPath } from '../lib/paths.js';
import { ProgressFaults } from './helpers/progress-faults.js';
import { pattern } from './helpers/data.js';
import { logEvents, recoveries, suiteIsolation, until } from './helpers/util.js';

describe('the block shadow driver', () => {
  let kernel: Kernel;
  let drv: Driver;
  let disk: BlockDevice;
  let dir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nooks-blk-shadow-'));
    kernel = await Kernel.boot({
      isolation: suiteIsolation,
      policy: { default: { ...defaultPolicy.default, maxFailures: 4, memLimitBytes: 16 << 20 }, drivers: new Map() },
    });
    kernel.addDevice('blk', { image: join(dir, 'disk.img'), size: 8 << 20 });
    drv = await kernel.load('blk');
    disk = openBlock(kernel, 'blk0');
  });
  afterEach(async () => {
    await kernel?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the requests in flight across a recovery: every write completes and reads back', async () => {
    expect(drv.call('plug', 1)).toBe(0); // the driver holds its requests: they are in flight when it fails
    const big = 256 * 1024; // 8 requests each: 32 in the driver, the rest waiting in the class
    const writes = Array.from({ length: 32 }, (_, i) => disk.write(i * big, pattern(big, i)));
    expect(disk.inFlight).toBe(32);
    drv.recover(); // teardown and restart; the restarted driver is not plugged
    await Promise.all(writes);
    expect(logEvents(kernel, 'shadow-kept')).toEqual([{ kind: 'shadow-kept', device: 'blk0', driver: 'blk', inFlight: 32, waiting: expect.any(Number) }]);
    for (let i = 0; i < 32; i++) expect((await disk.read(i * big, big)).equals(pattern(big, i)), `write ${i}`).toBe(true);
    await disk.flush();
    expect(drv.state).toBe('running');
  });

  // The class gives a request the lowest free slot, so a later request may sit in a lower slot than an earlier
  // one. Slots here: a write of 0x77 in slot 2, then `later` in slot 1, both in the plugged driver's ring when
  // it fails. The restarted driver must get them in that order: the later write lands last, the read sees the
  // write, the flush resolves after it (before, slot order: 77 on the disk, a read of 00, the flush first).
  it.each([
    ['a later write of the same sector', 'overwrite'],
    ['a read of that sector', 'read'],
    ['a flush', 'flush'],
  ] as const)('resubmits the requests in flight in the order they were submitted: a write, then %s', async (_what, later) => {
    const order: string[] = [];
    expect(drv.call('complete_stepped', 1)).toBe(0); // the interrupt handler completes one, then waits for a step
    const first = disk.submitAll([
      { op: 'write', offset: 0, data: pattern(512, 1) }, // slot 0: completed
      { op: 'write', offset: 512, data: pattern(512, 2) }, // slot 1: waits for the step
    ]);
    await until(() => drv.call('step_waiting') === 1, 'the handler waiting to complete slot 1');
    expect(drv.call('plug', 1)).toBe(0); // from here the driver keeps what it gets in its ring
    const other = disk.write(1024, pattern(512, 3)); // slot 0
    const write = disk.write(8192, Buffer.alloc(512, 0x77)).then(() => order.push('write')); // slot 2
    expect(drv.call('complete_step')).toBe(1);
    await first; // slot 1 free
    const second =
      later === 'overwrite'
        ? disk.write(8192, Buffer.alloc(512, 0x88)).then(() => order.push('overwrite'))
        : later === 'read'
          ? disk.read(8192, 512).then((b) => order.push(`read ${b[0].toString(16)}`))
          : disk.flush().then(() => order.push('flush'));
    expect(disk.inFlight).toBe(3);
    drv.recover(); // the restarted driver is neither plugged nor stepped
    await Promise.all([other, write, second]);
    expect(order).toEqual(['write', later === 'read' ? 'read 77' : later]);
    expect((await disk.read(8192, 512))[0].toString(16)).toBe(later === 'overwrite' ? '88' : '77');
    expect(logEvents(kernel, 'shadow-kept')).toEqual([{ kind: 'shadow-kept', device: 'blk0', driver: 'blk', inFlight: 3, waiting: 0 }]);
  });

  it('a fault in submit (on the application\'s thread): the request goes to the restarted driver', async () => {
    expect(drv.call('crash_next_submit')).toBe(0);
    await disk.write(0, pattern(4096, 7)); // faults the driver, then completes
    expect(kernel.events().map((e) => e.event)).toEqual(['fault', 'recovering', 'recovered']);
    expect(kernel.events()[0].fault?.kind).toBe('segv');
    expect((await disk.read(0, 4096)).equals(pattern(4096, 7))).toBe(true);
  });

  it('a fault mid-batch: the requests the driver took but never started (no commit ran) go to the restarted driver', async () => {
    const data = pattern(128 * 1024, 9); // 4 requests of 32 KiB, in one batch
    // the image as the restart begins (the agent restarts the driver right after telling of it)
    let atRestart: Buffer | undefined;
    kernel.on('recovering', () => (atRestart = readFileSync(join(dir, 'disk.img')).subarray(0, data.length)));
    expect(drv.call('crash_submit_after', 2)).toBe(0); // the third submit faults: the first two are in the ring, no doorbell
    await disk.write(0, data);
    expect(kernel.events().map((e) => e.event)).toEqual(['fault', 'recovering', 'recovered']);
    expect(logEvents(kernel, 'shadow-kept')).toEqual([{ kind: 'shadow-kept', device: 'blk0', driver: 'blk', inFlight: 4, waiting: 0 }]);
    // the device had started none of them, the two the driver took included: commit, which rings the doorbell, never ran
    expect(atRestart?.equals(Buffer.alloc(data.length)), 'the batch\'s sectors untouched when the restart began').toBe(true);
    // so the restarted driver wrote them all
    expect((await disk.read(0, data.length)).equals(data)).toBe(true);
  });

  it('the db application completes verified across three driver failures at random moments', async () => {
    // armed after a random number of requests (of 2560 writes), and again after each recovery: three failures,
    // however fast the machine; each strikes the next request submitted
    const faults = new ProgressFaults(kernel, { faults: 3, between: [100, 700], arm: () => drv.call('crash_next_submit') });
    const counted: BlockDevice = Object.assign(Object.create(disk) as BlockDevice, {
      submitAll: (ops: BlockOp[]) => (faults.advance(ops.length), disk.submitAll(ops)),
    });
    const report = await runDb(counted, { rounds: 40, writesPerRound: 64, records: 2048, seed: 5 });
    faults.stop();
    expect(report, faults.describe()).toMatchObject({ ok: true, mismatches: 0 });
    expect(report.verified).toBeGreaterThan(1000);
    expect(recoveries(kernel), faults.describe()).toBe(3);
  });

  it('gives up on a bug that is back after every restart: what the shadow kept fails, saying why', async () => {
    kernel.on('recovered', () => drv.call('crash_next_submit')); // the bug survives the restart
    drv.call('crash_next_submit');
    const e = await disk.write(8192, pattern(512, 1)).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(BlockError);
    expect(e).toMatchObject({
      code: 'EDRIVERFAILED',
      message: expect.stringMatching(/^blk0: the driver failed and will not be restarted: blk failed 4 times within 60000 ms \(segv last\): its recovery policy gave up$/),
    });
    expect(recoveries(kernel)).toBe(3);
    expect(drv.state).toBe('disabled');
    // the handle's next request says the same (the shadow ended the disk), not only that no driver serves it
    expect((await disk.read(0, 512).catch((err: BlockError) => err)) as BlockError).toMatchObject({ code: (e as BlockError).code, message: (e as BlockError).message });
  });

  // A driver that stops working without faulting, made so by `hook`: the nanny fails it after stallMs (300 here),
  // with `says` in the fault's message; it is recovered and the write waiting meanwhile completes.
  it.each([
    ['sits on a request past stallMs', 'plug', 'blk0: a request was with the driver for more than 300 ms'], // its requests stay in its ring
    ['refuses every request (-EBUSY, nothing in flight)', 'refuse', 'the driver took no request and completed none for more than 300 ms'],
  ])('the nanny: a driver that %s is failed (stalled) and recovered; the request completes', async (_what, hook, says) => {
    await kernel.shutdown();
    kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: { ...defaultPolicy.default, stallMs: 300 }, drivers: new Map() } });
    kernel.addDevice('blk', { image: join(dir, `${hook}.img`), size: 1 << 20 });
    drv = await kernel.load('blk');
    disk = openBlock(kernel, 'blk0');
    drv.call(hook, 1);
    await new Promise((r) => setTimeout(r, 400)); // idle past stallMs: the nanny counts from when the request waits
    const t0 = Date.now();
    await disk.write(0, pattern(4096, 3));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(kernel.events()[0]).toMatchObject({ event: 'fault', fault: { kind: 'stalled', message: expect.stringContaining(says) } });
    expect(recoveries(kernel)).toBe(1);
    // A refused request waits for the next event in the class (a completion, a registration), not offered again at
    // once: once to the failing driver, maybe once more at a wakeup left from the previous kernel, once to its successor.
    expect(drv.taps().find((t) => t.table === 'blk_disk_ops' && t.name === 'submit')?.calls).toBeLessThanOrEqual(3);
    expect((await disk.read(0, 4096)).equals(pattern(4096, 3))).toBe(true);
  });

  it('a fallback driver takes the disk over: the requests the shadow kept go to it', async () => {
    await kernel.shutdown();
    const fallback = join(dir, 'blk-safe.so'); // another file: a driver cannot be its own fallback
    copyFileSync(driverPath('blk'), fallback);
    kernel = await Kernel.boot({
      isolation: suiteIsolation,
      policy: { default: { ...defaultPolicy.default, action: 'fallback', fallback, maxFailures: 1 }, drivers: new Map() },
    });
    kernel.addDevice('blk', { image: join(dir, 'fallback.img'), size: 1 << 20 });
    drv = await kernel.load('blk');
    disk = openBlock(kernel, 'blk0');
    // held spinlocks are objects too, and an interrupt handler's run may hold one at either count: not counted
    const unlocked = () => drv.objects().filter((o) => o.type !== 'lock').length;
    const before = unlocked();
    drv.call('plug', 1);
    const writes = Array.from({ length: 8 }, (_, i) => disk.write(i * 4096, pattern(4096, i)));
    drv.recover(); // the policy's answer to the first failure: the fallback driver
    await Promise.all(writes);
    expect(kernel.events().map((e) => e.event)).toEqual(['fault', 'recovering', 'fallback']);
    expect(unlocked()).toBe(before); // the same Driver object, a new domain with the disk registered
    expect(drv.path).toBe(fallback);
    for (let i = 0; i < 8; i++) expect((await disk.read(i * 4096, 4096)).equals(pattern(4096, i))).toBe(true);
  });

  it('with shadow: false in the policy (plain Nooks), the requests in flight fail instead', async () => {
    await kernel.shutdown();
    kernel = await Kernel.boot({ isolation: suiteIsolation, policy: { default: { ...defaultPolicy.default, shadow: false }, drivers: new Map() } });
    kernel.addDevice('blk', { image: join(dir, 'plain.img'), size: 1 << 20 });
    drv = await kernel.load('blk');
    disk = openBlock(kernel, 'blk0');
    drv.call('plug', 1);
    const w = disk.write(0, pattern(4096, 2)).then(() => null, (err: unknown) => err);
    drv.recover();
    expect(await w).toMatchObject({ code: 'EDRIVERFAILED' });
  });
});
