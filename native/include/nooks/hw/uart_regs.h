/* The 16550A's registers (offsets in BAR 0, one byte each) and their bits,
 * as Linux's <linux/serial_reg.h> names them. Shared by the model
 * (uart16550.cc) and the driver (drivers/uart16550). */
#ifndef NOOKS_UART_REGS_H
#define NOOKS_UART_REGS_H

/* the emulated UART's PCI ids (each emulated device has ids of its own) */
#define UART16550_VENDOR	0x4e4b
#define UART16550_DEVICE	0x0003

#define UART_RX		0	/* in: receive buffer (DLAB=0) */
#define UART_TX		0	/* out: transmit holding (DLAB=0) */
#define UART_DLL	0	/* divisor latch low (DLAB=1) */
#define UART_IER	1	/* interrupt enable (DLAB=0) */
#define UART_DLM	1	/* divisor latch high (DLAB=1) */
#define UART_IIR	2	/* in: interrupt identification */
#define UART_FCR	2	/* out: FIFO control */
#define UART_LCR	3	/* line control */
#define UART_MCR	4	/* modem control */
#define UART_LSR	5	/* line status (read-only) */
#define UART_MSR	6	/* modem status (read-only) */
#define UART_SCR	7	/* scratch */

#define UART_IER_RDI	0x01	/* received data available (and character timeout) */
#define UART_IER_THRI	0x02	/* transmit holding register empty */
#define UART_IER_RLSI	0x04	/* receiver line status */
#define UART_IER_MSI	0x08	/* modem status */

#define UART_IIR_NO_INT	0x01
#define UART_IIR_ID	0x0e
#define UART_IIR_MSI	0x00
#define UART_IIR_THRI	0x02
#define UART_IIR_RDI	0x04
#define UART_IIR_RLSI	0x06
#define UART_IIR_RX_TIMEOUT 0x0c
#define UART_IIR_FIFO_ENABLED 0xc0

#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_CLEAR_XMIT 0x04
#define UART_FCR_DMA_SELECT 0x08
#define UART_FCR_TRIGGER_1 0x00
#define UART_FCR_TRIGGER_4 0x40
#define UART_FCR_TRIGGER_8 0x80
#define UART_FCR_TRIGGER_14 0xc0

#define UART_LCR_WLEN5	0x00
#define UART_LCR_WLEN6	0x01
#define UART_LCR_WLEN7	0x02
#define UART_LCR_WLEN8	0x03
#define UART_LCR_STOP	0x04	/* 2 stop bits (1.5 with 5-bit words) */
#define UART_LCR_PARITY	0x08	/* parity enable */
#define UART_LCR_EPAR	0x10	/* even parity */
#define UART_LCR_SPAR	0x20	/* stick parity (mark/space) */
#define UART_LCR_SBC	0x40	/* set break */
#define UART_LCR_DLAB	0x80	/* divisor latch access */

#define UART_MCR_DTR	0x01
#define UART_MCR_RTS	0x02
#define UART_MCR_OUT1	0x04
#define UART_MCR_OUT2	0x08
#define UART_MCR_LOOP	0x10

#define UART_LSR_DR	0x01	/* data ready */
#define UART_LSR_OE	0x02	/* overrun */
#define UART_LSR_PE	0x04	/* parity error */
#define UART_LSR_FE	0x08	/* framing error */
#define UART_LSR_BI	0x10	/* break */
#define UART_LSR_THRE	0x20	/* transmit holding register empty */
#define UART_LSR_TEMT	0x40	/* transmitter empty */

#define UART_MSR_DCTS	0x01
#define UART_MSR_DDSR	0x02
#define UART_MSR_TERI	0x04
#define UART_MSR_DDCD	0x08
#define UART_MSR_CTS	0x10
#define UART_MSR_DSR	0x20
#define UART_MSR_RI	0x40
#define UART_MSR_DCD	0x80

#endif
