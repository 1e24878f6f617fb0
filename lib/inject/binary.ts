// Binary faults (SWIFI, after the Nooks injector): one instruction of the
// driver's own code changed in one of eight ways. Each type says which
// instructions it applies to and what it writes over the chosen one.
import type { Instruction } from './disasm.js';
import type { Random } from './random.js';

export const binaryTypes = [
  'flip-bit', 'nop', 'corrupt-register', 'invert-branch', 'remove-init', 'corrupt-pointer', 'off-by-one', 'alloc-fail',
] as const;
export type BinaryType = (typeof binaryTypes)[number];

export const binaryTypeHelp: Record<BinaryType, string> = {
  'flip-bit': 'one bit of the instruction flipped',
  nop: 'the instruction replaced with NOPs',
  'corrupt-register': 'its source or destination register replaced with another',
  'invert-branch': 'a conditional branch taken when it should not be, and the other way round',
  'remove-init': 'a store (an initialisation) removed',
  'corrupt-pointer': 'the address of a memory access corrupted: another base register, or a high bit of its displacement',
  'off-by-one': 'a loop bound off by one: < for <=, > for >= (and the reverse)',
  'alloc-fail': 'an allocation (kmalloc, kzalloc, dma_alloc_coherent; a POSIX driver\'s malloc, calloc, realloc) returns NULL',
};

/** The parts of an x86-64 instruction the faults change. */
interface Decoded {
  /** Opcode bytes after prefixes (and REX). */
  opcode: number[];
  /** Index of the opcode's first byte. */
  at: number;
  /** Index of the ModRM byte, if the instruction has one. */
  modrm?: number;
}

const legacyPrefixes = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65]);

function oneByteHasModrm(o: number): boolean {
  return (o < 0x40 && (o & 7) < 4) || [0x63, 0x69, 0x6b, 0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff].includes(o) ||
    (o >= 0x80 && o <= 0x8f) || (o >= 0xd8 && o <= 0xdf);
}

function twoByteHasModrm(o: number): boolean {
  return (o >= 0x10 && o <= 0x1f) || (o >= 0x28 && o <= 0x2f) || (o >= 0x40 && o <= 0x7f && o !== 0x77) || (o >= 0x90 && o <= 0x9f) ||
    [0xa3, 0xa4, 0xa5, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb3, 0xb6, 0xb7, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf].includes(o) ||
    (o >= 0xc0 && o <= 0xc7) || o >= 0xd0;
}

/** Opcodes whose ModRM reg field selects the operation, not a register. */
function regIsOpcode(op: number[]): boolean {
  if (op.length === 1) return (op[0] >= 0x80 && op[0] <= 0x83) || [0x8f, 0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff].includes(op[0]) || (op[0] >= 0xd8 && op[0] <= 0xdf);
  return op.length === 2 && ((op[1] >= 0x18 && op[1] <= 0x1f) || [0x71, 0x72, 0x73, 0xae, 0xba, 0xc7].includes(op[1]));
}

export function decode(b: Buffer): Decoded | undefined {
  let i = 0;
  while (i < b.length && legacyPrefixes.has(b[i])) i++;
  if (b[i] >= 0x40 && b[i] <= 0x4f) i++;
  if (i >= b.length || b[i] === 0xc4 || b[i] === 0xc5) return undefined;  // VEX: not in drivers built without AVX
  const at = i;
  let opcode: number[];
  let hasModrm: boolean;
  if (b[i] === 0x0f && (b[i + 1] === 0x38 || b[i + 1] === 0x3a)) {
    opcode = [...b.subarray(i, i + 3)];
    hasModrm = true;
  } else if (b[i] === 0x0f) {
    opcode = [0x0f, b[i + 1]];
    hasModrm = twoByteHasModrm(b[i + 1]);
  } else {
    opcode = [b[i]];
    hasModrm = oneByteHasModrm(b[i]);
  }
  const modrm = at + opcode.length;
  return hasModrm && modrm < b.length ? { opcode, at, modrm } : { opcode, at };
}

/** Index of the condition-code byte of a conditional jump (70-7f rel8, 0f 80-8f rel32), or -1. */
function conditionAt(i: Instruction): number {
  const d = decode(i.bytes);
  if (!d) return -1;
  if (d.opcode.length === 1 && d.opcode[0] >= 0x70 && d.opcode[0] <= 0x7f) return d.at;
  if (d.opcode.length === 2 && d.opcode[0] === 0x0f && d.opcode[1] >= 0x80 && d.opcode[1] <= 0x8f) return d.at + 1;
  return -1;
}

/** A jump's target, from objdump's operand. */
function jumpTarget(i: Instruction): number {
  return parseInt(i.operands, 16);
}

// b <-> be, ae <-> a, l <-> le, ge <-> g: the comparisons a bound is off by one in
const offByOne: Record<number, number> = { 0x2: 0x6, 0x6: 0x2, 0x3: 0x7, 0x7: 0x3, 0xc: 0xe, 0xe: 0xc, 0xd: 0xf, 0xf: 0xd };

