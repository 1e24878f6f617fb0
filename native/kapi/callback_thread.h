// A kernel thread that runs drivers' callbacks from its queue, crossing into
// each callback's domain: the timer thread (time.cc), the worker thread
// (work.cc). One serves every domain, and runs one callback at a time.
// A callback stuck in a kernel call that does not return, given up on by its
// domain's teardown, does not hold the queue, nor the teardown: its thread is
// left running (left_running.h), and a new one serves the queue.
#pragma once
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "../recovery/left_running.h"
#include "../recovery/recovery.h"
#include "../xpc/xpc.h"
#include "checks.h"
#include "kthread.h"

namespace nooks {

// Key: {domain, addr} of a callback's object.
template <class Key>
struct CallbackThread : KernelThread {
  explicit CallbackThread(std::string label) : label(std::move(label)) {}
  const std::string label;  // as the log names it
  Key running{-1, 0};       // the callback the serving thread runs
  const ThreadCtx *running_ctx = nullptr;  // the serving thread's, while it runs a callback (running set)
  std::map<std::thread::id, uint64_t> left;  // threads left running, mid-callback: their tickets
  void (*loop)() = nullptr;

  void start(void (*loop_fn)()) {
    loop = loop_fn;
    KernelThread::start([this] { serve(); });
  }

  // A serving thread: registered at its start (a system call or two), not
  // under the queue's lock at its first callback; then the queue's loop.
  void serve() {
    thread_ctx();
    loop();
  }

  // The loop's crossing into d to run the callback fn of k (g held, released
  // meanwhile). False: this thread was left running meanwhile, and, no longer
  // the queue's, has let go of d: it must end.
  bool run_callback(std::unique_lock<std::mutex> &g, Domain *d, Key k, const void *fn) {
    running = k;
    running_ctx = thread_ctx();  // registered by serve()
    g.unlock();
    XpcCall c{fn, {k.addr}, 0};
    Fault f;
    if (xpc_call(d, &c, &f) == EnterResult::fault) recovery_notify(d, f);
    g.lock();
    auto it = left.find(std::this_thread::get_id());
    if (it != left.end()) {
      uint64_t ticket = it->second;
      left.erase(it);
      g.unlock();
      domain_thread_forget(d);  // from here on nothing of d's is touched: d may go
      left_running_ended(d, ticket);
      return false;
    }
    running = {-1, 0};
    running_ctx = nullptr;
    cv.notify_all();
    return true;
  }

  // A driver's del_timer_sync or cancel_work_sync (g holds lock): waits
  // while the thread runs the callback that `runs()` names (unless that
  // callback is the caller), letting other threads into the driver
  // meanwhile: it needs to run driver code to finish. False: the caller
  // must leave d (should_abort) first.
  template <class Runs>
  bool wait_out(std::unique_lock<std::mutex> &g, Domain *d, Runs runs) {
    while (runs() && !is_current()) {
      if (should_abort(d)) return false;
      {
        UnlockedWait w;
        cv.wait_for(g, std::chrono::milliseconds(10));
        // Let go of before w takes the mprotect lock back: a driver's
        // mod_timer or schedule_work takes this lock holding that one.
        g.unlock();
      }
      g.lock();
    }
    return true;
  }

  // Recovery or unload of d (g holds lock): waits until the thread runs no
  // callback of d. One it took before d failed may still be on its way into d
  // (before its crossing is recorded, where teardown does not see it) or out
  // of it (reporting its fault), and d's memory, then d itself, go once its
  // objects are released. One the teardown gave up on and left behind, in a
  // kernel call that has not returned, has been waited for once: its thread
  // is left running at once, keeping d until its call returns (then it
  // leaves d, as asked, and ends), and a new thread serves the queue.
  void release(std::unique_lock<std::mutex> &g, Domain *d) {
    if (running.domain == d->id && !is_current() && left_behind(running_ctx, d)) {
      left[thread.get_id()] = leave_running(d, label);
      thread.detach();
      thread = kernel_thread([this] { serve(); });
      running = {-1, 0};
      running_ctx = nullptr;
      cv.notify_all();
      return;
    }
    cv.wait(g, [&] { return is_current() || running.domain != d->id; });
  }
};

}  // namespace nooks
