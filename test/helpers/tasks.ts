// This process's threads as Linux shows them (/proc/self/task): which is
// which, how often each slept, how much CPU time each used, where each sleeps.
import { readdirSync, readFileSync } from 'node:fs';
import { threadCpuUs, threadSwitches } from '../../lib/bench/usage.js';
import { until } from './util.js';

/** Threads of this process now (the kernel's own, the drivers' and the host's). */
export const tasks = () => readdirSync('/proc/self/task').length;

/**
 * Until this process has `n` threads again, once threads were joined: the
 * kernel clears a thread's tid (what a join waits for) a moment before it
 * takes the task out of /proc/self/task (seen under load: 17, not 15).
 */
export const tasksBackTo = (n: number) => until(() => tasks() === n, `the process back to ${n} threads`);

/** The tid of this process's thread named `name`. */
export function tidOf(name: string): string {
  const tid = readdirSync('/proc/self/task').find((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === name;
    } catch {
      return false; // a thread that ended meanwhile
    }
  });
  if (!tid) throw new Error(`no thread named ${name}`);
  return tid;
}

/** How often thread `tid` has slept of its own accord (Linux's voluntary_ctxt_switches). */
export function sleeps(tid: string): number {
  const switches = threadSwitches(`/proc/self/task/${tid}`);
  if (!switches) throw new Error(`no thread ${tid}`);
  return switches.voluntarySwitches;
}

/** The CPU time thread `tid` has used, in µs (counted in clock ticks, 10 ms). */
export function cpuUs(tid: string): number {
  const us = threadCpuUs(`/proc/self/task/${tid}`);
  if (us === undefined) throw new Error(`no thread ${tid}`);
  return us;
}

/**
 * Whether this process runs as on Linux before 5.16, futex_waitv failing with
 * ENOSYS (test/helpers/no-futex-waitv.c, which sets the variable): the
 * kernel's waits take their fallback (native/kapi/wait.cc, sleep_on_last).
 */
export const noFutexWaitv = process.env.NOOKS_TEST_NO_FUTEX_WAITV === '1';

/**
 * Thread `tid` sleeps in a kernel call's wait: in futex_waitv (system call
 * 449 on x86-64, native/kapi/wait.cc), not still on its way there (under
 * 'process' the kernel thread waits for its twin meanwhile, which looks
 * every 10 ms for a request to leave). Without futex_waitv, in the
 * fallback's futex (202) FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG (0x89, with
 * FUTEX_CLOCK_REALTIME 0x189), which the twin's plain FUTEX_WAIT is not.
 */
export function inKernelWait(tid: string): boolean {
  const call = readFileSync(`/proc/self/task/${tid}/syscall`, 'utf8');
  return noFutexWaitv ? /^202 0x[0-9a-f]+ 0x1?89 /.test(call) : call.startsWith('449 ');
}
