// Kernel code's guarded accesses to driver memory (guarded.cc): an access that
// faults (SIGSEGV on an inaccessible page, SIGBUS past a file's end) returns
// false with the address, from a handler set up as trap.cc's (SA_NODEFER, on
// a signal stack), inside the scope of a lock held around it, which stays
// held until that scope ends; again and again, as the handler blocks nothing.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "../guarded.h"

using nooks::GuardedAccess;
using nooks::guarded_access;

static int failures = 0;
static GuardedAccess *mark = nullptr;  // the thread's mark (ThreadCtx::guarded in the addon)

static void check(bool ok, const char *what) {
  if (!ok) {
    std::printf("guarded: FAILED: %s\n", what);
    failures++;
  }
}

static void on_fault(int sig, siginfo_t *si, void *) {
  if (!mark) {  // not the access's fault: the test's bug; die of it
    signal(sig, SIG_DFL);
    return;
  }
  nooks::resume_guarded(mark, (uintptr_t)si->si_addr);
}

static void install() {
  static char altstack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = altstack;
  ss.ss_size = sizeof altstack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, nullptr);
  sigaction(SIGBUS, &sa, nullptr);
}

int main() {
  install();
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  auto *open = (char *)mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  auto *gone = (char *)mmap(nullptr, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int fd = memfd_create("guarded-test", 0);  // empty: its mapping's page lies past the file's end
  auto *past_end = (char *)mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (open == MAP_FAILED || gone == MAP_FAILED || fd < 0 || past_end == MAP_FAILED) {
    std::printf("guarded: FAILED: set-up\n");
    return 1;
  }
  const char bytes[16] = "sixteen bytes..";
  uintptr_t addr = 0;

  check(guarded_access(&mark, false, [&] { std::memcpy(open, bytes, sizeof bytes); }, &addr), "an access that does not fault runs");
  check(std::memcmp(open, bytes, sizeof bytes) == 0, "and its write lands");
  check(mark == nullptr, "the mark is cleared after it");

  std::mutex lock;
  {
    std::lock_guard<std::mutex> g(lock);
    check(!guarded_access(&mark, false, [&] { std::memcpy(gone + 8, bytes, sizeof bytes); }, &addr), "a write to an inaccessible page fails");
    check(addr == (uintptr_t)(gone + 8), "naming the address it faulted at");
    check(mark == nullptr, "the mark is cleared after the fault");
    check(!lock.try_lock(), "the lock around it is still held");
  }
  check(lock.try_lock(), "and let go of at the end of its scope");
  lock.unlock();

  volatile uint32_t word = 0;
  check(!guarded_access(&mark, false, [&] { word = __atomic_load_n((uint32_t *)gone, __ATOMIC_ACQUIRE); }, &addr), "a read of an inaccessible word fails");
  check(addr == (uintptr_t)gone, "naming its address");
  check(!guarded_access(&mark, false, [&] { std::memcpy(past_end, bytes, sizeof bytes); }, &addr), "a write past a file's end (SIGBUS) fails");
  check(addr == (uintptr_t)past_end, "naming its address");

  int faulted = 0;
  for (int i = 0; i < 10000; i++) faulted += !guarded_access(&mark, false, [&] { gone[i % page] = 1; }, &addr);
  check(faulted == 10000, "every one of 10000 faults in a row ends its access");
  sigset_t now;
  sigprocmask(SIG_BLOCK, nullptr, &now);
  check(!sigismember(&now, SIGSEGV) && !sigismember(&now, SIGBUS), "and leaves the fault signals unblocked");

  if (failures) return EXIT_FAILURE;
  std::printf("guarded: all checks passed\n");
  return 0;
}
