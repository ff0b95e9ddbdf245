// y[m, n] = x[m, k] W^T (+ b) for a few rows m: the decoder's per-step linears, one row per
// beam of each run decoded together (greedy alone: m = 1; eval --batch 4, beam 5: m = 20),
// and the q K^T of its attention (a handful of queries against up to 1500 keys).
//
// Why not BLAS: sgemm packs all of W [n, k] into its panel layout on every call. With a
// large m that copy is amortised over m rows; with a few rows it costs more than the
// product. A perf profile of greedy decoding had OpenBLAS's sgemm_incopy (that packing) at
// 40% of the samples and the compute kernel at 32%. Whisper-base's decoder reads 48.5M
// weights (194 MB in f32, output projection included) per step, far more than the 32 MB
// L3, so a step is bound by memory traffic: this kernel reads each weight row from memory
// once per call and uses it for every row of x while it sits in L1.
//
// Tile: 4 rows of W x 2 rows of x, 8 SIMD8 accumulators (8 independent FMA chains; with
// AVX2 the tile, its 6 loads and the accumulators fit the 16 vector registers), k in
// chunks of 8 lanes then a scalar tail. Tiles past the last row of W or x repeat that row
// (computed, not stored), so there is one loop body. Sums are in a fixed order, so results
// repeat run to run (they differ from BLAS's order in the last bits).
//
// W may also be f16 (`Float16`), widened lane by lane as it is loaded (one vcvtph2ps per 8
// lanes with F16C). Whisper's released weights are f16, so a model keeps an f16 copy of a
// decoder linear when every weight round-trips exactly (`LinearWeights.half`): the products
// and their order are then those of the f32 path, bit for bit, and a step reads half the bytes.

import CIntrinsics

extension Compute {
    /// Rows up to which `linear` takes the streaming path. Above it, BLAS's packing pays
    /// for itself: `whisper-bench --linear-microbench` times both on whisper-base's widest
    /// shapes (output projection, fc1) at 1 to 32 rows.
    public static let skinnyRowLimit = 16
    /// The same limit for f16 weights (half the bytes to stream): up to 32 rows the f16 path
    /// took 0.43-1.00x BLAS's time on those shapes (0.69x at 20 rows: eval's batch 4 x beam 5).
    public static let skinnyHalfRowLimit = 32

    /// y[m, n] (row stride ldy) = x[m, k] (row stride ldx) W^T + b, W [n, k] row-major (as
    /// `linear`); with `accumulate`, adds to y. Output features are split across `threads`.
    public func skinnyLinear(x: UnsafePointer<Float>, ldx: Int, rows m: Int, inFeatures k: Int,
                             weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, outFeatures n: Int,
                             y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        streamLinear(x: x, ldx: ldx, rows: m, inFeatures: k, weight: w, bias: b, outFeatures: n, y: y, ldy: ldy, accumulate: accumulate)
    }

    /// `skinnyLinear` with W [n, k] in f16, widened exactly as it is read. Any row count works
    /// (cost grows with rows; above `skinnyHalfRowLimit` BLAS on an f32 copy is faster).
    public func skinnyLinear(x: UnsafePointer<Float>, ldx: Int, rows m: Int, inFeatures k: Int,
                             weight w: UnsafePointer<Float16>, bias b: UnsafePointer<Float>?, outFeatures n: Int,
                             y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        streamLinear(x: x, ldx: ldx, rows: m, inFeatures: k, weight: w, bias: b, outFeatures: n, y: y, ldy: ldy, accumulate: accumulate)
    }

    func streamLinear<W: StreamedWeight>(x: UnsafePointer<Float>, ldx: Int, rows m: Int, inFeatures k: Int,
                                         weight w: UnsafePointer<W>, bias b: UnsafePointer<Float>?, outFeatures n: Int,
                                         y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        if m == 0 || n == 0 { return }
        let quads = (n + 3) / 4   // each quad streams 4 * k floats of W
        parallelRanges(quads, parts: threads, minPerPart: max(4, 8192 / max(1, k))) { range in
            Compute.skinnyProduct(x: x, ldx: ldx, rows: m, k: k, w: w, ldw: k, n: n, quads: range, alpha: 1,
                                  bias: b, y: y, ldy: ldy, accumulate: accumulate)
        }
    }

