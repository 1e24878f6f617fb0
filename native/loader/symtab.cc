#include "symtab.h"

#include <cxxabi.h>
#include <elf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "elf_check.h"

namespace nooks {

namespace {
constexpr uint64_t kLongestName = 1024;
}

FunctionTable::FunctionTable(const DriverImage &img) {
  const Elf64_Ehdr *eh = img.eh();
  const Elf64_Shdr *sh = img.at<Elf64_Shdr>(eh->e_shoff, eh->e_shnum);
  for (int i = 0; sh && i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
    const uint64_t n = sh[i].sh_size / sizeof(Elf64_Sym);
    const Elf64_Sym *syms = img.at<Elf64_Sym>(sh[i].sh_offset, n);
    const Elf64_Shdr &names = sh[sh[i].sh_link];
    const char *strings = img.at<char>(names.sh_offset, names.sh_size);
    for (uint64_t k = 0; syms && strings && k < n && names_.size() <= UINT32_MAX; k++) {
      const Elf64_Sym &s = syms[k];
      if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || !s.st_size || s.st_name >= names.sh_size) continue;
      functions_.push_back({s.st_value, s.st_size, static_cast<uint32_t>(names_.size())});
      // at most kLongestName bytes a name: many symbols may name one long string (readable_name shows 512)
      names_.append(strings + s.st_name, strnlen(strings + s.st_name, std::min<uint64_t>(names.sh_size - s.st_name, kLongestName)))
          .push_back('\0');
    }
  }
  // stable: of aliases (one start), the first in the table names the function
  std::stable_sort(functions_.begin(), functions_.end(), [](const Function &a, const Function &b) { return a.start < b.start; });
  functions_.shrink_to_fit();
  names_.shrink_to_fit();
}

std::string FunctionTable::at(uint64_t vaddr, uint64_t *start) const {
  // the nearest start at or below vaddr whose function holds it (one function's
  // symbol may sit inside another's); of aliases (one start), the first in the table
  auto f = std::upper_bound(functions_.begin(), functions_.end(), vaddr, [](uint64_t v, const Function &g) { return v < g.start; });
  auto holds = [vaddr](const Function &g) { return vaddr - g.start < g.size; };
  while (f != functions_.begin() && !holds(*(f - 1))) --f;
  if (f == functions_.begin()) return "";
  --f;
  while (f != functions_.begin() && (f - 1)->start == f->start && holds(*(f - 1))) --f;
  *start = f->start;
  return names_.c_str() + f->name;
}

std::string readable_name(const std::string &symbol) {
  // A driver's names are its own to choose: nested back-references make a
  // demangling grow about 4x per 48 bytes of name (a 470-byte one took 25 s
  // and 800 MB), so longer names are shown as they are, and every name is cut.
  constexpr size_t kLongestDemangled = 256, kLongestShown = 512;
  std::string name = symbol;
  if (!symbol.compare(0, 2, "_Z") && symbol.size() <= kLongestDemangled) {
    int status = 0;
    char *demangled = abi::__cxa_demangle(symbol.c_str(), nullptr, nullptr, &status);
    if (status == 0 && demangled) name = demangled;
    free(demangled);
  }
  if (name.size() > kLongestShown) name = name.substr(0, kLongestShown) + "...";
  return name;
}

std::string readable_names(const std::vector<std::string> &symbols) {
  constexpr size_t kNamed = 32;
  std::string s;
  for (size_t i = 0; i < symbols.size() && i < kNamed; i++) s += (s.empty() ? "" : ", ") + readable_name(symbols[i]);
  if (symbols.size() > kNamed) s += " and " + std::to_string(symbols.size() - kNamed) + " more";
  return s;
}

}  // namespace nooks
