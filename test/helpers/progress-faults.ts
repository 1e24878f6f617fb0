// Driver failures "at random moments" for the shadow tests, the moments
// measured in the workload's progress (frames, blocks, lines, periods), never
// in time: a fast machine would finish before a timer fired. Each fault is
// armed once a seeded random number of progress units has passed since the
// start or since the previous recovery. NOOKS_TEST_SEED replays a run; the
// seed is in `describe()`, for failure messages.
import { DriverFault, type Kernel } from '../../lib/index.js';
import { seeded } from '../../lib/inject/random.js';

export interface ProgressFaultOptions {
  /** How many faults to arm. */
  faults: number;
  /** Progress units before each fault: a random integer in [min, max). */
  between: [number, number];
  /** Units that do not count towards the first fault (what a queue takes at once, before progress is paced). */
  from?: number;
  /** Arms the driver's bug (it strikes on the driver's next use). */
  arm: () => void;
}

export class ProgressFaults {
  readonly seed = Number(process.env.NOOKS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  /** The progress at which each fault was armed. */
  readonly armedAt: number[] = [];
  private readonly random = seeded(this.seed);
  private progress = 0;
  private due: number;
  private recovering = false;

  constructor(private readonly kernel: Kernel, private readonly o: ProgressFaultOptions) {
    this.due = (o.from ?? 0) + this.draw();
    kernel.on('recovered', this.onRecovered);
  }

  /** Reports `units` more progress; arms the next fault when it is due. */
  advance(units = 1): void {
    this.progress += units;
    if (this.recovering || this.armedAt.length >= this.o.faults || this.progress < this.due) return;
    this.armedAt.push(this.progress);
    this.recovering = true;
    try {
      this.o.arm();
    } catch (e) {
      // the bug struck before the arming call returned (a driver thread met it first; under isolation
      // 'process' the call shares the driver's fate): that is the fault armed
      if (!(e instanceof DriverFault)) throw e;
    }
  }

  stop(): void {
    this.kernel.off('recovered', this.onRecovered);
  }

  describe(): string {
    return `NOOKS_TEST_SEED=${this.seed}: faults armed at ${JSON.stringify(this.armedAt)} of ${this.progress} units`;
  }

  private draw(): number {
    const [min, max] = this.o.between;
    return this.progress + min + this.random.int(max - min);
  }

  private readonly onRecovered = () => {
    this.recovering = false;
    this.due = this.draw();
  };
}
