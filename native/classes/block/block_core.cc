// The block class's core: the registered disks, parking a shadowed driver's
// disk for its restart, submission to the driver, and the nanny. See block_core.h.
#include "block_core.h"

#include <algorithm>
#include <cstring>

#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../kapi/subsystems.h"
#include "../../recovery/recovery.h"
#include "../../shadow/shadow.h"
#include "../../trap/trap.h"

namespace nooks {
namespace block_class {

Block &blk() {
  static Block *b = new Block;  // never destroyed: driver threads may complete during exit
  return *b;
}

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

void disk_gone(Block &b, Disk &k, const std::string &code, const std::string &in_flight, const std::string &waiting) {
  k.dead = true;
  auto it = b.disks.find(k.name);
  if (it != b.disks.end() && it->second.get() == &k) b.disks.erase(it);
  // in flight first: an operation with a request in the driver and the rest waiting fails as in flight
  for (Slot &s : k.slots)
    if (s.busy) {
      s.busy = false;
      finish_chunk(b, s.chunk, code, in_flight);
      s.chunk = Chunk{};
    }
  auto p = b.pending.find(k.name);
  if (p != b.pending.end()) {
    for (Chunk &c : p->second) finish_chunk(b, c, code, waiting);
    b.pending.erase(p);
  }
  b.js.kick();
}

std::shared_ptr<Disk> disk_of(Block &b, int domain, uintptr_t disk) {
  for (auto &e : b.disks)
    if (e.second->domain == domain && e.second->disk == disk) return e.second;
  return nullptr;
}

namespace {

// Whether chunk a was submitted before chunk b: operation ids count submissions; an operation's chunks go in offset order.
bool submitted_before(const Chunk &a, const Chunk &b) {
  return a.op->id != b.op->id ? a.op->id < b.op->id : a.offset < b.offset;
}

// With b.lock held, while k's driver d is torn down: the shadow keeps the disk's name and its requests for the restarted driver.
void park(Block &b, Disk &k, const Domain &d) {
  k.dead = true;
  b.disks.erase(k.name);
  b.parked[k.name] = {k.domain, k.capacity, k.depth, k.max_sectors, shadow_kept(ObjectType::blkdev, k.name, d)};
  std::deque<Chunk> &q = b.pending[k.name];
  size_t n = 0;
  for (Slot &s : k.slots)
    if (s.busy) {
      s.busy = false;
      q.push_back(std::move(s.chunk));
      s.chunk = Chunk{};
      n++;
    }
  // Resubmitted in the order the application submitted them: a later request may sit in a lower slot (the
  // lowest free one), and the device does its ring in order (a later write must land last, a flush after
  // the writes before it, a read after them).
  std::stable_sort(q.begin(), q.end(), submitted_before);
  b.resubmitted[k.name] += n;
  const char *driver = d.name.c_str();
  klog_event(4, {"shadow-kept", {{"device", k.name}, {"driver", driver}, {"inFlight", n}, {"waiting", q.size() - n}}},
             "blk: %s: driver %s failed: shadowed, %zu requests in flight and %zu waiting are kept for its restart", k.name.c_str(),
             driver, n, q.size() - n);
}

// A shadowed driver failed: its disk is parked for the restarted driver.
bool park_disk(Domain *d, const Object &o) {
  Block &b = blk();
  std::lock_guard<std::mutex> g(b.lock);
  if (std::shared_ptr<Disk> k = disk_of(b, d->id, o.key)) park(b, *k, *d);
  return true;
}

// Recovery or unload: the driver's disk goes, with the requests it held.
void drop_disk(Domain *d, const Object &o) {
  Block &b = blk();
  std::lock_guard<std::mutex> g(b.lock);
  std::shared_ptr<Disk> k = disk_of(b, d->id, o.key);
  if (!k) return;
  size_t in_flight = std::count_if(k->slots.begin(), k->slots.end(), [](const Slot &s) { return s.busy; });
  auto p = b.pending.find(k->name);
  size_t waiting = p == b.pending.end() ? 0 : p->second.size();
  klog(4, "blk: %s: driver %s failed: its %zu requests in flight and %zu waiting fail (no shadow keeps them)", k->name.c_str(),
       d->name.c_str(), in_flight, waiting);
  const std::string failed = k->name + ": the driver (" + d->name + ") failed";
  disk_gone(b, *k, "EDRIVERFAILED", failed + " while the request was in flight",
            failed + " while the request waited in the class's queue (it never reached the driver; without a shadow driver nothing keeps it for the restart)");
}

}  // namespace

void fail_parked(Block &b, const std::string &name, const std::string &code, const std::string &why) {
  b.parked.erase(name);
  auto p = b.pending.find(name);
  if (p == b.pending.end()) return;
  for (Chunk &c : p->second) finish_chunk(b, c, code, why);
  b.pending.erase(p);
  b.js.kick();
}

namespace {

// The shadow ends the parked disk (its driver will not come back, or runs without it): what it kept fails.
void end_disk(const std::string &name, uint64_t ticket, const Ending &why) {
  Block &b = blk();
  std::lock_guard<std::mutex> g(b.lock);
  auto it = b.parked.find(name);
  if (it == b.parked.end() || it->second.ticket != ticket) return;  // registered again, or parked again, since
  Ended ended{why.code("EDRIVERFAILED"), why.message(name)};
  fail_parked(b, name, ended.code, ended.message);
  shadow_record_end(ObjectType::blkdev, name, ended);  // the handles' next requests fail with it too, not "not ready"
}

ShadowedClass shadowed(ObjectType::blkdev, {park_disk, drop_disk, end_disk});

}  // namespace

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
      for (size_t i = 0; i < k->slots.size() && taken.size() < NOOKS_BATCH_MAX - 1 && !p->second.empty(); i++) {  // room for commit
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
    // Whatever the submits returned, the driver's commit (if it has one) then starts what they
    // queued: a refusal mid-batch must not leave the accepted requests waiting for a doorbell.
    OpCall commit = k->ops.commit(k->disk);
    if (commit.fn) calls.push_back(commit);
    // A request refused -EBUSY goes back to the head of the queue: the submits after it are not made (they return
    // -EBUSY too, and go back after it, in order), so none overtakes it (a later write to its sectors, a flush).
    BatchResult r = op_cross_batch(d, calls, BatchStop{-EBUSY, taken.size()});
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
          finish_chunk(b, s.chunk, "EIO", k->name + ": the driver refused the request (error " + errno_named(ret) + ")");
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
    if (!b.completed.empty()) b.js.kick();  // what failed here; never for -EBUSY alone, which would pump again at once
    if (busy || r.result != EnterResult::ok) return;
  }
}

namespace {

// The nanny (run by the watchdog thread): a driver that keeps a request past
// its policy's stallMs without completing it, or that takes none of the
// waiting ones for as long (it keeps answering -EBUSY: it lost track of its
// queue), has stopped working without faulting: it is failed (kind
// 'stalled') and recovered like a fault.
void check_disks() {
  Block &b = blk();
  struct Stuck {
    int domain;
    uint64_t serial;  // the load that was stuck: not a later one in its slot
    std::string disk;
    bool refusing;
    uint64_t deadline;
  };
  std::vector<Stuck> stuck;
  {
    std::lock_guard<std::mutex> g(b.lock);
    uint64_t now = jiffies_now();
    for (auto &e : b.disks) {
      DomainUse use(e.second->domain);
      Domain *d = use.get();
      if (!d) continue;
      uint64_t deadline = d->stall_ms.load();
      bool late = false, refusing = false;
      for (Slot &s : e.second->slots) late |= s.busy && now - s.since > deadline;
      auto waiting = b.pending.find(e.first);
      if (waiting != b.pending.end() && !waiting->second.empty() && now - e.second->progress > deadline) late = refusing = true;
      if (late) stuck.push_back({d->id, d->serial, e.first, refusing, deadline});
    }
  }
  for (Stuck &s : stuck) {
    DomainUse use(s.domain, s.serial);
    if (!use.get()) continue;  // unloaded meanwhile
    std::string ms = std::to_string(s.deadline);
    std::string why = s.refusing ? "the driver took no request and completed none for more than " + ms + " ms while requests waited"
                                 : "a request was with the driver for more than " + ms + " ms without completing";
    klog(4, "blk: %s: %s: the nanny fails %s", s.disk.c_str(), why.c_str(), use.get()->name.c_str());
    recovery_fail(use.get(), FaultKind::stalled, s.disk + ": " + why + " (nanny)");
  }
}
Nanny nanny(50, check_disks);

// The kernel shut down (unloading its drivers failed every request): the next
// one's disks start with nothing parked or resubmitted. Operation ids go on:
// an id is never that of an operation an application of the old kernel had.
void reset(napi_env env) {
  Block &b = blk();
  {
    std::lock_guard<std::mutex> g(b.lock);
    b.disks.clear();
    b.pending.clear();
    b.parked.clear();
    b.resubmitted.clear();
    b.completed.clear();
    b.outstanding = 0;
  }
  b.js.reset(env);
}
ClassReset class_reset(reset);

}  // namespace

}  // namespace block_class
}  // namespace nooks
