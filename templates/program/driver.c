/*
 * @NAME@: a userspace driver written as a program (written by `nooks new
 * --program @NAME@`), as UIO drivers are: plain C against libc, no nooks
 * header, a main that parses its options, opens its device, installs
 * SIGINT/SIGTERM handlers and loops on poll() until they stop it.
 *
 *   npx nooks build --posix @NAME@/@NAME@.c -o build/@NAME@.so
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
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The 82540EM's registers used here (Intel's 8254x manual, section 13): offsets into BAR 0. */
#define REG_CTRL	0x0000		/* device control */
#define REG_STATUS	0x0008		/* device status */
#define REG_ICR		0x00c0		/* interrupt causes: a read clears them */
#define REG_IMS		0x00d0		/* interrupt mask set: the causes that interrupt */
#define REG_IMC		0x00d8		/* interrupt mask clear */
#define CTRL_SLU	(1u << 6)	/* set link up */
#define CTRL_RST	(1u << 26)	/* reset the device */
#define STATUS_LU	(1u << 1)	/* link up */
#define ICR_LSC		(1u << 2)	/* link status change */
#define BAR0_SIZE	0x20000		/* 128 KiB of registers */

/* PCI configuration space: the high byte of the command register, whose bit 10 masks INTx. */
#define PCI_COMMAND_HIGH	5
#define INTX_DISABLE_HIGH	0x04

struct nic {
	char uio[32];			/* uio<N> */
	int irq_fd;			/* /dev/uio<N>: poll says an interrupt came, read takes it */
	int config_fd;			/* its PCI configuration space */
	volatile uint32_t *regs;	/* BAR 0, mapped: each access is a register access */
};

static const char *me = "@NAME@";	/* argv[0] */
static volatile sig_atomic_t stop_signal;	/* set by the handler: 0 while it runs */
static unsigned long interrupts, link_changes;

static void on_stop(int sig)
{
	stop_signal = sig;	/* all a handler may safely do: main's loop looks at it */
}

static void summary(void)
{
	printf("%s: %lu interrupts, %lu link changes, bye\n", me, interrupts, link_changes);
}

static void usage(FILE *to)
{
	fprintf(to, "usage: %s [-d uio<N>] [-t ms] [-c n] [-h]\n"
		"  -d uio<N>  the UIO device to drive (default: the first 82540EM under /sys/class/uio)\n"
		"  -t ms      how long poll waits for an interrupt before it looks at the stop flag again (default 1000)\n"
		"  -c n       a deliberate bug at the n-th interrupt, to see nooks contain it and restart main\n", me);
}

static uint32_t reg_read(const struct nic *nic, unsigned reg)
{
	return nic->regs[reg / 4];
}

static void reg_write(struct nic *nic, unsigned reg, uint32_t value)
{
	nic->regs[reg / 4] = value;
}

