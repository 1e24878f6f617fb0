// Running this package inside a QEMU guest (software emulation): a real
// Linux kernel from Debian's package, the project shared read-only over
// virtio-9p. Used where this machine cannot do a thing itself: protection
// keys on a CPU without them (TCG emulates PKU), real PCI devices.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { buildInitramfs } from './initramfs.js';

/**
 * The user's cache (XDG's), never the package's folder: installed, that is
 * node_modules/nooks, which a run must not write to (and may not be able to).
 */
export const guestCacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nooks', 'guest');

export function qemuAvailable(): boolean {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
    return existsSync('/bin/busybox');
  } catch {
    return false;
  }
}

export interface GuestKernel {
  image: string; // vmlinuz
  modulesDir: string;
}

const versionOf = (pkg: string) => (pkg.match(/linux-image-(\d+)\.(\d+)/) ?? []).slice(1).map(Number);
const atLeast = (v: number[], min: number[]) => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

const DEFAULT_META = 'linux-image-amd64';

/**
 * The versioned kernel package behind each Debian meta-package: linux-image-amd64
 * and every linux-image-X.Y-amd64 series. One apt-cache run, as each run builds
 * apt's package cache anew where the system keeps none (Debian's container
 * images): about a second of CPU.
 */
function kernelPackages(): Map<string, string> {
  const out = execFileSync('apt-cache', ['depends', DEFAULT_META, '^linux-image-[0-9]+\\.[0-9]+-amd64$'], { encoding: 'utf8' });
  const packages = new Map<string, string>();
  let meta = '';
  for (const line of out.split('\n')) {
    if (/^\S/.test(line)) meta = line.trim(); // a package's name; its dependencies follow, indented
    const dep = line.match(/Depends: (linux-image-\d[\w.+~-]*-amd64)\b/)?.[1];
    if (dep && !packages.has(meta)) packages.set(meta, dep);
  }
  return packages;
}

/**
 * Debian's current kernel (what linux-image-amd64 depends on), or, if that is
 * older than `min` ([major, minor]), the newest linux-image-X.Y-amd64 series
 * that is not: downloaded with apt-get and unpacked into guestCacheDir once.
 */
export function guestKernel(min: [number, number] = [0, 0]): GuestKernel {
  mkdirSync(guestCacheDir, { recursive: true });
  const packages = kernelPackages();
  let pkg = packages.get(DEFAULT_META);
  if (!pkg || !atLeast(versionOf(pkg), min)) {
    const metas = [...packages.keys()].filter((m) => m !== DEFAULT_META && atLeast(versionOf(m), min))
      .sort((a, b) => versionOf(b)[0] - versionOf(a)[0] || versionOf(b)[1] - versionOf(a)[1]);
    pkg = metas.length ? packages.get(metas[0]) : undefined;
  }
  if (!pkg) throw new Error(`no Debian kernel package >= ${min.join('.')} found (run apt-get update)`);
  const root = join(guestCacheDir, pkg);
  const boot = join(root, 'boot');
  if (!existsSync(boot)) {
    // In a directory of this process's own, renamed into place when complete: guest tests run in parallel.
    const tmp = join(guestCacheDir, `.${pkg}.${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    try {
      execFileSync('apt-get', ['download', pkg], { cwd: tmp, stdio: 'ignore' });
      const deb = readdirSync(tmp).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${pkg} produced no package`);
      execFileSync('dpkg-deb', ['-x', join(tmp, deb), join(tmp, 'root')]);
      try {
        renameSync(join(tmp, 'root'), root);
      } catch (e) {
        if (!existsSync(boot)) throw e; // else another test was first
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const image = readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  if (!image) throw new Error(`${pkg} has no kernel image`);
  return { image: join(boot, image), modulesDir: join(root, 'lib', 'modules', image.slice('vmlinuz-'.length)) };
}

export interface GuestRun {
  exitCode: number; // the guest command's status; -1 if the guest never reported one
  output: string; // everything the guest printed on its console
  ms: number;
}

export interface GuestOptions {
  command: string; // shell command run in the project directory inside the guest
  modules?: string[];
  minKernel?: [number, number];
  memoryMb?: number;
  timeoutMs?: number;
  extraArgs?: string[];
  /** More kernel command-line arguments (e.g. intel_iommu=on hugepages=32). */
  append?: string;
  /** A q35 machine with an Intel IOMMU, on (intel_iommu=on) and in passthrough for the guest's own drivers (iommu=pt, so UIO works beside VFIO). */
  iommu?: boolean;
}

/** Boots a guest (-cpu max: protection keys included), runs `command`, returns its status and console. */
export async function runInGuest(o: GuestOptions): Promise<GuestRun> {
  const kernel = guestKernel(o.minKernel);
  const initrd = join(guestCacheDir, `initrd-${process.pid}.cpio`);
  buildInitramfs(initrd, {
    modulesDir: kernel.modulesDir,
    modules: ['virtio_pci', '9pnet_virtio', '9p', ...(o.modules ?? [])],
    command: o.command,
  });
  const args = [
    ...(o.iommu ? ['-machine', 'q35', '-device', 'intel-iommu'] : []),
    '-accel', 'tcg', '-cpu', 'max', '-smp', '1', '-m', String(o.memoryMb ?? 1024),
    '-kernel', kernel.image, '-initrd', initrd,
    // no_timer_check: a TCG vCPU starved by a loaded host fails the kernel's
    // check that the timer interrupt comes through the IO-APIC, and the guest
    // panicked ("timer doesn't work through Interrupt-remapped IO-APIC").
    '-append', ['console=ttyS0 quiet panic=-1 no_timer_check', ...(o.iommu ? ['intel_iommu=on iommu=pt'] : []), ...(o.append ? [o.append] : [])].join(' '),
    '-nodefaults', '-nographic', '-no-reboot', '-monitor', 'none', '-serial', 'stdio',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
    '-fsdev', `local,id=fs0,path=${packageRoot},security_model=none,readonly=on`,
    '-device', 'virtio-9p-pci,fsdev=fs0,mount_tag=host',
    ...(o.extraArgs ?? []),
  ];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    q.stdout.on('data', (b: Buffer) => (output += b.toString()));
    q.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => q.kill('SIGKILL'), o.timeoutMs ?? 240_000);
    q.on('error', reject);
    q.on('close', () => {
      clearTimeout(timer);
      rmSync(initrd, { force: true });
      const m = output.match(/nooks-guest: exit (\d+)/);
      resolve({ exitCode: m ? Number(m[1]) : -1, output, ms: Date.now() - started });
    });
  });
}
