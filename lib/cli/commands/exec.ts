// `nooks exec <driver.so> [-- argv...]`: runs a driver that is a program
// (docs/drivers.md, "Programs") as a shell runs a program: its output as it
// comes, Ctrl-C and SIGTERM passed on to it, its exit status as nooks's.
import { constants } from 'node:os';
import { driverName, loadableDriverPath } from '../../paths.js';
import type { DeviceInfo, LogLine } from '../../native.js';
import type { Driver, Kernel, ProgramExit } from '../../kernel.js';
import { pciDevice, stubDriver } from '../../pci.js';
import { UsageError } from '../args.js';
import { isolationOf, policyOf, timeBudgetOf, withKernel, type Context } from './common.js';

/** How often the kernel's log is looked at for the program's lines while it runs. */
const logEveryMs = 20;

export async function exec(ctx: Context): Promise<number> {
  const [driver, ...args] = ctx.args;
  const name = driverName(loadableDriverPath(driver));
  const timeBudgetMs = timeBudgetOf(ctx);
  return withKernel({ isolation: isolationOf(ctx), policy: policyOf(ctx) }, async (k) => {
    // its stdout (level info) on ours; its stderr and the kernel's lines about it (a fault, its exit) on our stderr
    k.on('log', (l: LogLine) => {
      if (l.source === name) (l.level < 6 ? process.stderr : process.stdout).write(`${l.text}\n`);
    });
    // a line of ours after the program's lines logged before it, which the 'log' listener hears on the next turn
    const say = (line: string) => {
      k.log();
      setImmediate(() => process.stderr.write(`nooks: ${line}\n`));
    };
    let lastStatus: number | undefined;
    k.on('fault', (e) => {
      lastStatus = (e.fault as { status?: number } | undefined)?.status; // the last failure's, where it was an exit
      say(`${name} failed: ${e.fault?.message}`);
    });
    // said when the restart begins: main may log its first lines before the restart's end ('recovered') is heard
    k.on('recovering', (e) => {
      if (e.decision === 'restart') say(`${name} restarting (main runs again)`);
    });
    // in the order given: the program finds them in that order (/sys/bus/pci/devices, /sys/class/uio)
    const devices = (ctx.flags.device ?? []).map((device) => deviceFor(k, device));
    for (const dev of devices) process.stderr.write(`nooks: ${name}: ${dev.kind} at ${dev.address}, /dev/uio${dev.index}\n`);
    const d = await k.load(driver, { argv: [name, ...args], devices: devices.map((dev) => dev.address), timeBudgetMs });
    if (!d.program) {
      await d.unload();
      throw new UsageError(`${driver} is no program (it defines no main, or is not built with --posix): use nooks run for its functions`);
    }
    k.on('disabled', () => {
      say(`${name} disabled by the policy: not restarted again`);
      void d.unload({ stopMs: 0 });
    });
    let stoppedBy: NodeJS.Signals | undefined;
    const passOn = signalsTo(d, (signal) => {
      stoppedBy = signal;
      say(`${name}: stopped`);
    });
    process.on('SIGINT', passOn);
    process.on('SIGTERM', passOn);
    const drain = setInterval(() => k.log(), logEveryMs);
    let end: ProgramExit;
    try {
      end = await d.exited;
    } finally {
      clearInterval(drain);
      process.off('SIGINT', passOn);
      process.off('SIGTERM', passOn);
    }
    // stopped: as if the signal the user sent killed it (not the SIGTERM the stop sent it)
    const signalled = end.status === null ? (stoppedBy ?? end.signal) : undefined;
    if (signalled) return 128 + (constants.signals as Record<string, number>)[signalled];
    return end.status ?? lastStatus ?? 1;
  });
}

/** What --device takes, for its messages. */
const deviceForms = 'an emulated device\'s kind (e1000), its options after it as QEMU writes them (blk,image=disk.img), '
  + 'or a real device\'s PCI address alone (0000:03:00.0)';

/**
 * --device: a real device by its PCI address (it has a colon, a kind none), bound with `nooks pci bind`; else an
 * emulated device: its kind, then its options as QEMU writes them (`blk,image=disk.img`).
 */
function deviceFor(k: Kernel, device: string): DeviceInfo {
  const [kind, ...options] = device.split(',');
  if (kind.includes(':')) {
    if (options.length) throw new UsageError(`--device ${device}: a real device's PCI address takes no options; --device takes ${deviceForms}`);
    const { address, driver } = pciDevice(device);
    // bound to neither stub driver: attachPci says so and names the fix
    return k.attachPci(address, { via: driver === stubDriver.vfio ? 'vfio' : 'uio' });
  }
  const pairs = options.map((o) => {
    const eq = o.indexOf('=');
    if (eq < 1) throw new UsageError(`--device ${device}: "${o}" is no name=value option; --device takes ${deviceForms}`);
    return [o.slice(0, eq), o.slice(eq + 1)];
  });
  return k.addDevice(kind, Object.fromEntries(pairs));
}

/**
 * What Ctrl-C and SIGTERM do to a running program: the first is sent on to it (its handler runs); a second one, or
 * one that finds no program to take it (failed, or being restarted), stops it, and `stopped` hears it.
 */
export function signalsTo(d: Driver, stopped: (signal: NodeJS.Signals) => void): (signal: NodeJS.Signals) => void {
  let asked = false;
  let stopping = false;
  return (signal) => {
    if (d.state === 'unloaded' || stopping) return;
    if (!asked) {
      asked = true;
      try {
        d.kill(signal);
        return;
      } catch {
        // between two runs: no handler to run it, and the user asked it to end
      }
    }
    stopping = true;
    stopped(signal);
    // a failure between its state and the SIGTERM the stop sends (ESRCH) leaves it to the policy: exited still ends it
    d.unload({ stopMs: 0 }).catch(() => {});
  };
}
