// The serial (tty) class: how a UART driver registers its port and moves bytes
// (native/include/nooks/serial_core.h, bodies in serial_core.cc). The port is
// passed as `void *` (a struct uart_port *): kapi.h does not declare the class
// types, and a struct first named in a prototype would be invisible outside it.
import { p, type KapiCall } from './types.js';

// sizeof(struct uart_port): UART_PORT_SIZE in serial_core.h (checked there by a static assertion).
const kUartPortSize = 56;
const port = p('port', 'void *', { kind: 'object', type: 'uart_port' });

export const serial: KapiCall[] = [
  {
    name: 'uart_add_one_port', ret: 'int', params: [p('port', 'void *', { kind: 'lasting', size: `${kUartPortSize}` })],
    doc: 'Register a UART port (a struct uart_port * with its ops table, copied now): it becomes ttyS<line> (port->line and port->name are set). Its pdev is NULL or a pci_dev the driver holds (else a bad-call fault). 0, -EINVAL for a bad ops table, a uartclk below 800 (under 50 baud) or a fifosize above 4096 (deeper than any UART\'s FIFO: a 16550A\'s is 16, DesignWare\'s up to 2048; 0 is taken as 1), -EBUSY if registered already.',
  },
  {
    name: 'uart_remove_one_port', ret: 'void', params: [port],
    doc: 'Unregister a port: an application that has it open gets ENODEV (shutdown() runs first if it was open).',
  },
  {
    name: 'uart_insert_chars', ret: 'int', params: [port, p('buf', 'const void *', { kind: 'readable', size: 'n' }), p('n', 'size_t', { kind: 'size', max: 4096 })],
    doc: 'Bytes received (from the irq handler): queued for the application. Returns how many were kept (bytes for a port nobody has open are dropped, as are bytes past the receive buffer).',
  },
  {
    name: 'uart_get_tx', ret: 'int', params: [port, p('buf', 'void *', { kind: 'writable', size: 'max' }), p('max', 'size_t', { kind: 'size', max: 4096 })],
    doc: 'The driver takes up to `max` bytes to transmit into `buf`. Returns how many (0: nothing to send; stop the transmitter).',
  },
];
