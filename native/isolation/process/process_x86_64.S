# Isolation 'process': the kernel's entry (no stack switch: the driver runs
# in its host process) and the host process's upcall.

#include "../../xpc/layout.h"
#include "../../xpc/macros_x86_64.inc"

	.text

# int nooks_xpc_enter_local(EntryFrame *f, XpcCall *c)
# No switch of stack: c runs on this one, below the registers enter_plain
# saves (isolation 'process', whose driver runs elsewhere: SAVE_HOST's 64
# bytes); the frame is what a fault unwinds to, as in the other modes.
	.globl nooks_xpc_enter_local
	.hidden nooks_xpc_enter_local
	.type nooks_xpc_enter_local, @function
	.p2align 4
nooks_xpc_enter_local:
	lea -64(%rsp), %rdx
	and $-16, %rdx
	jmp nooks_xpc_enter_plain
	.size nooks_xpc_enter_local, .-nooks_xpc_enter_local

# Upcall, process: runs in the driver's host process, on the driver stack;
# forwards the call (its index as the seventh argument) over the thread's
# channel to the kernel (helper.cc).
	.globl nooks_upcall_process
	.hidden nooks_upcall_process
	.type nooks_upcall_process, @function
	.p2align 4
nooks_upcall_process:
	KERNEL_CPU_STATE		# the host process's code, as kernel code (macros_x86_64.inc)
	push %r11			# 7th argument; aligns the stack for the call
	call nooks_process_kcall
	add $8, %rsp
	ret
	.size nooks_upcall_process, .-nooks_upcall_process

	.section .note.GNU-stack,"",@progbits
