// A driver's code as the injector sees it: instructions (boundaries from
// `objdump -d`, binutils) grouped into functions, and which functions are the
// driver's own: those in .text, where the linker put the driver's objects. The
// archives linked into every driver (the driver runtime of native/driver-rt, a
// --posix one's personality, the compiler's libgcc) go to a section of their
// own (native/driver-rt/runtime.ld), and the PLT has its own too.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dynamicSymbol, notElf, sections } from '../elf.js';
import { runtimeScript } from '../sdk/flags.js';

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
  /** The driver's own code: in .text, not the driver runtime's, libgcc's nor the personality's. */
  own: boolean;
  /** A NOOKS_EXPORT function (in the built-in drivers, test hooks): faults go there when asked for (planFault's fn, exported). */
  exported: boolean;
}

export interface Disassembly {
  path: string;
  functions: DriverFunction[];
  /** Instructions of the driver's own functions, in address order. */
  instructions: Instruction[];
  /** Offset of a symbol of the .so (e.g. `kmalloc@plt`, `nooks_lkdtm`; of a name twice, the last: the runtime's), or undefined. */
  symbol(name: string): number | undefined;
}

/** The entry points every driver has: faults there show at load and at every restart. */
const entryPoints = new Set(['nooks_module_init', 'nooks_module_exit']);

/** Where a driver's archives' code is (native/driver-rt/runtime.ld). */
const runtimeSection = 'nooks_runtime_text';

const cache = new Map<string, Disassembly>();

export function disassemble(path: string): Disassembly {
  const hit = cache.get(path);
  if (hit) return hit;
  const elf = readFileSync(path);
  // objdump's own complaint about a source file or a script would read as a missing binutils
  if (!elf.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'))) {
    throw notElf(`${path} is not a driver (not an ELF file): build one with nooks build`);
  }
  // objdump finds the code by its sections: of a file without (sstrip's), it shows none
  if (sections(elf).length === 0) {
    throw new Error(`${path} has no section headers (stripped with sstrip?): the injector finds the driver's code by them; inject into the driver as nooks build made it`);
  }
  // read before objdump, which refuses a damaged symbol table as an unknown format (read as a missing binutils)
  const posix = dynamicSymbol(elf, 'nooks_posix_start') !== undefined;
  let text: string;
  try {
    text = execFileSync('objdump', ['-d', '-w', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`objdump -d ${path} failed (the injector needs binutils): ${(e as Error).message}`);
  }
  // every driver links some of the runtime (nooks_lkdtm at least): without the section, the runtime's code is in .text
  if (!text.includes(`Disassembly of section ${runtimeSection}:`)) {
    const flags = posix ? '--posix-ldflags' : '--ldflags';
    throw new Error(`${path} was linked without the driver runtime's runtime.ld (-Wl,-T,${runtimeScript}, in \`nooks sdk ${flags}\`; rebuild it): the injector cannot tell its own code`);
  }
  const symbols = new Map<string, number>();
  const functions: DriverFunction[] = [];
  const instructions: Instruction[] = [];
  let section = '';
  let current: DriverFunction | undefined;
  for (const line of text.split('\n')) {
    const sec = /^Disassembly of section (\S+):/.exec(line);
    if (sec) {
      section = sec[1];
      current = undefined; // a function ends with its section: .text's last is not as long as the gap after it
      continue;
    }
    const label = /^([0-9a-f]+) <([^>]+)>:$/.exec(line);
    if (label) {
      const start = parseInt(label[1], 16);
      const name = label[2];
      symbols.set(name, start);
      if (current) current.end = start;
      const exported = !entryPoints.has(name) && dynamicSymbol(elf, name) !== undefined;
      current = { name, start, end: start, own: section === '.text', exported };
      functions.push(current);
      continue;
    }
    const insn = /^\s+([0-9a-f]+):\t([0-9a-f ]+)\t(\S+)\s*([^#<]*)(?:<([^>+]+)>)?/.exec(line);
    if (!insn || !current) continue;
    const offset = parseInt(insn[1], 16);
    const bytes = Buffer.from(insn[2].replace(/\s+/g, ''), 'hex');
    current.end = offset + bytes.length;
    // by where it is, not by its function's name, which the runtime's may share (a static emit)
    if (current.own) instructions.push({ offset, bytes, mnemonic: insn[3], operands: insn[4].trim(), fn: current.name, ...(insn[5] ? { target: insn[5] } : {}) });
  }
  const d: Disassembly = {
    path,
    functions,
    instructions,
    symbol: (name) => symbols.get(name),
  };
  cache.set(path, d);
  return d;
}
