// A POSIX driver's threads (pthread_create & co., lib/wrappers/posix.ts).
// Each is a kernel thread the kernel starts on the driver's behalf, as
// Nooks' kernel owns every thread in a domain: it crosses into the driver
// once, on a domain stack of its own, and runs the personality's thread
// main there until it returns. A fault on it fails the driver as any
// crossing's; recovery and unload stop it (teardown unwinds every thread
// inside the domain) and let it go here (its `thread` object). Its time
// budget runs from its last wait (ThreadCtx::budget_from_wait).
#include <pthread.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstring>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <thread>

#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "../kapi/wait.h"
#include "../recovery/left_running.h"
#include "../recovery/recovery.h"
#include "../trap/host_signals.h"
#include "program_signals.h"
#include "threads.h"

namespace nooks {

namespace {

constexpr int kMaxThreads = 64;  // held by one driver: half its domain stacks, the rest for the kernel's threads

struct DriverThread {
  uint64_t handle;
  Domain *domain;
  std::string name;
  std::string comm;  // what Linux would answer for it (pthread_getname_np): the name given, else its kernel thread's inherited one
  bool detached;
  ThreadCtx *joiner = nullptr;  // the thread whose pthread_join waits for it, woken when it ends
  bool finished = false;  // it left the domain for good
  bool returned = false;  // its crossing returned: no longer one of the driver's kMaxThreads, so what its `after` starts (a held signal's handler) finds room
  std::atomic<const ThreadCtx *> ctx{nullptr};  // its own, once it runs: whether a teardown left it behind
  uint64_t left_running = 0;  // a teardown gave up on it (its ticket, left_running.h): it keeps its domain until it ends
  uint64_t result = 0;
  std::shared_ptr<ThreadSignals> signals;  // one of a program's threads': its mask (program_signals.h)
  std::function<void(uint64_t)> after;  // given what its crossing returned, if it did without a fault (driver_thread_start)
  std::function<void()> before;  // run before its crossing (driver_thread_start)
  std::thread thread;
};

// Every driver thread, by handle, and their ends (never destroyed: see kthread.h).
struct Threads {
  std::mutex lock;
  std::condition_variable ended;  // recovery's wait for a thread to stop (release_thread)
  std::map<uint64_t, std::shared_ptr<DriverThread>> all;  // (not those left running at a teardown)
  uint64_t next_handle = 1ull << 32;  // above every thread id: a handle is never a tid (thread_self)
};
Threads &threads = *new Threads;
thread_local uint64_t tl_handle = 0;  // the calling thread's handle, if it is a driver thread

// Under threads.lock.
std::string label_of(const DriverThread &t) { return t.name.empty() ? "thread " + std::to_string(t.handle) : t.name; }

void run(std::shared_ptr<DriverThread> t, XpcCall c) {
  t->ctx.store(thread_ctx());
  thread_ctx()->budget_from_wait = true;
  tl_handle = t->handle;
  Domain *d = t->domain;
  std::optional<ProgramThread> program;
  if (t->signals) program.emplace(d, t->signals);
  if (t->before) t->before();
  Fault f;
  if (xpc_call(d, &c, &f) == EnterResult::fault) {
    if (f.primary) {
      std::unique_lock<std::mutex> g(threads.lock);  // its name may change meanwhile
      std::string label = label_of(*t);
      g.unlock();
      if (f.kind == FaultKind::exit)  // exit(), a signal's default: a program's end, or a failure for the policy to say (lib/kernel.ts)
        klog_line(5, d->name, label + ": " + f.message);
      else
        klog_line(3, d->name, label + ": the driver failed on this thread (" + fault_kind_name(f.kind) + ")");
    }
    recovery_notify(d, f);
  } else if (t->after) {
    {
      std::lock_guard<std::mutex> g(threads.lock);
      t->returned = true;
    }
    t->after(c.ret);
  }
  program.reset();  // before d may go
  domain_thread_forget(d);  // from here on this thread touches nothing of d's: d may go once it is finished
  std::unique_lock<std::mutex> g(threads.lock);
  t->finished = true;
  t->result = c.ret;
  if (t->left_running) {  // forgotten and detached by release_thread; d was kept for it
    uint64_t ticket = t->left_running;
    g.unlock();
    left_running_ended(d, ticket);
    return;
  }
  if (t->detached) {  // nobody joins it: it lets itself go
    d->objects.remove(ObjectType::thread, t->handle);
    threads.all.erase(t->handle);
    t->thread.detach();
  }
  if (t->joiner) thread_wake(t->joiner);
  threads.ended.notify_all();
}

// Lets go of t, finished and not detached: forgotten, and its OS thread
// (which is exiting) joined outside the lock, by whoever forgets it (its
// joiner and a teardown's release_thread may both come).
void reap(std::shared_ptr<DriverThread> t) {
  {
    std::lock_guard<std::mutex> g(threads.lock);
    if (!threads.all.erase(t->handle)) return;
    t->domain->objects.remove(ObjectType::thread, t->handle);
  }
  UnlockedWait w;
  t->thread.join();
}

// d's thread `handle`, or nullptr; under threads.lock.
std::shared_ptr<DriverThread> find_locked(Domain *d, uint64_t handle) {
  auto it = threads.all.find(handle);
  return it != threads.all.end() && it->second->domain == d ? it->second : nullptr;
}

// Recovery or unload: teardown has unwound every thread inside the domain,
// so each ends at once and is let go of. One that never left (a kernel call
// that does not return) is left running, logged, and keeps its domain: when
// its call returns at last, it leaves the domain as the teardown asked it to
// (its request stays: teardown.cc), runs no driver code, and lets go of it.
// One the teardown gave up on and left behind has been waited for once: it
// is left running at once.
void release_thread(Domain *d, const Object &o) {
  std::shared_ptr<DriverThread> t;
  {
    std::unique_lock<std::mutex> g(threads.lock);
    t = find_locked(d, o.key);
    if (!t) return;
    bool waited_once = !t->finished && left_behind(t->ctx.load(), d);  // not finished, under the lock: not exited
    bool stopped = !waited_once && threads.ended.wait_for(g, recovery_teardown_wait(), [&] { return t->finished; });
    if (!stopped) {
      if (!waited_once) recovery_wait_ran_out();
      t->left_running = leave_running(d, label_of(*t));
      threads.all.erase(t->handle);
      t->thread.detach();
      return;
    }
    if (t->detached) return;  // it let itself go
  }
  reap(t);
}
ObjectRelease thread_release(ObjectType::thread, release_thread);

}  // namespace

long driver_thread_start(Domain *d, XpcCall c, uint64_t start, bool detached, const std::string &name, std::optional<uint64_t> program_mask,
                         std::function<void(uint64_t)> after, std::function<void()> before) {
  auto t = std::make_shared<DriverThread>();
  t->domain = d;
  t->detached = detached;
  t->after = std::move(after);
  t->before = std::move(before);
  std::lock_guard<std::mutex> g(threads.lock);
  int alive = 0;
  for (auto &[h, other] : threads.all) alive += other->domain == d && !other->returned;
  if (alive >= kMaxThreads) return -EAGAIN;
  // As on Linux, a new thread is called what the thread that created it is called (its kernel thread inherits that).
  char inherited[16] = "";
  prctl(PR_GET_NAME, inherited);
  t->name = name;
  t->comm = name.empty() ? inherited : name;
  t->handle = threads.next_handle++;
  if (program_mask) t->signals = program_thread_add(d, *program_mask);
  d->objects.add({ObjectType::thread, (uintptr_t)t->handle, 0, start, label_of(*t)});
  threads.all[t->handle] = t;
  t->thread = kernel_thread(run, t, c);
  return (long)t->handle;
}

}  // namespace nooks

