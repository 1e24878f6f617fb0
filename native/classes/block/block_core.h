// The block class's core, shared by its files: block_core.cc (the disks,
// parking them for the shadow, submission and the nanny), block_kapi.cc (the
// kernel calls drivers make), block_napi.cc (the N-API functions behind
// lib/classes/block.ts and the callback that delivers finished operations).
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
//    requests in flight go back to the head of its queue, in the order they
//    were submitted (not their slots'), new ones queue, and when the restarted
//    driver registers the disk again they are submitted to it in that order
//    (reads and writes of whole sectors are idempotent; a flush is too).
//  - Applications' reads and writes are split into requests of at most
//    max_sectors and queued per disk, many operations per N-API call. Only
//    the JS thread submits: it copies write data into free request buffers
//    and hands up to NOOKS_BATCH_MAX - 1 requests to the driver's submit() in one
//    crossing (deferred calls), then calls its commit() there, if it has one,
//    so that the driver rings the device's doorbell once per batch.
//  - The driver completes requests with blk_complete (on its interrupt
//    thread): read data is copied out of the request buffer there, and
//    finished operations are handed to JS in batches through one
//    thread-safe function (a non-blocking call: a driver thread never waits
//    for JS), whose callback also submits what was waiting for a free slot.
//    An interrupt handler's completions wake JS once, after the handler
//    returns: the callback then refills every slot it freed in one crossing.
//  - Lock order: the mprotect lock (DomainMemoryAccess, or being inside a
//    crossing), then g.lock. The JS thread never crosses into a driver or
//    waits for the mprotect lock while holding g.lock.
#pragma once
#include <napi.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nooks/kapi.h>

#include <nooks/blkdev.h>  // after kapi.h: its types

#include "../../shadow/taps.h"
#include "../common/js_pump.h"

namespace nooks {
namespace block_class {

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
  uint64_t progress = 0;  // jiffies of the driver's last sign of work: a request taken or completed, or waiting began (the nanny's other clock)
  bool dead = false;
};

// A shadowed disk whose driver is restarting: what the shadow answers for it.
struct Parked {
  int domain;
  uint64_t capacity;
  uint32_t depth, max_sectors;
  uint64_t ticket = 0;  // its entry in the shadow's ledger
};

struct Completed {
  uint64_t id;
  std::string code, message;
  std::vector<uint8_t> data;
  bool read;
};

// The JS pump's drain (block_napi.cc): deliver finished operations, submit waiting ones.
void on_kick(Napi::Env env);

struct Block {
  std::mutex lock;
  std::map<std::string, std::shared_ptr<Disk>> disks;      // by name: the registered ones
  std::map<std::string, std::deque<Chunk>> pending;        // by name: waiting for a slot
  std::map<std::string, Parked> parked;                    // by name: shadowed disks between failure and re-registration
  std::map<std::string, uint64_t> resubmitted;             // by name: requests parked and submitted again (since boot)
  std::vector<Completed> completed;                        // for the JS callback
  JsPump js{on_kick, "nooks-block"};                       // finished operations and waiting requests: to the JS thread
  uint64_t next_id = 1;
  size_t outstanding = 0;                                  // operations not yet delivered (JS thread)
};Block &blk();

// With b.lock held. Records a finished request; queues the JS callback when needed.
void finish_chunk(Block &b, Chunk &c, const std::string &code, const std::string &message);
std::shared_ptr<Disk> disk_of(Block &b, int domain, uintptr_t disk);
// With b.lock held: the disk is gone; fail everything it had (with the message `in_flight`) and every request
// waiting for it (`waiting`).
void disk_gone(Block &b, Disk &k, const std::string &code, const std::string &in_flight, const std::string &waiting);
// With b.lock held: the parked disk `name` will not be served; fail what waits for it.
void fail_parked(Block &b, const std::string &name, const std::string &code, const std::string &why);
// Hands waiting requests of disk `name` to its driver, a batch per crossing,
// until no slot is free or nothing waits.
void pump(const std::string &name);

}  // namespace block_class
}  // namespace nooks
