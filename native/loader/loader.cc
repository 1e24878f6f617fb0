#include "loader.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include <nooks/abi.h>
#include <nooks/kapi.h>
#include <nooks/tls.h>
#include <nooks/thread_area.h>

#include "../dev/bus.h"
#include "../kapi/log.h"
#include "../kapi/subsystems.h"
#include "../posix/program.h"
#include "../posix/program_signals.h"
#include "../recovery/left_running.h"
#include "../recovery/recovery.h"
#include "../shadow/shadow.h"
#include "../shadow/taps.h"
#include "../xpc/claim_hold.h"
#include "../xpc/xpc.h"
#include "elf_check.h"
#include "symtab.h"
#include "text_patch.h"

namespace nooks {

extern const int kKapiCount;
extern const char *const kKapiNames[];

namespace {

// The kernel-API version the driver was built against, from the notes
// <nooks/kapi.h> stamps into every object that includes it (in the image's
// PT_NOTE segments, which elf_check has walked): each must be this kernel's.
// false for a driver with none (built without the header): it loads with a warning.
bool check_abi(const DriverImage &img, const std::string &path, Refusals *refused) {
  const Elf64_Phdr *ph = img.ph();
  bool stamped = false;
  for (int i = 0; i < img.eh()->e_phnum; i++) {
    if (ph[i].p_type != PT_NOTE) continue;
    const uint8_t *notes = img.at<uint8_t>(ph[i].p_offset, ph[i].p_filesz);
    if (!notes) throw LoadError("ENOTELF", path + ": truncated note segment");
    for (uint64_t o = 0; o + sizeof(Elf64_Nhdr) <= ph[i].p_filesz;) {
      const Elf64_Nhdr *n = (const Elf64_Nhdr *)(notes + o);
      uint64_t name_at = o + sizeof(Elf64_Nhdr), desc_at = name_at + ((n->n_namesz + 3ull) & ~3ull);
      uint64_t next = desc_at + ((n->n_descsz + 3ull) & ~3ull);
      if (next > ph[i].p_filesz) throw LoadError("ENOTELF", path + ": malformed note segment");
      o = next;
      if (n->n_namesz != sizeof("nooks") || memcmp(notes + name_at, "nooks", sizeof("nooks")) ||
          n->n_type != NOOKS_NOTE_KAPI_VERSION)
        continue;
      std::string version((const char *)notes + desc_at, strnlen((const char *)notes + desc_at, n->n_descsz));
      if (version != NOOKS_KAPI_VERSION)
        refused->add("EABI", "built against kernel API " + version + ", this kernel has " + NOOKS_KAPI_VERSION +
                                 ": rebuild the driver against this nooks (nooks build)");
      stamped = true;
    }
  }
  return stamped;
}

// Every undefined symbol must be a kernel call (the kernel API or the POSIX
// personality's); anything else (libc above all) is a driver bug: all of them
// are named, as outside the personality too when the driver has it linked in.
// Also checks that module_init is there.
void check_symbols(const DriverImage &img, Refusals *refused) {
  std::set<std::string> kapi(kKapiNames, kKapiNames + kKapiCount);
  std::vector<std::string> libc, unknown;
  bool has_init = false, has_personality = false;
  const Elf64_Sym *syms = img.syms();
  for (uint64_t s = 1; s < img.nsyms; s++) {
    const char *name = img.name_of(syms[s]);
    if (!*name) continue;
    if (syms[s].st_shndx != SHN_UNDEF) {
      if (!strcmp(name, "nooks_module_init")) has_init = true;
      if (!strcmp(name, "nooks_posix_personality")) has_personality = true;
      continue;
    }
    if (kapi.count(name)) continue;
    // thread-local storage's accessor and variables, which ETLS names already; the start files' weak imports, which ECTOR does
    if ((!strcmp(name, "__tls_get_addr") || ELF64_ST_TYPE(syms[s].st_info) == STT_TLS) && refused->has("ETLS")) continue;
    if (img.start_files && start_files_import(name)) continue;
    bool in_host = dlsym(RTLD_DEFAULT, name) != nullptr;
    // a weak import that nothing defines stays 0 (the driver tests it); one the host defines would bind to the host's code
    if (ELF64_ST_BIND(syms[s].st_info) == STB_WEAK && !in_host) continue;
    (in_host ? libc : unknown).push_back(name);
  }
  // a C++ driver's names demangled: what it used of libstdc++.so beyond the header-only part it is served
  auto is_cxx = [](const std::vector<std::string> &v) {
    for (auto &n : v)  // a C++ name, or one of the C++ ABI's (__cxa_atexit, __gxx_personality_v0, _Unwind_Resume)
      if (!n.compare(0, 2, "_Z") || !n.compare(0, 6, "__cxa_") || !n.compare(0, 6, "__gxx_") || !n.compare(0, 8, "_Unwind_")) return true;
    return false;
  };
  const bool cxx = is_cxx(libc) || is_cxx(unknown);
  const std::string in_libc = readable_names(libc), unresolved = readable_names(unknown);
  const std::string cxx_note = cxx ? "; a C++ driver is served only the header-only part of the C++ library, without exceptions or "
                                     "RTTI (docs/drivers.md, C++ drivers): not std::string, iostream, std::thread"
                                   : "";
  if (!libc.empty())
    refused->add("ELIBC", "the driver calls functions outside the nooks kernel API" +
                              (has_personality ? " and outside the POSIX personality (" + in_libc +
                                                     "); not provided to drivers: docs/drivers.md, \"Unmodified C: the POSIX personality\", lists what is"
                                               : " (" + in_libc +
                                                     "); drivers may only use the kernel API of <nooks/kapi.h> and the class "
                                                     "headers, or, built with nooks build --posix, the C library subset of "
                                                     "the POSIX personality") +
                              cxx_note);
  if (!unknown.empty()) refused->add("EUNRESOLVED", "unresolved symbols: " + unresolved + cxx_note);
  if (!has_init) refused->add("ENOINIT", "no module_init (nooks_module_init is not exported)");
}

// The bytes dlopen maps from the file for PT_LOAD p, at page_down(p_vaddr):
// whole pages, so the file's bytes around the segment's own too (zeros past
// the file's end), but for the rest of its last page up to p_memsz, which
// glibc zeroes.
std::vector<uint8_t> mapped_file_pages(const DriverImage &img, const Elf64_Phdr &p) {
  const uint64_t lo = page_down(p.p_vaddr), data_end = p.p_vaddr + p.p_filesz, hi = page_up(data_end);
  const uint64_t from = page_down(p.p_offset);  // elf_check: p_vaddr and p_offset agree modulo the page
  std::vector<uint8_t> pages(hi - lo, 0);
  memcpy(pages.data(), img.bytes.data() + from, std::min<uint64_t>(pages.size(), img.bytes.size() - from));
  std::fill(pages.begin() + (data_end - lo), pages.begin() + (std::min<uint64_t>(hi, p.p_vaddr + p.p_memsz) - lo), 0);
  return pages;
}

// WRPKRU (0f 01 ef) would let the driver open any domain; XRSTOR (0f ae /5,
// memory form) can load PKRU too; WRFSBASE/WRGSBASE could point the crossing
// at a thread context of the driver's making. Refuse text that contains any:
// all the executable memory as mapped, whole pages, those of adjacent
// segments as one run (a sequence may straddle them).
void scan_text(const DriverImage &img, Refusals *refused) {
  const Elf64_Phdr *ph = img.ph();
  std::vector<uint8_t> run;
  std::vector<std::pair<size_t, const Elf64_Phdr *>> parts;  // where in the run each segment's pages start
  auto scan = [&]() {
    long k = pkru_sequence_at(run.data(), run.size());
    if (k < 0) return false;
    size_t j = parts.size() - 1;
    while (parts[j].first > (size_t)k) j--;
    char msg[64];
    snprintf(msg, sizeof msg, " at file offset 0x%lx", (unsigned long)(page_down(parts[j].second->p_offset) + (k - parts[j].first)));
    refused->add("EWRPKRU", std::string("the driver's code contains a ") + pkru_sequence_name(run.data() + k) + " instruction sequence" +
                                msg + ", which could change protection keys; refused");
    return true;
  };
  uint64_t run_end = 0;
  for (int i = 0; i < img.eh()->e_phnum; i++) {
    if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X)) continue;
    // zero pages (past the file's bytes) between two segments end a run: every sequence's bytes are nonzero
    if (!run.empty() && page_down(ph[i].p_vaddr) != run_end) {
      if (scan()) return;
      run.clear();
      parts.clear();
    }
    std::vector<uint8_t> pages = mapped_file_pages(img, ph[i]);
    parts.push_back({run.size(), &ph[i]});
    run.insert(run.end(), pages.begin(), pages.end());
    run_end = page_up(ph[i].p_vaddr + ph[i].p_filesz);
  }
  scan();
}