using namespace nooks;

extern "C" long kapi_nooks_posix_thread_create(void *(*main)(void *, void *, unsigned long), void *(*start)(void *), void *arg, size_t stack_size,
                                               int detached, unsigned long mask) {
  Domain *d = calling_domain();
  if (stack_size > domain_stack_size()) {
    klog_line(3, d->name, "pthread_create: a stack of " + std::to_string(stack_size) + " bytes asked, a domain stack has " +
                              std::to_string(domain_stack_size()) + " (EINVAL)");
    return -EINVAL;
  }
  long handle = driver_thread_start(d, XpcCall{(const void *)main, {(uint64_t)start, (uint64_t)arg, mask}, 0}, (uint64_t)start, detached, "",
                                    d->program_main ? std::optional<uint64_t>(mask) : std::nullopt);
  if (handle == -EAGAIN) klog_line(3, d->name, "pthread_create: " + std::to_string(kMaxThreads) + " threads already (EAGAIN)");
  return handle;
}

extern "C" int kapi_nooks_posix_thread_join(unsigned long handle, void **result) {
  Domain *d = calling_domain();
  std::shared_ptr<DriverThread> t;
  {
    std::lock_guard<std::mutex> g(threads.lock);
    t = find_locked(d, handle);
    if (!t) return -ESRCH;
    if (handle == tl_handle) return -EDEADLK;
    if (t->detached || t->joiner) return -EINVAL;
    t->joiner = thread_ctx();
  }
  if (!wait_until(d, Deadline{}, [&] {
        std::lock_guard<std::mutex> g(threads.lock);
        return t->finished;
      })) {
    std::lock_guard<std::mutex> g(threads.lock);
    t->joiner = nullptr;  // this thread leaves the domain: nothing wakes it for t any more
    return -EINTR;
  }
  // Left to the teardown to let go of, if this thread must leave (a joiner left running comes back after it).
  if (int e = write_back(d, "pthread_join", [&] {
        if (result) *result = (void *)t->result;
      }))
    return e;
  reap(t);
  return 0;
}

