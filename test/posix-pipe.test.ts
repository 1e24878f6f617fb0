// pipe and pipe2 in the POSIX personality (native/posix/pipe.h,
// docs/drivers.md "Unmodified C: the POSIX personality", its row pipes), with
// real threads in a real driver, as an event loop's self-pipe uses them:
// records pass from a producer thread to a consumer intact and in order
// (blocking reads, and an epoll loop on a nonblocking read end, edge-
// triggered), with the end of the file once the writer closes; several
// writers' records of up to PIPE_BUF bytes never interleave; every answer a
// driver can see (short reads, EAGAIN on an empty and on a full pipe, filled
// by progress, a long write's part, EPIPE, EBADF, ESPIPE, fstat's S_IFIFO, fcntl,
// poll's and select's flags with POLLHUP and POLLERR, EPOLLET's edges, FIONREAD); a
// writer asleep on a full pipe wakes with EPIPE when the read end closes; and a
// driver that fails while one thread waits in a read and another in a write
// on a full pipe is recovered with neither left, its pipes released; exit,
// from a call or a thread, while a thread waits in fgets on a pipe ends the
// driver with its status; 500 idle pipes cost the host little (their buffers
// come with the first write).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Driver, Isolation } from '../lib/index.js';
import { buildDriver } from './helpers/build-driver.js';
import { crashSource, failWhileWaiting } from './helpers/fail-waiting.js';
import { kernelPerBlock } from './helpers/kernel.js';
import { inKernelWait, tasks, tasksBackTo, tidOf } from './helpers/tasks.js';
import { faultOf, until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-posix-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <nooks/kapi.h>

#define CHECK(x) do { if (!(x)) return -__LINE__; } while (0)

/* A record: its writer, its number among the writer's, its length (header
 * included), then bytes that say which record they belong to. */
struct header {
	unsigned int writer, seq, len, pad;
};

static unsigned char fill_of(unsigned int writer, unsigned int seq)
{
	return (unsigned char)(writer * 31 + seq * 7 + 1);
}

/* Record seq's length: 16 to PIPE_BUF bytes, all over the range. */
static unsigned int len_of(unsigned int seq)
{
	return 16 + (seq * 977) % (PIPE_BUF - 15);
}

static int write_record(int fd, unsigned int writer, unsigned int seq)
{
	unsigned char rec[PIPE_BUF];
	struct header h = { writer, seq, len_of(seq), 0 };

	memcpy(rec, &h, sizeof(h));
	memset(rec + sizeof(h), fill_of(writer, seq), h.len - sizeof(h));
	return write(fd, rec, h.len) == (ssize_t)h.len ? 0 : -1;
}

struct producer {
	int fd;
	unsigned int writer, n;
};

/* Writes n records, then closes its end if it is the only writer (writer 0). */
static void *produce(void *arg)
{
	struct producer *p = arg;
	long failed = 0;

	for (unsigned int seq = 0; seq < p->n && !failed; seq++)
		failed = write_record(p->fd, p->writer, seq);
	if (p->writer == 0)
		close(p->fd);
	return (void *)failed;
}

/* Exactly n bytes from fd, however short its reads; 0 at once at the end of
 * the file, -1 on an error or at the end inside the n bytes. Under
 * O_NONBLOCK it waits on epfd (watching fd edge-triggered) each time a read
 * finds nothing: an edge lost would leave it waiting. */
static long read_exactly(int fd, void *buf, size_t n, int epfd)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		struct epoll_event ev;

		if (r > 0) {
			got += (size_t)r;
		} else if (r == 0) {
			return got ? -1 : 0;
		} else if (errno == EAGAIN && epfd >= 0) {
			if (epoll_wait(epfd, &ev, 1, -1) != 1 || !(ev.events & (EPOLLIN | EPOLLHUP)))
				return -1;
		} else {
			return -1;
		}
	}
	return 1;
}

/* Reads records from fd until the end of the file: each whole, from a
 * writer below writers, in order per writer; how many, or minus the line
 * of the first fault. */
