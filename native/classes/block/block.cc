// The block class, kernel side: disks that block drivers register, the
// request queue in front of each, and the N-API functions behind
// lib/classes/block.ts.
//
// Design (see <nooks/blkdev.h> for the driver's view):
//  - A disk is registered by its driver (blk_register_disk) for a pci_dev it
//    holds and takes the device's name ("blk0"). The kernel then allocates the
//    disk's requests and their data buffers in one block of the driver's DMA
//    memory (dma_alloc_coherent on the driver's behalf, inside the kernel
//    call: a kernel object in the driver's domain that the device can reach,
//    freed with the domain at recovery). The registration is tracked as a
//    blkdev object; its release (recovery) fails every request in flight,
//    unless the driver is shadowed (native/shadow): then the disk is parked:
//    requests in flight go back to the head of its queue, new ones queue, and
//    when the restarted driver registers the disk again they are submitted to
//    it (reads and writes of whole sectors are idempotent; a flush is too).
//  - Applications' reads and writes are split into requests of at most
//    max_sectors and queued per disk, many operations per N-API call. Only
//    the JS thread submits: it copies write data into free request buffers
//    and hands up to NOOKS_BATCH_MAX requests to the driver's submit() in one
//    crossing (deferred calls).
//  - The driver completes requests with blk_complete (on its interrupt
//    thread): read data is copied out of the request buffer there, and
//    finished operations are handed to JS in batches through one
//    thread-safe function (a non-blocking call: a driver thread never waits
//    for JS), whose callback also submits what was waiting for a free slot.
//  - Lock order: the mprotect lock (DomainMemoryAccess, or being inside a
//    crossing), then g.lock. The JS thread never crosses into a driver or
//    waits for the mprotect lock while holding g.lock.
#include <napi.h>

#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nooks/kapi.h>

#include "../../addon.h"
#include "../../kapi/checks.h"
#include "../../kapi/subsystems.h"
#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../recovery/recovery.h"
#include "../../shadow/shadow.h"
#include "../../shadow/taps.h"
#include <nooks/blkdev.h>

