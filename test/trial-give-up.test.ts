// A trial's recovery policy gives up on a driver that keeps failing within
// the trial's time limit, as Nooks's recovery agent does ("disable recovery if
// the extension fails too frequently"). A bug back after every restart that
// only a 1 s detector sees (the block nanny, the watchdog: the trial's
// stallMs and timeBudgetMs) fails the driver about once a second. With 20
// failures allowed, as trials had, the give-up came after some 21 s, past the
// campaign's 12 s limit and `nooks inject`'s 20 s: a soak recorded such a
// trial as `no result within 20000 ms of the application's start: stalled`
// after 19 restarts, the application never told. Here a persistent endless
// loop at the entry of the block driver's interrupt handler: every restart
// resubmits the kept requests, and the handler loops again.
import { expect, it } from 'vitest';
import { runTrialChild } from '../lib/experiments/child.js';
import { planFault } from '../lib/index.js';
import { defaultPolicy } from '../lib/recovery/policy.js';

const limitMs = 12_000; // the campaign's

it('a persistent fault the nanny or the watchdog sees is given up on by the policy within the trial, the application told', async () => {
  const fault = planFault('blk', { seed: 1, type: 'loop', fn: 'blk_irq', transient: false });
  const r = await runTrialChild({ app: 'db', isolation: 'mprotect', shadow: true, seed: 1, fault, timeBudgetMs: 1000, stallMs: 1000 }, limitMs);
  // before: 'no result within 12000 ms of the application\'s start: stalled', 11 failures
  expect(r.detail).toMatch(/^blk0: the driver failed and will not be restarted: .*its recovery policy gave up \[EDRIVERFAILED\]$/);
  expect(r).toMatchObject({ outcome: 'malfunction', hostCrashed: false, report: { running: false } });
  expect(r.faultKinds).toHaveLength(defaultPolicy.default.maxFailures);
  for (const kind of r.faultKinds) expect(['stalled', 'timeout']).toContain(kind);
}, 2 * limitMs + 10_000);
