// The far end of a serial line in the tests: a tty opened with the serialport
// package, as any application would open a real port.
import { SerialPort as FarEnd } from 'serialport';
import { untilProgress } from './util.js';

/** The far end: bytes it received, and a way to wait for some. */
export class Far {
  received = Buffer.alloc(0);
  constructor(readonly port: FarEnd) {
    port.on('data', (b: Buffer) => (this.received = Buffer.concat([this.received, b])));
  }
  static async open(path: string): Promise<Far> {
    const port = new FarEnd({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    return new Far(port);
  }
  write(b: Buffer): Promise<void> {
    return new Promise((res, rej) => this.port.write(b, (e) => (e ? rej(e) : this.port.drain(() => res()))));
  }
  /** The first n bytes received, once they are: fails only when none arrives for quietMs (untilProgress). */
  async take(n: number, quietMs?: number): Promise<Buffer> {
    await untilProgress(() => this.received.length >= n, () => this.received.length, `${n} bytes at the far end`, quietMs);
    const out = this.received.subarray(0, n);
    this.received = this.received.subarray(n);
    return out;
  }
  close(): Promise<void> {
    return new Promise((res) => (this.port.isOpen ? this.port.close(() => res()) : res()));
  }
}
