// Under 'mprotect', entering a driver closes every other domain's memory. A
// thread may be inside a kernel call for another driver at that moment, and
// that call must still reach its driver's memory: here a driver waits in
// spin_lock (the kernel polls the lock word, in the driver's .data) for the
// lock its own work item holds, while ticker's timer keeps entering ticker.
// No fault anywhere: well-behaved drivers, used at the same time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';

const contended = `#include <nooks/kapi.h>

static DEFINE_SPINLOCK(lock);
static struct work_struct holder;
static long hold_ms;
static long taken;

/* the work item (on the kernel worker thread) holds the lock while it sleeps */
static void holder_fn(struct work_struct *w)
{
	(void)w;
	spin_lock(&lock);
	msleep(hold_ms);
	spin_unlock(&lock);
}

/* Has the work item take the lock for ms, then takes it too: it waits in spin_lock. */
NOOKS_EXPORT long contend(long ms)
{
	hold_ms = ms;
	schedule_work(&holder);
	while (!__atomic_load_n(&lock.locked, __ATOMIC_ACQUIRE))
		msleep(1);
	spin_lock(&lock);
	taken++;
	spin_unlock(&lock);
	return taken;
}

static int contended_init(void)
{
	spin_lock_init(&lock);
	INIT_WORK(&holder, holder_fn);
	return 0;
}

static void contended_exit(void)
{
	cancel_work_sync(&holder);
}

module_init(contended_init);
module_exit(contended_exit);
`;

describe("isolation 'mprotect': two drivers busy at the same time", () => {
  const dir = mkdtempSync(join(tmpdir(), 'nooks-concurrency-'));
  const kernel = kernelPerBlock({ isolation: 'mprotect' });
  let ticker: Driver;
  let driver: Driver;

  beforeAll(async () => {
    ticker = await kernel().load('ticker');
    driver = await kernel().load(buildDriver(dir, 'contended', contended));
  }, 60_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("waiting in spin_lock while ticker's timer runs", () => {
    const ticks = Number(ticker.call('ticks'));
    // 150 ms of waiting each: ticker's 10 ms timer enters ticker about 15 times meanwhile
    for (let n = 1; n <= 3; n++) expect(driver.call('contend', 150)).toBe(n);
    expect(kernel().events()).toEqual([]);
    expect(driver.state).toBe('running');
    expect(Number(ticker.call('ticks'))).toBeGreaterThan(ticks);
  });
});
