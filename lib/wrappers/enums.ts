// The named values that cross between the kernel (C++) and TypeScript,
// described once. The generator writes gen/shared_enums.h from these lists
// (a C++ enum each, and its names); TypeScript takes its types from them.
// A value's index is its number on the C++ side.

/** Kernel objects the tracker knows, in the order recovery releases them (native/kapi/objects.cc). */
export const objectTypes = [
  'irq', 'timer', 'work', 'thread', 'blkdev', 'uart_port', 'pcm', 'netdev', 'pci_driver', 'pci_dev', 'device', 'iomap', 'mapping', 'file', 'iova', 'hugepage',
  'lock', 'mutex', 'dma', 'memory',
] as const;
export type ObjectType = (typeof objectTypes)[number];

/** How a driver failed ('none': it did not). 'exit' and 'abort': a driver of the POSIX personality called exit or abort (or failed an assert). */
export const faultKinds = ['none', 'segv', 'pkey', 'bus', 'ill', 'fpe', 'bad-call', 'timeout', 'aborted', 'stack-overflow', 'stalled', 'exit', 'abort'] as const;
export type FaultKind = Exclude<(typeof faultKinds)[number], 'none'>;

/** A driver's domain, from load to unload. */
export const driverStates = ['loading', 'running', 'failed', 'recovering', 'disabled', 'unloaded'] as const;
export type DriverState = (typeof driverStates)[number];

/** How drivers are isolated, in the order they are compared everywhere (benchmarks, campaigns, the report). */
export const isolations = ['none', 'pkey', 'mprotect', 'process'] as const;
export type Isolation = (typeof isolations)[number];

/** Each list as its C++ enum: [enum, name function, values, whether it ends with `count` (for arrays indexed by it)]. */
export const cppEnums: [enumName: string, nameFn: string, values: readonly string[], counted: boolean][] = [
  ['ObjectType', 'object_type_name', objectTypes, true],
  ['FaultKind', 'fault_kind_name', faultKinds, false],
  ['DomainState', 'state_name', driverStates, false],
  ['Isolation', 'isolation_name', isolations, false],
];

export function enumsHeader(): string {
  const out = ['// Generated from lib/wrappers/enums.ts by lib/wrappers/generate.ts: do not edit.', '#pragma once', '', 'namespace nooks {', ''];
  for (const [name, fn, values, counted] of cppEnums) {
    const ids = values.map((v) => v.replace(/-/g, '_'));
    out.push(`enum class ${name} : int { ${[...ids, ...(counted ? ['count'] : [])].join(', ')} };`);
    out.push(`inline const char *${fn}(${name} v) {`);
    out.push(`  static const char *const names[] = { ${values.map((v) => `"${v}"`).join(', ')} };`);
    out.push(`  return (unsigned)v < ${values.length}u ? names[(int)v] : "?";`, '}', '');
  }
  out.push('}  // namespace nooks', '');
  return out.join('\n');
}
