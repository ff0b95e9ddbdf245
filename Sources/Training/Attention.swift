import Tensor

// Array-level multi-head attention for the training graph over the shared kernels
// `Compute.attention` (recording each head's probabilities) and `Compute.attentionBackward`
// (Tensor/Ops/Attention.swift, where the math is written out).

/// Forward. q [T, d], k and v [S, d] -> (o [T, d],
/// probs [H, T, S] kept for backward, in its first H*T*S floats: the tiled path's packed
/// keys and values may follow). `causal`: query i sees keys 0...i + S - T.
/// Without `keepProbs` (forward only) one [T, S] block serves every head and `probs` comes
/// back empty: 1/H of the memory (the encoder's [8, 1500, 1500] is 72 MB).
/// `pool` (with `keepProbs`) supplies the probabilities' buffer from earlier steps.
func attentionForward(_ c: Compute, q: [Float], k: [Float], v: [Float], queries t: Int, keys s: Int, dim d: Int, heads nh: Int,
                      causal: Bool, keepProbs: Bool = true, pool: ProbsPool? = nil) -> (o: [Float], probs: [Float]) {
    precondition(d % nh == 0, "attention: width \(d) not divisible by \(nh) heads")
    precondition(!causal || s >= t, "attention: causal mask needs at least as many keys as queries")
    let scores = c.attentionScoreCount(tq: t, tk: s, heads: nh, headDim: d / nh, recordProbs: keepProbs)
    var probs = keepProbs ? pool?.take(scores) ?? uninitializedFloats(scores) : uninitializedFloats(scores)   // each head's probabilities are written by `attention`; the rest is its scratch
    var o = uninitializedFloats(t * d)                              // every head's columns are written (beta 0)
    q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
        probs.withUnsafeMutableBufferPointer { pp in o.withUnsafeMutableBufferPointer { op in
            c.attention(q: qp.baseAddress!, ldq: d, k: kp.baseAddress!, ldk: d, v: vp.baseAddress!, ldv: d, out: op.baseAddress!, ldo: d,
                        tq: t, tk: s, heads: nh, headDim: d / nh, causalOffset: causal ? s - t : nil, scores: pp.baseAddress!,
                        recordProbs: keepProbs)
        } }
    } } }
    return (o, keepProbs ? probs : [])
}

/// Backward. dO [T, d] with the forward's operands and probs -> dq [T, d] and, when `needKV`,
/// dk, dv [S, d] (empty otherwise).
func attentionBackward(_ c: Compute, _ dO: [Float], q: [Float], k: [Float], v: [Float], probs: [Float], queries t: Int, keys s: Int, dim d: Int, heads nh: Int,
                       needKV: Bool = true) -> (dq: [Float], dk: [Float], dv: [Float]) {
    // All written by beta-0 GEMMs, head by head, before being read.
    var dq = uninitializedFloats(t * d), dk = uninitializedFloats(needKV ? s * d : 0), dv = uninitializedFloats(needKV ? s * d : 0)
    var scratch = uninitializedFloats(Compute.attentionBackwardScratchCount(tq: t, tk: s))
    q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
    dO.withUnsafeBufferPointer { gp in probs.withUnsafeBufferPointer { pp in scratch.withUnsafeMutableBufferPointer { sp in
        dq.withUnsafeMutableBufferPointer { dqp in dk.withUnsafeMutableBufferPointer { dkp in dv.withUnsafeMutableBufferPointer { dvp in
            c.attentionBackward(dOut: gp.baseAddress!, lddo: d, q: qp.baseAddress!, ldq: d, k: kp.baseAddress!, ldk: d,
                                v: vp.baseAddress!, ldv: d,
                                probs: pp.baseAddress!, tq: t, tk: s, heads: nh, headDim: d / nh, dq: dqp.baseAddress!, lddq: d,
                                dk: needKV ? dkp.baseAddress! : nil, lddk: d, dv: needKV ? dvp.baseAddress! : nil, lddv: d,
                                scratch: sp.baseAddress!)
        } } }
    } } }
    } } }
    return (dq, dk, dv)
}