    /// The kernel, on one thread: for W rows 4q ..< 4q + 4 (q in `quads`, rows < n) and all m
    /// rows of x, y[i, j] = alpha * (x_i . w_j) + b_j (+ y[i, j] with `accumulate`).
    /// W row j starts at w + j * ldw (attention passes a head's keys inside a wider matrix).
    static func skinnyProduct<W: StreamedWeight>(x: UnsafePointer<Float>, ldx: Int, rows m: Int, k: Int,
                              w: UnsafePointer<W>, ldw: Int, n: Int, quads: Range<Int>, alpha: Float,
                              bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool) {
        for q in quads {
            let j = 4 * q
            // The first pass over this quad also asks for the next quad's rows, so they
            // arrive while this one computes (see glossa_prefetch for why the hardware
            // does not); later passes find this quad in L1.
            let next = q + 1 < quads.upperBound ? w + (j + 4) * ldw : nil
            // Rows of x go three at a time while that leaves no single row (5 = 3 + 2,
            // 4 = 2 + 2): each pass re-reads and re-widens the quad, and a pair tile on one
            // remaining row computes it twice.
            var r = 0
            while r < m {
                let left = m - r
                if left >= 3 && left != 4 {
                    skinnyTile3(x: x, ldx: ldx, from: r, k: k, w: w, ldw: ldw, n: n, j: j, alpha: alpha,
                                bias: bias, y: y, ldy: ldy, accumulate: accumulate, prefetch: r == 0 ? next : nil)
                    r += 3
                } else {
                    skinnyTile(x: x, ldx: ldx, rows: m, from: r, k: k, w: w, ldw: ldw, n: n, j: j, alpha: alpha,
                               bias: bias, y: y, ldy: ldy, accumulate: accumulate, prefetch: r == 0 ? next : nil)
                    r += 2
                }
            }
        }
    }

    /// Raw pointers to W rows j ..< j + 4 (clamped to n - 1: a last, partial quad repeats its
    /// last row, computed but never stored).
    @inline(__always)
    static func quadRows<W>(_ w: UnsafePointer<W>, ldw: Int, n: Int, j: Int)
        -> (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer) {
        (UnsafeRawPointer(w + j * ldw), UnsafeRawPointer(w + min(j + 1, n - 1) * ldw),
         UnsafeRawPointer(w + min(j + 2, n - 1) * ldw), UnsafeRawPointer(w + min(j + 3, n - 1) * ldw))
    }

    /// At lane p of a tile's k loop: hints the next quad's 4 rows (from `ahead`, ldw apart)
    /// into cache, one line of each whenever p reaches a new 64-byte line. Rows past n - 1 (a
    /// last, partial quad) are hinted too: a prefetch never faults.
    @inline(__always)
    static func prefetchQuad<W>(_ ahead: UnsafePointer<W>?, at p: Int, ldw: Int) {
        let size = MemoryLayout<W>.stride
        guard let ahead, (p * size) & 63 == 0 else { return }
        let a = UnsafeRawPointer(ahead) + p * size, ld = ldw * size
        glossa_prefetch(a); glossa_prefetch(a + ld); glossa_prefetch(a + 2 * ld); glossa_prefetch(a + 3 * ld)
    }

