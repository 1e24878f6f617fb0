// Unit test of the MMIO trap's handler side and stub (mmio.cc,
// mmio_x86_64.S) outside the kernel, under ASan and UBSan: this program's
// SIGSEGV handler calls mmio_trap for a load in a trapped page; the stub's
// kernel call, nooks_mmio_emulate, is this file's: it first wrecks every
// register a callee may (vector and mask registers, MXCSR, the x87 control
// word, the flags), as the kernel's code may, then performs the load on a
// buffer. Every register must come back as the driver had it, but the load's
// destination. And a trapped load makes no system call but the signal
// return: a child process under a seccomp filter that refuses any other
// (mmio_trap once called sigaltstack on every access).
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>

#include "../../domain/domain.h"
#include "../mmio.h"
#include "../x86_decode.h"

using namespace nooks;

// Only the failure messages read the driver's text: none here.
bool nooks::Domain::in_text(uintptr_t) const { return false; }

extern "C" const uint8_t nooks_mmio_vectors;

namespace {

struct State {
  uint64_t gpr_in[16], gpr_out[16], rflags_out;
  uint32_t mxcsr_in, mxcsr_out;
  uint16_t fcw_in, fcw_out;
  uint8_t pad[44];
  uint8_t vec_in[32][64], vec_out[32][64];
  uint64_t k_in[8], k_out[8];
  uint32_t level;
};
static_assert(offsetof(State, vec_in) == 320 && offsetof(State, k_in) == 4416 && offsetof(State, level) == 4544);

uint8_t *trapped;
uint8_t backing[4096];
int failures;
stack_t signal_stack;  // the handler's (SA_ONSTACK)
bool refused_off_stack;

void check(bool ok, const char *what) {
  if (ok) return;
  fprintf(stderr, "stub: %s\n", what);
  failures++;
}

void on_segv(int, siginfo_t *si, void *ucv) {
  // Off its signal stack (here: none given) the handler's frame could be where the trap's frame goes: refused.
  refused_off_stack = !mmio_trap(static_cast<ucontext_t *>(ucv), 0, 0, stack_t{});
  if ((uintptr_t)si->si_addr - (uintptr_t)trapped >= 4096 || !mmio_trap(static_cast<ucontext_t *>(ucv), 0, 0, signal_stack)) {
    static const char msg[] = "stub: a fault mmio_trap did not take\n";
    if (write(2, msg, sizeof msg - 1)) _exit(2);
    _exit(2);
  }
}

int *syscall_made;  // shared with the child that makes the trapped loads under seccomp

// Not _exit: the sanitizers' interceptor of it makes system calls (the leak check).
[[noreturn]] void exit_group(int code) {
  syscall(SYS_exit_group, code);
  __builtin_unreachable();
}

void on_sigsys(int, siginfo_t *si, void *) {
  *syscall_made = si->si_syscall;
  exit_group(3);
}

}  // namespace

extern "C" {
void trapped_load_keeping_all(State *s);
void wreck_caller_saved_state(unsigned level);

// The kernel call, here: what the kernel's code may do to registers, then the access.
void nooks_mmio_emulate(nooks_mmio_frame *f) {
  wreck_caller_saved_state(nooks_mmio_vectors);
  X86Access a = mmio_access_of(f);
  uint64_t off = f->addr - (uintptr_t)trapped, v = 0;
  check(!a.store && a.width == 4 && off == 0x10 && a.reg == 13, "the frame describes the load");
  memcpy(&v, backing + off, a.width);
  f->gpr[a.reg] = x86_load_result(a, f->gpr[a.reg], v);
}
}

// The first system call that n trapped loads made but rt_sigreturn (a
// handler's return), in a child whose every other call but exit_group raises
// SIGSYS; 0: none; -1: the child ended otherwise.
static int syscall_in_trapped_loads(State *s, int n) {
  syscall_made = (int *)mmap(nullptr, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pid_t child = fork();
  if (child == 0) {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSYS, &sa, nullptr);
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) exit_group(4);
    for (int i = 0; i < n; i++) trapped_load_keeping_all(s);
    exit_group(0);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status) == 0 ? 0 : WEXITSTATUS(status) == 3 ? *syscall_made : -1;
}

int main() {
  trapped = (uint8_t *)mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  // As the kernel's threads and the driver host's twins have it: the trap's frame goes on the interrupted stack.
  signal_stack.ss_size = 1 << 16;
  signal_stack.ss_sp = mmap(nullptr, signal_stack.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  sigaltstack(&signal_stack, nullptr);
  struct sigaction sa {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, nullptr);
  for (unsigned i = 0; i < sizeof backing; i++) backing[i] = (uint8_t)(i * 7 + 1);

  static State s;  // 4.5 KiB: not on the stack the trap's frame goes on
  s.level = nooks_mmio_vectors;
  for (int r = 0; r < 16; r++) s.gpr_in[r] = 0x0101010101010101ull * (r + 1);
  s.gpr_in[15] = (uint64_t)trapped;
  s.mxcsr_in = 0x1f80;  // the default: round to nearest
  s.fcw_in = 0x037f;
  for (int i = 0; i < 32; i++)
    for (int j = 0; j < 64; j++) s.vec_in[i][j] = (uint8_t)(i * 64 + j);
  for (int k = 1; k < 8; k++) s.k_in[k] = 0x1111111111111111ull * k;
  trapped_load_keeping_all(&s);

  uint32_t loaded;
  memcpy(&loaded, backing + 0x10, 4);
  char what[64];
  for (int r = 0; r < 16; r++) {
    if (r == kRsp) continue;
    snprintf(what, sizeof what, "register %d", r);
    check(s.gpr_out[r] == (r == 13 ? loaded : s.gpr_in[r]), what);
  }
  check(refused_off_stack, "mmio_trap refuses a handler off its signal stack");
  check(s.rflags_out & 1, "the carry flag");
  check(s.mxcsr_out == s.mxcsr_in, "MXCSR");
  check(s.fcw_out == s.fcw_in, "the x87 control word");
  int regs = s.level == 2 ? 32 : 16, bytes = s.level == 2 ? 64 : s.level == 1 ? 32 : 16;
  for (int i = 0; i < regs; i++) {
    snprintf(what, sizeof what, "vector register %d", i);
    check(!memcmp(s.vec_in[i], s.vec_out[i], bytes), what);
  }
  if (s.level == 2)
    for (int k = 1; k < 8; k++) check(s.k_out[k] == s.k_in[k], "a mask register");
  constexpr int kLoads = 1000;
  int made = syscall_in_trapped_loads(&s, kLoads);
  snprintf(what, sizeof what, "no system call in trapped loads (made: %d%s)", made, made == SYS_sigaltstack ? ", sigaltstack" : "");
  check(made == 0, what);
  if (failures) {
    fprintf(stderr, "stub: %d checks failed\n", failures);
    return 1;
  }
  printf("stub: every register kept across a trapped load (vector level %u: %d registers of %d bytes)\n", s.level, regs, bytes);
  printf("stub: %d trapped loads, no system call but the signal return\n", kLoads);
  printf("stub: all checks passed\n");
  return 0;
}
