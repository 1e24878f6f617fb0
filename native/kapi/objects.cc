#include "objects.h"

namespace nooks {

static ReleaseFn *release_fns() {
  static ReleaseFn fns[(int)ObjectType::count] = {};
  return fns;
}

ObjectRelease::ObjectRelease(ObjectType t, ReleaseFn fn) { release_fns()[(int)t] = fn; }

ReleaseFn class_release_fn(ObjectType t) { return release_fns()[(int)t]; }

void Objects::add(const Object &o) {
  std::lock_guard<std::mutex> g(lock_);
  objects_[{(int)o.type, o.key}] = o;
}

bool Objects::remove(ObjectType t, uintptr_t key, Object *out) {
  std::lock_guard<std::mutex> g(lock_);
  auto it = objects_.find({(int)t, key});
  if (it == objects_.end()) return false;
  if (out) *out = it->second;
  objects_.erase(it);
  return true;
}

bool Objects::find(ObjectType t, uintptr_t key, Object *out) const {
  std::lock_guard<std::mutex> g(lock_);
  auto it = objects_.find({(int)t, key});
  if (it == objects_.end()) return false;
  if (out) *out = it->second;
  return true;
}

bool Objects::find_containing(ObjectType t, uintptr_t p, size_t n, Object *out) const {
  std::lock_guard<std::mutex> g(lock_);
  auto it = objects_.upper_bound({(int)t, p});
  if (it == objects_.begin()) return false;
  const Object &o = (--it)->second;
  if (o.type != t || n > o.size || p - o.key > o.size - n) return false;
  if (out) *out = o;
  return true;
}

bool Objects::update(ObjectType t, uintptr_t key, const std::function<void(Object &)> &change) {
  std::lock_guard<std::mutex> g(lock_);
  auto it = objects_.find({(int)t, key});
  if (it == objects_.end()) return false;
  change(it->second);
  return true;
}

bool Objects::update_data(ObjectType t, uintptr_t key, uint64_t data) {
  return update(t, key, [&](Object &o) { o.data = data; });
}

bool Objects::update_label(ObjectType t, uintptr_t key, const std::string &label) {
  return update(t, key, [&](Object &o) { o.label = label; });
}

std::vector<Object> Objects::list() const {
  std::lock_guard<std::mutex> g(lock_);
  std::vector<Object> v;
  for (auto &kv : objects_) v.push_back(kv.second);
  return v;
}

std::vector<Object> Objects::take_all() {
  std::lock_guard<std::mutex> g(lock_);
  std::vector<Object> v;
  for (auto &kv : objects_) v.push_back(kv.second);  // map order = type order = release order
  objects_.clear();
  return v;
}

void Objects::remove_within(ObjectType t, uintptr_t lo, uintptr_t hi) {
  std::lock_guard<std::mutex> g(lock_);
  objects_.erase(objects_.lower_bound({(int)t, lo}), objects_.lower_bound({(int)t, hi}));
}

size_t Objects::count() const {
  std::lock_guard<std::mutex> g(lock_);
  return objects_.size();
}

}  // namespace nooks
