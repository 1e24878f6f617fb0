/*
 * The serial (tty) class as UART drivers and the kernel share it. C, included
 * by drivers (after <nooks/kapi.h>) and by the kernel side
 * (native/classes/serial/serial_core.cc).
 *
 *   the kernel                              the driver
 *   uart_add_one_port(port)        <-----   probe: a port (ttyS<line>) with its ops
 *   ops->startup / shutdown        ----->   an application opens / closes the port
 *   ops->set_termios(port, t)      ----->   baud, data bits, parity, stop bits, flow
 *   ops->start_tx / stop_tx        ----->   bytes are waiting / stop sending
 *   uart_get_tx(port, buf, max)    <-----   the driver pulls bytes to transmit
 *   uart_insert_chars(port, b, n)  <-----   bytes received (from the irq handler)
 *   ops->set_mctrl / get_mctrl     ----->   modem control lines (TIOCM_*)
 *   uart_remove_one_port(port)     <-----   remove
 *
 * The kernel copies the ops table at registration: later changes to it are
 * not seen. The kernel's calls take the port as `void *` (a struct uart_port *).
 */
#ifndef NOOKS_SERIAL_CORE_H
#define NOOKS_SERIAL_CORE_H

/* parity */
#define UART_PARITY_NONE 0
#define UART_PARITY_ODD 1
#define UART_PARITY_EVEN 2
#define UART_PARITY_MARK 3
#define UART_PARITY_SPACE 4

/* flow control */
#define UART_FLOW_NONE 0
#define UART_FLOW_RTSCTS 1

/* modem control lines (as Linux's TIOCM_*; the kernel side may have them from <termios.h>) */
#ifndef TIOCM_DTR
#define TIOCM_DTR 0x002
#define TIOCM_RTS 0x004
#define TIOCM_CTS 0x020
#define TIOCM_CAR 0x040
#define TIOCM_RNG 0x080
#define TIOCM_DSR 0x100
#define TIOCM_OUT1 0x2000
#define TIOCM_OUT2 0x4000
#define TIOCM_LOOP 0x8000
#endif
#ifndef TIOCM_OUT1
#define TIOCM_OUT1 0x2000
#define TIOCM_OUT2 0x4000
#define TIOCM_LOOP 0x8000
#endif
#ifndef TIOCSER_TEMT
#define TIOCSER_TEMT 1
#endif

struct ktermios {
	u32 baud;	/* bits per second */
	u8 data_bits;	/* 5..8 */
	u8 stop_bits;	/* 1 or 2 */
	u8 parity;	/* UART_PARITY_* */
	u8 flow;	/* UART_FLOW_* */
};

struct uart_port;

#include <nooks/ops/uart_ops.h>	/* the operations: lib/wrappers/ops/serial.ts */

#define UART_PORT_SIZE 56
struct uart_port {
	const struct uart_ops *ops;	/* the driver's (all required) */
	struct pci_dev *pdev;		/* the device, or NULL */
	u32 uartclk;			/* input clock in Hz: the highest baud is uartclk / 16 */
	u32 fifosize;			/* bytes the transmitter takes at once: 0 (taken as 1) to 4096 */
	u32 line;			/* set by the kernel: ttyS<line> */
	u32 reserved;
	void *private_data;		/* the driver's */
	char name[16];			/* set by the kernel: "ttyS0" */
};
#ifndef __cplusplus
_Static_assert(sizeof(struct uart_port) == UART_PORT_SIZE, "struct uart_port: UART_PORT_SIZE and lib/wrappers/kapi/serial.ts");
#endif

#endif
