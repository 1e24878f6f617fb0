// The kernel calls of the POSIX personality: a second interface description
// beside kapi.ts. The personality (native/driver-rt/posix/, a C library
// subset linked into a driver by `nooks build --posix`) runs inside the
// driver's domain; what it cannot do there it asks of the kernel through
// these calls, which are generated, checked and dispatched exactly as the
// kernel API (generate.ts: gen/nooks/posix_calls.h for the personality, the
// wrappers and entry stubs after the kernel API's). Their names keep the
// nooks_posix_ prefix: the host's own libc names are never bound to a driver.
// The bodies are in native/kapi/posix.cc; those of files and mappings (the
// driver's view of its devices, hugepages, pagemap) in native/posix/calls.cc.
// Those return -errno on failure; the personality sets errno.
import { p, type KapiCall } from './kapi/types.js';

const posixCore: KapiCall[] = [
  {
    name: 'nooks_posix_malloc', ret: 'void *',
    params: [p('size', 'size_t'), p('align', 'size_t')],
    doc: 'malloc & co.: `size` bytes of the driver\'s domain heap aligned to `align` (a power of two from 16 to 4096; else NULL), held as a memory object labelled `malloc` (free is kfree). NULL when it does not fit the memory limit (any size: malloc\'s failure, not a fault).',
  },
  {
    name: 'nooks_posix_realloc', ret: 'void *',
    params: [p('ptr', 'void *', { kind: 'object', type: 'memory' }), p('size', 'size_t')],
    doc: 'realloc: a new block of `size` bytes holding the old block\'s bytes (as many as fit); the old block is freed. NULL (the old block kept) at the memory limit.',
  },
  {
    name: 'nooks_posix_clock_ns', ret: 'long long', params: [p('clock', 'int')],
    doc: 'clock_gettime & co.: nanoseconds on clock `clock` (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME; CLOCK_THREAD_CPUTIME_ID: the CPU time of the host thread running the call, CLOCK_PROCESS_CPUTIME_ID: of the host process); -EINVAL for any other.',
  },
  {
    name: 'nooks_posix_sleep_ns', ret: 'long long', params: [p('ns', 'unsigned long long')],
    doc: 'usleep, nanosleep, sleep, pause: sleep for at least `ns` nanoseconds (~0: until a signal). Counts against the driver\'s time budget, as msleep. 0, or, when a signal\'s handler ran meanwhile in a program (Driver.kill), the nanoseconds that were left (at least 1): the sleep ends there, EINTR.', blocking: true,
  },
  {
    name: 'nooks_posix_sched_yield', ret: 'void', params: [],
    doc: 'sched_yield: lets the kernel\'s other threads run (the driver\'s domain is left while they do). No wait: a driver thread\'s time budget goes on (docs/drivers.md).', blocking: true,
  },
  {
    name: 'nooks_posix_getenv', ret: 'long',
    params: [p('name', 'const char *', { kind: 'string', max: 256 }), p('buf', 'char *', { kind: 'writable', size: 'size', nullable: true }),
      p('size', 'size_t', { kind: 'size', max: 4096 })],
    doc: 'getenv: copies the value of `name` from the load option `env` into `buf` (NUL-terminated, cut to `size`); returns its length, or -1 when `env` does not name it.',
  },
  {
    name: 'nooks_posix_program_strings', ret: 'long',
    params: [p('which', 'int'), p('buf', 'char *', { kind: 'writable', size: 'size', nullable: true }), p('size', 'size_t', { kind: 'size', max: 1 << 20 })],
    doc: 'A program\'s main\'s strings, each NUL-terminated, one after another: `which` 0, its argv (the load option argv, argv[0] first); 1, its environment (the load option env, as NAME=value). Copies as many bytes as fit `size` into `buf`; returns how many there are in all (-EINVAL for another `which`).',
  },
  {
    name: 'nooks_posix_gettid', ret: 'int', params: [],
    doc: 'The calling thread\'s id, as the kernel\'s locks name their owner (a recursive pthread mutex\'s check); the personality asks once per thread and keeps it in the thread\'s area.',
  },
  {
    name: 'nooks_posix_host_sysconf', ret: 'long', params: [p('name', 'int')],
    doc: 'sysconf\'s answers that are the host\'s: `_SC_PHYS_PAGES`, `_SC_AVPHYS_PAGES` and `_SC_LEVEL1_DCACHE_LINESIZE`, as the host\'s sysconf answers them; -EINVAL for any other name.',
  },
  {
    name: 'nooks_posix_getpid', ret: 'int', params: [],
    doc: 'getpid: the kernel\'s process id.',
  },
  {
    name: 'nooks_posix_getuid', ret: 'unsigned int', params: [],
    doc: 'getuid: the kernel\'s real user id.',
  },
  {
    name: 'nooks_posix_geteuid', ret: 'unsigned int', params: [],
    doc: 'geteuid: the kernel\'s effective user id.',
  },
  {
    name: 'nooks_posix_exit', ret: 'void', params: [p('status', 'int')],
    doc: 'exit, _exit, _Exit: the driver fails (fault kind `exit`, message `exit(<status>)`) and is recovered; it never returns. Under isolation none, the process exits, as without nooks.',
  },
  {
    name: 'nooks_posix_killed', ret: 'void', params: [p('sig', 'int')],
    doc: 'A signal whose disposition is SIG_DFL and whose default action ends a process (nooks_posix_signal): the program ends as killed by `sig` (fault kind `exit`, its `signal` `sig`, message `killed by <name>`), no atexit handlers, no flush; it never returns. Under isolation none, the process is killed by the signal, as without nooks.',
  },
  {
    name: 'nooks_posix_sigmask', ret: 'int', params: [p('mask', 'unsigned long')],
    doc: 'sigprocmask, pthread_sigmask in a program: the calling thread\'s signal mask is `mask` (signals 1 to 64, bit n-1 for n; SIGKILL and SIGSTOP never in it; the personality keeps it too, in the thread\'s area, and answers it). The pending signals it unblocks have run their handlers when it returns, one at a time in Linux\'s order (each on a thread of its own, docs/drivers.md "Programs"), and those their runs held pending with them, and the handlers still running of the signals it leaves blocked by every thread have ended. 0.', blocking: true,
  },
  {
    name: 'nooks_posix_sigpending', ret: 'unsigned long', params: [p('mask', 'unsigned long')],
    doc: 'sigpending in a program: the signals sent to the program (Driver.kill) and pending (blocked by every thread of it, or held by a handler in flight) that `mask`, the calling thread\'s, blocks; a handler\'s thread blocks what its run holds, as Linux\'s.',
  },
  {
    name: 'nooks_posix_sigsuspend', ret: 'int', params: [p('mask', 'unsigned long')],
    doc: 'sigsuspend: waits, the calling thread\'s mask `mask` meanwhile (its pending signals that `mask` unblocks delivered at once), until a signal\'s handler has run for it; returns -EINTR, once the handlers `mask` let through that its own mask blocks in every thread have ended. Counts against the driver\'s time budget, as msleep.', blocking: true,
  },
  {
    name: 'nooks_posix_sigwait', ret: 'int', params: [p('set', 'unsigned long'), p('timeout_ns', 'long long')],
    doc: 'sigwait, sigwaitinfo, sigtimedwait: takes a pending signal of `set` (the lowest), or waits for one sent to the program (no handler runs for it) up to `timeout_ns` (-1: no limit but the driver\'s time budget); returns its number, -EAGAIN past the timeout, -EINTR when a handler ran for the calling thread meanwhile.', blocking: true,
  },
  {
    name: 'nooks_posix_signalfd', ret: 'int', params: [p('fd', 'int'), p('mask', 'unsigned long'), p('flags', 'int')],
    doc: 'signalfd: `fd` -1: a descriptor of a new signalfd reading the signals of `mask` (SFD_NONBLOCK, SFD_CLOEXEC; SIGKILL and SIGSTOP left out, as Linux); else `fd`\'s mask is `mask` from now on. It is readable (poll, select, epoll) while a signal of its mask is pending in the program (blocked by every thread); a read takes the lowest, as many as fit, one 128-byte struct signalfd_siginfo each (ssi_signo, ssi_code SI_USER, ssi_pid and ssi_uid the kernel\'s), and waits while none is (-EAGAIN under O_NONBLOCK; -EINVAL for fewer than 128 bytes). Returns the descriptor; -EBADF, -EINVAL (another flag; `fd` not a signalfd), -EMFILE.',
  },
  {
    name: 'nooks_posix_sigaction', ret: 'void',
    params: [p('sig', 'int'), p('holds', 'unsigned long'), p('once', 'int'), p('handler', 'unsigned long'), p('flags', 'int'), p('set', 'unsigned long')],
    doc: 'sigaction, signal in a program, the `set`th sigaction of `sig`: its disposition is `handler` (SIG_DFL, SIG_IGN, or the program\'s handler) with sa_flags `flags`, which a delivery hands to the thread that carries it out (nooks_posix_signal), as Linux runs the disposition in force at delivery whatever a later sigaction sets. While a run of `sig`\'s handler is in flight, the signals of `holds` sent to the program stay pending, as Linux blocks them while a handler runs (its sa_mask, and `sig` itself but under SA_NODEFER; 0 for SIG_IGN and SIG_DFL), and are delivered once no run holds them; `once` (SA_RESETHAND): its next run only, the disposition SIG_DFL after it.',
  },
  {
    name: 'nooks_posix_sigdiscard', ret: 'void', params: [p('sig', 'int')],
    doc: 'sigaction, signal: `sig`\'s disposition is now SIG_IGN (or SIG_DFL where that ignores it): a pending `sig` is discarded.',
  },
  {
    name: 'nooks_posix_abort', ret: 'void', params: [p('message', 'const char *', { kind: 'string', max: 512 })],
    doc: 'abort, a failed assert, a _FORTIFY_SOURCE overflow: the driver fails (fault kind `abort`, carrying `message`) and is recovered; it never returns. Under isolation none, the process aborts, as without nooks.',
  },
];

