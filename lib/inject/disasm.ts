// A driver's code as the injector sees it: instructions (boundaries from
// `objdump -d`, binutils) grouped into functions, and which functions are the
// driver's own: not the driver runtime linked into every driver
// (native/driver-rt) nor the POSIX personality linked into a --posix one
// (native/driver-rt/posix) nor the compiler's libgcc, not the PLT.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dynamicSymbol } from '../elf.js';
import { packageRoot } from '../paths.js';

export interface Instruction {
  /** Offset from the driver's load base (its file's virtual address). */
  offset: number;
  bytes: Buffer;
  mnemonic: string;
  /** AT&T operands as objdump prints them, comments dropped. */
  operands: string;
  /** The symbol a call or jump goes to (`kmalloc@plt`), when objdump names it. */
  target?: string;
  /** The function it belongs to. */
  fn: string;
}

export interface DriverFunction {
  name: string;
  start: number;
  /** Where the next symbol starts (the padding after a function is its own). */
  end: number;
  /** The driver's own code: in .text, not the driver runtime's nor the personality's. */
  own: boolean;
  /** A NOOKS_EXPORT function (in the built-in drivers, test hooks): faults go there when asked for (planFault's fn, exported). */
  exported: boolean;
}

export interface Disassembly {
  path: string;
  functions: DriverFunction[];
  /** Instructions of the driver's own functions, in address order. */
  instructions: Instruction[];
  /** Offset of a symbol of the .so (e.g. `kmalloc@plt`, `nooks_lkdtm`), or undefined. */
  symbol(name: string): number | undefined;
}

/** The entry points every driver has: faults there show at load and at every restart. */
const entryPoints = new Set(['nooks_module_init', 'nooks_module_exit']);

/** Where a POSIX driver's archives' code is (native/driver-rt/posix/runtime.ld). */
const posixRuntimeSection = 'nooks_runtime_text';

let runtimeFunctions: Set<string> | undefined;

/** The functions of the driver runtime (build/Release/driver_rt.a). */
function driverRuntime(): Set<string> {
  runtimeFunctions ??= new Set(execFileSync('nm', ['--defined-only', join(packageRoot, 'build', 'Release', 'driver_rt.a')], { encoding: 'utf8' })
    .split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3 && /^[tT]$/.test(f[1])).map((f) => f[2]));
  return runtimeFunctions;
}

const cache = new Map<string, Disassembly>();

export function disassemble(path: string): Disassembly {
  const hit = cache.get(path);
  if (hit) return hit;
  let text: string;
  try {
    text = execFileSync('objdump', ['-d', '-w', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`objdump -d ${path} failed (the injector needs binutils): ${(e as Error).message}`);
  }
  const elf = readFileSync(path);
  const posix = dynamicSymbol(elf, 'nooks_posix_start') !== undefined;
  if (posix && !text.includes(`Disassembly of section ${posixRuntimeSection}:`)) {
    throw new Error(`${path} is a POSIX driver linked without the personality's runtime.ld (\`nooks sdk --posix-ldflags\`): the injector cannot tell its own code`);
  }
  const symbols = new Map<string, number>();
  const functions: DriverFunction[] = [];
  const all: Instruction[] = [];
  let section = '';
  let current: DriverFunction | undefined;
  for (const line of text.split('\n')) {
    const sec = /^Disassembly of section (\S+):/.exec(line);
    if (sec) {
      section = sec[1];
      continue;
    }
    const label = /^([0-9a-f]+) <([^>]+)>:$/.exec(line);
    if (label) {
      const start = parseInt(label[1], 16);
      const name = label[2];
      symbols.set(name, start);
      if (current) current.end = start;
      const exported = !entryPoints.has(name) && dynamicSymbol(elf, name) !== undefined;
      // A POSIX driver's archives are linked into a section of their own (native/driver-rt/posix/runtime.ld),
      // so its .text is exactly its own code. A kapi driver's .text holds the driver runtime's functions too,
      // told apart by name.
      current = { name, start, end: start, own: section === '.text' && (posix || !driverRuntime().has(name)), exported };
      functions.push(current);
      continue;
    }
    const insn = /^\s+([0-9a-f]+):\t([0-9a-f ]+)\t(\S+)\s*([^#<]*)(?:<([^>+]+)>)?/.exec(line);
    if (!insn || !current) continue;
    const offset = parseInt(insn[1], 16);
    const bytes = Buffer.from(insn[2].replace(/\s+/g, ''), 'hex');
    current.end = offset + bytes.length;
    all.push({ offset, bytes, mnemonic: insn[3], operands: insn[4].trim(), fn: current.name, ...(insn[5] ? { target: insn[5] } : {}) });
  }
  const own = new Set(functions.filter((f) => f.own).map((f) => f.name));
  const d: Disassembly = {
    path,
    functions,
    instructions: all.filter((i) => own.has(i.fn)),
    symbol: (name) => symbols.get(name),
  };
  cache.set(path, d);
  return d;
}
