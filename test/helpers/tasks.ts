// This process's threads as Linux shows them (/proc/self/task): which is
// which, how often each slept, where each sleeps.
import { readdirSync, readFileSync } from 'node:fs';
import { threadSwitches } from '../../lib/bench/usage.js';

/** Threads of this process now (the kernel's own, the drivers' and the host's). */
export const tasks = () => readdirSync('/proc/self/task').length;

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

/**
 * Thread `tid` sleeps in a kernel call's wait: in futex_waitv (system call
 * 449 on x86-64, native/kapi/wait.cc), not still on its way there (under
 * 'process' the kernel thread waits for its twin meanwhile, which looks
 * every 10 ms for a request to leave).
 */
export const inKernelWait = (tid: string) => readFileSync(`/proc/self/task/${tid}/syscall`, 'utf8').startsWith('449 ');
