// Generates, from the class operations' description (ops.ts):
//   gen/nooks/ops/<table>.h   the C struct a driver fills (included by its class's header)
//   gen/class_ops.inc         per table, the kernel's copy of a driver's table: its
//                             functions are reachable only as OpCalls, which cross
//                             through a tap (native/shadow/taps.h)
//   gen/taps.inc              the tap table: every kernel call (driver → kernel) and
//                             every operation (kernel → driver), by tap index
import type { KapiCall } from './kapi.js';
import { declare } from './declare.js';
import type { Op, OpsTable } from './ops.js';

const generated = (from: string) => `Generated from ${from} by lib/wrappers/generate.ts: do not edit.`;

function member(o: Op): string {
  const params = o.params.map((q) => declare(q.type, q.name)).join(', ');
  return `${declare(o.ret, `(*${o.name})`)}(${params});`;
}

/** The driver-facing C struct of one table. */
export function opsHeader(t: OpsTable): string {
  const guard = `NOOKS_OPS_${t.name.toUpperCase()}_H`;
  const structs = new Set(t.ops.flatMap((o) => o.params.map((q) => q.type.match(/struct (\w+)/)?.[1]).filter((s): s is string => !!s)));
  const out = [`/* ${generated(`lib/wrappers/ops/${t.class}.ts`)} */`, `#ifndef ${guard}`, `#define ${guard}`, ''];
  for (const s of structs) out.push(`struct ${s};`);
  out.push('', `/* ${t.doc} */`, `struct ${t.name} {`);
  for (const o of t.ops) out.push(`\t/* ${o.doc}${o.required ? '' : ' Optional.'} */`, `\t${member(o)}`);
  out.push('};');
  // the kernel copies the table as an array of function pointers
  out.push(`#ifdef __cplusplus`, `static_assert(sizeof(struct ${t.name}) == ${t.ops.length} * sizeof(void *), "${t.name}");`, '#else',
    `_Static_assert(sizeof(struct ${t.name}) == ${t.ops.length} * sizeof(void *), "${t.name}");`, '#endif', '', '#endif', '');
  return out.join('\n');
}

const className = (t: OpsTable) => t.name.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');

/** The first tap index of each table: kernel calls come first. */
function firstTaps(kapi: KapiCall[], tables: OpsTable[]): number[] {
  let next = kapi.length;
  return tables.map((t) => ((next += t.ops.length), next - t.ops.length));
}

/** The kernel's side of every table. */
export function hostOps(kapi: KapiCall[], tables: OpsTable[]): string {
  const firsts = firstTaps(kapi, tables);
  const out = [`// ${generated('lib/wrappers/ops.ts')}`, 'namespace nooks {', ''];
  tables.forEach((t, ti) => {
    out.push(`// ${t.doc} The kernel's copy, taken at registration.`, `class ${className(t)} {`, ' public:');
    out.push(`  static constexpr int kFirstTap = ${firsts[ti]};`);
    out.push('  // Copies the driver\'s table (checked: readable, required operations present, all in its text).');
    out.push(`  void take(Domain *d, const void *table, const char *who) { ops_take(d, table, fn_, ${t.ops.length}, kFirstTap, who); }`);
    t.ops.forEach((o, i) => {
      const params = o.params.map((q) => `uint64_t ${q.name}`).join(', ');
      const args = o.params.map((q) => q.name).join(', ');
      if (!o.required) out.push(`  bool has_${o.name}() const { return fn_[${i}] != nullptr; }`);
      out.push(`  OpCall ${o.name}(${params}) const { return {kFirstTap + ${i}, fn_[${i}], {${args}}}; }`);
    });
    out.push(' private:', `  const void *fn_[${t.ops.length}] = {};`, '};', '');
  });
  out.push('}  // namespace nooks', '');
  return out.join('\n');
}

/** The tap table. */
export function tapTable(kapi: KapiCall[], tables: OpsTable[]): string {
  const out = [`// ${generated('lib/wrappers/kapi.ts and ops.ts')}`, 'namespace nooks {'];
  out.push(`constexpr int kTapCount = ${kapi.length + tables.reduce((n, t) => n + t.ops.length, 0)};`);
  out.push('const TapInfo kTaps[kTapCount] = {');
  for (const c of kapi) out.push(`  {TapDirection::to_kernel, "kapi", "${c.name}", nullptr, false},`);
  for (const t of tables)
    for (const o of t.ops) out.push(`  {TapDirection::to_driver, "${t.name}", "${o.name}", "${o.role}", ${o.required}},`);
  out.push('};', '}  // namespace nooks', '');
  return out.join('\n');
}
