// A program's signal masks (test/fixtures/drivers/program-signals.c): a
// signal every thread blocks stays pending, sigpending says so, and the
// race-free patterns take it: ppoll, pselect, epoll_pwait and sigsuspend with
// the old mask run its handler once and then end with EINTR (or, a
// descriptor ready, return it once the handler has ended); sigprocmask
// unblocking it runs the handler before it returns, each of a real-time
// signal's queue; sigwait's family takes
// it with no handler run; SIG_IGN discards it. A handler ends the waits of
// the threads that do not block it only. A signalfd reads the blocked ones in
// an epoll loop. A handler in flight holds its signal and its sa_mask's
// pending, one a constructor installed too; a signal only a handler holds is
// that handler's, never a signalfd's, and runs when it returns even with
// the driver's threads all taken; SA_RESETHAND resets the disposition
// as it delivers; signals one sigprocmask unblocks run one at a time in
// Linux's order, all before it returns. pthread_exit on main's thread: the
// program runs on until its last thread ends, then ends with status 0. Each
// signal is sent once the program says it is `ready`, and the program looks
// at what came once the test says go (a SIGUSR2 it takes in sigwait, sent
// after): by progress, never a sleep.
import { describe, expect, it } from 'vitest';
import type { Driver, Isolation, Kernel } from '../lib/index.js';
import { holdSignalHandlers } from '../lib/testing.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { bootableIsolations, until } from './helpers/util.js';

const path = fixtureDriver('program-signals', { posix: true });

/** What the driver printed (its stdout lines; the kernel's line of its exit is notice). */
const printed = (kernel: Kernel, d: Driver) => kernel.log().filter((l) => l.source === d.name && l.level !== 5).map((l) => l.text);

