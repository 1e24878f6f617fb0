// The serial (tty) class for applications: open a port a UART driver
// registered (ttyS0, or by its device's name), write and read bytes, set the
// line (baud, data bits, parity, stop bits, flow control) and the modem lines.
// Bytes move between the driver and the port's buffers in the kernel (C++);
// they reach JavaScript a buffer at a time. Errors are clear and never hang:
// a port with no driver is ENODEV, an unshadowed driver that failed or is
// restarting is EIO/ENODEV with the reason and what the recovery agent
// decided (restarted, replaced by its fallback, or given up on), a read can
// time out. With a shadow
// driver (the recovery policy's `shadow`, the default) a driver's failure is
// not seen: the port stays open, writes queue, reads wait, an open succeeds,
// and the kernel restores the port on the restarted driver
// (native/classes/serial/serial_core.cc); only when the driver will not come
// back does the port fail (EIO) and close.
import { EventEmitter } from 'node:events';
import { onKernelShutdown, type Driver, type Kernel } from '../kernel.js';
import { native, type NativeFault } from '../native.js';
import type { SerialHandle } from '../wrappers/addon/serial.js';
import { ArgCheck } from './args.js';
import { driverCall, emitApart, withDecision, WritesInOrder } from './common.js';

export type Parity = 'none' | 'odd' | 'even' | 'mark' | 'space';
export type FlowControl = 'none' | 'rtscts';

export interface Termios {
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: Parity;
  stopBits?: 1 | 2;
  flowControl?: FlowControl;
}

export interface ModemLines {
  dtr?: boolean;
  rts?: boolean;
}

/** A serial port as the kernel knows it. */
export interface SerialPortInfo {
  line: number;
  name: string;
  /** The PCI device's name ('' for none). */
  device: string;
  /** The driver that registered it ('' when detached). */
  driver: string;
  attached: boolean;
  open: boolean;
  /** Its driver is restarting under a shadow: the port is kept, and restored once the driver registers it again. */
  restarting: boolean;
  rxBytes: number;
  txBytes: number;
  rxDropped: number;
}

/** An error of the serial class: `code` is ENODEV (no driver, driver gone, or an unshadowed driver restarting), EIO (the driver failed), EBUSY, EINVAL, ENOTOPEN, ETIMEDOUT, EAGAIN (modemStatus while a shadowed driver restarts, before it ever answered). */
export class SerialError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'SerialError';
  }
}

const PARITY: Record<Parity, number> = { none: 0, odd: 1, even: 2, mark: 3, space: 4 };
const LINE_SETTINGS = ['baudRate', 'dataBits', 'parity', 'stopBits', 'flowControl'];
const TIOCM = { DTR: 0x002, RTS: 0x004, CTS: 0x020, CAR: 0x040, RNG: 0x080, DSR: 0x100, OUT2: 0x4000 };
const MODEM_LINES = ['dtr', 'rts'];

/** Checks of the arguments of a call about port `name`: EINVAL naming it and the argument. */
const serialArgs = (name: string) => new ArgCheck(name, (message) => new SerialError('EINVAL', message));

// Every open port, by its handle (line and registration): the class's single event listener dispatches to them. A
// handle its driver's failure detached is kept apart from one opened on the port's next registration: closing the
// old one must not silence the new one.
const openPorts = new Map<string, SerialPort>();
const handleKey = (h: { line: number; gen: number }): string => `${h.line}/${h.gen}`;
let listening = false;
onKernelShutdown((why) => {
  for (const port of [...openPorts.values()]) port._shutDown(why);
});

function listen(): void {
  if (listening) return;
  listening = true;
  native().serialSetListener((line, gen, event, code, why, fault) => openPorts.get(handleKey({ line, gen }))?._event(event, code, why, fault));
}

/** The ports the kernel knows (attached or detached). */
export function serialPorts(_kernel?: Kernel): SerialPortInfo[] {
  return native().serialPorts();
}

/**
 * Opens a serial port by name ('ttyS0') or by its device's name ('uart165500').
 * Throws SerialError ENODEV when no driver has registered it, when the shadow
 * ended it or its driver is gone (with the reason), or when its unshadowed
 * driver failed or is restarting; EBUSY if it is open already. While a
 * shadowed driver is recovered the open succeeds: the restore starts the port.
 */