namespace nooks {
namespace {

// One application operation (a read, write or flush of a byte range).
struct Op {
  uint64_t id;
  int kind;                   // BLK_OP_*
  std::vector<uint8_t> data;  // write: the data; read: filled by completions
  uint32_t remaining = 0;     // requests not finished
  std::string code, message;  // the first error
};

// One request of an operation: at most max_sectors.
struct Chunk {
  std::shared_ptr<Op> op;
  uint64_t sector = 0;
  uint32_t count = 0;
  size_t offset = 0;  // into op->data
};

struct Slot {
  blk_request *rq = nullptr;  // in the driver's DMA memory
  void *buffer = nullptr;
  dma_addr_t dma = 0;
  bool busy = false;
  uint64_t since = 0;  // jiffies when it was handed to the driver (the nanny's clock)
  Chunk chunk;
};

// A registered disk.
struct Disk {
  int domain;
  uintptr_t disk;  // the driver's struct blk_disk
  BlkDiskOps ops;  // the driver's, reachable only through taps
  std::string name;
  uint64_t capacity;
  uint32_t depth, max_sectors;
  void *pool;
  size_t pool_bytes;
  std::vector<Slot> slots;
  uint64_t progress = 0;  // jiffies of the driver's last sign of work: a request taken or completed (the nanny's other clock)
  bool dead = false;
};

// A shadowed disk whose driver is restarting: what the shadow answers for it.
struct Parked {
  int domain;
  uint64_t capacity;
  uint32_t depth, max_sectors;
};

struct Completed {
  uint64_t id;
  std::string code, message;
  std::vector<uint8_t> data;
  bool read;
};

struct Block {
  std::mutex lock;
  std::map<std::string, std::shared_ptr<Disk>> disks;      // by name: the registered ones
  std::map<std::string, std::deque<Chunk>> pending;        // by name: waiting for a slot
  std::map<std::string, Parked> parked;                    // by name: shadowed disks between failure and re-registration
  std::map<std::string, uint64_t> resubmitted;             // by name: requests parked and submitted again (all time)
  std::vector<Completed> completed;                        // for the JS callback
  bool kicked = false;                                     // a JS callback is queued
  Napi::ThreadSafeFunction tsfn;
  Napi::FunctionReference deliver;
  uint64_t next_id = 1;
  size_t outstanding = 0;                                  // operations not yet delivered (JS thread)
  bool refd = false;
};
Block &blk() {
  static Block *b = new Block;  // never destroyed: driver threads may complete during exit
  return *b;
}

// With b.lock held. Records a finished request; queues the JS callback when needed.
void finish_chunk(Block &b, Chunk &c, const std::string &code, const std::string &message) {
  Op &op = *c.op;
  if (!code.empty() && op.code.empty()) {
    op.code = code;
    op.message = message;
  }
  if (--op.remaining) return;
  Completed done{op.id, op.code, op.message, {}, op.kind == BLK_OP_READ};
  if (done.read && done.code.empty()) done.data = std::move(op.data);
  b.completed.push_back(std::move(done));
}

void on_kick(Napi::Env env);

void kick(Block &b) {  // with b.lock held
  if (b.kicked || !b.tsfn) return;
  b.kicked = true;
  b.tsfn.NonBlockingCall([](Napi::Env env, Napi::Function) { on_kick(env); });
}

// With b.lock held: the disk is gone; fail everything it had and every request waiting for it.
void disk_gone(Block &b, Disk &k, const std::string &code, const std::string &why) {
  k.dead = true;
  auto it = b.disks.find(k.name);
  if (it != b.disks.end() && it->second.get() == &k) b.disks.erase(it);
  for (Slot &s : k.slots)
    if (s.busy) {
      s.busy = false;
      finish_chunk(b, s.chunk, code, why);
      s.chunk = Chunk{};
    }
  auto p = b.pending.find(k.name);
  if (p != b.pending.end()) {
    for (Chunk &c : p->second) finish_chunk(b, c, code, why);
    b.pending.erase(p);
  }
  kick(b);
}

std::shared_ptr<Disk> disk_of(Block &b, int domain, uintptr_t disk) {
  for (auto &e : b.disks)
    if (e.second->domain == domain && e.second->disk == disk) return e.second;
  return nullptr;
}

// With b.lock held: the shadow keeps the disk's name and its requests for the restarted driver.
void park(Block &b, Disk &k) {
  k.dead = true;
  b.disks.erase(k.name);
  b.parked[k.name] = {k.domain, k.capacity, k.depth, k.max_sectors};
  std::deque<Chunk> &q = b.pending[k.name];
  size_t n = 0;
  for (auto s = k.slots.rbegin(); s != k.slots.rend(); ++s)  // in slot order, ahead of what waited
    if (s->busy) {
      s->busy = false;
      q.push_front(std::move(s->chunk));
      s->chunk = Chunk{};
      n++;
    }
  b.resubmitted[k.name] += n;
  klog(4, "blk: %s: driver %s failed: shadowed, %zu requests in flight and %zu waiting are kept for its restart",
       k.name.c_str(), g_domains[k.domain] ? g_domains[k.domain]->name.c_str() : "?", n, q.size() - n);
}

// Recovery: the failed driver's disk goes, with the requests it held (or is parked, when shadowed).
ObjectRelease release(ObjectType::blkdev, [](Domain *d, const Object &o) {
  Block &b = blk();
  std::lock_guard<std::mutex> g(b.lock);
  std::shared_ptr<Disk> k = disk_of(b, d->id, o.key);
  if (!k) return;
  if (shadow_parks(d)) return park(b, *k);
  klog(4, "blk: %s: driver %s failed: its requests in flight fail", k->name.c_str(), d->name.c_str());
  disk_gone(b, *k, "EDRIVERFAILED", k->name + ": the driver (" + d->name + ") failed while the request was in flight");
});

// With b.lock held: the parked disk `name` will not be served; fail what waits for it.
void fail_parked(Block &b, const std::string &name, const std::string &code, const std::string &why) {
  b.parked.erase(name);
  auto p = b.pending.find(name);
  if (p == b.pending.end()) return;
  for (Chunk &c : p->second) finish_chunk(b, c, code, why);
  b.pending.erase(p);
  kick(b);
}

// The agent gave up on a shadowed driver (or it was unloaded): its parked disks fail what they kept.
ShadowGiveUp give_up([](Domain *d, const std::string &why) {
  Block &b = blk();
  std::lock_guard<std::mutex> g(b.lock);
  for (auto it = b.parked.begin(); it != b.parked.end();) {
    std::string name = (it++)->first;
    if (b.parked[name].domain == d->id) fail_parked(b, name, "EDRIVERFAILED", name + ": the driver failed and will not be restarted: " + why);
  }
});

// ---- submission (JS thread) -----------------------------------------------

// Hands waiting requests of disk `name` to its driver, a batch per crossing,
// until no slot is free or nothing waits.
void pump(const std::string &name) {
  Block &b = blk();
  for (;;) {
    std::shared_ptr<Disk> k;
    std::vector<size_t> taken;
    {
      std::lock_guard<std::mutex> g(b.lock);
      auto it = b.disks.find(name);
      auto p = b.pending.find(name);
      if (it == b.disks.end() || p == b.pending.end() || p->second.empty()) return;
      k = it->second;
      for (size_t i = 0; i < k->slots.size() && taken.size() < NOOKS_BATCH_MAX && !p->second.empty(); i++) {
        Slot &s = k->slots[i];
        if (s.busy) continue;
        s.busy = true;
        s.since = jiffies_now();
        s.chunk = std::move(p->second.front());
        p->second.pop_front();
        taken.push_back(i);
      }
      if (taken.empty()) return;
    }
    Domain *d = g_domains[k->domain];
    // Fill the requests: while the disk is alive (its release waits for us).
    {
      DomainMemoryAccess access;
      std::lock_guard<std::mutex> g(b.lock);
      if (k->dead || !d) continue;  // its requests were failed with it
      for (size_t i : taken) {
        Slot &s = k->slots[i];
        Op &op = *s.chunk.op;
        blk_request *rq = s.rq;
        rq->op = (u32)op.kind;
        rq->tag = (u32)i;
        rq->sector = s.chunk.sector;
        rq->count = s.chunk.count;
        rq->reserved = 0;
        rq->buffer = s.buffer;
        rq->dma = s.dma;
        rq->driver_data = nullptr;
        if (op.kind == BLK_OP_WRITE) memcpy(s.buffer, op.data.data() + s.chunk.offset, (size_t)s.chunk.count * BLK_SECTOR_SIZE);
      }
    }
    std::vector<OpCall> calls;
    for (size_t j = 0; j < taken.size(); j++) calls.push_back(k->ops.submit(k->disk, (uintptr_t)k->slots[taken[j]].rq));
    BatchResult r = op_cross_batch(d, calls);
    std::lock_guard<std::mutex> g(b.lock);
    if (k->dead) continue;
    bool busy = false;
    std::vector<Chunk> again;  // back to the head of the queue, in order
    for (size_t j = 0; j < taken.size(); j++) {
      Slot &s = k->slots[taken[j]];
      if (j < r.rets.size()) {
        int ret = (int)r.rets[j];
        if (ret == 0) k->progress = jiffies_now();
        if (ret == 0 || !s.busy) continue;
        s.busy = false;
        if (ret == -EBUSY) {  // the device's queue is full: again after a completion
          again.push_back(std::move(s.chunk));
          busy = true;
        } else {
          finish_chunk(b, s.chunk, "EIO", k->name + ": the driver refused the request (error " + std::to_string(ret) + ")");
        }
        s.chunk = Chunk{};
      } else if (r.result == EnterResult::unavailable && s.busy) {
        s.busy = false;
        if (shadow_parks(d)) again.push_back(std::move(s.chunk));  // for the restarted driver
        else finish_chunk(b, s.chunk, "EUNAVAILABLE", k->name + ": the driver (" + d->name + ") is " + state_name(d->state.load()));
        s.chunk = Chunk{};
      }
    }
    std::deque<Chunk> &q = b.pending[name];
    q.insert(q.begin(), std::make_move_iterator(again.begin()), std::make_move_iterator(again.end()));
    if (r.result == EnterResult::fault) {
      // The recovery thread tears the driver down (failing what it held) and tells the agent.
      recovery_notify(d, r.fault);
      return;
    }
    kick(b);
    if (busy || r.result != EnterResult::ok) return;
  }
}

// ---- N-API ---------------------------------------------------------------

void set_ref(Napi::Env env, Block &b) {
  bool want = b.outstanding > 0;
  if (want == b.refd || !b.tsfn) return;
  if (want) b.tsfn.Ref(env);
  else b.tsfn.Unref(env);
  b.refd = want;
}

// The thread-safe function's callback: deliver finished operations, submit waiting ones.
void on_kick(Napi::Env env) {
  Block &b = blk();
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> g(b.lock);
    b.kicked = false;
    for (auto &p : b.pending)
      if (!p.second.empty()) names.push_back(p.first);
  }
  for (const std::string &n : names) pump(n);
  std::vector<Completed> done;
  {
    std::lock_guard<std::mutex> g(b.lock);
    done.swap(b.completed);
  }
  if (done.empty() || b.deliver.IsEmpty()) return;
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
  b.deliver.Call({a});
}

// blockNanny(name): a driver that keeps a request past its policy's stallMs
// without completing it, or that takes none of the waiting ones for as long
// (it keeps answering -EBUSY: it lost track of its queue), has stopped working
// without faulting: it is failed (kind 'stalled') and recovered like a fault.
// True if it was.
Napi::Value Nanny(const Napi::CallbackInfo &info) {
  Block &b = blk();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  Domain *stuck = nullptr;
  bool refusing = false;
  uint64_t deadline = 0;
  {
    std::lock_guard<std::mutex> g(b.lock);
    auto it = b.disks.find(name);
    Domain *d = it == b.disks.end() ? nullptr : g_domains[it->second->domain];
    if (!d) return Napi::Boolean::New(info.Env(), false);
    deadline = d->stall_ms.load();
    uint64_t now = jiffies_now();
    for (Slot &s : it->second->slots)
      if (s.busy && now - s.since > deadline) stuck = d;
    auto waiting = b.pending.find(name);
    if (waiting != b.pending.end() && !waiting->second.empty() && now - it->second->progress > deadline) {
      stuck = d;
      refusing = true;
    }
  }
  if (!stuck) return Napi::Boolean::New(info.Env(), false);
  std::string why = refusing ? "the driver took no request and completed none for more than " + std::to_string(deadline) + " ms while requests waited"
                             : "a request was with the driver for more than " + std::to_string(deadline) + " ms without completing";
  klog(4, "blk: %s: %s: the nanny fails %s", name.c_str(), why.c_str(), stuck->name.c_str());
  recovery_fail(stuck, FaultKind::stalled, name + ": " + why + " (nanny)");
  return Napi::Boolean::New(info.Env(), true);
}

// blockInit(deliver): deliver([{ id, data?, code?, message? }, ...]) receives finished operations.
Napi::Value Init(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Block &b = blk();
  b.deliver = Napi::Persistent(info[0].As<Napi::Function>());
  if (!b.tsfn) {
    Napi::ThreadSafeFunction t = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo &) {}),
                                                               "nooks-block", 0, 1);
    t.Unref(env);
    std::lock_guard<std::mutex> g(b.lock);
    b.tsfn = t;
  }
  return env.Undefined();
}

