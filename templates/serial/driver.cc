/*
 * @NAME@: a serial (UART) driver in C++ (written by `nooks new @NAME@ --class
 * serial --lang c++`) for the emulated 16550A, `kernel.addDevice('uart16550',
 * { tty: '/dev/pts/N' })`, whose line is a real tty (registers:
 * <nooks/hw/uart_regs.h>). The same driver as the C template's, written as a
 * C++ author would: a class for the port whose members release what they
 * hold (RAII), no exceptions.
 *
 *   npx nooks build @NAME@/@NAME@.cc -o build/@NAME@.so
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
 *
 * The kernel calls the driver through C function pointers: the entry points
 * are extern "C" functions named @NAME@_start_tx, @NAME@_irq, ... (the names
 * faults are reported in and injected into) that hand over to the class.
 * docs/drivers.md, "C++ drivers", says what C++ may use here.
 */
#include <nooks/kapi.hh>

#include <nooks/serial_core.h>
#include <nooks/hw/uart_regs.h>

#include <algorithm>

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("@NAME@: a 16550A UART driver made with nooks new --lang c++");

namespace {

constexpr u32 UART_CLOCK = 1843200;	/* the highest baud is UART_CLOCK / 16 */
constexpr u32 FIFO_SIZE = 16;

/* LCR's parity bits for UART_PARITY_*: none for a parity it does not know. */
constexpr u8 lcr_parity(u8 parity)
{
	switch (parity) {
	case UART_PARITY_ODD:
		return UART_LCR_PARITY;
	case UART_PARITY_EVEN:
		return UART_LCR_PARITY | UART_LCR_EPAR;
	case UART_PARITY_MARK:
		return UART_LCR_PARITY | UART_LCR_SPAR;
	case UART_PARITY_SPACE:
		return UART_LCR_PARITY | UART_LCR_EPAR | UART_LCR_SPAR;
	}
	return 0;
}

/*
 * One UART: its registers and the port registered for it. start() brings it
 * up; the destructor undoes what start() did, whichever step it got to.
 */
class Port {
public:
	explicit Port(pci_dev *pdev) : pdev_(pdev), regs_(pdev, 0, 8) { spin_lock_init(&lock_); }
	~Port();
	Port(const Port &) = delete;
	Port &operator=(const Port &) = delete;

	static Port *of(uart_port *port) { return static_cast<Port *>(port->private_data); }

	int start(irq_handler_t irq, const uart_ops *ops);
	irqreturn_t interrupt();
	int startup();
	void shutdown();
	void set_termios(const ktermios *t);
	void start_tx();
	void stop_tx();
	void set_mctrl(unsigned int mctrl);
	unsigned int get_mctrl() const;
	unsigned int tx_empty() const;

private:
	void set_ier(u8 ier);
	void receive_chars();
	void transmit_chars();

