# Crossings between the kernel (host) and a driver's protection domain.
#
# Entry (host -> driver): save the host's callee-saved registers, switch to
# the driver's stack, switch protection (pkey: one WRPKRU), call, switch back.
# Upcall (driver -> host): every kernel call a driver makes lands here through
# its stub (gen/kapi_stubs.S, r11d = call index): switch protection back, move
# to the host stack below the entry that brought us in, run the checking
# wrapper, and return to the driver the same way.
# Landing: where a fault (or an abort) resumes a thread: restore the entry
# frame's PKRU and stack and return 1 from the entry routine.
#
# No system calls here: this is the whole cost of a pkey crossing.

#include "layout.h"

	.text

.macro SAVE_HOST
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
.endm

.macro RESTORE_HOST_AND_RETURN
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
.endm

.macro SET_PKRU_EAX
	xor %ecx, %ecx
	xor %edx, %edx
	wrpkru
.endm

.macro LOAD_ARGS_AND_CALL
	mov XC_ARGS+0(%r12), %rdi
	mov XC_ARGS+8(%r12), %rsi
	mov XC_ARGS+16(%r12), %rdx
	mov XC_ARGS+24(%r12), %rcx
	mov XC_ARGS+32(%r12), %r8
	mov XC_ARGS+40(%r12), %r9
	call *XC_FN(%r12)
.endm

# int nooks_xpc_enter_pkey(EntryFrame *f, XpcCall *c, uintptr_t stack, uint32_t pkru)
	.globl nooks_xpc_enter_pkey
	.hidden nooks_xpc_enter_pkey
	.type nooks_xpc_enter_pkey, @function
	.p2align 4
nooks_xpc_enter_pkey:
	SAVE_HOST
	mov %rsp, EF_HOST_SP(%rdi)
	mov %rdi, %rbx
	mov %rsi, %r12
	mov %rdx, %rsp
	mov %ecx, %eax
	SET_PKRU_EAX			# inside the domain: host memory is read-only now
	LOAD_ARGS_AND_CALL
	mov %rax, %r13
	mov EF_ORIG_PKRU(%rbx), %eax
	SET_PKRU_EAX
	mov EF_HOST_SP(%rbx), %rsp
	mov %r13, XC_RET(%r12)
	xor %eax, %eax
	RESTORE_HOST_AND_RETURN
	.size nooks_xpc_enter_pkey, .-nooks_xpc_enter_pkey

# int nooks_xpc_enter_plain(EntryFrame *f, XpcCall *c, uintptr_t stack)
# Stack switch only: the caller changes page protection around it (mprotect).
	.globl nooks_xpc_enter_plain
	.hidden nooks_xpc_enter_plain
	.type nooks_xpc_enter_plain, @function
	.p2align 4
nooks_xpc_enter_plain:
	SAVE_HOST
	mov %rsp, EF_HOST_SP(%rdi)
	mov %rdi, %rbx
	mov %rsi, %r12
	mov %rdx, %rsp
	LOAD_ARGS_AND_CALL
	mov EF_HOST_SP(%rbx), %rsp
	mov %rax, XC_RET(%r12)
	xor %eax, %eax
	RESTORE_HOST_AND_RETURN
	.size nooks_xpc_enter_plain, .-nooks_xpc_enter_plain

# int nooks_xpc_enter_local(EntryFrame *f, XpcCall *c)
# No switch of stack: c runs on this one, below the registers enter_plain
# saves (isolation 'process', whose driver runs elsewhere); the frame is what
# a fault unwinds to, as in the other modes.
	.globl nooks_xpc_enter_local
	.hidden nooks_xpc_enter_local
	.type nooks_xpc_enter_local, @function
	.p2align 4
nooks_xpc_enter_local:
	lea -64(%rsp), %rdx
	and $-16, %rdx
	jmp nooks_xpc_enter_plain
	.size nooks_xpc_enter_local, .-nooks_xpc_enter_local

# Resumption points, entered with rbx = the EntryFrame to return through.
	.globl nooks_xpc_landing_pkey
	.hidden nooks_xpc_landing_pkey
	.type nooks_xpc_landing_pkey, @function
	.p2align 4
nooks_xpc_landing_pkey:
	mov EF_ORIG_PKRU(%rbx), %eax	# host memory is readable from any domain
	SET_PKRU_EAX
	.globl nooks_xpc_landing_plain
	.hidden nooks_xpc_landing_plain
nooks_xpc_landing_plain:
	mov EF_HOST_SP(%rbx), %rsp
	mov $1, %eax
	RESTORE_HOST_AND_RETURN
	.size nooks_xpc_landing_pkey, .-nooks_xpc_landing_pkey

