// A program for test/borrowed-stack.test.ts (run from dist/: `npm run build`
// first), in a process of its own so that a kernel call's fault that kills
// the process fails the test, not the test run:
//   node borrowed-stack.mjs <isolation> <driver path> <rounds>
// For each call (getdents, write, readlink) the driver
// (test/fixtures/drivers/borrowed-stack.c) hands it a buffer on the stack
// of a thread of its that has ended (after_end), then, `rounds` times, one
// on the stack of a thread that ends while the call runs (race, 20 tries a
// round; then more of write's, where none closed a stack yet: below). Prints
// what it saw, by call, and how many stacks the calls that borrowed them
// closed, as one JSON object.
import { Kernel } from '../../dist/lib/index.js';
import { print, until } from './program.mjs';

const calls = ['getdents', 'write', 'readlink']; // the fixture's `how`, in its order
const tries = 20;
const [isolation, path, rounds] = process.argv.slice(2);
const kernel = await Kernel.boot({ isolation, policy: { default: { maxFailures: 1_000_000 } } });
const dev = kernel.addDevice('testdev');
const d = await kernel.load(path, { devices: [dev.address] });
const setup = () => {
  if (d.call('setup', d.cstring(dev.address)) !== 0) throw new Error('setup failed');
};
setup();
const closedAsReturned = () => kernel.log().filter((l) => l.text.includes('a kernel call returned the stack of a thread that ended')).length;

// d.call(fn, ...args), its value, or the fault it failed the driver with
// (its message, addresses as ADDR), once the driver is recovered and set up again.
async function outcome(fn, ...args) {
  const events = kernel.events().length;
  try {
    return d.call(fn, ...args);
  } catch {
    const since = () => kernel.events().slice(events);
    await until(() => since().some((e) => e.event === 'recovered'), "the driver's recovery");
    setup();
    const { kind, message } = since().find((e) => e.event === 'fault').fault;
    return `${kind}: ${message.replace(/0x[0-9a-f]+/g, 'ADDR')}`;
  }
}

const seen = {};
for (const [how, call] of calls.entries()) {
  const race = {};
  for (let round = 0; round < Number(rounds); round++) {
    const r = await outcome('race', how, tries);
    const key = r === tries ? 'every call did its work' : String(r);
    race[key] = (race[key] ?? 0) + 1;
  }
  seen[call] = { afterEnd: await outcome('after_end', how), race };
}
// Whether a thread ends while a call holds its stack is the scheduler's doing: a loaded machine's 5 rounds may
// see it nowhere. Where it can happen (not under mprotect, whose thread's end waits for the call's lock), more of
// write's rounds run until it has (at most 100), each still a call that did its work or that bad-call.
const extra = {};
for (let round = 0; isolation !== 'mprotect' && closedAsReturned() === 0 && round < 100; round++) {
  const r = await outcome('race', 1, tries);
  const key = r === tries ? 'every call did its work' : String(r);
  extra[key] = (extra[key] ?? 0) + 1;
}
const report = { calls: seen, extra, closedAsReturned: closedAsReturned() };
await kernel.shutdown();
print(report);
