// Reading a driver file and checking it before dlopen sees it. glibc's loader
// trusts every offset, size and index in an ELF file, so one corrupt field
// can crash the host inside dlopen; and code that runs while an object is
// opened or closed (constructors, destructors, IFUNC resolvers, the libraries
// it needs) would run in the host, outside any domain. So everything dlopen
// reads is checked to lie in the file and in the loaded segments, and
// load-time code is refused.
#pragma once
#include <elf.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nooks {

// Every reason a driver file that could be read is refused (ENEEDED, EABI,
// ELIBC, ETLS, ...), gathered so that one error names them all, each with its
// code, rather than the user mending one to learn of the next. The error's
// code is the most fundamental of them: how the driver was built (other
// libraries, another kernel API), then what it calls, then what it has.
class Refusals {
 public:
  // `why` without the path. One reason per code and kind of problem (`kind`:
  // where a code covers several, as ECTOR's constructors and IFUNCs): the
  // first; the rest would repeat it (every TLS relocation, every IFUNC).
  void add(const std::string &code, const std::string &why, const std::string &kind = "");
  bool has(const std::string &code) const;
  // The LoadError naming them all, if there is any.
  void throw_any(const std::string &path) const;

 private:
  struct Reason {
    std::string code, kind, why;
  };
  std::vector<Reason> list_;
};

struct DriverImage {
  std::vector<uint8_t> bytes;
  // The dynamic symbol table that dlopen binds (checked: every name is a
  // NUL-terminated string inside the string table).
  uint64_t syms_offset = 0, nsyms = 0, strtab_offset = 0;
  // Its relocations (DT_RELA, checked), for reading its data without loading it.
  uint64_t rela_offset = 0, nrela = 0;
  // Its PT_TLS (p_type 0: none), and the bytes of each driver thread's block for it (<nooks/tls.h>).
  Elf64_Phdr tls = {};
  uint64_t tls_reserved = 0;
  // Linked with the C compiler's start files (refused: ECTOR), which import
  // functions of libc of their own.
  bool start_files = false;

  const Elf64_Ehdr *eh() const { return (const Elf64_Ehdr *)bytes.data(); }
  const Elf64_Phdr *ph() const { return at<Elf64_Phdr>(eh()->e_phoff, eh()->e_phnum); }
  const Elf64_Sym *syms() const { return at<Elf64_Sym>(syms_offset, nsyms); }
  const char *name_of(const Elf64_Sym &s) const { return (const char *)bytes.data() + strtab_offset + s.st_name; }
  // The file offset of the `size` bytes loaded at vaddr, or past the file's end
  // (at() gives null) where they are not all read from the file.
  uint64_t file_offset_of(uint64_t vaddr, uint64_t size) const;
  // The pointer dlopen leaves at vaddr, relative to the load base: its last
  // relocation's (relative: the addend; by symbol: the driver's symbol, or
  // UINT64_MAX for one it does not define), or what the file holds there.
  uint64_t pointer_at(uint64_t vaddr) const;
  // `count` Ts at file offset `off`, or null where they would not all fit.
  template <class T>
  const T *at(uint64_t off, uint64_t count = 1) const {
    if (off > bytes.size() || count > (bytes.size() - off) / sizeof(T)) return nullptr;
    return (const T *)(bytes.data() + off);
  }
};

// The file at `path`, checked. Throws LoadError: ENOENT, EISDIR, ENOTELF (not
// an x86-64 shared object, a malformed one: the message says which field; or
// one over 256 MiB, not read).
// Adds to `refused`: ENEEDED (it needs other libraries), ECTOR (it has
// load-time code), ETLS (thread-local storage the POSIX personality cannot
// serve: any without it, another library's, the initial-exec model, TLS
// descriptors, a block over 64 KiB).
DriverImage read_driver_image(const std::string &path, Refusals *refused);

// What crtbeginS.o and crti.o import (weak) from libc, the profiler and the TM runtime.
bool start_files_import(const char *name);

}  // namespace nooks