// The pages of the image loaded at base that stay writable (PT_LOAD with PF_W, above
// the RELRO part): its data, as the load records it in Domain::segments; the
// PT_LOAD each is in.
std::vector<std::pair<Range, const Elf64_Phdr *>> writable_pages(const DriverImage &img, uintptr_t base) {
  const Elf64_Phdr *ph = img.ph();
  uintptr_t relro_end = 0;
  for (int i = 0; i < img.eh()->e_phnum; i++)
    if (ph[i].p_type == PT_GNU_RELRO) relro_end = page_up(base + ph[i].p_vaddr + ph[i].p_memsz);
  std::vector<std::pair<Range, const Elf64_Phdr *>> pages;
  for (int i = 0; i < img.eh()->e_phnum; i++) {
    if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_W)) continue;
    uintptr_t lo = base + ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
    uintptr_t wlo = std::max(page_down(lo), relro_end), whi = page_up(hi);
    if (wlo < whi) pages.push_back({{wlo, whi}, &ph[i]});
  }
  return pages;
}

// Records the image's ranges and tags its writable, non-RELRO pages.
void map_segments(Domain *d, const DriverImage &img, uintptr_t base) {
  const Elf64_Phdr *ph = img.ph();
  for (int i = 0; i < img.eh()->e_phnum; i++) {
    if (ph[i].p_type != PT_LOAD) continue;
    uintptr_t lo = base + ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
    // what the kernel may read for the driver (its strings): what the driver can read itself
    if (ph[i].p_flags & (PF_R | PF_W)) d->readable.push_back({lo, hi});
    if (ph[i].p_flags & PF_X) d->text.push_back({lo, hi});
    if (ph[i].p_flags & PF_X) g_backend.adopt_image(d, page_down(lo), page_up(hi), page_up(hi), PROT_READ | PROT_EXEC, d->path);
  }
  for (auto [w, p] : writable_pages(img, base)) {
    const uintptr_t wlo = w.lo, whi = w.hi;
    // Above the file's bytes: .bss, zero pages ld.so mapped and nothing has touched.
    uintptr_t file_hi = std::clamp(page_up(base + p->p_vaddr + p->p_filesz), wlo, whi);
    g_backend.adopt_image(d, wlo, whi, file_hi, PROT_READ | PROT_WRITE, d->path);
    d->tag((void *)wlo, whi - wlo);
    d->segments.push_back({{wlo, whi}, std::vector<uint8_t>((const uint8_t *)wlo, (const uint8_t *)file_hi)});
  }
}

