// What the kernel's process and the processes it forked (the driver host
// processes of isolation 'process') used: CPU time and context switches.
// process.resourceUsage() covers only this process (every thread of it); a
// driver host's share is read from /proc, where each of its threads keeps
// its own switch counts.
//
// A host may be restarted (a new process) or start and end threads inside a
// measuring window, and /proc forgets a process or thread once it is gone. So a
// sample keeps each child's reading and each of its threads' by identity (pid or
// tid with its start time: an id the OS reuses is another task), and a window
// counts, per identity, from its reading at the start (0 for one that appeared
// since) to its reading at the end. The limit: what a process or thread used
// between the start reading and its end is not counted (it is gone before the
// end reading), so the figure may fall short, never below what the survivors
// and newcomers used.
import { readdirSync } from 'node:fs';
import { readOrEmpty, statFields } from '../proc-stat.js';

export interface Usage {
  /** CPU time, user + system, in µs. */
  cpuUs: number;
  /** Waits for something (a lock, a futex, I/O, a sleep): the thread gave the CPU up. */
  voluntarySwitches: number;
  /** Preemptions: the scheduler took the CPU away. */
  involuntarySwitches: number;
}

/** One reading of this process's usage and of each of its children's. */
export interface UsageSample {
  own: Usage;
  /** By `pid@starttime`: the child's CPU time (every thread, ended ones too), and its live threads' switches by `tid@starttime`. */
  children: Map<string, ChildReading>;
}

type Switches = Pick<Usage, 'voluntarySwitches' | 'involuntarySwitches'>;

interface ChildReading {
  cpuUs: number;
  threads: Map<string, Switches>;
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

/** This process's usage so far, and that of `children` (by default its children now; one gone by now has no reading). */
export function sampleUsage(children: readonly number[] = childProcesses()): UsageSample {
  const own = process.resourceUsage();
  const sample: UsageSample = {
    own: { cpuUs: own.userCPUTime + own.systemCPUTime, voluntarySwitches: own.voluntaryContextSwitches, involuntarySwitches: own.involuntaryContextSwitches },
    children: new Map(),
  };
  for (const pid of children) {
    const reading = childReading(pid);
    if (reading) sample.children.set(reading.id, reading);
  }
  return sample;
}

/** What was used between the samples `before` and `after` (see the top of this file for what a process gone meanwhile leaves out). */
export function usageSince(before: UsageSample, after: UsageSample): Usage {
  const total: Usage = {
    cpuUs: after.own.cpuUs - before.own.cpuUs,
    voluntarySwitches: after.own.voluntarySwitches - before.own.voluntarySwitches,
    involuntarySwitches: after.own.involuntarySwitches - before.own.involuntarySwitches,
  };
  for (const [id, child] of after.children) {
    const earlier = before.children.get(id);
    total.cpuUs += child.cpuUs - (earlier?.cpuUs ?? 0);
    for (const [tid, thread] of child.threads) {
      const from = earlier?.threads.get(tid);
      total.voluntarySwitches += thread.voluntarySwitches - (from?.voluntarySwitches ?? 0);
      total.involuntarySwitches += thread.involuntarySwitches - (from?.involuntarySwitches ?? 0);
    }
  }
  return total;
}

function parentOf(pid: string): number | undefined {
  const ppid = statFields(`/proc/${pid}/stat`)[1];
  return ppid === undefined ? undefined : Number(ppid);
}

/** `id@starttime` (field 22 of stat, 20 after the name), or undefined when gone. */
function identity(id: number | string, fields: string[]): string | undefined {
  return fields.length ? `${id}@${fields[19]}` : undefined;
}

function childReading(pid: number): (ChildReading & { id: string }) | undefined {
  const fields = statFields(`/proc/${pid}/stat`);
  const id = identity(pid, fields);
  if (!id) return undefined; // gone
  // every thread of the process, ended ones too
  const reading = { id, cpuUs: cpuUsIn(fields), threads: new Map<string, Switches>() };
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return reading; // gone since
  }
  for (const tid of tasks) {
    const threadId = identity(tid, statFields(`/proc/${pid}/task/${tid}/stat`));
    const switches = threadSwitches(`/proc/${pid}/task/${tid}`);
    if (!threadId || !switches) continue; // ended since the listing
    reading.threads.set(threadId, switches);
  }
  return reading;
}

/** utime and stime (fields 14 and 15 of stat, 12 and 13 after the name), in µs. */
function cpuUsIn(fields: string[]): number {
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

/** The CPU time (µs, in clock ticks) of the thread whose /proc directory is `taskDir`; undefined when it is gone. */
export function threadCpuUs(taskDir: string): number | undefined {
  const fields = statFields(`${taskDir}/stat`);
  return fields.length ? cpuUsIn(fields) : undefined;
}

/** The context switches of the thread whose /proc directory is `taskDir` (e.g. /proc/self/task/<tid>); undefined when it is gone. */
export function threadSwitches(taskDir: string): Switches | undefined {
  const status = readOrEmpty(`${taskDir}/status`);
  if (!status) return undefined;
  return {
    voluntarySwitches: Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0),
    involuntarySwitches: Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0),
  };
}
