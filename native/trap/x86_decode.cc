#include "x86_decode.h"

namespace nooks {
namespace {

// Reads the instruction's bytes one at a time, never past `limit`.
struct Cursor {
  const uint8_t *code;
  size_t limit, at = 0;
  bool next(uint8_t *b) {
    if (at >= limit) return false;
    *b = code[at++];
    return true;
  }
  // A little-endian immediate or displacement of n bytes, sign-extended.
  bool signed_value(unsigned n, int64_t *v) {
    uint64_t u = 0;
    for (unsigned i = 0; i < n; i++) {
      uint8_t b;
      if (!next(&b)) return false;
      u |= (uint64_t)b << (8 * i);
    }
    unsigned shift = 64 - 8 * n;
    *v = (int64_t)(u << shift) >> shift;
    return true;
  }
};

constexpr uint8_t kRexW = 8, kRexR = 4, kRexX = 2, kRexB = 1;

uint64_t mask(unsigned bytes) { return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1; }

// The ModRM byte and what follows it (SIB, displacement); false for a register operand.
bool memory_operand(Cursor &c, uint8_t rex, X86Access *a) {
  uint8_t modrm;
  if (!c.next(&modrm)) return false;
  unsigned mod = modrm >> 6, rm = modrm & 7;
  if (mod == 3) return false;  // a register, not memory: it cannot have faulted on a BAR
  a->reg = (int8_t)(((modrm >> 3) & 7) | (rex & kRexR ? 8 : 0));
  unsigned disp_bytes = mod == 1 ? 1 : mod == 2 ? 4 : 0;
  if (rm == 4) {
    uint8_t sib;
    if (!c.next(&sib)) return false;
    unsigned index = ((sib >> 3) & 7) | (rex & kRexX ? 8 : 0);
    a->index = index == kRsp ? (int8_t)kNoReg : (int8_t)index;  // rsp cannot be an index: none
    a->scale = (uint8_t)(1u << (sib >> 6));
    if ((sib & 7) == 5 && mod == 0) {
      a->base = kNoReg;  // disp32 alone
      disp_bytes = 4;
    } else {
      a->base = (int8_t)((sib & 7) | (rex & kRexB ? 8 : 0));
    }
  } else if (rm == 5 && mod == 0) {
    a->base = kRip;
    disp_bytes = 4;
  } else {
    a->base = (int8_t)(rm | (rex & kRexB ? 8 : 0));
  }
  int64_t disp = 0;
  if (disp_bytes && !c.signed_value(disp_bytes, &disp)) return false;
  a->disp = (int32_t)disp;
  return true;
}

}  // namespace

bool x86_decode(const uint8_t *code, size_t avail, X86Access *out) {
  Cursor c{code, avail < 15 ? avail : 15};
  X86Access a;
  uint8_t b;
  bool opsize = false;  // 0x66: 16-bit operands
  if (!c.next(&b)) return false;
  while (b == 0x66) {
    opsize = true;
    if (!c.next(&b)) return false;
  }
  uint8_t rex = 0;
  if ((b & 0xf0) == 0x40) {
    rex = b;
    if (!c.next(&b)) return false;
  }
  unsigned wide = rex & kRexW ? 8 : opsize ? 2 : 4;  // the operand size of the non-byte forms
  bool two_byte = b == 0x0f;
  if (two_byte && !c.next(&b)) return false;
  unsigned imm_bytes = 0;
  if (!two_byte) {
    switch (b) {
      case 0x88: a.store = true; a.width = 1; break;                      // mov r/m8, r8
      case 0x89: a.store = true; a.width = (uint8_t)wide; break;          // mov r/m, r
      case 0x8a: a.width = a.dest_width = 1; break;                       // mov r8, r/m8
      case 0x8b: a.width = a.dest_width = (uint8_t)wide; break;           // mov r, r/m
      case 0xc6: a.store = a.has_imm = true; a.width = 1; imm_bytes = 1; break;  // mov r/m8, imm8
      case 0xc7:                                                           // mov r/m, imm16/32
        a.store = a.has_imm = true;
        a.width = (uint8_t)wide;
        imm_bytes = wide == 2 ? 2 : 4;
        break;
      case 0x63:  // movsxd r64, r/m32
        if (!(rex & kRexW) || opsize) return false;
        a.width = 4;
        a.dest_width = 8;
        a.extend = X86Extend::sign;
        break;
      default: return false;
    }
  } else {
    switch (b) {
      case 0xb6: case 0xb7: case 0xbe: case 0xbf:  // movzx / movsx r, r/m8 or r/m16
        a.width = b & 1 ? 2 : 1;
        a.dest_width = (uint8_t)wide;
        a.extend = b & 8 ? X86Extend::sign : X86Extend::zero;
        break;
      case 0xc3:  // movnti m32/m64, r
        if (opsize) return false;
        a.store = true;
        a.width = (uint8_t)wide;
        break;
      default: return false;
    }
  }
  if (!memory_operand(c, rex, &a)) return false;
  if (a.has_imm) {
    if ((a.reg & 7) != 0) return false;  // C6 /0 and C7 /0 only
    a.reg = kNoReg;
    int64_t imm;
    if (!c.signed_value(imm_bytes, &imm)) return false;
    a.imm = (uint64_t)imm & mask(a.width);
  } else if (a.width == 1 && a.dest_width <= 1 && !rex && a.reg >= kRsp && a.reg <= kRdi) {
    // Byte registers 4-7 without a REX prefix are AH, CH, DH, BH.
    a.high8 = true;
    a.reg = (int8_t)(a.reg - kRsp);
  }
  a.length = (uint8_t)c.at;
  *out = a;
  return true;
}

uint64_t x86_address(const X86Access &a, const uint64_t regs[16], uint64_t next_rip) {
  uint64_t addr = (uint64_t)(int64_t)a.disp;
  if (a.base == kRip) addr += next_rip;
  else if (a.base != kNoReg) addr += regs[a.base];
  if (a.index != kNoReg) addr += regs[a.index] * a.scale;
  return addr;
}

uint64_t x86_store_value(const X86Access &a, const uint64_t regs[16]) {
  if (a.has_imm) return a.imm;
  uint64_t v = regs[a.reg];
  return (a.high8 ? v >> 8 : v) & mask(a.width);
}

uint64_t x86_load_result(const X86Access &a, uint64_t old, uint64_t value) {
  value &= mask(a.width);
  if (a.extend == X86Extend::sign && a.width < 8) {
    unsigned shift = 64 - 8 * a.width;
    value = (uint64_t)((int64_t)(value << shift) >> shift);
  }
  switch (a.dest_width) {
    case 1: return a.high8 ? (old & ~0xff00ull) | (value & 0xff) << 8 : (old & ~0xffull) | (value & 0xff);
    case 2: return (old & ~0xffffull) | (value & 0xffff);
    case 4: return value & 0xffffffffull;  // a 32-bit destination clears the upper half
    default: return value;
  }
}

int x86_greg(int reg) {
  static const int gregs[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
  return gregs[reg & 15];
}

void x86_regs_from(const mcontext_t &mc, uint64_t regs[16]) {
  for (int r = 0; r < 16; r++) regs[r] = (uint64_t)mc.gregs[x86_greg(r)];
}

}  // namespace nooks
