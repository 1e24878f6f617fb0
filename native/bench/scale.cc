#include "scale.h"

#include <time.h>

#include <atomic>
#include <thread>

namespace nooks {

static double mono_seconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

ScaleResult bench_scale(const std::vector<ScaleTarget> &targets, int threads, int warmup, double seconds) {
  std::atomic<int> ready{0}, failed{0};
  std::atomic<bool> go{false}, stop{false};
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; i++)
    pool.emplace_back([&, target = targets[i % targets.size()]] {
      // Each registers on its first crossing (which also maps the thread's
      // stack in the domain); that one and the warm-up (caches, predictors,
      // the host process's thread awake) are made before the start.
      XpcCall c{target.fn, {}, 0};
      Fault f;
      bool ok = true;
      for (int i = 0; ok && i < 1 + warmup; i++) ok = xpc_call(target.domain, &c, &f) == EnterResult::ok;
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      uint64_t n = 0;
      while (ok && !stop.load(std::memory_order_relaxed)) {
        ok = xpc_call(target.domain, &c, &f) == EnterResult::ok;
        n += ok;
      }
      if (!ok) failed.fetch_add(1);
      total.fetch_add(n);
    });
  while (ready.load() < threads) std::this_thread::yield();
  ScaleResult r;
  double t0 = mono_seconds();
  go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  r.seconds = mono_seconds() - t0;
  for (auto &t : pool) t.join();
  r.crossings = total.load();
  r.failed = failed.load();
  return r;
}

}  // namespace nooks
