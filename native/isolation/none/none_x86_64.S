# Isolation 'none': the kernel-call entry.

#include "../../xpc/layout.h"
#include "../../xpc/macros_x86_64.inc"

	.text

# Upcall, none: onto the host stack as every upcall (UPCALL_FROM_DRIVER_STACK),
# then straight to the body, no checks (the native baseline). Afterwards, as
# every mode's wrappers do, a thread asked to leave its domain (the watchdog,
# recovery) leaves it (nooks_none_after_call): a driver looping on kernel calls
# spends most of its time in them, where the abort signal unwinds nothing.
	.globl nooks_upcall_direct
	.hidden nooks_upcall_direct
	.type nooks_upcall_direct, @function
	.p2align 4
nooks_upcall_direct:
	UPCALL_FROM_DRIVER_STACK
	CALL_KAPI nooks_kapi_raw
	mov nooks_tls_ctx@gottpoff(%rip), %rcx
	mov %fs:(%rcx), %rcx
	cmpl $-1, TC_ABORT_DOMAIN(%rcx)
	jne 2f
1:
	UPCALL_BACK_TO_DRIVER_STACK
	ret
2:
	push %rax
	sub $8, %rsp
	call nooks_none_after_call
	add $8, %rsp
	pop %rax
	jmp 1b
	.size nooks_upcall_direct, .-nooks_upcall_direct

	.section .note.GNU-stack,"",@progbits
