// WAV files (RIFF, 16-bit PCM) for the sound applications and tests.
import { readFileSync, writeFileSync } from 'node:fs';

export interface Wav {
  rate: number;
  channels: number;
  bits: number;
  /** Interleaved samples (16-bit LE). */
  data: Buffer;
  frames: number;
}

/** Parses a RIFF/WAVE file; throws a clear Error for anything else. */
export function readWav(path: string): Wav {
  const b = readFileSync(path);
  if (b.length < 12 || b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${path}: not a RIFF/WAVE file`);
  let fmt: { rate: number; channels: number; bits: number } | undefined;
  for (let off = 12; off + 8 <= b.length;) {
    const id = b.toString('ascii', off, off + 4);
    const len = Math.min(b.readUInt32LE(off + 4), b.length - off - 8);
    if (id === 'fmt ') fmt = { channels: b.readUInt16LE(off + 10), rate: b.readUInt32LE(off + 12), bits: b.readUInt16LE(off + 22) };
    if (id === 'data') {
      if (!fmt) throw new Error(`${path}: data chunk before fmt`);
      const data = b.subarray(off + 8, off + 8 + len);
      return { ...fmt, data, frames: Math.floor(data.length / (fmt.channels * (fmt.bits / 8))) };
    }
    off += 8 + len + (len & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

export function writeWav(path: string, rate: number, channels: number, data: Buffer): void {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([h, data]));
}

/** `seconds` of a sine at `freq` Hz, amplitude `amp` (0..1), on every channel. */
export function tone(rate: number, channels: number, freq: number, seconds: number, amp = 0.5): Buffer {
  const frames = Math.round(rate * seconds);
  const b = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(amp * 32767 * Math.sin((2 * Math.PI * freq * i) / rate));
    for (let c = 0; c < channels; c++) b.writeInt16LE(v, (i * channels + c) * 2);
  }
  return b;
}
