// A program for test/irq-stuck.test.ts (run from dist/: `npm run build` first),
// in a process of its own so that an unload or a recovery that waits for good
// is ended by the test's time limit instead of hanging the test run:
//   node irq-stuck.mjs <isolation> <driver path> <unload|recover|recover-then-unload|recover-two-lines|free-stuck|free-past-budget|free-in-freed-handler|free-across-recovery|unload-waits|exit-past-budget> [free]
// Makes the driver's interrupt handler sleep in a kernel call that does not
// return (the test hook stallNextWait), having freed its own line first if
// `free`, unloads or recovers the driver (and unloads the restarted one), then
// lets the call return. Prints a JSON line per step, what it saw in the last.
// recover-two-lines: the handlers of two lines sleep so, and the recovery's waits are counted.
// recover-then-unload, unload-waits, exit-past-budget: the waits of the recovery
// and the unload after it, of the unload, are counted.
// free-stuck, free-past-budget, free-in-freed-handler, free-across-recovery,
// unload-waits, exit-past-budget: the driver's own free_irq gives up on the
// stuck handler, or does not (see each).
import { Kernel } from '../../dist/lib/index.js';
import { releaseStalledWaits, setTeardownWaits, stallNextWait } from '../../dist/lib/testing.js';
import { print, until, waitCounter } from './program.mjs';

const [isolation, path, how, free] = process.argv.slice(2);
const LINE = 11; // test/fixtures/drivers/irq-stuck.c
const SECOND_LINE = 12;
const kernel = await Kernel.boot({ isolation });
// The teardown's waits (5 s each by default: posix-left-running keeps one
// real); where counted, long enough that a thread merely slow to leave on a
// loaded machine does not run one out.
const counted = ['recover-two-lines', 'recover-then-unload', 'unload-waits', 'exit-past-budget'].includes(how);
// free-in-freed-handler: its two free_irqs' deadlines are half a wait apart,
// a margin a slow machine's scheduling must not eat.
const wait = counted || how === 'free-in-freed-handler' ? 1500 : 200;
setTeardownWaits(wait);
const lines = () => kernel.log().map((l) => l.text);
const logged = (text) => lines().filter((l) => l.includes(text));
const domain = (name) => kernel.domains().find((x) => x.name === name);

const d = await kernel.load(path);
const name = d.name;
const runs = () => Number(d.call('handler_runs'));
const seen = {};

// The handler of `driver`'s line stalls in its sleep (after freeing the line,
// if freeFirst): the process's stall number `nth`.
async function stallHandler(driver, freeFirst, nth = 1) {
  driver.call('sleep_next_handler', freeFirst ? 1 : 0);
  stallNextWait(driver);
  kernel.raiseIrq(LINE);
  await until(() => logged(`${name}: test stall`).length === nth, 'the handler stalled in its sleep');
}

async function untilLeftRunningEnded() {
  await until(() => logged('ended after being left running').length === 1, 'the end of the handler left running');
}

// Both lines' handlers stall; the recovery's teardown waits are counted (an
// unload's module_exit would free each line in turn, a wait each).
async function twoLines() {
  d.call('request_second_line');
  d.call('sleep_next_handler', 0);
  for (const [n, line] of [LINE, SECOND_LINE].entries()) {
    stallNextWait(d);
    kernel.raiseIrq(line);
    await until(() => logged(`${name}: test stall`).length === n + 1, `the handler of line ${line} stalled in its sleep`);
  }
  const waits = waitCounter(wait);
  d.recover(); // one wait for both threads to leave the domain, then left running (before: one more for both to end, and before that one per line)
  seen.recoveryWaits = waits.since();
  seen.leftRunning = logged('handler: did not stop; left running').length;
  releaseStalledWaits();
  await until(() => logged('ended after being left running').length === 2, 'the end of both handlers left running');
  d.unload();
}

// The handler of one line stalls (after freeing it, if `free`).
async function oneLine() {
  await stallHandler(d, free === 'free');
  const first = how === 'unload' ? 'unload' : 'recover';
  print({ step: first });
  const waits = waitCounter(wait);
  d[first](); // waits for the handler's thread to leave the domain, then leaves it running
  print({ step: `${first} returned` });
  seen.leftRunning = logged('irq 11 handler: did not stop; left running').length;
  seen.keptState = domain(name)?.state;
  if (first === 'unload') {
    seen.reload = await kernel.load(path).then(() => 'loaded', (e) => e.message);
  } else {
    seen.state = d.state;
    seen.irqObjects = d.objects().filter((o) => o.type === 'irq').length; // requested again by the restarted driver
    kernel.raiseIrq(LINE);
    await until(() => runs() === 1, "the restarted driver's handler run");
  }
  if (how === 'recover-then-unload') {
    d.unload(); // not a second wait for the thread left running
    seen.waits = waits.since();
    seen.unloadedState = domain(name)?.state; // kept for the thread
  }
  releaseStalledWaits();
  await untilLeftRunningEnded();
  if (how === 'recover') {
    seen.runsAfterEnd = runs(); // the old thread ran no handler of the restarted driver
    kernel.raiseIrq(LINE);
    await until(() => runs() === 2, 'a handler run after the old thread ended');
    seen.stateAfterEnd = d.state; // its leaving failed nothing
    d.unload();
  }
}