# void nooks_xpc_unwind(EntryFrame *f, void *landing): from kernel code, abandon
# every frame above f (never returns; f's entry routine returns 1).
	.globl nooks_xpc_unwind
	.hidden nooks_xpc_unwind
	.type nooks_xpc_unwind, @function
	.p2align 4
nooks_xpc_unwind:
	mov %rdi, %rbx
	jmp *%rsi
	.size nooks_xpc_unwind, .-nooks_xpc_unwind

# Upcall, pkey: r11d = call index, arguments in registers, on the driver stack.
	.globl nooks_upcall_pkey
	.hidden nooks_upcall_pkey
	.type nooks_upcall_pkey, @function
	.p2align 4
nooks_upcall_pkey:
	push %rdx			# WRPKRU needs rcx and rdx: keep arguments 3 and 4
	push %rcx
	mov nooks_tls_ctx@gottpoff(%rip), %r10
	mov %fs:(%r10), %r10		# ThreadCtx (host memory: readable here)
	mov TC_HOST_PKRU(%r10), %eax
	SET_PKRU_EAX			# kernel protection from here
	mov %rsp, %rax
	mov TC_TOP(%r10), %r10
	mov EF_HOST_SP(%r10), %rsp	# kernel code never runs on a driver stack
	push %rbx
	push %r12
	push %r13
	mov EF_DT(%r10), %rbx
	mov %rax, %r12
	mov DT_SP(%rbx), %r13
	mov %rax, DT_SP(%rbx)		# a nested entry runs below the caller's frames
	mov (%r12), %rcx
	mov 8(%r12), %rdx
	lea nooks_kapi_checked(%rip), %rax
	call *(%rax,%r11,8)
	mov %rax, %r11
	mov %r13, DT_SP(%rbx)
	mov DT_PKRU(%rbx), %eax
	mov %r12, %r10
	pop %r13
	pop %r12
	pop %rbx
	mov %r10, %rsp
	SET_PKRU_EAX			# back inside the domain
	add $16, %rsp
	mov %r11, %rax
	ret
	.size nooks_upcall_pkey, .-nooks_upcall_pkey

# Upcall, mprotect: as above, with page-protection flips done by kernel code.
	.globl nooks_upcall_mprotect
	.hidden nooks_upcall_mprotect
	.type nooks_upcall_mprotect, @function
	.p2align 4
nooks_upcall_mprotect:
	mov nooks_tls_ctx@gottpoff(%rip), %r10
	mov %fs:(%r10), %r10
	mov TC_TOP(%r10), %r10
	mov %rsp, %rax
	mov EF_HOST_SP(%r10), %rsp
	push %rbx
	push %r12
	push %r13
	mov EF_DT(%r10), %rbx
	mov %rax, %r12
	mov DT_SP(%rbx), %r13
	mov %rax, DT_SP(%rbx)
	push %rdi
	push %rsi
	push %rdx
	push %rcx
	push %r8
	push %r9
	push %r11
	sub $8, %rsp
	call nooks_mprotect_to_host
	add $8, %rsp
	pop %r11
	pop %r9
	pop %r8
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
	lea nooks_kapi_checked(%rip), %rax
	call *(%rax,%r11,8)
	push %rax
	sub $8, %rsp
	call nooks_mprotect_to_domain
	add $8, %rsp
	pop %rax
	mov %r13, DT_SP(%rbx)
	mov %r12, %r10
	pop %r13
	pop %r12
	pop %rbx
	mov %r10, %rsp
	ret
	.size nooks_upcall_mprotect, .-nooks_upcall_mprotect

# Upcall, none: straight to the body, no checks (the native baseline).
	.globl nooks_upcall_direct
	.hidden nooks_upcall_direct
	.type nooks_upcall_direct, @function
	.p2align 4
nooks_upcall_direct:
	lea nooks_kapi_raw(%rip), %rax
	jmp *(%rax,%r11,8)
	.size nooks_upcall_direct, .-nooks_upcall_direct

# Upcall, process: runs in the driver's host process, on the driver stack;
# forwards the call (its index as the seventh argument) over the thread's
# channel to the kernel (native/process/helper.cc).
	.globl nooks_upcall_process
	.hidden nooks_upcall_process
	.type nooks_upcall_process, @function
	.p2align 4
nooks_upcall_process:
	push %r11			# 7th argument; aligns the stack for the call
	call nooks_process_kcall
	add $8, %rsp
	ret
	.size nooks_upcall_process, .-nooks_upcall_process

	.section .note.GNU-stack,"",@progbits
