/*
 * uart16550: a driver for 16550A UARTs on PCI serial cards (BAR 0: the eight
 * registers), written as Linux's 8250 driver is: probe checks the chip
 * (scratch register, loopback of the modem lines, FIFO identification),
 * registers a port with the serial class, and an interrupt handler moves bytes
 * between the FIFOs and the class (uart_insert_chars, uart_get_tx). RTS/CTS
 * flow control is done here: transmission waits while CTS is down.
 */
#include <nooks/kapi.h>

#include <nooks/serial_core.h>
#include <nooks/hw/uart_regs.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("16550A UART on a PCI card");

#define UART_CLOCK	1843200
#define FIFO_SIZE	16
#define IRQ_LOOPS	32	/* at most this many interrupt sources per interrupt */

struct uart16550 {
	struct uart_port port;
	struct pci_dev *pdev;
	void __iomem *regs;
	spinlock_t lock;	/* the shadow registers below and the transmitter */
	u8 ier, lcr, mcr;
	bool crtscts;		/* hardware flow control */
	bool cts_stopped;	/* waiting for CTS */
	bool irq_attached;
	long overruns, parity_errors, framing_errors, breaks;
	bool tx_starting;	/* start_tx turned the transmit interrupt on: the next one starts a transmission */
	long crash_on_tx;	/* tests: fault in the transmit interrupt that starts the next transmission */
	bool held;		/* tests: neither transmit nor receive interrupts (hold()) */
	bool stall_tx;		/* tests: the next transmit interrupt waits, bytes taken, for tx_empty's answer (stall_next_tx()) */
	volatile long tx_empty_answered;	/* tests: tx_empty's reads of the LSR, counted once read */
};

static struct uart16550 *the_uart;	/* the last one probed, for the exported test functions */

static u8 serial_in(struct uart16550 *up, int reg)
{
	return ioread8(up->regs + reg);
}

static void serial_out(struct uart16550 *up, int reg, u8 v)
{
	iowrite8(v, up->regs + reg);
}

static struct uart16550 *to_uart(struct uart_port *port)
{
	return container_of(port, struct uart16550, port);
}

/* ---- the interrupt handler ------------------------------------------------ */

static void receive_chars(struct uart16550 *up, u8 lsr)
{
	u8 buf[64];
	size_t n = 0;

	while ((lsr & UART_LSR_DR) && n < sizeof(buf)) {
		buf[n++] = serial_in(up, UART_RX);
		lsr = serial_in(up, UART_LSR);
	}
	if (n)
		uart_insert_chars(&up->port, buf, n);
}

/* Called with up->lock held. */
static void transmit_chars(struct uart16550 *up)
{
	u8 buf[FIFO_SIZE];
	int n, i;

	if (up->crash_on_tx && up->tx_starting) {
		volatile int *null = NULL;
		unsigned long end = jiffies + msecs_to_jiffies(250);

		/* once the shift register is empty too: the fault loses no byte the UART held */
		while (!(serial_in(up, UART_LSR) & UART_LSR_TEMT) && (long)(jiffies - end) < 0)
			;
		up->crash_on_tx = 0;
		*null = 1;	/* a driver bug, on purpose */
	}
	up->tx_starting = false;
	if (up->crtscts && !(serial_in(up, UART_MSR) & UART_MSR_CTS)) {
		up->cts_stopped = true;	/* the modem-status interrupt resumes */
		up->ier &= ~UART_IER_THRI;
		serial_out(up, UART_IER, up->ier);
		return;
	}
	n = uart_get_tx(&up->port, buf, FIFO_SIZE);
	if (n == 0) {
		up->ier &= ~UART_IER_THRI;
		serial_out(up, UART_IER, up->ier);
		return;
	}
	if (up->stall_tx) {
		/*
		 * The kernel's queue may be empty now, the bytes not in the UART yet: a tx_empty that reads
		 * the LSR meanwhile answers, and the bytes go in only after. One that takes the lock cannot
		 * answer before the stall runs out (nor can it run at all under mprotect, one thread at a
		 * time in driver code), and reads the LSR with the bytes in.
		 */
		long answered = up->tx_empty_answered;
		unsigned long end = jiffies + msecs_to_jiffies(1000);

		up->stall_tx = false;
		while (up->tx_empty_answered == answered && (long)(jiffies - end) < 0)
			;
	}
	for (i = 0; i < n; i++)
		serial_out(up, UART_TX, buf[i]);
}

