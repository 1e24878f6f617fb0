/* rand, srand, rand_r, random and srandom as glibc computes them, so a driver's sequences
 * are the ones it had outside nooks: rand is glibc's default random() (the
 * additive feedback generator r[i] = r[i-3] + r[i-31] over 31 words seeded
 * by 16807 * r[i-1] mod 2^31-1, the first 310 outputs dropped). */
#include <stdint.h>

#include "posix.h"

#define DEGREE 31
#define SEP 3

static struct {
	int lock;	/* an atomic spinlock: a few instructions are held, never a call */
	int seeded;
	uint32_t r[DEGREE];
	int front, rear;	/* r[front] += r[rear], both moving round the ring */
} state;

static uint32_t step(void)
{
	uint32_t v = state.r[state.front] += state.r[state.rear];

	state.front = (state.front + 1) % DEGREE;
	state.rear = (state.rear + 1) % DEGREE;
	return v >> 1;
}

static void seed(unsigned int s)
{
	int32_t word = s ? (int32_t)s : 1;

	state.r[0] = (uint32_t)word;
	for (int i = 1; i < DEGREE; i++) {
		/* 16807 * word % 2147483647 without overflowing 31 bits (Schrage) */
		int32_t hi = word / 127773, lo = word % 127773;

		word = 16807 * lo - 2836 * hi;
		if (word < 0)
			word += 2147483647;
		state.r[i] = (uint32_t)word;
	}
	state.front = SEP;
	state.rear = 0;
	for (int i = 0; i < 10 * DEGREE; i++)
		step();
	state.seeded = 1;
}

static void lock(void)
{
	while (__atomic_exchange_n(&state.lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void unlock(void)
{
	__atomic_store_n(&state.lock, 0, __ATOMIC_RELEASE);
}

void srand(unsigned int s)
{
	lock();
	seed(s);
	unlock();
}

int rand(void)
{
	int v;

	lock();
	if (!state.seeded)
		seed(1);
	v = (int)step();
	unlock();
	return v;
}

/* glibc's rand is random: one generator, one state */
long random(void)
{
	return rand();
}

void srandom(unsigned int s)
{
	srand(s);
}

int rand_r(unsigned int *s)
{
	unsigned int next = *s;
	int result;

	next = next * 1103515245 + 12345;
	result = (int)((next / 65536) % 2048);
	next = next * 1103515245 + 12345;
	result = (result << 10) ^ (int)((next / 65536) % 1024);
	next = next * 1103515245 + 12345;
	result = (result << 10) ^ (int)((next / 65536) % 1024);
	*s = next;
	return result;
}