/* /sys/class/uio/<uio>/device/<file> as a number ("0x8086\n"); -1 if it cannot be read. */
static long device_attribute(const char *uio, const char *file)
{
	char path[128], text[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/uio/%s/device/%s", uio, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(text, sizeof(text), f))
		text[0] = '\0';
	fclose(f);
	return text[0] ? strtol(text, NULL, 0) : -1;
}

static int is_82540em(const char *uio)
{
	return device_attribute(uio, "vendor") == 0x8086 && device_attribute(uio, "device") == 0x100e;
}

/* The first 82540EM under /sys/class/uio into `uio`; -1 if there is none. */
static int find_nic(char *uio, size_t size)
{
	DIR *dir = opendir("/sys/class/uio");
	struct dirent *e;
	int found = -1;

	if (!dir)
		return -1;
	while (found < 0 && (e = readdir(dir)))
		if (strncmp(e->d_name, "uio", 3) == 0 && is_82540em(e->d_name) && snprintf(uio, size, "%s", e->d_name) < (int)size)
			found = 0;
	closedir(dir);
	return found;
}

/* Opens the device's interrupt node and configuration space and maps its registers; -1, said on stderr, on failure. */
static int open_nic(struct nic *nic, const char *uio)
{
	char path[128];
	int bar_fd;
	void *regs;

	if (uio) {
		if (snprintf(nic->uio, sizeof(nic->uio), "%s", uio) >= (int)sizeof(nic->uio)) {
			fprintf(stderr, "%s: %s is no UIO device's name (uio<N>)\n", me, uio);
			return -1;
		}
	} else if (find_nic(nic->uio, sizeof(nic->uio))) {
		fprintf(stderr, "%s: no 82540EM under /sys/class/uio: give it one (nooks exec ... --device e1000)\n", me);
		return -1;
	}
	if (!is_82540em(nic->uio)) {
		fprintf(stderr, "%s: %s is no 82540EM (vendor 8086, device 100e)\n", me, nic->uio);
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/%s", nic->uio);
	nic->irq_fd = open(path, O_RDWR);
	if (nic->irq_fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", me, path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/class/uio/%s/device/config", nic->uio);
	nic->config_fd = open(path, O_RDWR);
	if (nic->config_fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", me, path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/sys/class/uio/%s/device/resource0", nic->uio);
	bar_fd = open(path, O_RDWR);
	regs = bar_fd < 0 ? MAP_FAILED : mmap(NULL, BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, bar_fd, 0);
	if (regs == MAP_FAILED) {
		fprintf(stderr, "%s: %s: %s\n", me, path, strerror(errno));
		return -1;
	}
	close(bar_fd);	/* the mapping stays */
	nic->regs = regs;
	return 0;
}

/*
 * uio_pci_generic masks the interrupt when it fires: the driver unmasks it by
 * clearing INTx disable in the command register, as the kernel's UIO HOWTO does.
 */
static int unmask_interrupt(struct nic *nic)
{
	uint8_t command_high;

	if (pread(nic->config_fd, &command_high, 1, PCI_COMMAND_HIGH) != 1)
		return -1;
	command_high &= ~INTX_DISABLE_HIGH;
	return pwrite(nic->config_fd, &command_high, 1, PCI_COMMAND_HIGH) == 1 ? 0 : -1;
}

/* Reset, the link status change interrupt on, the link up: the first interrupt comes once the link is. */
static int start_nic(struct nic *nic)
{
	reg_write(nic, REG_IMC, ~0u);
	reg_write(nic, REG_CTRL, reg_read(nic, REG_CTRL) | CTRL_RST);
	usleep(10000);		/* the manual's wait before the device is accessed again */
	reg_write(nic, REG_IMC, ~0u);
	(void)reg_read(nic, REG_ICR);	/* causes from before: cleared */
	reg_write(nic, REG_IMS, ICR_LSC);
	if (unmask_interrupt(nic))
		return -1;
	reg_write(nic, REG_CTRL, reg_read(nic, REG_CTRL) | CTRL_SLU);
	return 0;
}

/*
 * A deliberate bug, to see nooks at work: the write through NULL is trapped,
 * the program is restarted from main (its counts zero again) and nooks goes on.
 */
static void deliberate_bug(void)
{
	volatile int *volatile nowhere = NULL;

	*nowhere = 1;
}

/* An interrupt came: takes it, says what caused it, and unmasks it; -1 on failure. */
static int handle_interrupt(struct nic *nic, unsigned long crash_at)
{
	int32_t total;	/* the device's interrupts so far, as uio counts them */
	uint32_t causes;

	if (read(nic->irq_fd, &total, sizeof(total)) != sizeof(total))
		return -1;
	causes = reg_read(nic, REG_ICR);	/* the read clears them: the device lowers its line */
	if (++interrupts == crash_at)
		deliberate_bug();
	if (causes & ICR_LSC) {
		link_changes++;
		printf("%s: interrupt %lu: link %s\n", me, interrupts, reg_read(nic, REG_STATUS) & STATUS_LU ? "up" : "down");
	} else {
		printf("%s: interrupt %lu: causes 0x%08x\n", me, interrupts, causes);
	}
	return unmask_interrupt(nic);
}

int main(int argc, char **argv)
{
	const char *uio = NULL;
	long timeout_ms = 1000, crash_at = 0;
	struct sigaction stop = { .sa_handler = on_stop };	/* no SA_RESTART: a wait it interrupts ends with EINTR */
	struct nic nic;
	int opt;

	me = argv[0];
	while ((opt = getopt(argc, argv, "d:t:c:h")) != -1) {
		switch (opt) {
		case 'd': uio = optarg; break;
		case 't': timeout_ms = strtol(optarg, NULL, 10); break;
		case 'c': crash_at = strtol(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (timeout_ms <= 0 || timeout_ms > 60000 || crash_at < 0 || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (sigaction(SIGINT, &stop, NULL) || sigaction(SIGTERM, &stop, NULL)) {
		perror("sigaction");
		return 1;
	}
	if (open_nic(&nic, uio))
		return 1;
	atexit(summary);
	printf("%s: %s: started; Ctrl-C or SIGTERM stops it\n", me, nic.uio);
	if (start_nic(&nic)) {
		perror("unmask the interrupt");
		return 1;
	}
	while (!stop_signal) {
		struct pollfd irq = { .fd = nic.irq_fd, .events = POLLIN };
		/*
		 * The timeout: a signal that comes between the look at stop_signal
		 * and the wait does not end this wait; the next look sees it.
		 */
		int ready = poll(&irq, 1, (int)timeout_ms);

		if (ready < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		if (ready > 0 && handle_interrupt(&nic, (unsigned long)crash_at)) {
			perror("interrupt");
			return 1;
		}
	}
	printf("%s: %s: stopping\n", me, stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	reg_write(&nic, REG_IMC, ~0u);	/* its interrupts off: the device left quiet */
	return 0;
}