static void check_modem_status(struct uart16550 *up)
{
	u8 msr = serial_in(up, UART_MSR);

	if ((msr & UART_MSR_DCTS) && up->crtscts && (msr & UART_MSR_CTS) && up->cts_stopped) {
		up->cts_stopped = false;
		up->ier |= UART_IER_THRI;
		serial_out(up, UART_IER, up->ier);
	}
}

static irqreturn_t uart16550_irq(int irq, void *dev_id)
{
	struct uart16550 *up = dev_id;
	int handled = 0, loops;
	u8 iir, lsr;

	(void)irq;
	spin_lock(&up->lock);
	for (loops = 0; loops < IRQ_LOOPS; loops++) {
		iir = serial_in(up, UART_IIR);
		if (iir & UART_IIR_NO_INT)
			break;
		handled = 1;
		switch (iir & UART_IIR_ID) {
		case UART_IIR_RLSI:
			lsr = serial_in(up, UART_LSR);
			if (lsr & UART_LSR_OE)
				up->overruns++;
			if (lsr & UART_LSR_PE)
				up->parity_errors++;
			if (lsr & UART_LSR_FE)
				up->framing_errors++;
			if (lsr & UART_LSR_BI)
				up->breaks++;
			receive_chars(up, lsr);
			break;
		case UART_IIR_RDI:
		case UART_IIR_RX_TIMEOUT:
			receive_chars(up, serial_in(up, UART_LSR));
			break;
		case UART_IIR_THRI:
			transmit_chars(up);
			break;
		case UART_IIR_MSI:
			check_modem_status(up);
			break;
		default:
			pr_warn("uart16550: unexpected IIR 0x%x\n", iir);
			break;
		}
	}
	if (loops == IRQ_LOOPS)
		pr_warn("uart16550: too much work for irq %d\n", irq);
	spin_unlock(&up->lock);
	return handled ? IRQ_HANDLED : IRQ_NONE;
}

/* ---- the port's operations (the serial class calls them) ----------------- */

static int uart16550_startup(struct uart_port *port)
{
	struct uart16550 *up = to_uart(port);

	spin_lock(&up->lock);
	serial_out(up, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT | UART_FCR_TRIGGER_8);
	serial_out(up, UART_LCR, UART_LCR_WLEN8);
	up->lcr = UART_LCR_WLEN8;
	/* clear what is pending */
	(void)serial_in(up, UART_LSR);
	(void)serial_in(up, UART_RX);
	(void)serial_in(up, UART_IIR);
	(void)serial_in(up, UART_MSR);
	up->cts_stopped = false;
	up->ier = UART_IER_RDI | UART_IER_RLSI;
	serial_out(up, UART_IER, up->ier);
	spin_unlock(&up->lock);
	return 0;
}