export function openSerial(kernel: Kernel, name: string, termios: Termios = {}): SerialPort {
  serialArgs('openSerial').string(name, 'the port name');
  serialArgs(name).settings(termios, 'line setting', LINE_SETTINGS); // before the open: a mistake leaves no port open
  listen();
  const h = driverCall(kernel, () => native().serialOpen(name), SerialError);
  const port = new SerialPort(h, native().serialPorts().find((p) => p.line === h.line)?.name ?? name, kernel);
  openPorts.set(handleKey(h), port);
  if (Object.keys(termios).length) {
    try {
      port.setTermios(termios);
    } catch (e) {
      port.closeNow();
      throw e;
    }
  }
  return port;
}

/**
 * An open port. Events: 'data' (Buffer), 'error' (SerialError: the port was
 * detached, or its shadowed driver will not come back: then 'close' follows), 'close'.
 * Received bytes wait in the kernel's receive buffer (64 KiB; what arrives
 * past it is dropped and counted in rxDropped) until read() or a 'data'
 * listener takes them. As a Node stream in flowing mode, a 'data' listener
 * takes every byte, those that waited before it was added too: read() gets
 * none while one is attached.
 * A detach for an unshadowed driver's failure says what the recovery agent
 * decided for it: `ttyS0: the port was detached: uart16550 failed (...) and was
 * restarted: open it again`, `... and was replaced by its fallback F: open it
 * again`, or `... and will not be restarted: <why>`.
 */