// A POSIX driver's thread-local storage described to its personality
// (<nooks/tls.h>), before its data's clean copy is taken: a restart keeps it.
void describe_tls(Domain *d, const DriverImage &img, uintptr_t base) {
  if (img.tls.p_type != PT_TLS) return;
  auto *tls = (struct nooks_tls_image *)dlsym(d->handle, "nooks_posix_tls");  // elf_check found it defined
  bool in_data = false;
  for (auto [w, p] : writable_pages(img, base)) in_data |= w.contains((uintptr_t)tls, sizeof *tls);
  size_t module = 0;
  if (!in_data) throw LoadError("ENOTELF", d->path + ": malformed driver file: nooks_posix_tls is not in its writable data");
  if (dlinfo(d->handle, RTLD_DI_TLS_MODID, &module) != 0 || !module)
    throw LoadError("ETLS", d->path + ": the dynamic loader gave its thread-local storage no module id");
  *tls = {module, base + img.tls.p_vaddr, img.tls.p_filesz, img.tls.p_memsz, img.tls_reserved};
}

// Where section `name` is in the loaded image: its offset from the load base
// and its size (0 when the driver has none).
std::pair<uint64_t, size_t> find_section(const DriverImage &img, const char *name) {
  const Elf64_Ehdr *eh = img.eh();
  const Elf64_Shdr *sh = img.at<Elf64_Shdr>(eh->e_shoff, eh->e_shnum);
  if (eh->e_shstrndx >= eh->e_shnum) return {0, 0};
  const Elf64_Shdr &names = sh[eh->e_shstrndx];
  for (int i = 0; i < eh->e_shnum; i++) {
    const char *n = img.at<char>(names.sh_offset + sh[i].sh_name, strlen(name) + 1);
    if (n && sh[i].sh_name < names.sh_size && !memcmp(n, name, strlen(name) + 1)) return {sh[i].sh_addr, sh[i].sh_size};
  }
  return {0, 0};
}

