// The loader against damaged driver files: deterministic (seeded) bit flips,
// overwritten words and truncations of a real driver (build/drivers/ticker.so),
// aimed at what glibc's dlopen reads: the ELF header, the program headers, the
// dynamic section and the tables it points to (text bytes would only make a
// driver that faults inside its domain). Each file is loaded in a child
// process, many per child (a refusal does not crash): no child may die by a
// signal, and each file is either refused with a code and a message naming
// it, or loads and runs (faults contained). A second seed is a refused driver
// (thread-local storage, a constructor, an IFUNC), so that the checking that
// goes on after a refusal meets the damage too; its constructor and IFUNC
// resolver end the process with exit code 99, so a copy whose load-time code
// ran in the host shows. NOOKS_FUZZ_SEED and NOOKS_FUZZ_COUNT choose another
// or a larger set of files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverPath, packageRoot } from '../lib/paths.js';
import { buildDriver } from './helpers/build-driver.js';
import { generator, runNode } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const child = join(packageRoot, 'test', 'helpers', 'load-each.mjs');
const original = readFileSync(driverPath(process.env.NOOKS_FUZZ_DRIVER ?? 'ticker'));
const seed = Number(process.env.NOOKS_FUZZ_SEED ?? 12);
const count = Number(process.env.NOOKS_FUZZ_COUNT ?? 1500);
const perChild = 80;
const tripwireExit = 99;

// Refused three times over; the exit_group syscall, not libc's exit, which a driver cannot import.
const refusedSource = `#include <nooks/kapi.h>
__attribute__((noreturn)) static void tripwire(void) {
  for (;;) __asm__ volatile("syscall" : : "a"(231), "D"(${tripwireExit}));
}
__attribute__((constructor)) static void constructor(void) { tripwire(); }
static long twin_impl(long x) { return x; }
static long (*resolve_twin(void))(long) { tripwire(); return twin_impl; }
NOOKS_EXPORT long twin(long x) __attribute__((ifunc("resolve_twin")));
static __thread long calls;
NOOKS_EXPORT long count(void) { return ++calls; }
NOOKS_EXPORT long echo(long x) { return x; }
static int ok_init(void) { return 0; }
module_init(ok_init);
`;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;

interface Region {
  name: string;
  lo: number;
  hi: number;
}

/** The parts of the file dlopen reads, by name. */
function regions(elf: Buffer): Region[] {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phnum = elf.readUInt16LE(0x38);
  const ph = (i: number, field: number) => Number(elf.readBigUInt64LE(phoff + 56 * i + field));
  const ofType = (type: number) => [...Array(phnum).keys()].find((i) => elf.readUInt32LE(phoff + 56 * i) === type)!;
  const dynamic = ofType(PT_DYNAMIC);
  return [
    { name: 'ELF header', lo: 0, hi: 64 },
    { name: 'program headers', lo: phoff, hi: phoff + 56 * phnum },
    { name: 'dynamic section', lo: ph(dynamic, 8), hi: ph(dynamic, 8) + ph(dynamic, 32) },
    // hash tables, symbols, strings and relocations follow the headers in the first segment
    { name: 'dynamic tables', lo: phoff + 56 * phnum, hi: ph(ofType(PT_LOAD), 32) },
  ];
}

interface Damaged {
  what: string;
  bytes: Buffer;
}

function damagedCopies(elf: Buffer, count: number): Damaged[] {
  const random = generator(seed);
  const parts = regions(elf);
  const out: Damaged[] = [];
  // the issue's case, by hand: PT_DYNAMIC's sizes and address
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const dynamic = [...Array(elf.readUInt16LE(0x38)).keys()].find((i) => elf.readUInt32LE(phoff + 56 * i) === PT_DYNAMIC)!;
  for (const [field, name] of [[8, 'p_offset'], [16, 'p_vaddr'], [32, 'p_filesz'], [40, 'p_memsz']] as const) {
    for (const value of [0n, 8n, 0x1000n, 0x100000n, 0xfffffffffffffff0n]) {
      const bytes = Buffer.from(elf);
      bytes.writeBigUInt64LE(value, phoff + 56 * dynamic + field);
      out.push({ what: `PT_DYNAMIC ${name} = 0x${value.toString(16)}`, bytes });
    }
  }
  for (let n = 0; n < count; n++) {
    const part = parts[random(parts.length)];
    const bytes = Buffer.from(elf);
    if (random(3) === 0) {
      // a whole field (4 or 8 bytes): a size, an offset, an index or flags made large, small or odd
      const size = random(2) === 0 ? 4 : 8;
      const at = Math.min(part.lo + size * random(Math.max(1, (part.hi - part.lo) / size)), bytes.length - size);
      const value = [0, 1, 7, 0x7fff, 0xffffffff, random(0x10000), random(0x100000000)][random(7)];
      if (size === 4) bytes.writeUInt32LE(value, at);
      else bytes.writeBigUInt64LE(random(4) === 0 ? BigInt(value) << 32n : BigInt(value), at);
      out.push({ what: `${part.name}: ${size} bytes at 0x${at.toString(16)} = 0x${Buffer.from(bytes.subarray(at, at + size)).reverse().toString('hex')}`, bytes });
    } else {
      const flips: string[] = [];
      for (let k = 1 + random(3); k > 0; k--) {
        const at = part.lo + random(part.hi - part.lo);
        const bit = random(8);
        bytes[at] ^= 1 << bit;
        flips.push(`0x${at.toString(16)}.${bit}`);
      }
      out.push({ what: `${part.name}: bits ${flips.join(' ')} flipped`, bytes });
    }
  }
  // truncations: at each region's edges, and anywhere
  const cuts = new Set([...parts.flatMap((p) => [p.lo, p.lo + 1, p.hi - 1, p.hi]), ...Array.from({ length: 40 }, () => random(elf.length))]);
  for (const cut of [...cuts].sort((a, b) => a - b)) out.push({ what: `truncated to ${cut} bytes`, bytes: elf.subarray(0, cut) });
  return out;
}

