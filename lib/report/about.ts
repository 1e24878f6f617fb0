// Where and how each result was measured: the machine and code of the run
// that measured it, kept in <data>/about.json beside the results so that a
// page built from kept results names their run, not the one that drew it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { cpuModel } from '../bench/common.js';
import { Kernel } from '../kernel.js';
import { packageRoot } from '../paths.js';

export interface Machine {
  /** When it was measured (ISO 8601, UTC). */
  date: string;
  /** The git commit of the checkout (with "+ local changes" when it had some), or the package's version outside a checkout. */
  commit: string;
  /** uname -r */
  kernel: string;
  node: string;
  cpu: string;
  /** The CPU and kernel offer protection keys (pkey mode runs). */
  pku: boolean;
}

/** How one source's results were measured. */
export interface Measured extends Machine {
  argv: string[];
  quick: boolean;
  /** The results file's size when measured: a file changed since (a bigger campaign put there) is not this run's. */
  bytes?: number;
}

/** <data>/about.json: per source id. */
export type About = Record<string, Measured>;

const git = (...args: string[]) => spawnSync('git', ['-C', packageRoot, ...args], { encoding: 'utf8' });

function commit(): string {
  // only the package's own checkout: an installed package may sit inside someone else's repository
  if (existsSync(join(packageRoot, '.git'))) {
    const head = git('rev-parse', 'HEAD');
    if (head.status === 0) {
      const changed = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
      return `${head.stdout.trim()}${changed ? ' + local changes' : ''}`;
    }
  }
  const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return `nooks ${version} (not a git checkout)`;
}

/** This machine and checkout, now. */
export function machine(): Machine {
  return { date: new Date().toISOString(), commit: commit(), kernel: release(), node: process.version, cpu: cpuModel(), pku: Kernel.pkuSupported() };
}

export const aboutFile = (dataDir: string): string => join(dataDir, 'about.json');

/** What about.json says ({} when it is missing or unreadable: the page then says the run is unknown). */
export function readAbout(dataDir: string): About {
  try {
    return JSON.parse(readFileSync(aboutFile(dataDir), 'utf8')) as About;
  } catch {
    return {};
  }
}

export function writeAbout(dataDir: string, about: About): void {
  writeFileSync(aboutFile(dataDir), `${JSON.stringify(about, null, 2)}\n`);
}
