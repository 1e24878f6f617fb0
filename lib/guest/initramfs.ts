// An initramfs for a QEMU guest that runs this package: busybox, the host's
// node (and objdump and nm, for the fault injector) and the libraries they
// link, kernel modules with their dependencies,
// and an /init that mounts the project (virtio-9p, read-only) and runs one
// command. Written as a "newc" cpio archive directly (no cpio tool needed).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sections } from '../elf.js';

interface Entry {
  path: string; // inside the archive, without a leading slash
  mode: number;
  data: Buffer;
}

function header(e: Entry, ino: number): Buffer {
  const name = Buffer.from(`${e.path}\0`);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const fields = ['070701', hex(ino), hex(e.mode), hex(0), hex(0), hex(1), hex(0), hex(e.data.length),
    hex(0), hex(0), hex(0), hex(0), hex(name.length), hex(0)];
  return Buffer.concat([Buffer.from(fields.join('')), name]);
}

const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

export function cpio(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of [...entries, { path: 'TRAILER!!!', mode: 0, data: Buffer.alloc(0) }]) {
    const h = header(e, ino++);
    parts.push(h, pad4(h.length), e.data, pad4(e.data.length));
  }
  return Buffer.concat(parts);
}

const DIR = 0o040755;
const FILE = 0o100755;
const LINK = 0o120777;

/**
 * Shared libraries `binary` needs (from ldd), with the loader, plus the rest of
 * glibc's small libraries: native addons the guest loads (rollup's, ours) need them.
 */
function libraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]);
  const libc = libs.find((l) => /\/libc\.so\.6$/.test(l));
  if (libc) {
    for (const extra of ['librt.so.1', 'libresolv.so.2', 'libutil.so.1', 'libanl.so.1']) {
      const p = join(dirname(libc), extra);
      if (existsSync(p) && !libs.includes(p)) libs.push(p);
    }
  }
  return libs;
}

/** The `depends=` list of a kernel module, from its ELF .modinfo section. */
function moduleDepends(ko: Buffer): string[] {
  const info = sections(ko).find((s) => s.name === '.modinfo');
  const dep = info && ko.toString('latin1', info.offset, info.offset + info.size).split('\0').find((kv) => kv.startsWith('depends='));
  return dep ? dep.slice('depends='.length).split(',').filter(Boolean) : [];
}

const moduleKey = (name: string) => name.replace(/\.ko(\.xz)?$/, '').replace(/-/g, '_');

function listModules(dir: string, found = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listModules(p, found);
    else if (/\.ko(\.xz)?$/.test(e.name)) found.set(moduleKey(e.name), p);
  }
  return found;
}

/** A module file's contents, uncompressed (Debian compresses them with xz since 6.x; busybox insmod wants them plain). */
export function readModule(file: string): Buffer {
  return file.endsWith('.xz') ? execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 28 }) : readFileSync(file);
}

/** A kernel module's file and its contents, uncompressed. */
interface KernelModule {
  file: string;
  data: Buffer;
}

/** `names` and every module they depend on, dependencies first, each read (and uncompressed) once; built-in ones are skipped. */
export function moduleClosure(modulesDir: string, names: string[]): KernelModule[] {
  const files = listModules(join(modulesDir, 'kernel'));
  const builtin = new Set(readFileSync(join(modulesDir, 'modules.builtin'), 'utf8').split('\n').map((l) => moduleKey(l.replace(/^.*\//, ''))));
  const order: KernelModule[] = [];
  const visit = (name: string) => {
    const key = moduleKey(name);
    const file = files.get(key);
    if (!file) {
      if (builtin.has(key)) return;
      throw new Error(`kernel module ${name} not found under ${modulesDir}`);
    }
    if (order.some((m) => m.file === file)) return;
    const data = readModule(file);
    for (const d of moduleDepends(data)) visit(d);
    order.push({ file, data });
  };
  names.forEach(visit);
  return order;
}

export interface InitramfsOptions {
  modulesDir: string; // lib/modules/<version> of the guest kernel
  modules: string[]; // loaded in this order (with their dependencies) before the command
  command: string; // run by /bin/sh in the project directory; its exit status is the guest's
}

export function buildInitramfs(out: string, o: InitramfsOptions): void {
  const entries: Entry[] = [];
  const dirs = new Set<string>();
  const addDir = (p: string) => {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        entries.push({ path: d, mode: DIR, data: Buffer.alloc(0) });
      }
    }
  };
  const addFile = (path: string, data: Buffer, mode = FILE) => {
    addDir(dirname(path));
    entries.push({ path, mode, data });
  };
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'mnt/host', 'bin', 'sbin']) addDir(d);
  addFile('bin/busybox', readFileSync('/bin/busybox'));
  for (const tool of ['sh', 'mount', 'insmod', 'dd', 'cat', 'echo', 'mkdir', 'poweroff', 'sleep', 'ifconfig'])
    addFile(`bin/${tool}`, Buffer.from('busybox'), LINK);
  addFile('etc/hosts', Buffer.from('127.0.0.1 localhost\n'), 0o100644);
  const libs = new Set<string>();
  /** A host program as /bin/`name`, with the shared libraries it needs (each library once). */
  const addProgram = (name: string, path: string) => {
    const binary = realpathSync(path);
    addFile(`bin/${name}`, readFileSync(binary));
    for (const lib of libraries(binary).filter((l) => !libs.has(l))) {
      libs.add(lib);
      addFile(lib.slice(1), readFileSync(realpathSync(lib)));
    }
  };
  addProgram('node', process.execPath);
  // the fault injector's disassembler and symbol lister (lib/inject), where the host has binutils
  for (const tool of ['objdump', 'nm']) if (existsSync(`/usr/bin/${tool}`)) addProgram(tool, `/usr/bin/${tool}`);
  const mods = moduleClosure(o.modulesDir, o.modules);
  mods.forEach((m, i) => addFile(`modules/${String(i).padStart(2, '0')}-${moduleKey(m.file.replace(/^.*\//, ''))}.ko`, m.data, 0o100644));
  // The guest reports its exit status through QEMU's isa-debug-exit port (0xf4).
  addFile('init', Buffer.from(`#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
ifconfig lo 127.0.0.1 up
for m in /modules/*.ko; do insmod "$m" || echo "insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro host /mnt/host || echo "nooks-guest: cannot mount the project"
cd /mnt/host
/bin/sh -c ${JSON.stringify(o.command)}
rc=$?
echo "nooks-guest: exit $rc"
printf "\\\\$(printf %03o $rc)" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
poweroff -f
`));
  writeFileSync(out, cpio(entries));
  statSync(out);
}
