// The driver API reference (docs/driver-api.md), generated from the same
// interface descriptions as the wrappers, so that it lists every kernel call
// with the checks its wrapper makes and every class operation with its
// shadow role. `npm run docs` writes it; test/docs.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../paths.js';
import { declare, prototype } from './declare.js';
import { block } from './kapi/block.js';
import { core } from './kapi/core.js';
import { net } from './kapi/net.js';
import { pci } from './kapi/pci.js';
import { serial } from './kapi/serial.js';
import { sound } from './kapi/sound.js';
import { fixedSize, type Check, type KapiCall } from './kapi/types.js';
import { opsTables } from './ops.js';
import { posix } from './posix.js';

const areas: [title: string, header: string, calls: KapiCall[]][] = [
  ['Core: memory, locks, time, deferred work, interrupts, DMA, registers, log', '<nooks/kapi.h>', core],
  ['PCI', '<nooks/kapi.h>', pci],
  ['Block class', '<nooks/blkdev.h>', block],
  ['Serial class', '<nooks/serial_core.h>', serial],
  ['Sound class', '<nooks/sound.h>', sound],
  ['Net class', '<nooks/netdevice.h>', net],
  ['POSIX personality: the kernel side of the C library subset', '<nooks/posix_calls.h>, for the personality (native/driver-rt/posix/), not for drivers', posix],
];

/** What the wrapper checks of one parameter, in words ('' for none). */
function checkText(c: Check): string {
  const orNull = !('nullable' in c && c.nullable) ? '' : 'size' in c && !fixedSize(c.size) ? ` (or NULL when ${c.size} is 0)` : ' (or NULL)';
  switch (c.kind) {
    case 'value': return '';
    case 'writable': return `points to ${c.size} bytes of the driver's own memory${orNull}`;
    case 'lasting': return `points to ${c.size} bytes of the driver's memory that outlives its threads: heap, DMA, data or bss, never a stack`;
    case 'readable': return `points to ${c.size} bytes the driver may read: its memory or its read-only data${orNull}`;
    case 'string': return `a NUL-terminated string the driver may read, at most ${c.max} bytes${orNull}`;
    case 'size': return `at most ${c.max} (${c.max >= 1 << 20 ? `${c.max / (1 << 20)} MiB` : `${c.max} bytes`})`;
    case 'driver-fn': return `a function of the driver's own code${orNull}`;
    case 'object': return `a ${c.type} object the driver holds (the object tracker knows it)${orNull}`;
  }
}