static void uart16550_shutdown(struct uart_port *port)
{
	struct uart16550 *up = to_uart(port);

	spin_lock(&up->lock);
	up->ier = 0;
	serial_out(up, UART_IER, 0);
	serial_out(up, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	serial_out(up, UART_FCR, 0);
	up->lcr &= ~UART_LCR_SBC;
	serial_out(up, UART_LCR, up->lcr);
	(void)serial_in(up, UART_RX);
	spin_unlock(&up->lock);
}

static void uart16550_set_termios(struct uart_port *port, const struct ktermios *t)
{
	struct uart16550 *up = to_uart(port);
	unsigned int divisor;
	u8 lcr;

	divisor = (UART_CLOCK / 16 + t->baud / 2) / t->baud;
	if (divisor == 0)
		divisor = 1;
	if (divisor > 0xffff)
		divisor = 0xffff;
	lcr = (u8)(t->data_bits - 5) & 3;
	if (t->stop_bits == 2)
		lcr |= UART_LCR_STOP;
	switch (t->parity) {
	case UART_PARITY_ODD: lcr |= UART_LCR_PARITY; break;
	case UART_PARITY_EVEN: lcr |= UART_LCR_PARITY | UART_LCR_EPAR; break;
	case UART_PARITY_MARK: lcr |= UART_LCR_PARITY | UART_LCR_SPAR; break;
	case UART_PARITY_SPACE: lcr |= UART_LCR_PARITY | UART_LCR_EPAR | UART_LCR_SPAR; break;
	default: break;
	}
	spin_lock(&up->lock);
	up->crtscts = t->flow == UART_FLOW_RTSCTS;
	if (up->crtscts)
		up->ier |= UART_IER_MSI;
	else
		up->ier &= ~UART_IER_MSI;
	if (!up->crtscts && up->cts_stopped) {
		up->cts_stopped = false;
		up->ier |= UART_IER_THRI;
	}
	serial_out(up, UART_IER, up->ier);
	serial_out(up, UART_LCR, lcr | UART_LCR_DLAB);
	serial_out(up, UART_DLL, divisor & 0xff);
	serial_out(up, UART_DLM, divisor >> 8);
	serial_out(up, UART_LCR, lcr);
	up->lcr = lcr;
	spin_unlock(&up->lock);
	pr_debug("uart16550: %s: %u baud (divisor %u), lcr 0x%x%s\n", port->name, t->baud, divisor, lcr,
		 up->crtscts ? ", rts/cts" : "");
}

static void uart16550_start_tx(struct uart_port *port)
{
	struct uart16550 *up = to_uart(port);

	spin_lock(&up->lock);
	if (!(up->ier & UART_IER_THRI) && !up->cts_stopped && !up->held) {
		up->ier |= UART_IER_THRI;	/* THR empty: the interrupt comes at once */
		up->tx_starting = true;
		serial_out(up, UART_IER, up->ier);
	}
	spin_unlock(&up->lock);
}

static void uart16550_stop_tx(struct uart_port *port)
{
	struct uart16550 *up = to_uart(port);

	spin_lock(&up->lock);
	up->ier &= ~UART_IER_THRI;
	serial_out(up, UART_IER, up->ier);
	spin_unlock(&up->lock);
}

static void uart16550_set_mctrl(struct uart_port *port, unsigned int mctrl)
{
	struct uart16550 *up = to_uart(port);
	u8 mcr = 0;

	if (mctrl & TIOCM_DTR)
		mcr |= UART_MCR_DTR;
	if (mctrl & TIOCM_RTS)
		mcr |= UART_MCR_RTS;
	if (mctrl & TIOCM_OUT1)
		mcr |= UART_MCR_OUT1;
	if (mctrl & TIOCM_OUT2)
		mcr |= UART_MCR_OUT2;
	if (mctrl & TIOCM_LOOP)
		mcr |= UART_MCR_LOOP;
	spin_lock(&up->lock);
	up->mcr = mcr;
	serial_out(up, UART_MCR, mcr);
	spin_unlock(&up->lock);
}

static unsigned int uart16550_get_mctrl(struct uart_port *port)
{
	struct uart16550 *up = to_uart(port);
	unsigned int ret = 0;
	u8 msr = serial_in(up, UART_MSR);

	if (msr & UART_MSR_DCD)
		ret |= TIOCM_CAR;
	if (msr & UART_MSR_RI)
		ret |= TIOCM_RNG;
	if (msr & UART_MSR_DSR)
		ret |= TIOCM_DSR;
	if (msr & UART_MSR_CTS)
		ret |= TIOCM_CTS;
	return ret;
}

/*
 * Under the lock, as Linux's 8250: the transmit interrupt takes bytes from the
 * kernel before it writes them to the UART, and in between the kernel's queue
 * is empty and so may the UART be. Read then, the port was "drained" and a
 * close's shutdown cleared the FIFO those bytes went to.
 */
static unsigned int uart16550_tx_empty(struct uart_port *port)
{
	struct uart16550 *up = to_uart(port);
	unsigned int ret;

	spin_lock(&up->lock);
	ret = (serial_in(up, UART_LSR) & UART_LSR_TEMT) ? TIOCSER_TEMT : 0;
	up->tx_empty_answered++;
	spin_unlock(&up->lock);
	return ret;
}

static const struct uart_ops uart16550_ops = {
	.startup = uart16550_startup,
	.shutdown = uart16550_shutdown,
	.set_termios = uart16550_set_termios,
	.start_tx = uart16550_start_tx,
	.stop_tx = uart16550_stop_tx,
	.set_mctrl = uart16550_set_mctrl,
	.get_mctrl = uart16550_get_mctrl,
	.tx_empty = uart16550_tx_empty,
};

/* ---- probe: is it a 16550A? ------------------------------------------------ */

static int uart16550_identify(struct uart16550 *up)
{
	u8 iir, msr;

	/* the scratch register holds what is written */
	serial_out(up, UART_SCR, 0xa5);
	if (serial_in(up, UART_SCR) != 0xa5)
		return -ENODEV;
	serial_out(up, UART_SCR, 0x5a);
	if (serial_in(up, UART_SCR) != 0x5a)
		return -ENODEV;
	/* loopback: MSR's inputs follow MCR's outputs */
	serial_out(up, UART_MCR, UART_MCR_LOOP | 0x0a);	/* RTS and OUT2 */
	msr = serial_in(up, UART_MSR) & 0xf0;
	serial_out(up, UART_MCR, 0);
	(void)serial_in(up, UART_MSR);
	if (msr != (UART_MSR_CTS | UART_MSR_DCD)) {
		pr_err("uart16550: loopback test failed (MSR 0x%x)\n", msr);
		return -ENODEV;
	}
	/* a 16550A reports working FIFOs in IIR */
	serial_out(up, UART_FCR, UART_FCR_ENABLE_FIFO);
	iir = serial_in(up, UART_IIR);
	serial_out(up, UART_FCR, 0);
	if ((iir & UART_IIR_FIFO_ENABLED) != UART_IIR_FIFO_ENABLED) {
		pr_err("uart16550: not a 16550A (IIR 0x%x)\n", iir);
		return -ENODEV;
	}
	return 0;
}

static int uart16550_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct uart16550 *up;
	int err;

	(void)id;
	if (pci_enable_device(pdev))
		return -ENODEV;
	up = kzalloc(sizeof(*up), GFP_KERNEL);
	if (!up)
		return -ENOMEM;
	up->pdev = pdev;
	spin_lock_init(&up->lock);
	if (pci_resource_len(pdev, 0) < 8)
		goto nodev;
	up->regs = pci_iomap(pdev, 0, 8);
	if (!up->regs)
		goto nodev;
	err = uart16550_identify(up);
	if (err)
		goto fail;
	serial_out(up, UART_IER, 0);
	err = request_irq(pdev->irq, uart16550_irq, IRQF_SHARED, "uart16550", up);
	if (err)
		goto fail;
	up->irq_attached = true;
	up->port.ops = &uart16550_ops;
	up->port.pdev = pdev;
	up->port.uartclk = UART_CLOCK;
	up->port.fifosize = FIFO_SIZE;
	up->port.private_data = up;
	err = uart_add_one_port(&up->port);
	if (err)
		goto fail;
	pci_set_drvdata(pdev, up);
	the_uart = up;
	pr_info("uart16550: %s: 16550A at irq %u\n", up->port.name, pdev->irq);
	return 0;
nodev:
	err = -ENODEV;
fail:
	if (up->irq_attached)
		free_irq(pdev->irq, up);
	if (up->regs)
		pci_iounmap(pdev, up->regs);
	kfree(up);
	return err;
}