// 'none' contains nothing: a program's end would end the test's process
describe.each<Isolation>(bootableIsolations.filter((i) => i !== 'none'))('a program\'s signal masks, isolation \'%s\'', (isolation) => {
  const kernel = kernelPerBlock({ isolation });
  const started = async (name: string, mode: string, ready = 'ready') => {
    const d = await kernel().load(path, { name, argv: [name, '-m', mode] });
    await until(() => printed(kernel(), d).includes(ready), `the program's '${ready}'`);
    return d;
  };

  it.each([
    ['p', 'ppoll'],
    ['s', 'pselect'],
    ['e', 'epoll_pwait'],
    ['u', 'sigsuspend'],
  ])('-m %s: SIGTERM blocked stays pending; %s with the old mask runs its handler once, then ends with EINTR', async (mode) => {
    const d = await started(`mask-${mode}`, mode);
    d.kill('SIGTERM');
    d.kill('SIGUSR2');
    expect(await d.exited).toEqual({ driver: `mask-${mode}`, status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'pending 1, handled 0', `${mode}: -1, Interrupted system call, handled 1`, 'bye, handled 1']);
  });

  it('-m r: ppoll with the old mask and a descriptor ready returns it, the handler it let through ended by then', async () => {
    const d = await started('mask-r', 'r');
    d.kill('SIGTERM');
    d.kill('SIGUSR2');
    expect(await d.exited).toEqual({ driver: 'mask-r', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'ppoll 1, handled 1', 'bye, handled 1']);
  });

  it('sigprocmask unblocking a pending SIGTERM has run its handler when it returns', async () => {
    const d = await started('mask-m', 'm');
    d.kill('SIGTERM');
    d.kill('SIGUSR2');
    expect(await d.exited).toEqual({ driver: 'mask-m', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'pending 1, handled 0', 'unblocked: handled 1, pending 0', 'bye, handled 1']);
  });

  it('sigprocmask unblocking a real-time signal sent 100 times, more than the driver\'s threads, has run its handler 100 times', async () => {
    const d = await started('mask-q', 'q');
    for (let i = 0; i < 100; i++) d.kill(34); // SIGRTMIN
    d.kill('SIGUSR2');
    expect(await d.exited).toEqual({ driver: 'mask-q', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'unblocked: handled 100, pending 0', 'bye, handled 100']);
  });

  it('SIG_IGN discards a pending signal: unblocked later, its handler does not run', async () => {
    const d = await started('mask-i', 'i');
    d.kill('SIGUSR1');
    d.kill('SIGUSR2');
    expect(await d.exited).toEqual({ driver: 'mask-i', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'pending 1', 'ignored: pending 0', 'unblocked: handled 0', 'bye, handled 0']);
  });

  it('sigtimedwait times out (EAGAIN); sigwaitinfo takes SIGTERM, sigwait a pending SIGUSR1: no handler runs; the thread has its creator\'s mask', async () => {
    const d = await started('mask-w', 'w');
    d.kill('SIGTERM');
    await until(() => printed(kernel(), d).some((t) => t.startsWith('took')), 'sigwaitinfo to take it');
    d.kill('SIGUSR1');
    d.kill('SIGUSR2');
    expect(await d.exited).toEqual({ driver: 'mask-w', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual([
      'inherited 1 1; timed: -1, Resource temporarily unavailable',
      'ready',
      'took 15: si_signo 15, si_code 0, handled 0',
      'pending 1',
      'sigwait 0, took 10, handled 0',
      'bye, handled 0',
    ]);
  });

  it('a handler ends the waits of the threads that do not block its signal only: main\'s poll, not a blocking thread\'s', async () => {
    const d = await started('mask-t', 't');
    // a signal whose handler ran before main's poll began does not end it: sent again until three did, while the
    // other thread sits in its poll all along
    await until(() => {
      if (printed(kernel(), d).some((t) => t.startsWith('main:'))) return true;
      if (d.state === 'running') d.kill('SIGTERM');
      return false;
    }, 'three handlers to end main\'s poll');
    expect(await d.exited).toEqual({ driver: 'mask-t', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'main: poll interrupted 3 times, the blocking thread\'s 0', expect.stringMatching(/^bye, handled \d+$/)]);
  });

  it('-m f: a daemon reads its blocked SIGHUP and SIGTERM from a signalfd in its epoll loop: pending ones in one read, lowest first; each HUP reloads, TERM ends it', async () => {
    const d = await started('fd-f', 'f');
    d.kill('SIGHUP');
    d.kill('SIGUSR1');
    d.kill('SIGUSR2');
    const after = async (line: string, sig: string) => {
      await until(() => printed(kernel(), d).includes(line), `the program's '${line}'`);
      d.kill(sig);
    };
    await after('looping', 'SIGHUP');
    await after('reloaded 1', 'SIGHUP');
    await after('reloaded 2', 'SIGTERM');
    expect(await d.exited).toEqual({ driver: 'fd-f', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual([
      'empty: -1, Resource temporarily unavailable',
      'ready',
      'poll 1; read 2: 1 10, si_code 0, pid 1, uid 1',
      'looping',
      'reloaded 1',
      'reloaded 2',
      'SIGTERM read, handled 0',
      'bye, handled 0',
    ]);
  });

  it('-m n: a handler in flight holds its own signal (but under SA_NODEFER) and its sa_mask\'s pending, one a constructor installed too; they run once it returns', async () => {
    const d = await started('hold-n', 'n');
    const threads = (label: string) => d.objects().filter((o) => o.type === 'thread' && o.label === label).length;
    d.kill('SIGTERM');
    d.kill('SIGHUP');
    d.kill('SIGHUP');
    d.kill('SIGTERM');
    d.kill('SIGUSR1');
    d.kill('SIGINT');
    d.kill('SIGINT');
    expect([threads('SIGTERM'), threads('SIGHUP'), threads('SIGUSR1'), threads('SIGINT')]).toEqual([1, 2, 0, 1]);
    d.kill('SIGUSR2');
    expect(await d.exited).toEqual({ driver: 'hold-n', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'SIGTERM ran 2, SIGHUP 2, SIGUSR1 1, SIGINT 2, inside SIGTERM\'s 0', 'bye, handled 0']);
  });

  it('-m h: a signal no thread blocks but a handler in flight holds (its sa_mask) is that handler\'s: a signalfd does not read it, main\'s sigpending does not answer it, the holder\'s does; it runs once the holder returns', async () => {
    const d = await started('hold-h', 'h');
    d.kill('SIGTERM');
    d.kill('SIGHUP');
    d.kill('SIGUSR2');
    await until(() => printed(kernel(), d).length > 1, 'the signalfd\'s read');
    expect(printed(kernel(), d)[1]).toBe('signalfd read -1, Resource temporarily unavailable; pending 0');
    expect(await d.exited).toEqual({ driver: 'hold-h', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'signalfd read -1, Resource temporarily unavailable; pending 0', 'SIGHUP\'s handler ran 1, pending in SIGTERM\'s 1', 'bye, handled 0']);
  });

  it('-m z: as -m h with the driver\'s 64 threads taken, the holder\'s among them: the held signal its return lets go of runs, its thread no longer counted', async () => {
    const d = await started('hold-z', 'z');
    const from = kernel().log().length;
    d.kill('SIGTERM');
    d.kill('SIGHUP');
    d.kill('SIGUSR2');
    const leftPending = () => kernel().log().slice(from).filter((l) => l.source === d.name && l.text.includes('left pending')).map((l) => l.text);
    await until(() => printed(kernel(), d).length > 2 || leftPending().length > 0, 'SIGHUP\'s handler, or its signal left pending');
    expect(leftPending()).toEqual([]);
    expect(await d.exited).toEqual({ driver: 'hold-z', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'signalfd read -1, Resource temporarily unavailable; pending 0', 'SIGHUP\'s handler ran 1, pending in SIGTERM\'s 1', 'bye, handled 0']);
  });

  it('-m k: SA_RESETHAND resets the disposition as it delivers: of two SIGTERMs sent at once, the second is SIG_DFL\'s and kills the program', async () => {
    const d = await started('reset-k', 'k');
    d.kill('SIGTERM');
    d.kill('SIGTERM');
    expect(await d.exited).toEqual({ driver: 'reset-k', status: null, signal: 'SIGTERM' });
    expect(printed(kernel(), d)).toEqual(['ready']);
  });

  it.each([
    ['o', 'full: each holds the rest, which run as it returns', 'ran 1 10 15 34 34'],
    ['l', 'empty: each delivered on top of the one before, the last delivered runs first', 'ran 34 34 15 10 1'],
  ])('-m %s: pending signals one sigprocmask unblocks have run when it returns, one at a time, in Linux\'s order, their sa_mask %s', async (mode, _, ran) => {
    const d = await started(`order-${mode}`, mode);
    holdSignalHandlers(d); // handler threads run one at a time in the order started: the kernel must start them in order
    for (const sig of ['SIGTERM', 34, 'SIGUSR1', 'SIGHUP', 34, 'SIGUSR2']) d.kill(sig);
    expect(await d.exited).toEqual({ driver: `order-${mode}`, status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', ran, 'bye, handled 0']);
  });

  it('-m a: a signal runs the disposition in force at its delivery: a sigaction before its handler runs changes what it runs no more than on Linux, nor is undone by its SA_RESETHAND', async () => {
    const d = await started('delivered-a', 'a');
    holdSignalHandlers(d); // SIGTERM's handler thread runs once SIGUSR1's has returned, after main's sigaction
    d.kill('SIGUSR1');
    d.kill('SIGTERM');
    d.kill('SIGUSR2');
    expect(await d.exited).toEqual({ driver: 'delivered-a', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['ready', 'the first handler ran; now the second', 'bye, handled 0']);
  });

  it('pthread_exit on main\'s thread: the program runs on until its last thread ends, then ends with status 0, atexit run', async () => {
    const d = await started('exit-x', 'x', 'main exits');
    await until(() => !d.objects().some((o) => o.type === 'thread' && o.label === 'main'), 'main\'s thread to end');
    expect(d.state).toBe('running');
    d.kill('SIGUSR2');
    expect(await d.exited).toEqual({ driver: 'exit-x', status: 0, signal: null });
    expect(printed(kernel(), d)).toEqual(['main exits', 'thread ends', 'bye, handled 0']);
    expect(kernel().events().filter((e) => e.driver === 'exit-x')).toEqual([]); // no failure, no recovery
  });
});