export function reference(): string {
  const out = [
    '# The driver API',
    '',
    '<!-- Generated from lib/wrappers/kapi.ts, posix.ts and ops.ts by lib/wrappers/reference.ts (`npm run docs`): do not edit. -->',
    '',
    'A driver includes `<nooks/kapi.h>` (and its class\'s header) and imports nothing but the calls below: the loader',
    'binds each import to a wrapper that checks the arguments as listed, then runs the call in the kernel. A check that',
    'fails is a driver fault of kind `bad-call`: the driver is stopped and recovered, the kernel is untouched. Under',
    'isolation `none` there are no wrappers and no checks (the native baseline). Calls marked *blocking* may wait; the',
    'wait ends if the driver fails meanwhile. Memory such a call touches after its wait (a read\'s buffer, a futex\'s word)',
    'that the driver freed meanwhile (a buffer on the stack of another of its threads, which ended) is a `bad-call`',
    'fault too: the call returns -EFAULT, and the driver is stopped and recovered, the kernel untouched. A string',
    'argument is copied into the kernel as it is checked, and the call works on that copy: another thread of the driver',
    'changing the string meanwhile changes nothing the call sees.',
    '',
    'Objects the kernel keeps live no longer than the memory they lie in. A thread\'s stack goes when the thread ends: a',
    'timer, work item, mutex or spinlock on it is forgotten then (pending, it never runs; held, it is held no longer), so',
    'that a later call naming one is a `bad-call`, as for any object the driver does not hold. One a thread is done with',
    'before it ends is legal (a pthread mutex on a stack, shared with threads that end first). A class object (a disk, an',
    'interface, a port, a pcm), which the kernel reads at any time, must lie in memory that outlives every thread (heap,',
    'DMA, data, bss): its registration refuses one on a stack (`bad-call`). Why this rule: [recovery.md](recovery.md),',
    '"Objects kept on a stack that goes".',
    '',
    'Also in `<nooks/kapi.h>`, running inside the driver\'s domain: `ioread8/16/32`, `iowrite8/16/32` (`readl`,',
    '`writel`), `jiffies`, `msecs_to_jiffies`, the lock and work helpers\' macros, and the driver runtime',
    '(`native/driver-rt/`, linked into every driver): `memcpy`, `memmove`, `memset`, `memcmp`, `strlen`, `strnlen`,',
    '`strcmp`, `strncmp`, `strscpy`, `snprintf`, `vsnprintf`. Entry points: `module_init(fn)` (at load and after every',
    'restart), `module_exit(fn)`, `module_pci_driver(drv)` (both, for a driver that only registers its `pci_driver`), `NOOKS_EXPORT` functions (called with `driver.call(name, ...args)`).',
    '',
    'A driver in C++ may include `<nooks/kapi.hh>` instead: `<nooks/kapi.h>` and, in namespace `nooks`, header-only',
    'RAII helpers over the calls below (lock guards, a BAR\'s registers, DMA buffers, probe and remove of a device',
    'object): [drivers.md](drivers.md), "C++ drivers".',
    '',
    'Load parameters: `module_param(name, type, perm)` on a static variable of type `int`, `long`, `bool` or `charp`',
    '(`char *`; the compiler checks the type) declares it in the section `.nooks_params`; `kernel.load(path, { params:',
    '{ name: value } })` sets it before `module_init` runs, at load and after every restart (a `charp` as a string in',
    'the driver\'s heap). The loader refuses (`EPARAM`) an undeclared name, a value of the wrong type or out of range.',
    '',
    'Buffers and strings from JavaScript, for `NOOKS_EXPORT` functions: `driver.alloc(size)` (a zeroed block of the',
    'driver\'s heap, held as its object: the driver may `kfree` it), `driver.cstring(text)`, `driver.free(address)`',
    '(blocks from `alloc` only), `driver.write(address, bytes)`, `driver.read(address, length)` (only inside one heap',
    'or DMA block the driver holds: else `EFAULT`). A restart releases them all.',
    '',
    'A driver written against libc (`nooks build --posix`) links the POSIX personality, a C library subset that runs',
    'inside its domain; its own kernel calls are the last table below (what it covers: [drivers.md](drivers.md)).',
    '',
  ];
  for (const [title, header, calls] of areas) {
    out.push(`## ${title}`, '', `Declared by ${header}.`, '', '| call | what it does | checks |', '|---|---|---|');
    for (const c of calls) {
      const checks = c.params.map((q) => [q.name, checkText(q.check)]).filter(([, t]) => t).map(([n, t]) => `\`${n}\`: ${t}`);
      const doc = `${c.doc}${c.blocking ? ' *Blocking.*' : ''}`.replace(/\|/g, '\\|');
      out.push(`| \`${prototype(c)}\` | ${doc} | ${checks.join('; ').replace(/\|/g, '\\|') || '—'} |`);
    }
    out.push('');
  }
  out.push('## Class operations (kernel → driver)', '',
    'A class driver fills one of these tables and registers it with its device; the class calls the operations',
    'through a crossing (and a tap that counts them). The role is what the class\'s shadow driver does with the',
    'operation: `lifecycle` (replayed for a device in use), `config` (the latest value replayed), `request` (kept',
    'while in flight, queued while the driver restarts), `query` (answered by the shadow while the driver is down),',
    '`commit` (ends a crossing of requests, starting what they queued: not made while down, when they wait with the',
    'shadow), `recovery` (a detector\'s remedy, not made while down).', '');
  for (const t of opsTables) {
    out.push(`### \`struct ${t.name}\` (${t.class})`, '', t.doc, '', '| operation | role | required | what it does |', '|---|---|---|---|');
    for (const o of t.ops) {
      const params = o.params.map((q) => declare(q.type, q.name)).join(', ');
      out.push(`| \`${declare(o.ret, `(*${o.name})`)}(${params})\` | ${o.role} | ${o.required ? 'yes' : 'no'} | ${o.doc.replace(/\|/g, '\\|')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(join(packageRoot, 'docs', 'driver-api.md'), reference());
}