export class SerialPort extends EventEmitter<{ data: [Buffer]; error: [SerialError]; close: [] }> {
  private closed = false;
  private failure: SerialError | undefined;
  private readonly pending: Buffer[] = [];
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private termios: Required<Termios> = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, flowControl: 'none' };

  /** @internal use openSerial */
  constructor(private readonly h: SerialHandle, readonly name: string, private readonly kernel: Kernel) {
    super();
    this.arg = serialArgs(name);
    this.watchListeners();
  }

  // No 'rx' event comes for bytes already waiting (the kernel tells once, until they are taken): a 'data' listener
  // added now gets them next tick, as a Node stream added a 'data' listener starts to flow. (A read waiting while a
  // listener takes the bytes needs no wake when it goes: every 'rx' event wakes the reads.)
  private readonly onNewListener = (event: string | symbol) => {
    if (event === 'data') process.nextTick(() => this.deliver());
  };

  private watchListeners(): void {
    const emitter: EventEmitter = this; // the typed event map leaves out Node's own 'newListener'
    if (!emitter.listeners('newListener').includes(this.onNewListener)) emitter.on('newListener', this.onNewListener);
  }

  /** As EventEmitter's, but the port keeps watching its 'data' listeners (a common clean-up call took that away). */
  override removeAllListeners(...event: [] | [string | symbol]): this {
    super.removeAllListeners(...(event as [])); // forwarded as given: Node tells no argument (all of them) from one
    this.watchListeners();
    return this;
  }

  private readonly arg: ArgCheck; // made once: write and read are on the data path

  /** The line settings last applied. */
  get settings(): Required<Termios> {
    return { ...this.termios };
  }

  /**
   * Applies line settings (unspecified ones, and those given as undefined, keep their value): the driver programs
   * the UART. The numbers must be integers (the driver checks their ranges).
   */
  setTermios(t: Termios): void {
    this.check();
    const next: Required<Termios> = { ...this.termios, ...this.arg.settings(t, 'line setting', LINE_SETTINGS) };
    for (const key of ['baudRate', 'dataBits', 'stopBits'] as const) this.arg.uint32(next[key], key);
    if (!(next.parity in PARITY)) throw new SerialError('EINVAL', `${this.name}: unknown parity '${next.parity}'`);
    if (next.flowControl !== 'none' && next.flowControl !== 'rtscts')
      throw new SerialError('EINVAL', `${this.name}: unknown flow control '${next.flowControl}'`);
    this.call(() => native().serialSetTermios(this.h.line, this.h.gen, {
      baud: next.baudRate, dataBits: next.dataBits, stopBits: next.stopBits, parity: PARITY[next.parity],
      flow: next.flowControl === 'rtscts' ? 1 : 0,
    }));
    this.termios = next;
  }

  /** Sets DTR and RTS (true or false; undefined keeps a line as it is). */
  setModemLines(m: ModemLines): void {
    this.check();
    for (const [key, v] of Object.entries(this.arg.settings(m, 'modem line', MODEM_LINES))) this.arg.boolean(v, key);
    const cur = this.modemBits;
    let bits = cur;
    if (m.dtr !== undefined) bits = m.dtr ? bits | TIOCM.DTR : bits & ~TIOCM.DTR;
    if (m.rts !== undefined) bits = m.rts ? bits | TIOCM.RTS : bits & ~TIOCM.RTS;
    this.call(() => native().serialSetMctrl(this.h.line, this.h.gen, bits | TIOCM.OUT2));
    this.modemBits = bits;
  }
  private modemBits = TIOCM.DTR | TIOCM.RTS;

  /**
   * The modem status lines (from the UART's MSR). While a shadowed driver restarts: its last answer, or EAGAIN if it
   * never answered on this open.
   */
  modemStatus(): { cts: boolean; dsr: boolean; dcd: boolean; ri: boolean } {
    this.check();
    const m = this.call(() => native().serialGetMctrl(this.h.line, this.h.gen));
    return { cts: !!(m & TIOCM.CTS), dsr: !!(m & TIOCM.DSR), dcd: !!(m & TIOCM.CAR), ri: !!(m & TIOCM.RNG) };
  }

  /**
   * Queues bytes for the driver; resolves once the kernel has taken them all. Writes are taken whole, in the order
   * they were called: one made while another waits for room in the kernel waits behind it.
   */
  async write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : this.arg.bytes(data, 'write(data)');
    return this.writes.run(() => this.writeAll(bytes));
  }

  private readonly writes = new WritesInOrder();

  private async writeAll(bytes: Uint8Array): Promise<void> {
    for (;;) {
      this.check();
      const n = this.call(() => native().serialWrite(this.h.line, this.h.gen, bytes));
      bytes = bytes.subarray(n);
      if (bytes.length === 0) return;
      await this.wait(); // 'space'
    }
  }

  /**
   * Resolves when every byte written has left the UART (or rejects: the port was detached, or after timeoutMs),
   * those of writes still waiting for room in the kernel's queue included.
   */
  async drain(timeoutMs = 10_000): Promise<void> {
    this.arg.timeout(timeoutMs, 'drain(timeoutMs)');
    const end = Date.now() + timeoutMs;
    while (this.writes.busy || !this.call(() => native().serialTxIdle(this.h.line, this.h.gen))) {
      if (Date.now() > end) throw new SerialError('ETIMEDOUT', `${this.name}: transmitter still busy after ${timeoutMs} ms`);
      await Promise.race([this.wait(), new Promise<void>((r) => setTimeout(r, 2))]);
    }
  }

  /**
   * Bytes received: at least `min` (default 1) once they have arrived, everything
   * available then. Rejects with ETIMEDOUT after timeoutMs, or the port's failure.
   * While a 'data' listener is attached it takes the bytes: read() waits.
   */
  async read(min = 1, timeoutMs = 5_000): Promise<Buffer> {
    this.arg.integer(min, 'read(min)', 1, Number.MAX_SAFE_INTEGER);
    this.arg.timeout(timeoutMs, 'read(timeoutMs)');
    const end = Date.now() + timeoutMs;
    for (;;) {
      const flowing = this.flowing;
      if (!flowing) this.fetch();
      const have = flowing ? 0 : this.pending.reduce((n, b) => n + b.length, 0);
      if (have >= min) {
        const out = Buffer.concat(this.pending);
        this.pending.length = 0;
        return out;
      }
      this.check();
      const left = end - Date.now();
      if (left <= 0)
        throw new SerialError('ETIMEDOUT', `${this.name}: ${have} of ${min} bytes received within ${timeoutMs} ms${flowing ? ": a 'data' listener takes them" : ''}`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.wait(), new Promise<void>((r) => (timer = setTimeout(r, left)))]).finally(() => clearTimeout(timer));
    }
  }

  /**
   * Waits for the transmitter to drain (up to drainMs, a timeout as drain's), then shuts the port down. Never rejects
   * for a detached port but for a bad drainMs.
   * A drain that timed out still closes the port, then rejects with ETIMEDOUT saying how many bytes that were still
   * waiting for the driver it dropped (and that what the UART held was dropped too).
   */
  async close(drainMs = 2_000): Promise<void> {
    this.arg.timeout(drainMs, 'close(drainMs)'); // a bad one closes nothing: the bytes are not dropped unasked
    if (this.closed) return;
    let busy: SerialError | undefined;
    if (!this.failure)
      await this.drain(drainMs).catch((e: unknown) => {
        if (e instanceof SerialError && e.code === 'ETIMEDOUT') busy = e; // otherwise the port failed: closing is all that is left
      });
    const dropped = this.shut();
    if (busy) throw new SerialError('ETIMEDOUT', `${this.name}: closed with the transmitter still busy after ${drainMs} ms: ${dropped} bytes waiting to be sent were dropped, with what the UART held`);
  }

  /** Closes at once: bytes not yet sent are dropped. */
  closeNow(): void {
    this.shut();
  }

  /** Closes the port; how many bytes waiting for the driver were dropped. */
  private shut(): number {
    if (this.closed) return 0;
    this.closed = true;
    openPorts.delete(handleKey(this.h));
    let dropped = 0;
    if (!this.failure) {
      try {
        dropped = native().serialClose(this.h.line, this.h.gen);
      } catch {
        // the driver failed during shutdown: the port is detached anyway
      }
    }
    this.failWaiters(new SerialError('ENOTOPEN', `${this.name} is closed`));
    emitApart(this, 'close');
    return dropped;
  }

  get isOpen(): boolean {
    return !this.closed && !this.failure;
  }

  /** @internal the kernel was shut down: the port fails (the next kernel's port of that name is another) */
  _shutDown(why: string): void {
    this.fail(new SerialError('ENODEV', `${this.name}: ${why}`));
  }

  /** @internal an event from the kernel */
  _event(event: string, code: string, why: string, fault?: NativeFault): void {
    if (this.closed) return;
    if (event === 'detached') {
      this.deliver();
      this.fail(new SerialError(code, withDecision(this.kernel, why, fault)));
      return;
    }
    if (event === 'failed') {
      // the shadow ended the port (its driver will not come back, or runs without it), or could not restore it: it fails, and is closed
      this.deliver();
      this.fail(new SerialError(code, why));
      this.closeNow();
      return;
    }
    // with no listener the bytes wait in the kernel (its limit applies) for a read, which the wake-up lets take them
    if (event === 'rx' && this.flowing) this.deliver();
    this.wakeWaiters();
  }

  private get flowing(): boolean {
    return this.listenerCount('data') > 0;
  }

  /** Takes what arrived from the kernel; gives it, and what a read had gathered, to the 'data' listeners if any. */
  private deliver(): void {
    this.fetch();
    if (this.closed || !this.flowing || this.pending.length === 0) return; // no 'data' after 'close'
    const bytes = Buffer.concat(this.pending);
    this.pending.length = 0;
    emitApart(this, 'data', bytes);
  }

  private fetch(): void {
    if (this.closed) return;
    try {
      const b = this.call(() => native().serialRead(this.h.line, this.h.gen));
      if (b.length) this.pending.push(b);
    } catch {
      // the port failed (call noted it): check() says so
    }
  }

  private check(): void {
    if (this.failure) throw this.failure; // also once closed: a port the kernel closed for its failure says why
    if (this.closed) throw new SerialError('ENOTOPEN', `${this.name} is closed`);
  }

  /** A call into the addon for the port: its error as a SerialError that says what became of a failed driver; EIO and ENODEV fail the port. */
  private call<T>(f: () => T): T {
    try {
      return driverCall(this.kernel, f, SerialError);
    } catch (e) {
      if (e instanceof SerialError && (e.code === 'EIO' || e.code === 'ENODEV')) this.fail(e);
      throw e;
    }
  }

  private fail(e: SerialError): void {
    if (this.failure || this.closed) return;
    this.failure = e;
    openPorts.delete(handleKey(this.h));
    this.failWaiters(e);
    emitApart(this, 'error', e); // also from kernel.shutdown(), which a listener's throw must not leave half done
  }

  private wait(): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private wakeWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.resolve();
  }

  private failWaiters(e: Error): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.reject(e);
  }
}