static long consume(int fd, unsigned int writers, int epfd)
{
	unsigned int next[8] = { 0 };
	unsigned char body[PIPE_BUF];
	long count = 0, r;
	struct header h;

	while ((r = read_exactly(fd, &h, sizeof(h), epfd)) == 1) {
		CHECK(h.writer < writers && h.seq == next[h.writer] && h.len == len_of(h.seq));
		CHECK(read_exactly(fd, body, h.len - sizeof(h), epfd) == 1);
		for (unsigned int i = 0; i < h.len - sizeof(h); i++)
			CHECK(body[i] == fill_of(h.writer, h.seq));
		next[h.writer]++;
		count++;
	}
	CHECK(r == 0);
	return count;
}

/* A producer thread writes n records through a pipe, this thread reads them
 * all until the end of the file (the producer closes its end): blocking
 * reads, or (via_epoll) a nonblocking read end in an epoll loop, edge-
 * triggered. The count of records, or minus the failing line. */
NOOKS_EXPORT long pass_records(long n, long via_epoll)
{
	int fds[2], epfd = -1;
	struct producer p = { .writer = 0, .n = (unsigned int)n };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	pthread_t t;
	void *failed;
	long count;

	CHECK(pipe2(fds, via_epoll ? O_NONBLOCK : 0) == 0);
	if (via_epoll) {
		CHECK((epfd = epoll_create1(0)) >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], &ev) == 0);
		CHECK(fcntl(fds[1], F_SETFL, 0) == 0);	/* the producer's writes wait for room */
	}
	p.fd = fds[1];
	CHECK(pthread_create(&t, NULL, produce, &p) == 0);
	count = consume(fds[0], 1, epfd);
	CHECK(close(fds[0]) == 0 && (epfd < 0 || close(epfd) == 0));	/* a producer left writing fails with EPIPE */
	CHECK(pthread_join(t, &failed) == 0 && (count < 0 || failed == NULL));
	return count;
}

enum { WRITERS = 4 };
static struct producer writers[WRITERS];
static pthread_t writer_threads[WRITERS];
static long writers_failed;

/* Joins the writers, then closes the write end they shared: the reader's end of the file. */
static void *close_after_writers(void *arg)
{
	for (int i = 0; i < WRITERS; i++) {
		void *failed;

		if (pthread_join(writer_threads[i], &failed) || failed)
			writers_failed++;
	}
	close(*(int *)arg);
	return NULL;
}

/* Four writers write n records each, of up to PIPE_BUF bytes, to one pipe
 * while this thread reads them: a record split by another's bytes fails.
 * The count of records, or minus the failing line. */
NOOKS_EXPORT long atomic_records(long n)
{
	int fds[2];
	pthread_t closer;
	long count;

	CHECK(pipe(fds) == 0);
	for (unsigned int i = 0; i < WRITERS; i++) {
		writers[i] = (struct producer){ .fd = fds[1], .writer = i + 1, .n = (unsigned int)n };	/* none is writer 0: none closes */
		CHECK(pthread_create(&writer_threads[i], NULL, produce, &writers[i]) == 0);
	}
	CHECK(pthread_create(&closer, NULL, close_after_writers, &fds[1]) == 0);
	count = consume(fds[0], WRITERS + 1, -1);
	CHECK(close(fds[0]) == 0);	/* writers left writing fail with EPIPE */
	CHECK(pthread_join(closer, NULL) == 0 && (count < 0 || writers_failed == 0));
	return count;
}

