#include "host_limits.h"

#include "log.h"

namespace nooks {

// The event's `resource`, by HostLimit.
static const char *const kResources[] = {"iomap-bytes", "bar-bytes", "dma-maps"};

void log_host_limit(Domain *d, HostLimit which, uint64_t limit) {
  uint32_t bit = 1u << (int)which;
  if (d->host_limits_logged.fetch_or(bit) & bit) return;
  const char *resource = kResources[(int)which];
  klog_line(4, d->name, std::string("host limit reached: ") + resource + " " + std::to_string(limit) + " (refused; logged once)",
            {"host-limit", {{"driver", d->name}, {"resource", resource}, {"limit", limit}}});
}

}  // namespace nooks
