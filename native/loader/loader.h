// Loading a driver into a new domain: check the ELF file, bind its imports,
// tag its writable segments, keep a clean copy of them, run module_init.
#pragma once
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "../domain/domain.h"
#include "params.h"

namespace nooks {

// A driver that cannot be loaded; `code` names the reason for programs:
// ENOENT, EISDIR, EACCES, ENOTELF, ENEEDED, ECTOR (elf_check.h), EABI, ENOINIT, EUNRESOLVED,
// ELIBC, EWRPKRU, ELOADED, EDLOPEN, EINITFAULT, EINITFAILED, EPATCH, EPARAM (load parameters),
// EHOST (isolation process: no host process), ENODEV/EBUSY (the load option devices), EMEMLIMIT (the static data does not fit memLimitBytes),
// ETLS (thread-local storage).
struct LoadError : std::runtime_error {
  std::string code;
  LoadError(std::string c, const std::string &msg) : std::runtime_error(msg), code(std::move(c)) {}
};

struct LoadOptions {
  std::string name;
  uint64_t time_budget_ms = 2000;
  size_t mem_limit = 64u << 20;
  size_t dma_bytes = 0;  // its DMA memory; 0: the default (domain_create)
  // Injected faults written over the text before module_init runs.
  struct Patch {
    uint64_t offset;
    std::vector<uint8_t> bytes;
    bool transient;
  };
  std::vector<Patch> patches;
  // Values for the parameters the driver declares (module_param).
  std::vector<ParamArg> params;
  // The environment the POSIX personality's getenv reads.
  std::map<std::string, std::string> env;
  // A program's argv, argv[0] first (the load option argv).
  std::vector<std::string> argv;
  // The PCI addresses of the devices it holds (the load option devices).
  std::vector<std::string> devices;
};

Domain *load_driver(const std::string &path, const LoadOptions &opts);
// What load_driver checks of the file at path before it loads it (ELF,
// kernel-API version, symbols, text, params against the declarations),
// without loading it: throws the LoadError load_driver would.
void check_driver_file(const std::string &path, const std::vector<ParamArg> &params);
// Runs module_exit (if the driver is running), releases everything, unloads.
// What a shadow parked for d fails with it, unless a fallback driver takes
// d's place (`fallback`, loaded already): then it waits for that driver.
void unload_driver(Domain *d, const Domain *fallback = nullptr);
// The part of d's start (module_init, a constructor) or exit (module_exit, an atexit handler, a destructor)
// that faulted on this thread, as its part word says (<nooks/thread_area.h>; a POSIX driver's
// nooks_posix_start and nooks_posix_stop write it before each part): for the load's, the restart's and the
// unload's messages.
const char *driver_part_that_faulted(Domain *d, bool starting);

}  // namespace nooks
