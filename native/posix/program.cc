// A program's main started by the kernel (program.h); its thread runs the
// personality's nooks_posix_program_run (native/driver-rt/posix/program.c).
#include "program.h"

#include <dlfcn.h>

#include "../recovery/recovery.h"
#include "threads.h"

namespace nooks {

uintptr_t posix_program_main(Domain *d) {
  auto *main_at = (const uintptr_t *)dlsym(d->handle, "nooks_posix_main");
  for (const Range &r : d->readable)
    if (main_at && r.contains((uintptr_t)main_at, sizeof *main_at)) {
      DomainMemoryAccess access;
      return *(const volatile uintptr_t *)main_at;
    }
  return 0;
}

void posix_program_start(Domain *d) {
  void *run = dlsym(d->handle, "nooks_posix_program_run");
  if (!d->program_main || !run || !d->in_text((uintptr_t)run)) return;
  // main as the thread's start: what its object names; a program without its main is a failure the policy decides on
  if (driver_thread_start(d, XpcCall{run, {}, 0}, d->program_main, true, "main", uint64_t{0}) < 0)
    recovery_fail(d, FaultKind::abort, "main: no thread left for it (EAGAIN): not started");
}

}  // namespace nooks
