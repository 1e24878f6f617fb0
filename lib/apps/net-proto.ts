// The file-transfer protocol of net-transfer.ts (sender, through a nooks
// interface) and net-peer.ts (the link partner, on the UDP wire): raw Ethernet
// frames of a local experimental ethertype, a CRC-32 per data frame, a
// SHA-256 of the whole file, and selective acknowledgements, so that the
// sender resends exactly the frames that were lost (a wire, or a NIC driver
// restarting under its shadow, loses frames: any of them, FIN and verdict
// included). Both directions are first in, first out.
//
// payload (after the 14-byte Ethernet header):
//   u8 type, u32 transfer id, then per type:
//   DATA   u32 seq, u32 frames, u32 bytes (file size), u32 crc32(chunk), u16 length, chunk
//   ACK    u32 next seq expected (all below it received), u32 top (one past the highest received),
//          u32 the POLL it answers (0: none), bitmap of the frames in [next, top): bit i (LSB first) = next+i received
//   POLL   u32 poll number: "what do you have?", sent after a quiet spell; the ACK answering it
//          is authoritative: every frame sent before the POLL and not in it was lost
//   FIN    u32 frames, u32 bytes, 32 bytes SHA-256 of the file (sent again until the verdict comes)
//   RESULT u8 ok, u32 bytes received, 32 bytes SHA-256 of what was received (the partner answers every FIN)
//   BYE    nothing: the sender has the verdict, the partner stops answering FINs (sent once: if it is lost, the
//          partner answers until another transfer starts or its own deadline)
export const ETHERTYPE = 0x88b5;
/** The link partner's MAC address unless told otherwise: net-peer's own, the one net-transfer and the guest NIC apps send to. */
export const PARTNER_MAC = '52:54:00:cc:dd:02';
export const T_DATA = 1;
export const T_ACK = 2;
export const T_FIN = 3;
export const T_RESULT = 4;
export const T_POLL = 5;
export const T_BYE = 6;
export const HDR = 14 + 5;
export const DATA_HDR = HDR + 18;
/** Payload bytes per data frame: fits a 1500-byte MTU. */
export const CHUNK = 1400;
/** Frames an ACK's bitmap covers at most (1024 bytes of it): far more than a window. */
export const SACK_SPAN = 8 * 1024;

/** What an ACK says. */
export interface Ack {
  next: number;
  top: number;
  poll: number;
  has(seq: number): boolean;
}

/** An ACK's body: `received(seq)` for the frames in [next, top), top capped to SACK_SPAN past next. */
export function ackBody(next: number, top: number, poll: number, received: (seq: number) => boolean): Buffer {
  const end = Math.min(top, next + SACK_SPAN);
  const b = Buffer.alloc(12 + Math.ceil((end - next) / 8));
  b.writeUInt32BE(next, 0);
  b.writeUInt32BE(end, 4);
  b.writeUInt32BE(poll, 8);
  for (let s = next; s < end; s++) if (received(s)) b[12 + ((s - next) >> 3)] |= 1 << ((s - next) & 7);
  return b;
}

/** Reads an ACK frame; undefined if it is malformed. */
export function parseAck(f: Buffer): Ack | undefined {
  if (f.length < HDR + 12) return undefined;
  const next = f.readUInt32BE(HDR);
  const top = f.readUInt32BE(HDR + 4);
  if (top < next || f.length < HDR + 12 + Math.ceil((top - next) / 8)) return undefined;
  return {
    next, top, poll: f.readUInt32BE(HDR + 8),
    has: (seq) => seq < next || (seq < top && (f[HDR + 12 + ((seq - next) >> 3)] & (1 << ((seq - next) & 7))) !== 0),
  };
}

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
