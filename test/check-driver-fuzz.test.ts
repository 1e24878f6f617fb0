// checkDriver (a fallback's check: the file read, never loaded) against
// damaged copies of a driver with params (build/drivers/memtest.so), aimed at
// what only it reads: the section headers and their names, the section
// .nooks_params, the relocations that give its pointers and the names they
// point to. Deterministic (seeded). All are checked in one child process: it
// must not die, and each file is accepted or refused with a code and a message
// naming it. (test/elf-fuzz.test.ts damages what dlopen reads, and loads.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { driverPath, packageRoot } from '../lib/paths.js';
import { generator, runNode } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-check-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const original = readFileSync(driverPath('memtest'));
const count = 2000;

/** The file ranges of the section headers, the section names and the sections named. */
function targets(elf: Buffer): [number, number][] {
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shnum = elf.readUInt16LE(0x3c);
  const sh = (i: number, field: number) => Number(elf.readBigUInt64LE(shoff + 64 * i + field));
  const names = sh(elf.readUInt16LE(0x3e), 24);
  const named = (n: string) => [...Array(shnum).keys()].find((i) => elf.toString('latin1', names + elf.readUInt32LE(shoff + 64 * i), names + elf.readUInt32LE(shoff + 64 * i) + n.length + 1) === `${n}\0`)!;
  const section = (n: string): [number, number] => [sh(named(n), 24), sh(named(n), 24) + sh(named(n), 32)];
  return [[shoff, shoff + 64 * shnum], section('.shstrtab'), section('.nooks_params'), section('.rela.dyn'), section('.rodata')];
}

it('checkDriver never crashes on a damaged driver file, and each refusal names its problem', async () => {
  const random = generator(20);
  const parts = targets(original);
  const files = Array.from({ length: count }, (_, n) => {
    const bytes = Buffer.from(original);
    const [lo, hi] = parts[random(parts.length)];
    if (random(2) === 0) {
      // a word: an address, size, offset or index made large, small, odd or another section's
      const at = lo + 8 * random((hi - lo) / 8);
      bytes.writeBigUInt64LE(BigInt([0, 1, 7, 0xfff, 0x4000, 0x6017, 0x6019, 0xffffffff, random(0x10000)][random(9)]) << BigInt(32 * random(2)), at);
    } else {
      for (let k = 1 + random(3); k > 0; k--) bytes[lo + random(hi - lo)] ^= 1 << random(8);
    }
    const path = join(dir, `c${n}.so`);
    writeFileSync(path, bytes);
    return path;
  });
  writeFileSync(join(dir, 'files.json'), JSON.stringify(files));
  const script =
    `import { readFileSync } from 'node:fs'; import { native } from ${JSON.stringify(join(packageRoot, 'dist', 'lib', 'native.js'))};` +
    `for (const file of JSON.parse(readFileSync(${JSON.stringify(join(dir, 'files.json'))}, 'utf8'))) {` +
    `  try { native().checkDriver(file, { count: 1, greeting: 'x' }); console.log(JSON.stringify({ file })); }` +
    `  catch (e) { console.log(JSON.stringify({ file, code: e.code, message: e.message })); } }`;
  const run = await runNode(['--input-type=module', '-e', script], packageRoot, 120_000);
  expect({ signal: run.signal, code: run.code, stderr: run.stderr }).toEqual({ signal: null, code: 0, stderr: '' });
  const outcomes: { file: string; code?: string; message?: string }[] = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  expect(outcomes.map((o) => o.file)).toEqual(files);
  for (const o of outcomes.filter((o) => o.code !== undefined)) {
    expect(o.code).toMatch(/^E[A-Z]+$/);
    expect(o.message).toContain(`${o.file}: `);
  }
  // the damage reached the params: many copies are refused for them
  expect(outcomes.filter((o) => o.code === 'EPARAM').length).toBeGreaterThan(count / 20);
}, 180_000);
