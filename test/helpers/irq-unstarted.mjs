// A program for test/irq-unstarted.test.ts (run from dist/: `npm run build`
// first), in a process of its own:
//   node irq-unstarted.mjs <isolation> <driver path>
// The driver's handler of one line sleeps, inside the driver, while the
// driver requests and frees another line three times, each line's thread held
// before its first line (holdNewIrqThreads) until free_irq has given up on it
// (logged: left running). Then the handler is let go, and must run to its end.
// Prints what it saw, one JSON line.
import { Kernel } from '../../dist/lib/index.js';
import { holdNewIrqThreads, setTeardownWaits } from '../../dist/lib/testing.js';
import { print, until } from './program.mjs';

const [isolation, path] = process.argv.slice(2);
const HELD_LINE = 11; // test/fixtures/drivers/irq-unstarted.c

const kernel = await Kernel.boot({ isolation });
setTeardownWaits(5); // free_irq's wait: the shortest
const gaveUp = () => kernel.log().filter((l) => l.text.includes('irq 13 handler: did not stop; left running')).length;
// The held handler's sleep spans the churn: no time budget ends it.
const d = await kernel.load(path, { timeBudgetMs: 600_000 });
const seen = {};

kernel.raiseIrq(HELD_LINE); // its thread started at the load, before the hold
await until(() => Number(d.call('held_handler_state')) === 1, 'the held handler in its sleep');
holdNewIrqThreads(d);
seen.churned = Number(d.call('churn', 3));
seen.gaveUp = gaveUp();
d.call('let_held_handler_go');
// Before: asked to leave at a give-up, it left in its sleep, and never got here.
await until(() => Number(d.call('held_handler_state')) === 2, 'the held handler to run to its end');
seen.state = d.state; // nothing failed
d.unload();
await until(() => kernel.domains().length === 0, 'its domain freed');
await kernel.shutdown();
print(seen);