const path = (name = 'path') => p(name, 'const char *', { kind: 'string', max: 4096 });
/** Bytes one read or write moves at most: the personality asks again for the rest (a short count, as POSIX allows). */
const ioMax = 1 << 20;

const posixFiles: KapiCall[] = [
  {
    name: 'nooks_posix_open', ret: 'int', params: [p('dirfd', 'int'), path(), p('flags', 'int'), p('mode', 'unsigned int')],
    doc: 'open, openat: a descriptor of the file at `path` in the driver\'s view (docs/drivers.md): its devices\' sysfs files and VFIO groups, /dev/vfio/vfio, hugetlbfs, /proc/self/pagemap. Relative paths start at / (`dirfd` AT_FDCWD). -EACCES, logged, for any path outside the view; -ENOENT, -EEXIST, -EISDIR, -EMFILE.',
  },
  { name: 'nooks_posix_close', ret: 'int', params: [p('fd', 'int')], doc: 'close: 0, or -EBADF.' },
  {
    name: 'nooks_posix_read', ret: 'long',
    params: [p('fd', 'int'), p('buf', 'void *', { kind: 'writable', size: 'n', nullable: true }), p('n', 'size_t', { kind: 'size', max: ioMax }), p('offset', 'long long')],
    doc: 'read (`offset` -1: at the file position, which it advances), pread: bytes read, 0 at the end; -EBADF (not open for reading), -EINVAL, -EIO, -ESPIPE (pread of a pipe, an eventfd, a timerfd, a signalfd or an epoll, as Linux\'s). A read of an eventfd waits while its count is 0, of a timerfd until an expiry, of a pipe while it is empty and its write end open, of a UIO node until an interrupt, of a signalfd until a signal of its mask is pending (-EAGAIN under O_NONBLOCK): counted against the driver\'s time budget, as msleep.', blocking: true,
  },
  {
    name: 'nooks_posix_write', ret: 'long',
    params: [p('fd', 'int'), p('buf', 'const void *', { kind: 'readable', size: 'n', nullable: true }), p('n', 'size_t', { kind: 'size', max: ioMax }), p('offset', 'long long')],
    doc: 'write (`offset` -1: at the file position), pwrite: bytes written; -EBADF (not open for writing), -EINVAL, -ENODEV (an unbind of what the driver does not hold), -EPIPE (a pipe whose read end is closed), -ESPIPE (pwrite of a pipe, an eventfd, a timerfd, a signalfd or an epoll). An eventfd\'s write waits while it would overflow, a pipe\'s while it is full (-EAGAIN under O_NONBLOCK).', blocking: true,
  },
  {
    name: 'nooks_posix_lseek', ret: 'long long', params: [p('fd', 'int'), p('offset', 'long long'), p('whence', 'int')],
    doc: 'lseek: the new position (SEEK_SET, SEEK_CUR, SEEK_END); -EBADF, -EINVAL (a whence past SEEK_HOLE first, as Linux), -ESPIPE (a pipe); 0, moving nothing, for an eventfd, a timerfd, a signalfd or an epoll, which have no position (Linux\'s noop_llseek), whatever the whence up to SEEK_HOLE (SEEK_DATA and SEEK_HOLE too; -EINVAL past it).',
  },
  {
    name: 'nooks_posix_fstat', ret: 'int',
    params: [p('fd', 'int'), p('st', 'unsigned long long *', { kind: 'writable', size: '2 * sizeof(unsigned long long)' })],
    doc: 'fstat: st[0] the mode (S_IF* and permissions), st[1] the size. -EBADF.',
  },
  {
    name: 'nooks_posix_stat', ret: 'int', params: [path(), p('st', 'unsigned long long *', { kind: 'writable', size: '2 * sizeof(unsigned long long)' })],
    doc: 'stat: as fstat, by path (a symlink: what it points to). -ENOENT, -EACCES (logged: outside the view).',
  },
  { name: 'nooks_posix_access', ret: 'int', params: [path(), p('mode', 'int')], doc: 'access: 0 when the view has `path` and grants `mode` (R_OK, W_OK, X_OK, F_OK); -ENOENT, -EACCES.' },
  {
    name: 'nooks_posix_readlink', ret: 'long',
    params: [path(), p('buf', 'char *', { kind: 'writable', size: 'size' }), p('size', 'size_t', { kind: 'size', max: 4096 })],
    doc: 'readlink: the link\'s target (not NUL-terminated, cut to `size`): a device\'s iommu_group and driver. -EINVAL (not a link), -ENOENT, -EACCES.',
  },
  {
    name: 'nooks_posix_getdents', ret: 'long',
    params: [p('fd', 'int'), p('buf', 'char *', { kind: 'writable', size: 'size' }), p('size', 'size_t', { kind: 'size', max: 1 << 20 })],
    doc: 'readdir & co.: the directory of descriptor `fd` (a directory of the view opened read-only) listed into `buf` as records of a d_type byte (DT_DIR, DT_REG, DT_LNK, DT_CHR) and a NUL-terminated name, "." and ".." first; the records\' length, copied only when it fits `size`. -EBADF, -ENOTDIR.',
  },
  { name: 'nooks_posix_unlink', ret: 'int', params: [path()], doc: 'unlink: a hugetlbfs file\'s name goes (its memory when nothing maps it). -ENOENT, -EACCES.' },
  { name: 'nooks_posix_ftruncate', ret: 'int', params: [p('fd', 'int'), p('length', 'long long')], doc: 'ftruncate: sizes a hugetlbfs file (its DMA memory, 2 MiB aligned). -EBADF, -EINVAL, -ENOMEM, -EBUSY (mapped).' },
  { name: 'nooks_posix_ioctl', ret: 'int', params: [p('fd', 'int'), p('request', 'unsigned long'), p('arg', 'unsigned long')], doc: 'ioctl: VFIO\'s requests on the container, a group and a device (docs/drivers.md, "The view"; `arg` points to <linux/vfio.h>\'s structs, checked by the file as the wrappers check pointers); FIONREAD (TIOCINQ) into the int at `arg`: a regular file\'s size less the position, a pipe\'s bytes unread (-ENOTTY of an eventfd, timerfd, UIO node or directory, as Linux); -ENOTTY for other requests and files; -EBADF.' },
  { name: 'nooks_posix_fcntl', ret: 'int', params: [p('fd', 'int'), p('cmd', 'int'), p('arg', 'long')], doc: 'fcntl: F_GETFL, F_SETFL (O_APPEND, O_NONBLOCK), F_GETFD, F_SETFD (FD_CLOEXEC); -EINVAL for other commands, -EBADF.' },
  { name: 'nooks_posix_flock', ret: 'int', params: [p('fd', 'int'), p('operation', 'int')], doc: 'flock: LOCK_SH, LOCK_EX, LOCK_UN (| LOCK_NB) between the driver\'s descriptors of one file; a conflict is -EWOULDBLOCK (the holder is the driver itself: never waited for). -EBADF, -EINVAL.' },
  {
    name: 'nooks_posix_mmap', ret: 'long',
    params: [p('length', 'size_t'), p('prot', 'int'), p('flags', 'int'), p('fd', 'int'), p('offset', 'long long')],
    doc: 'mmap: the address of the mapping, or -errno. MAP_ANONYMOUS: zeroed memory of the domain heap (page aligned) or, with MAP_HUGETLB, of its DMA memory (2 MiB aligned); a file (MAP_SHARED): a hugetlbfs file\'s memory, a device\'s BAR (resource<N>: -ENODEV where the BAR cannot be mapped; -ENOMEM past the driver\'s 16 MiB of trapped windows, logged once). Each mapping is tracked. -EINVAL (MAP_FIXED, a bad offset or length), -EACCES (PROT_EXEC; the descriptor\'s mode), -ENOMEM.',
  },
  { name: 'nooks_posix_munmap', ret: 'int', params: [p('addr', 'unsigned long'), p('length', 'size_t')], doc: 'munmap: undoes the mappings inside [addr, addr+length); -EINVAL for a part of one.' },
  { name: 'nooks_posix_mapped', ret: 'int', params: [p('addr', 'unsigned long'), p('length', 'size_t')], doc: 'mlock, munlock, madvise: 0 when [addr, addr+length) is the driver\'s own memory (all of it stays resident), else -ENOMEM.' },
];