static short polled(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/* Every answer a driver sees, on this thread alone: 0, or minus the failing line. */
NOOKS_EXPORT long pipe_answers(void)
{
	static char big[2 * PIPE_BUF];
	int fds[2], epfd;
	struct stat st;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u64 = 1 }, got[2];
	long filled = 0, drained = 0;
	ssize_t r;
	char c[1000];
	fd_set rs, ws;

	CHECK(pipe2(fds, O_DIRECT) == -1 && errno == EINVAL);
	CHECK(pipe2(NULL, 0) == -1 && errno == EFAULT);
	CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0 && fds[0] >= 3 && fds[1] >= 3 && fds[0] != fds[1]);
	CHECK(fstat(fds[0], &st) == 0 && S_ISFIFO(st.st_mode) && fstat(fds[1], &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK(fcntl(fds[0], F_GETFL) == (O_RDONLY | O_NONBLOCK) && fcntl(fds[1], F_GETFL) == (O_WRONLY | O_NONBLOCK));
	CHECK(fcntl(fds[0], F_GETFD) == FD_CLOEXEC);
	CHECK(read(fds[1], c, 1) == -1 && errno == EBADF && write(fds[0], "x", 1) == -1 && errno == EBADF);
	CHECK(lseek(fds[0], 0, SEEK_CUR) == -1 && errno == ESPIPE && pread(fds[0], c, 1, 0) == -1 && errno == ESPIPE);
	CHECK(lseek(fds[0], 0, SEEK_DATA) == -1 && errno == ESPIPE && lseek(fds[0], 0, 99) == -1 && errno == EINVAL);
	CHECK(pwrite(fds[1], "x", 1, 0) == -1 && errno == ESPIPE);
	/* empty */
	CHECK(read(fds[0], c, sizeof(c)) == -1 && errno == EAGAIN);
	CHECK(polled(fds[0], POLLIN) == 0 && polled(fds[1], POLLOUT) == POLLOUT);
	CHECK(read(fds[0], c, 0) == 0 && write(fds[1], c, 0) == 0);
	/* edges: each write is one for the read end, a read none */
	CHECK((epfd = epoll_create1(0)) >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, fds[0], &ev) == 0);
	CHECK(epoll_wait(epfd, got, 2, 0) == 0);
	CHECK(write(fds[1], "ab", 2) == 2 && polled(fds[0], POLLIN) == POLLIN);
	CHECK(epoll_wait(epfd, got, 2, 0) == 1 && got[0].events == EPOLLIN && got[0].data.u64 == 1 && epoll_wait(epfd, got, 2, 0) == 0);
	CHECK(read(fds[0], c, 1) == 1 && c[0] == 'a' && epoll_wait(epfd, got, 2, 0) == 0);
	CHECK(write(fds[1], "c", 1) == 1 && epoll_wait(epfd, got, 2, 0) == 1);
	/* a short read: what is there */
	CHECK(read(fds[0], c, sizeof(c)) == 2 && c[0] == 'b' && c[1] == 'c');
	/* full, by progress: 1000-byte writes (all or nothing) until one does not fit */
	while ((r = write(fds[1], c, sizeof(c))) == (ssize_t)sizeof(c))
		filled += r;
	CHECK(r == -1 && errno == EAGAIN && filled == 65 * 1000);
	CHECK(polled(fds[1], POLLOUT) == 0 && polled(fds[0], POLLIN) == POLLIN);
	FD_ZERO(&ws);
	FD_SET(fds[1], &ws);
	CHECK(select(fds[1] + 1, NULL, &ws, NULL, &(struct timeval){ 0, 0 }) == 0);
	/* a write longer than PIPE_BUF writes what fits; then nothing fits */
	CHECK(write(fds[1], big, sizeof(big)) == 65536 - 65000);
	CHECK(write(fds[1], "x", 1) == -1 && errno == EAGAIN && write(fds[1], big, sizeof(big)) == -1 && errno == EAGAIN);
	/* reading makes room: an edge for the write end */
	ev = (struct epoll_event){ .events = EPOLLOUT | EPOLLET, .data.u64 = 2 };
	CHECK(epoll_ctl(epfd, EPOLL_CTL_DEL, fds[0], NULL) == 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, fds[1], &ev) == 0);
	CHECK(epoll_wait(epfd, got, 2, 0) == 0);
	CHECK(read(fds[0], big, sizeof(big)) == (ssize_t)sizeof(big) && epoll_wait(epfd, got, 2, 0) == 1 && got[0].events == EPOLLOUT);
	CHECK(epoll_wait(epfd, got, 2, 0) == 0);
	/* the writer gone: what is left, then the end of the file, POLLHUP */
	CHECK(close(fds[1]) == 0);
	CHECK(polled(fds[0], POLLIN) == (POLLIN | POLLHUP));
	while ((r = read(fds[0], big, sizeof(big))) > 0)
		drained += r;
	CHECK(r == 0 && drained == 65536 - (long)sizeof(big) && polled(fds[0], POLLIN) == POLLHUP);
	FD_ZERO(&rs);
	FD_SET(fds[0], &rs);
	CHECK(select(fds[0] + 1, &rs, NULL, NULL, NULL) == 1 && FD_ISSET(fds[0], &rs));
	CHECK(close(fds[0]) == 0 && close(epfd) == 0);
	/* the reader gone: EPIPE, POLLERR; fcntl's O_NONBLOCK set and cleared */
	CHECK(pipe(fds) == 0 && fcntl(fds[0], F_GETFL) == O_RDONLY);
	CHECK(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0 && read(fds[0], c, 1) == -1 && errno == EAGAIN);
	CHECK(fcntl(fds[0], F_SETFL, 0) == 0 && fcntl(fds[0], F_GETFL) == O_RDONLY);
	CHECK(close(fds[0]) == 0);
	CHECK(write(fds[1], "x", 1) == -1 && errno == EPIPE && polled(fds[1], POLLOUT) == (POLLOUT | POLLERR));
	CHECK(close(fds[1]) == 0);
	return 0;
}