// Bytes of the image's writable segments (.data, .bss; whole pages): they count toward memLimitBytes.
size_t static_bytes(const DriverImage &img) {
  const Elf64_Phdr *ph = img.ph();
  size_t n = 0;
  for (int i = 0; i < img.eh()->e_phnum; i++)
    if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_W)) n += page_up(ph[i].p_vaddr + ph[i].p_memsz) - page_down(ph[i].p_vaddr);
  return n;
}

// The driver file at path, checked as far as it can be without loading it; *stamped: see check_abi.
// A malformed file is refused at once; any other refusal after every check, with all the others.
DriverImage checked_image(const std::string &path, bool *stamped) {
  Refusals refused;
  DriverImage img = read_driver_image(path, &refused);
  *stamped = check_abi(img, path, &refused);
  check_symbols(img, &refused);
  scan_text(img, &refused);
  refused.throw_any(path);
  return img;
}

}  // namespace

void check_driver_file(const std::string &path, const std::vector<ParamArg> &params) {
  bool stamped;
  DriverImage img = checked_image(path, &stamped);
  std::vector<ModuleParam> declared;
  auto [at, size] = find_section(img, ".nooks_params");
  std::vector<Range> data;
  for (auto [w, p] : writable_pages(img, 0)) data.push_back(w);
  if (size) params_declared_in_file(img, path, at, size, data, &declared);
  params_check(path, declared, params);
}

const char *driver_part_that_faulted(Domain *d, bool starting) {
  static const char *const parts[] = {nullptr, "an atexit handler", "a destructor", "a constructor"};  // [NOOKS_PART_...]
  const char *entry = starting ? "module_init" : "module_exit";
  DomainThread *dt = thread_ctx()->dts[d->id];
  if (!dt) return entry;
  uint64_t part;
  {
    DomainMemoryAccess access;
    part = *(volatile uint64_t *)(dt->area() + NOOKS_PART_OFFSET);
  }
  return part != NOOKS_PART_ENTRY && part < sizeof parts / sizeof *parts ? parts[part] : entry;  // the driver's to scribble on
}

// Why the image `handle` is still loaded when its domain is unloaded but kept
// (domain_keep) for threads left running at its teardown; "" otherwise.
static std::string kept_for_threads(void *handle) {
  std::lock_guard<std::mutex> g(g_domains_lock);  // the last of those threads may free the domain meanwhile
  for (Domain *d : g_domains)
    if (d && d->handle == handle && d->state.load() == DomainState::unloaded)
      return "unloaded, but its domain is kept until " + left_running_labels(d) +
             ", left running at its teardown in a kernel call that has not returned, ends (docs/recovery.md, \"A thread left running\")";
  return "";
}

