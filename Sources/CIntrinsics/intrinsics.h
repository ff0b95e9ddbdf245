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

// 64-lane interleaved rANS decoding with AVX2 (Store/RANSCoder.swift, plane mode 3).
//
// The format is RANSCoder's: 32-bit states in [2^16, 2^32), 16-bit renormalisation words
// read forward, symbol i on lane i % 64, and a decode table entry per slot of
// symbol << 24 | (freq - 1) << 12 | (slot - start). Eight 8-lane vectors hold the 64
// states. One step of a vector is a long dependency chain (table lookup, multiply,
// renormalise), so eight independent vectors are kept in flight, where the scalar
// decoder's states share one serial words pointer. A lane that needs a word takes the next
// unread one in lane order: pdep turns the 8-bit "needs a word" mask into each such lane's
// rank among them, which selects its word from 8 loaded at once.
//
// The table lookups are eight scalar loads per vector (`glossa_table8`), not vpgatherdd:
// on the Zen 3 machine we measure on, the gather is microcoded and the loads decoded
// 12-20% more MB per CPU-second (median of 5 alternating runs of the codec bench's
// --decode-only on whisper-base f16, bf16 and f32). A table of 4096 entries is in L1
// either way.
//
// Decodes whole groups of 64 symbols into dst[0 ..< 64 * groups] while at least 64 words
// are left (a group reads at most 64), so it never reads past word wordCount - 1; returns
// the number of groups decoded and adds the words read to *wordsRead. The caller decodes
// what is left, and checks the final states, with its scalar loop. states[64] are updated.
#if defined(__AVX2__) && defined(__BMI2__)
#include <immintrin.h>
#define GLOSSA_RANS64_AVX2 1
/// table[idx[0 ..< 8]] as a vector: the lanes' indices leave through two 64-bit moves per
/// half, the entries come back through inserts.
static inline __attribute__((always_inline)) __m256i glossa_table8(const uint32_t *table, __m256i idx) {
    const __m128i lo = _mm256_castsi256_si128(idx), hi = _mm256_extracti128_si256(idx, 1);
    const uint64_t a = (uint64_t)_mm_cvtsi128_si64(lo), b = (uint64_t)_mm_extract_epi64(lo, 1);
    const uint64_t c = (uint64_t)_mm_cvtsi128_si64(hi), d = (uint64_t)_mm_extract_epi64(hi, 1);
    __m128i r0 = _mm_cvtsi32_si128((int)table[(uint32_t)a]);
    r0 = _mm_insert_epi32(r0, (int)table[a >> 32], 1);
    r0 = _mm_insert_epi32(r0, (int)table[(uint32_t)b], 2);
    r0 = _mm_insert_epi32(r0, (int)table[b >> 32], 3);
    __m128i r1 = _mm_cvtsi32_si128((int)table[(uint32_t)c]);
    r1 = _mm_insert_epi32(r1, (int)table[c >> 32], 1);
    r1 = _mm_insert_epi32(r1, (int)table[(uint32_t)d], 2);
    r1 = _mm_insert_epi32(r1, (int)table[d >> 32], 3);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(r0), r1, 1);
}
static inline long glossa_rans64_decode(uint32_t *states, const uint32_t *table, uint32_t scaleBits,
                                        const void *words, long wordCount, long *wordsRead,
                                        uint8_t *dst, long groups) {
    __m256i x[8], e[8];
#pragma clang loop unroll(full)
    for (int j = 0; j < 8; j++) x[j] = _mm256_loadu_si256((const __m256i *)(states + 8 * j));
    const __m256i slotMask = _mm256_set1_epi32((int)((1u << scaleBits) - 1));
    const __m256i low12 = _mm256_set1_epi32(0xfff);
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m128i shift = _mm_cvtsi32_si128((int)scaleBits);
    const uint8_t *w = (const uint8_t *)words;
    long q = *wordsRead, g = 0;
    for (; g < groups && wordCount - q >= 64; g++) {
#pragma clang loop unroll(full)
        for (int j = 0; j < 8; j++) e[j] = glossa_table8(table, _mm256_and_si256(x[j], slotMask));
        // Symbols: byte 3 of each entry, packed in lane order (packs work per 128-bit half).
#pragma clang loop unroll(full)
        for (int h = 0; h < 2; h++) {
            const __m256i s01 = _mm256_packus_epi32(_mm256_srli_epi32(e[4 * h], 24), _mm256_srli_epi32(e[4 * h + 1], 24));
            const __m256i s23 = _mm256_packus_epi32(_mm256_srli_epi32(e[4 * h + 2], 24), _mm256_srli_epi32(e[4 * h + 3], 24));
            _mm256_storeu_si256((__m256i *)(dst + 64 * g + 32 * h), _mm256_permutevar8x32_epi32(_mm256_packus_epi16(s01, s23), order));
        }
        // x = freq * (x >> k) + (slot - start), then one renormalisation word where x < 2^16.
#pragma clang loop unroll(full)
        for (int j = 0; j < 8; j++) {
            x[j] = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_add_epi32(_mm256_and_si256(_mm256_srli_epi32(e[j], 12), low12), one),
                                                       _mm256_srl_epi32(x[j], shift)), _mm256_and_si256(e[j], low12));
        }
#pragma clang loop unroll(full)
        for (int j = 0; j < 8; j++) {
            const __m256i need = _mm256_cmpeq_epi32(_mm256_srli_epi32(x[j], 16), zero);
            const unsigned m = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(need));
            const uint64_t rank = _pdep_u64(0x0706050403020100ULL, _pdep_u64(m, 0x0101010101010101ULL) * 0xffULL);
            const __m256i word = _mm256_permutevar8x32_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + 2 * q))),
                                                             _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)rank)));
            x[j] = _mm256_blendv_epi8(x[j], _mm256_or_si256(_mm256_slli_epi32(x[j], 16), word), need);
            q += __builtin_popcount(m);
        }
    }
#pragma clang loop unroll(full)
    for (int j = 0; j < 8; j++) _mm256_storeu_si256((__m256i *)(states + 8 * j), x[j]);
    *wordsRead = q;
    return g;
}
#else
#define GLOSSA_RANS64_AVX2 0
static inline long glossa_rans64_decode(uint32_t *states, const uint32_t *table, uint32_t scaleBits,
                                        const void *words, long wordCount, long *wordsRead,
                                        uint8_t *dst, long groups) {
    (void)states; (void)table; (void)scaleBits; (void)words; (void)wordCount; (void)wordsRead; (void)dst; (void)groups;
    return 0;
}
#endif
static inline int glossa_rans64_avx2(void) { return GLOSSA_RANS64_AVX2; }
