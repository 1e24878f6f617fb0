// A SIGINT (Ctrl-C), SIGTERM or SIGHUP ends nooks at once, and what it had
// started would run on without it: a campaign's trials (their processes and
// nooks-trial-* directories), a report's measuring commands. Whoever starts
// such a thing says here how to end it; a signal that would end this process
// (the program has no listener of its own for it) ends them first, then this
// process by the signal's default, so that its exit status stays the signal's.
// Listened for only while something is registered: a SIGINT listener keeps
// Node from ending on it.
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
