// Unit tests of the MMIO trap's decoder (x86_decode.cc): the accesses of
// accesses.c, as gcc compiled them, run against a page that traps; this
// program's own handler decodes each one, checks the address it computes
// against the fault's, and emulates it on a plain buffer, as the kernel's trap
// does on a device model. Then random bytes: the decoder never crashes and
// never reads past 15 bytes nor past the instruction it decodes.
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "../x86_decode.h"

using namespace nooks;

extern "C" {
__attribute__((aligned(4096))) volatile uint8_t mmio_page[4096];
}

namespace {

uint8_t backing[4096];  // what the "device" holds
struct Access {
  unsigned off, width;
  bool store;
};
Access last;
int accesses, failures;

void die(const char *what, const uint8_t *rip) {
  fprintf(stderr, "decode: %s at %p: %02x %02x %02x %02x %02x %02x %02x %02x\n", what, (const void *)rip, rip[0], rip[1],
          rip[2], rip[3], rip[4], rip[5], rip[6], rip[7]);
  _exit(2);
}

void on_segv(int, siginfo_t *si, void *ucv) {
  auto *uc = static_cast<ucontext_t *>(ucv);
  auto *rip = (const uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
  uintptr_t page = (uintptr_t)mmio_page, fault = (uintptr_t)si->si_addr;
  if (fault - page >= sizeof mmio_page) die("a fault outside the trapped page", rip);
  X86Access a;
  if (!x86_decode(rip, 15, &a)) die("cannot decode", rip);
  uint64_t regs[16];
  x86_regs_from(uc->uc_mcontext, regs);
  uint64_t next = (uint64_t)rip + a.length, addr = x86_address(a, regs, next);
  if (addr != fault) die("computed another address than the fault's", rip);
  unsigned off = (unsigned)(addr - page);
  if (off + a.width > sizeof backing) die("an access past the page", rip);
  if (a.store) {
    uint64_t v = x86_store_value(a, regs);
    memcpy(backing + off, &v, a.width);
  } else {
    uint64_t v = 0;
    memcpy(&v, backing + off, a.width);
    greg_t &dst = uc->uc_mcontext.gregs[x86_greg(a.reg)];
    dst = (greg_t)x86_load_result(a, (uint64_t)dst, v);
  }
  last = {off, a.width, a.store};
  accesses++;
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)next;
}

void check(bool ok, const char *variant, const char *what) {
  if (ok) return;
  fprintf(stderr, "decode: %s: %s\n", variant, what);
  failures++;
}

template <typename T>
T at(unsigned off) {
  T v;
  memcpy(&v, backing + off, sizeof v);
  return v;
}

// One compiled copy of accesses.c.
struct Variant {
  const char *name;
  uint8_t (*ld8)(volatile uint8_t *);
  uint16_t (*ld16)(volatile uint16_t *);
  uint32_t (*ld32)(volatile uint32_t *);
  uint64_t (*ld64)(volatile uint64_t *);
  int64_t (*lds8)(volatile int8_t *);
  int64_t (*lds16)(volatile int16_t *);
  int64_t (*lds32)(volatile int32_t *);
  uint64_t (*ldz8)(volatile uint8_t *);
  uint64_t (*ldz16)(volatile uint16_t *);
  int32_t (*lds8to32)(volatile int8_t *);
  void (*st8)(volatile uint8_t *, uint8_t);
  void (*st16)(volatile uint16_t *, uint16_t);
  void (*st32)(volatile uint32_t *, uint32_t);
  void (*st64)(volatile uint64_t *, uint64_t);
  void (*sti8)(volatile uint8_t *);
  void (*sti16)(volatile uint16_t *);
  void (*sti32)(volatile uint32_t *);
  void (*sti64)(volatile uint64_t *);
  uint32_t (*ldidx)(volatile uint32_t *, long);
  void (*stidx)(volatile uint64_t *, long, uint64_t);
  uint32_t (*ldfar)(volatile uint32_t *);
  uint32_t (*ldglobal)();
  void (*stglobal)(uint32_t);
  uint32_t (*ldgidx)(long);
  void (*ntst32)(volatile uint32_t *, uint32_t);
  void (*ntst64)(volatile uint64_t *, uint64_t);
  uint64_t (*many)(volatile uint32_t *);
};

#define ACCESSES(S, X)                                                                                                    \
  X(S, ld8) X(S, ld16) X(S, ld32) X(S, ld64) X(S, lds8) X(S, lds16) X(S, lds32) X(S, ldz8) X(S, ldz16) X(S, lds8to32)    \
  X(S, st8) X(S, st16) X(S, st32) X(S, st64) X(S, sti8) X(S, sti16) X(S, sti32) X(S, sti64) X(S, ldidx) X(S, stidx)    \
  X(S, ldfar) X(S, ldglobal) X(S, stglobal) X(S, ldgidx) X(S, ntst32) X(S, ntst64) X(S, many)
// Each copy's functions, by the names SUFFIX gave them.
#define DECLARE(S, f) extern "C" std::remove_pointer_t<decltype(Variant::f)> f##S##_fn __asm__(#f #S);
#define FIELD(S, f) , f##S##_fn
ACCESSES(_O0, DECLARE)
ACCESSES(_O2, DECLARE)
ACCESSES(_nopie, DECLARE)

void fill() {
  for (unsigned i = 0; i < sizeof backing; i++) backing[i] = (uint8_t)(0x80 | (i * 37 + 11));  // sign bits set
}

void run(const Variant &v) {
  const char *n = v.name;
  auto p8 = (volatile uint8_t *)mmio_page;
  auto p16 = (volatile uint16_t *)mmio_page;
  auto p32 = (volatile uint32_t *)mmio_page;
  auto p64 = (volatile uint64_t *)mmio_page;
  fill();
  check(v.ld8(p8) == backing[1] && last.off == 1 && last.width == 1 && !last.store, n, "ld8");
  check(v.ld16(p16) == at<uint16_t>(6) && last.width == 2, n, "ld16");
  check(v.ld32(p32) == at<uint32_t>(20) && last.width == 4, n, "ld32");
  check(v.ld64(p64) == at<uint64_t>(56) && last.width == 8, n, "ld64");
  check(v.lds8((volatile int8_t *)p8) == at<int8_t>(9), n, "movsx from 8 bits");
  check(v.lds16((volatile int16_t *)p8) == at<int16_t>(20), n, "movsx from 16 bits");
  check(v.lds32((volatile int32_t *)p8) == at<int32_t>(44), n, "movsxd");
  check(v.ldz8(p8) == at<uint8_t>(12), n, "movzx from 8 bits");
  check(v.ldz16(p16) == at<uint16_t>(26), n, "movzx from 16 bits");
  check(v.lds8to32((volatile int8_t *)p8) == at<int8_t>(14), n, "movsx to 32 bits");
  v.st8(p8, 0xa5);
  check(backing[15] == 0xa5 && last.store && last.width == 1, n, "st8");
  v.st16(p16, 0x1234);
  check(at<uint16_t>(32) == 0x1234 && last.width == 2, n, "st16");
  v.st32(p32, 0x89abcdef);
  check(at<uint32_t>(68) == 0x89abcdef && last.width == 4, n, "st32");
  v.st64(p64, 0x0123456789abcdefull);
  check(at<uint64_t>(144) == 0x0123456789abcdefull && last.width == 8, n, "st64");
  v.sti8(p8);
  check(backing[200] == 0x5a, n, "mov m8, imm8");
  v.sti16(p16);
  check(at<uint16_t>(402) == 0xbeef && last.width == 2, n, "mov m16, imm16");
  v.sti32(p32);
  check(at<uint32_t>(808) == 0xdeadbeef, n, "mov m32, imm32");
  v.sti64(p64);
  check(at<uint64_t>(1624) == ~1ull && last.width == 8, n, "mov m64, imm32 sign-extended");
  check(v.ldidx(p32, 33) == at<uint32_t>(132) && last.off == 132, n, "load with an index");
  v.stidx(p64, 300, 77);
  check(at<uint64_t>(2416) == 77 && last.off == 2416, n, "store with an index");
  check(v.ldfar(p32) == at<uint32_t>(3600), n, "32-bit displacement");
  check(v.ldglobal() == at<uint32_t>(64), n, "load of a global");
  v.stglobal(0xfeedface);
  check(at<uint32_t>(68) == 0xfeedface, n, "store to a global");
  check(v.ldgidx(20) == at<uint32_t>(80), n, "load of a global with an index");
  v.ntst32(p32, 0x0badf00d);
  check(at<uint32_t>(160) == 0x0badf00d && last.store, n, "movnti 32");
  v.ntst64(p64, 0x1122334455667788ull);
  check(at<uint64_t>(328) == 0x1122334455667788ull && last.width == 8, n, "movnti 64");
  uint64_t want = 0, x = 0;
  static const unsigned k[14] = {1, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43};
  for (int i = 0; i < 14; i++) want += (uint64_t)at<uint32_t>(400 + 4 * i) * k[i], x ^= at<uint32_t>(400 + 4 * i);
  uint32_t a_xor_n = at<uint32_t>(400) ^ at<uint32_t>(452);
  check(v.many(p32) == want + x, n, "fourteen live loads");
  check(at<uint32_t>(456) == a_xor_n, n, "the store after them");
}

// Forms gcc seldom emits on its own: byte registers AH-BH and SIL-DIL, and
// partial (16-bit) and 32-bit destinations of r8-r15.
void run_forced() {
  const char *n = "asm";
  fill();
  uint64_t rax = 0x1111111111111111ull;
  asm volatile("movb 3(%%rsi), %%ah" : "+a"(rax) : "S"(mmio_page) : "memory");
  check(rax == (0x1111111111110011ull | (uint64_t)backing[3] << 8), n, "load into AH");
  asm volatile("movb %%ch, 7(%%rsi)" : : "c"(0x4200), "S"(mmio_page) : "memory");
  check(backing[7] == 0x42, n, "store from CH");
  uint64_t rdi = 0x2222222222222222ull;
  asm volatile("movb 1(%%rsi), %%dil" : "+D"(rdi) : "S"(mmio_page) : "memory");
  check(rdi == (0x2222222222222200ull | backing[1]), n, "load into DIL");
  register uint64_t r11 asm("r11") = 0x3333333333333333ull;
  asm volatile("movw 6(%%rsi), %%r11w" : "+r"(r11) : "S"(mmio_page) : "memory");
  check(r11 == (0x3333333333330000ull | at<uint16_t>(6)), n, "16-bit load keeps r11's upper bits");
  register uint64_t r9 asm("r9") = ~0ull;
  asm volatile("movl 20(%%rsi), %%r9d" : "+r"(r9) : "S"(mmio_page) : "memory");
  check(r9 == at<uint32_t>(20), n, "32-bit load clears r9's upper half");
  register uint64_t r14 asm("r14") = 0x5555555555555555ull;
  asm volatile("movzbw 9(%%rsi), %%r14w" : "+r"(r14) : "S"(mmio_page) : "memory");
  check(r14 == (0x5555555555550000ull | backing[9]), n, "movzx into a 16-bit register");
  register uint64_t r12 asm("r12") = 0;
  asm volatile("movsbq 9(%%rsi,%%rcx,8), %%r12" : "+r"(r12) : "S"(mmio_page), "c"(4) : "memory");
  check(r12 == (uint64_t)(int64_t)at<int8_t>(41), n, "movsx with a scaled index");
}

uint64_t rng = 0x9e3779b97f4a7c15ull;
uint64_t random64() {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}

// Random bytes, ending at a page that cannot be read: the decoder must not
// crash, read past 15 bytes, nor past the instruction it returns.
void fuzz() {
  auto *mem = (uint8_t *)mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED || mprotect(mem + 4096, 4096, PROT_NONE)) die("cannot map the fuzz pages", mem);
  static const uint8_t interesting[] = {0x66, 0x40, 0x41, 0x44, 0x48, 0x49, 0x4c, 0x4f, 0x0f, 0x88, 0x89, 0x8a, 0x8b,
                                        0xc6, 0xc7, 0x63, 0xb6, 0xb7, 0xbe, 0xbf, 0xc3, 0x04, 0x05, 0x44, 0x84, 0x25};
  uint8_t *end = mem + 4096;
  long decoded = 0;
  for (long i = 0; i < 2000000; i++) {
    unsigned len = 1 + random64() % 15;
    uint8_t *code = end - len;
    for (unsigned j = 0; j < len; j++)
      code[j] = random64() & 1 ? interesting[random64() % sizeof interesting] : (uint8_t)random64();
    // Claiming more than there is: only 15 bytes may be read even so.
    size_t avail = len == 15 ? 4096 : len;
    X86Access a;
    if (!x86_decode(code, avail, &a)) continue;
    decoded++;
    X86Access again;
    check(a.length >= 2 && a.length <= len, "fuzz", "a length within what it read");
    check(x86_decode(code, a.length, &again) && again.length == a.length && again.width == a.width, "fuzz",
          "decodes the same from its own bytes alone");
    check(!x86_decode(code, a.length - 1, &again), "fuzz", "needs every byte of its length");
    check(a.width == 1 || a.width == 2 || a.width == 4 || a.width == 8, "fuzz", "a width of 1, 2, 4 or 8");
    check(a.store || (a.reg >= 0 && a.reg < 16 && a.dest_width >= a.width), "fuzz", "a destination register");
  }
  printf("decode: fuzz: %ld of 2000000 random instructions decoded\n", decoded);
}

}  // namespace

int main() {
  struct sigaction sa {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, nullptr);
  if (mprotect((void *)mmio_page, sizeof mmio_page, PROT_NONE)) die("cannot protect the page", (const uint8_t *)mmio_page);
#define FIELDS(S) {#S ACCESSES(S, FIELD)}
  const Variant variants[] = {FIELDS(_O0), FIELDS(_O2), FIELDS(_nopie)};
  for (const Variant &v : variants) run(v);
  run_forced();
  mprotect((void *)mmio_page, sizeof mmio_page, PROT_READ | PROT_WRITE);  // LeakSanitizer reads the globals at exit
  printf("decode: %d trapped accesses emulated\n", accesses);
  fuzz();
  if (failures) {
    fprintf(stderr, "decode: %d checks failed\n", failures);
    return 1;
  }
  printf("decode: all checks passed\n");
  return 0;
}
