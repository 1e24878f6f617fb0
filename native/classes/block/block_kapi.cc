// The block class: the kernel calls block drivers make (lib/wrappers/kapi/block.ts).
#include <cstring>

#include "../../kapi/checks.h"
#include "../../kapi/log.h"
#include "../../kapi/objects.h"
#include "../../kapi/subsystems.h"
#include "../../shadow/shadow.h"
#include "block_core.h"

using namespace nooks;
using namespace nooks::block_class;

extern "C" int kapi_blk_register_disk(void *p) {
  Domain *d = calling_domain();
  auto *disk = static_cast<blk_disk *>(p);
  check_lasting(d, disk, sizeof *disk, "blk_register_disk", "disk");
  // Each field read once: another of the driver's threads may change them meanwhile (pkey, process).
  const pci_dev *pdev = disk->pdev;
  check_object(d, (uintptr_t)pdev, ObjectType::pci_dev, false, "blk_register_disk", "disk->pdev");
  BlkDiskOps ops;
  ops.take(d, disk->ops, "blk_register_disk");
  const uint64_t capacity = disk->capacity;
  uint32_t depth = disk->queue_depth, max = disk->max_sectors;
  if (!capacity || depth < 1 || depth > BLK_MAX_QUEUE_DEPTH || max < 1 || max > BLK_MAX_SECTORS) return -EINVAL;
  std::string name = pdev->dev.name;
  Block &b = blk();
  // With b.lock held: the name, or this disk, is registered already.
  auto taken = [&] { return b.disks.count(name) || disk_of(b, d->id, (uintptr_t)disk); };
  {
    std::lock_guard<std::mutex> g(b.lock);
    if (taken()) return -EBUSY;
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
  k->capacity = capacity;
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
  std::unique_lock<std::mutex> g(b.lock);
  // Again: another of the driver's threads may have registered it while the lock was free (the first disk stays).
  if (taken()) {
    g.unlock();
    kapi_dma_free_coherent(nullptr, 0, pool, 0);
    return -EBUSY;
  }
  d->objects.add({ObjectType::blkdev, (uintptr_t)disk, sizeof *disk, capacity, name});
  b.disks[name] = k;
  shadow_registered(ObjectType::blkdev, name);  // the shadow's wait for it is over; after its end, a new device for the handles
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
  b.js.kick();  // operations may be waiting for it
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
      const std::string why = k->name + ": the disk was unregistered by its driver";
      disk_gone(b, *k, "ENODEV", why, why);
    }
  }
  d->objects.remove(ObjectType::blkdev, (uintptr_t)p);
  if (pool) kapi_dma_free_coherent(nullptr, 0, pool, 0);
}

namespace {
thread_local bool tl_completed = false;  // on an irq thread: its handler's run completed a request
}  // namespace

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
      if (on_irq_thread()) tl_completed = true;  // kicked once the handler returns (kick_after_handler)
      else b.js.kick();
      break;
    }
  }
  if (!found) kernel_bug(d, "blk_complete(%p): not a request in flight", p);
}

namespace {

// JS hears of what an interrupt handler completed once the handler returns,
// not at its first completion: woken then, it would refill the slot or two
// freed so far (a crossing for each), while the handler frees the rest.
// Every completion counts, not only a finished operation's: the slots it
// freed are refilled then.
void kick_after_handler(Domain *) {
  if (!tl_completed) return;
  tl_completed = false;
  blk().js.kick();
}
AfterInterrupt after_handler(kick_after_handler);

}  // namespace
