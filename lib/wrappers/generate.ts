// Generates the driver-facing prototypes and the host-side wrappers from the
// interface descriptions in kapi.ts (driver → kernel) and ops.ts (kernel →
// driver, see generate-ops.ts). Run by `npm run build` before node-gyp.
//   gen/nooks/kapi_calls.h   C prototypes (included by native/include/nooks/kapi.h)
//   gen/nooks/posix_calls.h  C prototypes of the POSIX personality's calls (posix.ts; included by native/driver-rt/posix/)
//   gen/kapi_wrappers.inc    per call: a checking wrapper (its tap first), the dispatch tables and the names
//   gen/kapi_stubs.S         per call: the exported entry stub a driver import binds to
//   gen/nooks/abi.h          the kernel-API version drivers are stamped with (abi.ts)
//   gen/shared_enums.h       the named values C++ and TypeScript share (enums.ts)
//   gen/addon/<surface>.inc  per addon surface: the table of its N-API functions (addon/, generate-addon.ts)
import { mkdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { abiHeader, kapiVersion } from './abi.js';
import { addonSurfaces } from './addon/index.js';
import { declare, prototype } from './declare.js';
import { enumsHeader } from './enums.js';
import { addonTable } from './generate-addon.js';
import { hostOps, opsHeader, tapTable } from './generate-ops.js';
import { kapi, kernelCalls, type KapiCall, type Param } from './kapi.js';
import { posix } from './posix.js';
import { fixedSize } from './kapi/types.js';
import { opsTables } from './ops.js';

function header(calls: KapiCall[], source: string, guard: string): string {
  const out = [`/* Generated from ${source} by lib/wrappers/generate.ts: do not edit. */`,
    `#ifndef ${guard}`, `#define ${guard}`, ''];
  for (const c of calls) {
    out.push(`/* ${c.doc} */`, `${prototype(c)};`, '');
  }
  out.push('#endif', '');
  return out.join('\n');
}

/**
 * When a buffer may be NULL: a fixed size (a join's result) whenever, as "none"; one counted by the call's
 * arguments (read's buf, n) only when empty: NULL with a count is a bad pointer, not "none".
 */
function nullBuffer(ch: { size: string; nullable?: boolean }): string {
  if (!ch.nullable) return 'false';
  return fixedSize(ch.size) ? 'true' : `(${ch.size}) == 0`;
}

/** The kernel's copy of a string parameter: the body gets it, never the driver's bytes (which its other threads may change). */
const copyOf = (q: Param): string => `${q.name}_copy`;

/** What the body gets for one parameter: its value, or a string's copy (NULL for NULL). */
function argOf(q: Param): string {
  if (q.check.kind !== 'string') return q.name;
  return q.check.nullable ? `${q.name} ? ${copyOf(q)} : nullptr` : copyOf(q);
}

/** The C++ statements that validate one parameter, or '' when none is needed. */
function checkOf(c: KapiCall, q: Param): string {
  const ch = q.check;
  const nullable = 'nullable' in ch && ch.nullable ? 'true' : 'false';
  const where = `"${c.name}", "${q.name}"`;
  switch (ch.kind) {
    case 'value': return '';
    case 'writable': return `check_writable(d, ${q.name}, ${ch.size}, ${nullBuffer(ch)}, ${where});`;
    case 'lasting': return `check_lasting(d, ${q.name}, ${ch.size}, ${where});`;
    case 'readable': return `check_readable(d, ${q.name}, ${ch.size}, ${nullBuffer(ch)}, ${where});`;
    case 'string': return `char ${copyOf(q)}[${ch.max}];\n  ${ch.nullable ? `if (${q.name}) ` : ''}copy_string(d, ${q.name}, ${ch.max}, ${copyOf(q)}, ${where});`;
    case 'size': return `check_size(${q.name}, ${ch.max}, ${where});`;
    case 'driver-fn': return `check_driver_fn(d, (const void *)${q.name}, ${nullable}, ${where});`;
    case 'object': return `check_object(d, (uintptr_t)${q.name}, ObjectType::${ch.type}, ${nullable}, ${where});`;
  }
}

function wrappers(): string {
  const out = ['// Generated from lib/wrappers/kapi.ts and posix.ts by lib/wrappers/generate.ts: do not edit.', ''];
  kernelCalls.forEach((c, i) => {
    const args = c.params.map(argOf).join(', ');
    const checks = c.params.map((q) => checkOf(c, q)).filter(Boolean);
    const isVoid = c.ret.trim() === 'void';
    out.push(`extern "C" ${prototype({ ...c, name: `kapi_${c.name}` })};`);
    out.push(`static ${prototype({ ...c, name: `checked_${c.name}` })} {`);
    out.push('  Domain *d = calling_domain();', `  tap_count(d, ${i});`);
    for (const s of checks) out.push(`  ${s}`);
    if (isVoid) {
      out.push(`  kapi_${c.name}(${args});`, '  after_call(d);', '}');
    } else {
      out.push(`  ${declare(c.ret, 'r')} = kapi_${c.name}(${args});`, '  after_call(d);', '  return r;', '}');
    }
    out.push('');
  });
  out.push('namespace nooks {', `extern const int kKapiCount = ${kernelCalls.length};`);
  out.push('extern const char *const kKapiNames[] = {', ...kernelCalls.map((c) => `  "${c.name}",`), '};', '}  // namespace nooks');
  out.push('// Checking wrappers: what isolated drivers reach through the crossing.');
  out.push(`#define KAPI_CHECKED ${kernelCalls.map((c) => `(const void *)checked_${c.name}`).join(', ')}`);
  out.push('// Bodies alone: what drivers reach with isolation "none" (the native baseline).');
  out.push(`#define KAPI_RAW ${kernelCalls.map((c) => `(const void *)kapi_${c.name}`).join(', ')}`);
  out.push('');
  return out.join('\n');
}

function stubs(): string {
  const out = ['# Generated from lib/wrappers/kapi.ts and posix.ts by lib/wrappers/generate.ts: do not edit.',
    '# Each kernel call a driver imports resolves to one of these: load the call\'s index',
    '# and jump to the entry of the current isolation mode (native/xpc/xpc_x86_64.S).',
    '\t.text'];
  kernelCalls.forEach((c, i) => {
    out.push(`\t.globl ${c.name}`, `\t.type ${c.name}, @function`, `\t.p2align 4`, `${c.name}:`,
      `\tmovl $${i}, %r11d`, `\tjmp *nooks_upcall_entry(%rip)`, `\t.size ${c.name}, .-${c.name}`);
  });
  out.push('\t.section .note.GNU-stack,"",@progbits', '');
  return out.join('\n');
}

function writeIfChanged(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  writeFileSync(path, text);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeIfChanged(join(root, 'gen', 'nooks', 'kapi_calls.h'), header(kapi, 'lib/wrappers/kapi.ts', 'NOOKS_KAPI_CALLS_H'));
  writeIfChanged(join(root, 'gen', 'nooks', 'posix_calls.h'), header(posix, 'lib/wrappers/posix.ts', 'NOOKS_POSIX_CALLS_H'));
  writeIfChanged(join(root, 'gen', 'kapi_wrappers.inc'), wrappers());
  writeIfChanged(join(root, 'gen', 'kapi_stubs.S'), stubs());
  for (const t of opsTables) writeIfChanged(join(root, 'gen', 'nooks', 'ops', `${t.name}.h`), opsHeader(t));
  writeIfChanged(join(root, 'gen', 'class_ops.inc'), hostOps(kernelCalls, opsTables));
  writeIfChanged(join(root, 'gen', 'taps.inc'), tapTable(kernelCalls, opsTables));
  writeIfChanged(join(root, 'gen', 'nooks', 'abi.h'), abiHeader(kapiVersion(root)));
  writeIfChanged(join(root, 'gen', 'shared_enums.h'), enumsHeader());
  for (const s of addonSurfaces) writeIfChanged(join(root, 'gen', 'addon', `${s.name}.inc`), addonTable(s));
  const ops = opsTables.reduce((n, t) => n + t.ops.length, 0);
  console.log(`nooks: generated ${kapi.length} kernel-API and ${posix.length} POSIX-personality wrappers and ${opsTables.length} class operations tables (${ops} operations) into gen/`);
}
