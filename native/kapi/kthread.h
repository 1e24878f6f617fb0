// A kernel thread serving a queue: started with the kernel, stopped with it.
// Its users keep it in an object never destroyed: kernel threads may still
// run while the process exits.
#pragma once
#include <condition_variable>
#include <mutex>
#include <thread>

namespace nooks {

struct KernelThread {
  std::mutex lock;  // guards the queue of the subsystem that owns the thread
  std::condition_variable cv;
  bool stop = false;
  std::thread thread;

  void start(void (*loop)()) {
    std::lock_guard<std::mutex> g(lock);
    if (thread.joinable()) return;
    stop = false;
    thread = std::thread(loop);
  }

  void join() {
    {
      std::lock_guard<std::mutex> g(lock);
      stop = true;
      cv.notify_all();
    }
    if (thread.joinable()) thread.join();
  }

  bool is_current() const { return std::this_thread::get_id() == thread.get_id(); }

  // Waits (g holds lock) until the thread runs no callback of d: one it took
  // before d failed may still be on its way into d (before its crossing is
  // recorded, where teardown does not see it) or out of it (reporting its
  // fault), and d's memory, then d itself, go once its objects are released.
  // The loop clears what `runs` reads and notifies cv when a callback ends.
  template <class Runs>
  void wait_done_with(std::unique_lock<std::mutex> &g, Runs runs) {
    cv.wait(g, [&] { return is_current() || !runs(); });
  }
};

}  // namespace nooks
