/*
 * @NAME@: a userspace driver written as a program, in C++ (written by `nooks
 * new --program @NAME@ --lang c++`), as UIO drivers are: C++ against libc,
 * no nooks header, a main that parses its options, opens its device,
 * installs SIGINT/SIGTERM handlers and loops on poll() until they stop it.
 * Without exceptions or RTTI; of the C++ library, what its headers hold
 * (docs/drivers.md, "C++ drivers").
 *
 *   npx nooks build --posix @NAME@/@NAME@.cc -o build/@NAME@.so
 *   npx nooks exec build/@NAME@.so --device e1000 -- -t 500   # Ctrl-C stops it
 *   node --test @NAME@/@NAME@.test.mjs     # pulls its cable, stops it, plants a bug
 *
 * Its device is an Intel 82540EM NIC (e1000) bound to uio_pci_generic.
 * `nooks exec --device e1000` gives it an emulated one: it runs with no
 * hardware, on any machine; `--device 0000:03:00.0` gives it a real one bound
 * with `nooks pci bind 0000:03:00.0 uio`. Either way it finds the device as
 * UIO drivers do: /sys/class/uio/uio<N>/device is the PCI device's sysfs
 * directory (its `vendor`, `device`, `config` space, and `resource0`, the
 * registers, mapped), and /dev/uio<N> counts its interrupts.
 *
 * What it does: it watches the link. It resets the NIC, enables the link
 * status change interrupt and sets the link up, then prints a line per
 * interrupt (link up, link down: pull the cable) until SIGINT or SIGTERM,
 * and a summary at exit. It runs in a protection domain of its own: a bug
 * in it (see -c) is trapped, what it held released, the device reset, and
 * main runs again with the same arguments, while nooks goes on. Returning 0
 * ends it for good; any other status is a failure, restarted the same way.
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

/* The 82540EM's registers used here (Intel's 8254x manual, section 13): offsets into BAR 0. */
enum Reg : unsigned {
	CTRL = 0x0000,		/* device control */
	STATUS = 0x0008,	/* device status */
	ICR = 0x00c0,		/* interrupt causes: a read clears them */
	IMS = 0x00d0,		/* interrupt mask set: the causes that interrupt */
	IMC = 0x00d8,		/* interrupt mask clear */
};
constexpr uint32_t CTRL_SLU = 1u << 6;		/* set link up */
constexpr uint32_t CTRL_RST = 1u << 26;		/* reset the device */
constexpr uint32_t STATUS_LU = 1u << 1;		/* link up */
constexpr uint32_t ICR_LSC = 1u << 2;		/* link status change */
constexpr size_t BAR0_SIZE = 0x20000;		/* 128 KiB of registers */

/* PCI configuration space: the high byte of the command register, whose bit 10 masks INTx. */
constexpr off_t PCI_COMMAND_HIGH = 5;
constexpr uint8_t INTX_DISABLE_HIGH = 0x04;

const char *me = "@NAME@";		/* argv[0] */
volatile sig_atomic_t stop_signal;	/* set by the handler: 0 while it runs */
unsigned long interrupts, link_changes;

void on_stop(int sig)
{
	stop_signal = sig;	/* all a handler may safely do: main's loop looks at it */
}

void summary()
{
	printf("%s: %lu interrupts, %lu link changes, bye\n", me, interrupts, link_changes);
}

void usage(FILE *to)
{
	fprintf(to, "usage: %s [-d uio<N>] [-t ms] [-c n] [-h]\n"
		"  -d uio<N>  the UIO device to drive (default: the first 82540EM under /sys/class/uio)\n"
		"  -t ms      how long poll waits for an interrupt before it looks at the stop flag again (default 1000)\n"
		"  -c n       a deliberate bug at the n-th interrupt, to see nooks contain it and restart main\n", me);
}

