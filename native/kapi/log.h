// The kernel log: driver printk lines and kernel messages, in a ring the
// TypeScript side drains.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nooks {

struct LogLine {
  int level;          // 0 (emerg) .. 7 (debug)
  std::string source; // driver name, or "kernel"
  std::string text;
};

void klog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void klog_line(int level, const std::string &source, const std::string &text);
std::vector<LogLine> klog_drain();

// 0x-prefixed hexadecimal, for addresses and values in messages.
std::string hex(uint64_t v);

}  // namespace nooks