    /// x rows r, r + 1 (clamped to m - 1) against W rows j ..< j + 4 (clamped to n - 1).
    /// With `prefetch`, also hints the next quad into cache (`prefetchQuad`).
    @inline(__always)
    static func skinnyTile<W: StreamedWeight>(x: UnsafePointer<Float>, ldx: Int, rows m: Int, from r: Int, k: Int,
                           w: UnsafePointer<W>, ldw: Int, n: Int, j: Int, alpha: Float,
                           bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool,
                           prefetch: UnsafePointer<W>?) {
        let x0 = x + r * ldx, x1 = x + min(r + 1, m - 1) * ldx
        let (rw0, rw1, rw2, rw3) = quadRows(w, ldw: ldw, n: n, j: j)
        let w0 = rw0.assumingMemoryBound(to: W.self), w1 = rw1.assumingMemoryBound(to: W.self)
        let w2 = rw2.assumingMemoryBound(to: W.self), w3 = rw3.assumingMemoryBound(to: W.self)
        let rx0 = UnsafeRawPointer(x0), rx1 = UnsafeRawPointer(x1)
        var s00 = SIMD8<Float>(), s01 = SIMD8<Float>(), s02 = SIMD8<Float>(), s03 = SIMD8<Float>()
        var s10 = SIMD8<Float>(), s11 = SIMD8<Float>(), s12 = SIMD8<Float>(), s13 = SIMD8<Float>()
        var p = 0
        while p + 8 <= k {
            prefetchQuad(prefetch, at: p, ldw: ldw)
            let o = 4 * p
            let a = rx0.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let c = rx1.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let v0 = W.load8(rw0, p), v1 = W.load8(rw1, p), v2 = W.load8(rw2, p), v3 = W.load8(rw3, p)
            // addingProduct is a fused multiply-add (one rounding; one instruction with FMA).
            s00 = s00.addingProduct(a, v0); s01 = s01.addingProduct(a, v1)
            s02 = s02.addingProduct(a, v2); s03 = s03.addingProduct(a, v3)
            s10 = s10.addingProduct(c, v0); s11 = s11.addingProduct(c, v1)
            s12 = s12.addingProduct(c, v2); s13 = s13.addingProduct(c, v3)
            p += 8
        }
        var d00 = s00.sum(), d01 = s01.sum(), d02 = s02.sum(), d03 = s03.sum()
        var d10 = s10.sum(), d11 = s11.sum(), d12 = s12.sum(), d13 = s13.sum()
        while p < k {
            let a = x0[p], c = x1[p]
            let v0 = Float(w0[p]), v1 = Float(w1[p]), v2 = Float(w2[p]), v3 = Float(w3[p])
            d00 += a * v0; d01 += a * v1; d02 += a * v2; d03 += a * v3
            d10 += c * v0; d11 += c * v1; d12 += c * v2; d13 += c * v3
            p += 1
        }
        @inline(__always) func store(_ i: Int, _ jj: Int, _ dot: Float) {
            guard r + i < m, j + jj < n else { return }
            let at = y + (r + i) * ldy + j + jj
            at.pointee = (accumulate ? at.pointee : 0) + alpha * dot + (bias?[j + jj] ?? 0)
        }
        store(0, 0, d00); store(0, 1, d01); store(0, 2, d02); store(0, 3, d03)
        store(1, 0, d10); store(1, 1, d11); store(1, 2, d12); store(1, 3, d13)
    }

