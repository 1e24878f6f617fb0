/*
 * e1000l-check: e1000l on its own, as a plain program (no nooks): brings up
 * the 82540EM at ADDRESS, sends FRAMES numbered frames to a link partner
 * that echoes each one back to our address, receives the echoes and
 * compares them with what was sent (at most WINDOW frames ahead of the
 * echoes), then prints one JSON line with the NIC's own counters. Exits 0 if every frame came back intact.
 *
 *   e1000l-check 0000:00:03.0 [FRAMES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e1000l.h"

#define BATCH 32
#define WINDOW 64	/* frames in flight: the wire's socket buffers hold no more than ~200 KB */
#define PARTNER_MAC "\x52\x54\x00\xcc\xdd\x02"

/* Frame `seq`: to the partner from `mac`, a local experimental ethertype, then its number and a pattern. */
static void make_frame(struct e1000l_frame *f, const uint8_t mac[6], unsigned seq)
{
	unsigned i;

	f->len = 60 + (seq * 97) % (E1000L_FRAME_MAX - 60 + 1);
	memcpy(f->data, PARTNER_MAC, 6);
	memcpy(f->data + 6, mac, 6);
	f->data[12] = 0x88;
	f->data[13] = 0xb5;
	memcpy(f->data + 14, &seq, sizeof seq);
	for (i = 18; i < f->len; i++)
		f->data[i] = (uint8_t)(seq * 31 + i * 7);
}

/* Whether `got` is frame `seq`'s echo: the same bytes, the addresses swapped. */
static int is_echo(const struct e1000l_frame *got, const uint8_t mac[6], unsigned *seq)
{
	struct e1000l_frame want;

	if (got->len < 18)
		return 0;
	memcpy(seq, got->data + 14, sizeof *seq);
	make_frame(&want, mac, *seq);
	return got->len == want.len && !memcmp(got->data, mac, 6) && !memcmp(got->data + 6, PARTNER_MAC, 6) &&
	       !memcmp(got->data + 12, want.data + 12, want.len - 12);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct e1000l_frame out[BATCH], in[BATCH];
	unsigned frames = argc > 2 ? (unsigned)atoi(argv[2]) : 1000, sent = 0, received = 0, intact = 0, i;
	struct e1000l_stats st;
	struct e1000l *nic;
	uint8_t mac[6];
	double start, end;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PCI-ADDRESS [FRAMES]\n", argv[0]);
		return 2;
	}
	nic = e1000l_open(argv[1]);
	e1000l_mac(nic, mac);
	start = seconds();
	/* the deadline only bounds a broken run: the loop ends when every echo is in */
	for (end = start + 30; received < frames && seconds() < end;) {
		unsigned n = frames - sent < BATCH ? frames - sent : BATCH, got;

		if (sent + n > received + WINDOW)
			n = received + WINDOW > sent ? received + WINDOW - sent : 0;

		for (i = 0; i < n; i++)
			make_frame(&out[i], mac, sent + i);
		sent += e1000l_tx_batch(nic, out, n);
		got = e1000l_rx_batch(nic, in, BATCH);
		for (i = 0; i < got; i++) {
			unsigned seq;

			received++;
			intact += is_echo(&in[i], mac, &seq) && seq < sent;
		}
	}
	e1000l_stats(nic, &st);
	printf("{\"check\":\"e1000l\",\"address\":\"%s\",\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"link\":%d,"
	       "\"sent\":%u,\"received\":%u,\"intact\":%u,\"ms\":%.0f,"
	       "\"stats\":{\"rxFrames\":%llu,\"rxBytes\":%llu,\"txFrames\":%llu,\"txBytes\":%llu,\"rxMissed\":%llu}}\n",
	       argv[1], mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], e1000l_link_up(nic), sent, received, intact,
	       (seconds() - start) * 1000, (unsigned long long)st.rx_frames, (unsigned long long)st.rx_bytes,
	       (unsigned long long)st.tx_frames, (unsigned long long)st.tx_bytes, (unsigned long long)st.rx_missed);
	e1000l_close(nic);
	return intact == frames ? 0 : 1;
}