static void uart16550_remove(struct pci_dev *pdev)
{
	struct uart16550 *up = pci_get_drvdata(pdev);

	uart_remove_one_port(&up->port);
	serial_out(up, UART_IER, 0);
	free_irq(pdev->irq, up);
	pci_iounmap(pdev, up->regs);
	if (the_uart == up)
		the_uart = NULL;
	kfree(up);
}

static const struct pci_device_id uart16550_ids[] = {
	PCI_DEVICE(UART16550_VENDOR, UART16550_DEVICE),
	{ 0, 0 },
};

static struct pci_driver uart16550_driver = {
	.name = "uart16550",
	.id_table = uart16550_ids,
	.probe = uart16550_probe,
	.remove = uart16550_remove,
};

/* ---- for tests ------------------------------------------------------------ */

NOOKS_EXPORT long bound(void)
{
	return the_uart != NULL;
}

/* Line status errors the interrupt handler counted. */
NOOKS_EXPORT long line_errors(void)
{
	return the_uart ? the_uart->overruns + the_uart->parity_errors + the_uart->framing_errors + the_uart->breaks : -1;
}

/* A driver bug: accesses the 16550 does not define (a 32-bit read, a write to LSR). */
NOOKS_EXPORT long undefined_registers(void)
{
	long v;

	if (!the_uart)
		return -ENODEV;
	v = ioread32(the_uart->regs);
	iowrite8(0, the_uart->regs + UART_LSR);
	return v;
}

