// What the kernel's process and the processes it forked (the driver host
// processes of isolation 'process') used: CPU time and context switches.
// process.resourceUsage() covers only this process (every thread of it); a
// driver host's share is read from /proc, where each of its threads keeps
// its own switch counts.
import { readdirSync, readFileSync } from 'node:fs';

export interface Usage {
  /** CPU time, user + system, in µs. */
  cpuUs: number;
  /** Waits for something (a lock, a futex, I/O, a sleep): the thread gave the CPU up. */
  voluntarySwitches: number;
  /** Preemptions: the scheduler took the CPU away. */
  involuntarySwitches: number;
}

const TICK_US = 10_000; // /proc's clock ticks (USER_HZ: 100 on Linux)

/** This process's children (pids), from /proc: their parent pid is ours. [] where there is no /proc. */
export function childProcesses(): number[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  return pids.flatMap((pid) => (parentOf(pid) === process.pid ? [Number(pid)] : []));
}

/** This process's usage so far, and that of `children` (from childProcesses(); one gone since counts nothing). */
export function usage(children: readonly number[]): Usage {
  const own = process.resourceUsage();
  const total: Usage = { cpuUs: own.userCPUTime + own.systemCPUTime, voluntarySwitches: own.voluntaryContextSwitches, involuntarySwitches: own.involuntaryContextSwitches };
  for (const pid of children) {
    const c = childUsage(pid);
    total.cpuUs += c.cpuUs;
    total.voluntarySwitches += c.voluntarySwitches;
    total.involuntarySwitches += c.involuntarySwitches;
  }
  return total;
}

export function usageSince(before: Usage, after: Usage): Usage {
  return {
    cpuUs: after.cpuUs - before.cpuUs,
    voluntarySwitches: after.voluntarySwitches - before.voluntarySwitches,
    involuntarySwitches: after.involuntarySwitches - before.involuntarySwitches,
  };
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces): state, ppid, ...; [] when gone. */
function statFields(pid: number | string): string[] {
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : [];
}

function parentOf(pid: string): number | undefined {
  const ppid = statFields(pid)[1];
  return ppid === undefined ? undefined : Number(ppid);
}

function childUsage(pid: number): Usage {
  const fields = statFields(pid);
  // utime and stime (fields 14 and 15 of stat, 12 and 13 after the name): every thread of the process
  const u: Usage = { cpuUs: fields.length ? (Number(fields[11]) + Number(fields[12])) * TICK_US : 0, voluntarySwitches: 0, involuntarySwitches: 0 };
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return u; // gone
  }
  for (const tid of tasks) {
    const status = readOrEmpty(`/proc/${pid}/task/${tid}/status`);
    u.voluntarySwitches += Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
    u.involuntarySwitches += Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return u;
}

/** A /proc file's text; '' when the process or thread is gone. */
function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
