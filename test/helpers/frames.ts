// Ethernet frames for the net tests: what they send, and compare with what arrives.

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
