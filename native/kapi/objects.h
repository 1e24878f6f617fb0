// The object tracker: every kernel object a driver holds, with its type and
// the function that releases it. Calls that create and destroy objects keep
// it exact; recovery releases whatever is left.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <shared_enums.h>  // ObjectType (lib/wrappers/enums.ts)

namespace nooks {

// The order is the release order at recovery: stop what calls into the driver
// (interrupts, timers, work), then reset its devices (no more DMA), before
// freeing the memory those touched.

struct Object {
  ObjectType type;
  uintptr_t key;       // address of the object (or the irq number)
  size_t size = 0;     // bytes, for memory and DMA
  uint64_t data = 0;   // per type: the callback, the owning thread, the bus address
  std::string label;
};

struct Domain;

// How a device class (native/classes/*) releases the objects it gives drivers
// (a disk, a port): a static ObjectRelease in the class's own file.
using ReleaseFn = void (*)(Domain *d, const Object &o);
struct ObjectRelease {
  ObjectRelease(ObjectType t, ReleaseFn fn);
};
// The function registered for t, or nullptr.
ReleaseFn class_release_fn(ObjectType t);

class Objects {
 public:
  void add(const Object &o);
  bool remove(ObjectType t, uintptr_t key, Object *out = nullptr);
  bool find(ObjectType t, uintptr_t key, Object *out = nullptr) const;
  // The object of type t whose [key, key+size) holds all of [p, p+n) (memory, DMA).
  bool find_containing(ObjectType t, uintptr_t p, size_t n, Object *out = nullptr) const;
  bool update_data(ObjectType t, uintptr_t key, uint64_t data);
  bool update_label(ObjectType t, uintptr_t key, const std::string &label);
  std::vector<Object> list() const;
  // Removes and returns every object, in release order.
  std::vector<Object> take_all();
  // Removes the objects of type t that begin in [lo, hi).
  void remove_within(ObjectType t, uintptr_t lo, uintptr_t hi);
  size_t count() const;

 private:
  // Changes the object (t, key) under the lock; false: there is none.
  bool update(ObjectType t, uintptr_t key, const std::function<void(Object &)> &change);
  mutable std::mutex lock_;
  std::map<std::pair<int, uintptr_t>, Object> objects_;
};

}  // namespace nooks
