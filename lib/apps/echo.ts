// A serial echo session: the nooks side serves an echo on a port (ttyS0, the
// uart16550 driver on an emulated 16550A), a client at the far end of the line
// (opened with the serialport package, as any terminal program would) sends
// lines and checks that each comes back. The server answers a line once it
// has all of it, as request/response protocols on serial lines do: the line
// is quiet while it answers, so a driver restart then (its shadow keeps the
// port) loses nothing. The outcome is one JSON object.
//
//   node dist/lib/apps/echo.js [--baud 115200] [--lines 20] [--tty A --far B]
//
// Without --tty/--far the line is a null modem of two ptys made here; with
// them, the UART's line is tty A and the client opens tty B (two real ports
// joined by a null-modem cable). Exit status 0 on success, 1 on failure.
import { SerialPort as FarPort } from 'serialport';
import type { Kernel } from '../kernel.js';
import { openSerial, ptyPair, type SerialPort } from '../classes/serial.js';
import { isolationOption, numberOption, runIfMain, UsageMistake, withProgramKernel, type Program } from './program.js';

export interface EchoOptions {
  /** The nooks port (default ttyS0). */
  port?: string;
  /** The far end's tty path. */
  far: string;
  baudRate?: number;
  /** Lines the client sends (default 20). */
  lines?: number;
  /** The whole session's deadline (default 10 s). */
  timeoutMs?: number;
  /** Called as each line has come back, with the count so far (progress, for whoever watches). */
  onEchoed?: (lines: number) => void;
}

export interface EchoResult {
  ok: boolean;
  port: string;
  far: string;
  baudRate: number;
  linesSent: number;
  linesEchoed: number;
  bytesSent: number;
  bytesEchoed: number;
  ms: number;
  /** Set when ok is false: what went wrong (the serial class's error code and message, or a mismatch). */
  error?: { code: string; message: string };
}

/** Runs the session on a booted kernel whose UART driver has registered `port`. */
export async function echoSession(kernel: Kernel, o: EchoOptions): Promise<EchoResult> {
  const baudRate = o.baudRate ?? 115200;
  const lines = o.lines ?? 20;
  const name = o.port ?? 'ttyS0';
  const res: EchoResult = { ok: false, port: name, far: o.far, baudRate, linesSent: 0, linesEchoed: 0, bytesSent: 0, bytesEchoed: 0, ms: 0 };
  const t0 = Date.now();
  let server: SerialPort | undefined;
  let client: FarPort | undefined;
  let serving = true;
  const deadline = new Promise<never>((_, rej) =>
    setTimeout(() => rej(Object.assign(new Error(`session not done within ${o.timeoutMs ?? 10_000} ms`), { code: 'ETIMEDOUT' })), o.timeoutMs ?? 10_000).unref());
  try {
    server = openSerial(kernel, name, { baudRate });
    const srv = server;
    // the echo: every complete line goes back
    const echo = (async () => {
      let partial = Buffer.alloc(0);
      while (serving) {
        const b = await srv.read(1, 100).catch((e: { code?: string }) => {
          if (e.code === 'ETIMEDOUT' && serving) return Buffer.alloc(0);
          throw e;
        });
        partial = Buffer.concat([partial, b]);
        const end = partial.lastIndexOf(0x0a) + 1;
        if (end === 0) continue;
        const lines = partial.subarray(0, end);
        partial = partial.subarray(end);
        await srv.write(lines);
      }
    })();
    echo.catch(() => undefined);
    client = new FarPort({ path: o.far, baudRate, autoOpen: false });
    const c = client;
    await new Promise<void>((ok, fail) => c.open((e) => (e ? fail(e) : ok())));
    let got = '';
    c.on('data', (b: Buffer) => (got += b.toString('latin1')));
    const session = (async () => {
      for (let i = 0; i < lines; i++) {
        const line = `line ${i}: the quick brown fox jumps over the lazy dog\r\n`;
        await new Promise<void>((ok, fail) => c.write(line, (e) => (e ? fail(e) : ok())));
        res.linesSent++;
        res.bytesSent += line.length;
        while (got.length < line.length) {
          await Promise.race([new Promise((r) => c.once('data', r)), echo.then(() => { throw new Error('the echo stopped'); })]);
        }
        const back = got.slice(0, line.length);
        got = got.slice(line.length);
        res.bytesEchoed += back.length;
        if (back !== line) throw Object.assign(new Error(`line ${i} came back as ${JSON.stringify(back)}`), { code: 'EMISMATCH' });
        res.linesEchoed++;
        o.onEchoed?.(res.linesEchoed);
      }
    })();
    await Promise.race([session, deadline]);
    res.ok = true;
  } catch (e) {
    const err = e as Error & { code?: string };
    res.error = { code: err.code ?? 'EFAIL', message: err.message };
  } finally {
    serving = false;
    res.ms = Date.now() - t0;
    if (client?.isOpen) await new Promise<void>((r) => client!.close(() => r()));
    await server?.close(500).catch(() => undefined);
  }
  return res;
}

export const program: Program = {
  name: 'echo',
  class: 'serial',
  summary: 'an echo served on ttyS0; a client at the far end of the line sends lines and checks each comes back',
  options: {
    baud: 'RATE (default 115200)', lines: 'N (default 20)', tty: 'PATH: the UART\'s line (with --far)', far: 'PATH: the client\'s tty (with --tty)',
    isolation: isolationOption,
  },
  async run(o) {
    if ((o.tty === undefined) !== (o.far === undefined)) throw new UsageMistake('--tty and --far go together: the UART\'s line and the tty the client opens');
    const pair = o.tty ? undefined : ptyPair();
    try {
      return await withProgramKernel(o, async (kernel) => {
        kernel.addDevice('uart16550', { tty: o.tty ?? pair!.a });
        await kernel.load('uart16550');
        return await echoSession(kernel, { far: o.far ?? pair!.b, baudRate: numberOption(o, 'baud', 115200), lines: numberOption(o, 'lines', 20) });
      });
    } finally {
      pair?.close();
    }
  },
};

runIfMain(import.meta.url, program);
