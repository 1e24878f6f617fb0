// The link partner of a file transfer (net-transfer.ts): a plain UDP socket on
// the emulated NIC's wire (one datagram per Ethernet frame, as QEMU's -netdev
// socket), outside nooks. It checks each data frame's CRC-32, acknowledges,
// and at the end compares the SHA-256 of what it received with the sender's
// and answers with the verdict. The outcome is one JSON object.
//
//   node dist/lib/apps/net-peer.js --bind 127.0.0.1:7000 [--mac 52:54:00:cc:dd:02] [--out FILE] [--timeout-ms 30000]
//
// It learns where the NIC is from the first datagram. Exit status 0 when a
// file arrived intact, 1 otherwise.
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { numberOption, runIfMain, type Program } from './program.js';
import { CHUNK, DATA_HDR, HDR, T_ACK, T_DATA, T_FIN, T_RESULT, crc32, isOurs, macString, packet, parseMac } from './net-proto.js';

export interface PeerOptions {
  /** The partner's MAC address (default 52:54:00:cc:dd:02). */
  mac?: string;
  /** Acknowledge every n in-order frames (default 16; always the last and after a loss). */
  ackEvery?: number;
  /** Test hook: flip a bit in every n-th data frame received (wire corruption), 0: never. */
  corruptEvery?: number;
}

export interface PeerResult {
  ok: boolean;
  transferId: number;
  bytes: number;
  frames: number;
  /** Data frames discarded: bad CRC, or out of order. */
  badCrc: number;
  outOfOrder: number;
  sha256: string;
  senderSha256: string;
  data: Buffer;
}

/**
 * Serves one transfer on `socket` (already bound); resolves when the sender's
 * FIN has been answered.
 */
export function receiveFile(socket: Socket, options: PeerOptions = {}): Promise<PeerResult> {
  const me = parseMac(options.mac ?? '52:54:00:cc:dd:02');
  const ackEvery = options.ackEvery ?? 16;
  return new Promise((resolve) => {
    let id = -1;
    let expected = 0;
    let frames = 0;
    let bytes = 0;
    let badCrc = 0;
    let outOfOrder = 0;
    let seen = 0;
    const chunks: Buffer[] = [];
    let nic: { address: string; port: number } | undefined;
    let sender = Buffer.alloc(6);
    const reply = (type: number, body: Buffer) => {
      if (nic) socket.send(packet(sender, me, type, id, body), nic.port, nic.address);
    };
    const ack = () => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(expected);
      reply(T_ACK, b);
    };
    const onMessage = (f: Buffer, rinfo: { address: string; port: number }) => {
      if (!isOurs(f) || !f.subarray(0, 6).equals(me)) return;
      const type = f[14];
      const fid = f.readUInt32BE(15);
      // A transfer starts with its frame 0: latch onto it (or onto a newer one while nothing got through),
      // never onto a late frame of an earlier transfer still in flight on the wire.
      const first = type === T_DATA && f.length >= DATA_HDR && f.readUInt32BE(HDR) === 0;
      if (first && fid !== id && expected === 0) id = fid;
      if (id === -1 || fid !== id) return;
      nic = { address: rinfo.address, port: rinfo.port };
      sender = Buffer.from(f.subarray(6, 12));
      if (type === T_DATA && f.length >= DATA_HDR) {
        const seq = f.readUInt32BE(HDR);
        frames = f.readUInt32BE(HDR + 4);
        bytes = f.readUInt32BE(HDR + 8);
        const crc = f.readUInt32BE(HDR + 12);
        const len = f.readUInt16BE(HDR + 16);
        const chunk = Buffer.from(f.subarray(DATA_HDR, DATA_HDR + len));
        seen++;
        if (options.corruptEvery && seen % options.corruptEvery === 0 && chunk.length) chunk[chunk.length >> 1] ^= 0x10;
        if (chunk.length !== len || len > CHUNK || crc32(chunk) !== crc) {
          badCrc++;
          ack();
          return;
        }
        if (seq !== expected) {
          if (seq > expected) outOfOrder++;
          ack();
          return;
        }
        chunks.push(chunk);
        expected++;
        if (expected % ackEvery === 0 || expected === frames) ack();
      } else if (type === T_FIN && f.length >= HDR + 40) {
        const total = f.readUInt32BE(HDR);
        const size = f.readUInt32BE(HDR + 4);
        const senderSha = f.subarray(HDR + 8, HDR + 40).toString('hex');
        const data = Buffer.concat(chunks);
        const sha = createHash('sha256').update(data).digest();
        const ok = expected === total && data.length === size && sha.toString('hex') === senderSha;
        const body = Buffer.alloc(37);
        body[0] = ok ? 1 : 0;
        body.writeUInt32BE(data.length, 1);
        sha.copy(body, 5);
        reply(T_RESULT, body);
        socket.off('message', onMessage);
        resolve({ ok, transferId: id, bytes: data.length, frames: expected, badCrc, outOfOrder, sha256: sha.toString('hex'), senderSha256: senderSha, data });
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
    bind: 'HOST:PORT (default 127.0.0.1:7000)', mac: 'MAC (default 52:54:00:cc:dd:02)', out: 'PATH: where the file goes when intact',
    'timeout-ms': 'MS (default 30000)',
  },
  async run(o) {
    const [host, port] = (o.bind ?? '127.0.0.1:7000').split(':');
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => socket.bind(Number(port), host, r));
    let timeout: NodeJS.Timeout | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => reject(Object.assign(new Error('no complete transfer before the deadline'), { code: 'ETIMEDOUT' })), numberOption(o, 'timeout-ms', 30_000));
      });
      const { data, ...result } = await Promise.race([receiveFile(socket, { mac: o.mac }), deadline]);
      if (o.out && result.ok) writeFileSync(o.out, data);
      // let the RESULT frame leave before the socket closes
      await new Promise((r) => setTimeout(r, 50));
      return { ...result, mac: macString(parseMac(o.mac ?? '52:54:00:cc:dd:02')) };
    } finally {
      clearTimeout(timeout);
      socket.close();
    }
  },
};

runIfMain(import.meta.url, program);
