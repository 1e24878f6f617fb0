# For test_stub.cc: loads every register from a State, makes one trapped load
# (movl 0x10(%r15), %r13d), and stores every register into the State.
# State: 0 gpr_in[16], 128 gpr_out[16], 256 rflags_out, 264 mxcsr_in,
# 268 mxcsr_out, 272 fcw_in, 274 fcw_out, 320 vec_in[32][64],
# 2368 vec_out[32][64], 4416 k_in[8], 4480 k_out[8], 4544 level (as nooks_mmio_vectors).

#include "../slot_move.h"

# Copies the vector registers of the State's level (k0 is left alone) from
# the State's vec_in/k_in (to_state=0) or into its vec_out/k_out (to_state=1).
.macro vectors to_state, vec, k
	mov 4544(%rdi), %eax
	cmp $1, %eax
	jb 2f
	ja 1f
	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	slot_move \to_state, vmovdqu, %ymm\n, \vec+64*\n(%rdi)
	.endr
	jmp 3f
1:	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	slot_move \to_state, vmovdqu64, %zmm\n, \vec+64*\n(%rdi)
	.endr
	.irp n,1,2,3,4,5,6,7
	slot_move \to_state, kmovq, %k\n, \k+8*\n(%rdi)
	.endr
	jmp 3f
2:	.irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	slot_move \to_state, movdqu, %xmm\n, \vec+64*\n(%rdi)
	.endr
3:
.endm

	.text
	.globl trapped_load_keeping_all
	.type trapped_load_keeping_all, @function
trapped_load_keeping_all:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi
	ldmxcsr 264(%rdi)
	fldcw 272(%rdi)
	vectors 0, 320, 4416
	mov 0(%rdi), %rax
	mov 8(%rdi), %rcx
	mov 16(%rdi), %rdx
	mov 24(%rdi), %rbx
	mov 40(%rdi), %rbp
	mov 48(%rdi), %rsi
	mov 64(%rdi), %r8
	mov 72(%rdi), %r9
	mov 80(%rdi), %r10
	mov 88(%rdi), %r11
	mov 96(%rdi), %r12
	mov 104(%rdi), %r13
	mov 112(%rdi), %r14
	mov 120(%rdi), %r15
	mov 56(%rdi), %rdi
	stc
	movl 0x10(%r15), %r13d
	pushfq
	push %rdi
	mov 16(%rsp), %rdi
	mov %rax, 128+0(%rdi)
	mov %rcx, 128+8(%rdi)
	mov %rdx, 128+16(%rdi)
	mov %rbx, 128+24(%rdi)
	mov %rbp, 128+40(%rdi)
	mov %rsi, 128+48(%rdi)
	mov %r8, 128+64(%rdi)
	mov %r9, 128+72(%rdi)
	mov %r10, 128+80(%rdi)
	mov %r11, 128+88(%rdi)
	mov %r12, 128+96(%rdi)
	mov %r13, 128+104(%rdi)
	mov %r14, 128+112(%rdi)
	mov %r15, 128+120(%rdi)
	pop %rax
	mov %rax, 128+56(%rdi)
	pop %rax
	mov %rax, 256(%rdi)
	stmxcsr 268(%rdi)
	fnstcw 274(%rdi)
	vectors 1, 2368, 4480
	vzeroupper
	pop %rdi
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size trapped_load_keeping_all, .-trapped_load_keeping_all

# What the kernel's code may do to a caller's registers: every vector and
# mask register, MXCSR's rounding and the x87 control word, the flags.
# edi = level.
	.globl wreck_caller_saved_state
	.type wreck_caller_saved_state, @function
wreck_caller_saved_state:
	pcmpeqd %xmm0, %xmm0
	.irp n,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	movdqa %xmm0, %xmm\n
	.endr
	cmp $1, %edi
	jb 1f
	vpcmpeqd %ymm0, %ymm0, %ymm0
	.irp n,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	vmovdqa %ymm0, %ymm\n
	.endr
	cmp $2, %edi
	jb 1f
	vpternlogd $0xff, %zmm0, %zmm0, %zmm0
	.irp n,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	vmovdqa64 %zmm0, %zmm\n
	.endr
	.irp n,1,2,3,4,5,6,7
	kxnorq %k0, %k0, %k\n
	.endr
1:	sub $8, %rsp
	movl $0x7f80, (%rsp)		# SSE: exceptions masked, round toward zero
	ldmxcsr (%rsp)
	movw $0x0f7f, 4(%rsp)		# x87: round toward zero
	fldcw 4(%rsp)
	add $8, %rsp
	clc
	ret
	.size wreck_caller_saved_state, .-wreck_caller_saved_state

	.section .note.GNU-stack,"",@progbits
