// y[m, n] = x[m, k] W^T (+ b) for a few rows m: the decoder's per-step linears, one row per
// beam of each run decoded together (greedy alone: m = 1; eval --batch 4, beam 5: m = 20).
//
// Why not BLAS: sgemm packs all of W [n, k] into its panel layout on every call. With a
// large m that copy is amortised over m rows; with m <= 16 it costs more than the product.
// A perf profile of greedy decoding had OpenBLAS's sgemm_incopy (that packing) at 40% of
// the samples and the compute kernel at 32%. Whisper-base's decoder reads 48.5M weights
// (194 MB in f32, output projection included) per step, far more than the 32 MB L3, so a
// step is bound by memory traffic: this kernel reads each weight row once per call and
// uses it for every row of x while it sits in L1.
//
// Tile: 2 rows of W (j, j+1) x 4 rows of x, 8 SIMD8 accumulators (16 registers with AVX2),
// k in chunks of 8 lanes then a scalar tail. x row chunks shorter than 4 repeat their last
// row (computed, not stored), so there is one loop body. Sums are in a fixed order, so
// results repeat run to run (they differ from BLAS's order in the last bits).

extension Compute {
    /// Rows up to which `linear` takes the streaming path (chosen by the interleaved
    /// micro-benchmark in `bench/transcribe`: above this BLAS's packing pays for itself).
    public static let skinnyRowLimit = 16

    /// y[m, n] (row stride ldy) = x[m, k] (row stride ldx) W^T + b, W [n, k] row-major (as
    /// `linear`); with `accumulate`, adds to y. Output features are split across `threads`.
    public func skinnyLinear(x: UnsafePointer<Float>, ldx: Int, rows m: Int, inFeatures k: Int,
                             weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, outFeatures n: Int,
                             y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        if m == 0 || n == 0 { return }
        // Pairs of output features per thread; each pair streams 2 * k floats of W.
        let pairs = (n + 1) / 2
        parallelRanges(pairs, parts: threads, minPerPart: max(8, 16384 / max(1, k))) { range in
            for pair in range {
                let j0 = 2 * pair, j1 = min(j0 + 1, n - 1)   // odd n: the last pair repeats j0
                var r = 0
                while r < m {
                    Compute.skinnyTile(x: x, ldx: ldx, rows: m, from: r, k: k, w0: w + j0 * k, w1: w + j1 * k,
                                       j0: j0, j1: j1, bias: b, y: y, ldy: ldy, accumulate: accumulate)
                    r += 4
                }
            }
        }
    }

    /// Rows r ..< min(r + 4, m) of x against W rows j0 and j1 (j1 == j0: one row).
    @inline(__always)
    static func skinnyTile(x: UnsafePointer<Float>, ldx: Int, rows m: Int, from r: Int, k: Int,
                           w0: UnsafePointer<Float>, w1: UnsafePointer<Float>, j0: Int, j1: Int,
                           bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        let x0 = x + r * ldx, x1 = x + min(r + 1, m - 1) * ldx
        let x2 = x + min(r + 2, m - 1) * ldx, x3 = x + min(r + 3, m - 1) * ldx
        let rw0 = UnsafeRawPointer(w0), rw1 = UnsafeRawPointer(w1)
        let r0 = UnsafeRawPointer(x0), r1 = UnsafeRawPointer(x1), r2 = UnsafeRawPointer(x2), r3 = UnsafeRawPointer(x3)
        var s00 = SIMD8<Float>(), s01 = SIMD8<Float>(), s02 = SIMD8<Float>(), s03 = SIMD8<Float>()
        var s10 = SIMD8<Float>(), s11 = SIMD8<Float>(), s12 = SIMD8<Float>(), s13 = SIMD8<Float>()
        var p = 0
        while p + 8 <= k {
            let o = 4 * p
            let a = rw0.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let c = rw1.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let v0 = r0.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let v1 = r1.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let v2 = r2.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let v3 = r3.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            s00 += a * v0; s01 += a * v1; s02 += a * v2; s03 += a * v3
            s10 += c * v0; s11 += c * v1; s12 += c * v2; s13 += c * v3
            p += 8
        }
        var d00 = s00.sum(), d01 = s01.sum(), d02 = s02.sum(), d03 = s03.sum()
        var d10 = s10.sum(), d11 = s11.sum(), d12 = s12.sum(), d13 = s13.sum()
        while p < k {
            let a = w0[p], c = w1[p]
            d00 += a * x0[p]; d01 += a * x1[p]; d02 += a * x2[p]; d03 += a * x3[p]
            d10 += c * x0[p]; d11 += c * x1[p]; d12 += c * x2[p]; d13 += c * x3[p]
            p += 1
        }
        let b0 = bias?[j0] ?? 0, b1 = bias?[j1] ?? 0
        @inline(__always) func store(_ i: Int, _ first: Float, _ second: Float) {
            guard r + i < m else { return }
            let row = y + (r + i) * ldy
            row[j0] = (accumulate ? row[j0] : 0) + first + b0
            if j1 != j0 { row[j1] = (accumulate ? row[j1] : 0) + second + b1 }
        }
        store(0, d00, d10); store(1, d01, d11); store(2, d02, d12); store(3, d03, d13)
    }
}