/* A file descriptor, closed when it goes out of scope. */
class Fd {
public:
	explicit Fd(int fd = -1) : fd_(fd) {}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	Fd &operator=(Fd &&other)
	{
		if (fd_ >= 0)
			close(fd_);
		fd_ = other.fd_;
		other.fd_ = -1;
		return *this;
	}
	~Fd()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	int get() const { return fd_; }
	bool ok() const { return fd_ >= 0; }

private:
	int fd_;
};

/* /sys/class/uio/<uio>/device/<file> as a number ("0x8086\n"); -1 if it cannot be read. */
long device_attribute(const char *uio, const char *file)
{
	char path[128], text[32] = "";

	snprintf(path, sizeof(path), "/sys/class/uio/%s/device/%s", uio, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	return text[0] ? strtol(text, nullptr, 0) : -1;
}

bool is_82540em(const char *uio)
{
	return device_attribute(uio, "vendor") == 0x8086 && device_attribute(uio, "device") == 0x100e;
}

/* The first 82540EM under /sys/class/uio into `uio`; false if there is none. */
bool find_nic(char *uio, size_t size)
{
	DIR *dir = opendir("/sys/class/uio");
	bool found = false;

	if (!dir)
		return false;
	for (dirent *e; !found && (e = readdir(dir));)
		found = strncmp(e->d_name, "uio", 3) == 0 && is_82540em(e->d_name) && snprintf(uio, size, "%s", e->d_name) < (int)size;
	closedir(dir);
	return found;
}

/* The NIC: its interrupt node and configuration space open, its registers mapped, until it goes out of scope. */
class Nic {
public:
	Nic() = default;
	Nic(const Nic &) = delete;
	Nic &operator=(const Nic &) = delete;
	~Nic()
	{
		if (regs_)
			munmap(const_cast<uint32_t *>(regs_), BAR0_SIZE);
	}

	/* Opens `uio` (nullptr: the first 82540EM); false, said on stderr, on failure. */
	bool open(const char *uio)
	{
		if (uio) {
			if (snprintf(uio_, sizeof(uio_), "%s", uio) >= (int)sizeof(uio_)) {
				fprintf(stderr, "%s: %s is no UIO device's name (uio<N>)\n", me, uio);
				return false;
			}
		} else if (!find_nic(uio_, sizeof(uio_))) {
			fprintf(stderr, "%s: no 82540EM under /sys/class/uio: give it one (nooks exec ... --device e1000)\n", me);
			return false;
		}
		if (!is_82540em(uio_)) {
			fprintf(stderr, "%s: %s is no 82540EM (vendor 8086, device 100e)\n", me, uio_);
			return false;
		}
		char path[128];
		snprintf(path, sizeof(path), "/dev/%s", uio_);
		irq_ = Fd(::open(path, O_RDWR));
		if (!irq_.ok())
			return failed(path);
		snprintf(path, sizeof(path), "/sys/class/uio/%s/device/config", uio_);
		config_ = Fd(::open(path, O_RDWR));
		if (!config_.ok())
			return failed(path);
		snprintf(path, sizeof(path), "/sys/class/uio/%s/device/resource0", uio_);
		Fd bar(::open(path, O_RDWR));	/* closed at the return: the mapping stays */
		void *regs = bar.ok() ? mmap(nullptr, BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, bar.get(), 0) : MAP_FAILED;
		if (regs == MAP_FAILED)
			return failed(path);
		regs_ = static_cast<volatile uint32_t *>(regs);
		return true;
	}

	/* Reset, the link status change interrupt on, the link up: the first interrupt comes once the link is. */
	bool start()
	{
		write(IMC, ~0u);
		write(CTRL, read(CTRL) | CTRL_RST);
		usleep(10000);		/* the manual's wait before the device is accessed again */
		write(IMC, ~0u);
		(void)read(ICR);	/* causes from before: cleared */
		write(IMS, ICR_LSC);
		if (!unmask_interrupt())
			return false;
		write(CTRL, read(CTRL) | CTRL_SLU);
		return true;
	}

	/* An interrupt came: takes it, says what caused it, and unmasks it; false on failure. */
	bool handle_interrupt(unsigned long crash_at)
	{
		int32_t total;	/* the device's interrupts so far, as uio counts them */

		if (::read(irq_.get(), &total, sizeof(total)) != sizeof(total))
			return false;
		uint32_t causes = read(ICR);	/* the read clears them: the device lowers its line */
		if (++interrupts == crash_at)
			deliberate_bug();
		if (causes & ICR_LSC) {
			link_changes++;
			printf("%s: interrupt %lu: link %s\n", me, interrupts, read(STATUS) & STATUS_LU ? "up" : "down");
		} else {
			printf("%s: interrupt %lu: causes 0x%08x\n", me, interrupts, causes);
		}
		return unmask_interrupt();
	}

	void quiet() { write(IMC, ~0u); }	/* its interrupts off: the device left quiet */
	int irq_fd() const { return irq_.get(); }
	const char *uio() const { return uio_; }

private:
	uint32_t read(Reg reg) const { return regs_[reg / 4]; }
	void write(Reg reg, uint32_t value) { regs_[reg / 4] = value; }

	bool failed(const char *path)
	{
		fprintf(stderr, "%s: %s: %s\n", me, path, strerror(errno));
		return false;
	}

	/*
	 * uio_pci_generic masks the interrupt when it fires: the driver unmasks it by
	 * clearing INTx disable in the command register, as the kernel's UIO HOWTO does.
	 */
	bool unmask_interrupt()
	{
		uint8_t command_high;

		if (pread(config_.get(), &command_high, 1, PCI_COMMAND_HIGH) != 1)
			return false;
		command_high &= ~INTX_DISABLE_HIGH;
		return pwrite(config_.get(), &command_high, 1, PCI_COMMAND_HIGH) == 1;
	}

	/*
	 * A deliberate bug, to see nooks at work: the write through NULL is trapped,
	 * the program is restarted from main (its counts zero again) and nooks goes on.
	 */
	static void deliberate_bug()
	{
		volatile int *volatile nowhere = nullptr;

		*nowhere = 1;
	}

	char uio_[32] = "";		/* uio<N> */
	Fd irq_;			/* /dev/uio<N>: poll says an interrupt came, read takes it */
	Fd config_;			/* its PCI configuration space */
	volatile uint32_t *regs_ = nullptr;	/* BAR 0, mapped: each access is a register access */
};

}  // namespace