/** The most events one epoll_wait returns (the personality asks for no more: fewer is allowed). */
const epollMax = 1024;
/** The most descriptors one poll watches (more: EINVAL in the personality, as past RLIMIT_NOFILE). */
const pollMax = 1024;

const posixEvents: KapiCall[] = [
  {
    name: 'nooks_posix_eventfd', ret: 'int', params: [p('count', 'unsigned int'), p('flags', 'int')],
    doc: 'eventfd: a descriptor of a new 8-byte counter starting at `count` (EFD_NONBLOCK, EFD_SEMAPHORE, EFD_CLOEXEC). Reads take the count (EFD_SEMAPHORE: one) and wait while it is 0, writes add and wait while it would overflow; O_NONBLOCK: -EAGAIN instead. VFIO signals a device\'s interrupt on one (VFIO_DEVICE_SET_IRQS). -EINVAL, -EMFILE.',
  },
  {
    name: 'nooks_posix_epoll_create', ret: 'int', params: [p('flags', 'int')],
    doc: 'epoll_create, epoll_create1: a descriptor of a new epoll instance (EPOLL_CLOEXEC). -EINVAL, -EMFILE.',
  },
  {
    name: 'nooks_posix_epoll_ctl', ret: 'int',
    params: [p('epfd', 'int'), p('op', 'int'), p('fd', 'int'), p('events', 'unsigned int'), p('data', 'unsigned long long')],
    doc: 'epoll_ctl: EPOLL_CTL_ADD, MOD, DEL of `fd` (an eventfd, a timerfd, a pipe end, a UIO node or a signalfd) with `events` (EPOLLIN, EPOLLOUT; level-triggered, or EPOLLET: reported once per change: an eventfd\'s write or read, a timerfd\'s batch of expiries, a write into a pipe (its read end) or a read from it (its write end), an interrupt, EPOLLONESHOT: reported once until EPOLL_CTL_MOD; EPOLLEXCLUSIVE is -EINVAL) and `data`. -EBADF, -EINVAL, -EEXIST, -ENOENT, -EPERM (a file that is always ready: a sysfs or hugetlbfs file). A closed descriptor is no longer watched.',
  },
  {
    name: 'nooks_posix_epoll_wait', ret: 'int',
    params: [p('epfd', 'int'), p('events', 'void *', { kind: 'writable', size: 'maxevents * 12' }), p('maxevents', 'size_t', { kind: 'size', max: epollMax }),
      p('timeout', 'int'), p('masked', 'int'), p('mask', 'unsigned long')],
    doc: `epoll_wait, epoll_pwait: waits, the calling thread's signal mask \`mask\` meanwhile if \`masked\` (as nooks_posix_sigsuspend's), until a watched descriptor is ready or \`timeout\` ms pass (-1: no limit but the driver's time budget); writes up to \`maxevents\` (at most ${epollMax}) struct epoll_event (12 bytes, packed, as on x86-64) to \`events\` and returns how many (0: the timeout). Counts against the driver's time budget, as msleep. -EBADF, -EINVAL.`,
    blocking: true,
  },
  {
    name: 'nooks_posix_poll', ret: 'int',
    params: [p('fds', 'void *', { kind: 'writable', size: 'nfds * 8', nullable: true }), p('nfds', 'size_t', { kind: 'size', max: pollMax }),
      p('timeout', 'int'), p('masked', 'int'), p('mask', 'unsigned long')],
    doc: `poll, ppoll, select, pselect: waits, the calling thread's signal mask \`mask\` meanwhile if \`masked\` (as nooks_posix_sigsuspend's), until one of the \`nfds\` (at most ${pollMax}) struct pollfd at \`fds\` is ready or \`timeout\` ms pass (-1: no limit but the driver's time budget), and sets their revents: an eventfd as its counter says (POLLIN, POLLOUT), a timerfd POLLIN while an expiry is unread, a pipe end as its buffer and its other end say (POLLIN, POLLOUT, POLLHUP, POLLERR), a UIO node POLLIN while an interrupt is unread, a signalfd POLLIN while a signal of its mask is pending, any other file always ready (as a regular file), POLLNVAL for a descriptor not open; a negative fd is skipped. Returns how many have revents (0: the timeout). Counts against the driver's time budget, as msleep.`,
    blocking: true,
  },
];