// Whether dlopen mapped (at lm) the file the checks read (img): the same
// program headers, so the same segments in the same places, and in each
// read-only segment (the code, the constants, the dynamic symbols) the same
// bytes. A file renamed over between the reading and dlopen (a rebuild) would
// otherwise run one build's code under another's checks and function names.
// By content, not by inode: on overlayfs a mapping shows another inode than
// stat does.
static bool mapped_as_read(const DriverImage &img, const link_map *lm) {
  struct Mapped {
    const link_map *lm;
    const ElfW(Phdr) *ph = nullptr;
    int n = 0;
  } mapped{lm};
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *p) {
        Mapped *m = static_cast<Mapped *>(p);
        if (info->dlpi_addr != m->lm->l_addr || info->dlpi_name != m->lm->l_name) return 0;
        m->ph = info->dlpi_phdr;
        m->n = info->dlpi_phnum;
        return 1;
      },
      &mapped);
  const Elf64_Phdr *ph = img.ph();
  if (!mapped.ph || mapped.n != img.eh()->e_phnum || memcmp(mapped.ph, ph, mapped.n * sizeof *ph) != 0) return false;
  for (int i = 0; i < mapped.n; i++) {
    // what relocations never write; a segment without PF_R cannot be read (nor executed: elf_check refuses PF_X
    // without PF_R)
    if (ph[i].p_type != PT_LOAD || (ph[i].p_flags & PF_W) || !(ph[i].p_flags & PF_R)) continue;
    const std::vector<uint8_t> file = mapped_file_pages(img, ph[i]);  // whole pages: their executable tails too
    if (memcmp(file.data(), (const void *)(lm->l_addr + page_down(ph[i].p_vaddr)), file.size()) != 0) return false;
  }
  return true;
}

Domain *load_driver(const std::string &path, const LoadOptions &opts) {
  bool stamped;
  DriverImage img = checked_image(path, &stamped);
  if (!stamped)
    klog(4, "%s: carries no kernel-API version (not built with <nooks/kapi.h>?): loaded without the check",
         path.c_str());
  size_t statics = static_bytes(img);
  if (statics >= opts.mem_limit)
    throw LoadError("EMEMLIMIT", path + ": its static data (.data and .bss: " + std::to_string(statics) +
                                     " bytes) leaves no heap within memLimitBytes " + std::to_string(opts.mem_limit));
  if (void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD)) {
    std::string kept = kept_for_threads(h);
    dlclose(h);
    throw LoadError("ELOADED", path + ": " + (kept.empty() ? "this driver is already loaded (one domain per driver file)" : kept));
  }
  Domain *d = domain_create(opts.name, path, opts.time_budget_ms, opts.mem_limit, statics, opts.dma_bytes);
  d->env = opts.env;
  d->argv = opts.argv;
  d->tls_reserved = img.tls_reserved;
  d->devices = opts.devices;
  taps_reset(d);
  d->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!d->handle) {
    std::string err = dlerror();
    domain_destroy(d);
    throw LoadError("EDLOPEN", path + ": " + err);
  }
  d->functions = FunctionTable(img);
  // Loaded, nothing of it run yet: undone by unmapping it and its domain.
  auto refuse = [&](const LoadError &e) {
    recovery_release_objects(d);  // the devices it holds (load option devices)
    domain_destroy(d);
    throw e;
  };
  link_map *lm = nullptr;
  dlinfo(d->handle, RTLD_DI_LINKMAP, &lm);
  if (!mapped_as_read(img, lm))
    refuse(LoadError("ELOAD", path + ": the file changed while it was being loaded (a build wrote it meanwhile?); load it again"));
  try {
    DomainMemoryAccess access;
    describe_tls(d, img, lm->l_addr);
    map_segments(d, img, lm->l_addr);
    auto [params, params_size] = find_section(img, ".nooks_params");
    if (params_size) params_declare(d, lm->l_addr + params, params_size);
    params_give(d, opts.params);
  } catch (const LoadError &e) {
    refuse(e);
  }
  if (std::string why; !params_apply(d, &why)) refuse(LoadError("EPARAM", path + ": " + why));
  for (const LoadOptions::Patch &p : opts.patches) {
    std::string why;
    if (text_patch(d, p.offset, p.bytes.data(), p.bytes.size(), p.transient, &why)) continue;
    char at[32];
    snprintf(at, sizeof at, " at text offset 0x%lx: ", (unsigned long)p.offset);
    refuse(LoadError("EPATCH", path + ": cannot inject" + at + why));
  }
  // a driver of the POSIX personality enters and leaves through it: its constructors and destructors run around them
  void *posix_start = dlsym(d->handle, "nooks_posix_start"), *posix_stop = dlsym(d->handle, "nooks_posix_stop");
  d->init = (int (*)())(posix_start ? posix_start : dlsym(d->handle, "nooks_module_init"));
  d->exit = (void (*)())(posix_stop ? posix_stop : dlsym(d->handle, "nooks_module_exit"));
  // the symbol table says where they are: it must be the driver's code
  if (!d->in_text((uintptr_t)d->init) || (d->exit && !d->in_text((uintptr_t)d->exit)))
    refuse(LoadError("ENOINIT", path + ": module_init or module_exit is not in the driver's code"));
  d->program_main = posix_program_main(d);
  const void *runner = dlsym(d->handle, "nooks_batch_run");
  if (runner && d->in_text((uintptr_t)runner)) d->batch_runner = runner;
  std::string held_code, why_not;
  if (why_not = bus_hold_devices(d, &held_code); !why_not.empty()) refuse(LoadError(held_code, path + ": " + why_not));
  std::string no_host;
  if (!g_backend.start(d, &no_host)) refuse(LoadError("EHOST", path + ": " + no_host));
  signals_reset(d);  // the slot's last driver's signals are not this one's
  XpcCall c{(const void *)d->init, {}, 0};
  Fault f;
  EnterResult r = xpc_call(d, &c, &f);
  if (r == EnterResult::ok && (int)c.ret == 0) {
    d->state.store(DomainState::running);
    posix_program_start(d);
    return d;
  }
  std::string code = r == EnterResult::fault ? "EINITFAULT" : "EINITFAILED", why;
  LogEvent event;
  if (r == EnterResult::fault) {
    fault_describe(&f);
    why = std::string(driver_part_that_faulted(d, true)) + " faulted: " + f.message;
    event = {"init-faulted", {{"driver", d->name}, {"fault", fault_kind_name(f.kind)}}};
  } else {
    why = "module_init returned " + errno_named((int)c.ret);
    event = {"init-failed", {{"driver", d->name}, {"returned", (int)c.ret}}};
    mark_failed(d);
  }
  // the driver's own failure, as a fault at run time is logged: programs tell it from a refused file by its event
  klog_line(3, d->name, why + "; not loaded", std::move(event));
  recovery_forget(d);
  domain_destroy(d);
  throw LoadError(code, path + ": " + why);
}

