// A database-like workload on a block device: fixed-size records written at
// random, many in flight, a flush after each round (a commit), then every
// record read back and verified. The report is machine-readable (JSON); as
// a program it exits 0 on success and 1 on failure:
//   node dist/lib/apps/db.js --image /tmp/db.img [--size 4194304] [--rounds 8] [--writes 256] [--isolation mprotect] [--force]
// As a program its image begins with a header sector, so that it never takes
// another file for its own (a mistyped path) unless forced.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { openBlock, SECTOR_SIZE, type BlockDevice } from '../classes/block.js';
import { isolationOption, numberOption, runIfMain, UsageMistake, withProgramKernel, type Program } from './program.js';

export interface DbOptions {
  /** Records (one 512-byte sector each) from the start of the disk; default: the whole disk, at most 4096. */
  records?: number;
  /** Commit rounds; default 8. */
  rounds?: number;
  /** Random record writes per round, all in flight at once; default 256. */
  writesPerRound?: number;
  /** Seed of the random record choice; default 1. */
  seed?: number;
  /** Sectors before the first record (the program's header); default 0. */
  firstSector?: number;
}

export interface DbReport {
  ok: boolean;
  device: string;
  records: number;
  rounds: number;
  writes: number;
  flushes: number;
  verified: number;
  /** Records whose content was not the last committed version (at most 10 listed). */
  mismatches: number;
  firstMismatches: { record: number; expected: number; found: string }[];
  error?: { code: string; message: string };
  ms: number;
}

const MAGIC = 0x4e4b4442; // "NKDB"

/** One record: magic, record number, version, payload, then a SHA-256 of all that. */
function encode(record: number, version: number): Buffer {
  const b = Buffer.alloc(SECTOR_SIZE);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(record, 4);
  b.writeUInt32LE(version, 8);
  for (let i = 12; i < SECTOR_SIZE - 32; i++) b[i] = (record * 31 + version * 7 + i) & 0xff;
  createHash('sha256').update(b.subarray(0, SECTOR_SIZE - 32)).digest().copy(b, SECTOR_SIZE - 32);
  return b;
}

/** The version a record holds, or why it is not a valid record. */
function decode(record: number, b: Buffer): number | string {
  if (b.readUInt32LE(0) !== MAGIC) return 'no record';
  if (b.readUInt32LE(4) !== record) return `record ${b.readUInt32LE(4)}`;
  const sum = createHash('sha256').update(b.subarray(0, SECTOR_SIZE - 32)).digest();
  if (!sum.equals(b.subarray(SECTOR_SIZE - 32))) return 'bad checksum';
  return b.readUInt32LE(8);
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** Runs the workload on an open disk; never throws: errors are in the report. */
export async function runDb(disk: BlockDevice, options: DbOptions = {}): Promise<DbReport> {
  const start = Date.now();
  const first = options.firstSector ?? 0;
  const records = Math.min(options.records ?? 4096, Math.floor(disk.sizeBytes / SECTOR_SIZE) - first);
  const rounds = options.rounds ?? 8;
  const perRound = options.writesPerRound ?? 256;
  const random = rng(options.seed ?? 1);
  const versions = new Array<number>(records).fill(0); // 0: never written
  const report: DbReport = {
    ok: false, device: disk.name, records, rounds, writes: 0, flushes: 0, verified: 0, mismatches: 0, firstMismatches: [], ms: 0,
  };
  try {
    for (let r = 1; r <= rounds; r++) {
      // distinct records per round: concurrent writes to one record would race
      const chosen = new Set<number>();
      while (chosen.size < Math.min(perRound, records)) chosen.add(Math.floor(random() * records));
      await disk.submitAll([...chosen].map((rec) => ({ op: 'write' as const, offset: (first + rec) * SECTOR_SIZE, data: encode(rec, r) })));
      for (const rec of chosen) versions[rec] = r;
      report.writes += chosen.size;
      await disk.flush();
      report.flushes++;
    }
    // verify every record, in large reads (many sectors per request)
    const span = 256;
    const reads = [];
    for (let from = 0; from < records; from += span)
      reads.push({ op: 'read' as const, offset: (first + from) * SECTOR_SIZE, length: Math.min(span, records - from) * SECTOR_SIZE });
    const data = await disk.submitAll(reads);
    data.forEach((buf, i) => {
      for (let k = 0; k * SECTOR_SIZE < buf!.length; k++) {
        const rec = i * span + k;
        if (versions[rec] === 0) continue;
        const found = decode(rec, buf!.subarray(k * SECTOR_SIZE, (k + 1) * SECTOR_SIZE));
        report.verified++;
        if (found !== versions[rec]) {
          report.mismatches++;
          if (report.firstMismatches.length < 10) report.firstMismatches.push({ record: rec, expected: versions[rec], found: String(found) });
        }
      }
    });
    report.ok = report.mismatches === 0;
  } catch (e) {
    const err = e as Error & { code?: string };
    report.error = { code: err.code ?? 'ERROR', message: err.message };
  }
  report.ms = Date.now() - start;
  return report;
}

/** The program's image header: its first sector, before the records. */
const IMAGE_MAGIC = Buffer.from('NOOKSDB1');

/** An image may be new (absent or empty) or the program's own; anything else only with --force. */
function checkImage(path: string, force: boolean): void {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error(`${path} is a directory, not a db image`), { code: 'EISDIR' });
    size = st.size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (size === 0 || force) return;
  const head = Buffer.alloc(IMAGE_MAGIC.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(IMAGE_MAGIC)) {
    throw Object.assign(new Error(`${path} is not a db image (it does not begin with ${IMAGE_MAGIC}): not overwritten; --force uses it anyway`),
      { code: 'ENOTIMAGE' });
  }
}

/** As a program: boots a kernel with one blk device on the image and its driver, writes the header, runs the workload, prints the report. */
export const program: Program = {
  name: 'db',
  class: 'block',
  summary: 'random record writes with flushes on the emulated disk, then every record verified',
  options: {
    image: '!PATH: a db image, or a new file (a header sector, then the records)', size: 'BYTES: the records\' space (default 4194304)',
    rounds: 'N (default 8)', writes: 'N: per round (default 256)', records: 'N', isolation: isolationOption,
  },
  switches: { force: 'use an image file that is not a db image (overwriting it)' },
  async run(o) {
    const size = numberOption(o, 'size', 4 << 20);
    if (!Number.isInteger(size) || size === 0 || size % SECTOR_SIZE) throw new UsageMistake(`--size must be a positive multiple of ${SECTOR_SIZE} bytes, got "${o.size}"`);
    checkImage(o.image!, o.force === 'true');
    return withProgramKernel(o, async (kernel) => {
      // the blk device locks the image: a second db on it is refused with EBUSY
      const dev = kernel.addDevice('blk', { image: o.image!, size: size + SECTOR_SIZE });
      await kernel.load('blk');
      const disk = openBlock(kernel, dev.name);
      await disk.write(0, Buffer.concat([IMAGE_MAGIC], SECTOR_SIZE));
      return runDb(disk, {
        rounds: numberOption(o, 'rounds'), writesPerRound: numberOption(o, 'writes'), records: numberOption(o, 'records'), firstSector: 1,
      });
    });
  },
};

runIfMain(import.meta.url, program);
