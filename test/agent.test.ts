import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { RecoveryAgent, RecoveryOver, type RecoveryActions, type RecoveryEvent } from '../lib/recovery/agent.js';
import { parsePolicy } from '../lib/recovery/policy.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-agent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const policy = parsePolicy(
  `drivers:
  crashy: { maxFailures: 3, windowMs: 10000 }
  fragile: { action: disable }
  net: { action: fallback, fallback: drivers/net-safe.so, maxFailures: 2 }
`,
  'policy.yaml',
);
const fault = { kind: 'segv', message: 'write to 0x0', thread: 'irq' };

/** A clock the test moves by hand. */
function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function syncActions(): RecoveryActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    restart: (d) => void calls.push(`restart ${d}`),
    disable: (d) => void calls.push(`disable ${d}`),
    fallback: (d, p) => void calls.push(`fallback ${d} ${p}`),
  };
}

describe('RecoveryAgent decisions', () => {
  it('restarts below maxFailures and disables at the limit', () => {
    const actions = syncActions();
    const agent = new RecoveryAgent(policy, actions, { now: clock().now });
    expect([1, 2, 3].map(() => agent.onFaultSync('crashy', fault))).toEqual(['restart', 'restart', 'disable']);
    expect(actions.calls).toEqual(['restart crashy', 'restart crashy', 'disable crashy']);
  });

  it('forgets failures that leave the sliding window', () => {
    const c = clock();
    const agent = new RecoveryAgent(policy, syncActions(), { now: c.now });
    agent.onFaultSync('crashy', fault); // at +0
    c.advance(6000);
    agent.onFaultSync('crashy', fault); // at +6000
    c.advance(4000); // the first failure is now exactly windowMs old: out
    expect(agent.onFaultSync('crashy', fault)).toBe('restart');
    expect(agent.log().at(-1)?.failuresInWindow).toBe(2);
    c.advance(5999); // the second is still in
    expect(agent.onFaultSync('crashy', fault)).toBe('disable');
  });

  // Before: the window counted on Date.now, and a wall clock stepped forward past it (NTP, `date -s`) between
  // failures forgot them: three failures within a few milliseconds each restarted the driver.
  it('counts its window on a monotonic clock: a stepped wall clock neither forgets nor keeps failures', () => {
    vi.useFakeTimers({ toFake: ['Date'] }); // Date only: performance.now runs on
    try {
      const agent = new RecoveryAgent(policy, syncActions()); // the default clocks
      const step = () => vi.setSystemTime(Date.now() + 3_600_000); // an hour ahead each time, far past windowMs
      expect([1, 2, 3].map(() => (step(), agent.onFaultSync('crashy', fault)))).toEqual(['restart', 'restart', 'disable']);
      expect(agent.log().at(-1)?.failuresInWindow).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts each driver separately and uses the default policy for unlisted drivers', () => {
    const agent = new RecoveryAgent(policy, syncActions(), { now: clock().now });
    for (let i = 0; i < 4; i++) expect(agent.onFaultSync('other', fault)).toBe('restart');
    expect(agent.onFaultSync('crashy', fault)).toBe('restart');
    expect(agent.onFaultSync('other', fault)).toBe('disable'); // default maxFailures: 5
  });

  it('disables on the first fault with action disable', () => {
    const actions = syncActions();
    const agent = new RecoveryAgent(policy, actions, { now: clock().now });
    expect(agent.onFaultSync('fragile', fault)).toBe('disable');
    expect(actions.calls).toEqual(['disable fragile']);
  });

  it('switches to the fallback driver at the limit', async () => {
    const actions = syncActions();
    const agent = new RecoveryAgent(policy, actions, { now: clock().now });
    expect(await agent.onFault('net', fault)).toBe('restart');
    expect(await agent.onFault('net', fault)).toBe('fallback');
    expect(actions.calls).toEqual(['restart net', 'fallback net drivers/net-safe.so']);
  });
});

describe('RecoveryAgent events and log', () => {
  it('emits fault, recovering, recovered with timing around an asynchronous restart', async () => {
    const c = clock();
    const agent = new RecoveryAgent(policy, {
      restart: () => new Promise<void>((resolve) => setTimeout(() => { c.advance(250); resolve(); }, 1)),
      disable: () => {},
      fallback: () => {},
    }, { now: c.now });
    const seen: RecoveryEvent[] = [];
    for (const name of ['fault', 'recovering', 'recovered', 'disabled', 'fallback'] as const) agent.on(name, (e) => seen.push(e));

    expect(await agent.onFault('crashy', fault)).toBe('restart');
    expect(seen).toEqual([
      { event: 'fault', driver: 'crashy', fault, decision: 'restart', failuresInWindow: 1, at: 1000 },
      { event: 'recovering', driver: 'crashy', fault, decision: 'restart', failuresInWindow: 1, at: 1000 },
      { event: 'recovered', driver: 'crashy', fault, decision: 'restart', failuresInWindow: 1, at: 1250, durationMs: 250 },
    ]);
    expect(agent.log()).toEqual(seen);
  });

  it('times a restart finer than a millisecond, as a library driver\'s takes (Date.now would say 0, 1 or 2)', () => {
    const restartMs = 1.5;
    const agent = new RecoveryAgent(policy, {
      ...syncActions(),
      restart: () => {
        for (const t0 = performance.now(); performance.now() - t0 < restartMs; ); // the restart's work, on the clock
      },
    });
    const before = performance.now();
    agent.onFaultSync('crashy', fault);
    const outside = performance.now() - before;
    const { durationMs, at } = agent.log().at(-1)!;
    expect(durationMs).toBeGreaterThanOrEqual(restartMs);
    expect(durationMs).toBeLessThanOrEqual(outside);
    expect(Number.isInteger(at)).toBe(true); // `at` stays a Date.now time, as the event log has it
  });

  // The listeners of `fault` and `recovering` (and the event log's writes) run before the restart: their time is not
  // the restart's. Before, the listeners' 2 x 50 ms were counted in durationMs.
  it('times the restart alone, not the listeners of the events before it', () => {
    const restartMs = 1.5;
    const listenerMs = 50;
    const agent = new RecoveryAgent(policy, {
      ...syncActions(),
      restart: () => {
        for (const t0 = performance.now(); performance.now() - t0 < restartMs; );
      },
    });
    const busy = () => {
      for (const t0 = performance.now(); performance.now() - t0 < listenerMs; );
    };
    agent.on('fault', busy);
    agent.on('recovering', busy);
    agent.onFaultSync('crashy', fault);
    const { durationMs } = agent.log().at(-1)!;
    expect(durationMs).toBeGreaterThanOrEqual(restartMs);
    expect(durationMs).toBeLessThan(listenerMs);
  });

  it('emits disabled and fallback as the terminal events', async () => {
    const agent = new RecoveryAgent(policy, syncActions(), { now: clock().now });
    const names: string[] = [];
    for (const name of ['fault', 'recovering', 'recovered', 'disabled', 'fallback'] as const) agent.on(name, (e) => names.push(e.event));
    agent.onFaultSync('fragile', fault);
    await agent.onFault('net', fault);
    await agent.onFault('net', fault);
    expect(names).toEqual(['fault', 'disabled', 'fault', 'recovering', 'recovered', 'fault', 'recovering', 'fallback']);
  });

  it('disables a driver whose restart fails', async () => {
    const disabled: string[] = [];
    const agent = new RecoveryAgent(policy, {
      restart: async () => { throw new Error('probe failed'); },
      disable: (d) => void disabled.push(d),
      fallback: () => {},
    }, { now: clock().now });
    expect(await agent.onFault('crashy', fault)).toBe('disable');
    expect(disabled).toEqual(['crashy']);
    expect(agent.log().at(-1)).toMatchObject({
      event: 'disabled', decision: 'disable', fault: { kind: 'recovery-failed', message: 'probe failed' }, durationMs: 0,
    });

    const sync = new RecoveryAgent(policy, { ...syncActions(), restart: () => { throw new Error('no device'); } });
    expect(sync.onFaultSync('crashy', fault)).toBe('disable');
  });

  // Before: the disable's error came out of onFault (for the kernel's threads, an unhandled rejection that ended the process).
  it('a driver gone during its recovery (RecoveryOver) ends it quietly; a disable that fails otherwise is warned, never thrown', async () => {
    const gone = () => { throw new RecoveryOver('crashy was unloaded during its recovery'); };
    const names = (a: RecoveryAgent) => a.log().map((e) => e.event);
    const restartGone = new RecoveryAgent(policy, { ...syncActions(), restart: gone, disable: gone });
    expect(await restartGone.onFault('crashy', fault)).toBe('restart');
    expect(names(restartGone)).toEqual(['fault', 'recovering']);
    const disableGone = new RecoveryAgent(policy, { ...syncActions(), disable: gone });
    expect(disableGone.onFaultSync('fragile', fault)).toBe('disable');
    expect(names(disableGone)).toEqual(['fault']);

    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const broken = new RecoveryAgent(policy, {
      ...syncActions(),
      restart: () => { throw new Error('no device'); },
      disable: () => { throw new Error('a bug in disable'); },
    });
    expect(await broken.onFault('crashy', fault)).toBe('disable');
    expect(names(broken)).toEqual(['fault', 'recovering']);
    expect(warn.mock.calls.map(([w]) => String(w))).toEqual(['disabling crashy failed: a bug in disable']);
  });

  it('forgets an unloaded driver\'s failures: loaded again under its name, it starts with none', () => {
    const agent = new RecoveryAgent(policy, syncActions(), { now: clock().now });
    agent.onFaultSync('crashy', fault);
    agent.onFaultSync('crashy', fault);
    agent.forget('crashy');
    expect(agent.onFaultSync('crashy', fault)).toBe('restart');
    expect(agent.log().at(-1)?.failuresInWindow).toBe(1);
  });

  it('refuses asynchronous actions on the synchronous path', () => {
    const agent = new RecoveryAgent(policy, { ...syncActions(), restart: async () => {} });
    expect(() => agent.onFaultSync('crashy', fault)).toThrow(/onFaultSync: recovering crashy returned a promise/);
  });

  it('keeps only the last 1000 events', () => {
    const agent = new RecoveryAgent(policy, syncActions(), { now: clock().now });
    for (let i = 0; i < 600; i++) agent.onFaultSync('fragile', { kind: 'segv', message: `#${i}` }); // 2 events each
    const log = agent.log();
    expect(log).toHaveLength(1000);
    expect(log[0].fault?.message).toBe('#100');
    expect(log.at(-1)?.fault?.message).toBe('#599');
  });

  it('appends JSON lines to the log file, creating its directory', async () => {
    const path = join(dir, 'nested', 'deeper', 'recovery.log');
    const agent = new RecoveryAgent(policy, syncActions(), { now: clock().now, logFile: path });
    agent.onFaultSync('crashy', fault);
    await agent.onFault('fragile', fault);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(agent.log());
    expect(lines.map((l) => `${l.event} ${l.driver}`)).toEqual(['fault crashy', 'recovering crashy', 'recovered crashy', 'fault fragile', 'disabled fragile']);
  });

  it('warns once and keeps recovering when the log cannot be written', () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const actions = syncActions();
    const agent = new RecoveryAgent(policy, actions, { logFile: join(blocker, 'recovery.log') });
    expect(agent.onFaultSync('crashy', fault)).toBe('restart');
    expect(agent.onFaultSync('crashy', fault)).toBe('restart');
    expect(actions.calls).toEqual(['restart crashy', 'restart crashy']);
    expect(agent.log()).toHaveLength(6);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/cannot write the recovery log .*not-a-dir/);
  });
});
