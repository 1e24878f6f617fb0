// Targeted faults: the bug classes the shadow-driver paper drew from real
// driver patches, and Linux's lkdtm list. Each runs as a bug of its own in
// the driver runtime (native/driver-rt/lkdtm.c): the entry of one of the
// driver's functions is patched to `mov $type, %edi; jmp nooks_lkdtm`, so the
// bug fires on whatever path calls that function. A missing null check can
// also come from the driver's own test hook, where it has one: armed, it
// dereferences NULL on the path the application uses.
import type { DriverFunction } from './disasm.js';

/** In the order of enum lkdtm_action in native/driver-rt/lkdtm.c. */
export const targetedTypes = [
  'null-deref', 'missing-init', 'endless-loop', 'buffer-overrun', 'panic', 'loop', 'stack-overflow', 'corrupt-stack',
  'write-after-free', 'overwrite-allocation',
] as const;
export type TargetedType = (typeof targetedTypes)[number];

export const targetedTypeHelp: Record<TargetedType, string> = {
  'null-deref': 'missing null check: a lookup that found nothing, dereferenced (the driver\'s own hook where it has one)',
  'missing-init': 'missing initialisation: a pointer member of a kmalloc\'d struct never set, then followed',
  'endless-loop': 'bad calculation: a countdown that steps over its end and never stops',
  'buffer-overrun': 'bad calculation: a length in pages used as bytes (64 MiB written into 64 bytes)',
  panic: 'BUG(): an invalid opcode',
  loop: 'spins forever',
  'stack-overflow': 'unbounded recursion',
  'corrupt-stack': 'a stack buffer overflow over the return address',
  'write-after-free': 'kfree, then write the block',
  'overwrite-allocation': 'a write past the end of a kmalloc\'d block',
};

/** The drivers' test hooks that arm a NULL dereference on the path their application uses. */
export const nullDerefHooks = ['crash_next_submit', 'crash_on_next_tx', 'crash_next_pointer', 'crash_poll'] as const;

/** `mov $type, %edi; jmp lkdtm` at the function's entry. */
export const lkdtmPatchSize = 10;

export function lkdtmPatch(type: TargetedType, fn: DriverFunction, lkdtm: number): Buffer {
  const b = Buffer.alloc(lkdtmPatchSize);
  b[0] = 0xbf;
  b.writeInt32LE(targetedTypes.indexOf(type), 1);
  b[5] = 0xe9;
  b.writeInt32LE(lkdtm - (fn.start + lkdtmPatchSize), 6);
  return b;
}
