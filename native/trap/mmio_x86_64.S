# The MMIO trap's stub (mmio.h): entered, instead of a trapped load or store,
# from the fault handler with rsp = the access's frame (struct
# nooks_mmio_frame, on the driver's stack, 64-byte aligned) and every other
# register as the driver had it. It keeps the vector registers, makes the
# access a kernel call (nooks_mmio_emulate, through the isolation mode's
# upcall as any kernel call), and resumes after the instruction with the
# frame's general registers and flags.

#include "mmio_layout.h"
#include "slot_move.h"

# Copies the vector registers that nooks_mmio_vectors names (beyond what
# fxsave holds) into the frame (to_frame=1) or back out of it (to_frame=0).
.macro vectors to_frame
	movzbl nooks_mmio_vectors(%rip), %eax
	cmp $1, %eax
	jb 2f
	ja 1f
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	slot_move \to_frame, vmovdqu, %ymm\n, MF_VECTOR+64*\n(%rsp)
	.endr
	jmp 2f
1:	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	slot_move \to_frame, vmovdqu64, %zmm\n, MF_VECTOR+64*\n(%rsp)
	.endr
	.irp n,0,1,2,3,4,5,6,7
	slot_move \to_frame, kmovq, %k\n, MF_OPMASK+8*\n(%rsp)
	.endr
2:
.endm

	.text
	.globl nooks_mmio_stub
	.hidden nooks_mmio_stub
	.type nooks_mmio_stub, @function
	.p2align 4
nooks_mmio_stub:
	fxsave64 MF_FXSAVE(%rsp)
	vectors 1
	cld				# the ABI's direction for the kernel's code (popfq restores the driver's)
	mov %rsp, %rdi
	call nooks_mmio_emulate@PLT
	fxrstor64 MF_FXSAVE(%rsp)
	vectors 0
	lea MF_GPR(%rsp), %rsp
	pop %rax
	pop %rcx
	pop %rdx
	pop %rbx
	lea 8(%rsp), %rsp		# rsp's slot: rsp comes back last
	pop %rbp
	pop %rsi
	pop %rdi
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	popfq
	mov (%rsp), %rsp		# resume_sp: the next instruction's address, 128 bytes (the red zone) below rsp
	ret $128
	.size nooks_mmio_stub, .-nooks_mmio_stub

	.section .note.GNU-stack,"",@progbits
