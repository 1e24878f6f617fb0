// A driver's own functions by address, from its file's full symbol table
// (.symtab): the static ones too, which dladdr, reading only the dynamic
// symbols, cannot name. For fault messages and the loader's refusals.
#pragma once
#include <cstdint>
#include <string>

namespace nooks {

// The function of the driver file at `path` holding `vaddr` (an address
// relative to its load base) and, in *start, where it begins; empty when none
// does or the file has no .symtab (stripped) or cannot be read.
std::string function_at(const std::string &path, uint64_t vaddr, uint64_t *start);

// A symbol as a person reads it: a C++ driver's mangled name demangled
// (_ZN3drv6Device4pokeEPVl: drv::Device::poke(long volatile*)), any other as it is.
std::string readable_name(const std::string &symbol);

}  // namespace nooks
