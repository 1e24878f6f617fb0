# Isolation 'none': the kernel-call entry.

#include "../../xpc/layout.h"
#include "../../xpc/macros_x86_64.inc"

	.text

# Upcall, none: onto the host stack as every upcall (UPCALL_FROM_DRIVER_STACK),
# then straight to the body, no checks (the native baseline).
	.globl nooks_upcall_direct
	.hidden nooks_upcall_direct
	.type nooks_upcall_direct, @function
	.p2align 4
nooks_upcall_direct:
	UPCALL_FROM_DRIVER_STACK
	lea nooks_kapi_raw(%rip), %rax
	call *(%rax,%r11,8)
	UPCALL_BACK_TO_DRIVER_STACK
	ret
	.size nooks_upcall_direct, .-nooks_upcall_direct

	.section .note.GNU-stack,"",@progbits