// blockDisk(name): the registered (or parked: restarting) disk of that name, or null.
Napi::Value DiskInfo(const Napi::CallbackInfo &info) {
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

// blockSubmit(name, [[kind, sector, dataOrSectors], ...]): queues the
// operations (all or none) and hands what it can to the driver: one pump, so
// many operations go in one crossing. Their ids, in order.
Napi::Value Submit(const Napi::CallbackInfo &info) {
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
    if (it == b.disks.end() && parked == b.parked.end())
      throw_code(env, "ENOTREADY", name + ": not ready: no driver has registered this disk");
    // a parked disk queues for its restarting driver, with the geometry it had
    Parked k = it != b.disks.end() ? Parked{it->second->domain, it->second->capacity, it->second->depth, it->second->max_sectors}
                                   : parked->second;
    for (New &n : ops)
      if (n.sector > k.capacity || n.sectors > k.capacity - n.sector)
        throw_code(env, "ERANGE", name + ": sectors " + std::to_string(n.sector) + "+" + std::to_string(n.sectors) +
                                      " are past the end of the disk (" + std::to_string(k.capacity) + " sectors)");
    std::deque<Chunk> &q = b.pending[name];
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
        kick(b);
      }
    }
  }
  b.outstanding += ops.size();
  set_ref(env, b);
  pump(name);
  return ids;
}

