// A program for test/gone-buffer.test.ts (run from dist/: `npm run build`
// first), in a process of its own so that a kernel call's fault that kills
// the process fails the test, not the test run:
//   node gone-buffer.mjs <isolation> <driver path> <call>...
// For each call (read, futex, poll, epoll, join, mutex, spin) a fresh load of
// the driver (test/fixtures/drivers/gone-buffer.c) hands that call a buffer
// on the stack of a thread of its that then ends, while the call is stalled
// in its wait (the test hook stallNextWait); then the wait goes on and the
// call touches that buffer. Prints what it saw, by call, as one JSON object.
import { Kernel } from '../../dist/lib/index.js';
import { releaseStalledWaits, stallNextWait } from '../../dist/lib/testing.js';
import { print, until } from './program.mjs';

// The fixture's calls, in its order (start_waiter's index).
const calls = ['read', 'futex', 'poll', 'epoll', 'join', 'mutex', 'spin'];
const arriving = new Set(['read', 'poll', 'epoll', 'join']); // their wait ends when `event` arrives
const [isolation, path, ...hows] = process.argv.slice(2);
// Every call fails the driver once: none is the failure too many that disables it.
const kernel = await Kernel.boot({ isolation, policy: { default: { maxFailures: calls.length + 1 } } });
const logged = (text) => kernel.log().filter((l) => l.text.includes(text)).length;

function call(d, name, ...args) {
  if (d.call(name, ...args) !== 0) throw new Error(`${name} failed`);
}

async function scenario(how) {
  const events = kernel.events().length;
  const wentOn = logged('gone-buffer: waiter went on');
  const d = await kernel.load(path);
  const stalls = logged(`${d.name}: test stall`);
  const stalled = (n, what) => until(() => logged(`${d.name}: test stall`) === stalls + n, what);
  // Each thread that waits before the waiter is stalled in its wait first, then let go: it is
  // past the stall's hook, which the next thread's wait then gets.
  const inItsWait = async (n, start, ...args) => {
    stallNextWait(d);
    call(d, start, ...args);
    await stalled(n, `${start}'s thread in its wait`);
  };
  await inItsWait(1, 'start_owner'); // its buffer lent
  const lent = Number(d.call('lent_at'));
  releaseStalledWaits();
  let n = 1;
  if (how === 'join') {
    await inItsWait(++n, 'start_joinee');
    releaseStalledWaits();
  }
  if (how === 'mutex' || how === 'spin') call(d, 'hold_lent', how === 'spin' ? 1 : 0);
  await inItsWait(++n, 'start_waiter', calls.indexOf(how)); // past the call's entry check
  const seen = { ownerEnded: d.call('end_owner') }; // its stack goes with it
  if (arriving.has(how)) seen.arrived = d.call('arrive');
  releaseStalledWaits();
  const since = () => kernel.events().slice(events);
  await until(() => since().some((e) => e.event === 'recovered'), "the driver's recovery");
  const fault = since().find((e) => e.event === 'fault').fault;
  seen.kind = fault.kind;
  seen.namesTheBuffer = fault.message.includes(`0x${lent.toString(16)}`);
  seen.message = fault.message.replace(/0x[0-9a-f]+/, 'ADDR');
  seen.state = d.state;
  seen.wentOn = logged('gone-buffer: waiter went on') - wentOn; // the call's -EFAULT ended the thread's crossing
  d.unload();
  return seen;
}

const seen = {};
for (const how of hows) seen[how] = await scenario(how);
await kernel.shutdown();
print(seen);
