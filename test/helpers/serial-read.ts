// Reading a stream of bytes from a port in the tests, bounded by progress rather than by total time.
import type { SerialPort } from '../../lib/index.js';
import { streamQuietMs } from './util.js';

/**
 * At least n bytes from `port` (everything available then, as port.read): each read waits for the next bytes, so
 * it fails (ETIMEDOUT) only when none arrives for quietMs, however long the whole takes on a starved machine.
 */
export async function readStreaming(port: SerialPort, n: number, quietMs = streamQuietMs): Promise<Buffer> {
  const got: Buffer[] = [];
  for (let have = 0; have < n; ) {
    const b = await port.read(1, quietMs);
    got.push(b);
    have += b.length;
  }
  return Buffer.concat(got);
}