    /// x rows r, r + 1, r + 2 (all < m) against W rows j ..< j + 4 (clamped to n - 1): the
    /// pair tile's sums, in its order, for one row more per pass. 12 accumulators; each
    /// widened W vector is used 3 times, x comes straight from L1.
    @inline(__always)
    static func skinnyTile3<W: StreamedWeight>(x: UnsafePointer<Float>, ldx: Int, from r: Int, k: Int,
                            w: UnsafePointer<W>, ldw: Int, n: Int, j: Int, alpha: Float,
                            bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool,
                            prefetch: UnsafePointer<W>?) {
        let x0 = x + r * ldx, x1 = x0 + ldx, x2 = x1 + ldx
        let (rw0, rw1, rw2, rw3) = quadRows(w, ldw: ldw, n: n, j: j)
        let w0 = rw0.assumingMemoryBound(to: W.self), w1 = rw1.assumingMemoryBound(to: W.self)
        let w2 = rw2.assumingMemoryBound(to: W.self), w3 = rw3.assumingMemoryBound(to: W.self)
        let rx0 = UnsafeRawPointer(x0), rx1 = UnsafeRawPointer(x1), rx2 = UnsafeRawPointer(x2)
        var s00 = SIMD8<Float>(), s01 = SIMD8<Float>(), s02 = SIMD8<Float>(), s03 = SIMD8<Float>()
        var s10 = SIMD8<Float>(), s11 = SIMD8<Float>(), s12 = SIMD8<Float>(), s13 = SIMD8<Float>()
        var s20 = SIMD8<Float>(), s21 = SIMD8<Float>(), s22 = SIMD8<Float>(), s23 = SIMD8<Float>()
        var p = 0
        while p + 8 <= k {
            prefetchQuad(prefetch, at: p, ldw: ldw)
            let o = 4 * p
            let a = rx0.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let b = rx1.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            let c = rx2.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
            var v = W.load8(rw0, p)
            s00 = s00.addingProduct(a, v); s10 = s10.addingProduct(b, v); s20 = s20.addingProduct(c, v)
            v = W.load8(rw1, p)
            s01 = s01.addingProduct(a, v); s11 = s11.addingProduct(b, v); s21 = s21.addingProduct(c, v)
            v = W.load8(rw2, p)
            s02 = s02.addingProduct(a, v); s12 = s12.addingProduct(b, v); s22 = s22.addingProduct(c, v)
            v = W.load8(rw3, p)
            s03 = s03.addingProduct(a, v); s13 = s13.addingProduct(b, v); s23 = s23.addingProduct(c, v)
            p += 8
        }
        var d00 = s00.sum(), d01 = s01.sum(), d02 = s02.sum(), d03 = s03.sum()
        var d10 = s10.sum(), d11 = s11.sum(), d12 = s12.sum(), d13 = s13.sum()
        var d20 = s20.sum(), d21 = s21.sum(), d22 = s22.sum(), d23 = s23.sum()
        while p < k {
            let a = x0[p], b = x1[p], c = x2[p]
            let v0 = Float(w0[p]), v1 = Float(w1[p]), v2 = Float(w2[p]), v3 = Float(w3[p])
            d00 += a * v0; d01 += a * v1; d02 += a * v2; d03 += a * v3
            d10 += b * v0; d11 += b * v1; d12 += b * v2; d13 += b * v3
            d20 += c * v0; d21 += c * v1; d22 += c * v2; d23 += c * v3
            p += 1
        }
        @inline(__always) func store(_ i: Int, _ jj: Int, _ dot: Float) {
            guard j + jj < n else { return }
            let at = y + (r + i) * ldy + j + jj
            at.pointee = (accumulate ? at.pointee : 0) + alpha * dot + (bias?[j + jj] ?? 0)
        }
        store(0, 0, d00); store(0, 1, d01); store(0, 2, d02); store(0, 3, d03)
        store(1, 0, d10); store(1, 1, d11); store(1, 2, d12); store(1, 3, d13)
        store(2, 0, d20); store(2, 1, d21); store(2, 2, d22); store(2, 3, d23)
    }
}

/// A weight element the streaming kernel reads: 8 consecutive lanes widened to f32.
protocol StreamedWeight: BinaryFloatingPoint {
    /// Elements p ..< p + 8 from `base` (element 0), as f32.
    static func load8(_ base: UnsafeRawPointer, _ p: Int) -> SIMD8<Float>
}

extension Float: StreamedWeight {
    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ p: Int) -> SIMD8<Float> {
        base.loadUnaligned(fromByteOffset: 4 * p, as: SIMD8<Float>.self)
    }
}

extension Float16: StreamedWeight {
    @inline(__always)
    static func load8(_ base: UnsafeRawPointer, _ p: Int) -> SIMD8<Float> {
        // Widening is exact either way. With F16C in the build (GLOSSA_CPU=haswell) one inlined
        // vcvtph2ps; Swift's own conversion below is an out-of-line call (CIntrinsics/intrinsics.h says why).
        if glossa_half_f16c() != 0 {
            var out = SIMD8<Float>()
            withUnsafeMutableBytes(of: &out) { o in
                glossa_half8_to_float((base + 2 * p).assumingMemoryBound(to: UInt16.self), o.baseAddress!.assumingMemoryBound(to: Float.self))
            }
            return out
        }
        return SIMD8<Float>(base.loadUnaligned(fromByteOffset: 2 * p, as: SIMD8<Float16>.self))
    }
}
