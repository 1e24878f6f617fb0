// Tests of the @NAME@ block driver (written by `nooks new @NAME@ --class
// block`), with Node's own test runner: `node --test @NAME@/@NAME@.test.mjs`.
// Build the driver first: `npx nooks build @SOURCE@ -o build/@NAME@.so`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kernel, openBlock } from 'nooks';

const so = fileURLToPath(new URL('../build/@NAME@.so', import.meta.url)); // not .pathname: a space in the path is %20 there
const dir = mkdtempSync(join(tmpdir(), '@NAME@-'));
let kernel;
let driver;
let disk;

/** n bytes of a pattern that differs with the seed. */
const pattern = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

before(async () => {
  kernel = await Kernel.boot();                  // isolation 'auto': pkey where the CPU has it, else mprotect
  // the emulated disk, backed by an image file of 1 MiB: the device is blk0, and so is its disk
  const dev = kernel.addDevice('blk', { image: join(dir, 'disk.img'), size: 1 << 20 });
  driver = await kernel.load(so);                // probes blk0
  assert.equal(kernel.devices().find((d) => d.name === dev.name).driver, driver.name);
  disk = openBlock(kernel, dev.name);
});
after(async () => {
  disk?.close();
  await kernel?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

test('writes sectors and reads them back', async () => {
  assert.equal(disk.sizeBytes, 1 << 20);
  await disk.write(0, pattern(4096, 1));
  await disk.write(64 * 1024, pattern(100 * 512, 2));  // larger than a request: the kernel splits it
  await disk.flush();
  assert.deepEqual(await disk.read(0, 4096), pattern(4096, 1));
  assert.deepEqual(await disk.read(64 * 1024, 100 * 512), pattern(100 * 512, 2));
});

test('many requests in flight at once', async () => {
  const ops = Array.from({ length: 64 }, (_, i) => ({ op: 'write', offset: i * 4096, data: pattern(4096, i) }));
  await disk.submitAll(ops);
  const back = await disk.submitAll(ops.map((o) => ({ op: 'read', offset: o.offset, length: 4096 })));
  back.forEach((b, i) => assert.deepEqual(b, pattern(4096, i)));
});

test('the driver is restarted under the disk: its requests still complete', async () => {
  // more than the driver takes at once: some are still waiting, or in flight, when it fails
  const ops = Array.from({ length: 64 }, (_, i) => ({ op: 'write', offset: i * 4096, data: pattern(4096, 100 + i) }));
  const writing = disk.submitAll(ops);
  driver.recover();                              // as if it had failed: torn down, restarted, the disk kept
  await writing;
  assert.equal(driver.state, 'running');
  const back = await disk.submitAll(ops.map((o) => ({ op: 'read', offset: o.offset, length: 4096 })));
  back.forEach((b, i) => assert.deepEqual(b, pattern(4096, 100 + i)));
  assert.ok(kernel.events().some((e) => e.event === 'recovered'));
});
