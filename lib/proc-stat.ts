// Reading a process's (or thread's) state from /proc: what a process there
// used (lib/bench/usage.ts), whether a process killed has died (a campaign's
// trials, lib/experiments/child.ts).
import { readFileSync } from 'node:fs';

/** A /proc file's text; '' when the process or thread is gone. */
export function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The fields of a /proc stat file after the command name (which may hold spaces): state, ppid, ...; [] when gone. */
export function statFields(path: string): string[] {
  const stat = readOrEmpty(path);
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : [];
}
