/* The POSIX personality's per-thread state (thread_slot.c) and keys
 * (keys.c), on the host's threads under ASan and UBSan (run-tests.sh). Each
 * thread runs on a stack laid out as the kernel lays out a domain stack
 * (<nooks/thread_area.h>: ending on a multiple of its size, zero as the
 * kernel gives it): each finds its own state from any depth, errno and
 * values stay per thread, the destructors run once each, a stack given to a
 * later thread starts it afresh, and the thread's id is asked of the kernel
 * once per thread. No other kernel call is defined: errno and keys make none. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "posix.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)

#define BATCH 16
#define BATCHES 8

static int tid_asked;

int nooks_posix_gettid(void)
{
	__atomic_add_fetch(&tid_asked, 1, __ATOMIC_RELAXED);
	return (int)syscall(SYS_gettid);
}

/* BATCH domain-like stacks, reused batch after batch as the kernel reuses them. */
static char *stacks;

static char *stack_of(int i)
{
	return stacks + (size_t)i * NOOKS_STACK_BYTES;
}

/* The kernel's empty stack for the next thread: zero. */
static void give_back(int i)
{
	madvise(stack_of(i), NOOKS_STACK_BYTES, MADV_DONTNEED);
}

/* Runs body(i) on stack i, as the kernel's entry runs driver code on a domain stack. */
static void run_on_stack(int i, void (*body)(int))
{
	ucontext_t here, there;

	CHECK(getcontext(&there) == 0);
	there.uc_stack.ss_sp = stack_of(i);
	there.uc_stack.ss_size = NOOKS_STACK_BYTES - NOOKS_THREAD_AREA_BYTES;	/* as the kernel: the area above the stack in use */
	there.uc_link = &here;
	makecontext(&there, (void (*)(void))body, 1, i);
	CHECK(swapcontext(&here, &there) == 0);
}

static pthread_key_t key, unused_key;
static int destroyed;

static void destroy(void *v)
{
	__atomic_add_fetch(&destroyed, (int)(long)v, __ATOMIC_RELAXED);
}

static pthread_barrier_t all_set;
static int errno_base;

/* The state as seen `depth` frames of 4 KiB deeper: the same. */
static __attribute__((noinline)) struct posix_thread *self_deeper(int depth)
{
	volatile char frame[4096];
	struct posix_thread *self;

	frame[0] = 0;
	self = depth ? self_deeper(depth - 1) : posix_thread_self();
	frame[1] = frame[0];	/* the frame stays while the deeper ones run */
	return self;
}

static void thread_body(int i)
{
	struct posix_thread *self = posix_thread_self();

	CHECK((char *)self == stack_of(i) + NOOKS_STACK_BYTES - NOOKS_THREAD_AREA_BYTES);
	CHECK(self_deeper(8) == self);
	CHECK(errno == 0 && pthread_getspecific(key) == NULL);	/* afresh, whatever the stack's last thread left */
	errno = errno_base + i;
	CHECK(pthread_setspecific(key, (void *)1) == 0);
	pthread_barrier_wait(&all_set);	/* every thread of the batch has set its own now */
	CHECK(errno == errno_base + i && pthread_getspecific(key) == (void *)1);
	CHECK(pthread_getspecific(unused_key) == NULL);
	CHECK(posix_thread_tid() == (int)syscall(SYS_gettid) && posix_thread_tid() == posix_thread_tid());
	posix_keys_end(self);
}

static void *thread(void *arg)
{
	run_on_stack((int)(long)arg, thread_body);
	return NULL;
}

/* The keys run out at POSIX_KEYS; a deleted key's values are not seen by its next owner. */
static void keys_body(int i)
{
	pthread_key_t keys[POSIX_KEYS];
	int made = 0;

	(void)i;
	CHECK(pthread_setspecific(key, (void *)7) == 0 && pthread_getspecific(key) == (void *)7);
	CHECK(pthread_key_delete(key) == 0 && pthread_key_delete(key) == EINVAL);
	while (made < POSIX_KEYS && pthread_key_create(&keys[made], NULL) == 0)
		made++;
	CHECK(made == POSIX_KEYS - 1);	/* unused_key holds one */
	CHECK(pthread_key_create(&keys[0], NULL) == EAGAIN);
	for (int k = 0; k < made; k++)
		CHECK(pthread_getspecific(keys[k]) == NULL);
	CHECK(pthread_setspecific(POSIX_KEYS, NULL) == EINVAL);
}

int main(void)
{
	pthread_t t[BATCH];
	/* twice the stacks' bytes, to start them on a multiple of a stack */
	char *m = mmap(NULL, 2 * BATCH * NOOKS_STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(m != MAP_FAILED);
	stacks = (char *)(((uintptr_t)m + NOOKS_STACK_BYTES - 1) & ~(uintptr_t)(NOOKS_STACK_BYTES - 1));
	CHECK(pthread_key_create(&key, destroy) == 0 && pthread_key_create(&unused_key, NULL) == 0);
	pthread_barrier_init(&all_set, NULL, BATCH);
	for (int b = 0; b < BATCHES; b++) {
		errno_base = 1000 * (b + 1);
		for (long i = 0; i < BATCH; i++)
			CHECK(pthread_create(&t[i], NULL, thread, (void *)i) == 0);
		for (int i = 0; i < BATCH; i++) {
			CHECK(pthread_join(t[i], NULL) == 0);
			give_back(i);
		}
	}
	CHECK(destroyed == BATCH * BATCHES);
	CHECK(tid_asked == BATCH * BATCHES);	/* once per thread, however often asked */
	run_on_stack(0, keys_body);
	printf("test_threads: %d threads ok\n", BATCH * BATCHES);
	return 0;
}
