// Attention for a few queries (decoder steps): each beam's one new token against its cached
// keys (self-attention, up to 448) or against the 1500 encoder frames (cross-attention).
//
// BLAS would pack each head's keys and values (tk x hd) on every call, as it packs weights in
// `linear` (see SkinnyLinear.swift): for cross-attention that is 6 layers x 8 heads x 2 x
// 1500 x 64 floats copied per step, about as much traffic as the product. Here each head
// reads its keys once (q K^T by the few-rows kernel), and its values once per query (P V
// by `weightedRows`, from L2: one head's values are 384 KB). Heads run on the element-wise
// threads, each with its own score rows.

extension Compute {
    /// Queries up to which `attention` takes this path (more: BLAS's packing pays off).
    public static let fewQueryLimit = 8

    /// Same contract as `attention`: `scores` holds heads * tq * tk floats, head h's block at
    /// scores + h * tq * tk (its probabilities stay there with `recordProbs`).
    func fewQueryAttention(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                           v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
                           tq: Int, tk: Int, heads: Int, headDim hd: Int, kvHeadStride kvh: Int, causalOffset: Int?,
                           scores: UnsafeMutablePointer<Float>, recordProbs: Bool) {
        let scale = 1 / Float(hd).squareRoot()
        func head(_ h: Int, _ p: UnsafeMutablePointer<Float>) {
            // p[i, j] = scale * q_i . k_j, then softmax over each row's visible keys
            Compute.skinnyProduct(x: q + h * hd, ldx: ldq, rows: tq, k: hd, w: k + h * kvh, ldw: ldk, n: tk,
                                  quads: 0..<((tk + 3) / 4), alpha: scale, bias: nil, y: p, ldy: tk, accumulate: false)
            for i in 0..<tq {
                let valid = causalOffset.map { min(tk, $0 + i + 1) } ?? tk
                Compute.softmaxRow(p + i * tk, valid: valid, cols: tk)
                Compute.weightedRows(p + i * tk, count: valid, v: v + h * kvh, ldv: ldv, width: hd,
                                     out: out + i * ldo + h * hd)
            }
        }
        // Each head has its own score block, so heads can run in parallel; below ~64K
        // multiply-adds per head the dispatch costs more than it saves.
        let parts = tq * tk * hd >= 65_536 ? min(threads, heads) : 1
        parallelRanges(heads, parts: parts, minPerPart: 1) { range in
            for h in range { head(h, scores + h * tq * tk) }
        }
    }

    /// out[0 ..< width] = sum over j < count of p[j] * v[j * ldv ..< j * ldv + width]: one
    /// query's attention output for one head. 32 columns at a time in 8 accumulators
    /// (4 SIMD8 for even j, 4 for odd j: 8 independent FMA chains), then 8, then scalars.
    @inline(__always)
    static func weightedRows(_ p: UnsafePointer<Float>, count: Int, v: UnsafePointer<Float>, ldv: Int, width: Int,
                             out: UnsafeMutablePointer<Float>) {
        let rv = UnsafeRawPointer(v), ro = UnsafeMutableRawPointer(out)
        var c = 0
        while c + 32 <= width {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
            var j = 0
            while j + 2 <= count {
                let pa = SIMD8<Float>(repeating: p[j]), pb = SIMD8<Float>(repeating: p[j + 1])
                let ra = 4 * (j * ldv + c), rb = 4 * ((j + 1) * ldv + c)
                a0 = a0.addingProduct(pa, rv.loadUnaligned(fromByteOffset: ra, as: SIMD8<Float>.self))
                a1 = a1.addingProduct(pa, rv.loadUnaligned(fromByteOffset: ra + 32, as: SIMD8<Float>.self))
                a2 = a2.addingProduct(pa, rv.loadUnaligned(fromByteOffset: ra + 64, as: SIMD8<Float>.self))
                a3 = a3.addingProduct(pa, rv.loadUnaligned(fromByteOffset: ra + 96, as: SIMD8<Float>.self))
                b0 = b0.addingProduct(pb, rv.loadUnaligned(fromByteOffset: rb, as: SIMD8<Float>.self))
                b1 = b1.addingProduct(pb, rv.loadUnaligned(fromByteOffset: rb + 32, as: SIMD8<Float>.self))
                b2 = b2.addingProduct(pb, rv.loadUnaligned(fromByteOffset: rb + 64, as: SIMD8<Float>.self))
                b3 = b3.addingProduct(pb, rv.loadUnaligned(fromByteOffset: rb + 96, as: SIMD8<Float>.self))
                j += 2
            }
            if j < count {
                let pa = SIMD8<Float>(repeating: p[j]), ra = 4 * (j * ldv + c)
                a0 = a0.addingProduct(pa, rv.loadUnaligned(fromByteOffset: ra, as: SIMD8<Float>.self))
                a1 = a1.addingProduct(pa, rv.loadUnaligned(fromByteOffset: ra + 32, as: SIMD8<Float>.self))
                a2 = a2.addingProduct(pa, rv.loadUnaligned(fromByteOffset: ra + 64, as: SIMD8<Float>.self))
                a3 = a3.addingProduct(pa, rv.loadUnaligned(fromByteOffset: ra + 96, as: SIMD8<Float>.self))
            }
            ro.storeBytes(of: a0 + b0, toByteOffset: 4 * c, as: SIMD8<Float>.self)
            ro.storeBytes(of: a1 + b1, toByteOffset: 4 * c + 32, as: SIMD8<Float>.self)
            ro.storeBytes(of: a2 + b2, toByteOffset: 4 * c + 64, as: SIMD8<Float>.self)
            ro.storeBytes(of: a3 + b3, toByteOffset: 4 * c + 96, as: SIMD8<Float>.self)
            c += 32
        }
        while c + 8 <= width {
            var a = SIMD8<Float>(), b = SIMD8<Float>()
            var j = 0
            while j + 2 <= count {
                a = a.addingProduct(SIMD8(repeating: p[j]), rv.loadUnaligned(fromByteOffset: 4 * (j * ldv + c), as: SIMD8<Float>.self))
                b = b.addingProduct(SIMD8(repeating: p[j + 1]), rv.loadUnaligned(fromByteOffset: 4 * ((j + 1) * ldv + c), as: SIMD8<Float>.self))
                j += 2
            }
            if j < count { a = a.addingProduct(SIMD8(repeating: p[j]), rv.loadUnaligned(fromByteOffset: 4 * (j * ldv + c), as: SIMD8<Float>.self)) }
            ro.storeBytes(of: a + b, toByteOffset: 4 * c, as: SIMD8<Float>.self)
            c += 8
        }
        while c < width {
            var s: Float = 0
            for j in 0..<count { s += p[j] * v[j * ldv + c] }
            out[c] = s
            c += 1
        }
    }
}