	pci_dev *pdev_;
	nooks::Mmio regs_;		/* the UART's eight byte-wide registers (BAR 0), unmapped with the port */
	spinlock_t lock_;		/* the registers: the ops and the interrupt race */
	u8 ier_ = 0;			/* a copy of IER: changing it needs no read of the register */
	bool crtscts_ = false;		/* RTS/CTS flow control: transmission waits while CTS is down */
	bool cts_stopped_ = false;
	uart_port port_ = {};		/* the ops get it: its private_data is this */
	bool irq_requested_ = false;
	bool registered_ = false;
};

void Port::set_ier(u8 ier)
{
	ier_ = ier;
	regs_.write8(UART_IER, ier);
}

/* Is it a 16550? Then take its interrupt and register a port: 0, or -errno (the destructor cleans up). */
int Port::start(irq_handler_t irq, const uart_ops *ops)
{
	if (!regs_.mapped())
		return -ENODEV;
	/* a UART's scratch register holds what is written (other devices share these PCI ids) */
	regs_.write8(UART_SCR, 0xa5);
	if (regs_.read8(UART_SCR) != 0xa5)
		return -ENODEV;
	set_ier(0);
	if (int err = request_irq(pdev_->irq, irq, IRQF_SHARED, "@NAME@", this))
		return err;
	irq_requested_ = true;
	port_.ops = ops;
	port_.pdev = pdev_;
	port_.uartclk = UART_CLOCK;
	port_.fifosize = FIFO_SIZE;
	port_.private_data = this;
	if (int err = uart_add_one_port(&port_))	/* the kernel names it: port_.name */
		return err;
	registered_ = true;
	pr_info("@NAME@: %s: a 16550A at irq %u\n", port_.name, pdev_->irq);
	return 0;
}

/* The port goes and the UART's interrupts are off before its line is freed; the members unmap the registers. */
Port::~Port()
{
	if (registered_) {
		uart_remove_one_port(&port_);
		regs_.write8(UART_IER, 0);
	}
	if (irq_requested_)
		free_irq(pdev_->irq, this);
}

/* ---- the interrupt: move bytes between the FIFOs and the class ---------- */

void Port::receive_chars()
{
	u8 buf[64];
	size_t n = 0;

	while ((regs_.read8(UART_LSR) & UART_LSR_DR) && n < sizeof(buf))
		buf[n++] = regs_.read8(UART_RX);
	if (n)
		uart_insert_chars(&port_, buf, n);
}

void Port::transmit_chars()
{
	if (crtscts_ && !(regs_.read8(UART_MSR) & UART_MSR_CTS)) {
		cts_stopped_ = true;		/* the modem-status interrupt resumes */
		set_ier(ier_ & ~UART_IER_THRI);
		return;
	}
	u8 buf[FIFO_SIZE];
	int n = uart_get_tx(&port_, buf, FIFO_SIZE);	/* the THR is empty: a FIFO's worth */
	if (n == 0)
		set_ier(ier_ & ~UART_IER_THRI);	/* nothing more: until the next start_tx */
	for (int i = 0; i < n; i++)
		regs_.write8(UART_TX, buf[i]);
}

irqreturn_t Port::interrupt()
{
	nooks::SpinGuard held(lock_);
	bool handled = false;

	for (int loops = 0; loops < 32; loops++) {
		u8 iir = regs_.read8(UART_IIR);
		if (iir & UART_IIR_NO_INT)
			break;
		handled = true;
		switch (iir & UART_IIR_ID) {
		case UART_IIR_RLSI:		/* a line error: reading LSR clears it */
		case UART_IIR_RDI:
		case UART_IIR_RX_TIMEOUT:
			receive_chars();
			break;
		case UART_IIR_THRI:
			transmit_chars();
			break;
		case UART_IIR_MSI:
			if ((regs_.read8(UART_MSR) & UART_MSR_CTS) && cts_stopped_) {
				cts_stopped_ = false;
				set_ier(ier_ | UART_IER_THRI);
			}
			break;
		}
	}
	return handled ? IRQ_HANDLED : IRQ_NONE;
}

/* ---- the port's operations (the serial class calls them) ----------------- */

int Port::startup()
{
	nooks::SpinGuard held(lock_);
	regs_.write8(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT | UART_FCR_TRIGGER_8);
	regs_.write8(UART_LCR, UART_LCR_WLEN8);
	(void)regs_.read8(UART_LSR);	/* clear what is pending */
	(void)regs_.read8(UART_RX);
	(void)regs_.read8(UART_IIR);
	(void)regs_.read8(UART_MSR);
	cts_stopped_ = false;
	set_ier(UART_IER_RDI | UART_IER_RLSI | (crtscts_ ? UART_IER_MSI : 0));
	return 0;
}

void Port::shutdown()
{
	nooks::SpinGuard held(lock_);
	set_ier(0);
	regs_.write8(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	regs_.write8(UART_FCR, 0);
}

void Port::set_termios(const ktermios *t)
{
	unsigned int divisor = std::clamp((UART_CLOCK / 16 + t->baud / 2) / t->baud, 1u, 0xffffu);
	u8 lcr = (u8)(t->data_bits - 5) & 3;

	if (t->stop_bits == 2)
		lcr |= UART_LCR_STOP;
	lcr |= lcr_parity(t->parity);
	nooks::SpinGuard held(lock_);
	crtscts_ = t->flow == UART_FLOW_RTSCTS;
	u8 ier = crtscts_ ? ier_ | UART_IER_MSI : ier_ & ~UART_IER_MSI;
	if (!crtscts_ && cts_stopped_) {
		cts_stopped_ = false;
		ier |= UART_IER_THRI;
	}
	set_ier(ier);
	regs_.write8(UART_LCR, lcr | UART_LCR_DLAB);	/* DLAB: registers 0 and 1 are the divisor */
	regs_.write8(UART_DLL, divisor & 0xff);
	regs_.write8(UART_DLM, divisor >> 8);
	regs_.write8(UART_LCR, lcr);
}

/* Bytes are waiting: enable the transmit interrupt (the THR is empty, so it comes at once). */
void Port::start_tx()
{
	nooks::SpinGuard held(lock_);
	if (!(ier_ & UART_IER_THRI) && !cts_stopped_)
		set_ier(ier_ | UART_IER_THRI);
}

void Port::stop_tx()
{
	nooks::SpinGuard held(lock_);
	set_ier(ier_ & ~UART_IER_THRI);
}

void Port::set_mctrl(unsigned int mctrl)
{
	u8 mcr = (mctrl & TIOCM_DTR ? UART_MCR_DTR : 0) | (mctrl & TIOCM_RTS ? UART_MCR_RTS : 0) |
		 (mctrl & TIOCM_OUT1 ? UART_MCR_OUT1 : 0) | (mctrl & TIOCM_OUT2 ? UART_MCR_OUT2 : 0) |
		 (mctrl & TIOCM_LOOP ? UART_MCR_LOOP : 0);

	nooks::SpinGuard held(lock_);
	regs_.write8(UART_MCR, mcr);
}

unsigned int Port::get_mctrl() const
{
	u8 msr = regs_.read8(UART_MSR);

	return (msr & UART_MSR_DCD ? TIOCM_CAR : 0) | (msr & UART_MSR_RI ? TIOCM_RNG : 0) |
	       (msr & UART_MSR_DSR ? TIOCM_DSR : 0) | (msr & UART_MSR_CTS ? TIOCM_CTS : 0);
}

unsigned int Port::tx_empty() const
{
	return regs_.read8(UART_LSR) & UART_LSR_TEMT ? TIOCSER_TEMT : 0;
}

}  // namespace

/* The entry points the kernel calls, with C linkage: they hand over to the port. */
extern "C" {

static irqreturn_t @NAME@_irq(int irq, void *data)
{
	return static_cast<Port *>(data)->interrupt();
}

static int @NAME@_startup(uart_port *port)
{
	return Port::of(port)->startup();
}

static void @NAME@_shutdown(uart_port *port)
{
	Port::of(port)->shutdown();
}

static void @NAME@_set_termios(uart_port *port, const ktermios *t)
{
	Port::of(port)->set_termios(t);
}

static void @NAME@_start_tx(uart_port *port)
{
	Port::of(port)->start_tx();
}

static void @NAME@_stop_tx(uart_port *port)
{
	Port::of(port)->stop_tx();
}

static void @NAME@_set_mctrl(uart_port *port, unsigned int mctrl)
{
	Port::of(port)->set_mctrl(mctrl);
}

static unsigned int @NAME@_get_mctrl(uart_port *port)
{
	return Port::of(port)->get_mctrl();
}

static unsigned int @NAME@_tx_empty(uart_port *port)
{
	return Port::of(port)->tx_empty();
}

static const uart_ops @NAME@_ops = {
	.startup = @NAME@_startup,
	.shutdown = @NAME@_shutdown,
	.set_termios = @NAME@_set_termios,
	.start_tx = @NAME@_start_tx,
	.stop_tx = @NAME@_stop_tx,
	.set_mctrl = @NAME@_set_mctrl,
	.get_mctrl = @NAME@_get_mctrl,
	.tx_empty = @NAME@_tx_empty,
};

/* A device matched the id table: bring up a port for it if it is a 16550 (kept as the device's drvdata; a failed start is undone). */
static int @NAME@_probe(pci_dev *pdev, const pci_device_id *id)
{
	if (pci_enable_device(pdev) || pci_resource_len(pdev, 0) < 8)
		return -ENODEV;
	return nooks::probe_device<Port>(pdev, @NAME@_irq, &@NAME@_ops);
}

/* The port's destructor undoes what start did. */
static void @NAME@_remove(pci_dev *pdev)
{
	nooks::remove_device<Port>(pdev);
}

static const pci_device_id @NAME@_ids[] = {
	PCI_DEVICE(UART16550_VENDOR, UART16550_DEVICE),
	{ 0, 0 },
};

static pci_driver @NAME@_driver = {
	.name = "@NAME@",
	.id_table = @NAME@_ids,
	.probe = @NAME@_probe,
	.remove = @NAME@_remove,
};

}  // extern "C"

/* Load (and every restart): register with the PCI bus; devices already there are probed now. */
module_pci_driver(@NAME@_driver);
