// CPU feature probe used by Tensor/CPUFeatures.swift to pick OpenBLAS's core type before
// the library is loaded. Header-only (static inline) so the CBLAS target still links nothing.
#pragma once
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdint.h>

static inline uint64_t glossa_xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

/// Bit 0: AVX2 usable (CPU + OS saves YMM). Bit 1: AVX-512F usable (CPU + OS saves ZMM/opmask).
static inline int glossa_cpu_simd_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return 0;
    uint64_t xcr0 = glossa_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;                  // XMM + YMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    int level = (avx2 && fma) ? 1 : 0;
    if (level && avx512f && (xcr0 & 0xE6) == 0xE6) level |= 2; // opmask + ZMM state
    return level;
}
#else
static inline int glossa_cpu_simd_level(void) { return 0; }
#endif
