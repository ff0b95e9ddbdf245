// CPU instructions the Swift kernels (Tensor/Ops) need inlined and Swift does not expose.
//
// f16 -> f32 widening of 8 lanes with one F16C instruction (vcvtph2ps), for the decoder's
// streaming kernel (Tensor/Ops/SkinnyLinear.swift). Swift's SIMD8<Float>(SIMD8<Float16>) also
// emits vcvtph2ps but is not inlined into the kernel: the call, its vzeroupper and the
// split return cost more than the conversion (5% of beam-5 decoding in a perf profile).
// Header-only (static inline): Swift inlines it. Compiled with F16C only when the build
// targets a CPU that has it (GLOSSA_CPU=haswell); otherwise GLOSSA_HALF_F16C is 0 and Swift
// keeps its own conversion.
#pragma once
#include <stdint.h>
#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#define GLOSSA_HALF_F16C 1
/// dst[0..<8] = src[0..<8] (IEEE binary16, unaligned) widened exactly to f32.
static inline __attribute__((always_inline)) void glossa_half8_to_float(const uint16_t *src, float *dst) {
    _mm256_storeu_ps(dst, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)src)));
}
#else
#define GLOSSA_HALF_F16C 0
static inline void glossa_half8_to_float(const uint16_t *src, float *dst) { (void)src; (void)dst; }
#endif
static inline int glossa_half_f16c(void) { return GLOSSA_HALF_F16C; }

/// A hint to fetch the cache line holding `p` into every cache level (prefetcht0 on x86;
/// nothing where the compiler has no such instruction). Never faults, whatever `p` is.
/// The streaming kernel asks for the next block of weight rows while it computes on this
/// one: the hardware prefetcher stops at each 4 KB page, and a quad of f16 rows of
/// whisper-base (4 x 512 x 2 bytes) is exactly one page, so without the hint every quad
/// starts with a full memory round trip.
static inline __attribute__((always_inline)) void glossa_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
