// A file transfer over the net class: the file goes out through a nooks
// interface (eth0: the e1000 driver on the emulated NIC) as raw Ethernet
// frames to a link partner on the NIC's UDP wire (net-peer.ts), which checks
// every frame's CRC-32 and the file's SHA-256. Frames go to the kernel in
// batches (one send() per window), lost or corrupted ones are sent again
// (go-back-N). The outcome is one JSON object.
//
//   node dist/lib/apps/net-transfer.js --file FILE --peer 127.0.0.1:7000 [--bind 127.0.0.1:0] [--peer-mac MAC] [--timeout-ms 20000]
//
// Exit status 0 when the partner confirmed the file intact, 1 otherwise.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openNet, type NetInterface } from '../classes/net.js';
import { isolationOption, numberOption, runIfMain, withProgramKernel, type Program } from './program.js';
import { CHUNK, HDR, T_ACK, T_DATA, T_FIN, T_RESULT, crc32, isOurs, packet, parseMac } from './net-proto.js';

export interface TransferOptions {
  /** The link partner's MAC address (default 52:54:00:cc:dd:02). */
  peerMac?: string;
  /** Frames in flight at most (default 128). */
  window?: number;
  /** Resend from the first unacknowledged frame after this long without progress (default 100 ms). */
  retransmitMs?: number;
  /** The whole transfer's deadline (default 20 s). */
  timeoutMs?: number;
}

export interface TransferResult {
  ok: boolean;
  interface: string;
  bytes: number;
  frames: number;
  framesSent: number;
  retransmissions: number;
  sha256: string;
  /** The partner's SHA-256 of what it received (absent if it never answered). */
  peerSha256?: string;
  ms: number;
  error?: { code: string; message: string };
}

/** Sends `data` through `eth` to the partner; resolves with the outcome (never rejects). */
export function sendFile(eth: NetInterface, data: Buffer, options: TransferOptions = {}): Promise<TransferResult> {
  const peer = parseMac(options.peerMac ?? '52:54:00:cc:dd:02');
  const me = parseMac(eth.info().mac ?? '00:00:00:00:00:00');
  const window = options.window ?? 128;
  const retransmitMs = options.retransmitMs ?? 100;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const id = (Math.random() * 0xffffffff) >>> 0;
  const total = Math.max(1, Math.ceil(data.length / CHUNK));
  const sha = createHash('sha256').update(data).digest();
  const start = Date.now();
  let base = 0; // first frame not acknowledged
  let next = 0; // next frame to send
  let framesSent = 0;
  let retransmissions = 0;
  let lastProgress = Date.now();
  let finishing = false;
  let dupAcks = 0; // acknowledgements that moved nothing: the partner discarded a frame

  const dataFrame = (seq: number): Buffer => {
    const chunk = data.subarray(seq * CHUNK, Math.min(data.length, (seq + 1) * CHUNK));
    const body = Buffer.alloc(18 + chunk.length);
    body.writeUInt32BE(seq, 0);
    body.writeUInt32BE(total, 4);
    body.writeUInt32BE(data.length, 8);
    body.writeUInt32BE(crc32(chunk), 12);
    body.writeUInt16BE(chunk.length, 16);
    chunk.copy(body, 18);
    return packet(peer, me, T_DATA, id, body);
  };
  const fin = (): Buffer => {
    const body = Buffer.alloc(40);
    body.writeUInt32BE(total, 0);
    body.writeUInt32BE(data.length, 4);
    sha.copy(body, 8);
    return packet(peer, me, T_FIN, id, body);
  };

  return new Promise((resolve) => {
    const result = (ok: boolean, extra: Partial<TransferResult>): TransferResult => ({
      ok, interface: eth.name, bytes: data.length, frames: total, framesSent, retransmissions,
      sha256: sha.toString('hex'), ms: Date.now() - start, ...extra,
    });
    const finish = (r: TransferResult) => {
      clearInterval(timer);
      eth.off('frames', onFrames);
      resolve(r);
    };
    // one batch per call: every frame the window allows
    const pump = () => {
      if (finishing) return;
      const batch: Buffer[] = [];
      while (next < total && next < base + window) batch.push(dataFrame(next++));
      if (batch.length) {
        try {
          eth.send(batch);
        } catch (e) {
          finish(result(false, { error: { code: (e as { code?: string }).code ?? 'EIO', message: (e as Error).message } }));
          return;
        }
        framesSent += batch.length;
      }
      if (base === total) {
        finishing = true;
        lastProgress = Date.now();
        eth.send([fin()]);
      }
    };
    const goBack = () => {
      retransmissions += next - base;
      next = base; // go back N
      lastProgress = Date.now();
    };
    const onFrames = (frames: Buffer[]) => {
      for (const f of frames) {
        if (!isOurs(f) || f.readUInt32BE(15) !== id) continue;
        if (f[14] === T_ACK) {
          const upTo = f.readUInt32BE(HDR);
          if (upTo > base) {
            base = Math.min(upTo, total);
            lastProgress = Date.now();
            dupAcks = 0;
          } else if (upTo === base && next > base && ++dupAcks === 3) {
            goBack(); // fast retransmit: three repeats mean a loss, no need to wait for the timer
          }
        } else if (f[14] === T_RESULT && f.length >= HDR + 37) {
          const ok = f[HDR] === 1;
          const peerSha256 = f.subarray(HDR + 5, HDR + 37).toString('hex');
          finish(result(ok && peerSha256 === sha.toString('hex'), {
            peerSha256,
            ...(ok ? {} : { error: { code: 'EMISMATCH', message: `the partner received ${f.readUInt32BE(HDR + 1)} bytes that do not match (SHA-256 ${peerSha256})` } }),
          }));
          return;
        }
      }
      pump();
    };
    const timer = setInterval(() => {
      if (Date.now() - start > timeoutMs) {
        finish(result(false, { error: { code: 'ETIMEDOUT', message: `${finishing ? 'no verdict from the partner' : `${base} of ${total} frames acknowledged`} after ${timeoutMs} ms` } }));
        return;
      }
      if (Date.now() - lastProgress < retransmitMs) return;
      if (finishing) {
        lastProgress = Date.now();
        eth.send([fin()]);
        return;
      }
      goBack();
      pump();
    }, Math.max(10, retransmitMs / 4));
    eth.on('frames', onFrames);
    pump();
  });
}

export const program: Program = {
  name: 'net-transfer',
  class: 'net',
  summary: 'sends a file through eth0 (e1000 on the emulated NIC) to net-peer on the NIC\'s UDP wire, checked frame by frame and whole',
  options: {
    file: '!PATH', peer: '!HOST:PORT: where net-peer listens', bind: 'HOST:PORT: the NIC\'s end of the wire (default 127.0.0.1:0)',
    'peer-mac': 'MAC (default 52:54:00:cc:dd:02)', 'timeout-ms': 'MS (default 20000)', isolation: isolationOption,
  },
  async run(o) {
    const data = readFileSync(o.file!);
    return withProgramKernel(o, async (kernel) => {
      kernel.addDevice('e1000', { peer: o.peer!, bind: o.bind ?? '127.0.0.1:0' });
      await kernel.load('e1000');
      const eth = openNet(kernel, 'eth0');
      const result = await sendFile(eth, data, { peerMac: o['peer-mac'], timeoutMs: numberOption(o, 'timeout-ms', 20_000) });
      eth.close();
      return result;
    });
  },
};

runIfMain(import.meta.url, program);
