// A program for test/irq-unstarted.test.ts (run from dist/: `npm run build`
// first), in a process of its own, pinned to one CPU with busy threads
// beside it, so that a new thread often waits longer for its first run than
// free_irq waits for it:
//   node irq-unstarted.mjs <isolation> <driver path>
// The driver's handler of one line sleeps, inside the driver, while the
// driver requests and frees another line until free_irq has given up three
// times on a line's thread that has not run its first line (logged: left
// running; 20000 times at most). Then the handler is let go, and must run to
// its end. Prints what it saw, one JSON line.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Kernel } from '../../dist/lib/index.js';
import { setTeardownWaits } from '../../dist/lib/testing.js';
import { print, until } from './program.mjs';

const [isolation, path] = process.argv.slice(2);
const HELD_LINE = 11; // test/fixtures/drivers/irq-unstarted.c
const allowed = readFileSync('/proc/self/status', 'utf8').match(/^Cpus_allowed_list:\s*(\S+)/m)[1];
execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', allowed.split(/[,-]/)[0], String(process.pid)], { stdio: 'ignore' });
const busy = Array.from({ length: 3 }, () => new Worker('for (;;);', { eval: true }));

const kernel = await Kernel.boot({ isolation });
setTeardownWaits(5); // free_irq's wait: the shortest
const lines = () => kernel.log().map((l) => l.text);
const logged = (text) => lines().filter((l) => l.includes(text));
// The held handler's sleep spans the churn: no time budget ends it.
const d = await kernel.load(path, { timeBudgetMs: 600_000 });
const seen = {};

kernel.raiseIrq(HELD_LINE);
await until(() => Number(d.call('held_handler_state')) === 1, 'the held handler in its sleep');
const gaveUp = () => logged('irq 13 handler: did not stop; left running').length;
let pairs = 0;
while (gaveUp() < 3 && pairs < 20_000) {
  seen.churned = Number(d.call('churn', 100));
  pairs += 100;
}
seen.gaveUp = gaveUp() >= 3;
d.call('let_held_handler_go');
// Before: asked to leave at a give-up, it left in its sleep, and never got here.
await until(() => Number(d.call('held_handler_state')) === 2, 'the held handler to run to its end');
seen.state = d.state; // nothing failed
d.unload();
await until(() => kernel.domains().length === 0, 'its domain freed');
await Promise.all(busy.map((w) => w.terminate()));
await kernel.shutdown();
print(seen);
