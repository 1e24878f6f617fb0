// Tests of the @NAME@ driver (written by `nooks new @NAME@`), with Node's own
// test runner: `node --test @NAME@/@NAME@.test.mjs`. Build the driver first:
// `npx nooks build @SOURCE@ -o build/@NAME@.so`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DriverFault, Kernel } from 'nooks';

const so = fileURLToPath(new URL('../build/@NAME@.so', import.meta.url)); // not .pathname: a space in the path is %20 there
let kernel;
let driver;

before(async () => {
  kernel = await Kernel.boot();                  // isolation 'auto': pkey where the CPU has it, else mprotect
  driver = await kernel.load(so);
});
after(() => kernel.shutdown());

test('add', () => {
  assert.equal(driver.call('add', 2, 3), 5);
});

test('a buffer and a string in the driver\'s memory', () => {
  const buf = driver.alloc(4);
  driver.write(buf, Buffer.from([1, 2, 3, 4]));
  assert.equal(driver.call('checksum', buf, 4), 10);
  driver.free(buf);
  assert.equal(driver.call('greet', driver.cstring('world')), 5);
  assert.ok(kernel.log().some((l) => l.text.includes('hello, world')));
});

test('a bug is contained and the driver restarted', () => {
  assert.throws(() => driver.call('oops'), (e) => e instanceof DriverFault && e.kind === 'segv');
  assert.equal(driver.state, 'running');
  assert.equal(driver.call('calls'), 0);         // a fresh start: its state was reset
  assert.equal(driver.call('add', 2, 3), 5);
});
