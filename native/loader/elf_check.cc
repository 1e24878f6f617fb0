#include "elf_check.h"

#include "symtab.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include <nooks/tls.h>

#include "../kapi/log.h"
#include "loader.h"

namespace nooks {

namespace {

const uint64_t kPage = 4096;
const uint64_t kMaxVaddr = 1ull << 47;  // user address space: nothing maps above it
// An image beyond this is a damaged size, not a driver (its static data must
// also fit memLimitBytes: checked when its domain is made).
const uint64_t kMaxSpan = 64ull << 30;
const int kMaxPhnum = 256;
// The whole file is read into the host's memory to be checked: a driver is
// KiBs (the largest built here, about 100 KiB), so a file past this is not
// one, and reading it could exhaust the host (a sparse file costs no disk).
const uint64_t kMaxFileBytes = 256ull << 20;

[[noreturn]] void malformed(const std::string &path, const std::string &what) {
  throw LoadError("ENOTELF", path + ": malformed driver file: " + what);
}

// Only a regular file can be a driver: a directory would fail in the
// reading, a FIFO (opened without waiting for a writer) or a device like
// /dev/zero would never end.
DriverImage read_file(const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) throw LoadError("ENOENT", path + ": no such driver file");
    throw LoadError(errno == EACCES ? "EACCES" : "ENOENT", path + ": cannot read the driver file: " + strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    if (S_ISDIR(st.st_mode)) throw LoadError("EISDIR", path + ": is a directory, not a driver file");
    throw LoadError("ENOTELF", path + ": not a regular file, so not a driver");
  }
  if ((uint64_t)st.st_size > kMaxFileBytes) {
    close(fd);
    throw LoadError("ENOTELF", path + ": the file is " + std::to_string(st.st_size) +
                                   " bytes, larger than any driver (at most " +
                                   std::to_string(kMaxFileBytes >> 20) + " MiB); not read");
  }
  DriverImage img;
  img.bytes.resize(st.st_size);
  size_t got = 0;
  while (got < img.bytes.size()) {
    ssize_t n = read(fd, img.bytes.data() + got, img.bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += n;
  }
  close(fd);
  img.bytes.resize(got);
  return img;
}

// The dynamic entries a driver may have (with their names); any other is refused.
const std::map<int64_t, std::string> kSupportedTags = {
    {DT_SONAME, "DT_SONAME"},     {DT_HASH, "DT_HASH"},         {DT_GNU_HASH, "DT_GNU_HASH"}, {DT_STRTAB, "DT_STRTAB"},
    {DT_SYMTAB, "DT_SYMTAB"},     {DT_STRSZ, "DT_STRSZ"},       {DT_SYMENT, "DT_SYMENT"},     {DT_PLTGOT, "DT_PLTGOT"},
    {DT_PLTRELSZ, "DT_PLTRELSZ"}, {DT_PLTREL, "DT_PLTREL"},     {DT_JMPREL, "DT_JMPREL"},     {DT_RELA, "DT_RELA"},
    {DT_RELASZ, "DT_RELASZ"},     {DT_RELAENT, "DT_RELAENT"},   {DT_RELACOUNT, "DT_RELACOUNT"}, {DT_FLAGS, "DT_FLAGS"},
    {DT_FLAGS_1, "DT_FLAGS_1"},   {DT_BIND_NOW, "DT_BIND_NOW"}, {DT_SYMBOLIC, "DT_SYMBOLIC"},
};

// Why thread-local storage that would live with the host's threads is
// refused; `what` says where the driver has it.
std::string tls_refusal(const std::string &what) {
  return "the driver has thread-local storage (" + what + "), which would live with the host's threads, outside any "
         "domain; refused (built with nooks build --posix, a driver has its own __thread variables per thread in its "
         "domain; never one it does not define)";
}

bool tls_relocation(uint32_t type) {
  return type == R_X86_64_DTPMOD64 || type == R_X86_64_DTPOFF64 || type == R_X86_64_TPOFF64 || type == R_X86_64_TPOFF32 ||
         type == R_X86_64_TLSDESC;
}

// What dlopen will read of the image, checked field by field; what it would
// refuse to run is added to `refused` and the checking goes on.
class Checker {
 public:
  Checker(DriverImage &img, const std::string &path, Refusals *refused) : img_(img), path_(path), refused_(*refused) {}

