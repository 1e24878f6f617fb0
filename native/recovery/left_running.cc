// Kernel threads left running at a teardown (left_running.h).
#include "left_running.h"

#include <map>
#include <mutex>

#include "../kapi/log.h"
#include "../xpc/xpc.h"

namespace nooks {

namespace {
struct Left {
  const Domain *domain;
  std::string label;
};
// Never destroyed: a thread left running may end while the process exits.
struct LeftRunning {
  std::mutex lock;
  std::map<uint64_t, Left> threads;  // by ticket
  uint64_t next_ticket = 1;
};
LeftRunning &left = *new LeftRunning;
}  // namespace

uint64_t leave_running(Domain *d, const std::string &label) {
  klog_line(3, d->name, label + ": did not stop; left running");
  domain_keep(d);
  std::lock_guard<std::mutex> g(left.lock);
  uint64_t ticket = left.next_ticket++;
  left.threads[ticket] = {d, label};
  return ticket;
}

void left_running_ended(Domain *d, uint64_t ticket) {
  std::string label;
  {
    std::lock_guard<std::mutex> g(left.lock);
    auto it = left.threads.find(ticket);
    label = it->second.label;
    left.threads.erase(it);
  }
  klog_line(4, d->name, label + ": ended after being left running; the domain kept for it goes now if unloaded");
  domain_destroy(d);
}

std::string left_running_labels(const Domain *d) {
  std::lock_guard<std::mutex> g(left.lock);
  std::string labels;
  for (auto &[ticket, t] : left.threads)
    if (t.domain == d) labels += (labels.empty() ? "" : ", ") + t.label;
  return labels.empty() ? "a thread" : labels;  // (one that has just ended, and is letting go of d)
}

bool left_behind(const ThreadCtx *ctx, const Domain *d) { return ctx && ctx->left_behind.load() == d->id; }

}  // namespace nooks
