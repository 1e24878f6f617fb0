#include "log.h"

#include <cstdarg>
#include <cstdio>
#include <deque>
#include <mutex>

#include "../xpc/xpc.h"

namespace nooks {

static std::mutex g_log_lock;
static std::deque<LogLine> g_log;
constexpr size_t kLogMax = 4096;  // oldest lines go first

void klog_line(int level, const std::string &source, const std::string &text) {
  std::lock_guard<std::mutex> g(g_log_lock);
  if (g_log.size() == kLogMax) g_log.pop_front();
  g_log.push_back({level, source, text});
}

void klog(int level, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  klog_line(level, "kernel", buf);
}

std::vector<LogLine> klog_drain() {
  std::lock_guard<std::mutex> g(g_log_lock);
  std::vector<LogLine> v(g_log.begin(), g_log.end());
  g_log.clear();
  return v;
}

}  // namespace nooks

// printk in the driver formats the line and hands it here: "<n>" gives the level.
extern "C" void kapi_nooks_log(const char *msg, size_t len) {
  std::string text(msg, len);
  int level = 6;
  if (text.size() >= 3 && text[0] == '<' && text[1] >= '0' && text[1] <= '7' && text[2] == '>') {
    level = text[1] - '0';
    text.erase(0, 3);
  }
  while (!text.empty() && text.back() == '\n') text.pop_back();
  nooks::Domain *d = nooks::calling_domain();
  nooks::klog_line(level, d ? d->name : "kernel", text);
}
