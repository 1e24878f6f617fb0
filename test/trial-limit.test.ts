// A trial's time limit (lib/experiments/child.ts) counts the start-up (the
// kernel's boot, the driver's load) and the application apart, timeoutMs each:
// an application that ends by its own deadline gets its verdict however long
// a loaded machine took to start it. Before, one limit ran from the spawn, and
// a soak campaign on a busy machine recorded an echo session that ended by its
// own 10 s deadline as `no result within 12000 ms: stalled`, its recovery
// lost (`recovered: false`), unlike the same fault's other runs. Here the
// start-up is slowed by the driver's host process starting late (isolation
// 'process', NOOKS_TEST_HOST_START_DELAY_MS) and the workload takes its time:
// together more than the limit, each less.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runTrialChild } from '../lib/experiments/child.js';
import { planFault } from '../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-trial-limit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const limitMs = 6000;
const startDelayMs = 3000; // the host process's start: the start-up takes longer, but less than the limit
const workMs = 3500; // the workload's own time: with the start-up, more than the limit

it('a trial whose start-up and application each take less than the limit, together more, gets its verdict', async () => {
  const workload = join(dir, 'slow-workload.mjs');
  writeFileSync(workload, `export default async function ({ driver }) {
  await new Promise((r) => setTimeout(r, ${workMs}));
  return driver.call('add', 2, 3) === 5;
}
`);
  // a fault in a function the workload never calls: the trial's verdict is its work's
  const fault = planFault('crashy', { seed: 1, type: 'nop', fn: 'timer_forgotten', exported: true });
  process.env.NOOKS_TEST_HOST_START_DELAY_MS = String(startDelayMs);
  try {
    const r = await runTrialChild({
      app: 'slow-workload', isolation: 'process', shadow: false, seed: 1, fault,
      workload: { driver: 'crashy', module: workload, index: 0, mode: 'process' },
    }, limitMs);
    expect({ outcome: r.outcome, detail: r.detail }).toEqual({ outcome: 'continued', detail: undefined }); // before: 'no result within 6000 ms: stalled'
    expect(r.ms).toBeGreaterThan(limitMs); // the two parts together did take longer than one limit
  } finally {
    delete process.env.NOOKS_TEST_HOST_START_DELAY_MS;
  }
}, 3 * limitMs);
