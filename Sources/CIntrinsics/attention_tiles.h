// Register-tiled products for multi-head attention over many queries (Tensor/Ops/TiledAttention.swift).
//
// Why not BLAS: per head, q K^T is [tq, hd] x [hd, tk] with hd = 64, and P V is [tq, tk] x
// [tk, hd]. BLAS runs these at half the rate of the model's linears (whisper-base encoder,
// 2 cores: 67 and 80 GFLOPS against 140): it zeroes then writes a 9 MB score matrix per head,
// packs it again for P V, and reads each head's 64 columns out of rows 6 KB apart. Here a
// block of query rows is scored, normalised (in Swift) and multiplied by V while its scores
// are still in L2, against keys and values packed once per head into the panels below.
//
// Panels (both packed by the caller through the two pack functions, hd a multiple of 16):
//   keys   kt[p][d][l]  = K[16p + l][d]   ceil(tk/16) panels of hd x 16 (keys past tk are 0)
//   values vp[c][j][l]  = V[j][16c + l]   hd/16 panels of tk x 16
// Tiles are 6 query rows x 16 columns: 12 AVX accumulators, 2 vector loads and 6 broadcasts
// per 12 FMAs (the shape of OpenBLAS's Haswell sgemm kernel).
//
// Compiled only when the build targets AVX2 + FMA (GLOSSA_CPU=haswell); otherwise
// GLOSSA_ATTENTION_TILES is 0 and attention keeps its BLAS path.
#pragma once
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define GLOSSA_ATTENTION_TILES 1

/// Packs one head's keys (key j's hd values at k + j * ldk) into ceil(tk/16) panels at dst.
static inline void glossa_attn_pack_keys(const float *k, long ldk, long tk, long hd, float *dst) {
    long panels = (tk + 15) / 16;
    for (long p = 0; p < panels; p++) {
        float *panel = dst + p * 16 * hd;
        for (long l = 0; l < 16; l++) {
            long j = p * 16 + l;
            if (j < tk) {
                const float *row = k + j * ldk;
                for (long d = 0; d < hd; d++) panel[d * 16 + l] = row[d];
            } else {
                for (long d = 0; d < hd; d++) panel[d * 16 + l] = 0;
            }
        }
    }
}

/// Packs one head's values (value j's hd floats at v + j * ldv) into hd/16 panels at dst.
static inline void glossa_attn_pack_values(const float *v, long ldv, long tk, long hd, float *dst) {
    for (long c = 0; c < hd / 16; c++) {
        float *panel = dst + c * tk * 16;
        for (long j = 0; j < tk; j++) {
            const float *src = v + j * ldv + c * 16;
            _mm256_storeu_ps(panel + j * 16, _mm256_loadu_ps(src));
            _mm256_storeu_ps(panel + j * 16 + 8, _mm256_loadu_ps(src + 8));
        }
    }
}

/// Stores rows 0 ..< m of a 6 x 16 tile (acc[2i], acc[2i+1] = row i) at dst (row stride ld),
/// the first `cols` (1...16) columns of each, times `scale`.
static inline __attribute__((always_inline)) void glossa_attn_store_tile(const __m256 *acc, int m, float scale, float *dst,
                                                                          long ld, long cols) {
    __m256 s = _mm256_set1_ps(scale);
    if (cols == 16) {
        for (int i = 0; i < m; i++) {
            _mm256_storeu_ps(dst + i * ld, _mm256_mul_ps(acc[2 * i], s));
            _mm256_storeu_ps(dst + i * ld + 8, _mm256_mul_ps(acc[2 * i + 1], s));
        }
    } else {
        float tile[16];
        for (int i = 0; i < m; i++) {
            _mm256_storeu_ps(tile, _mm256_mul_ps(acc[2 * i], s));
            _mm256_storeu_ps(tile + 8, _mm256_mul_ps(acc[2 * i + 1], s));
            for (long c = 0; c < cols; c++) dst[i * ld + c] = tile[c];
        }
    }
}

// The 6-row tiles name their 12 accumulators one by one: written as an array indexed in a
// loop, clang kept them on the stack (a load and a store around every FMA, a third of the
// speed). A group of fewer than 6 rows points its missing rows at its last row and stores
// only its own: the same registers, a few wasted FMAs on the last group of a block.
#define GLOSSA_ATTN_ROWS(base, ld, m)                                                            \
    const float *r0 = (base), *r1 = r0 + ((m) > 1 ? (ld) : 0), *r2 = r1 + ((m) > 2 ? (ld) : 0),   \
                *r3 = r2 + ((m) > 3 ? (ld) : 0), *r4 = r3 + ((m) > 4 ? (ld) : 0),                  \
                *r5 = r4 + ((m) > 5 ? (ld) : 0)
#define GLOSSA_ATTN_ZERO(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps()
#define GLOSSA_ATTN_FMA(i, at)                                                                   \
    {                                                                                            \
        __m256 a = _mm256_broadcast_ss(r##i + (at));                                             \
        c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0);                                               \
        c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1);                                               \
    }
