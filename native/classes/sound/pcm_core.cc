// The sound class's core: the registry of pcms, parking a shadowed driver's
// pcm and handing it to the restarted driver, and crossing into a driver's op.
// See pcm_core.h.
#include "pcm_core.h"

#include "../../domain/host_heap.h"
#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../kapi/subsystems.h"
#include "../../recovery/recovery.h"
#include "../../shadow/shadow.h"
#include "../common/cross.h"

namespace nooks {
namespace sound_class {

std::mutex &g_lock = *new std::mutex;
std::map<std::string, std::shared_ptr<Pcm>> &g_pcms = *new std::map<std::string, std::shared_ptr<Pcm>>;
std::map<int, std::shared_ptr<Stream>> &g_streams = *new std::map<int, std::shared_ptr<Stream>>;
std::map<std::string, std::shared_ptr<Pcm>> &g_parked = *new std::map<std::string, std::shared_ptr<Pcm>>;
std::set<std::string> &g_hold_restore = *new std::set<std::string>;
std::set<std::string> &g_hold_register = *new std::set<std::string>;
std::set<std::string> &g_hold_down = *new std::set<std::string>;
std::atomic<bool> g_hold_down_armed{false};

std::shared_ptr<Pcm> pcm_of(Domain *d, uintptr_t key) {
  for (auto &kv : g_pcms)
    if (kv.second->domain == d->id && kv.second->key == key) return kv.second;
  return nullptr;
}

void fail_stream(Stream &s, const std::string &code, const std::string &msg) {
  std::lock_guard<std::mutex> g(s.lock);
  if (!s.error.empty()) return;
  s.error_code = code;
  s.error = msg;
  s.cv.notify_all();
}

// With g_lock held: the driver's copies of the stream configurations go (the driver does).
void free_runtimes(Pcm &p) {
  for (int dir = 0; dir < 2; dir++) {
    if (p.rt[dir]) host_heap_free(p.rt[dir]);
    p.rt[dir] = nullptr;
    p.area[dir] = nullptr;
  }
}

// With g_lock held: the pcm is no more; its streams end.
void drop_locked(Pcm &p, const char *why) {
  p.gone = true;
  for (auto &s : p.open)
    if (s) fail_stream(*s, "ENODEV", p.name + ": device gone (" + why + ")");
  free_runtimes(p);
  g_pcms.erase(p.name);
}

// With g_lock held: the shadow keeps the pcm's name, mixer and open streams for the restarted driver.
void park_locked(const std::shared_ptr<Pcm> &p, const Domain &d) {
  p->gone = true;
  free_runtimes(*p);
  g_pcms.erase(p->name);
  g_parked[p->name] = p;
  p->ticket = shadow_kept(ObjectType::pcm, p->name, d);
  int n = 0;
  for (auto &s : p->open)
    if (s) {
      std::lock_guard<std::mutex> g(s->lock);
      s->parked = true;
      s->resume = nullptr;
      s->area = nullptr;  // the ring goes with the driver's DMA memory; the queue still holds its frames
      n++;
    }
  klog_event(4, {"shadow-kept", {{"device", p->name}, {"driver", p->driver}, {"streams", n}}},
             "sound: %s: driver %s failed: shadowed, %d open stream%s kept for its restart", p->name.c_str(), p->driver.c_str(), n,
             n == 1 ? "" : "s");
}

// With g_lock held: the restarted driver registered the parked pcm again as p. It gets the mixer the shadow
// kept and the parked streams; their threads restore them on it once the driver runs (we are inside its init).
void resume_locked(Pcm &old, const std::shared_ptr<Pcm> &p) {
  for (int dir = 0; dir < 2; dir++) {
    p->volume[dir] = old.volume[dir];
    p->muted[dir] = old.muted[dir];
    const std::shared_ptr<Stream> &s = old.open[dir];
    if (!s) {
      p->mixer_lost[dir] = old.mixer_lost[dir] || old.volume[dir] != 100 || old.muted[dir];
      continue;
    }
    p->open[dir] = s;
    s->holder = p;
    std::lock_guard<std::mutex> g(s->lock);
    s->resume = p;
    s->cv.notify_all();
  }
}

namespace {

// A shadowed driver failed: the shadow keeps its pcm, its streams and the mixer (park_locked).
bool park_pcm(Domain *d, const Object &o) {
  std::lock_guard<std::mutex> g(g_lock);
  if (auto p = pcm_of(d, o.key)) park_locked(p, *d);
  return true;
}

// Recovery or unload of an unshadowed driver: its registration goes.
void drop_pcm(Domain *d, const Object &o) {
  std::lock_guard<std::mutex> g(g_lock);
  if (auto p = pcm_of(d, o.key)) drop_locked(*p, ("driver " + d->name + " failed or unloaded").c_str());
}

// The shadow ends the parked pcm (its driver will not come back, or runs without it): its streams end, saying why.
void end_pcm(const std::string &name, uint64_t ticket, const Ending &why) {
  std::lock_guard<std::mutex> g(g_lock);
  auto it = g_parked.find(name);
  if (it == g_parked.end() || it->second->ticket != ticket) return;  // resumed, or parked again, since
  Ended ended{"ENODEV", name + ": device gone (" + why.what + ")"};
  for (auto &s : it->second->open)
    if (s) fail_stream(*s, ended.code, ended.message);
  g_parked.erase(it);
  shadow_record_end(ObjectType::pcm, name, ended);  // an open's error, till it is registered again
}

ShadowedClass shadowed(ObjectType::pcm, {park_pcm, drop_pcm, end_pcm});

// The kernel shut down: a hold no restore or crossing took does not carry into the next kernel.
void reset(napi_env) {
  std::lock_guard<std::mutex> g(g_lock);
  g_hold_restore.clear();
  g_hold_register.clear();
  g_hold_down.clear();
  g_hold_down_armed.store(false, std::memory_order_relaxed);
}
ClassReset class_reset(reset);

}  // namespace

DomainUse domain_of(const Pcm &p) { return DomainUse(p.domain, p.serial); }

// Whether p's registration is live and its driver runs (a restarted driver runs once its init has returned).
bool runs(const Pcm &p) {
  DomainUse use = domain_of(p);
  Domain *d = use.get();
  return d && d->state.load() == DomainState::running && d->failure_gen.load() == p.gen;
}

// One crossing into the driver's op. False (and op says why) if the driver
// cannot be reached or faulted: a fault goes to the recovery thread.
bool cross(const Pcm &p, const OpCall &call, uint64_t *ret, Op &op) {
  DomainUse use = domain_of(p);
  Domain *d = use.get();
  op.down = true;
  op.code = "ENODEV";
  if (!d) {
    op.err = p.name + ": device gone (its driver is unloaded)";
    return false;
  }
  if (d->failure_gen.load() != p.gen) {  // the registration of a driver that failed since: never into its successor
    op.err = p.name + ": device gone (driver " + d->name + " failed)";
    return false;
  }
  Crossed c = class_cross(d, call);
  switch (c.result) {
    case EnterResult::ok:
      if (ret) *ret = c.ret;
      op.down = false;
      return true;
    case EnterResult::unavailable: {
      DomainState st = d->state.load();
      // a stream outlives no failure of its driver: the registration goes with it
      if (st == DomainState::loading) op.code = "ENOTREADY";
      op.err = p.name + (st == DomainState::loading ? ": device not ready" : ": device gone") + " (driver " + d->name + " is " +
               state_name(st) + ")";
      return false;
    }
    case EnterResult::fault:
      op.err = p.name + ": device gone (driver " + d->name + " failed: " + c.fault.message + ")";
      return false;
  }
  return false;
}

bool down_under_shadow(const Pcm &p, const Op &op) {
  if (!op.down) return false;
  DomainUse use = domain_of(p);
  return use.get() && shadow_parks(use.get());
}

bool kept_for_restore(const Pcm &p, const Op &op) {
  if (!down_under_shadow(p, op)) return false;
  std::lock_guard<std::mutex> g(g_lock);
  auto parked = g_parked.find(p.name);
  return !p.gone || (parked != g_parked.end() && parked->second.get() == &p);
}

// A driver answer the kernel cannot use: the driver is failed, as a bad call would.
void driver_bug(const Pcm &p, const std::string &what) {
  DomainUse use = domain_of(p);
  Domain *d = use.get();
  if (!d) return;
  Fault f;
  f.kind = FaultKind::bad_call;
  snprintf(f.message, sizeof f.message, "%s", what.c_str());
  if (!fail_with(d, f)) return;
  klog(3, "sound: %s: %s", p.name.c_str(), what.c_str());
  recovery_notify(d, f);
}

void emit(Stream &s, Event *e) {
  if (!s.tsfn_live) {
    delete e;
    return;
  }
  napi_status st = s.tsfn.NonBlockingCall(e, [](Napi::Env env, Napi::Function fn, Event *e) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", e->type);
    o.Set("frames", e->frames);
    if (e->type == "error") {
      o.Set("code", e->code);
      o.Set("message", e->message);
    }
    delete e;
    fn.Call({o});
  });
  if (st != napi_ok) delete e;
}

}  // namespace sound_class
}  // namespace nooks