/** Two unsigned long long: ns until the next expiry, the interval. */
const timerSetting = (name: string, nullable = false) => p(name, 'unsigned long long *', { kind: 'writable', size: '16', nullable });

const posixTimers: KapiCall[] = [
  {
    name: 'nooks_posix_timerfd_create', ret: 'int', params: [p('clock', 'int'), p('flags', 'int')],
    doc: 'timerfd_create: a descriptor of a new timer on `clock` (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME), disarmed (TFD_NONBLOCK, TFD_CLOEXEC). A read gives the 8-byte count of expiries since the last read and waits while there is none (-EAGAIN under O_NONBLOCK; -EINVAL for fewer than 8 bytes); poll and epoll find it readable while one is unread, EPOLLET once per batch of expiries. -EINVAL (another clock or flag), -EMFILE.',
  },
  {
    name: 'nooks_posix_timerfd_settime', ret: 'int',
    params: [p('fd', 'int'), p('flags', 'int'), p('value_ns', 'long long'), p('interval_ns', 'long long'), timerSetting('old', true)],
    doc: 'timerfd_settime: arms the timer to expire `value_ns` from now, or, with TFD_TIMER_ABSTIME, when its clock reads `value_ns` (at once if that is past); then every `interval_ns` (0: once); `value_ns` 0 disarms. Unread expiries are forgotten. `old` (if not NULL) gets what timerfd_gettime said before. -EBADF, -EINVAL (another flag, a negative time, not a timerfd).',
  },
  {
    name: 'nooks_posix_timerfd_gettime', ret: 'int', params: [p('fd', 'int'), timerSetting('now')],
    doc: 'timerfd_gettime: now[0] the ns until the next expiry (0: disarmed, or its one expiry past), now[1] the interval. -EBADF, -EINVAL (not a timerfd).',
  },
];