  void run() {
    header();
    segments();
    dynamic();
    tables();
    // the POSIX personality serves a driver's own __thread variables (its tls.c defines nooks_posix_tls)
    if (img_.tls.p_type == PT_TLS && !defines("nooks_posix_tls")) tls("__thread, _Thread_local: PT_TLS");
    load_time_code();
    // glibc applies the first DT_RELACOUNT of DT_RELA as R_X86_64_RELATIVE, asserting they are
    if (tag(DT_RELACOUNT) > tag(DT_RELASZ) / sizeof(Elf64_Rela)) malformed(path_, "DT_RELACOUNT exceeds DT_RELASZ");
    relocations(tag(DT_RELA), tag(DT_RELASZ), tag(DT_RELACOUNT), "DT_RELA");
    relocations(tag(DT_JMPREL), tag(DT_PLTRELSZ), 0, "DT_JMPREL");
    if (!tls_.empty()) refused_.add("ETLS", tls_refusal(tls_));
    tls_block();
    img_.nrela = tag(DT_RELASZ) / sizeof(Elf64_Rela);
    if (img_.nrela) img_.rela_offset = table(tag(DT_RELA), tag(DT_RELASZ), alignof(Elf64_Rela), "DT_RELA");
  }

 private:
  DriverImage &img_;
  const std::string &path_;
  Refusals &refused_;
  std::vector<const Elf64_Phdr *> loads_;
  const Elf64_Phdr *dyn_ = nullptr;
  bool stack_ = false;  // a PT_GNU_STACK seen
  std::map<int64_t, uint64_t> tags_;  // the last entry of each tag wins, as in glibc
  std::vector<uint64_t> needed_;       // DT_NEEDED names (string table offsets)
  int64_t ctor_ = 0;                   // a constructor or destructor tag
  bool init_ = false, fini_ = false;   // DT_INIT, DT_FINI
  // Where the driver has thread-local storage, each variable once: its own
  // (PT_TLS) and those it takes from elsewhere (errno), refused as one ETLS.
  std::string tls_;
  std::set<std::string> tls_variables_;

  void tls(const std::string &where) { tls_ += (tls_.empty() ? "" : "; ") + where; }

  bool defines(const char *name) const {
    const Elf64_Sym *s = img_.syms();
    for (uint64_t i = 1; i < img_.nsyms; i++)
      if (s[i].st_shndx != SHN_UNDEF && !strcmp(img_.name_of(s[i]), name)) return true;
    return false;
  }

  // A thread-local-storage relocation: the general- and local-dynamic
  // models' (DTPMOD64, DTPOFF64) for the driver's own variables are served;
  // the rest addresses TLS of the host's threads.
  void tls_relocation_of(uint32_t type, uint64_t sym, const std::string &which) {
    const Elf64_Sym &s = img_.syms()[sym];
    std::string name = sym ? img_.name_of(s) : "";
    std::string variable = sym ? "the __thread variable " + name : "a __thread variable";
    if (type == R_X86_64_TPOFF64 || type == R_X86_64_TPOFF32) {
      refused_.add("ETLS", "the driver has thread-local storage of the initial-exec model (" + which + ", for " + variable +
                               "), which addresses the host thread's own TLS, outside any domain; refused (build it "
                               "with -fPIC and without -ftls-model=initial-exec or tls_model(\"initial-exec\"), as "
                               "nooks build --posix does: the general- and local-dynamic models are served per driver thread)",
                   "initial-exec");
    } else if (type == R_X86_64_TLSDESC) {
      refused_.add("ETLS", "the driver reaches thread-local storage through TLS descriptors (" + which + ", for " + variable +
                               "), which glibc resolves to the host thread's own TLS, outside any domain; refused (build it "
                               "with -mtls-dialect=gnu, as nooks build --posix does)",
                   "tlsdesc");
    } else if (sym ? s.st_shndx == SHN_UNDEF && tls_variables_.insert(name).second : img_.tls.p_type != PT_TLS && tls_.empty()) {
      tls(which + ", for " + variable);  // another library's variable (errno), or own variables without a PT_TLS to hold them
    }
  }

  // The block each driver thread gets for the driver's own variables (<nooks/tls.h>): its size, within bounds.
  void tls_block() {
    const Elf64_Phdr &t = img_.tls;
    if (t.p_type != PT_TLS) return;
    uint64_t align = std::max<uint64_t>(t.p_align, 1);
    // the personality copies its initial values from the loaded image
    const Elf64_Phdr *init = t.p_filesz ? segment_of(t.p_vaddr, t.p_filesz, true) : nullptr;
    if ((align & (align - 1)) != 0 || t.p_filesz > t.p_memsz || (t.p_filesz && (!init || !readable(init))))
      malformed(path_, "PT_TLS has bad sizes, or its initial values lie outside the loaded segments");
    bool fits = t.p_memsz <= NOOKS_TLS_MAX_BYTES && align <= NOOKS_TLS_MAX_ALIGN;
    if (fits) img_.tls_reserved = (t.p_memsz + align - 1) & ~(align - 1);
    if (!fits || img_.tls_reserved > NOOKS_TLS_MAX_BYTES)
      refused_.add("ETLS", "the driver's thread-local storage (PT_TLS) is " + std::to_string(t.p_memsz) + " bytes aligned to " +
                               std::to_string(align) + ", which each of its threads would take from its 256 KiB stack; refused "
                               "(at most " + std::to_string(NOOKS_TLS_MAX_BYTES) + " bytes aligned to at most " +
                               std::to_string(NOOKS_TLS_MAX_ALIGN) + ": keep large per-thread data on the heap, its pointer in a __thread variable)",
                   "size");
  }

