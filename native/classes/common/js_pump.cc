#include "js_pump.h"

namespace nooks {

void JsPump::init(Napi::Env env, Napi::Function deliver) {
  deliver_ = Napi::Persistent(deliver);
  std::lock_guard<std::mutex> g(lock_);
  if (tsfn_) return;
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo &) {}), name_, 0, 1);
  tsfn_.Unref(env);
}

void JsPump::kick() {
  std::lock_guard<std::mutex> g(lock_);
  if (kicked_ || !tsfn_) return;
  kicked_ = true;
  void (*drain)(Napi::Env) = drain_;
  tsfn_.NonBlockingCall([drain](Napi::Env env, Napi::Function) {
    if (env) drain(env);  // no env: the environment is being torn down
  });
}

void JsPump::drained() {
  std::lock_guard<std::mutex> g(lock_);
  kicked_ = false;
}

void JsPump::keep_alive(Napi::Env env, bool want) {
  if (want == refd_ || !tsfn_) return;
  if (want) tsfn_.Ref(env);
  else tsfn_.Unref(env);
  refd_ = want;
}

void JsPump::reset(napi_env env) {
  if (env) keep_alive(Napi::Env(env), false);
  else refd_ = false;  // the environment's handles go with it
}

void JsPump::deliver(const std::vector<napi_value> &args) {
  if (deliver_.IsEmpty()) return;
  try {
    deliver_.Call(args);
  } catch (const Napi::Error &e) {
    // the application's uncaught exception, as a throw from a listener of an outside event is: not lost (a throw out
    // of this thread-safe call would be, but for a deprecation warning), and the drain goes on (a shadow's restore)
    napi_fatal_exception(deliver_.Env(), e.Value());
  }
}

}  // namespace nooks
