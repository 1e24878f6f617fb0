# Isolation 'mprotect': the upcall (the entry is enter_plain, with the page
# protection changed around it by mprotect.cc).

#include "../../xpc/layout.h"
#include "../../xpc/macros_x86_64.inc"

	.text

# Upcall, mprotect: onto the host stack as every upcall (UPCALL_TO_HOST_STACK), with the page-protection flips done by kernel code.
	.globl nooks_upcall_mprotect
	.hidden nooks_upcall_mprotect
	.type nooks_upcall_mprotect, @function
	.p2align 4
nooks_upcall_mprotect:
	mov nooks_tls_ctx@gottpoff(%rip), %r10
	mov %fs:(%r10), %r10
	mov TC_TOP(%r10), %r10
	mov %rsp, %rax
	UPCALL_TO_HOST_STACK
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
	UPCALL_BACK_TO_DRIVER_STACK
	ret
	.size nooks_upcall_mprotect, .-nooks_upcall_mprotect

	.section .note.GNU-stack,"",@progbits
