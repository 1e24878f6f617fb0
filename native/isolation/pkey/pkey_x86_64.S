# Isolation 'pkey': the entry (one WRPKRU each way), the landing (the entry's
# PKRU back) and the upcall (WRPKRU to kernel protection and back).
# No system calls here: this is the whole cost of a pkey crossing.

#include "../../xpc/layout.h"
#include "../../xpc/macros_x86_64.inc"

	.text

# int nooks_xpc_enter_pkey(EntryFrame *f, XpcCall *c, uintptr_t stack, uint32_t pkru)
	.globl nooks_xpc_enter_pkey
	.hidden nooks_xpc_enter_pkey
	.type nooks_xpc_enter_pkey, @function
	.p2align 4
nooks_xpc_enter_pkey:
	ENTER_DOMAIN_STACK
	mov %ecx, %eax
	SET_PKRU_EAX			# inside the domain: host memory is read-only now
	LOAD_ARGS_AND_CALL
	mov %rax, %r13
	AFTER_DRIVER			# host memory is readable here
	mov EF_ORIG_PKRU(%rbx), %eax
	SET_PKRU_EAX
	mov EF_HOST_SP(%rbx), %rsp
	mov %r13, XC_RET(%r12)
	xor %eax, %eax
	RESTORE_HOST_AND_RETURN
	.size nooks_xpc_enter_pkey, .-nooks_xpc_enter_pkey

# Resumption point, entered with rbx = the EntryFrame to return through.
	.globl nooks_xpc_landing_pkey
	.hidden nooks_xpc_landing_pkey
	.type nooks_xpc_landing_pkey, @function
	.p2align 4
nooks_xpc_landing_pkey:
	mov EF_ORIG_PKRU(%rbx), %eax	# host memory is readable from any domain
	SET_PKRU_EAX
	jmp nooks_xpc_landing_plain
	.size nooks_xpc_landing_pkey, .-nooks_xpc_landing_pkey

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
	UPCALL_TO_HOST_STACK
	mov (%r12), %rcx
	mov 8(%r12), %rdx
	CALL_KAPI nooks_kapi_checked
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

	.section .note.GNU-stack,"",@progbits
