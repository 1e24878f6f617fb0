/*
 * e1000l: a userspace driver for the Intel 82540EM (8086:100e), written the
 * way userspace drivers are written: plain C against the C library and
 * Linux's sysfs, hugetlbfs and /proc/self/pagemap, no kernel driver and no
 * interrupts. A library: the caller opens the NIC and polls it in batches.
 *
 *   struct e1000l *nic = e1000l_open("0000:00:03.0");
 *   e1000l_tx_batch(nic, frames, n);          // queued for the wire
 *   n = e1000l_rx_batch(nic, frames, max);    // received, copied out
 *   e1000l_stats(nic, &st);                   // the NIC's own counters
 *   e1000l_close(nic);
 *
 * Setup errors are fatal (a message on stderr, then exit(1)), as in such
 * drivers; the batch calls never fail, they do less.
 */
#ifndef E1000L_H
#define E1000L_H

#include <stdint.h>

#define E1000L_FRAME_MAX 1514	/* an Ethernet frame without its FCS (no jumbo frames) */

struct e1000l;

/* One frame, for both directions: `len` bytes of `data`, from the destination MAC on. */
struct e1000l_frame {
	uint16_t len;
	uint8_t data[E1000L_FRAME_MAX];
};

/* Totals since open, from the NIC's statistics registers (which clear on read). */
struct e1000l_stats {
	uint64_t rx_frames, rx_bytes;	/* GPRC, GORC: good frames received, their octets with FCS */
	uint64_t tx_frames, tx_bytes;	/* GPTC, GOTC: good frames transmitted, likewise */
	uint64_t rx_missed;		/* MPC: dropped for want of a receive descriptor */
};

/* Takes the NIC at PCI address `pci_addr` (DDDD:BB:DD.F): resets it, sets up its rings. */
struct e1000l *e1000l_open(const char *pci_addr);

/* Queues up to `n` frames for transmission; returns how many fit in the ring. */
unsigned e1000l_tx_batch(struct e1000l *nic, const struct e1000l_frame *frames, unsigned n);

/* Copies up to `max` received frames into `frames`; returns how many. */
unsigned e1000l_rx_batch(struct e1000l *nic, struct e1000l_frame *frames, unsigned max);

/* Adds the counters since the last call to the totals; `out` gets the totals. */
void e1000l_stats(struct e1000l *nic, struct e1000l_stats *out);

/* Whether the link is up (STATUS.LU), and the station address (RAL0/RAH0). */
int e1000l_link_up(struct e1000l *nic);
void e1000l_mac(struct e1000l *nic, uint8_t mac[6]);

/* Stops the NIC (reset) and releases its mapping and DMA memory. */
void e1000l_close(struct e1000l *nic);

#endif
