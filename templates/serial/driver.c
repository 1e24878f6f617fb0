/*
 * @NAME@: a serial (UART) driver (written by `nooks new @NAME@ --class serial`)
 * for the emulated 16550A, `kernel.addDevice('uart16550', { tty: '/dev/pts/N' })`,
 * whose line is a real tty (registers: <nooks/hw/uart_regs.h>). Derived from
 * drivers/uart16550/uart16550.c.
 *
 *   npx nooks build @NAME@/@NAME@.c -o build/@NAME@.so
 *   node --test @NAME@/@NAME@.test.mjs        # sends bytes between two UARTs
 *
 * The serial class (<nooks/serial_core.h>): probe registers a port (ttyS0,
 * ...) with uart_add_one_port(). When an application opens it (openSerial)
 * the kernel calls startup and set_termios; when it has bytes to send it calls
 * start_tx, and the driver pulls them with uart_get_tx() as the transmitter
 * has room (here: from the transmit interrupt). Received bytes go up with
 * uart_insert_chars(). If the driver fails, its shadow keeps the open port
 * and its bytes and restores the port (startup, set_termios, modem lines) on
 * the restarted driver: the application's handle stays open.
 */
#include <nooks/kapi.h>

#include <nooks/serial_core.h>
#include <nooks/hw/uart_regs.h>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: a 16550A UART driver made with nooks new");

#define UART_CLOCK	1843200		/* the highest baud is UART_CLOCK / 16 */
#define FIFO_SIZE	16

struct @NAME@_port {
	struct uart_port port;		/* the ops get it: to_port() finds the rest */
	struct pci_dev *pdev;
	void __iomem *regs;
	spinlock_t lock;		/* the registers: the ops and the interrupt race */
	u8 ier;				/* a copy of IER: changing it needs no read of the register */
	bool crtscts, cts_stopped;	/* RTS/CTS flow control: transmission waits while CTS is down */
};

static u8 serial_in(struct @NAME@_port *up, int reg)
{
	return ioread8(up->regs + reg);
}

static void serial_out(struct @NAME@_port *up, int reg, u8 v)
{
	iowrite8(v, up->regs + reg);
}

static struct @NAME@_port *to_port(struct uart_port *port)
{
	return container_of(port, struct @NAME@_port, port);
}

static void set_ier(struct @NAME@_port *up, u8 ier)
{
	up->ier = ier;
	serial_out(up, UART_IER, ier);
}

/* ---- the interrupt: move bytes between the FIFOs and the class ---------- */

static void receive_chars(struct @NAME@_port *up)
{
	u8 buf[64];
	size_t n = 0;

	while ((serial_in(up, UART_LSR) & UART_LSR_DR) && n < sizeof(buf))
		buf[n++] = serial_in(up, UART_RX);
	if (n)
		uart_insert_chars(&up->port, buf, n);
}

static void transmit_chars(struct @NAME@_port *up)
{
	u8 buf[FIFO_SIZE];
	int n, i;

	if (up->crtscts && !(serial_in(up, UART_MSR) & UART_MSR_CTS)) {
		up->cts_stopped = true;		/* the modem-status interrupt resumes */
		set_ier(up, up->ier & ~UART_IER_THRI);
		return;
	}
	n = uart_get_tx(&up->port, buf, FIFO_SIZE);	/* the THR is empty: a FIFO's worth */
	if (n == 0)
		set_ier(up, up->ier & ~UART_IER_THRI);	/* nothing more: until the next start_tx */
	for (i = 0; i < n; i++)
		serial_out(up, UART_TX, buf[i]);
}

static irqreturn_t @NAME@_irq(int irq, void *data)
{
	struct @NAME@_port *up = data;
	int handled = 0, loops;
	u8 iir;

	spin_lock(&up->lock);
	for (loops = 0; loops < 32; loops++) {
		iir = serial_in(up, UART_IIR);
		if (iir & UART_IIR_NO_INT)
			break;
		handled = 1;
		switch (iir & UART_IIR_ID) {
		case UART_IIR_RLSI:		/* a line error: reading LSR clears it */
		case UART_IIR_RDI:
		case UART_IIR_RX_TIMEOUT:
			receive_chars(up);
			break;
		case UART_IIR_THRI:
			transmit_chars(up);
			break;
		case UART_IIR_MSI:
			if ((serial_in(up, UART_MSR) & UART_MSR_CTS) && up->cts_stopped) {
				up->cts_stopped = false;
				set_ier(up, up->ier | UART_IER_THRI);
			}
			break;
		}
	}
	spin_unlock(&up->lock);
	return handled ? IRQ_HANDLED : IRQ_NONE;
}

