// The link partner of a file transfer (net-transfer.ts): a plain UDP socket on
// the emulated NIC's wire (one datagram per Ethernet frame, as QEMU's -netdev
// socket), outside nooks. It checks each data frame's CRC-32, keeps frames
// that arrive after a gap, acknowledges selectively, and at the end compares
// the SHA-256 of what it received with the sender's and answers with the
// verdict, again for every FIN repeated (the verdict may be lost, and the
// sender's FINs held back for long, by a driver's recovery or a transmit
// hang), until the sender says it has it, another transfer starts or the
// deadline (--timeout-ms) passes. The outcome is one JSON object.
//
//   node dist/lib/apps/net-peer.js --bind 127.0.0.1:7000 [--mac 52:54:00:cc:dd:02] [--out FILE] [--timeout-ms 30000]
//
// It learns where the NIC is from the first datagram. Exit status 0 when a
// file arrived intact, 1 otherwise.
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { numberOption, runIfMain, type Program } from './program.js';
import { CHUNK, DATA_HDR, HDR, PARTNER_MAC, T_ACK, T_BYE, T_DATA, T_FIN, T_POLL, T_RESULT, ackBody, crc32, isOurs, macString, packet, parseMac } from './net-proto.js';

/** Frame kinds the `lose` test hook counts: data, FIN, POLL and BYE arriving, ACK and RESULT leaving. */
export type FrameKind = 'data' | 'fin' | 'poll' | 'bye' | 'ack' | 'result';

export interface PeerOptions {
  /** The partner's MAC address (default PARTNER_MAC, 52:54:00:cc:dd:02). */
  mac?: string;
  /** Acknowledge every n in-order frames (default 16; at once after a gap, a duplicate, a bad frame, the last one). */
  ackEvery?: number;
  /** Test hook: flip a bit in every n-th data frame received (wire corruption), 0: never. */
  corruptEvery?: number;
  /** Test hook: lose the n-th (from 1) frame of a kind on the wire, for each n listed. */
  lose?: Partial<Record<FrameKind, number[]>>;
}

export interface PeerResult {
  ok: boolean;
  transferId: number;
  bytes: number;
  frames: number;
  /** Data frames that arrived, every copy (lost ones, by the `lose` hook, not counted). */
  framesArrived: number;
  /** Data frames discarded: a bad CRC (or length, or sequence number). */
  badCrc: number;
  /** Data frames that came after a gap (kept). */
  outOfOrder: number;
  sha256: string;
  senderSha256: string;
  data: Buffer;
  /** Resolves when the partner stops answering repeated FINs: the sender said it has the verdict (BYE), or another transfer began. */
  lingered: Promise<void>;
}

/**
 * Serves one transfer on `socket` (already bound); resolves when the sender's
 * FIN has been answered.
 */
