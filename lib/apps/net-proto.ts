// The file-transfer protocol of net-transfer.ts (sender, through a nooks
// interface) and net-peer.ts (the link partner, on the UDP wire): raw Ethernet
// frames of a local experimental ethertype, go-back-N with cumulative
// acknowledgements, a CRC-32 per data frame and a SHA-256 of the whole file.
//
// payload (after the 14-byte Ethernet header):
//   u8 type, u32 transfer id, then per type:
//   DATA   u32 seq, u32 frames, u32 bytes (file size), u32 crc32(chunk), u16 length, chunk
//   ACK    u32 next seq expected
//   FIN    u32 frames, u32 bytes, 32 bytes SHA-256 of the file
//   RESULT u8 ok, u32 bytes received, 32 bytes SHA-256 of what was received
export const ETHERTYPE = 0x88b5;
export const T_DATA = 1;
export const T_ACK = 2;
export const T_FIN = 3;
export const T_RESULT = 4;
export const HDR = 14 + 5;
export const DATA_HDR = HDR + 18;
/** Payload bytes per data frame: fits a 1500-byte MTU. */
export const CHUNK = 1400;

const table = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = table[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function parseMac(s: string): Buffer {
  const parts = s.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new Error(`not a MAC address: ${s}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function macString(b: Buffer): string {
  return [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A frame of the protocol: Ethernet header, type, transfer id, then `body`. */
export function packet(dst: Buffer, src: Buffer, type: number, id: number, body: Buffer): Buffer {
  const f = Buffer.alloc(HDR + body.length);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(ETHERTYPE, 12);
  f[14] = type;
  f.writeUInt32BE(id >>> 0, 15);
  body.copy(f, HDR);
  return f;
}

export function isOurs(f: Buffer): boolean {
  return f.length >= HDR && f.readUInt16BE(12) === ETHERTYPE;
}