const posixPipes: KapiCall[] = [
  {
    name: 'nooks_posix_pipe', ret: 'int', params: [p('fds', 'int *', { kind: 'writable', size: '2 * sizeof(int)' }), p('flags', 'int')],
    doc: `pipe, pipe2: a new pipe between the driver's own threads (native/posix/pipe.h), its read end's descriptor in fds[0] and its write end's in fds[1] (\`flags\` O_NONBLOCK, O_CLOEXEC; any other, O_DIRECT too, -EINVAL); both objects of type \`file\` labelled \`pipe\`, released at recovery. As Linux's: 64 KiB; a read returns what is there (at most its count), waits while it is empty, and returns 0 once it is empty and the write end is closed; a write of PIPE_BUF (4096) bytes or less goes in whole, a longer one as room comes, waiting for room (under O_NONBLOCK: -EAGAIN, or a longer write's part that fits), -EPIPE once the read end is closed (no SIGPIPE: a driver gets no signals). Waits count against the driver's time budget, as msleep. poll and epoll: the read end readable while bytes are there, POLLHUP once the write end is closed; the write end writable while PIPE_BUF bytes fit, POLLERR once the read end is closed; an EPOLLET edge per write (read end) or read (write end). fstat: S_IFIFO; lseek, pread and pwrite: -ESPIPE. -EMFILE.`,
  },
];

