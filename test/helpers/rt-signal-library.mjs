// A program for test/abort-signal.test.ts (run from dist/: `npm run build`
// first), under LD_PRELOAD=rt-signal-library.so, whose handler of SIGRTMIN+3
// counts each signal it gets into the file NOOKS_TEST_RT_COUNT names:
//   node rt-signal-library.mjs <isolation>
// Sends the process that signal, then has the watchdog end a driver's endless
// loop (the kernel's own SIGRTMIN+3, which the library must not get), then
// sends it again; prints the count after each. With the library's handler
// SA_RESETHAND (NOOKS_TEST_RT_RESETHAND) the second signal ends the process.
import { readFileSync } from 'node:fs';
import { defaultPolicy, Kernel } from '../../dist/lib/index.js';
import { print, until } from './program.mjs';

const signal = Number(process.env.NOOKS_TEST_RT_SIGNAL);
const counted = () => readFileSync(process.env.NOOKS_TEST_RT_COUNT).length;

const kernel = await Kernel.boot({ isolation: process.argv[2], policy: { default: { ...defaultPolicy.default, timeBudgetMs: 200 }, drivers: new Map() } });
const d = await kernel.load('crashy');
process.kill(process.pid, signal);
await until(() => counted() >= 1, "the library's handler to get the signal");
const first = counted();
let kind;
try {
  d.call('infinite_loop');
} catch (e) {
  kind = e.kind;
}
const afterAbort = counted();
process.kill(process.pid, signal);
await until(() => counted() >= 2, "the library's handler to get the signal again");
const second = counted();
print({ signal, counts: [first, afterAbort, second], kind, state: d.state });
await kernel.shutdown();