// free-stuck: the driver frees the line (a call of its own, outside any
// teardown): its free_irq gives up on the handler and leaves it running,
// asked to leave: once its sleep returns, it runs no more of the driver's code.
async function freeStuck() {
  await stallHandler(d, false);
  d.call('free_line');
  seen.leftRunning = logged('irq 11 handler: did not stop; left running').length;
  releaseStalledWaits();
  await untilLeftRunningEnded();
  seen.runsPastSleep = Number(d.call('handler_runs_past_sleep')); // before: 1, the handler went on in the driver
  seen.state = d.state; // its leaving failed nothing
  d.unload();
}

// free-past-budget: the handler runs past its time budget, and the watchdog
// asks its thread to leave, failing the driver; the driver then frees the
// line, and its free_irq gives up on the handler. The watchdog's request
// stands: once its sleep returns, the thread leaves and fails the driver,
// which is recovered.
async function freePastBudget() {
  d.unload();
  const e = await kernel.load(path, { timeBudgetMs: 1000 });
  await stallHandler(e, false);
  await until(() => domain(name).timeouts >= 1, "the watchdog's request to the handler's thread");
  e.call('free_line');
  seen.leftRunning = logged('irq 11 handler: did not stop; left running').length;
  releaseStalledWaits();
  await until(() => kernel.events().some((x) => x.event === 'recovered'), "the recovery from the watchdog's failure"); // before: none, the failure dropped
  seen.events = kernel.events().map((x) => `${x.event} ${x.fault?.kind ?? ''}`.trim());
  seen.state = e.state;
  await untilLeftRunningEnded();
  e.unload();
}

// free-in-freed-handler: the handler of a second line frees the first (whose
// handler is stuck) while the driver frees the second: that free_irq gives up
// on the second line's handler first, and asks its thread to leave, which
// ends its free_irq's wait for the first line's handler (no teardown follows,
// to wait for it): that handler is left running, asked to leave, as well.
async function freeInFreedHandler() {
  await stallHandler(d, false);
  d.call('request_freeing_line', wait / 2); // its free_irq's wait for the stuck handler spans the end of the driver's
  kernel.raiseIrq(SECOND_LINE);
  await until(() => domain(name).interrupts === 2, "the second line's handler's run");
  d.call('free_second_line');
  await until(() => logged('ended after being left running').length === 1, "the end of the second line's handler, its free_irq done");
  seen.leftRunning = logged('did not stop; left running').map((l) => l.slice(l.indexOf('irq')));
  releaseStalledWaits();
  const firstEnded = () => logged('ended after being left running').length === 2 || logged('late handler').length === 1;
  await until(firstEnded, "the end of the first line's handler");
  seen.runsPastSleep = Number(d.call('handler_runs_past_sleep')); // before: 1, the handler went on in the driver
  seen.state = d.state;
  d.unload();
}

// free-across-recovery: the handler of a second line frees the first (whose
// handler is stuck), its free_irq's wait stalled as well, deaf to requests,
// until after a recovery: that recovery's teardown leaves both handlers'
// threads running. Then both calls return: the free_irq, its wait for the
// first line's handler ended by its request to leave, must not leave that
// handler running a second time (a second keep of the domain, never let go
// of: the domain would outlive its unload). Whether the free_irq looks
// before that handler has ended is up to the scheduler: three rounds.
async function freeAcrossRecovery() {
  const rounds = 3;
  for (let round = 1; round <= rounds; round++) {
    const stalls = () => logged(`${name}: test stall`).length;
    await stallHandler(d, false, 2 * round - 1);
    d.call('request_line_freeing_first');
    stallNextWait(d);
    kernel.raiseIrq(SECOND_LINE);
    await until(() => stalls() === 2 * round, "the second line's handler's free_irq stalled in its wait");
    d.recover(); // leaves both running
    releaseStalledWaits();
    await until(() => logged('ended after being left running').length === 2 * round, 'the end of both handlers left running');
  }
  seen.leftRunning = logged('did not stop; left running').length / rounds; // before: 3 where its free_irq looked first
  seen.state = d.state;
  d.unload();
}

// unload-waits: module_exit frees the line: free_irq's wait for the handler
// gives up, and the unload's teardown does not wait for it again.
async function unloadWaits() {
  await stallHandler(d, false);
  const waits = waitCounter(wait);
  d.unload();
  seen.waits = waits.since();
  releaseStalledWaits();
  await untilLeftRunningEnded();
}

// exit-past-budget: module_exit frees the line, and the watchdog asks it to
// leave (its time budget far short of the wait): that ends free_irq's wait;
// the unload's teardown then waits for the handler (as a recovery's does).
// What is logged, in order.
async function exitPastBudget() {
  d.unload();
  const e = await kernel.load(path, { timeBudgetMs: 100 });
  await stallHandler(e, false);
  const waits = waitCounter(wait);
  e.unload();
  seen.waits = waits.since(); // the budget is far shorter than a wait
  const steps = ['module_exit faulted', 'did not leave the failed domain', 'did not stop; left running'];
  seen.logged = lines().map((l) => steps.find((s) => l.includes(s))).filter(Boolean);
  releaseStalledWaits();
  await untilLeftRunningEnded();
}

const scenarios = {
  'recover-two-lines': twoLines,
  'free-stuck': freeStuck,
  'free-past-budget': freePastBudget,
  'free-in-freed-handler': freeInFreedHandler,
  'free-across-recovery': freeAcrossRecovery,
  'unload-waits': unloadWaits,
  'exit-past-budget': exitPastBudget,
};
await (scenarios[how] ?? oneLine)();
await until(() => domain(name) === undefined, 'its domain freed');
seen.late = logged('late handler').length;
await kernel.shutdown();
print(seen);
