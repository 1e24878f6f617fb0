// Isolation 'process', the host process's side: what runs in the child forked
// by driver_host_start. It keeps of the kernel's shared memory only the
// domain's and (read-only) the host-object heap's, starts a twin thread for
// each kernel thread that enters the driver, and runs the driver's code for
// them. It never touches the kernel's locks, V8 or libuv.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../dev/iomem.h"
#include "../domain/host_heap.h"
#include "../trap/mmio.h"
#include "../trap/trap.h"
#include "../xpc/xpc.h"
#include "channel.h"
#include "driver_host.h"

extern "C" int nooks_xpc_enter_plain(nooks::EntryFrame *f, nooks::XpcCall *c, uintptr_t stack);

namespace nooks {
namespace {

DriverHostShared *g_shared;
pid_t g_kernel;  // the kernel's process: the only sender of kStopSignal
__thread Channel *tls_channel __attribute__((tls_model("initial-exec")));

uint64_t run(const Channel *ch) {
  using Fn = uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
  return ((Fn)ch->fn)(ch->args[0], ch->args[1], ch->args[2], ch->args[3], ch->args[4], ch->args[5]);
}

// Whether a kStopSignal is the kernel's stop (driver_host.cc, where_twin_is): sent to this thread by the
// kernel while the twin runs driver code. One the driver sends itself, or one from outside (kill), is not:
// taken for it, the twin would report a stop nobody asked for and park for ever.
bool kernel_stop(const siginfo_t *si, const Channel *ch) {
  return si->si_code == SI_TKILL && si->si_pid == g_kernel && among(ch->state.load(), bit(kCall) | bit(kKreturn));
}

// A fault in driver code: say so over the channel and stop here; the kernel
// fails the domain and kills this process. Async-signal-safe.
// The kernel's stop too: then signo 0, only where it was; any other kStopSignal is ignored.
void on_fault(int sig, siginfo_t *si, void *ucv) {
  nooks::clear_alignment_check();
  Channel *ch = tls_channel;
  bool stop = sig == kStopSignal;
  if (stop && (!ch || !kernel_stop(si, ch))) return;
  if (!ch) {  // not a driver thread: die of it (the kernel notices the death)
    signal(sig, SIG_DFL);
    return;
  }
  // A load or store in an emulated BAR: its stub asks the kernel over this channel.
  if (sig == SIGSEGV && iomem_trapped((uintptr_t)si->si_addr) &&
      mmio_trap(static_cast<ucontext_t *>(ucv), ch->stack_lo, ch->stack_hi, nooks_tls_ctx->sigstack))
    return;
  ch->signo = stop ? 0 : sig;
  ch->code = stop ? 0 : si->si_code;
  ch->addr = stop ? 0 : (uintptr_t)si->si_addr;
  ch->ip = (uintptr_t)static_cast<ucontext_t *>(ucv)->uc_mcontext.gregs[REG_RIP];
  channel_post(ch, kHostSide, kFault);
  for (;;) pause();
}

// The twin of one kernel thread: enters the driver when the kernel does.
void *twin(void *arg) {
  Channel *ch = &g_shared->channels[(intptr_t)arg];
  tls_channel = ch;
  // Its stack became accessible in the kernel after the fork: protection is per process.
  mprotect((void *)ch->stack_lo, ch->stack_hi - ch->stack_lo, PROT_READ | PROT_WRITE);
  ch->tid = gettid();
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, kStopSignal);
  pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  // Faults are handled on a stack of its own: the domain stack may be what overflowed.
  stack_t ss{};
  ss.ss_size = kAltStackSize;
  ss.ss_sp = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  // Only for the entry routine (native/xpc/macros_x86_64.inc): the innermost
  // frame; and for the MMIO trap, the signal stack.
  static thread_local ThreadCtx ctx;
  if (ss.ss_sp != MAP_FAILED && sigaltstack(&ss, nullptr) == 0) ctx.sigstack = ss;
  nooks_tls_ctx = &ctx;
  uint32_t starting = kStarting;  // the kernel waits for it: the host's start, or the thread's first crossing (driver_host.cc)
  if (ch->state.compare_exchange_strong(starting, kIdle)) futex(&ch->state, FUTEX_WAKE, 1, nullptr);
  for (;;) {
    channel_wait(ch, kHostSide, bit(kCall), nullptr);
    EntryFrame f{};
    XpcCall c{(const void *)ch->fn, {ch->args[0], ch->args[1], ch->args[2], ch->args[3], ch->args[4], ch->args[5]}, 0};
    ctx.top = &f;  // where the entry finds its frame again when the driver returns
    nooks_xpc_enter_plain(&f, &c, ch->sp);  // onto the thread's domain stack
    ch->ret = c.ret;
    channel_post(ch, kHostSide, kReturn);
  }
  return nullptr;
}

// Whether r holds the mapping [lo, hi) (whole pages: r's end is rounded up).
bool holds(const Range &r, uintptr_t lo, uintptr_t hi) { return lo >= r.lo && hi <= ((r.hi + 4095) & ~(uintptr_t)4095); }

// Unmaps every shared mapping inherited from the kernel but the domain's (and
// this process's channels); makes the host-object heap read-only. Reads the
// whole map first: it changes under what it does.
void keep_own_shared_memory(Domain *d) {
  Range own[8 + 64];
  int n = 0;
  own[n++] = d->memory;  // heap, DMA and stacks
  own[n++] = {d->dma.reserved_lo(), d->dma.reserved_hi()};  // unless hugepages (UIO) hold the DMA arena
  own[n++] = {(uintptr_t)g_shared, (uintptr_t)g_shared + sizeof(DriverHostShared)};
  for (const Segment &s : d->segments)
    if (n < (int)(sizeof own / sizeof *own)) own[n++] = s.range;
  for (const Range &r : d->text)
    if (n < (int)(sizeof own / sizeof *own)) own[n++] = {r.lo & ~(uintptr_t)4095, r.hi};
  Range heap;
  host_heap_range(&heap.lo, &heap.hi);

  const size_t cap = 16u << 20;
  char *buf = (char *)mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (buf == MAP_FAILED || fd < 0) _exit(120);
  size_t len = 0;
  for (ssize_t r; len < cap - 1 && (r = read(fd, buf + len, cap - 1 - len)) > 0;) len += r;
  close(fd);
  buf[len] = 0;
  for (char *line = buf; *line;) {
    char *end = strchr(line, '\n');
    if (end) *end = 0;
    unsigned long lo, hi;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && perms[3] == 's') {
      bool mine = false;
      for (int i = 0; i < n && !mine; i++) mine = holds(own[i], lo, hi);
      if (holds(heap, lo, hi)) {
        if (perms[1] == 'w') mprotect((void *)lo, hi - lo, PROT_READ);
      } else if (!mine) {
        munmap((void *)lo, hi - lo);
      }
    }
    line = end ? end + 1 : line + strlen(line);
  }
  munmap(buf, cap);
}

}  // namespace

