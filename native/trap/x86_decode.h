// Decoding the x86-64 instructions compilers emit for volatile loads and
// stores (mov, mov of an immediate, movzx, movsx, movsxd, movnti), for the
// MMIO trap (mmio.cc): where the access goes, how wide it is, which register
// it reads or writes. Anything else is refused. Pure functions, async-signal-safe.
#pragma once
#include <sys/ucontext.h>

#include <cstddef>
#include <cstdint>

namespace nooks {

// Registers in the encoding's order (ModRM/SIB numbers, REX-extended); kRip
// and kNoReg are only an operand's base or index.
enum X86Reg : int8_t { kRax, kRcx, kRdx, kRbx, kRsp, kRbp, kRsi, kRdi, kR8, kR15 = 15, kRip = 16, kNoReg = -1 };
enum class X86Extend : uint8_t { none, zero, sign };

struct X86Access {
  uint8_t length = 0;  // bytes of the instruction
  uint8_t width = 0;   // bytes of memory read or written: 1, 2, 4 or 8
  bool store = false;
  // The memory operand: base + index * scale + disp (base kRip: the next instruction's address).
  int8_t base = kNoReg, index = kNoReg;
  uint8_t scale = 1;
  int32_t disp = 0;
  // A store's source or a load's destination: `reg` (high8: AH, CH, DH or BH),
  // or for a store the immediate, already extended to `width`.
  int8_t reg = kNoReg;
  bool high8 = false, has_imm = false;
  uint64_t imm = 0;
  // A load: the destination's width (1, 2, 4, 8) and how the value is extended to it.
  uint8_t dest_width = 0;
  X86Extend extend = X86Extend::none;
};

// The instruction at `code`, reading at most `avail` bytes (and never more
// than 15, an instruction's limit, nor past the last byte of the instruction);
// false if it is not one of the forms above with a memory operand.
bool x86_decode(const uint8_t *code, size_t avail, X86Access *a);
// The operand's address, given the registers (encoding order) and the next instruction's address.
uint64_t x86_address(const X86Access &a, const uint64_t regs[16], uint64_t next_rip);
// A store's value (the low `width` bytes matter).
uint64_t x86_store_value(const X86Access &a, const uint64_t regs[16]);
// The destination register's value after a load read `value` (its low `width` bytes) into it, `old` before.
uint64_t x86_load_result(const X86Access &a, uint64_t old, uint64_t value);

// Where register `reg` (encoding order) is in a signal's context (gregs[]).
int x86_greg(int reg);
// The general registers of a signal's context, in the encoding's order.
void x86_regs_from(const mcontext_t &mc, uint64_t regs[16]);

}  // namespace nooks