#define GLOSSA_ATTN_STEP(at)                                                                     \
    GLOSSA_ATTN_FMA(0, at) GLOSSA_ATTN_FMA(1, at) GLOSSA_ATTN_FMA(2, at)                         \
    GLOSSA_ATTN_FMA(3, at) GLOSSA_ATTN_FMA(4, at) GLOSSA_ATTN_FMA(5, at)
#define GLOSSA_ATTN_TILE_ARRAY {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51}

/// One tile, both products' inner kernel: rows 0 ..< m (1...6) of scale * a b, a's rows at
/// a + i * lda, b one 16-column panel ([depth][16]), summed over `depth`; the first `cols`
/// columns stored at dst (row stride ld). Scores: a = q rows, depth = hd, b = a key panel.
/// Outputs: a = probability rows, depth = the keys used, b = a value panel.
static inline __attribute__((always_inline)) void glossa_attn_tile(const float *a, long lda, long m, const float *panel,
                                                                    long depth, float scale, float *dst, long ld,
                                                                    long cols) {
    GLOSSA_ATTN_ROWS(a, lda, m);
    GLOSSA_ATTN_ZERO(0); GLOSSA_ATTN_ZERO(1); GLOSSA_ATTN_ZERO(2);
    GLOSSA_ATTN_ZERO(3); GLOSSA_ATTN_ZERO(4); GLOSSA_ATTN_ZERO(5);
    for (long d = 0; d < depth; d++) {
        __m256 b0 = _mm256_loadu_ps(panel + d * 16), b1 = _mm256_loadu_ps(panel + d * 16 + 8);
        GLOSSA_ATTN_STEP(d)
    }
    __m256 acc[12] = GLOSSA_ATTN_TILE_ARRAY;
    glossa_attn_store_tile(acc, (int)m, scale, dst, ld, cols);
}

/// s[i][j] = scale * sum_d q[i][d] K[j][d] for i < m, j < tk (row strides ldq, lds), from the
/// packed key panels. Panel-major order: a 4 KB panel stays in L1 while every row group uses it.
static inline void glossa_attn_scores(const float *q, long ldq, long m, const float *keys, long tk, long hd,
                                      float scale, float *s, long lds) {
    long panels = (tk + 15) / 16;
    for (long p = 0; p < panels; p++) {
        const float *panel = keys + p * 16 * hd;
        long cols = tk - p * 16 < 16 ? tk - p * 16 : 16;
        for (long i = 0; i < m; i += 6)
            glossa_attn_tile(q + i * ldq, ldq, m - i < 6 ? m - i : 6, panel, hd, scale, s + i * lds + p * 16, lds, cols);
    }
}

/// o[i][c] = sum_j p[i][j] V[j][c] for i < m, c < hd (row strides ldp, ldo), from the packed
/// value panels. Row i reads keys 0 ..< visible(i); a 6-row group reads up to its last row's
/// count (its other rows' probabilities there are 0, as softmax leaves masked keys).
/// causal_offset < 0: every row sees all tk keys; else row i sees min(tk, causal_offset + i + 1).
static inline void glossa_attn_values(const float *p, long ldp, long m, const float *values, long tk, long hd,
                                      long causal_offset, float *o, long ldo) {
    for (long c = 0; c < hd / 16; c++) {
        const float *panel = values + c * tk * 16;
        for (long i = 0; i < m; i += 6) {
            long rows = m - i < 6 ? m - i : 6;
            long n = tk;
            if (causal_offset >= 0 && causal_offset + i + rows < tk) n = causal_offset + i + rows;
            glossa_attn_tile(p + i * ldp, ldp, rows, panel, n, 1.0f, o + i * ldo + c * 16, ldo, 16);
        }
    }
}
#else
#define GLOSSA_ATTENTION_TILES 0
static inline void glossa_attn_pack_keys(const float *k, long ldk, long tk, long hd, float *dst) {
    (void)k; (void)ldk; (void)tk; (void)hd; (void)dst;
}
static inline void glossa_attn_pack_values(const float *v, long ldv, long tk, long hd, float *dst) {
    (void)v; (void)ldv; (void)tk; (void)hd; (void)dst;
}
static inline void glossa_attn_scores(const float *q, long ldq, long m, const float *keys, long tk, long hd,
                                      float scale, float *s, long lds) {
    (void)q; (void)ldq; (void)m; (void)keys; (void)tk; (void)hd; (void)scale; (void)s; (void)lds;
}
static inline void glossa_attn_values(const float *p, long ldp, long m, const float *values, long tk, long hd,
                                      long causal_offset, float *o, long ldo) {
    (void)p; (void)ldp; (void)m; (void)values; (void)tk; (void)hd; (void)causal_offset; (void)o; (void)ldo;
}
#endif
/// 1 when the tiled attention products above are compiled in (AVX2 + FMA build).
static inline int glossa_attention_tiles(void) { return GLOSSA_ATTENTION_TILES; }
