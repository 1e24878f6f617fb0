// Shadow drivers (mechanism; Swift et al., OSDI 2004). A shadowed driver's
// class objects outlive its failures: at recovery a class parks what the
// driver held (a disk's requests in flight go back to the head of its queue,
// the name stays reserved) instead of failing it, answers for the driver
// while it restarts (requests queue), and resumes when the restarted driver
// registers the same device again (resubmitting what was parked). When the
// driver does not come back (the agent gives up, or it is unloaded), or comes
// back and runs for kReregisterLimit without registering the device again,
// the class fails what it parked, with the reason. Whether a driver is
// shadowed is the recovery policy's choice (lib/recovery/policy.ts: `shadow`).
//
// The shadow keeps the ledger of parked devices, once for every class: which
// load each waits for (its owner: the failed driver's, or the fallback
// driver's that took its place), and ends them (ShadowOps::end) when that load
// gives up or runs without registering them. It also keeps why it ended a
// device, for the device's opens and its handles' next operations, until a
// driver registers that device again. Lock order: a class's lock, then the
// ledger's; the ledger takes no class's lock, and its lock is never held while
// a class's end runs.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "../domain/domain.h"
#include "../kapi/objects.h"

namespace nooks {

// How long a parked device's owner may run without registering it again before the shadow ends it. A test hook
// (setReregisterLimit, nooks/testing) shortens it for the tests that wait for such an end.
constexpr auto kReregisterLimit = std::chrono::milliseconds(2000);
std::chrono::milliseconds shadow_reregister_limit();
void shadow_set_reregister_limit_for_test(std::chrono::milliseconds limit);

// Whether d's class objects are parked, not failed, when d is torn down now.
bool shadow_parks(const Domain *d);

// Why the shadow ends a parked device.
struct Ending {
  bool gave_up;      // its owner will not come back (the agent gave up, or it was unloaded); else it runs without the device
  std::string what;  // "the driver failed and will not be restarted: <why>" or "driver <name> restarted without registering it again"
  // The class's error for `device`: "<device>: <what>" after a give-up, "<device>: device gone (<what>)" else.
  std::string message(const std::string &device) const;
  // A give-up's code is the class's (`gave_up_code`); a device its driver did not register again is ENODEV.
  std::string code(const char *gave_up_code) const { return gave_up ? gave_up_code : "ENODEV"; }
};

// A device class's side of the shadow, for the registrations it tracks as
// objects of one type (a disk, a port, an interface): what the class does
// when their driver goes. Which of them applies is decided here (shadow.cc),
// once for every class; what each does is the class's.
struct ShadowOps {
  // d failed and is shadowed: keep o's device for the restarted driver (its
  // name, what applications queued on it) and enter it in the ledger
  // (shadow_kept). False: o cannot be kept: dropped instead.
  bool (*park)(Domain *d, const Object &o);
  // d failed and is not shadowed, or is unloaded: o's device goes, and what
  // applications had on it fails.
  void (*drop)(Domain *d, const Object &o);
  // The shadow ends the parked device `device` (no lock held): if the class
  // still keeps it under `ticket` (not resumed or parked again since), what
  // applications have on it fails, saying `why`, and the class records why
  // (shadow_record_end) for the device's opens (serial: on the port, with the
  // reasons of its other detaches).
  void (*end)(const std::string &device, uint64_t ticket, const Ending &why);
  // d's load will not come back (given up on, or unloaded), after the ledger
  // ended what it owned: what else the class keeps for that load ends, saying
  // `why`. Optional (net: the handles on an interface that load registered
  // last and unregistered itself, which would otherwise wait for no one).
  void (*gone_for_good)(const Domain &d, const std::string &why);
  // A fallback driver is taking failed d's place: what else the class keeps
  // for d's load enters the ledger now (shadow_kept, for d), which then passes
  // it to the fallback with what d parked. Optional (net: the handles on an
  // interface d unregistered itself before it failed, which would otherwise
  // wait for no one).
  void (*handing_over)(const Domain &d);
  // d failed (its failure's teardown, as it begins and again once d's objects
  // are released, for what a thread inside finished meanwhile; not its
  // unload's): what
  // else the class keeps for d's load, which no object of d holds, is kept
  // for the restarted driver if d is shadowed (shadow_kept), as park's device
  // is, or goes as drop's device does. At once, so that from the failure on
  // it is answered for as a parked or dropped device is. Optional (net: the
  // handles on an interface d unregistered itself, which would otherwise
  // wait for its next registration).
  void (*failed)(const Domain &d);
};
// A static ShadowedClass in a class's core: ops become the release of object type t.
struct ShadowedClass {
  ShadowedClass(ObjectType t, const ShadowOps &ops);
};

// With the class's lock held, in park: the ledger keeps `device` (of object
// type t) for d's load. Its ticket, for shadow_forget and ShadowOps::end.
uint64_t shadow_kept(ObjectType t, const std::string &device, const Domain &d);
// With the class's lock held: the class lets go of the device it kept under `ticket` otherwise than by a
// registration (net: its driver is gone): the ledger forgets it.
void shadow_forget(uint64_t ticket);
// With the class's lock held, in its registration of `device` (of object type t): a driver registered it (again;
// the class resumes what it parked, or fails it if it no longer fits): the ledger forgets it, kept or ended.
void shadow_registered(ObjectType t, const std::string &device);

// Why the shadow ended a device: what its handles' operations fail with (code, message); its opens fail with
// ENODEV, whatever the code, and the message.
struct Ended {
  std::string code, message;
};
// With the class's lock held, where the class ends `device` (ShadowOps::end; net: gone_for_good): the ledger keeps why,
// until shadow_registered. Taken under the class's lock, so a registration (under the same lock) comes wholly before
// or after it.
void shadow_record_end(ObjectType t, const std::string &device, const Ended &why);
// Why the shadow ended `device` (of object type t), until a driver registers it again; nothing if it did not. Any
// lock but the ledger's may be held.
std::optional<Ended> shadow_ended(ObjectType t, const std::string &device);
// A fallback driver takes failed d's place: each class's handing_over runs, then what d's load parked
// is `to`'s to register, or to give up.
void shadow_hand_over(const Domain &d, const Domain &to);
// d will not be restarted: what its load owns is ended (with the reason), then d is no longer shadowed, then each class's gone_for_good runs.
void shadow_give_up(Domain *d, const std::string &why);
// d's failure's teardown begins (native/recovery/teardown.cc): unless it is its unload's (whose give-up or
// hand-over takes the rest), each class's failed runs.
void shadow_failed(const Domain &d);

}  // namespace nooks
