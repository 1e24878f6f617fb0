# Isolation 'none': the kernel-call entry.

	.text

# Upcall, none: straight to the body, no checks (the native baseline).
	.globl nooks_upcall_direct
	.hidden nooks_upcall_direct
	.type nooks_upcall_direct, @function
	.p2align 4
nooks_upcall_direct:
	lea nooks_kapi_raw(%rip), %rax
	jmp *(%rax,%r11,8)
	.size nooks_upcall_direct, .-nooks_upcall_direct

	.section .note.GNU-stack,"",@progbits