void unload_driver(Domain *d, const Domain *fallback) {
  d->unloading.store(true);  // its teardown leaves what else the classes keep for it to the give-up or hand-over below
  d->shadowed.store(false);  // nothing parks past this: a failure from now on drops what it releases
  if (d->state.load() == DomainState::running && d->exit) {
    XpcCall c{(const void *)d->exit, {}, 0};
    Fault f;
    if (xpc_call(d, &c, &f) == EnterResult::fault) {  // contained; the unload goes on, but not in silence
      fault_describe(&f);
      klog_line(3, d->name, std::string(driver_part_that_faulted(d, false)) + " faulted: " + f.message + "; unloaded anyway",
                {"exit-faulted", {{"driver", d->name}, {"fault", fault_kind_name(f.kind)}}});
    }
  }
  drop_failure_claim_hold_for_test(d);  // holdFailureClaim left armed: the mark below would wait in it 10 s
  mark_failed(d);  // refuse new entries while everything is released
  recovery_forget(d);
  // Whatever no teardown released (nothing, unless one was skipped): the id is reused, and a device held by d
  // must not pass to the next driver in its slot.
  recovery_release_objects(d);
  // Only now, with every teardown of d over, has the ledger all that d's load parked (a failure's
  // teardown that found d shadowed may have been parking on the recovery thread until now).
  if (fallback) shadow_hand_over(*d, *fallback);  // it waits for the fallback: its give-up ends it, or its run without it
  else shadow_give_up(d, d->name + " was unloaded");
  d->state.store(DomainState::unloaded);
  domain_destroy(d);
}

}  // namespace nooks
