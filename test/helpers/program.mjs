// What the test programs that run in a process of their own (test/helpers/*.mjs:
// irq-stuck, gone-buffer, load-each) share; the tests of the first two read
// what they print with programReport (test/helpers/util.ts).

/** Prints `o` as one JSON line: the last one is the program's report. */
export const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

/** Polls `cond` every 10 ms; fails with `what` after 5 s. */
export async function until(cond, what) {
  for (let ms = 0; !cond(); ms += 10) {
    if (ms > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
