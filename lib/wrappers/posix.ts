// The kernel calls of the POSIX personality: a second interface description
// beside kapi.ts. The personality (native/driver-rt/posix/, a C library
// subset linked into a driver by `nooks build --posix`) runs inside the
// driver's domain; what it cannot do there it asks of the kernel through
// these calls, which are generated, checked and dispatched exactly as the
// kernel API (generate.ts: gen/nooks/posix_calls.h for the personality, the
// wrappers and entry stubs after the kernel API's). Their names keep the
// nooks_posix_ prefix: the host's own libc names are never bound to a driver.
// The bodies are in native/kapi/posix.cc.
import { p, type KapiCall } from './kapi/types.js';

export const posix: KapiCall[] = [
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
    doc: 'clock_gettime & co.: nanoseconds on clock `clock` (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME); -EINVAL for any other.',
  },
  {
    name: 'nooks_posix_sleep_ns', ret: 'void', params: [p('ns', 'unsigned long long')],
    doc: 'usleep, nanosleep, sleep: sleep for at least `ns` nanoseconds. Counts against the driver\'s time budget, as msleep.', blocking: true,
  },
  {
    name: 'nooks_posix_getenv', ret: 'long',
    params: [p('name', 'const char *', { kind: 'string', max: 256 }), p('buf', 'char *', { kind: 'writable', size: 'size', nullable: true }),
      p('size', 'size_t', { kind: 'size', max: 4096 })],
    doc: 'getenv: copies the value of `name` from the load option `env` into `buf` (NUL-terminated, cut to `size`); returns its length, or -1 when `env` does not name it.',
  },
  {
    name: 'nooks_posix_gettid', ret: 'int', params: [],
    doc: 'The calling thread\'s id: the key of its errno slot.',
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
    name: 'nooks_posix_abort', ret: 'void', params: [p('message', 'const char *', { kind: 'string', max: 512 })],
    doc: 'abort, a failed assert, a _FORTIFY_SOURCE overflow: the driver fails (fault kind `abort`, carrying `message`) and is recovered; it never returns. Under isolation none, the process aborts, as without nooks.',
  },
];
