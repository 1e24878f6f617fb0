// A SIGINT (Ctrl-C), SIGTERM or SIGHUP ends nooks at once, and what it had
// started would run on without it, or be left: a campaign's trials (their
// processes and nooks-trial-* directories), a report's measuring commands, a
// benchmark's temporary directories. Whoever starts such a thing says here how
// to end it (a temporary directory: tempDirOfProcess); a signal that would end
// this process (the program has no listener of its own for it) ends them first, then this
// process by the signal's default, so that its exit status stays the signal's.
// Listened for only while something is registered: a SIGINT listener keeps
// Node from ending on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const endingSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const endings = new Set<{ end: () => void }>();

function endAll(): void {
  for (const e of endings) e.end();
  endings.clear();
  listen(false);
}

function onEndingSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // the program decides what it means: what runs goes on
  endAll();
  process.kill(process.pid, signal);
}

function listen(on: boolean): void {
  for (const s of endingSignals) process[on ? 'on' : 'off'](s, onEndingSignal);
  process[on ? 'on' : 'off']('exit', endAll);
}

/** Runs `end` should this process end (one of those signals, or its exit) before the returned function is called. */
export function endWithProcess(end: () => void): () => void {
  const entry = { end };
  if (endings.size === 0) listen(true);
  endings.add(entry);
  return () => {
    if (endings.delete(entry) && endings.size === 0) listen(false);
  };
}

/**
 * A new temporary directory (`prefix` in $TMPDIR) that goes with this process should it end first (endWithProcess);
 * remove() removes it before.
 */
export function tempDirOfProcess(prefix: string): { dir: string; remove: () => void } {
  let dir: string | undefined;
  const removeDir = () => dir !== undefined && rmSync(dir, { recursive: true, force: true });
  // listened for before it exists: a signal that came between would end this process by its default, the directory left
  const ended = endWithProcess(() => {
    try {
      removeDir();
    } catch (e) {
      // thrown here, it would end the process in place of its signal (another exit status)
      process.stderr.write(`nooks: ${(e as Error).message}\n`);
    }
  });
  try {
    dir = mkdtempSync(join(tmpdir(), prefix));
  } catch (e) {
    ended();
    throw e;
  }
  return {
    dir,
    remove: () => {
      removeDir();
      ended();
    },
  };
}