  uint64_t tag(int64_t t) const {
    auto i = tags_.find(t);
    return i == tags_.end() ? 0 : i->second;
  }

  void header() {
    const Elf64_Ehdr *eh = img_.at<Elf64_Ehdr>(0);
    if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0) throw LoadError("ENOTELF", path_ + ": not an ELF file");
    if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64 ||
        eh->e_type != ET_DYN)
      throw LoadError("ENOTELF", path_ + ": not an x86-64 shared object");
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || !img_.ph() || !img_.at<Elf64_Shdr>(eh->e_shoff, eh->e_shnum))
      throw LoadError("ENOTELF", path_ + ": truncated ELF headers");
    if (eh->e_phoff % alignof(Elf64_Phdr) != 0) malformed(path_, "the program headers are misaligned");
    // the section headers are read as Elf64_Shdr (.nooks_params, function names), as lib/elf.ts reads them
    if (eh->e_shnum && eh->e_shentsize != sizeof(Elf64_Shdr)) malformed(path_, "the section headers' size (e_shentsize) is not 64");
    // glibc copies them (and one record per PT_LOAD) onto the stack of the thread that loads
    if (eh->e_phnum > kMaxPhnum) malformed(path_, std::to_string(eh->e_phnum) + " program headers (a driver has about 10)");
  }

  // The PT_LOAD whose memory holds [vaddr, vaddr+size) (`file`: in the part
  // read from the file), or null.
  const Elf64_Phdr *segment_of(uint64_t vaddr, uint64_t size, bool file) const {
    uint64_t end;
    if (__builtin_add_overflow(vaddr, size, &end)) return nullptr;
    for (const Elf64_Phdr *p : loads_)
      if (vaddr >= p->p_vaddr && end <= p->p_vaddr + (file ? p->p_filesz : p->p_memsz)) return p;
    return nullptr;
  }

  // File offset of the bytes dlopen maps at vaddr (inside a PT_LOAD's file part).
  uint64_t file_offset(const Elf64_Phdr *load, uint64_t vaddr) const { return load->p_offset + (vaddr - load->p_vaddr); }

  std::string segment_name(int i) const { return "program header " + std::to_string(i); }

  void segments() {
    const Elf64_Phdr *ph = img_.ph();
    for (int i = 0; i < img_.eh()->e_phnum; i++) {
      const Elf64_Phdr &p = ph[i];
      uint64_t end;
      if (p.p_type != PT_GNU_STACK && (__builtin_add_overflow(p.p_offset, p.p_filesz, &end) || end > img_.bytes.size()))
        malformed(path_, segment_name(i) + " extends past the end of the file");
      if (p.p_type == PT_INTERP)  // a position-independent program is ET_DYN too; its dynamic entries would be refused one by one
        throw LoadError("ENOTELF", path_ + ": a program (it names an interpreter, PT_INTERP), not a driver: build the "
                                           "driver as a shared object with nooks build (--posix for code written against libc)");
      if (p.p_type == PT_TLS) {
        if (img_.tls.p_type == PT_TLS) malformed(path_, "more than one PT_TLS");
        img_.tls = p;
      }
      if (p.p_type == PT_DYNAMIC) {
        if (dyn_) malformed(path_, "more than one PT_DYNAMIC");
        dyn_ = &p;
      }
      if (p.p_type == PT_GNU_STACK) stack(p);
      if (p.p_type != PT_LOAD) continue;
      // code that could rewrite itself would write what the scan for WRPKRU (loader.cc) never read
      if ((p.p_flags & PF_W) && (p.p_flags & PF_X))
        malformed(path_, segment_name(i) + " (PT_LOAD) is both writable and executable: code that could rewrite itself "
                                           "past the loader's checks of it");
      // the check that the file mapped is the file checked (ELOAD, loader.cc mapped_as_read) reads the code's pages
      if ((p.p_flags & PF_X) && !(p.p_flags & PF_R))
        malformed(path_, segment_name(i) + " (PT_LOAD) is executable but not readable: the loader could not compare the "
                                           "code mapped with the code it checked");
      if (p.p_memsz == 0 || p.p_filesz > p.p_memsz || p.p_vaddr >= kMaxVaddr || p.p_memsz > kMaxVaddr - p.p_vaddr)
        malformed(path_, segment_name(i) + " (PT_LOAD) has bad sizes");
      // the file bytes at p_offset are what glibc maps at p_vaddr
      if ((p.p_vaddr - p.p_offset) % kPage != 0) malformed(path_, segment_name(i) + " (PT_LOAD) is not page-aligned");
      // glibc reserves the span from the first segment to the last: out of order, one would land outside it
      if (!loads_.empty() && p.p_vaddr / kPage < (loads_.back()->p_vaddr + loads_.back()->p_memsz + kPage - 1) / kPage)
        malformed(path_, segment_name(i) + " (PT_LOAD) overlaps or precedes the one before it");
      loads_.push_back(&p);
    }
    if (loads_.empty()) malformed(path_, "no PT_LOAD segment");
    if (!stack_) stack({});
    if (loads_.back()->p_vaddr + loads_.back()->p_memsz - loads_.front()->p_vaddr > kMaxSpan)
      malformed(path_, "the segments span more than 64 GiB");
    bool phdr = false;
    for (int i = 0; i < img_.eh()->e_phnum; i++) {
      const Elf64_Phdr &p = ph[i];
      switch (p.p_type) {
        case PT_GNU_RELRO:  // made read-only after relocation
        case PT_GNU_EH_FRAME:
          if (!segment_of(p.p_vaddr, p.p_memsz, false)) malformed(path_, segment_name(i) + " lies outside the loaded segments");
          break;
        case PT_PHDR:  // glibc reads the program headers there (_dl_find_object)
          phdr = true;
          if (p.p_offset != img_.eh()->e_phoff || p.p_filesz != img_.eh()->e_phnum * sizeof(Elf64_Phdr))
            malformed(path_, "PT_PHDR does not describe the program headers");
          mapped_as_in_file(p, i);
          break;
        case PT_NOTE:
        case PT_GNU_PROPERTY:
          mapped_as_in_file(p, i);
          notes(p, i);
          break;
        case PT_DYNAMIC:
          mapped_as_in_file(p, i);
          if (p.p_offset % alignof(Elf64_Dyn) != 0) malformed(path_, "PT_DYNAMIC is misaligned");
          // glibc adjusts the entries in place, and no relocation may rewrite them (below)
          if (!(segment_of(p.p_vaddr, p.p_memsz, true)->p_flags & PF_W))
            malformed(path_, "PT_DYNAMIC is not in a writable segment");
          break;
      }
    }
    if (!dyn_) malformed(path_, "no PT_DYNAMIC");
    if (!phdr) program_headers_in_memory();
  }

  // glibc makes every thread's stack in the process executable for a module
  // whose PT_GNU_STACK has PF_X, or that has none (the default on x86-64).
  void stack(const Elf64_Phdr &p) {
    stack_ = true;
    if (p.p_type == PT_GNU_STACK && !(p.p_flags & PF_X)) return;
    throw LoadError("ENOTELF", path_ + ": the driver asks for an executable stack (" +
                                   (p.p_type == PT_GNU_STACK ? "its PT_GNU_STACK has PF_X" : "it has no PT_GNU_STACK") +
                                   "), which glibc would give every thread of the host; link it with -z noexecstack, as "
                                   "nooks build does (an assembly source without .section .note.GNU-stack makes one)");
  }

  // A segment glibc reads both from the file and from memory: both must be the same bytes.
  void mapped_as_in_file(const Elf64_Phdr &p, int i) const {
    const Elf64_Phdr *load = segment_of(p.p_vaddr, p.p_memsz, true);
    if (!load || !readable(load) || p.p_filesz != p.p_memsz || file_offset(load, p.p_vaddr) != p.p_offset)
      malformed(path_, segment_name(i) + " lies outside the loaded, readable segments");
  }

  static bool readable(const Elf64_Phdr *load) { return load->p_flags & (PF_R | PF_W); }

  // Without PT_PHDR, glibc looks for the program headers in the mapped file
  // pages (and reads them there while dlopen runs) or copies them.
  void program_headers_in_memory() const {
    uint64_t lo = img_.eh()->e_phoff, hi = lo + img_.eh()->e_phnum * sizeof(Elf64_Phdr);
    for (const Elf64_Phdr *p : loads_) {
      uint64_t mapoff = p->p_offset / kPage * kPage, mapped = (p->p_vaddr + p->p_filesz + kPage - 1) / kPage * kPage - p->p_vaddr / kPage * kPage;
      if (mapoff > lo || mapoff + mapped < hi) continue;
      if (!readable(p)) malformed(path_, "the program headers are in a segment that is not readable");
      return;
    }
  }

  // glibc walks 4- and 8-aligned notes (ABI tag, x86 properties) trusting their sizes.
  void notes(const Elf64_Phdr &p, int i) const {
    if (p.p_align != 4 && p.p_align != 8) return;
    auto up = [&](uint64_t v) { return (v + p.p_align - 1) & ~(p.p_align - 1); };
    uint64_t at = 0;
    while (at + sizeof(Elf64_Nhdr) < p.p_filesz) {
      Elf64_Nhdr n;  // notes may be misaligned in a damaged file
      memcpy(&n, img_.bytes.data() + p.p_offset + at, sizeof n);
      uint64_t next = at + up(up(sizeof(Elf64_Nhdr) + n.n_namesz) + n.n_descsz);
      if (next > p.p_filesz) malformed(path_, "a note in " + segment_name(i) + " extends past its end");
      at = next;
    }
  }

  void dynamic() {
    const Elf64_Dyn *d = img_.at<Elf64_Dyn>(dyn_->p_offset, dyn_->p_filesz / sizeof(Elf64_Dyn));
    uint64_t n = dyn_->p_filesz / sizeof(Elf64_Dyn), k = 0;
    std::optional<int64_t> unsupported;
    for (; k < n && d[k].d_tag != DT_NULL; k++) {
      int64_t t = d[k].d_tag;
      if (t == DT_NEEDED) needed_.push_back(d[k].d_un.d_val);
      else if (ctor_name(t)) {
        ctor_ = t;
        init_ |= t == DT_INIT;
        fini_ |= t == DT_FINI;
      }
      else if (!kSupportedTags.count(t)) unsupported = unsupported.value_or(t);
      else tags_[t] = d[k].d_un.d_val;
    }
    // glibc reads entries up to DT_NULL, whatever the segment's size
    if (k == n) malformed(path_, "no DT_NULL inside PT_DYNAMIC");
    if (unsupported == DT_TEXTREL || (tag(DT_FLAGS) & DF_TEXTREL))
      throw LoadError("ENOTELF", path_ + ": the driver has text relocations (DT_TEXTREL), code the dynamic loader would "
                                         "rewrite: compile it with -fPIC (nooks build does)");
    // a library it needs brings entries of its own (symbol versions): ENEEDED, below, says what is wrong
    if (unsupported && needed_.empty()) malformed(path_, "unsupported dynamic entry (tag " + hex(*unsupported) + ")");
    // DF_STATIC_TLS: the initial-exec model, whose relocations ETLS names
    if (tag(DT_FLAGS) & ~(uint64_t)(DF_BIND_NOW | DF_SYMBOLIC | DF_STATIC_TLS))
      malformed(path_, "unsupported DT_FLAGS " + hex(tag(DT_FLAGS)));
    if (tag(DT_FLAGS_1) & ~(uint64_t)DF_1_NOW) malformed(path_, "unsupported DT_FLAGS_1 " + hex(tag(DT_FLAGS_1)));
    for (int64_t t : {DT_STRTAB, DT_SYMTAB, DT_STRSZ})
      if (!tags_.count(t)) malformed(path_, "no " + kSupportedTags.at(t));
    if (!tags_.count(DT_HASH) && !tags_.count(DT_GNU_HASH)) malformed(path_, "no symbol hash table (DT_HASH, DT_GNU_HASH)");
    // glibc dereferences these without a check, or asserts them (and exits the process) rather than failing dlopen
    if (tags_.count(DT_SYMENT) && tag(DT_SYMENT) != sizeof(Elf64_Sym)) malformed(path_, "DT_SYMENT is not 24");
    if (tags_.count(DT_RELA) && (!tags_.count(DT_RELASZ) || tag(DT_RELAENT) != sizeof(Elf64_Rela)))
      malformed(path_, "DT_RELA without DT_RELASZ and a DT_RELAENT of 24");
    if (tags_.count(DT_PLTREL) && (tag(DT_PLTREL) != DT_RELA || !tags_.count(DT_JMPREL) || !tags_.count(DT_PLTRELSZ)))
      malformed(path_, "DT_PLTREL is not DT_RELA with DT_JMPREL and DT_PLTRELSZ");
  }

  // Code that dlopen or dlclose would run in the host: other libraries (and
  // their constructors), constructors and destructors, IFUNC resolvers.
  void load_time_code() const {
    if (!needed_.empty()) {
      uint64_t name = needed_[0];
      refused_.add("ENEEDED", std::string("the driver needs the shared library ") +
                                  (name < tag(DT_STRSZ) ? (const char *)img_.bytes.data() + img_.strtab_offset + name : "?") +
                                  " (DT_NEEDED); drivers link with -nostdlib against nothing but the driver runtime: "
                                  "build it with nooks build (nooks sdk --ldflags for make)");
    }
    // crti.o's _init and _fini, with crtbeginS.o's weak imports (a driver's own
    // _init and _fini have none): cc linked its start files in (no -nostdlib),
    // code that would run in the host too: the fix is the link, not the code
    img_.start_files = init_ && fini_ && imports_start_files();
    if (img_.start_files) {
      refused_.add("ECTOR", "the driver was linked with the C compiler's start files (crti.o, crtbeginS.o: .init, .fini, "
                            ".init_array, .fini_array), code that would run in the host, outside its domain, when it is "
                            "loaded and unloaded; refused (build it with nooks build, or link it with nooks sdk --ldflags, "
                            "which has -nostdlib)", "load-time code");
    } else if (ctor_) {
      bool exit = ctor_ == DT_FINI || ctor_ == DT_FINI_ARRAY || ctor_ == DT_FINI_ARRAYSZ;
      refused_.add("ECTOR", std::string("the driver has ") + (exit ? "destructors" : "constructors") + " (" + ctor_name(ctor_) +
                                "), code that would run in the host, outside its domain, when it is " +
                                (exit ? "unloaded" : "loaded") +
                                "; refused (use module_init and module_exit, or build it with nooks build --posix, "
                                "which runs them inside the domain)", "load-time code");
    }
    const Elf64_Sym *s = img_.syms();
    std::vector<std::string> unique;
    for (uint64_t i = 0; i < img_.nsyms; i++) {
      if (s[i].st_shndx == SHN_UNDEF) continue;
      if (ELF64_ST_TYPE(s[i].st_info) == STT_GNU_IFUNC) ifunc(img_.name_of(s[i]));
      if (ELF64_ST_BIND(s[i].st_info) == STB_GNU_UNIQUE) unique.push_back(img_.name_of(s[i]));
    }
    // glibc binds every module's unique symbol to one copy (another driver's memory) and never unloads the module
    if (!unique.empty())
      refused_.add("EUNIQUE", "the driver has symbols of binding STB_GNU_UNIQUE (" + readable_names(unique) +
                                  "), which glibc shares with every module defining them, outside the driver's domain, and which "
                                  "keep it loaded for good; refused (g++ gives them to the static data of inline functions and "
                                  "templates: build it with nooks build, which passes -fno-gnu-unique)");
  }

  void ifunc(const std::string &what) const {
    refused_.add("ECTOR", what + " is an IFUNC, whose resolver would run in the host, outside the driver's domain, "
                                 "when it is loaded; refused", "ifunc");
  }

  bool imports_start_files() const {
    const Elf64_Sym *s = img_.syms();
    for (uint64_t i = 1; i < img_.nsyms; i++)
      if (s[i].st_shndx == SHN_UNDEF && start_files_import(img_.name_of(s[i]))) return true;
    return false;
  }

  static const char *ctor_name(int64_t t) {
    switch (t) {
      case DT_INIT: return ".init (DT_INIT)";
      case DT_FINI: return ".fini (DT_FINI)";
      case DT_INIT_ARRAY: case DT_INIT_ARRAYSZ: return ".init_array (DT_INIT_ARRAY)";
      case DT_FINI_ARRAY: case DT_FINI_ARRAYSZ: return ".fini_array (DT_FINI_ARRAY)";
      case DT_PREINIT_ARRAY: case DT_PREINIT_ARRAYSZ: return ".preinit_array (DT_PREINIT_ARRAY)";
      default: return nullptr;
    }
  }

  // A table dlopen reads: in the file part of a read-only PT_LOAD, so that no
  // relocation can rewrite it while glibc reads it. Its file offset.
  uint64_t table(uint64_t vaddr, uint64_t size, uint64_t align, const std::string &what) const {
    const Elf64_Phdr *p = segment_of(vaddr, size, true);
    if (!p || !readable(p) || (p->p_flags & PF_W)) malformed(path_, what + " lies outside the driver's read-only segments");
    if (vaddr % align != 0) malformed(path_, what + " is misaligned");
    return file_offset(p, vaddr);
  }

  template <class T>
  const T *array(uint64_t vaddr, uint64_t count, const std::string &what) const {
    uint64_t size;
    if (__builtin_mul_overflow(count, sizeof(T), &size)) malformed(path_, what + " is too large");
    return img_.at<T>(table(vaddr, size, alignof(T), what), count);
  }

  void tables() {
    img_.strtab_offset = table(tag(DT_STRTAB), tag(DT_STRSZ), 1, "the string table (DT_STRTAB, DT_STRSZ)");
    uint64_t strsz = tag(DT_STRSZ);
    if (strsz == 0 || img_.bytes[img_.strtab_offset + strsz - 1] != 0) malformed(path_, "the string table does not end with NUL");
    if (tags_.count(DT_SONAME) && tag(DT_SONAME) >= strsz) malformed(path_, "DT_SONAME is outside the string table");
    uint64_t nsyms = 0;
    if (tags_.count(DT_HASH)) nsyms = sysv_hash();
    if (tags_.count(DT_GNU_HASH)) nsyms = gnu_hash();  // glibc prefers it
    img_.syms_offset = table(tag(DT_SYMTAB), nsyms * sizeof(Elf64_Sym), alignof(Elf64_Sym), "the symbol table (DT_SYMTAB)");
    img_.nsyms = nsyms;
    const Elf64_Sym *s = img_.syms();
    for (uint64_t i = 0; i < nsyms; i++) {
      if (s[i].st_name >= strsz) malformed(path_, "symbol " + std::to_string(i) + " has its name outside the string table");
    }
  }

  // DT_HASH: nbucket, nchain, buckets, chains; every index below nchain, the symbol count.
  uint64_t sysv_hash() const {
    const uint32_t *h = array<uint32_t>(tag(DT_HASH), 2, "DT_HASH");
    uint64_t nbucket = h[0], nchain = h[1];
    const uint32_t *all = array<uint32_t>(tag(DT_HASH), 2 + nbucket + nchain, "DT_HASH");
    if (nbucket == 0) malformed(path_, "DT_HASH has no buckets");
    for (uint64_t i = 2; i < 2 + nbucket + nchain; i++)
      if (all[i] >= nchain) malformed(path_, "DT_HASH has a symbol index out of range");
    return nchain;
  }

  // DT_GNU_HASH: nbuckets, symbias, bloom words (a power of two), shift,
  // bloom, buckets, chains (runs of symbols, each ending with its low bit
  // set). The symbol count is one past the end of the chain that starts last.
  uint64_t gnu_hash() const {
    uint64_t at = tag(DT_GNU_HASH);
    const uint32_t *h = array<uint32_t>(at, 4, "DT_GNU_HASH");
    uint64_t nbuckets = h[0], symbias = h[1], nwords = h[2];
    if (nbuckets == 0 || nwords == 0 || (nwords & (nwords - 1)) != 0) malformed(path_, "DT_GNU_HASH has a bad header");
    const uint32_t *buckets = array<uint32_t>(at + 16, 2 * nwords + nbuckets, "DT_GNU_HASH") + 2 * nwords;
    uint64_t last = 0;
    for (uint64_t b = 0; b < nbuckets; b++) {
      if (buckets[b] != 0 && buckets[b] < symbias) malformed(path_, "DT_GNU_HASH has a bucket below its first symbol");
      last = std::max<uint64_t>(last, buckets[b]);
    }
    if (last == 0) return symbias;
    uint64_t chains_at = at + 16 + 8 * nwords + 4 * nbuckets;
    for (uint64_t i = last;; i++)
      if (*array<uint32_t>(chains_at + 4 * (i - symbias), 1, "a DT_GNU_HASH chain") & 1) return i + 1;
  }

  // Each relocation: a symbol in the table, a target in a writable segment and
  // not in the dynamic section (glibc rereads it while relocating), then a type
  // glibc applies here. Ranges first: a corrupt relocation is a malformed file
  // whatever its type says.
  void relocations(uint64_t vaddr, uint64_t size, uint64_t nrelative, const char *what) {
    if (size == 0) return;
    if (size % sizeof(Elf64_Rela) != 0) malformed(path_, std::string(what) + " size is not a multiple of 24");
    uint64_t n = size / sizeof(Elf64_Rela);
    const Elf64_Rela *r = array<Elf64_Rela>(vaddr, n, what);
    for (uint64_t i = 0; i < n; i++) {
      std::string which = std::string("relocation ") + std::to_string(i) + " of " + what;
      uint32_t type = ELF64_R_TYPE(r[i].r_info);
      uint64_t sym = ELF64_R_SYM(r[i].r_info);
      if (i < nrelative && type != R_X86_64_RELATIVE) malformed(path_, which + " is counted in DT_RELACOUNT but not relative");
      if (sym >= img_.nsyms) malformed(path_, which + " names a symbol out of range");
      uint64_t width = type == R_X86_64_TPOFF32 ? 4 : 8;
      const Elf64_Phdr *target = segment_of(r[i].r_offset, width, false);
      uint64_t end = r[i].r_offset + width;
      if (!target || !(target->p_flags & PF_W) || (end > dyn_->p_vaddr && r[i].r_offset < dyn_->p_vaddr + dyn_->p_memsz))
        malformed(path_, which + " writes outside the driver's writable data (offset " + hex(r[i].r_offset) + ")");
      // refused: dlopen never applies them
      if (type == R_X86_64_IRELATIVE) {
        ifunc(which);
      } else if (tls_relocation(type)) {
        tls_relocation_of(type, sym, which);
      } else if (type != R_X86_64_NONE && type != R_X86_64_64 && type != R_X86_64_GLOB_DAT && type != R_X86_64_JUMP_SLOT &&
                 type != R_X86_64_RELATIVE) {
        malformed(path_, which + " has unsupported type " + std::to_string(type));
      }
    }
  }
};

}  // namespace

