// A program for test/dead-stack.test.ts (run from dist/: `npm run build`
// first), in a process of its own so that a kernel access to a domain that
// went, which may kill the process, fails the test, not the test run:
//   node dead-stack-running.mjs <isolation> <driver path> timer|work
// A driver thread's timer (work item) on its stack fires; its callback's wait
// never ends (stallNextWait); the thread ends meanwhile, and the kernel
// forgets the object with the stack. Then the driver is unloaded: the
// teardown must still wait for the callback, once, and leave its thread
// running, keeping the domain until the call returns; the other drivers'
// timers go on meanwhile. Prints what it saw, one JSON line.
import { Kernel } from '../../dist/lib/index.js';
import { releaseStalledWaits, setTeardownWaits, stallNextWait } from '../../dist/lib/testing.js';
import { print, until } from './program.mjs';

const [isolation, path, kind] = process.argv.slice(2);
const kernel = await Kernel.boot({ isolation });
setTeardownWaits(100);
const logged = (text) => kernel.log().some((l) => l.text.includes(text));
const ticker = await kernel.load('ticker');
const ticksAfter = async (what) => {
  const from = Number(ticker.call('ticks'));
  await until(() => Number(ticker.call('ticks')) > from + 1, `ticker's timer to tick ${what}`);
};
const d = await kernel.load(path, { timeBudgetMs: 600_000 });
const seen = {};

stallNextWait(d);
d.call('run_on_stack', kind === 'timer' ? 0 : 1);
await until(() => logged('test stall'), 'the callback in its stalled wait');
await until(() => !d.objects().some((o) => o.type === kind), 'its thread ended, the object forgotten');
d.unload();
seen.leftRunning = logged(`${kind === 'timer' ? 'timer' : 'worker'} thread: did not stop; left running`);
seen.kept = kernel.domains().some((x) => x.name === d.name); // for the thread left running
await ticksAfter('after the unload'); // a new timer thread serves the queue
releaseStalledWaits();
await until(() => !kernel.domains().some((x) => x.name === d.name), 'the domain freed once the callback returned');
await ticksAfter('at the end');
await kernel.shutdown();
print(seen);
