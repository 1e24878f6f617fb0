// A database-like workload on a block device: fixed-size records written at
// random, many in flight, a flush after each round (a commit), then every
// record read back and verified. The report is machine-readable (JSON); as
// a program it exits 0 on success and 1 on failure:
//   node dist/lib/apps/db.js --image /tmp/db.img [--size 4194304] [--rounds 8] [--writes 256] [--isolation mprotect]
import { createHash } from 'node:crypto';
import { openBlock, SECTOR_SIZE, type BlockDevice } from '../classes/block.js';
import { Kernel, type Isolation } from '../kernel.js';
import { numberOption, runIfMain, type Program } from './program.js';

export interface DbOptions {
  /** Records (one 512-byte sector each) from the start of the disk; default: the whole disk, at most 4096. */
  records?: number;
  /** Commit rounds; default 8. */
  rounds?: number;
  /** Random record writes per round, all in flight at once; default 256. */
  writesPerRound?: number;
  /** Seed of the random record choice; default 1. */
  seed?: number;
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
  const records = Math.min(options.records ?? 4096, Math.floor(disk.sizeBytes / SECTOR_SIZE));
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
      await disk.submitAll([...chosen].map((rec) => ({ op: 'write' as const, offset: rec * SECTOR_SIZE, data: encode(rec, r) })));
      for (const rec of chosen) versions[rec] = r;
      report.writes += chosen.size;
      await disk.flush();
      report.flushes++;
    }
    // verify every record, in large reads (many sectors per request)
    const span = 256;
    const reads = [];
    for (let first = 0; first < records; first += span)
      reads.push({ op: 'read' as const, offset: first * SECTOR_SIZE, length: Math.min(span, records - first) * SECTOR_SIZE });
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

/** As a program: boots a kernel with one blk device and its driver, runs the workload, prints the report. */
export const program: Program = {
  name: 'db',
  class: 'block',
  summary: 'random record writes with flushes on the emulated disk, then every record verified',
  options: {
    image: '!PATH', size: 'BYTES (default 4194304)', rounds: 'N (default 8)', writes: 'N: per round (default 256)',
    records: 'N', isolation: 'MODE (default auto)',
  },
  async run(o) {
    const kernel = await Kernel.boot({ isolation: (o.isolation ?? 'auto') as Isolation | 'auto' });
    try {
      const dev = kernel.addDevice('blk', { image: o.image!, size: numberOption(o, 'size', 4 << 20) });
      await kernel.load('blk');
      return await runDb(openBlock(kernel, dev.name), {
        rounds: numberOption(o, 'rounds'), writesPerRound: numberOption(o, 'writes'), records: numberOption(o, 'records'),
      });
    } finally {
      await kernel.shutdown();
    }
  },
};

runIfMain(import.meta.url, program);