uint64_t DriverImage::file_offset_of(uint64_t vaddr, uint64_t size) const {
  const Elf64_Phdr *p = ph();
  for (int i = 0; i < eh()->e_phnum; i++)
    if (p[i].p_type == PT_LOAD && vaddr >= p[i].p_vaddr && size <= p[i].p_filesz && vaddr - p[i].p_vaddr <= p[i].p_filesz - size)
      return p[i].p_offset + (vaddr - p[i].p_vaddr);
  return UINT64_MAX;
}

uint64_t DriverImage::pointer_at(uint64_t vaddr) const {
  const Elf64_Rela *r = at<Elf64_Rela>(rela_offset, nrela);
  // dlopen applies them in order: the last one at vaddr is what stays there.
  for (uint64_t i = nrela; r && i-- > 0;) {
    uint32_t type = ELF64_R_TYPE(r[i].r_info);
    if (r[i].r_offset != vaddr || type == R_X86_64_NONE) continue;
    if (type == R_X86_64_RELATIVE) return r[i].r_addend;
    // A symbol's address: the driver's own (a variable of default visibility),
    // or none of the driver's (also a symbol index outside the table).
    uint64_t s = ELF64_R_SYM(r[i].r_info);
    if (s >= nsyms || syms()[s].st_shndx == SHN_UNDEF) return UINT64_MAX;
    return syms()[s].st_value + (type == R_X86_64_64 ? r[i].r_addend : 0);
  }
  const uint64_t *v = at<uint64_t>(file_offset_of(vaddr, sizeof(uint64_t)));
  return v ? *v : 0;
}

