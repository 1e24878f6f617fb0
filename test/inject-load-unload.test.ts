// A trial's fault is in the driver's binary when it is loaded, and the trial
// unloads the driver before its report: a fault in module_init (or the probe
// it runs) or in module_exit (or the remove it runs) shows in its trial, as in
// the Nooks injector's experiments. Isolated, each is a detected failure; a
// transient fault in module_init is gone when the driver is loaded again.
import { describe, expect, it } from 'vitest';
import type { InjectedFault } from '../lib/inject/index.js';
import { nooks as run } from './helpers/cli.js';

interface InjectResult {
  fault: InjectedFault;
  outcome: string;
  hostCrashed: boolean;
  faultKinds: string[];
  recoveryMs: number[];
  detail?: string;
}

/** `nooks inject blk` with a fault at the entry of `site`. */
async function inject(site: string, type: string, isolation: string, ...more: string[]): Promise<InjectResult> {
  const r = await run(['inject', 'blk', '--site', site, '--type', type, '--seed', '1', '--isolation', isolation, '--json', ...more], { timeoutMs: 30_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as InjectResult;
}

describe('a trial loads the driver with its fault and unloads it before its report', () => {
  it('module_init faulting at load, transient: a detected failure, the driver loaded again without it, the application continues', async () => {
    const r = await inject('nooks_module_init', 'panic', 'mprotect');
    expect(r.fault).toMatchObject({ site: { function: 'nooks_module_init' }, transient: true });
    expect(r).toMatchObject({ hostCrashed: false, outcome: 'continued', faultKinds: ['ill'] });
    expect(r.recoveryMs).toHaveLength(1);
  });

  it('a probe (run by module_init, the device on the bus) faulting, persistent: the second load fails too, the application cannot run, the host lives', async () => {
    const r = await inject('blk_probe', 'null-deref', 'process', '--persistent');
    expect(r).toMatchObject({ hostCrashed: false, outcome: 'malfunction', faultKinds: ['segv', 'segv'], recoveryMs: [] });
    expect(r.detail).toMatch(/module_init faulted: segmentation fault.* \[EINITFAULT\]$/);
  });

  it('a probe refusing the device (its allocation failing): no fault, the application cannot open its disk: a malfunction, not a host crash', async () => {
    const r = await inject('blk_probe', 'alloc-fail', 'mprotect');
    expect(r).toMatchObject({ hostCrashed: false, outcome: 'malfunction', faultKinds: [] });
    expect(r.detail).toMatch(/^blk0: not ready: no driver is bound to it.* \[ENOTREADY\]$/);
  });

  it('module_exit faulting at unload: contained under isolation, the application\'s verdict kept; the host dies without isolation', async () => {
    const [mprotect, none] = await Promise.all(['mprotect', 'none'].map((isolation) => inject('nooks_module_exit', 'panic', isolation)));
    expect(mprotect).toMatchObject({ hostCrashed: false, outcome: 'continued', faultKinds: ['ill'], recoveryMs: [] });
    expect(none).toMatchObject({ hostCrashed: true, outcome: 'crash', detail: 'the process died of SIGILL' });
  });

  it('remove (run by module_exit) faulting at unload: a detected failure', async () => {
    const r = await inject('blk_remove', 'null-deref', 'mprotect');
    expect(r).toMatchObject({ hostCrashed: false, outcome: 'continued', faultKinds: ['segv'] });
  });
});
