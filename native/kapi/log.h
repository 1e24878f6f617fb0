// The kernel log: driver printk lines and kernel messages, in a ring the
// TypeScript side drains. A kernel message that programs act on also carries
// an event: its kind and named fields, so that they need not parse the text
// (which is for people, and free to change).
#pragma once
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace nooks {

// A named field of an event: a string, a number or a flag.
struct LogField {
  enum Type { text_field, number_field, flag_field };
  std::string key;
  Type type;
  std::string text;
  double number = 0;  // a flag's too (0 or 1)
  LogField(const char *k, const std::string &v) : key(k), type(text_field), text(v) {}
  LogField(const char *k, const char *v) : key(k), type(text_field), text(v) {}
  LogField(const char *k, bool v) : key(k), type(flag_field), number(v) {}
  template <typename N, typename = std::enable_if_t<std::is_arithmetic_v<N>>>
  LogField(const char *k, N v) : key(k), type(number_field), number((double)v) {}
};

struct LogEvent {
  std::string kind;  // empty: the line carries no event
  std::vector<LogField> fields;
};

struct LogLine {
  int level;          // 0 (emerg) .. 7 (debug)
  std::string source; // driver name, or "kernel"
  std::string text;
  LogEvent event;
};

void klog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// A kernel message with its event (docs/api.md lists the kinds).
void klog_event(int level, LogEvent event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// A line from `source` (a driver's name, or "kernel"), with its event if it has one.
void klog_line(int level, const std::string &source, const std::string &text, LogEvent event = {});
std::vector<LogLine> klog_drain();
// Writes `source`'s lines not yet drained to the process's stdout (level info
// and debug) and stderr (the rest), and drops them: a program that ends the
// process (isolation none) leaves none unwritten, as a C program's exit
// flushes its stdio (the JavaScript side, which prints them, runs no more).
void klog_write_out(const std::string &source);

// 0x-prefixed hexadecimal, for addresses and values in messages.
std::string hex(uint64_t v);

// What a driver call returned, for messages: "-19 (ENODEV)" for a negated
// errno, the bare number otherwise (0, a count, a value no errno has).
std::string errno_named(long ret);

}  // namespace nooks