DriverImage read_driver_image(const std::string &path, Refusals *refused) {
  DriverImage img = read_file(path);
  Checker(img, path, refused).run();
  return img;
}

bool start_files_import(const char *name) {
  for (const char *s : {"__cxa_finalize", "__gmon_start__", "_ITM_registerTMCloneTable", "_ITM_deregisterTMCloneTable"})
    if (!strcmp(name, s)) return true;
  return false;
}

void Refusals::add(const std::string &code, const std::string &why, const std::string &kind) {
  if (std::none_of(list_.begin(), list_.end(), [&](const Reason &r) { return r.code == code && r.kind == kind; }))
    list_.push_back({code, kind, why});
}

bool Refusals::has(const std::string &code) const {
  return std::any_of(list_.begin(), list_.end(), [&](const Reason &r) { return r.code == code; });
}

void Refusals::throw_any(const std::string &path) const {
  if (list_.empty()) return;
  static const std::vector<std::string> kMostFundamentalFirst = {"ENEEDED", "EABI", "ELIBC", "EUNRESOLVED", "ETLS",
                                                                 "ECTOR",   "EUNIQUE", "EWRPKRU", "ENOINIT"};
  auto rank = [](const std::string &code) {
    return std::find(kMostFundamentalFirst.begin(), kMostFundamentalFirst.end(), code) - kMostFundamentalFirst.begin();
  };
  std::vector<Reason> sorted = list_;
  std::stable_sort(sorted.begin(), sorted.end(), [&](const Reason &a, const Reason &b) { return rank(a.code) < rank(b.code); });
  if (sorted.size() == 1) throw LoadError(sorted[0].code, path + ": " + sorted[0].why);
  std::string all = path + ": refused for " + std::to_string(sorted.size()) + " reasons:";
  for (const Reason &r : sorted) all += "\n  " + r.why + " [" + r.code + "]";
  throw LoadError(sorted[0].code, all);
}

}  // namespace nooks
