// A progress line for long work: `label [###-------] 12/40 30% ETA 5s`.
// Drawn on stderr, only when stderr is a terminal: piped output and `--json`
// runs stay clean for the programs reading them.

/** The part of a stream a progress line needs (process.stderr by default). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  total: number;
  label?: string;
  json?: boolean;
  stream?: ProgressStream;
  now?: () => number;
}

const barWidth = 10;
const redrawMs = 100; // redrawing on every step of a fast loop would cost more than the work

export class Progress {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private readonly started: number;
  private readonly enabled: boolean;
  private done = 0;
  private drawnAt = -Infinity;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.started = this.now();
    this.enabled = !options.json && this.stream.isTTY === true;
  }

  /** Counts `n` more units done and redraws, at most every 100 ms and always at the end. */
  tick(n = 1): void {
    this.done = Math.min(this.done + n, this.options.total);
    const at = this.now();
    if (!this.enabled || (at - this.drawnAt < redrawMs && this.done < this.options.total)) return;
    this.drawnAt = at;
    const line = formatProgress(this.done, this.options.total, at - this.started);
    this.stream.write(`\r${this.options.label ? `${this.options.label} ` : ''}${line}\x1b[K`);
  }

  /** Erases the line, so that what is printed next starts clean. */
  finish(): void {
    if (this.enabled && this.drawnAt !== -Infinity) this.stream.write('\r\x1b[K');
  }
}

/** `[###-------] 12/40 30% ETA 5s`; the ETA assumes the remaining units go as fast as the done ones. */
export function formatProgress(done: number, total: number, elapsedMs: number): string {
  const fraction = total > 0 ? done / total : 1;
  const filled = Math.round(fraction * barWidth);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  const eta = done > 0 ? ` ETA ${formatDuration((elapsedMs / done) * (total - done))}` : '';
  return `${bar} ${done}/${total} ${Math.floor(fraction * 100)}%${eta}`;
}

function formatDuration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}
