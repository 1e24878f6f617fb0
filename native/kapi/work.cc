// Deferred work: items run in order on one kernel worker thread, which
// crosses into the driver to run each.
#include <condition_variable>
#include <deque>
#include <thread>

#include "../recovery/recovery.h"
#include "checks.h"
#include "subsystems.h"

using namespace nooks;

namespace {
struct WorkKey {
  int domain;
  uintptr_t addr;
  bool operator==(const WorkKey &o) const { return domain == o.domain && addr == o.addr; }
};
std::mutex g_lock;
std::condition_variable g_cv;
std::deque<WorkKey> g_queue;
WorkKey g_running{-1, 0};
std::thread g_thread;
bool g_stop = false;

bool unqueue_locked(const WorkKey &k) {
  for (auto it = g_queue.begin(); it != g_queue.end(); ++it)
    if (*it == k) {
      g_queue.erase(it);
      return true;
    }
  return false;
}

void work_loop() {
  std::unique_lock<std::mutex> g(g_lock);
  while (!g_stop) {
    if (g_queue.empty()) {
      g_cv.wait(g);
      continue;
    }
    WorkKey k = g_queue.front();
    g_queue.pop_front();
    Domain *d = g_domains[k.domain];
    Object o;
    if (!d || !d->objects.find(ObjectType::work, k.addr, &o)) continue;
    g_running = k;
    g.unlock();
    XpcCall c{(const void *)o.data, {k.addr}, 0};
    Fault f;
    if (xpc_call(d, &c, &f) == EnterResult::fault) recovery_notify(d, f);
    g.lock();
    g_running = {-1, 0};
    g_cv.notify_all();
  }
}
}  // namespace

extern "C" void kapi_nooks_init_work(struct work_struct *w, void (*fn)(struct work_struct *)) {
  Domain *d = calling_domain();
  w->func = fn;
  w->pending = 0;
  {
    std::lock_guard<std::mutex> g(g_lock);
    unqueue_locked({d->id, (uintptr_t)w});
  }
  d->objects.add({ObjectType::work, (uintptr_t)w, sizeof *w, (uint64_t)fn, "work"});
}

extern "C" int kapi_schedule_work(struct work_struct *w) {
  Domain *d = calling_domain();
  WorkKey k{d->id, (uintptr_t)w};
  std::lock_guard<std::mutex> g(g_lock);
  for (auto &q : g_queue)
    if (q == k) return 0;
  g_queue.push_back(k);
  g_cv.notify_all();
  return 1;
}

extern "C" int kapi_cancel_work_sync(struct work_struct *w) {
  Domain *d = calling_domain();
  WorkKey k{d->id, (uintptr_t)w};
  std::unique_lock<std::mutex> g(g_lock);
  bool queued = unqueue_locked(k);
  while (g_running == k && std::this_thread::get_id() != g_thread.get_id()) {
    if (should_abort(d)) break;
    g_cv.wait_for(g, std::chrono::milliseconds(10));
  }
  g.unlock();
  d->objects.remove(ObjectType::work, (uintptr_t)w);
  return queued;
}

namespace nooks {

void workers_start() {
  std::lock_guard<std::mutex> g(g_lock);
  if (g_thread.joinable()) return;
  g_stop = false;
  g_thread = std::thread(work_loop);
}

void workers_stop() {
  {
    std::lock_guard<std::mutex> g(g_lock);
    g_stop = true;
    g_cv.notify_all();
  }
  if (g_thread.joinable()) g_thread.join();
}

void work_release(Domain *d, uintptr_t addr) {
  std::lock_guard<std::mutex> g(g_lock);
  unqueue_locked({d->id, addr});
}

}  // namespace nooks