/* FIONREAD (TIOCINQ) as Linux answers it: a pipe's bytes unread, of either end; a regular file's size less the
 * position (a sysfs file: 4096); ENOTTY of an eventfd and a timerfd. 0, or minus the failing line. */
NOOKS_EXPORT long fionread_answers(void)
{
	int fds[2], fd, n = -1;
	char c[8];

	CHECK(pipe(fds) == 0 && ioctl(fds[0], FIONREAD, &n) == 0 && n == 0);
	CHECK(write(fds[1], "hello", 5) == 5 && ioctl(fds[0], FIONREAD, &n) == 0 && n == 5);
	CHECK(ioctl(fds[1], TIOCINQ, &n) == 0 && n == 5);
	CHECK(read(fds[0], c, 2) == 2 && ioctl(fds[0], FIONREAD, &n) == 0 && n == 3);
	CHECK(close(fds[0]) == 0 && close(fds[1]) == 0);
	CHECK((fd = open("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", O_RDONLY)) >= 0);
	CHECK(ioctl(fd, FIONREAD, &n) == 0 && n == 4096);
	CHECK(read(fd, c, 1) == 1 && ioctl(fd, FIONREAD, &n) == 0 && n == 4095 && close(fd) == 0);
	CHECK((fd = eventfd(0, 0)) >= 0 && ioctl(fd, FIONREAD, &n) == -1 && errno == ENOTTY && close(fd) == 0);
	CHECK((fd = timerfd_create(CLOCK_MONOTONIC, 0)) >= 0 && ioctl(fd, FIONREAD, &n) == -1 && errno == ENOTTY && close(fd) == 0);
	return 0;
}

/* FIONREAD of a pipe answered at \`at\` (NULL: the driver's bad call). */
NOOKS_EXPORT long fionread_at(int *at)
{
	int fds[2];

	CHECK(pipe(fds) == 0);
	return ioctl(fds[0], FIONREAD, at);
}

/* n pipes left open, none written: how many were made. */
NOOKS_EXPORT long idle_pipes(long n)
{
	int fds[2];
	long made = 0;

	while (made < n && pipe(fds) == 0)
		made++;
	return made;
}

/* Pipes left open: their four ends are the driver's objects. */
NOOKS_EXPORT long open_pipes(void)
{
	int a[2], b[2];

	return pipe(a) || pipe(b) ? -1 : 0;
}

/* A thread waits in a write to a full pipe; closing the read end fails its write with EPIPE. */
static int broken[2];
static pthread_t broken_writer;
static long broken_write = 1;	/* 1 while the write waits, then its result: -errno or the bytes */

static void *write_to_full(void *arg)
{
	static char block[PIPE_BUF];
	long r = write(broken[1], block, sizeof(block));

	__atomic_store_n(&broken_write, r < 0 ? -errno : r, __ATOMIC_SEQ_CST);
	return arg;
}

/* The pipe, filled by progress, and the writer thread (pipe-epipe). */
NOOKS_EXPORT long start_broken_writer(void)
{
	static char block[PIPE_BUF];

	CHECK(pipe2(broken, O_NONBLOCK) == 0);
	while (write(broken[1], block, sizeof(block)) == sizeof(block))
		;
	CHECK(errno == EAGAIN && fcntl(broken[1], F_SETFL, 0) == 0);
	CHECK(pthread_create(&broken_writer, NULL, write_to_full, NULL) == 0 && pthread_setname_np(broken_writer, "pipe-epipe") == 0);
	return 0;
}

NOOKS_EXPORT long close_broken_read_end(void)
{
	return close(broken[0]);
}

NOOKS_EXPORT long broken_write_result(void)
{
	return __atomic_load_n(&broken_write, __ATOMIC_SEQ_CST);
}

