// slot_use.h: readers that find an object in a slot keep it allocated until
// they let go, and the thread that empties a slot to free what it held waits
// for them. Built and run by native/domain/run-tests.sh under ASan and UBSan
// (a reader touching a freed object is a heap-use-after-free) and under TSan
// (a reader's access and the free must be ordered).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "../slot_use.h"

using namespace nooks;

namespace {

struct Obj {
  uint64_t serial;
  uint64_t check;  // ~serial while allocated; 0 once freed
};

void require(bool ok, const char *what) {
  if (ok) return;
  fprintf(stderr, "slot_use: FAILED: %s\n", what);
  exit(1);
}

// A reader holds its use: the emptier gets past emptying the slot, and not past waiting, until the reader lets go.
void emptier_waits_for_a_held_use() {
  std::atomic<Obj *> slot{new Obj{1, ~1ull}};
  std::atomic<int> uses{0};
  Obj *held = slot_use(slot, uses);
  require(held && held->check == ~held->serial, "a use finds what the slot holds");
  std::atomic<bool> done{false};
  std::thread emptier([&] {
    Obj *old = slot.load();
    slot_empty_and_wait(slot, uses);
    old->check = 0;
    delete old;
    done = true;
  });
  while (slot.load() != nullptr) std::this_thread::yield();  // the emptier is past its store
  Obj *later = slot_use(slot, uses);
  require(later == nullptr, "a use taken after the slot was emptied finds nothing");
  slot_unuse(uses);
  for (int i = 0; i < 1000; i++) {
    require(!done.load(), "the emptier waited for the use still held");
    require(held->check == ~held->serial, "what a held use found is still allocated");
    std::this_thread::yield();
  }
  slot_unuse(uses);
  emptier.join();
  require(done.load(), "the emptier went on once the use was given back");
}

// Readers keep using whatever four slots hold while one thread keeps replacing and freeing it.
void readers_against_an_emptier() {
  constexpr int kSlots = 4, kReaders = 3, kRounds = 20000;
  std::atomic<Obj *> slots[kSlots];
  std::atomic<int> uses[kSlots];
  for (int i = 0; i < kSlots; i++) {
    slots[i] = new Obj{(uint64_t)i + 1, ~((uint64_t)i + 1)};
    uses[i] = 0;
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> found{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; r++)
    readers.emplace_back([&, r] {
      uint64_t n = 0;
      for (unsigned i = r; !stop.load(); i++) {
        int s = i % kSlots;
        if (Obj *o = slot_use(slots[s], uses[s])) {
          require(o->check == ~o->serial, "a reader's object was freed while it used it");
          n++;
        }
        slot_unuse(uses[s]);
      }
      found += n;
    });
  for (int round = 0; round < kRounds; round++) {
    int s = round % kSlots;
    Obj *old = slots[s].load();
    slot_empty_and_wait(slots[s], uses[s]);
    old->check = 0;
    delete old;
    uint64_t serial = (uint64_t)round + kSlots + 1;
    slots[s].store(new Obj{serial, ~serial});
  }
  stop = true;
  for (auto &t : readers) t.join();
  for (auto &s : slots) delete s.load();
  require(found.load() > 0, "the readers found objects");
}

}  // namespace

int main() {
  emptier_waits_for_a_held_use();
  readers_against_an_emptier();
  printf("slot_use: all checks passed\n");
  return 0;
}
