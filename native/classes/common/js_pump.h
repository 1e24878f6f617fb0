// A device class's one event pump to JavaScript. Driver threads (and the
// watchdog's nannies) kick it, never waiting for JS: a kick is a non-blocking
// call on a thread-safe function, and many kicks before the JS thread gets to
// it make one call. On the JS thread the class then drains what it collected
// (finished requests, received frames...) and hands it to the function
// JavaScript registered (`deliver`), in one call or one per event.
#pragma once
#include <napi.h>

#include <mutex>
#include <vector>

namespace nooks {

class JsPump {
 public:
  // `drain` runs on the JS thread after kicks; `name` names the thread-safe function.
  JsPump(void (*drain)(Napi::Env env), const char *name) : drain_(drain), name_(name) {}

  // JS thread: JavaScript's receiver; the first call also makes the thread-safe function.
  void init(Napi::Env env, Napi::Function deliver);
  // Any thread, any lock held: drain soon. Nothing before init.
  void kick();
  // JS thread, first thing in drain: kicks from now on call drain again.
  void drained();
  // JS thread: whether the pump keeps the process alive (while applications wait for events).
  void keep_alive(Napi::Env env, bool want);
  // JS thread (env null: its environment exits): the kernel shut down and the
  // class forgot what it kept; nothing it had keeps the process alive now.
  void reset(napi_env env);
  // JS thread: calls JavaScript's receiver with what drain collected; nothing before init. A throw from it becomes
  // the process's uncaught exception, and the caller's drain goes on.
  void deliver(const std::vector<napi_value> &args);

 private:
  void (*drain_)(Napi::Env env);
  const char *name_;
  std::mutex lock_;  // tsfn_ and kicked_; taken last (a leaf)
  Napi::ThreadSafeFunction tsfn_;
  bool kicked_ = false;
  bool refd_ = false;  // JS thread only
  Napi::FunctionReference deliver_;  // JS thread only
};

}  // namespace nooks
