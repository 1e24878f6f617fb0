// A program for test/timer-work-stuck.test.ts (run from dist/: `npm run build`
// first), in a process of its own so that a recovery or an unload that waits
// for good is ended by the test's time limit instead of hanging the test run:
//   node timer-work-stuck.mjs <isolation> <driver path> <timer|work> <recover|unload|exit-sync> [busy driver path]
// Makes the driver's timer callback (work item) sleep in a kernel call that
// does not return (the test hook stallNextWait), on the one timer (worker)
// thread of every domain, recovers or unloads the driver, then lets the call
// return. Meanwhile ticker's timer ticks (its work runs): a new thread serves
// the queue. Prints a JSON line per step, what it saw in the last. The
// recovery's (unload's) teardown waits are counted.
// exit-sync: an unload whose module_exit cancels the timer and the work
// (del_timer_sync, cancel_work_sync), waiting for the stuck one, under a
// time budget shorter than the teardown's wait (500 ms: module_init too
// keeps to it on a loaded machine); what is logged, in order, and whether
// the process has a thread more than before the stall once the stuck one
// ended. Meanwhile the busy driver's (test/fixtures/drivers/busy-callbacks.c)
// timer and work run back to back, each re-arming both.
import { readdirSync } from 'node:fs';
import { Kernel } from '../../dist/lib/index.js';
import { releaseStalledWaits, setTeardownWaits, stallNextWait } from '../../dist/lib/testing.js';
import { print, until, waitCounter } from './program.mjs';

const [isolation, path, kind, how, busyPath] = process.argv.slice(2);
const kernel = await Kernel.boot({ isolation });
// Long enough that a thread merely slow to leave on a loaded machine does not run one out.
const wait = 1500;
setTeardownWaits(wait);
const lines = () => kernel.log().map((l) => l.text);
const logged = (text) => lines().filter((l) => l.includes(text));
const domain = (name) => kernel.domains().find((x) => x.name === name);

const exitSync = how === 'exit-sync';
const verb = how === 'recover' ? 'recover' : 'unload';
const ticker = await kernel.load('ticker');
const d = await kernel.load(path, exitSync ? { timeBudgetMs: 500 } : {});
const busy = exitSync ? await kernel.load(busyPath) : undefined;
const name = d.name;
const ofWork = kind === 'work' ? 1 : 0;
const runs = () => Number(d.call('runs', ofWork));
const fire = () => d.call(kind === 'work' ? 'queue_work' : 'fire_timer');
const otherRuns = () => Number(ticker.call(kind === 'work' ? 'works' : 'ticks'));
// Another domain's timer (work) runs, twice more than now.
async function otherGoesOn(when) {
  const before = otherRuns();
  await until(() => otherRuns() >= before + 2, `ticker's ${kind} ${when}`);
}
const seen = {};

const threads = () => readdirSync('/proc/self/task').length;
const threadsBefore = threads();
if (exitSync) {
  d.call('cancel_at_exit');
  busy.call('start');
}
d.call('sleep_next_callback');
stallNextWait(d);
fire();
await until(() => logged(`${name}: test stall`).length === 1, `the ${kind} stalled in its sleep`);
print({ step: how });
const waits = waitCounter(wait);
d[verb](); // waits for the thread to leave the domain, then leaves it running
seen.waits = waits.since(); // for the thread to leave the domain, then it is left running
print({ step: `${verb} returned` });
if (exitSync) {
  const steps = ['module_exit faulted', 'did not leave the failed domain', 'did not stop; left running', 'exit: cancelled both'];
  seen.logged = lines().map((l) => steps.find((s) => l.includes(s))).filter(Boolean);
}
seen.leftRunning = logged(`${kind === 'work' ? 'worker' : 'timer'} thread: did not stop; left running`).length;
seen.keptState = domain(name)?.state;
await otherGoesOn('while the old thread is stuck');
if (how === 'recover') {
  seen.state = d.state;
  fire();
  await until(() => runs() === 1, `the restarted driver's ${kind}`);
}
releaseStalledWaits();
await until(() => logged('ended after being left running').length === 1, 'the end of the thread left running');
await otherGoesOn('after the old thread ended');
if (how === 'recover') {
  seen.runsAfterEnd = runs(); // the old thread ran none of the restarted driver's
  fire();
  await until(() => runs() === 2, `the restarted driver's ${kind} after the old thread ended`);
  seen.stateAfterEnd = d.state; // its leaving failed nothing
  d.unload();
}
await until(() => domain(name) === undefined, 'its domain freed');
seen.late = logged('late callback').length;
if (exitSync) {
  await until(() => threads() <= threadsBefore, 'the end of the thread left running'); // a new one serves the queue
  seen.threadsMore = threads() - threadsBefore;
}
await kernel.shutdown();
print(seen);