NOOKS_EXPORT long join_broken_writer(void)
{
	return pthread_join(broken_writer, NULL) || close(broken[1]) ? -1 : 0;
}

/* One thread waits in a read of an empty pipe, one in a write to a full one. */
enum { READER, WRITER, WAITERS };
static const char *const names[WAITERS] = { "pipe-read", "pipe-write" };
static int empty[2], full[2];
static long waiting;

static void *wait_once(void *arg)
{
	static char block[PIPE_BUF];

	__atomic_add_fetch(&waiting, 1, __ATOMIC_SEQ_CST);
	return (void *)((long)arg == READER ? read(empty[0], block, sizeof(block)) : write(full[1], block, sizeof(block)));
}

NOOKS_EXPORT long waiters_waiting(void)
{
	return waiting;
}

/* The pipes, the full one filled by progress, and the threads. */
NOOKS_EXPORT long start_waiters(void)
{
	static char block[PIPE_BUF];

	if (pipe(empty) || pipe2(full, O_NONBLOCK))
		return -1;
	while (write(full[1], block, sizeof(block)) == sizeof(block))
		;
	if (errno != EAGAIN || fcntl(full[1], F_SETFL, 0))
		return -2;
	for (long i = 0; i < WAITERS; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, wait_once, (void *)i) || pthread_setname_np(t, names[i]) || pthread_detach(t))
			return -3;
	}
	return 0;
}

/* ---- exit while another thread waits in a FILE's read, the stream locked */
static FILE *waited_stream;

static void *read_a_line(void *arg)
{
	char line[64];

	(void)arg;
	fgets(line, sizeof(line), waited_stream);	/* waits: nothing is ever written */
	return NULL;
}

/* The reader, named fgets-<n>. */
NOOKS_EXPORT long start_line_reader(long n)
{
	static int ends[2];
	char name[16];
	pthread_t t;

	snprintf(name, sizeof(name), "fgets-%ld", n);
	CHECK(pipe(ends) == 0 && (waited_stream = fdopen(ends[0], "r")));
	CHECK(pthread_create(&t, NULL, read_a_line, NULL) == 0 && pthread_setname_np(t, name) == 0 && pthread_detach(t) == 0);
	return 0;
}

NOOKS_EXPORT long exit_now(long status)
{
	exit((int)status);
}

static void *exit_with(void *status)
{
	exit((int)(long)status);
}

NOOKS_EXPORT long exit_on_thread(long status)
{
	pthread_t t;

	CHECK(pthread_create(&t, NULL, exit_with, (void *)status) == 0 && pthread_detach(t) == 0);
	return 0;
}

