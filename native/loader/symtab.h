// A driver's own functions by address, from its file's full symbol table
// (.symtab): the static ones too, which dladdr, reading only the dynamic
// symbols, cannot name. For fault messages and the loader's refusals. Read
// from the image the loader checked and mapped, at load: the file may be
// rebuilt or replaced since (an edit-build-reload loop does that), and its
// names would then be another build's.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nooks {

struct DriverImage;

class FunctionTable {
 public:
  FunctionTable() = default;
  // img's STT_FUNC symbols; none when it has no .symtab (stripped).
  explicit FunctionTable(const DriverImage &img);
  // The function holding `vaddr` (an address relative to the load base) and,
  // in *start, where it begins; empty when none does.
  std::string at(uint64_t vaddr, uint64_t *start) const;

 private:
  // Kept for the driver's life (a driver may have 100k functions): the names
  // in one string, each ended by a NUL; the functions by start, searched at a
  // fault.
  struct Function {
    uint64_t start, size;
    uint32_t name;  // offset in names_
  };
  std::vector<Function> functions_;
  std::string names_;
};

// A symbol as a person reads it: a C++ driver's mangled name demangled
// (_ZN3drv6Device4pokeEPVl: drv::Device::poke(long volatile*)), any other as it is.
std::string readable_name(const std::string &symbol);

// Symbols as a person reads them, comma-separated: the first 32 (each
// demangling may take milliseconds), then how many more.
std::string readable_names(const std::vector<std::string> &symbols);

}  // namespace nooks