int main(int argc, char **argv)
{
	const char *uio = nullptr;
	long timeout_ms = 1000, crash_at = 0;
	int opt;

	me = argv[0];
	while ((opt = getopt(argc, argv, "d:t:c:h")) != -1) {
		switch (opt) {
		case 'd': uio = optarg; break;
		case 't': timeout_ms = strtol(optarg, nullptr, 10); break;
		case 'c': crash_at = strtol(optarg, nullptr, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (timeout_ms <= 0 || timeout_ms > 60000 || crash_at < 0 || optind < argc) {
		usage(stderr);
		return 2;
	}
	struct sigaction stop {};
	stop.sa_handler = on_stop;	/* no SA_RESTART: a wait it interrupts ends with EINTR */
	if (sigaction(SIGINT, &stop, nullptr) || sigaction(SIGTERM, &stop, nullptr)) {
		perror("sigaction");
		return 1;
	}
	Nic nic;
	if (!nic.open(uio))
		return 1;
	atexit(summary);
	printf("%s: %s: started; Ctrl-C or SIGTERM stops it\n", me, nic.uio());
	if (!nic.start()) {
		perror("unmask the interrupt");
		return 1;
	}
	while (!stop_signal) {
		pollfd irq = { nic.irq_fd(), POLLIN, 0 };
		/*
		 * The timeout: a signal that comes between the look at stop_signal
		 * and the wait does not end this wait; the next look sees it.
		 */
		int ready = poll(&irq, 1, (int)timeout_ms);

		if (ready < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		if (ready > 0 && !nic.handle_interrupt((unsigned long)crash_at)) {
			perror("interrupt");
			return 1;
		}
	}
	printf("%s: %s: stopping\n", me, stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	nic.quiet();
	return 0;
}