/**
 * A null modem for tests and tools: two ptys joined back to back; bytes written to one end are read at the other. A
 * reader slower than the writer (a UART at its baud rate, a far end that stops reading) holds the writer, as a tty
 * does: no byte is dropped here, and a uart16550 whose tty is full holds its transmitter (docs/devices.md).
 */
export function ptyPair(): { a: string; b: string; close: () => void } {
  const p = native().serialPtyPair();
  return { a: p.a, b: p.b, close: () => native().serialPtyPairClose(p.id) };
}

/** The termios of a tty (what a driver's settings did to the real line). */
export function ttyAttributes(path: string): { baudRate: number; dataBits: number; parity: Parity; stopBits: number; rtscts: boolean } {
  return native().ttyAttributes(path);
}

/**
 * What a uart16550 device (by bus index) last applied to its tty with
 * tcsetattr. A pty keeps the speed and stop bits but forces 8 data bits and no
 * parity (Linux's pty_set_termios): this is how tests see the rest.
 */
export function uartLineSettings(deviceIndex: number): { baudRate: number; dataBits: number; parity: Parity; stopBits: number } {
  return native().uartLineSettings(deviceIndex);
}

/**
 * Bytes a uart16550 device (by bus index) received from its line and then
 * discarded: its receive FIFO cleared (the reset when its driver fails, the
 * restarted driver's startup) or overrun. What a driver restart loses of the
 * bytes arriving meanwhile.
 */
