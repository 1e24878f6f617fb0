// Offsets in struct nooks_mmio_frame (nooks/kapi.h) for the MMIO trap's stub
// (mmio_x86_64.S); mmio.cc checks them against the struct.
#pragma once

#define MF_FXSAVE 0     // x87, MXCSR, xmm0-15 (fxsave64)
#define MF_VECTOR 512   // ymm0-15 or zmm0-31, 64 bytes each
#define MF_OPMASK 2560  // k0-7 (AVX-512)
#define MF_GPR 2656     // rax ... r15, then rflags and resume_sp
