// Tests of the @NAME@ serial driver (written by `nooks new @NAME@ --class
// serial`), with Node's own test runner: `node --test @NAME@/@NAME@.test.mjs`.
// Build the driver first: `npx nooks build @SOURCE@ -o build/@NAME@.so`.
//
// Two emulated 16550As, their lines the two ends of a null-modem cable (a
// pair of ptys): what one port sends, the other receives, both through @NAME@.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kernel, openSerial, serialPorts } from 'nooks';
import { ptyPair } from 'nooks/testing';

const so = fileURLToPath(new URL('../build/@NAME@.so', import.meta.url)); // not .pathname: a space in the path is %20 there
let kernel;
let driver;
let cable;
let left;
let right;

/** n bytes of a pattern that differs with the seed. */
const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

before(async () => {
  kernel = await Kernel.boot();                  // isolation 'auto': pkey where the CPU has it, else mprotect
  cable = ptyPair();
  const a = kernel.addDevice('uart16550', { tty: cable.a });
  const b = kernel.addDevice('uart16550', { tty: cable.b });
  driver = await kernel.load(so);                // probes both: ttyS0 and ttyS1
  const port = (dev) => serialPorts().find((p) => p.device === dev.name);
  assert.equal(port(a).driver, driver.name);
  left = openSerial(kernel, port(a).name, { baudRate: 115200 });
  right = openSerial(kernel, port(b).name, { baudRate: 115200 });
});
after(async () => {
  // a close that rejects (ETIMEDOUT: the bytes it dropped) must not leave the kernel up: its threads keep the process alive
  const closed = await Promise.allSettled([left?.close(), right?.close()]);
  await kernel?.shutdown();
  cable?.close();
  for (const c of closed) if (c.status === 'rejected') throw c.reason;
});

test('bytes cross the cable both ways', async () => {
  const there = bytes(500, 1);
  await left.write(there);
  assert.deepEqual(await right.read(there.length), there);
  const back = bytes(300, 2);
  await right.write(back);
  assert.deepEqual(await left.read(back.length), back);
});

test('the driver is restarted: the ports stay open and go on', async () => {
  driver.recover();                              // as if it had failed: torn down, restarted, the ports restored
  assert.equal(driver.state, 'running');
  const after = bytes(200, 3);
  await left.write(after);
  assert.deepEqual(await right.read(after.length), after);
  assert.ok(kernel.events().some((e) => e.event === 'recovered'));
});
