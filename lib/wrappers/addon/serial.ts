// The serial class's functions (native/classes/serial/serial_napi.cc), behind lib/classes/serial.ts.
import type { Parity, SerialPortInfo } from '../../classes/serial.js';
import type { NativeFault } from '../../native.js';
import { fn, surface } from './describe.js';

/** An open port: its line and the generation of the open (a stale handle is refused). */
export interface SerialHandle {
  line: number;
  gen: number;
}
/**
 * `code` and `why`: a 'detached' or 'failed' port's error (empty for the other events); `fault`: the failure of the
 * driver that detached it, if one did (the class hands it to the recovery agent, to say what became of the driver).
 */
export type SerialListener = (
  line: number, gen: number, event: 'rx' | 'space' | 'drained' | 'detached' | 'failed', code: string, why: string, fault?: NativeFault,
) => void;

export const serial = surface({
  name: 'serial',
  source: 'native/classes/serial/serial_napi.cc',
  functions: {
    serialPorts: fn<() => SerialPortInfo[]>('The ports drivers have registered.', []),
    serialOpen: fn<(name: string) => SerialHandle>('Opens a port (its driver\'s startup).', ['string']),
    serialClose: fn<(line: number, gen: number) => number>('Closes the port; how many bytes waiting to be sent it dropped.', ['number', 'number']),
    serialWrite: fn<(line: number, gen: number, bytes: Uint8Array) => number>('Queues bytes to send; how many were taken.', ['number', 'number', 'bytes']),
    serialRead: fn<(line: number, gen: number, max?: number) => Buffer>('The bytes received so far (up to `max`).', ['number', 'number', 'number?']),
    serialSetTermios: fn<(line: number, gen: number, t: { baud: number; dataBits: number; stopBits: number; parity: number; flow: number }) => void>(
      'Sets the line settings (the driver\'s set_termios).', ['number', 'number', 'object']),
    serialSetMctrl: fn<(line: number, gen: number, mctrl: number) => void>('Sets the modem control lines.', ['number', 'number', 'number']),
    serialGetMctrl: fn<(line: number, gen: number) => number>('The modem control lines.', ['number', 'number']),
    serialTxIdle: fn<(line: number, gen: number) => boolean>('Whether everything written has left the transmitter.', ['number', 'number']),
    serialSetListener: fn<(listener: SerialListener) => void>('Receives every port event, in order.', ['function']),
    serialPtyPair: fn<() => { id: number; a: string; b: string }>('A null modem: two ptys whose masters are joined by a thread.', []),
    serialPtyPairClose: fn<(id: number) => void>('Closes a null modem.', ['number']),
    ttyAttributes: fn<(path: string) => { baudRate: number; dataBits: number; parity: Parity; stopBits: number; rtscts: boolean }>(
      'The termios of a tty as the application sees it.', ['string']),
    uartLineSettings: fn<(deviceIndex: number) => { baudRate: number; dataBits: number; parity: Parity; stopBits: number }>(
      'What the UART model last asked of its tty.', ['number']),
    uartRxLost: fn<(deviceIndex: number) => number>(
      'Bytes received from the line that the UART discarded (a driver restart loses some).', ['number']),
    uartRxHeld: fn<(deviceIndex: number) => number>(
      'Bytes the UART\'s receive FIFO holds now (0 for a device that is no uart16550).', ['number']),
    uartTxHeld: fn<(deviceIndex: number) => number>(
      'Bytes the UART sent that its tty has not taken yet (256 at most: then its transmitter waits for the tty).', ['number']),
    serialHoldRestoreForRx: fn<(id: number) => void>(
      'Test hook: a port of the driver restored while another of its ports is up waits, before its startup, until its UART has received a byte.',
      ['number']),
    serialHoldRegister: fn<(name: string) => void>(
      'Test hook: the next registration of the port waits, before it returns to the driver, until an open has set the port up.',
      ['string']),
    serialSetRxBuffer: fn<(bytes?: number) => void>(
      'Test hook: the bytes each port\'s receive buffer holds from now on (without `bytes`: its 64 KiB again).', ['number?']),
  },
});