export function receiveFile(socket: Socket, options: PeerOptions = {}): Promise<PeerResult> {
  const me = parseMac(options.mac ?? PARTNER_MAC);
  const ackEvery = options.ackEvery ?? 16;
  return new Promise((resolve) => {
    let id = -1;
    let expected = 0; // every frame below it received
    let top = 0; // one past the highest frame received
    let frames = 0;
    let framesArrived = 0;
    let badCrc = 0;
    let outOfOrder = 0;
    let seen = 0;
    let chunks: Buffer[] = []; // by sequence number, with holes
    let verdict: Buffer | undefined; // the RESULT body, once FIN came
    let endLinger = () => {};
    const count: Partial<Record<FrameKind, number>> = {};
    const lost = (kind: FrameKind) => options.lose?.[kind]?.includes((count[kind] = (count[kind] ?? 0) + 1)) ?? false;
    let nic: { address: string; port: number } | undefined;
    let sender = Buffer.alloc(6);
    const reply = (kind: FrameKind, type: number, body: Buffer) => {
      if (nic && !lost(kind)) socket.send(packet(sender, me, type, id, body), nic.port, nic.address);
    };
    const ack = (poll = 0) => reply('ack', T_ACK, ackBody(expected, top, poll, (s) => chunks[s] !== undefined));
    const answerFin = (f: Buffer) => {
      if (!verdict) {
        const size = f.readUInt32BE(HDR + 4);
        const senderSha = f.subarray(HDR + 8, HDR + 40).toString('hex');
        const data = Buffer.concat(chunks.slice(0, expected));
        const sha = createHash('sha256').update(data).digest();
        const ok = expected === f.readUInt32BE(HDR) && data.length === size && sha.toString('hex') === senderSha;
        verdict = Buffer.alloc(37);
        verdict[0] = ok ? 1 : 0;
        verdict.writeUInt32BE(data.length, 1);
        sha.copy(verdict, 5);
        const lingered = new Promise<void>((r) => (endLinger = () => {
          socket.off('message', onMessage);
          r();
        }));
        resolve({ ok, transferId: id, bytes: data.length, frames: expected, framesArrived, badCrc, outOfOrder, sha256: sha.toString('hex'), senderSha256: senderSha, data, lingered });
      }
      reply('result', T_RESULT, verdict);
    };
    const onData = (f: Buffer) => {
      const seq = f.readUInt32BE(HDR);
      frames = f.readUInt32BE(HDR + 4);
      const crc = f.readUInt32BE(HDR + 12);
      const len = f.readUInt16BE(HDR + 16);
      const chunk = Buffer.from(f.subarray(DATA_HDR, DATA_HDR + len));
      seen++;
      if (options.corruptEvery && seen % options.corruptEvery === 0 && chunk.length) chunk[chunk.length >> 1] ^= 0x10;
      if (chunk.length !== len || len > CHUNK || seq >= frames || crc32(chunk) !== crc) {
        badCrc++;
        ack();
        return;
      }
      const fresh = chunks[seq] === undefined;
      const plain = fresh && seq === expected && top === expected; // in order, nothing kept beyond it
      if (fresh) {
        if (seq > expected) outOfOrder++;
        chunks[seq] = chunk;
        top = Math.max(top, seq + 1);
      }
      const before = expected;
      while (chunks[expected] !== undefined) expected++;
      if (!plain || expected === frames || Math.floor(expected / ackEvery) > Math.floor(before / ackEvery)) ack();
    };
    const onMessage = (f: Buffer, rinfo: { address: string; port: number }) => {
      if (!isOurs(f) || !f.subarray(0, 6).equals(me)) return;
      const type = f[14];
      const fid = f.readUInt32BE(15);
      const isData = type === T_DATA && f.length >= DATA_HDR;
      const kind = ({ [T_DATA]: 'data', [T_FIN]: 'fin', [T_POLL]: 'poll', [T_BYE]: 'bye' } as Record<number, FrameKind | undefined>)[type];
      if (kind && lost(kind)) return;
      if (verdict) {
        // done: answer the FIN again until the sender has the verdict
        if (fid === id && type === T_FIN) answerFin(f);
        else if ((fid === id && type === T_BYE) || (fid !== id && isData)) endLinger();
        return;
      }
      // Latch onto a transfer: the first one heard of, or one whose frame 0 (or POLL: a live sender) comes
      // while the latched one has not had its frame 0: a late frame of an earlier transfer never wins.
      const starts = (isData && f.readUInt32BE(HDR) === 0) || type === T_POLL;
      if (fid !== id && (id === -1 ? isData || type === T_POLL : starts && expected === 0)) {
        id = fid;
        expected = top = framesArrived = badCrc = outOfOrder = 0;
        chunks = [];
      }
      if (fid !== id) return;
      nic = { address: rinfo.address, port: rinfo.port };
      sender = Buffer.from(f.subarray(6, 12));
      if (isData) {
        framesArrived++;
        onData(f);
      } else if (type === T_POLL && f.length >= HDR + 4) {
        ack(f.readUInt32BE(HDR));
      } else if (type === T_FIN && f.length >= HDR + 40 && expected > 0) {
        answerFin(f); // (a FIN before frame 0 is a late one of an earlier transfer)
      }
    };
    socket.on('message', onMessage);
  });
}

export const program: Program = {
  name: 'net-peer',
  class: 'net',
  summary: 'the link partner of net-transfer: a plain UDP socket on the wire that checks and stores the file',
  options: {
    bind: 'HOST:PORT (default 127.0.0.1:7000)', mac: `MAC (default ${PARTNER_MAC})`, out: 'PATH: where the file goes when intact',
    'timeout-ms': 'MS (default 30000)',
  },
  async run(o) {
    const [host, port] = (o.bind ?? '127.0.0.1:7000').split(':');
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => socket.bind(Number(port), host, r));
    let timeout: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<undefined>((r) => (timeout = setTimeout(() => r(undefined), numberOption(o, 'timeout-ms', 30_000))));
      const got = await Promise.race([receiveFile(socket, { mac: o.mac }), deadline]);
      if (!got) throw Object.assign(new Error('no complete transfer before the deadline'), { code: 'ETIMEDOUT' });
      const { data, lingered, ...result } = got;
      if (o.out && result.ok) writeFileSync(o.out, data);
      await Promise.race([lingered, deadline]); // the verdict may be lost: answer the sender's repeated FINs
      return { ...result, mac: macString(parseMac(o.mac ?? PARTNER_MAC)) };
    } finally {
      clearTimeout(timeout);
      socket.close();
    }
  },
};

runIfMain(import.meta.url, program);
