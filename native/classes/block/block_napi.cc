// The block class: the N-API functions behind lib/classes/block.ts, and the
// callback that delivers finished operations to JavaScript (on_kick).
#include <cstring>

#include "../../addon.h"
#include "../../kapi/log.h"
#include "../../kapi/subsystems.h"
#include "../../shadow/shadow.h"
#include "block_core.h"

namespace nooks {
namespace block_class {
namespace {

void set_ref(Napi::Env env, Block &b) {
  bool want = b.outstanding > 0;
  b.js.keep_alive(env, want);
}

}  // namespace

// The thread-safe function's callback: deliver finished operations, submit waiting ones.
void on_kick(Napi::Env env) {
  Block &b = blk();
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> g(b.lock);
    b.js.drained();
    for (auto &p : b.pending)
      if (!p.second.empty()) names.push_back(p.first);
  }
  for (const std::string &n : names) pump(n);
  std::vector<Completed> done;
  {
    std::lock_guard<std::mutex> g(b.lock);
    done.swap(b.completed);
  }
  if (done.empty()) return;
  Napi::Array a = Napi::Array::New(env, done.size());
  for (uint32_t i = 0; i < done.size(); i++) {
    Completed &c = done[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", Napi::Number::New(env, (double)c.id));
    if (!c.code.empty()) {
      o.Set("code", c.code);
      o.Set("message", c.message);
    } else if (c.read) {
      o.Set("data", Napi::Buffer<uint8_t>::Copy(env, c.data.data(), c.data.size()));
    }
    a.Set(i, o);
  }
  b.outstanding -= std::min(b.outstanding, done.size());
  set_ref(env, b);
  b.js.deliver({a});
}

namespace {

// blockInit(deliver): deliver([{ id, data?, code?, message? }, ...]) receives finished operations.
Napi::Value BlockInit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Block &b = blk();
  b.js.init(env, info[0].As<Napi::Function>());
  return env.Undefined();
}

// blockDisk(name): the registered (or parked: restarting) disk of that name, or null.
Napi::Value BlockDisk(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Block &b = blk();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  std::lock_guard<std::mutex> g(b.lock);
  auto it = b.disks.find(name);
  auto parked = b.parked.find(name);
  if (it == b.disks.end() && parked == b.parked.end()) return env.Null();
  Parked k = it != b.disks.end() ? Parked{it->second->domain, it->second->capacity, it->second->depth, it->second->max_sectors}
                                 : parked->second;
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", name);
  o.Set("capacity", Napi::Number::New(env, (double)k.capacity));
  o.Set("queueDepth", Napi::Number::New(env, k.depth));
  o.Set("maxSectors", Napi::Number::New(env, k.max_sectors));
  o.Set("domain", Napi::Number::New(env, k.domain));
  o.Set("restarting", Napi::Boolean::New(env, it == b.disks.end()));
  auto q = b.pending.find(name);
  o.Set("queued", Napi::Number::New(env, q == b.pending.end() ? 0 : (double)q->second.size()));
  o.Set("resubmitted", Napi::Number::New(env, (double)b.resubmitted[name]));
  return o;
}

// blockEnded(name): why the shadow ended the disk of that name, until a driver registers it again; or null.
Napi::Value BlockEnded(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::optional<Ended> ended = shadow_ended(ObjectType::blkdev, info[0].As<Napi::String>().Utf8Value());
  return ended ? Napi::String::New(env, ended->message) : env.Null();
}

// blockSubmit(name, [[kind, sector, dataOrSectors], ...]): queues the
// operations (all or none) and hands what it can to the driver: one pump, so
// many operations go in one crossing. Their ids, in order.
Napi::Value BlockSubmit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Block &b = blk();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  Napi::Array list = info[1].As<Napi::Array>();
  struct New {
    std::shared_ptr<Op> op;
    uint64_t sector, sectors;
  };
  std::vector<New> ops;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Array a = list.Get(i).As<Napi::Array>();
    New n{std::make_shared<Op>(), (uint64_t)a.Get(1u).As<Napi::Number>().Int64Value(), 0};
    n.op->kind = a.Get(0u).As<Napi::Number>().Int32Value();
    if (n.op->kind == BLK_OP_WRITE) {
      Napi::Buffer<uint8_t> data = a.Get(2u).As<Napi::Buffer<uint8_t>>();
      if (data.Length() % BLK_SECTOR_SIZE) throw_code(env, "EINVAL", "write length must be a multiple of 512");
      n.op->data.assign(data.Data(), data.Data() + data.Length());
      n.sectors = data.Length() / BLK_SECTOR_SIZE;
    } else if (n.op->kind == BLK_OP_READ) {
      n.sectors = (uint64_t)a.Get(2u).As<Napi::Number>().Int64Value();
      n.op->data.resize(n.sectors * BLK_SECTOR_SIZE);
    } else if (n.op->kind != BLK_OP_FLUSH) {
      throw_code(env, "EINVAL", "unknown block operation");
    }
    ops.push_back(std::move(n));
  }
  Napi::Array ids = Napi::Array::New(env, ops.size());
  {
    std::lock_guard<std::mutex> g(b.lock);
    auto it = b.disks.find(name);
    auto parked = b.parked.find(name);
    if (it == b.disks.end() && parked == b.parked.end()) {
      if (std::optional<Ended> ended = shadow_ended(ObjectType::blkdev, name)) throw_code(env, ended->code, ended->message);
      throw_code(env, "ENOTREADY", name + ": not ready: no driver has registered this disk");
    }
    // a parked disk queues for its restarting driver, with the geometry it had
    Parked k = it != b.disks.end() ? Parked{it->second->domain, it->second->capacity, it->second->depth, it->second->max_sectors}
                                   : parked->second;
    for (New &n : ops)
      if (n.sector > k.capacity || n.sectors > k.capacity - n.sector)
        throw_code(env, "ERANGE", name + ": sectors " + std::to_string(n.sector) + "+" + std::to_string(n.sectors) +
                                      " are past the end of the disk (" + std::to_string(k.capacity) + " sectors)");
    std::deque<Chunk> &q = b.pending[name];
    // The nanny's clock for a driver that takes nothing starts when requests begin to wait, not at the last
    // progress of a disk idle until now (it would fail the driver at its first look).
    if (q.empty() && it != b.disks.end()) it->second->progress = jiffies_now();
    for (uint32_t i = 0; i < ops.size(); i++) {
      std::shared_ptr<Op> &op = ops[i].op;
      op->id = b.next_id++;
      ids.Set(i, Napi::Number::New(env, (double)op->id));
      if (op->kind == BLK_OP_FLUSH) {
        op->remaining = 1;
        q.push_back({op, 0, 0, 0});
        continue;
      }
      for (uint64_t s = 0; s < ops[i].sectors; s += k.max_sectors) {
        uint32_t n = (uint32_t)std::min<uint64_t>(k.max_sectors, ops[i].sectors - s);
        op->remaining++;
        q.push_back({op, ops[i].sector + s, n, (size_t)s * BLK_SECTOR_SIZE});
      }
      if (!op->remaining) {  // zero length: done at once
        op->remaining = 1;
        Chunk c{op, 0, 0, 0};
        finish_chunk(b, c, "", "");
        b.js.kick();
      }
    }
  }
  b.outstanding += ops.size();
  set_ref(env, b);
  pump(name);
  return ids;
}

#include "addon/block.inc"  // the table of the functions above (lib/wrappers/addon/)

}  // namespace
}  // namespace block_class
}  // namespace nooks
