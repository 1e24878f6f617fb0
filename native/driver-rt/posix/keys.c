/* Thread-specific data: pthread_key_create & co. A key indexes a value in
 * each thread's state (thread_slot.c); a sequence number per key hides the
 * values of a deleted key from its next owner. The destructors run when a
 * thread pthread_create started ends (thread.c). */
#include <limits.h>
#include <pthread.h>

#include "posix.h"

static struct {
	int used;
	unsigned int seq;
	void (*destructor)(void *);
} keys[POSIX_KEYS];

int pthread_key_create(pthread_key_t *key, void (*destructor)(void *))
{
	for (unsigned int k = 0; k < POSIX_KEYS; k++) {
		int unused = 0;

		if (__atomic_compare_exchange_n(&keys[k].used, &unused, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			keys[k].seq++;
			keys[k].destructor = destructor;
			*key = k;
			return 0;
		}
	}
	return EAGAIN;
}

int pthread_key_delete(pthread_key_t key)
{
	if (key >= POSIX_KEYS || !keys[key].used)
		return EINVAL;
	keys[key].destructor = NULL;
	__atomic_store_n(&keys[key].used, 0, __ATOMIC_RELEASE);
	return 0;
}

void *pthread_getspecific(pthread_key_t key)
{
	struct posix_thread *self = posix_thread_self();

	if (key >= POSIX_KEYS || self->specific[key].seq != keys[key].seq)
		return NULL;
	return self->specific[key].value;
}

int pthread_setspecific(pthread_key_t key, const void *value)
{
	struct posix_thread *self = posix_thread_self();

	if (key >= POSIX_KEYS || !keys[key].used)
		return EINVAL;
	self->specific[key].seq = keys[key].seq;
	self->specific[key].value = (void *)value;
	return 0;
}

/* As glibc: rounds while destructors set values again, at most PTHREAD_DESTRUCTOR_ITERATIONS. */
void posix_keys_end(struct posix_thread *self)
{
	for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
		int ran = 0;

		for (unsigned int k = 0; k < POSIX_KEYS; k++) {
			void *value = self->specific[k].value;

			if (!keys[k].used || !keys[k].destructor || !value || self->specific[k].seq != keys[k].seq)
				continue;
			self->specific[k].value = NULL;
			keys[k].destructor(value);
			ran = 1;
		}
		if (!ran)
			return;
	}
}
