// A program's main (docs/drivers.md, "Programs"): a POSIX personality driver that defines it.
#pragma once
#include <cstdint>

#include "../domain/domain.h"

namespace nooks {

// Where d's main is (the personality's nooks_posix_main), 0 for a library-style driver: read from its
// image once, at load, into d->program_main, which kill and the API ask (under mprotect reading domain
// memory waits for the lock a driver thread that spins holds, and the JS thread must not).
uintptr_t posix_program_main(Domain *d);

// Starts d's main on a driver thread of its own ("main"), if d is a program: called once d's start
// crossing (constructors, module_init) has returned, at load and at each restart, so that a main that
// ends at once ends a started driver, never the crossing that starts it.
void posix_program_start(Domain *d);

}  // namespace nooks
