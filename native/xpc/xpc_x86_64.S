# Crossings between the kernel (host) and a driver's protection domain: what
# every isolation backend shares (native/isolation/<mode>/ holds each mode's
# own entry, upcall and landing).
#
# Entry (host -> driver): save the host's callee-saved registers, switch to
# the driver's stack, call, switch back (enter_plain; the pkey backend's entry
# also switches PKRU). Upcall (driver -> host): each backend's.
# Landing: where a fault (or an abort) resumes a thread: restore the entry
# frame's stack and return 1 from the entry routine.

#include "layout.h"
#include "macros_x86_64.inc"

	.text

# int nooks_xpc_enter_plain(EntryFrame *f, XpcCall *c, uintptr_t stack)
# Stack switch only: the caller changes protection around it (mprotect) or
# needs none.
	.globl nooks_xpc_enter_plain
	.hidden nooks_xpc_enter_plain
	.type nooks_xpc_enter_plain, @function
	.p2align 4
nooks_xpc_enter_plain:
	ENTER_DOMAIN_STACK
	LOAD_ARGS_AND_CALL
	AFTER_DRIVER
	mov EF_HOST_SP(%rbx), %rsp
	mov %rax, XC_RET(%r12)
	xor %eax, %eax
	RESTORE_HOST_AND_RETURN
	.size nooks_xpc_enter_plain, .-nooks_xpc_enter_plain

# Resumption point, entered with rbx = the EntryFrame to return through.
	.globl nooks_xpc_landing_plain
	.hidden nooks_xpc_landing_plain
	.type nooks_xpc_landing_plain, @function
	.p2align 4
nooks_xpc_landing_plain:
	mov EF_HOST_SP(%rbx), %rsp
	mov $1, %eax
	RESTORE_HOST_AND_RETURN
	.size nooks_xpc_landing_plain, .-nooks_xpc_landing_plain

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

	.section .note.GNU-stack,"",@progbits