interface Outcome {
  file: string;
  code?: string;
  message?: string;
  loaded?: boolean;
  result?: string;
}

interface Run {
  outcomes: Outcome[];
  trying?: string; // the last file it started on
  signal: string | null;
  code: number | null;
  stderr: string;
}

/** Loads `files` in one child; their outcomes, and how it ended. */
async function loadAll(files: string[]): Promise<Run> {
  const list = join(dir, 'files.list');
  writeFileSync(list, files.join('\n'));
  const run = await runNode([child, 'mprotect', list, 'echo', '7'], packageRoot, 60_000);
  const lines = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const outcomes = lines.filter((o) => o.file !== undefined);
  return { outcomes, trying: lines.findLast((o) => o.trying)?.trying, signal: run.signal, code: run.code, stderr: run.stderr };
}

describe('damaged driver files', () => {
  it('the undamaged driver loads and runs in the child', async () => {
    const path = join(dir, 'original.so');
    writeFileSync(path, original);
    const { outcomes, code } = await loadAll([path]);
    expect(outcomes).toEqual([{ file: path, loaded: true, result: '7' }]);
    expect(code).toBe(0);
  });

  /** Damaged copies of `elf` (named `prefix`NNNN.so) loaded in children: none kills its child; the outcomes. */
  async function fuzz(elf: Buffer, prefix: string, count: number): Promise<Outcome[]> {
    const copies = damagedCopies(elf, count);
    const what = new Map<string, string>();
    const files = copies.map((c, i) => {
      const path = join(dir, `${prefix}${String(i).padStart(4, '0')}.so`);
      writeFileSync(path, c.bytes);
      what.set(path, c.what);
      return path;
    });
    const outcomes: Outcome[] = [];
    const killers: string[] = [];
    const how = (r: Run) => `${r.signal ?? `exit ${r.code}`}: ${r.stderr.slice(0, 200)}`;
    // A child that dies (or exits, as the tripwire makes it) names the file it
    // was on; that file is tried again alone (if the child lives, damage from an
    // earlier file showed late: the batch is to blame), and the rest of the
    // batch goes on in a new child.
    for (let next = 0; next < files.length && killers.length < 10; ) {
      const run = await loadAll(files.slice(next, next + perChild));
      outcomes.push(...run.outcomes);
      if (run.signal === null && run.code === 0) {
        next += perChild;
        continue;
      }
      if (run.trying === undefined) throw new Error(`the child died before loading anything: ${how(run)}`);
      const alone = await loadAll([run.trying]);
      const file = `${run.trying} (${what.get(run.trying)})`;
      killers.push(alone.signal !== null || alone.code !== 0 ? `${file}: ${how(alone)}` : `a batch died on ${file} (${how(run)}), though it alone does not`);
      next = files.indexOf(run.trying) + 1;
    }
    expect(killers).toEqual([]);
    expect(outcomes.map((o) => o.file).sort()).toEqual(files);
    for (const o of outcomes) {
      if (o.loaded) continue;
      expect(o.code, `${what.get(o.file)}: ${o.message}`).toMatch(/^E[A-Z]+$/);
      expect(o.message).toContain(o.file);
      expect(o.message!.length).toBeGreaterThan(o.file.length + 10);
    }
    return outcomes;
  }

  it('never crash the host, and each refusal names its problem', async () => {
    const outcomes = await fuzz(original, 'd', count);
    // the damage reached what dlopen reads: most copies are refused as malformed ELF
    const malformed = outcomes.filter((o) => o.code === 'ENOTELF').length;
    expect(malformed).toBeGreaterThan(outcomes.length / 2);
  }, 300_000);

  describe('a refused driver (thread-local storage, a constructor, an IFUNC)', () => {
    let refused: Buffer;
    beforeAll(() => {
      refused = readFileSync(buildDriver(dir, 'refused', refusedSource));
    });

    it('is refused for each, and its tripwire ends a process that runs its load-time code with exit 99', async () => {
      const path = join(dir, 'refused-original.so');
      writeFileSync(path, refused);
      const { outcomes } = await loadAll([path]);
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0].code).toBe('ETLS');
      expect(outcomes[0].message).toMatch(/constructors.*\[ECTOR\]/);
      expect(outcomes[0].message).toMatch(/twin is an IFUNC.*\[ECTOR\]/);
      // plain dlopen, with the kernel API it imports there (the addon's, global), runs its load-time code: the tripwire works
      const addon = join(packageRoot, 'build', 'Release', 'nooks.node');
      const opened = await runNode(['-e', "const { RTLD_NOW, RTLD_GLOBAL } = require('node:os').constants.dlopen;\n" +
        `process.dlopen({ exports: {} }, ${JSON.stringify(addon)}, RTLD_NOW | RTLD_GLOBAL);\n` +
        `process.dlopen({ exports: {} }, ${JSON.stringify(path)});`], packageRoot, 60_000);
      expect({ code: opened.code, signal: opened.signal }).toEqual({ code: tripwireExit, signal: null });
    });

    it('damaged: never crash the host nor run its load-time code there, and each refusal names its problem', async () => {
      const outcomes = await fuzz(refused, 'r', count);
      expect(outcomes.filter((o) => o.code === 'ENOTELF').length).toBeGreaterThan(outcomes.length / 2);
    }, 300_000);
  });
});