/* A driver bug: received bytes handed to the kernel from an address that is not the driver's. */
NOOKS_EXPORT long bad_insert(void)
{
	if (!the_uart)
		return -ENODEV;
	return uart_insert_chars(&the_uart->port, (const void *)0x1000, 16);
}

/*
 * A driver bug armed for later: the transmit interrupt that starts the next
 * transmission (start_tx's) dereferences NULL, before it takes a byte and once
 * the UART has sent what it still held. Bytes a driver took are never sent
 * again after a restart, so tests that count every byte need a fault that
 * loses none; and the line is quiet then in request/response exchanges.
 */
NOOKS_EXPORT long crash_on_next_tx(void)
{
	if (!the_uart)
		return -ENODEV;
	the_uart->crash_on_tx = 1;
	return 0;
}

/*
 * Tests: the next transmit interrupt that takes bytes from the kernel waits,
 * before it writes them to the UART, until tx_empty has read the LSR (at most 1 s).
 */
NOOKS_EXPORT long stall_next_tx(void)
{
	if (!the_uart)
		return -ENODEV;
	the_uart->stall_tx = true;
	return 0;
}

/*
 * Tests: hold (1) leaves the UART alone: the transmit interrupt takes no more
 * bytes (they wait in the kernel) and received ones stay in the UART (its FIFO,
 * then the line); hold (0) lets them go again.
 */
NOOKS_EXPORT long hold(long on)
{
	if (!the_uart)
		return -ENODEV;
	spin_lock(&the_uart->lock);
	the_uart->held = on != 0;
	if (on)
		the_uart->ier &= ~(UART_IER_THRI | UART_IER_RDI);
	else
		the_uart->ier |= UART_IER_THRI | UART_IER_RDI;	/* THR empty: a transmit interrupt at once */
	serial_out(the_uart, UART_IER, the_uart->ier);
	spin_unlock(&the_uart->lock);
	return 0;
}

module_pci_driver(uart16550_driver);
