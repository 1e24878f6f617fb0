// What the test programs that run in a process of their own (test/helpers/*.mjs:
// irq-stuck, timer-work-stuck, gone-buffer, load-each) share; the tests of all
// but the last read what they print with programReport (test/helpers/util.ts).
import { teardownWaitsRunOut } from '../../dist/lib/testing.js';

/** Prints `o` as one JSON line: the last one is the program's report. */
export const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

/** Polls `cond` every 10 ms; fails with `what` after 5 s. */
export async function until(cond, what) {
  for (let ms = 0; !cond(); ms += 10) {
    if (ms > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Counts the teardown's waits that run out from here on (teardownWaitsRunOut,
 * each `waitMs` long, as setTeardownWaits set it): `since()` says how many.
 * Counted, not timed, so that a loaded machine's slower work around them
 * adds none; and no fewer than `waitMs` each apart, so that a wait that gave
 * up at once would not pass for one.
 */
export function waitCounter(waitMs) {
  const runOut = teardownWaitsRunOut();
  const at = performance.now();
  return {
    since() {
      const n = teardownWaitsRunOut() - runOut;
      const ms = performance.now() - at;
      // 1 ms: the native clock's and performance.now()'s rounding
      if (ms < n * waitMs - 1) throw new Error(`${n} teardown waits of ${waitMs} ms ran out within ${ms.toFixed(0)} ms`);
      return n;
    },
  };
}
