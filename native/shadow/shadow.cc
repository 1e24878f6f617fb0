#include "shadow.h"

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

#include "../kapi/subsystems.h"
#include "../trap/trap.h"

namespace nooks {
namespace {
using Clock = std::chrono::steady_clock;

std::atomic<std::chrono::milliseconds::rep> reregister_limit_ms{kReregisterLimit.count()};

// Filled by static constructors before main, read after: no lock needed.
ShadowOps &ops_of(ObjectType t) {
  static ShadowOps ops[(int)ObjectType::count];
  return ops[(int)t];
}

// The release of every shadowed class's objects (recovery, unload).
void release(Domain *d, const Object &o) {
  const ShadowOps &ops = ops_of(o.type);
  if (shadow_parks(d) && ops.park(d, o)) return;
  ops.drop(d, o);
}

// A device in the ledger: parked, and whose load it waits for.
struct Kept {
  ObjectType type;
  std::string device;
  int domain;       // its owner: the failed driver's load, or the fallback's that took its place
  uint64_t serial;  // (never a later driver in either's slot)
  std::string driver;    // the owner's name, for the message
  std::string fallback;  // the fallback's file, if the owner is one
  Clock::time_point running_since{};  // since when the owner has been running (zero: not running)
  uint64_t run = 0;                   // which run that is: the owner's failures before it (a restart is a new run)
};
using Ticket = std::pair<uint64_t, Kept>;

struct Ledger {
  std::mutex lock;
  std::map<uint64_t, Kept> kept;  // by ticket
  std::map<std::pair<ObjectType, std::string>, Ended> ended;  // by type and device: ended, not registered since
  uint64_t next_ticket = 1;
};
Ledger &ledger() {
  static Ledger *l = new Ledger;  // never destroyed: recovery threads may park during exit
  return *l;
}

// Each class's optional operation `op`, given `args`.
template <typename Op, typename... Args>
void each_class(Op ShadowOps::*op, const Args &...args) {
  for (int t = 0; t < (int)ObjectType::count; t++)
    if (Op fn = ops_of((ObjectType)t).*op) fn(args...);
}

// With no lock held: the classes end what the ledger let go.
void end_all(const std::vector<Ticket> &gone, const std::function<Ending(const Kept &)> &why) {
  for (const Ticket &t : gone) ops_of(t.second.type).end(t.second.device, t.first, why(t.second));
}

// The re-register rule (run by the watchdog thread, as the nannies are): a
// parked device whose owner has been running for the limit without
// registering it again ends with ENODEV. Each run counts afresh: an owner
// that failed and restarted between two looks is told by its failure count,
// not by a look at it down. Domains are looked up without the ledger's lock:
// what changed meanwhile (a resume, a hand-over) wins.
void check_kept() {
  Ledger &l = ledger();
  struct Owner {
    uint64_t ticket;
    int domain;
    uint64_t serial;
    bool running;
    uint64_t run;
  };
  std::vector<Owner> owners;
  {
    std::lock_guard<std::mutex> g(l.lock);
    for (auto &e : l.kept) owners.push_back({e.first, e.second.domain, e.second.serial, false, 0});
  }
  if (owners.empty()) return;
  for (Owner &o : owners) {
    DomainUse use(o.domain, o.serial);
    o.running = use.get() && use.get()->state.load() == DomainState::running;
    if (o.running) o.run = use.get()->failure_gen.load();
  }
  std::vector<Ticket> late;
  {
    std::lock_guard<std::mutex> g(l.lock);
    Clock::time_point now = Clock::now();
    for (const Owner &o : owners) {
      auto it = l.kept.find(o.ticket);
      if (it == l.kept.end() || it->second.serial != o.serial) continue;
      Kept &k = it->second;
      if (!o.running) {
        k.running_since = {};
      } else if (k.running_since == Clock::time_point{} || k.run != o.run) {
        k.running_since = now;
        k.run = o.run;
      } else if (now - k.running_since >= shadow_reregister_limit()) {
        late.push_back(*it);
        l.kept.erase(it);
      }
    }
  }
  end_all(late, [](const Kept &k) {
    return Ending{false, k.fallback.empty() ? "driver " + k.driver + " restarted without registering it again"
                                            : "fallback " + k.fallback + " of driver " + k.driver + " ran without registering it"};
  });
}
Nanny rule(50, check_kept);

// The kernel shut down (its unloads gave up on everything): the next one's ledger starts empty.
void reset(napi_env) {
  std::lock_guard<std::mutex> g(ledger().lock);
  ledger().kept.clear();
  ledger().ended.clear();
}
ClassReset class_reset(reset);

}  // namespace

std::chrono::milliseconds shadow_reregister_limit() { return std::chrono::milliseconds(reregister_limit_ms.load()); }

void shadow_set_reregister_limit_for_test(std::chrono::milliseconds limit) { reregister_limit_ms.store(limit.count()); }

std::string Ending::message(const std::string &device) const {
  return gave_up ? device + ": " + what : device + ": device gone (" + what + ")";
}

ShadowedClass::ShadowedClass(ObjectType t, const ShadowOps &ops) {
  ops_of(t) = ops;
  ObjectRelease(t, release);
}

bool shadow_parks(const Domain *d) { return d->shadowed.load(); }

uint64_t shadow_kept(ObjectType t, const std::string &device, const Domain &d) {
  Ledger &l = ledger();
  std::lock_guard<std::mutex> g(l.lock);
  uint64_t ticket = l.next_ticket++;
  l.kept[ticket] = {t, device, d.id, d.serial, d.name, "", {}};
  return ticket;
}

void shadow_forget(uint64_t ticket) {
  std::lock_guard<std::mutex> g(ledger().lock);
  ledger().kept.erase(ticket);
}

void shadow_registered(ObjectType t, const std::string &device) {
  Ledger &l = ledger();
  std::lock_guard<std::mutex> g(l.lock);
  for (auto it = l.kept.begin(); it != l.kept.end();)
    it = it->second.type == t && it->second.device == device ? l.kept.erase(it) : std::next(it);
  l.ended.erase({t, device});  // a new device for its opens and handles
}

void shadow_record_end(ObjectType t, const std::string &device, const Ended &why) {
  std::lock_guard<std::mutex> g(ledger().lock);
  ledger().ended[{t, device}] = why;
}

std::optional<Ended> shadow_ended(ObjectType t, const std::string &device) {
  Ledger &l = ledger();
  std::lock_guard<std::mutex> g(l.lock);
  auto it = l.ended.find({t, device});
  if (it == l.ended.end()) return std::nullopt;
  return it->second;
}

void shadow_hand_over(const Domain &d, const Domain &to) {
  each_class(&ShadowOps::handing_over, d);
  Ledger &l = ledger();
  std::lock_guard<std::mutex> g(l.lock);
  for (auto &e : l.kept) {
    Kept &k = e.second;
    if (k.serial != d.serial) continue;
    k = {k.type, k.device, to.id, to.serial, to.name, to.path.substr(to.path.rfind('/') + 1), {}};
  }
}

void shadow_give_up(Domain *d, const std::string &why) {
  Ledger &l = ledger();
  std::vector<Ticket> gone;
  {
    std::lock_guard<std::mutex> g(l.lock);
    for (auto it = l.kept.begin(); it != l.kept.end();) {
      if (it->second.serial != d->serial) {  // another load's: a later driver in its owner's slot gives up nothing of it
        ++it;
        continue;
      }
      gone.push_back(*it);
      it = l.kept.erase(it);
    }
  }
  end_all(gone, [&](const Kept &) { return Ending{true, "the driver failed and will not be restarted: " + why}; });
  // Only now: a stream that finds its driver down meanwhile waits for its parked device's end, with the reason,
  // instead of ending at once in its own words (every teardown of d is over: nothing parks after `gone`).
  d->shadowed.store(false);
  each_class(&ShadowOps::gone_for_good, *d, why);
}

void shadow_failed(const Domain &d) {
  if (!d.unloading.load()) each_class(&ShadowOps::failed, d);
}

}  // namespace nooks
