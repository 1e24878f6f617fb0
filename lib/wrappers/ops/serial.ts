// The serial class's operations (native/classes/serial/serial_core.cc calls them).
import { a, type OpsTable } from './types.js';

const port = a('port', 'struct uart_port *');

export const uartOps: OpsTable = {
  name: 'uart_ops', class: 'serial',
  doc: 'A UART driver\'s operations (struct uart_port.ops).',
  ops: [
    { name: 'startup', ret: 'int', params: [port], required: true, role: 'lifecycle', doc: 'The port is opened: enable the UART and its interrupts. 0 or -errno.' },
    { name: 'shutdown', ret: 'void', params: [port], required: true, role: 'lifecycle', doc: 'The port is closed: disable them.' },
    { name: 'set_termios', ret: 'void', params: [port, a('t', 'const struct ktermios *')], required: true, role: 'config', doc: 'Set baud rate, data bits, parity, stop bits and flow control.' },
    { name: 'start_tx', ret: 'void', params: [port], required: true, role: 'request', doc: 'Bytes wait in the transmit buffer: take them (uart_tx_chars).' },
    { name: 'stop_tx', ret: 'void', params: [port], required: true, role: 'request', doc: 'Stop transmitting (flow control).' },
    { name: 'set_mctrl', ret: 'void', params: [port, a('mctrl', 'unsigned int')], required: true, role: 'config', doc: 'Set the modem control lines (TIOCM_RTS, TIOCM_DTR, ...).' },
    { name: 'get_mctrl', ret: 'unsigned int', params: [port], required: true, role: 'query', doc: 'The modem status lines (TIOCM_CTS, TIOCM_DSR, TIOCM_CAR, TIOCM_RNG).' },
    { name: 'tx_empty', ret: 'unsigned int', params: [port], required: true, role: 'query', doc: 'TIOCSER_TEMT when everything given was sent, bytes taken (uart_get_tx) and not yet in the UART included: take the lock the transmit path holds.' },
  ],
};
