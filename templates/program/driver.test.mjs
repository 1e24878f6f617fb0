// Tests of the @NAME@ program (written by `nooks new --program @NAME@`), with
// Node's own test runner: `node --test @NAME@/@NAME@.test.mjs`. Build it
// first: `npx nooks build --posix @SOURCE@ -o build/@NAME@.so`.
//
// Each test gives the program an emulated e1000 (what `nooks exec --device
// e1000` does) and loads it with its argv: main runs on a thread of its own.
// Pulling and plugging the NIC's cable (nicCable) is what the program sees as
// link status change interrupts; its lines are the kernel log's, tagged with
// the driver's name.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kernel, nicCable } from 'nooks';

const so = fileURLToPath(new URL('../build/@NAME@.so', import.meta.url)); // not .pathname: a space in the path is %20 there
let kernel;

before(async () => {
  kernel = await Kernel.boot();                  // isolation 'auto': pkey where the CPU has it, else mprotect
});
after(() => kernel.shutdown());

/** What the driver printed on stdout and stderr (level 5 is the kernel's line about its end). */
const printed = (driver) => kernel.log().filter((l) => l.source === driver.name && l.level !== 5).map((l) => l.text);

async function until(cond, what) {
  for (const end = Date.now() + 10_000; !cond(); await new Promise((r) => setTimeout(r, 5)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

/** Loads the program on a NIC of its own, its cable plugged in. */
async function start(name, ...args) {
  const nic = kernel.addDevice('e1000');
  const driver = await kernel.load(so, { name, argv: ['@NAME@', ...args], devices: [nic.address] });
  assert.equal(driver.program, true);          // it defines main
  return { driver, nic };
}

test('main runs with its argv, prints a line per interrupt; SIGTERM stops it, status 0', async () => {
  const { driver, nic } = await start('@NAME@-run', '-t', '100');
  await until(() => printed(driver).includes('@NAME@: interrupt 1: link up'), 'the link to come up');
  nicCable(nic.name, false);                     // the cable pulled: a link status change
  await until(() => printed(driver).includes('@NAME@: interrupt 2: link down'), 'the link to go down');
  driver.kill('SIGTERM');                        // its handler runs: poll ends with EINTR, the loop sees the flag
  assert.deepEqual(await driver.exited, { driver: '@NAME@-run', status: 0, signal: null });
  assert.deepEqual(printed(driver).slice(-2), ['@NAME@: SIGTERM: stopping', '@NAME@: 2 interrupts, 2 link changes, bye']);
  assert.equal(driver.state, 'unloaded');        // status 0 is its end: not restarted
});

test('-h prints its usage and returns 0', async () => {
  const { driver } = await start('@NAME@-help', '-h');
  assert.deepEqual(await driver.exited, { driver: '@NAME@-help', status: 0, signal: null });
  assert.match(printed(driver)[0], /^usage: @NAME@ /);
});

test('a bug is contained: main runs again from the start, and goes on', async () => {
  const faults = [];
  kernel.on('fault', (e) => faults.push(e));
  const { driver, nic } = await start('@NAME@-bug', '-c', '2'); // its deliberate bug at the 2nd interrupt
  await until(() => printed(driver).includes('@NAME@: interrupt 1: link up'), 'the link to come up');
  nicCable(nic.name, false);                     // interrupt 2: the bug, a write through NULL
  const started = () => printed(driver).filter((l) => l.endsWith(': started; Ctrl-C or SIGTERM stops it')).length;
  await until(() => started() === 2, 'main to run again');
  assert.equal(faults.length, 1);
  assert.equal(faults[0].fault.kind, 'segv');
  assert.equal(driver.state, 'running');
  nicCable(nic.name, true);                      // the restarted main counts from 0 again: this is its 1st interrupt
  await until(() => printed(driver).filter((l) => l === '@NAME@: interrupt 1: link up').length === 2, 'the link up again');
  driver.kill('SIGTERM');
  assert.deepEqual(await driver.exited, { driver: '@NAME@-bug', status: 0, signal: null });
});
