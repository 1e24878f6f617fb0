#include "log.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>

#include "../xpc/xpc.h"

namespace nooks {

// The log ring.
// Never destroyed: kernel threads may still run while the process exits.
struct Log {
  std::mutex lock;
  std::deque<LogLine> lines;
};
static Log &kernel_log = *new Log;
constexpr size_t kLogMax = 4096;  // oldest lines go first

static void append(LogLine line) {
  std::lock_guard<std::mutex> g(kernel_log.lock);
  if (kernel_log.lines.size() == kLogMax) kernel_log.lines.pop_front();
  kernel_log.lines.push_back(std::move(line));
}

void klog_line(int level, const std::string &source, const std::string &text, LogEvent event) {
  append({level, source, text, std::move(event)});
}

static std::string format(const char *fmt, va_list ap) {
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, ap);
  return buf;
}

void klog(int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string text = format(fmt, ap);
  va_end(ap);
  klog_line(level, "kernel", text);
}

void klog_event(int level, LogEvent event, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string text = format(fmt, ap);
  va_end(ap);
  append({level, "kernel", text, std::move(event)});
}

std::vector<LogLine> klog_drain() {
  std::lock_guard<std::mutex> g(kernel_log.lock);
  std::vector<LogLine> v(kernel_log.lines.begin(), kernel_log.lines.end());
  kernel_log.lines.clear();
  return v;
}

static void write_all(int fd, const std::string &s) {
  for (size_t done = 0; done < s.size();) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed or full terminal: nothing else to do at the end
    done += (size_t)n;
  }
}

void klog_write_out(const std::string &source) {
  std::lock_guard<std::mutex> g(kernel_log.lock);
  for (const LogLine &l : kernel_log.lines)
    if (l.source == source) write_all(l.level < 6 ? 2 : 1, l.text + '\n');
  auto &lines = kernel_log.lines;
  lines.erase(std::remove_if(lines.begin(), lines.end(), [&](const LogLine &l) { return l.source == source; }), lines.end());
}

std::string hex(uint64_t v) {
  char b[24];
  snprintf(b, sizeof b, "0x%lx", (unsigned long)v);
  return b;
}

std::string errno_named(long ret) {
  // driver headers use Linux's errno numbers, which are the host C library's
  const char *name = ret < 0 && ret > -4096 ? strerrorname_np((int)-ret) : nullptr;
  return std::to_string(ret) + (name ? std::string(" (") + name + ")" : "");
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
