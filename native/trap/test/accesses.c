/*
 * Volatile register accesses as drivers write them, compiled by run-tests.sh
 * several ways (-O0 and -O2, PIE and not: SUFFIX names each copy), so that
 * test_decode.cc decodes the bytes gcc really emits: every width, loads with
 * zero and sign extension, immediates, movnti, base + displacement, index
 * scaling, RIP-relative and absolute addresses, and enough live values at
 * -O2 to use r8-r15.
 */
#include <stdint.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define F(name) CAT(name, SUFFIX)

extern volatile uint8_t mmio_page[4096]; /* a global in the trapped page */

uint8_t F(ld8)(volatile uint8_t *p) { return p[1]; }
uint16_t F(ld16)(volatile uint16_t *p) { return p[3]; }
uint32_t F(ld32)(volatile uint32_t *p) { return p[5]; }
uint64_t F(ld64)(volatile uint64_t *p) { return p[7]; }
int64_t F(lds8)(volatile int8_t *p) { return p[9]; }
int64_t F(lds16)(volatile int16_t *p) { return p[10]; }
int64_t F(lds32)(volatile int32_t *p) { return p[11]; }
uint64_t F(ldz8)(volatile uint8_t *p) { return p[12]; }
uint64_t F(ldz16)(volatile uint16_t *p) { return p[13]; }
int32_t F(lds8to32)(volatile int8_t *p) { return p[14]; }
void F(st8)(volatile uint8_t *p, uint8_t v) { p[15] = v; }
void F(st16)(volatile uint16_t *p, uint16_t v) { p[16] = v; }
void F(st32)(volatile uint32_t *p, uint32_t v) { p[17] = v; }
void F(st64)(volatile uint64_t *p, uint64_t v) { p[18] = v; }
void F(sti8)(volatile uint8_t *p) { p[200] = 0x5a; }
void F(sti16)(volatile uint16_t *p) { p[201] = 0xbeef; }
void F(sti32)(volatile uint32_t *p) { p[202] = 0xdeadbeef; }
void F(sti64)(volatile uint64_t *p) { p[203] = (uint64_t)-2; }
uint32_t F(ldidx)(volatile uint32_t *p, long i) { return p[i]; }
void F(stidx)(volatile uint64_t *p, long i, uint64_t v) { p[i + 2] = v; }
uint32_t F(ldfar)(volatile uint32_t *p) { return p[900]; }
uint32_t F(ldglobal)(void) { return *(volatile uint32_t *)(mmio_page + 64); }
void F(stglobal)(uint32_t v) { *(volatile uint32_t *)(mmio_page + 68) = v; }
uint32_t F(ldgidx)(long i) { return ((volatile uint32_t *)mmio_page)[i]; }
void F(ntst32)(volatile uint32_t *p, uint32_t v) { __builtin_ia32_movnti((int *)&p[40], (int)v); }
void F(ntst64)(volatile uint64_t *p, uint64_t v) { __builtin_ia32_movnti64((long long *)&p[41], (long long)v); }

/* Fourteen values live at once: at -O2 they take r8-r15 too. */
uint64_t F(many)(volatile uint32_t *p) {
	uint64_t a = p[100], b = p[101], c = p[102], d = p[103], e = p[104], f = p[105], g = p[106];
	uint64_t h = p[107], i = p[108], j = p[109], k = p[110], l = p[111], m = p[112], n = p[113];
	p[114] = (uint32_t)(a ^ n);
	return a * 1 + b * 3 + c * 5 + d * 7 + e * 11 + f * 13 + g * 17 + h * 19 + i * 23 + j * 29 + k * 31 + l * 37 +
	       m * 41 + n * 43 + (a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j ^ k ^ l ^ m ^ n);
}