/* ---- the port's operations (the serial class calls them) ----------------- */

static int @NAME@_startup(struct uart_port *port)
{
	struct @NAME@_port *up = to_port(port);

	spin_lock(&up->lock);
	serial_out(up, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT | UART_FCR_TRIGGER_8);
	serial_out(up, UART_LCR, UART_LCR_WLEN8);
	(void)serial_in(up, UART_LSR);	/* clear what is pending */
	(void)serial_in(up, UART_RX);
	(void)serial_in(up, UART_IIR);
	(void)serial_in(up, UART_MSR);
	up->cts_stopped = false;
	set_ier(up, UART_IER_RDI | UART_IER_RLSI | (up->crtscts ? UART_IER_MSI : 0));
	spin_unlock(&up->lock);
	return 0;
}

static void @NAME@_shutdown(struct uart_port *port)
{
	struct @NAME@_port *up = to_port(port);

	spin_lock(&up->lock);
	set_ier(up, 0);
	serial_out(up, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	serial_out(up, UART_FCR, 0);
	spin_unlock(&up->lock);
}

/* LCR's parity bits for UART_PARITY_* */
static const u8 parity_bits[] = {
	[UART_PARITY_NONE] = 0,
	[UART_PARITY_ODD] = UART_LCR_PARITY,
	[UART_PARITY_EVEN] = UART_LCR_PARITY | UART_LCR_EPAR,
	[UART_PARITY_MARK] = UART_LCR_PARITY | UART_LCR_SPAR,
	[UART_PARITY_SPACE] = UART_LCR_PARITY | UART_LCR_EPAR | UART_LCR_SPAR,
};

static void @NAME@_set_termios(struct uart_port *port, const struct ktermios *t)
{
	struct @NAME@_port *up = to_port(port);
	unsigned int divisor = (UART_CLOCK / 16 + t->baud / 2) / t->baud;
	u8 ier, lcr = (u8)(t->data_bits - 5) & 3;

	if (divisor == 0)
		divisor = 1;
	if (divisor > 0xffff)
		divisor = 0xffff;
	if (t->stop_bits == 2)
		lcr |= UART_LCR_STOP;
	if (t->parity < sizeof(parity_bits))
		lcr |= parity_bits[t->parity];
	spin_lock(&up->lock);
	up->crtscts = t->flow == UART_FLOW_RTSCTS;
	ier = up->crtscts ? up->ier | UART_IER_MSI : up->ier & ~UART_IER_MSI;
	if (!up->crtscts && up->cts_stopped) {
		up->cts_stopped = false;
		ier |= UART_IER_THRI;
	}
	set_ier(up, ier);
	serial_out(up, UART_LCR, lcr | UART_LCR_DLAB);	/* DLAB: registers 0 and 1 are the divisor */
	serial_out(up, UART_DLL, divisor & 0xff);
	serial_out(up, UART_DLM, divisor >> 8);
	serial_out(up, UART_LCR, lcr);
	spin_unlock(&up->lock);
}

/* Bytes are waiting: enable the transmit interrupt (the THR is empty, so it comes at once). */
static void @NAME@_start_tx(struct uart_port *port)
{
	struct @NAME@_port *up = to_port(port);

	spin_lock(&up->lock);
	if (!(up->ier & UART_IER_THRI) && !up->cts_stopped)
		set_ier(up, up->ier | UART_IER_THRI);
	spin_unlock(&up->lock);
}

static void @NAME@_stop_tx(struct uart_port *port)
{
	struct @NAME@_port *up = to_port(port);

	spin_lock(&up->lock);
	set_ier(up, up->ier & ~UART_IER_THRI);
	spin_unlock(&up->lock);
}

static void @NAME@_set_mctrl(struct uart_port *port, unsigned int mctrl)
{
	struct @NAME@_port *up = to_port(port);
	u8 mcr = (mctrl & TIOCM_DTR ? UART_MCR_DTR : 0) | (mctrl & TIOCM_RTS ? UART_MCR_RTS : 0) |
		 (mctrl & TIOCM_OUT1 ? UART_MCR_OUT1 : 0) | (mctrl & TIOCM_OUT2 ? UART_MCR_OUT2 : 0) |
		 (mctrl & TIOCM_LOOP ? UART_MCR_LOOP : 0);

	spin_lock(&up->lock);
	serial_out(up, UART_MCR, mcr);
	spin_unlock(&up->lock);
}

static unsigned int @NAME@_get_mctrl(struct uart_port *port)
{
	u8 msr = serial_in(to_port(port), UART_MSR);

	return (msr & UART_MSR_DCD ? TIOCM_CAR : 0) | (msr & UART_MSR_RI ? TIOCM_RNG : 0) |
	       (msr & UART_MSR_DSR ? TIOCM_DSR : 0) | (msr & UART_MSR_CTS ? TIOCM_CTS : 0);
}

static unsigned int @NAME@_tx_empty(struct uart_port *port)
{
	return serial_in(to_port(port), UART_LSR) & UART_LSR_TEMT ? TIOCSER_TEMT : 0;
}

static const struct uart_ops @NAME@_ops = {
	.startup = @NAME@_startup,
	.shutdown = @NAME@_shutdown,
	.set_termios = @NAME@_set_termios,
	.start_tx = @NAME@_start_tx,
	.stop_tx = @NAME@_stop_tx,
	.set_mctrl = @NAME@_set_mctrl,
	.get_mctrl = @NAME@_get_mctrl,
	.tx_empty = @NAME@_tx_empty,
};

/* ---- PCI: is it a 16550? then register a port ----------------------------- */

static int @NAME@_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct @NAME@_port *up;
	int err = -ENODEV;

	if (pci_enable_device(pdev) || pci_resource_len(pdev, 0) < 8)
		return -ENODEV;
	up = kzalloc(sizeof(*up), GFP_KERNEL);
	if (!up)
		return -ENOMEM;
	up->pdev = pdev;
	spin_lock_init(&up->lock);
	up->regs = pci_iomap(pdev, 0, 8);
	if (!up->regs)
		goto fail;
	/* a UART's scratch register holds what is written (other devices share these PCI ids) */
	serial_out(up, UART_SCR, 0xa5);
	if (serial_in(up, UART_SCR) != 0xa5)
		goto fail;
	set_ier(up, 0);
	err = request_irq(pdev->irq, @NAME@_irq, IRQF_SHARED, "@NAME@", up);
	if (err)
		goto fail;
	up->port.ops = &@NAME@_ops;
	up->port.pdev = pdev;
	up->port.uartclk = UART_CLOCK;
	up->port.fifosize = FIFO_SIZE;
	up->port.private_data = up;
	err = uart_add_one_port(&up->port);	/* the kernel names it: port.name */
	if (err) {
		free_irq(pdev->irq, up);
		goto fail;
	}
	pci_set_drvdata(pdev, up);
	pr_info("@NAME@: %s: a 16550A at irq %u\n", up->port.name, pdev->irq);
	return 0;
fail:
	if (up->regs)
		pci_iounmap(pdev, up->regs);
	kfree(up);
	return err;
}

static void @NAME@_remove(struct pci_dev *pdev)
{
	struct @NAME@_port *up = pci_get_drvdata(pdev);

	uart_remove_one_port(&up->port);
	serial_out(up, UART_IER, 0);
	free_irq(pdev->irq, up);
	pci_iounmap(pdev, up->regs);
	kfree(up);
}

static const struct pci_device_id @NAME@_ids[] = {
	PCI_DEVICE(UART16550_VENDOR, UART16550_DEVICE),
	{ 0, 0 },
};

static struct pci_driver @NAME@_driver = {
	.name = "@NAME@",
	.id_table = @NAME@_ids,
	.probe = @NAME@_probe,
	.remove = @NAME@_remove,
};

module_pci_driver(@NAME@_driver);