const thread = p('thread', 'unsigned long');

const posixThreads: KapiCall[] = [
  {
    name: 'nooks_posix_thread_create', ret: 'long',
    params: [p('main', 'void *(*)(void *, void *, unsigned long)', { kind: 'driver-fn' }), p('start', 'void *(*)(void *)', { kind: 'driver-fn' }),
      p('arg', 'void *'), p('stack_size', 'size_t'), p('detached', 'int'), p('mask', 'unsigned long')],
    doc: 'pthread_create: a kernel thread that runs `main(start, arg, mask)` (`mask`: its signal mask, its creator\'s; in a program the kernel keeps it too, as nooks_posix_sigmask) inside the driver\'s domain, on a domain stack of its own, until it returns; held as an object of type `thread` until it is joined (or, `detached`, until it ends), stopped and released at recovery and unload. Its time budget runs from its last wait (docs/drivers.md). Returns its handle (never a thread id), or -EINVAL (`stack_size` past a domain stack, logged), -EAGAIN (the driver holds 64 threads already, logged).',
  },
  {
    name: 'nooks_posix_thread_join', ret: 'int', params: [thread, p('result', 'void **', { kind: 'writable', size: '8', nullable: true })],
    doc: 'pthread_join: waits until the driver\'s thread `thread` ends, then writes what it returned to `result` and lets it go. Counts against the caller\'s time budget, as msleep. -ESRCH (not a thread of the driver\'s), -EINVAL (detached, or joined by another), -EDEADLK (itself).', blocking: true,
  },
  {
    name: 'nooks_posix_thread_detach', ret: 'int', params: [thread],
    doc: 'pthread_detach: the thread is let go when it ends (at once if it has). -ESRCH, -EINVAL (detached already).',
  },
  {
    name: 'nooks_posix_thread_self', ret: 'unsigned long', params: [],
    doc: 'pthread_self: the handle of the calling driver thread, or, on any other thread, its thread id (which no handle equals). The personality asks once per thread and keeps it in the thread\'s area.',
  },
  {
    name: 'nooks_posix_thread_setname', ret: 'int', params: [thread, p('name', 'const char *', { kind: 'string', max: 16 })],
    doc: 'pthread_setname_np: the thread\'s name, its object\'s label and its name in the kernel log. -ESRCH (not a thread of the driver\'s).',
  },
  {
    name: 'nooks_posix_thread_getname', ret: 'int', params: [thread, p('buf', 'char *', { kind: 'writable', size: '16' })],
    doc: 'pthread_getname_np: the thread\'s name into `buf` (NUL-terminated, 16 bytes at most): the one pthread_setname_np gave it, else, as Linux answers for a thread never named, the name it got at its start from the thread that created it (the host thread\'s: the JavaScript thread\'s, e.g. node, or the creating driver thread\'s name). -ESRCH (not a thread of the driver\'s).',
  },
  {
    name: 'nooks_posix_futex_wait', ret: 'int',
    params: [p('word', 'unsigned int *', { kind: 'writable', size: '4' }), p('seen', 'unsigned int'), p('clock', 'int'), p('deadline_ns', 'long long')],
    doc: 'pthread_cond_wait and timedwait, sem_wait on a semaphore at 0, an rwlock held against the caller, pthread_barrier_wait before the last thread arrives, pthread_barrier_destroy while threads of the round just ended have not yet left their waits, a pthread_once another thread runs, a FILE stream another thread holds: waits in the kernel while `*word` is `seen`, until a wake, or until `deadline_ns` on `clock` (CLOCK_REALTIME or CLOCK_MONOTONIC; -1: no deadline). 0 (woken, or `*word` changed), -ETIMEDOUT, -EINVAL (another clock, or `word` not 4-byte aligned, as Linux\'s futex answers), -EINTR (the driver failed), -EFAULT (`*word` freed during the wait: the driver is failed). Counts against the time budget as msleep.', blocking: true,
  },
  {
    name: 'nooks_posix_mutex_timedlock', ret: 'int',
    params: [p('lock', 'struct mutex *', { kind: 'writable', size: 'sizeof(struct mutex)' }), p('clock', 'int'), p('deadline_ns', 'long long')],
    doc: 'pthread_mutex_timedlock and clocklock: mutex_lock, giving up at `deadline_ns` on `clock` (CLOCK_REALTIME or CLOCK_MONOTONIC; else -EINVAL). 0 (taken, held as mutex_lock holds it), -ETIMEDOUT, -EINTR (the driver failed). A mutex the caller holds is waited for until the deadline, as glibc\'s normal mutex. Counts against the time budget as msleep.', blocking: true,
  },
  {
    name: 'nooks_posix_futex_wake', ret: 'void', params: [p('word', 'unsigned int *', { kind: 'writable', size: '4' }), p('all', 'int')],
    doc: 'pthread_cond_signal and sem_post (`all` 0: one waiter), pthread_cond_broadcast, an rwlock let go, a barrier\'s last arrival (every waiter on `word`).',
  },
  {
    name: 'nooks_posix_futex_dec_wake', ret: 'void', params: [p('word', 'unsigned int *', { kind: 'writable', size: '4' })],
    doc: 'The last thread to leave a barrier\'s wait: takes 1 from `*word` and wakes every waiter on `word`, in one step in the kernel (FUTEX_WAKE_OP), so that nothing follows the count\'s drop: pthread_barrier_destroy, waiting for it, may return and the memory be freed at once, and a wake after would find it gone.',
  },
];

export const posix: KapiCall[] = [...posixCore, ...posixFiles, ...posixEvents, ...posixTimers, ...posixPipes, ...posixThreads];