extern "C" int kapi_nooks_posix_thread_detach(unsigned long handle) {
  Domain *d = calling_domain();
  std::shared_ptr<DriverThread> t;
  {
    std::lock_guard<std::mutex> g(threads.lock);
    t = find_locked(d, handle);
    if (!t) return -ESRCH;
    if (t->detached || t->joiner) return -EINVAL;
    if (!t->finished) {
      t->detached = true;  // it lets itself go when it ends
      return 0;
    }
  }
  reap(t);
  return 0;
}

extern "C" unsigned long kapi_nooks_posix_thread_self() { return tl_handle ? tl_handle : (unsigned long)gettid(); }

extern "C" int kapi_nooks_posix_thread_setname(unsigned long handle, const char *name) {
  Domain *d = calling_domain();
  std::lock_guard<std::mutex> g(threads.lock);
  std::shared_ptr<DriverThread> t = find_locked(d, handle);
  if (!t) return -ESRCH;
  t->name = t->comm = name;
  d->objects.update_label(ObjectType::thread, handle, name);
  pthread_setname_np(t->thread.native_handle(), name);  // as the host's tools show it (15 bytes at most)
  return 0;
}

extern "C" int kapi_nooks_posix_thread_getname(unsigned long handle, char *buf) {
  Domain *d = calling_domain();
  std::lock_guard<std::mutex> g(threads.lock);
  std::shared_ptr<DriverThread> t = find_locked(d, handle);
  if (!t) return -ESRCH;
  // 15 bytes at most and the NUL, as PR_GET_NAME: the buffer's size, whatever setname kept
  size_t n = std::min<size_t>(t->comm.size(), 15);
  memcpy(buf, t->comm.data(), n);
  buf[n] = '\0';
  return 0;
}