${crashSource}`;

let path: string;
beforeAll(() => {
  path = buildDriver(dir, 'pipes', source, { posix: true });
}, 120_000);

const pipeEnds = (d: Driver) => d.objects().filter((o) => o.type === 'file' && o.label === 'pipe');

describe("pipes' host memory", () => {
  const kernel = kernelPerBlock({ isolation: 'mprotect' });

  // Before: each pipe's 64 KiB buffer was allocated and zeroed at creation, +33 MiB for these.
  it('500 pipes none has written to grow the host\'s RSS by under 4 MiB, far below their buffers\' 32 MiB', async () => {
    const d = await kernel().load(path);
    const before = process.memoryUsage.rss();
    expect(d.call('idle_pipes', 500)).toBe(500);
    const grown = process.memoryUsage.rss() - before;
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    d.unload();
  });
});

describe.each<Isolation>(['mprotect', 'process', 'none'])("pipes, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it('records pass from a producer thread to a consumer whole and in order, by blocking reads and by an edge-triggered epoll loop; the end of the file once the writer closes', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 20_000 });
    const before = tasks();
    expect(d.call('pass_records', 3000, 0)).toBe(3000); // ~6 MB through 64 KiB: both ends wait, again and again
    expect(d.call('pass_records', 3000, 1)).toBe(3000);
    expect(pipeEnds(d)).toEqual([]);
    await tasksBackTo(before);
    d.unload();
  });

  it("4 writers' records of up to PIPE_BUF bytes never interleave", async () => {
    const d = await kernel().load(path, { timeBudgetMs: 20_000 });
    expect(d.call('atomic_records', 1500)).toBe(4 * 1500);
    d.unload();
  });

  it('answers as Linux: short reads, EAGAIN empty and full, a long write in part, EPIPE, EBADF, ESPIPE, S_IFIFO, fcntl, POLLHUP, POLLERR, select, EPOLLET edges; each end an object labelled pipe', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 5_000 });
    expect(d.call('pipe_answers')).toBe(0);
    expect(pipeEnds(d)).toEqual([]);
    expect(d.call('open_pipes')).toBe(0);
    expect(pipeEnds(d)).toHaveLength(4);
    d.unload();
  });

  // Before: ENOTTY on every file (an event loop sizing its read by it got nothing).
  it('FIONREAD (TIOCINQ): a pipe\'s bytes unread, a regular file\'s size less the position, ENOTTY of an eventfd and a timerfd, as Linux', async () => {
    const d = await kernel().load(path);
    expect(d.call('fionread_answers')).toBe(0);
    d.unload();
  });

  if (isolation !== 'none') {
    it('FIONREAD answered at NULL is the driver\'s bad call, contained', async () => {
      const d = await kernel().load(path);
      expect(faultOf(() => d.call('fionread_at', 0))).toMatchObject({
        kind: 'bad-call', message: expect.stringContaining("ioctl(FIONREAD=(nil)): pointer outside the driver's writable memory"),
      });
      expect(d.state).toBe('running');
      d.unload();
    });
  }

  it("a thread asleep in a write to a full pipe: closing the read end wakes it, its write fails with EPIPE", async () => {
    const d = await kernel().load(path, { timeBudgetMs: 2_000 });
    expect(d.call('start_broken_writer')).toBe(0);
    const tid = tidOf('pipe-epipe');
    await until(() => inKernelWait(tid), 'the writer asleep in its write');
    expect(d.call('broken_write_result')).toBe(1); // still waiting
    expect(d.call('close_broken_read_end')).toBe(0);
    await until(() => d.call('broken_write_result') !== 1, 'the write to end'); // without the wake: it never does
    expect(d.call('broken_write_result')).toBe(-32); // -EPIPE
    expect(d.call('join_broken_writer')).toBe(0);
    d.unload();
  });

  it('a thread waiting in a read of an empty pipe and one in a write to a full one sleep in the kernel; a failure ends both waits, the driver is recovered and its pipes released', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 2_000 });
    const before = tasks();
    expect(d.call('start_waiters')).toBe(0);
    await until(() => d.call('waiters_waiting') === 2, 'both threads at their waits');
    const tids = ['pipe-read', 'pipe-write'].map(tidOf);
    await until(() => tids.every(inKernelWait), 'both threads asleep in their waits');
    expect(pipeEnds(d)).toHaveLength(4);

    await failWhileWaiting(kernel(), d, isolation, before);
    expect(pipeEnds(d)).toEqual([]);
    d.unload();
  });
});

// exit flushes the FILE streams, as glibc's, but waits for no stream's lock
// (glibc's does not either): a thread asleep in a read holds its stream's.
describe.each<Isolation>(['mprotect', 'process'])("exit while a thread waits in a FILE's read, isolation '%s'", (isolation) => {
  const kernel = kernelPerBlock({ isolation });

  it('exit from a call ends the driver with its status, not waiting for the stream the reader holds', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 2_000 });
    expect(d.call('start_line_reader', 1)).toBe(0);
    await until(() => inKernelWait(tidOf('fgets-1')), 'the reader asleep in its read');
    expect(faultOf(() => d.call('exit_now', 3))).toMatchObject({ kind: 'exit', message: `${d.name}: exit(3)` });
    d.unload();
  });

  it('exit from a driver thread: the same', async () => {
    const d = await kernel().load(path, { timeBudgetMs: 2_000 });
    const faults: unknown[] = []; // a recovered event's fault
    kernel().on('recovered', (e) => {
      if (e.driver === d.name && e.fault) faults.push(e.fault);
    });
    expect(d.call('start_line_reader', 2)).toBe(0);
    await until(() => inKernelWait(tidOf('fgets-2')), 'the reader asleep in its read');
    expect(d.call('exit_on_thread', 4)).toBe(0);
    await until(() => faults.length > 0, 'the driver to end and be restarted');
    expect(faults[0]).toMatchObject({ kind: 'exit', message: 'exit(4)', driver: d.name });
    d.unload();
  });
});