// the kernel's, through the PLT; a POSIX driver's C library's, linked into it (a direct call)
const allocators = /^(kmalloc|kzalloc|dma_alloc_coherent)@plt$|^(malloc|calloc|realloc)$/;

/** The destination (last AT&T operand) is memory: a store. */
function isStore(i: Instruction): boolean {
  return /^mov/.test(i.mnemonic) && !/^mov[sz]/.test(i.mnemonic) && /\(/.test(i.operands.split(',').at(-1) ?? '');
}

interface MemoryOperand {
  modrm: number;
  /** Index of the 32-bit displacement, if there is one. */
  disp32?: number;
  /** Index of the byte whose low 3 bits name the base register (ModRM or SIB), when it can change. */
  base?: number;
}

function memoryOperand(i: Instruction): MemoryOperand | undefined {
  const d = decode(i.bytes);
  if (!d || d.modrm === undefined || i.mnemonic.startsWith('lea')) return undefined;
  const m = i.bytes[d.modrm];
  const mod = m >> 6, rm = m & 7;
  if (mod === 3) return undefined;
  const sib = rm === 4;
  const after = d.modrm + 1 + (sib ? 1 : 0);
  const sibBase = sib ? i.bytes[d.modrm + 1] & 7 : -1;
  if (mod === 2 || (mod === 0 && (rm === 5 || sibBase === 5))) return after + 4 <= i.bytes.length ? { modrm: d.modrm, disp32: after } : undefined;
  return { modrm: d.modrm, base: sib ? d.modrm + 1 : d.modrm };
}

/** Alignment padding between functions: never runs, so no fault goes there. */
const padding = /^(nop|data16|cs|int3)/;

/** Whether the type applies to the instruction. */
export function applies(type: BinaryType, i: Instruction): boolean {
  if (padding.test(i.mnemonic)) return false;
  const d = decode(i.bytes);
  switch (type) {
    case 'flip-bit': return true;
    case 'nop': return true;
    case 'corrupt-register': {
      if (d?.modrm === undefined) return false;
      return !regIsOpcode(d.opcode) || i.bytes[d.modrm] >> 6 === 3;
    }
    case 'invert-branch': return conditionAt(i) >= 0;
    case 'remove-init': return isStore(i);
    case 'corrupt-pointer': return memoryOperand(i) !== undefined;
    case 'off-by-one': {
      const c = conditionAt(i);
      return c >= 0 && (i.bytes[c] & 0xf) in offByOne;
    }
    case 'alloc-fail': return i.mnemonic === 'call' && i.bytes.length === 5 && i.bytes[0] === 0xe8 && allocators.test(i.target ?? '');
  }
}

/** Instructions the type could go to; off-by-one prefers backward branches (loops). */
export function candidates(type: BinaryType, instructions: readonly Instruction[]): Instruction[] {
  const all = instructions.filter((i) => applies(type, i));
  if (type !== 'off-by-one') return all;
  const loops = all.filter((i) => jumpTarget(i) < i.offset);
  return loops.length ? loops : all;
}

/** A value in [0, 8) other than `not` and outside `avoid`. */
function otherRegister(rng: Random, not: number, avoid: number[] = []): number {
  return rng.pick([0, 1, 2, 3, 4, 5, 6, 7].filter((r) => r !== not && !avoid.includes(r)));
}

/** The bytes that replace instruction `i` for fault `type`, chosen with `rng`. */
export function mutate(type: BinaryType, i: Instruction, rng: Random): Buffer {
  const b = Buffer.from(i.bytes);
  switch (type) {
    case 'flip-bit': {
      b[rng.int(b.length)] ^= 1 << rng.int(8);
      return b;
    }
    case 'nop':
    case 'remove-init':
      return Buffer.alloc(b.length, 0x90);
    case 'corrupt-register': {
      const d = decode(b)!;
      const m = b[d.modrm!];
      const fields = [...(regIsOpcode(d.opcode) ? [] : ['reg']), ...(m >> 6 === 3 ? ['rm'] : [])];
      if (rng.pick(fields) === 'reg') b[d.modrm!] = (m & ~0x38) | (otherRegister(rng, (m >> 3) & 7) << 3);
      else b[d.modrm!] = (m & ~7) | otherRegister(rng, m & 7);
      return b;
    }
    case 'invert-branch': {
      b[conditionAt(i)] ^= 1;
      return b;
    }
    case 'off-by-one': {
      const c = conditionAt(i);
      b[c] = (b[c] & ~0xf) | offByOne[b[c] & 0xf];
      return b;
    }
    case 'corrupt-pointer': {
      const m = memoryOperand(i)!;
      if (m.disp32 !== undefined) {
        b.writeInt32LE(b.readInt32LE(m.disp32) ^ (1 << (16 + rng.int(15))), m.disp32);
      } else {
        // 4 (SIB escape) and 5 (RIP-relative or disp32) would change the instruction's length
        const base = m.base!;
        b[base] = (b[base] & ~7) | otherRegister(rng, b[base] & 7, [4, 5]);
      }
      return b;
    }
    case 'alloc-fail':
      return Buffer.from([0x31, 0xc0, 0x0f, 0x1f, 0x00]);  // xor %eax,%eax; nopl (%rax): the call "returned" NULL
  }
}
