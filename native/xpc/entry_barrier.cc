#include "entry_barrier.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kapi/log.h"

namespace nooks {

bool g_entry_fence_full = true;  // until boot has registered

static long membarrier(int cmd) { return syscall(SYS_membarrier, cmd, 0, 0); }

void entry_barrier_init() {
  static bool registered = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
  if (!registered) klog(4, "nooks: membarrier(2) unavailable: every crossing pays a full fence");
  g_entry_fence_full = !registered;
}

void entry_barrier_teardown() {
  if (g_entry_fence_full)
    std::atomic_thread_fence(std::memory_order_seq_cst);
  else
    membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

}  // namespace nooks
