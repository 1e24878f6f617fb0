/*
 * What the MMIO trap tests (test/mmio-trap.test.ts) run in the testdev
 * driver: plain volatile loads and stores of every width on a BAR the test
 * mapped (nooks/testing mapBar), as a driver that mmaps resource0 makes them;
 * loads into every general register, forced with assembly; and an access the
 * trap cannot emulate (an SSE load).
 */
#include <nooks/kapi.h>

#define RAM 0x100 /* the device's RAM: any width */

NOOKS_EXPORT long mmio_store(long bar, long off, long width, long value)
{
	volatile void *p = (volatile u8 *)bar + off;

	switch (width) {
	case 1: *(volatile u8 *)p = (u8)value; return 0;
	case 2: *(volatile u16 *)p = (u16)value; return 0;
	case 4: *(volatile u32 *)p = (u32)value; return 0;
	case 8: *(volatile u64 *)p = (u64)value; return 0;
	}
	return -EINVAL;
}

/* A load of `width` bytes, zero-extended (signed: sign-extended). */
NOOKS_EXPORT long mmio_load(long bar, long off, long width, long is_signed)
{
	volatile void *p = (volatile u8 *)bar + off;

	switch (width) {
	case 1: return is_signed ? (long)*(volatile s8 *)p : (long)*(volatile u8 *)p;
	case 2: return is_signed ? (long)*(volatile s16 *)p : (long)*(volatile u16 *)p;
	case 4: return is_signed ? (long)*(volatile s32 *)p : (long)*(volatile u32 *)p;
	case 8: return (long)*(volatile u64 *)p;
	}
	return -EINVAL;
}

/* The benchmark's loop (nooks bench xpc): n trapped reads of the scratch register. */
NOOKS_EXPORT long mmio_read_loop(long n, long bar)
{
	u32 sum = 0;

	while (n-- > 0)
		sum += *(volatile u32 *)((u8 *)bar + 0x04);
	return sum;
}

/* movnti: a store compilers emit for non-temporal writes. */
NOOKS_EXPORT long mmio_store_nt(long bar, long off, long value)
{
	__builtin_ia32_movnti((int *)((u8 *)bar + off), (int)value);
	return 0;
}

/*
 * io[0..15] hold the values of rax ... r15 (rsp's ignored; r15 is the BAR,
 * and rsi too: AH cannot be loaded with a REX prefix, which r15 needs),
 * io[16] that of xmm5. Sets them all and the carry flag, makes one trapped
 * load into each register but rsp and r15 (every width, extension and
 * encoding), and stores every register, xmm5 and the flags back into io
 * (io[17]: rflags).
 */
void mmio_loads_into_every_register(u64 *io) __attribute__((visibility("hidden")));
__asm__(
	"	.text\n"
	"	.globl mmio_loads_into_every_register\n"
	"	.hidden mmio_loads_into_every_register\n"
	"	.type mmio_loads_into_every_register, @function\n"
	"mmio_loads_into_every_register:\n"
	"	push %rbp; push %rbx; push %r12; push %r13; push %r14; push %r15\n"
	"	push %rdi\n"
	"	movq 128(%rdi), %xmm5\n"
	"	mov 0(%rdi), %rax; mov 8(%rdi), %rcx; mov 16(%rdi), %rdx; mov 24(%rdi), %rbx\n"
	"	mov 40(%rdi), %rbp; mov 48(%rdi), %rsi; mov 64(%rdi), %r8; mov 72(%rdi), %r9\n"
	"	mov 80(%rdi), %r10; mov 88(%rdi), %r11; mov 96(%rdi), %r12; mov 104(%rdi), %r13\n"
	"	mov 112(%rdi), %r14; mov 120(%rdi), %r15; mov 56(%rdi), %rdi\n"
	"	stc\n"
	"	movb 0x100(%rsi), %ah\n"		/* 8 bits into AH */
	"	movw 0x102(%r15), %cx\n"		/* 16 bits: the rest kept */
	"	movl 0x104(%r15), %edx\n"		/* 32 bits: the upper half cleared */
	"	movq 0x108(%r15), %rbx\n"		/* 64 bits: two accesses */
	"	movzbl 0x110(%r15), %esi\n"
	"	movswq 0x112(%r15), %rdi\n"
	"	movsbl 0x114(%r15), %ebp\n"
	"	movslq 0x118(%r15), %r8\n"
	"	movb 0x11c(%r15), %r9b\n"
	"	movw 0x11e(%r15), %r10w\n"
	"	movl 0x120(%r15), %r11d\n"
	"	movq 0x128(%r15), %r12\n"
	"	movzwq 0x130(%r15), %r13\n"
	"	movsbq 0x132(%r15), %r14\n"
	"	pushfq\n"
	"	push %rdi\n"
	"	mov 16(%rsp), %rdi\n"
	"	mov %rax, 0(%rdi); mov %rcx, 8(%rdi); mov %rdx, 16(%rdi); mov %rbx, 24(%rdi)\n"
	"	mov %rbp, 40(%rdi); mov %rsi, 48(%rdi); mov %r8, 64(%rdi); mov %r9, 72(%rdi)\n"
	"	mov %r10, 80(%rdi); mov %r11, 88(%rdi); mov %r12, 96(%rdi); mov %r13, 104(%rdi)\n"
	"	mov %r14, 112(%rdi); mov %r15, 120(%rdi); movq %xmm5, 128(%rdi)\n"
	"	pop %rax; mov %rax, 56(%rdi)\n"
	"	pop %rax; mov %rax, 136(%rdi)\n"
	"	pop %rdi\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; pop %rbp\n"
	"	ret\n"
	"	.size mmio_loads_into_every_register, .-mmio_loads_into_every_register\n");

NOOKS_EXPORT long mmio_every_register(long io)
{
	mmio_loads_into_every_register((u64 *)io);
	return 0;
}

/* An SSE load (movdqa): not an access the trap emulates. */
NOOKS_EXPORT long mmio_sse_load(long bar)
{
	__asm__ volatile("movdqa %c1(%0), %%xmm0" : : "r"(bar), "i"(RAM) : "xmm0", "memory");
	return 0;
}
