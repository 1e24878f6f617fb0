// A kernel thread serving a queue: started with the kernel, stopped with it.
// Its users keep it in an object never destroyed: kernel threads may still
// run while the process exits.
#pragma once
#include <condition_variable>
#include <mutex>
#include <thread>

#include "../trap/host_signals.h"

namespace nooks {

struct KernelThread {
  std::mutex lock;  // guards the queue of the subsystem that owns the thread
  std::condition_variable cv;
  bool stop = false;
  std::thread thread;

  template <class Loop>
  void start(Loop loop) {
    std::lock_guard<std::mutex> g(lock);
    if (thread.joinable()) return;
    stop = false;
    thread = kernel_thread(loop);
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
};

}  // namespace nooks