[[noreturn]] void driver_host_main(Domain *d, pid_t kernel) {
  char name[16];
  snprintf(name, sizeof name, "nooks:%s", d->name.c_str());
  prctl(PR_SET_NAME, name);
  // A test's stand-in for a start slowed by a loaded machine (test/process-host.test.ts).
  if (const char *ms = getenv("NOOKS_TEST_HOST_START_DELAY_MS")) usleep(atoi(ms) * 1000);
  // Signals: the kernel decides this process's life, not the terminal; the
  // fault signals come to on_fault (for twins) and nothing else is wanted.
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  for (int sig = 1; sig < NSIG; sig++) {
    sa.sa_handler = sig == SIGINT || sig == SIGPIPE || sig == SIGHUP ? SIG_IGN : SIG_DFL;
    sigaction(sig, &sa, nullptr);
  }
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, kStopSignal}) sigaction(sig, &sa, nullptr);
  sigset_t all;
  sigfillset(&all);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP}) sigdelset(&all, sig);
  pthread_sigmask(SIG_SETMASK, &all, nullptr);  // twins inherit it
  close_range(3, ~0u, 0);
  g_shared = driver_host_of(d).shared;
  g_kernel = kernel;
  keep_own_shared_memory(d);
  g_shared->ready.store(1);
  futex(&g_shared->ready, FUTEX_WAKE, 1, nullptr);

  bool started[kMaxDomainThreads] = {};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // A test's stand-in for a host process that cannot start another twin (test/process-host.test.ts).
  const char *max_twins = getenv("NOOKS_TEST_MAX_TWINS");
  for (int twins = 0;;) {
    uint32_t seen = g_shared->started.load();
    for (int i = 0; i < kMaxDomainThreads; i++) {
      if (started[i] || !channel_active(g_shared, i) || (max_twins && twins >= atoi(max_twins))) continue;
      pthread_t t;
      if (pthread_create(&t, &attr, twin, (void *)(intptr_t)i) != 0) _exit(121);
      started[i] = true;
      twins++;
    }
    timespec tick = {0, 200 * 1000 * 1000};
    futex(&g_shared->started, FUTEX_WAIT, seen, &tick);
    if (getppid() != kernel) _exit(0);  // the kernel is gone
  }
}

}  // namespace nooks

// Every kernel call the driver makes, through nooks_upcall_process: hand it to
// the kernel and wait for its result, running the nested entries the kernel
// makes meanwhile (on this stack, below the caller's frames).
extern "C" __attribute__((visibility("hidden"))) uint64_t nooks_process_kcall(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                                                                             uint64_t a4, uint64_t a5, uint64_t index) {
  using namespace nooks;
  Channel *ch = tls_channel;
  if (!ch) {
    static const char msg[] = "nooks: driver code called the kernel outside its host process\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(122);
    abort();
  }
  ch->kcall = index > UINT32_MAX ? UINT32_MAX : (uint32_t)index;  // past 32 bits: still no call (serve_kcall refuses it)
  const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
  memcpy(ch->args, a, sizeof a);
  channel_post(ch, kHostSide, kKcall);
  for (;;) {
    if (channel_wait(ch, kHostSide, bit(kKreturn) | bit(kCall), nullptr) == kKreturn) return ch->ret;
    ch->ret = run(ch);
    channel_post(ch, kHostSide, kReturn);
  }
}
