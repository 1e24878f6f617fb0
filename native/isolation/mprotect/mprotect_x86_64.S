# Isolation 'mprotect': the upcall (the entry is enter_plain, with the page
# protection changed around it by mprotect.cc).

#include "../../xpc/layout.h"
#include "../../xpc/macros_x86_64.inc"

	.text

# Upcall, mprotect: onto the host stack as every upcall (UPCALL_FROM_DRIVER_STACK), with the page-protection flips done by kernel code.
	.globl nooks_upcall_mprotect
	.hidden nooks_upcall_mprotect
	.type nooks_upcall_mprotect, @function
	.p2align 4
nooks_upcall_mprotect:
	UPCALL_FROM_DRIVER_STACK
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
	CALL_KAPI nooks_kapi_checked
	push %rax
	sub $8, %rsp
	call nooks_mprotect_to_domain
	add $8, %rsp
	pop %rax
	UPCALL_BACK_TO_DRIVER_STACK
	ret
	.size nooks_upcall_mprotect, .-nooks_upcall_mprotect

	.section .note.GNU-stack,"",@progbits
