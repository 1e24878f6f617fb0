// A program for test/small-sigaltstack.test.ts (run from dist/: `npm run
// build` first), under LD_PRELOAD=small-sigaltstack.so, whose main thread has
// a 2 KiB signal stack before the kernel registers it:
//   node small-sigaltstack.mjs <isolation>
// Faults the crashy driver twice on this thread and prints what it saw.
import { Kernel } from '../../dist/lib/index.js';
import { print } from './program.mjs';

const kernel = await Kernel.boot({ isolation: process.argv[2] });
const d = await kernel.load('crashy');
const kinds = [];
for (let i = 0; i < 2; i++) {
  try {
    d.call('null_deref');
  } catch (e) {
    kinds.push(e.kind);
  }
}
print({ preloaded: process.env.NOOKS_TEST_SIGALTSTACK, kinds, state: d.state, sum: Number(d.call('add', 2, 3)) });
await kernel.shutdown();
