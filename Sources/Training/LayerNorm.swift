import Tensor

// Array-level layer norm for the training graph: the kernels are `Compute.layerNorm` (which
// records each row's mean and rstd here) and `Compute.layerNormBackward`
// (Tensor/Ops/LayerNorm.swift), shared with the runtime. gamma/beta are frozen.

/// A layer norm's output with the row statistics its backward needs: y [n, d], mean and rstd [n].
struct NormCache { var y: [Float] = [], mean: [Float] = [], rstd: [Float] = [] }

/// Forward. x [n, d] -> y [n, d] with the recorded statistics; gamma, beta [d].
func layerNormForward(_ c: Compute, _ x: [Float], rows n: Int, gamma: [Float], beta: [Float]) -> NormCache {
    let d = gamma.count
    var r = NormCache(y: uninitializedFloats(n * d), mean: uninitializedFloats(n), rstd: uninitializedFloats(n))
    x.withUnsafeBufferPointer { xp in gamma.withUnsafeBufferPointer { g in beta.withUnsafeBufferPointer { b in
        r.y.withUnsafeMutableBufferPointer { yp in r.mean.withUnsafeMutableBufferPointer { mp in r.rstd.withUnsafeMutableBufferPointer { sp in
            c.layerNorm(x: xp.baseAddress!, rows: n, dim: d, gamma: g.baseAddress!, beta: b.baseAddress!, eps: 1e-5,
                        out: yp.baseAddress!, mean: mp.baseAddress!, rstd: sp.baseAddress!)
        } } }
    } } }
    return r
}

/// Backward to the input: dy [n, d], the forward's input x and its statistics -> dx [n, d].
func layerNormBackward(_ c: Compute, _ dy: [Float], x: [Float], _ stats: NormCache, rows n: Int, gamma: [Float]) -> [Float] {
    let d = gamma.count
    var dx = uninitializedFloats(n * d)
    dy.withUnsafeBufferPointer { gp in x.withUnsafeBufferPointer { xp in gamma.withUnsafeBufferPointer { g in
        stats.mean.withUnsafeBufferPointer { mp in stats.rstd.withUnsafeBufferPointer { sp in dx.withUnsafeMutableBufferPointer { dp in
            c.layerNormBackward(dy: gp.baseAddress!, x: xp.baseAddress!, mean: mp.baseAddress!, rstd: sp.baseAddress!,
                                rows: n, dim: d, gamma: g.baseAddress!, dx: dp.baseAddress!)
        } } }
    } } }
    return dx
}