export function uartRxLost(deviceIndex: number): number {
  return native().uartRxLost(deviceIndex);
}

/**
 * Bytes a uart16550 device (by bus index) holds in its receive FIFO now, which
 * a reset (its driver failing) discards. Throws EINVAL for an index that is no
 * uart16550 (as uartRxLost): a wrong index must not read as an empty FIFO.
 */
export function uartRxHeld(deviceIndex: number): number {
  return native().uartRxHeld(deviceIndex);
}

/**
 * Bytes a uart16550 device (by bus index) sent that its tty has not taken yet:
 * at 256 its transmitter waits for the tty (a far end that stops reading).
 * Throws EINVAL for an index that is no uart16550.
 */
export function uartTxHeld(deviceIndex: number): number {
  return native().uartTxHeld(deviceIndex);
}

/**
 * From now on, a port of `driver` whose shadow restore begins while another
 * port of the driver is already up waits, before its startup, until its UART
 * has received a byte (10 s at most): the moment a restore that lets one port
 * send before the others are set up loses what they receive.
 */
export function holdRestoreForRx(driver: Driver): void {
  native().serialHoldRestoreForRx(driver.id);
}

/**
 * Test hook: the next registration of port `name` (uart_add_one_port) waits, once the port is anyone's and before it
 * returns to the driver, until an application's open has set the port up or the driver failed (10 s at most): the
 * open crosses into the driver while the registration is still in the kernel (a driver that registers from a work
 * item, after its init). Logs `test-register-held`.
 */
export function serialHoldRegister(name: string): void {
  native().serialHoldRegister(name);
}

/**
 * From now on, each port's receive buffer in the kernel holds `bytes` (1 to
 * its 64 KiB, whole); with no argument, or at the kernel's shutdown, 64 KiB
 * again. A test fills it, and sees the rest dropped, in a fraction of the
 * wire time 64 KiB take at 115200 baud (5.7 s).
 */
export function setSerialRxBuffer(bytes?: number): void {
  if (bytes !== undefined && !(Number.isInteger(bytes) && bytes >= 1 && bytes <= 64 * 1024)) throw new RangeError(`setSerialRxBuffer: ${bytes} bytes; 1 to 65536, whole`);
  native().serialSetRxBuffer(bytes);
}
