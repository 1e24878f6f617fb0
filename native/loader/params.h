// Load parameters (module_param in nooks/kapi.h): what a driver declares in
// its section .nooks_params, the values the host gives at load, checked
// against the declarations, and written into the driver before each run of
// its module_init (at load and after every recovery).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../domain/domain.h"
#include "elf_check.h"

namespace nooks {

// A value from the host, as JavaScript gave it.
struct ParamArg {
  enum class Kind { integer, boolean, string, other } kind;
  std::string name;
  int64_t integer = 0;
  bool exact = true;  // integer: a whole number inside the 64-bit range
  std::string text;   // string
  std::string shown;  // the value as JavaScript would print it (for messages)
};

// Reads the driver's declarations from the loaded section [lo, lo+size)
// into d->params. Throws LoadError EPARAM for a malformed one.
void params_declare(Domain *d, uintptr_t lo, size_t size);
// The declarations of a driver file not loaded: its section .nooks_params at
// [vaddr, vaddr+size) of img, its data at `data` (addresses as in the file).
// Throws LoadError EPARAM for a malformed one, as params_declare would.
void params_declared_in_file(const DriverImage &img, const std::string &path, uint64_t vaddr, size_t size,
                             const std::vector<Range> &data, std::vector<ModuleParam> *params);
// Checks `given` against the declared params of the driver at path and records
// the values. Throws LoadError EPARAM naming the parameter (an unknown name
// lists the declared ones).
void params_check(const std::string &path, std::vector<ModuleParam> &params, const std::vector<ParamArg> &given);
// params_check on d's.
void params_give(Domain *d, const std::vector<ParamArg> &given);
// Writes the given values into the driver's variables (charp: a string in its
// heap). The loader calls it before module_init, recovery after resetting the
// driver's data. false, with why, if the domain's heap cannot hold a string.
bool params_apply(Domain *d, std::string *why);

}  // namespace nooks