AddonExports exports([](Napi::Env env, Napi::Object e) {
  e.Set("blockInit", Napi::Function::New(env, Init));
  e.Set("blockDisk", Napi::Function::New(env, DiskInfo));
  e.Set("blockSubmit", Napi::Function::New(env, Submit));
  e.Set("blockNanny", Napi::Function::New(env, Nanny));
});

}  // namespace
}  // namespace nooks

// ---- the kernel calls (lib/wrappers/kapi/block.ts) --------------------------
using namespace nooks;


extern "C" int kapi_blk_register_disk(void *p) {
  Domain *d = calling_domain();
  auto *disk = static_cast<blk_disk *>(p);
  check_writable(d, disk, sizeof *disk, false, "blk_register_disk", "disk");
  check_object(d, (uintptr_t)disk->pdev, ObjectType::pci_dev, false, "blk_register_disk", "disk->pdev");
  BlkDiskOps ops;
  ops.take(d, disk->ops, "blk_register_disk");
  uint32_t depth = disk->queue_depth, max = disk->max_sectors;
  if (!disk->capacity || depth < 1 || depth > BLK_MAX_QUEUE_DEPTH || max < 1 || max > BLK_MAX_SECTORS) return -EINVAL;
  std::string name = disk->pdev->dev.name;
  Block &b = blk();
  {
    std::lock_guard<std::mutex> g(b.lock);
    if (b.disks.count(name) || disk_of(b, d->id, (uintptr_t)disk)) return -EBUSY;
  }
  // The requests, then the buffers (page-aligned), in the driver's DMA memory.
  size_t head = (depth * sizeof(blk_request) + 4095) & ~(size_t)4095;
  size_t buf = (size_t)max * BLK_SECTOR_SIZE;
  size_t bytes = head + depth * buf;
  dma_addr_t bus = 0;
  void *pool = kapi_dma_alloc_coherent(nullptr, bytes, &bus, GFP_KERNEL);
  if (!pool) return -ENOMEM;
  auto k = std::make_shared<Disk>();
  k->domain = d->id;
  k->disk = (uintptr_t)disk;
  k->ops = ops;
  k->name = name;
  k->capacity = disk->capacity;
  k->depth = depth;
  k->max_sectors = max;
  k->progress = jiffies_now();
  k->pool = pool;
  k->pool_bytes = bytes;
  for (uint32_t i = 0; i < depth; i++) {
    Slot s;
    s.rq = (blk_request *)pool + i;
    s.buffer = (char *)pool + head + i * buf;
    s.dma = bus + head + i * buf;
    memset(s.rq, 0, sizeof *s.rq);
    k->slots.push_back(std::move(s));
  }
  d->objects.add({ObjectType::blkdev, (uintptr_t)disk, sizeof *disk, disk->capacity, name});
  std::lock_guard<std::mutex> g(b.lock);
  b.disks[name] = k;
  klog(6, "blk: %s: %lu sectors, %u requests of up to %u sectors, driver %s", name.c_str(), (unsigned long)k->capacity, depth,
       max, d->name.c_str());
  auto parked = b.parked.find(name);
  if (parked != b.parked.end()) {  // the restarted driver: the shadow hands over what it kept, if it still fits
    if (parked->second.capacity != k->capacity || parked->second.max_sectors > k->max_sectors) {
      fail_parked(b, name, "EIO", name + ": the restarted driver registered a different geometry: the requests kept for it fail");
    } else {
      b.parked.erase(parked);
      klog(6, "blk: %s: back from recovery: %zu requests kept for it are submitted", name.c_str(), b.pending[name].size());
    }
  }
  kick(b);  // operations may be waiting for it
  return 0;
}

