// Deferred work: items run in order on one kernel worker thread, which
// crosses into the driver to run each.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <thread>

#include "../recovery/recovery.h"
#include "callback_thread.h"
#include "checks.h"
#include "subsystems.h"
#include "wait.h"

using namespace nooks;

namespace {
struct WorkKey {
  int domain;
  uintptr_t addr;
  bool operator==(const WorkKey &o) const { return domain == o.domain && addr == o.addr; }
};
// The worker thread and its queue (never destroyed: see kthread.h).
struct Workers : CallbackThread<WorkKey> {
  Workers() : CallbackThread("worker thread") {}
  std::deque<WorkKey> queue;
};
Workers &workers = *new Workers;

bool unqueue_locked(const WorkKey &k) {
  for (auto it = workers.queue.begin(); it != workers.queue.end(); ++it)
    if (*it == k) {
      workers.queue.erase(it);
      return true;
    }
  return false;
}

void work_loop() {
  std::unique_lock<std::mutex> g(workers.lock);
  while (!workers.stop) {
    if (workers.queue.empty()) {
      workers.cv.wait(g);
      continue;
    }
    WorkKey k = workers.queue.front();
    workers.queue.pop_front();
    Domain *d = g_domains[k.domain];
    Object o;
    if (!d || !d->objects.find(ObjectType::work, k.addr, &o)) continue;
    if (!workers.run_callback(g, d, k, (const void *)o.data)) return;  // left running
  }
}
}  // namespace

extern "C" void kapi_nooks_init_work(struct work_struct *w, void (*fn)(struct work_struct *)) {
  Domain *d = calling_domain();
  w->func = fn;
  w->pending = 0;
  {
    std::lock_guard<std::mutex> g(workers.lock);
    unqueue_locked({d->id, (uintptr_t)w});
  }
  d->objects.add({ObjectType::work, (uintptr_t)w, sizeof *w, (uint64_t)fn, "work"});
}

extern "C" int kapi_schedule_work(struct work_struct *w) {
  Domain *d = calling_domain();
  WorkKey k{d->id, (uintptr_t)w};
  std::lock_guard<std::mutex> g(workers.lock);
  for (auto &q : workers.queue)
    if (q == k) return 0;
  workers.queue.push_back(k);
  workers.cv.notify_all();
  return 1;
}

extern "C" int kapi_cancel_work_sync(struct work_struct *w) {
  Domain *d = calling_domain();
  WorkKey k{d->id, (uintptr_t)w};
  std::unique_lock<std::mutex> g(workers.lock);
  bool queued = unqueue_locked(k);
  // d fails: teardown waits for the work (work_release)
  if (!workers.wait_out(g, d, [&] { return workers.running == k; })) return queued;
  g.unlock();
  change_inside(d, [&] { d->objects.remove(ObjectType::work, (uintptr_t)w); });  // after a wait: not the restarted driver's
  return queued;
}

namespace nooks {

void workers_start() { workers.start(work_loop); }
void workers_stop() { workers.join(); }

// Recovery or unload, the teardown's wait for threads inside the domain done
// (CallbackThread::release).
void work_release(Domain *d) {
  std::unique_lock<std::mutex> g(workers.lock);
  workers.release(g, d);
  // After the wait: a work item may have queued itself again.
  auto &q = workers.queue;
  q.erase(std::remove_if(q.begin(), q.end(), [&](const WorkKey &k) { return k.domain == d->id; }), q.end());
}

}  // namespace nooks

// One CPU as far as a driver can tell: run func here, through a nested crossing.
// A fault inside unwinds to the driver's outermost entry, never back to here.
extern "C" void kapi_on_each_cpu(void (*func)(void *), void *info, int) {
  Domain *d = calling_domain();
  XpcCall c{(const void *)func, {(uint64_t)info}, 0};
  Fault f;
  xpc_call(d, &c, &f);
}
