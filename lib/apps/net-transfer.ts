// A file transfer over the net class: the file goes out through a nooks
// interface (eth0: the e1000 driver on the emulated NIC) as raw Ethernet
// frames to a link partner on the NIC's UDP wire (net-peer.ts), which checks
// every frame's CRC-32 and the file's SHA-256. Frames go to the kernel in
// batches (one send() per window); the partner's selective acknowledgements
// say which frames it lacks, and only those are sent again (net-proto.ts).
// The outcome is one JSON object.
//
//   node dist/lib/apps/net-transfer.js --file FILE --peer 127.0.0.1:7000 [--bind 127.0.0.1:0] [--peer-mac MAC] [--timeout-ms 20000]
//
// Exit status 0 when the partner confirmed the file intact, 1 otherwise.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openNet, type NetInterface } from '../classes/net.js';
import { isolationOption, numberOption, runIfMain, withProgramKernel, type Program } from './program.js';
import { CHUNK, HDR, PARTNER_MAC, SACK_SPAN, T_ACK, T_BYE, T_DATA, T_FIN, T_POLL, T_RESULT, crc32, isOurs, packet, parseAck, parseMac, type Ack } from './net-proto.js';

export interface TransferOptions {
  /** The link partner's MAC address (default PARTNER_MAC, 52:54:00:cc:dd:02). */
  peerMac?: string;
  /** Frames sent and not yet acknowledged, from the first unacknowledged one, at most: 1 to SACK_SPAN (8192), what an
   * acknowledgement covers (default 128; outside that range the transfer fails with EINVAL, sending nothing). */
  window?: number;
  /** After this long without progress ask the partner what it has (POLL), or send FIN again (default 100 ms). */
  retransmitMs?: number;
  /** The whole transfer's deadline (default 20 s). */
  timeoutMs?: number;
}

export interface TransferResult {
  ok: boolean;
  interface: string;
  bytes: number;
  frames: number;
  /** Data frames sent, first copies and retransmissions. */
  framesSent: number;
  /** Data frames sent again: as many as were lost on the way. */
  retransmissions: number;
  sha256: string;
  /** The partner's SHA-256 of what it received (absent if it never answered). */
  peerSha256?: string;
  ms: number;
  error?: { code: string; message: string };
}

/** Sends `data` through `eth` to the partner; resolves with the outcome (never rejects). */
export function sendFile(eth: NetInterface, data: Buffer, options: TransferOptions = {}): Promise<TransferResult> {
  const peer = parseMac(options.peerMac ?? PARTNER_MAC);
  const me = parseMac(eth.info().mac ?? '00:00:00:00:00:00');
  const window = options.window ?? 128;
  const retransmitMs = options.retransmitMs ?? 100;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const id = (Math.random() * 0xffffffff) >>> 0;
  const total = Math.max(1, Math.ceil(data.length / CHUNK));
  const sha = createHash('sha256').update(data).digest();
  const start = Date.now();
  const acked = new Uint8Array(total);
  // sent again since the partner last said it lacked them: a later ACK sent before the copy arrived says so too
  const resent = new Uint8Array(total);
  let base = 0; // first frame not acknowledged
  let next = 0; // next frame never sent
  let framesSent = 0;
  let retransmissions = 0;
  let lastProgress = Date.now();
  let finishing = false;
  // transmit() calls so far, and the call that sent each frame's latest copy: what went out before a POLL
  let sends = 0;
  const sentIn = new Float64Array(total);
  let poll = 0; // the last POLL's number
  let pollSend = -1; // the transmit() call that sent it; -1 once answered

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
    // an ACK's bitmap covers SACK_SPAN frames: frames past it would count as lost at a POLL, and be sent again
    if (!Number.isInteger(window) || window < 1 || window > SACK_SPAN)
      return resolve(result(false, { error: { code: 'EINVAL', message: `window ${window}: from 1 to ${SACK_SPAN} frames (what an acknowledgement covers)` } }));
    let done = false;
    const finish = (r: TransferResult) => {
      done = true;
      clearInterval(timer);
      eth.off('frames', onFrames);
      resolve(r);
    };
    // false (and the transfer over) if the interface refused them
    const transmit = (frames: Buffer[]): boolean => {
      try {
        eth.send(frames);
        sends++;
        return true;
      } catch (e) {
        finish(result(false, { error: { code: (e as { code?: string }).code ?? 'EIO', message: (e as Error).message } }));
        return false;
      }
    };
    const resend = (seqs: number[]) => {
      if (!seqs.length || !transmit(seqs.map(dataFrame))) return;
      for (const s of seqs) {
        resent[s] = 1;
        sentIn[s] = sends;
      }
      framesSent += seqs.length;
      retransmissions += seqs.length;
    };
    // one batch per call: every new frame the window allows, then FIN once all are acknowledged
    const pump = () => {
      if (finishing || done) return;
      const first = next;
      const batch: Buffer[] = [];
      while (next < total && next < base + window) batch.push(dataFrame(next++));
      if (batch.length && !transmit(batch)) return;
      sentIn.fill(sends, first, next);
      framesSent += batch.length;
      if (base === total) {
        finishing = true;
        lastProgress = Date.now();
        transmit([fin()]);
      }
    };
    const onAck = (a: Ack) => {
      let gained = false;
      for (let s = base; s < Math.min(total, a.top); s++) {
        if (acked[s] || !a.has(s)) continue;
        acked[s] = 1;
        gained = true;
      }
      while (base < total && acked[base]) base++;
      if (gained) lastProgress = Date.now();
      const lost: number[] = [];
      if (a.poll === poll && pollSend >= 0) {
        // the answer to the POLL: whatever went out before it and is not here was lost
        for (let s = base; s < next; s++) if (!acked[s] && sentIn[s] < pollSend) lost.push(s);
        pollSend = -1;
      } else {
        // below the highest frame received, a frame missing was lost (first in, first out); once is enough
        for (let s = base; s < Math.min(a.top, next); s++) if (!acked[s] && !resent[s]) lost.push(s);
      }
      resend(lost);
    };
    const onFrames = (frames: Buffer[]) => {
      for (const f of frames) {
        if (done) return;
        if (!isOurs(f) || f.readUInt32BE(15) !== id) continue;
        if (f[14] === T_ACK) {
          const a = parseAck(f);
          if (a) onAck(a);
        } else if (f[14] === T_RESULT && f.length >= HDR + 37) {
          // the partner may stop answering FINs: said once (if it is lost, the partner answers until its deadline)
          try {
            eth.send([packet(peer, me, T_BYE, id, Buffer.alloc(0))]);
          } catch {
            // the verdict is the outcome; the interface's error, if it has one, is the next transfer's
          }
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
      lastProgress = Date.now();
      if (finishing) {
        transmit([fin()]); // FIN or the verdict was lost
        return;
      }
      // frames or acknowledgements were lost: ask, and resend what the answer says is missing
      const body = Buffer.alloc(4);
      body.writeUInt32BE(++poll);
      if (transmit([packet(peer, me, T_POLL, id, body)])) pollSend = sends;
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
    'peer-mac': `MAC (default ${PARTNER_MAC})`, 'timeout-ms': 'MS (default 20000)', isolation: isolationOption,
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
