// Ethernet frames for the net tests: what they send, and compare with what arrives.
import { createSocket, type Socket } from 'node:dgram';
import { nicWire } from '../../lib/index.js';

/** The partner on an emulated e1000's wire: a UDP socket bound on 127.0.0.1 that pushes each frame reaching it onto `into`. */
export async function wirePartner(into: Buffer[], recvBufferSize = 4 << 20): Promise<Socket> {
  const peer = createSocket({ type: 'udp4', recvBufferSize });
  peer.on('message', (m) => into.push(m));
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
  return peer;
}

/** The UDP port of the NIC's own end of its wire (where the partner sends it frames). */
export const nicPortOf = (device: string): number => Number(nicWire(device)!.local.split(':')[1]);

/** A MAC address ('52:54:00:12:34:56') as its 6 bytes. */
export const mac = (s: string): Buffer => Buffer.from(s.split(':').map((h) => parseInt(h, 16)));

/** An Ethernet frame: dst, src, a test ethertype, then `len` payload bytes from `seed`, which opens the payload. */
export function frame(dst: string, src: string, seed: number, len = 100): Buffer {
  const f = Buffer.alloc(14 + len);
  mac(dst).copy(f, 0);
  mac(src).copy(f, 6);
  f.writeUInt16BE(0x88b5, 12); // IEEE local experimental ethertype
  for (let i = 0; i < len; i++) f[14 + i] = (seed * 31 + i * 7) & 0xff;
  f.writeUInt32BE(seed, 14);
  return f;
}
