/* The POSIX personality's per-thread slots (thread_slot.c) and keys
 * (keys.c), on the host's threads under ASan and UBSan (run-tests.sh): the
 * kernel's thread id is the host's. Many more threads than slots come and
 * go, a batch at a time: each finds its own slot, errno and values stay per
 * thread, the destructors run once each, and freed slots are taken again. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "posix.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #c); exit(1); } } while (0)

#define BATCH 16
#define BATCHES 64	/* 1024 threads: four times the slots */

int nooks_posix_gettid(void)
{
	return (int)syscall(SYS_gettid);
}

static pthread_key_t key, unused_key;
static int destroyed;

static void destroy(void *v)
{
	__atomic_add_fetch(&destroyed, (int)(long)v, __ATOMIC_RELAXED);
}

static pthread_barrier_t all_set;

static void *thread(void *arg)
{
	long n = (long)arg;
	struct posix_thread *self = posix_thread_self();

	CHECK(self && self->errno_value == 0 && pthread_getspecific(key) == NULL);
	errno = (int)n;
	CHECK(pthread_setspecific(key, (void *)1) == 0);
	pthread_barrier_wait(&all_set);	/* every thread of the batch holds a slot now */
	CHECK(errno == (int)n && posix_thread_self() == self && pthread_getspecific(key) == (void *)1);
	CHECK(pthread_getspecific(unused_key) == NULL);
	posix_keys_end(self);
	posix_thread_forget(self);
	return NULL;
}

int main(void)
{
	pthread_t t[BATCH];
	pthread_key_t keys[POSIX_KEYS];
	int made = 0;

	CHECK(pthread_key_create(&key, destroy) == 0 && pthread_key_create(&unused_key, NULL) == 0);
	pthread_barrier_init(&all_set, NULL, BATCH);
	for (int b = 0; b < BATCHES; b++) {
		for (long i = 0; i < BATCH; i++)
			CHECK(pthread_create(&t[i], NULL, thread, (void *)(b * BATCH + i + 1)) == 0);
		for (int i = 0; i < BATCH; i++)
			CHECK(pthread_join(t[i], NULL) == 0);
	}
	CHECK(destroyed == BATCH * BATCHES);

	/* the keys run out at POSIX_KEYS; a deleted key's values are not seen by its next owner */
	CHECK(pthread_setspecific(key, (void *)7) == 0 && pthread_getspecific(key) == (void *)7);
	CHECK(pthread_key_delete(key) == 0 && pthread_key_delete(key) == EINVAL);
	while (made < POSIX_KEYS && pthread_key_create(&keys[made], NULL) == 0)
		made++;
	CHECK(made == POSIX_KEYS - 1);	/* unused_key holds one */
	CHECK(pthread_key_create(&keys[0], NULL) == EAGAIN);
	for (int k = 0; k < made; k++)
		CHECK(pthread_getspecific(keys[k]) == NULL);
	CHECK(pthread_setspecific(POSIX_KEYS, NULL) == EINVAL);
	printf("test_threads: %d threads ok\n", BATCH * BATCHES);
	return 0;
}