extern "C" void kapi_blk_unregister_disk(void *p) {
  Domain *d = calling_domain();
  Block &b = blk();
  void *pool = nullptr;
  {
    std::lock_guard<std::mutex> g(b.lock);
    std::shared_ptr<Disk> k = disk_of(b, d->id, (uintptr_t)p);
    if (k) {
      pool = k->pool;
      disk_gone(b, *k, "ENODEV", k->name + ": the disk was unregistered by its driver");
    }
  }
  d->objects.remove(ObjectType::blkdev, (uintptr_t)p);
  if (pool) kapi_dma_free_coherent(nullptr, 0, pool, 0);
}

extern "C" void kapi_blk_complete(void *p, int status) {
  Domain *d = calling_domain();
  auto *rq = static_cast<blk_request *>(p);
  Block &b = blk();
  bool found = false;
  {
    std::lock_guard<std::mutex> g(b.lock);
    for (auto &e : b.disks) {
      Disk &k = *e.second;
      if (k.domain != d->id || k.slots.empty() || rq < k.slots.front().rq || rq > k.slots.back().rq) continue;
      size_t i = (size_t)(rq - k.slots.front().rq);
      Slot &s = k.slots[i];
      if (s.rq != rq || !s.busy) break;
      found = true;
      s.busy = false;
      k.progress = jiffies_now();
      if (status == 0 && s.chunk.op->kind == BLK_OP_READ)
        memcpy(s.chunk.op->data.data() + s.chunk.offset, s.buffer, (size_t)s.chunk.count * BLK_SECTOR_SIZE);
      if (status == 0) finish_chunk(b, s.chunk, "", "");
      else finish_chunk(b, s.chunk, "EIO", k.name + ": I/O error (the driver completed the request with status " + std::to_string(status) + ")");
      s.chunk = Chunk{};
      kick(b);
      break;
    }
  }
  if (!found) kernel_bug(d, "blk_complete(%p): not a request in flight", p);
}
