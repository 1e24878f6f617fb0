// Taps: every crossing between a device class and its driver passes one, in
// both directions, and both are generated from the interface descriptions:
// driver → kernel, each kernel call's checking wrapper counts itself first
// (lib/wrappers/kapi.ts → gen/kapi_wrappers.inc; isolation 'none' calls the
// bodies directly, uncounted); kernel → driver, a class
// holds its driver's operations only as a generated table (lib/wrappers/ops.ts
// → gen/class_ops.inc) whose functions come out as OpCalls, and an OpCall
// crosses only through op_cross here. No call escapes: a driver's table is a
// generated struct, and its host copy has no other way in.
// Passive, a tap counts (per domain, lock-free). While the driver is down
// (failed, restarting), an OpCall does not cross: the class's shadow answers
// for it, in the way the operation's role says (ShadowRole in ops/types.ts),
// and the tap counts it as held.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "../domain/domain.h"
#include "../xpc/batch.h"
#include "../xpc/xpc.h"

namespace nooks {

enum class TapDirection : uint8_t { to_kernel, to_driver };
struct TapInfo {
  TapDirection direction;
  const char *table;  // "kapi" or the operations struct
  const char *name;
  const char *role;   // kernel → driver: the shadow's role; else nullptr
  bool required;
};

// One operation of a driver, ready to cross: made by a generated table (class_ops.inc).
struct OpCall {
  int tap;
  const void *fn;  // nullptr: the driver has no such (optional) operation
  uint64_t args[6];
};

// Counts a kernel call of d (the generated wrappers call it first).
void tap_count(Domain *d, int tap);
// A new domain's taps start from zero.
void taps_reset(Domain *d);

// Crosses into d for c on the calling thread: ok (*ret gets the result),
// fault (*f says what; the caller notifies recovery), or unavailable: d is
// down or c.fn is absent, nothing crossed.
EnterResult op_cross(Domain *d, const OpCall &c, Fault *f, uint64_t *ret = nullptr);
// Several OpCalls of d in one crossing (xpc_call_batch, `stop` its), each tapped.
BatchResult op_cross_batch(Domain *d, const std::vector<OpCall> &calls, BatchStop stop = {});

// Copies a driver's operations table (n function pointers at `table`) into
// fn, checking it as the kernel call `who`: readable, each operation in the
// driver's text, the required ones present. Generated tables call it.
void ops_take(Domain *d, const void *table, const void **fn, int n, int first_tap, const char *who);

// The operation or kernel call a tap stands for ("ndo_open", "kmalloc").
const char *tap_name(int tap);

struct TapCount {
  const TapInfo *info;
  uint64_t calls, faults, held;
  uint64_t crossings;  // that carried its calls: a batch of several is one
};
// The taps of d that saw a call, in description order.
std::vector<TapCount> taps_of(const Domain *d);

}  // namespace nooks

#include "class_ops.inc"
