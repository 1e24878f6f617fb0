#include "mmio.h"

#include <signal.h>

#include <nooks/kapi.h>

#include <cstddef>
#include <cstdio>

#include "../domain/domain.h"
#include "mmio_layout.h"
#include "x86_decode.h"

extern "C" void nooks_mmio_stub();

static_assert(offsetof(nooks_mmio_frame, vector) == MF_FXSAVE && MF_OPMASK + 64 <= sizeof(nooks_mmio_frame::vector));
static_assert(offsetof(nooks_mmio_frame, gpr) == MF_GPR && offsetof(nooks_mmio_frame, rflags) == MF_GPR + 128 &&
              offsetof(nooks_mmio_frame, resume_sp) == MF_GPR + 136 && sizeof(nooks_mmio_frame) == MF_GPR + 144);

// Which vector registers the stub keeps: 0, what fxsave holds (x87, MXCSR,
// xmm0-15); 1, ymm0-15 too; 2, zmm0-31 and k0-7 too (kmovq needs AVX512BW).
// The kernel call's code (glibc's string functions) may use them all.
extern "C" __attribute__((visibility("hidden"))) const uint8_t nooks_mmio_vectors = [] {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return 2;
  return __builtin_cpu_supports("avx") ? 1 : 0;
}();

namespace nooks {

// Below a leaf function's rsp, the 128 bytes it may use without moving rsp: never written here.
constexpr uint64_t kRedZone = 128;

bool mmio_trap(ucontext_t *uc, uintptr_t stack_lo, uintptr_t stack_hi, const stack_t &signal_stack) {
  // The frame goes below the driver's stack pointer, where the kernel put this
  // handler's own frame and the saved registers unless it runs on its signal
  // stack: where this frame is tells (sigaltstack would cost a system call per access).
  if ((uintptr_t)__builtin_frame_address(0) - (uintptr_t)signal_stack.ss_sp >= signal_stack.ss_size) return false;
  mcontext_t &mc = uc->uc_mcontext;
  auto *rip = (const uint8_t *)mc.gregs[REG_RIP];
  X86Access a;
  if (!x86_decode(rip, 15, &a)) return false;
  uint64_t regs[16];
  x86_regs_from(mc, regs);
  uint64_t next = (uint64_t)rip + a.length;
  // The stub leaves with `ret $128`: the next instruction's address goes just below the red zone, the frame below it.
  uint64_t resume_sp = regs[kRsp] - kRedZone - 8;
  uint64_t frame = (resume_sp - sizeof(nooks_mmio_frame)) & ~(uint64_t)63;
  if (stack_hi && (frame < stack_lo || regs[kRsp] > stack_hi || frame > resume_sp)) return false;  // a wrecked stack pointer
  auto *f = (nooks_mmio_frame *)frame;
  f->addr = x86_address(a, regs, next);
  f->value = a.store ? x86_store_value(a, regs) : 0;
  f->rip = (uint64_t)rip;
  f->width = a.width;
  f->store = a.store;
  f->reg = a.store ? 0 : (uint8_t)a.reg;
  f->high8 = a.high8;
  f->dest_width = a.dest_width;
  f->extend = (uint8_t)a.extend;
  for (int r = 0; r < 16; r++) f->gpr[r] = regs[r];
  f->rflags = (uint64_t)mc.gregs[REG_EFL];
  f->resume_sp = resume_sp;
  *(uint64_t *)resume_sp = next;
  mc.gregs[REG_RSP] = (greg_t)frame;
  mc.gregs[REG_RIP] = (greg_t)nooks_mmio_stub;
  return true;
}

X86Access mmio_access_of(const volatile nooks_mmio_frame *f) {
  X86Access a;
  a.width = f->width;
  a.store = f->store;
  a.reg = (int8_t)(f->reg & 15);
  a.high8 = f->high8;
  a.dest_width = f->dest_width;
  a.extend = f->extend == 2 ? X86Extend::sign : f->extend == 1 ? X86Extend::zero : X86Extend::none;
  return a;
}

std::string mmio_instruction(Domain *d, uintptr_t ip) {
  uint8_t code[15];
  size_t n = 0;
  while (n < sizeof code && d && d->in_text(ip + n)) {
    code[n] = *(const uint8_t *)(ip + n);
    n++;
  }
  if (!n) return "(outside the driver's code)";
  X86Access a;
  size_t shown = x86_decode(code, n, &a) ? a.length : n < 8 ? n : 8;
  std::string s;
  char hex[4];
  for (size_t i = 0; i < shown; i++) {
    snprintf(hex, sizeof hex, i ? " %02x" : "%02x", code[i]);
    s += hex;
  }
  return s;
}

}  // namespace nooks
